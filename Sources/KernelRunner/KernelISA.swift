import CKernels
import Foundation

/// Which implementation of the hot kernels (GEMM for convolutions, depthwise convolution,
/// fused activations) the runner uses.
///
/// - `avx2`: the C kernels in `CKernels`, compiled with AVX2+FMA per function and picked at
///   run time when CPUID reports AVX2 and FMA (x86-64-v3: every x86 server and desktop CPU
///   since 2013–2015).
/// - `generic`: the portable Swift SIMD kernels with OpenBLAS GEMM (any CPU, including arm64).
///
/// The default is the best the CPU supports; `EDGEPROF_KERNELS=generic` (or
/// `RunnerOptions(kernels: .generic)`) forces the portable path.
public enum KernelISA: String, Sendable, Hashable, Codable, CaseIterable {
    case generic
    case avx2

    /// What this CPU supports (ignores the environment).
    public static let supported: KernelISA = ck_isa() >= Int32(CK_ISA_AVX2) ? .avx2 : .generic

    /// The CPU has AVX-512F (the C kernel set then uses its 16-lane kernels where it has them).
    static let hasAVX512 = ck_isa() >= Int32(CK_ISA_AVX512)

    /// Whether this kernel set runs every GEMM in C on this CPU: the C set on an AVX-512F CPU
    /// (`RowMajorGemm` for products over several rows, MatMuls and attention; the packed GEMMs for
    /// every Winograd layer and ConvTranspose). Otherwise some layers call OpenBLAS's sgemm.
    public var runsEveryGEMMInC: Bool { self == .avx2 && KernelISA.hasAVX512 }

    /// The default: `EDGEPROF_KERNELS` if set to a supported value, else `supported`.
    public static var `default`: KernelISA {
        if let raw = ProcessInfo.processInfo.environment["EDGEPROF_KERNELS"], let v = KernelISA(rawValue: raw.lowercased()) {
            return v == .avx2 && supported != .avx2 ? .generic : v
        }
        return supported
    }
}

/// A step whose activation pass (`Epilogue`) runs the C vector code when the model's kernel
/// set is `.avx2`, like the activations fused into the C convolution kernels.
protocol EpilogueKernelSet: AnyObject {
    var kernels: KernelISA { get set }
}

extension FusedActivation {
    /// Activations `ck_bias_act` vectorises (tanh goes through libm per lane there, no faster
    /// than the Swift loop, so it stays in Swift).
    var hasCKernel: Bool { self != .tanh }

    /// The C kernels' activation descriptor.
    var ck: ck_activation {
        switch self {
        case .none: ck_activation(kind: Int32(CK_ACT_NONE), lo: 0, hi: 0)
        case .relu: ck_activation(kind: Int32(CK_ACT_RELU), lo: 0, hi: 0)
        case .clip(let lo, let hi): ck_activation(kind: Int32(CK_ACT_CLIP), lo: lo, hi: hi)
        case .hardswish: ck_activation(kind: Int32(CK_ACT_HARDSWISH), lo: 0, hi: 0)
        case .hardsigmoid: ck_activation(kind: Int32(CK_ACT_HARDSIGMOID), lo: 0, hi: 0)
        case .sigmoid: ck_activation(kind: Int32(CK_ACT_SIGMOID), lo: 0, hi: 0)
        case .silu: ck_activation(kind: Int32(CK_ACT_SILU), lo: 0, hi: 0)
        case .gelu: ck_activation(kind: Int32(CK_ACT_GELU), lo: 0, hi: 0)
        case .tanh: ck_activation(kind: Int32(CK_ACT_TANH), lo: 0, hi: 0)
        }
    }
}

/// Weights pre-packed for the C GEMM, 64-byte aligned: 6-row panels for `ck_gemm_packed`, 16-row
/// panels for `ck_gemm_rows16` (AVX-512F CPUs, row counts that are a multiple of 16: one 16 × 16
/// tile of zmm accumulators per step, the other operand read in place), or (`transposed`) 16-row
/// panels for `ck_gemm_packed_t`, which computes the product transposed so few output columns
/// (7×7 maps: 49 pixels) waste fewer vector lanes.
final class PackedGemmWeights: @unchecked Sendable {
    enum Layout { case rows6, rows16, transposed }
    let rows: Int, depth: Int
    let layout: Layout
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    var transposed: Bool { layout == .transposed }

    /// Packs `rows` × `depth` row-major weights starting at `a` (row stride `lda`).
    init(_ a: UnsafePointer<Float>, rows: Int, depth: Int, lda: Int, transposed: Bool = false) {
        self.rows = rows
        self.depth = depth
        layout = transposed ? .transposed : ck_gemm_rows16_eligible(rows) != 0 ? .rows16 : .rows6
        count = layout == .rows6 ? ck_gemm_packed_a_floats(rows, depth) : ck_gemm_packed_wt_floats(rows, depth)
        pointer = allocateFloats(Swift.max(1, count))
        if layout == .rows6 { ck_gemm_pack_a(a, rows, depth, lda, pointer) } else { ck_gemm_pack_wt(a, rows, depth, lda, pointer) }
    }

    deinit { ck_free(pointer) }

    /// Row blocks of a thread split must be multiples of this.
    var rowUnit: Int { layout == .rows6 ? Int(CK_GEMM_MR) : Int(CK_GEMM_NR) }

    /// The kernel's name in `algorithm` columns for calls over `columns` columns (the transposed
    /// product takes pixel panels of up to 16 where `ck_gemm_tn_eligible` says so).
    func kernelName(columns: Int) -> String {
        switch layout {
        case .rows6: "gemm6x16"
        case .rows16: "gemm16x16 avx512"
        case .transposed: ck_gemm_tn_eligible(columns) != 0 ? "gemmNx16T avx512" : "gemm6x16T"
        }
    }

    /// Scratch floats one call over `columns` columns needs, plus 8 floats of slack for `multiply`'s 32-byte alignment.
    func scratchFloats(columns: Int) -> Int {
        switch layout {
        case .rows6: ck_gemm_scratch_floats(depth, columns) + 8
        case .rows16: 8
        case .transposed: ck_gemm_t_scratch_floats(rows, depth, columns) + 8
        }
    }

    /// C[rows r0..<r1][0..<columns] = act(W·B + bias); `scratch` need not be aligned (it is aligned here).
    func multiply(rows r: Range<Int>, b: UnsafePointer<Float>, ldb: Int, columns: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                  bias: UnsafePointer<Float>?, _ act: FusedActivation, scratch: UnsafeMutablePointer<Float>) {
        let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) + 31) & ~31)!
        switch layout {
        case .rows6:
            ck_gemm_packed(pointer, rows, r.lowerBound, r.upperBound, depth, b, ldb, columns, c, ldc, bias, act.ck, aligned)
        case .rows16:
            ck_gemm_rows16(pointer, rows, r.lowerBound, r.upperBound, depth, b, ldb, columns, c, ldc, bias, act.ck)
        case .transposed:
            ck_gemm_packed_t(pointer, rows, r.lowerBound, r.upperBound, depth, b, ldb, columns, c, ldc, bias, act.ck, aligned)
        }
    }

    /// Whether the transposed formulation suits a product with `columns` output columns per call and
    /// depth `depth`: few columns (≤ 64, e.g. 7×7 maps) and enough depth that its scalar
    /// transposed stores stay cheap (measured: 49 columns, depth ≥ 192: 5–12 % faster; wide maps or
    /// depth ≤ 64: slower). With AVX-512F (`ck_gemm_tn_avx512`) also up to 128 columns at depth
    /// ≥ 384 (10×10 maps, a thread's half of a 14×14 map): against the 16-row kernel, standalone,
    /// 1 thread, 98–100 columns at depth 384–2304 ran 1.1–1.3× faster; 196 columns, or depth ≤ 240,
    /// no faster.
    static func prefersTransposed(columns: Int, depth: Int) -> Bool {
        (columns <= 64 && depth >= 128) || (columns <= 128 && depth >= 384 && ck_gemm_tn_eligible(columns) != 0)
    }
}
