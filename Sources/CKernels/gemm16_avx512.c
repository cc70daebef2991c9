// `ck_gemm_packed` for products with 13–16 rows and one K block (depth ≤ CK_GEMM_KC) with
// AVX-512F: the 16-output-channel projections of mobilenet_v2 and efficientnet_b0 (32 → 16 channels
// on a 112² map). The 6-row kernel computes 18 rows for 16 (three strips) and reads B once per
// strip; here one 16-row × 16-column tile (16 accumulators, one per row) reads each B row segment
// once from the input in place and broadcasts the 16 weights of that depth from the three 6-row
// panels the weights are packed in (rows 16–17 are the panels' zero padding and are not computed).
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx2_common.h"

/// act(v) on 16 lanes: ReLU and clip natively, the other kinds on two 8-lane halves.
CK_INLINE __m512 g16_act(__m512 v, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_NONE: return v;
    case CK_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case CK_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.lo)), _mm512_set1_ps(act.hi));
    default: {
        __m256 lo = ck_act256(_mm512_castps512_ps256(v), act);
        __m256 hi = ck_act256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), act);
        return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
    }
    }
}

CK_INLINE void g16_body(const float *packed_a, ptrdiff_t m, ptrdiff_t k, const float *b, ptrdiff_t ldb, ptrdiff_t n,
                        float *c, ptrdiff_t ldc, const float *bias, ck_activation act, ck_activation post) {
    // Rows r < 6 in panel 0, 6–11 in panel 1, 12–15 in panel 2; each panel is [k][6].
    const float *p0 = packed_a, *p1 = packed_a + 6 * k, *p2 = packed_a + 12 * k;
    for (ptrdiff_t j = 0; j < n; j += 16) {
        const ptrdiff_t left = n - j;
        const __mmask16 cm = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __m512 acc[16];
        for (int r = 0; r < 16; r++) acc[r] = _mm512_set1_ps(bias && r < m ? bias[r] : 0.0f);
        const float *bp = b + j;
        for (ptrdiff_t kk = 0; kk < k; kk++) {
            const __m512 bv = _mm512_maskz_loadu_ps(cm, bp + kk * ldb);
            const float *a0 = p0 + kk * 6, *a1 = p1 + kk * 6, *a2 = p2 + kk * 6;
            for (int r = 0; r < 6; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a0[r]), bv, acc[r]);
            for (int r = 0; r < 6; r++) acc[6 + r] = _mm512_fmadd_ps(_mm512_set1_ps(a1[r]), bv, acc[6 + r]);
            for (int r = 0; r < 4; r++) acc[12 + r] = _mm512_fmadd_ps(_mm512_set1_ps(a2[r]), bv, acc[12 + r]);
        }
        for (int r = 0; r < 16; r++)
            if (r < m) _mm512_mask_storeu_ps(c + r * ldc + j, cm, g16_act(acc[r], act));
        // A deferred activation (SiLU, sigmoid) on every 8 finished tiles' rows, in L1.
        if (post.kind != CK_ACT_NONE && ((j / 16) % 8 == 7 || j + 16 >= n)) {
            const ptrdiff_t j0 = j / 128 * 128, j1 = j + 16 < n ? j + 16 : n;
            ck_act_rows512(c + j0, ldc, m, j1 - j0, 0.0f, post);
        }
    }
}

void ck_gemm16_avx512(const float *packed_a, ptrdiff_t m, ptrdiff_t k, const float *b, ptrdiff_t ldb, ptrdiff_t n,
                      float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    const ck_activation none = {CK_ACT_NONE, 0, 0};
    if (ck_act_deferred(act)) g16_body(packed_a, m, k, b, ldb, n, c, ldc, bias, none, act);
    else CK_WITH_CONST_ACT(act, g16_body(packed_a, m, k, b, ldb, n, c, ldc, bias, act_c, none));
}
#pragma clang attribute pop
#else
void ck_gemm16_avx512(const float *packed_a, ptrdiff_t m, ptrdiff_t k, const float *b, ptrdiff_t ldb, ptrdiff_t n,
                      float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    (void)packed_a; (void)m; (void)k; (void)b; (void)ldb; (void)n; (void)c; (void)ldc; (void)bias; (void)act;
}
#endif

int ck_gemm16_eligible(ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
    return m > 12 && m <= 16 && k <= CK_GEMM_KC && n > 1 && ck_isa() >= CK_ISA_AVX512;
}
