// Winograd F(2×2, 3×3) input and output transforms, 8 horizontally adjacent tiles per step.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_common.h"

/// Even and odd elements of the 16 floats at p: (p0 p2 … p14), (p1 p3 … p15).
CK_INLINE void deinterleave16(const float *p, __m256 *even, __m256 *odd) {
    __m256 x0 = _mm256_loadu_ps(p), x1 = _mm256_loadu_ps(p + 8);
    __m256 e = _mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 o = _mm256_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

void ck_winograd_input(const float *padded, ptrdiff_t plane_floats, ptrdiff_t padded_width, ptrdiff_t channels,
                       ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x, float *v, ptrdiff_t ld) {
    const ptrdiff_t e_stride = channels * ld;
    for (ptrdiff_t ci = 0; ci < channels; ci++) {
        const float *plane = padded + ci * plane_floats;
        float *vc = v + ci * ld;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            for (ptrdiff_t tx = 0; tx < tiles_x; tx += 8) {
                const ptrdiff_t t = (ty - ty0) * tiles_x + tx;
                __m256 d[4][4];   // d[r][c]: input row 2ty + r, column 2(tx + lane) + c
                for (int r = 0; r < 4; r++) {
                    const float *p = plane + (2 * ty + r) * padded_width + 2 * tx;
                    deinterleave16(p, &d[r][0], &d[r][1]);
                    deinterleave16(p + 2, &d[r][2], &d[r][3]);
                }
                // Bᵀ·d (rows): [d0 − d2, d1 + d2, d2 − d1, d1 − d3], then ·B (columns) the same way.
                __m256 rr[4][4];
                for (int c = 0; c < 4; c++) {
                    rr[0][c] = _mm256_sub_ps(d[0][c], d[2][c]);
                    rr[1][c] = _mm256_add_ps(d[1][c], d[2][c]);
                    rr[2][c] = _mm256_sub_ps(d[2][c], d[1][c]);
                    rr[3][c] = _mm256_sub_ps(d[1][c], d[3][c]);
                }
                // Full 8-lane stores: lanes past the row's last tile land in the next tile row's
                // slots (written later) or in the block's 8 columns of slack.
                for (int i = 0; i < 4; i++) {
                    _mm256_storeu_ps(vc + (i * 4 + 0) * e_stride + t, _mm256_sub_ps(rr[i][0], rr[i][2]));
                    _mm256_storeu_ps(vc + (i * 4 + 1) * e_stride + t, _mm256_add_ps(rr[i][1], rr[i][2]));
                    _mm256_storeu_ps(vc + (i * 4 + 2) * e_stride + t, _mm256_sub_ps(rr[i][2], rr[i][1]));
                    _mm256_storeu_ps(vc + (i * 4 + 3) * e_stride + t, _mm256_sub_ps(rr[i][1], rr[i][3]));
                }
            }
        }
    }
}

/// Stores `count` (≤ 16) floats of lo ‖ hi at dst.
CK_INLINE void store16(float *dst, __m256 lo, __m256 hi, ptrdiff_t count) {
    if (count >= 16) {
        _mm256_storeu_ps(dst, lo);
        _mm256_storeu_ps(dst + 8, hi);
    } else if (count > 8) {
        _mm256_storeu_ps(dst, lo);
        _mm256_maskstore_ps(dst + 8, ck_mask256(count - 8), hi);
    } else if (count > 0) {
        _mm256_maskstore_ps(dst, ck_mask256(count), lo);
    }
}

void ck_winograd_output(const float *m, ptrdiff_t ld, ptrdiff_t channels, ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x,
                        const float *bias, float *y, ptrdiff_t out_h, ptrdiff_t out_w, ck_activation act) {
    const ptrdiff_t e_stride = channels * ld;
    const ptrdiff_t out_plane = out_h * out_w;
    for (ptrdiff_t co = 0; co < channels; co++) {
        const float *mc = m + co * ld;
        const __m256 b = _mm256_set1_ps(bias[co]);
        float *plane = y + co * out_plane;
        for (ptrdiff_t ty = ty0; ty < ty1; ty++) {
            const ptrdiff_t oy = 2 * ty;
            for (ptrdiff_t tx = 0; tx < tiles_x; tx += 8) {
                const ptrdiff_t t = (ty - ty0) * tiles_x + tx;
                __m256 q[16];
                for (int e = 0; e < 16; e++) q[e] = _mm256_loadu_ps(mc + e * e_stride + t);
                // Aᵀ·M (rows): [m0 + m1 + m2, m1 − m2 − m3] per column, then ·A (columns).
                __m256 a[4], c[4];
                for (int k = 0; k < 4; k++) {
                    a[k] = _mm256_add_ps(_mm256_add_ps(q[k], q[4 + k]), q[8 + k]);
                    c[k] = _mm256_sub_ps(_mm256_sub_ps(q[4 + k], q[8 + k]), q[12 + k]);
                }
                __m256 y00 = ck_act256(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), a[2]), b), act);
                __m256 y01 = ck_act256(_mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(a[1], a[2]), a[3]), b), act);
                __m256 y10 = ck_act256(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c[0], c[1]), c[2]), b), act);
                __m256 y11 = ck_act256(_mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(c[1], c[2]), c[3]), b), act);
                // Interleave the two output columns of each tile: y00_0 y01_0 y00_1 y01_1 …
                const ptrdiff_t ox = 2 * tx;
                const ptrdiff_t count = out_w - ox < 16 ? out_w - ox : 16;
                __m256 lo = _mm256_unpacklo_ps(y00, y01), hi = _mm256_unpackhi_ps(y00, y01);
                store16(plane + oy * out_w + ox, _mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31), count);
                if (oy + 1 < out_h) {
                    lo = _mm256_unpacklo_ps(y10, y11);
                    hi = _mm256_unpackhi_ps(y10, y11);
                    store16(plane + (oy + 1) * out_w + ox, _mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31), count);
                }
            }
        }
    }
}
#pragma clang attribute pop
#else
void ck_winograd_input(const float *padded, ptrdiff_t plane_floats, ptrdiff_t padded_width, ptrdiff_t channels,
                       ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x, float *v, ptrdiff_t ld) {
    (void)padded; (void)plane_floats; (void)padded_width; (void)channels; (void)ty0; (void)ty1; (void)tiles_x; (void)v; (void)ld;
}
void ck_winograd_output(const float *m, ptrdiff_t ld, ptrdiff_t channels, ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x,
                        const float *bias, float *y, ptrdiff_t out_h, ptrdiff_t out_w, ck_activation act) {
    (void)m; (void)ld; (void)channels; (void)ty0; (void)ty1; (void)tiles_x; (void)bias; (void)y; (void)out_h; (void)out_w; (void)act;
}
#endif
