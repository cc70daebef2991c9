import NNGraph

/// A number together with where it came from (datasheet URL, `measured ...`, or `assumed ...`).
public struct Sourced<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public var value: Value
    public var source: String
    public init(_ value: Value, source: String) {
        self.value = value
        self.source = source
    }
}

public enum ComputeKind: String, Sendable, Codable, CaseIterable {
    case cpu, gpu, npu, accelerator
}

/// Precision the runtime computes and stores activations in on a unit.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case fp32, fp16, int8

    public var bytes: Int {
        switch self {
        case .fp32: 4
        case .fp16: 2
        case .int8: 1
        }
    }
}

public enum MemoryTechnology: String, Sendable, Codable, CaseIterable {
    case registers, sram, dram
    case sttRAM = "stt-ram"
    case mlcSTTRAM = "mlc-stt-ram"
}

public enum Dataflow: String, Sendable, Codable, CaseIterable {
    case weightStationary = "weight-stationary"
    case outputStationary = "output-stationary"
    case rowStationary = "row-stationary"
}

/// Systolic/PE array of an accelerator compute unit (detailed dataflow model: later issue).
public struct PEArray: Sendable, Hashable, Codable {
    public var rows: Sourced<Int>
    public var cols: Sourced<Int>
    public var macsPerPEPerCycle: Sourced<Int>
    public var dataflow: Dataflow
}

public struct MemoryLevel: Sendable, Hashable, Codable {
    public var name: String
    public var technology: MemoryTechnology
    /// Capacity one kernel can use at this level (per core when `perCore`).
    public var size: Sourced<Bytes>
    /// `per_core: true`: a private cache, `size` per core, one per active core (a CPU's L1 and L2). A
    /// kernel split over the cores keeps each core's part of a tensor in that core's own level, so
    /// between kernels the level holds `size` × active cores (`capacity(activeCores:)`). Default false:
    /// one level shared by the cores (an L3, main memory, an accelerator buffer).
    public var perCore: Bool = false
    /// What the level holds between kernels with `activeCores` cores working.
    public func capacity(activeCores: Int) -> Double { size.value.value * (perCore ? Double(Swift.max(1, activeCores)) : 1) }
    /// Sustained bandwidth into the level above.
    public var bandwidth: Sourced<BytesPerSecond>
    public var latency: Sourced<Seconds>?
    /// Optional start-up of a stream from this level (`stream_startup:`): the time to a kernel's first
    /// bytes when nothing of them — lines, pages, page-table entries — is cached. The cost model uses it
    /// instead of `latency` as the kernel's access latency when this is the kernel's outermost level
    /// (`edgeprof calibrate` measures it for main memory: `ColdStream`).
    public var streamStartup: Sourced<Seconds>? = nil
    /// Access latency a kernel whose outermost level is this one pays before its first bytes arrive.
    public var accessLatency: Seconds? { streamStartup?.value ?? latency?.value }
    public var readEnergy: Sourced<JoulesPerByte>
    public var writeEnergy: Sourced<JoulesPerByte>
    /// Bytes per access word (accelerator buffers; optional).
    public var width: Sourced<Bytes>? = nil
    /// Independently accessible banks (accelerator buffers; optional).
    public var banks: Sourced<Int>? = nil
    /// Cell-level model of a `mlc-stt-ram` level (content-dependent energy and errors; optional).
    public var mlcCell: MLCCellSpec? = nil
}

public struct ComputeUnit: Sendable, Hashable, Codable {
    public var name: String
    public var kind: ComputeKind
    public var cores: Sourced<Int>
    public var frequency: Sourced<Hertz>?
    /// Peak throughput per precision ("fp32", "fp16", "int8") in operations per second.
    public var peak: [Precision: Sourced<FlopsPerSecond>]
    /// Precision the runtime computes in on this unit (default fp32).
    public var precision: Precision
    /// Fraction of peak achieved per op class (conv, depthwise, elementwise, pooling required).
    public var efficiency: [OpClass: Sourced<Double>]
    /// Fixed cost per executed kernel (dispatch, thread wake-up, packing).
    public var layerOverhead: Sourced<Seconds>
    /// Optional fixed cost per op class (`class_overhead:`), for classes whose kernels pay more
    /// than `layer_overhead` per call (a GEMM library call, a thread-pool dispatch); a conv
    /// sub-class falls back to `conv`, everything else to `layer_overhead`.
    public var classOverhead: [OpClass: Sourced<Seconds>] = [:]

    public func overhead(for cls: OpClass) -> Seconds {
        classOverhead[cls]?.value ?? classOverhead[cls.coarse]?.value ?? layerOverhead.value
    }
    /// Optional fixed cost of a kernel that runs on more than one thread (`parallel_overhead:`), on top
    /// of its class overhead: the worker pool's dispatch and the other core's start. Charged where
    /// `Graph.threadsUsed` says the runner forks (matrix-vector products, binary element-wise ops);
    /// `class_overhead` and `layer_overhead` are measured on tiny kernels that stay on one thread.
    public var parallelOverhead: Sourced<Seconds>?
    /// Optional rate at which a kernel's threads read bytes another core wrote into its private cache
    /// (`cross_core_bandwidth:`): a line a core finds in another core's L1/L2 crosses the interconnect
    /// first. The cost model charges, on top of the streaming time, (bytes the busiest thread reads from
    /// another core's cache) / this rate, for operands that reside in a `per_core` level between kernels
    /// (`Graph.partitions`, `ParallelSplit.remoteShare`: a conv split by pixel tiles followed by a
    /// depthwise conv split by channels leaves each thread a quarter of its input remote on two threads).
    /// Absent: no such term (the unit's efficiencies absorb what crossing costs).
    public var crossCoreBandwidth: Sourced<BytesPerSecond>?
    /// Optional rows (output channels) of the packed weight panel the runtime's dense-conv GEMM
    /// micro-kernel computes at once (`weight_panel_rows:`, an integer ≥ 1): a conv's output channels
    /// run in whole panels, the last one padded, so 116 channels cost 128 rows of work in 16-row
    /// panels, and on a thread of a split conv its block rounded up the same way
    /// (`ParallelSplit.paddedRowFactor`). Applies to the dense conv classes (`conv_1x1`, `conv_kxk`,
    /// `conv_winograd`, `conv`), not depthwise convs, stems or matrix-vector products. Absent: no
    /// padding (the efficiencies absorb the average).
    public var weightPanelRows: Sourced<Int>?
    /// Optional fraction of each memory level's bandwidth a class's kernels reach
    /// (`memory_efficiency:`, in (0, 1]): the level bandwidths come from a contiguous stream,
    /// and gathers (transpose, channel shuffle), multi-input copies (concat) and reductions move
    /// bytes more slowly. A class without an entry falls back to its coarse class, then to 1.
    public var memoryEfficiency: [OpClass: Sourced<Double>] = [:]

    public func memoryEfficiency(for cls: OpClass) -> Double {
        memoryEfficiency[cls]?.value ?? memoryEfficiency[cls.coarse]?.value ?? 1
    }
    /// Optional work per output element a class's kernels pay on top of their counted FLOPs
    /// (`per_output_macs:`, in multiply-accumulates per output element, ≥ 0): loading and storing
    /// the output tile, bias and activation, loop setup per row. A 1×1 conv with 16 input channels
    /// does 16 MACs per output and pays the same store as one with 512, so one efficiency per class
    /// cannot price both. The compute term becomes (FLOPs + 2 · c · outputs) / (peak · efficiency).
    /// A class without an entry falls back to its coarse class, then to 0.
    public var perOutputMACs: [OpClass: Sourced<Double>] = [:]

    public func perOutputMACs(for cls: OpClass) -> Double {
        perOutputMACs[cls]?.value ?? perOutputMACs[cls.coarse]?.value ?? 0
    }
    /// Optional fixed cost per row of a class's kernels (`channel_overhead:`, a time ≥ 0, charged per
    /// `Graph.channelOverheadUnits`): a depthwise conv's output rows (batch × channels × output
    /// height: loop setup, masked tail and stores a row pays whatever its length, so 960 channels on
    /// 7×7 maps pay it 6,720 times for 47 k outputs), a global pool's channels, a binary op's
    /// contiguous rows. Added to the kernel's fixed overhead. A class without an entry falls back to
    /// its coarse class, then to 0.
    public var channelOverhead: [OpClass: Sourced<Seconds>] = [:]

    public func channelOverhead(for cls: OpClass) -> Seconds {
        channelOverhead[cls]?.value ?? channelOverhead[cls.coarse]?.value ?? .zero
    }
    /// Optional bulk-copy term of data movement (`bulk_copy:` with `after` bytes and an `efficiency`):
    /// a copy's (concat, split, transpose, channel shuffle) first `after` bytes of traffic at a level
    /// move at the class's `memory_efficiency` share, the rest at `efficiency` × the level bandwidth.
    /// In a network a copy reads what the previous kernel's threads just wrote, still in their
    /// private caches (part of it in another core's), and moves it slowly; a copy larger than those
    /// caches streams most of its bytes from the shared level, measured on this project's host 2–3×
    /// faster per byte (squeezenet's 3 MB concats at 130–140 GB/s, 0.7 MB ones at 55–75).
    /// Absent: every byte at the class's share.
    public var bulkCopy: BulkCopy?
    /// Upper bound of `bulk_copy.efficiency`: a plain copy may stream faster than the read-modify-write
    /// relu stream the level bandwidths are fitted on.
    public static let maxBulkCopyEfficiency = 3.0

    public struct BulkCopy: Sendable, Hashable, Codable {
        /// Traffic per level (read + written bytes) moved at the class's share before the bulk share applies.
        public var after: Sourced<Bytes>
        /// Share of the level bandwidth the traffic beyond `after` reaches.
        public var efficiency: Sourced<Double>
        public init(after: Sourced<Bytes>, efficiency: Sourced<Double>) {
            self.after = after
            self.efficiency = efficiency
        }
    }

    /// Seconds a kernel of class `cls` needs to move `bytes` at a level of bandwidth `bandwidth`
    /// with share `share` (the class's `memory_efficiency`, with any in-place gain): data movement
    /// pays the bulk-copy split (`bulk_copy`), every other class bytes / (bandwidth · share).
    public func memoryTime(bytes: Double, bandwidth: Double, share: Double, cls: OpClass) -> Double {
        guard let bulk = bulkCopy, cls.coarse == .dataMovement else { return bytes / (bandwidth * share) }
        return Self.splitCopyTime(bytes: bytes, bandwidth: bandwidth, share: share, after: bulk.after.value.value, bulk: bulk.efficiency.value)
    }

    /// The bulk-copy split itself: min(bytes, after) at `share`, the rest at `bulk` (a share of ∞ prices
    /// its part at 0, which calibration uses to take the two parts apart).
    public static func splitCopyTime(bytes: Double, bandwidth: Double, share: Double, after: Double, bulk: Double) -> Double {
        Swift.min(bytes, after) / (bandwidth * share) + Swift.max(0, bytes - after) / (bandwidth * bulk)
    }
    /// Energy per arithmetic operation, per precision.
    public var energyPerOp: [Precision: Sourced<JoulesPerOp>]
    /// Bytes of operand storage inside the unit (vector registers, PE register files):
    /// the capacity that decides re-fetch from the innermost memory level.
    public var registerBytes: Sourced<Bytes>
    /// Memory levels this unit reads through, innermost first, ending at main memory.
    public var memoryPath: [String]
    public var activePower: Sourced<Watts>?
    public var peArray: PEArray?

    /// Efficiency for an op class, falling back along documented lines for optional classes.
    public func efficiency(for cls: OpClass) -> Double {
        if let e = efficiency[cls] { return e.value }
        let fallback: OpClass
        switch cls {
        case .conv, .depthwise, .elementwise, .pooling: fallback = cls
        case .depthwiseS2: fallback = .depthwise
        case .attention, .conv1x1, .convWinograd, .convKxK, .convStem, .gemm: fallback = .conv
        case .normalization, .dataMovement, .sparse, .view, .unsupported, .transcendental: fallback = .elementwise
        case .softmax: fallback = efficiency[.normalization] != nil ? .normalization : .elementwise
        case .permute: fallback = efficiency[.dataMovement] != nil ? .dataMovement : .elementwise
        case .erf: fallback = efficiency[.transcendental] != nil ? .transcendental : .elementwise
        }
        return efficiency[fallback]?.value ?? 1
    }

    public func peakThroughput(_ p: Precision) -> FlopsPerSecond? { peak[p]?.value }
}

public struct PowerSpec: Sendable, Hashable, Codable {
    /// Power drawn whenever the device is on (board idle); charged for the whole latency.
    public var idle: Sourced<Watts>
    public var max: Sourced<Watts>?
}

/// How one runtime (ncnn on the CPU, TensorRT on the GPU, ...) uses a device: the unit it runs on
/// and factors on that unit's per-op-class efficiency. Factors may exceed 1/efficiency: a runtime
/// with Winograd 3×3 convolutions does fewer multiplies than the nominal FLOP count the model
/// divides by. README "Runtimes" documents the section; no per-model factors.
public struct RuntimeProfile: Sendable, Hashable, Codable {
    public var name: String
    /// Compute unit the runtime runs on; nil = the device's default unit.
    public var unit: String?
    /// Factor per op class; classes not listed use `allClasses` (1 when absent).
    public var factors: [OpClass: Sourced<Double>]
    public var allClasses: Sourced<Double>?
    /// How compute throughput scales when the runtime uses t of a CPU unit's c cores:
    /// peak × (t/c)^threadScaling (1 = linear; 0 = no loss). Only used for runs on fewer threads
    /// than cores (published rows with a `threads` column); nil = 1.
    public var threadScaling: Sourced<Double>?

    public init(name: String, unit: String? = nil, factors: [OpClass: Sourced<Double>] = [:], allClasses: Sourced<Double>? = nil,
                threadScaling: Sourced<Double>? = nil) {
        self.name = name
        self.unit = unit
        self.factors = factors
        self.allClasses = allClasses
        self.threadScaling = threadScaling
    }

    /// A conv sub-class (`conv_winograd`, …) uses its own factor when listed, else `conv`'s.
    public func factor(for cls: OpClass) -> Double { factors[cls]?.value ?? factors[cls.coarse]?.value ?? allClasses?.value ?? 1 }
}

/// One device file (`devices/*.yaml`), validated.
public struct DeviceProfile: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var id: String
    public var name: String
    public var file: String
    public var description: String?
    public var defaultUnit: String
    public var computeUnits: [ComputeUnit]
    public var memory: [MemoryLevel]
    public var power: PowerSpec
    /// RAM available to a model (main-memory capacity).
    public var ram: Sourced<Bytes>
    /// Runtime sections by runtime name (published-latency CSV spelling, e.g. `ncnn_cpu`).
    public var runtimes: [String: RuntimeProfile] = [:]
    /// Runtime used when none is asked for; nil = plain unit efficiencies.
    public var defaultRuntime: String?

    public func unit(named name: String?) -> ComputeUnit? {
        let n = name ?? defaultUnit
        return computeUnits.first { $0.name == n }
    }

    /// The memory levels a unit reads through, innermost first.
    public func levels(for unit: ComputeUnit) -> [MemoryLevel] {
        unit.memoryPath.compactMap { name in memory.first { $0.name == name } }
    }
}
