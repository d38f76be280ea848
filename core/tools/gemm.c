/* gemm.c - the portable matrix product of gemm.h and the choice of implementation.
 *
 * Blocking: C is computed in panels of NC columns; for each KC-deep slice of the inner
 * dimension, op(B)[KC, NC] is packed once (zero-padded to whole 16-column tiles) and, for each
 * MC rows, op(A)[MC, KC] times alpha (zero-padded to whole 6-row tiles). A 6 x 16 tile of C is
 * then summed in registers over the slice (vectors of 8 floats), reading the B pack
 * contiguously. The packs live on the stack. */
#include "gemm.h"

#include <stddef.h>
#include <string.h>

#define MC 66
#define KC 256
#define NC 128
#define TR 6   /* rows of a register tile */
#define TC 16  /* columns of a register tile */

static mn_gemm_fn gemm_impl = mn_gemm_portable;

void mn_gemm_use(mn_gemm_fn f) { gemm_impl = f ? f : mn_gemm_portable; }
mn_gemm_fn mn_gemm_current(void) { return gemm_impl; }

void mn_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
             int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    gemm_impl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* bp[p][j] = op(B)[p0 + p, j0 + j] for p < kc, j < nc; zero up to ncp columns. */
static void pack_b(int trans_b, const float *b, int ldb, int p0, int kc, int j0, int nc, int ncp,
                   float *restrict bp)
{
    for (int p = 0; p < kc; p++) {
        float *dst = bp + (size_t)p * ncp;
        if (!trans_b) {
            memcpy(dst, b + (size_t)(p0 + p) * ldb + j0, (size_t)nc * sizeof *dst);
        } else {
            for (int j = 0; j < nc; j++) dst[j] = b[(size_t)(j0 + j) * ldb + p0 + p];
        }
        for (int j = nc; j < ncp; j++) dst[j] = 0.0f;
    }
}

/* ap[i][p] = alpha op(A)[i0 + i, p0 + p] for i < mc, p < kc; zero rows up to mcp. */
static void pack_a(int trans_a, const float *a, int lda, float alpha, int i0, int mc, int mcp,
                   int p0, int kc, float *restrict ap)
{
    for (int i = 0; i < mcp; i++) {
        float *dst = ap + (size_t)i * kc;
        if (i >= mc) {
            memset(dst, 0, (size_t)kc * sizeof *dst);
        } else if (!trans_a) {
            const float *src = a + (size_t)(i0 + i) * lda + p0;
            for (int p = 0; p < kc; p++) dst[p] = alpha * src[p];
        } else {
            for (int p = 0; p < kc; p++) dst[p] = alpha * a[(size_t)(p0 + p) * lda + i0 + i];
        }
    }
}

/* Eight floats as one vector (GCC and Clang vector extensions: SIMD registers where the
 * target has them, plain code elsewhere); loads and stores through memcpy need no alignment. */
typedef float v8f __attribute__((vector_size(32)));

#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v))
#define STORE8(p, v) memcpy((p), &(v), sizeof(v))

/* x86-64: the tile is built for AVX2 as well, chosen when the CPU has it (the same products,
 * summed in the same order) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define TILE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TILE_CLONES
#endif

/* acc = ap[0:6, 0:kc] @ bp[0:kc, 0:16] (bp rows ncp apart); added to C's rows and columns that
 * exist (rows < mr, columns < nr). */
TILE_CLONES
static void tile(int kc, const float *restrict ap, const float *restrict bp, int ncp,
                 float *restrict c, int ldc, int mr, int nr)
{
    v8f acc[TR][2];
    for (int r = 0; r < TR; r++) acc[r][0] = acc[r][1] = (v8f){0};
    for (int p = 0; p < kc; p++) {
        const float *brow = bp + (size_t)p * ncp;
        v8f b0, b1;
        LOAD8(b0, brow);
        LOAD8(b1, brow + 8);
        for (int r = 0; r < TR; r++) {
            float a = ap[(size_t)r * kc + p];
            v8f av = {a, a, a, a, a, a, a, a};
            acc[r][0] += av * b0;
            acc[r][1] += av * b1;
        }
    }
    if (mr == TR && nr == TC) {
        for (int r = 0; r < TR; r++) {
            float *crow = c + (size_t)r * ldc;
            v8f c0, c1;
            LOAD8(c0, crow);
            LOAD8(c1, crow + 8);
            c0 += acc[r][0], c1 += acc[r][1];
            STORE8(crow, c0);
            STORE8(crow + 8, c1);
        }
        return;
    }
    float out[TR][TC];
    for (int r = 0; r < TR; r++) STORE8(out[r], acc[r][0]), STORE8(out[r] + 8, acc[r][1]);
    for (int r = 0; r < mr; r++) {
        float *crow = c + (size_t)r * ldc;
        for (int j = 0; j < nr; j++) crow[j] += out[r][j];
    }
}

void mn_gemm_portable(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc)
{
    if (m <= 0 || n <= 0) return;
    for (int i = 0; i < m; i++) {
        float *crow = c + (size_t)i * ldc;
        if (beta == 0.0f) memset(crow, 0, (size_t)n * sizeof *crow);
        else if (beta != 1.0f)
            for (int j = 0; j < n; j++) crow[j] *= beta;
    }
    if (k <= 0 || alpha == 0.0f) return;
    float bp[KC * NC], ap[MC * KC];
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC, ncp = (nc + TC - 1) / TC * TC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            pack_b(trans_b, b, ldb, p0, kc, j0, nc, ncp, bp);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC, mcp = (mc + TR - 1) / TR * TR;
                pack_a(trans_a, a, lda, alpha, i0, mc, mcp, p0, kc, ap);
                for (int i = 0; i < mcp; i += TR)
                    for (int j = 0; j < ncp; j += TC)
                        tile(kc, ap + (size_t)i * kc, bp + j, ncp,
                             c + (size_t)(i0 + i) * ldc + j0 + j, ldc,
                             mc - i < TR ? mc - i : TR, nc - j < TC ? nc - j : TC);
            }
        }
    }
}
