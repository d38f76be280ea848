/* test_gemm.c - the trainer's matrix products: the portable implementation against OpenBLAS
 * (the two the externals and the command use) and against a double-precision product, for
 * every transpose combination, alpha and beta, strides wider than the rows, and shapes that
 * are not multiples of the blocks or the register tile (and shapes of the default model). */
#include "testutil.h"

#include <math.h>

#include "gemm.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static float uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1 << 24) - 0.5f;
}

static float *filled(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = uniform();
    return p;
}

static const int shapes[][3] = {
    /* m, n, k */
    {1, 1, 1},    {3, 5, 7},      {4, 16, 256},  {5, 17, 257},  {63, 129, 31}, {65, 127, 513},
    {32, 1024, 256}, {2048, 129, 256}, {129, 256, 2048}, {1024, 64, 33}, {7, 300, 0},
};

/* |x - y| <= atol + rtol * scale, where scale is the sum of |terms| of the entry */
static void check(int ta, int tb, int m, int n, int k, float alpha, float beta)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb,
           nc = (size_t)m * ldc;
    float *a = filled(na), *b = filled(nb), *c0 = filled(nc);
    float *cp = malloc(nc * sizeof *cp), *cb = malloc(nc * sizeof *cb);
    assert_non_null(cp), assert_non_null(cb);
    memcpy(cp, c0, nc * sizeof *cp);
    memcpy(cb, c0, nc * sizeof *cb);
    mn_gemm_portable(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cp, ldc);
    mn_gemm_openblas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cb, ldc);
    double worst = 0, worst_blas = 0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < ldc; j++) {
            size_t at = (size_t)i * ldc + j;
            if (j >= n) { /* the stride's padding is not touched */
                assert_true(cp[at] == c0[at]);
                continue;
            }
            double s = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y, mag += fabs(x * y);
            }
            double ref = alpha * s + (beta == 0 ? 0 : beta * c0[at]);
            double scale = fabs(alpha) * mag + fabs(beta * c0[at]) + 1e-6;
            double e = fabs(cp[at] - ref) / scale, eb = fabs(cp[at] - cb[at]) / scale;
            if (e > worst) worst = e;
            if (eb > worst_blas) worst_blas = eb;
        }
    }
    /* float32 sums of k terms: a few units of 2^-24 per term at most */
    double tol = 4e-7 * (k > 16 ? sqrt((double)k) * 4 : 16);
    if (worst > tol || worst_blas > 2 * tol)
        fail_msg("gemm %c%c m=%d n=%d k=%d alpha=%g beta=%g: relative error %.3g against "
                 "double, %.3g against OpenBLAS (tolerance %.3g)", ta ? 'T' : 'N',
                 tb ? 'T' : 'N', m, n, k, alpha, beta, worst, worst_blas, tol);
    free(a), free(b), free(c0), free(cp), free(cb);
}

static void test_portable_matches_openblas(void **state)
{
    (void)state;
    static const float ab[][2] = {{1, 0}, {1, 1}, {-0.5f, 0.25f}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (size_t q = 0; q < sizeof ab / sizeof *ab; q++)
                    check(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], ab[q][0], ab[q][1]);
}

/* beta 0 overwrites C, NaN included, as BLAS does */
static void test_beta_zero_overwrites(void **state)
{
    (void)state;
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4];
    for (int i = 0; i < 4; i++) c[i] = NAN;
    mn_gemm_portable(MN_GEMM_N, MN_GEMM_N, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
    float want[4] = {4, 5, 10, 11};
    for (int i = 0; i < 4; i++) assert_true(c[i] == want[i]);
}

/* mn_gemm runs the implementation chosen */
static void test_choice(void **state)
{
    (void)state;
    assert_ptr_equal(mn_gemm_current(), mn_gemm_portable);
    mn_gemm_use(mn_gemm_openblas);
    assert_ptr_equal(mn_gemm_current(), mn_gemm_openblas);
    mn_gemm_use(NULL);
    assert_ptr_equal(mn_gemm_current(), mn_gemm_portable);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portable_matches_openblas),
        cmocka_unit_test(test_beta_zero_overwrites),
        cmocka_unit_test(test_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
