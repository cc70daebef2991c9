#include "ckernels.h"
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_common.h"

void ck_bias_act(float *p, ptrdiff_t count, float bias, ck_activation act) {
    if (ck_act_deferred(act)) {
        ck_act_rows512(p, 0, 1, count, bias, act);
        return;
    }
    const __m256 b = _mm256_set1_ps(bias);
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(p + i), b);
        __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(p + i + 8), b);
        _mm256_storeu_ps(p + i, ck_act256(v0, act));
        _mm256_storeu_ps(p + i + 8, ck_act256(v1, act));
    }
    for (; i < count; i += 8) {
        __m256i m = ck_mask256(count - i < 8 ? count - i : 8);
        __m256 v = _mm256_add_ps(_mm256_maskload_ps(p + i, m), b);
        _mm256_maskstore_ps(p + i, m, ck_act256(v, act));
    }
}
void ck_add_rows(float *y, ptrdiff_t ldy, const float *r, ptrdiff_t ldr, ptrdiff_t rows, ptrdiff_t cols, ck_activation act) {
    // SiLU / sigmoid on AVX-512F: the sum first, then the 16-lane activation over the same rows.
    const int deferred = ck_act_deferred(act);
    const ck_activation inline_act = deferred ? (ck_activation){CK_ACT_NONE, 0, 0} : act;
    for (ptrdiff_t row = 0; row < rows; row++) {
        float *p = y + row * ldy;
        const float *q = r + row * ldr;
        ptrdiff_t i = 0;
        for (; i + 16 <= cols; i += 16) {
            __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(q + i));
            __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(p + i + 8), _mm256_loadu_ps(q + i + 8));
            _mm256_storeu_ps(p + i, ck_act256(v0, inline_act));
            _mm256_storeu_ps(p + i + 8, ck_act256(v1, inline_act));
        }
        for (; i < cols; i += 8) {
            __m256i m = ck_mask256(cols - i < 8 ? cols - i : 8);
            __m256 v = _mm256_add_ps(_mm256_maskload_ps(p + i, m), _mm256_maskload_ps(q + i, m));
            _mm256_maskstore_ps(p + i, m, ck_act256(v, inline_act));
        }
    }
    if (deferred) ck_act_rows512(y, ldy, rows, cols, 0, act);
}
void ck_erf(const float *x, float *y, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, ck_erf256(_mm256_loadu_ps(x + i)));
    if (i < count) {
        __m256i m = ck_mask256(count - i);
        _mm256_maskstore_ps(y + i, m, ck_erf256(_mm256_maskload_ps(x + i, m)));
    }
}
#pragma clang attribute pop
#else
void ck_erf(const float *x, float *y, ptrdiff_t count) { (void)x; (void)y; (void)count; }
void ck_bias_act(float *p, ptrdiff_t count, float bias, ck_activation act) { (void)p; (void)count; (void)bias; (void)act; }
void ck_add_rows(float *y, ptrdiff_t ldy, const float *r, ptrdiff_t ldr, ptrdiff_t rows, ptrdiff_t cols, ck_activation act) {
    (void)y; (void)ldy; (void)r; (void)ldr; (void)rows; (void)cols; (void)act;
}
#endif
