/* test_session.c - the LSTM forward pass against a PyTorch reference (tests/fixtures/ref, made by
 * tests/reference/make_ref.py), no allocation after mn_session_new, reset and seeding
 * reproducibility, and sampling within the sampler's settings. */
#include "testutil.h"

#include "model.h"
#include "session.h"

#include <math.h>

#define REF_VERSION 1
#define ATOL 1e-5
#define RTOL 1e-5
#define MAX_REF_EVENTS 64

typedef struct {
    int reset, pitch, dur_ticks, pos, bar, dur_token;
    float pitch_logits[MN_N_PITCH];
    float dur_logits[MN_MAX_DUR];
} ref_event;

typedef struct {
    int L, H, E, n_pos, n_dur;
    int durations[MN_MAX_DUR];
    int n;
    ref_event ev[MAX_REF_EVENTS];
} ref_data;

static ref_data ref;
static mn_model *model;

static void read_floats(FILE *f, const char *tag, float *v, int n)
{
    char word[32];
    assert_int_equal(fscanf(f, "%31s", word), 1);
    assert_string_equal(word, tag);
    for (int i = 0; i < n; i++) assert_int_equal(fscanf(f, "%f", &v[i]), 1);
}

static int setup(void **state)
{
    (void)state;
    char path[1024], err[MN_ERR_LEN];
    FILE *f = fopen(mn_test_path(path, sizeof path, "tests/fixtures/ref/small_logits.txt"), "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    int version = 0;
    if (fscanf(f, "melodynet-ref-logits %d config %d %d %d %d %d durations", &version, &ref.L,
               &ref.H, &ref.E, &ref.n_pos, &ref.n_dur) != 6 ||
        version != REF_VERSION || ref.n_dur < 1 || ref.n_dur > MN_MAX_DUR) {
        fprintf(stderr, "%s: unexpected header (version %d)\n", path, version);
        fclose(f);
        return -1;
    }
    for (int i = 0; i < ref.n_dur; i++)
        if (fscanf(f, "%d", &ref.durations[i]) != 1) return -1;
    if (fscanf(f, " events %d", &ref.n) != 1 || ref.n < 1 || ref.n > MAX_REF_EVENTS) return -1;
    for (int k = 0; k < ref.n; k++) {
        ref_event *e = &ref.ev[k];
        if (fscanf(f, " ev %d %d %d %d %d %d", &e->reset, &e->pitch, &e->dur_ticks, &e->pos,
                   &e->bar, &e->dur_token) != 6)
            return -1;
        read_floats(f, "pitch", e->pitch_logits, MN_N_PITCH);
        read_floats(f, "dur", e->dur_logits, ref.n_dur);
    }
    fclose(f);
    if (mn_model_load(mn_test_path(path, sizeof path, "tests/fixtures/ref/small.mnet"), &model,
                      err) != MN_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mn_model_free(model);
    model = NULL;
    return 0;
}

static void test_config_matches_reference(void **state)
{
    (void)state;
    const mn_model_config *cfg = mn_model_cfg(model);
    assert_int_equal(cfg->n_layers, ref.L);
    assert_int_equal(cfg->n_hidden, ref.H);
    assert_int_equal(cfg->n_embed, ref.E);
    assert_int_equal(cfg->n_pos, ref.n_pos);
    assert_int_equal(cfg->dur.n, ref.n_dur);
    for (int i = 0; i < ref.n_dur; i++) assert_int_equal(cfg->dur.ticks[i], ref.durations[i]);
}

static double check(const float *got, const float *want, int n, const char *what, int step)
{
    double max_err = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > max_err) max_err = d;
        if (d > ATOL + RTOL * fabs((double)want[i]))
            fail_msg("step %d %s logit %d: got %.9g, reference %.9g", step, what, i, got[i],
                     want[i]);
    }
    return max_err;
}

/* Runs the reference sequence through the low-level calls and checks every logit. */
static void test_logits_match_pytorch(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 1, &s, err), MN_OK);
    double max_p = 0, max_d = 0;
    for (int k = 0; k < ref.n; k++) {
        const ref_event *r = &ref.ev[k];
        if (r->reset) mn_session_reset(s);
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        if (k > 0 && !r->reset) assert_int_equal(pos, r->pos); /* the clock followed */
        const float *pl = mn_session_pitch_logits(s, r->pos, r->bar);
        double e = check(pl, r->pitch_logits, MN_N_PITCH, "pitch", k);
        if (e > max_p) max_p = e;
        const float *dl = mn_session_dur_logits(s, r->pitch);
        e = check(dl, r->dur_logits, ref.n_dur, "duration", k);
        if (e > max_d) max_d = e;
        mn_event ev = {r->pitch, r->pitch == MN_REST ? 0 : 80, r->dur_ticks, r->pos, r->bar};
        mn_session_commit(s, &ev);
    }
    printf("    reference check: %d steps, max |error| pitch %.3g, duration %.3g\n", ref.n, max_p,
           max_d);
    mn_session_free(s);
}

/* Asking for the logits twice, or at another position first, must not step twice. */
static void test_repeated_logits_do_not_step(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 1, &s, err), MN_OK);
    for (int k = 0; k < 6; k++) {
        const ref_event *r = &ref.ev[k];
        mn_session_pitch_logits(s, r->pos + 5, r->bar);
        mn_session_pitch_logits(s, r->pos, r->bar);
        const float *pl = mn_session_pitch_logits(s, r->pos, r->bar);
        check(pl, r->pitch_logits, MN_N_PITCH, "pitch", k);
        mn_event ev = {r->pitch, 80, r->dur_ticks, r->pos, r->bar};
        mn_session_commit(s, &ev);
    }
    mn_session_free(s);
}

/* Feeding without asking for logits, then scoring, gives the reference distribution. */
static void test_feed_then_score(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 1, &s, err), MN_OK);
    mn_session_sampler(s)->motif = 0; /* the reference is the network alone */
    int k_end = 10;
    for (int k = 0; k < k_end; k++) {
        const ref_event *r = &ref.ev[k];
        /* bar_ticks 0: the event takes its place from the clock */
        mn_event ev = {r->pitch, 80, r->dur_ticks, 0, 0};
        if (k < k_end - 1) {
            mn_session_feed(s, &ev);
            continue;
        }
        double bp = -1, bd = -1;
        int am = -1;
        mn_session_score(s, &ev, &bp, &bd, &am);
        assert_true(fabs(bp - mn_neglog2_softmax(r->pitch_logits, MN_N_PITCH, r->pitch)) < 1e-4);
        assert_true(fabs(bd - mn_neglog2_softmax(r->dur_logits, ref.n_dur, r->dur_token)) < 1e-4);
        int best = 0;
        for (int i = 1; i < MN_N_PITCH; i++)
            if (r->pitch_logits[i] > r->pitch_logits[best]) best = i;
        assert_int_equal(am, best);
    }
    mn_session_free(s);
}

static void test_no_allocations_after_new(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 7, &s, err), MN_OK);
    mn_test_count_allocs();
    mn_test_alloc_count = 0;
    mn_event ev = {60, 90, 24, 0, 0}, out;
    for (int k = 0; k < 50; k++) {
        mn_session_feed(s, &ev);
        mn_session_sample(s, &out);
        double bp, bd;
        int am;
        mn_session_score(s, &ev, &bp, &bd, &am);
        mn_session_pitch_logits(s, 3, 96);
        mn_session_dur_logits(s, 64);
        mn_session_commit(s, &out);
    }
    mn_session_reset(s);
    mn_session_set_clock(s, 12, 72);
    mn_session_seed(s, 3);
    size_t n = mn_test_alloc_count;
    mn_set_allocator(NULL);
    assert_int_equal(n, 0);
    mn_session_free(s);
}

static void sample_run(mn_session *s, mn_event *out, int n)
{
    mn_event prime[3] = {{60, 90, 24, 0, 96}, {62, 90, 12, 24, 96}, {64, 90, 12, 36, 96}};
    for (int i = 0; i < 3; i++) mn_session_feed(s, &prime[i]);
    for (int i = 0; i < n; i++) mn_session_sample(s, &out[i]);
}

static void test_reset_and_seed_reproduce(void **state)
{
    (void)state;
    mn_session *a = NULL, *b = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 42, &a, err), MN_OK);
    assert_int_equal(mn_session_new(model, 42, &b, err), MN_OK);
    mn_event ra[40], rb[40], rc[40];
    sample_run(a, ra, 40);
    sample_run(b, rb, 40);
    assert_memory_equal(ra, rb, sizeof ra);
    mn_session_reset(a);
    mn_session_seed(a, 42);
    sample_run(a, rc, 40);
    assert_memory_equal(ra, rc, sizeof ra);
    /* a different seed gives a different melody (40 draws from a broad distribution) */
    mn_session_reset(b);
    mn_session_seed(b, 43);
    sample_run(b, rc, 40);
    assert_memory_not_equal(ra, rc, sizeof ra);
    mn_session_free(a);
    mn_session_free(b);
}

static void test_sample_respects_settings(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 5, &s, err), MN_OK);
    mn_sampler *sp = mn_session_sampler(s);
    sp->pitch_lo = 60;
    sp->pitch_hi = 72;
    sp->allow_rest = 0;
    sp->velocity_lo = 50;
    sp->velocity_hi = 70;
    assert_int_equal(mn_sampler_validate(sp, err), MN_OK);
    const mn_model_config *cfg = mn_model_cfg(model);
    mn_session_set_clock(s, 0, 72);
    for (int i = 0; i < 200; i++) {
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        mn_event e;
        mn_session_sample(s, &e);
        assert_in_range(e.pitch, 60, 72);
        assert_in_range(e.velocity, 50, 70);
        assert_int_equal(e.pos_ticks, pos);
        assert_int_equal(e.bar_ticks, 72);
        int in_table = 0;
        for (int k = 0; k < cfg->dur.n; k++) in_table |= cfg->dur.ticks[k] == e.dur_ticks;
        assert_true(in_table);
        int next;
        mn_session_clock(s, &next, &bar);
        assert_int_equal(next, (pos + e.dur_ticks) % 72);
    }
    mn_session_free(s);
}

static void test_clock(void **state)
{
    (void)state;
    mn_session *s = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 5, &s, err), MN_OK);
    int pos, bar;
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(pos, 0);
    assert_int_equal(bar, MN_DEFAULT_BAR_TICKS);
    mn_session_set_clock(s, 100, 72);
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(pos, 28);
    assert_int_equal(bar, 72);
    mn_session_set_clock(s, 5, 0);
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(bar, MN_DEFAULT_BAR_TICKS);
    assert_int_equal(pos, 5);
    mn_event e = {60, 90, 24, 0, 0};
    mn_session_feed(s, &e);
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(pos, 29);
    mn_event placed = {60, 90, 48, 60, 72};
    mn_session_feed(s, &placed);
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(pos, 36);
    assert_int_equal(bar, 72);
    mn_session_reset(s);
    mn_session_clock(s, &pos, &bar);
    assert_int_equal(pos, 0);
    mn_session_free(s);
}

static void test_session_keeps_model_alive(void **state)
{
    (void)state;
    char path[1024], err[MN_ERR_LEN];
    mn_model *m = NULL;
    assert_int_equal(mn_model_load(mn_test_path(path, sizeof path, "tests/fixtures/ref/small.mnet"),
                                   &m, err), MN_OK);
    mn_session *s = NULL;
    assert_int_equal(mn_session_new(m, 1, &s, err), MN_OK);
    mn_model_free(m); /* the session still holds a reference */
    assert_ptr_equal(mn_session_model(s), m);
    mn_event e;
    mn_session_sample(s, &e);
    assert_in_range(e.pitch, 0, MN_REST);
    mn_session_free(s);
    mn_session_free(NULL);
    assert_int_equal(mn_session_new(NULL, 1, &s, err), MN_ERR_ARG);
    assert_null(s);
}

/* Pitch logits of a fixed 12-step melody from reset, into out[12][MN_N_PITCH]. */
static void melody_logits(mn_session *s, float (*out)[MN_N_PITCH])
{
    static const int scale[12] = {60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65};
    mn_session_reset(s);
    for (int k = 0; k < 12; k++) {
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        memcpy(out[k], mn_session_pitch_logits(s, pos, bar), sizeof out[k]);
        mn_event e = {scale[k], 90, 24, pos, bar};
        mn_session_commit(s, &e);
    }
}

/* Once loaded, the model does not depend on its file: rewriting the file in place (NaNs over
 * the weights, as `cp new.mnet m.mnet` or a sync client would) and truncating it leave the
 * logits of a playing session exactly as they were, and nothing crashes. */
static void test_model_survives_its_file_changing(void **state)
{
    (void)state;
    char src[1024], tmp[64], err[MN_ERR_LEN];
    FILE *f = fopen(mn_test_path(src, sizeof src, "tests/fixtures/ref/small.mnet"), "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 1000 && len < sizeof buf);
    mn_test_tmpfile(tmp, sizeof tmp, ".mnet");
    assert_int_equal(mn_test_write(tmp, buf, len), 0);

    mn_model *m = NULL;
    mn_session *s = NULL;
    assert_int_equal(mn_model_load(tmp, &m, err), MN_OK);
    assert_int_equal(mn_session_new(m, 1, &s, err), MN_OK);
    mn_model_free(m);
    static float before[12][MN_N_PITCH], after[12][MN_N_PITCH];
    melody_logits(s, before);

    /* in place: same inode, every byte after the header length turned into NaN patterns */
    f = fopen(tmp, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 8, SEEK_SET), 0);
    static unsigned char nan_bytes[1 << 20];
    for (size_t i = 0; i + 4 <= sizeof nan_bytes; i += 4) {
        float v = NAN;
        memcpy(nan_bytes + i, &v, 4);
    }
    assert_int_equal(fwrite(nan_bytes, 1, len - 8, f), len - 8);
    assert_int_equal(fclose(f), 0);
    melody_logits(s, after);
    assert_memory_equal(before, after, sizeof before);

    assert_int_equal(truncate(tmp, 100), 0);
    melody_logits(s, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(truncate(tmp, 0), 0);
    melody_logits(s, after);
    assert_memory_equal(before, after, sizeof before);
    mn_session_free(s);
    unlink(tmp);
}

/*=== history ================================================================================*/

/* Fed and sampled events go into the history, placed, in order; reset empties it. */
static void test_history_records_events(void **state)
{
    (void)state;
    mn_session *s;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 3, &s, err), MN_OK);
    mn_event primer[3] = {{60, 90, 24, 0, 0}, {62, 90, 12, 0, 0}, {MN_REST, 0, 12, 0, 0}};
    for (int i = 0; i < 3; i++) mn_session_feed(s, &primer[i]);
    mn_event got[5];
    mn_test_sample_n(s, got, 5);
    assert_int_equal(mn_session_history_len(s), 8);
    assert_int_equal(mn_session_notes(s), 5);
    int pos = 0;
    for (int i = 0; i < 3; i++) {
        const mn_hist_entry *h = mn_session_history_at(s, (size_t)i);
        assert_int_equal(h->sampled, 0);
        assert_int_equal(h->ev.pitch, primer[i].pitch);
        assert_int_equal(h->ev.pos_ticks, pos); /* placed by the clock */
        assert_int_equal(h->ev.bar_ticks, MN_DEFAULT_BAR_TICKS);
        pos += primer[i].dur_ticks;
    }
    for (int i = 0; i < 5; i++) {
        const mn_hist_entry *h = mn_session_history_at(s, (size_t)(3 + i));
        assert_int_equal(h->sampled, 1);
        mn_test_assert_events_equal(&h->ev, &got[i], 1);
    }
    mn_event notes[8];
    assert_int_equal(mn_session_sampled(s, notes, 8), 5);
    mn_test_assert_events_equal(notes, got, 5);
    assert_int_equal(mn_session_sampled(s, notes, 2), 2);
    mn_session_reset(s);
    assert_int_equal(mn_session_history_len(s), 0);
    assert_int_equal(mn_session_notes(s), 0);
    mn_session_free(s);
}

/* The history keeps the latest MN_SESSION_HIST events; the note count keeps counting. */
static void test_history_is_bounded(void **state)
{
    (void)state;
    mn_session *s;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 4, &s, err), MN_OK);
    int n = MN_SESSION_HIST + 37;
    for (int i = 0; i < n; i++) {
        mn_event e = {40 + i % 50, 90, 12, 0, 0};
        mn_session_feed(s, &e);
    }
    mn_event last;
    mn_session_sample(s, &last);
    assert_int_equal(mn_session_history_len(s), MN_SESSION_HIST);
    assert_int_equal(mn_session_notes(s), 1);
    /* the oldest held is event 38 of the fed ones (37 + 1 sampled pushed out) */
    assert_int_equal(mn_session_history_at(s, 0)->ev.pitch, 40 + 38 % 50);
    mn_test_assert_events_equal(&mn_session_history_at(s, MN_SESSION_HIST - 1)->ev, &last, 1);
    mn_session_free(s);
}

/* Truncating the latest notes rewinds the PRNG and the network: the same notes come again. */
static void test_truncate_rewinds(void **state)
{
    (void)state;
    mn_session *s;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 11, &s, err), MN_OK);
    mn_event primer = {67, 90, 24, 0, 0};
    mn_session_feed(s, &primer);
    mn_event first[12], again[5];
    mn_test_sample_n(s, first, 12);
    mn_session_truncate(s, 5);
    assert_int_equal(mn_session_history_len(s), 8);
    assert_int_equal(mn_session_notes(s), 7);
    mn_test_sample_n(s, again, 5);
    mn_test_assert_events_equal(again, first + 7, 5);
    assert_int_equal(mn_session_notes(s), 12);
    /* truncating nothing rebuilds from the history and changes nothing that follows */
    mn_event next[4], ref[4];
    mn_session *r;
    assert_int_equal(mn_session_new(model, 11, &r, err), MN_OK);
    mn_session_feed(r, &primer);
    mn_event skip[12];
    mn_test_sample_n(r, skip, 12);
    mn_test_sample_n(r, ref, 4);
    mn_session_truncate(s, 0);
    mn_test_sample_n(s, next, 4);
    mn_test_assert_events_equal(next, ref, 4);
    mn_session_free(r);
    mn_session_free(s);
}

/* A melody moved onto another session goes on as it would have in the first. */
static void test_adopt_moves_the_melody(void **state)
{
    (void)state;
    mn_session *a, *b, *c;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 21, &a, err), MN_OK);
    assert_int_equal(mn_session_new(model, 21, &b, err), MN_OK);
    assert_int_equal(mn_session_new(model, 999, &c, err), MN_OK);
    mn_event primer[2] = {{60, 90, 24, 0, 0}, {64, 90, 24, 0, 0}};
    for (int i = 0; i < 2; i++) {
        mn_session_feed(a, &primer[i]);
        mn_session_feed(b, &primer[i]);
    }
    mn_event x[10], y[10];
    mn_test_sample_n(a, x, 10);
    mn_test_sample_n(b, y, 6);
    mn_session_adopt(c, b); /* c's own seed is replaced by b's PRNG state */
    assert_int_equal(mn_session_history_len(c), 8);
    assert_int_equal(mn_session_notes(c), 6);
    mn_test_sample_n(c, y + 6, 4);
    mn_test_assert_events_equal(x, y, 10);
    mn_session_free(a);
    mn_session_free(b);
    mn_session_free(c);
}

/* The rebuild replays the latest MN_SESSION_REPLAY events: the state equals that of a session
 * fed only those. Appended events are placed by the clock when replayed. */
static void test_rebuild_uses_latest_events(void **state)
{
    (void)state;
    mn_session *a, *b;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 5, &a, err), MN_OK);
    assert_int_equal(mn_session_new(model, 5, &b, err), MN_OK);

    for (int i = 0; i < 100; i++) {
        mn_event e = {50 + (i * 7) % 30, 90, i % 3 ? 12 : 24, 0, 0};

        mn_session_feed(a, &e);
    }
    mn_event extra = {72, 90, 24, 0, 0};
    mn_session_append(a, &extra);
    mn_session_replay(a);
    /* b: the last 63 fed events, placed as a placed them, then extra after them */
    for (int i = 100 - (MN_SESSION_REPLAY - 1); i < 100; i++)
        mn_session_feed(b, &mn_session_history_at(a, (size_t)i)->ev);
    mn_session_feed(b, &extra);
    mn_test_assert_events_equal(&mn_session_history_at(a, 100)->ev, &mn_session_history_at(b, 63)->ev, 1);
    const float *ha, *hb, *ca, *cb;
    size_t n;
    mn_session_state(a, &ha, &ca, &n);
    mn_session_state(b, &hb, &cb, &n);
    assert_memory_equal(ha, hb, n * sizeof *ha);
    assert_memory_equal(ca, cb, n * sizeof *ca);
    mn_session_free(a);
    mn_session_free(b);
}

/* Recording, truncating, appending and rebuilding never allocate. */
static void test_history_does_not_allocate(void **state)
{
    (void)state;
    mn_session *s, *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 8, &s, err), MN_OK);
    assert_int_equal(mn_session_new(model, 9, &t, err), MN_OK);
    mn_test_count_allocs();
    size_t before = mn_test_alloc_count;
    mn_event e[MN_SESSION_HIST + 10];
    mn_test_sample_n(s, e, MN_SESSION_HIST + 10);
    mn_session_truncate(s, 20);
    mn_session_append(s, &e[0]);
    mn_session_replay(s);
    mn_session_adopt(t, s);
    mn_session_push(t, mn_session_history_at(s, 3));
    assert_int_equal(mn_test_alloc_count, before);
    mn_set_allocator(NULL);
    mn_session_free(s);
    mn_session_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_matches_reference),
        cmocka_unit_test(test_logits_match_pytorch),
        cmocka_unit_test(test_repeated_logits_do_not_step),
        cmocka_unit_test(test_feed_then_score),
        cmocka_unit_test(test_no_allocations_after_new),
        cmocka_unit_test(test_reset_and_seed_reproduce),
        cmocka_unit_test(test_sample_respects_settings),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_session_keeps_model_alive),
        cmocka_unit_test(test_model_survives_its_file_changing),
        cmocka_unit_test(test_history_records_events),
        cmocka_unit_test(test_history_is_bounded),
        cmocka_unit_test(test_truncate_rewinds),
        cmocka_unit_test(test_adopt_moves_the_melody),
        cmocka_unit_test(test_rebuild_uses_latest_events),
        cmocka_unit_test(test_history_does_not_allocate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
