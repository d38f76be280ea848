/* session.h - one generator over a shared model: LSTM state, the running metric clock, sampler
 * settings, its own PRNG and the melody so far (the history: every event fed or sampled since
 * the last reset, the latest MN_SESSION_HIST of them). Runs one network step per event
 * (embeddings -> L LSTM layers -> pitch head; duration head on [top hidden | embedding of the
 * chosen pitch]). All buffers are allocated in mn_session_new; no call after that allocates.
 * A session is used by one thread at a time; the model may be shared by many sessions. */
#ifndef MN_SESSION_H
#define MN_SESSION_H

#include "base.h"
#include "event.h"
#include "model.h"
#include "motif.h"
#include "sampler.h"

/* Events of a MIDI file that prime a session: its last MN_PRIME_MAX ones (`generate
 * --seed-midi` and Pd's `read` alike), so that the work of priming is bounded however long
 * the file is. */
#define MN_PRIME_MAX 256

/* The history: the latest events of the melody, what `write` saves, what `similar` compares
 * and what is replayed when the melody moves to another model. Room for a whole MIDI primer
 * and 1024 notes after it. */
#define MN_SESSION_HIST (1024 + MN_PRIME_MAX)
/* Events of the history replayed into the network when it is rebuilt (mn_session_adopt,
 * mn_session_truncate, mn_session_append): the network, like the windows it was trained on,
 * needs only the recent past. */
#define MN_SESSION_REPLAY 64

typedef struct mn_session mn_session;

/* One event of the history. */
typedef struct {
    mn_event ev;  /* as the session read it: pos_ticks/bar_ticks the place it was read at */
    mn_rng rng;   /* the PRNG before the event: where a rewound melody draws from again */
    int sampled;  /* 1: made by mn_session_sample; 0: fed (primer, listened or heard notes) */
} mn_hist_entry;

/* Creates a session over model (retains a reference), reset, with default sampler settings
 * and the PRNG seeded with seed. */
mn_status mn_session_new(mn_model *model, uint64_t seed, mn_session **out, char *err);
void mn_session_free(mn_session *s); /* releases the model reference; NULL is a no-op */

mn_model *mn_session_model(const mn_session *s);
mn_sampler *mn_session_sampler(mn_session *s); /* settings, modifiable between calls */
mn_rng *mn_session_rng(mn_session *s);
void mn_session_seed(mn_session *s, uint64_t seed); /* reseeds the PRNG only */

/* Clears the recurrent state and the history (start of a melody). set_clock sets the clock
 * to the start of a bar of bar_ticks (MN_DEFAULT_BAR_TICKS if <= 0) at pos_ticks. */
void mn_session_reset(mn_session *s);
void mn_session_set_clock(mn_session *s, int pos_ticks, int bar_ticks);
void mn_session_clock(const mn_session *s, int *pos_ticks, int *bar_ticks);

/* For a melody started from nothing: sets the clock to a bar length and first-note position
 * drawn (with the session's PRNG) from the model's "start_metre" metadata, the places the
 * tunes it was fitted on begin at, so unprimed melodies start with a pickup and in a metre as
 * often as those tunes. Returns 0 and leaves the clock when the model has no such table. */
int mn_session_draw_start(mn_session *s);

/* The motif-memory parameters in use: the model's "motif_params" metadata, or the built-in
 * table (motif.h). A model whose motif_params or start_metre cannot be read is refused by
 * mn_session_new. */
const mn_motif_params *mn_session_motif_params(const mn_session *s);

/* Conditions the model on an event without sampling (priming, listening). The event's
 * pos_ticks/bar_ticks are used as given when bar_ticks > 0, else taken from the clock; the
 * clock then moves past the event. Pitch out of 0..127 is treated as a rest; the duration maps
 * to the nearest table entry. */
void mn_session_feed(mn_session *s, const mn_event *e);

/* Samples the next event at the clock's position under the sampler settings, conditions the
 * model on it and returns it (dur_ticks is the table value, velocity from the sampler).
 * With the copy guard on (sampler max_copy = K > 0) no pitch is chosen that would make the
 * melody's latest K + 1 intervals (primer included, rests skipped) a run found verbatim in one
 * tune of the model's copy index (mn_model_copyidx), whatever the other settings. When the
 * range, scale and rest settings leave nothing the guard allows, the event is a rest and the
 * call returns MN_ERR_LIMIT; when the model has no copy index, a rest and MN_ERR_ARG. Else
 * MN_OK. */
mn_status mn_session_sample(mn_session *s, mn_event *out);

/* What the copy guard has cost since the session was made: the sum over sampled events of
 * -log2 of the share of the odds (temperature 1, within range, scale and rests) it left, and
 * the number of events sampled under it. */
void mn_session_guard_cost(const mn_session *s, double *bits, size_t *events);

/* Scores an event as the next one (its position as in mn_session_feed), then feeds it.
 * Writes -log2 p(pitch), -log2 p(duration token | pitch) and the most likely pitch class
 * (any of the outputs may be NULL). Used by eval; the DESIGN.md definition of bits/event. */
void mn_session_score(mn_session *s, const mn_event *e, double *bits_pitch, double *bits_dur,
                      int *argmax_pitch);

/* Runs the step for the next event at pos_ticks and returns the pitch logits [MN_N_PITCH]
 * (valid until the next call). mn_session_dur_logits then gives the duration logits [n_dur]
 * for a pitch; mn_session_commit feeds the chosen event. Lower-level than the calls above;
 * used by tests and the reference check. */
const float *mn_session_pitch_logits(mn_session *s, int pos_ticks, int bar_ticks);
const float *mn_session_dur_logits(mn_session *s, int pitch);
void mn_session_commit(mn_session *s, const mn_event *e);

/*=== history ================================================================================*/

/* Events in the history (0..MN_SESSION_HIST) and the i-th, oldest first (i < the count; the
 * pointer is valid until the next call that changes the history). */
size_t mn_session_history_len(const mn_session *s);
const mn_hist_entry *mn_session_history_at(const mn_session *s, size_t i);

/* Sampled events since the last reset, counting those the history no longer holds. */
long mn_session_notes(const mn_session *s);

/* Copies the sampled events of the history, oldest first, into out (up to max) and returns how
 * many it copied: the notes `write` saves. */
size_t mn_session_sampled(const mn_session *s, mn_event *out, size_t max);

/* Moves the melody of src onto dst, a session over another (newly loaded) model: dst takes
 * src's history, note count and PRNG state, and its network is rebuilt from the history's latest
 * MN_SESSION_REPLAY events, so that the melody goes on. Sampler settings are not copied. src is
 * unchanged. Runs up to MN_SESSION_REPLAY steps, at the next call that steps or at
 * mn_session_replay. */
void mn_session_adopt(mn_session *dst, const mn_session *src);

/* Forgets the latest n events as if they had never been made (n > the count: all of them):
 * the history drops them, the PRNG goes back to its state before the first of them, the network
 * is rebuilt from the latest MN_SESSION_REPLAY events of the rest (also for n = 0). A
 * look-ahead uses it to throw away notes generated but not played. */
void mn_session_truncate(mn_session *s, size_t n);

/* Adds an event to the history as fed, without a network step: the network is rebuilt (as by
 * mn_session_truncate) before the next step, so that a batch of appended events costs one
 * replay of MN_SESSION_REPLAY steps. */
void mn_session_append(mn_session *s, const mn_event *e);

/* Feeds the event of a history entry (as mn_session_feed) and records it as the entry says
 * (sampled or fed, its PRNG state): the notes a look-ahead played while it rebuilt a melody go
 * back into it as what they were. */
void mn_session_push(mn_session *s, const mn_hist_entry *h);

/* Runs a pending rebuild now (after adopt, truncate or append); does nothing otherwise. */
void mn_session_replay(mn_session *s);

/* The committed recurrent state: h and c, [n_layers * n_hidden] each, valid until the next
 * call that steps or resets. For tests and fuzzing. */
void mn_session_state(const mn_session *s, const float **h, const float **c, size_t *n);

#endif
