import Calibration
@testable import EdgeProfKit
import Foundation
@testable import KernelRunner
import Testing

/// Thread placement (cores far apart) in calibrate's pass choice, validate's round choice and measure's warning.
@Suite struct ThreadPlacementPolicyTests {
    static func sample(_ seconds: Double, far: Bool) -> CalibrationSample {
        var s = CalibrationSample(name: "b", benchmark: "grid", role: .compute, opClass: .conv1x1, flops: 1, levelBytes: [1], measured: seconds)
        s.farApart = far
        return s
    }

    @Test func calibrationPrefersClosePlacementThenSpeed() {
        let fastFar = Self.sample(1.0, far: true), slowClose = Self.sample(2.0, far: false), fastClose = Self.sample(1.5, far: false)
        #expect(CalibrateWorkflow.preferred(slowClose, over: fastFar), "a close pass beats a faster far-apart one")
        #expect(!CalibrateWorkflow.preferred(fastFar, over: slowClose))
        #expect(CalibrateWorkflow.preferred(fastClose, over: slowClose))
        #expect(!CalibrateWorkflow.preferred(slowClose, over: fastClose))
        #expect(CalibrateWorkflow.preferred(Self.sample(0.5, far: true), over: fastFar), "among far-apart passes the faster wins")
        #expect(CalibrateWorkflow.placementNote(rerun: 0, stillFar: []).hasPrefix("every benchmark kept a pass"))
        let note = CalibrateWorkflow.placementNote(rerun: 2, stillFar: ["dw-a"])
        #expect(note.contains("2 benchmark(s)") && note.contains("1 still had none") && note.contains("dw-a"))
    }

    @Test func validationScoresTheFastCloseRounds() {
        typealias W = HostValidateWorkflow
        #expect(W.scoredRounds(farApart: [false, true, false], times: [3.6, 6.9, 3.7]) == [0, 2])
        #expect(W.scoredRounds(farApart: [false, true, false], times: [3.6, 3.7, 4.5]) == [0], "a close round 25% slower is not scored")
        #expect(W.scoredRounds(farApart: [true, true], times: [7.0, 6.9]) == [0, 1], "no close round: the fast far-apart ones are scored")
        // The placement moved during the rounds: the fastest round is marked far apart, the one marked close is 1.6× slower.
        #expect(W.scoredRounds(farApart: [true, true, true, false], times: [5.68, 8.84, 5.85, 8.98]) == [0, 2])
        #expect(W.scoredRounds(farApart: [], times: []) == [])
    }

    @Test func validationPicksLayerRoundsByThePerLayerPhase() {
        typealias W = HostValidateWorkflow
        // Session 25, efficientnet_b0: round 1 was fastest end to end (5.68 ms) but its per-layer
        // phase ran 1.8–3.3× slower; round 2's per-layer phase was the fast one.
        let rounds: [[Double]] = [[2.0, 9.0], [1.0, 3.0], [1.1, 2.8]]
        let (fastest, scored) = W.scoredLayerTimes(rounds, layeredTimes: [8.7, 12.1, 7.0], farApart: [true, true, false])
        #expect(scored == [[1.1, 2.8]], "the close round, fastest by its per-layer runs")
        #expect(fastest == [1.1, 2.8])
        let both = W.scoredLayerTimes(rounds, layeredTimes: [9.0, 6.1, 6.3], farApart: [false, false, false])
        #expect(both.scored == [[1.0, 3.0], [1.1, 2.8]])
        #expect(both.fastest == [1.0, 2.8], "per layer the fastest of the scored rounds")
        #expect(W.scoredLayerTimes([], layeredTimes: [], farApart: []).fastest.isEmpty)
    }

    /// Calibrate and validate read one statistic: the fastest run, from a measurement or its JSON.
    @Test func scoredTimeIsTheFastestRun() {
        // Session 31's mobilenet_v2 pattern: an uncontended phase, then a neighbour slows most runs.
        let runs = [3.62e-3, 3.58e-3, 3.60e-3] + Array(repeating: 5.7e-3, count: 7)
        let stats = LatencyStatistics(seconds: runs)
        #expect(stats.scored == 3.58e-3)
        #expect(stats.p50 > 5e-3, "the median sits in the slow phase")
        #expect(LatencyJSON(stats).scored == stats.scored)
        #expect(LatencyStatistics(seconds: runs.reversed()).scored == stats.scored, "order does not matter")
    }

    @Test func measureWarnsOnlyWhenFarApart() {
        let stats = LatencyStatistics(seconds: [1e-3])
        var m = ModelMeasurement(endToEnd: stats, layers: [], layeredEndToEnd: stats, energyPerInferenceJ: nil, warmup: 1, threads: 2)
        m.placementBefore = ThreadPlacement(roundTripNs: 62, cpus: [0, 1])
        #expect(MeasureWorkflow.farApartWarning(m) == nil)
        m.placementAfter = ThreadPlacement(roundTripNs: 351, cpus: [0, 1])
        let w = MeasureWorkflow.farApartWarning(m)
        #expect(w?.contains("62 ns before, 351 ns after") == true, "\(w ?? "nil")")
    }
}
