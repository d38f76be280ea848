/* matvec.c - the step's matrix-vector products (see matvec.h). Each dot product is computed in
 * one canonical order that every kernel follows exactly:
 *   lanes:  acc[l] = fma(w[j + l], x[j + l], acc[l]) for l in 0..15, j over whole blocks of 16
 *   tree:   a8[i] = acc[i] + acc[i + 8]; a4[i] = a8[i] + a8[i + 4]; a2[i] = a4[i] + a4[i + 2];
 *           s = a2[0] + a2[1]
 *   tail:   s = fma(w[j], x[j], s) for the last n % 16 columns, in order
 * where w[j] is the weight as a float (bf16 widened, int8 converted: both exact), and
 * y[r] = b[r] + dot_A, then + dot_B (int8: y = fma(scale[r], dot, y) instead of the sum).
 * The portable kernel writes this out with fmaf(); the AVX2 kernel holds the 16 lanes in two
 * 8-wide registers, AVX-512 in one. */
#include "matvec.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MN_X86 1
#include <immintrin.h>
#endif

/*=== weights as floats ======================================================================*/

static inline float wf_f32(const void *w, size_t i) { return ((const float *)w)[i]; }

static inline float wf_bf16(const void *w, size_t i)
{
    uint32_t u = (uint32_t)((const uint16_t *)w)[i] << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float wf_i8(const void *w, size_t i) { return (float)((const int8_t *)w)[i]; }

static size_t wsize(mn_wtype t)
{
    return t == MN_WEIGHTS_BF16 ? 2 : t == MN_WEIGHTS_I8 ? 1 : 4;
}

/* y = b + dot (f32, bf16) or fma(scale, dot, b) (int8) */
static inline float add_dot(float v, const mn_mat *m, int r, float d)
{
    return m->scale ? fmaf(m->scale[r], d, v) : v + d;
}

/*=== portable ===============================================================================*/

#define PORTABLE_DOT(T)                                                                          \
    static float dot_portable_##T(const void *w, const float *x, int n)                         \
    {                                                                                            \
        float acc[16] = {0};                                                                     \
        int n16 = n & ~15;                                                                       \
        for (int j = 0; j < n16; j += 16)                                                        \
            for (int l = 0; l < 16; l++) acc[l] = fmaf(wf_##T(w, (size_t)(j + l)), x[j + l], acc[l]); \
        float a8[8], a4[4], a2[2];                                                               \
        for (int i = 0; i < 8; i++) a8[i] = acc[i] + acc[i + 8];                                 \
        for (int i = 0; i < 4; i++) a4[i] = a8[i] + a8[i + 4];                                   \
        for (int i = 0; i < 2; i++) a2[i] = a4[i] + a4[i + 2];                                   \
        float s = a2[0] + a2[1];                                                                 \
        for (int j = n16; j < n; j++) s = fmaf(wf_##T(w, (size_t)j), x[j], s);                   \
        return s;                                                                                \
    }
PORTABLE_DOT(f32)
PORTABLE_DOT(bf16)
PORTABLE_DOT(i8)

typedef float (*dot1_fn)(const void *w, const float *x, int n);
typedef void (*dot4_fn)(const void *w, int n, const float *x, float *out);

static dot1_fn portable_dot(mn_wtype t)
{
    return t == MN_WEIGHTS_BF16 ? dot_portable_bf16 : t == MN_WEIGHTS_I8 ? dot_portable_i8
                                                                         : dot_portable_f32;
}

/* Rows in blocks of 4 through dot4 (when given), the rest one by one through dot1. */
static void matvec_rows(int rows, const mn_mat *A, const float *x, const mn_mat *B,
                        const float *z, const float *b, float *y, dot4_fn a4, dot1_fn a1,
                        dot4_fn b4, dot1_fn b1)
{
    size_t ra = (size_t)A->cols * wsize(A->type), rb = B ? (size_t)B->cols * wsize(B->type) : 0;
    const char *wa = A->w, *wb = B ? B->w : NULL;
    int r = 0;
    float da[4], db[4];
    if (a4)
        for (; r + 4 <= rows; r += 4) {
            a4(wa + r * ra, A->cols, x, da);
            if (B) b4(wb + r * rb, B->cols, z, db);
            for (int i = 0; i < 4; i++) {
                float v = add_dot(b ? b[r + i] : 0.0f, A, r + i, da[i]);
                y[r + i] = B ? add_dot(v, B, r + i, db[i]) : v;
            }
        }
    for (; r < rows; r++) {
        float v = add_dot(b ? b[r] : 0.0f, A, r, a1(wa + r * ra, x, A->cols));
        y[r] = B ? add_dot(v, B, r, b1(wb + r * rb, z, B->cols)) : v;
    }
}

#ifdef MN_X86
/*=== AVX2 + FMA =============================================================================*/

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 ld8_f32(const void *w, int j)
{
    return _mm256_loadu_ps((const float *)w + j);
}
AVX2 static inline __m256 ld8_bf16(const void *w, int j)
{
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + j));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
AVX2 static inline __m256 ld8_i8(const void *w, int j)
{
    __m128i q = _mm_loadl_epi64((const __m128i *)((const int8_t *)w + j));
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
}

/* the canonical tree over lanes lo (0..7) and hi (8..15) */
AVX2 static inline float tree_avx2(__m256 lo, __m256 hi)
{
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    return _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
}

#define AVX2_DOTS(T)                                                                             \
    AVX2 static float dot1_avx2_##T(const void *w, const float *x, int n)                       \
    {                                                                                            \
        __m256 lo = _mm256_setzero_ps(), hi = lo;                                                \
        int n16 = n & ~15, j = 0;                                                                \
        for (; j < n16; j += 16) {                                                               \
            lo = _mm256_fmadd_ps(ld8_##T(w, j), _mm256_loadu_ps(x + j), lo);                     \
            hi = _mm256_fmadd_ps(ld8_##T(w, j + 8), _mm256_loadu_ps(x + j + 8), hi);             \
        }                                                                                        \
        float s = tree_avx2(lo, hi);                                                             \
        for (; j < n; j++) s = fmaf(wf_##T(w, (size_t)j), x[j], s);                              \
        return s;                                                                                \
    }                                                                                            \
    /* 4 consecutive rows of W (n columns each) with x */                                        \
    AVX2 static void dot4_avx2_##T(const void *W, int n, const float *x, float *out)            \
    {                                                                                            \
        size_t rs = (size_t)n * sizeof(*(wtype_##T *)0);                                         \
        const char *w0 = W, *w1 = w0 + rs, *w2 = w1 + rs, *w3 = w2 + rs;                         \
        __m256 l0 = _mm256_setzero_ps(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0,  \
               h3 = l0;                                                                          \
        int n16 = n & ~15, j = 0;                                                                \
        for (; j < n16; j += 16) {                                                               \
            __m256 xl = _mm256_loadu_ps(x + j), xh = _mm256_loadu_ps(x + j + 8);                 \
            l0 = _mm256_fmadd_ps(ld8_##T(w0, j), xl, l0);                                        \
            h0 = _mm256_fmadd_ps(ld8_##T(w0, j + 8), xh, h0);                                    \
            l1 = _mm256_fmadd_ps(ld8_##T(w1, j), xl, l1);                                        \
            h1 = _mm256_fmadd_ps(ld8_##T(w1, j + 8), xh, h1);                                    \
            l2 = _mm256_fmadd_ps(ld8_##T(w2, j), xl, l2);                                        \
            h2 = _mm256_fmadd_ps(ld8_##T(w2, j + 8), xh, h2);                                    \
            l3 = _mm256_fmadd_ps(ld8_##T(w3, j), xl, l3);                                        \
            h3 = _mm256_fmadd_ps(ld8_##T(w3, j + 8), xh, h3);                                    \
        }                                                                                        \
        float s0 = tree_avx2(l0, h0), s1 = tree_avx2(l1, h1), s2 = tree_avx2(l2, h2),           \
              s3 = tree_avx2(l3, h3);                                                            \
        for (int k = j; k < n; k++) {                                                            \
            s0 = fmaf(wf_##T(w0, (size_t)k), x[k], s0);                                          \
            s1 = fmaf(wf_##T(w1, (size_t)k), x[k], s1);                                          \
            s2 = fmaf(wf_##T(w2, (size_t)k), x[k], s2);                                          \
            s3 = fmaf(wf_##T(w3, (size_t)k), x[k], s3);                                          \
        }                                                                                        \
        out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;                                      \
    }

typedef float wtype_f32;
typedef uint16_t wtype_bf16;
typedef int8_t wtype_i8;
AVX2_DOTS(f32)
AVX2_DOTS(bf16)
AVX2_DOTS(i8)

/*=== AVX-512 ================================================================================*/

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

AVX512 static inline __m512 ld16_f32(const void *w, int j)
{
    return _mm512_loadu_ps((const float *)w + j);
}
AVX512 static inline __m512 ld16_bf16(const void *w, int j)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + j));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
AVX512 static inline __m512 ld16_i8(const void *w, int j)
{
    __m128i q = _mm_loadu_si128((const __m128i *)((const int8_t *)w + j));
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
}

AVX512 static inline float tree_avx512(__m512 acc)
{
    __m256 lo = _mm512_castps512_ps256(acc);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    __m256 a8 = _mm256_add_ps(lo, hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    return _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
}

/* 4 rows at a time: eight rows measured slower on a core that splits 512-bit operations */
#define AVX512_DOTS(T)                                                                           \
    AVX512 static float dot1_avx512_##T(const void *w, const float *x, int n)                   \
    {                                                                                            \
        __m512 acc = _mm512_setzero_ps();                                                        \
        int n16 = n & ~15, j = 0;                                                                \
        for (; j < n16; j += 16)                                                                 \
            acc = _mm512_fmadd_ps(ld16_##T(w, j), _mm512_loadu_ps(x + j), acc);                  \
        float s = tree_avx512(acc);                                                              \
        for (; j < n; j++) s = fmaf(wf_##T(w, (size_t)j), x[j], s);                              \
        return s;                                                                                \
    }                                                                                            \
    AVX512 static void dot4_avx512_##T(const void *W, int n, const float *x, float *out)        \
    {                                                                                            \
        size_t rs = (size_t)n * sizeof(*(wtype_##T *)0);                                         \
        const char *w0 = W, *w1 = w0 + rs, *w2 = w1 + rs, *w3 = w2 + rs;                         \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                              \
        int n16 = n & ~15, j = 0;                                                                \
        for (; j < n16; j += 16) {                                                               \
            __m512 xv = _mm512_loadu_ps(x + j);                                                  \
            a0 = _mm512_fmadd_ps(ld16_##T(w0, j), xv, a0);                                       \
            a1 = _mm512_fmadd_ps(ld16_##T(w1, j), xv, a1);                                       \
            a2 = _mm512_fmadd_ps(ld16_##T(w2, j), xv, a2);                                       \
            a3 = _mm512_fmadd_ps(ld16_##T(w3, j), xv, a3);                                       \
        }                                                                                        \
        float s0 = tree_avx512(a0), s1 = tree_avx512(a1), s2 = tree_avx512(a2),                 \
              s3 = tree_avx512(a3);                                                              \
        for (int k = j; k < n; k++) {                                                            \
            s0 = fmaf(wf_##T(w0, (size_t)k), x[k], s0);                                          \
            s1 = fmaf(wf_##T(w1, (size_t)k), x[k], s1);                                          \
            s2 = fmaf(wf_##T(w2, (size_t)k), x[k], s2);                                          \
            s3 = fmaf(wf_##T(w3, (size_t)k), x[k], s3);                                          \
        }                                                                                        \
        out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;                                      \
    }

AVX512_DOTS(f32)
AVX512_DOTS(bf16)
AVX512_DOTS(i8)

static dot4_fn dot4_for(mn_matvec_kernel k, mn_wtype t)
{
    if (k == MN_MATVEC_AVX512)
        return t == MN_WEIGHTS_BF16 ? dot4_avx512_bf16 : t == MN_WEIGHTS_I8 ? dot4_avx512_i8
                                                                            : dot4_avx512_f32;
    return t == MN_WEIGHTS_BF16 ? dot4_avx2_bf16 : t == MN_WEIGHTS_I8 ? dot4_avx2_i8
                                                                      : dot4_avx2_f32;
}

static dot1_fn dot1_for(mn_matvec_kernel k, mn_wtype t)
{
    if (k == MN_MATVEC_AVX512)
        return t == MN_WEIGHTS_BF16 ? dot1_avx512_bf16 : t == MN_WEIGHTS_I8 ? dot1_avx512_i8
                                                                            : dot1_avx512_f32;
    return t == MN_WEIGHTS_BF16 ? dot1_avx2_bf16 : t == MN_WEIGHTS_I8 ? dot1_avx2_i8
                                                                      : dot1_avx2_f32;
}
#endif /* MN_X86 */

/*=== conversion =============================================================================*/

unsigned short mn_bf16_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40); /* NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

float mn_i8_quantize_row(const float *w, int n, signed char *q)
{
    float mx = 0.0f;
    for (int j = 0; j < n; j++) mx = fmaxf(mx, fabsf(w[j]));
    float scale = mx > 0.0f ? mx / 127.0f : 1.0f;
    for (int j = 0; j < n; j++) {
        float v = roundf(w[j] / scale);
        q[j] = (signed char)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
    }
    return scale;
}

/*=== dispatch ===============================================================================*/

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

void mn_matvec_mat(int rows, const mn_mat *A, const float *x, const mn_mat *B, const float *z,
                   const float *b, float *y)
{
    mn_matvec_kernel k = mn_matvec_current();
    mn_wtype tb = B ? B->type : MN_WEIGHTS_F32;
#ifdef MN_X86
    if (k != MN_MATVEC_PORTABLE) {
        matvec_rows(rows, A, x, B, z, b, y, dot4_for(k, A->type), dot1_for(k, A->type),
                    dot4_for(k, tb), dot1_for(k, tb));
        return;
    }
#endif
    (void)k;
    matvec_rows(rows, A, x, B, z, b, y, NULL, portable_dot(A->type), NULL, portable_dot(tb));
}

void mn_matvec2(int rows, const float *A, int na, const float *x, const float *B, int nb,
                const float *z, const float *b, float *y)
{
    mn_mat a = {MN_WEIGHTS_F32, A, NULL, na}, m = {MN_WEIGHTS_F32, B, NULL, nb};
    mn_matvec_mat(rows, &a, x, B ? &m : NULL, z, b, y);
}

void mn_matvec(int rows, const float *A, int na, const float *x, const float *b, float *y)
{
    mn_matvec2(rows, A, na, x, NULL, 0, NULL, b, y);
}
