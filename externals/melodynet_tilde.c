/* melodynet_tilde.c - [melodynet~]: the melody generator timed by the audio clock. A
 * look-ahead (core/rt/ahead.h: a worker thread that runs the network ahead of the audio clock
 * into a lock-free single-producer / single-consumer ring, with epochs for the changes of the
 * melody) keeps notes ready; perform pops a note at each onset (internal tempo, or an edge at
 * the clock inlet, the 2nd) and drives a held pitch signal and a gate signal, sample-accurately.
 * Each played note also leaves the message outlet, from a clock on Pd's thread.
 *
 * Sampler settings (temperature, scale, ...) reach the look-ahead as a copy, read before each
 * note it generates: a change costs nothing more and reaches the notes not yet generated. The
 * look-ahead is kept short in time (about TILDE_AHEAD_MS of music plus Pd's audio buffer) so
 * that such a change is heard soon. A change of the melody itself (a primer, reset, listen,
 * randomseed, a new model) is a command to the look-ahead, which replaces the notes not yet
 * played. The melody so far is the look-ahead's session's history: `write` takes the notes
 * played from it and the loader thread writes the file.
 *
 * Offline rendering: in `pd -batch` logical time runs as fast as the CPU allows, so a worker
 * running beside it would fall behind. There (and only there) the scheduler thread waits for
 * the worker before the DSP tick that follows a request (tilde_sync), and perform waits for it
 * if the ring is ever empty at an onset: every note plays at the sample it would in real time
 * (see tilde_offline). Perform also waits when logical time has run well ahead of the wall
 * clock (`pd fast-forward` in real-time Pd, see tilde_ahead_of_wall). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnpd.h"
#include "ahead.h"
#include "g_canvas.h" /* linetraverser: is the clock inlet connected? */
#include "s_stuff.h"  /* get_sys_schedadvance: Pd's audio buffer */

#define TILDE_AHEAD_MS 250  /* music kept generated ahead, in ms, beyond Pd's audio buffer */
#define TILDE_LEAD_MS 100   /* logical time this far ahead of the wall clock, beyond Pd's audio
                             * buffer, is not real time (`pd fast-forward`) */
#define TILDE_OUTQ 64       /* played notes waiting for the message outlet */
#define TILDE_WAIT_S 1.0    /* longest wait for the worker (batch mode, DSP start) */

enum { CLOCK_AUTO, CLOCK_INTERNAL, CLOCK_EXTERNAL };

static t_class *melodynet_tilde_class;
static const char *const cls = "melodynet~";

typedef struct _melodynet_tilde {
    t_object x_obj;
    t_canvas *x_canvas;
    t_outlet *x_out_pitch, *x_out_gate, *x_out_note, *x_out_info;

    /* Pd thread and perform (the same thread) */
    mn_settings x_st;
    uint64_t x_seed;
    mn_model *x_model;            /* registry user; the look-ahead's session holds its own ref */
    char x_path[MNPD_PATH_LEN];
    long x_notes;                 /* notes played since the last reset or primer */
    int x_last_pitch;
    t_mnpd_job *x_load, *x_read, *x_write;
    t_clock *x_outclock;          /* delivers played notes and asks the worker to refill */
    t_clock *x_syncclock;         /* batch mode: waits for the worker (tilde_sync) */
    mn_event x_outq[TILDE_OUTQ];
    int x_outq_n;
    int x_clockmode, x_running, x_bang;
    int x_clock_wired;            /* a connection reaches the clock inlet (clock auto) */
    int x_offline;                /* Pd runs in batch mode: wait for the worker (tilde_offline) */
    double x_ref_logical;         /* logical time at DSP start (clock_getlogicaltime) */
    double x_ref_wall;            /* wall time then, s (sys_getrealtime) */
    double x_lead_max_ms;         /* lead of logical time over wall time that real time allows */
    double x_sr;
    double x_left;                /* samples until the next onset (internal clock) */
    double x_gate_left;           /* samples the gate stays on */
    t_sample x_prev_in;           /* last clock input sample, for edges */
    double x_since_edge;          /* samples since the last clock edge */
    double x_edge_period;         /* samples between the last two clock edges (0: unknown) */
    float x_pitch;                /* the held pitch signal */
    int x_starved;                /* an onset is waiting for a note */
    long x_underruns;

    mn_ahead *x_ahead;            /* the look-ahead and its worker; NULL if it could not start */
    struct _melodynet_tilde *x_next; /* live instances, for the exit hook */
} t_melodynet_tilde;

static t_melodynet_tilde *tilde_live;

/*=== the look-ahead =========================================================================*/

static int tilde_external(const t_melodynet_tilde *x);

/* Waits until the worker has done all it was asked and the look-ahead is full; gives up after
 * a second. Pd's thread, at DSP start, and in batch mode after each request (tilde_offline). */
static void tilde_wait_idle(t_melodynet_tilde *x)
{
    if (x->x_ahead) mn_ahead_wait_idle(x->x_ahead, TILDE_WAIT_S);
}

/* Pd thread: a request was handed to the worker. In batch mode it is carried out before logical
 * time moves on (the sync clock runs after the messages of this instant, before the next DSP
 * tick, so the commands of one instant are applied together as a busy worker would in real
 * time): a rendering is the same on every run and never outruns the worker. In real time this
 * does nothing. */
static void tilde_sync(t_melodynet_tilde *x)
{
    if (x->x_offline) clock_delay(x->x_syncclock, 0);
}

/* Whether Pd runs in batch mode (`pd -batch`: logical time as fast as the CPU allows). Pd 0.53
 * keeps that flag to itself, but its batch loop (m_batchmain) is the one scheduler that runs
 * ticks and messages without taking Pd's global lock; every real-time scheduler, and libpd's
 * process and message calls, hold it around them. So a message handler (the dsp method) that
 * finds the lock free runs in batch mode. */
static int tilde_offline(void)
{
    if (sys_trylock() != 0) return 0;
    sys_unlock();
    return 1;
}

/* Pd thread: the timing the worker sizes its look-ahead by (woken with wake set). In real time
 * the look-ahead also covers Pd's audio buffer (DSP runs that far ahead of the sound card); in
 * batch mode there is none, so a rendering does not depend on the audio settings. */
static void tilde_timing(t_melodynet_tilde *x, int wake)
{
    if (!x->x_ahead) return;
    mn_ahead_timing t;
    t.tick_ms = 60000.0 / x->x_st.bpm / MN_TPQ;
    t.note_ms = !tilde_external(x) ? 0
              : x->x_edge_period > 0 ? x->x_edge_period / x->x_sr * 1000 : -1;
    t.ahead_ms = TILDE_AHEAD_MS + (x->x_offline ? 0 : *get_sys_schedadvance() / 1000.0);
    mn_ahead_set_timing(x->x_ahead, &t, wake);
}

/*=== perform ================================================================================*/

/* Passes the items of older epochs at the head of the ring, so that their slots are free for the
 * worker before the next onset. No lock, no allocation. */
static void tilde_skip_stale(t_melodynet_tilde *x)
{
    if (x->x_ahead && mn_ahead_skip_stale(x->x_ahead))
        clock_delay(x->x_outclock, 0); /* wakes the worker: a command may wait for the room */
}

/* Pops the next note of the current epoch. No lock, no allocation. */
static int tilde_pop(t_melodynet_tilde *x, mn_event *e)
{
    return x->x_ahead && mn_ahead_pop(x->x_ahead, e);
}

static int tilde_external(const t_melodynet_tilde *x)
{
    return x->x_clockmode == CLOCK_EXTERNAL || (x->x_clockmode == CLOCK_AUTO && x->x_clock_wired);
}

/* Whether logical time has run ahead of the wall clock since DSP start by more than real time
 * allows (Pd's audio buffer and a margin): `pd fast-forward`, where no real time is kept. */
static int tilde_ahead_of_wall(t_melodynet_tilde *x)
{
    double wall_ms = 1000 * (sys_getrealtime() - x->x_ref_wall);
    return clock_gettimesince(x->x_ref_logical) - wall_ms > x->x_lead_max_ms;
}

static void tilde_onset(t_melodynet_tilde *x, int internal)
{
    mn_event e;
    int got = tilde_pop(x, &e);
    if (!got && !x->x_starved && (x->x_offline || tilde_ahead_of_wall(x))) {
        /* batch mode or fast-forward only (no real time to keep): wait for the worker to catch
         * up. Once per empty spell: a worker that went idle without a note has none to give */
        if (x->x_ahead) mn_ahead_wake(x->x_ahead);
        tilde_wait_idle(x);
        got = tilde_pop(x, &e);
    }
    if (!got) {
        if (!x->x_starved) {
            x->x_underruns++;
            clock_delay(x->x_outclock, 0); /* make sure the worker is awake */
        }
        x->x_starved = 1;
        x->x_gate_left = 0;
        if (internal) x->x_left = 0; /* retry at the next sample */
        return;
    }
    x->x_starved = 0;
    double dur = (double)e.dur_ticks / MN_TPQ * 60.0 / x->x_st.bpm * x->x_sr;
    int rest = !mn_is_pitch(e.pitch);
    if (!rest) x->x_pitch = (float)e.pitch;
    x->x_gate_left = rest ? 0 : x->x_st.legato * dur;
    if (internal) x->x_left += dur;
    if (x->x_outq_n < TILDE_OUTQ) x->x_outq[x->x_outq_n++] = e;
    clock_delay(x->x_outclock, 0);
}

static t_int *melodynet_tilde_perform(t_int *w)
{
    t_melodynet_tilde *x = (t_melodynet_tilde *)(w[1]);
    t_sample *in = (t_sample *)(w[2]);
    t_sample *out_pitch = (t_sample *)(w[3]);
    t_sample *out_gate = (t_sample *)(w[4]);
    int n = (int)(w[5]);
    tilde_skip_stale(x);
    for (int i = 0; i < n; i++) {
        t_sample s = in[i]; /* read first: the outputs may share the input's buffer */
        /* a clock edge: a rise through 0 (from <= 0 to > 0: pulses, squares, [phasor~]'s
         * start) or a fall by more than 0.5 that stays above 0 ([phasor~]'s wrap from near 1
         * to near 0; a pulse falling to 0 or below is not an edge, its next rise is) */
        t_sample prev = x->x_prev_in;
        int edge = s > 0 && (prev <= 0 || prev - s > (t_sample)0.5);
        x->x_prev_in = s;
        x->x_since_edge += 1;
        if (edge) {
            x->x_edge_period = x->x_since_edge;
            x->x_since_edge = 0;
        }
        int external = tilde_external(x);
        if (x->x_running) {
            if (x->x_bang) {
                x->x_bang = 0;
                x->x_left = 0;
                tilde_onset(x, 1);
            } else if (external) {
                if (edge) tilde_onset(x, 0);
            } else if (x->x_left <= 0) {
                tilde_onset(x, 1);
            }
            if (!external) x->x_left -= 1;
        }
        out_pitch[i] = x->x_pitch;
        out_gate[i] = x->x_gate_left > 0 ? 1 : 0;
        if (x->x_gate_left > 0) x->x_gate_left -= 1;
    }
    return w + 6;
}

/* Whether a cord reaches the clock inlet (the 2nd). */
static int tilde_clock_wired(t_melodynet_tilde *x)
{
    t_linetraverser t;
    linetraverser_start(&t, x->x_canvas);
    while (linetraverser_next(&t))
        if (t.tr_ob2 == &x->x_obj && t.tr_inno == 1) return 1;
    return 0;
}

static void melodynet_tilde_dsp(t_melodynet_tilde *x, t_signal **sp)
{
    x->x_clock_wired = tilde_clock_wired(x);
    x->x_sr = sp[0]->s_sr > 0 ? sp[0]->s_sr : 44100;
    x->x_offline = tilde_offline();
    x->x_ref_logical = clock_getlogicaltime();
    x->x_ref_wall = sys_getrealtime();
    x->x_lead_max_ms = TILDE_LEAD_MS + *get_sys_schedadvance() / 1000.0;
    tilde_timing(x, 1);
    tilde_wait_idle(x);
    dsp_add(melodynet_tilde_perform, 5, x, sp[0]->s_vec, sp[1]->s_vec, sp[2]->s_vec,
            (t_int)sp[0]->s_n);
}

/*=== Pd thread ==============================================================================*/

/* Played notes leave the message outlet here, and the worker refills. */
static void melodynet_tilde_deliver(t_melodynet_tilde *x)
{
    mn_event q[TILDE_OUTQ];
    int n = x->x_outq_n;
    memcpy(q, x->x_outq, sizeof(mn_event) * (size_t)n);
    x->x_outq_n = 0;
    tilde_timing(x, 1);
    tilde_sync(x);
    for (int i = 0; i < n; i++) {
        const mn_event *e = &q[i];
        x->x_notes++;
        int shown = x->x_last_pitch;
        if (mn_is_pitch(e->pitch)) shown = x->x_last_pitch = e->pitch;
        mnpd_outlet_note(x->x_out_note, e, shown, x->x_st.bpm, x->x_st.legato);
    }
}

static int melodynet_tilde_ready(t_melodynet_tilde *x)
{
    if (x->x_model && x->x_ahead) return 1;
    mnpd_error(x, cls, x->x_out_info, x->x_ahead ? "no model loaded" : "no worker thread");
    return 0;
}

static int melodynet_tilde_use_model(t_melodynet_tilde *x, mn_model *model, const char *path)
{
    char err[MN_ERR_LEN];
    mn_session *s = NULL;
    if (!x->x_ahead) {
        mn_registry_release(model);
        mnpd_error(x, cls, x->x_out_info, "no worker thread");
        return -1;
    }
    if (mn_session_new(model, x->x_seed, &s, err) != MN_OK) {
        mn_registry_release(model);
        mnpd_error(x, cls, x->x_out_info, err);
        return -1;
    }
    mn_ahead_use(x->x_ahead, s); /* the melody moves onto it */
    tilde_sync(x);
    mn_registry_release(x->x_model);
    x->x_model = model;
    snprintf(x->x_path, sizeof x->x_path, "%s", path);
    return 0;
}

static int melodynet_tilde_use(void *x, mn_model *m, const char *path)
{
    return melodynet_tilde_use_model((t_melodynet_tilde *)x, m, path);
}

/* Loads synchronously (creation) or asynchronously (the load message). */
static void melodynet_tilde_load_path(t_melodynet_tilde *x, const char *path, int async)
{
    mnpd_load_path(x, cls, x->x_out_info, x->x_load, melodynet_tilde_use, path, async);
}

static void melodynet_tilde_load_done(void *owner, t_mnpd_result *r)
{
    t_melodynet_tilde *x = (t_melodynet_tilde *)owner;
    mnpd_load_done(x, cls, x->x_out_info, r, melodynet_tilde_use);
}

static void melodynet_tilde_prime(t_melodynet_tilde *x, const mn_event *ev, int n)
{
    if (x->x_ahead) mn_ahead_prime(x->x_ahead, ev, n); /* reset: n is 0, ev NULL */
    tilde_sync(x);
    x->x_notes = 0;
    if (n > 0 && mn_is_pitch(ev[n - 1].pitch)) x->x_last_pitch = ev[n - 1].pitch;
}

/* A melody (a list or prime P1 P2 ...): each pitch a note of one beat. */
static void melodynet_tilde_melody(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    int pitches[MN_LIST_MAX];
    mn_event ev[MN_LIST_MAX];
    int n = mnpd_parse_pitches(x, cls, x->x_out_info, argc, argv, pitches);
    if (n < 0 || !melodynet_tilde_ready(x)) return;
    for (int i = 0; i < n; i++) {
        mn_event e = {pitches[i], MN_DEFAULT_VELOCITY, MN_TPQ, 0, 0};
        ev[i] = e;
    }
    melodynet_tilde_prime(x, ev, n);
}

static void melodynet_tilde_bang(t_melodynet_tilde *x)
{
    if (melodynet_tilde_ready(x)) x->x_bang = 1;
}

static void melodynet_tilde_list(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    if (argc == 0) melodynet_tilde_bang(x);
    else melodynet_tilde_melody(x, s, argc, argv);
}

static void melodynet_tilde_listen(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    mn_event e;
    if (mnpd_parse_listen(x, cls, x->x_out_info, argc, argv, &e) || !melodynet_tilde_ready(x))
        return;
    mn_ahead_listen(x->x_ahead, &e); /* beyond MN_AHEAD_LISTEN waiting, dropped */
    tilde_sync(x);
}

static void melodynet_tilde_reset(t_melodynet_tilde *x)
{
    melodynet_tilde_prime(x, NULL, 0);
}

/* seed N (and its alias randomseed): the random generator. */
static void melodynet_tilde_seed(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    uint64_t seed;
    if (mnpd_parse_seed(x, cls, x->x_out_info, s->s_name, argc, argv, &seed)) return;
    x->x_seed = seed;
    if (!x->x_ahead) return;
    mn_ahead_reseed(x->x_ahead, seed);
    tilde_sync(x);
}

static void melodynet_tilde_param(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    int old = x->x_st.sampler.max_copy;
    if (mnpd_settings_message(x, cls, x->x_out_info, &x->x_st, s, argc, argv) <= 0) return;
    if (!strcmp(s->s_name, "novelty") &&
        mnpd_novelty_check(x, cls, x->x_out_info, x->x_model, &x->x_st, old))
        return;
    /* Tempo and legato are read by perform. The sampler settings reach the next note the
     * worker generates: no replay, so a stream of changes (an LFO on temperature) costs a copy
     * each. A tempo change resizes the look-ahead, which is measured in time. */
    int bpm = !strcmp(s->s_name, "bpm");
    if (!x->x_ahead) return;
    mn_ahead_settings(x->x_ahead, &x->x_st.sampler);
    tilde_timing(x, bpm);
    if (bpm) tilde_sync(x);
}

static void melodynet_tilde_clock(t_melodynet_tilde *x, t_symbol *mode)
{
    if (!strcmp(mode->s_name, "internal")) x->x_clockmode = CLOCK_INTERNAL;
    else if (!strcmp(mode->s_name, "external")) x->x_clockmode = CLOCK_EXTERNAL;
    else if (!strcmp(mode->s_name, "auto")) x->x_clockmode = CLOCK_AUTO;
    else {
        mnpd_errorf(x, cls, x->x_out_info, "clock expects internal, external or auto, got '%s'",
                    mode->s_name);
        return;
    }
    x->x_left = 0;
}

static void melodynet_tilde_play(t_melodynet_tilde *x)
{
    if (!x->x_running) x->x_left = 0;
    x->x_running = 1;
}

static void melodynet_tilde_stop(t_melodynet_tilde *x)
{
    x->x_running = 0;
    x->x_gate_left = 0;
}

static void melodynet_tilde_load(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    char path[MNPD_PATH_LEN];
    if (!mnpd_find_file(x, cls, x->x_out_info, x->x_canvas, melodynet_tilde_class, "load", argc, argv, path))
        melodynet_tilde_load_path(x, path, 1);
}

static void melodynet_tilde_read_done(void *owner, t_mnpd_result *r)
{
    t_melodynet_tilde *x = (t_melodynet_tilde *)owner;
    if (r->r_status != MN_OK) {
        mnpd_error(x, cls, x->x_out_info, r->r_err);
        return;
    }
    if (!melodynet_tilde_ready(x)) return;
    size_t n = r->r_melody.n, first = n > MNPD_PRIME_MAX ? n - MNPD_PRIME_MAX : 0;
    melodynet_tilde_prime(x, r->r_melody.ev + first, (int)(n - first));
    mnpd_status_path(x->x_out_info, "read", r->r_path, (long)(n - first));
}

static void melodynet_tilde_read(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    mnpd_read(x, cls, x->x_out_info, x->x_canvas, x->x_read, x->x_write, argc,
              argv);
}

static void melodynet_tilde_write(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_symbol *f = mnpd_file_arg(x, cls, x->x_out_info, "write", argc, argv);
    if (!f) return;
    static mn_event notes[MN_SESSION_HIST]; /* Pd's thread only */
    size_t n = x->x_ahead ? mn_ahead_history(x->x_ahead, notes, MN_SESSION_HIST) : 0;
    mnpd_write(x, cls, x->x_canvas, x->x_out_info, x->x_write, notes, n, x->x_st.bpm, f);
}

static void melodynet_tilde_write_done(void *owner, t_mnpd_result *r)
{
    mnpd_write_done(owner, cls, ((t_melodynet_tilde *)owner)->x_out_info, r);
}

static void melodynet_tilde_info(t_melodynet_tilde *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    static const char *const modes[] = {"auto", "internal", "external"};
    t_mnpd_info ic;
    if (mnpd_info_args(x, cls, x->x_out_info, argc, argv, &ic)) return;
    mnpd_info(&ic, x->x_model, x->x_path, &x->x_st, x->x_seed, x->x_notes);
    mnpd_info_symbol(&ic, "clock", modes[x->x_clockmode]);
    mnpd_info_count(&ic, "playing", x->x_running);
    mnpd_info_count(&ic, "underruns", x->x_underruns);
    mnpd_info_count(&ic, "loading", mnpd_job_busy(x->x_load) || mnpd_job_busy(x->x_read));
}

/*=== new / free / setup =====================================================================*/

static void *melodynet_tilde_new(t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_melodynet_tilde *x = (t_melodynet_tilde *)pd_new(melodynet_tilde_class);
    x->x_canvas = canvas_getcurrent();
    /* the left inlet takes messages (a float or list primes the melody, as for [melodynet]);
     * the clock signal has the 2nd inlet */
    signalinlet_new(&x->x_obj, 0);
    x->x_out_pitch = outlet_new(&x->x_obj, &s_signal);
    x->x_out_gate = outlet_new(&x->x_obj, &s_signal);
    x->x_out_note = outlet_new(&x->x_obj, &s_list);
    x->x_out_info = outlet_new(&x->x_obj, &s_anything);
    mn_settings_default(&x->x_st);
    x->x_seed = mnpd_makeseed();
    x->x_last_pitch = 60;
    x->x_pitch = 60;
    x->x_running = 1;
    x->x_sr = 44100;
    x->x_outclock = clock_new(x, (t_method)melodynet_tilde_deliver);
    x->x_syncclock = clock_new(x, (t_method)tilde_wait_idle);
    x->x_load = mnpd_job_new(x, melodynet_tilde_load_done);
    x->x_read = mnpd_job_new(x, melodynet_tilde_read_done);
    x->x_write = mnpd_job_new(x, melodynet_tilde_write_done);
    mn_ahead_timing t = {0, 0, 0};
    char err[MN_ERR_LEN];
    if (mn_ahead_new(&x->x_st.sampler, &t, &x->x_ahead, err) != MN_OK)
        pd_error(x, "%s: %s", cls, err);
    tilde_timing(x, 0);
    x->x_next = tilde_live;
    tilde_live = x;

    char path[MNPD_PATH_LEN];
    if (!mnpd_creation_args(x, cls, x->x_canvas, melodynet_tilde_class, argc, argv, &x->x_seed, path))
        melodynet_tilde_load_path(x, path, 0);
    return x;
}

static void tilde_stop_worker(t_melodynet_tilde *x)
{
    mn_ahead_free(x->x_ahead);
    x->x_ahead = NULL;
}

/* Pd exits without freeing objects: stop the workers before the libraries they use
 * (OpenBLAS) are torn down under them. */
static void tilde_atexit(void)
{
    for (t_melodynet_tilde *x = tilde_live; x; x = x->x_next) tilde_stop_worker(x);
}

static void melodynet_tilde_free(t_melodynet_tilde *x)
{
    for (t_melodynet_tilde **px = &tilde_live; *px; px = &(*px)->x_next)
        if (*px == x) {
            *px = x->x_next;
            break;
        }
    tilde_stop_worker(x);
    clock_free(x->x_outclock);
    clock_free(x->x_syncclock);
    mnpd_job_free(x->x_load);
    mnpd_job_free(x->x_read);
    mnpd_job_free(x->x_write);
    mn_registry_release(x->x_model);
}

void melodynet_tilde_setup(void)
{
    atexit(tilde_atexit);
    melodynet_tilde_class = class_new(gensym("melodynet~"),
                                      (t_newmethod)(void (*)(void))melodynet_tilde_new,
                                      (t_method)melodynet_tilde_free,
                                      sizeof(t_melodynet_tilde), 0, A_GIMME, 0);
    t_class *c = melodynet_tilde_class;
    class_addmethod(c, (t_method)melodynet_tilde_dsp, gensym("dsp"), A_CANT, 0);
    class_addbang(c, melodynet_tilde_bang);
    class_addlist(c, melodynet_tilde_list);
    class_addmethod(c, (t_method)melodynet_tilde_melody, gensym("prime"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_listen, gensym("listen"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_reset, gensym("reset"), 0);
    class_addmethod(c, (t_method)melodynet_tilde_seed, gensym("seed"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_seed, gensym("randomseed"), A_GIMME, 0);
    mnpd_settings_methods(c, (t_method)melodynet_tilde_param);
    class_addmethod(c, (t_method)melodynet_tilde_clock, gensym("clock"), A_SYMBOL, 0);
    class_addmethod(c, (t_method)melodynet_tilde_play, gensym("play"), 0);
    class_addmethod(c, (t_method)melodynet_tilde_stop, gensym("stop"), 0);
    class_addmethod(c, (t_method)melodynet_tilde_load, gensym("load"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_read, gensym("read"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_write, gensym("write"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_tilde_info, gensym("info"), A_GIMME, 0);
}
