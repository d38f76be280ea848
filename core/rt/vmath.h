/* vmath.h - the LSTM cell's elementwise math, shared by inference (session.c) and training
 * (train.c). libm's expf and tanhf are one call per element and took about a quarter of a
 * generation step; here sigmoid and tanh go through one exp of a non-positive argument
 * (Cephes' single-precision polynomial, within 1e-7 relative of exp), four lanes at a time with
 * SSE2 where the compiler has it. The scalar path performs the same operations in the same
 * order (no fused multiply-add: C11 mode keeps contraction off), so every platform computes
 * the same floats. Absolute error of sigmoid and tanh: below 2e-7. */
#ifndef MN_VMATH_H
#define MN_VMATH_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MN_EXP_MIN (-87.3f) /* e^-87.3 is still a normal float */

/* e^t for t <= 0 (larger t is not used); t below MN_EXP_MIN gives e^MN_EXP_MIN. */
static inline float mn_exp_neg(float t)
{
    t = t > MN_EXP_MIN ? t : MN_EXP_MIN;
    /* n = round(t / ln 2) by adding and removing 1.5 * 2^23: no rounding instruction needed */
    float n = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = (t - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * (r * r) + r) + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 0] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: never overflows. */
static inline float mn_sigmoidf(float x)
{
    float e = mn_exp_neg(x < 0 ? x : -x);
    float q = 1.0f / (1.0f + e);
    return x < 0 ? e * q : q;
}

/* tanh(|x|) = (1 - e^-2|x|) / (1 + e^-2|x|), with the sign of x. */
static inline float mn_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    float e = mn_exp_neg(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    return x < 0 ? -t : t;
}

#if defined(__SSE2__)
static inline __m128 mn_exp_neg4(__m128 t)
{
    t = _mm_max_ps(t, _mm_set1_ps(MN_EXP_MIN));
    const __m128 magic = _mm_set1_ps(12582912.0f);
    __m128 n = _mm_sub_ps(_mm_add_ps(_mm_mul_ps(t, _mm_set1_ps(1.44269504088896341f)), magic),
                          magic);
    __m128 r = _mm_add_ps(_mm_sub_ps(t, _mm_mul_ps(n, _mm_set1_ps(0.693359375f))),
                          _mm_mul_ps(n, _mm_set1_ps(2.12194440e-4f)));
    __m128 p = _mm_set1_ps(1.9875691500e-4f);
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.3981999507e-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(8.3334519073e-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(4.1665795894e-2f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.6666665459e-1f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(5.0000001201e-1f));
    p = _mm_add_ps(_mm_add_ps(_mm_mul_ps(p, _mm_mul_ps(r, r)), r), _mm_set1_ps(1.0f));
    __m128i bits = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23);
    return _mm_mul_ps(p, _mm_castsi128_ps(bits));
}

static inline __m128 mn_sigmoid4(__m128 x)
{
    __m128 neg = _mm_cmplt_ps(x, _mm_setzero_ps());
    __m128 nx = _mm_xor_ps(x, _mm_set1_ps(-0.0f)); /* -x, as the scalar path */
    __m128 e = mn_exp_neg4(_mm_or_ps(_mm_and_ps(neg, x), _mm_andnot_ps(neg, nx)));
    __m128 q = _mm_div_ps(_mm_set1_ps(1.0f), _mm_add_ps(_mm_set1_ps(1.0f), e));
    return _mm_or_ps(_mm_and_ps(neg, _mm_mul_ps(e, q)), _mm_andnot_ps(neg, q));
}

static inline __m128 mn_tanh4(__m128 x)
{
    __m128 neg = _mm_cmplt_ps(x, _mm_setzero_ps());
    __m128 nx = _mm_xor_ps(x, _mm_set1_ps(-0.0f)); /* -x, as the scalar path */
    __m128 a = _mm_or_ps(_mm_and_ps(neg, nx), _mm_andnot_ps(neg, x));
    __m128 e = mn_exp_neg4(_mm_mul_ps(_mm_set1_ps(-2.0f), a));
    __m128 t = _mm_div_ps(_mm_sub_ps(_mm_set1_ps(1.0f), e), _mm_add_ps(_mm_set1_ps(1.0f), e));
    __m128 mt = _mm_xor_ps(t, _mm_set1_ps(-0.0f));
    return _mm_or_ps(_mm_and_ps(neg, mt), _mm_andnot_ps(neg, t));
}
#endif

/* One LSTM cell over H units from the pre-activations pre[4H] (rows i, f, g, o as PyTorch):
 * c_new = f * c_old + i * g, h_new = o * tanh(c_new). When act is not NULL it receives the
 * activated gates [4H] and tanh_c the tanh of the new cell [H], which backward needs. */
static inline void mn_lstm_cell(int H, const float *pre, const float *c_old, float *c_new,
                                float *h_new, float *act, float *tanh_c)
{
    int j = 0;
#if defined(__SSE2__)
    for (; j + 4 <= H; j += 4) {
        __m128 i_ = mn_sigmoid4(_mm_loadu_ps(pre + j));
        __m128 f_ = mn_sigmoid4(_mm_loadu_ps(pre + H + j));
        __m128 g_ = mn_tanh4(_mm_loadu_ps(pre + 2 * H + j));
        __m128 o_ = mn_sigmoid4(_mm_loadu_ps(pre + 3 * H + j));
        __m128 c = _mm_add_ps(_mm_mul_ps(f_, _mm_loadu_ps(c_old + j)), _mm_mul_ps(i_, g_));
        __m128 t = mn_tanh4(c);
        _mm_storeu_ps(c_new + j, c);
        _mm_storeu_ps(h_new + j, _mm_mul_ps(o_, t));
        if (act) {
            _mm_storeu_ps(act + j, i_);
            _mm_storeu_ps(act + H + j, f_);
            _mm_storeu_ps(act + 2 * H + j, g_);
            _mm_storeu_ps(act + 3 * H + j, o_);
            _mm_storeu_ps(tanh_c + j, t);
        }
    }
#endif
    for (; j < H; j++) {
        float i_ = mn_sigmoidf(pre[j]), f_ = mn_sigmoidf(pre[H + j]);
        float g_ = mn_tanhf(pre[2 * H + j]), o_ = mn_sigmoidf(pre[3 * H + j]);
        float c = f_ * c_old[j] + i_ * g_;
        float t = mn_tanhf(c);
        c_new[j] = c;
        h_new[j] = o_ * t;
        if (act) {
            act[j] = i_;
            act[H + j] = f_;
            act[2 * H + j] = g_;
            act[3 * H + j] = o_;
            tanh_c[j] = t;
        }
    }
}

#endif
