/* gemm.h - the trainer's matrix products, C = alpha op(A) op(B) + beta C in row-major float32,
 * behind one call with two implementations: a portable cache-blocked C one (the Pd externals
 * link only this, so they need no BLAS) and OpenBLAS's cblas_sgemm (gemm_blas.c: the command
 * and the tests). Both give the same products within float rounding (tests/test_gemm.c).
 * Allocates nothing. */
#ifndef MN_GEMM_H
#define MN_GEMM_H

#define MN_GEMM_N 0  /* op(X) = X */
#define MN_GEMM_T 1  /* op(X) = X^T */

/* op(A) is [m, k] and op(B) is [k, n]; lda, ldb, ldc are row strides of A, B, C as stored.
 * beta == 0 overwrites C (whatever it held, NaN included). */
typedef void (*mn_gemm_fn)(int trans_a, int trans_b, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb, float beta,
                           float *c, int ldc);

/* The portable implementation: packs blocks of op(A) and op(B) on the stack (about 200 KiB)
 * and sums 6 x 16 tiles of C in vector registers (AVX2 when the CPU has it). */
void mn_gemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc);

/* OpenBLAS's cblas_sgemm (defined in gemm_blas.c, which links -lopenblas). */
void mn_gemm_openblas(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc);

/* Chooses the implementation mn_gemm runs for the whole process (NULL: the portable one, the
 * default). Set it once, before any trainer runs. */
void mn_gemm_use(mn_gemm_fn f);
mn_gemm_fn mn_gemm_current(void);

/* The product with the implementation chosen. */
void mn_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
             int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
