import Testing
import Validation

/// Statistics on hand-made tables whose answers are worked out in the comments.
@Suite("Validation statistics")
struct ValidationStatisticsTests {
    /// predicted/measured: +10%, −10%, +50%, −50%, +5%.
    static func table() throws -> [PredictionPair] {
        try [(110.0, 100.0), (90, 100), (150, 100), (100, 200), (105, 100)].enumerated().map { i, p in
            try PredictionPair(label: "row\(i)", predicted: p.0, measured: p.1)
        }
    }

    @Test func relativeErrorSign() throws {
        let pairs = try Self.table()
        #expect(abs(pairs[0].relativeError - 0.1) < 1e-12)
        #expect(abs(pairs[3].relativeError - (-0.5)) < 1e-12)
    }

    @Test func shareWithinToleranceCountsTheBoundary() throws {
        // |e| = .10, .10, .50, .50, .05 → 3 of 5 within ±10% (both boundary rows count), 5 of 5 within ±50%.
        let pairs = try Self.table()
        #expect(ValidationStatistics.shareWithin(pairs, tolerance: 0.10) == 0.6)
        #expect(ValidationStatistics.shareWithin(pairs, tolerance: 0.05) == 0.2)
        #expect(ValidationStatistics.shareWithin(pairs, tolerance: 0.50) == 1.0)
        #expect(ValidationStatistics.shareWithin([], tolerance: 0.1) == 0)
    }

    @Test func meanAndMedianAbsoluteError() throws {
        let pairs = try Self.table()
        // (0.1 + 0.1 + 0.5 + 0.5 + 0.05) / 5 = 0.25; sorted .05 .1 .1 .5 .5 → median .1.
        #expect(abs(ValidationStatistics.meanAbsoluteError(pairs) - 0.25) < 1e-12)
        #expect(abs(ValidationStatistics.medianAbsoluteError(pairs) - 0.10) < 1e-12)
        // Even count: mean of the two middle values.
        #expect(ValidationStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(ValidationStatistics.median([]) == nil)
    }

    @Test func ranksAverageTies() {
        #expect(ValidationStatistics.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4])
        #expect(ValidationStatistics.ranks([3, 1, 2]) == [3, 1, 2])
        #expect(ValidationStatistics.ranks([5, 5, 5]) == [2, 2, 2])
    }

    @Test func spearmanOfAKnownPermutation() throws {
        // Without ties ρ = 1 − 6Σd²/(n(n²−1)); swapping neighbours 1↔2 and 3↔4 gives d = ±1 four times.
        let x: [Double] = [1, 2, 3, 4, 5], y: [Double] = [2, 1, 4, 3, 5]
        let expected = 1 - 6.0 * 4 / (5 * 24)  // 0.8
        let rho = try #require(ValidationStatistics.spearman(x, y))
        #expect(abs(rho - expected) < 1e-12)
        #expect(abs((ValidationStatistics.spearman(x, x.reversed()) ?? 0) - (-1)) < 1e-12)
        // Monotone but non-linear: rank correlation is exactly 1.
        #expect(abs((ValidationStatistics.spearman(x, x.map { $0 * $0 * $0 }) ?? 0) - 1) < 1e-12)
    }

    @Test func spearmanWithTies() throws {
        // ranks x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4]; deviations from 2.5: dx = [−1.5, 0, 0, 1.5],
        // dy = [−1.5, −.5, .5, 1.5]; Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5 → 4.5 / √22.5.
        let rho = try #require(ValidationStatistics.spearman([1, 2, 2, 3], [1, 2, 3, 4]))
        #expect(abs(rho - 4.5 / (4.5 * 5).squareRoot()) < 1e-12)
    }

    @Test func spearmanUndefinedCases() {
        #expect(ValidationStatistics.spearman([1], [2]) == nil)
        #expect(ValidationStatistics.spearman([1, 1, 1], [1, 2, 3]) == nil)
        #expect(ValidationStatistics.spearman([1, 2], [1, 2, 3]) == nil)
    }

    @Test func worstRowsComeFirstWithStableTies() throws {
        let worst = ValidationStatistics.worst(try Self.table(), count: 3)
        // |e| .5 (row2, row3: tie broken by label), then .1 (row0 before row1).
        #expect(worst.map(\.label) == ["row2", "row3", "row0"])
        #expect(ValidationStatistics.worst(try Self.table(), count: 0).isEmpty)
    }

    @Test func summaryCombinesTheStatistics() throws {
        let s = ValidationStatistics.summarize(try Self.table(), tolerance: 0.1, worstCount: 2)
        #expect(s.count == 5)
        #expect(s.shareWithinTolerance == 0.6)
        #expect(abs(s.meanAbsoluteError - 0.25) < 1e-12)
        // Signed errors sorted: −.5 −.1 .05 .1 .5 → median .05.
        #expect(abs(s.medianSignedError - 0.05) < 1e-12)
        #expect(s.worst.count == 2)
        // predicted 110 90 150 100 105 vs measured 100 100 100 200 100: ranks p = [4,1,5,2,3], m = [2.5,2.5,2.5,5,2.5].
        let expected = ValidationStatistics.pearson([4, 1, 5, 2, 3], [2.5, 2.5, 2.5, 5, 2.5])
        #expect(s.spearman == expected)
    }

    @Test func invalidPairsAreRejected() {
        #expect(throws: ScoringError.self) { try PredictionPair(label: "zero", predicted: 1, measured: 0) }
        #expect(throws: ScoringError.self) { try PredictionPair(label: "nan", predicted: .nan, measured: 1) }
        #expect(throws: ScoringError.self) { try PredictionPair(label: "neg", predicted: -1, measured: 1) }
    }
}
