@testable import EdgeProfKit
import Testing
import Validation

/// `validate` (host) statistics on hand-made numbers: a layer's round-to-round spread and the
/// per-size buckets that set it beside the prediction's error.
@Suite struct HostValidationStatisticsTests {
    typealias W = HostValidateWorkflow

    @Test func roundSpreadIsTheRelativeMedianAbsoluteDeviation() throws {
        // Rounds 10, 11, 12 µs: median 11, deviations 1, 0, 1 → 1/11.
        let s = try #require(W.roundSpread([10e-6, 11e-6, 12e-6]))
        #expect(abs(s - 1.0 / 11) < 1e-12)
        // One disturbed round (3×) hardly moves it: median 10.1, deviations 0.1, 0, 19.9 → 0.1/10.1.
        let robust = try #require(W.roundSpread([10e-6, 10.1e-6, 30e-6]))
        #expect(abs(robust - 0.1 / 10.1) < 1e-9)
        // Two rounds: half their difference over their mean.
        #expect(abs(try #require(W.roundSpread([4e-6, 6e-6])) - 0.2) < 1e-12)
        #expect(W.roundSpread([5e-6, 5e-6]) == 0)
        #expect(W.roundSpread([5e-6]) == nil, "one round has no spread")
        #expect(W.roundSpread([0, 0]) == nil)
    }

    @Test func sizeBucketsSplitByMeasuredTimeAndAverageEachBucket() throws {
        let pairs = try [
            PredictionPair(label: "a", predicted: 0.4e-6, measured: 0.5e-6),   // < 1 µs: −20%
            PredictionPair(label: "b", predicted: 0.9e-6, measured: 0.6e-6),   // < 1 µs: +50%
            PredictionPair(label: "c", predicted: 2.2e-6, measured: 2e-6),     // 1–3 µs: +10%
            PredictionPair(label: "d", predicted: 150e-6, measured: 200e-6),   // ≥ 100 µs: −25%
        ]
        let buckets = W.sizeBuckets(pairs, spreads: [0.1, nil, 0.04, 0.02])
        #expect(buckets.map(\.lowerSeconds) == [0, 1e-6, 100e-6], "empty buckets are left out")
        #expect(buckets.map(\.layers) == [2, 1, 1])
        #expect(abs(buckets[0].modelMAPE - 0.35) < 1e-9)
        #expect(abs(buckets[1].modelMAPE - 0.10) < 1e-9)
        #expect(abs(buckets[2].modelMAPE - 0.25) < 1e-9)
        // Only layers with a spread count towards it.
        #expect(buckets[0].roundSpread == 0.1 && buckets[0].roundSpreadLayers == 1)
        #expect(buckets[1].upperSeconds == 3e-6 && buckets[2].upperSeconds == nil)
        let none = W.sizeBuckets(Array(pairs.prefix(1)), spreads: [nil])
        #expect(none.count == 1 && none[0].roundSpread == nil && none[0].roundSpreadLayers == 0)
    }
}
