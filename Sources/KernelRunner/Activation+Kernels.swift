import CKernels
import Foundation
import NNGraph

/// An activation applied by the kernel that produces the tensor ("fused into its producer").
public enum FusedActivation: Sendable, Hashable {
    case none
    case relu
    case clip(min: Float, max: Float)
    case hardswish
    case hardsigmoid
    case sigmoid
    case silu
    case gelu
    case tanh

    init?(_ op: Op) {
        switch op {
        case .activation(let a):
            switch a {
            case .relu: self = .relu
            case .relu6: self = .clip(min: 0, max: 6)
            case .hardswish: self = .hardswish
            case .hardsigmoid: self = .hardsigmoid
            case .sigmoid: self = .sigmoid
            case .silu: self = .silu
            case .gelu: self = .gelu
            case .tanh: self = .tanh
            }
        case .clip(let lo, let hi): self = .clip(min: Float(lo), max: Float(hi))
        default: return nil
        }
    }
}

typealias Vec = SIMD8<Float>

/// exp on 8 lanes: Cephes `expf` (range reduction by ln 2, degree-6 polynomial), ~2 ulp on
/// [-87, 88]; the exponent is built with integer ops so it vectorises on plain SSE2.
@inline(__always)
func vexp(_ x: Vec) -> Vec {
    let clamped = x.clamped(lowerBound: Vec(repeating: -87.3), upperBound: Vec(repeating: 88.3))
    // Round x·log2(e) to nearest with the 1.5·2^23 trick (no SSE4.1 roundps needed).
    let magic = Vec(repeating: 12_582_912)
    let k = clamped * 1.442_695_04 + magic
    let n = k - magic
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Vec(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let r2 = r * r
    let y = p * r2 + r + 1
    let bits = unsafeBitCast(k, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: Vec.self)
    return y * scale
}

@inline(__always)
func vsigmoid(_ x: Vec) -> Vec { 1 / (1 + vexp(-x)) }

/// Scalar twin of `vexp` written with plain arithmetic, selects and bit casts only, so LLVM
/// vectorises the loops that call it (release) and it stays cheap in debug builds.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let c = x < -87.3 ? -87.3 : (x > 88.3 ? 88.3 : x)
    let k = c * 1.442_695_04 + 12_582_912
    let n = k - 12_582_912
    var r = c - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * (r * r) + r + 1
    let bits = (Int32(bitPattern: k.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
    return y * Float(bitPattern: UInt32(bitPattern: bits))
}

/// exp(x) for the logistic activations (sigmoid, SiLU): x clamped to [−87, 87], one-constant
/// range reduction by ln 2 and a degree-5 minimax polynomial on [−ln2/2, ln2/2] (≤ 7e-7 relative
/// over the range where the logistic is not saturated, against 2 ulp for `fastExp`). About 30 %
/// fewer operations than `fastExp`, which matters because this runs on every output of every
/// SiLU layer. Plain scalar code so LLVM vectorises the calling loops (and debug builds stay fast).
@inline(__always)
func logisticExp(_ x: Float) -> Float {
    let c = x < -87 ? -87 : (x > 87 ? 87 : x)
    let k = c * 1.442_695_04 + 12_582_912
    let n = k - 12_582_912
    let r = c - n * 0.693_147_18
    var p: Float = 0.008_297_612
    p = p * r + 0.041_915_309
    p = p * r + 0.166_675_75
    p = p * r + 0.499_988_94
    p = p * r + 0.999_999_70
    p = p * r + 1.000_000_1
    let bits = (Int32(bitPattern: k.bitPattern) &- (0x4B40_0000 &- 127)) &<< 23
    return p * Float(bitPattern: UInt32(bitPattern: bits))
}

@inline(__always)
func scalarGelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.707_106_77)) }

enum Epilogue {
    /// `p[i] = act(p[i] + bias)` for `count` contiguous values. The piecewise-linear cases are
    /// plain loops (LLVM vectorises them in release builds, and they stay tolerable in debug
    /// builds, where generic SIMD helpers are very slow); the exponential ones use `vexp`.
    @inline(__always)
    static func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int, bias: Float, _ act: FusedActivation, _ kernels: KernelISA = .generic) {
        if kernels == .avx2 && act.hasCKernel && (act != .none || bias != 0) {
            ck_bias_act(p, count, bias, act.ck)
            return
        }
        switch act {
        case .none:
            if bias == 0 { return }
            for i in 0..<count { p[i] += bias }
        case .relu:
            for i in 0..<count {
                let v = p[i] + bias
                p[i] = v > 0 ? v : 0
            }
        case .clip(let lo, let hi):
            for i in 0..<count {
                let v = p[i] + bias
                let a = v > lo ? v : lo
                p[i] = a < hi ? a : hi
            }
        case .hardsigmoid:
            for i in 0..<count {
                let v = (p[i] + bias) * (1 / 6) + 0.5
                let a = v > 0 ? v : 0
                p[i] = a < 1 ? a : 1
            }
        case .hardswish:
            for i in 0..<count {
                let x = p[i] + bias
                let v = x * (1 / 6) + 0.5
                let a = v > 0 ? v : 0
                p[i] = x * (a < 1 ? a : 1)
            }
        case .sigmoid:
            for i in 0..<count { p[i] = 1 / (1 + logisticExp(-(p[i] + bias))) }
        case .silu:
            for i in 0..<count {
                let v = p[i] + bias
                p[i] = v / (1 + logisticExp(-v))
            }
        case .gelu:
            for i in 0..<count { p[i] = scalarGelu(p[i] + bias) }
        case .tanh:
            for i in 0..<count { p[i] = tanhf(p[i] + bias) }
        }
    }

    /// Scalar reference (tests and odd paths).
    static func scalar(_ x: Float, _ act: FusedActivation) -> Float {
        switch act {
        case .none: x
        case .relu: Swift.max(x, 0)
        case .clip(let lo, let hi): Swift.min(Swift.max(x, lo), hi)
        case .hardsigmoid: Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .hardswish: x * Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .sigmoid: 1 / (1 + expf(-x))
        case .silu: x / (1 + expf(-x))
        case .gelu: scalarGelu(x)
        case .tanh: tanhf(x)
        }
    }
}

extension Epilogue {
    /// Rows shorter than this run the exponential activations as one span over several rows:
    /// LLVM's vector loop handles multiples of 8–16 values and leaves the rest to a scalar tail,
    /// so a 7- or 49-value row would run (mostly) scalar.
    static let shortRow = 64

    /// True for the activations whose per-value cost (an exp, a division) dominates a row pass.
    static func isTranscendental(_ act: FusedActivation) -> Bool {
        switch act {
        case .sigmoid, .silu, .gelu, .tanh: true
        case .none, .relu, .clip, .hardswish, .hardsigmoid: false
        }
    }

    /// `row[r][i] = act(row[r][i] + bias[r])` for `rows` rows of `length` values, `stride` apart.
    /// Short contiguous rows with an exponential activation take the bias per row, then the
    /// activation over all rows as one span.
    @inline(__always)
    static func applyRows(_ p: UnsafeMutablePointer<Float>, rows: Int, length: Int, stride: Int, bias: UnsafePointer<Float>,
                          _ act: FusedActivation, _ kernels: KernelISA = .generic) {
        if stride == length && length < shortRow && rows > 1 && isTranscendental(act) {
            for r in 0..<rows { apply(p + r * length, length, bias: bias[r], .none, kernels) }
            apply(p, rows * length, bias: 0, act, kernels)
        } else {
            for r in 0..<rows { apply(p + r * stride, length, bias: bias[r], act, kernels) }
        }
    }

    /// `p[i] = act(p[i] + bias[i])` for one row of a fully connected output.
    @inline(__always)
    static func applyRow(_ p: UnsafeMutablePointer<Float>, _ count: Int, bias: UnsafePointer<Float>?, _ act: FusedActivation,
                         _ kernels: KernelISA = .generic) {
        if let bias {
            for i in 0..<count { p[i] += bias[i] }
        }
        if act != .none { apply(p, count, bias: 0, act, kernels) }
    }
}

/// A residual add fused into a conv or gemm (`FusionRules.canAbsorbResidual`): the shortcut tensor, laid
/// out like the conv's output, and the activation that follows the sum.
struct FusedResidual {
    let shortcut: UnsafeMutablePointer<Float>
    let activation: FusedActivation
    let kernels: KernelISA

    /// The activation the conv applies itself (none when a residual add follows: the sum is
    /// activated) and the residual add, if any.
    static func split(_ activation: FusedActivation, shortcut: UnsafeMutablePointer<Float>?, kernels: KernelISA)
        -> (conv: FusedActivation, residual: FusedResidual?) {
        guard let shortcut else { return (activation, nil) }
        return (.none, FusedResidual(shortcut: shortcut, activation: activation, kernels: kernels))
    }

    /// `y[o] = act(y[o] + shortcut[o])` for the `rows` × `length` values at element offset
    /// `offset` (row stride `stride`) of the output `y` the conv just wrote. Runs on each output
    /// tile inside the conv's task, while the tile is still in cache.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, offset: Int, rows: Int, length: Int, stride: Int) {
        let p = y + offset, s = shortcut + offset
        if kernels == .avx2 && activation.hasCKernel {
            ck_add_rows(p, stride, s, stride, rows, length, activation.ck)
            return
        }
        for r in 0..<rows {
            let row = p + r * stride, sr = s + r * stride
            for i in 0..<length { row[i] += sr[i] }
            if activation != .none { Epilogue.apply(row, length, bias: 0, activation, kernels) }
        }
    }
}
