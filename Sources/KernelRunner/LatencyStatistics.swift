/// What `edgeprof calibrate` fits and `edgeprof validate` scores host timings on: a kernel's (or a
/// model's) fastest run of many. On the shared VMs edgeprof is developed on, neighbours slow runs by
/// 10–50% in phases of seconds; the fastest run is the uncontended machine the cost model describes.
/// Measured on the 2-vCPU Intel Xeon guest (session 31, six back-to-back `edgeprof measure
/// mobilenet_v2`, 350–480 runs each): the round-to-round spread of a layer's fastest run was 1.9%
/// (median over 54 layers), of its median 12%; end to end 3.55–3.73 ms fastest, 3.98–5.74 ms median.
public protocol ScoredLatency {
    var min: Double { get }
}

extension ScoredLatency {
    /// The statistic calibration and host validation use: the fastest run (seconds).
    public var scored: Double { min }
}

/// How `ScoredLatency.scored` is described in outputs and device-file sources.
public enum ScoredLatencyNote {
    public static let statistic = "fastest of repeated runs"
}

/// Summary of repeated latency samples, in seconds. Percentiles are exact order statistics
/// with linear interpolation between closest ranks (NumPy's default), computed from every
/// sample (runs are short enough that a histogram would only lose precision).
public struct LatencyStatistics: Sendable, Hashable, Codable, ScoredLatency {
    public var samples: Int
    public var min: Double
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var stddev: Double
    /// Coefficient of variation: stddev / mean.
    public var cov: Double

    enum CodingKeys: String, CodingKey {
        case samples, min, mean, p50, p90, p95, p99, max, stddev, cov
    }

    public init(seconds: [Double]) {
        let sorted = seconds.sorted()
        samples = sorted.count
        guard !sorted.isEmpty else {
            min = 0; mean = 0; p50 = 0; p90 = 0; p95 = 0; p99 = 0; max = 0; stddev = 0; cov = 0
            return
        }
        min = sorted[0]
        max = sorted[sorted.count - 1]
        let m = sorted.reduce(0, +) / Double(sorted.count)
        mean = m
        let variance = sorted.count > 1 ? sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(sorted.count - 1) : 0
        stddev = variance.squareRoot()
        cov = m > 0 ? stddev / m : 0
        p50 = Self.percentile(sorted, 0.50)
        p90 = Self.percentile(sorted, 0.90)
        p95 = Self.percentile(sorted, 0.95)
        p99 = Self.percentile(sorted, 0.99)
    }

    /// Linear interpolation between closest ranks of an ascending array.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        let frac = pos - Double(lo)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}
