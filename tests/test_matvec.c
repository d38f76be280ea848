/* test_matvec.c - the step's matrix-vector kernels: each kernel this CPU runs gives exactly the
 * floats of the portable kernel (the same notes on every machine), and the portable kernel is
 * accurate against a double-precision product, over shapes with and without 16-column tails
 * and row counts that are not multiples of the kernels' row blocks. */
#include "testutil.h"

#include <math.h>

#include "matvec.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1 << 24) - 0.5f;
}

static float *filled(size_t n, float scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = uniform() * scale;
    return p;
}

static const int shapes[][3] = {
    /* rows, na, nb */
    {1, 1, 0},     {3, 17, 5},    {7, 33, 0},   {8, 16, 16},  {9, 15, 31},  {13, 48, 47},
    {129, 256, 0}, {32, 320, 0},  {1024, 192, 256}, {512, 128, 128}, {2048, 512, 512},
    {5, 0, 16},
};

static void test_kernels_equal_portable(void **state)
{
    (void)state;
    const mn_matvec_kernel all[] = {MN_MATVEC_AVX2, MN_MATVEC_AVX512};
    int compared = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int rows = shapes[s][0], na = shapes[s][1], nb = shapes[s][2];
        float *A = filled((size_t)rows * na, 1.0f), *x = filled((size_t)na, 4.0f);
        float *B = nb ? filled((size_t)rows * nb, 1.0f) : NULL, *z = filled((size_t)nb, 4.0f);
        float *b = filled((size_t)rows, 2.0f);
        float *ref = malloc((size_t)rows * sizeof *ref), *got = malloc((size_t)rows * sizeof *got);
        assert_non_null(ref);
        assert_non_null(got);
        assert_int_equal(mn_matvec_select(MN_MATVEC_PORTABLE), MN_MATVEC_PORTABLE);
        mn_matvec2(rows, A, na, x, B, nb, z, s % 2 ? NULL : b, ref);
        /* the portable kernel against double precision */
        double max_err = 0;
        for (int r = 0; r < rows; r++) {
            double d = s % 2 ? 0.0 : b[r], mag = fabs(d);
            for (int j = 0; j < na; j++) {
                d += (double)A[(size_t)r * na + j] * x[j];
                mag += fabs((double)A[(size_t)r * na + j] * x[j]);
            }
            for (int j = 0; j < nb; j++) {
                d += (double)B[(size_t)r * nb + j] * z[j];
                mag += fabs((double)B[(size_t)r * nb + j] * z[j]);
            }
            double err = fabs(ref[r] - d) / (1e-30 + mag);
            if (err > max_err) max_err = err;
        }
        assert_true(max_err < 1e-6);
        for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
            if (!mn_matvec_supported(all[k])) continue;
            assert_int_equal(mn_matvec_select(all[k]), all[k]);
            memset(got, 0xff, (size_t)rows * sizeof *got);
            mn_matvec2(rows, A, na, x, B, nb, z, s % 2 ? NULL : b, got);
            assert_memory_equal(got, ref, (size_t)rows * sizeof *got);
            compared++;
        }
        /* the one-matrix form is the two-matrix form without B */
        mn_matvec_select(MN_MATVEC_AUTO);
        mn_matvec(rows, A, na, x, b, got);
        mn_matvec_select(MN_MATVEC_PORTABLE);
        mn_matvec2(rows, A, na, x, NULL, 0, NULL, b, ref);
        assert_memory_equal(got, ref, (size_t)rows * sizeof *got);
        free(A), free(x), free(B), free(z), free(b), free(ref), free(got);
    }
    print_message("    %d kernel runs bit-identical to the portable kernel (in use: %s)\n",
                  compared, mn_matvec_name(mn_matvec_select(MN_MATVEC_AUTO)));
}

static void test_select(void **state)
{
    (void)state;
    mn_matvec_kernel best = mn_matvec_select(MN_MATVEC_AUTO);
    assert_true(best != MN_MATVEC_AUTO);
    assert_true(mn_matvec_supported(best));
    assert_int_equal(mn_matvec_current(), best);
    /* an unsupported choice falls back to the automatic one */
    for (int k = MN_MATVEC_PORTABLE; k <= MN_MATVEC_AVX512; k++) {
        mn_matvec_kernel got = mn_matvec_select((mn_matvec_kernel)k);
        assert_int_equal(got, mn_matvec_supported((mn_matvec_kernel)k) ? (mn_matvec_kernel)k : best);
    }
    assert_string_equal(mn_matvec_name(MN_MATVEC_PORTABLE), "portable");
    mn_matvec_select(MN_MATVEC_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_equal_portable),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
