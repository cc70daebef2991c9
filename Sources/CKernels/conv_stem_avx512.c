// Direct stride-2 3×3 convolution for layers with few input channels (the network stems: 3 → 32
// channels at 224² in mobilenet_v2 and efficientnet_b0, 3 → 24 in shufflenet_v2) with AVX-512F.
// im2col + GEMM spends most of such a layer building a 27-row column matrix with stride-2
// gathers for a 27-deep product. Here 8 output channels × 16 output columns of one output row
// are 8 accumulators; each input row (channel ci, row ky) is loaded once per block (three
// masked 16-float loads, dead lanes read as zero: the padding) and de-interleaved in registers
// into its three taps (as depthwise_avx512.c), and every tap feeds the 8 channels' FMAs with
// the weight broadcast from memory. Standalone, 1 thread, 3 → 32 at 224², min of 200 runs
// (/tmp microbenchmark): 237 µs warm, 250–260 µs with a 32 MiB read before each run; in
// mobilenet_v2 the im2col + GEMM stem took 403–446 µs (per-layer minimum).
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

// OCB output channels (from oc0; `live` of them real, the rest compute on the last real
// channel's weights and are not stored) × 16 columns at (oy, ox). 8 accumulators of 3 chained
// FMAs per input row keep both FMA pipes busy (4-cycle latency).
#define CK_STEM_BLOCK(OCB)                                                                             \
    do {                                                                                               \
        const ptrdiff_t c0 = 2 * ox - g.pad_left;                                                      \
        const __mmask16 m0 = ck_col_mask16(c0, g.width), m1 = ck_col_mask16(c0 + 16, g.width);                 \
        const __mmask16 m2 = ck_col_mask16(c0 + 32, g.width) & (__mmask16)1;                               \
        __m512 acc[OCB];                                                                               \
        const float *wo[OCB];                                                                          \
        for (int o = 0; o < (OCB); o++) {                                                              \
            const ptrdiff_t oc = oc0 + (o < live ? o : live - 1);                                      \
            acc[o] = _mm512_set1_ps(bias[oc]);                                                         \
            wo[o] = w + oc * depth;                                                                    \
        }                                                                                              \
        for (ptrdiff_t ci = 0; ci < g.in_channels; ci++) {                                             \
            for (int ky = 0; ky < 3; ky++) {                                                           \
                const ptrdiff_t iy = 2 * oy - g.pad_top + ky;                                          \
                if ((size_t)iy >= (size_t)g.height) continue;                                          \
                const float *row = x + (ci * g.height + iy) * g.width + c0;                            \
                const __m512 a = _mm512_maskz_loadu_ps(m0, row), b = _mm512_maskz_loadu_ps(m1, row + 16); \
                const __m512 c = _mm512_maskz_loadu_ps(m2, row + 32);                                  \
                const __m512 t0 = _mm512_permutex2var_ps(a, even, b);                                  \
                const __m512 t1 = _mm512_permutex2var_ps(a, odd, b);                                   \
                const __m512 t2 = _mm512_permutex2var_ps(t0, next, c);                                 \
                const ptrdiff_t tap = (ci * 3 + ky) * 3;                                               \
                for (int o = 0; o < (OCB); o++) {                                                      \
                    acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wo[o][tap]), t0, acc[o]);                  \
                    acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wo[o][tap + 1]), t1, acc[o]);              \
                    acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wo[o][tap + 2]), t2, acc[o]);              \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        const __mmask16 sm = ck_col_mask16(ox, g.out_w);                                               \
        for (int o = 0; o < live; o++)                                                                 \
            _mm512_mask_storeu_ps(y + (oc0 + o) * out_plane + oy * g.out_w + ox, sm, ck_act512(acc[o], act)); \
    } while (0)

CK_INLINE void stem_body(const float *x, float *y, const float *w, const float *bias, ck_stem_geometry g,
                         ptrdiff_t oy0, ptrdiff_t oy1, ck_activation act, ck_activation post) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    const ptrdiff_t out_plane = g.out_h * g.out_w, depth = g.in_channels * 9;
    // Channel blocks outermost: the output is written as 8 plane streams at a time. 16-channel
    // blocks (32 streams over two blocks per row when rows were outermost) took 330–400 µs on
    // the 3 → 32 stem with cold caches against 250–260 µs for 8 (/tmp microbenchmark, 32 MiB
    // read before each run); the input (3 × 224², in L2) is read once per block.
    for (ptrdiff_t oc0 = 0; oc0 < g.out_channels; oc0 += 8) {
        const int live = (int)(g.out_channels - oc0 < 8 ? g.out_channels - oc0 : 8);
        for (ptrdiff_t oy = oy0; oy < oy1; oy++) {
            for (ptrdiff_t ox = 0; ox < g.out_w; ox += 16) CK_STEM_BLOCK(8);
            // A deferred activation (SiLU, sigmoid) on the block's finished output row, in L1.
            if (post.kind != CK_ACT_NONE)
                ck_act_rows512(y + oc0 * out_plane + oy * g.out_w, out_plane, live, g.out_w, 0.0f, post);
        }
    }
}

void ck_conv_stem_s2_avx512(const float *x, float *y, const float *w, const float *bias, ck_stem_geometry g,
                            ptrdiff_t oy0, ptrdiff_t oy1, ck_activation act) {
    CK_WITH_SPLIT_ACT(act, stem_body(x, y, w, bias, g, oy0, oy1, act_c, post_c));
}
#pragma clang attribute pop
#else
void ck_conv_stem_s2_avx512(const float *x, float *y, const float *w, const float *bias, ck_stem_geometry g,
                            ptrdiff_t oy0, ptrdiff_t oy1, ck_activation act) {
    (void)x; (void)y; (void)w; (void)bias; (void)g; (void)oy0; (void)oy1; (void)act;
}
#endif

int ck_conv_stem_direct(ptrdiff_t in_channels, int kh, int kw, int sh, int sw, int dh, int dw, ptrdiff_t groups) {
    return in_channels <= 4 && kh == 3 && kw == 3 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && groups == 1
           && ck_isa() >= CK_ISA_AVX512;
}
