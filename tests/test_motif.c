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
            int pp = 0, pd = 0, dist = 0, k = mn_motif_propose_at(&mo, &pp, &pd, &dist);
            double ba, bda, bb, bdb;
            mn_session_score(a, &e, &ba, &bda, NULL);
            mn_session_score(b, &e, &bb, &bdb, NULL);
            int d = mn_durtable_index(dt, e.dur_ticks);
            double lam = mn_motif_lambda(mn_session_motif_params(a), k, dist);
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

/* The parameter text: a round trip, and one clear error for each kind of fault. */
static void test_params_text(void **state)
{
    (void)state;
    mn_motif_params p, q;
    mn_motif_params_default(&p);
    p.veto = 0.001f;
    p.cap[5] = 0.25f;
    char buf[MN_MOTIF_PARAMS_TEXT], err[MN_ERR_LEN];
    mn_motif_params_format(&p, buf, sizeof buf);
    assert_int_equal(mn_motif_params_parse(buf, &q, err), MN_OK);
    for (int k = 0; k < MN_MOTIF_MAX_K; k++) {
        assert_true(fabs(q.far[k] - p.far[k]) < 1e-4 && fabs(q.near[k] - p.near[k]) < 1e-4);
        assert_true(q.near[k] <= MN_MOTIF_NEAR_CAP);
    }
    assert_true(fabs(q.veto - 0.001f) < 1e-7 && fabs(q.cap[5] - 0.25f) < 1e-6 && q.cap[0] == 1);
    static const char *const bad[][2] = {
        {"far=0.1 near=0.1 veto=0 cap=1", "far has 1 entries"},
        {"", "no far"},
        {"bogus=1", "unknown key"},
        {NULL, "twice"},
        {NULL, "near weight 1 is 0.9"},
        {NULL, "repeat cap 16 is 0"},
        {NULL, "not a number"},
    };
    char text[7][MN_MOTIF_PARAMS_TEXT];
    for (int i = 0; i < 7; i++) snprintf(text[i], sizeof text[i], "%s", bad[i][0] ? bad[i][0] : "");
    snprintf(text[3], sizeof text[3], "%s", buf);
    strncat(text[3], " veto=0", sizeof text[3] - strlen(text[3]) - 1);
    mn_motif_params r = p;
    r.near[0] = 0.9f;
    mn_motif_params_format(&r, text[4], sizeof text[4]);
    r = p;
    r.cap[15] = 0;
    mn_motif_params_format(&r, text[5], sizeof text[5]);
    snprintf(text[6], sizeof text[6], "%s", buf);
    memcpy(strstr(text[6], "veto=") + 5, "x", 1);
    for (int i = 0; i < 7; i++) {
        q = p;
        err[0] = 0;
        assert_int_equal(mn_motif_params_parse(text[i], &q, err), MN_ERR_FORMAT);
        if (!strstr(err, bad[i][1])) fail_msg("'%s': got '%s', expected '%s'", text[i], err, bad[i][1]);
        assert_memory_equal(&q, &p, sizeof p); /* left as it was */
    }
}

/* The weight: far and near tables by distance, nothing for a figure's fourth time in a row,
 * the cap by run length. */
static void test_lambda_rules(void **state)
{
    (void)state;
    mn_motif_params p;
    mn_motif_params_default(&p);
    for (int k = 1; k <= MN_MOTIF_MAX_K; k++) {
        p.far[k - 1] = 0.9f;
        p.near[k - 1] = 0.4f;
    }
    p.cap[3] = 0.3f;
    assert_true(mn_motif_lambda(&p, 0, 20) == 0);
    assert_true(fabs(mn_motif_lambda(&p, 4, MN_MOTIF_NEAR + 1) - 0.9) < 1e-6);
    assert_true(fabs(mn_motif_lambda(&p, 40, 100) - 0.9) < 1e-6);
    /* a figure of 3 events: sounded twice (k = 3) and a third time (k = 5) may be proposed,
     * a fourth time (k = 6) not; a repeated note (dist 1) at most three times in a row */
    assert_true(fabs(mn_motif_lambda(&p, 3, 3) - 0.4) < 1e-6);
    assert_true(fabs(mn_motif_lambda(&p, 5, 3) - 0.4) < 1e-6);
    assert_true(mn_motif_lambda(&p, 6, 3) == 0);
    assert_true(mn_motif_lambda(&p, 1, 1) > 0 && mn_motif_lambda(&p, 2, 1) == 0);
    assert_true(mn_motif_repeat_cap(&p, 0) == 1 && mn_motif_repeat_cap(&p, 3) == 1);
    assert_true(fabs(mn_motif_repeat_cap(&p, 4) - 0.3) < 1e-6);

    /* the memory itself: a note repeated keeps its run */
    mn_motif m;
    mn_motif_reset(&m);
    int pitch[] = {60, 60, MN_REST, 60, 62}, dur[] = {1, 1, 1, 1, 1};
    push_all(&m, pitch, dur, 4);
    assert_int_equal(m.run, 3);
    mn_motif_push(&m, 62, 1);
    assert_int_equal(m.run, 1);
}

/* The fit recovers a mixture weight it was given, keeps near weights under the cap, and sets
 * repeat caps to the share of runs the tunes continue. */
static void test_fit(void **state)
{
    (void)state;
    size_t n = 40000;
    mn_motif_obs *obs = calloc(n, sizeof *obs);
    assert_non_null(obs);
    uint64_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) * 0x1.0p-53;
        mn_motif_obs *o = &obs[i];
        o->q = o->q_pitch = 0.1;
        o->q_prop = 0.5;
        if (i % 2 == 0) { /* far, k = 6: the true weight 0.6 (hit with 0.6 + 0.4 * 0.1) */
            o->k = 6;
            o->dist = 30;
            o->hit = o->pitch_hit = u < 0.64;
        } else if (i % 4 == 1) { /* near, k = 1, dist 4: the data wants 0.8, the cap says 0.5 */
            o->k = 1;
            o->dist = 4;
            o->hit = o->pitch_hit = u < 0.82;
        }
        if (i % 4 == 3) { /* runs of 10 notes, continued 30% of the time */
            o->run = 10;
            o->repeat = u < 0.3;
            o->q_rep = 0.95;
        }
    }
    mn_motif_params p;
    double b0, b1;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_motif_fit(obs, n, &p, &b0, &b1, err), MN_OK);
    assert_true(fabs(p.far[5] - 0.6) < 0.02);
    assert_true(fabs(p.near[0] - MN_MOTIF_NEAR_CAP) < 1e-3);
    assert_true(b1 < b0);
    assert_true(fabs(p.cap[9] - 0.3) < 0.02);
    assert_int_equal(mn_motif_fit(obs, 0, &p, &b0, &b1, err), MN_ERR_EMPTY);
    free(obs);
}

/* A model's motif_params and start_metre are read by the session; a broken one is refused with
 * a message naming the key, and a run of one pitch is capped in the score as in sampling. */
static void test_session_reads_params(void **state)
{
    (void)state;
    char p[512], err[MN_ERR_LEN];
    mn_model *model;
    assert_int_equal(mn_model_load(mn_test_path(p, sizeof p, "tests/fixtures/ref/small.mnet"),
                                   &model, err), MN_OK);
    char tmpbuf[512];
    const char *tmp = mn_test_tmpfile(tmpbuf, sizeof tmpbuf, ".mnet");
    mn_motif_params mp;
    mn_motif_params_default(&mp);
    for (int r = 3; r < MN_MOTIF_RUNS; r++) mp.cap[r] = 0.2f;
    char txt[MN_MOTIF_PARAMS_TEXT];
    mn_motif_params_format(&mp, txt, sizeof txt);
    const char *meta[2][2] = {{"motif_params", txt}, {"start_metre", "72:48:3 96:0:1"}};
    assert_int_equal(mn_model_save(tmp, mn_model_cfg(model), mn_model_params(model),
                                   (const char *const(*)[2])meta, 2, err), MN_OK);
    mn_model *m2;
    assert_int_equal(mn_model_load(tmp, &m2, err), MN_OK);
    mn_session *s, *net;
    assert_int_equal(mn_session_new(m2, 5, &s, err), MN_OK);
    assert_int_equal(mn_session_new(m2, 5, &net, err), MN_OK);
    mn_session_sampler(net)->motif = 0;
    assert_true(fabs(mn_session_motif_params(s)->cap[5] - 0.2) < 1e-6);
    /* ten of one pitch: from the fifth on (after a run of 4), at most 0.2 of the odds */
    const mn_durtable *dt = &mn_model_cfg(m2)->dur;
    for (int i = 0; i < 10; i++) {
        mn_event e = {64, 90, dt->ticks[0], 0, 0};
        double bp, bn;
        mn_session_score(s, &e, &bp, NULL, NULL);
        mn_session_score(net, &e, &bn, NULL, NULL);
        if (i >= 4) assert_true(bp >= -log2(0.2) - 1e-9);
    }
    /* sampling at a low temperature: after 8 of one pitch the repeat keeps at most 0.2 of the
     * odds after the temperature (the network alone repeats far more often here) */
    int rp = 64;
    double best = -1;
    for (int q = 0; q < 128; q++) { /* the pitch the network most likes to repeat */
        mn_session_reset(net);
        for (int i = 0; i < 8; i++) {
            mn_event e = {q, 90, dt->ticks[0], 0, 0};
            mn_session_feed(net, &e);
        }
        int pos, bar;
        mn_session_clock(net, &pos, &bar);
        double pq = exp2(-mn_neglog2_softmax(mn_session_pitch_logits(net, pos, bar), MN_N_PITCH, q));
        if (pq > best) best = pq, rp = q;
    }
    int rep[2] = {0, 0};
    for (int on = 0; on < 2; on++)
        for (int seed = 0; seed < 300; seed++) {
            mn_session *x = on ? s : net;
            mn_session_reset(x);
            mn_session_seed(x, (uint64_t)seed);
            mn_session_sampler(x)->temperature = 0.3f;
            for (int i = 0; i < 8; i++) {
                mn_event e = {rp, 90, dt->ticks[0], 0, 0};
                mn_session_feed(x, &e);
            }
            mn_event out;
            mn_session_sample(x, &out);
            rep[on] += out.pitch == rp;
        }
    print_message("    repeats of %d after a run of 8 at T 0.3: %d/300 capped, %d/300 network "
                  "(p %.2f at T 1)\n", rp, rep[1], rep[0], best);
    assert_true(rep[1] <= 0.2 * 300 + 25);
    assert_true(rep[0] > rep[1] + 30);
    mn_session_sampler(s)->temperature = 1;
    mn_session_sampler(net)->temperature = 1;
    /* starts: 3 of 4 unprimed melodies begin in a 72-tick bar on its position 48 */
    int pick72 = 0;
    for (int i = 0; i < 400; i++) {
        mn_session_reset(s);
        assert_int_equal(mn_session_draw_start(s), 1);
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        assert_true((bar == 72 && pos == 48) || (bar == 96 && pos == 0));
        pick72 += bar == 72;
    }
    assert_true(pick72 > 260 && pick72 < 340);
    mn_session_free(s);
    mn_session_free(net);
    mn_model_free(m2);
    /* without the metadata: the built-in table, no start table */
    assert_int_equal(mn_session_new(model, 5, &s, err), MN_OK);
    assert_int_equal(mn_session_draw_start(s), 0);
    mn_session_free(s);

    static const char *const broken[][3] = {
        {"motif_params", "far=1", "metadata motif_params: motif params: far has 1 entries"},
        {"start_metre", "96:96:1", "metadata start_metre: entry 1 (96:96:1) out of range"},
        {"start_metre", "96:0", "metadata start_metre: entry 1 is not BAR:POS:COUNT"},
    };
    for (int i = 0; i < 3; i++) {
        const char *mt[1][2] = {{broken[i][0], broken[i][1]}};
        assert_int_equal(mn_model_save(tmp, mn_model_cfg(model), mn_model_params(model),
                                       (const char *const(*)[2])mt, 1, err), MN_OK);
        /* the load check runs a session on the model, so a model whose metadata no session
         * can read is refused at load, with the session's reason */
        m2 = (mn_model *)1;
        assert_int_equal(mn_model_load(tmp, &m2, err), MN_ERR_FORMAT);
        assert_null(m2);
        if (!strstr(err, broken[i][2]) || !strstr(err, tmp))
            fail_msg("got '%s', expected '%s'", err, broken[i][2]);
    }
    unlink(tmp);
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
        cmocka_unit_test(test_params_text),
        cmocka_unit_test(test_lambda_rules),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_session_reads_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
