// Shared AVX2+FMA helpers: included only by files compiled inside
// `#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)`.
#ifndef CK_AVX2_COMMON_H
#define CK_AVX2_COMMON_H
#include <immintrin.h>
#include <math.h>
#include "ckernels.h"
#include "exp_poly.h"

/// Forced inlining in optimised builds (the kernels rely on it to keep tiles in registers and to
/// fold constants). Unoptimised (debug) builds inline `always_inline` functions too but keep
/// every inlined temporary in its own stack slot: the GEMM's frame grew past 1 MiB and
/// overflowed thread stacks in the debug test run, so there these are ordinary functions.
#if defined(__OPTIMIZE__)
#define CK_INLINE static inline __attribute__((always_inline))
#else
#define CK_INLINE static inline
#endif

/// exp(x) on [-87, 87] (clamped), constants in exp_poly.h.
CK_INLINE __m256 ck_exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-CK_EXP_CLAMP)), _mm256_set1_ps(CK_EXP_CLAMP));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 k = _mm256_fmadd_ps(x, _mm256_set1_ps(CK_EXP_LOG2E), magic);
    __m256 n = _mm256_sub_ps(k, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_EXP_LN2), x);
    __m256 p = CK_EXP_POLY(_mm256_fmadd_ps, _mm256_set1_ps, r);
    __m256i bits = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_castps_si256(k), _mm256_set1_epi32(0x4B400000 - 127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

/// 1/d for d ≥ 1 (the logistic denominators): the 12-bit `rcp` estimate and one Newton step,
/// ≤ 2 ulp-scale relative error (~1e-7), several times cheaper than `vdivps`; d beyond 2^126
/// gives 0 (its exact value is subnormal), which the callers' products want anyway.
CK_INLINE __m256 ck_recip256(__m256 d) {
    __m256 r = _mm256_rcp_ps(d);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

/// erf(x) on 8 lanes, |error| ≤ 1e-7 (fitted here, numpy least squares): x·P(x²) (degree 5) for
/// |x| ≤ 0.921875, 1 − exp(Q(|x|)) (degree 8) up to 3.925, 1 beyond; sign restored.
CK_INLINE __m256 ck_erf256(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign, x);
    __m256 small = _mm256_mul_ps(a, CK_ERF_SMALL_POLY(_mm256_fmadd_ps, _mm256_set1_ps, _mm256_mul_ps(a, a)));
    __m256 b = _mm256_min_ps(a, _mm256_set1_ps(CK_ERF_ONE));
    __m256 large = _mm256_sub_ps(_mm256_set1_ps(1.0f), ck_exp256(CK_ERF_LARGE_POLY(_mm256_fmadd_ps, _mm256_set1_ps, b)));
    large = _mm256_blendv_ps(large, _mm256_set1_ps(1.0f), _mm256_cmp_ps(a, _mm256_set1_ps(CK_ERF_ONE), _CMP_GE_OQ));
    __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(CK_ERF_SPLIT), _CMP_LE_OQ));
    return _mm256_or_ps(r, _mm256_and_ps(x, sign));
}

/// tanh on 8 lanes through libm (rare in the models we run).
__attribute__((noinline)) static __m256 ck_tanh256(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 8; i++) t[i] = tanhf(t[i]);
    return _mm256_loadu_ps(t);
}

/// act(v) on 8 lanes.
CK_INLINE __m256 ck_act256(__m256 v, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_NONE: return v;
    case CK_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case CK_ACT_CLIP: return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(act.lo)), _mm256_set1_ps(act.hi));
    case CK_ACT_HARDSIGMOID: {
        __m256 h = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
        return _mm256_min_ps(_mm256_max_ps(h, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    }
    case CK_ACT_HARDSWISH: {
        __m256 h = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
        h = _mm256_min_ps(_mm256_max_ps(h, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
        return _mm256_mul_ps(v, h);
    }
    case CK_ACT_SIGMOID: {
        __m256 e = ck_exp256(_mm256_sub_ps(_mm256_setzero_ps(), v));
        return ck_recip256(_mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    case CK_ACT_SILU: {
        __m256 e = ck_exp256(_mm256_sub_ps(_mm256_setzero_ps(), v));
        return _mm256_mul_ps(v, ck_recip256(_mm256_add_ps(_mm256_set1_ps(1.0f), e)));
    }
    case CK_ACT_GELU: {
        __m256 e = ck_erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678f)));
        return _mm256_mul_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.5f)), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    default: return ck_tanh256(v);
    }
}

/// Runs `call` with `act_c`, a copy of `act` whose kind is a compile-time constant for the
/// common kinds, so an always-inline kernel body gets its activation switch folded away (one
/// specialised copy per kind) instead of branching on it for every vector. Unoptimised (debug)
/// builds do not fold and would keep every copy's locals in one huge stack frame (it overflowed
/// a worker thread's stack), so there it is a plain call.
#if !defined(__OPTIMIZE__)
#define CK_WITH_CONST_ACT(act, call)                                                                   \
    do {                                                                                               \
        const ck_activation act_c = (act);                                                             \
        call;                                                                                          \
    } while (0)
#else
#define CK_WITH_CONST_ACT(act, call)                                                                   \
    do {                                                                                               \
        const ck_activation ck_act_in_ = (act);                                                        \
        switch (ck_act_in_.kind) {                                                                     \
        case CK_ACT_NONE: { const ck_activation act_c = {CK_ACT_NONE, 0, 0}; call; } break;            \
        case CK_ACT_RELU: { const ck_activation act_c = {CK_ACT_RELU, 0, 0}; call; } break;            \
        case CK_ACT_CLIP: { const ck_activation act_c = {CK_ACT_CLIP, ck_act_in_.lo, ck_act_in_.hi}; call; } break; \
        case CK_ACT_SILU: { const ck_activation act_c = {CK_ACT_SILU, 0, 0}; call; } break;            \
        case CK_ACT_HARDSWISH: { const ck_activation act_c = {CK_ACT_HARDSWISH, 0, 0}; call; } break;  \
        default: { const ck_activation act_c = ck_act_in_; call; } break;                              \
        }                                                                                              \
    } while (0)
#endif

/// The row loop of a narrow depthwise kernel (≤ 8 output columns: one 8-lane vector per output row,
/// `ck_depthwise_planes`' narrow kernels): for each output row, each input row it reads that lies
/// in the plane runs `LOAD_ROW(iy)` once (declaring what `TAP` reads) and then `TAP(kx)` (a __m256)
/// for every tap; two accumulators alternate by input row; bias `vb`, activation `act`, output `out`.
/// Used by the AVX2 masked-load kernel and the AVX-512 stride-2 permute kernel, which differ only
/// in how a row's taps are made.
#define CK_DWN_ROWWISE_LOOP(K, SH, LOAD_ROW, TAP)                                                      \
    const __m256i last_mask = ck_mask256(out_w);                                                       \
    for (ptrdiff_t oy = 0; oy < out_h; oy++) {                                                         \
        __m256 acc0 = vb, acc1 = _mm256_setzero_ps();                                                  \
        const ptrdiff_t iy0 = oy * (SH) - pad_top;                                                     \
        for (int ky = 0; ky < (K); ky++) {                                                             \
            const ptrdiff_t iy = iy0 + ky;                                                             \
            if ((size_t)iy >= (size_t)height) continue;                                                \
            LOAD_ROW(iy)                                                                               \
            for (int kx = 0; kx < (K); kx++) {                                                         \
                const __m256 v = TAP(kx);                                                              \
                if (ky & 1) acc1 = _mm256_fmadd_ps(wv[ky * (K) + kx], v, acc1);                       \
                else acc0 = _mm256_fmadd_ps(wv[ky * (K) + kx], v, acc0);                               \
            }                                                                                          \
        }                                                                                              \
        __m256 r = ck_act256(_mm256_add_ps(acc0, acc1), act);                                          \
        /* a full store spills into the next row, which is written after it */                         \
        if (out_w == 8 || oy + 1 < out_h) _mm256_storeu_ps(out + oy * out_w, r);                       \
        else _mm256_maskstore_ps(out + oy * out_w, last_mask, r);                                      \
    }

/// Runs `call` with `act_c`, the activation a kernel applies in registers (a constant per kind, as
/// CK_WITH_CONST_ACT), and `post_c`, the one it leaves to `ck_act_rows512` on finished output: SiLU
/// and sigmoid go to `post_c` where `ck_act_deferred` says so, everything else to `act_c`.
#define CK_WITH_SPLIT_ACT(act, call)                                                                   \
    do {                                                                                               \
        const ck_activation ck_split_in_ = (act);                                                      \
        const ck_activation ck_split_none_ = {CK_ACT_NONE, 0, 0};                                      \
        if (ck_act_deferred(ck_split_in_)) {                                                           \
            const ck_activation act_c = ck_split_none_, post_c = ck_split_in_;                         \
            call;                                                                                      \
        } else {                                                                                       \
            const ck_activation post_c = ck_split_none_;                                               \
            CK_WITH_CONST_ACT(ck_split_in_, call);                                                     \
        }                                                                                              \
    } while (0)

/// The deferred activation on `rows` finished output rows of n floats (one run when contiguous).
CK_INLINE void ck_post_rows(float *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t n, ck_activation post) {
    if (ldc == n) ck_act_rows512(c, 0, 1, rows * n, 0.0f, post);
    else ck_act_rows512(c, ldc, rows, n, 0.0f, post);
}

/// Mask selecting the first `n` (0…8) lanes, for maskload/maskstore.
CK_INLINE __m256i ck_mask256(ptrdiff_t n) {
    static const int table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(table + 8 - n));
}
#endif
