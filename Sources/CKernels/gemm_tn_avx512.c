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
/// `rowmajor`: store pixel-major instead, dst[r·ldc + j] (the pixel's row of a row-major Y = X·Wᵀ).
CK_INLINE void tn_tile(const float *packed_wt, ptrdiff_t mp, ptrdiff_t k, ptrdiff_t kc, ptrdiff_t o, const float *p, const int S,
                       __m512 vb, int fetch, float *dst, ptrdiff_t ldc, int nr, ck_activation act, const int rowmajor) {
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
    if (rowmajor) {
        const __mmask16 live = ck_col_mask16(0, nr);
#pragma clang loop unroll(full)
        for (int r = 0; r < TN_MAX; r++)
            if (r < S) _mm512_mask_storeu_ps(dst + r * ldc, live, ck_act512(a[r], act));
        return;
    }
    float buf[TN_MAX][16] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
    for (int r = 0; r < TN_MAX; r++)
        if (r < S) _mm512_store_ps(buf[r], ck_act512(a[r], act));
    for (int j = 0; j < nr; j++)
        for (int r = 0; r < S; r++) dst[j * ldc + r] = buf[r][j];
}

#define TN_CASE(S_) case S_: tn_tile(packed_wt, mp, k, kc, o, p, S_, vb, fetching, dst, ldc, nr, act, 0); break;

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

/// In-register transpose of 16 rows of 16 floats: on return v[c] holds column c (v[c][r] = row r's lane c).
CK_INLINE void rm_transpose16(__m512 v[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
    }
    // t[2i]: per 128-bit lane q, (r2i[q0], r2i+1[q0], r2i[q1], r2i+1[q1]); t[2i+1] the same for q2, q3.
    for (int i = 0; i < 4; i++) {
        v[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        v[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        v[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        v[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // v[4i + c]: per 128-bit lane q, rows 4i..4i+3 at column 4q + c.
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(v[c], v[4 + c], 0x88);       // rows 0–7: 128-bit lanes q0, q2 of each
        t[4 + c] = _mm512_shuffle_f32x4(v[c], v[4 + c], 0xdd);   // q1, q3
        t[8 + c] = _mm512_shuffle_f32x4(v[8 + c], v[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(v[8 + c], v[12 + c], 0xdd);
    }
    for (int c = 0; c < 4; c++) {
        v[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);        // column c (q0)
        v[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);    // column 8 + c (q2)
        v[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88); // column 4 + c (q1)
        v[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xdd); // column 12 + c (q3)
    }
}

/// Packs S ≤ 16 rows of X (k floats each, row stride ldx) as [k][S], 16 × 16 blocks transposed in registers.
static void rm_pack(const float *x, ptrdiff_t ldx, ptrdiff_t k, int s, float *dst) {
    const __mmask16 rows = (__mmask16)((1u << s) - 1);
    for (ptrdiff_t k0 = 0; k0 < k; k0 += 16) {
        const int kb = (int)(k - k0 < 16 ? k - k0 : 16);
        const __mmask16 cols = (__mmask16)((1u << kb) - 1);
        __m512 v[16];
        for (int r = 0; r < 16; r++) v[r] = r < s ? _mm512_maskz_loadu_ps(cols, x + r * ldx + k0) : _mm512_setzero_ps();
        rm_transpose16(v);
        for (int c = 0; c < kb; c++) _mm512_mask_storeu_ps(dst + (k0 + c) * s, rows, v[c]);
    }
}

#define RM_CASE(S_) case S_: tn_tile(packed_w, mp, k, kc, o, scratch, S_, vb, 0, y + j * ldy + o, ldy, nr, act, 1); break;

CK_INLINE void rm_body(const float *packed_w, ptrdiff_t n_out, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t k,
                       const float *x, ptrdiff_t ldx, ptrdiff_t j0, ptrdiff_t j1, float *y, ptrdiff_t ldy,
                       const float *bias, ck_activation act, float *scratch, ck_activation post) {
    const ptrdiff_t count = j1 - j0, panels = (count + TN_MAX - 1) / TN_MAX;
    const ptrdiff_t kc = ck_gemm_t_block_depth(k), mp = (n_out + CK_GEMM_NR - 1) / CK_GEMM_NR * CK_GEMM_NR;
    const ptrdiff_t base = count / panels, extra = count % panels;
    for (ptrdiff_t q = 0, j = j0; q < panels; q++) {
        const int s = (int)(base + (q < extra));
        rm_pack(x + j * ldx, ldx, k, s, scratch);
        for (ptrdiff_t o = o0; o < o1; o += CK_GEMM_NR) {
            const int nr = (int)(o1 - o < CK_GEMM_NR ? o1 - o : CK_GEMM_NR);
            const __m512 vb = bias ? _mm512_maskz_loadu_ps(ck_col_mask16(0, nr), bias + o) : _mm512_setzero_ps();
            switch (s) {
                RM_CASE(1) RM_CASE(2) RM_CASE(3) RM_CASE(4) RM_CASE(5) RM_CASE(6) RM_CASE(7) RM_CASE(8)
                RM_CASE(9) RM_CASE(10) RM_CASE(11) RM_CASE(12) RM_CASE(13) RM_CASE(14) RM_CASE(15) RM_CASE(16)
                default: break;
            }
        }
        if (post.kind != CK_ACT_NONE) ck_post_rows(y + j * ldy + o0, ldy, s, o1 - o0, post);
        j += s;
    }
}
#undef RM_CASE

void ck_gemm_rowmajor_avx512(const float *packed_w, ptrdiff_t n_out, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t k,
                             const float *x, ptrdiff_t ldx, ptrdiff_t j0, ptrdiff_t j1, float *y, ptrdiff_t ldy,
                             const float *bias, ck_activation act, float *scratch) {
    if (o1 > n_out) o1 = n_out;
    if (o0 >= o1 || j0 >= j1 || k <= 0) return;
    CK_WITH_SPLIT_ACT(act, rm_body(packed_w, n_out, o0, o1, k, x, ldx, j0, j1, y, ldy, bias, act_c, scratch, post_c));
}

void ck_gemm_tn_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc,
                       const float *bias, ck_activation act, float *scratch) {
    if (row1 > m) row1 = m;
    if (row0 >= row1 || n <= 0) return;
    CK_WITH_SPLIT_ACT(act, tn_body(packed_wt, m, row0, row1, k, b, ldb, n, c, ldc, bias, act_c, scratch, post_c));
}
#pragma clang attribute pop
#else
void ck_gemm_rowmajor_avx512(const float *packed_w, ptrdiff_t n_out, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t k,
                             const float *x, ptrdiff_t ldx, ptrdiff_t j0, ptrdiff_t j1, float *y, ptrdiff_t ldy,
                             const float *bias, ck_activation act, float *scratch) {
    (void)packed_w; (void)n_out; (void)o0; (void)o1; (void)k; (void)x; (void)ldx; (void)j0; (void)j1;
    (void)y; (void)ldy; (void)bias; (void)act; (void)scratch;
}
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
