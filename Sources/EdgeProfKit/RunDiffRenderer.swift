import Reports
import RunRecords

/// Plain-text rendering of `runs diff`.
public enum RunDiffRenderer {
    public static func render(_ diff: RunDiff, top: Int) -> String {
        var out: [String] = []
        out.append("diff run #\(diff.runA.map(String.init) ?? "?") → #\(diff.runB.map(String.init) ?? "?")")
        var totals = TextTable(headers: ["device", "latency A", "latency B", "Δ latency", "energy A", "energy B", "Δ energy"],
                               aligns: [.left, .right, .right, .right, .right, .right, .right])
        for d in diff.devices {
            totals.add([d.device, formatSeconds(d.latencyA), formatSeconds(d.latencyB), signedPercent(d.latencyChange),
                        formatSI(d.energyA, unit: "J"), formatSI(d.energyB, unit: "J"), signedPercent(d.energyChange)])
        }
        out.append(totals.plain())
        if !diff.unmatchedDevices.isEmpty { out.append("devices in only one run: \(diff.unmatchedDevices.joined(separator: ", "))") }
        for d in diff.devices {
            let changed = d.layers.filter { ($0.latencyChange ?? 1) != 0 }
                .sorted { abs(($0.latencyB ?? 0) - ($0.latencyA ?? 0)) > abs(($1.latencyB ?? 0) - ($1.latencyA ?? 0)) }
            guard !changed.isEmpty else {
                out.append("\(d.device): no per-layer change")
                continue
            }
            var t = TextTable(headers: ["layer", "latency A", "latency B", "Δ"], aligns: [.left, .right, .right, .right])
            for l in changed.prefix(top) {
                t.add([l.name, l.latencyA.map(formatSeconds) ?? "(absent)", l.latencyB.map(formatSeconds) ?? "(absent)",
                       l.latencyChange.map(signedPercent) ?? "-"])
            }
            out.append("\(d.device): \(changed.count) layer(s) changed (top \(min(top, changed.count)) by absolute change)\n" + t.plain())
        }
        return out.joined(separator: "\n\n") + "\n"
    }

    static func signedPercent(_ f: Double) -> String { (f >= 0 ? "+" : "") + formatPercent(f) }
}
