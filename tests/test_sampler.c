/* test_sampler.c - the PRNG (pinned outputs so a platform change shows), sampling frequencies
 * against the softmax, temperature, top-k, top-p, range/scale/rest masks and their fallbacks,
 * named scales, validation, velocity, the log-softmax helper, and that nothing allocates. */
#include "testutil.h"

#include <math.h>

#include "sampler.h"

/*=== PRNG ===================================================================================*/

static void test_rng_pinned(void **state)
{
    (void)state;
    /* xoshiro256** seeded by splitmix64: seed 0 is the published reference sequence start */
    mn_rng r;
    mn_rng_seed(&r, 0);
    assert_true(mn_rng_next(&r) == 0x99ec5f36cb75f2b4ull);
    assert_true(mn_rng_next(&r) == 0xbf6e1f784956452aull);
    assert_true(mn_rng_next(&r) == 0x1a5f849d4933e6e0ull);
    assert_true(mn_rng_next(&r) == 0x6aa594f1262d2d2cull);
    mn_rng_seed(&r, 42);
    assert_true(mn_rng_next(&r) == 0x15780b2e0c2ec716ull);
    assert_true(mn_rng_next(&r) == 0x6104d9866d113a7eull);
    mn_rng_seed(&r, 42);
    double u = mn_rng_uniform(&r);
    assert_true(u == (double)(0x15780b2e0c2ec716ull >> 11) * 0x1.0p-53);
}

static void test_rng_reproducible(void **state)
{
    (void)state;
    mn_rng a, b, c;
    mn_rng_seed(&a, 1234);
    mn_rng_seed(&b, 1234);
    mn_rng_seed(&c, 1235);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mn_rng_next(&a), y = mn_rng_next(&b), z = mn_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 990);
}

static void test_rng_uniform_range(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 7);
    double sum = 0.0, lo = 1.0, hi = 0.0;
    int bins[10] = {0};
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = mn_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
        bins[(int)(u * 10)]++;
    }
    assert_true(fabs(sum / n - 0.5) < 0.005);
    assert_true(lo < 0.001 && hi > 0.999);
    for (int i = 0; i < 10; i++) assert_true(abs(bins[i] - n / 10) < 600); /* ~6 sigma */
}

/*=== sampling ===============================================================================*/

static void softmax(const float *l, int n, double t, double *p)
{
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) max = l[i] > max ? l[i] : max;
    for (int i = 0; i < n; i++) sum += (p[i] = exp((l[i] - max) / t));
    for (int i = 0; i < n; i++) p[i] /= sum;
}

static void check_frequencies(float temperature)
{
    const float logits[6] = {0.0f, 1.0f, 2.0f, -1.0f, 0.5f, 1.5f};
    mn_sampler s;
    mn_sampler_default(&s);
    s.temperature = temperature;
    mn_rng r;
    mn_rng_seed(&r, 99);
    float scratch[12];
    const int n = 200000;
    int count[6] = {0};
    for (int i = 0; i < n; i++) {
        int k = mn_sampler_duration(&s, &r, logits, 6, scratch);
        assert_in_range(k, 0, 5);
        count[k]++;
    }
    double p[6], chi2 = 0.0;
    softmax(logits, 6, temperature, p);
    for (int k = 0; k < 6; k++) {
        double f = (double)count[k] / n, sd = sqrt(p[k] * (1 - p[k]) / n);
        assert_true(fabs(f - p[k]) < 5 * sd);
        chi2 += (count[k] - n * p[k]) * (count[k] - n * p[k]) / (n * p[k]);
    }
    assert_true(chi2 < 20.5); /* 5 degrees of freedom, p ~ 0.001 */
}

static void test_frequencies_match_softmax(void **state)
{
    (void)state;
    check_frequencies(1.0f);
    check_frequencies(0.7f);
    check_frequencies(2.0f);
}

static void test_pitch_frequencies(void **state)
{
    (void)state;
    float logits[MN_N_PITCH], scratch[2 * MN_N_PITCH];
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = -30.0f;
    logits[60] = 2.0f;
    logits[62] = 1.0f;
    logits[MN_REST] = 1.5f;
    mn_sampler s;
    mn_sampler_default(&s);
    mn_rng r;
    mn_rng_seed(&r, 5);
    int c60 = 0, c62 = 0, crest = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        int k = mn_sampler_pitch(&s, &r, logits, scratch);
        c60 += k == 60;
        c62 += k == 62;
        crest += k == MN_REST;
    }
    assert_int_equal(c60 + c62 + crest, n);
    double z = exp(2.0) + exp(1.0) + exp(1.5);
    assert_true(fabs((double)c60 / n - exp(2.0) / z) < 0.008);
    assert_true(fabs((double)c62 / n - exp(1.0) / z) < 0.008);
}

static void test_low_temperature_is_argmax(void **state)
{
    (void)state;
    const float logits[5] = {0.3f, 1.2f, 1.1f, -4.0f, 1.19f};
    mn_sampler s;
    mn_sampler_default(&s);
    s.temperature = 1e-3f;
    mn_rng r;
    mn_rng_seed(&r, 3);
    float scratch[10];
    for (int i = 0; i < 2000; i++) assert_int_equal(mn_sampler_duration(&s, &r, logits, 5, scratch), 1);
    /* and a high temperature spreads toward uniform */
    s.temperature = 1000.0f;
    int seen[5] = {0};
    for (int i = 0; i < 5000; i++) seen[mn_sampler_duration(&s, &r, logits, 5, scratch)]++;
    for (int k = 0; k < 5; k++) assert_true(seen[k] > 800);
}

static void test_top_k(void **state)
{
    (void)state;
    const float logits[6] = {0.0f, 2.0f, 1.0f, 3.0f, 1.0f, 1.0f};
    mn_sampler s;
    mn_sampler_default(&s);
    mn_rng r;
    mn_rng_seed(&r, 11);
    float scratch[12];
    int seen[6] = {0};
    s.top_k = 2;
    for (int i = 0; i < 20000; i++) seen[mn_sampler_duration(&s, &r, logits, 6, scratch)]++;
    assert_true(seen[3] > 0 && seen[1] > 0);
    assert_int_equal(seen[0] + seen[2] + seen[4] + seen[5], 0);
    /* ratio inside the kept set follows the softmax: e^3 : e^2 */
    assert_true(fabs((double)seen[3] / 20000 - exp(3.0) / (exp(3.0) + exp(2.0))) < 0.02);

    /* ties at the cut go to the lower index: the three logits of 1 compete for one place */
    memset(seen, 0, sizeof seen);
    s.top_k = 3;
    for (int i = 0; i < 20000; i++) seen[mn_sampler_duration(&s, &r, logits, 6, scratch)]++;
    assert_true(seen[2] > 0);
    assert_int_equal(seen[0] + seen[4] + seen[5], 0);

    s.top_k = 1;
    for (int i = 0; i < 100; i++) assert_int_equal(mn_sampler_duration(&s, &r, logits, 6, scratch), 3);
    s.top_k = 100; /* larger than n: off */
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 20000; i++) seen[mn_sampler_duration(&s, &r, logits, 6, scratch)]++;
    for (int k = 0; k < 6; k++) assert_true(seen[k] > 0);
}

static void test_top_p(void **state)
{
    (void)state;
    /* probabilities 0.05, 0.5, 0.15, 0.3 */
    const float logits[4] = {logf(0.05f), logf(0.5f), logf(0.15f), logf(0.3f)};
    mn_sampler s;
    mn_sampler_default(&s);
    mn_rng r;
    mn_rng_seed(&r, 17);
    float scratch[8];
    int seen[4];

    s.top_p = 0.4f; /* 0.5 alone reaches it */
    for (int i = 0; i < 1000; i++) assert_int_equal(mn_sampler_duration(&s, &r, logits, 4, scratch), 1);

    s.top_p = 0.75f; /* 0.5 + 0.3 */
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 20000; i++) seen[mn_sampler_duration(&s, &r, logits, 4, scratch)]++;
    assert_int_equal(seen[0] + seen[2], 0);
    assert_true(fabs(seen[1] / 20000.0 - 0.5 / 0.8) < 0.02);

    s.top_p = 0.9f; /* 0.5 + 0.3 + 0.15 */
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 20000; i++) seen[mn_sampler_duration(&s, &r, logits, 4, scratch)]++;
    assert_int_equal(seen[0], 0);
    assert_true(seen[2] > 0);

    /* top-k and top-p together: the smaller set wins */
    s.top_p = 0.9f;
    s.top_k = 1;
    for (int i = 0; i < 1000; i++) assert_int_equal(mn_sampler_duration(&s, &r, logits, 4, scratch), 1);
}

static void test_masks(void **state)
{
    (void)state;
    float logits[MN_N_PITCH], scratch[2 * MN_N_PITCH];
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = 0.0f;
    logits[MN_REST] = 5.0f; /* rests would dominate if allowed */
    mn_sampler s;
    mn_sampler_default(&s);
    s.pitch_lo = 60;
    s.pitch_hi = 84;
    s.scale_on = 1;
    assert_int_equal(mn_scale_mask("major", 2, &s.scale_mask, NULL), MN_OK); /* D major */
    s.allow_rest = 0;
    assert_int_equal(mn_sampler_validate(&s, NULL), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, 23);
    int seen[MN_N_PITCH] = {0};
    for (int i = 0; i < 20000; i++) {
        int k = mn_sampler_pitch(&s, &r, logits, scratch);
        assert_in_range(k, 60, 84);
        int pc = k % 12;
        /* D E F# G A B C# */
        assert_true(pc == 2 || pc == 4 || pc == 6 || pc == 7 || pc == 9 || pc == 11 || pc == 1);
        seen[k]++;
    }
    assert_true(seen[61] > 0 && seen[62] > 0 && seen[83] > 0); /* the edges are reachable */
    assert_int_equal(seen[60], 0);

    /* rests allowed: the high rest logit wins most draws */
    s.allow_rest = 1;
    int rests = 0;
    for (int i = 0; i < 1000; i++) rests += mn_sampler_pitch(&s, &r, logits, scratch) == MN_REST;
    assert_true(rests > 800);
}

static void test_fallbacks(void **state)
{
    (void)state;
    float logits[MN_N_PITCH], scratch[2 * MN_N_PITCH];
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = (float)(k % 7) * 0.1f;
    mn_sampler s;
    mn_sampler_default(&s);
    s.allow_rest = 0;
    s.scale_on = 1;
    assert_int_equal(mn_scale_mask("major", 0, &s.scale_mask, NULL), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, 31);

    /* C#..D#: D is in C major, so the scale still holds */
    s.pitch_lo = 61;
    s.pitch_hi = 63;
    for (int i = 0; i < 200; i++) assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 62);

    /* C#..C#: no pitch of the scale in range, so the scale is ignored */
    s.pitch_lo = s.pitch_hi = 61;
    for (int i = 0; i < 200; i++) assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 61);
    s.scale_mask = 1u << 6; /* F# only, still outside */
    assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 61);

    /* an empty or outside range (settings that fail validation) still gives a valid pitch */
    s.scale_on = 0;
    s.pitch_lo = 140;
    s.pitch_hi = 150;
    assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 127);
    s.pitch_lo = -20;
    s.pitch_hi = -5;
    assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 0);

    /* logits that give every allowed class zero mass: uniform over the allowed set */
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = -INFINITY;
    s.pitch_lo = 70;
    s.pitch_hi = 72;
    int seen[3] = {0};
    for (int i = 0; i < 3000; i++) {
        int k = mn_sampler_pitch(&s, &r, logits, scratch);
        assert_in_range(k, 70, 72);
        seen[k - 70]++;
    }
    for (int i = 0; i < 3; i++) assert_true(seen[i] > 800);
    /* NaN logits never win */
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = NAN;
    logits[71] = 0.0f;
    for (int i = 0; i < 100; i++) assert_int_equal(mn_sampler_pitch(&s, &r, logits, scratch), 71);
}

static void test_deterministic_choices(void **state)
{
    (void)state;
    float logits[MN_N_PITCH], scratch[2 * MN_N_PITCH];
    /* integer-derived logits, so the pinned choices below do not hang on a libm's sin() */
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = (float)((k * 37) % 29) * 0.1f;
    mn_sampler s;
    mn_sampler_default(&s);
    s.top_p = 0.9f;
    s.top_k = 40;
    s.temperature = 0.8f;
    int a[64], b[64];
    mn_rng r;
    mn_rng_seed(&r, 2024);
    for (int i = 0; i < 64; i++) a[i] = mn_sampler_pitch(&s, &r, logits, scratch);
    mn_rng_seed(&r, 2024);
    for (int i = 0; i < 64; i++) b[i] = mn_sampler_pitch(&s, &r, logits, scratch);
    assert_memory_equal(a, b, sizeof a);
    /* the first choices of this seed, pinned: a change means the same seed plays other notes */
    const int pinned[16] = {7, 101, 10, 18, 101, 32, 47, 32, 72, 7, 94, 119, 112, 47, 101, 21};
    assert_memory_equal(a, pinned, sizeof pinned);
}

/*=== scales, validation, velocity ===========================================================*/

static void test_scales(void **state)
{
    (void)state;
    uint16_t m = 0, m2 = 0;
    /* the names mn_scale_mask's error lists */
    const char *names[] = {"major", "minor", "dorian", "phrygian", "lydian", "mixolydian",
                           "locrian", "harmonic", "melodic", "pentatonic", "minorpentatonic",
                           "blues", "chromatic", "wholetone", NULL};
    int n = 0;
    for (; names[n]; n++) {
        assert_int_equal(mn_scale_mask(names[n], 0, &m, NULL), MN_OK);
        assert_true(m & 1);          /* every scale holds its root */
        assert_true((m & ~0xFFFu) == 0);
        for (int root = 1; root < 12; root++) {
            assert_int_equal(mn_scale_mask(names[n], root, &m2, NULL), MN_OK);
            assert_true((m2 >> root) & 1);
            assert_int_equal(__builtin_popcount(m2), __builtin_popcount(m));
        }
    }
    assert_int_equal(n, 14);

    assert_int_equal(mn_scale_mask("major", 0, &m, NULL), MN_OK);
    assert_int_equal(m, 0xAB5);
    assert_int_equal(mn_scale_mask("major", 7, &m, NULL), MN_OK); /* G major has F# */
    assert_int_equal(m, 0xAD5);
    assert_int_equal(mn_scale_mask("minor", 9, &m, NULL), MN_OK); /* A minor = C major */
    assert_int_equal(m, 0xAB5);
    assert_int_equal(mn_scale_mask("pentatonic", 0, &m, NULL), MN_OK);
    assert_int_equal(m, 0x295);
    assert_int_equal(mn_scale_mask("blues", 0, &m, NULL), MN_OK);
    assert_int_equal(m, 0x4E9);
    assert_int_equal(mn_scale_mask("chromatic", 5, &m, NULL), MN_OK);
    assert_int_equal(m, 0xFFF);
    assert_int_equal(mn_scale_mask("harmonic", 0, &m, NULL), MN_OK);
    assert_int_equal(m, 0x9AD);

    const char *same[][2] = {{"ionian", "major"},         {"aeolian", "minor"},
                             {"naturalminor", "minor"},   {"majorpentatonic", "pentatonic"},
                             {"Harmonic-Minor", "harmonic"}, {"MELODIC_minor", "melodic"},
                             {"whole tone", "wholetone"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(mn_scale_mask(same[i][0], 4, &m, NULL), MN_OK);
        assert_int_equal(mn_scale_mask(same[i][1], 4, &m2, NULL), MN_OK);
        assert_int_equal(m, m2);
    }

    char err[MN_ERR_LEN] = "";
    m = 0x123;
    assert_int_equal(mn_scale_mask("bebop", 0, &m, err), MN_ERR_ARG);
    assert_int_equal(m, 0x123); /* untouched on failure */
    assert_non_null(strstr(err, "bebop"));
    assert_non_null(strstr(err, "major"));
    assert_non_null(strstr(err, "wholetone"));
    assert_int_equal(mn_scale_mask("major", 12, &m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "root"));
    assert_int_equal(mn_scale_mask("major", -1, &m, err), MN_ERR_ARG);
    assert_int_equal(mn_scale_mask(NULL, 0, &m, err), MN_ERR_ARG);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(mn_scale_mask(longname, 0, &m, err), MN_ERR_ARG);
    assert_true(strlen(err) < MN_ERR_LEN);
}

static void test_validate(void **state)
{
    (void)state;
    mn_sampler s;
    char err[MN_ERR_LEN];
    mn_sampler_default(&s);
    assert_int_equal(mn_sampler_validate(&s, err), MN_OK);
    assert_true(s.temperature == 1.0f && s.top_k == 0 && s.top_p == 1.0f);
    assert_int_equal(s.pitch_lo, 0);
    assert_int_equal(s.pitch_hi, 127);
    assert_int_equal(s.velocity_lo, 90);
    assert_int_equal(s.velocity_hi, 90);
    assert_true(s.allow_rest && !s.scale_on && s.accent == 0);

#define BAD(field, value, word)                                                                    \
    do {                                                                                           \
        mn_sampler_default(&s);                                                                    \
        s.field = value;                                                                           \
        err[0] = '\0';                                                                             \
        assert_int_equal(mn_sampler_validate(&s, err), MN_ERR_ARG);                                \
        assert_non_null(strstr(err, word));                                                        \
    } while (0)
    BAD(temperature, 0.0f, "temperature");
    BAD(temperature, -1.0f, "temperature");
    BAD(temperature, NAN, "temperature");
    BAD(temperature, INFINITY, "temperature");
    BAD(top_k, -1, "top_k");
    BAD(top_p, 0.0f, "top_p");
    BAD(top_p, 1.01f, "top_p");
    BAD(top_p, NAN, "top_p");
    BAD(pitch_lo, -1, "pitch range");
    BAD(pitch_hi, 128, "pitch range");
    BAD(pitch_lo, 128, "pitch range"); /* lo > hi */
    BAD(velocity_lo, 0, "velocity");
    BAD(velocity_hi, 128, "velocity");
    BAD(velocity_lo, 100, "velocity"); /* lo > hi = 90 */
    BAD(accent, -1, "accent");
    BAD(accent, 128, "accent");
#undef BAD
    mn_sampler_default(&s);
    s.scale_on = 1;
    s.scale_mask = 0;
    assert_int_equal(mn_sampler_validate(&s, err), MN_ERR_ARG);
    s.top_p = 1.0f;
    s.scale_mask = 0xAB5;
    s.top_k = 5;
    s.temperature = 1e-6f;
    s.pitch_lo = s.pitch_hi = 127;
    s.velocity_lo = s.velocity_hi = 127;
    s.accent = 127;
    assert_int_equal(mn_sampler_validate(&s, err), MN_OK);
}

static void test_velocity(void **state)
{
    (void)state;
    mn_sampler s;
    mn_sampler_default(&s);
    mn_rng r;
    mn_rng_seed(&r, 8);
    assert_int_equal(mn_sampler_velocity(&s, &r, 60, 0), 90);
    assert_int_equal(mn_sampler_velocity(&s, &r, MN_REST, 0), 0);
    s.velocity_lo = 60;
    s.velocity_hi = 64;
    int seen[5] = {0};
    for (int i = 0; i < 5000; i++) {
        int v = mn_sampler_velocity(&s, &r, 60, 12);
        assert_in_range(v, 60, 64);
        seen[v - 60]++;
    }
    for (int i = 0; i < 5; i++) assert_true(seen[i] > 800);
    s.accent = 20;
    for (int i = 0; i < 200; i++) {
        assert_in_range(mn_sampler_velocity(&s, &r, 60, 0), 80, 84);
        assert_in_range(mn_sampler_velocity(&s, &r, 60, 6), 60, 64);
    }
    s.velocity_lo = 120;
    s.velocity_hi = 127;
    for (int i = 0; i < 200; i++) assert_int_equal(mn_sampler_velocity(&s, &r, 60, 0), 127);
    assert_int_equal(mn_sampler_velocity(&s, &r, MN_REST, 0), 0);
}

static void test_neglog2_softmax(void **state)
{
    (void)state;
    const float l[4] = {0.5f, -1.0f, 2.0f, 0.0f};
    double p[4];
    softmax(l, 4, 1.0, p);
    for (int k = 0; k < 4; k++)
        assert_true(fabs(mn_neglog2_softmax(l, 4, k) - -log2(p[k])) < 1e-12);
    /* uniform over 8 classes: exactly 3 bits */
    const float u[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    assert_true(fabs(mn_neglog2_softmax(u, 8, 5) - 3.0) < 1e-12);
    /* large logits do not overflow */
    const float big[2] = {1000.0f, 0.0f};
    assert_true(fabs(mn_neglog2_softmax(big, 2, 1) - 1000.0 / log(2.0)) < 1e-9);
    assert_true(mn_neglog2_softmax(big, 2, 0) >= 0.0 && mn_neglog2_softmax(big, 2, 0) < 1e-12);
    const float huge[2] = {3e38f, -3e38f};
    assert_true(isfinite(mn_neglog2_softmax(huge, 2, 0)));
    assert_true(mn_neglog2_softmax(l, 4, 4) == INFINITY);
    assert_true(mn_neglog2_softmax(l, 4, -1) == INFINITY);
}

static void test_no_allocation(void **state)
{
    (void)state;
    float logits[MN_N_PITCH], scratch[2 * MN_N_PITCH];
    for (int k = 0; k < MN_N_PITCH; k++) logits[k] = (float)cos(k * 0.1);
    mn_sampler s;
    mn_sampler_default(&s);
    s.top_k = 10;
    s.top_p = 0.8f;
    s.scale_on = 1;
    s.scale_mask = 0xAB5;
    s.velocity_lo = 50;
    s.velocity_hi = 100;
    mn_rng r;
    mn_test_count_allocs();
    mn_test_alloc_count = 0;
    mn_rng_seed(&r, 1);
    uint16_t m;
    char err[MN_ERR_LEN];
    for (int i = 0; i < 1000; i++) {
        int p = mn_sampler_pitch(&s, &r, logits, scratch);
        (void)mn_sampler_duration(&s, &r, logits, 20, scratch);
        (void)mn_sampler_velocity(&s, &r, p, i % 4);
        (void)mn_neglog2_softmax(logits, MN_N_PITCH, p);
    }
    (void)mn_scale_mask("dorian", 3, &m, err);
    (void)mn_scale_mask("nope", 3, &m, err);
    (void)mn_sampler_validate(&s, err);
    size_t count = mn_test_alloc_count;
    mn_set_allocator(NULL);
    assert_int_equal(count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_pinned),
        cmocka_unit_test(test_rng_reproducible),
        cmocka_unit_test(test_rng_uniform_range),
        cmocka_unit_test(test_frequencies_match_softmax),
        cmocka_unit_test(test_pitch_frequencies),
        cmocka_unit_test(test_low_temperature_is_argmax),
        cmocka_unit_test(test_top_k),
        cmocka_unit_test(test_top_p),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_deterministic_choices),
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_velocity),
        cmocka_unit_test(test_neglog2_softmax),
        cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
