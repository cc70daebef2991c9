// Matrix-vector product y = W·x with AVX-512F, for fully connected layers at batch 1 (classifiers:
// 1000 × 1280, 5 MB of weights read once per inference; squeeze-excitation fcs: 48 → 1152 or
// 1152 → 48). W is packed at load as [ceil(rows/16)][k][16] (`ck_gemv_pack`), so 16 outputs
// accumulate in one vector (y[16] += panel[j][0..15] · x[j]) with no horizontal sums — which a
// row-at-a-time kernel pays once per output row and which dominate when rows are short (a 48 → 1152
// fc has 48-float rows: 3 vectors and one 16-lane reduction per output). 4 panels at a time: 4
// contiguous weight streams, 2 accumulators each (even and odd j). Measured on a chain of six
// 1280 × 1280 layers (6.5 MB each; `edgeprof measure`, p50 per layer, two interleaved runs each):
// 1 thread 120–123 µs against 178–213 for a row kernel reading 8 rows at once (8 streams, one
// reduction per row) and 276–298 for OpenBLAS sgemv (an earlier run); 2 threads 64–70 vs 59–90.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

#define CK_GEMV_PANELS(P)                                                                        \
    do {                                                                                         \
        __m512 acc[P][2];                                                                        \
        for (int q = 0; q < (P); q++) acc[q][0] = acc[q][1] = _mm512_setzero_ps();               \
        const float *base = packed + p * k * 16;                                                 \
        ptrdiff_t j = j0;                                                                        \
        for (; j + 2 <= j1; j += 2) {                                                            \
            const __m512 x0 = _mm512_set1_ps(x[j]), x1 = _mm512_set1_ps(x[j + 1]);              \
            for (int q = 0; q < (P); q++) {                                                      \
                const float *w = base + q * k * 16 + j * 16;                                     \
                acc[q][0] = _mm512_fmadd_ps(_mm512_load_ps(w), x0, acc[q][0]);                   \
                acc[q][1] = _mm512_fmadd_ps(_mm512_load_ps(w + 16), x1, acc[q][1]);              \
            }                                                                                    \
        }                                                                                        \
        if (j < j1) {                                                                            \
            const __m512 x0 = _mm512_set1_ps(x[j]);                                              \
            for (int q = 0; q < (P); q++)                                                        \
                acc[q][0] = _mm512_fmadd_ps(_mm512_load_ps(base + q * k * 16 + j * 16), x0, acc[q][0]); \
        }                                                                                        \
        for (int q = 0; q < (P); q++) {                                                          \
            const ptrdiff_t o = (p + q) * 16, left = rows - o;                                   \
            const __m512 v = _mm512_add_ps(acc[q][0], acc[q][1]);                                \
            if (left >= 16) _mm512_storeu_ps(y + o, v);                                          \
            else _mm512_mask_storeu_ps(y + o, (__mmask16)((1u << left) - 1), v);                 \
        }                                                                                        \
    } while (0)

void ck_gemv_panels_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1) {
    ck_gemv_panels_krange_avx512(packed, rows, k, x, y, p0, p1, 0, k);
}

// Partial products over the inputs [j0, j1) only (a split of K across threads: each thread streams its
// slice of every panel into its own y, which the caller sums). rows: y's length as for the full product.
void ck_gemv_panels_krange_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1,
                                  ptrdiff_t j0, ptrdiff_t j1) {
    ptrdiff_t p = p0;
    for (; p + 4 <= p1; p += 4) CK_GEMV_PANELS(4);
    for (; p < p1; p++) CK_GEMV_PANELS(1);
}
#pragma clang attribute pop
#else
void ck_gemv_panels_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1) {
    (void)packed; (void)rows; (void)k; (void)x; (void)y; (void)p0; (void)p1;
}
void ck_gemv_panels_krange_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1,
                                  ptrdiff_t j0, ptrdiff_t j1) {
    (void)packed; (void)rows; (void)k; (void)x; (void)y; (void)p0; (void)p1; (void)j0; (void)j1;
}
#endif

void ck_gemv_pack(const float *w, ptrdiff_t rows, ptrdiff_t k, float *packed) {
    const ptrdiff_t panels = (rows + 15) / 16;
    for (ptrdiff_t p = 0; p < panels; p++)
        for (ptrdiff_t j = 0; j < k; j++)
            for (ptrdiff_t l = 0; l < 16; l++) {
                const ptrdiff_t r = p * 16 + l;
                packed[(p * k + j) * 16 + l] = r < rows ? w[r * k + j] : 0.0f;
            }
}
