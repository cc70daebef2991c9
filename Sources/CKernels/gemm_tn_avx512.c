// The transposed product of `ck_gemm_packed_t` (Cᵀ = Bᵀ·Aᵀ: pixels as the rows of the register
// tile, 16 output channels per zmm vector) with AVX-512F, for few pixels (small maps, or one
// thread's pixel tile): the pixels are cut into ⌈n/16⌉ near-equal panels of S ≤ 16, and each panel
// runs with exactly S accumulators; one 16-channel weight vector per k step feeds S FMAs, each with
// one pixel value broadcast from the packed panel. The AVX2 kernel's 6-pixel panels compute 6 rows
// whatever is kept (12 for 9 pixels, 6 for 4, 30 for 25) and read each weight panel once per pixel
// panel (twice for 9 pixels, five times for 25); here 9 and 4 pixels read it once and 25 twice.
// Standalone, 1 thread, warm, min of 200 interleaved calls against `ck_gemm_packed_t`'s previous
// kernels, ReLU, 2026-12-06 (/tmp harness over the CKernels sources) on session 29's 2-vCPU Intel
// Xeon VM (two 512-bit FMA ports; on the AMD guest, AVX-512 double-pumped on 256-bit units, only the
// removed idle rows and re-reads count; not measured there): 256 × 1152 on 9 pixels
// 86 → 40 µs, on 4 pixels 42 → 29 µs, 512 × 2304 on 25 pixels 920 → 477 µs (6-pixel AVX2 kernel);
// 49 pixels 1.2–1.46× faster than the former 7-pixel AVX-512 kernel (1152 × 192: 269 → 197 µs);
// against the 16-row kernel on 98–100 pixels at depth ≥ 384, 1.1–1.3× (shallower: no gain).
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "avx512_common.h"

enum { TN_MAX = 16 };

/// Packs pixels [j0, j0 + s) of B's k rows (stride ldb) as [k][s]: one masked load and store per row.
CK_INLINE void tn_pack(const float *b, ptrdiff_t ldb, ptrdiff_t k, ptrdiff_t j0, int s, float *dst) {
    const __mmask16 m = (__mmask16)((1u << s) - 1);
    for (ptrdiff_t kk = 0; kk < k; kk++) _mm512_mask_storeu_ps(dst + kk * s, m, _mm512_maskz_loadu_ps(m, b + kk * ldb + j0));
}

/// Weight panel `o` (16 channels; packed [k blocks of kc][m/16][kb][16], `mp` = m rounded up to 16)
/// × one packed pixel panel of S pixels (`p`, [k][S]): S accumulators over every K block, stored
/// transposed to C rows dst[j·ldc + r] (channel j < nr, pixel r < S). `fetch`: pull the next
/// weight panel into L2 meanwhile, one line per k step.
CK_INLINE void tn_tile(const float *packed_wt, ptrdiff_t mp, ptrdiff_t k, ptrdiff_t kc, ptrdiff_t o, const float *p, const int S,
                       __m512 vb, int fetch, float *dst, ptrdiff_t ldc, int nr, ck_activation act) {
    __m512 a[TN_MAX];
#pragma clang loop unroll(full)
    for (int r = 0; r < TN_MAX; r++) a[r] = vb;
    for (ptrdiff_t k0 = 0; k0 < k; k0 += kc) {
        const ptrdiff_t kb = k - k0 < kc ? k - k0 : kc;
        const float *w = packed_wt + k0 * mp + o * kb;
        const char *pf = (const char *)(fetch ? w + CK_GEMM_NR * kb : w);
        const ptrdiff_t step = fetch ? 64 : 0;
        for (ptrdiff_t kk = 0; kk < kb; kk++) {
            const __m512 wv = _mm512_loadu_ps(w);
#pragma clang loop unroll(full)
            for (int r = 0; r < TN_MAX; r++)
                if (r < S) a[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r]), wv, a[r]);
            _mm_prefetch(pf, _MM_HINT_T1);
            pf += step;
            w += CK_GEMM_NR;
            p += S;
        }
    }
    float buf[TN_MAX][16] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
    for (int r = 0; r < TN_MAX; r++)
        if (r < S) _mm512_store_ps(buf[r], ck_act512(a[r], act));
    for (int j = 0; j < nr; j++)
        for (int r = 0; r < S; r++) dst[j * ldc + r] = buf[r][j];
}

#define TN_CASE(S_) case S_: tn_tile(packed_wt, mp, k, kc, o, p, S_, vb, fetching, dst, ldc, nr, act); break;

CK_INLINE void tn_body(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch, ck_activation post) {
    const ptrdiff_t panels = (n + TN_MAX - 1) / TN_MAX;
    const ptrdiff_t kc = ck_gemm_t_block_depth(k), mp = (m + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    const ptrdiff_t base = n / panels, extra = n % panels;   // the first `extra` panels take base + 1 pixels
    for (ptrdiff_t q = 0, j0 = 0; q < panels; q++) {
        const int s = (int)(base + (q < extra));
        tn_pack(b, ldb, k, j0, s, scratch + j0 * k);
        j0 += s;
    }
    for (ptrdiff_t o = row0; o < row1; o += CK_GEMM_NR) {
        int nr = (int)(m - o < CK_GEMM_NR ? m - o : CK_GEMM_NR);
        if (o + nr > row1) nr = (int)(row1 - o);
        const __mmask16 live = ck_col_mask16(0, nr);
        const __m512 vb = bias ? _mm512_maskz_loadu_ps(live, bias + o) : _mm512_setzero_ps();
        // The first pixel panel pulls the next weight panel into L2, one line per k step.
        const int fetch = o + CK_GEMM_NR < row1;
        for (ptrdiff_t q = 0, j0 = 0; q < panels; q++) {
            const int s = (int)(base + (q < extra));
            const float *p = scratch + j0 * k;
            const int fetching = q == 0 && fetch;
            float *dst = c + o * ldc + j0;
            switch (s) {
                TN_CASE(1) TN_CASE(2) TN_CASE(3) TN_CASE(4) TN_CASE(5) TN_CASE(6) TN_CASE(7) TN_CASE(8)
                TN_CASE(9) TN_CASE(10) TN_CASE(11) TN_CASE(12) TN_CASE(13) TN_CASE(14) TN_CASE(15) TN_CASE(16)
                default: break;
            }
            j0 += s;
        }
        if (post.kind != CK_ACT_NONE) ck_post_rows(c + o * ldc, ldc, nr, n, post);
    }
}
#undef TN_CASE

void ck_gemm_tn_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    CK_WITH_SPLIT_ACT(act, tn_body(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}
#pragma clang attribute pop
#else
void ck_gemm_tn_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch) {
    (void)packed_wt; (void)m; (void)row0; (void)row1; (void)k; (void)b; (void)ldb; (void)n;
    (void)c; (void)ldc; (void)bias; (void)act; (void)scratch;
}
#endif

int ck_gemm_tn_eligible(ptrdiff_t n) {
    return n > 1 && n <= CK_GEMM_TN_MAX_COLUMNS && ck_isa() >= CK_ISA_AVX512;
}
