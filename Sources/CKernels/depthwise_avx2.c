// Depthwise k×k convolution of one channel plane (k ∈ {3, 5}, strides 1–2) over a
// zero-bordered, column-phase-split plane, 16 outputs per step with bias and activation
// applied in registers.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_common.h"

/// The specialised shapes (kernel, vertical stride, horizontal stride): X(K, SH, SW) each.
#define CK_DW_SHAPES_K3(X) X(3, 1, 1) X(3, 2, 2) X(3, 1, 2) X(3, 2, 1)
#define CK_DW_SHAPES_K5(X) X(5, 1, 1) X(5, 2, 2) X(5, 1, 2) X(5, 2, 1)
#define CK_DW_SHAPES(X) CK_DW_SHAPES_K3(X) CK_DW_SHAPES_K5(X)

// R output rows × V vectors of 8 columns per block: R·V independent FMA chains (a single
// chain of k² dependent FMAs would wait on the FMA latency).
#define CK_DW_BLOCK(K, SH, SW, R, V)                                                                   \
    do {                                                                                               \
        __m256 acc[R][V];                                                                              \
        for (int r = 0; r < (R); r++)                                                                  \
            for (int v = 0; v < (V); v++) acc[r][v] = vb;                                              \
        for (int ky = 0; ky < (K); ky++)                                                               \
            for (int kx = 0; kx < (K); kx++) {                                                         \
                const __m256 wk = wv[ky * (K) + kx];                                                   \
                for (int r = 0; r < (R); r++) {                                                        \
                    const float *p = padded + ((oy + r) * (SH) + ky) * phase_width                     \
                                     + (kx % (SW)) * phase_plane + kx / (SW) + ox;                     \
                    for (int v = 0; v < (V); v++)                                                      \
                        acc[r][v] = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p + 8 * v), acc[r][v]);       \
                }                                                                                      \
            }                                                                                          \
        for (int r = 0; r < (R); r++) {                                                                \
            float *dst = out + (oy + r) * out_w + ox;                                                  \
            for (int v = 0; v < (V); v++) {                                                            \
                ptrdiff_t left = out_w - ox - 8 * v;                                                   \
                __m256 y = ck_act256(acc[r][v], act);                                                  \
                if (left >= 8 || (single_chunk && oy + r + 1 < out_h))                                 \
                    _mm256_storeu_ps(dst + 8 * v, y); /* a spill is rewritten by the next row */       \
                else _mm256_maskstore_ps(dst + 8 * v, ck_mask256(left), y);                            \
            }                                                                                          \
        }                                                                                              \
    } while (0)

#define CK_DW_ROWS(K, SH, SW, R)                                                                       \
    {                                                                                                  \
        ptrdiff_t ox = 0;                                                                              \
        for (; ox + 8 < out_w; ox += 16) CK_DW_BLOCK(K, SH, SW, R, 2);                                 \
        if (ox < out_w) CK_DW_BLOCK(K, SH, SW, R, 1);                                                  \
    }

// Rows of at most 16 outputs are one chunk: a full-vector store past the row end lands in the
// next row, which is written after it (masked stores are slow on AMD cores); the last row masks.
// `post` (kind NONE: none) is an activation left to ck_act_rows512, run on each finished 4-row
// group while it is in L1 (see ck_depthwise_planes).
#define CK_DW_BODY(K, SH, SW)                                                                          \
    const int single_chunk = out_w <= 16;                                                              \
    ptrdiff_t oy = 0;                                                                                  \
    for (; oy + 4 <= out_h; oy += 4) {                                                                 \
        CK_DW_ROWS(K, SH, SW, 4)                                                                       \
        if (post.kind != CK_ACT_NONE) ck_act_rows512(out + oy * out_w, 0, 1, 4 * out_w, 0.0f, post);    \
    }                                                                                                  \
    switch (out_h - oy) {                                                                              \
    case 3: CK_DW_ROWS(K, SH, SW, 3) break;                                                            \
    case 2: CK_DW_ROWS(K, SH, SW, 2) break;                                                            \
    case 1: CK_DW_ROWS(K, SH, SW, 1) break;                                                            \
    default: break;                                                                                    \
    }                                                                                                  \
    if (post.kind != CK_ACT_NONE && oy < out_h)                                                        \
        ck_act_rows512(out + oy * out_w, 0, 1, (out_h - oy) * out_w, 0.0f, post);

#define CK_DW_CASE(K, SH, SW)                                                                          \
    CK_INLINE void dw_body_##K##_##SH##_##SW(                      \
        const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane, const __m256 *wv, __m256 vb, \
        ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act, ck_activation post) {         \
        CK_DW_BODY(K, SH, SW)                                                                          \
    }                                                                                                  \
    static void dw_##K##_##SH##_##SW(const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane, \
                                     const __m256 *wv, __m256 vb, ptrdiff_t out_h, ptrdiff_t out_w,     \
                                     float *out, ck_activation act, ck_activation post) {              \
        CK_WITH_CONST_ACT(act, dw_body_##K##_##SH##_##SW(padded, phase_width, phase_plane, wv, vb,     \
                                                         out_h, out_w, out, act_c, post));             \
    }

CK_DW_SHAPES(CK_DW_CASE)

/// One channel over its bordered plane (layout in ck_depthwise_planes' comment).
static void depthwise_plane(const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane,
                            int k, int sh, int sw, const float *w, float bias,
                            ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act, ck_activation post) {
    __m256 wv[25];
    for (int i = 0; i < k * k && i < 25; i++) wv[i] = _mm256_set1_ps(w[i]);
    __m256 vb = _mm256_set1_ps(bias);
    const int key = k * 100 + sh * 10 + sw;
#define CK_DW_CALL(K, SH, SW) \
    case K * 100 + SH * 10 + SW: dw_##K##_##SH##_##SW(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act, post); break;
    switch (key) {
    CK_DW_SHAPES(CK_DW_CALL)
    default: break;
    }
#undef CK_DW_CALL
}

/// Copies the input rows of one plane into the bordered plane (phase-split for stride 2); border
/// cells are never written, so they keep the caller's zeros (PhaseSplitPlane.copyInterior's rule).
static void pad_copy(const float *src, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top, ptrdiff_t pad_left,
                     ptrdiff_t rows, int phases, ptrdiff_t phase_width, float *dst) {
    const ptrdiff_t pw = phase_width;
    ptrdiff_t cols = width < pw * phases - pad_left ? width : pw * phases - pad_left;
    if (cols <= 0) return;
    ptrdiff_t first = pad_top > 0 ? pad_top : 0;
    ptrdiff_t last = height + pad_top < rows ? height + pad_top : rows;
    if (phases == 1) {
        for (ptrdiff_t r = first; r < last; r++) {
            const float *s = src + (r - pad_top) * width;
            float *d = dst + r * pw + pad_left;
            ptrdiff_t i = 0;
            for (; i + 8 <= cols; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
            for (; i < cols; i++) d[i] = s[i];   // scalar tail: the border right of it must stay untouched
        }
        return;
    }
    // Two phases: padded column j = i + pad_left goes to phase j & 1 at j >> 1.
    const ptrdiff_t plane = rows * pw;
    const int even_first = (pad_left & 1) == 0;
    float *in_even = dst + (even_first ? 0 : plane);   // phase receiving even input columns
    float *in_odd = dst + (even_first ? plane : 0);    // phase receiving odd input columns
    const ptrdiff_t off_even = pad_left >> 1, off_odd = (1 + pad_left) >> 1;
    for (ptrdiff_t r = first; r < last; r++) {
        const float *s = src + (r - pad_top) * width;
        float *e = in_even + r * pw + off_even;
        float *o = in_odd + r * pw + off_odd;
        ptrdiff_t i = 0;
        for (; i + 16 <= cols; i += 16) {
            __m256 a = _mm256_loadu_ps(s + i), b = _mm256_loadu_ps(s + i + 8);
            __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   // a0 a2 b0 b2 | a4 a6 b4 b6
            __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
            od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), _MM_SHUFFLE(3, 1, 2, 0)));
            _mm256_storeu_ps(e + (i >> 1), ev);
            _mm256_storeu_ps(o + (i >> 1), od);
        }
        for (; i + 8 <= cols; i += 8) {
            __m256 a = _mm256_loadu_ps(s + i);
            __m128 lo = _mm256_castps256_ps128(a), hi = _mm256_extractf128_ps(a, 1);
            _mm_storeu_ps(e + (i >> 1), _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));   // a0 a2 a4 a6
            _mm_storeu_ps(o + (i >> 1), _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));   // a1 a3 a5 a7
        }
        for (; i + 2 <= cols; i += 2) {
            e[i >> 1] = s[i];
            o[i >> 1] = s[i + 1];
        }
        if (i < cols) e[i >> 1] = s[i];
    }
}

/// Tap kx of a narrow-map input row: 8 output columns' inputs, dead lanes zero (the padding); stride 2
/// loads 16 columns and keeps the even lanes.
CK_INLINE __m256 dwn_tap(const float *row, const ptrdiff_t *doff, const __m256i *mlo, const __m256i *mhi, int kx, int sw) {
    if (sw == 1) return _mm256_maskload_ps(row + doff[kx], mlo[kx]);
    __m256 a = _mm256_maskload_ps(row + doff[kx], mlo[kx]);
    __m256 b = _mm256_maskload_ps(row + doff[kx] + 8, mhi[kx]);
    __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));   // a0 a2 b0 b2 | a4 a6 b4 b6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
}

/// The entry point `dwn_K_SH_SW` of a narrow-map body, with the activation made a constant.
#define CK_DWN_ENTRY(K, SH, SW)                                                                        \
    static void dwn_##K##_##SH##_##SW(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad_top, \
        const ptrdiff_t *doff, const __m256i *mlo, const __m256i *mhi, const __m256 *wv, __m256 vb,     \
        ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) {                             \
        CK_WITH_CONST_ACT(act, dwn_body_##K##_##SH##_##SW(x, height, width, pad_top, doff, mlo, mhi, wv, vb, \
                                                          out_h, out_w, out, act_c));                  \
    }

/// Output rows per block of the 5×5 narrow kernel (a 7×7 map is one block).
#define CK_DWN_ROWS 8

// Narrow maps (at most 8 output columns: 7×7, 4×4): one vector per output row, every tap read
// straight from the input plane with a masked load (lanes outside the input row are zero, the
// padding), so no bordered copy is built. On these maps the copy cost more than the taps: a
// 7×7 plane is 49 outputs against a 9×16 bordered plane written and then read back at once.
// Stride 2 loads 16 columns and keeps the even lanes. 3×3 kernels: one output row at a time.
#define CK_DWN_ROW_PTR(iy) const float *row = x + (iy) * width;
#define CK_DWN_TAP_LOAD(kx) dwn_tap(row, doff, mlo, mhi, kx, sw_c)
#define CK_DW_NARROW_ROWWISE(K, SH, SW)                                                                \
    CK_INLINE void dwn_body_##K##_##SH##_##SW(const float *x, ptrdiff_t height, ptrdiff_t width,       \
        ptrdiff_t pad_top, const ptrdiff_t *doff, const __m256i *mlo, const __m256i *mhi,               \
        const __m256 *wv, __m256 vb, ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) { \
        const int sw_c = (SW);                                                                         \
        CK_DWN_ROWWISE_LOOP(K, SH, CK_DWN_ROW_PTR, CK_DWN_TAP_LOAD)                                     \
    }                                                                                                  \
    CK_DWN_ENTRY(K, SH, SW)

// 5×5 kernels on narrow maps: blocks of up to 8 output rows; each input row's 5 tap vectors are
// loaded once and feed every output row of the block that uses them, so a 7×7 plane reads 7 (stride
// 2: 14) input rows of taps instead of 35, and its 25 FMAs per row run as 7 independent chains. One
// row at a time was latency-bound there (1152×7² stride 1, 2 threads: 56–58 µs, blocked 44 µs; 672×7²
// stride 2: 56 → 42 µs); for 3×3 the blocked loop measured slower (1152×7²: 29 → 38 µs), so 3×3 keeps
// the row loop.
#define CK_DW_NARROW(K, SH, SW)                                                                        \
    CK_INLINE void dwn_body_##K##_##SH##_##SW(const float *x, ptrdiff_t height, ptrdiff_t width,       \
        ptrdiff_t pad_top, const ptrdiff_t *doff, const __m256i *mlo, const __m256i *mhi,               \
        const __m256 *wv, __m256 vb, ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) { \
        const __m256i last_mask = ck_mask256(out_w);                                                   \
        for (ptrdiff_t oy0 = 0; oy0 < out_h; oy0 += CK_DWN_ROWS) {                                     \
            const ptrdiff_t rows = out_h - oy0 < CK_DWN_ROWS ? out_h - oy0 : CK_DWN_ROWS;               \
            __m256 acc[CK_DWN_ROWS];                                                                   \
            for (int r = 0; r < CK_DWN_ROWS; r++) acc[r] = vb;                                         \
            const ptrdiff_t top = oy0 * (SH) - pad_top;   /* input row of (oy0, ky = 0) */             \
            const ptrdiff_t span = (rows - 1) * (SH) + (K);                                            \
            for (ptrdiff_t t = 0; t < span; t++) {                                                     \
                const ptrdiff_t iy = top + t;                                                          \
                if ((size_t)iy >= (size_t)height) continue;                                            \
                const float *row = x + iy * width;                                                     \
                __m256 v[K];                                                                           \
                for (int kx = 0; kx < (K); kx++) v[kx] = dwn_tap(row, doff, mlo, mhi, kx, (SW));       \
                /* output row oy0 + r reads this input row at ky = t − r·SH */                         \
                for (int r = 0; r < CK_DWN_ROWS; r++) {                                                \
                    const ptrdiff_t ky = t - (ptrdiff_t)r * (SH);                                      \
                    if (r >= rows || ky < 0 || ky >= (K)) continue;                                    \
                    for (int kx = 0; kx < (K); kx++) acc[r] = _mm256_fmadd_ps(wv[ky * (K) + kx], v[kx], acc[r]); \
                }                                                                                      \
            }                                                                                          \
            for (int r = 0; r < CK_DWN_ROWS; r++) {                                                    \
                if (r >= rows) break;                                                                  \
                const ptrdiff_t oy = oy0 + r;                                                          \
                __m256 y = ck_act256(acc[r], act);                                                     \
                /* a full store spills into the next row, which is written after it */                 \
                if (out_w == 8 || oy + 1 < out_h) _mm256_storeu_ps(out + oy * out_w, y);               \
                else _mm256_maskstore_ps(out + oy * out_w, last_mask, y);                              \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
    CK_DWN_ENTRY(K, SH, SW)

CK_DW_SHAPES_K3(CK_DW_NARROW_ROWWISE)
CK_DW_SHAPES_K5(CK_DW_NARROW)

/// Lane mask for a load of 8 floats at column `first` of a row of `width` floats: lane l is live
/// when column first + l lies in [0, width) (dead lanes read as zero: the padding).
static __m256i row_mask(ptrdiff_t first, ptrdiff_t width) {
    int m[8];
    for (int l = 0; l < 8; l++) m[l] = (first + l >= 0 && first + l < width) ? -1 : 0;
    return _mm256_loadu_si256((const __m256i *)m);
}

static void depthwise_narrow(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                             ptrdiff_t p0, ptrdiff_t p1, ck_activation act) {
    const ptrdiff_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    const ptrdiff_t multiplier = g.out_channels / g.in_channels;
    const int k = g.k;
    ptrdiff_t doff[5];
    __m256i mlo[5], mhi[5];
    for (int kx = 0; kx < k; kx++) {
        doff[kx] = kx - g.pad_left;   // column of lane 0's tap
        mlo[kx] = row_mask(doff[kx], g.width);
        mhi[kx] = row_mask(doff[kx] + 8, g.width);
    }
    const int key = k * 100 + g.sh * 10 + g.sw;
    for (ptrdiff_t p = p0; p < p1; p++) {
        ptrdiff_t n = p / g.out_channels, c = p % g.out_channels;
        const float *src = x + (n * g.in_channels + c / multiplier) * in_plane;
        __m256 wv[25];
        for (int i = 0; i < k * k; i++) wv[i] = _mm256_set1_ps(w[c * k * k + i]);
        const __m256 vb = _mm256_set1_ps(bias[c]);
        float *out = y + p * out_plane;
#define CK_DWN_CALL(K, SH, SW) \
        case K * 100 + SH * 10 + SW: \
            dwn_##K##_##SH##_##SW(src, g.height, g.width, g.pad_top, doff, mlo, mhi, wv, vb, g.out_h, g.out_w, out, act); break;
        switch (key) {
        CK_DW_SHAPES(CK_DWN_CALL)
        default: break;
        }
#undef CK_DWN_CALL
    }
}

static void depthwise_planes(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                             ptrdiff_t p0, ptrdiff_t p1, ck_activation act, float *plane, ck_activation post);

void ck_depthwise_planes(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                         ptrdiff_t p0, ptrdiff_t p1, ck_activation act, float *plane) {
    const ck_activation none = {CK_ACT_NONE, 0, 0};
    if (!ck_act_deferred(act)) {
        depthwise_planes(x, y, w, bias, g, p0, p1, act, plane, none);
        return;
    }
    // SiLU/sigmoid with AVX-512 (standalone, 1 thread): rows of ≥ 16 outputs take it on every
    // finished 4-row group, in L1 (240×28² 5×5: 239 µs vs 249 for 3-plane groups); narrower maps
    // compute planes without it and run it over every ≥ 2048 finished floats (672×14² 5×5: 181 vs
    // 195 µs per 4-row group; 1152×7² 5×5: 108 vs 128 µs per plane), because a call on 49–56 floats
    // costs 0.5–0.6 ns per element in call and tail overhead against 0.25 on long runs.
    if (g.out_w >= 16) {
        depthwise_planes(x, y, w, bias, g, p0, p1, none, plane, act);
        return;
    }
    const ptrdiff_t out_plane = g.out_h * g.out_w;
    const ptrdiff_t group = out_plane >= 2048 ? 1 : (2048 + out_plane - 1) / out_plane;
    for (ptrdiff_t q = p0; q < p1; q += group) {
        const ptrdiff_t q1 = q + group < p1 ? q + group : p1;
        depthwise_planes(x, y, w, bias, g, q, q1, none, plane, none);
        ck_act_rows512(y + q * out_plane, 0, 1, (q1 - q) * out_plane, 0.0f, act);
    }
}

static void depthwise_planes(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                             ptrdiff_t p0, ptrdiff_t p1, ck_activation act, float *plane, ck_activation post) {
    if (g.out_w <= CK_DW_NARROW_COLUMNS) {
        if (g.direct) ck_depthwise_direct_avx512(x, y, w, bias, g, p0, p1, act, post);   // ck_depthwise_narrow_s2
        else depthwise_narrow(x, y, w, bias, g, p0, p1, act);
        return;
    }
    if (g.direct) {
        ck_depthwise_direct_avx512(x, y, w, bias, g, p0, p1, act, post);
        return;
    }
    const ptrdiff_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    const ptrdiff_t multiplier = g.out_channels / g.in_channels;
    const ptrdiff_t kk = (ptrdiff_t)g.k * g.k;
    ptrdiff_t copied = -1;
    for (ptrdiff_t p = p0; p < p1; p++) {
        ptrdiff_t n = p / g.out_channels, c = p % g.out_channels;
        ptrdiff_t src = n * g.in_channels + c / multiplier;
        if (src != copied) {
            pad_copy(x + src * in_plane, g.height, g.width, g.pad_top, g.pad_left, g.rows, g.sw, g.phase_width, plane);
            copied = src;
        }
        depthwise_plane(plane, g.phase_width, g.rows * g.phase_width, g.k, g.sh, g.sw, w + c * kk, bias[c],
                        g.out_h, g.out_w, y + p * out_plane, act, post);
    }
}

#pragma clang attribute pop
#else
void ck_depthwise_planes(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                         ptrdiff_t p0, ptrdiff_t p1, ck_activation act, float *plane) {
    (void)x; (void)y; (void)w; (void)bias; (void)g; (void)p0; (void)p1; (void)act; (void)plane;
}
#endif
