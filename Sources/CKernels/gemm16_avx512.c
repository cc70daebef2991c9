// `ck_gemm_rows16`'s kernel with AVX-512F: C = act(A·B + bias) with A packed in 16-row panels
// (`ck_gemm_pack_wt`'s layout, [K blocks][m/16][kb][16]) and B read in place. One tile is 16 rows
// × 16 columns: 16 zmm accumulators, one B row segment loaded per k step and the 16 weights of
// that depth broadcast from the panel. Against the AVX2 6×16 kernel this reads each B segment once
// per 16 output rows instead of per 6 and needs no packed copy of B; standalone, 1 thread (/tmp
// microbenchmark, min of 100, warm / with a 32 MiB read before each run): m 96 k 16 n 12544 430 →
// 365 / 590 → 440 µs, m 32 k 144 n 784 75 → 62 / 83 → 66, m 96 k 576 n 196 222 → 198 / 234 → 207,
// m 672 k 112 n 196 294 → 275 / 333 → 303.
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

// Column tails up to this width are computed transposed (`g16_tail`); wider ones as a masked tile.
enum { G16_TAIL_MAX = 12 };

// Columns [j, j + T) of a 16-row tile when fewer than 16 are left (196-pixel maps: 12 tiles + 4
// columns), computed transposed: the panel's 16 weights of one depth are a channel vector and each
// column's value of B is broadcast, so the tail costs T FMAs per depth instead of a masked tile's
// 16. Results go to C through a buffer (16 channel rows × T columns). T ≤ 4 keeps two accumulator
// sets over alternate depths (the FMA latency needs 4 chains in flight).
CK_INLINE void g16_tail(const int T, const float *panel, ptrdiff_t kb, const float *bp, ptrdiff_t ldb, int mr,
                        float *co, ptrdiff_t ldc, const float *bias, int first, int last, ck_activation act) {
    const __mmask16 rm = ck_col_mask16(0, mr);
    float buf[16][16] __attribute__((aligned(64)));
    __m512 acc[16], acc2[4];
    for (int r = 0; r < 16; r++) {
        if (r >= T) continue;
        if (first) acc[r] = bias ? _mm512_maskz_loadu_ps(rm, bias) : _mm512_setzero_ps();
        else {
            for (int i = 0; i < 16; i++) buf[r][i] = i < mr ? co[i * ldc + r] : 0.0f;
            acc[r] = _mm512_load_ps(buf[r]);
        }
    }
    ptrdiff_t kk = 0;
    if (T <= 4) {
        for (int r = 0; r < 4; r++) acc2[r] = _mm512_setzero_ps();
        for (; kk + 1 < kb; kk += 2) {
            const __m512 w0 = _mm512_loadu_ps(panel + kk * 16), w1 = _mm512_loadu_ps(panel + kk * 16 + 16);
            const float *b0 = bp + kk * ldb, *b1 = b0 + ldb;
            for (int r = 0; r < 4; r++) {
                if (r >= T) continue;
                acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(b0[r]), w0, acc[r]);
                acc2[r] = _mm512_fmadd_ps(_mm512_set1_ps(b1[r]), w1, acc2[r]);
            }
        }
        for (int r = 0; r < 4; r++)
            if (r < T) acc[r] = _mm512_add_ps(acc[r], acc2[r]);
    }
    for (; kk < kb; kk++) {
        const __m512 w0 = _mm512_loadu_ps(panel + kk * 16);
        const float *b0 = bp + kk * ldb;
        for (int r = 0; r < 16; r++)
            if (r < T) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(b0[r]), w0, acc[r]);
    }
    for (int r = 0; r < 16; r++)
        if (r < T) _mm512_store_ps(buf[r], last ? ck_act512(acc[r], act) : acc[r]);
    for (int i = 0; i < mr; i++)
        for (int r = 0; r < 16; r++)
            if (r < T) co[i * ldc + r] = buf[r][i];
}

/// The last `t` (1 ≤ t ≤ G16_TAIL_MAX) columns of rows [row0, row1): `g16_body`'s k blocks and
/// row panels with `g16_tail` per tile, T a compile-time constant in each case (the accumulators
/// stay in registers). A separate pass, not a branch in `g16_body`'s column loop: there it cost
/// the full tiles 2–8 % (register allocation and code layout of the hot loop).
__attribute__((noinline)) static void g16_tail_cols(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1,
                                                    ptrdiff_t k, ptrdiff_t kc, const float *b, ptrdiff_t ldb, int t,
                                                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act) {
    const ck_activation none = {CK_ACT_NONE, 0, 0};
    const int deferred = ck_act_deferred(act);
    const ptrdiff_t mp = (m + 15) / 16 * 16;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        const int first = k0 == 0, last = k0 + kb >= k;
        for (ptrdiff_t o = row0; o < row1; o += 16) {
            const int mr = (int)(row1 - o < 16 ? row1 - o : 16);
            const float *panel = packed + k0 * mp + o * kb, *bp = b + k0 * ldb, *bo = bias ? bias + o : 0;
            float *co = c + o * ldc;
            const ck_activation a = deferred ? none : act;
#define CK_G16_TAIL(T) case T: g16_tail(T, panel, kb, bp, ldb, mr, co, ldc, bo, first, last, a); break;
            switch (t) {
            CK_G16_TAIL(1) CK_G16_TAIL(2) CK_G16_TAIL(3) CK_G16_TAIL(4) CK_G16_TAIL(5) CK_G16_TAIL(6) CK_G16_TAIL(7)
            CK_G16_TAIL(8) CK_G16_TAIL(9) CK_G16_TAIL(10) CK_G16_TAIL(11) CK_G16_TAIL(12)
            default: break;
            }
#undef CK_G16_TAIL
            if (last && deferred) ck_act_rows512(co, ldc, mr, t, 0.0f, act);
        }
    }
}

// The accumulators stay in registers only while every access to them has a constant index:
// loops over them run to 16 and test the live row count inside (a loop to a variable count
// spilled all 16 to the stack every k step: twice as slow).
CK_INLINE void g16_body(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                        const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                        ck_activation act, ck_activation post) {
    const ptrdiff_t mp = (m + 15) / 16 * 16;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        const int first = k0 == 0, last = k0 + kb >= k;
        for (ptrdiff_t o = row0; o < row1; o += 16) {
            const int mr = (int)(row1 - o < 16 ? row1 - o : 16);
            const float *panel = packed + k0 * mp + o * kb;
            float *co = c + o * ldc;
            for (ptrdiff_t j = 0; j < n; j += 16) {
                const __mmask16 cm = ck_col_mask16(j, n);
                __m512 acc[16];
                for (int r = 0; r < 16; r++) {
                    if (!first) acc[r] = r < mr ? _mm512_maskz_loadu_ps(cm, co + r * ldc + j) : _mm512_setzero_ps();
                    else acc[r] = _mm512_set1_ps(bias && r < mr ? bias[o + r] : 0.0f);
                }
                const float *bp = b + k0 * ldb + j;
                const float *a = panel;
                if (o == row0 && j + 32 <= n) {
                    // The first row panel is the first to touch this k block of B: fetch the next
                    // column tile's line of every row while this tile computes. B is read in place,
                    // one 64-byte segment per row ldb floats apart, a pattern the hardware prefetchers
                    // do not follow across pages; from main memory (SSD's heads read a map written
                    // 15 layers before) each row's miss was waited for in turn: 1×1 conv 512 → 16 on
                    // 19², 102 µs against 31 µs with the same map in cache.
                    for (ptrdiff_t kk = 0; kk < kb; kk++) {
                        _mm_prefetch((const char *)(bp + kk * ldb + 31), _MM_HINT_T0);
                        const __m512 bv = _mm512_maskz_loadu_ps(cm, bp + kk * ldb);
                        for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), bv, acc[r]);
                        a += 16;
                    }
                } else {
                    for (ptrdiff_t kk = 0; kk < kb; kk++) {
                        const __m512 bv = _mm512_maskz_loadu_ps(cm, bp + kk * ldb);
                        for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), bv, acc[r]);
                        a += 16;
                    }
                }
                for (int r = 0; r < 16; r++)
                    if (r < mr) _mm512_mask_storeu_ps(co + r * ldc + j, cm, last ? ck_act512(acc[r], act) : acc[r]);
                // A deferred activation (SiLU, sigmoid) on every 8 finished tiles' rows, in L1.
                if (last && post.kind != CK_ACT_NONE && ((j / 16) % 8 == 7 || j + 16 >= n)) {
                    const ptrdiff_t j0 = j / 128 * 128, j1 = j + 16 < n ? j + 16 : n;
                    ck_act_rows512(co + j0, ldc, mr, j1 - j0, 0.0f, post);
                }
            }
        }
    }
}

void ck_gemm_rows16_avx512(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                           const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                           ck_activation act) {
    const ptrdiff_t tail = n % 16 != 0 && n % 16 <= G16_TAIL_MAX ? n % 16 : 0, nfull = n - tail;
    if (nfull > 0) CK_WITH_SPLIT_ACT(act, g16_body(packed, m, row0, row1, k, kc, b, ldb, nfull, c, ldc, bias, act_c, post_c));
    if (tail) g16_tail_cols(packed, m, row0, row1, k, kc, b + nfull, ldb, (int)tail, c + nfull, ldc, bias, act);
}
#pragma clang attribute pop
#else
void ck_gemm_rows16_avx512(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                           const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                           ck_activation act) {
    (void)packed; (void)m; (void)row0; (void)row1; (void)k; (void)kc; (void)b; (void)ldb; (void)n; (void)c; (void)ldc;
    (void)bias; (void)act;
}
#endif

// Every row count on CPUs whose 512-bit FMAs run at full width (`ck_avx512_full_width`): on the
// Intel Xeon guest (session 31, standalone, 1 thread, min of 300) the 16-row kernel beat the 6-row
// one at every remainder: shufflenet's 1×1 convs 58 → 58 on 392 columns 1.39×, 116 → 116 and
// 232 → 232 on 98 columns 1.77× and 1.79×, 24 rows at depth 144 on 784 columns 1.35×, 12 rows at
// depth 512 on 180 columns 1.03×. Elsewhere (AMD Zen 4 double-pumps them through 256-bit units)
// only row counts whose last 16-row panel is at least 13/16 full: there SSD's 63- and 126-channel
// heads ran 10 % and 6 % faster than with the 6-row kernel (19² maps, depth 512) and a half-empty
// last panel (24, 40, 12 rows on 56² maps) 5-23 % slower (session 28).
int ck_gemm_rows16_eligible(ptrdiff_t m) {
    if (ck_isa() < CK_ISA_AVX512) return 0;
    return m % 16 == 0 || m % 16 >= 13 || ck_avx512_full_width();
}
