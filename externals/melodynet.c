/* melodynet.c - [melodynet]: a neural melody generator as a control object. A list of pitches
 * primes the model, each bang emits the next note as `pitch velocity duration_ms`, and `play`
 * runs it on its own clock. Parsing, outlets and threads live here; the musical logic is core's
 * (session, sampler, MIDI files) and the shared Pd plumbing is mnpd.c. */
#include <stdio.h>
#include <string.h>

#include "mnpd.h"

#define MELODYNET_CTX 64       /* recent events replayed into a newly loaded model */
#define MELODYNET_NO_PITCH 60  /* pitch reported for a rest before any note */

static t_class *melodynet_class;
static const char *const cls = "melodynet";

typedef struct _melodynet {
    t_object x_obj;
    t_canvas *x_canvas;         /* for relative paths */
    t_outlet *x_out_note;       /* pitch velocity duration_ms */
    t_outlet *x_out_info;       /* loaded / read / wrote / error / info messages */
    mn_session *x_session;      /* NULL until a model is loaded */
    mn_model *x_model;          /* the registry entry this object uses (one user) */
    char x_path[MNPD_PATH_LEN]; /* the model's resolved path */
    t_mnpd_settings x_st;       /* sampler settings and bpm, kept across model swaps */
    uint64_t x_seed;            /* last PRNG seed given (creation or randomseed) */
    int x_last_pitch;           /* last emitted pitch: what a rest reports */
    t_mnpd_hist x_hist;         /* generated notes, for write */
    mn_event x_ctx[MELODYNET_CTX]; /* ring of the events the model saw since the last reset */
    int x_ctx_head, x_ctx_n;
    t_clock *x_clock;           /* play: fires at each note's onset */
    int x_playing;
    t_mnpd_job *x_load;         /* background model load */
    t_mnpd_job *x_read;         /* background MIDI file read */
} t_melodynet;

/*=== model and context ======================================================================*/

static void melodynet_ctx_push(t_melodynet *x, const mn_event *e)
{
    if (x->x_ctx_n < MELODYNET_CTX) {
        x->x_ctx[(x->x_ctx_head + x->x_ctx_n++) % MELODYNET_CTX] = *e;
    } else {
        x->x_ctx[x->x_ctx_head] = *e;
        x->x_ctx_head = (x->x_ctx_head + 1) % MELODYNET_CTX;
    }
}

/* Switches to model (for which this object already counts as a registry user): a new session
 * with the old sampler settings and PRNG state, conditioned on the recent events so a melody
 * in progress goes on. On failure the old session stays. */
static int melodynet_use_model(t_melodynet *x, mn_model *model, const char *path)
{
    char err[MN_ERR_LEN];
    mn_session *ns = NULL;
    if (mn_session_new(model, x->x_seed, &ns, err) != MN_OK) {
        mnpd_model_release(model);
        mnpd_error(x, cls, x->x_out_info, err);
        return -1;
    }
    if (x->x_session) *mn_session_rng(ns) = *mn_session_rng(x->x_session);
    *mn_session_sampler(ns) = x->x_st.s_sampler;
    mn_session_reset(ns);
    for (int i = 0; i < x->x_ctx_n; i++)
        mn_session_feed(ns, &x->x_ctx[(x->x_ctx_head + i) % MELODYNET_CTX]);
    mn_session_free(x->x_session);
    mnpd_model_release(x->x_model);
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
}

/*=== priming and generating =================================================================*/

static int melodynet_ready(t_melodynet *x)
{
    if (x->x_session) return 1;
    mnpd_error(x, cls, x->x_out_info, "no model loaded");
    return 0;
}

static void melodynet_clear(t_melodynet *x)
{
    mn_session_reset(x->x_session);
    x->x_ctx_head = x->x_ctx_n = 0;
    mnpd_hist_clear(&x->x_hist);
}

static void melodynet_feed(t_melodynet *x, const mn_event *e)
{
    mn_session_feed(x->x_session, e);
    melodynet_ctx_push(x, e);
    if (e->pitch >= 0 && e->pitch <= 127) x->x_last_pitch = e->pitch;
}

/* Samples one note, records it and sends it. Never allocates. */
static void melodynet_emit(t_melodynet *x, mn_event *e)
{
    mn_session_sample(x->x_session, e);
    melodynet_ctx_push(x, e);
    mnpd_hist_push(&x->x_hist, e);
    int shown = x->x_last_pitch;
    if (e->pitch >= 0 && e->pitch <= 127) shown = x->x_last_pitch = e->pitch;
    mnpd_outlet_note(x->x_out_note, e, shown, x->x_st.s_bpm);
}

static void melodynet_bang(t_melodynet *x)
{
    mn_event e;
    if (melodynet_ready(x)) melodynet_emit(x, &e);
}

/* A seed melody: reset, then each pitch as a note of one beat. */
static void melodynet_seed(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    int pitches[MNPD_LIST_MAX];
    int n = mnpd_parse_pitches(x, cls, argc, argv, pitches);
    if (n < 0 || !melodynet_ready(x)) return;
    melodynet_clear(x);
    for (int i = 0; i < n; i++) {
        mn_event e = {pitches[i], 90, MN_TPQ, 0, 0};
        melodynet_feed(x, &e);
    }
}

static void melodynet_list(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (argc == 0) melodynet_bang(x);
    else melodynet_seed(x, s, argc, argv);
}

static void melodynet_generate(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    double f = argc == 1 && argv[0].a_type == A_FLOAT ? argv[0].a_w.w_float : -1;
    if (argc != 1 || argv[0].a_type != A_FLOAT || f != (int)f || f < 1 || f > MNPD_GENERATE_MAX) {
        pd_error(x, "%s: generate expects a count 1..%d", cls, MNPD_GENERATE_MAX);
        return;
    }
    if (!melodynet_ready(x)) return;
    for (int i = 0; i < (int)f && x->x_session; i++) {
        mn_event e;
        melodynet_emit(x, &e);
    }
}

static void melodynet_listen(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    mn_event e;
    if (mnpd_parse_listen(x, cls, argc, argv, &e) || !melodynet_ready(x)) return;
    melodynet_feed(x, &e);
}

static void melodynet_reset(t_melodynet *x)
{
    if (x->x_session) melodynet_clear(x);
}

static void melodynet_randomseed(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    uint64_t seed;
    if (mnpd_parse_seed(x, cls, "randomseed", argc == 1 ? argv : NULL, &seed)) return;
    x->x_seed = seed;
    if (x->x_session) mn_session_seed(x->x_session, seed);
}

static void melodynet_param(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    if (mnpd_settings_message(x, cls, &x->x_st, 0, s, argc, argv) > 0 && x->x_session)
        *mn_session_sampler(x->x_session) = x->x_st.s_sampler;
}

/*=== play ===================================================================================*/

static void melodynet_tick(t_melodynet *x)
{
    if (!x->x_playing) return;
    if (!x->x_session) {
        x->x_playing = 0;
        mnpd_error(x, cls, x->x_out_info, "no model loaded");
        return;
    }
    mn_event e;
    /* sample first, schedule, then output, so a stop sent from downstream wins */
    mn_session_sample(x->x_session, &e);
    clock_delay(x->x_clock, mnpd_ticks_ms(e.dur_ticks, x->x_st.s_bpm));
    melodynet_ctx_push(x, &e);
    mnpd_hist_push(&x->x_hist, &e);
    int shown = x->x_last_pitch;
    if (e.pitch >= 0 && e.pitch <= 127) shown = x->x_last_pitch = e.pitch;
    mnpd_outlet_note(x->x_out_note, &e, shown, x->x_st.s_bpm);
}

static void melodynet_play(t_melodynet *x)
{
    if (!melodynet_ready(x)) return;
    if (x->x_playing) return;
    x->x_playing = 1;
    melodynet_tick(x);
}

static void melodynet_stop(t_melodynet *x)
{
    x->x_playing = 0;
    clock_unset(x->x_clock);
}

/*=== files ==================================================================================*/

static void melodynet_load(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    char path[MNPD_PATH_LEN];
    if (!mnpd_find_file(x, cls, x->x_out_info, x->x_canvas, melodynet_class, "load", argc, argv, path))
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
    melodynet_clear(x);
    size_t n = r->r_melody.n, first = n > MNPD_PRIME_MAX ? n - MNPD_PRIME_MAX : 0;
    for (size_t i = first; i < n; i++) melodynet_feed(x, &r->r_melody.ev[i]);
    char msg[MNPD_PATH_LEN + 32];
    snprintf(msg, sizeof msg, "%s %zu", r->r_path, n - first);
    mnpd_status(x->x_out_info, "read", msg);
}

static void melodynet_read(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    mnpd_read(x, cls, x->x_out_info, x->x_canvas, x->x_read, argc, argv);
}

static void melodynet_write(t_melodynet *x, t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_symbol *f = mnpd_file_arg(x, cls, "write", argc, argv);
    if (f) mnpd_hist_write(x, cls, x->x_canvas, x->x_out_info, &x->x_hist, x->x_st.s_bpm, f);
}

static void melodynet_info(t_melodynet *x)
{
    mnpd_info(cls, x->x_out_info, x->x_session ? x->x_model : NULL, x->x_path, &x->x_st,
              x->x_seed, x->x_hist.h_total);
    mnpd_info_line(cls, x->x_out_info, "playing", "%d", x->x_playing);
    mnpd_info_line(cls, x->x_out_info, "loading", "%d",
                   mnpd_job_busy(x->x_load) || mnpd_job_busy(x->x_read));
}

/*=== new / free / setup =====================================================================*/

static void *melodynet_new(t_symbol *s, int argc, t_atom *argv)
{
    (void)s;
    t_melodynet *x = (t_melodynet *)pd_new(melodynet_class);
    x->x_canvas = canvas_getcurrent();
    x->x_out_note = outlet_new(&x->x_obj, &s_list);
    x->x_out_info = outlet_new(&x->x_obj, &s_anything);
    mnpd_settings_default(&x->x_st);
    x->x_seed = mnpd_makeseed();
    x->x_last_pitch = MELODYNET_NO_PITCH;
    mnpd_hist_init(&x->x_hist);
    x->x_clock = clock_new(x, (t_method)melodynet_tick);
    x->x_load = mnpd_job_new(x, melodynet_load_done);
    x->x_read = mnpd_job_new(x, melodynet_read_done);

    char path[MNPD_PATH_LEN];
    if (!mnpd_creation_args(x, cls, x->x_canvas, melodynet_class, argc, argv, &x->x_seed, path))
        melodynet_load_path(x, path, 0);
    return x;
}

static void melodynet_free(t_melodynet *x)
{
    clock_free(x->x_clock);
    mnpd_job_free(x->x_load);
    mnpd_job_free(x->x_read);
    mn_session_free(x->x_session);
    mnpd_model_release(x->x_model);
    mnpd_hist_free(&x->x_hist);
}

void melodynet_setup(void)
{
    mnpd_setup();
    melodynet_class = class_new(gensym("melodynet"), (t_newmethod)(void (*)(void))melodynet_new,
                                (t_method)melodynet_free, sizeof(t_melodynet), 0, A_GIMME, 0);
    t_class *c = melodynet_class;
    class_addbang(c, melodynet_bang);
    class_addlist(c, melodynet_list);
    class_addmethod(c, (t_method)melodynet_seed, gensym("seed"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_generate, gensym("generate"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_listen, gensym("listen"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_reset, gensym("reset"), 0);
    class_addmethod(c, (t_method)melodynet_randomseed, gensym("randomseed"), A_GIMME, 0);
    const char *params[] = {"temperature", "topk", "topp", "scale", "range", "rest", "bpm",
                            "velocity", "accent", "motif"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        class_addmethod(c, (t_method)melodynet_param, gensym(params[i]), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_play, gensym("play"), 0);
    class_addmethod(c, (t_method)melodynet_stop, gensym("stop"), 0);
    class_addmethod(c, (t_method)melodynet_load, gensym("load"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_read, gensym("read"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_write, gensym("write"), A_GIMME, 0);
    class_addmethod(c, (t_method)melodynet_info, gensym("info"), 0);
}
