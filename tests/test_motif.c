/* test_motif.c - the melody's own memory: matches (also transposed), the longest and most
 * recent match wins, rests and range limits, the bounded history; and in a session, scores are
 * the documented mixture and sampling repeats a melody's motifs. */
#include "testutil.h"

#include <math.h>

#include "model.h"
#include "motif.h"
#include "session.h"

static void push_all(mn_motif *m, const int *pitch, const int *dur, int n)
{
    for (int i = 0; i < n; i++) mn_motif_push(m, pitch[i], dur[i]);
}

static void test_transposed_repeat_is_proposed(void **state)
{
    (void)state;
    mn_motif m;
    mn_motif_reset(&m);
    int p, d;
    assert_int_equal(mn_motif_propose(&m, &p, &d), 0); /* nothing yet */
    /* C D E C, then the same figure a fifth up: G A B -> proposes G (B - 4) */
    int pitch[] = {60, 62, 64, 60, 67, 69, 71}, dur[] = {2, 2, 2, 3, 2, 2, 2};
    push_all(&m, pitch, dur, 7);
    int k = mn_motif_propose(&m, &p, &d);
    assert_int_equal(k, 2); /* +2 +2 (with their durations); the first note has no interval */
    assert_int_equal(p, 67);
    assert_int_equal(d, 3);
}

static void test_longest_then_most_recent(void **state)
{
    (void)state;
    mn_motif m;
    mn_motif_reset(&m);
    /* intervals (all duration 1): +1 +1 -2 | +1 +5 | +1 +1 -2 +1 | ... +1 */
    int pitch[] = {60, 61, 62, 60, 61, 66, 67, 68, 66, 67, 70, 71}, dur[12];
    for (int i = 0; i < 12; i++) dur[i] = 1;
    push_all(&m, pitch, dur, 12);
    int p, d;
    /* the end "+1" (70 -> 71) after "+3": longest match is just "+1"; most recent earlier
     * +1 is 66 -> 67 (followed by... the end of history excluded) */
    int k = mn_motif_propose(&m, &p, &d);
    assert_int_equal(k, 1);
    /* the most recent earlier "+1" is 66->67 at index 9, followed by +3 (67->70): 71 + 3 */
    assert_int_equal(p, 74);
    /* now extend to +1 +1 -2: the earlier full figure wins over the shorter recent one */
    mn_motif_push(&m, 72, 1);
    mn_motif_push(&m, 70, 1);
    k = mn_motif_propose(&m, &p, &d);
    assert_true(k >= 3);
    assert_int_equal(p, 71); /* after +1 +1 -2 came +1 */
}

static void test_rests_and_range(void **state)
{
    (void)state;
    mn_motif m;
    mn_motif_reset(&m);
    int pitch[] = {60, MN_REST, 62, 60, MN_REST}, dur[] = {1, 2, 1, 1, 2};
    push_all(&m, pitch, dur, 5);
    int p, d;
    /* "-2 then rest" was followed by... the earlier "60 rest" was followed by +2 */
    assert_true(mn_motif_propose(&m, &p, &d) >= 1);
    assert_int_equal(p, 62);
    assert_int_equal(d, 1);
    /* a proposal that would leave MIDI range is dropped */
    mn_motif_reset(&m);
    int hi[] = {60, 62, 82, 120, 122}, d1[] = {1, 1, 1, 1, 1};
    push_all(&m, hi, d1, 5);
    assert_int_equal(mn_motif_propose(&m, &p, &d), 0); /* +2 was followed by +20: 142 */
    /* a figure transposed so that its continuation leaves the melody's pitch classes */
    mn_motif_reset(&m);
    int key[] = {60, 62, 64, 65, 67, 69, 71, 72, 62, 64, 66}, dk[11];
    for (int i = 0; i < 11; i++) dk[i] = 1;
    push_all(&m, key, dk, 10); /* ... 72 62 64: "+2" last, followed earlier by +2 or +1 */
    assert_true(mn_motif_propose(&m, &p, &d) > 0);
    mn_motif_push(&m, 66, 1); /* F#: now +2 +2 matches 60 62 64 -> +1 -> G (67): in the set */
    assert_true(mn_motif_propose(&m, &p, &d) > 0 && p == 67);
    mn_motif_reset(&m);
    /* C D E F, then A# C D: "+2 +2" was followed by +1, which would give D# (unused) */
    int out[] = {60, 62, 64, 65, 70, 72, 74}, d7[] = {1, 1, 1, 1, 1, 1, 1};
    push_all(&m, out, d7, 7);
    assert_int_equal(mn_motif_propose(&m, &p, &d), 0);
    mn_motif_push(&m, 75, 1); /* once D# has been played, the same figure may bring it */
    mn_motif_push(&m, 70, 1);
    mn_motif_push(&m, 72, 1);
    mn_motif_push(&m, 74, 1);
    assert_true(mn_motif_propose(&m, &p, &d) >= 2);
    assert_int_equal(p, 75);
}

static void test_history_is_bounded(void **state)
{
    (void)state;
    mn_motif m;
    mn_motif_reset(&m);
    for (int i = 0; i < 5 * MN_MOTIF_HIST; i++) mn_motif_push(&m, 60 + i % 7, i % 3);
    assert_true(m.n <= MN_MOTIF_HIST && m.n >= MN_MOTIF_HIST / 2);
    int p, d;
    assert_int_equal(mn_motif_propose(&m, &p, &d), MN_MOTIF_MAX_K);
    assert_int_equal(p, 60 + (5 * MN_MOTIF_HIST) % 7);
    assert_true(mn_motif_weight(0) == 0 && mn_motif_weight(1) > 0);
    for (int k = 1; k <= MN_MOTIF_MAX_K + 5; k++)
        assert_true(mn_motif_weight(k) >= mn_motif_weight(k - 1) && mn_motif_weight(k) < 1);
}

/* In a session: the score is the mixture of the network and the proposal; motif 0 is the
 * network alone; sampling with motifs repeats a primed phrase more often than without. */
static void test_session_mixture(void **state)
{
    (void)state;
    char p[512], err[MN_ERR_LEN];
    mn_model *model;
    assert_int_equal(mn_model_load(mn_test_path(p, sizeof p, "tests/fixtures/ref/small.mnet"),
                                   &model, err), MN_OK);
    const mn_durtable *dt = &mn_model_cfg(model)->dur;
    mn_session *a, *b;
    assert_int_equal(mn_session_new(model, 1, &a, err), MN_OK);
    assert_int_equal(mn_session_new(model, 1, &b, err), MN_OK);
    mn_session_sampler(b)->motif = 0;
    int phrase[] = {62, 64, 66, 67, 69, 67, 66, 64};
    mn_motif mo;
    mn_motif_reset(&mo);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 8; i++) {
            mn_event e = {phrase[i], 90, dt->ticks[i % dt->n], 0, 0};
            int pp = 0, pd = 0, k = mn_motif_propose(&mo, &pp, &pd);
            double ba, bda, bb, bdb;
            mn_session_score(a, &e, &ba, &bda, NULL);
            mn_session_score(b, &e, &bb, &bdb, NULL);
            int d = mn_durtable_index(dt, e.dur_ticks);
            double lam = mn_motif_weight(k);
            double pn = exp2(-bb), pm = (1 - lam) * pn + (pp == e.pitch ? lam : 0);
            assert_true(fabs(ba - -log2(pm)) < 1e-9);
            double joint = (1 - lam) * exp2(-bb - bdb) + (pp == e.pitch && pd == d ? lam : 0);
            assert_true(fabs(ba + bda - -log2(joint)) < 1e-9);
            if (r == 1 && i >= 2) assert_true(ba < bb); /* the repeat is expected */
            mn_motif_push(&mo, e.pitch, d);
        }
    /* generation: prime with the phrase twice, then count notes that continue it */
    int hits[2] = {0, 0};
    for (int on = 0; on < 2; on++)
        for (int seed = 0; seed < 40; seed++) {
            mn_session *s = on ? a : b;
            mn_session_reset(s);
            mn_session_seed(s, (uint64_t)seed);
            for (int r = 0; r < 2; r++)
                for (int i = 0; i < 8; i++) {
                    mn_event e = {phrase[i], 90, dt->ticks[i % dt->n], 0, 0};
                    mn_session_feed(s, &e);
                }
            mn_event out;
            mn_session_sample(s, &out);
            hits[on] += out.pitch == phrase[0];
        }
    print_message("    phrase continued: %d/40 with motifs, %d/40 without\n", hits[1], hits[0]);
    assert_true(hits[1] > hits[0] + 10);
    mn_session_free(a);
    mn_session_free(b);
    mn_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transposed_repeat_is_proposed),
        cmocka_unit_test(test_longest_then_most_recent),
        cmocka_unit_test(test_rests_and_range),
        cmocka_unit_test(test_history_is_bounded),
        cmocka_unit_test(test_session_mixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
