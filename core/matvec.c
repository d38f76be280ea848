/* matvec.c - the step's matrix-vector products (see matvec.h). Each dot product is computed in
 * one canonical order that every kernel follows exactly:
 *   lanes:  acc[l] = fma(w[j + l], x[j + l], acc[l]) for l in 0..15, j over whole blocks of 16
 *   tree:   a8[i] = acc[i] + acc[i + 8]; a4[i] = a8[i] + a8[i + 4]; a2[i] = a4[i] + a4[i + 2];
 *           s = a2[0] + a2[1]
 *   tail:   s = fma(w[j], x[j], s) for the last n % 16 columns, in order
 * and y[r] = (b[r] + dot_A) + dot_B. The portable kernel writes this out with fmaf(); the AVX2
 * kernel holds the 16 lanes in two 8-wide registers, AVX-512 in one. */
#include "matvec.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MN_X86 1
#include <immintrin.h>
#endif

/* ================================================================ portable */

static float dot_portable(const float *w, const float *x, int n)
{
    float acc[16] = {0};
    int n16 = n & ~15;
    for (int j = 0; j < n16; j += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf(w[j + l], x[j + l], acc[l]);
    float a8[8], a4[4], a2[2];
    for (int i = 0; i < 8; i++) a8[i] = acc[i] + acc[i + 8];
    for (int i = 0; i < 4; i++) a4[i] = a8[i] + a8[i + 4];
    for (int i = 0; i < 2; i++) a2[i] = a4[i] + a4[i + 2];
    float s = a2[0] + a2[1];
    for (int j = n16; j < n; j++) s = fmaf(w[j], x[j], s);
    return s;
}

static void matvec2_portable(int rows, const float *A, int na, const float *x, const float *B,
                             int nb, const float *z, const float *b, float *y)
{
    for (int r = 0; r < rows; r++) {
        float v = b ? b[r] : 0.0f;
        v += dot_portable(A + (size_t)r * na, x, na);
        if (B) v += dot_portable(B + (size_t)r * nb, z, nb);
        y[r] = v;
    }
}

#ifdef MN_X86
/* ================================================================ AVX2 + FMA */

#define AVX2 __attribute__((target("avx2,fma")))

/* the canonical tree over lanes lo (0..7) and hi (8..15), then the tail */
AVX2 static inline float tree_avx2(__m256 lo, __m256 hi, const float *w, const float *x, int j,
                                   int n)
{
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    float s = _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
    for (; j < n; j++) s = fmaf(w[j], x[j], s);
    return s;
}

/* dot products of 4 consecutive rows of W (row stride n) with x */
AVX2 static void dot4_avx2(const float *W, int n, const float *x, float *out)
{
    const float *w0 = W, *w1 = W + n, *w2 = W + 2 * (size_t)n, *w3 = W + 3 * (size_t)n;
    __m256 l0 = _mm256_setzero_ps(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0,
           h3 = l0;
    int n16 = n & ~15, j = 0;
    for (; j < n16; j += 16) {
        __m256 xl = _mm256_loadu_ps(x + j), xh = _mm256_loadu_ps(x + j + 8);
        l0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j), xl, l0);
        h0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + j + 8), xh, h0);
        l1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j), xl, l1);
        h1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + j + 8), xh, h1);
        l2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j), xl, l2);
        h2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + j + 8), xh, h2);
        l3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j), xl, l3);
        h3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + j + 8), xh, h3);
    }
    out[0] = tree_avx2(l0, h0, w0, x, j, n);
    out[1] = tree_avx2(l1, h1, w1, x, j, n);
    out[2] = tree_avx2(l2, h2, w2, x, j, n);
    out[3] = tree_avx2(l3, h3, w3, x, j, n);
}

AVX2 static float dot1_avx2(const float *w, const float *x, int n)
{
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    int n16 = n & ~15, j = 0;
    for (; j < n16; j += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(w + j + 8), _mm256_loadu_ps(x + j + 8), hi);
    }
    return tree_avx2(lo, hi, w, x, j, n);
}

AVX2 static void matvec2_avx2(int rows, const float *A, int na, const float *x, const float *B,
                              int nb, const float *z, const float *b, float *y)
{
    int r = 0;
    float da[4], db[4] = {0, 0, 0, 0};
    for (; r + 4 <= rows; r += 4) {
        dot4_avx2(A + (size_t)r * na, na, x, da);
        if (B) dot4_avx2(B + (size_t)r * nb, nb, z, db);
        for (int i = 0; i < 4; i++) {
            float v = b ? b[r + i] : 0.0f;
            v += da[i];
            if (B) v += db[i];
            y[r + i] = v;
        }
    }
    for (; r < rows; r++) {
        float v = b ? b[r] : 0.0f;
        v += dot1_avx2(A + (size_t)r * na, x, na);
        if (B) v += dot1_avx2(B + (size_t)r * nb, z, nb);
        y[r] = v;
    }
}

/* ================================================================ AVX-512 */

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

AVX512 static inline float tree_avx512(__m512 acc, const float *w, const float *x, int j, int n)
{
    __m256 lo = _mm512_castps512_ps256(acc);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    float s = _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
    for (; j < n; j++) s = fmaf(w[j], x[j], s);
    return s;
}

/* dot products of 4 consecutive rows of W (row stride n) with x: four accumulators (eight
 * rows measured slower on a core that splits 512-bit operations) */
AVX512 static void dot4_avx512(const float *W, int n, const float *x, float *out)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const float *w0 = W, *w1 = W + n, *w2 = W + 2 * (size_t)n, *w3 = W + 3 * (size_t)n;
    int n16 = n & ~15, j = 0;
    for (; j < n16; j += 16) {
        __m512 xv = _mm512_loadu_ps(x + j);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + j), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + j), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + j), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + j), xv, a3);
    }
    out[0] = tree_avx512(a0, w0, x, j, n);
    out[1] = tree_avx512(a1, w1, x, j, n);
    out[2] = tree_avx512(a2, w2, x, j, n);
    out[3] = tree_avx512(a3, w3, x, j, n);
}

AVX512 static float dot1_avx512(const float *w, const float *x, int n)
{
    __m512 acc = _mm512_setzero_ps();
    int n16 = n & ~15, j = 0;
    for (; j < n16; j += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(w + j), _mm512_loadu_ps(x + j), acc);
    return tree_avx512(acc, w, x, j, n);
}

AVX512 static void matvec2_avx512(int rows, const float *A, int na, const float *x,
                                  const float *B, int nb, const float *z, const float *b,
                                  float *y)
{
    int r = 0;
    float da[4], db[4] = {0, 0, 0, 0};
    for (; r + 4 <= rows; r += 4) {
        dot4_avx512(A + (size_t)r * na, na, x, da);
        if (B) dot4_avx512(B + (size_t)r * nb, nb, z, db);
        for (int i = 0; i < 4; i++) {
            float v = b ? b[r + i] : 0.0f;
            v += da[i];
            if (B) v += db[i];
            y[r + i] = v;
        }
    }
    for (; r < rows; r++) {
        float v = b ? b[r] : 0.0f;
        v += dot1_avx512(A + (size_t)r * na, x, na);
        if (B) v += dot1_avx512(B + (size_t)r * nb, z, nb);
        y[r] = v;
    }
}
#endif /* MN_X86 */

/* ================================================================ dispatch */

/* The kernel in use, MN_MATVEC_AUTO until the first call or mn_matvec_select chooses one.
 * Threads that race on the first call all store the same value. */
static atomic_int kernel_id;

int mn_matvec_supported(mn_matvec_kernel k)
{
    switch (k) {
    case MN_MATVEC_AUTO:
    case MN_MATVEC_PORTABLE: return 1;
#ifdef MN_X86
    case MN_MATVEC_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case MN_MATVEC_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

mn_matvec_kernel mn_matvec_select(mn_matvec_kernel k)
{
    if (k == MN_MATVEC_AUTO || !mn_matvec_supported(k)) {
        k = mn_matvec_supported(MN_MATVEC_AVX512) ? MN_MATVEC_AVX512
            : mn_matvec_supported(MN_MATVEC_AVX2) ? MN_MATVEC_AVX2
                                                  : MN_MATVEC_PORTABLE;
    }
#ifndef MN_X86
    k = MN_MATVEC_PORTABLE;
#endif
    atomic_store_explicit(&kernel_id, (int)k, memory_order_relaxed);
    return k;
}

mn_matvec_kernel mn_matvec_current(void)
{
    int k = atomic_load_explicit(&kernel_id, memory_order_relaxed);
    return k ? (mn_matvec_kernel)k : mn_matvec_select(MN_MATVEC_AUTO);
}

const char *mn_matvec_name(mn_matvec_kernel k)
{
    switch (k) {
    case MN_MATVEC_AVX512: return "avx512";
    case MN_MATVEC_AVX2: return "avx2";
    case MN_MATVEC_PORTABLE: return "portable";
    default: return "auto";
    }
}

void mn_matvec2(int rows, const float *A, int na, const float *x, const float *B, int nb,
                const float *z, const float *b, float *y)
{
    switch (mn_matvec_current()) {
#ifdef MN_X86
    case MN_MATVEC_AVX512: matvec2_avx512(rows, A, na, x, B, nb, z, b, y); return;
    case MN_MATVEC_AVX2: matvec2_avx2(rows, A, na, x, B, nb, z, b, y); return;
#endif
    default: matvec2_portable(rows, A, na, x, B, nb, z, b, y); return;
    }
}

void mn_matvec(int rows, const float *A, int na, const float *x, const float *b, float *y)
{
    mn_matvec2(rows, A, na, x, NULL, 0, NULL, b, y);
}
