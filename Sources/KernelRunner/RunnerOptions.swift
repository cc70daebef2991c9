import Foundation

/// How a `CompiledModel` is configured: thread count, cache-derived tile size, and the
/// storage precision of activations. The defaults are this machine's; `edgeprof measure
/// --device FILE` derives them from a device profile (EdgeProfKit `DeviceEmulation`).
public struct RunnerOptions: Sendable, Hashable {
    /// Our worker threads (OpenBLAS stays at 1 inside them). nil = all cores.
    public var threads: Int?
    /// Bytes of im2col columns per tile of a k×k convolution (per thread). The default,
    /// 256 KiB, is half of the 512 KiB L2 of the VM it was tuned on (this one reports 1 MiB; the
    /// 1×1 tile follows the L2 it finds, this one stays fixed), so a tile and its GEMM panel stay in L2.
    public var im2colTileBytes: Int
    /// Bytes of output (Cout × pixels) per pixel tile of a 1×1 convolution: a tile's output stays in
    /// the core's L2 while it is written. The default is this machine's L2 per core (sysfs), clamped
    /// to 256 KiB–4 MiB; 256 KiB where sysfs has no L2. Fewer, larger tiles also mean fewer places
    /// where two threads write neighbouring pixels of the same channel plane.
    public var pointwiseTileBytes: Int
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
    /// A concat's producers write their outputs straight into its slices (`Graph.storageRoots`,
    /// TensorRT's concat elision), so the concat copies only inputs that cannot (graph inputs,
    /// views at an offset, a buffer another concat took) and is no step when none are left.
    /// Off: every concat copies all its inputs.
    public var concatsInPlace: Bool

    public static let defaultIm2colTileBytes = 256 * 1024

    /// This machine's L2 per core (`/sys/devices/system/cpu/cpu0/cache/index*/` with level 2),
    /// clamped to `pointwiseTileRange`; 256 KiB when unknown.
    public static let defaultPointwiseTileBytes: Int = MachineCaches.bytes(level: 2).map(pointwiseTile(l2Bytes:)) ?? 256 * 1024
    public static let pointwiseTileRange = (256 * 1024)...(4 * 1024 * 1024)

    /// The 1×1 output tile for a core with `l2Bytes` of L2: all of it, within `pointwiseTileRange`.
    public static func pointwiseTile(l2Bytes: Int) -> Int {
        Swift.min(Swift.max(l2Bytes, pointwiseTileRange.lowerBound), pointwiseTileRange.upperBound)
    }

    public init(threads: Int? = nil, im2colTileBytes: Int = RunnerOptions.defaultIm2colTileBytes,
                pointwiseTileBytes: Int = RunnerOptions.defaultPointwiseTileBytes,
                activationStorage: StoragePrecision = .fp32, kernels: KernelISA = .default, inPlace: Bool = true,
                concatsInPlace: Bool = true) {
        self.pointwiseTileBytes = pointwiseTileBytes
        self.concatsInPlace = concatsInPlace
        self.kernels = kernels
        self.inPlace = inPlace
        self.threads = threads
        self.im2colTileBytes = im2colTileBytes
        self.activationStorage = activationStorage
    }
}

/// Cache sizes of this machine's first CPU from sysfs (Linux; nil elsewhere or when absent).
public enum MachineCaches {
    /// Size in bytes of the data or unified cache of `level` that CPU 0 sees.
    public static func bytes(level: Int) -> Int? {
        let base = "/sys/devices/system/cpu/cpu0/cache"
        for index in 0..<8 {
            let dir = "\(base)/index\(index)"
            func read(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let l = read("level").flatMap(Int.init) else { break }
            guard l == level, read("type") != "Instruction", let size = read("size").flatMap(parseSize) else { continue }
            return size
        }
        return nil
    }

    /// "1024K", "32M", "512" (bytes) → bytes.
    static func parseSize(_ text: String) -> Int? {
        let unit = text.last.map { $0.uppercased() } ?? ""
        let scale = unit == "K" ? 1024 : unit == "M" ? 1024 * 1024 : unit == "G" ? 1024 * 1024 * 1024 : 1
        let digits = scale == 1 ? text : String(text.dropLast())
        return Int(digits).map { $0 * scale }
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
