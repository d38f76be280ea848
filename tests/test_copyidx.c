/* test_copyidx.c - the copy guard's index: exact answers against a brute-force search, runs never
 * crossing from one tune into the next, the file round trip and hostile files, `similar`, and in
 * a session the guard holding under scale, range, top-k/p and the motif memory. */
#include "testutil.h"

#include <math.h>

#include "copyidx.h"
#include "model.h"
#include "sampler.h"
#include "session.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}

/* A tune from intervals (from pitch 60, reflected into 30..100), a rest now and then. */
static void tune_from(mn_melody *m, const int *iv, size_t n)
{
    mn_melody_init(m);
    int p = 60, pos = 0;
    mn_event e = {p, 90, 12, 0, 96};
    assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
    for (size_t i = 0; i < n; i++) {
        pos = (pos + 12) % 96;
        if (rnd() % 7 == 0) {
            mn_event r = {MN_REST, 0, 12, pos, 96};
            assert_int_equal(mn_melody_push(m, &r, NULL), MN_OK);
            pos = (pos + 12) % 96;
        }
        p += iv[i];
        assert_true(p >= 0 && p <= 127);
        mn_event x = {p, 90, 12, pos, 96};
        assert_int_equal(mn_melody_push(m, &x, NULL), MN_OK);
    }
}

typedef struct {
    int iv[3][400];
    size_t n[3];
    mn_melody mel[3];
} corpus;

static void random_corpus(corpus *c)
{
    for (int t = 0; t < 3; t++) {
        c->n[t] = 100 + rnd() % 300;
        int p = 60;
        for (size_t i = 0; i < c->n[t]; i++) {
            int d = (int)(rnd() % 5) - 2;
            if (p + d < 40 || p + d > 80) d = -d;
            c->iv[t][i] = d;
            p += d;
        }
        tune_from(&c->mel[t], c->iv[t], c->n[t]);
    }
}

static int brute_contains(const corpus *c, const int *w, int len)
{
    for (int t = 0; t < 3; t++)
        for (size_t s = 0; s + (size_t)len <= c->n[t]; s++)
            if (!memcmp(c->iv[t] + s, w, (size_t)len * sizeof *w)) return 1;
    return 0;
}

static void free_corpus(corpus *c)
{
    for (int t = 0; t < 3; t++) mn_melody_free(&c->mel[t]);
}

static void test_exact_against_brute_force(void **state)
{
    (void)state;
    corpus c;
    random_corpus(&c);
    const char *names[3] = {"first", "second", "third"};
    mn_copyidx *ix;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_copyidx_build(c.mel, 3, names, &ix, err), MN_OK);
    assert_int_equal(mn_copyidx_n_tunes(ix), 3);
    assert_int_equal(mn_copyidx_n_intervals(ix), c.n[0] + c.n[1] + c.n[2]);
    assert_string_equal(mn_copyidx_name(ix, 1), "second");
    for (int q = 0; q < 4000; q++) {
        int w[12], len = 1 + (int)(rnd() % 12);
        if (q % 2) { /* a piece of a tune, perhaps changed at one place */
            int t = (int)(rnd() % 3);
            size_t s = rnd() % (c.n[t] - 12);
            memcpy(w, c.iv[t] + s, sizeof w);
            if (q % 4 == 1) w[rnd() % (unsigned)len] += 1;
        } else {
            for (int i = 0; i < len; i++) w[i] = (int)(rnd() % 5) - 2;
        }
        assert_int_equal(mn_copyidx_contains(ix, w, len), brute_contains(&c, w, len));
        unsigned char next[255];
        int k = len - 1, count = mn_copyidx_next(ix, w, k, next), want = 0;
        for (int d = -127; d <= 127; d++) {
            int x[12];
            memcpy(x, w, sizeof x);
            x[k] = d;
            int b = brute_contains(&c, x, k + 1);
            want += b;
            if (next[d + 127] != b) fail_msg("next(%d) after %d intervals: %d, brute %d", d, k,
                                             next[d + 127], b);
        }
        assert_int_equal(count, want);
    }
    /* the end of one tune followed by the start of the next is no run */
    int seam[4] = {c.iv[0][c.n[0] - 2], c.iv[0][c.n[0] - 1], c.iv[1][0], c.iv[1][1]};
    assert_int_equal(mn_copyidx_contains(ix, seam, 4), brute_contains(&c, seam, 4));
    mn_copyidx_free(ix);
    free_corpus(&c);
}

static void test_file_round_trip_and_hostile(void **state)
{
    (void)state;
    corpus c;
    random_corpus(&c);
    mn_copyidx *ix, *back;
    char err[MN_ERR_LEN], path[512];
    assert_int_equal(mn_copyidx_build(c.mel, 3, NULL, &ix, err), MN_OK);
    mn_test_tmpfile(path, sizeof path, ".mncopy");
    assert_int_equal(mn_copyidx_save(ix, path, err), MN_OK);
    assert_int_equal(mn_copyidx_load(path, &back, err), MN_OK);
    assert_int_equal(mn_copyidx_file_bytes(back), mn_copyidx_file_bytes(ix));
    for (int q = 0; q < 500; q++) {
        int w[8];
        for (int i = 0; i < 8; i++) w[i] = (int)(rnd() % 5) - 2;
        assert_int_equal(mn_copyidx_contains(back, w, 1 + q % 8), mn_copyidx_contains(ix, w, 1 + q % 8));
    }
    FILE *f = fopen(path, "rb");
    uint8_t buf[4096];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(len, mn_copyidx_file_bytes(ix));
    struct {
        size_t at;
        int byte;   /* -1: cut the file at `at` */
        const char *msg;
    } bad[] = {
        {0, 'X', "not a melodynet copy index"},
        {len - 1, -1, "its header says"},
        {8, 9, "tune ends for 9 tunes"},
        {12, (int)((len - 20) & 0xff) + 1, "its header says"},
        {len - 1, 'a', "names for 3 tunes"},
        {20 + 5, 0x80, "tune ends for 3 tunes"},
        {10, 0xff, "tunes in"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        uint8_t copy[4096];
        memcpy(copy, buf, len);
        size_t l = len;
        if (bad[b].byte < 0) l = bad[b].at;
        else copy[bad[b].at] = (uint8_t)bad[b].byte;
        mn_copyidx *x = (mn_copyidx *)1;
        err[0] = 0;
        mn_status st = mn_copyidx_load_memory(copy, l, "hostile.mncopy", &x, err);
        assert_true(st == MN_ERR_FORMAT || st == MN_ERR_LIMIT);
        assert_null(x);
        if (!strstr(err, bad[b].msg) || !strstr(err, "hostile.mncopy"))
            fail_msg("case %zu: '%s', expected '%s'", b, err, bad[b].msg);
    }
    unlink(path);
    mn_copyidx_free(ix);
    mn_copyidx_free(back);
    free_corpus(&c);
}

static void test_similar(void **state)
{
    (void)state;
    /* tune 1 holds a 150-interval stretch (longer than the sorted depth) of the query */
    static int a[200], b[200], q[180];
    for (int i = 0; i < 200; i++) {
        a[i] = (int)(rnd() % 7) - 3;
        b[i] = (int)(rnd() % 7) - 3;
        if (60 + a[i] < 0) a[i] = 0;
    }
    int pa = 60, pb = 60;
    for (int i = 0; i < 200; i++) {
        if (pa + a[i] < 20 || pa + a[i] > 110) a[i] = -a[i];
        if (pb + b[i] < 20 || pb + b[i] > 110) b[i] = -b[i];
        pa += a[i];
        pb += b[i];
    }
    mn_melody mel[2];
    tune_from(&mel[0], a, 200);
    tune_from(&mel[1], b, 200);
    for (int i = 0; i < 180; i++) q[i] = 5; /* a leap of a fourth, repeated: in neither tune */
    memcpy(q + 20, b + 30, 150 * sizeof *q);
    memcpy(q + 2, a + 100, 12 * sizeof *q);
    const char *names[2] = {"tune a", "tune b"};
    mn_copyidx *ix;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_copyidx_build(mel, 2, names, &ix, err), MN_OK);
    mn_copy_run runs[4];
    size_t k = mn_copyidx_similar(ix, q, 180, runs, 4);
    assert_int_equal(k, 2);
    assert_int_equal(runs[0].tune, 1);
    assert_true(runs[0].len >= 150 && runs[0].query_start <= 20);
    assert_int_equal(runs[0].tune_start + (20 - runs[0].query_start), 30);
    assert_int_equal(runs[1].tune, 0);
    assert_true(runs[1].len >= 12 && runs[1].query_start <= 2);
    assert_int_equal(mn_copyidx_similar(ix, q, 180, runs, 1), 1);
    mn_copyidx_free(ix);
    mn_melody_free(&mel[0]);
    mn_melody_free(&mel[1]);
}

/* Writes small.mnet with a copy index of the tunes beside it; returns the model path. */
static const char *model_with_index(char *path, size_t n, char *ixpath, size_t nix,
                                    const mn_melody *tunes, size_t n_tunes)
{
    char p[512], err[MN_ERR_LEN];
    mn_model *m;
    assert_int_equal(mn_model_load(mn_test_path(p, sizeof p, "tests/fixtures/ref/small.mnet"),
                                   &m, err), MN_OK);
    mn_test_tmpfile(path, n, ".mnet");
    snprintf(ixpath, nix, "%s.mncopy", path);
    mn_copyidx *ix;
    assert_int_equal(mn_copyidx_build(tunes, n_tunes, NULL, &ix, err), MN_OK);
    assert_int_equal(mn_copyidx_save(ix, ixpath, err), MN_OK);
    mn_copyidx_free(ix);
    const char *meta[1][2] = {{"copy_index", strrchr(ixpath, '/') + 1}};
    assert_int_equal(mn_model_save(path, mn_model_cfg(m), mn_model_params(m),
                                   (const char *const(*)[2])meta, 1, err), MN_OK);
    mn_model_free(m);
    return path;
}

/* Longest run of the melody's intervals found in the corpus, by brute force. */
static int longest_in_corpus(const corpus *c, const int *iv, int n)
{
    int best = 0;
    for (int i = 0; i < n; i++)
        for (int len = best + 1; i + len <= n && brute_contains(c, iv + i, len); len++) best = len;
    return best;
}

static void test_guard_in_session(void **state)
{
    (void)state;
    corpus c;
    random_corpus(&c); /* small steps everywhere: a free melody copies runs of 3 at once */
    char path[512], ixpath[600], err[MN_ERR_LEN];
    model_with_index(path, sizeof path, ixpath, sizeof ixpath, c.mel, 3);
    mn_model *m;
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    const char *why;
    assert_non_null(mn_model_copyidx(m, &why));
    mn_session *s;
    assert_int_equal(mn_session_new(m, 3, &s, err), MN_OK);
    const mn_durtable *dt = &mn_model_cfg(m)->dur;
    uint16_t dmaj;
    assert_int_equal(mn_scale_mask("major", 2, &dmaj, err), MN_OK);
    for (int setting = 0; setting < 6; setting++) {
        for (int guard = 0; guard < 2; guard++) {
            int worst = 0;
            for (int mel = 0; mel < 10; mel++) {
                mn_session_reset(s);
                mn_session_seed(s, (uint64_t)(100 * setting + mel));
                mn_sampler *sp = mn_session_sampler(s);
                mn_sampler_default(sp);
                sp->max_copy = guard ? 2 : 0;
                sp->pitch_lo = 50;
                sp->pitch_hi = 70;
                if (setting == 1) sp->scale_on = 1, sp->scale_mask = dmaj;
                if (setting == 2) sp->top_k = 2;
                if (setting == 3) sp->top_p = 0.5f;
                if (setting == 4) sp->temperature = 0.3f;
                if (setting == 5) sp->allow_rest = 0;
                /* a primer of small steps, fed, as a user's seed melody */
                int iv[200], n_iv = 0, last = -1;
                for (int i = 0; i < 3; i++) {
                    mn_event e = {60 + i, 90, dt->ticks[0], 0, 0};
                    mn_session_feed(s, &e);
                    if (last >= 0) iv[n_iv++] = e.pitch - last;
                    last = e.pitch;
                }
                for (int i = 0; i < 120; i++) {
                    mn_event e;
                    mn_status st = mn_session_sample(s, &e);
                    assert_true(st == MN_OK || st == MN_ERR_LIMIT);
                    if (st == MN_ERR_LIMIT) assert_int_equal(e.pitch, MN_REST);
                    if (e.pitch == MN_REST) continue;
                    assert_true(e.pitch >= 50 && e.pitch <= 70);
                    if (last >= 0) iv[n_iv++] = e.pitch - last;
                    last = e.pitch;
                }
                int run = longest_in_corpus(&c, iv, n_iv);
                if (run > worst) worst = run;
            }
            if (guard) assert_true(worst <= 2);
            else assert_true(worst > 2); /* without the guard the runs are longer */
        }
    }
    double bits;
    size_t ev;
    mn_session_guard_cost(s, &bits, &ev);
    assert_true(ev == 6 * 10 * 120 && bits > 0);

    /* nothing legal: one pitch allowed, no rests, and every interval pair is in the corpus */
    mn_sampler *sp = mn_session_sampler(s);
    mn_sampler_default(sp);
    sp->max_copy = 1;
    sp->pitch_lo = sp->pitch_hi = 60;
    sp->allow_rest = 0;
    mn_session_reset(s);
    int limited = 0;
    for (int i = 0; i < 20; i++) {
        mn_event e;
        mn_status st = mn_session_sample(s, &e);
        if (st == MN_ERR_LIMIT) {
            limited++;
            assert_int_equal(e.pitch, MN_REST);
        } else {
            assert_int_equal(e.pitch, 60);
        }
    }
    assert_true(limited > 0);
    mn_session_free(s);
    mn_model_free(m);

    /* without an index the guard refuses to play notes, and says why */
    assert_int_equal(mn_model_load(mn_test_path(ixpath, sizeof ixpath,
                                                "tests/fixtures/ref/small.mnet"), &m, err), MN_OK);
    assert_null(mn_model_copyidx(m, &why));
    assert_non_null(strstr(why, "no copy_index"));
    assert_int_equal(mn_session_new(m, 1, &s, err), MN_OK);
    mn_session_sampler(s)->max_copy = 4;
    mn_event e;
    assert_int_equal(mn_session_sample(s, &e), MN_ERR_ARG);
    assert_int_equal(e.pitch, MN_REST);
    mn_session_free(s);
    mn_model_free(m);
    unlink(path);
    snprintf(ixpath, sizeof ixpath, "%s.mncopy", path);
    unlink(ixpath);
    free_corpus(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_against_brute_force),
        cmocka_unit_test(test_file_round_trip_and_hostile),
        cmocka_unit_test(test_similar),
        cmocka_unit_test(test_guard_in_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
