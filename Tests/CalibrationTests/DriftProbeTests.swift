import Calibration
import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph
import Testing

/// The drift probe's selection and arithmetic (no timing assertions: the ratio itself depends on
/// the machine).
@Suite("Drift probe")
struct DriftProbeTests {
    @Test func everyProbeBenchmarkExistsInTheQuickSuite() throws {
        // A renamed benchmark would silently shrink the probe: each name must still resolve.
        let benches = try DriftProbe.benchmarks()
        #expect(Set(benches.map(\.name)) == DriftProbe.names)
        // Compute, depthwise and streaming kernels, so one resource's drift shows in the spread.
        #expect(Set(benches.map(\.opClass.coarse)).isSuperset(of: [.conv, .depthwise, .elementwise]))
    }

    @Test func readingPairsEachKernelWithItsPredictionAndTakesTheMedianRatio() throws {
        let device = try DeviceLoader.load(file: MicroBenchmarkTests.host)
        // The two streaming benchmarks only (cheap in a debug build).
        let benches = try DriftProbe.benchmarks().filter { $0.name.hasPrefix("stream") || $0.name.hasPrefix("add") }
        #expect(benches.count == 2)
        let r = try DriftProbe.read(benches, device: device, unit: nil, threads: 1,
                                    timing: TimingOptions(warmup: 0, iterations: 2))
        #expect(r.items.map(\.name).sorted() == benches.map(\.name).sorted())
        for item in r.items {
            #expect(item.measured > 0 && item.predicted > 0)
            #expect(abs(item.ratio - item.measured / item.predicted) < 1e-12)
        }
        #expect(abs(r.drift - (r.items[0].ratio + r.items[1].ratio) / 2) < 1e-12)   // median of two
    }

    @Test func medianOfOddEvenAndEmpty() {
        #expect(DriftProbe.median([3, 1, 2]) == 2)
        #expect(DriftProbe.median([4, 1, 3, 2]) == 2.5)
        #expect(DriftProbe.median([]) == 1)   // no reading: no drift
    }
}
