// Packed single-precision GEMM with a 6×16 AVX2+FMA register tile and a fused bias +
// activation epilogue (GotoBLAS-style blocking: B in k × NC blocks packed into 16-column
// panels that stay in L1/L2, A pre-packed once into 6-row panels, MC rows of A per L2 block).
#include "ckernels.h"
#include <string.h>

/// Floats of `m` rows packed in `width`-row panels (zero-padded) of depth k.
static size_t panel_floats(ptrdiff_t m, ptrdiff_t k, ptrdiff_t width) {
    return (size_t)((m + width - 1) / width) * (size_t)width * (size_t)k;
}

/// Packs A (m × k, row stride lda) K-block-major: for each CK_GEMM_KC block, every `width`-row
/// panel's kb × width floats in turn (zero-padded rows), so the kernels walk the packed weights
/// linearly (hardware prefetch friendly).
static void pack_panels(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, ptrdiff_t width, ptrdiff_t kc, float *packed) {
    const ptrdiff_t mp = (m + width - 1) / width * width;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        for (ptrdiff_t r0 = 0; r0 < m; r0 += width) {
            float *dst = packed + k0 * mp + r0 * kb;
            for (ptrdiff_t kk = 0; kk < kb; kk++)
                for (ptrdiff_t i = 0; i < width; i++)
                    dst[kk * width + i] = r0 + i < m ? a[(r0 + i) * lda + k0 + kk] : 0.0f;
        }
    }
}

size_t ck_gemm_packed_a_floats(ptrdiff_t m, ptrdiff_t k) { return panel_floats(m, k, CK_GEMM_MR); }

void ck_gemm_pack_a(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, float *packed) {
    pack_panels(a, m, k, lda, CK_GEMM_MR, CK_GEMM_KC, packed);
}

/// Columns of B packed per block: k × NC floats ≈ 128 KiB (L2), a multiple of NR, at least NR.
static ptrdiff_t block_columns(ptrdiff_t k) {
    ptrdiff_t nc = (32768 / (k > 0 ? k : 1)) / CK_GEMM_NR * CK_GEMM_NR;
    if (nc < CK_GEMM_NR) nc = CK_GEMM_NR;
    if (nc > 1024) nc = 1024;
    return nc;
}

size_t ck_gemm_scratch_floats(ptrdiff_t k, ptrdiff_t n) {
    if (k > CK_GEMM_KC) k = CK_GEMM_KC;
    ptrdiff_t nc = block_columns(k);
    ptrdiff_t cols = (n + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    if (cols > nc) cols = nc;
    return (size_t)(cols * (k > 0 ? k : 1));
}

size_t ck_gemm_packed_wt_floats(ptrdiff_t m, ptrdiff_t k) { return panel_floats(m, k, CK_GEMM_NR); }

/// K block of the transposed product. Its pixel side is small (≤ 64 columns), so a depth up
/// to 2048 is one block (the pixel panels and one 16-channel weight panel stay in L2) and the
/// output is written once, transposed. Deeper products use CK_GEMM_KC blocks (each weight panel
/// L1-resident) accumulating in a per-call tile buffer in natural layout, written out
/// transposed once at the end. Measured (standalone, m=512 k=4608 n=49): 2.7–2.9 ms stable;
/// equal ≤2048 blocks were bimodal (2.7 or 5.5 ms), 256-blocks re-gathering transposed output
/// tiles 4.1–4.6 ms.
static ptrdiff_t t_block_depth(ptrdiff_t k) { return k <= 2048 ? k : CK_GEMM_KC; }
ptrdiff_t ck_gemm_t_block_depth(ptrdiff_t k) { return t_block_depth(k); }

void ck_gemm_pack_wt(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, float *packed) {
    pack_panels(a, m, k, lda, CK_GEMM_NR, t_block_depth(k), packed);
}

void ck_gemm_pack_b(const float *b, ptrdiff_t k, ptrdiff_t n, ptrdiff_t ldb, float *packed) {
    const ptrdiff_t kc = t_block_depth(k), np = (n + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        for (ptrdiff_t o = 0; o < n; o += CK_GEMM_NR) {
            const ptrdiff_t w = n - o < CK_GEMM_NR ? n - o : CK_GEMM_NR;
            float *dst = packed + k0 * np + o * kb;
            for (ptrdiff_t kk = 0; kk < kb; kk++) {
                memcpy(dst + kk * CK_GEMM_NR, b + (k0 + kk) * ldb + o, (size_t)w * sizeof(float));
                if (w < CK_GEMM_NR) memset(dst + kk * CK_GEMM_NR + w, 0, (size_t)(CK_GEMM_NR - w) * sizeof(float));
            }
        }
    }
}

size_t ck_gemm_t_scratch_floats(ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
    const ptrdiff_t kc = t_block_depth(k);
    const ptrdiff_t panels = (n + CK_GEMM_MR - 1) / CK_GEMM_MR;
    size_t floats = (size_t)(panels * CK_GEMM_MR * (kc > 0 ? kc : 1));
    if (k > kc) floats += (size_t)((m + CK_GEMM_NR - 1) / CK_GEMM_NR * panels * CK_GEMM_MR * CK_GEMM_NR);
    // The pixel-panel AVX-512 kernel packs all n pixels over the whole depth: [k][S] per panel.
    const size_t tn = ck_gemm_tn_eligible(n) ? (size_t)(n * k) : 0;
    return floats > tn ? floats : tn;
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

/// Tile modes of `kernel_6x16`.
typedef struct {
    const float *bias;   // NULL: no bias
    int bias_per_column; // bias[j] per column (transposed problem) instead of bias[r] per row
    int accumulate;      // start from C (a later K block) instead of the bias
    int last;            // last K block: apply the activation
    int transposed;      // store tile (r, j) at c[j * ldc + r]
} tile_mode;

/// One 6×16 tile: C[0..mr)[0..nr) = act(A·B + bias) (or += A·B for a later K block); B row kk
/// of the tile's 16 columns at b + kk·bstride (16 readable floats). Each k step also prefetches
/// the cache line at pf + 64·kk into L2 (the next weight panel; pass a line the tile reads
/// anyway when there is nothing to fetch).
CK_INLINE void kernel_6x16p(const float *a, const float *b, ptrdiff_t bstride, ptrdiff_t k, float *c, ptrdiff_t ldc,
                            int mr, int nr, tile_mode mode, ck_activation act, const char *pf, ptrdiff_t pf_step) {
    __m256 t[12];
    const __m256i m0 = ck_mask256(nr < 8 ? nr : 8), m1 = ck_mask256(nr > 8 ? nr - 8 : 0);
    if (mode.accumulate) {
        if (!mode.transposed) {
            for (int r = 0; r < 6; r++) {
                const float *row = c + (r < mr ? r : 0) * ldc;
                t[2 * r] = _mm256_maskload_ps(row, m0);
                t[2 * r + 1] = _mm256_maskload_ps(row + 8, m1);
            }
        } else {
            float buf[6][16] __attribute__((aligned(32))) = {{0}};
            for (int j = 0; j < nr; j++)
                for (int r = 0; r < mr; r++) buf[r][j] = c[j * ldc + r];
            for (int r = 0; r < 6; r++) { t[2 * r] = _mm256_load_ps(buf[r]); t[2 * r + 1] = _mm256_load_ps(buf[r] + 8); }
        }
    } else if (mode.bias && mode.bias_per_column) {
        __m256 b0 = _mm256_maskload_ps(mode.bias, m0), b1 = _mm256_maskload_ps(mode.bias + 8, m1);
        for (int r = 0; r < 6; r++) { t[2 * r] = b0; t[2 * r + 1] = b1; }
    } else if (mode.bias) {
        for (int r = 0; r < 6; r++) t[2 * r] = t[2 * r + 1] = _mm256_broadcast_ss(mode.bias + (r < mr ? r : 0));
    } else {
        for (int r = 0; r < 12; r++) t[r] = _mm256_setzero_ps();
    }
    __m256 c00 = t[0], c01 = t[1], c10 = t[2], c11 = t[3], c20 = t[4], c21 = t[5];
    __m256 c30 = t[6], c31 = t[7], c40 = t[8], c41 = t[9], c50 = t[10], c51 = t[11];
    for (ptrdiff_t kk = 0; kk < k; kk++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += pf_step;
        a += CK_GEMM_MR;
        b += bstride;
    }
    if (mode.last && act.kind != CK_ACT_NONE) {
        // All twelve in registers (rows past mr are discarded): a loop over t[0..2·mr) would
        // spill the tile to the stack.
        // The right half only when the tile has columns there (a narrow tile, e.g. a 1×1 map,
        // would pay for twice the activation work it keeps).
        c00 = ck_act256(c00, act); c10 = ck_act256(c10, act); c20 = ck_act256(c20, act);
        c30 = ck_act256(c30, act); c40 = ck_act256(c40, act); c50 = ck_act256(c50, act);
        if (nr > 8) {
            c01 = ck_act256(c01, act); c11 = ck_act256(c11, act); c21 = ck_act256(c21, act);
            c31 = ck_act256(c31, act); c41 = ck_act256(c41, act); c51 = ck_act256(c51, act);
        }
    }
    t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21;
    t[6] = c30; t[7] = c31; t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51;
    if (mode.transposed) {
        float buf[6][16] __attribute__((aligned(32)));
        for (int r = 0; r < 6; r++) { _mm256_store_ps(buf[r], t[2 * r]); _mm256_store_ps(buf[r] + 8, t[2 * r + 1]); }
        for (int j = 0; j < nr; j++)
            for (int r = 0; r < mr; r++) c[j * ldc + r] = buf[r][j];
    } else if (nr == 16) {
        for (int r = 0; r < mr; r++) {
            _mm256_storeu_ps(c + r * ldc, t[2 * r]);
            _mm256_storeu_ps(c + r * ldc + 8, t[2 * r + 1]);
        }
    } else {
        for (int r = 0; r < mr; r++) {
            _mm256_maskstore_ps(c + r * ldc, m0, t[2 * r]);
            _mm256_maskstore_ps(c + r * ldc + 8, m1, t[2 * r + 1]);
        }
    }
}

CK_INLINE void kernel_6x16s(const float *a, const float *b, ptrdiff_t bstride, ptrdiff_t k, float *c, ptrdiff_t ldc,
                            int mr, int nr, tile_mode mode, ck_activation act) {
    kernel_6x16p(a, b, bstride, k, c, ldc, mr, nr, mode, act, (const char *)b, 0);
}

/// One 6×16 tile over a packed B panel ([k][16]).
CK_INLINE void kernel_6x16(const float *a, const float *b, ptrdiff_t k, float *c, ptrdiff_t ldc, int mr, int nr,
                           tile_mode mode, ck_activation act) {
    kernel_6x16s(a, b, CK_GEMM_NR, k, c, ldc, mr, nr, mode, act);
}

/// One output column (a 1×1 conv on a 1×1 map: squeeze-excitation) from weights packed in
/// `width`-row panels ([k blocks of kc][panel][kb][width]): a matrix-vector product, one 8-lane
/// vector per half panel and one activation per vector, instead of 6×16 tiles that compute and
/// activate 16 (or 6) columns to keep one. Rows [row0, row1), row0 a multiple of `width`.
CK_INLINE void gemv_panels(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc, int width,
                           const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    const ptrdiff_t mp = (m + width - 1) / width * width;
    const int wide = width > 8;                       // two 8-lane halves per panel row (16), else one (6)
    const __m256i lm = ck_mask256(wide ? 8 : width);
    for (ptrdiff_t r = row0; r < row1; r += width) {
        const int rows = (int)(row1 - r < width ? row1 - r : width);
        // Four independent FMA chains: (half 0, half 1) × (even, odd k) when wide, else k mod 4.
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
            const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
            const float *pa = packed + k0 * mp + r * kb;
            const float *pb = b + k0 * ldb;
            ptrdiff_t kk = 0;
            if (wide) {
                for (; kk + 2 <= kb; kk += 2) {
                    const __m256 x0 = _mm256_broadcast_ss(pb + kk * ldb), x1 = _mm256_broadcast_ss(pb + (kk + 1) * ldb);
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16), x0, a0);
                    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16 + 8), x0, a1);
                    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16 + 16), x1, a2);
                    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16 + 24), x1, a3);
                }
                if (kk < kb) {
                    const __m256 x0 = _mm256_broadcast_ss(pb + kk * ldb);
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16), x0, a0);
                    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * 16 + 8), x0, a1);
                }
            } else {
                // Plain 8-float loads of a 6-float panel row: lanes 6–7 pick up the next row and
                // are never stored; the block's last row is masked so nothing past it is read.
                for (; kk + 4 < kb; kk += 4) {
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * width), _mm256_broadcast_ss(pb + kk * ldb), a0);
                    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + (kk + 1) * width), _mm256_broadcast_ss(pb + (kk + 1) * ldb), a1);
                    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + (kk + 2) * width), _mm256_broadcast_ss(pb + (kk + 2) * ldb), a2);
                    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + (kk + 3) * width), _mm256_broadcast_ss(pb + (kk + 3) * ldb), a3);
                }
                for (; kk + 1 < kb; kk++)
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa + kk * width), _mm256_broadcast_ss(pb + kk * ldb), a0);
                if (kk < kb) a0 = _mm256_fmadd_ps(_mm256_maskload_ps(pa + kk * width, lm), _mm256_broadcast_ss(pb + kk * ldb), a0);
            }
        }
        __m256 v[2];
        if (wide) { v[0] = _mm256_add_ps(a0, a2); v[1] = _mm256_add_ps(a1, a3); }
        else v[0] = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        for (int h = 0; h * 8 < rows; h++) {
            const int live = rows - h * 8 < 8 ? rows - h * 8 : 8;
            __m256 y = v[h];
            if (bias) y = _mm256_add_ps(y, _mm256_maskload_ps(bias + r + h * 8, ck_mask256(live)));
            if (act.kind != CK_ACT_NONE) y = ck_act256(y, act);
            float out[8] __attribute__((aligned(32)));
            _mm256_store_ps(out, y);
            for (int i = 0; i < live; i++) c[(r + h * 8 + i) * ldc] = out[i];
        }
    }
}

CK_INLINE void gemm_packed(
    const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, const float *b, ptrdiff_t ldb,
    ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch, ck_activation post) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    const ptrdiff_t kc = k < CK_GEMM_KC ? k : CK_GEMM_KC;
    if (n == 1) {
        gemv_panels(packed_a, m, row0, row1, k, kc, CK_GEMM_MR, b, ldb, c, ldc, bias, post.kind != CK_ACT_NONE ? post : act);
        return;
    }
    const ptrdiff_t nc = block_columns(kc);
    // Rows of A per L2 block: MC × kc floats ≈ 96 KiB.
    ptrdiff_t mc = (24576 / (kc > 0 ? kc : 1)) / CK_GEMM_MR * CK_GEMM_MR;
    const ptrdiff_t mp = (m + CK_GEMM_MR - 1) / CK_GEMM_MR * CK_GEMM_MR;
    if (mc < CK_GEMM_MR) mc = CK_GEMM_MR;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += nc) {
        ptrdiff_t nb = n - j0 < nc ? n - j0 : nc;
        for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
            ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
            if (k <= 64 || m <= 64) {
                // Shallow products, and products with few rows (the projections of inverted
                // residual blocks: m ≤ 64, each packed B panel would serve ≤ 11 row strips), are
                // bound by moving data: sweep each 6-row strip along the whole column block, so C
                // is written as 6 sequential streams, not 6 × m, and read full 16-column panels
                // of B in place (kb row streams; packing them first cost a copy of B). Only a
                // partial last panel is packed. Measured standalone (1 thread, min of 100):
                // m 24 k 96 n 3136 152 → 138 µs, m 32 k 144 n 784 81 → 73 µs, m 64 k 384 n 196
                // with cold weights 110 → 104 µs; m ≥ 80 was even, so it keeps the packed path.
                const ptrdiff_t full = nb / CK_GEMM_NR * CK_GEMM_NR;
                const int last = k0 + kb >= k;
                if (full < nb) pack_b(b + k0 * ldb, ldb, kb, j0 + full, nb - full, scratch);
                for (ptrdiff_t r = row0; r < row1; r += CK_GEMM_MR) {
                    int mr = (int)(m - r < CK_GEMM_MR ? m - r : CK_GEMM_MR);
                    tile_mode mode = {bias ? bias + r : NULL, 0, k0 > 0, last};
                    const float *ap = packed_a + k0 * mp + r * kb;
                    ptrdiff_t p = 0, done = 0;
                    for (; p < nb; p += CK_GEMM_NR) {
                        int nr = (int)(nb - p < CK_GEMM_NR ? nb - p : CK_GEMM_NR);
                        const float *bsrc = b + k0 * ldb + j0 + p;
                        if (p < full && r == row0 && p + 2 * CK_GEMM_NR <= full)
                            // The first strip is the first to touch B: fetch the next panel's line of
                            // every row (in place, rows ldb apart: no hardware prefetcher follows them
                            // across pages), as `ck_gemm_rows16_avx512` does for its first row panel.
                            kernel_6x16p(ap, bsrc, ldb, kb, c + r * ldc + j0 + p, ldc, mr, CK_GEMM_NR, mode, act,
                                         (const char *)(bsrc + 2 * CK_GEMM_NR - 1), ldb * (ptrdiff_t)sizeof(float));
                        else if (p < full)
                            kernel_6x16s(ap, bsrc, ldb, kb, c + r * ldc + j0 + p, ldc, mr, CK_GEMM_NR, mode, act);
                        else
                            kernel_6x16(ap, scratch + ((p - full) / CK_GEMM_NR) * CK_GEMM_NR * kb, kb,
                                        c + r * ldc + j0 + p, ldc, mr, nr, mode, act);
                        // A deferred activation runs on every 8 finished tiles (6 × 128 floats, in L1).
                        if (last && post.kind != CK_ACT_NONE && (p + nr - done >= 8 * CK_GEMM_NR || p + nr >= nb)) {
                            ck_act_rows512(c + r * ldc + j0 + done, ldc, mr, p + nr - done, 0.0f, post);
                            done = p + nr;
                        }
                    }
                }
                continue;
            }
            pack_b(b + k0 * ldb, ldb, kb, j0, nb, scratch);
            for (ptrdiff_t m0 = row0; m0 < row1; m0 += mc) {
                ptrdiff_t m1 = m0 + mc < row1 ? m0 + mc : row1;
                for (ptrdiff_t p = 0; p < nb; p += CK_GEMM_NR) {
                    int nr = (int)(nb - p < CK_GEMM_NR ? nb - p : CK_GEMM_NR);
                    const float *bp = scratch + (p / CK_GEMM_NR) * CK_GEMM_NR * kb;
                    for (ptrdiff_t r = m0; r < m1; r += CK_GEMM_MR) {
                        int mr = (int)(m - r < CK_GEMM_MR ? m - r : CK_GEMM_MR);
                        tile_mode mode = {bias ? bias + r : NULL, 0, k0 > 0, k0 + kb >= k};
                        // The first column panel pulls the next weight panel into L2 (24 bytes per
                        // k step): weights are cold in every inference, the B panel is not.
                        const float *ap = packed_a + k0 * mp + r * kb;
                        const int fetch = p == 0 && r + CK_GEMM_MR < m1;
                        kernel_6x16p(ap, bp, CK_GEMM_NR, kb, c + r * ldc + j0 + p, ldc, mr, nr, mode, act,
                                     (const char *)(fetch ? ap + CK_GEMM_MR * kb : ap), fetch ? 24 : 0);
                    }
                    // A deferred activation runs on the finished column panel of this row block
                    // (≤ 96 × 16 floats, in L1): one call instead of one per tile.
                    if (post.kind != CK_ACT_NONE && k0 + kb >= k)
                        ck_act_rows512(c + m0 * ldc + j0 + p, ldc, m1 - m0, nr, 0.0f, post);
                }
            }
        }
    }
}

/// Packs rows [k0, k0 + kb) × columns [j0, j0 + w) (w ≤ MR) of B (stride ldb) transposed into
/// one MR-wide panel [kb][MR] (zero-padded).
static void pack_bt_panel(const float *b, ptrdiff_t ldb, ptrdiff_t kb, ptrdiff_t j0, int w, float *dst) {
    // Row kk's w ≤ 6 floats are one masked 8-lane load (dead lanes read as zero, the padding),
    // stored as 8 floats whose last two the next row overwrites; the last row stores 6. Scalar
    // copies took ~20 µs of a 960 → 160 product on a 7×7 map (49 pixels: 9 panels × 960 rows).
    const __m256i m = ck_mask256(w);
    const __m256i six = ck_mask256(CK_GEMM_MR);
    const float *src = b + j0;
    ptrdiff_t kk = 0;
    for (; kk + 1 < kb; kk++) _mm256_storeu_ps(dst + kk * CK_GEMM_MR, _mm256_maskload_ps(src + kk * ldb, m));
    if (kk < kb) _mm256_maskstore_ps(dst + kk * CK_GEMM_MR, six, _mm256_maskload_ps(src + kk * ldb, m));
}

CK_INLINE void gemm_packed_t(
    const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, const float *b, ptrdiff_t ldb,
    ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch, ck_activation post) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    const ptrdiff_t kc = t_block_depth(k);
    if (n == 1) {
        gemv_panels(packed_wt, m, row0, row1, k, kc, CK_GEMM_NR, b, ldb, c, ldc, bias, post.kind != CK_ACT_NONE ? post : act);
        return;
    }
    const ptrdiff_t panels = (n + CK_GEMM_MR - 1) / CK_GEMM_MR;
    const ptrdiff_t mp = (m + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    const ptrdiff_t tile = CK_GEMM_MR * CK_GEMM_NR;
    // One K block: each tile is written once, transposed, straight into C. Several: tiles
    // accumulate in natural layout in a buffer [group][panel] after the pixel panels
    // (panels·MR·kc floats, a multiple of 8, so still 32-byte aligned) and are written out
    // transposed at the end; rows past a panel's width and columns past m are never stored.
    const int blocked = k > kc;
    float *tiles = scratch + panels * CK_GEMM_MR * kc;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        // Pixels as the MR-row operand: every pixel panel of this K block.
        for (ptrdiff_t q = 0; q < panels; q++) {
            ptrdiff_t w = n - q * CK_GEMM_MR < CK_GEMM_MR ? n - q * CK_GEMM_MR : CK_GEMM_MR;
            pack_bt_panel(b + k0 * ldb, ldb, kb, q * CK_GEMM_MR, (int)w, scratch + q * CK_GEMM_MR * kb);
        }
        // Channels as the 16-column operand (weights pre-packed [m/16][k][16]).
        for (ptrdiff_t o = row0; o < row1; o += CK_GEMM_NR) {
            int nr = (int)(m - o < CK_GEMM_NR ? m - o : CK_GEMM_NR);
            if (o + nr > row1) nr = (int)(row1 - o);
            const float *wp = packed_wt + k0 * mp + o * kb;
            float *gt = tiles + (o - row0) / CK_GEMM_NR * panels * tile;
            for (ptrdiff_t q = 0; q < panels; q++) {
                int mr = (int)(n - q * CK_GEMM_MR < CK_GEMM_MR ? n - q * CK_GEMM_MR : CK_GEMM_MR);
                tile_mode mode = {bias ? bias + o : NULL, 1, k0 > 0, k0 + kb >= k, !blocked};
                // The first pixel panel of each weight panel pulls the next weight panel into L2
                // (one 64-byte line per k step: a panel row is 16 floats), so later panels do
                // not stall on weights that are cold in every inference.
                const int fetch = q == 0 && o + CK_GEMM_NR < row1;
                const char *pf = fetch ? (const char *)(wp + CK_GEMM_NR * kb) : (const char *)wp;
                const ptrdiff_t step = fetch ? 64 : 0;
                if (blocked) kernel_6x16p(scratch + q * CK_GEMM_MR * kb, wp, CK_GEMM_NR, kb, gt + q * tile, CK_GEMM_NR, mr, nr, mode, act, pf, step);
                else kernel_6x16p(scratch + q * CK_GEMM_MR * kb, wp, CK_GEMM_NR, kb, c + o * ldc + q * CK_GEMM_MR, ldc, mr, nr, mode, act, pf, step);
            }
            // A deferred activation runs once on the panel's finished nr channels × n pixels.
            if (!blocked && post.kind != CK_ACT_NONE) ck_post_rows(c + o * ldc, ldc, nr, n, post);
        }
    }
    if (!blocked) return;
    for (ptrdiff_t o = row0; o < row1; o += CK_GEMM_NR) {
        int nr = (int)(m - o < CK_GEMM_NR ? m - o : CK_GEMM_NR);
        if (o + nr > row1) nr = (int)(row1 - o);
        const float *gt = tiles + (o - row0) / CK_GEMM_NR * panels * tile;
        for (ptrdiff_t q = 0; q < panels; q++) {
            int mr = (int)(n - q * CK_GEMM_MR < CK_GEMM_MR ? n - q * CK_GEMM_MR : CK_GEMM_MR);
            const float *t = gt + q * tile;
            float *dst = c + o * ldc + q * CK_GEMM_MR;
            for (int j = 0; j < nr; j++)
                for (int r = 0; r < mr; r++) dst[j * ldc + r] = t[r * CK_GEMM_NR + j];
        }
        if (post.kind != CK_ACT_NONE) ck_post_rows(c + o * ldc, ldc, nr, n, post);
    }
}

void ck_gemm_packed(const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    CK_WITH_SPLIT_ACT(act, gemm_packed(packed_a, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}

void ck_gemm_rows16(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    // One column: the matrix-vector path over the 16-row panels (as the transposed product's).
    if (n == 1) gemv_panels(packed, m, row0, row1, k, t_block_depth(k), CK_GEMM_NR, b, ldb, c, ldc, bias, act);
    else ck_gemm_rows16_avx512(packed, m, row0, row1, k, t_block_depth(k), b, ldb, n, c, ldc, bias, act);
}

void ck_gemm_packed_t(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                      const float *b, ptrdiff_t ldb, ptrdiff_t n,
                      float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    if (ck_gemm_tn_eligible(n)) {
        ck_gemm_tn_avx512(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act, scratch);
        return;
    }
    CK_WITH_SPLIT_ACT(act, gemm_packed_t(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}

void ck_gemm_packed_t6(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n,
                       float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    CK_WITH_SPLIT_ACT(act, gemm_packed_t(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}
#pragma clang attribute pop
#else
void ck_gemm_rows16(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    (void)packed; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n; (void)c; (void)ldc; (void)bias; (void)act;
}
void ck_gemm_packed(const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    (void)packed_a; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
void ck_gemm_packed_t(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                      const float *b, ptrdiff_t ldb, ptrdiff_t n,
                      float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    (void)packed_wt; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
void ck_gemm_packed_t6(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n,
                       float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch) {
    (void)packed_wt; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
#endif
