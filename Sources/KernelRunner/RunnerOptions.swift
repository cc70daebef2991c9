import Foundation

/// How a `CompiledModel` is configured: thread count, cache-derived tile size, and the
/// storage precision of activations. The defaults are this machine's; `edgeprof measure
/// --device FILE` derives them from a device profile (EdgeProfKit `DeviceEmulation`).
public struct RunnerOptions: Sendable, Hashable {
    /// Our worker threads (OpenBLAS stays at 1 inside them). nil = all cores.
    public var threads: Int?
    /// Bytes of im2col columns per tile of a k×k convolution (per thread). The default,
    /// 256 KiB, is half of this host's 512 KiB L2, so a tile and its GEMM panel stay in L2.
    public var im2colTileBytes: Int
    /// Storage precision of activations between kernels. `.fp16` rounds every kernel's
    /// outputs to the nearest binary16 value after it runs (kernels still compute in fp32):
    /// the numerics of a runtime that stores activations in fp16, simulated on this CPU.
    public var activationStorage: StoragePrecision
    /// Hot-kernel implementation: C AVX2+FMA kernels or the portable Swift ones (`KernelISA`).
    /// Defaults to the best this CPU supports (`EDGEPROF_KERNELS=generic` forces the portable path).
    public var kernels: KernelISA
    /// Element-wise steps may write over an input that dies at them (`Graph.inPlaceInputs`),
    /// as ONNX Runtime's planner lets them. Off: every step writes a buffer of its own (the
    /// calibration's streaming chains, which measure a stream from one buffer into another).
    public var inPlace: Bool

    public static let defaultIm2colTileBytes = 256 * 1024

    public init(threads: Int? = nil, im2colTileBytes: Int = RunnerOptions.defaultIm2colTileBytes,
                activationStorage: StoragePrecision = .fp32, kernels: KernelISA = .default, inPlace: Bool = true) {
        self.kernels = kernels
        self.inPlace = inPlace
        self.threads = threads
        self.im2colTileBytes = im2colTileBytes
        self.activationStorage = activationStorage
    }
}

/// Activation storage precision the runner can simulate.
public enum StoragePrecision: String, Sendable, Hashable, Codable {
    case fp32, fp16
}

extension WeightStore {
    /// Every value rounded to the nearest binary16 (round-to-nearest-even, as a runtime that
    /// stores fp16 weights would hold them), kept in fp32 containers.
    public func roundedToFP16() -> WeightStore {
        WeightStore(values.mapValues { v in v.map { Float(Float16($0)) } })
    }
}

/// Rounds `count` floats at `p` to binary16 precision in place.
func roundToFP16(_ p: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { p[i] = Float(Float16(p[i])) }
}
