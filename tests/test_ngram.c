/* test_ngram.c - the Kneser-Ney baseline: both distributions sum to 1 at any history, training
 * on a repeated pattern makes it near-certain, unseen contexts back off, scores agree with the
 * distributions, adding melodies in any grouping gives the same model, save/load round-trips
 * exactly, and hostile files fail with a clear message and no leak. */
#include "testutil.h"

#include <math.h>

#include "ngram.h"

static const mn_durtable durs = {5, {3, 6, 12, 24, 48}};

/* A melody from (pitch, ticks) pairs; pitch MN_REST for a rest. */
static void make_melody(mn_melody *m, const int *pd, size_t n)
{
    mn_melody_init(m);
    for (size_t i = 0; i < n; i++) {
        mn_event e = {pd[2 * i], pd[2 * i] == MN_REST ? 0 : 90, pd[2 * i + 1], 0, 96};
        assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
    }
}

/* A pseudo-random tune (fixed LCG) so tests need no data files. */
static void random_melody(mn_melody *m, unsigned seed, size_t n)
{
    mn_melody_init(m);
    unsigned x = seed * 2654435761u + 1;
    int pitch = 64;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        int step = (int)((x >> 16) % 7) - 3;
        pitch += step;
        if (pitch < 55 || pitch > 80) pitch = 64;
        int is_rest = ((x >> 8) % 13) == 0;
        int ticks = durs.ticks[(x >> 20) % 5] + (int)((x >> 12) % 3) - 1; /* off-table too */
        mn_event e = {is_rest ? MN_REST : pitch, is_rest ? 0 : 90, ticks, 0, 96};
        assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
    }
}

static mn_ngram *new_model(int order)
{
    mn_ngram *g = NULL;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_ngram_new(order, &durs, &g, err), MN_OK);
    assert_non_null(g);
    return g;
}

static void check_sums(const mn_ngram *g, const int *phist, const int *dhist, size_t n)
{
    float pp[MN_N_PITCH], pd[MN_MAX_DUR];
    for (size_t h = 0; h <= n; h++) {
        mn_ngram_pitch_probs(g, phist, h, pp);
        double s = 0.0;
        for (int k = 0; k < MN_N_PITCH; k++) {
            assert_true(pp[k] > 0.0f); /* no class is impossible */
            s += pp[k];
        }
        assert_true(fabs(s - 1.0) < 1e-5);
        for (int pitch = 0; pitch <= MN_REST; pitch += 16) {
            mn_ngram_dur_probs(g, dhist, h, pitch == 128 ? MN_REST : pitch, pd);
            s = 0.0;
            for (int k = 0; k < durs.n; k++) {
                assert_true(pd[k] > 0.0f);
                s += pd[k];
            }
            assert_true(fabs(s - 1.0) < 1e-5);
        }
    }
}

static void test_new_and_args(void **state)
{
    (void)state;
    mn_ngram *g = (mn_ngram *)&g;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_ngram_new(0, &durs, &g, err), MN_ERR_ARG);
    assert_null(g);
    assert_non_null(strstr(err, "order"));
    assert_int_equal(mn_ngram_new(MN_NGRAM_MAX_ORDER + 1, &durs, &g, err), MN_ERR_ARG);
    mn_durtable bad = {2, {6, 6}};
    assert_int_not_equal(mn_ngram_new(3, &bad, &g, err), MN_OK);
    assert_non_null(strstr(err, "ascending"));
    g = new_model(MN_NGRAM_DEFAULT_ORDER);
    assert_int_equal(mn_ngram_order(g), MN_NGRAM_DEFAULT_ORDER);
    assert_int_equal(mn_ngram_durtable(g)->n, 5);
    assert_int_equal(mn_ngram_durtable(g)->ticks[4], 48);
    mn_ngram_free(g);
    mn_ngram_free(NULL);
}

static void test_empty_model_is_uniform(void **state)
{
    (void)state;
    mn_ngram *g = new_model(3);
    float pp[MN_N_PITCH], pd[MN_MAX_DUR];
    mn_ngram_pitch_probs(g, NULL, 0, pp);
    for (int k = 0; k < MN_N_PITCH; k++) assert_true(fabs(pp[k] - 1.0 / MN_N_PITCH) < 1e-7);
    mn_ngram_dur_probs(g, NULL, 0, 60, pd);
    for (int k = 0; k < durs.n; k++) assert_true(fabs(pd[k] - 0.2) < 1e-7);
    mn_melody m;
    random_melody(&m, 1, 10);
    double bp, bd;
    mn_ngram_score(g, &m, 3, &bp, &bd, NULL);
    assert_true(fabs(bp - log2(MN_N_PITCH)) < 1e-9);
    assert_true(fabs(bd - log2(5)) < 1e-9);
    mn_melody_free(&m);
    mn_ngram_free(g);
}

static void test_sums_to_one(void **state)
{
    (void)state;
    int phist[12] = {60, 62, 64, 65, MN_REST, 67, 200, 60, 62, 64, -3, 71};
    int dhist[12] = {1, 2, 3, 0, 1, 4, 9, 2, 1, 0, -1, 3}; /* 9 and -1: out of range, tolerated */
    for (int order = 1; order <= MN_NGRAM_MAX_ORDER; order++) {
        mn_ngram *g = new_model(order);
        for (unsigned s = 0; s < 20; s++) {
            mn_melody m;
            random_melody(&m, s, 200);
            assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
            mn_melody_free(&m);
        }
        check_sums(g, phist, dhist, 12);
        /* a history of unseen pitches */
        int odd[4] = {1, 2, 3, 4};
        check_sums(g, odd, dhist, 4);
        mn_ngram_free(g);
    }
}

static void test_repeated_pattern(void **state)
{
    (void)state;
    const int pat[] = {60, 12, 62, 12, 64, 24, MN_REST, 6, 67, 6, 65, 12, 64, 12, 62, 48};
    mn_melody m;
    mn_melody_init(&m);
    for (int r = 0; r < 50; r++)
        for (int i = 0; i < 8; i++) {
            mn_event e = {pat[2 * i], 90, pat[2 * i + 1], 0, 96};
            assert_int_equal(mn_melody_push(&m, &e, NULL), MN_OK);
        }
    mn_ngram *g = new_model(4);
    double before_p = 0.0, before_d = 0.0;
    for (size_t t = 100; t < 108; t++) {
        double bp, bd;
        mn_ngram_score(g, &m, t, &bp, &bd, NULL);
        before_p += bp;
        before_d += bd;
    }
    for (int k = 0; k < 3; k++) assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
    double after_p = 0.0, after_d = 0.0;
    for (size_t t = 100; t < 108; t++) {
        double bp, bd;
        int arg = -1;
        mn_ngram_score(g, &m, t, &bp, &bd, &arg);
        assert_true(bp < 0.05); /* p > 0.97 */
        /* durations see only two previous durations: after 12 12 comes 24 or 48, half each */
        assert_true(bd < 1.1);
        assert_int_equal(arg, m.ev[t].pitch);
        after_p += bp;
        after_d += bd;
    }
    assert_true(before_p > 8 * 7.0 && after_p < 0.2);
    assert_true(before_d > 8 * 2.3 && after_d < 2.5);

    /* the distribution after C D E rest G says F, near-certain */
    int hist[5] = {60, 62, 64, MN_REST, 67};
    float pp[MN_N_PITCH];
    mn_ngram_pitch_probs(g, hist, 5, pp);
    assert_true(pp[65] > 0.97f);
    /* and a duration after ... 24 6 for a note is 6 (token 1) */
    int dh[2] = {3, 1};
    float pd[MN_MAX_DUR];
    mn_ngram_dur_probs(g, dh, 2, 67, pd);
    assert_true(pd[1] > 0.9f);
    mn_melody_free(&m);
    mn_ngram_free(g);
}

static void test_backoff(void **state)
{
    (void)state;
    /* trained on a scale pattern; an unseen context still prefers what follows its last pitch */
    const int pd[] = {60, 12, 62, 12, 64, 12, 65, 12, 67, 12, 65, 12, 64, 12, 62, 12};
    mn_melody m;
    make_melody(&m, pd, 8);
    mn_ngram *g = new_model(4);
    for (int k = 0; k < 20; k++) assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
    float pp[MN_N_PITCH];
    int hist[3] = {72, 71, 67}; /* 72 and 71 never seen; 67 is always followed by 65 */
    mn_ngram_pitch_probs(g, hist, 3, pp);
    for (int k = 0; k < MN_N_PITCH; k++)
        if (k != 65) assert_true(pp[65] > pp[k]);
    assert_true(pp[65] > 0.3f);
    assert_true(pp[100] > 0.0f && pp[100] < 0.01f);
    /* the tune start is its own context: C follows BOS */
    mn_ngram_pitch_probs(g, NULL, 0, pp);
    for (int k = 0; k < MN_N_PITCH; k++)
        if (k != 60) assert_true(pp[60] > pp[k]);
    /* scores agree with the distributions */
    for (size_t t = 0; t < m.n; t++) {
        int h[8];
        for (size_t i = 0; i < t; i++) h[i] = m.ev[i].pitch;
        mn_ngram_pitch_probs(g, h, t, pp);
        double bp;
        mn_ngram_score(g, &m, t, &bp, NULL, NULL);
        assert_true(fabs(bp - -log2(pp[m.ev[t].pitch])) < 1e-5);
    }
    mn_melody_free(&m);
    mn_ngram_free(g);
}

/* Scores of a few fixed tunes, for comparing models. */
static void score_probe(const mn_ngram *g, double *out)
{
    for (unsigned s = 0; s < 4; s++) {
        mn_melody m;
        random_melody(&m, 100 + s, 60);
        for (size_t t = 0; t < m.n; t++) {
            int arg;
            mn_ngram_score(g, &m, t, &out[0], &out[1], &arg);
            out[2] = arg;
            out += 3;
        }
        mn_melody_free(&m);
    }
}

#define PROBE_N (4 * 60 * 3)

static void test_incremental_equals_batch(void **state)
{
    (void)state;
    mn_melody ms[6];
    for (unsigned s = 0; s < 6; s++) random_melody(&ms[s], s, 150);
    /* one at a time, with scoring in between (online use), versus all then score, versus the
     * reverse order: the counts, and so every score, must agree exactly */
    mn_ngram *a = new_model(4), *b = new_model(4), *c = new_model(4);
    static double pa[PROBE_N], pb[PROBE_N], pc[PROBE_N], p0[PROBE_N];
    score_probe(a, p0);
    for (int s = 0; s < 6; s++) {
        assert_int_equal(mn_ngram_add(a, &ms[s], NULL), MN_OK);
        score_probe(a, pa);
    }
    for (int s = 0; s < 6; s++) assert_int_equal(mn_ngram_add(b, &ms[s], NULL), MN_OK);
    for (int s = 5; s >= 0; s--) assert_int_equal(mn_ngram_add(c, &ms[s], NULL), MN_OK);
    score_probe(b, pb);
    score_probe(c, pc);
    assert_memory_equal(pa, pb, sizeof pa);
    assert_memory_equal(pa, pc, sizeof pa);
    assert_memory_not_equal(pa, p0, sizeof pa); /* learning changed the scores */
    for (int s = 0; s < 6; s++) mn_melody_free(&ms[s]);
    mn_ngram_free(a);
    mn_ngram_free(b);
    mn_ngram_free(c);
}

static void test_save_load(void **state)
{
    (void)state;
    char path[64], err[MN_ERR_LEN];
    mn_test_tmpfile(path, sizeof path, ".ngram");
    for (int order = 1; order <= MN_NGRAM_MAX_ORDER; order += 3) {
        mn_ngram *g = new_model(order);
        for (unsigned s = 0; s < 8; s++) {
            mn_melody m;
            random_melody(&m, s, 120);
            assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
            mn_melody_free(&m);
        }
        assert_int_equal(mn_ngram_save(g, path, err), MN_OK);
        mn_ngram *h = NULL;
        assert_int_equal(mn_ngram_load(path, &h, err), MN_OK);
        assert_int_equal(mn_ngram_order(h), order);
        assert_memory_equal(mn_ngram_durtable(h), &durs, sizeof durs);
        static double pg[PROBE_N], ph[PROBE_N];
        score_probe(g, pg);
        score_probe(h, ph);
        assert_memory_equal(pg, ph, sizeof pg);
        /* the loaded model keeps learning like the original */
        mn_melody m;
        random_melody(&m, 77, 100);
        assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
        assert_int_equal(mn_ngram_add(h, &m, NULL), MN_OK);
        mn_melody_free(&m);
        score_probe(g, pg);
        score_probe(h, ph);
        assert_memory_equal(pg, ph, sizeof pg);
        mn_ngram_free(g);
        mn_ngram_free(h);
    }
    unlink(path);
    mn_ngram *h = (mn_ngram *)&h;
    assert_int_equal(mn_ngram_load("/nonexistent/x.ngram", &h, err), MN_ERR_IO);
    assert_null(h);
    assert_non_null(strstr(err, "/nonexistent/x.ngram"));
    mn_ngram *g = new_model(2);
    assert_int_equal(mn_ngram_save(g, "/nonexistent/x.ngram", err), MN_ERR_IO);
    mn_ngram_free(g);
}

/*=== hostile files ==========================================================================*/

/* A small valid file, built by the writer, read back into memory. */
static size_t valid_file(uint8_t *buf, size_t cap, int order)
{
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".ngram");
    mn_ngram *g = new_model(order);
    mn_melody m;
    random_melody(&m, 3, 40);
    assert_int_equal(mn_ngram_add(g, &m, NULL), MN_OK);
    mn_melody_free(&m);
    assert_int_equal(mn_ngram_save(g, path, NULL), MN_OK);
    mn_ngram_free(g);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    unlink(path);
    assert_true(n > 40 && n < cap);
    return n;
}

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* Loading bytes must fail with code and a message holding want, and allocate nothing that
 * outlives the call. */
static void expect_bad(const uint8_t *buf, size_t n, mn_status code, const char *want)
{
    char path[64], err[MN_ERR_LEN] = "";
    mn_test_tmpfile(path, sizeof path, ".ngram");
    assert_int_equal(mn_test_write(path, buf, n), 0);
    mn_ngram *g = (mn_ngram *)&g;
    mn_status st = mn_ngram_load(path, &g, err);
    unlink(path);
    if (st != code || !strstr(err, want))
        print_error("expected %s with '%s', got %s: %s\n", mn_status_name(code), want,
                    mn_status_name(st), err);
    assert_int_equal(st, code);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, path)); /* names the file */
    assert_null(g);
}

/* Offset of the first pitch tuple of a file written by valid_file. */
#define TUPLES_AT (20 + 4 * 5 + 8)

static void test_hostile_files(void **state)
{
    (void)state;
    static uint8_t ok[1 << 16], b[1 << 16];
    size_t n = valid_file(ok, sizeof ok, 3);

    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 7)) {
        char path[64], err[MN_ERR_LEN];
        mn_test_tmpfile(path, sizeof path, ".ngram");
        assert_int_equal(mn_test_write(path, ok, cut), 0);
        mn_ngram *g = NULL;
        assert_int_equal(mn_ngram_load(path, &g, err), MN_ERR_FORMAT);
        assert_null(g);
        unlink(path);
    }
    expect_bad(ok, 12, MN_ERR_FORMAT, "truncated");
    expect_bad(ok, n - 3, MN_ERR_FORMAT, "truncated");

    memcpy(b, ok, n);
    b[0] = 'X';
    expect_bad(b, n, MN_ERR_FORMAT, "magic");
    expect_bad(b, 3, MN_ERR_FORMAT, "magic");

    memcpy(b, ok, n);
    put32(b + 8, 2);
    expect_bad(b, n, MN_ERR_FORMAT, "version");

    memcpy(b, ok, n);
    put32(b + 12, 0);
    expect_bad(b, n, MN_ERR_FORMAT, "order");
    put32(b + 12, 99);
    expect_bad(b, n, MN_ERR_FORMAT, "order");

    memcpy(b, ok, n);
    put32(b + 16, 1000);
    expect_bad(b, n, MN_ERR_FORMAT, "duration table");
    memcpy(b, ok, n);
    put32(b + 24, 3); /* 3, 3: not ascending */
    expect_bad(b, n, MN_ERR_FORMAT, "ascending");
    memcpy(b, ok, n);
    put32(b + 36, 0xFFFFFFFFu);
    expect_bad(b, n, MN_ERR_FORMAT, "duration table");

    /* a tuple count far beyond the file */
    memcpy(b, ok, n);
    put64(b + TUPLES_AT - 8, 1ull << 60);
    expect_bad(b, n, MN_ERR_FORMAT, "truncated");

    /* bad counts */
    memcpy(b, ok, n);
    put32(b + TUPLES_AT + 8, 0);
    expect_bad(b, n, MN_ERR_FORMAT, "count 0");
    put32(b + TUPLES_AT + 8, 0xFFFFFFFFu);
    expect_bad(b, n, MN_ERR_FORMAT, "count");

    /* bad keys: empty, too long, a hole, symbols out of range, a non-raw short tuple */
    memcpy(b, ok, n);
    put64(b + TUPLES_AT, 0);
    expect_bad(b, n, MN_ERR_FORMAT, "length 0");
    put64(b + TUPLES_AT, 0x01010101ull); /* 4 symbols, order 3 */
    expect_bad(b, n, MN_ERR_FORMAT, "length 4");
    put64(b + TUPLES_AT, 0x010001ull);
    expect_bad(b, n, MN_ERR_FORMAT, "bad symbol");
    put64(b + TUPLES_AT, 0x0101F0ull); /* predicted pitch 239 */
    expect_bad(b, n, MN_ERR_FORMAT, "bad symbol");
    put64(b + TUPLES_AT, 0x018201ull);
    expect_bad(b, n, MN_ERR_FORMAT, "bad symbol"); /* BOS in the middle */
    put64(b + TUPLES_AT, 0x3D3Eull);               /* (60, 61): short, no BOS */
    expect_bad(b, n, MN_ERR_FORMAT, "shorter than the order");

    /* a duplicate tuple */
    memcpy(b, ok, n);
    memcpy(b + TUPLES_AT + 12, b + TUPLES_AT, 12);
    expect_bad(b, n, MN_ERR_FORMAT, "duplicate");

    /* trailing bytes */
    memcpy(b, ok, n);
    b[n] = 0;
    expect_bad(b, n + 1, MN_ERR_FORMAT, "trailing");

    /* random corruption never crashes: every load fails cleanly or gives a usable model */
    unsigned x = 12345;
    for (int trial = 0; trial < 300; trial++) {
        memcpy(b, ok, n);
        for (int k = 0; k < 4; k++) {
            x = x * 1103515245u + 12345u;
            b[(x >> 8) % n] ^= (uint8_t)(1u << ((x >> 4) % 8));
        }
        char path[64], err[MN_ERR_LEN];
        mn_test_tmpfile(path, sizeof path, ".ngram");
        assert_int_equal(mn_test_write(path, b, n), 0);
        mn_ngram *g = NULL;
        mn_status st = mn_ngram_load(path, &g, err);
        unlink(path);
        if (st == MN_OK) {
            int hist[2] = {60, 62};
            float pp[MN_N_PITCH];
            mn_ngram_pitch_probs(g, hist, 2, pp);
            double s = 0.0;
            for (int k = 0; k < MN_N_PITCH; k++) s += pp[k];
            assert_true(fabs(s - 1.0) < 1e-5);
            mn_ngram_free(g);
        } else {
            assert_null(g);
            assert_true(strlen(err) > 0);
        }
    }
}

/* Every allocation made during a failed load is released (counting allocator pairs). */
static size_t live;
static void *count_malloc(size_t n, void *ctx) { (void)ctx; live++; return malloc(n); }
static void *count_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (!p) live++;
    return realloc(p, n);
}
static void count_free(void *p, void *ctx) { (void)ctx; if (p) live--; free(p); }

static void test_no_leak_on_bad_file(void **state)
{
    (void)state;
    static uint8_t ok[1 << 16], b[1 << 16];
    size_t n = valid_file(ok, sizeof ok, 4);
    const mn_allocator a = {count_malloc, count_realloc, count_free, NULL};
    mn_set_allocator(&a);
    live = 0;
    memcpy(b, ok, n);
    memcpy(b + n - 12, b + n - 24, 12); /* duplicate in the duration model: fails late */
    char path[64], err[MN_ERR_LEN];
    mn_test_tmpfile(path, sizeof path, ".ngram");
    assert_int_equal(mn_test_write(path, b, n), 0);
    mn_ngram *g = NULL;
    mn_status st = mn_ngram_load(path, &g, err);
    assert_int_equal(mn_test_write(path, ok, n - 5), 0);
    mn_status st2 = mn_ngram_load(path, &g, err);
    unlink(path);
    size_t left = live;
    mn_set_allocator(NULL);
    assert_int_equal(st, MN_ERR_FORMAT);
    assert_int_equal(st2, MN_ERR_FORMAT);
    assert_int_equal(left, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_args),
        cmocka_unit_test(test_empty_model_is_uniform),
        cmocka_unit_test(test_sums_to_one),
        cmocka_unit_test(test_repeated_pattern),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_incremental_equals_batch),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_no_leak_on_bad_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
