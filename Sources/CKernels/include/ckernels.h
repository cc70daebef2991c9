// Hot CPU kernels in C with runtime ISA dispatch.
//
// Every function here has an AVX2+FMA implementation compiled with a per-function target
// attribute (no global -m flags, so the package still builds and runs on any x86-64 or
// arm64 machine). The caller asks `ck_isa()` once and uses these entry points only when it
// reports CK_ISA_AVX2 or better; otherwise it keeps its portable Swift kernels.
// On non-x86 builds `ck_isa()` returns CK_ISA_GENERIC and the entry points are never called.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    CK_ISA_GENERIC = 0,
    CK_ISA_AVX2 = 1,      // AVX2 + FMA (x86-64-v3)
    CK_ISA_AVX512 = 2,    // AVX-512F (also has AVX2 + FMA)
};

/// The best instruction set this CPU supports for these kernels. Cached; thread-safe.
int ck_isa(void);
/// Whether this CPU runs 512-bit FMAs on full-width units (AVX-512F on an Intel CPU), where a
/// 16-lane tile with idle lanes still beats 8-lane code; 0 on AMD (Zen 4 double-pumps them).
int ck_avx512_full_width(void);

// One spin-wait hint (x86 PAUSE, arm64 YIELD): a thread polling a flag lets its SMT sibling
// (or the hypervisor's other vCPU on the same core) run, and leaves the spin loop without a
// memory-order mis-speculation flush when the flag changes.
void ck_spin_pause(void);
/// Seconds to read `bytes` that no cache holds (lines, pages, page-table entries): median over
/// `repeats` reads, each of its own page-aligned buffer after streaming `evict_bytes` (cpu.c).
double ck_cold_read_seconds(size_t bytes, size_t evict_bytes, int repeats);

/// Nanoseconds per cache-line round trip between a thread pinned to `cpu_a` (the caller, pinned for
/// the duration and restored after) and one pinned to `cpu_b`, over `round_trips` ping-pongs on one
/// line; -1 when either CPU is not in the caller's affinity mask or pinning is unsupported (non-Linux).
/// Not reentrant: one probe at a time.
double ck_core_round_trip_ns(int cpu_a, int cpu_b, long round_trips);

/// The CPUs this process may run on (sched_getaffinity), at most `max` of them into `cpus`; returns
/// how many (0 where unsupported).
int ck_allowed_cpus(int *cpus, int max);

/// Aligned allocation: 64-byte aligned; with `huge_pages` set, a block of at least 2 MiB is 2 MiB
/// aligned and its whole 2 MiB pages are advised MADV_HUGEPAGE (Linux transparent huge pages in
/// `madvise` mode: one TLB entry per 2 MiB for the arena and large weights). NULL when out of
/// memory. Free with ck_free.
void *ck_alloc(size_t bytes, int huge_pages);
void ck_free(void *p);

/// Fused activations (keep in step with KernelRunner's FusedActivation).
enum {
    CK_ACT_NONE = 0,
    CK_ACT_RELU = 1,
    CK_ACT_CLIP = 2,        // min(max(x, lo), hi)
    CK_ACT_HARDSWISH = 3,
    CK_ACT_HARDSIGMOID = 4,
    CK_ACT_SIGMOID = 5,
    CK_ACT_SILU = 6,
    CK_ACT_GELU = 7,
    CK_ACT_TANH = 8,
};

typedef struct {
    int kind;   // CK_ACT_*
    float lo;   // CK_ACT_CLIP bounds
    float hi;
} ck_activation;

/// p[i] = act(p[i] + bias) for i < count.
void ck_bias_act(float *p, ptrdiff_t count, float bias, ck_activation act);

/// y[r·ldy + j] = act(y[r·ldy + j] + s[r·ldr + j]) for r < rows, j < cols: a residual add fused
/// into the conv that wrote `y` (run on each output tile while it is still in cache).
void ck_add_rows(float *y, ptrdiff_t ldy, const float *s, ptrdiff_t ldr, ptrdiff_t rows, ptrdiff_t cols, ck_activation act);

/// out[r] = max of row r (is_max) or scale × its sum, for `rows` contiguous rows of `n` floats
/// (global pooling, ReduceMean over trailing axes). Four 8-lane accumulators per row.
void ck_row_reduce(const float *x, ptrdiff_t rows, ptrdiff_t n, int is_max, float scale, float *out);

/// Whether the AVX2 kernels leave `act` to `ck_act_rows512` on their finished output (SiLU,
/// sigmoid and, since session 30, GELU on a CPU with AVX-512F: the 16-lane version is 1.7× faster
/// than the in-register one for SiLU).
int ck_act_deferred(ck_activation act);

/// c[r·ldc + j] = act(c[r·ldc + j] + bias) for r < rows, j < cols, act SiLU, sigmoid or GELU; AVX-512F
/// only (call it when `ck_act_deferred` says so).
void ck_act_rows512(float *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t cols, float bias, ck_activation act);
/// Softmax of `rows` rows of `n` floats in place (row r at p + r·ld), AVX-512F (activation_avx512.c);
/// only when ck_isa() >= CK_ISA_AVX512.
void ck_softmax_rows512(float *p, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t n);

/// y[i] = erf(x[i]) for i < count (|error| ≤ 1e-7; x and y may be the same array).
void ck_erf(const float *x, float *y, ptrdiff_t count);

/// Rows of the packed-weight layout used by `ck_gemm_packed` (register-tile height).
enum { CK_GEMM_MR = 6, CK_GEMM_NR = 16, CK_GEMM_KC = 256 };

/// Floats needed to pack an m × k row-major matrix for `ck_gemm_packed`.
size_t ck_gemm_packed_a_floats(ptrdiff_t m, ptrdiff_t k);

/// Packs A (m × k, row stride lda) into CK_GEMM_MR-row panels ([m/MR][k][MR], zero-padded).
void ck_gemm_pack_a(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, float *packed);

/// Floats of scratch `ck_gemm_packed` needs for a call with depth k and n columns.
size_t ck_gemm_scratch_floats(ptrdiff_t k, ptrdiff_t n);

/// C[r][j] = act(Σ_k A[r][k]·B[k][j] + bias[r]) for rows r in [row0, row1) (multiples of MR
/// except at m) and columns j < n. A is packed by `ck_gemm_pack_a` (m rows in all, depth k);
/// B is row-major with row stride ldb; C has row stride ldc. `bias` may be NULL. `scratch`
/// holds ck_gemm_scratch_floats(k, n) floats (the packed B), 32-byte aligned.
void ck_gemm_packed(const float *packed_a, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch);

/// Whether an m-row product takes 16-row panels (`ck_gemm_rows16`), on a CPU with AVX-512F: any m
/// where `ck_avx512_full_width()`, else m a multiple of 16 or 13–15 rows past one.
int ck_gemm_rows16_eligible(ptrdiff_t m);

/// The product of `ck_gemm_packed` with A packed by `ck_gemm_pack_wt` (16-row panels) and B read
/// in place (no scratch); rows [row0, row1) are multiples of 16 except at m. AVX-512F only.
void ck_gemm_rows16(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                    const float *b, ptrdiff_t ldb, ptrdiff_t n,
                    float *c, ptrdiff_t ldc, const float *bias, ck_activation act);

/// ck_gemm_rows16's kernel for more than one column; `kc` = the packing's K block depth.
void ck_gemm_rows16_avx512(const float *packed, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k, ptrdiff_t kc,
                           const float *b, ptrdiff_t ldb, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                           ck_activation act);

/// The same product for few columns (small feature maps, a thread's pixel tile): computed as
/// Cᵀ = Bᵀ·Aᵀ, with the columns (pixels) as the row operand and the rows (channels) as the
/// 16-wide operand: on an AVX-512F CPU panels of ≤ 16 pixels with one accumulator per pixel
/// (`ck_gemm_tn_avx512`), else 6-pixel AVX2 panels (a 7×7 map's 49 columns waste 5 of 54 lanes
/// instead of 15 of 64 in 16-column tiles). A is packed by
/// `ck_gemm_pack_wt` ([m/16][k][16]); rows [row0, row1) are multiples of 16 except at m.
/// `scratch` holds ck_gemm_t_scratch_floats(m, k, n) floats, 32-byte aligned.
size_t ck_gemm_packed_wt_floats(ptrdiff_t m, ptrdiff_t k);
void ck_gemm_pack_wt(const float *a, ptrdiff_t m, ptrdiff_t k, ptrdiff_t lda, float *packed);
size_t ck_gemm_t_scratch_floats(ptrdiff_t m, ptrdiff_t k, ptrdiff_t n);
void ck_gemm_packed_t(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                      const float *b, ptrdiff_t ldb, ptrdiff_t n,
                      float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch);

/// W (rows × k, row-major) packed as [ceil(rows/16)][k][16] panels, zero-padded: 16·k·ceil(rows/16) floats.
void ck_gemv_pack(const float *w, ptrdiff_t rows, ptrdiff_t k, float *packed);

/// y[16p + l] = Σ_j panel p[j][l]·x[j] for panels p in [p0, p1) of a `ck_gemv_pack` matrix (64-byte
/// aligned), stores cut at `rows`: no horizontal sums. AVX-512F only.
void ck_gemv_panels_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1);
/// Partial products over inputs [j0, j1) of panels [p0, p1) (K split across threads; the caller sums the parts).
void ck_gemv_panels_krange_avx512(const float *packed, ptrdiff_t rows, ptrdiff_t k, const float *x, float *y, ptrdiff_t p0, ptrdiff_t p1,
                                  ptrdiff_t j0, ptrdiff_t j1);

/// K block depth of `ck_gemm_pack_wt`'s packing (the whole depth up to 2048).
ptrdiff_t ck_gemm_t_block_depth(ptrdiff_t k);

/// Whether `ck_gemm_packed_t` takes the AVX-512F kernel on pixel panels of up to 16 (2 to
/// CK_GEMM_TN_MAX_COLUMNS pixels, a CPU with AVX-512F); else 6-pixel AVX2 panels.
enum { CK_GEMM_TN_MAX_COLUMNS = 256 };
int ck_gemm_tn_eligible(ptrdiff_t n);

/// `ck_gemm_packed_t` on ⌈n/16⌉ near-equal pixel panels (ck_gemm_tn_eligible): same operands and
/// result; scratch n·k floats (within ck_gemm_t_scratch_floats).
/// `ck_gemm_packed_t6` is `ck_gemm_packed_t` on the AVX2 6-pixel panels whatever the CPU (tests
/// keep both paths covered on an AVX-512 machine).
void ck_gemm_tn_avx512(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n,
                       float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch);
void ck_gemm_packed_t6(const float *packed_wt, ptrdiff_t m, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t k,
                       const float *b, ptrdiff_t ldb, ptrdiff_t n,
                       float *c, ptrdiff_t ldc, const float *bias, ck_activation act, float *scratch);

/// Row-major product Y[j][o] = act(Σ_kk X[j][kk]·W[o][kk] + bias[o]) for rows j in [j0, j1) of X (k
/// floats each, row stride ldx) and outputs o in [o0, o1) (multiples of 16 except at n_out), Y with
/// row stride ldy: a fully connected layer over several rows, or a MatMul. W is packed by
/// `ck_gemm_pack_wt` (n_out rows of depth k) or, for a k × n_out right operand, `ck_gemm_pack_b`.
/// X's rows are taken in ⌈(j1−j0)/16⌉ near-equal panels, each transposed into `scratch` ([k][S],
/// 16·k floats, 64-byte aligned) and multiplied by every weight panel of [o0, o1) with S
/// accumulators (`ck_gemm_tn_avx512`'s tile, stored row-major). AVX-512F only.
void ck_gemm_rowmajor_avx512(const float *packed_w, ptrdiff_t n_out, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t k,
                             const float *x, ptrdiff_t ldx, ptrdiff_t j0, ptrdiff_t j1, float *y, ptrdiff_t ldy,
                             const float *bias, ck_activation act, float *scratch);

/// Packs B (k × n, row stride ldb) for `ck_gemm_rowmajor_avx512` as the weights Bᵀ (n rows of
/// depth k): the layout `ck_gemm_pack_wt` gives Bᵀ, ck_gemm_packed_wt_floats(n, k) floats.
void ck_gemm_pack_b(const float *b, ptrdiff_t k, ptrdiff_t n, ptrdiff_t ldb, float *packed);

/// Rows [r0, r1) (each a (channel, ky, kx) tap) × output pixels [c0, c1) of the im2col matrix of one
/// group's input (`in_plane` floats per channel, height × width; out_w output pixels per row) into
/// `dst` (row stride ld, first column = pixel c0); padding reads as 0. AVX-512F only: 16 pixels per
/// store, stride 1 and 2 by masked loads (stride 2 keeps the even lanes of two), others lane by lane.
void ck_im2col_avx512(const float *xg, ptrdiff_t in_plane, ptrdiff_t height, ptrdiff_t width,
                      ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t stride_h, ptrdiff_t stride_w,
                      ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t dil_h, ptrdiff_t dil_w, ptrdiff_t out_w,
                      ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t c0, ptrdiff_t c1, float *dst, ptrdiff_t ld);

/// Winograd F(2×2,3×3) input transform of tile rows [ty0, ty1) (tiles_x tiles per row) of
/// `channels` zero-bordered planes (plane_floats apart, rows padded_width floats, readable 18
/// floats past 2·tiles_x rounded up to 16): V[e][ci][t] at v[(e·channels + ci)·ld + t], t counted
/// from the first tile of row ty0. Each row of V needs 8 floats of slack after its last tile.
void ck_winograd_input(const float *padded, ptrdiff_t plane_floats, ptrdiff_t padded_width, ptrdiff_t channels,
                       ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x, float *v, ptrdiff_t ld);

/// Winograd F(2×2,3×3) output transform Y = Aᵀ·M·A + bias, activation, for tile rows [ty0, ty1)
/// of `channels` output planes (out_h × out_w, NCHW at y); M[e][co][t] at m[(e·channels + co)·ld + t].
void ck_winograd_output(const float *m, ptrdiff_t ld, ptrdiff_t channels, ptrdiff_t ty0, ptrdiff_t ty1, ptrdiff_t tiles_x,
                        const float *bias, float *y, ptrdiff_t out_h, ptrdiff_t out_w, ck_activation act);

/// Depthwise layers with at most this many output columns take the narrow kernel (no bordered copy,
/// `plane` unused).
enum { CK_DW_NARROW_COLUMNS = 8 };

/// Geometry of a depthwise layer for `ck_depthwise_planes` (NCHW, one batch entry at a time).
typedef struct {
    ptrdiff_t in_channels, out_channels;   // out = in × multiplier
    ptrdiff_t height, width, out_h, out_w;
    ptrdiff_t pad_top, pad_left;
    int k, sh, sw;                         // k ∈ {3, 5}, strides ∈ {1, 2}
    ptrdiff_t rows, phase_width;           // bordered plane: rows × phase_width per phase, sw phases
    int direct;                            // 1: the AVX-512 stride-2 kernel (ck_depthwise_direct), no plane
} ck_dw_geometry;

/// Whether a depthwise layer takes the AVX-512F kernel that reads its taps straight from the input
/// (horizontal stride 2 with vertical stride 1 or 2, or stride 1 × 1; more than
/// CK_DW_NARROW_COLUMNS output columns, k ∈ {3, 5}, a CPU with AVX-512F): no bordered plane, so
/// `ck_depthwise_planes` never touches `plane` (set ck_dw_geometry.direct to the answer).
int ck_depthwise_direct(int k, int sh, int sw, ptrdiff_t out_w);

/// Whether a narrow depthwise layer (≤ CK_DW_NARROW_COLUMNS output columns) takes the AVX-512F kernel
/// for horizontal stride 2 that loads each input row once (k ∈ {3, 5}, vertical stride 1 or 2,
/// width + pad_left ≤ 16, a CPU with AVX-512F); set ck_dw_geometry.direct to the answer. Activations
/// that ck_act_deferred names must be applied by the caller (as ck_depthwise_planes does).
int ck_depthwise_narrow_s2(int k, int sh, int sw, ptrdiff_t out_w, ptrdiff_t width, ptrdiff_t pad_left);

/// ck_depthwise_planes' direct kernel (g.direct set): out = act(Σ w·tap + bias), then `post`
/// (kind NONE: none) on every finished 4-row block. AVX-512F only; strides as ck_depthwise_direct.
void ck_depthwise_direct_avx512(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                            ptrdiff_t p0, ptrdiff_t p1, ck_activation act, ck_activation post);

/// Output planes [p0, p1) (p = n·out_channels + c) of a depthwise layer, k ∈ {3, 5}, strides 1–2,
/// dilation 1. Each input plane is copied into `plane`: a bordered scratch of `rows` rows ×
/// `phase_width` floats per column phase (sw phases; padded column j goes to phase j % sw at
/// j / sw, as KernelRunner's PhaseSplitPlane) whose border the caller zeroed, so tap (ky, kx) of
/// output (oy, ox) is a contiguous load at (kx % sw)·rows·phase_width + (oy·sh + ky)·phase_width +
/// ox + kx / sw. out = act(Σ w·tap + bias), 4 rows × 16 columns per block. Layers with at most
/// 8 output columns skip the copy (and never touch `plane`): each output row is one vector of
/// masked loads from the input; so do wider layers with g.direct set (AVX-512F: 16 outputs per
/// vector, taps shifted or de-interleaved from the input in registers). `w` is [out_channels][k·k],
/// `bias` [out_channels].
void ck_depthwise_planes(const float *x, float *y, const float *w, const float *bias, ck_dw_geometry g,
                         ptrdiff_t p0, ptrdiff_t p1, ck_activation act, float *plane);

/// Geometry of a direct stem convolution for `ck_conv_stem_s2_avx512` (NCHW, one batch entry).
typedef struct {
    ptrdiff_t in_channels, out_channels;
    ptrdiff_t height, width, out_h, out_w;
    ptrdiff_t pad_top, pad_left;
} ck_stem_geometry;

/// Whether a convolution takes the direct stem kernel: at most 4 input channels, 3×3, stride 2,
/// dilation 1, one group, a CPU with AVX-512F.
int ck_conv_stem_direct(ptrdiff_t in_channels, int kh, int kw, int sh, int sw, int dh, int dw, ptrdiff_t groups);

/// Output rows [oy0, oy1) of every output channel of a direct stem convolution:
/// y = act(Σ w·x + bias). `w` is [out_channels][in_channels][3][3], `bias` [out_channels]. Every
/// input load is masked to the tensor (no bordered copy, no scratch). AVX-512F only.
void ck_conv_stem_s2_avx512(const float *x, float *y, const float *w, const float *bias, ck_stem_geometry g,
                            ptrdiff_t oy0, ptrdiff_t oy1, ck_activation act);

#ifdef __cplusplus
}
#endif
#endif
