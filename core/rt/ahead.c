/* ahead.c - a look-ahead of generated notes ahead of a consumer's clock (see ahead.h). */
#include "ahead.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct {
    mn_event ev;
    uint32_t epoch;
} mn_ahead_note;

struct mn_ahead {
    /* the ring: the worker writes wr, the consumer rd; both only grow */
    mn_ahead_note ring[MN_AHEAD_RING];
    atomic_uint wr, rd;
    _Atomic uint64_t state;       /* epoch << 32 | notes the consumer played */

    /* the control thread's requests, under mutex */
    pthread_t thread;
    int thread_ok;
    pthread_mutex_t mutex;
    pthread_cond_t cond;          /* wakes the worker */
    pthread_cond_t idlecond;      /* the worker went idle, or left a step while want_hist */
    int quit, idle;
    int busy;                     /* the worker is in a step or a command, outside the mutex */
    int want_hist;                /* the control thread reads the session: the worker waits */
    int pending;                  /* a command below is waiting */
    mn_sampler c_sampler;         /* the settings of the next note generated */
    mn_ahead_timing c_timing;
    mn_session *c_session;        /* a session to move the melody onto (owned) */
    int c_reseed;
    uint64_t c_seed;
    int c_reset;                  /* start the melody again (from c_prime, if any) */
    int c_prime_n;
    mn_event c_prime[MN_PRIME_MAX];
    int c_listen_n;
    mn_event c_listen[MN_AHEAD_LISTEN];
    mn_ahead_stats stats;

    /* the worker's (and the control thread's while want_hist holds it still) */
    mn_session *w_session;
    uint32_t w_epoch;
    unsigned w_epoch_wr;          /* wr when the epoch began */
    uint32_t w_seq;               /* notes generated (sequence number of the next) */
    mn_hist_entry w_tail[MN_AHEAD_RING];         /* notes not yet played, during a command */
    mn_event w_cmd[MN_PRIME_MAX + MN_AHEAD_LISTEN]; /* a command's events, taken over */
};

/*=== worker =================================================================================*/

/* Notes the consumer has played so far (it keeps counting until the epoch changes). */
static uint32_t played(mn_ahead *a) { return (uint32_t)atomic_load(&a->state); }

/* Starts a new epoch and returns the exact number of notes played before it. */
static uint32_t new_epoch(mn_ahead *a)
{
    uint64_t s = atomic_load(&a->state), ns;
    do {
        ns = ((uint64_t)((uint32_t)(s >> 32) + 1) << 32) | (s & 0xffffffffu);
    } while (!atomic_compare_exchange_weak(&a->state, &s, ns));
    a->w_epoch = (uint32_t)(ns >> 32);
    a->w_epoch_wr = atomic_load_explicit(&a->wr, memory_order_relaxed);
    return (uint32_t)s;
}

/* Applies a command: the session's history is cut back to the notes played, moved onto a new
 * session, reset, given the command's events; the network is rebuilt from it before the epoch
 * changes, so the consumer plays the old look-ahead meanwhile. The notes it played during the
 * rebuild are fed afterwards (or dropped with the melody they belong to, on reset). */
static void apply(mn_ahead *a, mn_session *session, int reseed, uint64_t seed, int reset,
                  const mn_event *prime, int n_prime, const mn_event *listen, int n_listen)
{
    mn_session *s = a->w_session;
    uint32_t p1 = played(a);
    size_t n_tail = 0;
    mn_rng rng_end;
    memset(&rng_end, 0, sizeof rng_end);
    if (s) {
        size_t len = mn_session_history_len(s);
        n_tail = a->w_seq - p1;
        if (n_tail > len) n_tail = len;
        if (n_tail > MN_AHEAD_RING) n_tail = MN_AHEAD_RING;
        for (size_t i = 0; i < n_tail; i++)
            a->w_tail[i] = *mn_session_history_at(s, len - n_tail + i);
        rng_end = *mn_session_rng(s);
        mn_session_truncate(s, n_tail); /* the network is rebuilt below */
    }
    int had_old = s != NULL;
    if (session) {
        if (s) mn_session_adopt(session, s);
        mn_session_free(s);
        s = a->w_session = session;
    }
    if (s) {
        if (reset) mn_session_reset(s);
        for (int i = 0; i < n_prime; i++) mn_session_append(s, &prime[i]);
        for (int i = 0; i < n_listen; i++) mn_session_append(s, &listen[i]);
        mn_session_replay(s);
    }
    uint32_t p2 = new_epoch(a);
    size_t n_played = p2 - p1; /* played while the network was rebuilt */
    if (n_played > n_tail) n_played = n_tail;
    if (s) {
        if (n_played < n_tail) *mn_session_rng(s) = a->w_tail[n_played].rng;
        else if (had_old) *mn_session_rng(s) = rng_end;
        if (reseed) mn_session_seed(s, seed);
        if (!reset)
            for (size_t i = 0; i < n_played; i++) mn_session_push(s, &a->w_tail[i]);
    }
    a->w_seq = p2;
    pthread_mutex_lock(&a->mutex);
    a->stats.commands++;
    a->stats.discarded += (long)(n_tail - n_played);
    pthread_mutex_unlock(&a->mutex);
}

/* Whether the look-ahead of the current epoch needs another note: fewer than MN_AHEAD_MAX and
 * less music than the timing's ahead_ms (at least one note). mutex held. */
static int need_note(mn_ahead *a)
{
    if (!a->w_session) return 0;
    unsigned wr = atomic_load_explicit(&a->wr, memory_order_relaxed);
    unsigned rd = atomic_load_explicit(&a->rd, memory_order_acquire);
    unsigned from = (int)(rd - a->w_epoch_wr) > 0 ? rd : a->w_epoch_wr;
    if (wr - rd >= MN_AHEAD_RING || wr - from >= MN_AHEAD_MAX) return 0;
    const mn_ahead_timing *t = &a->c_timing;
    if (t->note_ms < 0) return 1; /* an external clock of unknown rate: keep the most */
    double ms = 0;
    for (unsigned i = from; i != wr; i++)
        ms += t->note_ms > 0 ? t->note_ms
                             : a->ring[i % MN_AHEAD_RING].ev.dur_ticks * t->tick_ms;
    return wr == from || ms < t->ahead_ms;
}

/* Whether the ring can take a full look-ahead of a new epoch beside what it holds (the items of
 * older epochs leave only when the consumer passes them). */
static int has_room(mn_ahead *a)
{
    unsigned wr = atomic_load_explicit(&a->wr, memory_order_relaxed);
    unsigned rd = atomic_load_explicit(&a->rd, memory_order_acquire);
    return wr - rd + MN_AHEAD_MAX <= MN_AHEAD_RING;
}

static void produce(mn_ahead *a, const mn_sampler *sampler)
{
    mn_event e;
    *mn_session_sampler(a->w_session) = *sampler;
    mn_session_sample(a->w_session, &e);
    a->w_seq++;
    unsigned wr = atomic_load_explicit(&a->wr, memory_order_relaxed);
    a->ring[wr % MN_AHEAD_RING].ev = e;
    a->ring[wr % MN_AHEAD_RING].epoch = a->w_epoch;
    atomic_store_explicit(&a->wr, wr + 1, memory_order_release);
}

static void *worker(void *arg)
{
    mn_ahead *a = (mn_ahead *)arg;
    pthread_mutex_lock(&a->mutex);
    while (!a->quit) {
        if (a->want_hist) {
            pthread_cond_wait(&a->cond, &a->mutex);
            continue;
        }
        int need = need_note(a);
        /* a command waits until the look-ahead is full (or there is no session yet) and the
         * ring has room for a new one beside it: a stream of commands cannot starve the notes,
         * and commands arriving meanwhile are applied together */
        if (a->pending && !need && has_room(a)) {
            mn_session *session = a->c_session;
            int reseed = a->c_reseed, reset = a->c_reset;
            uint64_t seed = a->c_seed;
            int np = a->c_prime_n, nl = a->c_listen_n;
            if (np) memcpy(a->w_cmd, a->c_prime, sizeof(mn_event) * (size_t)np);
            if (nl) memcpy(a->w_cmd + MN_PRIME_MAX, a->c_listen, sizeof(mn_event) * (size_t)nl);
            a->c_session = NULL;
            a->c_reseed = a->c_reset = a->c_prime_n = a->c_listen_n = 0;
            a->pending = 0;
            a->busy = 1;
            pthread_mutex_unlock(&a->mutex);
            apply(a, session, reseed, seed, reset, a->w_cmd, np, a->w_cmd + MN_PRIME_MAX, nl);
            pthread_mutex_lock(&a->mutex);
            a->busy = 0;
            if (a->want_hist) pthread_cond_broadcast(&a->idlecond);
            continue;
        }
        if (need) {
            mn_sampler sampler = a->c_sampler; /* the latest settings */
            a->busy = 1;
            pthread_mutex_unlock(&a->mutex);
            produce(a, &sampler);
            pthread_mutex_lock(&a->mutex);
            a->busy = 0;
            a->stats.produced++;
            if (a->want_hist) pthread_cond_broadcast(&a->idlecond);
            continue;
        }
        a->idle = 1;
        pthread_cond_broadcast(&a->idlecond);
        pthread_cond_wait(&a->cond, &a->mutex);
    }
    pthread_mutex_unlock(&a->mutex);
    return NULL;
}

/*=== control thread =========================================================================*/

mn_status mn_ahead_new(const mn_sampler *settings, const mn_ahead_timing *timing,
                       mn_ahead **out, char *err)
{
    *out = NULL;
    mn_ahead *a = mn_calloc(1, sizeof *a);
    if (!a) return mn_errf(err, MN_ERR_NOMEM, "look-ahead: out of memory");
    atomic_init(&a->wr, 0);
    atomic_init(&a->rd, 0);
    atomic_init(&a->state, 0);
    pthread_mutex_init(&a->mutex, NULL);
    pthread_cond_init(&a->cond, NULL);
    pthread_cond_init(&a->idlecond, NULL);
    a->c_sampler = *settings;
    a->c_timing = *timing;
    int rc = pthread_create(&a->thread, NULL, worker, a);
    if (rc) {
        pthread_cond_destroy(&a->idlecond);
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->mutex);
        mn_free(a);
        return mn_errf(err, MN_ERR_IO, "cannot start the worker thread (%s)", strerror(rc));
    }
    a->thread_ok = 1;
    *out = a;
    return MN_OK;
}

void mn_ahead_free(mn_ahead *a)
{
    if (!a) return;
    pthread_mutex_lock(&a->mutex);
    a->quit = 1;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mutex);
    pthread_join(a->thread, NULL);
    mn_session_free(a->c_session);
    mn_session_free(a->w_session);
    pthread_cond_destroy(&a->idlecond);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->mutex);
    mn_free(a);
}

/* mutex held: wakes the worker, with a command (filled in by the caller) when command is set */
static void wake_locked(mn_ahead *a, int command)
{
    if (command) a->pending = 1;
    a->idle = 0;
    pthread_cond_signal(&a->cond);
}

void mn_ahead_settings(mn_ahead *a, const mn_sampler *settings)
{
    pthread_mutex_lock(&a->mutex);
    a->c_sampler = *settings;
    pthread_mutex_unlock(&a->mutex);
}

void mn_ahead_set_timing(mn_ahead *a, const mn_ahead_timing *t, int wake)
{
    pthread_mutex_lock(&a->mutex);
    a->c_timing = *t;
    if (wake) wake_locked(a, 0);
    pthread_mutex_unlock(&a->mutex);
}

void mn_ahead_wake(mn_ahead *a)
{
    pthread_mutex_lock(&a->mutex);
    wake_locked(a, 0);
    pthread_mutex_unlock(&a->mutex);
}

void mn_ahead_use(mn_ahead *a, mn_session *session)
{
    pthread_mutex_lock(&a->mutex);
    mn_session_free(a->c_session); /* one not yet taken */
    a->c_session = session;
    wake_locked(a, 1);
    pthread_mutex_unlock(&a->mutex);
}

void mn_ahead_prime(mn_ahead *a, const mn_event *ev, int n)
{
    if (n < 0) n = 0;
    if (n > MN_PRIME_MAX) {
        ev += n - MN_PRIME_MAX;
        n = MN_PRIME_MAX;
    }
    pthread_mutex_lock(&a->mutex);
    a->c_reset = 1;
    a->c_listen_n = 0;
    if (n > 0) memcpy(a->c_prime, ev, sizeof(mn_event) * (size_t)n);
    a->c_prime_n = n;
    wake_locked(a, 1);
    pthread_mutex_unlock(&a->mutex);
}

int mn_ahead_listen(mn_ahead *a, const mn_event *e)
{
    int rc = -1;
    pthread_mutex_lock(&a->mutex);
    if (a->c_listen_n < MN_AHEAD_LISTEN) {
        a->c_listen[a->c_listen_n++] = *e;
        rc = 0;
    }
    wake_locked(a, 1);
    pthread_mutex_unlock(&a->mutex);
    return rc;
}

void mn_ahead_reseed(mn_ahead *a, uint64_t seed)
{
    pthread_mutex_lock(&a->mutex);
    a->c_reseed = 1;
    a->c_seed = seed;
    wake_locked(a, 1);
    pthread_mutex_unlock(&a->mutex);
}

int mn_ahead_wait_idle(mn_ahead *a, double timeout_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double whole = (double)(long)timeout_s;
    until.tv_sec += (time_t)whole;
    until.tv_nsec += (long)((timeout_s - whole) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->mutex);
    while (!a->idle && !a->quit)
        if (pthread_cond_timedwait(&a->idlecond, &a->mutex, &until) == ETIMEDOUT) break;
    int idle = a->idle;
    pthread_mutex_unlock(&a->mutex);
    return idle;
}

size_t mn_ahead_history(mn_ahead *a, mn_event *out, size_t max)
{
    size_t k = 0;
    pthread_mutex_lock(&a->mutex);
    a->want_hist = 1;
    while (a->busy) pthread_cond_wait(&a->idlecond, &a->mutex);
    /* the worker waits at the top of its loop: its session and counters hold still */
    const mn_session *s = a->w_session;
    if (s && !(a->pending && a->c_reset)) {
        size_t len = mn_session_history_len(s);
        size_t unplayed = a->w_seq - played(a);
        if (unplayed > len) unplayed = len;
        for (size_t i = 0; i < len - unplayed && k < max; i++) {
            const mn_hist_entry *h = mn_session_history_at(s, i);
            if (h->sampled) out[k++] = h->ev;
        }
    }
    a->want_hist = 0;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mutex);
    return k;
}

void mn_ahead_stats_get(mn_ahead *a, mn_ahead_stats *st)
{
    pthread_mutex_lock(&a->mutex);
    *st = a->stats;
    pthread_mutex_unlock(&a->mutex);
}

/*=== consumer ===============================================================================*/

int mn_ahead_skip_stale(mn_ahead *a)
{
    unsigned rd = atomic_load_explicit(&a->rd, memory_order_relaxed);
    unsigned wr = atomic_load_explicit(&a->wr, memory_order_acquire);
    /* read after wr: every item below wr carries this epoch or an older one */
    uint32_t epoch = (uint32_t)(atomic_load(&a->state) >> 32);
    unsigned from = rd;
    while (rd != wr && a->ring[rd % MN_AHEAD_RING].epoch != epoch) rd++;
    if (rd == from) return 0;
    atomic_store_explicit(&a->rd, rd, memory_order_release);
    return 1;
}

int mn_ahead_pop(mn_ahead *a, mn_event *e)
{
    for (int tries = 0; tries < 2 * MN_AHEAD_RING; tries++) {
        unsigned rd = atomic_load_explicit(&a->rd, memory_order_relaxed);
        unsigned wr = atomic_load_explicit(&a->wr, memory_order_acquire);
        if (rd == wr) return 0;
        mn_ahead_note n = a->ring[rd % MN_AHEAD_RING];
        uint64_t s = atomic_load(&a->state);
        if (n.epoch != (uint32_t)(s >> 32)) {
            atomic_store_explicit(&a->rd, rd + 1, memory_order_release); /* stale: skip */
            continue;
        }
        if (!atomic_compare_exchange_strong(&a->state, &s, s + 1)) continue;
        atomic_store_explicit(&a->rd, rd + 1, memory_order_release);
        *e = n.ev;
        return 1;
    }
    return 0;
}
