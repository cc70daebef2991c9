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
CK_INLINE __m256 ck_reduce_op(__m256 a, __m256 b, int is_max) { return is_max ? _mm256_max_ps(a, b) : _mm256_add_ps(a, b); }
CK_INLINE __m128 ck_reduce_op128(__m128 a, __m128 b, int is_max) { return is_max ? _mm_max_ps(a, b) : _mm_add_ps(a, b); }

void ck_row_reduce(const float *x, ptrdiff_t rows, ptrdiff_t n, int is_max, float scale, float *out) {
    const __m256 init = _mm256_set1_ps(is_max ? -__builtin_inff() : 0.0f);
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *p = x + r * n;
        __m256 a0 = init, a1 = init, a2 = init, a3 = init;
        ptrdiff_t i = 0;
        for (; i + 32 <= n; i += 32) {
            a0 = ck_reduce_op(a0, _mm256_loadu_ps(p + i), is_max);
            a1 = ck_reduce_op(a1, _mm256_loadu_ps(p + i + 8), is_max);
            a2 = ck_reduce_op(a2, _mm256_loadu_ps(p + i + 16), is_max);
            a3 = ck_reduce_op(a3, _mm256_loadu_ps(p + i + 24), is_max);
        }
        for (; i + 8 <= n; i += 8) a0 = ck_reduce_op(a0, _mm256_loadu_ps(p + i), is_max);
        if (i < n) {
            const __m256i m = ck_mask256(n - i);
            // Dead lanes take the identity (masked loads read them as 0, which is not one for max).
            const __m256 v = _mm256_blendv_ps(init, _mm256_maskload_ps(p + i, m), _mm256_castsi256_ps(m));
            a1 = ck_reduce_op(a1, v, is_max);
        }
        const __m256 a = ck_reduce_op(ck_reduce_op(a0, a1, is_max), ck_reduce_op(a2, a3, is_max), is_max);
        __m128 v = ck_reduce_op128(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1), is_max);
        v = ck_reduce_op128(v, _mm_movehl_ps(v, v), is_max);
        v = ck_reduce_op128(v, _mm_shuffle_ps(v, v, 1), is_max);
        const float s = _mm_cvtss_f32(v);
        out[r] = is_max ? s : s * scale;
    }
}
#pragma clang attribute pop
#else
void ck_row_reduce(const float *x, ptrdiff_t rows, ptrdiff_t n, int is_max, float scale, float *out) {
    (void)x; (void)rows; (void)n; (void)is_max; (void)scale; (void)out;
}
void ck_erf(const float *x, float *y, ptrdiff_t count) { (void)x; (void)y; (void)count; }
void ck_bias_act(float *p, ptrdiff_t count, float bias, ck_activation act) { (void)p; (void)count; (void)bias; (void)act; }
void ck_add_rows(float *y, ptrdiff_t ldy, const float *r, ptrdiff_t ldr, ptrdiff_t rows, ptrdiff_t cols, ck_activation act) {
    (void)y; (void)ldy; (void)r; (void)ldr; (void)rows; (void)cols; (void)act;
}
#endif
