/* gemm_blas.c - mn_gemm_openblas: gemm.h's product through OpenBLAS. Kept apart from gemm.c so
 * that what links the portable product alone (the Pd externals) needs no BLAS. */
#include "gemm.h"

#include <cblas.h>

void mn_gemm_openblas(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}
