// Packed single-precision GEMM with a 6×16 AVX2+FMA register tile and a fused bias +
// activation epilogue (GotoBLAS-style blocking: B in k × NC blocks packed into 16-column
// panels that stay in L1/L2, A pre-packed once into 6-row panels, MC rows of A per L2 block).
#include "ckernels.h"
#include <string.h>

size_t ck_gemm_packed_a_floats(ptrdiff_t m, ptrdiff_t k) {
    return (size_t)((m + CK_GEMM_MR - 1) / CK_GEMM_MR) * CK_GEMM_MR * (size_t)k;
}

void ck_gemm_pack_a(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, float *packed) {
    for (ptrdiff_t r0 = 0; r0 < m; r0 += CK_GEMM_MR) {
        float *dst = packed + (r0 / CK_GEMM_MR) * CK_GEMM_MR * k;
        for (ptrdiff_t kk = 0; kk < k; kk++)
            for (ptrdiff_t i = 0; i < CK_GEMM_MR; i++)
                dst[kk * CK_GEMM_MR + i] = r0 + i < m ? a[(r0 + i) * lda + kk] : 0.0f;
    }
}

/// Columns of B packed per block: k × NC floats ≈ 128 KiB (L2), a multiple of NR, at least NR.
static ptrdiff_t block_columns(ptrdiff_t k) {
    ptrdiff_t nc = (32768 / (k > 0 ? k : 1)) / CK_GEMM_NR * CK_GEMM_NR;
    if (nc < CK_GEMM_NR) nc = CK_GEMM_NR;
    if (nc > 1024) nc = 1024;
    return nc;
}

size_t ck_gemm_scratch_floats(ptrdiff_t k, ptrdiff_t n) {
    ptrdiff_t nc = block_columns(k);
    ptrdiff_t cols = (n + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    if (cols > nc) cols = nc;
    return (size_t)(cols * (k > 0 ? k : 1)) + 16;
}

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_common.h"

/// Packs columns [j0, j0 + nb) of B (k rows, stride ldb) into NR-wide panels [nb/NR][k][NR].
static void pack_b(const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t j0, ptrdiff_t nb, float *dst) {
    for (ptrdiff_t p = 0; p < nb; p += CK_GEMM_NR) {
        ptrdiff_t w = nb - p < CK_GEMM_NR ? nb - p : CK_GEMM_NR;
        const float *src = b + j0 + p;
        float *out = dst + (p / CK_GEMM_NR) * CK_GEMM_NR * k;
        if (w == CK_GEMM_NR) {
            for (ptrdiff_t kk = 0; kk < k; kk++) {
                _mm256_store_ps(out + kk * 16, _mm256_loadu_ps(src + kk * ldb));
                _mm256_store_ps(out + kk * 16 + 8, _mm256_loadu_ps(src + kk * ldb + 8));
            }
        } else {
            __m256i m0 = ck_mask256(w < 8 ? w : 8), m1 = ck_mask256(w > 8 ? w - 8 : 0);
            for (ptrdiff_t kk = 0; kk < k; kk++) {
                _mm256_store_ps(out + kk * 16, _mm256_maskload_ps(src + kk * ldb, m0));
                _mm256_store_ps(out + kk * 16 + 8, _mm256_maskload_ps(src + kk * ldb + 8, m1));
            }
        }
    }
}

/// One 6×16 tile: C[0..mr)[0..nr) = act(A·B + bias).
static inline void kernel_6x16(const float *a, const float *b, ptrdiff_t k, float *c, ptrdiff_t ldc,
                               int mr, int nr, const float *bias, ck_activation act) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (bias) {
        c00 = c01 = _mm256_broadcast_ss(bias + 0);
        c10 = c11 = _mm256_broadcast_ss(bias + (mr > 1 ? 1 : 0));
        c20 = c21 = _mm256_broadcast_ss(bias + (mr > 2 ? 2 : 0));
        c30 = c31 = _mm256_broadcast_ss(bias + (mr > 3 ? 3 : 0));
        c40 = c41 = _mm256_broadcast_ss(bias + (mr > 4 ? 4 : 0));
        c50 = c51 = _mm256_broadcast_ss(bias + (mr > 5 ? 5 : 0));
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    }
    for (ptrdiff_t kk = 0; kk < k; kk++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        a += CK_GEMM_MR;
        b += CK_GEMM_NR;
    }
    __m256 t[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (act.kind != CK_ACT_NONE)
        for (int i = 0; i < 12; i++) t[i] = ck_act256(t[i], act);
    if (nr == 16) {
        for (int r = 0; r < mr; r++) {
            _mm256_storeu_ps(c + r * ldc, t[2 * r]);
            _mm256_storeu_ps(c + r * ldc + 8, t[2 * r + 1]);
        }
    } else {
        __m256i m0 = ck_mask256(nr < 8 ? nr : 8), m1 = ck_mask256(nr > 8 ? nr - 8 : 0);
        for (int r = 0; r < mr; r++) {
            _mm256_maskstore_ps(c + r * ldc, m0, t[2 * r]);
            _mm256_maskstore_ps(c + r * ldc + 8, m1, t[2 * r + 1]);
        }
    }
}

void ck_gemm_packed(const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    const ptrdiff_t nc = block_columns(k);
    // Rows of A per L2 block: MC × k floats ≈ 96 KiB.
    ptrdiff_t mc = (24576 / (k > 0 ? k : 1)) / CK_GEMM_MR * CK_GEMM_MR;
    if (mc < CK_GEMM_MR) mc = CK_GEMM_MR;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += nc) {
        ptrdiff_t nb = n - j0 < nc ? n - j0 : nc;
        pack_b(b, ldb, k, j0, nb, scratch);
        for (ptrdiff_t m0 = row0; m0 < row1; m0 += mc) {
            ptrdiff_t m1 = m0 + mc < row1 ? m0 + mc : row1;
            for (ptrdiff_t p = 0; p < nb; p += CK_GEMM_NR) {
                int nr = (int)(nb - p < CK_GEMM_NR ? nb - p : CK_GEMM_NR);
                const float *bp = scratch + (p / CK_GEMM_NR) * CK_GEMM_NR * k;
                for (ptrdiff_t r = m0; r < m1; r += CK_GEMM_MR) {
                    int mr = (int)(m - r < CK_GEMM_MR ? m - r : CK_GEMM_MR);
                    kernel_6x16(packed_a + (r / CK_GEMM_MR) * CK_GEMM_MR * k, bp, k, c + r * ldc + j0 + p, ldc,
                                mr, nr, bias ? bias + r : NULL, act);
                }
            }
        }
    }
}
#pragma clang attribute pop
#else
void ck_gemm_packed(const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    (void)packed_a; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
#endif
