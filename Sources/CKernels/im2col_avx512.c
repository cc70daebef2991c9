// im2col rows with AVX-512F: each output-row segment of a tap row is written 16 pixels at a time,
// at stride 1 one masked load (the padding columns are masked-off lanes), at stride 2 two masked
// loads and one `vpermt2ps` that keeps the even lanes; other strides go one pixel at a time. The
// Swift loop this replaces copied stride-2 segments 8 pixels at a time only while a 16-float load
// stayed inside the input row, and pixel by pixel otherwise (a 14-wide output row: 8 + 6 scalar;
// a 7-wide one: all scalar), and paid a division per segment.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

void ck_im2col_avx512(const float *xg, ptrdiff_t in_plane, ptrdiff_t height, ptrdiff_t width,
                      ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t stride_h, ptrdiff_t stride_w,
                      ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t dil_h, ptrdiff_t dil_w, ptrdiff_t out_w,
                      ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c0, ptrdiff_t c1, float *dst, ptrdiff_t ld) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (ptrdiff_t r = r0; r < r1; r++) {
        const ptrdiff_t kx = r % kw, ky = (r / kw) % kh, ci = r / (kw * kh);
        const float *plane = xg + ci * in_plane;
        const ptrdiff_t base = kx * dil_w - pad_left;
        float *out = dst + (r - r0) * ld;
        ptrdiff_t pix = c0, oy = c0 / out_w, ox0 = c0 - oy * out_w;
        while (pix < c1) {
            ptrdiff_t ox1 = out_w;
            if (ox1 - ox0 > c1 - pix) ox1 = ox0 + (c1 - pix);
            const ptrdiff_t count = ox1 - ox0;
            const ptrdiff_t iy = oy * stride_h - pad_top + ky * dil_h;
            if (iy < 0 || iy >= height) {
                for (ptrdiff_t i = 0; i < count; i += 16)
                    _mm512_mask_storeu_ps(out + i, ck_col_mask16(0, count - i), _mm512_setzero_ps());
            } else {
                const float *row = plane + iy * width;
                for (ptrdiff_t i = 0; i < count; i += 16) {
                    const __mmask16 keep = ck_col_mask16(0, count - i);
                    const ptrdiff_t c = (ox0 + i) * stride_w + base;   // input column of the first pixel
                    __m512 v;
                    if (stride_w == 1) {
                        v = _mm512_maskz_loadu_ps(ck_col_mask16(c, width), row + c);
                    } else if (stride_w == 2) {
                        const __m512 lo = _mm512_maskz_loadu_ps(ck_col_mask16(c, width), row + c);
                        const __m512 hi = _mm512_maskz_loadu_ps(ck_col_mask16(c + 16, width), row + c + 16);
                        v = _mm512_permutex2var_ps(lo, even, hi);
                    } else {
                        float buf[16] __attribute__((aligned(64)));
                        for (int l = 0; l < 16; l++) {
                            const ptrdiff_t x = c + l * stride_w;
                            buf[l] = x >= 0 && x < width ? row[x] : 0.0f;
                        }
                        v = _mm512_load_ps(buf);
                    }
                    _mm512_mask_storeu_ps(out + i, keep, v);
                }
            }
            out += count;
            pix += count;
            oy++;
            ox0 = 0;
        }
    }
}
#pragma clang attribute pop
#else
void ck_im2col_avx512(const float *xg, ptrdiff_t in_plane, ptrdiff_t height, ptrdiff_t width,
                      ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t stride_h, ptrdiff_t stride_w,
                      ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t dil_h, ptrdiff_t dil_w, ptrdiff_t out_w,
                      ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c0, ptrdiff_t c1, float *dst, ptrdiff_t ld) {
    (void)xg; (void)in_plane; (void)height; (void)width; (void)kh; (void)kw; (void)stride_h; (void)stride_w;
    (void)pad_top; (void)pad_left; (void)dil_h; (void)dil_w; (void)out_w; (void)r0; (void)r1; (void)c0; (void)c1;
    (void)dst; (void)ld;
}
#endif
