import DeviceSpec
import Foundation
import NNGraph
import Reports
import RunRecords
import RunStore

/// Builds stored run records and renders reports from them.
public enum RunRecording {
    /// ISO 8601 UTC now, or `EDGEPROF_FIXED_TIME` (used to regenerate committed example reports).
    public static func timestamp(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let fixed = environment["EDGEPROF_FIXED_TIME"], !fixed.isEmpty { return fixed }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    /// A git-free build id: hash of the tool version and the executable's size and modification time.
    public static func buildID(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        // Reproducible example reports: a fixed time also fixes the build id.
        if let fixed = environment["EDGEPROF_FIXED_TIME"], !fixed.isEmpty { return "reproducible" }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? "edgeprof"
        let attrs = try? FileManager.default.attributesOfItem(atPath: exe)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? 0
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return SHA256.hex("edgeprof \(edgeprofVersion) \(size) \(Int64(mtime))")
    }

    public static func modelIdentity(_ model: LoadedModel) -> ModelIdentity {
        if model.source.hasPrefix("onnx:"), let data = FileManager.default.contents(atPath: String(model.source.dropFirst(5))) {
            return ModelIdentity(name: model.name, source: model.source, sha256: SHA256.hex(data))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = (try? enc.encode(model.graph)) ?? Data(model.name.utf8)
        return ModelIdentity(name: model.name, source: model.source, sha256: SHA256.hex(data))
    }

    public static func deviceRecords(_ devices: [DeviceProfile], relativeTo base: String? = nil) -> [DeviceFileRecord] {
        devices.map { d in
            let content = (try? String(contentsOfFile: d.file, encoding: .utf8)) ?? ""
            var path = d.file
            if let base, path.hasPrefix(base.hasSuffix("/") ? base : base + "/") { path = String(path.dropFirst(base.count + (base.hasSuffix("/") ? 0 : 1))) }
            return DeviceFileRecord(id: d.id, name: d.name, path: path, sha256: SHA256.hex(content), content: content)
        }
    }

    public static func record(kind: String, model: LoadedModel, devices: [DeviceProfile], profile: ProfileReport?,
                              commandLine: [String] = CommandLine.arguments, scenario: String? = nil,
                              sections: [String: JSONValue] = [:], basePath: String = FileManager.default.currentDirectoryPath) -> RunRecord {
        let cwd = basePath
        var cmd = commandLine
        if let first = cmd.first { cmd[0] = (first as NSString).lastPathComponent }
        return RunRecord(kind: kind, createdAt: timestamp(), commandLine: cmd, toolVersion: edgeprofVersion, buildID: buildID(),
                         model: modelIdentity(model), devices: deviceRecords(devices, relativeTo: cwd), host: HostInfo.current(),
                         scenario: scenario, profile: profile?.relativizingPaths(to: cwd), sections: sections)
    }

    public enum ReportFormat: String, Sendable, CaseIterable {
        case html, md

        /// From a file extension (.html/.htm → html, .md/.markdown → md).
        public static func forPath(_ path: String) -> ReportFormat? {
            switch (path as NSString).pathExtension.lowercased() {
            case "html", "htm": .html
            case "md", "markdown": .md
            default: nil
            }
        }
    }

    public static func render(_ run: RunRecord, format: ReportFormat) -> String {
        let extra = RunReportSections.build(run)
        var doc = RunDocumentBuilder.document(for: run, extraCards: extra.cards, extraSections: extra.sections)
        if run.profile == nil, let subtitle = extra.subtitle { doc.subtitle = subtitle }
        switch format {
        case .html: return HTMLRenderer.render(doc)
        case .md: return MarkdownRenderer.render(doc)
        }
    }

    /// Writes a report for `run` to `path` (format from the extension), atomically.
    public static func writeReport(_ run: RunRecord, to path: String) throws(EdgeProfError) {
        guard let format = ReportFormat.forPath(path) else {
            throw .usage("--report \(path): use a .html or .md file name")
        }
        try writeAtomically(render(run, format: format), to: path)
    }

    /// Chrome trace-event JSON (open in Perfetto or chrome://tracing): for profiles one track per
    /// device with one complete event per fused kernel on the predicted timeline; for measure runs
    /// the measured per-layer timeline; for simulations one track per tier and link direction with
    /// its busy periods.
    public static func chromeTrace(_ run: RunRecord) -> String {
        var events: [[String: Any]] = []
        for (pid, d) in (run.profile?.devices ?? []).enumerated() {
            events.append(["name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": ["name": "\(d.name) (predicted)"]])
            var t = 0.0
            for l in d.layers {
                events.append(["name": l.name, "cat": l.kind, "ph": "X", "pid": pid, "tid": 0, "ts": t * 1e6, "dur": l.latencyS * 1e6,
                               "args": ["kind": l.kind, "bound": l.bound, "macs": l.macs, "energy_j": l.energyJ, "provenance": "predicted"]])
                t += l.latencyS
            }
        }
        var pid = run.profile?.devices.count ?? 0
        if let m = run.section(RunSectionKey.measure, as: MeasureReport.self) {
            // Measured per-layer execution: layers back to back at their median times (one run's
            // timeline as the per-layer-timed runs see it); args carry the spread.
            events.append(["name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                           "args": ["name": "\(m.model.name) measured on this host (\(m.settings.threads) thread(s))"]])
            var t = 0.0
            for l in m.layers {
                let d = l.measuredLatencyS.p50
                events.append(["name": l.name, "cat": l.kind, "ph": "X", "pid": pid, "tid": 0, "ts": t * 1e6, "dur": d * 1e6,
                               "args": ["kind": l.kind, "algorithm": l.algorithm, "p90_s": l.measuredLatencyS.p90, "min_s": l.measuredLatencyS.min,
                                        "predicted_s": l.hostPredictedLatencyS ?? l.predictedLatencyS ?? -1, "provenance": "measured (median per layer)"]])
                t += d
            }
            pid += 1
        }
        if let r = run.section(RunSectionKey.simulation, as: SimulationReport.self), let activity = r.activity {
            // Simulated activity: one thread per tier and link direction, one event per busy period.
            events.append(["name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": ["name": "\(r.scenario) simulated (seed \(r.config.seed))"]])
            for (tid, a) in activity.enumerated() {
                events.append(["name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": ["name": a.resource]])
                for span in a.spansS where span.count == 2 {
                    events.append(["name": "busy", "cat": a.resource, "ph": "X", "pid": pid, "tid": tid, "ts": span[0] * 1e6,
                                   "dur": max(span[1] - span[0], 0) * 1e6, "args": ["provenance": "simulated"]])
                }
                if a.omitted > 0 {
                    events.append(["name": "\(a.omitted) later busy periods not exported", "ph": "i", "s": "t", "pid": pid, "tid": tid,
                                   "ts": (a.spansS.last?.last ?? 0) * 1e6])
                }
            }
            pid += 1
        }
        let obj: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ms"]
        guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Opens the store at `path` (default location when nil).
    public static func openStore(_ path: String?) throws(EdgeProfError) -> RunStore {
        do { return try RunStore(path: path ?? RunStore.defaultPath()) } catch { throw .io(error.description) }
    }

    public static func save(_ run: RunRecord, storePath: String?) throws(EdgeProfError) -> (RunRecord, String) {
        let store = try openStore(storePath)
        do {
            var r = run
            r.id = try store.save(run)
            return (r, store.path)
        } catch {
            throw .io(error.description)
        }
    }
}
