import CKernels
import Foundation
import Testing
@testable import KernelRunner

@Suite struct ThreadPlacementTests {
    /// On a machine with two or more usable CPUs the probe times a real ping-pong between the first two
    /// (a positive round trip far below a millisecond, the CPUs it used); one thread needs no probe.
    @Test func probeMeasuresTheFirstTwoAllowedCPUs() throws {
        #expect(ThreadPlacement.probe(threads: 1) == nil)
        var cpus = [Int32](repeating: 0, count: 64)
        let n = Int(ck_allowed_cpus(&cpus, 64))
        try #require(n >= 1, "sched_getaffinity lists no CPU")
        guard n >= 2 else {
            #expect(ThreadPlacement.probe(threads: 2) == nil, "one usable CPU: nothing to probe")
            return
        }
        let p = try #require(ThreadPlacement.probe(threads: 2, roundTrips: 2_000))
        #expect(p.cpus == [Int(cpus[0]), Int(cpus[1])])
        #expect(p.roundTripNs > 1 && p.roundTripNs < 1_000_000, "\(p.roundTripNs) ns")
        #expect(p.farApart == (p.roundTripNs > ThreadPlacement.farApartNs))
    }

    /// CPUs outside the affinity mask (or negative ids) are refused, not probed.
    @Test func probeRefusesCPUsOutsideTheMask() {
        #expect(ck_core_round_trip_ns(-1, 0, 10) == -1)
        #expect(ck_core_round_trip_ns(0, 100_000, 10) == -1)
        #expect(ck_core_round_trip_ns(0, 0, 0) == -1)
    }

    /// A measurement is far apart when either probe is.
    @Test func measurementFlagsEitherProbe() {
        let stats = LatencyStatistics(seconds: [1e-3, 1e-3])
        var m = ModelMeasurement(endToEnd: stats, layers: [stats], layeredEndToEnd: stats, energyPerInferenceJ: nil, warmup: 1, threads: 2)
        #expect(!m.ranFarApart)
        m.placementBefore = ThreadPlacement(roundTripNs: 60, cpus: [0, 1])
        m.placementAfter = ThreadPlacement(roundTripNs: 60, cpus: [0, 1])
        #expect(!m.ranFarApart)
        m.placementAfter = ThreadPlacement(roundTripNs: 350, cpus: [0, 1])
        #expect(m.ranFarApart)
    }
}
