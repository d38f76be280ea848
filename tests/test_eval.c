/* test_eval.c - bits per event as DESIGN.md defines them: the sums equal the per-event scores,
 * each melody starts from a reset state, and the baseline is scored on the same events. */
#include "testutil.h"

#include <math.h>

#include "eval.h"
#include "midi.h"
#include "model.h"

static mn_model *model;
static mn_melody tunes[2];

static int setup(void **state)
{
    (void)state;
    char p[512], err[MN_ERR_LEN];
    if (mn_model_load(mn_test_path(p, sizeof p, "tests/fixtures/ref/small.mnet"), &model, err))
        return -1;
    if (mn_midi_read_file(mn_test_path(p, sizeof p, "tests/fixtures/midi/reel_pickup.mid"), NULL,
                          &tunes[0], err))
        return -1;
    if (mn_midi_read_file(mn_test_path(p, sizeof p, "tests/fixtures/midi/jig_68.mid"), NULL,
                          &tunes[1], err))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mn_model_free(model);
    mn_melody_free(&tunes[0]);
    mn_melody_free(&tunes[1]);
    return 0;
}

static void test_sums_are_per_event_scores(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_session *s;
    assert_int_equal(mn_session_new(model, 1, &s, err), MN_OK);
    double want_p = 0, want_d = 0;
    size_t want_ok = 0;
    mn_session_reset(s);
    for (size_t t = 0; t < tunes[0].n; t++) {
        double bp, bd;
        int am;
        mn_session_score(s, &tunes[0].ev[t], &bp, &bd, &am);
        assert_true(bp >= 0 && bd >= 0 && isfinite(bp) && isfinite(bd));
        want_p += bp;
        want_d += bd;
        want_ok += am == tunes[0].ev[t].pitch;
    }
    /* leave the session mid-tune: eval must reset it first */
    mn_eval_sums a = {0};
    mn_eval_session(s, &tunes[0], &a);
    assert_int_equal(a.events, tunes[0].n);
    assert_int_equal(a.correct, want_ok);
    assert_true(fabs(a.sum_pitch - want_p) < 1e-9);
    assert_true(fabs(a.sum_dur - want_d) < 1e-9);
    assert_true(fabs(mn_eval_bits_pitch(&a) - want_p / a.events) < 1e-12);
    assert_true(fabs(mn_eval_bits_dur(&a) - want_d / a.events) < 1e-12);
    /* a second melody adds; scoring the first again adds exactly the same */
    mn_eval_sums b = a;
    mn_eval_session(s, &tunes[1], &b);
    mn_eval_session(s, &tunes[0], &b);
    assert_int_equal(b.events, 2 * tunes[0].n + tunes[1].n);
    mn_eval_sums c = {0};
    mn_eval_session(s, &tunes[1], &c);
    assert_true(fabs(b.sum_pitch - (2 * a.sum_pitch + c.sum_pitch)) < 1e-9);
    mn_session_free(s);
}

static void test_baseline_on_the_same_events(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_ngram *g;
    assert_int_equal(mn_ngram_new(4, &mn_model_cfg(model)->dur, &g, err), MN_OK);
    mn_eval_sums before = {0}, after = {0};
    mn_eval_ngram(g, &tunes[0], &before);
    assert_int_equal(before.events, tunes[0].n);
    assert_int_equal(mn_ngram_add(g, &tunes[0], err), MN_OK);
    mn_eval_ngram(g, &tunes[0], &after);
    assert_int_equal(after.events, tunes[0].n);
    /* having seen the tune, the baseline finds it far more likely */
    assert_true(mn_eval_bits_pitch(&after) < 0.5 * mn_eval_bits_pitch(&before));
    assert_true(mn_eval_accuracy(&after) > mn_eval_accuracy(&before));
    mn_ngram_free(g);
    mn_eval_sums none = {0};
    assert_true(mn_eval_bits_pitch(&none) == 0 && mn_eval_accuracy(&none) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_are_per_event_scores),
        cmocka_unit_test(test_baseline_on_the_same_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
