// Shared AVX-512F helpers: included only by files compiled inside
// `#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)`,
// after avx2_common.h (the rarer activations reuse its 8-lane versions).
#ifndef CK_AVX512_COMMON_H
#define CK_AVX512_COMMON_H
#include "avx2_common.h"

/// Lanes l of a 16-float load at column c of a row of `width` floats with 0 ≤ c + l < width.
CK_INLINE __mmask16 ck_col_mask16(ptrdiff_t c, ptrdiff_t width) {
    ptrdiff_t lo = c < 0 ? -c : 0, hi = width - c < 16 ? width - c : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// act(v) on 16 lanes: ReLU and clip natively, the rarer kinds on two 8-lane halves.
CK_INLINE __m512 ck_act512(__m512 v, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_NONE: return v;
    case CK_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case CK_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(act.lo)), _mm512_set1_ps(act.hi));
    default: {
        __m256 lo = ck_act256(_mm512_castps512_ps256(v), act);
        __m256 hi = ck_act256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), act);
        return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
    }
    }
}
#endif
