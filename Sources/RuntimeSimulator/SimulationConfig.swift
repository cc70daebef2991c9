import DeviceSpec
import NNGraph
import OffloadPlanner

/// How requests arrive and how long the run lasts (MLPerf Inference load scenarios).
public struct SimulationConfig: Sendable, Hashable {
    public var arrivals: ArrivalKind
    /// Frames per second per client (`fps` arrivals).
    public var fps: Double
    /// Mean requests per second per client (`poisson` arrivals).
    public var rate: Double
    /// Requests per client.
    public var frames: Int
    /// Devices sharing the remote tiers (and, with `sharedUplink`, the first link).
    public var clients: Int
    public var seed: UInt64
    /// Latency bound for the miss rate (nil: 1/fps for `fps` arrivals, none otherwise).
    public var deadline: Seconds?
    /// The first link is one shared medium (a Wi-Fi cell, an LTE sector) rather than one per client.
    public var sharedUplink: Bool
    /// Re-plan when a bandwidth trace changes a link's rate.
    public var replan: Bool
    /// Device stall when the plan changes (weights to load, pipelines to rebuild).
    public var switchingCost: Seconds
    /// Bins of the utilisation/queue timeline.
    public var timelineBins: Int

    public init(arrivals: ArrivalKind = .fps, fps: Double = 30, rate: Double = 30, frames: Int = 2000, clients: Int = 1, seed: UInt64 = 1,
                deadline: Seconds? = nil, sharedUplink: Bool = true, replan: Bool = false, switchingCost: Seconds = .zero, timelineBins: Int = 50) {
        self.arrivals = arrivals
        self.fps = fps
        self.rate = rate
        self.frames = frames
        self.clients = clients
        self.seed = seed
        self.deadline = deadline
        self.sharedUplink = sharedUplink
        self.replan = replan
        self.switchingCost = switchingCost
        self.timelineBins = timelineBins
    }

    /// The deadline the miss rate is measured against.
    public var effectiveDeadline: Seconds? {
        if let deadline { return deadline }
        return arrivals == .fps ? Seconds(1 / fps) : nil
    }
}

/// What varies at run time on one hop: jitter draws and an uplink bandwidth trace.
public struct HopDynamics: Sendable, Hashable {
    public var jitter: JitterDistribution
    public var jitterMean: Seconds
    public var trace: BandwidthTrace?
    public init(jitter: JitterDistribution = .none, jitterMean: Seconds = .zero, trace: BandwidthTrace? = nil) {
        self.jitter = jitter
        self.jitterMean = jitterMean
        self.trace = trace
    }

    public init(_ link: LinkSpec) {
        self.init(jitter: link.jitter.distribution, jitterMean: link.jitter.mean, trace: link.trace)
    }
}

public struct ResourceStats: Sendable, Hashable, Codable {
    public var name: String
    /// Busy fraction of the run (per instance, averaged when there is one per client).
    public var utilisation: Double
    /// Time-averaged number of requests waiting (not in service).
    public var meanQueue: Double
    public var maxQueue: Int
    public var jobs: Int
}

public struct TimelineBin: Sendable, Hashable, Codable {
    public var start: Seconds
    public var end: Seconds
    /// Per resource (same order as `SimulationResult.resources`).
    public var utilisation: [Double]
    public var meanQueue: [Double]
    public var completed: Int
}

public struct SimulationResult: Sendable, Hashable {
    public var config: SimulationConfig
    public var completed: Int
    /// Requests that could not finish (a link with zero bandwidth for the rest of the trace).
    public var dropped: Int
    public var latencyMean: Seconds
    public var latencyP50: Seconds
    public var latencyP90: Seconds
    public var latencyP99: Seconds
    public var latencyMax: Seconds
    public var deadline: Seconds?
    public var missRate: Double?
    /// Completed requests per second over the run (first arrival to last completion).
    public var throughput: Double
    /// Device energy per request: dynamic energy + idle power over the request's latency (the
    /// planner's definition; overlapping requests each pay their own idle time).
    public var energyPerRequest: Joules
    /// Mean device power over the run: dynamic energy + idle power once over wall-clock time.
    public var averageDevicePower: Watts
    public var makespan: Seconds
    public var resources: [ResourceStats]
    public var timeline: [TimelineBin]
    /// Plan changes made by re-planning, and the placements used (first = initial).
    public var switches: Int
    public var placements: [[Int]]
    public var events: Int
    /// Latencies of completed requests in equal-width bins from the minimum to the maximum.
    public var latencyHistogram: [HistogramBin] = []
    /// Busy intervals of each reported resource (the first client's copy), for trace export;
    /// at most `SimulationResult.activitySpanLimit` per resource, from the start of the run.
    public var activity: [ResourceActivity] = []
    public static let activitySpanLimit = 500
    public static let histogramBins = 24
}

public struct HistogramBin: Sendable, Hashable, Codable {
    public var low: Seconds
    public var high: Seconds
    public var count: Int
    public init(low: Seconds, high: Seconds, count: Int) {
        self.low = low
        self.high = high
        self.count = count
    }

    /// `bins` equal-width bins over [min, max] of `values` (one bin when they are all equal).
    public static func bins(_ values: [Double], count bins: Int) -> [HistogramBin] {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return [] }
        let n = hi > lo ? max(bins, 1) : 1
        let width = hi > lo ? (hi - lo) / Double(n) : 0
        var counts = [Int](repeating: 0, count: n)
        for v in finite { counts[width > 0 ? min(Int((v - lo) / width), n - 1) : 0] += 1 }
        return (0..<n).map { i in
            HistogramBin(low: Seconds(lo + Double(i) * width), high: Seconds(i == n - 1 ? hi : lo + Double(i + 1) * width), count: counts[i])
        }
    }
}

public struct ResourceActivity: Sendable, Hashable, Codable {
    public var name: String
    /// (start, end) of busy periods in simulated seconds.
    public var spans: [[Double]]
    /// Busy periods not listed because of the limit.
    public var omitted: Int
}
