// Depthwise k×k convolution with AVX-512F reading the input directly: no bordered (and, at
// horizontal stride 2, column-phase-split) copy, which took half of the AVX2 kernel's time on
// 112² maps. For 16 outputs at columns ox…ox+15 at stride 2, tap kx reads input columns
// c0 + kx + 2l (c0 = 2·ox − pad_left): the loads a, b, c of columns c0…c0+47 give taps 0 and 1
// as the even and odd lanes of (a, b) (one `vpermt2ps` each) and tap kx ≥ 2 as tap kx − 2 moved
// one lane down with a lane of c. At stride 1 (c0 = ox − pad_left) tap kx is lanes kx…kx+15 of
// the loads a, b of columns c0…c0+31 (one `vpermt2ps`). Every load is masked to the input row
// (dead lanes read as zero, the padding), so the borders need no special case and no load
// leaves the tensor. Each input row of an R-row block is loaded and de-interleaved once and
// feeds every output row that reads it. Standalone, 1 thread (/tmp microbenchmarks, µs, this
// kernel vs the AVX2 copy + 8-lane taps): stride 2: 96×112² k3 relu6 141 vs 234; 144×56² k3 55
// vs 115; 144×56² k5 SiLU 128 vs 199. Stride 1: 32×112² k3 relu6 124 vs 214; 144×56² k3 169 vs
// 235; 192×28² k3 63 vs 117; 576×14² k3 65 vs 108; 240×28² k5 SiLU 215 vs 294; 672×14² k5 SiLU
// 162 vs 222.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

/// The specialised shapes (kernel, vertical stride, horizontal stride): X(K, SH, SW) each.
#define CK_DWD_SHAPES(X) X(3, 1, 2) X(3, 2, 2) X(5, 1, 2) X(5, 2, 2) X(3, 1, 1) X(5, 1, 1)

// R output rows × 16 columns at (oy, ox). Input row t of the block (iy = oy·SH − pad_top + t)
// is skipped above and below the plane; its k taps feed output row r with ky = t − r·SH.
// Two accumulators per row (even and odd kx) halve the FMA dependency chains.
#define CK_DWD_BLOCK(K, SH, SW, R)                                                                      \
    do {                                                                                               \
        const ptrdiff_t c0 = (SW) * ox - pad_left;                                                     \
        const __mmask16 m0 = ck_col_mask16(c0, width);                                                      \
        const __mmask16 m1 = ck_col_mask16(c0 + 16, width) & (__mmask16)((SW) == 2 ? 0xFFFF : (1u << ((K) - 1)) - 1); \
        const __mmask16 m2 = (SW) == 2 ? ck_col_mask16(c0 + 32, width) & (__mmask16)((1u << ((K) - 2)) - 1) : 0; \
        __m512 acc[R][2];                                                                              \
        for (int r = 0; r < (R); r++) acc[r][0] = vb, acc[r][1] = _mm512_setzero_ps();                 \
        for (int t = 0; t < ((R) - 1) * (SH) + (K); t++) {                                             \
            const ptrdiff_t iy = oy * (SH) - pad_top + t;                                              \
            if ((size_t)iy >= (size_t)height) continue;                                                \
            const float *row = x + iy * width + c0;                                                    \
            const __m512 a = _mm512_maskz_loadu_ps(m0, row), b = _mm512_maskz_loadu_ps(m1, row + 16);  \
            __m512 tap[K];                                                                             \
            if ((SW) == 2) {                                                                           \
                const __m512 c = _mm512_maskz_loadu_ps(m2, row + 32);                                  \
                tap[0] = _mm512_permutex2var_ps(a, even, b);                                           \
                tap[1] = _mm512_permutex2var_ps(a, odd, b);                                            \
                /* tap kx is tap kx − 2 one lane on, its last lane column c0 + 30 + kx = c[kx − 2] */  \
                for (int kx = 2; kx < (K); kx++) tap[kx] = _mm512_permutex2var_ps(tap[kx - 2], next[kx - 2], c); \
            } else {                                                                                   \
                /* stride 1: tap kx is columns c0 + kx … c0 + kx + 15, lanes kx… of (a, b) */         \
                tap[0] = a;                                                                            \
                for (int kx = 1; kx < (K); kx++) tap[kx] = _mm512_permutex2var_ps(a, shift[kx], b);    \
            }                                                                                          \
            for (int r = 0; r < (R); r++) {                                                            \
                const int ky = t - r * (SH);                                                           \
                if (ky < 0 || ky >= (K)) continue;                                                     \
                for (int kx = 0; kx < (K); kx++)                                                       \
                    acc[r][kx & 1] = _mm512_fmadd_ps(_mm512_set1_ps(w[ky * (K) + kx]), tap[kx], acc[r][kx & 1]); \
            }                                                                                          \
        }                                                                                              \
        const ptrdiff_t left = out_w - ox;                                                             \
        for (int r = 0; r < (R); r++) {                                                                \
            __m512 v = ck_act512(_mm512_add_ps(acc[r][0], acc[r][1]), act);                               \
            float *dst = out + (oy + r) * out_w + ox;                                                  \
            if (left >= 16) _mm512_storeu_ps(dst, v);                                                  \
            else _mm512_mask_storeu_ps(dst, (__mmask16)((1u << left) - 1), v);                         \
        }                                                                                              \
    } while (0)

#define CK_DWD_ROWS(K, SH, SW, R)                                                                      \
    for (ptrdiff_t ox = 0; ox < out_w; ox += 16) CK_DWD_BLOCK(K, SH, SW, R);

// 4-row blocks; `post` (SiLU/sigmoid left to ck_act_rows512) runs on each finished block in L1,
// as in depthwise_avx2.c.
#define CK_DWD_CASE(K, SH, SW)                                                                         \
    CK_INLINE void dwd_body_##K##_##SH##_##SW(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top, \
        ptrdiff_t pad_left, const float *w, __m512 vb, ptrdiff_t out_h, ptrdiff_t out_w, float *out,     \
        ck_activation act, ck_activation post) {                                                       \
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); \
        const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));                              \
        const __m512i step = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);  \
        const __m512i next[3] = {step, _mm512_add_epi32(step, _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), \
                                 _mm512_add_epi32(step, _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2))}; \
        /* stride 1: tap kx = lanes kx … kx + 15 of (a, b) */                                        \
        const __m512i shift[5] = {step, step, _mm512_add_epi32(step, _mm512_set1_epi32(1)),           \
                                  _mm512_add_epi32(step, _mm512_set1_epi32(2)), _mm512_add_epi32(step, _mm512_set1_epi32(3))}; \
        ptrdiff_t oy = 0;                                                                              \
        for (; oy + 4 <= out_h; oy += 4) {                                                             \
            CK_DWD_ROWS(K, SH, SW, 4)                                                                      \
            if (post.kind != CK_ACT_NONE) ck_act_rows512(out + oy * out_w, 0, 1, 4 * out_w, 0.0f, post); \
        }                                                                                              \
        switch (out_h - oy) {                                                                          \
        case 3: CK_DWD_ROWS(K, SH, SW, 3) break;                                                           \
        case 2: CK_DWD_ROWS(K, SH, SW, 2) break;                                                           \
        case 1: CK_DWD_ROWS(K, SH, SW, 1) break;                                                           \
        default: break;                                                                                \
        }                                                                                              \
        if (post.kind != CK_ACT_NONE && oy < out_h)                                                    \
            ck_act_rows512(out + oy * out_w, 0, 1, (out_h - oy) * out_w, 0.0f, post);                  \
    }                                                                                                  \
    static void dwd_##K##_##SH##_##SW(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top,   \
        ptrdiff_t pad_left, const float *w, __m512 vb, ptrdiff_t out_h, ptrdiff_t out_w, float *out,     \
        ck_activation act, ck_activation post) {                                                       \
        CK_WITH_CONST_ACT(act, dwd_body_##K##_##SH##_##SW(x, height, width, pad_top, pad_left, w, vb, out_h, out_w, \
                                                   out, act_c, post));                                 \
    }

CK_DWD_SHAPES(CK_DWD_CASE)

// Narrow maps (≤ 8 output columns) at horizontal stride 2 with the input row in one 16-lane load
// (width + pad_left ≤ 16: 14 → 7 with k3 or k5): each input row is loaded once, masked (dead lanes are
// the padding), and tap kx of output column ox is lane 2·ox + kx of it, picked by one `vpermps` per tap
// (lanes past the load are padding: zeroed by the permute's mask); the AVX2 narrow kernel loads two
// masked halves and shuffles them for every tap. One output row at a time. Standalone in the models,
// 1 thread, per-layer minimum: mobilenet_v2's 576×14² → 7² 3×3 33.1 → 23.2 µs, efficientnet_b0's
// 672×14² → 7² 5×5 79 → 62 µs (in blocks of 8 output rows, each input row's taps feeding every row
// that reads it, as the AVX2 5×5 kernel: 44 and 68.5 µs). At stride 1 the same scheme was slower
// than the AVX2 masked loads (1152×7² 5×5 98 vs 83 µs, 960×7² 3×3 35.7 vs 33.4), so stride 1 stays there.
#define CK_DWN512_ROW(iy) const __m512 row = _mm512_maskz_loadu_ps(lmask, x + (iy) * width - pad_left);
#define CK_DWN512_TAP(kx) _mm512_castps512_ps256(_mm512_maskz_permutexvar_ps(keep[kx], idx[kx], row))
#define CK_DWN512_ROWWISE(K, SH)                                                                       \
    CK_INLINE void dwn512_body_##K##_##SH(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top, \
        ptrdiff_t pad_left, const __m512i *idx, const __mmask16 *keep, const __m256 *wv, __m256 vb,      \
        ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) {                             \
        const __mmask16 lmask = ck_col_mask16(-pad_left, width);                                       \
        CK_DWN_ROWWISE_LOOP(K, SH, CK_DWN512_ROW, CK_DWN512_TAP)                                        \
    }                                                                                                  \
    static void dwn512_##K##_##SH(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top,   \
        ptrdiff_t pad_left, const __m512i *idx, const __mmask16 *keep, const __m256 *wv, __m256 vb,      \
        ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) {                             \
        CK_WITH_CONST_ACT(act, dwn512_body_##K##_##SH(x, height, width, pad_top, pad_left, idx, keep, wv, vb, \
                                                      out_h, out_w, out, act_c));                      \
    }

CK_DWN512_ROWWISE(3, 1)
CK_DWN512_ROWWISE(3, 2)
CK_DWN512_ROWWISE(5, 1)
CK_DWN512_ROWWISE(5, 2)

static void depthwise_narrow_s2_avx512(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                                       ptrdiff_t p0, ptrdiff_t p1, ck_activation act) {
    const ptrdiff_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    const ptrdiff_t multiplier = g.out_channels / g.in_channels;
    const int k = g.k;
    __m512i idx[5];
    __mmask16 keep[5];
    for (int kx = 0; kx < k; kx++) {
        int lanes[16] = {0};
        unsigned m = 0;
        for (int ox = 0; ox < 8 && ox < g.out_w; ox++) {
            const int lane = 2 * ox + kx;
            if (lane < 16) { lanes[ox] = lane; m |= 1u << ox; }
        }
        idx[kx] = _mm512_loadu_si512((const void *)lanes);
        keep[kx] = (__mmask16)m;
    }
    for (ptrdiff_t p = p0; p < p1; p++) {
        const ptrdiff_t n = p / g.out_channels, c = p % g.out_channels;
        const float *src = x + (n * g.in_channels + c / multiplier) * in_plane;
        __m256 wv[25];
        for (int i = 0; i < k * k; i++) wv[i] = _mm256_set1_ps(w[c * k * k + i]);
        const __m256 vb = _mm256_set1_ps(bias[c]);
        float *out = y + p * out_plane;
        const int key = k * 10 + (int)g.sh;
        switch (key) {
        case 31: dwn512_3_1(src, g.height, g.width, g.pad_top, g.pad_left, idx, keep, wv, vb, g.out_h, g.out_w, out, act); break;
        case 32: dwn512_3_2(src, g.height, g.width, g.pad_top, g.pad_left, idx, keep, wv, vb, g.out_h, g.out_w, out, act); break;
        case 51: dwn512_5_1(src, g.height, g.width, g.pad_top, g.pad_left, idx, keep, wv, vb, g.out_h, g.out_w, out, act); break;
        case 52: dwn512_5_2(src, g.height, g.width, g.pad_top, g.pad_left, idx, keep, wv, vb, g.out_h, g.out_w, out, act); break;
        default: break;
        }
    }
}

void ck_depthwise_direct_avx512(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                            ptrdiff_t p0, ptrdiff_t p1, ck_activation act, ck_activation post) {
    if (g.out_w <= CK_DW_NARROW_COLUMNS) {   // ck_depthwise_narrow_s2's shapes; `act` is never deferred here
        (void)post;
        depthwise_narrow_s2_avx512(x, y, w, bias, g, p0, p1, act);
        return;
    }
    const ptrdiff_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    const ptrdiff_t multiplier = g.out_channels / g.in_channels;
    const int k = g.k, key = k * 100 + g.sh * 10 + g.sw;
    for (ptrdiff_t p = p0; p < p1; p++) {
        ptrdiff_t n = p / g.out_channels, c = p % g.out_channels;
        const float *src = x + (n * g.in_channels + c / multiplier) * in_plane;
        const __m512 vb = _mm512_set1_ps(bias[c]);
        float *out = y + p * out_plane;
#define CK_DWD_CALL(K, SH, SW) \
        case K * 100 + SH * 10 + SW: \
            dwd_##K##_##SH##_##SW(src, g.height, g.width, g.pad_top, g.pad_left, w + c * k * k, vb, g.out_h, g.out_w, out, act, post); break;
        switch (key) {
        CK_DWD_SHAPES(CK_DWD_CALL)
        default: break;
        }
#undef CK_DWD_CALL
    }
}
#pragma clang attribute pop
#else
void ck_depthwise_direct_avx512(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                            ptrdiff_t p0, ptrdiff_t p1, ck_activation act, ck_activation post) {
    (void)x; (void)y; (void)w; (void)bias; (void)g; (void)p0; (void)p1; (void)act; (void)post;
}
#endif

int ck_depthwise_narrow_s2(int k, int sh, int sw, ptrdiff_t out_w, ptrdiff_t width, ptrdiff_t pad_left) {
    return (k == 3 || k == 5) && (sh == 1 || sh == 2) && sw == 2 && out_w <= CK_DW_NARROW_COLUMNS && pad_left >= 0
           && width + pad_left <= 16 && ck_isa() >= CK_ISA_AVX512;
}

int ck_depthwise_direct(int k, int sh, int sw, ptrdiff_t out_w) {
    return (k == 3 || k == 5) && (sh == 1 || sh == 2) && (sw == 2 || (sw == 1 && sh == 1)) && out_w > CK_DW_NARROW_COLUMNS
           && ck_isa() >= CK_ISA_AVX512;
}
