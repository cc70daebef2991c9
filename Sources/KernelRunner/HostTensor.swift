import Foundation
import NNGraph

/// A dense float32 tensor in row-major (NCHW for images) order: what callers hand to and get
/// back from a `CompiledModel`.
public struct HostTensor: Sendable, Hashable {
    public var shape: TensorShape
    public var values: [Float]

    public init(shape: TensorShape, values: [Float]) {
        precondition(shape.elementCount == values.count, "HostTensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public init(zeros shape: TensorShape) {
        self.shape = shape
        self.values = [Float](repeating: 0, count: shape.elementCount)
    }

    /// Deterministic standard-normal values (for synthetic inputs).
    public static func random(shape: TensorShape, seed: UInt64) -> HostTensor {
        var rng = SplitMix64(seed: seed)
        return HostTensor(shape: shape, values: (0..<shape.elementCount).map { _ in rng.nextNormal() })
    }
}

/// SplitMix64: tiny, fast, deterministic across platforms (weights and inputs must not
/// depend on the standard library's unseeded generator).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Swift.max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}

