/* ahead.h - a look-ahead: a worker thread that generates notes ahead of a clock it does not
 * see (the audio clock of [melodynet~]) into a lock-free single-producer / single-consumer
 * ring, from a session it owns. The consumer (an audio callback) pops a note at each onset
 * without a lock or an allocation.
 *
 * Sampler settings are read by the worker before each note it generates: a change costs a copy
 * and reaches the notes not yet generated, never a replay. A change of the melody itself (a
 * primer, reset, listened notes, a new seed, a new model) is a command: the worker applies it
 * when the look-ahead is full and the ring has room for a new one beside the old (so a stream
 * of commands cannot starve the consumer, and the commands that arrive meanwhile are applied
 * together), by cutting the session's history back to the notes actually played, rebuilding the
 * network from it and the command, and bumping the epoch. Every ring item carries its epoch;
 * the consumer skips items of older epochs. The consumer counts the notes it plays in the same
 * atomic word as the epoch, so the worker knows exactly which notes were played before the
 * epoch changed. The random state goes back to where the first note not played drew from: what
 * follows a command does not depend on how far ahead the worker was.
 *
 * Calls other than mn_ahead_pop and mn_ahead_skip_stale come from one control thread (Pd's
 * scheduler); they take the look-ahead's mutex for a few copies, and mn_ahead_wait_idle and
 * mn_ahead_history wait for the worker. */
#ifndef MN_AHEAD_H
#define MN_AHEAD_H

#include <stdint.h>

#include "base.h"
#include "event.h"
#include "sampler.h"
#include "session.h"

#define MN_AHEAD_RING 128   /* ring slots (power of two): room for a few look-aheads */
#define MN_AHEAD_MAX 32     /* most notes generated ahead of the consumer */
#define MN_AHEAD_LISTEN 32  /* listened notes a command holds (more wait for the next one) */

typedef struct mn_ahead mn_ahead;

/* How much to keep generated: tick_ms, the length of a tick at the tempo; note_ms, the length
 * of every note when an external clock sets it (0: the notes' own durations at the tempo; < 0:
 * an external clock of unknown rate, keep MN_AHEAD_MAX notes); ahead_ms, the music to keep
 * generated ahead (at least one note is). */
typedef struct {
    double tick_ms, note_ms, ahead_ms;
} mn_ahead_timing;

/* What the worker has done: notes generated, commands applied (each one replay of the
 * melody), notes thrown away unplayed by them. */
typedef struct {
    long produced, commands, discarded;
} mn_ahead_stats;

/* Starts a look-ahead with no session (it generates nothing until mn_ahead_use) and the
 * worker thread. MN_ERR_NOMEM or MN_ERR_IO (the thread cannot be started) with err filled. */
mn_status mn_ahead_new(const mn_sampler *settings, const mn_ahead_timing *timing,
                       mn_ahead **out, char *err);

/* Stops and joins the worker and frees the sessions it holds. NULL is a no-op. */
void mn_ahead_free(mn_ahead *a);

/* Control thread. The settings for the notes generated from now on; no replay. */
void mn_ahead_settings(mn_ahead *a, const mn_sampler *settings);

/* Control thread. New timing; with wake set the worker refills (the look-ahead may have
 * grown). */
void mn_ahead_set_timing(mn_ahead *a, const mn_ahead_timing *t, int wake);

/* Control thread: wakes the worker (the consumer has taken notes). */
void mn_ahead_wake(mn_ahead *a);

/* Commands (control thread). use: the melody moves onto session (ownership passes to the
 * look-ahead; history and PRNG state carry over, mn_session_adopt); a session given earlier and
 * not yet taken is freed. prime: the melody starts again from the n events of ev (their last
 * MN_PRIME_MAX; n = 0: reset). listen: a listened event joins the melody; returns 0, or -1 when
 * MN_AHEAD_LISTEN are waiting already (the event is dropped). reseed: the PRNG is seeded after
 * the notes not played are thrown away. */
void mn_ahead_use(mn_ahead *a, mn_session *session);
void mn_ahead_prime(mn_ahead *a, const mn_event *ev, int n);
int mn_ahead_listen(mn_ahead *a, const mn_event *e);
void mn_ahead_reseed(mn_ahead *a, uint64_t seed);

/* Control thread: waits until the worker has done all it was asked and the look-ahead is full,
 * for at most timeout_s seconds. Returns 1 when it is idle. */
int mn_ahead_wait_idle(mn_ahead *a, double timeout_s);

/* Control thread: copies the notes played since the melody began (the sampled events of the
 * session's history that the consumer has played, oldest first) into out, up to max; returns
 * how many. After a prime not yet applied, none. Waits for the worker's current step. */
size_t mn_ahead_history(mn_ahead *a, mn_event *out, size_t max);

void mn_ahead_stats_get(mn_ahead *a, mn_ahead_stats *st); /* control thread */

/* Consumer: pops the next note of the current epoch into e (1), or 0 when there is none. No
 * lock, no allocation, no system call. */
int mn_ahead_pop(mn_ahead *a, mn_event *e);

/* Consumer: passes the items of older epochs at the head of the ring, so that their slots are
 * free before the next onset. Returns 1 when it freed any (the worker may be waiting for the
 * room: the control thread should wake it). No lock, no allocation. */
int mn_ahead_skip_stale(mn_ahead *a);

#endif
