import RunRecords
import Foundation
import NNGraph

/// Human-readable renderings of a `ProfileReport` (table and Markdown share one layout).
public enum ProfileRenderer {
    public enum Style: Sendable { case plain, markdown }

    public static func render(_ report: ProfileReport, style: Style, top: Int? = nil) -> String {
        var parts: [String] = []
        let m = report.model
        let heading = "\(m.name) · \(formatCount(Double(m.macs))) MACs · \(formatCount(Double(m.params))) params · "
            + "\(m.nodes) nodes in \(m.fusedKernels) fused kernels · source \(m.source)"
        switch style {
        case .plain:
            parts.append("edgeprof profile — \(heading)")
            parts.append("All latencies, traffic and energies are PREDICTED by the analytical cost model (not measured).")
        case .markdown:
            parts.append("# edgeprof profile: \(markdownEscape(m.name))")
            parts.append(markdownEscape(heading))
            parts.append("> All latencies, traffic and energies are **predicted** by the analytical cost model (not measured).")
        }
        for d in report.devices {
            parts.append(deviceSection(d, style: style, top: top))
        }
        if report.devices.count > 1 {
            let t = comparisonTable(report)
            switch style {
            case .plain: parts.append("Device comparison (predicted)\n" + t.plain())
            case .markdown: parts.append("## Device comparison (predicted)\n\n" + t.markdown())
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    static func deviceSection(_ d: DeviceReport, style: Style, top: Int?) -> String {
        let levelNames = d.totals.bytesMoved.map(\.level)
        var headers = ["#", "layer", "kind", "output", "MACs", "params"]
        var aligns: [TextTable.Align] = [.right, .left, .left, .left, .right, .right]
        for l in levelNames { headers.append("\(l) bytes"); aligns.append(.right) }
        headers += ["bound", "latency", "energy", "share"]
        aligns += [.left, .right, .right, .right]
        var table = TextTable(headers: headers, aligns: aligns)
        var layers = d.layers
        if let top, top > 0 {
            layers = Array(layers.sorted { ($0.latencyS, -$0.index) > ($1.latencyS, -$1.index) }.prefix(top))
        }
        for l in layers {
            var row = [String(l.index), l.name, l.kind, TensorShape(l.outputShape).description,
                       formatCount(Double(l.macs)), formatCount(Double(l.params))]
            for b in l.bytesMoved { row.append(formatBytes(b.readBytes + b.writeBytes)) }
            row += [l.bound, formatSeconds(l.latencyS), formatSI(l.energyJ, unit: "J"), formatPercent(l.share)]
            table.add(row)
        }
        let t = d.totals
        let levelEnergy: String = t.bytesMoved.map { "\($0.level) \(formatSI($0.energyJ, unit: "J"))" }.joined(separator: ", ")
        var summary: String = "total latency \(formatSeconds(t.latencyS)) · energy \(formatSI(t.energyJ, unit: "J")) "
        summary += "(compute \(formatSI(t.energyBreakdown.computeJ, unit: "J")), \(levelEnergy)"
        summary += ", static \(formatSI(t.energyBreakdown.staticJ, unit: "J"))) · peak memory \(formatBytes(t.peakMemoryBytes)) "
        summary += "(weights \(formatBytes(t.weightBytes)) + activations \(formatBytes(t.peakActivationBytes)))"
        if !t.fitsInRAM { summary += " — DOES NOT FIT in \(formatBytes(t.ramBytes)) RAM" }
        if let note = t.weightsNote { summary += "\n" + note }
        if !t.unsupportedLayers.isEmpty {
            summary += "\nunsupported (not costed, shown as explicit rows): " + t.unsupportedLayers.joined(separator: ", ")
        }
        let traffic = "bytes moved per level: " + t.bytesMoved.map { "\($0.level) \(formatBytes($0.readBytes + $0.writeBytes))" }.joined(separator: " · ")
        let title = "\(d.name) (\(d.id)) · unit \(d.unit) · \(d.precision) · \(d.file)"
        let shown = top.map { " (top \($0) layers by latency of \(d.layers.count))" } ?? ""
        switch style {
        case .plain:
            return "== \(title)\(shown)\n" + table.plain() + "\n" + summary + "\n" + traffic
        case .markdown:
            return "## \(markdownEscape(title))\(shown)\n\n" + table.markdown() + "\n\n" + markdownEscape(summary) + "\n\n" + markdownEscape(traffic)
        }
    }

    static func comparisonTable(_ report: ProfileReport) -> TextTable {
        var table = TextTable(headers: ["device", "unit", "precision", "latency", "fps", "energy/inference", "peak memory", "fits RAM",
                                        "main-memory traffic", "bottleneck layer", "vs fastest"],
                              aligns: [.left, .left, .left, .right, .right, .right, .right, .left, .right, .left, .right])
        let fastest = report.devices.map(\.totals.latencyS).min() ?? 0
        for d in report.devices {
            let t = d.totals
            let dram = t.bytesMoved.last.map { formatBytes($0.readBytes + $0.writeBytes) } ?? "-"
            table.add([d.name, d.unit, d.precision, formatSeconds(t.latencyS), formatFixed(t.latencyS > 0 ? 1 / t.latencyS : 0, decimals: 1),
                       formatSI(t.energyJ, unit: "J"), formatBytes(t.peakMemoryBytes), t.fitsInRAM ? "yes" : "NO", dram,
                       t.bottleneckLayer ?? "-", fastest > 0 ? "\(formatFixed(t.latencyS / fastest, decimals: 2))×" : "-"])
        }
        return table
    }
}

