import Foundation
import KernelRunner
import NNGraph

/// Table and Markdown renderings of a `MeasureReport` (one layout for both).
public enum MeasureRenderer {
    public enum Style: Sendable { case plain, markdown }

    public static func render(_ r: MeasureReport, style: Style, top: Int? = nil) -> String {
        var parts: [String] = []
        let m = r.model
        let heading = "\(m.name) · \(formatCount(Double(m.macs))) MACs · \(m.nodes) nodes in \(m.fusedKernels) kernels · source \(m.source) · weights: \(m.weights)"
        let host = r.host
        let set = r.settings
        var machine = "\(host.cpuModel) (\(host.logicalCPUs) CPUs" + (host.virtualized ? ", virtualised" : "") + "; "
        machine += "SIMD " + host.simdFeatures.joined(separator: " ") + "; OpenBLAS core " + host.blasCoreName + ")"
        machine += " · threads \(set.threads) (OpenBLAS \(set.blasThreads)) · layout " + set.layout + (set.kernels.map { " · kernels \($0)" } ?? "")
        machine += " · warm-up \(set.warmup), \(set.iterationsEndToEnd) end-to-end + \(set.iterationsPerLayer) per-layer runs"
        let probes = [set.placementBefore, set.placementAfter].compactMap { $0 }
        if !probes.isEmpty {
            machine += " · core-to-core round trip " + probes.map { formatFixed($0.roundTripNs, decimals: 0) }.joined(separator: "/") + " ns (before/after)"
                + (probes.contains { $0.farApart } ? " FAR APART" : "")
        }
        let predictedBy = r.prediction.map { "predicted = cost model for \($0.deviceName) (\($0.file), unit \($0.unit))" }
            ?? "no prediction (no device file)"
        switch style {
        case .plain:
            parts.append("edgeprof measure — \(heading)")
            parts.append("MEASURED on this CPU: \(machine)\n\(predictedBy)")
        case .markdown:
            parts.append("# edgeprof measure: \(markdownEscape(m.name))")
            parts.append(markdownEscape(heading))
            parts.append("> **Measured** on this CPU: \(markdownEscape(machine)). \(markdownEscape(predictedBy)).")
        }

        let threeWay = r.layers.contains { $0.scaledLatencyS != nil }
        let target = r.prediction?.deviceID ?? "device"
        var table = threeWay
            ? TextTable(headers: ["#", "layer", "kind", "algorithm", "MACs", "host p50", "CoV", "host pred", "host meas/pred",
                                  "\(target) predicted", "\(target) scaled", "scaled/pred", "share"],
                        aligns: [.right, .left, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right, .right])
            : TextTable(headers: ["#", "layer", "kind", "algorithm", "output", "MACs", "p50", "mean", "p90", "p99", "CoV",
                                  "predicted", "meas/pred", "GFLOP/s", "share"],
                        aligns: [.right, .left, .left, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        var layers = r.layers
        if let top, top > 0 {
            layers = Array(layers.sorted { ($0.measuredLatencyS.p50, -$0.index) > ($1.measuredLatencyS.p50, -$1.index) }.prefix(top))
        }
        func ratio(_ a: Double?, _ b: Double?) -> String {
            guard let a, let b, b > 0 else { return "-" }
            return "\(formatFixed(a / b, decimals: 2))×"
        }
        for l in layers {
            let s = l.measuredLatencyS
            if threeWay {
                table.add([String(l.index), l.name, l.kind, l.algorithm, formatCount(Double(l.macs)), formatSeconds(s.p50), formatPercent(s.cov),
                           l.hostPredictedLatencyS.map(formatSeconds) ?? "-", ratio(s.p50, l.hostPredictedLatencyS),
                           l.predictedLatencyS.map(formatSeconds) ?? "-", l.scaledLatencyS.map(formatSeconds) ?? "-",
                           ratio(l.scaledLatencyS, l.predictedLatencyS), formatPercent(l.share)])
            } else {
                table.add([String(l.index), l.name, l.kind, l.algorithm, TensorShape(l.outputShape).description, formatCount(Double(l.macs)),
                           formatSeconds(s.p50), formatSeconds(s.mean), formatSeconds(s.p90), formatSeconds(s.p99), formatPercent(s.cov),
                           l.predictedLatencyS.map(formatSeconds) ?? "-", ratio(s.p50, l.predictedLatencyS),
                           l.achievedFlopsPerS > 0 ? formatFixed(l.achievedFlopsPerS / 1e9, decimals: 1) : "-", formatPercent(l.share)])
            }
        }
        let t = r.totals
        let e = t.measuredLatencyS
        var lines: [String] = []
        lines.append("end to end (measured, \(e.samples) runs): min \(formatSeconds(e.min)) · mean \(formatSeconds(e.mean)) · p50 \(formatSeconds(e.p50)) · "
                     + "p90 \(formatSeconds(e.p90)) · p95 \(formatSeconds(e.p95)) · p99 \(formatSeconds(e.p99)) · stddev \(formatSeconds(e.stddev)) · "
                     + "CoV \(formatPercent(e.cov)) · \(formatFixed(t.achievedFlopsPerS / 1e9, decimals: 1)) GFLOP/s")
        let l = t.perLayerRunsLatencyS
        lines.append("per-layer-timed runs: mean \(formatSeconds(l.mean)) · p50 \(formatSeconds(l.p50)); gap vs end to end "
                     + "\(formatSeconds(t.timingGapS)) (\(formatPercent(e.mean > 0 ? t.timingGapS / e.mean : 0)))")
        if let sc = t.scaledLatencyS, let p = t.predictedLatencyS, let hp = t.hostPredictedLatencyS {
            lines.append("\(target): PREDICTED \(formatSeconds(p)) · SCALED \(formatSeconds(sc)) (scaled/predicted \(ratio(sc, p))) · "
                         + "this host: MEASURED \(formatSeconds(e.p50)), predicted \(formatSeconds(hp)) (measured/predicted \(ratio(e.p50, hp)))")
            if let pe = t.predictedEnergyJ, let se = t.scaledEnergyJ {
                lines.append("\(target) energy/inference: PREDICTED \(formatSI(pe, unit: "J")) · SCALED \(formatSI(se, unit: "J")) "
                             + "(device compute + memory energy + device idle power × scaled latency)")
            }
        } else if let p = t.predictedLatencyS {
            lines.append("predicted \(formatSeconds(p)) · measured/predicted \(formatFixed(p > 0 ? e.p50 / p : 0, decimals: 2))× (p50), "
                         + "\(formatFixed(p > 0 ? e.scored / p : 0, decimals: 2))× (\(ScoredLatencyNote.statistic), what `validate` scores)")
        }
        let mem = t.memory
        var memLine = "memory: arena \(formatBytes(Double(mem.arenaBytes))) (lower bound \(formatBytes(Double(mem.arenaLowerBoundBytes))), "
            + "without reuse \(formatBytes(Double(mem.unsharedActivationBytes)))) + scratch \(formatBytes(Double(mem.scratchBytes))) "
            + "+ packed weights \(formatBytes(Double(mem.packedWeightBytes)))"
        if let rss = mem.peakRSSBytes { memLine += " · process peak RSS \(formatBytes(Double(rss)))" }
        if let pa = mem.predictedPeakActivationBytes, let pw = mem.predictedWeightBytes {
            memLine += " · predicted: activations \(formatBytes(pa)) + weights \(formatBytes(pw))"
        }
        lines.append(memLine)
        func counter(_ name: String, _ q: CounterQuantity, _ format: (Double) -> String) -> String {
            "\(name): \(q.value.map(format) ?? "n/a") (\(q.provenance.uppercased())) — \(q.note)"
        }
        lines.append(counter("energy/inference", t.energyJ) { formatSI($0, unit: "J") })
        lines.append(counter("DRAM traffic/inference", t.dramTrafficBytes) { formatBytes($0) })
        lines.append("OpenBLAS: \(r.host.blasConfig)")
        var emulationLines: [String] = []
        if let em = r.emulation {
            let p = em.plan
            var config = "\(p.deviceFile) unit \(p.unit) (\(p.unitKind)): \(p.deviceThreads) device thread(s) → \(p.threads) on this host"
                + (p.threadsCapped ? " (capped: \(p.hostCores) host cores)" : "")
                + " · im2col tile \(formatBytes(Double(p.im2colTileBytes))) (\(p.tileSource))"
                + (p.pointwiseTileBytes.map { " · 1×1 output tile \(formatBytes(Double($0)))" } ?? "") + " · precision \(p.precision)"
                + " (simulated: \(p.simulatedStorage)) · memory \(formatBytes(em.memoryNeededBytes)) needed of \(formatBytes(p.memoryLimitBytes)) ram"
            if let host = em.hostProfile { config += " · scaling denominator \(host)" }
            emulationLines.append(config)
            if let n = em.numerics {
                emulationLines.append("\(n.precision) storage numerics vs fp32: max abs \(formatFixed(n.maxAbsDifference, decimals: 6)), "
                                      + "max rel \(formatFixed(n.maxRelativeDifference, decimals: 6)), top-1 " + (n.top1Agrees ? "agrees" : "DIFFERS"))
            }
            emulationLines += p.notes.map { "note: " + $0 }
            for d in em.disagreements {
                emulationLines.append("#\(d.index) \(d.name) (\(d.kind)): predicted \(formatSeconds(d.predictedLatencyS)) vs scaled "
                                      + "\(formatSeconds(d.scaledLatencyS)) — \(d.explanation)")
            }
        }
        let shown = top.map { " (top \($0) of \(r.layers.count) layers by measured p50)" } ?? ""
        switch style {
        case .plain:
            if !emulationLines.isEmpty { parts.append("== emulating \(target)\n" + emulationLines.joined(separator: "\n")) }
            parts.append("== per layer\(shown)\n" + table.plain())
            parts.append(lines.joined(separator: "\n"))
            if !r.warnings.isEmpty { parts.append(r.warnings.map { "warning: \($0)" }.joined(separator: "\n")) }
        case .markdown:
            if !emulationLines.isEmpty {
                parts.append("## Emulating \(markdownEscape(target))\n\n" + emulationLines.map { "- " + markdownEscape($0) }.joined(separator: "\n"))
            }
            parts.append("## Per layer\(shown)\n\n" + table.markdown())
            parts.append(lines.map { "- " + markdownEscape($0) }.joined(separator: "\n"))
            if !r.warnings.isEmpty { parts.append(r.warnings.map { "> **warning:** " + markdownEscape($0) }.joined(separator: "\n>\n")) }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }
}
