import KernelRunner
import NNGraph

/// The `edgeprof measure --format json` contract (README "Measuring on this CPU"). SI base
/// units (seconds, bytes, joules), snake_case keys, sorted. Every number says where it came
/// from: measured latencies and memory; predicted numbers from the cost model; energy and
/// memory traffic `measured` only when hardware counters were read, otherwise `modelled`.
public struct MeasureReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var tool: String
    public var provenance: String
    public var model: MeasuredModel
    public var host: MachineInfo
    public var settings: MeasureSettings
    /// The device whose prediction is shown next to the measurements (nil if none).
    public var prediction: PredictionSource?
    /// How the run was configured from the target device and the scaling behind `scaled` numbers
    /// (nil without a device profile).
    public var emulation: EmulationSummary?
    public var totals: MeasureTotals
    public var layers: [MeasuredLayer]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", tool, provenance, model, host, settings, prediction, emulation, totals, layers, warnings
    }
}

public struct MeasuredModel: Codable, Sendable, Hashable {
    public var name: String
    public var source: String
    public var weights: String
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var nodes: Int
    public var fusedKernels: Int
    public var inputs: [MeasuredTensor]
    public var outputs: [MeasuredTensor]

    enum CodingKeys: String, CodingKey {
        case name, source, weights, macs, flops, params, nodes, inputs, outputs
        case fusedKernels = "fused_kernels"
    }
}

public struct MeasuredTensor: Codable, Sendable, Hashable {
    public var name: String
    public var shape: [Int]
}

public struct MeasureSettings: Codable, Sendable, Hashable {
    public var threads: Int
    /// OpenBLAS threads while the model runs (1: the runner's own pool splits each GEMM).
    public var blasThreads: Int
    public var warmup: Int
    public var iterationsEndToEnd: Int
    public var iterationsPerLayer: Int
    /// Per phase; nil when a fixed iteration count was asked for.
    public var timeBudgetS: Double?
    /// "nchw-fp32".
    public var layout: String
    /// Kernel set the runner used: "avx2" (C AVX2+FMA kernels) or "generic" (nil in runs stored before it was recorded).
    public var kernels: String?
    /// Where the input came from: "seeded random normal (seed N)" or file names.
    public var input: String
    /// Core-to-core round trip of the threads' CPUs before and after the timed runs (multi-thread runs;
    /// nil in runs stored before it was recorded).
    public var placementBefore: ThreadPlacement? = nil
    public var placementAfter: ThreadPlacement? = nil

    enum CodingKeys: String, CodingKey {
        case threads, warmup, layout, input, kernels
        case placementBefore = "placement_before"
        case placementAfter = "placement_after"
        case blasThreads = "blas_threads"
        case iterationsEndToEnd = "iterations_end_to_end"
        case iterationsPerLayer = "iterations_per_layer"
        case timeBudgetS = "time_budget_s"
    }
}

public struct PredictionSource: Codable, Sendable, Hashable {
    public var deviceID: String
    public var deviceName: String
    public var file: String
    public var unit: String

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", deviceName = "device_name", file, unit
    }
}

/// min/mean/percentiles/stddev of one latency series, seconds.
public struct LatencyJSON: Codable, Sendable, Hashable, ScoredLatency {
    public var min: Double
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var stddev: Double
    public var cov: Double
    public var samples: Int

    public init(_ s: LatencyStatistics) {
        min = s.min; mean = s.mean; p50 = s.p50; p90 = s.p90; p95 = s.p95; p99 = s.p99; max = s.max
        stddev = s.stddev; cov = s.cov; samples = s.samples
    }
}

public struct MemoryComparison: Codable, Sendable, Hashable {
    /// Activation arena the runner allocated (measured).
    public var arenaBytes: Int
    /// Smallest arena any plan could have (largest set of simultaneously live buffers).
    public var arenaLowerBoundBytes: Int
    /// All activation buffers without reuse.
    public var unsharedActivationBytes: Int
    public var scratchBytes: Int
    public var packedWeightBytes: Int
    /// Process peak resident set size (VmHWM) after the measurement (measured; includes the
    /// binary, libraries, the imported model and the runtime).
    public var peakRSSBytes: Int?
    /// Cost model: peak live activations, weights, and their sum.
    public var predictedPeakActivationBytes: Double?
    public var predictedWeightBytes: Double?
    public var predictedPeakMemoryBytes: Double?

    enum CodingKeys: String, CodingKey {
        case arenaBytes = "arena_bytes"
        case arenaLowerBoundBytes = "arena_lower_bound_bytes"
        case unsharedActivationBytes = "unshared_activation_bytes"
        case scratchBytes = "scratch_bytes"
        case packedWeightBytes = "packed_weight_bytes"
        case peakRSSBytes = "peak_rss_bytes"
        case predictedPeakActivationBytes = "predicted_peak_activation_bytes"
        case predictedWeightBytes = "predicted_weight_bytes"
        case predictedPeakMemoryBytes = "predicted_peak_memory_bytes"
    }
}

/// A quantity that is measured where the machine allows it and modelled otherwise.
public struct CounterQuantity: Codable, Sendable, Hashable {
    /// "measured" or "modelled".
    public var provenance: String
    public var value: Double?
    public var unit: String
    public var note: String
}

public struct MeasureTotals: Codable, Sendable, Hashable {
    /// End-to-end latency from runs without per-layer timing.
    public var measuredLatencyS: LatencyJSON
    /// End-to-end latency of the per-layer-timed runs (sum of the layers of each run).
    public var perLayerRunsLatencyS: LatencyJSON
    /// perLayerRuns.mean − measured.mean.
    public var timingGapS: Double
    /// Cost model for the target device (`predicted`).
    public var predictedLatencyS: Double?
    /// Cost model for this host in the measured configuration (the scaling denominator).
    public var hostPredictedLatencyS: Double?
    /// Trace-driven estimate for the target device (`scaled`): Σ measured × device / host.
    public var scaledLatencyS: Double?
    public var predictedEnergyJ: Double?
    /// Device compute + memory energy + device idle power × scaled latency (`scaled`).
    public var scaledEnergyJ: Double?
    public var memory: MemoryComparison
    public var energyJ: CounterQuantity
    public var dramTrafficBytes: CounterQuantity
    /// Achieved FLOP/s at the end-to-end median.
    public var achievedFlopsPerS: Double

    enum CodingKeys: String, CodingKey {
        case memory
        case measuredLatencyS = "measured_latency_s"
        case perLayerRunsLatencyS = "per_layer_runs_latency_s"
        case timingGapS = "timing_gap_s"
        case predictedLatencyS = "predicted_latency_s"
        case hostPredictedLatencyS = "host_predicted_latency_s"
        case scaledLatencyS = "scaled_latency_s"
        case predictedEnergyJ = "predicted_energy_j"
        case scaledEnergyJ = "scaled_energy_j"
        case energyJ = "energy_j"
        case dramTrafficBytes = "dram_traffic_bytes"
        case achievedFlopsPerS = "achieved_flops_per_s"
    }
}

public struct MeasuredLayer: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var kind: String
    public var algorithm: String
    public var nodes: [String]
    public var outputShape: [Int]
    public var macs: Int
    public var flops: Int
    public var measuredLatencyS: LatencyJSON
    /// Target device, cost model (`predicted`).
    public var predictedLatencyS: Double?
    /// This host, cost model (the scaling denominator).
    public var hostPredictedLatencyS: Double?
    /// Target device, measured here × predicted device / predicted host (`scaled`).
    public var scaledLatencyS: Double?
    /// Share of the sum of per-layer medians.
    public var share: Double
    public var achievedFlopsPerS: Double

    enum CodingKeys: String, CodingKey {
        case index, name, kind, algorithm, nodes, macs, flops, share
        case outputShape = "output_shape"
        case measuredLatencyS = "measured_latency_s"
        case predictedLatencyS = "predicted_latency_s"
        case hostPredictedLatencyS = "host_predicted_latency_s"
        case scaledLatencyS = "scaled_latency_s"
        case achievedFlopsPerS = "achieved_flops_per_s"
    }
}

/// The device-emulation part of a measure report.
public struct EmulationSummary: Codable, Sendable, Hashable {
    public var plan: EmulationPlan
    /// Host profile used as the scaling denominator (nil: no scaled numbers).
    public var hostProfile: String?
    /// Weights + activation arena + scratch at the device precision (checked against the device's ram).
    public var memoryNeededBytes: Double
    /// fp16-storage run vs the fp32 run (fp16 units only).
    public var numerics: StorageNumerics?
    /// Layers where the predicted and the scaled device time differ most.
    public var disagreements: [Disagreement]

    enum CodingKeys: String, CodingKey {
        case plan, numerics, disagreements
        case hostProfile = "host_profile", memoryNeededBytes = "memory_needed_bytes"
    }
}

public struct Disagreement: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var kind: String
    public var opClass: String
    public var predictedLatencyS: Double
    public var scaledLatencyS: Double
    /// Measured / predicted on this host: the factor scaling carried over.
    public var hostFactor: Double
    public var explanation: String

    enum CodingKeys: String, CodingKey {
        case index, name, kind, explanation
        case opClass = "op_class", predictedLatencyS = "predicted_latency_s", scaledLatencyS = "scaled_latency_s", hostFactor = "host_factor"
    }
}
