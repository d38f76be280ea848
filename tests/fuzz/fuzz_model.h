/* fuzz_model.h - checks shared by the model harnesses: a loaded model's config and weights,
 * and a session over it whose pitch and duration logits and recurrent state stay finite after
 * every step, whose sampled events must be in range (pitch, velocity, a duration from the
 * table, position in the bar) and whose scores are never negative or NaN, under sampler
 * settings drawn from the input's hash. */
#ifndef MN_FUZZ_MODEL_H
#define MN_FUZZ_MODEL_H

#include "base.h"
#include "event.h"
#include "model.h"
#include "sampler.h"
#include "session.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"

#define STEPS 6

static void check_config(const mn_model *m)
{
    const mn_model_config *c = mn_model_cfg(m);
    char err[MN_ERR_LEN] = "";
    FUZZ_CHECK(mn_model_config_validate(c, err) == MN_OK, "loaded an invalid config: %s", err);
    FUZZ_CHECK(mn_model_n_params(m) == mn_model_param_count(c), "%zu params, layout has %zu",
               mn_model_n_params(m), mn_model_param_count(c));
    const float *p = mn_model_params(m);
    for (size_t i = 0; i < mn_model_n_params(m); i++)
        FUZZ_CHECK(isfinite(p[i]), "parameter %zu is %g", i, p[i]);
    for (size_t i = 0; i < mn_model_meta_count(m); i++) {
        const char *k, *v;
        mn_model_meta_at(m, i, &k, &v);
        FUZZ_CHECK(k && v && mn_model_meta(m, k) != NULL, "metadata %zu unreadable", i);
    }
}

/* The committed state after a step: h in [-1, 1] (o * tanh), c finite. */
static void check_state(const mn_session *s, const char *when, int i)
{
    const float *h, *c;
    size_t n;
    mn_session_state(s, &h, &c, &n);
    for (size_t k = 0; k < n; k++) {
        FUZZ_CHECK(isfinite(h[k]) && fabsf(h[k]) <= 1.0f, "%s %d: h[%zu] = %g", when, i, k, h[k]);
        FUZZ_CHECK(isfinite(c[k]), "%s %d: c[%zu] = %g", when, i, k, c[k]);
    }
}

static void check_logits(const float *lg, int n, const char *what, int i)
{
    for (int k = 0; k < n; k++)
        FUZZ_CHECK(isfinite(lg[k]), "step %d: %s logit %d is %g", i, what, k, lg[k]);
}

static int in_table(const mn_durtable *t, int ticks)
{
    for (int i = 0; i < t->n; i++)
        if (t->ticks[i] == ticks) return 1;
    return 0;
}

/* Sampler settings from the input's hash: valid ones, covering top-k, top-p, scales, ranges
 * and rests. */
static void pick_settings(mn_sampler *sm, uint64_t h)
{
    static const float temps[] = {1.0f, 0.05f, 3.0f, 1e-6f};
    static const float tops[] = {1.0f, 0.9f, 0.01f, 0.5f};
    mn_sampler_default(sm);
    sm->temperature = temps[h & 3];
    sm->top_k = (int)((h >> 2) & 7);
    sm->top_p = tops[(h >> 5) & 3];
    sm->pitch_lo = (int)((h >> 7) & 127);
    sm->pitch_hi = sm->pitch_lo + (int)((h >> 14) & 127);
    if (sm->pitch_hi > 127) sm->pitch_hi = 127;
    sm->scale_on = (int)((h >> 21) & 1);
    sm->scale_mask = (uint16_t)((h >> 22) & 0xFFF);
    sm->allow_rest = (int)((h >> 34) & 1);
    sm->velocity_lo = 1 + (int)((h >> 35) & 63);
    sm->velocity_hi = sm->velocity_lo + (int)((h >> 41) & 63);
    sm->accent = (int)((h >> 47) & 31);
}

static void run_session(mn_model *m, uint64_t h)
{
    mn_session *s = NULL;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_session_new(m, h, &s, err);
    FUZZ_CHECK(st == MN_OK || st == MN_ERR_NOMEM, "session failed: %s", err);
    if (st != MN_OK) return;
    const mn_durtable *dt = &mn_model_cfg(m)->dur;
    mn_sampler *sm = mn_session_sampler(s);
    pick_settings(sm, h);
    if (mn_sampler_validate(sm, err) != MN_OK) mn_sampler_default(sm);
    mn_session_set_clock(s, (int)(h >> 52 & 0xFF), (int)(h >> 60) * 24);

    for (int i = 0; i < STEPS; i++) {
        /* the logits the sampler is about to use (the step is computed once and reused) */
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        const float *lg = mn_session_pitch_logits(s, pos, bar);
        check_logits(lg, MN_N_PITCH, "pitch", i);
        int best = 0;
        for (int k = 1; k < MN_N_PITCH; k++)
            if (lg[k] > lg[best]) best = k;
        check_logits(mn_session_dur_logits(s, best), dt->n, "duration", i);
        mn_event e;
        memset(&e, 0xA5, sizeof e);
        mn_session_sample(s, &e);
        check_state(s, "step", i);
        int rest = e.pitch == MN_REST;
        FUZZ_CHECK(rest || (e.pitch >= 0 && e.pitch <= 127), "step %d: pitch %d", i, e.pitch);
        FUZZ_CHECK(rest || (e.pitch >= sm->pitch_lo && e.pitch <= sm->pitch_hi),
                   "step %d: pitch %d outside %d..%d", i, e.pitch, sm->pitch_lo, sm->pitch_hi);
        FUZZ_CHECK(!rest || sm->allow_rest, "step %d: rest while rests are off", i);
        FUZZ_CHECK(rest ? e.velocity == 0 : (e.velocity >= 1 && e.velocity <= 127),
                   "step %d: velocity %d", i, e.velocity);
        FUZZ_CHECK(in_table(dt, e.dur_ticks), "step %d: duration %d not in the table", i,
                   e.dur_ticks);
        FUZZ_CHECK(e.bar_ticks >= 1 && e.bar_ticks <= MN_MAX_BAR_TICKS && e.pos_ticks >= 0 &&
                   e.pos_ticks < e.bar_ticks, "step %d: position %d in a bar of %d", i,
                   e.pos_ticks, e.bar_ticks);
    }

    /* scoring, including events a caller might pass unchecked */
    mn_session_reset(s);
    static const mn_event evs[] = {
        {60, 90, 24, 0, 96},    {MN_REST, 0, 12, 24, 96}, {-5, 90, 0, -3, 0},
        {200, 90, 100000, 1000, 100000}, {127, 1, 1, 95, 96}, {0, 127, MN_MAX_DUR_TICKS, 7, 7},
    };
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++) {
        double bp = -1, bd = -1;
        int am = -1;
        mn_session_score(s, &evs[i], &bp, &bd, &am);
        check_state(s, "scored event", (int)i);
        FUZZ_CHECK(bp >= 0 && bd >= 0, "event %zu: bits %g / %g", i, bp, bd);
        FUZZ_CHECK(am >= 0 && am < MN_N_PITCH, "event %zu: argmax %d", i, am);
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        FUZZ_CHECK(bar >= 1 && bar <= MN_MAX_BAR_TICKS && pos >= 0 && pos < bar,
                   "after event %zu: clock %d in a bar of %d", i, pos, bar);
    }
    mn_session_free(s);
}

#endif
