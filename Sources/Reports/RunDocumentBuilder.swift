import NNGraph
import RunRecords

/// Builds the report document of a stored run. Sections appear only when the run has them.
public enum RunDocumentBuilder {
    /// `extraCards`/`extraSections` come from the run's other result sections (plans, simulations,
    /// measurements, validations), built by EdgeProfKit from the stored record.
    public static func document(for run: RunRecord, extraCards: [Card] = [], extraSections: [ReportSection] = []) -> ReportDocument {
        let modelName = run.profile?.model.name ?? run.model.name
        var meta = [MetaItem(label: "run", value: run.id.map { "#\($0)" } ?? "(not stored)"),
                    MetaItem(label: "kind", value: run.kind),
                    MetaItem(label: "created", value: run.createdAt),
                    MetaItem(label: "tool", value: "edgeprof \(run.toolVersion) (build \(String(run.buildID.prefix(12))))"),
                    MetaItem(label: "model", value: "\(run.model.name) (\(run.model.source), sha256 \(String(run.model.sha256.prefix(12))))")]
        if let s = run.scenario { meta.append(MetaItem(label: "scenario", value: s)) }
        meta.append(MetaItem(label: "command", value: run.commandLine.joined(separator: " ")))

        var cards: [Card] = []
        var sections: [ReportSection] = []
        if let p = run.profile {
            cards = summaryCards(p)
            if p.devices.count > 1 { sections.append(comparisonSection(p)) }
            for (i, d) in p.devices.enumerated() { sections += deviceSections(d, index: i) }
            sections.append(energySection(p))
            sections.append(deviceFilesSection(run))
        }
        cards += extraCards
        sections = extraSections + sections
        let subtitle = run.profile.map { p in
            "\(formatCount(Double(p.model.macs))) MACs · \(formatCount(Double(p.model.params))) params · \(p.model.nodes) nodes in "
                + "\(p.model.fusedKernels) fused kernels · \(p.devices.count) device\(p.devices.count == 1 ? "" : "s") · all figures \(p.provenance)"
        } ?? run.kind
        return ReportDocument(title: "edgeprof \(run.kind): \(modelName)", subtitle: subtitle, meta: meta, cards: cards, sections: sections)
    }

    static func summaryCards(_ p: ProfileReport) -> [Card] {
        guard let fastest = p.devices.min(by: { $0.totals.latencyS < $1.totals.latencyS }) else { return [] }
        let t = fastest.totals
        let bottleneck = fastest.layers.max { $0.latencyS < $1.latencyS }
        var cards = [
            Card(label: "latency (predicted)", value: formatSeconds(t.latencyS), note: "\(fastest.name), fastest of \(p.devices.count)"),
            Card(label: "energy / inference", value: formatSI(t.energyJ, unit: "J"), note: fastest.name),
            Card(label: "peak memory", value: formatBytes(t.peakMemoryBytes),
                 note: "weights \(formatBytes(t.weightBytes)) + activations \(formatBytes(t.peakActivationBytes))"),
        ]
        if let b = bottleneck {
            cards.append(Card(label: "bottleneck layer", value: b.name, note: "\(b.kind), \(b.bound), \(formatPercent(b.share)) of latency"))
        }
        if p.devices.count > 1, let slowest = p.devices.max(by: { $0.totals.latencyS < $1.totals.latencyS }) {
            cards.append(Card(label: "slowest device", value: formatSeconds(slowest.totals.latencyS), note: slowest.name))
        }
        return cards
    }

    static func comparisonSection(_ p: ProfileReport) -> ReportSection {
        let fastest = p.devices.map(\.totals.latencyS).min() ?? 0
        var rows: [[ReportCell]] = []
        for d in p.devices {
            let t = d.totals
            let main = t.bytesMoved.last.map { $0.readBytes + $0.writeBytes } ?? 0
            rows.append([ReportCell(d.name), ReportCell(d.unit), ReportCell(d.precision),
                         ReportCell(formatSeconds(t.latencyS), sortKey: t.latencyS),
                         ReportCell(formatFixed(t.latencyS > 0 ? 1 / t.latencyS : 0, decimals: 1), sortKey: t.latencyS > 0 ? 1 / t.latencyS : 0),
                         ReportCell(formatSI(t.energyJ, unit: "J"), sortKey: t.energyJ),
                         ReportCell(formatBytes(t.peakMemoryBytes), sortKey: t.peakMemoryBytes),
                         ReportCell(t.fitsInRAM ? "yes" : "NO"),
                         ReportCell(formatBytes(main), sortKey: main),
                         ReportCell(t.bottleneckLayer ?? "-"),
                         ReportCell(fastest > 0 ? "\(formatFixed(t.latencyS / fastest, decimals: 2))×" : "-", sortKey: fastest > 0 ? t.latencyS / fastest : 0)])
        }
        let table = ReportTable(headers: ["device", "unit", "precision", "latency", "fps", "energy/inference", "peak memory", "fits RAM",
                                          "main-memory traffic", "bottleneck layer", "vs fastest"],
                                numeric: [false, false, false, true, true, true, true, false, true, false, true], rows: rows, sortable: true)
        let chart = BarChart(title: "Predicted latency per device", unit: "s",
                             bars: p.devices.map { .init(label: $0.name, value: $0.totals.latencyS, valueText: formatSeconds($0.totals.latencyS), group: $0.unit) },
                             horizontal: true)
        return ReportSection(id: "comparison", title: "Device comparison", blocks: [.chart(.bars(chart)), .table(table)])
    }

    static func deviceSections(_ d: DeviceReport, index: Int) -> [ReportSection] {
        let t = d.totals
        var blocks: [ReportBlock] = []
        var summary = "\(d.name) (\(d.id)), unit \(d.unit), \(d.precision): latency \(formatSeconds(t.latencyS)), energy \(formatSI(t.energyJ, unit: "J")), "
            + "peak memory \(formatBytes(t.peakMemoryBytes)) (weights \(formatBytes(t.weightBytes)) + activations \(formatBytes(t.peakActivationBytes)))"
            + (t.fitsInRAM ? ", fits in \(formatBytes(t.ramBytes)) RAM." : " — DOES NOT FIT in \(formatBytes(t.ramBytes)) RAM.")
        if let note = t.weightsNote { summary += " " + note.prefix(1).uppercased() + String(note.dropFirst()) + "." }
        blocks.append(.paragraph(summary))
        if !t.unsupportedLayers.isEmpty {
            blocks.append(.paragraph("Unsupported (not costed, shown as explicit rows): " + t.unsupportedLayers.joined(separator: ", ")))
        }
        blocks.append(.chart(.bars(BarChart(title: "Predicted latency per fused kernel, in execution order", unit: "s",
                                            bars: d.layers.map { .init(label: "#\($0.index) \($0.name) (\($0.kind))", value: $0.latencyS,
                                                                       valueText: formatSeconds($0.latencyS), group: $0.opClass) },
                                            horizontal: false))))
        var rows: [[ReportCell]] = []
        for l in d.layers {
            var row = [ReportCell(String(l.index), sortKey: Double(l.index)), ReportCell(l.name), ReportCell(l.kind),
                       ReportCell(TensorShape(l.outputShape).description, sortKey: Double(l.outputShape.reduce(1, *))),
                       ReportCell(formatCount(Double(l.macs)), sortKey: Double(l.macs)), ReportCell(formatCount(Double(l.params)), sortKey: Double(l.params))]
            for b in l.bytesMoved { row.append(ReportCell(formatBytes(b.readBytes + b.writeBytes), sortKey: b.readBytes + b.writeBytes)) }
            row += [ReportCell(formatFixed(l.arithmeticIntensity, decimals: 1), sortKey: l.arithmeticIntensity), ReportCell(l.bound),
                    ReportCell(formatSeconds(l.latencyS), sortKey: l.latencyS), ReportCell(formatSI(l.energyJ, unit: "J"), sortKey: l.energyJ),
                    ReportCell(formatPercent(l.share), sortKey: l.share)]
            rows.append(row)
        }
        let levels = t.bytesMoved.map(\.level)
        let headers = ["#", "layer", "kind", "output", "MACs", "params"] + levels.map { "\($0) bytes" } + ["FLOP/B", "bound", "latency", "energy", "share"]
        let numeric = [true, false, false, true, true, true] + levels.map { _ in true } + [true, false, true, true, true]
        blocks.append(.table(ReportTable(headers: headers, numeric: numeric, rows: rows, sortable: true)))

        var sections = [ReportSection(id: "layers-\(index)", title: "Per-layer: \(d.name)", blocks: blocks)]

        // Roofline and traffic.
        var roofBlocks: [ReportBlock] = []
        if let r = d.roofline {
            let points = d.layers.filter { $0.latencyS > 0 && $0.flops > 0 && $0.arithmeticIntensity > 0 }.map {
                RooflineChart.Point(label: "#\($0.index) \($0.name)", intensity: $0.arithmeticIntensity, flopsPerS: Double($0.flops) / $0.latencyS, group: $0.opClass)
            }
            roofBlocks.append(.chart(.roofline(RooflineChart(title: "Roofline: \(d.name)", peakFlopsPerS: r.peakFlopsPerS,
                                                               roofs: r.levels.map { ($0.level, $0.bytesPerS) }, points: points))))
            let mainBW = r.levels.last?.bytesPerS ?? 0
            let ridge = mainBW > 0 ? r.peakFlopsPerS / mainBW : 0
            let memBound = d.layers.filter { $0.bound.hasPrefix("memory") }.count
            let computeBound = d.layers.filter { $0.bound == "compute" }.count
            let overheadBound = d.layers.filter { $0.bound == "overhead" }.count
            roofBlocks.append(.paragraph("Peak \(formatSI(r.peakFlopsPerS, unit: "FLOP/s")) (\(d.precision)); "
                + r.levels.map { "\($0.level) \(formatSI($0.bytesPerS, unit: "B/s"))" }.joined(separator: ", ")
                + "; main-memory ridge point \(formatFixed(ridge, decimals: 1)) FLOP/B. Kernels: \(computeBound) compute-bound, "
                + "\(memBound) memory-bound, \(overheadBound) overhead-bound (of \(d.layers.count))."))
        }
        let trafficRows = t.bytesMoved.map { b in
            [ReportCell(b.level), ReportCell(formatBytes(b.readBytes), sortKey: b.readBytes), ReportCell(formatBytes(b.writeBytes), sortKey: b.writeBytes),
             ReportCell(formatSeconds(b.timeS), sortKey: b.timeS), ReportCell(formatSI(b.energyJ, unit: "J"), sortKey: b.energyJ)]
        }
        roofBlocks.append(.chart(.bars(BarChart(title: "Bytes moved per memory level", unit: "B",
                                                bars: t.bytesMoved.map { .init(label: $0.level, value: $0.readBytes + $0.writeBytes,
                                                                               valueText: formatBytes($0.readBytes + $0.writeBytes), group: "memory") },
                                                horizontal: true))))
        roofBlocks.append(.table(ReportTable(headers: ["level", "read", "written", "transfer time (sum)", "energy"],
                                             numeric: [false, true, true, true, true], rows: trafficRows, sortable: false)))
        sections.append(ReportSection(id: "roofline-\(index)", title: "Roofline and memory traffic: \(d.name)", blocks: roofBlocks))
        return sections
    }

    static func energySection(_ p: ProfileReport) -> ReportSection {
        let levelNames = orderedLevels(p)
        var rows: [[ReportCell]] = []
        var stacked: [StackedBarChart.Row] = []
        for d in p.devices {
            let e = d.totals.energyBreakdown
            var parts: [(name: String, value: Double)] = [("compute", e.computeJ)]
            var row = [ReportCell(d.name), ReportCell(formatSI(e.computeJ, unit: "J"), sortKey: e.computeJ)]
            for l in levelNames {
                let v = e.memoryJ[l]
                row.append(ReportCell(v.map { formatSI($0, unit: "J") } ?? "-", sortKey: v ?? 0))
                if let v { parts.append(("memory: \(l)", v)) }
            }
            parts.append(("static", e.staticJ))
            row += [ReportCell(formatSI(e.staticJ, unit: "J"), sortKey: e.staticJ), ReportCell(formatSI(d.totals.energyJ, unit: "J"), sortKey: d.totals.energyJ)]
            rows.append(row)
            stacked.append(.init(label: d.name, parts: parts, totalText: formatSI(d.totals.energyJ, unit: "J")))
        }
        let table = ReportTable(headers: ["device", "compute"] + levelNames + ["static (idle power × latency)", "total"],
                                numeric: [false, true] + levelNames.map { _ in true } + [true, true], rows: rows, sortable: true)
        return ReportSection(id: "energy", title: "Energy breakdown per inference",
                             blocks: [.chart(.stacked(StackedBarChart(title: "Energy per inference: compute vs memory levels vs static", rows: stacked))),
                                      .table(table)])
    }

    static func deviceFilesSection(_ run: RunRecord) -> ReportSection {
        let rows = run.devices.map { [ReportCell($0.id), ReportCell($0.name), ReportCell($0.path), ReportCell(String($0.sha256.prefix(16)))] }
        return ReportSection(id: "inputs", title: "Inputs", blocks: [
            .paragraph("Device files as stored with the run (full contents are in the run record: `edgeprof runs export \(run.id.map(String.init) ?? "ID") --format json`)."),
            .table(ReportTable(headers: ["device id", "name", "file", "sha256"], numeric: [false, false, false, false], rows: rows, sortable: false)),
        ])
    }

    static func orderedLevels(_ p: ProfileReport) -> [String] {
        var out: [String] = []
        for d in p.devices { for b in d.totals.bytesMoved where !out.contains(b.level) { out.append(b.level) } }
        return out
    }
}

/// "4.09 G", "25.6 M", "912 k", "12".
public func formatCount(_ v: Double) -> String {
    if v < 1000 { return String(Int(v.rounded())) }
    var s = formatSI(v, unit: "")
    while s.last == " " { s.removeLast() }
    return s
}

public func formatPercent(_ f: Double) -> String { "\(formatFixed(f * 100, decimals: 1))%" }
