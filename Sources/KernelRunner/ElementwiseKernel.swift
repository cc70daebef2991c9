import CKernels
import Foundation
import NNGraph

/// Elementwise binary op with NumPy broadcasting (+ fused activation). Shapes are reduced at
/// compile time to a few collapsed dims whose innermost loop is vectorised for the common
/// cases (same shape, scalar operand, per-channel operand).
final class BinaryStep: Step, EpilogueKernelSet {
    var kernels: KernelISA = .generic
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let op: BinaryOp
    let activation: FusedActivation
    let constant: AlignedBuffer?
    /// Collapsed iteration space, outermost first; strides in elements (0 = broadcast).
    let dims: [Int]
    let stridesA: [Int]
    let stridesB: [Int]
    let total: Int

    init(a: UnsafeMutablePointer<Float>, aShape: TensorShape, b: UnsafeMutablePointer<Float>?, bShape: TensorShape, constant: [Float]?,
         y: UnsafeMutablePointer<Float>, yShape: TensorShape, op: BinaryOp, activation: FusedActivation) {
        let buffer = constant.map { AlignedBuffer($0) }
        self.constant = buffer
        self.a = a
        self.b = buffer?.pointer ?? b!
        self.y = y
        self.op = op
        self.activation = activation
        let (d, s) = collapseBroadcast(out: yShape.dims, [aShape.dims, bShape.dims])
        dims = d
        stridesA = s[0]
        stridesB = s[1]
        total = yShape.elementCount
    }

    var algorithm: String { "broadcast \(op.rawValue)" }
    var scratchFloats: Int { 0 }

    /// Elements per pass inside a task: the op and its fused activation run on one L1-sized
    /// block before moving on, so the activation does not re-read the row from memory.
    static let block = 2_048

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let inner = dims.last ?? 1
        let outer = total / Swift.max(1, inner)
        let ia = stridesA.last ?? 0, ib = stridesB.last ?? 0
        let (piece, pieces, grain) = ParallelSplit.elementwiseTasks(inner: inner)
        // Two collapsed dims (a per-channel operand: rows of one plane each) is the common
        // broadcast: row offsets are a multiply instead of three integer divisions per row
        // (efficientnet_b0's SE mul on 1152 × 7², one thread: 17.6 → 15.5 µs).
        let twoDims = dims.count == 2
        let rowA = twoDims ? stridesA[0] : 0, rowB = twoDims ? stridesB[0] : 0
        pool.parallelRanges(outer * pieces, grain: grain) { range, _ in
            for t in range {
                let o = pieces == 1 ? t : t / pieces
                let lo = pieces == 1 ? 0 : (t % pieces) * piece
                let n = Swift.min(piece, inner - lo)
                var offA = o * rowA, offB = o * rowB
                if !twoDims {
                    var rem = o
                    for axis in stride(from: dims.count - 2, through: 0, by: -1) {
                        let idx = rem % dims[axis]
                        rem /= dims[axis]
                        offA += idx * stridesA[axis]
                        offB += idx * stridesB[axis]
                    }
                }
                var i = 0
                while i < n {
                    let m = Swift.min(Self.block, n - i)
                    let dst = y + o * inner + lo + i
                    binaryLoop(op, a + offA + (lo + i) * ia, ia, b + offB + (lo + i) * ib, ib, dst, m)
                    if activation != .none { Epilogue.apply(dst, m, bias: 0, activation, kernels) }
                    i += m
                }
            }
        }
    }
}

@inline(__always)
func applyBinary(_ op: BinaryOp, _ x: Float, _ z: Float) -> Float {
    switch op {
    case .add: x + z
    case .sub: x - z
    case .mul: x * z
    case .div: x / z
    case .pow: powf(x, z)
    }
}

/// `dst[i] = a[i·sa] op b[i·sb]`. The common stride patterns run explicit 8-wide vector loops
/// (safe when `dst` is `a` or `b`: LLVM's auto-vectoriser guards its vector loop with a
/// no-overlap check, so an in-place call would silently run scalar code).
@inline(__always)
func binaryLoop(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int,
                _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    switch (op, sa, sb) {
    case (.add, 1, 1): vectorLoop(a, b, dst, n, +, +)
    case (.add, 1, 0): let z = b[0]; vectorLoop(a, z, dst, n, +, +)
    case (.mul, 1, 1): vectorLoop(a, b, dst, n, *, *)
    case (.mul, 1, 0): let z = b[0]; vectorLoop(a, z, dst, n, *, *)
    case (.mul, 0, 1): let z = a[0]; vectorLoop(b, z, dst, n, *, *)
    case (.sub, 1, 1): vectorLoop(a, b, dst, n, -, -)
    case (.sub, 1, 0): let z = b[0]; vectorLoop(a, z, dst, n, -, -)
    case (.div, 1, 1): vectorLoop(a, b, dst, n, /, /)
    case (.div, 1, 0): let z = b[0]; vectorLoop(a, z, dst, n, /, /)
    default:
        for i in 0..<n { dst[i] = applyBinary(op, a[i &* sa], b[i &* sb]) }
    }
}

/// `dst[i] = a[i] op b[i]`, 8 lanes at a time (each vector is loaded before it is stored, so
/// `dst` may equal `a` or `b`).
@inline(__always)
private func vectorLoop(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                        _ vop: (Vec, Vec) -> Vec, _ sop: (Float, Float) -> Float) {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), rd = UnsafeMutableRawPointer(dst)
    var i = 0
    while i + 8 <= n {
        let x = ra.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self), y = rb.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self)
        rd.storeBytes(of: vop(x, y), toByteOffset: i &* 4, as: Vec.self)
        i &+= 8
    }
    while i < n { dst[i] = sop(a[i], b[i]); i &+= 1 }
}

/// `dst[i] = a[i] op z`, 8 lanes at a time (`dst` may equal `a`).
@inline(__always)
private func vectorLoop(_ a: UnsafeMutablePointer<Float>, _ z: Float, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                        _ vop: (Vec, Vec) -> Vec, _ sop: (Float, Float) -> Float) {
    let ra = UnsafeRawPointer(a), rd = UnsafeMutableRawPointer(dst)
    let vz = Vec(repeating: z)
    var i = 0
    while i + 8 <= n {
        rd.storeBytes(of: vop(ra.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self), vz), toByteOffset: i &* 4, as: Vec.self)
        i &+= 8
    }
    while i < n { dst[i] = sop(a[i], z); i &+= 1 }
}

/// Aligns input shapes to the output rank, drops size-1 dims and merges neighbours that are
/// contiguous (or broadcast) in every input. Returns dims and per-input strides (0 = broadcast).
func collapseBroadcast(out: [Int], _ inputs: [[Int]]) -> ([Int], [[Int]]) {
    let r = out.count
    var strides: [[Int]] = inputs.map { dims in
        let aligned = [Int](repeating: 1, count: r - dims.count) + dims
        let s = contiguousStrides(aligned)
        return (0..<r).map { aligned[$0] == 1 ? 0 : s[$0] }
    }
    var dims = out
    // Drop size-1 dims.
    let keep = (0..<r).filter { dims[$0] != 1 }
    dims = keep.map { dims[$0] }
    strides = strides.map { s in keep.map { s[$0] } }
    // Merge from the inside out.
    var i = dims.count - 1
    while i > 0 {
        let canMerge = strides.allSatisfy { s in s[i - 1] == s[i] * dims[i] }
        if canMerge {
            dims[i - 1] *= dims[i]
            dims.remove(at: i)
            for k in strides.indices {
                strides[k][i - 1] = strides[k][i]
                strides[k].remove(at: i)
            }
        }
        i -= 1
    }
    if dims.isEmpty {
        dims = [1]
        strides = strides.map { _ in [0] }
    }
    return (dims, strides)
}

/// Elementwise unary op, activation or clip as its own pass (when it could not be fused).
final class UnaryStep: Step, EpilogueKernelSet {
    var kernels: KernelISA = .generic
    enum Kind { case unary(UnaryOp), activation(FusedActivation), scaleShift }
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let count: Int
    let kind: Kind

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, kind: Kind) {
        self.x = x
        self.y = y
        self.count = count
        self.kind = kind
    }

    var algorithm: String {
        switch kind {
        case .unary(let u): "map \(u.rawValue)"
        case .activation: "map activation"
        case .scaleShift: "map"
        }
    }
    var scratchFloats: Int { 0 }
    /// Floats per copy-and-activate block (16 KiB: stays in L1 between the two touches).
    static let block = 4096

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        pool.parallelRanges(count, grain: 32768) { r, _ in
            let src = x + r.lowerBound, dst = y + r.lowerBound
            let n = r.count
            switch kind {
            case .activation(let act):
                if src == dst {
                    Epilogue.apply(dst, n, bias: 0, act, kernels)
                } else {
                    // Copy and activate one L1-sized block at a time: one pass over memory (read x,
                    // write y), as the cost model counts it, instead of a full copy followed by a
                    // second read-modify-write of y (which doubled the traffic of out-of-cache maps).
                    var i = 0
                    while i < n {
                        let m = Swift.min(UnaryStep.block, n - i)
                        (dst + i).update(from: src + i, count: m)
                        Epilogue.apply(dst + i, m, bias: 0, act, kernels)
                        i += m
                    }
                }
            case .unary(let u):
                switch u {
                case .neg: for i in 0..<n { dst[i] = -src[i] }
                case .abs: for i in 0..<n { dst[i] = Swift.abs(src[i]) }
                case .sqrt: for i in 0..<n { dst[i] = src[i].squareRoot() }
                case .reciprocal: for i in 0..<n { dst[i] = 1 / src[i] }
                case .exp:
                    var i = 0
                    let rs = UnsafeRawPointer(src), rd = UnsafeMutableRawPointer(dst)
                    while i + 8 <= n {
                        rd.storeBytes(of: vexp(rs.loadUnaligned(fromByteOffset: i * 4, as: Vec.self)), toByteOffset: i * 4, as: Vec.self)
                        i += 8
                    }
                    while i < n { dst[i] = expf(src[i]); i += 1 }
                case .log: for i in 0..<n { dst[i] = logf(src[i]) }
                case .erf:
                    if kernels == .avx2 { ck_erf(src, dst, n) } else { for i in 0..<n { dst[i] = erff(src[i]) } }
                }
            case .scaleShift:
                break
            }
        }
    }
}

/// Inference batch norm that could not be folded into a producer: per channel (dim 1)
/// `y = x·scale + shift`, then the fused activation.
final class ChannelAffineStep: Step, EpilogueKernelSet {
    var kernels: KernelISA = .generic
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let batch: Int, channels: Int, inner: Int
    let scale: AlignedBuffer
    let shift: AlignedBuffer
    let activation: FusedActivation

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, shape: TensorShape, scale: [Float], shift: [Float],
         activation: FusedActivation) {
        self.x = x
        self.y = y
        batch = shape[0]
        channels = shape[1]
        inner = shape.dims.dropFirst(2).reduce(1, *)
        self.scale = AlignedBuffer(scale)
        self.shift = AlignedBuffer(shift)
        self.activation = activation
    }

    var algorithm: String { "channel affine" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        pool.parallelRanges(batch * channels, grain: Swift.max(1, 16384 / Swift.max(1, inner))) { r, _ in
            for plane in r {
                let c = plane % channels
                let s = scale.pointer[c], t = shift.pointer[c]
                let src = x + plane * inner, dst = y + plane * inner
                for i in 0..<inner { dst[i] = src[i] * s }
                Epilogue.apply(dst, inner, bias: t, activation, kernels)
            }
        }
    }
}
