/* test_vmath.c - the cell's sigmoid, tanh and exp: accurate against double-precision libm, and
 * the SIMD path gives exactly the floats of the scalar path (the same notes on every platform). */
#include "testutil.h"

#include <math.h>

#include "vmath.h"

static void test_accuracy(void **state)
{
    (void)state;
    double max_exp = 0, max_sig = 0, max_tanh = 0;
    for (float x = -80.0f; x <= 0.0f; x += 0.0007f) {
        double e = exp((double)x);
        max_exp = fmax(max_exp, fabs(mn_exp_neg(x) - e) / e);
    }
    for (float x = -30.0f; x <= 30.0f; x += 0.0003f) {
        max_sig = fmax(max_sig, fabs(mn_sigmoidf(x) - 1.0 / (1.0 + exp(-(double)x))));
        max_tanh = fmax(max_tanh, fabs(mn_tanhf(x) - tanh((double)x)));
    }
    print_message("    max error: exp %.2g relative, sigmoid %.2g, tanh %.2g absolute\n", max_exp,
                  max_sig, max_tanh);
    assert_true(max_exp < 3e-7);
    assert_true(max_sig < 2e-7);
    assert_true(max_tanh < 3e-7);
    /* the ends: no overflow, no NaN */
    assert_true(mn_sigmoidf(1e30f) == 1.0f && mn_sigmoidf(-1e30f) >= 0.0f);
    assert_true(mn_tanhf(1e30f) == 1.0f && mn_tanhf(-1e30f) == -1.0f);
    assert_true(mn_tanhf(0.0f) == 0.0f && mn_sigmoidf(0.0f) == 0.5f);
    assert_false(isnan(mn_sigmoidf(NAN)) || isnan(mn_tanhf(-INFINITY)));
}

/* The scalar cell, unit by unit, for comparison with mn_lstm_cell's SIMD blocks. */
static void scalar_cell(int H, const float *pre, const float *c_old, float *c_new, float *h_new)
{
    for (int j = 0; j < H; j++) {
        float c = mn_sigmoidf(pre[H + j]) * c_old[j] + mn_sigmoidf(pre[j]) * mn_tanhf(pre[2 * H + j]);
        c_new[j] = c;
        h_new[j] = mn_sigmoidf(pre[3 * H + j]) * mn_tanhf(c);
    }
}

static void test_simd_equals_scalar(void **state)
{
    (void)state;
    enum { H = 67 }; /* not a multiple of 4: both paths run */
    float pre[4 * H], c_old[H], c1[H], h1[H], c2[H], h2[H], act[4 * H], tc[H];
    uint64_t r = 88172645463325252ull;
    for (int round = 0; round < 2000; round++) {
        for (int k = 0; k < 4 * H; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            float u = (float)(r >> 40) / (float)(1 << 24);
            pre[k] = (u - 0.5f) * (round % 10 == 0 ? 400.0f : 16.0f);
            if (k < H) c_old[k] = (u - 0.5f) * 6.0f;
        }
        mn_lstm_cell(H, pre, c_old, c1, h1, act, tc);
        scalar_cell(H, pre, c_old, c2, h2);
        assert_memory_equal(c1, c2, sizeof c1);
        assert_memory_equal(h1, h2, sizeof h1);
        for (int j = 0; j < H; j++) {
            assert_true(act[j] == mn_sigmoidf(pre[j]));
            assert_true(act[2 * H + j] == mn_tanhf(pre[2 * H + j]));
            assert_true(tc[j] == mn_tanhf(c1[j]));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_simd_equals_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
