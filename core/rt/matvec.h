/* matvec.h - the matrix-vector products of one generation step: y = b + A x (+ B z), row-major,
 * weights in float32, bfloat16 or int8 with a scale per row, streamed once. Kernels for AVX-512, AVX2+FMA and portable C are chosen at run time;
 * all of them add in one fixed order (16 lanes of fused multiply-adds, a fixed reduction tree,
 * then the tail in order), so every kernel gives bit-identical results and the same seed gives
 * the same notes on every machine. Allocates nothing. */
#ifndef MN_MATVEC_H
#define MN_MATVEC_H

typedef enum {
    MN_MATVEC_AUTO = 0,    /* the fastest kernel this CPU runs */
    MN_MATVEC_PORTABLE,
    MN_MATVEC_AVX2,
    MN_MATVEC_AVX512,
} mn_matvec_kernel;

/* How a weight matrix is stored. */
typedef enum {
    MN_WEIGHTS_F32 = 0,
    MN_WEIGHTS_BF16,       /* the upper 16 bits of a float32 */
    MN_WEIGHTS_I8,         /* w = scale[row] * q, q in -127..127 */
} mn_wtype;

typedef struct {
    mn_wtype type;
    const void *w;         /* [rows, cols] of type */
    const float *scale;    /* [rows]: I8 only, else NULL */
    int cols;
} mn_mat;

/* y[r] = b[r] + A[r] . x + B[r] . z over matrices of any storage (B may be NULL, b may be NULL).
 * y must not alias x or z. */
void mn_matvec_mat(int rows, const mn_mat *A, const float *x, const mn_mat *B, const float *z,
                   const float *b, float *y);

/* y[r] = b[r] + dot(A[r, 0:na], x) + dot(B[r, 0:nb], z) for r in 0..rows-1.
 * A: [rows, na], B: [rows, nb] (B may be NULL with nb 0), b may be NULL (zero). y must not
 * alias x or z. */
void mn_matvec2(int rows, const float *A, int na, const float *x, const float *B, int nb,
                const float *z, const float *b, float *y);

/* y = b + A x: mn_matvec2 with no B. */
void mn_matvec(int rows, const float *A, int na, const float *x, const float *b, float *y);

/* bfloat16 of a float, rounded to nearest even (NaN stays NaN). */
unsigned short mn_bf16_from_f32(float f);

/* Quantises one row of n weights to int8: q[j] = round(w[j] / scale) with scale = max|w| / 127
 * (1 for an all-zero row). Returns the scale. */
float mn_i8_quantize_row(const float *w, int n, signed char *q);

/* Whether this CPU (and build) runs kernel k. */
int mn_matvec_supported(mn_matvec_kernel k);

/* Chooses the kernel for the whole process (tests and benchmarks compare them); AUTO picks the
 * fastest supported one. Returns the kernel in use, which is k when supported, else AUTO's. */
mn_matvec_kernel mn_matvec_select(mn_matvec_kernel k);

/* The kernel in use and its name ("avx512", "avx2", "portable"). */
mn_matvec_kernel mn_matvec_current(void);
const char *mn_matvec_name(mn_matvec_kernel k);

#endif
