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

/* bf16 and int8 weights: every kernel equals the portable one bit for bit, and the portable
 * one equals a double-precision product over the same (widened or dequantised) weights. */
static void test_reduced_precision(void **state)
{
    (void)state;
    const mn_matvec_kernel all[] = {MN_MATVEC_AVX2, MN_MATVEC_AVX512};
    int compared = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int rows = shapes[s][0], na = shapes[s][1], nb = shapes[s][2];
        float *A = filled((size_t)rows * na, 1.0f), *x = filled((size_t)na, 4.0f);
        float *B = filled((size_t)rows * nb, 1.0f), *z = filled((size_t)nb, 4.0f);
        float *b = filled((size_t)rows, 2.0f);
        unsigned short *A16 = malloc(((size_t)rows * na + 1) * 2);
        signed char *B8 = malloc((size_t)rows * nb + 1);
        float *sB = malloc((size_t)rows * sizeof *sB);
        float *ref = malloc((size_t)rows * sizeof *ref), *got = malloc((size_t)rows * sizeof *got);
        assert_true(A16 && B8 && sB && ref && got);
        for (size_t i = 0; i < (size_t)rows * na; i++) A16[i] = mn_bf16_from_f32(A[i]);
        for (int r = 0; r < rows; r++)
            sB[r] = mn_i8_quantize_row(B + (size_t)r * nb, nb, B8 + (size_t)r * nb);
        mn_mat ma = {MN_WEIGHTS_BF16, A16, NULL, na}, mb = {MN_WEIGHTS_I8, B8, sB, nb};
        mn_matvec_select(MN_MATVEC_PORTABLE);
        mn_matvec_mat(rows, &ma, x, nb ? &mb : NULL, z, b, ref);
        double max_err = 0;
        for (int r = 0; r < rows; r++) {
            double d = b[r], mag = fabs(d);
            for (int j = 0; j < na; j++) {
                uint32_t u = (uint32_t)A16[(size_t)r * na + j] << 16;
                float w;
                memcpy(&w, &u, sizeof w);
                assert_true(fabsf(w - A[(size_t)r * na + j]) <= fabsf(A[(size_t)r * na + j]) / 256);
                d += (double)w * x[j];
                mag += fabs((double)w * x[j]);
            }
            for (int j = 0; nb && j < nb; j++) {
                double w = (double)sB[r] * B8[(size_t)r * nb + j];
                assert_true(fabs(w - B[(size_t)r * nb + j]) <= sB[r] / 2 * 1.0001);
                d += w * z[j];
                mag += fabs(w * z[j]);
            }
            double err = fabs(ref[r] - d) / (1e-30 + mag);
            if (err > max_err) max_err = err;
        }
        assert_true(max_err < 1e-6);
        for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
            if (!mn_matvec_supported(all[k])) continue;
            mn_matvec_select(all[k]);
            memset(got, 0xff, (size_t)rows * sizeof *got);
            mn_matvec_mat(rows, &ma, x, nb ? &mb : NULL, z, b, got);
            assert_memory_equal(got, ref, (size_t)rows * sizeof *got);
            compared++;
        }
        free(A), free(x), free(B), free(z), free(b), free(A16), free(B8), free(sB), free(ref),
            free(got);
    }
    mn_matvec_select(MN_MATVEC_AUTO);
    print_message("    %d bf16/int8 kernel runs bit-identical to the portable kernel\n", compared);
}

static void test_conversions(void **state)
{
    (void)state;
    /* round to nearest even at the 16th bit */
    assert_int_equal(mn_bf16_from_f32(1.0f), 0x3f80);
    float f;
    uint32_t u = 0x3f808000u; /* exactly halfway, even below: stays */
    memcpy(&f, &u, 4);
    assert_int_equal(mn_bf16_from_f32(f), 0x3f80);
    u = 0x3f818000u; /* halfway, odd below: up */
    memcpy(&f, &u, 4);
    assert_int_equal(mn_bf16_from_f32(f), 0x3f82);
    assert_true((mn_bf16_from_f32(NAN) & 0x7f80) == 0x7f80 && (mn_bf16_from_f32(NAN) & 0x7f));
    signed char q[4];
    const float row[4] = {-2.0f, 1.0f, 0.0f, 0.5f};
    float sc = mn_i8_quantize_row(row, 4, q);
    assert_true(fabsf(sc - 2.0f / 127) < 1e-9f);
    assert_int_equal(q[0], -127);
    assert_int_equal(q[1], 64);
    assert_int_equal(q[2], 0);
    const float zero[2] = {0, 0};
    assert_true(mn_i8_quantize_row(zero, 2, q) == 1.0f && q[0] == 0 && q[1] == 0);
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
        cmocka_unit_test(test_reduced_precision),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
