/* test_ahead.c - the look-ahead of [melodynet~] without Pd: the notes it hands out are the
 * session's own, a settings change reaches the next note generated without a replay, a change
 * of the melody (listen, prime, reseed, a new session) gives the same notes however far ahead the
 * worker was, stale notes are skipped, the notes played are the history `write` saves, and
 * popping never allocates. */
#include "testutil.h"

#include "ahead.h"
#include "model.h"
#include "session.h"

static mn_model *model;
static const mn_event primer[3] = {{60, 90, 24, 0, 0}, {62, 90, 24, 0, 0}, {64, 90, 12, 0, 0}};

static int setup(void **state)
{
    (void)state;
    char path[1024], err[MN_ERR_LEN];
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
    return 0;
}

/* A session with seed and the primer fed. */
static mn_session *primed(uint64_t seed)
{
    mn_session *s;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, seed, &s, err), MN_OK);
    for (int i = 0; i < 3; i++) mn_session_feed(s, &primer[i]);
    return s;
}

/* A look-ahead keeping ahead_ms of music (0: one note; huge: MN_AHEAD_MAX notes) over a primed
 * session. */
static mn_ahead *start(double ahead_ms, uint64_t seed)
{
    mn_sampler sp;
    mn_sampler_default(&sp);
    mn_ahead_timing t = {1.0, 0, ahead_ms};
    mn_ahead *a;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_ahead_new(&sp, &t, &a, err), MN_OK);
    mn_ahead_use(a, primed(seed));
    assert_true(mn_ahead_wait_idle(a, 10));
    return a;
}

/* Pops n notes as a consumer would, waking the worker when the ring is empty. */
static void pop_n(mn_ahead *a, mn_event *out, int n)
{
    for (int i = 0; i < n; i++) {
        int tries = 0;
        while (!mn_ahead_pop(a, &out[i])) {
            assert_true(++tries < 1000);
            mn_ahead_wake(a);
            mn_ahead_wait_idle(a, 10);
        }
    }
}

static const double aheads[2] = {0, 1e9};

static void test_notes_are_the_sessions(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        mn_ahead *a = start(aheads[k], 7);
        mn_event got[40], ref[40];
        pop_n(a, got, 40);
        mn_session *s = primed(7);
        mn_test_sample_n(s, ref, 40);
        mn_test_assert_events_equal(got, ref, 40);
        mn_ahead_stats st;
        mn_ahead_stats_get(a, &st);
        assert_int_equal(st.commands, 1); /* the session */
        assert_true(st.produced >= 40);
        mn_session_free(s);
        mn_ahead_free(a);
    }
}

/* Settings reach the next note generated, and a stream of them costs no replay. */
static void test_settings_change_costs_no_replay(void **state)
{
    (void)state;
    mn_ahead *a = start(0, 3);
    mn_event e[8];
    pop_n(a, e, 4);
    mn_sampler sp;
    mn_sampler_default(&sp);
    for (int i = 0; i < 200; i++) {
        sp.temperature = 0.5f + (float)(i % 10) / 10;
        mn_ahead_settings(a, &sp);
        if (i % 20 == 0) pop_n(a, e, 1);
    }
    sp.pitch_lo = sp.pitch_hi = 70;
    sp.allow_rest = 0;
    mn_ahead_settings(a, &sp);
    pop_n(a, e, 1); /* the one note generated ahead may be from before */
    pop_n(a, e, 8);
    for (int i = 0; i < 8; i++) assert_int_equal(e[i].pitch, 70);
    mn_ahead_stats st;
    mn_ahead_stats_get(a, &st);
    assert_int_equal(st.commands, 1);
    assert_int_equal(st.discarded, 0);
    mn_ahead_free(a);
}

/* A listened note after 5 played: the notes that follow are those of a session that played the
 * 5 and heard the note, whether the worker was one note or MN_AHEAD_MAX ahead. */
static void test_listen_independent_of_lookahead(void **state)
{
    (void)state;
    mn_event heard = {67, 90, 48, 0, 0};
    mn_session *s = primed(11);
    mn_event ref[15], got[15];
    mn_test_sample_n(s, ref, 5);
    mn_session_feed(s, &heard);
    mn_test_sample_n(s, ref + 5, 10);
    for (int k = 0; k < 2; k++) {
        mn_ahead *a = start(aheads[k], 11);
        pop_n(a, got, 5);
        assert_int_equal(mn_ahead_listen(a, &heard), 0);
        assert_true(mn_ahead_wait_idle(a, 10));
        pop_n(a, got + 5, 10);
        mn_test_assert_events_equal(got, ref, 15);
        mn_ahead_stats st;
        mn_ahead_stats_get(a, &st);
        assert_int_equal(st.commands, 2);
        if (k == 1) assert_true(st.discarded > 0); /* it was ahead: those notes were thrown away */
        mn_ahead_free(a);
    }
    mn_session_free(s);
}

/* A primer starts again (the PRNG goes on from the first note not played); the history the
 * write takes holds the notes played since, not the primer, not the notes ahead. */
static void test_prime_and_history(void **state)
{
    (void)state;
    mn_event again[2] = {{55, 90, 24, 0, 0}, {57, 90, 24, 0, 0}};
    mn_session *s = primed(5);
    mn_event ref[11], got[11];
    mn_test_sample_n(s, ref, 5);
    mn_session_reset(s);
    for (int i = 0; i < 2; i++) mn_session_feed(s, &again[i]);
    mn_test_sample_n(s, ref + 5, 6);
    mn_ahead *a = start(1e9, 5);
    pop_n(a, got, 5);
    mn_event hist[MN_SESSION_HIST];
    assert_int_equal(mn_ahead_history(a, hist, MN_SESSION_HIST), 5);
    mn_test_assert_events_equal(hist, got, 5);
    mn_ahead_prime(a, again, 2);
    /* a primer not yet applied: the melody was reset, nothing played since */
    size_t n = mn_ahead_history(a, hist, MN_SESSION_HIST);
    assert_true(n == 0);
    assert_true(mn_ahead_wait_idle(a, 10));
    pop_n(a, got + 5, 6);
    mn_test_assert_events_equal(got, ref, 11);
    assert_int_equal(mn_ahead_history(a, hist, MN_SESSION_HIST), 6);
    mn_test_assert_events_equal(hist, got + 5, 6);
    mn_ahead_free(a);
    mn_session_free(s);
}

/* A new session (another seed of its own) takes the melody and its random stream over; a
 * reseed starts a new stream where the played notes end. */
static void test_use_and_reseed(void **state)
{
    (void)state;
    mn_session *s = primed(13);
    mn_event ref[14], got[14];
    mn_test_sample_n(s, ref, 10);
    mn_session_seed(s, 77);
    mn_test_sample_n(s, ref + 10, 4);
    mn_ahead *a = start(1e9, 13);
    pop_n(a, got, 5);
    mn_session *other;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(model, 999, &other, err), MN_OK);
    mn_ahead_use(a, other);
    assert_true(mn_ahead_wait_idle(a, 10));
    pop_n(a, got + 5, 5);
    mn_ahead_reseed(a, 77);
    assert_true(mn_ahead_wait_idle(a, 10));
    pop_n(a, got + 10, 4);
    mn_test_assert_events_equal(got, ref, 14);
    mn_ahead_free(a);
    mn_session_free(s);
}

/* After a command, the notes of the old epoch are passed, not played; popping and skipping
 * never allocate. */
static void test_stale_skipped_without_allocation(void **state)
{
    (void)state;
    mn_ahead *a = start(1e9, 17);
    mn_event e[4], heard = {72, 90, 24, 0, 0};
    mn_test_count_allocs();
    size_t before = mn_test_alloc_count;
    pop_n(a, e, 2);
    mn_ahead_listen(a, &heard);
    assert_true(mn_ahead_wait_idle(a, 10));
    assert_int_equal(mn_ahead_skip_stale(a), 1);
    assert_int_equal(mn_ahead_skip_stale(a), 0);
    pop_n(a, e, 4);
    assert_int_equal(mn_test_alloc_count, before);
    mn_set_allocator(NULL);
    mn_ahead_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notes_are_the_sessions),
        cmocka_unit_test(test_settings_change_costs_no_replay),
        cmocka_unit_test(test_listen_independent_of_lookahead),
        cmocka_unit_test(test_prime_and_history),
        cmocka_unit_test(test_use_and_reseed),
        cmocka_unit_test(test_stale_skipped_without_allocation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
