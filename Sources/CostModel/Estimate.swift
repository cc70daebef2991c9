import DeviceSpec
import NNGraph

/// Where a number came from. Every reported number carries one.
public enum Provenance: String, Sendable, Codable {
    case predicted, measured, calibrated, scaled
}

/// What limits a kernel's predicted time.
public enum Bound: Sendable, Hashable, Codable, CustomStringConvertible {
    case compute
    case memory(level: String)
    case overhead
    /// Zero-copy view: no kernel runs.
    case view
    /// Not modelled: explicit row with zero cost, flagged.
    case unsupported

    public var description: String {
        switch self {
        case .compute: "compute"
        case .memory(let l): "memory:\(l)"
        case .overhead: "overhead"
        case .view: "view"
        case .unsupported: "unsupported"
        }
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        switch s {
        case "compute": self = .compute
        case "overhead": self = .overhead
        case "view": self = .view
        case "unsupported": self = .unsupported
        default: self = .memory(level: String(s.dropFirst("memory:".count)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Bytes moved at one memory level by one kernel: reads served by the level, writes into it.
public struct LevelTraffic: Sendable, Hashable, Codable {
    public var level: String
    public var readBytes: Bytes
    public var writeBytes: Bytes
    public var time: Seconds
    public var energy: Joules
    public var totalBytes: Bytes { readBytes + writeBytes }
}

public struct EnergyBreakdown: Sendable, Hashable, Codable {
    public var compute: Joules
    /// Per memory level, innermost first (same order as the device's memory path).
    public var memory: [String: Joules]
    /// Idle/static power × latency.
    public var staticEnergy: Joules
    public var total: Joules {
        // Sum in a fixed order: dictionary order varies between processes and would change the last bits.
        memory.keys.sorted().reduce(compute + staticEnergy) { $0 + (memory[$1] ?? .zero) }
    }
}

/// Predicted cost of one fused kernel (a fusion group) on one device.
public struct LayerEstimate: Sendable, Hashable, Codable {
    public var group: Int
    public var name: String
    /// Fusion kind, e.g. "conv-bn-relu".
    public var kind: String
    public var opClass: OpClass
    /// Member node names, producer first.
    public var nodes: [String]
    public var outputShape: TensorShape
    public var counts: OpCounts
    public var computeTime: Seconds
    public var overhead: Seconds
    public var traffic: [LevelTraffic]
    public var latency: Seconds
    public var bound: Bound
    public var energy: EnergyBreakdown
    public var provenance: Provenance
    /// Efficiency (fraction of peak) used for the compute term.
    public var efficiency: Double
    /// The compute term split by coarse op class of its parts (a fused SiLU's share is under
    /// `elementwise`); sums to `computeTime`.
    public var computeByClass: [OpClass: Seconds] = [:]
    /// FLOPs of each part of the compute term by (fine) efficiency class, e.g. conv_winograd plus
    /// the elementwise transform work; what calibration fits each class's efficiency against.
    public var computeFlopsByClass: [OpClass: Double] = [:]
    /// Part of `overhead`: the access latency of the outermost memory level the kernel moves bytes
    /// through (the level's `latency`; zero when the device file gives none).
    public var accessLatency: Seconds = .zero
    /// Whether the runner splits the kernel over more than one thread (`Graph.threadsUsed`; false for
    /// kernels it has no rule for).
    public var forks = false
    /// Part of `overhead`: the unit's `parallel_overhead` when the kernel `forks`.
    public var parallelOverhead: Seconds = .zero
    /// Bytes of its inputs the kernel's busiest thread reads from another core's private cache
    /// (`Graph.partitions`, `ParallelSplit.remoteShare`); zero on one thread or on a unit without
    /// `per_core` levels. Counted with or without the unit's `cross_core_bandwidth` (calibration fits it from them).
    public var crossCoreBytes: Bytes = .zero
    /// Part of `overhead`: `crossCoreBytes` / the unit's `cross_core_bandwidth`.
    public var crossCoreTime: Seconds = .zero
}

public struct EstimateTotals: Sendable, Hashable, Codable {
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var latency: Seconds
    public var energy: EnergyBreakdown
    public var traffic: [LevelTraffic]
    public var footprint: MemoryFootprint
    /// Weights at the unit's storage precision.
    public var weightBytes: Bytes
    /// Peak live activations at the unit's storage precision.
    public var peakActivationBytes: Bytes
    /// Weights + peak live activations.
    public var peakMemory: Bytes
    public var fitsInRAM: Bool
    /// Memory level the weights are read from (`AnalyticalModel.estimate`'s `coldWeights`: main memory).
    public var weightsFrom: String = ""
    /// Whether the estimate priced a first inference (every weight from main memory).
    public var coldWeights = false
}

/// Predicted cost of a whole model on one device and compute unit.
public struct DeviceEstimate: Sendable, Hashable, Codable {
    public var deviceID: String
    public var deviceName: String
    public var deviceFile: String
    public var unit: String
    public var precision: Precision
    public var layers: [LayerEstimate]
    public var totals: EstimateTotals
    public var provenance: Provenance
    /// Op kinds the model could not cost (explicit rows with zero cost).
    public var unsupportedLayers: [String]
    /// Runtime section whose efficiency factors were applied; nil = none.
    public var runtime: String? = nil
}
