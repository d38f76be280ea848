/* test_report.c - creativity versus imitation figures: in-key rate, histograms and their
 * distances, and the suffix-automaton copy search checked against a brute-force search. */
#include "testutil.h"

#include <math.h>

#include "event.h"
#include "report.h"

/*=== helpers ================================================================================*/

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static void push(mn_melody *m, int pitch, int dur)
{
    int pos = m->n ? mn_event_next_pos(&m->ev[m->n - 1]) : 0;
    mn_event e = {pitch, pitch == MN_REST ? 0 : 90, dur, pos, 4 * MN_TPQ};
    assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
}

/* A melody whose intervals are iv[n] from pitch 60 (kept in 0..127 by reflecting), with a rest
 * now and then when rests is set (rests must not change the intervals). */
static void from_intervals(mn_melody *m, const int *iv, size_t n, int rests)
{
    mn_melody_init(m);
    int p = 60;
    push(m, p, 12);
    for (size_t i = 0; i < n; i++) {
        if (rests && rnd() % 5 == 0) push(m, MN_REST, 12);
        p += iv[i];
        assert_true(p >= 0 && p <= 127);
        push(m, p, 12);
    }
}

static void random_walk(mn_melody *m, size_t n_notes, int max_step, int rests)
{
    int iv[4096];
    assert_true(n_notes - 1 <= 4096);
    int p = 60;
    for (size_t i = 0; i + 1 < n_notes; i++) {
        int d = (int)(rnd() % (unsigned)(2 * max_step + 1)) - max_step;
        if (p + d < 30 || p + d > 100) d = -d;
        iv[i] = d;
        p += d;
    }
    from_intervals(m, iv, n_notes - 1, rests);
}

static void free_all(mn_melody *m, size_t n)
{
    for (size_t i = 0; i < n; i++) mn_melody_free(&m[i]);
}

/*=== melody figures =========================================================================*/

static void test_in_key(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    static const int c_major[] = {60, 62, 64, 65, 67, 69, 71, 72};
    for (int i = 0; i < 8; i++) push(&m, c_major[i], 24);
    int tonic, minor;
    assert_float_equal(mn_report_in_key(&m, &tonic, &minor), 1.0, 1e-12);
    assert_int_equal(tonic, 0);
    assert_int_equal(minor, 0);
    mn_melody_free(&m);

    /* D major, transposed, with a rest: still fully in key */
    mn_melody_init(&m);
    for (int i = 0; i < 8; i++) {
        push(&m, c_major[i] + 2, 24);
        if (i == 3) push(&m, MN_REST, 24);
    }
    assert_float_equal(mn_report_in_key(&m, &tonic, NULL), 1.0, 1e-12);
    assert_int_equal(tonic, 2);
    mn_melody_free(&m);

    /* a chromatic octave: any diatonic scale holds 7 of the 12 */
    mn_melody_init(&m);
    for (int p = 60; p < 72; p++) push(&m, p, 12);
    double r = mn_report_in_key(&m, NULL, NULL);
    assert_true(r < 1.0);
    assert_float_equal(r, 7.0 / 12.0, 1e-12);
    mn_melody_free(&m);

    mn_melody_init(&m);
    push(&m, MN_REST, 24);
    assert_float_equal(mn_report_in_key(&m, &tonic, &minor), -1.0, 0);
    assert_int_equal(tonic, -1);
    mn_melody_free(&m);
}

static void test_intervals_skip_rests(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    push(&m, MN_REST, 12);
    push(&m, 60, 12);
    push(&m, 64, 12);
    push(&m, MN_REST, 12);
    push(&m, MN_REST, 12);
    push(&m, 62, 12);
    push(&m, 80, 12);
    int iv[8];
    assert_int_equal(mn_report_intervals(&m, iv), 3);
    assert_int_equal(iv[0], 4);
    assert_int_equal(iv[1], -2);
    assert_int_equal(iv[2], 18);
    mn_melody_free(&m);
}

static void test_dur_bins_and_distances(void **state)
{
    (void)state;
    assert_string_equal(mn_report_dur_name(mn_report_dur_bin(24)), "1/4");
    assert_string_equal(mn_report_dur_name(mn_report_dur_bin(12)), "1/8");
    assert_string_equal(mn_report_dur_name(mn_report_dur_bin(7)), "1/8 triplet");
    assert_string_equal(mn_report_dur_name(mn_report_dur_bin(1)), "1/32");
    assert_string_equal(mn_report_dur_name(mn_report_dur_bin(500)), "whole and longer");
    double p[3] = {1, 0, 0}, q[3] = {0, 0.5, 0.5}, h[3] = {0.5, 0.5, 0};
    assert_float_equal(mn_report_tv(p, p, 3), 0, 1e-12);
    assert_float_equal(mn_report_js(p, p, 3), 0, 1e-12);
    assert_float_equal(mn_report_tv(p, q, 3), 1, 1e-12);
    assert_float_equal(mn_report_js(p, q, 3), 1, 1e-12);
    assert_float_equal(mn_report_tv(p, h, 3), 0.5, 1e-12);
    double js = mn_report_js(p, h, 3);
    assert_true(js > 0.1 && js < 0.9);
}

/*=== imitation ==============================================================================*/

/* Longest common run of q[nq] and t[nt], by dynamic programming. */
static size_t brute_lcs(const int *q, size_t nq, const int *t, size_t nt)
{
    size_t best = 0;
    size_t *prev = calloc(nt + 1, sizeof *prev), *cur = calloc(nt + 1, sizeof *cur);
    for (size_t i = 1; i <= nq; i++) {
        for (size_t j = 1; j <= nt; j++) {
            cur[j] = q[i - 1] == t[j - 1] ? prev[j - 1] + 1 : 0;
            if (cur[j] > best) best = cur[j];
        }
        size_t *x = prev;
        prev = cur;
        cur = x;
    }
    free(prev);
    free(cur);
    return best;
}

static int contains(const int *t, size_t nt, const int *g, size_t ng)
{
    for (size_t j = 0; j + ng <= nt; j++)
        if (memcmp(t + j, g, ng * sizeof *g) == 0) return 1;
    return 0;
}

static void test_motif_repetition(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_report_set st;
    /* a phrase of 6 intervals played three times: figures 0..2 of 8 in the first pass are new,
     * every later figure repeats one (+ a final figure that spans the phrase boundaries) */
    int phrase[6] = {2, 2, 1, -3, -2, 0}, iv[18];
    for (int r = 0; r < 3; r++) memcpy(iv + 6 * r, phrase, sizeof phrase);
    mn_melody m;
    from_intervals(&m, iv, 18, 1);
    assert_int_equal(mn_report_set_compute(&st, &m, 1, NULL, NULL, err), MN_OK);
    /* 15 figures; the first 6 (offsets 0..5) are new, offsets 6..14 repeat */
    assert_true(fabs(st.motif_repeat - 9.0 / 15.0) < 1e-12);
    mn_melody_free(&m);
    /* a wide random walk repeats almost nothing; too short a melody has no figure */
    random_walk(&m, 400, 7, 0);
    assert_int_equal(mn_report_set_compute(&st, &m, 1, NULL, NULL, err), MN_OK);
    assert_true(st.motif_repeat < 0.05);
    mn_melody_free(&m);
    from_intervals(&m, phrase, 3, 0);
    assert_int_equal(mn_report_set_compute(&st, &m, 1, NULL, NULL, err), MN_OK);
    assert_true(st.motif_repeat == 0);
    mn_melody_free(&m);
}

static void test_stuck_and_loops(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    /* 11 of one pitch: not stuck; a rest in between neither breaks nor extends the run */
    for (int i = 0; i < 11; i++) push(&m, 67, 12);
    assert_int_equal(mn_report_stuck_runs(&m), 0);
    push(&m, MN_REST, 12);
    push(&m, 67, 12);
    assert_int_equal(mn_report_stuck_runs(&m), 1);
    for (int i = 0; i < 20; i++) push(&m, 67, 12); /* the same run, longer */
    assert_int_equal(mn_report_stuck_runs(&m), 1);
    push(&m, 65, 12);
    for (int i = 0; i < 12; i++) push(&m, 64, 6);
    assert_int_equal(mn_report_stuck_runs(&m), 2);
    mn_melody_free(&m);

    /* a figure of 8 events repeated 4 times is a loop; of 9 events it is not; one changed
     * duration in the last 32 events breaks it; fewer than 32 events is never a loop */
    for (int period = 1; period <= 9; period++) {
        mn_melody_init(&m);
        for (int i = 0; i < 40; i++) push(&m, 60 + (i % period) * 2, 12);
        assert_int_equal(mn_report_is_loop(&m), period <= MN_REPORT_LOOP_PERIOD);
        m.ev[m.n - 20].dur_ticks = 24;
        assert_int_equal(mn_report_is_loop(&m), 0);
        mn_melody_free(&m);
    }
    mn_melody_init(&m);
    for (int i = 0; i < 31; i++) push(&m, 60, 12);
    assert_int_equal(mn_report_is_loop(&m), 0);
    push(&m, 60, 12);
    assert_int_equal(mn_report_is_loop(&m), 1);

    mn_report_set set;
    assert_int_equal(mn_report_set_compute(&set, &m, 1, NULL, NULL, NULL), MN_OK);
    assert_int_equal(set.loops, 1);
    assert_int_equal(set.stuck_runs, 1);
    assert_float_equal(set.pickup, 0.0, 1e-12);
    assert_int_equal(set.leap_max, 0);
    assert_int_equal(set.pitch_lo, 60);
    assert_int_equal(set.pitch_hi, 60);
    mn_melody_free(&m);
}

static void test_match_agrees_with_brute_force(void **state)
{
    (void)state;
    enum { MAXT = 8, MAXL = 40 };
    for (int trial = 0; trial < 300; trial++) {
        int alphabet = 1 + (int)(rnd() % 4); /* intervals -a..a: small, so runs repeat */
        size_t n_train = 1 + rnd() % MAXT;
        mn_melody train[MAXT];
        int tiv[MAXT][MAXL];
        size_t tn[MAXT];
        for (size_t t = 0; t < n_train; t++) {
            tn[t] = rnd() % 4 == 0 ? rnd() % 2 : rnd() % MAXL; /* some without intervals */
            for (size_t i = 0; i < tn[t]; i++) tiv[t][i] = (int)(rnd() % (2 * alphabet + 1)) - alphabet;
            from_intervals(&train[t], tiv[t], tn[t], 1);
            if (tn[t] == 0 && rnd() % 2) { /* a tune with no note at all */
                mn_melody_free(&train[t]);
                mn_melody_init(&train[t]);
            }
        }
        mn_imitation *ix = NULL;
        char err[MN_ERR_LEN];
        mn_status st = mn_imitation_new(train, n_train, &ix, err);
        size_t total = 0;
        for (size_t t = 0; t < n_train; t++) total += tn[t];
        if (total == 0) {
            assert_int_equal(st, MN_ERR_EMPTY);
            free_all(train, n_train);
            continue;
        }
        assert_int_equal(st, MN_OK);
        for (int qi = 0; qi < 5; qi++) {
            int q[MAXL];
            size_t nq = rnd() % MAXL;
            for (size_t i = 0; i < nq; i++) q[i] = (int)(rnd() % (2 * alphabet + 1)) - alphabet;
            mn_imitation_match mt;
            mn_imitation_match_intervals(ix, q, nq, &mt);
            size_t want = 0;
            for (size_t t = 0; t < n_train; t++) {
                size_t l = brute_lcs(q, nq, tiv[t], tn[t]);
                if (l > want) want = l;
            }
            assert_int_equal(mt.len, want);
            if (want > 0) {
                /* the named tune holds the run where the match says */
                assert_true(mt.tune < n_train);
                assert_true(mt.tune_start + mt.len <= tn[mt.tune]);
                assert_true(mt.query_start + mt.len <= nq);
                assert_memory_equal(q + mt.query_start, tiv[mt.tune] + mt.tune_start,
                                    mt.len * sizeof(int));
            }
            /* n-gram hits against a brute-force search over every tune */
            size_t hits = 0, grams = 0;
            for (size_t i = 0; i + MN_REPORT_NGRAM <= nq; i++) {
                grams++;
                for (size_t t = 0; t < n_train; t++)
                    if (contains(tiv[t], tn[t], q + i, MN_REPORT_NGRAM)) {
                        hits++;
                        break;
                    }
            }
            assert_int_equal(mt.n_ngrams, grams);
            assert_int_equal(mt.ngram_hits, hits);
        }
        mn_imitation_free(ix);
        free_all(train, n_train);
    }
}

static void test_identical_sets(void **state)
{
    (void)state;
    enum { N = 30 };
    mn_melody train[N];
    for (int i = 0; i < N; i++) random_walk(&train[i], 40 + (size_t)i, 4, 1);
    mn_report_set tr, gen;
    mn_imitation *ix;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_imitation_new(train, N, &ix, err), MN_OK);
    assert_int_equal(mn_report_set_compute(&tr, train, N, NULL, NULL, err), MN_OK);
    assert_int_equal(mn_report_set_compute(&gen, train, N, &tr, ix, err), MN_OK);
    /* every melody is copied whole: the longest (69 notes) gives the max */
    assert_int_equal(gen.copy_max, 40 + N - 1 - 1);
    assert_float_equal(gen.copy_mean_share, 1.0, 1e-12);
    assert_float_equal(gen.ngram_share, 1.0, 1e-12);
    assert_true(gen.n_ngrams > 0);
    assert_float_equal(gen.interval_tv, 0, 1e-12);
    assert_float_equal(gen.interval_js, 0, 1e-12);
    assert_float_equal(gen.span_tv, 0, 1e-12);
    assert_float_equal(gen.dur_tv, 0, 1e-12);
    assert_float_equal(gen.dur_js, 0, 1e-12);
    assert_float_equal(gen.in_key, tr.in_key, 1e-12);
    mn_imitation_free(ix);
    free_all(train, N);
}

static void test_random_walk_shares_little(void **state)
{
    (void)state;
    enum { N = 200, G = 40 };
    mn_melody train[N], gen[G];
    for (int i = 0; i < N; i++) random_walk(&train[i], 100, 5, 0);
    for (int i = 0; i < G; i++) random_walk(&gen[i], 64, 5, 0);
    mn_report r;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_report_compute(&r, train, N, NULL, gen, G, gen, G, err), MN_OK);
    /* 11^8 possible 8-grams against ~20,000 in the training data */
    assert_true(r.gen.ngram_share < 0.01);
    assert_true(r.gen.copy_max < 8);
    assert_true(r.gen.copy_mean > 1);
    /* the same generator: distributions close to the training data's */
    assert_true(r.gen.interval_tv < 0.1);
    assert_float_equal(r.gen.dur_tv, 0, 1e-12);
    assert_true(r.gen.in_key < 0.95);
    free_all(train, N);
    free_all(gen, G);
}

static void test_report_names_and_writers(void **state)
{
    (void)state;
    enum { N = 5 };
    mn_melody train[N], ref[1], gen[1];
    const char *names[N] = {"a.mid", "b.mid", "c.mid", "d.mid", "e \"quoted\".mid"};
    for (int i = 0; i < N; i++) random_walk(&train[i], 50, 6, 1);
    /* reference: a window of tune 4; generated: the whole of tune 2 */
    int iv[64];
    size_t k = mn_report_intervals(&train[4], iv);
    from_intervals(&ref[0], iv + 10, 12, 0);
    k = mn_report_intervals(&train[2], iv);
    from_intervals(&gen[0], iv, k, 0);
    mn_report r;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_report_compute(&r, train, N, names, ref, 1, gen, 1, err), MN_OK);
    assert_int_equal(r.ref.copy_max, 12);
    assert_string_equal(r.ref_copy_tune, names[4]);
    assert_int_equal(r.gen.copy_max, k);
    assert_string_equal(r.gen_copy_tune, "c.mid");
    assert_int_equal(r.train.n_melodies, N);
    assert_int_equal(r.train.has_imitation, 0);

    char path[64];
    mn_test_tmpfile(path, sizeof path, ".txt");
    FILE *f = fopen(path, "w");
    mn_report_write_text(f, &r, "valid", "model");
    mn_report_write_json(f, &r, "valid", "model");
    fclose(f);
    f = fopen(path, "r");
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "in-key rate"));
    assert_non_null(strstr(buf, "8-grams found in train"));
    assert_non_null(strstr(buf, "\"copy_max_tune\": \"e \\\"quoted\\\".mid\""));
    int depth = 0, minimum = 0;
    for (const char *p = strchr(buf, '{'); *p; p++) {
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
        if (depth < minimum) minimum = depth;
    }
    assert_int_equal(depth, 0);
    assert_int_equal(minimum, 0);
    free_all(train, N);
    free_all(ref, 1);
    free_all(gen, 1);
}

static void test_index_errors(void **state)
{
    (void)state;
    mn_melody m[2];
    mn_melody_init(&m[0]);
    mn_melody_init(&m[1]);
    push(&m[1], 60, 12);
    mn_imitation *ix = (mn_imitation *)&m; /* must be cleared */
    char err[MN_ERR_LEN] = "";
    assert_int_equal(mn_imitation_new(m, 2, &ix, err), MN_ERR_EMPTY);
    assert_null(ix);
    assert_true(strlen(err) > 0);
    mn_imitation_free(NULL);
    free_all(m, 2);
}

/* A corpus of the size the report meets (Essen's training split: ~7,000 tunes, ~360k notes)
 * builds and answers; run here for memory errors, not for time. */
static void test_large_index(void **state)
{
    (void)state;
    enum { N = 6000 };
    mn_melody *train = malloc(N * sizeof *train);
    for (int i = 0; i < N; i++) random_walk(&train[i], 60, 3, 0);
    mn_imitation *ix;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_imitation_new(train, N, &ix, err), MN_OK);
    int iv[64];
    size_t k = mn_report_intervals(&train[N - 1], iv);
    mn_imitation_match mt;
    mn_imitation_match_intervals(ix, iv, k, &mt);
    assert_int_equal(mt.len, k);
    assert_int_equal(mt.ngram_hits, mt.n_ngrams);
    mn_imitation_free(ix);
    free_all(train, N);
    free(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_key),
        cmocka_unit_test(test_intervals_skip_rests),
        cmocka_unit_test(test_dur_bins_and_distances),
        cmocka_unit_test(test_motif_repetition),
        cmocka_unit_test(test_stuck_and_loops),
        cmocka_unit_test(test_match_agrees_with_brute_force),
        cmocka_unit_test(test_identical_sets),
        cmocka_unit_test(test_random_walk_shares_little),
        cmocka_unit_test(test_report_names_and_writers),
        cmocka_unit_test(test_index_errors),
        cmocka_unit_test(test_large_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
