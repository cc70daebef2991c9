import Foundation
import NNGraph

/// Plain-text and Markdown renderings of plan, sweep and simulation reports (one layout each).
public enum PlanRenderer {
    public typealias Style = ProfileRenderer.Style

    static func heading(_ text: String, _ style: Style, level: Int = 2) -> String {
        style == .markdown ? String(repeating: "#", count: level) + " " + markdownEscape(text) : text
    }

    static func table(_ t: TextTable, _ style: Style) -> String { style == .markdown ? t.markdown() : t.plain() }

    static func para(_ text: String, _ style: Style) -> String { style == .markdown ? markdownEscape(text) : text }

    static func mbit(_ bitsPerS: Double) -> String { formatSI(bitsPerS, unit: "bit/s") }

    static func tierChain(_ tiers: [PlanTierRecord], _ links: [PlanLinkRecord]) -> String {
        var parts: [String] = []
        for (k, t) in tiers.enumerated() {
            parts.append("\(t.name) = \(t.deviceName) (\(t.unit), \(t.precision))")
            if k < links.count {
                let l = links[k]
                parts.append("[\(l.id): \(mbit(l.uplinkBitsPerS)) up / \(mbit(l.downlinkBitsPerS)) down, RTT \(formatSeconds(l.rttS))"
                             + (l.loss > 0 ? ", loss \(formatSignificant(l.loss * 100, digits: 2))%" : "") + (l.trace != nil ? ", trace" : "") + "]")
            }
        }
        return parts.joined(separator: " → ")
    }

    // MARK: Plan

    public static func render(_ r: PlanReport, style: Style) -> String {
        var out: [String] = []
        let title = "\(r.scenario) · \(r.model.name) (\(formatCount(Double(r.model.macs))) MACs, \(r.model.kernels) kernels, \(r.model.cutTensors) tensors) · objective \(r.objective)"
        out.append(style == .markdown ? "# edgeprof plan: \(markdownEscape(title))" : "edgeprof plan — \(title)")
        let costs = r.costNote.map { $0 + "; links from their files, expected values" }
            ?? "All costs are PREDICTED (analytical cost model per tier; links from their files, expected values)"
        out.append(para(costs + ". Requests run one at a time (batch 1); data only flows forward along the tier chain.", style))
        out.append(para("tiers: " + tierChain(r.tiers, r.links), style))
        var constraints: [String] = []
        if let m = r.constraints.deviceMemoryBytes { constraints.append("device memory ≤ \(formatBytes(m))") }
        if let d = r.constraints.deadlineS { constraints.append("deadline \(formatSeconds(d))") }
        if let u = r.constraints.maxUplinkBytes { constraints.append("uplink ≤ \(formatBytes(u))/request") }
        if !r.constraints.pinnedKernels.isEmpty { constraints.append("\(r.constraints.pinnedKernels.count) kernels pinned to the device (privacy)") }
        if r.compression != "none" { constraints.append("cut tensors sent as \(r.compression)") }
        if !constraints.isEmpty { out.append(para("constraints: " + constraints.joined(separator: "; "), style)) }
        let optimality: String
        switch r.planner.optimality {
        case "exact": optimality = "exact over \(r.planner.scope ?? "its scope")"
        case "best_found": optimality = "BEST FOUND, not proven optimal (search budget exhausted; optimum ≥ \(r.planner.lowerBound.map { formatSignificant($0, digits: 4) } ?? "?"))"
        default: optimality = "no feasible plan"
        }
        out.append(para("planner: \(r.planner.name) — \(optimality)", style))

        if let plan = r.plan {
            let t = plan.totals
            out.append(heading("Best plan", style))
            out.append(para(plan.summary + (plan.split.map { " (\($0))" } ?? ""), style))
            out.append(para("latency \(formatSeconds(t.latencyS)) (compute \(formatSeconds(t.computeS)), transfers \(formatSeconds(t.transferS)), "
                            + "propagation \(formatSeconds(t.propagationS))) · device energy \(formatSI(t.deviceEnergyJ, unit: "J")) · "
                            + "pipelined throughput \(formatFixed(t.throughputPerS, decimals: 1))/s (bottleneck: \(t.bottleneck)) · "
                            + "device peak memory \(formatBytes(t.devicePeakMemoryBytes)) · uplink \(formatBytes(t.uplinkBytes))/request", style))
            var tiers = TextTable(headers: ["tier", "kernels", "compute", "runs (execution order)"], aligns: [.left, .right, .right, .left])
            for u in plan.tiers {
                tiers.add([u.tier, String(u.kernels), formatSeconds(u.computeS), u.runs.isEmpty ? "-" : u.runs.joined(separator: ", ")])
            }
            out.append(table(tiers, style))
            if !plan.transfers.isEmpty {
                var tr = TextTable(headers: ["tensor", "link", "direction", "bytes", "time"], aligns: [.left, .left, .left, .right, .right])
                for x in plan.transfers {
                    tr.add([x.tensor, x.link, "\(x.fromTier) → \(x.toTier)", formatBytes(x.bytes), formatSeconds(x.timeS)])
                }
                out.append(heading("Transfers (each tensor once per link)", style, level: 3) + "\n\n" + table(tr, style))
            }
        } else {
            out.append(heading("No feasible plan", style))
            out.append(para(r.infeasibleReason ?? "no placement meets the constraints", style))
        }

        var alt = TextTable(headers: ["alternative", "latency", "device energy", "throughput", "peak memory", "uplink", "verdict"],
                            aligns: [.left, .right, .right, .right, .right, .right, .left])
        for a in r.alternatives {
            alt.add([a.name, formatSeconds(a.totals.latencyS), formatSI(a.totals.deviceEnergyJ, unit: "J"),
                     "\(formatFixed(a.totals.throughputPerS, decimals: 1))/s", formatBytes(a.totals.devicePeakMemoryBytes),
                     formatBytes(a.totals.uplinkBytes), a.verdict])
        }
        out.append(heading("Why the alternatives lost", style, level: 3) + "\n\n" + table(alt, style))
        return out.joined(separator: "\n\n") + "\n"
    }

    // MARK: Sweep

    public static func render(_ r: SweepReport, style: Style) -> String {
        var out: [String] = []
        let title = "\(r.scenario) · \(r.model.name) · objective \(r.objective) · sweeping \(r.link.id) (\(r.link.from) → \(r.link.to))"
        out.append(style == .markdown ? "# edgeprof plan sweep: \(markdownEscape(title))" : "edgeprof plan sweep — \(title)")
        out.append(para("All costs \(r.provenance.uppercased()). Planner \(r.planner); \(r.points.count) points, \(r.solves) plans solved. Method: \(r.method).", style))
        var policy = TextTable(headers: ["uplink from", "to", "best plan"], aligns: [.right, .right, .left])
        for i in r.intervals {
            let text = i.plan.map { id -> String in
                let plan = r.plans[id]
                return plan.split.map { "\(plan.summary) — \($0)" } ?? plan.summary
            } ?? "no feasible plan"
            policy.add([mbit(i.fromBitsPerS), mbit(i.toBitsPerS), text])
        }
        out.append(heading("Policy map", style) + "\n\n" + table(policy, style))
        if r.switchPointsBitsPerS.isEmpty {
            out.append(para("No switch point: one plan is best over the whole range.", style))
        } else {
            out.append(para("Switch points: " + r.switchPointsBitsPerS.map { mbit($0) }.joined(separator: ", "), style))
        }
        return out.joined(separator: "\n\n") + "\n"
    }

    // MARK: Simulation

    public static func render(_ r: SimulationReport, style: Style) -> String {
        var out: [String] = []
        let c = r.config
        var load = c.arrivals
        if let fps = c.fps { load += " \(formatFixed(fps, decimals: 2)) fps" }
        if let rate = c.rate { load += " \(formatFixed(rate, decimals: 2))/s" }
        let title = "\(r.scenario) · \(r.model.name) · \(load) · \(c.frames) frames × \(c.clients) client\(c.clients == 1 ? "" : "s") · seed \(c.seed)"
        out.append(style == .markdown ? "# edgeprof simulate: \(markdownEscape(title))" : "edgeprof simulate — \(title)")
        out.append(para("SIMULATED (discrete-event, seeded) over \(r.costs.uppercased()) costs. Plan (\(r.planner)): \(r.plan)", style))
        if let note = r.costNote { out.append(para(note, style)) }
        out.append(para("planned: latency \(formatSeconds(r.planned.latencyS)), device energy \(formatSI(r.planned.deviceEnergyJ, unit: "J")), "
                        + "pipelined throughput \(formatFixed(r.planned.throughputPerS, decimals: 1))/s", style))
        let s = r.results
        var t = TextTable(headers: ["metric", "value"], aligns: [.left, .right])
        t.add(["completed / dropped", "\(s.completed) / \(s.dropped)"])
        t.add(["latency mean", formatSeconds(s.latencyMeanS)])
        t.add(["latency p50 / p90 / p99", "\(formatSeconds(s.latencyP50S)) / \(formatSeconds(s.latencyP90S)) / \(formatSeconds(s.latencyP99S))"])
        t.add(["latency max", formatSeconds(s.latencyMaxS)])
        if let m = s.missRate, let d = c.deadlineS ?? (c.fps.map { 1 / $0 }) { t.add(["deadline misses (> \(formatSeconds(d)))", formatPercent(m)]) }
        t.add(["throughput", "\(formatFixed(s.throughputPerS, decimals: 2))/s"])
        t.add(["device energy / request", formatSI(s.energyPerRequestJ, unit: "J")])
        t.add(["average device power", formatSI(s.averageDevicePowerW, unit: "W")])
        t.add(["simulated time", formatSeconds(s.makespanS)])
        if c.replan { t.add(["plan switches", String(s.switches)]) }
        out.append(table(t, style))
        var res = TextTable(headers: ["resource", "utilisation", "mean queue", "max queue", "jobs"], aligns: [.left, .right, .right, .right, .right])
        for x in r.resources {
            res.add([x.name, formatPercent(x.utilisation), formatFixed(x.meanQueue, decimals: 2), String(x.maxQueue), String(x.jobs)])
        }
        out.append(heading("Resources", style, level: 3) + "\n\n" + table(res, style))
        if !r.timeline.isEmpty {
            // Only resources that served something.
            let used = r.resources.indices.filter { r.resources[$0].jobs > 0 }
            var headers = ["time"] + used.map { "\(r.resources[$0].name) util" }
            headers.append("done")
            var tl = TextTable(headers: headers, aligns: [.left] + used.map { _ in .right } + [.right])
            for b in r.timeline {
                tl.add(["\(formatSeconds(b.startS))–\(formatSeconds(b.endS))"] + used.map { formatPercent(b.utilisation[$0]) } + [String(b.completed)])
            }
            out.append(heading("Utilisation over time", style, level: 3) + "\n\n" + table(tl, style))
        }
        if r.plansUsed.count > 1 {
            out.append(para("plans used: " + r.plansUsed.enumerated().map { "[\($0.offset)] \($0.element)" }.joined(separator: " | "), style))
        }
        return out.joined(separator: "\n\n") + "\n"
    }
}
