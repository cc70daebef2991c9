import Foundation

/// How long to measure.
public struct TimingOptions: Sendable, Hashable {
    /// Untimed runs first (page faults, caches, worker threads spinning up).
    public var warmup: Int
    /// Timed runs per phase (end to end, then per layer); nil = use `timeBudget`.
    public var iterations: Int?
    /// Seconds per phase when `iterations` is nil (at least `minIterations` runs).
    public var timeBudget: Double
    public var minIterations: Int
    public var maxIterations: Int
    /// Bytes of an unrelated buffer read between timed runs (outside the timed region), so every
    /// run starts with cold caches and TLB as one inference of a model larger than the caches
    /// does (0 = none). Calibration uses it for kernels whose fixed cost depends on cold weights.
    public var evictBytes: Int = 0
    /// Whether to run the end-to-end phase. `edgeprof calibrate` and its drift probe read only the
    /// per-layer phase and skip it (the cold benchmarks evict 32 MiB before every run, so each phase costs seconds); when
    /// skipped, `ModelMeasurement.endToEnd` holds the per-layer runs' totals.
    public var endToEndPhase = true

    public init(warmup: Int = 5, iterations: Int? = nil, timeBudget: Double = 2, minIterations: Int = 10, maxIterations: Int = 100_000,
                evictBytes: Int = 0, endToEndPhase: Bool = true) {
        self.warmup = warmup
        self.iterations = iterations
        self.timeBudget = timeBudget
        self.minIterations = minIterations
        self.maxIterations = maxIterations
        self.evictBytes = evictBytes
        self.endToEndPhase = endToEndPhase
    }
}

/// What one measurement found. Times in seconds.
public struct ModelMeasurement: Sendable, Hashable {
    /// Whole-model latency from runs with no per-layer timestamps.
    public var endToEnd: LatencyStatistics
    /// Per fusion group (same order as `CompiledModel.layers`), from separate runs that
    /// read the clock between steps.
    public var layers: [LatencyStatistics]
    /// Whole-model latency of the per-layer runs (sum of their steps per run).
    public var layeredEndToEnd: LatencyStatistics
    /// RAPL energy per inference over the end-to-end phase; nil when RAPL is unavailable.
    public var energyPerInferenceJ: Double?
    public var warmup: Int
    public var threads: Int
    /// Core-to-core round trip of the CPUs the threads may use, probed right before the timed runs and
    /// right after them (nil with one thread or where pinning is unsupported): see `ThreadPlacement`.
    public var placementBefore: ThreadPlacement? = nil
    public var placementAfter: ThreadPlacement? = nil

    /// Whether either probe found the threads' cores far apart (different dies): the timings then
    /// include cross-die traffic and are not comparable with runs on nearby cores.
    public var ranFarApart: Bool { ThreadPlacement.anyFarApart(placementBefore, placementAfter) }

    /// mean(per-layer runs) − mean(end-to-end runs): the cost of timing every layer plus noise.
    public var timingGap: Double { layeredEndToEnd.mean - endToEnd.mean }
}

/// Warm-up, then two timed phases: end to end (no per-layer clocks, so nothing distorts it)
/// and per layer (a clock read between steps). Both use the same inputs.
public enum TimingHarness {
    public static func measure(_ model: CompiledModel, inputs: [HostTensor], options: TimingOptions = TimingOptions()) throws(RunnerError) -> ModelMeasurement {
        try model.setInputs(inputs)
        for _ in 0..<options.warmup { model.execute() }
        let evict = Evictor(bytes: options.evictBytes)
        let before = probePlacement(threads: model.threads)

        func runs(_ elapsedSoFar: Double, _ done: Int) -> Bool {
            if let n = options.iterations { return done < n }
            if done < options.minIterations { return true }
            return done < options.maxIterations && elapsedSoFar < options.timeBudget
        }

        // Phase 1: end to end.
        let energyStart = HardwareCounterSupport.readEnergyJoules()
        var e2e: [Double] = []
        var elapsed = 0.0
        while options.endToEndPhase && runs(elapsed, e2e.count) {
            evict.run()
            let t0 = monotonicNanoseconds()
            model.execute()
            let dt = Double(monotonicNanoseconds() - t0) * 1e-9
            e2e.append(dt)
            elapsed += dt
        }
        var energy: Double?
        if options.endToEndPhase, let start = energyStart, let end = HardwareCounterSupport.readEnergyJoules(), end > start {
            energy = (end - start) / Double(Swift.max(1, e2e.count))
        }

        // Phase 2: per layer.
        var perLayer = [[Double]](repeating: [], count: model.layers.count)
        var layered: [Double] = []
        var ns = [UInt64](repeating: 0, count: model.layers.count)
        elapsed = 0
        while runs(elapsed, layered.count) {
            evict.run()
            model.executeTimed(into: &ns)
            var total = 0.0
            for (i, v) in ns.enumerated() {
                let s = Double(v) * 1e-9
                perLayer[i].append(s)
                total += s
            }
            layered.append(total)
            elapsed += total
        }
        let after = probePlacement(threads: model.threads)
        return ModelMeasurement(endToEnd: LatencyStatistics(seconds: options.endToEndPhase ? e2e : layered), layers: perLayer.map { LatencyStatistics(seconds: $0) },
                                layeredEndToEnd: LatencyStatistics(seconds: layered), energyPerInferenceJ: energy,
                                warmup: options.warmup, threads: model.threads, placementBefore: before, placementAfter: after)
    }

    /// The placement probe, after 1 ms without work: the pool's workers spin ~0.5 ms after a run
    /// before they park, and one spinning on the partner CPU would slow the ping-pong down.
    static func probePlacement(threads: Int) -> ThreadPlacement? {
        guard threads > 1 else { return nil }
        usleep(1000)
        return ThreadPlacement.probe(threads: threads)
    }
}

/// Reads one float per cache line of a private buffer (0 bytes: does nothing), evicting what a
/// timed run left in the caches and TLB.
final class Evictor {
    private let buffer: UnsafeMutablePointer<Float>?
    private let count: Int
    private(set) var sink: Float = 0

    init(bytes: Int) {
        count = bytes / MemoryLayout<Float>.stride
        if count > 0 {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 1, count: count)
            buffer = p
        } else {
            buffer = nil
        }
    }

    deinit { buffer?.deallocate() }

    func run() {
        guard let buffer else { return }
        var s: Float = 0
        var i = 0
        while i < count { s += buffer[i]; i += 16 }
        sink += s
    }
}
