import CostModel
import DeviceSpec
import Foundation
import ModelImport
import Testing
import Validation

@Suite("Published validation fitting")
struct PublishedValidationTests {
    static let packageRoot = PublishedLatencyTests.packageRoot

    /// Two rows' worth of kernels: a dense part (conv) and an "other" part, each with compute,
    /// memory and overhead terms in ms.
    static let resnetLike = PublishedValidation.LatencyModel(terms: [
        .init(dense: true, compute: 40, memory: 2, overhead: 0.1), .init(dense: false, compute: 4, memory: 1, overhead: 0.1),
    ])
    static let mobilenetLike = PublishedValidation.LatencyModel(terms: [
        .init(dense: true, compute: 8, memory: 1, overhead: 0.1), .init(dense: false, compute: 12, memory: 2, overhead: 0.1),
    ])

    @Test func latencyModelIsMaxOfComputeAndMemoryPlusOverhead() {
        // dense 40/2 = 20 > 2; other 4/0.5 = 8 > 1; + 0.2 overhead.
        #expect(abs(Self.resnetLike.latency(dense: 2, other: 0.5) - 28.2) < 1e-12)
        // A huge factor leaves the memory terms: 2 + 1 + 0.2.
        #expect(abs(Self.resnetLike.latency(dense: 1e6, other: 1e6) - 3.2) < 1e-3)
    }

    @Test func fitRecoversOneFactorAndTheThreadExponent() {
        let truth = PublishedValidation.GroupFit(dense: 1.7, other: 1.7, threadScaling: 0.4, fitsThreadScaling: true, fitsDenseSeparately: false)
        let models = [Self.resnetLike, Self.mobilenetLike]
        let ratios = [1.0, 0.25]
        let measured = zip(models, ratios).map { truth.latency($0, threadRatio: $1) }
        let fit = PublishedValidation.fit(models: models, threadRatios: ratios, measured: measured)
        #expect(!fit.fitsDenseSeparately && fit.fitsThreadScaling)
        #expect(abs(fit.other / 1.7 - 1) < 0.02 && fit.dense == fit.other, "factor \(fit.other)")
        #expect(abs(fit.threadScaling - 0.4) < 0.03, "exponent \(fit.threadScaling)")
        // All rows on every core: the exponent is not fitted (stays linear).
        let allCores = PublishedValidation.fit(models: models, threadRatios: [1, 1], measured: models.map { $0.latency(dense: 3, other: 3) })
        #expect(abs(allCores.other / 3 - 1) < 0.02)
        #expect(allCores.threadScaling == 1 && !allCores.fitsThreadScaling)
    }

    @Test func fitSeparatesDenseAndOtherFactorsWithThreeRows() {
        let third = PublishedValidation.LatencyModel(terms: [.init(dense: true, compute: 20, memory: 1, overhead: 0), .init(dense: false, compute: 20, memory: 1, overhead: 0)])
        let models = [Self.resnetLike, Self.mobilenetLike, third]
        let measured = models.map { $0.latency(dense: 2.5, other: 0.6) }
        let fit = PublishedValidation.fit(models: models, threadRatios: [1, 1, 1], measured: measured)
        #expect(fit.fitsDenseSeparately)
        #expect(abs(fit.dense / 2.5 - 1) < 0.02, "dense \(fit.dense)")
        #expect(abs(fit.other / 0.6 - 1) < 0.02, "other \(fit.other)")
    }

    /// Three CPU groups with their own dense factors (1.5, 2.5, 0.8) and a shared other/dense ratio
    /// (0.25) and thread exponent (0.5): the pooled fit recovers all five numbers, although two of the
    /// groups have too few rows (two, one) to separate their dense and other factors alone.
    @Test func pooledFitRecoversSharedRatioExponentAndPerGroupDenseFactors() {
        let third = PublishedValidation.LatencyModel(terms: [.init(dense: true, compute: 20, memory: 1, overhead: 0), .init(dense: false, compute: 20, memory: 1, overhead: 0)])
        let truthRatio = 0.25, truthA = 0.5, truthDense = [1.5, 2.5, 0.8]
        func group(_ i: Int, _ models: [PublishedValidation.LatencyModel], _ ratios: [Double]) -> PublishedValidation.FitRows {
            let truth = PublishedValidation.GroupFit(dense: truthDense[i], other: truthDense[i] * truthRatio, threadScaling: truthA,
                                                     fitsThreadScaling: true, fitsDenseSeparately: true)
            return .init(models: models, threadRatios: ratios, measured: zip(models, ratios).map { truth.latency($0, threadRatio: $1) })
        }
        let groups = [
            group(0, [Self.resnetLike, Self.mobilenetLike, Self.resnetLike], [1, 1, 0.25]),
            group(1, [Self.mobilenetLike, third], [0.8, 0.8]),
            group(2, [Self.resnetLike], [1]),
        ]
        let fit = PublishedValidation.fitPooled(groups)
        #expect(fit.fitsThreadScaling)
        #expect(abs(fit.otherToDense / truthRatio - 1) < 0.03, "ratio \(fit.otherToDense)")
        #expect(abs(fit.threadScaling - truthA) < 0.02, "exponent \(fit.threadScaling)")
        for (got, want) in zip(fit.dense, truthDense) { #expect(abs(got / want - 1) < 0.03, "dense \(got) vs \(want)") }
        // Each group's fit applies the shared numbers to its own dense factor.
        let g1 = fit.group(1)
        #expect(abs(g1.other / (g1.dense * fit.otherToDense) - 1) < 1e-12 && g1.threadScaling == fit.threadScaling)
        // No group with two thread ratios: the exponent is not fitted (linear scaling).
        let oneRatio = PublishedValidation.fitPooled([group(1, [Self.mobilenetLike, third], [1, 1]), group(2, [Self.resnetLike], [1])])
        #expect(!oneRatio.fitsThreadScaling && oneRatio.threadScaling == 1)
    }

    /// Two CPU groups whose boards lose throughput on fewer threads differently (exponents 0.3 and
    /// 0.8; rows at two thread counts each) and a third with rows at one thread count: the first two
    /// get their own exponents back, with their dense factors; the third keeps the pool's shared one.
    @Test func pooledFitGivesAGroupWithTwoThreadCountsItsOwnExponent() {
        let third = PublishedValidation.LatencyModel(terms: [.init(dense: true, compute: 20, memory: 1, overhead: 0), .init(dense: false, compute: 20, memory: 1, overhead: 0)])
        let truthRatio = 0.25, truthA = [0.3, 0.8, 0.5], truthDense = [1.5, 2.5, 0.8]
        func group(_ i: Int, _ models: [PublishedValidation.LatencyModel], _ ratios: [Double]) -> PublishedValidation.FitRows {
            let truth = PublishedValidation.GroupFit(dense: truthDense[i], other: truthDense[i] * truthRatio, threadScaling: truthA[i],
                                                     fitsThreadScaling: true, fitsDenseSeparately: true)
            return .init(models: models, threadRatios: ratios, measured: zip(models, ratios).map { truth.latency($0, threadRatio: $1) })
        }
        let groups = [
            group(0, [Self.resnetLike, Self.mobilenetLike, third, Self.resnetLike], [1, 1, 1, 0.25]),
            group(1, [Self.mobilenetLike, third, Self.resnetLike], [1, 1, 1.0 / 6]),
            group(2, [Self.resnetLike, third], [0.8, 0.8]),
        ]
        let fit = PublishedValidation.fitPooled(groups)
        // The shared ratio comes from the fit with one exponent for every group, so it is a few percent
        // off when the groups' exponents differ this much (6% here); the own exponents absorb the rest.
        #expect(abs(fit.otherToDense / truthRatio - 1) < 0.1, "ratio \(fit.otherToDense)")
        for i in 0..<2 {
            let own = fit.ownThreadScaling[i]
            #expect(own.map { abs($0 - truthA[i]) < 0.03 } == true, "group \(i) exponent \(own ?? -1) vs \(truthA[i])")
            #expect(abs(fit.dense[i] / truthDense[i] - 1) < 0.05, "group \(i) dense \(fit.dense[i])")
            #expect(fit.group(i).threadScaling == own)
        }
        // One thread count: no exponent of its own; the shared one (between the two fitted ones) applies.
        #expect(fit.ownThreadScaling[2] == nil && fit.group(2).threadScaling == fit.threadScaling)
        #expect(fit.threadScaling > 0.3 && fit.threadScaling < 0.8, "shared exponent \(fit.threadScaling)")
        // The single-count group's factors carry its thread loss (0.8^a folds into the dense factor).
        let g2 = fit.group(2)
        for (m, want) in zip(groups[2].models, groups[2].measured) {
            #expect(abs(g2.latency(m, threadRatio: 0.8) / want - 1) < 0.05)
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
            let ms = PublishedValidation.LatencyModel(try PublishedValidation.baseEstimate(PreparedGraph(zoo.build(), style: resolved.style), resolved)).latency(dense: 2, other: 2)
            lines.append("\(id),\(model),224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,\(ms),,,,S,u")
        }
        lines.append("T11,googlenet,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,100,,,,S,u")
        let table = try PublishedLatencyTable.parse(csv: lines.joined(separator: "\n") + "\n", file: "synthetic.csv")
        let r = try PublishedValidation.run(table, devices: [device], leaveOneOut: true)
        let g = try #require(r.groups.first)
        // The fitting rows are fitted exactly, and each is predicted as well by a fit of the other one alone.
        #expect((r.fittingRMSLogError ?? 1) < 0.01)
        let loo = try #require(r.leaveOneOut)
        #expect(loo.rows.map(\.label) == ["T02", "T04"])
        #expect(loo.summary.medianAbsoluteError < 0.02 && loo.rmsLogError < 0.02)
        #expect(r.groups.count == 1)
        #expect(g.fittingRows == ["T02", "T04"])
        // Two fitting rows: one factor for every class.
        #expect(abs((g.factor ?? 0) / 2 - 1) < 0.02, "factor \(g.factor ?? 0)")
        #expect(g.denseFactor == nil)
        #expect(g.heldOutRows == 3)
        #expect(r.heldOut.count == 3)
        #expect(r.heldOut.medianAbsoluteError < 0.02)
        // Without the factor the device file is ~2× too slow on the compute-bound parts.
        #expect(r.heldOutUncalibrated.medianSignedError > 0.3)
        #expect(r.skippedCounts == [SkipCount(reason: "model not in the zoo", count: 1)])
        #expect(r.meetsTarget)
        // Without --loo the left-out fits are not computed.
        #expect(try PublishedValidation.run(table, devices: [device]).leaveOneOut == nil)
    }

    /// Leave-one-out refits without the left-out row: a row that disagrees with the others is
    /// predicted from them (large error) although the full fit, which includes it, splits the difference.
    @Test func leaveOneOutPredictsEachFittingRowFromTheOthers() throws {
        let device = try DeviceLoader.load(file: Self.packageRoot.appendingPathComponent("devices/raspberry-pi-4.yaml").path)
        let header = PublishedLatencyTable.columns.joined(separator: ",")
        var lines = [header]
        for (id, model, factor) in [("T02", "resnet18", 2.0), ("T04", "resnet18", 2.0), ("T06", "resnet18", 1.0)] {
            let row = PublishedRow(id: id, model: model, inputHW: 224, precision: .fp32, device: "raspberry_pi_4b", runtime: "ncnn_cpu", threads: 4,
                                   batch: 1, latencyMs: 1, latencyMinMs: nil, latencyMaxMs: nil, flags: [], sourceKey: "", sourceURL: "", line: 0)
            let zoo = try PublishedMapping.zooModel(for: row).get()
            let resolved = ResolvedRow(row: row, zooModel: zoo.name, device: device, unit: "cpu", isFitting: true)
            let ms = PublishedValidation.LatencyModel(try PublishedValidation.baseEstimate(PreparedGraph(zoo.build(), style: resolved.style), resolved)).latency(dense: factor, other: factor)
            lines.append("\(id),\(model),224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,\(ms),,,,S,u")
        }
        let table = try PublishedLatencyTable.parse(csv: lines.joined(separator: "\n") + "\n", file: "synthetic.csv")
        let loo = try #require(try PublishedValidation.run(table, devices: [device], leaveOneOut: true).leaveOneOut)
        let err = Dictionary(uniqueKeysWithValues: loo.rows.map { ($0.label, $0.relativeError) })
        // T06 (factor 1) predicted by T02 + T04 (factor 2): about half its measured latency.
        #expect(abs((err["T06"] ?? 0) + 0.5) < 0.05, "T06 \(err["T06"] ?? 0)")
        // T02 predicted by T04 (2) and T06 (1): between, so too slow.
        #expect((err["T02"] ?? 0) > 0.1)
    }
}
