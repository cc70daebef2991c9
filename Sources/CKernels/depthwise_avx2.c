// Depthwise k×k convolution of one channel plane (k ∈ {3, 5}, strides 1–2) over a
// zero-bordered, column-phase-split plane, 16 outputs per step with bias and activation
// applied in registers.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_common.h"

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
                if (left >= 8) _mm256_storeu_ps(dst + 8 * v, y);                                       \
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

#define CK_DW_BODY(K, SH, SW)                                                                          \
    ptrdiff_t oy = 0;                                                                                  \
    for (; oy + 4 <= out_h; oy += 4) CK_DW_ROWS(K, SH, SW, 4)                                          \
    for (; oy < out_h; oy++) CK_DW_ROWS(K, SH, SW, 1)

#define CK_DW_CASE(K, SH, SW)                                                                          \
    static void dw_##K##_##SH##_##SW(const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane, \
                                     const __m256 *wv, __m256 vb, ptrdiff_t out_h, ptrdiff_t out_w,     \
                                     float *out, ck_activation act) {                                  \
        CK_DW_BODY(K, SH, SW)                                                                          \
    }

CK_DW_CASE(3, 1, 1)
CK_DW_CASE(3, 2, 2)
CK_DW_CASE(3, 1, 2)
CK_DW_CASE(3, 2, 1)
CK_DW_CASE(5, 1, 1)
CK_DW_CASE(5, 2, 2)
CK_DW_CASE(5, 1, 2)
CK_DW_CASE(5, 2, 1)

void ck_depthwise(const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane,
                  int k, int sh, int sw, const float *w, float bias,
                  ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) {
    __m256 wv[25];
    for (int i = 0; i < k * k && i < 25; i++) wv[i] = _mm256_set1_ps(w[i]);
    __m256 vb = _mm256_set1_ps(bias);
    int key = k * 100 + sh * 10 + sw;
    switch (key) {
    case 311: dw_3_1_1(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 322: dw_3_2_2(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 312: dw_3_1_2(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 321: dw_3_2_1(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 511: dw_5_1_1(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 522: dw_5_2_2(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 512: dw_5_1_2(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    case 521: dw_5_2_1(padded, phase_width, phase_plane, wv, vb, out_h, out_w, out, act); break;
    default: break;
    }
}
#pragma clang attribute pop
#else
void ck_depthwise(const float *padded, ptrdiff_t phase_width, ptrdiff_t phase_plane,
                  int k, int sh, int sw, const float *w, float bias,
                  ptrdiff_t out_h, ptrdiff_t out_w, float *out, ck_activation act) {
    (void)padded; (void)phase_width; (void)phase_plane; (void)k; (void)sh; (void)sw; (void)w; (void)bias;
    (void)out_h; (void)out_w; (void)out; (void)act;
}
#endif
