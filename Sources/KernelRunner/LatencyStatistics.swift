/// Summary of repeated latency samples, in seconds. Percentiles are exact order statistics
/// with linear interpolation between closest ranks (NumPy's default), computed from every
/// sample (runs are short enough that a histogram would only lose precision).
public struct LatencyStatistics: Sendable, Hashable, Codable {
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
