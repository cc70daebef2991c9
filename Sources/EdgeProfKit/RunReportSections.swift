import Foundation
import NNGraph
import Reports
import RunRecords
import Validation

/// Report cards and sections for the non-profile parts of a stored run (plans, bandwidth sweeps,
/// simulations, measurements, validations). Built from `RunRecord.sections` only; both renderers
/// draw the same blocks, so HTML and Markdown carry the same numbers.
public enum RunReportSections {
    public static func build(_ run: RunRecord) -> (cards: [Card], sections: [ReportSection], subtitle: String?) {
        var cards: [Card] = []
        var sections: [ReportSection] = []
        var subtitle: String?
        if let m = run.section(RunSectionKey.measure, as: MeasureReport.self) {
            let (c, s) = measure(m)
            cards += c
            sections += s
            subtitle = "\(formatCount(Double(m.model.macs))) MACs · \(m.model.fusedKernels) fused kernels · MEASURED on this host (\(m.host.cpuModel)), "
                + "\(m.settings.threads) thread\(m.settings.threads == 1 ? "" : "s")"
        }
        if let p = run.section(RunSectionKey.plan, as: PlanReport.self) {
            let (c, s) = plan(p)
            cards += c
            sections += s
            subtitle = "\(p.scenario) · objective \(p.objective) · \(p.tiers.map(\.name).joined(separator: " → ")) · all costs \(p.provenance)"
        }
        if let w = run.section(RunSectionKey.sweep, as: SweepReport.self) {
            sections += sweep(w)
            subtitle = "\(w.scenario) · sweeping \(w.link.id) · all costs \(w.provenance)"
        }
        if let r = run.section(RunSectionKey.simulation, as: SimulationReport.self) {
            let (c, s) = simulation(r)
            cards += c
            sections += s
            subtitle = "\(r.scenario) · \(r.config.arrivals) · \(r.config.frames) frames × \(r.config.clients) client(s) · seed \(r.config.seed) · "
                + "simulated over \(r.costs) costs"
        }
        if let h = run.section(RunSectionKey.hostValidation, as: HostValidationResult.self) {
            let (c, s) = hostValidation(h)
            cards += c
            sections += s
            subtitle = "predicted (\(h.deviceFile)) vs MEASURED on this host, \(h.threads) thread(s)"
        }
        if let v = run.section(RunSectionKey.publishedValidation, as: PublishedValidationResult.self) {
            let (c, s) = publishedValidation(v)
            cards += c
            sections += s
            subtitle = "predicted vs published measurements (\(v.file)); errors on held-out rows only"
        }
        return (cards, sections, subtitle)
    }

    // MARK: Helpers

    static func table(_ headers: [String], numeric: [Bool], _ rows: [[ReportCell]], sortable: Bool = false) -> ReportBlock {
        .table(ReportTable(headers: headers, numeric: numeric, rows: rows, sortable: sortable))
    }

    static func cell(_ seconds: Double) -> ReportCell { ReportCell(formatSeconds(seconds), sortKey: seconds) }
    static func pct(_ f: Double) -> ReportCell { ReportCell(formatPercent(f), sortKey: f) }
    static func signed(_ f: Double) -> String { (f >= 0 ? "+" : "") + formatPercent(f) }

    static func scatter(_ title: String, x: String, y: String, band: Double, _ points: [ScatterChart.Point]) -> ReportBlock {
        .chart(.scatter(ScatterChart(title: title, xLabel: x, yLabel: y, unit: "s", band: band, points: points)))
    }

    // MARK: Measure

    static func measure(_ m: MeasureReport) -> ([Card], [ReportSection]) {
        let t = m.totals
        var cards = [Card(label: "latency (measured p50)", value: formatSeconds(t.measuredLatencyS.p50),
                          note: "p90 \(formatSeconds(t.measuredLatencyS.p90)), CoV \(formatPercent(t.measuredLatencyS.cov)), \(t.measuredLatencyS.samples) runs")]
        if let p = t.hostPredictedLatencyS ?? t.predictedLatencyS {
            cards.append(Card(label: "predicted (this host)", value: formatSeconds(p), note: "error \(signed(p / t.measuredLatencyS.p50 - 1)) vs p50, "
                              + "\(signed(p / t.measuredLatencyS.scored - 1)) vs the fastest run (what validate scores)"))
        }
        if let s = t.scaledLatencyS, let d = m.prediction {
            cards.append(Card(label: "scaled to \(d.deviceName)", value: formatSeconds(s), note: "predicted \(t.predictedLatencyS.map(formatSeconds) ?? "-")"))
        }
        cards.append(Card(label: "peak RSS (measured)", value: t.memory.peakRSSBytes.map { formatBytes(Double($0)) } ?? "-",
                          note: "arena \(formatBytes(Double(t.memory.arenaBytes))), weights \(formatBytes(Double(t.memory.packedWeightBytes)))"))

        // Predicted for this host (the measured configuration) against measured, per layer.
        let hostPrediction: (MeasuredLayer) -> Double? = { l in l.hostPredictedLatencyS ?? (m.emulation == nil ? l.predictedLatencyS : nil) }
        var points: [ScatterChart.Point] = []
        var rows: [[ReportCell]] = []
        for l in m.layers {
            let measured = l.measuredLatencyS.p50
            let predicted = hostPrediction(l)
            if let predicted, predicted > 0, measured > 0 {
                points.append(ScatterChart.Point(label: l.name, x: measured, y: predicted, group: l.kind.split(separator: "-").first.map(String.init) ?? l.kind))
            }
            rows.append([ReportCell(String(l.index), sortKey: Double(l.index)), ReportCell(l.name), ReportCell(l.kind), ReportCell(l.algorithm),
                         cell(measured), cell(l.measuredLatencyS.p90), predicted.map(cell) ?? ReportCell("-"),
                         predicted.map { p in measured > 0 ? ReportCell(signed(p / measured - 1), sortKey: p / measured - 1) : ReportCell("-") } ?? ReportCell("-"),
                         pct(l.share)])
        }
        var blocks: [ReportBlock] = [
            .paragraph("Measured with the real kernels (\(m.settings.threads) thread(s), \(m.host.cpuModel)); end to end p50 "
                       + "\(formatSeconds(t.measuredLatencyS.p50)), per-layer-timed runs p50 \(formatSeconds(t.perLayerRunsLatencyS.p50)) "
                       + "(gap \(formatSeconds(t.timingGapS))). Energy: \(t.energyJ.provenance) \(t.energyJ.value.map { formatSI($0, unit: "J") } ?? "-"); "
                       + "DRAM traffic: \(t.dramTrafficBytes.provenance) \(t.dramTrafficBytes.value.map(formatBytes) ?? "-")."),
        ]
        if !points.isEmpty {
            let inBand = points.filter { abs($0.y / $0.x - 1) <= 0.1 }.count
            blocks.append(.paragraph("Per layer, predicted for this host vs measured: \(inBand) of \(points.count) layers within ±10%."))
            blocks.append(scatter("Per-layer predicted vs measured latency (this host, ±10% band)", x: "measured p50", y: "predicted", band: 0.1, points))
        }
        blocks.append(.chart(.bars(BarChart(title: "Measured per-layer latency (p50)", unit: "s",
                                            bars: m.layers.map { BarChart.Bar(label: $0.name, value: $0.measuredLatencyS.p50, valueText: formatSeconds($0.measuredLatencyS.p50), group: $0.kind.split(separator: "-").first.map(String.init) ?? $0.kind) },
                                            horizontal: false))))
        blocks.append(table(["#", "layer", "kind", "algorithm", "measured p50", "measured p90", "predicted (host)", "error", "share"],
                            numeric: [true, false, false, false, true, true, true, true, true], rows, sortable: true))
        var sections = [ReportSection(id: "measured", title: "Measured on this host: \(m.model.name)", blocks: blocks)]
        if !m.warnings.isEmpty {
            sections.append(ReportSection(id: "measure-warnings", title: "Warnings", blocks: m.warnings.map { .paragraph($0) }))
        }
        return (cards, sections)
    }

    // MARK: Plan

    static func stages(_ label: String, tiers: [(String, Double)], links: [(String, Double)], propagation: Double, total: Double) -> StackedBarChart.Row {
        var parts: [(name: String, value: Double)] = tiers.filter { $0.1 > 0 }.map { ("\($0.0) compute", $0.1) }
        parts += links.filter { $0.1 > 0 }.map { ("\($0.0) transfer", $0.1) }
        if propagation > 0 { parts.append(("propagation", propagation)) }
        return StackedBarChart.Row(label: label, parts: parts, totalText: formatSeconds(total))
    }

    static func plan(_ r: PlanReport) -> ([Card], [ReportSection]) {
        var cards: [Card] = []
        var blocks: [ReportBlock] = [.paragraph("Tiers: " + PlanRenderer.tierChain(r.tiers, r.links) + ". Planner \(r.planner.name) (\(r.planner.optimality)). "
                                                 + (r.costNote ?? "All costs \(r.provenance.uppercased()) (analytical cost model per tier; links from their files)."))]
        guard let plan = r.plan else {
            blocks.append(.paragraph("No feasible plan: " + (r.infeasibleReason ?? "no placement meets the constraints")))
            return ([Card(label: "plan", value: "infeasible", note: r.scenario)], [ReportSection(id: "plan", title: "Offload plan", blocks: blocks)])
        }
        let t = plan.totals
        cards.append(Card(label: "latency (\(r.provenance))", value: formatSeconds(t.latencyS), note: plan.summary))
        cards.append(Card(label: "device energy", value: formatSI(t.deviceEnergyJ, unit: "J"), note: "per request"))
        cards.append(Card(label: "uplink / request", value: formatBytes(t.uplinkBytes), note: plan.split ?? "no split"))
        cards.append(Card(label: "device peak memory", value: formatBytes(t.devicePeakMemoryBytes), note: "bottleneck: \(t.bottleneck)"))
        blocks.append(.paragraph("Best plan: \(plan.summary)\(plan.split.map { " (\($0))" } ?? ""). Latency \(formatSeconds(t.latencyS)) = compute "
                                 + "\(formatSeconds(t.computeS)) + transfers \(formatSeconds(t.transferS)) + propagation \(formatSeconds(t.propagationS)); "
                                 + "device energy \(formatSI(t.deviceEnergyJ, unit: "J")); pipelined throughput \(formatFixed(t.throughputPerS, decimals: 1))/s."))
        var linkTimes: [String: Double] = [:]
        for x in plan.transfers { linkTimes[x.link, default: 0] += x.timeS }
        var rows = [stages("best: \(plan.summary)", tiers: plan.tiers.map { ($0.tier, $0.computeS) },
                           links: r.links.map { ($0.id, linkTimes[$0.id] ?? 0) }, propagation: t.propagationS, total: t.latencyS)]
        for a in r.alternatives where a.feasible {
            rows.append(stages(a.name, tiers: [("all tiers", a.totals.computeS)], links: [("all links", a.totals.transferS)],
                               propagation: a.totals.propagationS, total: a.totals.latencyS))
        }
        blocks.append(.chart(.stacked(StackedBarChart(title: "Where the latency goes: best plan (per tier and link) and alternatives", rows: rows, unit: "s"))))
        blocks.append(table(["tier", "kernels", "compute", "runs (execution order)"], numeric: [false, true, true, false],
                            plan.tiers.map { [ReportCell($0.tier), ReportCell(String($0.kernels), sortKey: Double($0.kernels)), cell($0.computeS),
                                              ReportCell($0.runs.isEmpty ? "-" : $0.runs.joined(separator: ", "))] }))
        if !plan.transfers.isEmpty {
            blocks.append(table(["tensor", "link", "from → to", "bytes", "time"], numeric: [false, false, false, true, true],
                                plan.transfers.map { [ReportCell($0.tensor), ReportCell($0.link), ReportCell("\($0.fromTier) → \($0.toTier)"),
                                                      ReportCell(formatBytes($0.bytes), sortKey: $0.bytes), cell($0.timeS)] }))
        }
        var sections = [ReportSection(id: "plan", title: "Offload plan", blocks: blocks)]
        sections.append(ReportSection(id: "plan-alternatives", title: "Why the alternatives lost", blocks: [
            table(["alternative", "latency", "device energy", "throughput", "peak memory", "uplink", "verdict"],
                  numeric: [false, true, true, true, true, true, false],
                  r.alternatives.map { a in
                      [ReportCell(a.name), cell(a.totals.latencyS), ReportCell(formatSI(a.totals.deviceEnergyJ, unit: "J"), sortKey: a.totals.deviceEnergyJ),
                       ReportCell("\(formatFixed(a.totals.throughputPerS, decimals: 1))/s", sortKey: a.totals.throughputPerS),
                       ReportCell(formatBytes(a.totals.devicePeakMemoryBytes), sortKey: a.totals.devicePeakMemoryBytes),
                       ReportCell(formatBytes(a.totals.uplinkBytes), sortKey: a.totals.uplinkBytes), ReportCell(a.verdict)]
                  }),
        ]))
        sections.append(ReportSection(id: "plan-placement", title: "Placement: which kernel runs on which tier", blocks: [
            table(["#", "kernel", "kind", "tier"], numeric: [true, false, false, false],
                  plan.placement.map { [ReportCell(String($0.index), sortKey: Double($0.index)), ReportCell($0.name), ReportCell($0.kind), ReportCell($0.tier)] },
                  sortable: true),
        ]))
        return (cards, sections)
    }

    // MARK: Sweep

    static func sweep(_ w: SweepReport) -> [ReportSection] {
        let feasible = w.points.filter { $0.latencyS != nil }
        let markers = w.switchPointsBitsPerS.map { LineChart.Marker(x: $0, label: formatSI($0, unit: "bit/s")) }
        var blocks: [ReportBlock] = [
            .paragraph("Best plan per uplink bandwidth of \(w.link.id) (\(w.link.from) → \(w.link.to)); \(w.points.count) points, \(w.solves) plans solved "
                       + "(\(w.method)). Switch points: " + (w.switchPointsBitsPerS.isEmpty ? "none (one plan is best over the whole range)"
                                                             : w.switchPointsBitsPerS.map { formatSI($0, unit: "bit/s") }.joined(separator: ", ")) + "."),
            .chart(.lines(LineChart(title: "Latency of the best plan vs uplink bandwidth (switch points dashed)", xLabel: "uplink bandwidth", xUnit: "bit/s",
                                    yLabel: "latency", yUnit: "s", logX: true,
                                    series: [LineChart.Series(name: "best-plan latency", points: feasible.map { LineChart.Point(x: $0.bandwidthBitsPerS, y: $0.latencyS ?? 0) })],
                                    markers: markers))),
            .chart(.lines(LineChart(title: "Device energy of the best plan vs uplink bandwidth", xLabel: "uplink bandwidth", xUnit: "bit/s",
                                    yLabel: "device energy", yUnit: "J", logX: true,
                                    series: [LineChart.Series(name: "device energy", points: feasible.compactMap { p in p.deviceEnergyJ.map { LineChart.Point(x: p.bandwidthBitsPerS, y: $0) } })],
                                    markers: markers))),
        ]
        blocks.append(table(["uplink from", "to", "best plan"], numeric: [true, true, false], w.intervals.map { i in
            let text = i.plan.map { id -> String in
                let plan = w.plans[id]
                return plan.split.map { "\(plan.summary) — \($0)" } ?? plan.summary
            } ?? "no feasible plan"
            return [ReportCell(formatSI(i.fromBitsPerS, unit: "bit/s"), sortKey: i.fromBitsPerS), ReportCell(formatSI(i.toBitsPerS, unit: "bit/s"), sortKey: i.toBitsPerS),
                    ReportCell(text)]
        }))
        return [ReportSection(id: "sweep", title: "Policy map: best plan vs bandwidth", blocks: blocks)]
    }

    // MARK: Simulation

    static func simulation(_ r: SimulationReport) -> ([Card], [ReportSection]) {
        let s = r.results
        var cards = [Card(label: "latency p50 (simulated)", value: formatSeconds(s.latencyP50S), note: "p90 \(formatSeconds(s.latencyP90S)), p99 \(formatSeconds(s.latencyP99S))"),
                     Card(label: "throughput", value: "\(formatFixed(s.throughputPerS, decimals: 2))/s", note: "\(s.completed) completed, \(s.dropped) dropped"),
                     Card(label: "device energy / request", value: formatSI(s.energyPerRequestJ, unit: "J"), note: "average power \(formatSI(s.averageDevicePowerW, unit: "W"))")]
        if let miss = s.missRate { cards.append(Card(label: "deadline misses", value: formatPercent(miss), note: r.config.deadlineS.map { "> \(formatSeconds($0))" } ?? "> 1/fps")) }
        var blocks: [ReportBlock] = [
            .paragraph("SIMULATED (discrete-event, seed \(r.config.seed)) over \(r.costs.uppercased()) costs. Plan (\(r.planner)): \(r.plan). Planned latency "
                       + "\(formatSeconds(r.planned.latencyS)); simulated mean \(formatSeconds(s.latencyMeanS)), p50 \(formatSeconds(s.latencyP50S)), "
                       + "p90 \(formatSeconds(s.latencyP90S)), p99 \(formatSeconds(s.latencyP99S)), max \(formatSeconds(s.latencyMaxS)) over \(formatSeconds(s.makespanS)) simulated."),
        ]
        if !r.latencyHistogram.isEmpty {
            blocks.append(.chart(.bars(BarChart(title: "Latency distribution (requests per bin)", unit: "requests",
                                                bars: r.latencyHistogram.map { BarChart.Bar(label: "\(formatSeconds($0.lowS))–\(formatSeconds($0.highS))", value: Double($0.count),
                                                                                           valueText: "\($0.count)", group: "requests") },
                                                horizontal: false))))
            blocks.append(table(["latency from", "to", "requests"], numeric: [true, true, true], r.latencyHistogram.map {
                [cell($0.lowS), cell($0.highS), ReportCell(String($0.count), sortKey: Double($0.count))]
            }))
        }
        var sections = [ReportSection(id: "simulation", title: "Simulated latency", blocks: blocks)]
        let used = r.resources.indices.filter { r.resources[$0].jobs > 0 }
        var timeline: [ReportBlock] = [table(["resource", "utilisation", "mean queue", "max queue", "jobs"], numeric: [false, true, true, true, true],
                                             r.resources.map { [ReportCell($0.name), pct($0.utilisation), ReportCell(formatFixed($0.meanQueue, decimals: 2), sortKey: $0.meanQueue),
                                                                ReportCell(String($0.maxQueue), sortKey: Double($0.maxQueue)), ReportCell(String($0.jobs), sortKey: Double($0.jobs))] })]
        if !r.timeline.isEmpty, !used.isEmpty {
            timeline.insert(.chart(.lines(LineChart(
                title: "Utilisation over simulated time", xLabel: "simulated time", xUnit: "s", yLabel: "utilisation", yUnit: "%", logX: false,
                series: used.map { i in LineChart.Series(name: r.resources[i].name, points: r.timeline.map { LineChart.Point(x: ($0.startS + $0.endS) / 2, y: $0.utilisation[i]) }) }))), at: 0)
            timeline.append(table(["time"] + used.map { "\(r.resources[$0].name) util" } + used.map { "\(r.resources[$0].name) queue" } + ["done"],
                                  numeric: [false] + used.map { _ in true } + used.map { _ in true } + [true],
                                  r.timeline.map { b in
                                      [ReportCell("\(formatSeconds(b.startS))–\(formatSeconds(b.endS))", sortKey: b.startS)] + used.map { pct(b.utilisation[$0]) }
                                          + used.map { ReportCell(formatFixed(b.meanQueue[$0], decimals: 2), sortKey: b.meanQueue[$0]) } + [ReportCell(String(b.completed), sortKey: Double(b.completed))]
                                  }))
        }
        sections.append(ReportSection(id: "simulation-timeline", title: "Queues and utilisation over time", blocks: timeline))
        return (cards, sections)
    }

    // MARK: Validation

    static func hostValidation(_ h: HostValidationResult) -> ([Card], [ReportSection]) {
        let e = h.endToEnd, l = h.layers
        let cards = [Card(label: "models within ±10%", value: formatPercent(e.shareWithinTolerance),
                          note: "target ≥ \(formatPercent(HostValidationResult.targetModelShare)) (\(h.meetsModelTarget ? "met" : "NOT met")), \(e.count) models"),
                     Card(label: "per-layer MAPE", value: formatPercent(l.meanAbsoluteError),
                          note: "target ≤ \(formatPercent(HostValidationResult.targetLayerMAPE)) (\(h.meetsLayerTarget ? "met" : "NOT met")), median \(formatPercent(l.medianAbsoluteError))")]
        var cardsWithDrift = cards
        if let d = h.drift {
            cardsWithDrift.append(Card(label: "drift-adjusted within ±10%", value: formatPercent(d.endToEnd.shareWithinTolerance),
                                       note: "diagnostic: prediction × probe drift (median per round \(d.roundDrift.map { formatFixed($0, decimals: 2) + "×" }.joined(separator: ", "))); "
                                           + "per-layer MAPE \(formatPercent(d.layers.meanAbsoluteError))"))
        }
        var points = h.models.map { ScatterChart.Point(label: $0.model, x: $0.measuredMs / 1000, y: $0.predictedMs / 1000, group: "end to end") }
        points += h.layerPairs.map { ScatterChart.Point(label: $0.label, x: $0.measured, y: $0.predicted, group: "layer") }
        var blocks: [ReportBlock] = [
            .paragraph("\(h.calibrationNote). \(h.machineNote). End to end: \(formatPercent(e.shareWithinTolerance)) of \(e.count) models within ±10%, "
                       + "MAPE \(formatPercent(e.meanAbsoluteError)); per layer: MAPE \(formatPercent(l.meanAbsoluteError)) over \(l.count) layers, "
                       + "median \(formatPercent(l.medianAbsoluteError)), Spearman \(l.spearman.map { formatFixed($0, decimals: 3) } ?? "-")."),
            scatter("Predicted vs measured on this host (models and layers, ±10% band)", x: "measured", y: "predicted", band: 0.1, points),
            table(["model", "measured", "CoV", "predicted", "error", "layers", "layer MAPE"], numeric: [false, true, true, true, true, true, true],
                  h.models.map { [ReportCell($0.model), cell($0.measuredMs / 1000), pct($0.measuredCoV), cell($0.predictedMs / 1000),
                                  ReportCell(signed($0.relativeError), sortKey: $0.relativeError), ReportCell(String($0.layers), sortKey: Double($0.layers)), pct($0.layerMAPE)] },
                  sortable: true),
            table(["kernel kind", "layers", "time share", "MAPE", "median |err|", "median signed"], numeric: [false, true, true, true, true, true],
                  h.kinds.map { [ReportCell($0.kind), ReportCell(String($0.summary.count), sortKey: Double($0.summary.count)), pct($0.timeShare),
                                 pct($0.summary.meanAbsoluteError), pct($0.summary.medianAbsoluteError), ReportCell(signed($0.summary.medianSignedError), sortKey: $0.summary.medianSignedError)] },
                  sortable: true),
            table(["worst layer", "measured", "predicted", "error"], numeric: [false, true, true, true],
                  l.worst.map { [ReportCell($0.label), cell($0.measured), cell($0.predicted), ReportCell(signed($0.relativeError), sortKey: $0.relativeError)] }),
        ]
        if let buckets = h.sizeBuckets, !buckets.isEmpty {
            blocks.append(.paragraph("By measured layer time: " + HostSizeBucket.note
                                     + (h.layerRoundSpread.map { "; all layers: spread \(formatPercent($0)) against MAPE \(formatPercent(l.meanAbsoluteError))" } ?? "") + "."))
            blocks.append(table(["measured layer time", "layers", "MAPE", "round-to-round spread"], numeric: [false, true, true, true],
                                buckets.map { b in
                                    [ReportCell(b.rangeLabel, sortKey: b.lowerSeconds),
                                     ReportCell(String(b.layers), sortKey: Double(b.layers)), pct(b.modelMAPE),
                                     b.roundSpread.map(pct) ?? ReportCell("-")]
                                }))
        }
        if let d = h.drift {
            blocks.insert(.paragraph("Machine drift (median per round): \(d.roundDrift.map { formatFixed($0, decimals: 2) + "×" }.joined(separator: ", ")). "
                                     + "Drift-adjusted: \(formatPercent(d.endToEnd.shareWithinTolerance)) of \(d.endToEnd.count) models within ±10%, "
                                     + "end-to-end MAPE \(formatPercent(d.endToEnd.meanAbsoluteError)), per-layer MAPE \(formatPercent(d.layers.meanAbsoluteError)). "
                                     + HostDriftResult.note + "."), at: 1)
        }
        return (cardsWithDrift, [ReportSection(id: "validation-host", title: "Validation on this host (predicted vs measured)", blocks: blocks)])
    }

    static func publishedValidation(_ v: PublishedValidationResult) -> ([Card], [ReportSection]) {
        let held = v.heldOutUnflagged
        let cards = [Card(label: "held-out median |error|", value: formatPercent(held.medianAbsoluteError),
                          note: "target ≤ \(formatPercent(PublishedValidationResult.targetMedianError)) (\(v.meetsTarget ? "met" : "NOT met")), \(held.count) unflagged rows"),
                     Card(label: "held-out within ±25%", value: formatPercent(held.shareWithinTolerance), note: "all held-out: median \(formatPercent(v.heldOut.medianAbsoluteError))")]
        let points = v.rows.filter(\.heldOut).compactMap { r -> ScatterChart.Point? in
            guard let c = r.calibratedMs else { return nil }
            return ScatterChart.Point(label: "\(r.id) \(r.model) \(r.device) \(r.runtime)", x: r.measuredMs / 1000, y: c / 1000, group: r.device)
        }
        let blocks: [ReportBlock] = [
            .paragraph("Split: \(v.split). Factors: \(v.factorScheme). Errors are reported on held-out rows only (never used for fitting); "
                       + "target: median abs error ≤ \(formatPercent(PublishedValidationResult.targetMedianError)) on held-out rows."),
            scatter("Predicted (with fitted runtime factors) vs published latency, held-out rows (±25% band)", x: "published", y: "predicted", band: 0.25, points),
            table(["device", "runtime", "fit rows", "held-out", "factor", "median |err|"], numeric: [false, false, true, true, true, true],
                  v.groups.map { g in
                      [ReportCell(g.device), ReportCell(g.runtime), ReportCell(String(g.fittingRows.count), sortKey: Double(g.fittingRows.count)),
                       ReportCell(String(g.heldOutRows), sortKey: Double(g.heldOutRows)),
                       g.factor.map { ReportCell(formatFixed($0, decimals: 3), sortKey: $0) } ?? ReportCell("-"),
                       g.heldOut.count > 0 ? pct(g.heldOut.medianAbsoluteError) : ReportCell("-")]
                  }, sortable: true),
            table(["row", "model", "device", "runtime", "published", "predicted", "error", "role"], numeric: [false, false, false, false, true, true, true, false],
                  v.rows.map { r in
                      let p = r.calibratedMs ?? r.uncalibratedMs
                      return [ReportCell(r.id), ReportCell(r.model), ReportCell(r.device), ReportCell(r.runtime), cell(r.measuredMs / 1000), cell(p / 1000),
                              ReportCell(signed(p / r.measuredMs - 1), sortKey: p / r.measuredMs - 1),
                              ReportCell((r.heldOut ? "held-out" : (r.fitting ? "fit" : "unused")) + (r.flagged ? " (flagged)" : ""))]
                  }, sortable: true),
        ]
        return (cards, [ReportSection(id: "validation-published", title: "Validation against published latencies", blocks: blocks)])
    }
}
