// The transposed product of `ck_gemm_packed_t` (Cᵀ = Bᵀ·Aᵀ: pixels as the rows of the register
// tile, 16 output channels per vector) on 7-pixel panels with AVX-512F, for pixel counts that are
// a multiple of 7 (7×7 maps: 49 pixels). The AVX2 kernel's 6-pixel panels compute 54 lanes for
// 49 pixels (9 % idle); here 7 panels of 7 leave none. One 16-channel weight vector per k step
// feeds 7 FMAs, each with one pixel value broadcast from the packed panel (7 accumulators: the
// 4-cycle FMA latency needs 4). Standalone, 1 thread, warm (/tmp microbenchmark, min of 200):
// 104–110 GFLOP/s against 94–99 for the 6-pixel AVX2 kernel (1152 → 192 channels: 199 vs 220 µs).
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

enum { T7 = 7, T7_STRIDE = 8 };

/// Packs pixels [j0, j0 + 7) of B's k rows (stride ldb) as [k][8] (lane 7 zero): one masked
/// 8-lane load and one store per row.
CK_INLINE void t7_pack(const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t j0, float *dst) {
    const __m256i m = ck_mask256(T7);
    for (ptrdiff_t kk = 0; kk < k; kk++) _mm256_store_ps(dst + kk * T7_STRIDE, _mm256_maskload_ps(b + kk * ldb + j0, m));
}

CK_INLINE void t7_body(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch, ck_activation post) {
    const ptrdiff_t panels = n / T7;
    for (ptrdiff_t q = 0; q < panels; q++) t7_pack(b, ldb, k, q * T7, scratch + q * T7_STRIDE * k);
    for (ptrdiff_t o = row0; o < row1; o += CK_GEMM_NR) {
        int nr = (int)(m - o < CK_GEMM_NR ? m - o : CK_GEMM_NR);
        if (o + nr > row1) nr = (int)(row1 - o);
        const __mmask16 live = ck_col_mask16(0, nr);
        const float *wp = packed_wt + o * k;   // one K block: the weights are [m/16][k][16]
        const __m512 vb = bias ? _mm512_maskz_loadu_ps(live, bias + o) : _mm512_setzero_ps();
        // The first pixel panel pulls the next weight panel into L2, one 64-byte line (a k row of
        // 16 channels) per k step: weights are cold in every inference.
        const int fetch = o + CK_GEMM_NR < row1;
        for (ptrdiff_t q = 0; q < panels; q++) {
            const float *p = scratch + q * T7_STRIDE * k;
            const float *w = wp;
            const int fetching = q == 0 && fetch;
            const char *pf = (const char *)(fetching ? wp + CK_GEMM_NR * k : wp);
            const ptrdiff_t step = fetching ? 64 : 0;
            __m512 a0 = vb, a1 = vb, a2 = vb, a3 = vb, a4 = vb, a5 = vb, a6 = vb;
            for (ptrdiff_t kk = 0; kk < k; kk++) {
                const __m512 wv = _mm512_loadu_ps(w);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[0]), wv, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[1]), wv, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[2]), wv, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[3]), wv, a3);
                a4 = _mm512_fmadd_ps(_mm512_set1_ps(p[4]), wv, a4);
                a5 = _mm512_fmadd_ps(_mm512_set1_ps(p[5]), wv, a5);
                a6 = _mm512_fmadd_ps(_mm512_set1_ps(p[6]), wv, a6);
                _mm_prefetch(pf, _MM_HINT_T1);
                pf += step;
                w += CK_GEMM_NR;
                p += T7_STRIDE;
            }
            // Pixel r's 16 channels → C[o + j][q·7 + r]: through a buffer, 7 consecutive floats
            // per channel row.
            float buf[T7][16] __attribute__((aligned(64)));
            _mm512_store_ps(buf[0], ck_act512(a0, act));
            _mm512_store_ps(buf[1], ck_act512(a1, act));
            _mm512_store_ps(buf[2], ck_act512(a2, act));
            _mm512_store_ps(buf[3], ck_act512(a3, act));
            _mm512_store_ps(buf[4], ck_act512(a4, act));
            _mm512_store_ps(buf[5], ck_act512(a5, act));
            _mm512_store_ps(buf[6], ck_act512(a6, act));
            float *dst = c + o * ldc + q * T7;
            for (int j = 0; j < nr; j++)
                for (int r = 0; r < T7; r++) dst[j * ldc + r] = buf[r][j];
        }
        // A deferred activation (SiLU, sigmoid) on the panel's finished nr channels × n pixels.
        if (post.kind != CK_ACT_NONE) ck_post_rows(c + o * ldc, ldc, nr, n, post);
    }
}

void ck_gemm_t7_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    CK_WITH_SPLIT_ACT(act, t7_body(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}
#pragma clang attribute pop
#else
void ck_gemm_t7_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch) {
    (void)packed_wt; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
#endif

int ck_gemm_t7_eligible(ptrdiff_t n, ptrdiff_t k) {
    return n > 1 && n % 7 == 0 && n <= 63 && k <= 2048 && ck_isa() >= CK_ISA_AVX512;
}
