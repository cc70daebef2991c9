import Foundation
import NNGraph
import Validation
import DeviceSpec

/// One micro-benchmark kernel: what the cost model counts for it and how long it took.
public struct CalibrationSample: Sendable, Hashable, Codable {
    public enum Role: Sendable, Hashable, Codable {
        /// A kernel with almost no work: its time is the fixed per-kernel overhead.
        case overhead
        /// A memory-bound kernel whose operands reside in memory level `level` (index in the unit's path).
        case bandwidth(level: Int)
        /// A kernel that fits its op class's efficiency.
        case compute
        /// A memory-bound kernel of a class whose achieved share of the level bandwidths
        /// (`memory_efficiency`) it fits: gathers, copies, reductions, binary ops.
        case streaming
        /// A small kernel the runner splits over threads (`forks`): what it takes beyond the cost
        /// model's one-thread prediction is the unit's `parallel_overhead`.
        case parallelOverhead
        /// A streaming kernel that reads part of its input from another core's cache (its producer split
        /// the tensor differently, `Graph.partitions`), twin of streaming kernels of its class that do
        /// not: what it takes beyond the fit's prediction prices `crossCoreBytes` (`cross_core_bandwidth`).
        case crossCore
    }

    public var name: String
    /// Benchmark family, e.g. "gemm-grid", "stream-relu"; written into the `source:` of fitted values.
    public var benchmark: String
    public var role: Role
    public var opClass: OpClass
    public var flops: Double
    /// FLOPs of the kernel's other compute parts at their own classes (a Winograd conv's transform
    /// additions at `elementwise`, a fused activation at its class), priced with those classes'
    /// fitted efficiencies as the cost model does.
    public var otherFlops: [OpClass: Double]
    /// Bytes the cost model moves at each level of the unit's path for this kernel (innermost first).
    public var levelBytes: [Double]
    /// Measured seconds (`ScoredLatency.scored`: fastest of repeated runs).
    public var measured: Double
    /// Elements the kernel writes (what `per_output_macs` is charged per); nil = not recorded.
    public var outputs: Double?
    /// What `channel_overhead` is charged per (`Graph.channelOverheadUnits`: channel planes, or a binary op's
    /// contiguous rows); nil = not recorded.
    public var channels: Double?
    /// The cost model's factor on the kernel's stream bandwidth: `AnalyticalModel.inPlaceStreamGain`
    /// when it overwrote its input (in-context element-wise units); nil = 1.
    public var streamGain: Double?
    /// Timed while the threads' cores were far apart (`ThreadPlacement`: different dies); calibration
    /// prefers other passes and re-runs benchmarks that only have such samples.
    public var farApart: Bool = false
    /// The cost model's access latency for the kernel (`LayerEstimate.accessLatency`: its outermost
    /// level's latency, with the template device's latencies), part of every prediction of it.
    public var accessLatency: Double = 0
    /// The runner split the kernel over more than one thread (`LayerEstimate.forks`): the cost model
    /// adds `parallel_overhead` to its prediction, and the fit does too.
    public var forks = false
    /// The class of the kernel's anchor when the sample fits another part of it (a SiLU fused into a
    /// 1×1 conv: `opClass` transcendental, anchor conv_1x1): the anchor's `per_output_macs` is priced
    /// with its part, as the cost model charges it. nil: the anchor is `opClass`.
    public var anchorClass: OpClass? = nil
    /// Bytes the kernel's busiest thread read from another core's private cache, as the cost model
    /// counts them (`LayerEstimate.crossCoreBytes`); priced at the fitted `cross_core_bandwidth`.
    public var crossCoreBytes: Double = 0

    public init(name: String, benchmark: String, role: Role, opClass: OpClass, flops: Double, otherFlops: [OpClass: Double] = [:],
                levelBytes: [Double], measured: Double, outputs: Double? = nil, channels: Double? = nil, streamGain: Double? = nil) {
        self.streamGain = streamGain
        self.outputs = outputs
        self.channels = channels
        self.name = name
        self.benchmark = benchmark
        self.role = role
        self.opClass = opClass
        self.flops = flops
        self.otherFlops = otherFlops
        self.levelBytes = levelBytes
        self.measured = measured
    }
}

/// Fitted cost-model parameters of one compute unit.
public struct CalibrationFit: Sendable, Hashable, Codable {
    /// `layer_overhead`: the elementwise tiny-kernel chain (or every overhead kernel when there is none).
    public var overhead: Double
    /// `class_overhead`: per op class with its own tiny-kernel chain.
    public var classOverheads: [OpClass: Double] = [:]

    /// The fixed per-kernel cost the fit uses for a class (the device file's fallback rule).
    public func overhead(for cls: OpClass) -> Double { Self.overhead(for: cls, classOverheads: classOverheads, generic: overhead) }

    static func overhead(for cls: OpClass, classOverheads: [OpClass: Double], generic: Double) -> Double {
        classOverheads[cls] ?? classOverheads[cls.coarse] ?? generic
    }
    /// Per level of the unit's path (innermost first); nil = no benchmark covered the level.
    public var bandwidths: [Double?]
    public var efficiency: [OpClass: Double]
    /// `per_output_macs` per class in `CalibrationFitter.perOutputClasses` whose kernels span enough MACs per output.
    public var perOutputMACs: [OpClass: Double] = [:]
    /// `channel_overhead` (seconds per `Graph.channelOverheadUnits`: a depthwise conv's output rows, a global
    /// pool's channels, a binary op's rows) per class in `CalibrationFitter.perChannelClasses` and
    /// `perRowStreamingClasses`.
    public var channelOverheads: [OpClass: Double] = [:]
    /// Per class with tiny kernels of its own and streaming kernels (global pools): what the streams pay
    /// per kernel beyond the tiny chain's fixed overhead (`CalibrationFitter.streamInterceptGrid`),
    /// included in its `classOverheads` entry; absent when the fit kept none.
    public var streamIntercepts: [OpClass: Double] = [:]
    /// `memory_efficiency` per class with streaming kernels: the share of the fitted bandwidths they reach.
    public var memoryEfficiency: [OpClass: Double] = [:]
    public var memoryEfficiencyBenchmarks: [OpClass: [String]] = [:]
    /// `bulk_copy`: data-movement traffic beyond `after` bytes at share `efficiency`; nil when the
    /// split did not fit the copies noticeably better than one share per class (or too few large copies).
    public var bulkCopy: BulkCopyFit?
    /// Whether the split was fitted and compared with one share (enough copies on both sides of
    /// `after`); false leaves a device file's `bulk_copy` as it was (e.g. `calibrate --quick`).
    public var bulkCopyTested = false
    public struct BulkCopyFit: Sendable, Hashable, Codable {
        public var after: Double
        public var efficiency: Double
        public var benchmarks: [String]
        /// The copies moving ≥ 1.5 × `after`, which the bulk share is the median over.
        public var largeBenchmarks: [String]
    }
    /// `parallel_overhead`: the median of the `parallelOverhead` kernels' time beyond the fit's one-thread
    /// prediction; nil when there were none.
    public var parallelOverhead: Double? = nil
    public var parallelOverheadBenchmarks: [String] = []
    /// `cross_core_bandwidth` (bytes/s): the median over the `crossCore` kernels of crossCoreBytes / (measured −
    /// the prediction without the term); nil when there were none or none ran slower than predicted.
    public var crossCoreBandwidth: Double? = nil
    public var crossCoreBenchmarks: [String] = []
    /// Benchmarks each value came from.
    public var overheadBenchmarks: [String]
    public var bandwidthBenchmarks: [[String]]
    public var efficiencyBenchmarks: [OpClass: [String]]
}

/// Pure fitting of the cost model's unit parameters from micro-benchmark samples:
/// t = overhead + max(flops / (peak · efficiency[class]), max_L bytes_L / bandwidth_L),
/// the same formula `AnalyticalModel` evaluates per kernel.
public enum CalibrationFitter {
    /// Search range of a fitted efficiency; the upper end is scaled by `OpClass.maxEfficiency`.
    public static let efficiencyRange = (low: 0.002, high: 1.0)

    /// Classes whose `per_output_macs` calibration fits (jointly with their efficiency): the dense 1×1
    /// convs (16-512 MACs per output in networks), depthwise convs (9 or 25) and fully connected
    /// layers (192-768 in a vision transformer), whose kernels run a separate bias/activation pass
    /// over their output after the GEMM.
    public static let perOutputClasses: Set<OpClass> = [.conv1x1, .depthwise, .depthwiseS2, .gemm]
    /// Candidate per-output MACs of the joint fit (0 = the per-MAC model alone).
    static let perOutputGrid: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64]
    /// Classes whose `channel_overhead` calibration fits with their efficiency and per-output MACs: depthwise convs,
    /// charged per output row (`Graph.channelOverheadUnits`: the kernels run row by row, and networks run
    /// them on rows of 112 outputs down to 7). Charged per channel instead (sessions 17–21), the term could
    /// not tell a 7² map's short rows from its channel count: fitted at 20 ns per channel it priced
    /// mobilenet_v2's 960 × 7² layers +55% and its 32 × 112² one +76% (validation, 2026-12-05).
    /// `depthwise_s2` fits its own (session 36, AVX2 guest: one efficiency with depthwise's terms left
    /// its five shapes −51…+24%; the 7² outputs of 14² maps ran 2× what it priced).
    public static let perChannelClasses: Set<OpClass> = [.depthwise, .depthwiseS2]
    /// A finer class of a class with per-output and per-row terms (`depthwise_s2` of `depthwise`):
    /// when its own kernels do not separate those terms (too few shapes, `--quick`), it is fitted, and
    /// written, with its coarse class's values, which is what the cost model would fall back to.
    public static func inheritsTerms(_ cls: OpClass) -> Bool { cls.coarse != cls && perChannelClasses.contains(cls.coarse) }
    /// Classes whose streaming kernels fit a per-row overhead (`channel_overhead`, charged per
    /// `Graph.channelOverheadUnits`) jointly with their `memory_efficiency`: binary elementwise ops,
    /// whose same-shape streams run as one flat loop while a per-channel broadcast (squeeze-excitation
    /// scales) walks one short row per channel — one share alone cannot fit both (the add on 32×112²
    /// ran 2–3× faster than the shared median share predicted, the mul on 576×7² 2–2.5× slower); and
    /// global pools, which reduce one row per channel (a horizontal sum and a store each). Pools on 7²
    /// maps were under-predicted in the networks (session 16: resnet18's 512 × 7² pool 3.0 µs measured
    /// against 1.45 predicted, mobilenet_v3_small's 288 × 7² 1.7 against 0.9), so the grid has 7² pools
    /// and the per-row term is fitted; it came out at 1 ns per row, i.e. that extra time is not the
    /// kernel's per-row cost.
    public static let perRowStreamingClasses: Set<OpClass> = [.elementwise, .pooling]
    /// Candidate per-channel (per-row) overheads (seconds); half-nanosecond steps at the low end, where
    /// a depthwise row (a few ns per thread, shared by the threads) and a global pool's channel land.
    static let perChannelGrid: [Double] = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150].map { $0 * 1e-9 }
    /// Candidate per-kernel intercepts (seconds) of the streams of a class with its own tiny-kernel chain
    /// (global pools): what a kernel in a network pays beyond the chain's fixed overhead. The chain's
    /// pools are too small to split over threads and run back to back on warm inputs; the grid's pools
    /// follow a depthwise conv and are split over the threads (session 33, the Intel guest: fitted alone,
    /// five grid pools came out as 0.7 µs + 2 ns per channel + bytes at share 3.35, against the chain's
    /// 0.03–0.12 µs; session 32's validations had measured the networks' pools on 7² maps 0.6–1 µs above
    /// their predictions). With session 33's seven pools two calibrations fitted 0.40 and 0.20 µs, 2 ns each.
    static let streamInterceptGrid: [Double] = stride(from: 0.0, through: 2.0, by: 0.1).map { $0 * 1e-6 }

    /// `classes` ordered so each comes after the classes its kernels' other parts are priced at
    /// (`uses`, matched on the class or its coarse class), ties and cycles broken by name (pure).
    static func dependencyOrder(_ classes: Set<OpClass>, uses: (OpClass) -> Set<OpClass>) -> [OpClass] {
        var left = classes.sorted { $0.rawValue < $1.rawValue }
        var done: [OpClass] = []
        while !left.isEmpty {
            let ready = left.firstIndex { c in
                uses(c).allSatisfy { u in u == c || done.contains(u) || !left.contains { $0 == u || $0 == u.coarse } || u.coarse == c }
            } ?? 0
            done.append(left.remove(at: ready))
        }
        return done
    }

    public static func predict(_ s: CalibrationSample, peak: Double, overhead: Double, bandwidths: [Double], efficiency: Double,
                               memoryEfficiency: Double = 1, perOutputMACs: Double = 0, channelOverhead: Double = 0,
                               otherEfficiency: (OpClass) -> Double = { _ in 1 }, otherPerOutputMACs: (OpClass) -> Double = { _ in 0 },
                               bulkCopy: CalibrationFit.BulkCopyFit? = nil, parallelOverhead: Double = 0,
                               crossCoreBandwidth: Double? = nil) -> Double {
        let memory = if let b = bulkCopy, s.opClass.coarse == .dataMovement {
            splitMemoryTime(s, bandwidths: bandwidths, share: memoryEfficiency, after: b.after, bulk: b.efficiency)
        } else {
            memoryTime(s, bandwidths: bandwidths) / memoryEfficiency
        }
        var compute = (s.flops + 2 * perOutputMACs * (s.outputs ?? 0)) / (peak * efficiency)
        for (cls, f) in s.otherFlops.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let perOutput = cls == s.anchorClass ? 2 * otherPerOutputMACs(cls) * (s.outputs ?? 0) : 0
            compute += (f + perOutput) / (peak * otherEfficiency(cls))
        }
        let crossCore = crossCoreBandwidth.map { $0 > 0 ? s.crossCoreBytes / $0 : 0 } ?? 0
        return overhead + s.accessLatency + crossCore + (s.forks ? parallelOverhead : 0) + channelOverhead * (s.channels ?? 0) + Swift.max(compute, memory)
    }

    /// The slowest level's bytes / bandwidth (the memory term of the cost model at full bandwidth).
    static func memoryTime(_ s: CalibrationSample, bandwidths: [Double]) -> Double {
        var memory = 0.0
        for (i, b) in s.levelBytes.enumerated() where b > 0 && i < bandwidths.count { memory = Swift.max(memory, b / bandwidths[i]) }
        return memory / (s.streamGain ?? 1)
    }

    /// Share of the bandwidths, per-row overhead o and per-kernel intercept d of streaming kernels, least
    /// squares on log time of t = overhead + d + o·rows + bytes/(bandwidth·share): per (d, o) on
    /// `intercepts` × `perChannelGrid` the best share in [0.02, the class's maxMemoryEfficiency]; per d the
    /// smallest o within 1% of its least loss, then the smallest d within 1.5 % noise of the least. `overhead(o)` is the class's
    /// fixed overhead given o (a class whose tiny kernels have many rows pays o on those rows too, so its
    /// fixed part is what is left).
    static func fitStreamingRows(_ s: [CalibrationSample], cls: OpClass, overhead: (Double) -> Double, bandwidths: [Double],
                                 intercepts: [Double] = [0]) -> (share: Double, rowOverhead: Double, intercept: Double) {
        // Each kernel's memory time at full share, and the fixed overhead per o, once (not per evaluation).
        let memory = s.map { memoryTime($0, bandwidths: bandwidths) }
        let fixedForRow = perChannelGrid.map(overhead)
        func loss(_ logShare: Double, _ o: Double, fixed: Double) -> Double {
            zip(s, memory).reduce(0) { acc, xm in
                let (x, m) = xm
                let r = log((fixed + x.accessLatency + o * (x.channels ?? 0) + m / exp(logShare)) / x.measured)
                return acc + r * r
            }
        }
        // Per d, the (o, share) pick; the smallest d whose loss is within 1.5 % timing noise per kernel
        // (n · log²1.015) of the least: an intercept is kept only when noise cannot explain it.
        let perIntercept = intercepts.map { d in
            firstNearBest(zip(perChannelGrid, fixedForRow).map { o, fixed in
                let logShare = LogSearch.minimize(low: log(0.02), high: log(cls.maxMemoryEfficiency), steps: 200, preferHigh: true) {
                    loss($0, o, fixed: fixed + d)
                }
                return (d: d, o: o, share: exp(logShare), loss: loss(logShare, o, fixed: fixed + d))
            }, loss: \.loss)
        }
        let least = perIntercept.map(\.loss).min() ?? 0
        let noise = intercepts.count > 1 ? Double(s.count) * pow(log(1.015), 2) : 0
        let pick = perIntercept.first { $0.loss <= least + noise } ?? perIntercept[0]
        return (pick.share, pick.o, pick.d)
    }

    /// The memory term of a data-movement kernel with the bulk-copy split at each level
    /// (`ComputeUnit.splitCopyTime`, as the cost model prices it); the slowest level.
    public static func splitMemoryTime(_ s: CalibrationSample, bandwidths: [Double], share: Double, after: Double, bulk: Double) -> Double {
        var memory = 0.0
        for (i, b) in s.levelBytes.enumerated() where b > 0 && i < bandwidths.count {
            memory = Swift.max(memory, ComputeUnit.splitCopyTime(bytes: b, bandwidth: bandwidths[i], share: share, after: after, bulk: bulk))
        }
        return memory / (s.streamGain ?? 1)
    }

    /// `bulk_copy.efficiency` from the data-movement streams, with the device's `after` (not fitted:
    /// the private cache size the template states; fitting it on the micro-benchmarks' few small
    /// copies chose 128 KiB on one noisy pass). Alternating medians: each class's share from its
    /// kernels' first `after` bytes given the bulk share, the bulk share from the kernels moving
    /// ≥ 1.5 × `after` given the class shares. Kept only when it lowers the least-squares loss on log
    /// time over all the copies against one share per class by more than 1 % and by more than 3 %
    /// timing noise per copy would (n · log²1.03), and only with ≥ 2 kernels above 1.5 × `after` and 2
    /// below; then `shares` holds the refitted class shares.
    static func fitBulkCopy(_ moves: [CalibrationSample], after: Double?, shares: inout [OpClass: Double], overhead: (CalibrationSample) -> Double,
                            bandwidths: [Double]) -> (fit: CalibrationFit.BulkCopyFit?, tested: Bool) {
        guard let after, after > 0, !moves.isEmpty else { return (nil, false) }
        func traffic(_ x: CalibrationSample) -> Double {
            var worst = 0.0, bytes = 0.0
            for (i, b) in x.levelBytes.enumerated() where b > 0 && i < bandwidths.count && b / bandwidths[i] > worst { (worst, bytes) = (b / bandwidths[i], b) }
            return bytes
        }
        func rest(_ x: CalibrationSample) -> Double { Swift.max(x.measured - overhead(x) - x.accessLatency, x.measured * 0.05) }
        func share(_ cls: OpClass, _ sh: [OpClass: Double]) -> Double { sh[cls] ?? sh[cls.coarse] ?? 1 }
        func loss(_ sh: [OpClass: Double], after: Double, bulk: Double) -> Double {
            copyLoss(moves, shares: sh, after: after, bulk: bulk, overhead: overhead, bandwidths: bandwidths)
        }
        let large = moves.filter { traffic($0) >= 1.5 * after }
        guard large.count >= 2, moves.count - large.count >= 2 else { return (nil, false) }
        var sh = shares, bulk = 1.0
        for _ in 0..<12 {
            for cls in Set(moves.map(\.opClass)) {
                let ratios = moves.filter { $0.opClass == cls }.map { x -> Double in
                    let first = splitMemoryTime(x, bandwidths: bandwidths, share: 1, after: after, bulk: .infinity)
                    let tail = splitMemoryTime(x, bandwidths: bandwidths, share: .infinity, after: after, bulk: bulk)
                    return first / Swift.max(rest(x) - tail, rest(x) * 0.05)
                }
                if let m = ValidationStatistics.median(ratios) { sh[cls] = Swift.min(cls.maxMemoryEfficiency, Swift.max(0.02, m)) }
            }
            let ratios = large.map { x -> Double in
                let first = splitMemoryTime(x, bandwidths: bandwidths, share: share(x.opClass, sh), after: after, bulk: .infinity)
                let tail = splitMemoryTime(x, bandwidths: bandwidths, share: .infinity, after: after, bulk: 1)
                return tail / Swift.max(rest(x) - first, rest(x) * 0.05)
            }
            bulk = Swift.min(ComputeUnit.maxBulkCopyEfficiency, Swift.max(0.02, ValidationStatistics.median(ratios) ?? 1))
        }
        // A second share always fits noise a little better: it must also beat a 3 % timing noise floor.
        let oneShare = loss(shares, after: .infinity, bulk: 1), split = loss(sh, after: after, bulk: bulk)
        let floor = Double(moves.count) * pow(log(1.03), 2)
        guard split < oneShare * 0.99, oneShare - split > floor else { return (nil, true) }
        shares = sh
        return (CalibrationFit.BulkCopyFit(after: after, efficiency: bulk, benchmarks: moves.map(\.name), largeBenchmarks: large.map(\.name)), true)
    }

    /// Least squares on log time over the copies, t = overhead + access latency + the split memory time
    /// (`after` = ∞: one share per class).
    static func copyLoss(_ moves: [CalibrationSample], shares: [OpClass: Double], after: Double, bulk: Double,
                         overhead: (CalibrationSample) -> Double, bandwidths: [Double]) -> Double {
        moves.reduce(0) { acc, x in
            let share = shares[x.opClass] ?? shares[x.opClass.coarse] ?? 1
            let t = overhead(x) + x.accessLatency + splitMemoryTime(x, bandwidths: bandwidths, share: share, after: after, bulk: bulk)
            let r = log(t / x.measured)
            return acc + r * r
        }
    }

    /// A streaming class's share: the median over its kernels of bytes/bandwidth over (time − overhead),
    /// in [0.02, the class's maxMemoryEfficiency]; nil without kernels.
    static func medianShare(_ s: [CalibrationSample], cls: OpClass, overhead: (CalibrationSample) -> Double, bandwidths: [Double]) -> Double? {
        let ratios = s.map { x in memoryTime(x, bandwidths: bandwidths) / Swift.max(x.measured - overhead(x) - x.accessLatency, x.measured * 0.05) }
        return ValidationStatistics.median(ratios).map { Swift.min(cls.maxMemoryEfficiency, Swift.max(0.02, $0)) }
    }

    /// The copies' shares, bulk split and per-run overhead o (`channel_overhead.data_movement`, charged per
    /// contiguous run, `Graph.channelOverheadUnits`): per o on `perChannelGrid`, each copy class's share
    /// is the median of bytes/bandwidth over (time − overhead − o·runs), then `fitBulkCopy` with those
    /// overheads; the smallest o within 1% of the least loss (Σ log² predicted/measured over the copies)
    /// wins. o is fitted only when the data-movement copies' run counts differ ≥ 4× (attention's head
    /// transposes move 300-591 runs of 64 floats, the concats 2 blocks, the shuffles 116-256 planes);
    /// otherwise nil and the shares and split as `fitBulkCopy` alone fits them. A transpose of short
    /// runs pays a loop step and a partial cache line per run: on the Intel guest (session 32) the two
    /// head transposes ran 38-39% over the share fitted on the concats and shuffles.
    static func fitCopies(_ moves: [CalibrationSample], after: Double?, shares: inout [OpClass: Double], overhead: (OpClass) -> Double,
                          bandwidths: [Double]) -> (fit: CalibrationFit.BulkCopyFit?, tested: Bool, runOverhead: Double?) {
        let runs = moves.filter { $0.opClass == .dataMovement }.map { $0.channels ?? 0 }
        guard moves.count >= 3, let lo = runs.min(), let hi = runs.max(), hi >= 4 * Swift.max(lo, 1) else {
            let (b, t) = fitBulkCopy(moves, after: after, shares: &shares, overhead: { overhead($0.opClass) }, bandwidths: bandwidths)
            return (b, t, nil)
        }
        func paid(_ x: CalibrationSample, _ o: Double) -> Double { overhead(x.opClass) + (x.opClass == .dataMovement ? o * (x.channels ?? 0) : 0) }
        let fits = perChannelGrid.map { o -> (o: Double, shares: [OpClass: Double], bulk: CalibrationFit.BulkCopyFit?, tested: Bool, loss: Double) in
            var sh = shares
            for cls in Set(moves.map(\.opClass)) {
                if let m = medianShare(moves.filter { $0.opClass == cls }, cls: cls, overhead: { paid($0, o) }, bandwidths: bandwidths) { sh[cls] = m }
            }
            let (b, t) = fitBulkCopy(moves, after: after, shares: &sh, overhead: { paid($0, o) }, bandwidths: bandwidths)
            let loss = copyLoss(moves, shares: sh, after: b?.after ?? .infinity, bulk: b?.efficiency ?? 1, overhead: { paid($0, o) }, bandwidths: bandwidths)
            return (o, sh, b, t, loss)
        }
        let pick = firstNearBest(fits, loss: \.loss)
        shares = pick.shares
        return (pick.bulk, pick.tested, pick.o)
    }

    /// A class's fixed overhead when its kernels also pay `perRow` per channel (or row): the median of
    /// its tiny kernels' times less that cost on their own rows, at least 0.
    static func netOverhead(_ tiny: [CalibrationSample], perRow o: Double) -> Double {
        Swift.max(0, ValidationStatistics.median(tiny.map { $0.measured - o * ($0.channels ?? 0) }) ?? 0)
    }

    /// The first candidate (the grids list the fewest and smallest terms first) whose loss is within
    /// 1% of the least: a term is kept only if it lowers the loss noticeably.
    static func firstNearBest<T>(_ fits: [T], loss: (T) -> Double) -> T {
        let least = fits.map(loss).min() ?? 0
        return fits.first { loss($0) <= least * 1.01 + 1e-12 } ?? fits[0]
    }

    /// 1. overhead = median time of the elementwise overhead kernels, and per other class with
    /// overhead kernels its own median (`class_overhead`, used for that class's compute fits); 2. bandwidth of level L = median of
    /// bytes_L / (t − overhead) over the kernels resident in L, then made non-increasing outward;
    /// 3. per op class (and per coarse class over its finer classes' kernels), the efficiency in [0.002, 1] minimising Σ log²(predicted/measured) over its
    /// compute kernels (log grid, then golden section); when the class's kernels are memory-bound
    /// at every efficiency, the largest efficiency with the minimal loss is taken.
    /// `fallbackBandwidths` fill levels no benchmark covered (used for the compute fits only).
    /// `fallbackEfficiency` prices other parts (`otherFlops`) of a class no benchmark fitted.
    ///
    /// `parallel_overhead` τ: every kernel that `forks` is predicted with τ on top (the fit adds it to the
    /// sample's fixed terms, as the cost model does); τ is the median over the `parallelOverhead` kernels
    /// of (measured − the prediction without τ), at least 0, refitted with the other values three times (the
    /// memory share of forking streams depends on τ, τ on that share).
    ///
    /// `cross_core_bandwidth` r: every kernel is predicted with crossCoreBytes / r on top (its fixed part, as
    /// the cost model charges it); r is the median over the `crossCore` kernels of crossCoreBytes / (measured −
    /// the prediction without the term), refitted with τ and the other values. Those kernels are streams of a
    /// class whose share and overheads come from twins that read only what their own core wrote (global pools
    /// after a depthwise conv, split by channels like the pool; the probes follow a 1×1 conv split by pixels).
    public static func fit(_ samples: [CalibrationSample], peak: Double, fallbackBandwidths: [Double],
                           fallbackEfficiency: [OpClass: Double] = [:], bulkCopyAfter: Double? = nil) -> CalibrationFit {
        let probes = samples.filter { $0.role == .parallelOverhead }
        let crossProbes = samples.filter { $0.role == .crossCore && $0.crossCoreBytes > 0 }
        let others = samples.filter { $0.role != .parallelOverhead && $0.role != .crossCore }
        /// The samples with τ on every forking kernel and its cross-core bytes at `rate` in their fixed part.
        func adjusted(_ x: CalibrationSample, tau: Double, rate: Double?) -> CalibrationSample {
            var y = x
            if y.forks { y.accessLatency += tau }
            if let rate, rate > 0 { y.accessLatency += y.crossCoreBytes / rate }
            return y
        }
        func refit(tau: Double, rate: Double?) -> CalibrationFit {
            fitOnce(others.map { adjusted($0, tau: tau, rate: rate) }, peak: peak, fallbackBandwidths: fallbackBandwidths,
                    fallbackEfficiency: fallbackEfficiency, bulkCopyAfter: bulkCopyAfter)
        }
        var result = refit(tau: 0, rate: nil)
        guard !probes.isEmpty || !crossProbes.isEmpty else { return result }
        var tau = 0.0
        var rate: Double?
        for _ in 0..<3 {
            let usable = result.bandwidths.enumerated().map { $0.element ?? fallbackBandwidths[$0.offset] }
            let fit = result
            func predicted(_ x: CalibrationSample, streaming: Bool) -> Double {
                predict(x, peak: peak, overhead: fit.overhead(for: x.opClass), bandwidths: usable,
                        efficiency: streaming ? .infinity : fit.efficiency[x.opClass] ?? fit.efficiency[x.opClass.coarse] ?? fallbackEfficiency[x.opClass] ?? 1,
                        memoryEfficiency: fit.memoryEfficiency[x.opClass] ?? fit.memoryEfficiency[x.opClass.coarse] ?? 1,
                        perOutputMACs: fit.perOutputMACs[x.opClass] ?? 0,
                        channelOverhead: fit.channelOverheads[x.opClass] ?? 0)
            }
            if !probes.isEmpty {
                let excess = probes.map { x in x.measured - predicted(adjusted(x, tau: 0, rate: rate), streaming: false) }
                tau = Swift.max(0, ValidationStatistics.median(excess) ?? 0)
            }
            if !crossProbes.isEmpty {
                // The cross-core kernels are streams: no compute term, like their class's fit.
                let rates = crossProbes.map { x in
                    let excess = x.measured - predicted(adjusted(x, tau: tau, rate: nil), streaming: true)
                    return excess > 0 ? x.crossCoreBytes / excess : .infinity
                }
                let m = ValidationStatistics.median(rates)
                rate = m.flatMap { $0.isFinite ? $0 : nil }
            }
            result = refit(tau: tau, rate: rate)
        }
        if !probes.isEmpty {
            result.parallelOverhead = tau
            result.parallelOverheadBenchmarks = Array(Set(probes.map(\.benchmark))).sorted()
        }
        if !crossProbes.isEmpty {
            result.crossCoreBandwidth = rate
            result.crossCoreBenchmarks = Array(Set(crossProbes.map(\.benchmark))).sorted()
        }
        return result
    }

    static func fitOnce(_ samples: [CalibrationSample], peak: Double, fallbackBandwidths: [Double],
                        fallbackEfficiency: [OpClass: Double], bulkCopyAfter: Double?) -> CalibrationFit {
        let levels = fallbackBandwidths.count
        let overheadSamples = samples.filter { $0.role == .overhead }
        let generic = overheadSamples.filter { $0.opClass == .elementwise }
        let overhead = ValidationStatistics.median((generic.isEmpty ? overheadSamples : generic).map(\.measured)) ?? 0
        var classOverheads: [OpClass: Double] = [:]
        for cls in Set(overheadSamples.map(\.opClass)) where cls != .elementwise {
            classOverheads[cls] = ValidationStatistics.median(overheadSamples.filter { $0.opClass == cls }.map(\.measured))
        }
        func overheadFor(_ cls: OpClass) -> Double { CalibrationFit.overhead(for: cls, classOverheads: classOverheads, generic: overhead) }
        var bandwidths: [Double?] = Array(repeating: nil, count: levels)
        var bwBenchmarks: [[String]] = Array(repeating: [], count: levels)
        for l in 0..<levels {
            let s = samples.filter { $0.role == .bandwidth(level: l) && l < $0.levelBytes.count && $0.levelBytes[l] > 0 }
            let rates = s.map { $0.levelBytes[l] / Swift.max($0.measured - overhead - $0.accessLatency, $0.measured * 0.05) }
            bandwidths[l] = ValidationStatistics.median(rates)
            bwBenchmarks[l] = Array(Set(s.map(\.benchmark))).sorted()
        }
        // Outer levels are never faster than inner ones in the model's max(); enforce it on noisy data.
        for l in stride(from: levels - 2, through: 0, by: -1) {
            if let outer = bandwidths[l + 1], let inner = bandwidths[l], inner < outer { bandwidths[l] = outer }
        }
        let usable = (0..<levels).map { bandwidths[$0] ?? fallbackBandwidths[$0] }

        // Memory efficiency per class with streaming kernels: median of (memory time at the fitted
        // bandwidths) / (measured − the class's overhead), in [0.02, 1]. For the per-row classes
        // (binary elementwise ops, whose per-channel broadcasts walk one short row per channel) a
        // per-row overhead o jointly with the share, when the kernels' row counts differ ≥ 2×.
        var memoryEfficiency: [OpClass: Double] = [:]
        var memBenchmarks: [OpClass: [String]] = [:]
        var perChannel: [OpClass: Double] = [:]
        var streamIntercepts: [OpClass: Double] = [:]
        let streaming = samples.filter { $0.role == .streaming }
        for cls in Set(streaming.map(\.opClass)) {
            let s = streaming.filter { $0.opClass == cls }
            let rows = s.map { $0.channels ?? 0 }
            if perRowStreamingClasses.contains(cls), s.count >= 3, let lo = rows.min(), let hi = rows.max(), lo > 0, hi >= 2 * lo {
                // A class with its own tiny kernels (`class_overhead`) keeps as fixed overhead the median of
                // (tiny time − o · tiny rows); the generic overhead (element-wise: one-row relus) stays.
                let tiny = cls == .elementwise ? [] : overheadSamples.filter { $0.opClass == cls }
                func fixed(_ o: Double) -> Double { tiny.isEmpty ? overheadFor(cls) : netOverhead(tiny, perRow: o) }
                let (share, o, d) = fitStreamingRows(s, cls: cls, overhead: fixed, bandwidths: usable,
                                                     intercepts: tiny.isEmpty ? [0] : streamInterceptGrid)
                memoryEfficiency[cls] = share
                perChannel[cls] = o
                if !tiny.isEmpty { classOverheads[cls] = fixed(o) + d }
                if d > 0 { streamIntercepts[cls] = d }
            } else {
                if let m = medianShare(s, cls: cls, overhead: { _ in overheadFor(cls) }, bandwidths: usable) { memoryEfficiency[cls] = m }
            }
            memBenchmarks[cls] = Array(Set(s.map(\.benchmark))).sorted()
        }
        let moves = streaming.filter { $0.opClass.coarse == .dataMovement }
        let (bulkCopy, bulkTested, runOverhead) = fitCopies(moves, after: bulkCopyAfter, shares: &memoryEfficiency, overhead: { overheadFor($0) }, bandwidths: usable)
        if let runOverhead { perChannel[.dataMovement] = runOverhead }
        func memoryEfficiencyFor(_ c: OpClass) -> Double { memoryEfficiency[c] ?? memoryEfficiency[c.coarse] ?? 1 }

        var efficiency: [OpClass: Double] = [:]
        var effBenchmarks: [OpClass: [String]] = [:]
        let compute = samples.filter { $0.role == .compute }
        // Each class is fitted on its own kernels. A coarse class with no kernels of its own (`conv`,
        // whose shapes are all tagged `conv_1x1`, `conv_winograd`, …) is fitted on all of its finer
        // classes' kernels, so devices without the finer classes get a blend; one with kernels of
        // its own (`elementwise`: hard-swish, add) is fitted on those only, because its finer class
        // (`transcendental`) has its own efficiency.
        // Classes whose kernels have parts at other classes (Winograd transforms at elementwise, a fused
        // SiLU's conv at conv_1x1) come after the classes that price those parts.
        func members(_ cls: OpClass) -> [CalibrationSample] {
            let direct = compute.filter { $0.opClass == cls }
            return direct.isEmpty ? compute.filter { $0.opClass.coarse == cls } : direct
        }
        let classes = Self.dependencyOrder(Set(compute.map(\.opClass) + compute.map(\.opClass.coarse))) { cls in
            Set(members(cls).flatMap(\.otherFlops.keys)).union(Self.inheritsTerms(cls) ? [cls.coarse] : [])
        }
        func otherEfficiency(_ c: OpClass) -> Double { efficiency[c] ?? efficiency[c.coarse] ?? fallbackEfficiency[c] ?? fallbackEfficiency[c.coarse] ?? 1 }
        var perOutput: [OpClass: Double] = [:]
        for cls in classes {
            let direct = compute.filter { $0.opClass == cls }
            let s = members(cls)
            // The class's tiny kernels pay the per-channel overhead too: with o per channel, its fixed
            // overhead is the median of (tiny time − o · tiny channels).
            let tiny = overheadSamples.filter { $0.opClass == cls }
            func fixedOverhead(_ x: CalibrationSample, _ o: Double) -> Double {
                guard o > 0, x.opClass == cls, !tiny.isEmpty else { return overheadFor(x.opClass) }
                return netOverhead(tiny, perRow: o)
            }
            func loss(_ logE: Double, _ c: Double, _ o: Double) -> Double {
                s.reduce(0) { acc, x in
                    let r = log(predict(x, peak: peak, overhead: fixedOverhead(x, o), bandwidths: usable, efficiency: exp(logE),
                                        memoryEfficiency: memoryEfficiencyFor(x.opClass), perOutputMACs: c, channelOverhead: o,
                                        otherEfficiency: otherEfficiency, otherPerOutputMACs: { perOutput[$0] ?? 0 }) / x.measured)
                    return acc + r * r
                }
            }
            // On a flat (memory-bound) loss the largest efficiency wins.
            // Up to the class's bound (conv_winograd may exceed 1 per counted FLOP).
            let high = Swift.min(efficiencyRange.high * cls.maxEfficiency, cls.maxEfficiency)
            func bestEfficiency(_ c: Double, _ o: Double) -> (e: Double, loss: Double) {
                let logE = LogSearch.minimize(low: log(efficiencyRange.low), high: log(high), steps: 400, preferHigh: true) { loss($0, c, o) }
                return (exp(logE), loss(logE, c, o))
            }
            // Per-output MACs (and, for the per-channel classes, a per-channel overhead) jointly with the
            // efficiency, for the classes listed, when their kernels differ at least 2× in MACs per output
            // (per-output) or in outputs per charged unit (per-row); else that term is not separable
            // from the efficiency. Grid over the terms, each point with its best efficiency; the point
            // with the fewest and smallest terms within 1% of the least loss wins.
            func spread(_ v: [Double?]) -> Bool {
                let xs = v.compactMap { $0 }
                guard xs.count == s.count, let lo = xs.min(), let hi = xs.max(), lo > 0 else { return false }
                return hi >= 2 * lo
            }
            let fitC = perOutputClasses.contains(cls) && direct.count >= 3
                && spread(s.map { x in x.outputs.flatMap { $0 > 0 ? x.flops / 2 / $0 : nil } })
            let fitO = perChannelClasses.contains(cls) && direct.count >= 4
                && spread(s.map { x in x.channels.flatMap { ch in x.outputs.flatMap { ch > 0 ? $0 / ch : nil } } })
            // A class whose per-row overhead came from its streams (global pools) pays it in its compute
            // kernels too (windowed pools), as the cost model charges it.
            let rowOverhead = perChannel[cls] ?? (Self.inheritsTerms(cls) ? perChannel[cls.coarse] : nil) ?? 0
            let outputMACs = Self.inheritsTerms(cls) ? perOutput[cls.coarse] ?? 0 : 0
            var points: [(c: Double, o: Double)] = []
            for c in fitC ? perOutputGrid : [outputMACs] { for o in fitO ? perChannelGrid : [rowOverhead] { points.append((c, o)) } }
            let fits = points.map { p in (p: p, fit: bestEfficiency(p.c, p.o)) }
            let pick = firstNearBest(fits, loss: \.fit.loss)
            efficiency[cls] = pick.fit.e
            if fitC { perOutput[cls] = pick.p.c }
            if fitO {
                perChannel[cls] = pick.p.o
                if !tiny.isEmpty, let x = s.first { classOverheads[cls] = fixedOverhead(x, pick.p.o) }
            }
            effBenchmarks[cls] = Array(Set(s.map(\.benchmark))).sorted()
        }
        return CalibrationFit(overhead: overhead, classOverheads: classOverheads, bandwidths: bandwidths, efficiency: efficiency, perOutputMACs: perOutput, channelOverheads: perChannel,
                              streamIntercepts: streamIntercepts, memoryEfficiency: memoryEfficiency, memoryEfficiencyBenchmarks: memBenchmarks, bulkCopy: bulkCopy, bulkCopyTested: bulkTested,
                              overheadBenchmarks: Array(Set(overheadSamples.map(\.benchmark))).sorted(),
                              bandwidthBenchmarks: bwBenchmarks, efficiencyBenchmarks: effBenchmarks)
    }
}
