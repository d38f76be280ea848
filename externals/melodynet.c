/* melodynet.c - [melodynet]: a neural melody generator as a control object. A list of pitches
 * primes the model, each bang emits the next note as `pitch velocity duration_ms onset_ms`,
 * `play` (or a nonzero float, as for [metro]) runs it on its own clock, and `note PITCH
 * VELOCITY` listens to a player, timed by Pd's logical clock, and can answer by itself.
 * `learn` fine-tunes the model on MIDI files on a worker (core/tools/finetune) while the old
 * model plays on, and `write-model` saves the model playing.
 * Parsing, outlets and threads live here; the musical logic is core's (session, sampler,
 * events, MIDI files, fine-tuning) and the shared Pd plumbing is mnpd.c.
 *
 * `generate N` runs its first step on the scheduler and the others on a worker thread, which
 * owns the session meanwhile and writes the notes into x_gen; a clock sends them on. Messages
 * that need the session during such a run wait in x_defer and run, in order, after its last
 * note, so the same seed and messages give the same notes whatever the timing.
 *
 * The melody so far (what `write` saves, `similar` compares and a new model goes on from) is
 * the session's history; `write` hands a copy of its notes to the loader thread, which writes
 * the file, and `wrote` or the error comes back from the loader's clock. */
#include <stdio.h>
#include <string.h>

#include "mnpd.h"
#include "copyidx.h"

#define MELODYNET_NO_PITCH 60  /* pitch reported for a rest before any note */
#define MELODYNET_SYNC 1       /* steps of a generate run on the scheduler; the rest on a worker */
#define MELODYNET_DRAIN_MS 1   /* how often the worker's notes are sent on, in logical ms */

static t_class *melodynet_class;
static const char *const cls = "melodynet";

typedef struct _melodynet {
    t_object x_obj;
    t_canvas *x_canvas;         /* for relative paths */
    t_outlet *x_out_note;       /* pitch velocity duration_ms onset_ms */
    t_outlet *x_out_info;       /* loaded / read / wrote / generated / heard / warning / error /
                                 * info messages */
    mn_session *x_session;      /* NULL until a model is loaded */
    mn_model *x_model;          /* the registry entry this object uses (one user) */
    char x_path[MNPD_PATH_LEN]; /* the model's resolved path */
    mn_settings x_st;       /* sampler settings, bpm and legato, kept across model swaps */
    uint64_t x_seed;            /* last PRNG seed given (creation or seed) */
    int x_last_pitch;           /* last emitted pitch: what a rest reports */
    t_clock *x_clock;           /* play: fires at each note's onset */
    int x_playing;
    int x_tick_due;             /* a play onset fell during a generate run */
    t_mnpd_job *x_load;         /* background model load */
    t_mnpd_job *x_read;         /* background MIDI file read */
    t_mnpd_job *x_write;        /* background MIDI file write */
    t_mnpd_job *x_save;         /* background write-model */
    t_mnpd_job *x_learn;        /* fine-tuning on its own thread (learn) */
    int x_learned;              /* models learned so far (names them in the registry) */

    /* generate runs: the worker calls core only, never Pd's API */
    mn_event *x_gen;            /* [MN_GENERATE_MAX] notes the worker made in this run */
    atomic_int x_gen_target;    /* notes the worker is to make */
    atomic_int x_gen_made;      /* notes it made (written with release order) */
    atomic_int x_gen_stop;      /* stop after the current step */
    atomic_int x_gen_done;      /* the worker returned (release order) */
    pthread_t x_gen_thread;
    int x_gen_thread_on;        /* a thread was started and not yet joined */
    int x_gen_busy;             /* a run is in progress: the worker owns the session */
    int x_gen_sent;             /* worker notes sent on so far */
    int x_gen_count;            /* notes this run sent, the scheduler's included */
    t_clock *x_gen_clock;       /* sends the worker's notes on */
    t_binbuf *x_defer;          /* messages that came during a run, `sel args... ;` each */
    long x_steps_pd;            /* sampling steps run on the scheduler */
    long x_steps_worker;        /* sampling steps run on the worker */
    double x_step_time;         /* logical time of the last scheduler step */
    int x_step_n, x_step_max;   /* steps at that time; the most at any one time */

    /* a player's notes (`note`): the last one waits for the next onset to know its length */
    int x_heard;                /* a note is waiting */
    int x_heard_pitch, x_heard_vel;
    double x_heard_on;          /* its note-on, logical time */
    double x_heard_off;         /* its note-off, logical time; < 0 while held */
    int x_heard_new;            /* notes heard since the last answer */
    double x_answer_beats;      /* answer after this many beats of silence; 0 = off */
    int x_answer_notes;         /* notes in an answer; 0 = until the player plays again */
    int x_answering, x_answer_left;
    t_clock *x_answer_clock;
} t_melodynet;

static void melodynet_tick(t_melodynet *x);
static void melodynet_replay(t_melodynet *x);

/*=== generate runs ==========================================================================*/

/* While a run is in progress a message that needs the session is kept, to run after the
 * run's last note. Returns 1 when it was kept. */
static int melodynet_defer(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (!x->x_gen_busy) return 0;
    t_atom sel;
    SETSYMBOL(&sel, s);
    binbuf_add(x->x_defer, 1, &sel);
    binbuf_add(x->x_defer, argc, argv);
    binbuf_addsemi(x->x_defer);
    return 1;
}

/* Runs the kept messages in order (one may start a new run: the rest then wait for it). */
static void melodynet_replay(t_melodynet *x)
{
    t_binbuf *b = x->x_defer;
    int n = binbuf_getnatom(b);
    if (!n) return;
    x->x_defer = binbuf_new();
    t_atom *v = binbuf_getvec(b);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && v[j].a_type != A_SEMI) j++;
        if (j > i && v[i].a_type == A_SYMBOL)
            pd_typedmess(&x->x_obj.ob_pd, v[i].a_w.w_symbol, j - i - 1, v + i + 1);
        i = j + 1;
    }
    binbuf_free(b);
}

static void *melodynet_gen_thread(void *arg)
{
    /* core calls only: never the Pd API */
    t_melodynet *x = (t_melodynet *)arg;
    for (;;) {
        int i = atomic_load_explicit(&x->x_gen_made, memory_order_relaxed);
        if (atomic_load(&x->x_gen_stop) || i >= atomic_load(&x->x_gen_target)) break;
        mn_session_sample(x->x_session, &x->x_gen[i]);
        atomic_store_explicit(&x->x_gen_made, i + 1, memory_order_release);
    }
    atomic_store_explicit(&x->x_gen_done, 1, memory_order_release);
    return NULL;
}

/* Counts a sampling step on the scheduler, and the most at one logical time. */
static void melodynet_count_step(t_melodynet *x)
{
    double now = clock_getlogicaltime();
    if (now != x->x_step_time) {
        x->x_step_time = now;
        x->x_step_n = 0;
    }
    if (++x->x_step_n > x->x_step_max) x->x_step_max = x->x_step_n;
    x->x_steps_pd++;
}

/* Sends a generated note (the session's history has it). */
static void melodynet_output(t_melodynet *x, const mn_event *e)
{
    int shown = x->x_last_pitch;
    if (mn_is_pitch(e->pitch)) shown = x->x_last_pitch = e->pitch;
    mnpd_outlet_note(x->x_out_note, e, shown, x->x_st.bpm, x->x_st.legato);
}

/* The end of a generate: `generated N` on the status outlet. */
static void melodynet_generated(t_melodynet *x, int n)
{
    t_atom a;
    mnpd_setcount(&a, n);
    outlet_anything(x->x_out_info, gensym("generated"), 1, &a);
}

static void melodynet_gen_join(t_melodynet *x)
{
    if (!x->x_gen_thread_on) return;
    pthread_join(x->x_gen_thread, NULL);
    x->x_gen_thread_on = 0;
}

/* Sends on the notes the worker made since the last call. */
static void melodynet_gen_send(t_melodynet *x)
{
    int made = atomic_load_explicit(&x->x_gen_made, memory_order_acquire);
    while (x->x_gen_busy && x->x_gen_sent < made) {
        mn_event e = x->x_gen[x->x_gen_sent++];
        x->x_gen_count++;
        melodynet_output(x, &e); /* what comes back from downstream is deferred */
    }
}

/* Ends a run whose worker has returned: the session is the scheduler's again. */
static void melodynet_gen_end(t_melodynet *x)
{
    melodynet_gen_join(x);
    clock_unset(x->x_gen_clock);
    x->x_steps_worker += atomic_load(&x->x_gen_made);
    x->x_gen_busy = 0;
    melodynet_generated(x, x->x_gen_count);
}

/* The clock of a run: sends the new notes; after the last one, ends the run and runs what
 * waited for it. */
static void melodynet_gen_poll(t_melodynet *x)
{
    if (!x->x_gen_busy) return;
    int done = atomic_load_explicit(&x->x_gen_done, memory_order_acquire);
    melodynet_gen_send(x);
    if (!done || !x->x_gen_busy) {
        if (x->x_gen_busy) clock_delay(x->x_gen_clock, MELODYNET_DRAIN_MS);
        return;
    }
    melodynet_gen_end(x);
    if (x->x_tick_due) {
        x->x_tick_due = 0;
        melodynet_tick(x);
    }
    melodynet_replay(x);
}

/* Stops a run now (a model or MIDI file arrived): waits for the worker's current step, sends
 * what it made and ends the run. The caller replays the kept messages when it is done. */
static void melodynet_gen_halt(t_melodynet *x)
{
    if (!x->x_gen_busy) return;
    atomic_store(&x->x_gen_stop, 1);
    melodynet_gen_join(x);
    melodynet_gen_send(x);
    if (x->x_gen_busy) melodynet_gen_end(x);
}

/*=== model ==================================================================================*/

/* Switches to model (for which this object already counts as a registry user): a new session
 * with the old sampler settings, onto which the melody moves (history and PRNG state, the
 * network rebuilt from the latest events) so that a melody in progress goes on. On failure the
 * old session stays. */
static int melodynet_use_model(t_melodynet *x, mn_model *model, const char *path)
{
    char err[MN_ERR_LEN];
    mn_session *ns = NULL;
    if (mn_session_new(model, x->x_seed, &ns, err) != MN_OK) {
        mn_registry_release(model);
        mnpd_error(x, cls, x->x_out_info, err);
        return -1;
    }
    melodynet_gen_halt(x);
    if (x->x_session) mn_session_adopt(ns, x->x_session);
    *mn_session_sampler(ns) = x->x_st.sampler;
    mn_session_replay(ns);
    mn_session_free(x->x_session);
    mn_registry_release(x->x_model);
    x->x_session = ns;
    x->x_model = model;
    snprintf(x->x_path, sizeof x->x_path, "%s", path);
    return 0;
}

static int melodynet_use(void *x, mn_model *m, const char *path)
{
    return melodynet_use_model((t_melodynet *)x, m, path);
}

/* Loads synchronously (creation) or asynchronously (the load message). */
static void melodynet_load_path(t_melodynet *x, const char *path, int async)
{
    mnpd_load_path(x, cls, x->x_out_info, x->x_load, melodynet_use, path, async);
}

static void melodynet_load_done(void *owner, t_mnpd_result *r)
{
    t_melodynet *x = (t_melodynet *)owner;
    mnpd_load_done(x, cls, x->x_out_info, r, melodynet_use);
    melodynet_replay(x);
}

/*=== priming, listening and generating ======================================================*/

static int melodynet_ready(t_melodynet *x)
{
    if (x->x_session) return 1;
    mnpd_error(x, cls, x->x_out_info, "no model loaded");
    return 0;
}

static void melodynet_clear(t_melodynet *x)
{
    mn_session_reset(x->x_session);
    x->x_heard = x->x_heard_new = 0;
}

static void melodynet_feed(t_melodynet *x, const mn_event *e)
{
    mn_session_feed(x->x_session, e);
    if (mn_is_pitch(e->pitch)) x->x_last_pitch = e->pitch;
}

/* Feeds a note the player played and reports it as `heard PITCH|rest BEATS POSITION_BEATS`. */
static void melodynet_hear(t_melodynet *x, const mn_event *e)
{
    int pos = 0, bar = 0;
    mn_session_clock(x->x_session, &pos, &bar);
    t_atom at[3];
    if (mn_is_pitch(e->pitch)) SETFLOAT(&at[0], e->pitch);
    else SETSYMBOL(&at[0], gensym("rest"));
    SETFLOAT(&at[1], (t_float)e->dur_ticks / MN_TPQ);
    SETFLOAT(&at[2], (t_float)(e->bar_ticks > 0 ? e->pos_ticks : pos) / MN_TPQ);
    melodynet_feed(x, e);
    outlet_anything(x->x_out_info, gensym("heard"), 3, at);
}

/* Feeds the waiting note of the player: ioi_ms after its onset came the next one (< 0: none
 * yet; the note then lasts as it was held). */
static void melodynet_heard_feed(t_melodynet *x, double ioi_ms)
{
    if (!x->x_heard || !x->x_session) return;
    double bpm = x->x_st.bpm;
    double held_ms = clock_gettimesince(x->x_heard_on);
    if (x->x_heard_off >= 0) held_ms -= clock_gettimesince(x->x_heard_off);
    mn_event ev[2];
    const mn_durtable *t = &mn_model_cfg(mn_session_model(x->x_session))->dur;
    int n = mn_event_from_heard(t, x->x_heard_pitch, x->x_heard_vel,
                                mn_event_ms_ticks(held_ms, bpm),
                                ioi_ms < 0 ? -1 : mn_event_ms_ticks(ioi_ms, bpm), ev);
    x->x_heard = 0;
    x->x_heard_new = 1;
    for (int i = 0; i < n; i++) melodynet_hear(x, &ev[i]);
}

/* Samples one note on the scheduler, records it and sends it. Never allocates. */
static void melodynet_emit(t_melodynet *x)
{
    mn_event e;
    mn_session_sample(x->x_session, &e);
    melodynet_count_step(x);
    melodynet_output(x, &e);
}

static void melodynet_bang(t_melodynet *x)
{
    if (melodynet_defer(x, &s_bang, 0, NULL) || !melodynet_ready(x)) return;
    melodynet_heard_feed(x, -1);
    melodynet_emit(x);
}

/* A melody: reset, then each pitch as a note of one beat. */
static void melodynet_prime(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    int pitches[MN_LIST_MAX];
    int n = mnpd_parse_pitches(x, cls, x->x_out_info, argc, argv, pitches);
    if (n < 0 || !melodynet_ready(x)) return;
    melodynet_clear(x);
    for (int i = 0; i < n; i++) {
        mn_event e = {pitches[i], MN_DEFAULT_VELOCITY, MN_TPQ, 0, 0};
        melodynet_feed(x, &e);
    }
}

static void melodynet_list(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (argc == 0) melodynet_bang(x);
    else melodynet_prime(x, s, argc, argv);
}

static void melodynet_generate(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    int n;
    if (mnpd_parse_generate(x, cls, x->x_out_info, argc, argv, &n) || !melodynet_ready(x))
        return;
    melodynet_heard_feed(x, -1);
    int now = n < MELODYNET_SYNC ? n : MELODYNET_SYNC, i;
    for (i = 0; i < now && x->x_session && !x->x_gen_busy; i++) melodynet_emit(x);
    if (i == n || !x->x_session || x->x_gen_busy) {
        melodynet_generated(x, i);
        return;
    }
    x->x_gen_count = i;
    x->x_gen_sent = 0;
    atomic_store(&x->x_gen_made, 0);
    atomic_store(&x->x_gen_target, n - i);
    atomic_store(&x->x_gen_stop, 0);
    atomic_store(&x->x_gen_done, 0);
    int rc = mnpd_thread_start(&x->x_gen_thread, melodynet_gen_thread, x, 0, 0);
    if (rc) {
        mnpd_errorf(x, cls, x->x_out_info, "generate: cannot start a worker thread (%s)",
                    strerror(rc));
        melodynet_generated(x, i);
        return;
    }
    x->x_gen_thread_on = 1;
    x->x_gen_busy = 1;
    clock_delay(x->x_gen_clock, MELODYNET_DRAIN_MS);
}

static void melodynet_listen(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    mn_event e;
    if (mnpd_parse_listen(x, cls, x->x_out_info, argc, argv, &e) || !melodynet_ready(x)) return;
    melodynet_heard_feed(x, -1);
    melodynet_hear(x, &e);
}

static void melodynet_stop_playing(t_melodynet *x)
{
    x->x_playing = x->x_answering = x->x_tick_due = 0;
    clock_unset(x->x_clock);
}

/* note PITCH VELOCITY: a player's note-on (velocity > 0) or note-off, at logical time. A note
 * is fed when the next note-on tells how long it lasted (mn_event_from_heard); before that,
 * when the object has to play. */
static void melodynet_note(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    int p, v;
    if (mnpd_parse_note(x, cls, x->x_out_info, argc, argv, &p, &v) || !melodynet_ready(x))
        return;
    double now = clock_getlogicaltime();
    if (v > 0) {
        clock_unset(x->x_answer_clock);
        if (x->x_answering) melodynet_stop_playing(x); /* the player takes over */
        if (x->x_heard) melodynet_heard_feed(x, clock_gettimesince(x->x_heard_on));
        x->x_heard = 1;
        x->x_heard_pitch = p;
        x->x_heard_vel = v;
        x->x_heard_on = now;
        x->x_heard_off = -1;
    } else if (x->x_heard && p == x->x_heard_pitch && x->x_heard_off < 0) {
        x->x_heard_off = now;
        if (x->x_answer_beats > 0)
            clock_delay(x->x_answer_clock, x->x_answer_beats * 60000.0 / x->x_st.bpm);
    }
}

/* The player has been silent for the answer's beats: play an answer. */
static void melodynet_answer_tick(t_melodynet *x)
{
    if (!x->x_session) return;
    if (x->x_gen_busy) {
        clock_delay(x->x_answer_clock, MELODYNET_DRAIN_MS);
        return;
    }
    if (x->x_heard && x->x_heard_off < 0) return; /* still held: its note-off rearms */
    melodynet_heard_feed(x, -1);
    if (!x->x_heard_new || x->x_playing) return;
    x->x_heard_new = 0;
    x->x_answering = 1;
    x->x_answer_left = x->x_answer_notes;
    x->x_playing = 1;
    melodynet_tick(x);
}

static void melodynet_answer(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    double beats;
    int notes;
    if (mnpd_parse_answer(x, cls, x->x_out_info, argc, argv, &beats, &notes)) return;
    x->x_answer_beats = beats;
    x->x_answer_notes = notes;
    if (beats == 0) clock_unset(x->x_answer_clock);
}

static void melodynet_reset(t_melodynet *x)
{
    if (melodynet_defer(x, gensym("reset"), 0, NULL)) return;
    if (x->x_session) melodynet_clear(x);
}

static void melodynet_seed(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    uint64_t seed;
    if (mnpd_parse_seed(x, cls, x->x_out_info, s->s_name, argc, argv, &seed)) return;
    x->x_seed = seed;
    if (x->x_session) mn_session_seed(x->x_session, seed);
}

static void melodynet_param(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    int old = x->x_st.sampler.max_copy;
    if (mnpd_settings_message(x, cls, x->x_out_info, &x->x_st, s, argc, argv) <= 0) return;
    if (!strcmp(s->s_name, "novelty") && x->x_session &&
        mnpd_novelty_check(x, cls, x->x_out_info, x->x_model, &x->x_st, old))
        return;
    if (x->x_session) *mn_session_sampler(x->x_session) = x->x_st.sampler;
}

/*=== play ===================================================================================*/

static void melodynet_tick(t_melodynet *x)
{
    if (!x->x_playing) return;
    if (x->x_gen_busy) {
        x->x_tick_due = 1; /* the run's end plays it */
        return;
    }
    if (!x->x_session) {
        melodynet_stop_playing(x);
        mnpd_error(x, cls, x->x_out_info, "no model loaded");
        return;
    }
    if (x->x_answering && x->x_answer_notes > 0 && x->x_answer_left-- <= 0) {
        melodynet_stop_playing(x);
        return;
    }
    mn_event e;
    /* sample first, schedule, then output, so a stop sent from downstream wins */
    mn_session_sample(x->x_session, &e);
    melodynet_count_step(x);
    clock_delay(x->x_clock, mn_event_ticks_ms(e.dur_ticks, x->x_st.bpm));
    melodynet_output(x, &e);
}

static void melodynet_play(t_melodynet *x)
{
    if (melodynet_defer(x, gensym("play"), 0, NULL) || !melodynet_ready(x)) return;
    x->x_answering = 0;
    if (x->x_playing) return;
    melodynet_heard_feed(x, -1);
    x->x_playing = 1;
    melodynet_tick(x);
}

static void melodynet_stop(t_melodynet *x)
{
    if (melodynet_defer(x, gensym("stop"), 0, NULL)) return;
    melodynet_stop_playing(x);
}

/* A float, as into [metro]: nonzero plays, zero stops. */
static void melodynet_float(t_melodynet *x, t_floatarg f)
{
    if (f != 0) melodynet_play(x);
    else melodynet_stop(x);
}

/*=== files ==================================================================================*/

static void melodynet_load(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    char path[MNPD_PATH_LEN];
    if (!mnpd_find_file(x, cls, x->x_out_info, x->x_canvas, melodynet_class, "load", argc, argv,
                        path))
        melodynet_load_path(x, path, 1);
}

static void melodynet_read_done(void *owner, t_mnpd_result *r)
{
    t_melodynet *x = (t_melodynet *)owner;
    if (r->r_status != MN_OK) {
        mnpd_error(x, cls, x->x_out_info, r->r_err);
        return;
    }
    if (!melodynet_ready(x)) return;
    melodynet_gen_halt(x);
    melodynet_clear(x);
    size_t n = r->r_melody.n, first = n > MNPD_PRIME_MAX ? n - MNPD_PRIME_MAX : 0;
    for (size_t i = first; i < n; i++) melodynet_feed(x, &r->r_melody.ev[i]);
    mnpd_status_path(x->x_out_info, "read", r->r_path, (long)(n - first));
    melodynet_replay(x);
}

static void melodynet_read(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    mnpd_read(x, cls, x->x_out_info, x->x_canvas, x->x_read, x->x_write, argc,
              argv);
}

static void melodynet_write(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    t_symbol *f = mnpd_file_arg(x, cls, x->x_out_info, "write", argc, argv);
    if (!f) return;
    static mn_event notes[MN_SESSION_HIST]; /* Pd's thread only */
    size_t n = x->x_session ? mn_session_sampled(x->x_session, notes, MN_SESSION_HIST) : 0;
    mnpd_write(x, cls, x->x_canvas, x->x_out_info, x->x_write, notes, n, x->x_st.bpm, f);
}

static void melodynet_write_done(void *owner, t_mnpd_result *r)
{
    mnpd_write_done(owner, cls, ((t_melodynet *)owner)->x_out_info, r);
}

/*=== learning ===============================================================================*/

/* learn progress EPOCH FRACTION BITS (running train loss) at each tenth of an epoch, and
 * learn epoch EPOCH BITS (valid bits/event of the held-out tunes) after each epoch. */
static void melodynet_learn_progress(void *owner, const mn_finetune_progress *p)
{
    t_melodynet *x = (t_melodynet *)owner;
    t_atom a[4];
    if (p->validated) {
        SETSYMBOL(&a[0], gensym("epoch"));
        SETFLOAT(&a[1], p->epoch);
        SETFLOAT(&a[2], (t_float)p->valid_bits);
        outlet_anything(x->x_out_info, gensym("learn"), 3, a);
        return;
    }
    SETSYMBOL(&a[0], gensym("progress"));
    SETFLOAT(&a[1], p->epoch);
    SETFLOAT(&a[2], (t_float)p->fraction);
    SETFLOAT(&a[3], (t_float)p->loss_bits);
    outlet_anything(x->x_out_info, gensym("learn"), 4, a);
}

/* The end of a learn run: switches to the learned model, then `learn done EPOCHS STEPS BITS
 * PARENT_BITS` (valid bits/event of the model now playing and of the one it started from, 0
 * without held-out tunes), with `stopped` after a learn stop. On an error the old model
 * plays on. */
static void melodynet_learn_done(void *owner, t_mnpd_result *r)
{
    t_melodynet *x = (t_melodynet *)owner;
    if (r->r_status != MN_OK) {
        mnpd_errorf(x, cls, x->x_out_info, "learn: %s", r->r_err);
        return;
    }
    char key[MN_REGISTRY_KEY_LEN], name[MNPD_PATH_LEN + 16], err[MN_ERR_LEN];
    snprintf(key, sizeof key, "learned|%p|%d|%s", (void *)x, ++x->x_learned, r->r_path);
    snprintf(name, sizeof name, "learned:%s", r->r_path);
    mn_model *m;
    mn_status st = mn_registry_adopt(key, r->r_model, &m, err);
    r->r_model = NULL;
    if (st != MN_OK) {
        mnpd_errorf(x, cls, x->x_out_info, "learn: %s", err);
        return;
    }
    if (melodynet_use_model(x, m, name)) return; /* reported; the old model plays on */
    const mn_finetune_result *l = &r->r_learned;
    t_atom a[6];
    SETSYMBOL(&a[0], gensym("done"));
    SETFLOAT(&a[1], l->epochs);
    mnpd_setcount(&a[2], (long long)l->steps);
    SETFLOAT(&a[3], (t_float)(l->best_valid > 0 ? l->best_valid : 0));
    SETFLOAT(&a[4], (t_float)l->parent_valid);
    SETSYMBOL(&a[5], gensym("stopped"));
    outlet_anything(x->x_out_info, gensym("learn"), l->stopped ? 6 : 5, a);
    melodynet_replay(x);
}

/* learn FILE-OR-FOLDER [EPOCHS]: fine-tunes the model playing on the MIDI files named (a file,
 * a folder searched recursively or a .txt list), as `melodynet train DATA --init MODEL` does,
 * on a worker while this model plays on; `learn stop` ends the run early with the best model
 * so far (and does nothing when no run is under way). */
static void melodynet_learn(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    if (argc == 1 && argv[0].a_type == A_SYMBOL && argv[0].a_w.w_symbol == gensym("stop")) {
        /* as [metro]'s stop: nothing to do when nothing runs */
        if (mnpd_job_busy(x->x_learn)) mnpd_job_stop(x->x_learn);
        return;
    }
    if (argc < 1 || argc > 2 || argv[0].a_type != A_SYMBOL ||
        (argc == 2 && argv[1].a_type != A_FLOAT)) {
        mnpd_error(x, cls, x->x_out_info,
                   "learn expects a MIDI file, folder or list and an optional number of epochs");
        return;
    }
    int epochs = 0;
    if (argc == 2) {
        t_float f = argv[1].a_w.w_float;
        if (f != (int)f || f < 1 || f > 1000) {
            mnpd_errorf(x, cls, x->x_out_info, "learn: epochs %g, expected an integer 1..1000",
                        f);
            return;
        }
        epochs = (int)f;
    }
    if (!melodynet_ready(x)) return;
    if (mnpd_job_busy(x->x_learn)) {
        mnpd_error(x, cls, x->x_out_info, "learn: already learning (learn stop ends it)");
        return;
    }
    char path[MNPD_PATH_LEN], err[MN_ERR_LEN];
    const char *name = argv[0].a_w.w_symbol->s_name;
    if (mnpd_resolve_data(x->x_canvas, name, path)) {
        mnpd_errorf(x, cls, x->x_out_info, "learn: %s: no such file or folder (searched the "
                    "patch folder and path)", name);
        return;
    }
    if (mnpd_job_learn(x->x_learn, x->x_model, path, epochs, x->x_seed, err)) {
        mnpd_errorf(x, cls, x->x_out_info, "learn: %s", err);
        return;
    }
    mnpd_status_path(x->x_out_info, "learning", path, -1);
}

static void melodynet_save_done(void *owner, t_mnpd_result *r)
{
    t_melodynet *x = (t_melodynet *)owner;
    if (r->r_status != MN_OK) mnpd_errorf(x, cls, x->x_out_info, "write-model: %s", r->r_err);
    else mnpd_status_path(x->x_out_info, "wrote-model", r->r_path, -1);
}

/* write-model FILE: writes the model playing (a learned one included) to FILE, relative to the
 * patch's folder, on the loader thread: `wrote-model PATH` when it is there. */
static void melodynet_write_model(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_symbol *f = mnpd_file_arg(x, cls, x->x_out_info, "write-model", argc, argv);
    if (!f || !melodynet_ready(x)) return;
    char path[MAXPDSTRING], err[MN_ERR_LEN];
    canvas_makefilename(x->x_canvas, f->s_name, path, MAXPDSTRING);
    if (mnpd_job_save(x->x_save, x->x_model, path, err))
        mnpd_errorf(x, cls, x->x_out_info, "write-model: %s", err);
}

/* similar: the training tunes sharing the longest verbatim interval runs with the notes played
 * so far (the history `write` saves), on the info outlet as `similar LENGTH MELODY_NOTE
 * TUNE_NOTE NAME`, longest first (at most 3), or `similar 0` when none is shared. */
static void melodynet_similar(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    if (argc) {
        mnpd_error(x, cls, x->x_out_info, "similar takes no arguments");
        return;
    }
    const char *why;
    const mn_copyidx *ix = x->x_session ? mn_model_copyidx(x->x_model, &why) : NULL;
    if (!x->x_session) {
        mnpd_error(x, cls, x->x_out_info, "no model loaded");
        return;
    }
    if (!ix) {
        mnpd_error(x, cls, x->x_out_info, why);
        return;
    }
    static int iv[MN_SESSION_HIST];
    int n = 0, last = -1;
    for (size_t i = 0; i < mn_session_history_len(x->x_session); i++) {
        const mn_hist_entry *h = mn_session_history_at(x->x_session, i);
        const mn_event *e = &h->ev;
        if (!h->sampled || !mn_is_pitch(e->pitch)) continue;
        if (last >= 0) iv[n++] = e->pitch - last;
        last = e->pitch;
    }
    mn_copy_run runs[3];
    size_t k = mn_copyidx_similar(ix, iv, (size_t)n, runs, 3);
    t_atom a[4];
    if (!k) {
        SETFLOAT(&a[0], 0);
        outlet_anything(x->x_out_info, gensym("similar"), 1, a);
    }
    for (size_t j = 0; j < k; j++) {
        SETFLOAT(&a[0], (t_float)runs[j].len);
        SETFLOAT(&a[1], (t_float)(runs[j].query_start + 1));
        SETFLOAT(&a[2], (t_float)(runs[j].tune_start + 1));
        SETSYMBOL(&a[3], gensym(mn_copyidx_name(ix, runs[j].tune)));
        outlet_anything(x->x_out_info, gensym("similar"), 4, a);
    }
}

static void melodynet_info(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (melodynet_defer(x, s, argc, argv)) return;
    t_mnpd_info ic;
    if (mnpd_info_args(x, cls, x->x_out_info, argc, argv, &ic)) return;
    mnpd_info(&ic, x->x_session ? x->x_model : NULL, x->x_path, &x->x_st, x->x_seed,
              x->x_session ? mn_session_notes(x->x_session) : 0);
    mnpd_info_count(&ic, "playing", x->x_playing);
    mnpd_info_count(&ic, "loading", mnpd_job_busy(x->x_load) || mnpd_job_busy(x->x_read));
    mnpd_info_count(&ic, "learning", mnpd_job_busy(x->x_learn));
    t_atom at[2];
    SETFLOAT(&at[0], (t_float)x->x_answer_beats);
    SETFLOAT(&at[1], x->x_answer_notes);
    mnpd_info_atoms(&ic, "answer", 2, at);
    mnpd_info_count(&ic, "steps_scheduler", x->x_steps_pd);
    mnpd_info_count(&ic, "steps_worker", x->x_steps_worker);
    mnpd_info_count(&ic, "steps_tick_max", x->x_step_max);
}

/*=== new / free / setup =====================================================================*/

static void *melodynet_new(t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_melodynet *x = (t_melodynet *)pd_new(melodynet_class);
    x->x_canvas = canvas_getcurrent();
    x->x_out_note = outlet_new(&x->x_obj, &s_list);
    x->x_out_info = outlet_new(&x->x_obj, &s_anything);
    mn_settings_default(&x->x_st);
    x->x_seed = mnpd_makeseed();
    x->x_last_pitch = MELODYNET_NO_PITCH;
    x->x_clock = clock_new(x, (t_method)melodynet_tick);
    x->x_load = mnpd_job_new(x, melodynet_load_done);
    x->x_read = mnpd_job_new(x, melodynet_read_done);
    x->x_write = mnpd_job_new(x, melodynet_write_done);
    x->x_save = mnpd_job_new(x, melodynet_save_done);
    x->x_learn = mnpd_job_new(x, melodynet_learn_done);
    mnpd_job_set_progress(x->x_learn, melodynet_learn_progress);
    x->x_gen = (mn_event *)getbytes(MN_GENERATE_MAX * sizeof *x->x_gen);
    atomic_init(&x->x_gen_target, 0);
    atomic_init(&x->x_gen_made, 0);
    atomic_init(&x->x_gen_stop, 0);
    atomic_init(&x->x_gen_done, 0);
    x->x_gen_clock = clock_new(x, (t_method)melodynet_gen_poll);
    x->x_defer = binbuf_new();
    x->x_step_time = -1;
    x->x_answer_clock = clock_new(x, (t_method)melodynet_answer_tick);

    char path[MNPD_PATH_LEN];
    if (!mnpd_creation_args(x, cls, x->x_canvas, melodynet_class, argc, argv, &x->x_seed, path))
        melodynet_load_path(x, path, 0);
    return x;
}

static void melodynet_free(t_melodynet *x)
{
    atomic_store(&x->x_gen_stop, 1);
    melodynet_gen_join(x);
    clock_free(x->x_clock);
    clock_free(x->x_gen_clock);
    clock_free(x->x_answer_clock);
    binbuf_free(x->x_defer);
    freebytes(x->x_gen, MN_GENERATE_MAX * sizeof *x->x_gen);
    mnpd_job_free(x->x_load);
    mnpd_job_free(x->x_read);
    mnpd_job_free(x->x_write);
    mnpd_job_free(x->x_save);
    mnpd_job_free(x->x_learn);  /* a run under way stops and frees itself: no wait */
    mn_session_free(x->x_session);
    mn_registry_release(x->x_model);
}

void melodynet_setup(void)
{
    melodynet_class = class_new(gensym("melodynet"), (t_newmethod)(void (*)(void))melodynet_new,
                                (t_method)melodynet_free, sizeof(t_melodynet), 0, A_GIMME, 0);
    t_class *c = melodynet_class;
    class_addbang(c, melodynet_bang);
    class_addfloat(c, melodynet_float);
    class_addlist(c, melodynet_list);
    class_addmethod(c, (t_method)melodynet_prime, gensym("prime"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_seed, gensym("seed"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_seed, gensym("randomseed"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_generate, gensym("generate"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_listen, gensym("listen"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_note, gensym("note"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_answer, gensym("answer"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_reset, gensym("reset"), 0);
    mnpd_settings_methods(c, (t_method)melodynet_param);
    class_addmethod(c, (t_method)melodynet_play, gensym("play"), 0);
    class_addmethod(c, (t_method)melodynet_stop, gensym("stop"), 0);
    class_addmethod(c, (t_method)melodynet_load, gensym("load"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_read, gensym("read"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_write, gensym("write"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_info, gensym("info"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_similar, gensym("similar"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_learn, gensym("learn"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_write_model, gensym("write-model"), A_GIMME, 0);
}
