// `ck_gemm_rows16`'s kernel with AVX-512F: C = act(A·B + bias) with A packed in 16-row panels
// (`ck_gemm_pack_wt`'s layout, [K blocks][m/16][kb][16]) and B read in place. One tile is 16 rows
// × 16 columns: 16 zmm accumulators, one B row segment loaded per k step and the 16 weights of
// that depth broadcast from the panel. Against the AVX2 6×16 kernel this reads each B segment once
// per 16 output rows instead of per 6 and needs no packed copy of B; standalone, 1 thread (/tmp
// microbenchmark, min of 100, warm / with a 32 MiB read before each run): m 96 k 16 n 12544 430 →
// 365 / 590 → 440 µs, m 32 k 144 n 784 75 → 62 / 83 → 66, m 96 k 576 n 196 222 → 198 / 234 → 207,
// m 672 k 112 n 196 294 → 275 / 333 → 303.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

// The accumulators stay in registers only while every access to them has a constant index:
// loops over them run to 16 and test the live row count inside (a loop to a variable count
// spilled all 16 to the stack every k step: twice as slow).
CK_INLINE void g16_body(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                        const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                        ck_activation act, ck_activation post) {
    const ptrdiff_t mp = (m + 15) / 16 * 16;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        const int first = k0 == 0, last = k0 + kb >= k;
        for (ptrdiff_t o = row0; o < row1; o += 16) {
            const int mr = (int)(row1 - o < 16 ? row1 - o : 16);
            const float *panel = packed + k0 * mp + o * kb;
            float *co = c + o * ldc;
            for (ptrdiff_t j = 0; j < n; j += 16) {
                const __mmask16 cm = ck_col_mask16(j, n);
                __m512 acc[16];
                for (int r = 0; r < 16; r++) {
                    if (!first) acc[r] = r < mr ? _mm512_maskz_loadu_ps(cm, co + r * ldc + j) : _mm512_setzero_ps();
                    else acc[r] = _mm512_set1_ps(bias && r < mr ? bias[o + r] : 0.0f);
                }
                const float *bp = b + k0 * ldb + j;
                const float *a = panel;
                for (ptrdiff_t kk = 0; kk < kb; kk++) {
                    const __m512 bv = _mm512_maskz_loadu_ps(cm, bp + kk * ldb);
                    for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), bv, acc[r]);
                    a += 16;
                }
                for (int r = 0; r < 16; r++)
                    if (r < mr) _mm512_mask_storeu_ps(co + r * ldc + j, cm, last ? ck_act512(acc[r], act) : acc[r]);
                // A deferred activation (SiLU, sigmoid) on every 8 finished tiles' rows, in L1.
                if (last && post.kind != CK_ACT_NONE && ((j / 16) % 8 == 7 || j + 16 >= n)) {
                    const ptrdiff_t j0 = j / 128 * 128, j1 = j + 16 < n ? j + 16 : n;
                    ck_act_rows512(co + j0, ldc, mr, j1 - j0, 0.0f, post);
                }
            }
        }
    }
}

void ck_gemm_rows16_avx512(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                           const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                           ck_activation act) {
    CK_WITH_SPLIT_ACT(act, g16_body(packed, m, row0, row1, k, kc, b, ldb, n, c, ldc, bias, act_c, post_c));
}
#pragma clang attribute pop
#else
void ck_gemm_rows16_avx512(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                           const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                           ck_activation act) {
    (void)packed; (void)m; (void)row0; (void)row1; (void)k; (void)kc; (void)b; (void)ldb; (void)n; (void)c; (void)ldc;
    (void)bias; (void)act;
}
#endif

int ck_gemm_rows16_eligible(ptrdiff_t m) {
    return (m % 16 == 0 || (m > 12 && m < 16)) && ck_isa() >= CK_ISA_AVX512;
}
