import Foundation

/// Something a prediction was wrong about: a statistics input that cannot be scored.
public struct ScoringError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One predicted-vs-measured pair (a layer, a model, a published row). Times in seconds or
/// milliseconds — only ratios are used, so the unit only has to match within the pair.
public struct PredictionPair: Sendable, Hashable, Codable {
    public var label: String
    public var predicted: Double
    public var measured: Double
    /// What the pair is an instance of, where it helps reading the pairs (a host layer's fused
    /// kernel kind, e.g. `conv-relu`); nil elsewhere.
    public var kind: String?

    /// Throws when the measured value is not a positive finite number (relative error undefined)
    /// or the prediction is negative or not finite.
    public init(label: String, predicted: Double, measured: Double, kind: String? = nil) throws(ScoringError) {
        guard measured.isFinite, measured > 0 else { throw ScoringError("\(label): measured value must be positive and finite, got \(measured)") }
        guard predicted.isFinite, predicted >= 0 else { throw ScoringError("\(label): predicted value must be finite and ≥ 0, got \(predicted)") }
        self.label = label
        self.predicted = predicted
        self.measured = measured
        self.kind = kind
    }

    /// (predicted − measured) / measured: +0.25 = predicted 25% too slow, −0.5 = 2× too fast.
    public var relativeError: Double { (predicted - measured) / measured }
    /// |relative error| as a fraction (0.1 = 10%).
    public var absoluteRelativeError: Double { abs(relativeError) }
}

/// Summary of a set of pairs. Fractions, not percent (0.1 = 10%).
public struct ErrorSummary: Sendable, Hashable, Codable {
    public var count: Int
    /// The ± tolerance `shareWithinTolerance` was counted at.
    public var tolerance: Double
    /// Share of pairs with |relative error| ≤ tolerance.
    public var shareWithinTolerance: Double
    /// Mean absolute percentage error (as a fraction).
    public var meanAbsoluteError: Double
    /// Median absolute percentage error (as a fraction).
    public var medianAbsoluteError: Double
    /// Median of the signed relative error: > 0 = the model is too slow on the typical pair.
    public var medianSignedError: Double
    /// Spearman rank correlation of predicted vs measured; nil with < 2 pairs or constant ranks.
    public var spearman: Double?
    /// The pairs with the largest |relative error|, worst first.
    public var worst: [PredictionPair]
}

/// Scoring functions shared by `edgeprof validate` (host and published modes) and by any caller
/// that has predicted-vs-measured pairs. Pure; COSTMODEL-NOTES §7 says why both the hit rate
/// and MAPE are reported (they disagree when small items carry large errors).
public enum ValidationStatistics {
    /// Share of pairs within ±tolerance (a fraction: 0.1 = ±10%). 0 for no pairs.
    public static func shareWithin(_ pairs: [PredictionPair], tolerance: Double) -> Double {
        guard !pairs.isEmpty else { return 0 }
        // The 1e-12 slack keeps a pair exactly at the boundary (e.g. 110 vs 100 at ±10%) inside despite rounding.
        let hits = pairs.filter { $0.absoluteRelativeError <= tolerance + 1e-12 }.count
        return Double(hits) / Double(pairs.count)
    }

    /// Mean absolute percentage error as a fraction. 0 for no pairs.
    public static func meanAbsoluteError(_ pairs: [PredictionPair]) -> Double {
        guard !pairs.isEmpty else { return 0 }
        return pairs.reduce(0) { $0 + $1.absoluteRelativeError } / Double(pairs.count)
    }

    /// Median absolute percentage error as a fraction. 0 for no pairs.
    public static func medianAbsoluteError(_ pairs: [PredictionPair]) -> Double {
        median(pairs.map(\.absoluteRelativeError)) ?? 0
    }

    /// Median; the mean of the two middle values for an even count; nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// 1-based ranks, ties get the average of the ranks they span ([10, 20, 20, 30] → [1, 2.5, 2.5, 4]).
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }

    /// Pearson correlation; nil when the lengths differ, n < 2, or either side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 2 else { return nil }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman rank correlation (Pearson on average ranks, so ties are handled); nil as for `pearson`.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count else { return nil }
        return pearson(ranks(x), ranks(y))
    }

    public static func spearman(_ pairs: [PredictionPair]) -> Double? {
        spearman(pairs.map(\.predicted), pairs.map(\.measured))
    }

    /// The `count` pairs with the largest |relative error|, worst first (ties by label, for stable output).
    public static func worst(_ pairs: [PredictionPair], count: Int) -> [PredictionPair] {
        let sorted = pairs.sorted {
            $0.absoluteRelativeError != $1.absoluteRelativeError ? $0.absoluteRelativeError > $1.absoluteRelativeError : $0.label < $1.label
        }
        return Array(sorted.prefix(Swift.max(0, count)))
    }

    public static func summarize(_ pairs: [PredictionPair], tolerance: Double, worstCount: Int = 5) -> ErrorSummary {
        ErrorSummary(count: pairs.count, tolerance: tolerance, shareWithinTolerance: shareWithin(pairs, tolerance: tolerance),
                     meanAbsoluteError: meanAbsoluteError(pairs), medianAbsoluteError: medianAbsoluteError(pairs),
                     medianSignedError: median(pairs.map(\.relativeError)) ?? 0, spearman: spearman(pairs),
                     worst: worst(pairs, count: worstCount))
    }
}
