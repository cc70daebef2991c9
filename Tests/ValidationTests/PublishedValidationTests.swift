import CostModel
import DeviceSpec
import Foundation
import ModelImport
import Testing
import Validation

@Suite("Published validation fitting")
struct PublishedValidationTests {
    static let packageRoot = PublishedLatencyTests.packageRoot

    @Test func fitRecoversFactorAndThreadExponentFromSyntheticCurves() throws {
        // latency(x) = 2 ms + 40 ms / x: a fixed part plus a compute part divided by the effective factor.
        let curve = try PublishedValidation.LatencyCurve { (x: Double) throws(CostModelError) -> Double in 2 + 40 / x }
        let factor = 1.7, exponent = 0.4
        let ratios = [1.0, 1.0, 0.25, 0.25, 0.5]
        let measured = ratios.map { 2 + 40 / (factor * pow($0, exponent)) }
        let fit = PublishedValidation.fit(curves: Array(repeating: curve, count: ratios.count), threadRatios: ratios, measured: measured)
        #expect(abs(fit.factor / factor - 1) < 0.02, "factor \(fit.factor)")
        #expect(abs(fit.threadScaling - exponent) < 0.03, "exponent \(fit.threadScaling)")
        #expect(fit.fitsThreadScaling)
        // All rows on every core: the exponent is not fitted (stays linear).
        let allCores = PublishedValidation.fit(curves: [curve, curve], threadRatios: [1, 1], measured: [2 + 40 / 3.0, 2 + 40 / 3.0])
        #expect(abs(allCores.factor / 3 - 1) < 0.02)
        #expect(allCores.threadScaling == 1 && !allCores.fitsThreadScaling)
    }

    @Test func curveInterpolationMatchesTheFunction() throws {
        let curve = try PublishedValidation.LatencyCurve { (x: Double) throws(CostModelError) -> Double in 1 + 10 / x }
        for x in [0.1, 0.77, 1.0, 3.3, 15.0] {
            #expect(abs(curve.latency(effectiveFactor: x) / (1 + 10 / x) - 1) < 0.01)
        }
    }

    /// A table whose "measured" latencies are the cost model's own prediction for a device twice as
    /// fast as its file: the fit must find ≈ 2 on the fitting rows and score the held-out rows near 0%.
    @Test func runFitsOnEvenRowsAndScoresOnlyOddRows() throws {
        let device = try DeviceLoader.load(file: Self.packageRoot.appendingPathComponent("devices/raspberry-pi-4.yaml").path)
        let header = PublishedLatencyTable.columns.joined(separator: ",")
        let specs: [(String, String)] = [("T02", "resnet18"), ("T04", "mobilenet_v2"), ("T05", "resnet50"), ("T07", "squeezenet_v1_1"), ("T09", "mobilenet_v1")]
        var lines = [header]
        for (id, model) in specs {
            let row = PublishedRow(id: id, model: model, inputHW: 224, precision: .fp32, device: "raspberry_pi_4b", runtime: "ncnn_cpu", threads: 4,
                                   batch: 1, latencyMs: 1, latencyMinMs: nil, latencyMaxMs: nil, flags: [], sourceKey: "", sourceURL: "", line: 0)
            let zoo = try PublishedMapping.zooModel(for: row).get()
            let resolved = ResolvedRow(row: row, zooModel: zoo.name, device: device, unit: "cpu", isFitting: true)
            let ms = try PublishedValidation.predictMs(PreparedGraph(zoo.build()), resolved, effectiveFactor: 2)
            lines.append("\(id),\(model),224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,\(ms),,,,S,u")
        }
        lines.append("T11,googlenet,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,100,,,,S,u")
        let table = try PublishedLatencyTable.parse(csv: lines.joined(separator: "\n") + "\n", file: "synthetic.csv")
        let r = try PublishedValidation.run(table, devices: [device])
        let g = try #require(r.groups.first)
        #expect(r.groups.count == 1)
        #expect(g.fittingRows == ["T02", "T04"])
        #expect(abs((g.factor ?? 0) / 2 - 1) < 0.02, "factor \(g.factor ?? 0)")
        #expect(g.heldOutRows == 3)
        #expect(r.heldOut.count == 3)
        #expect(r.heldOut.medianAbsoluteError < 0.02)
        // Without the factor the device file is ~2× too slow on the compute-bound parts.
        #expect(r.heldOutUncalibrated.medianSignedError > 0.3)
        #expect(r.skippedCounts == [SkipCount(reason: "model not in the zoo", count: 1)])
        #expect(r.meetsTarget)
    }
}
