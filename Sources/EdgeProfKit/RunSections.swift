import DeviceSpec
import Foundation
import NNGraph
import RunRecords

/// Keys of `RunRecord.sections`: each result-producing command stores its full report there (the
/// same JSON its `--format json` prints), so reports and traces are rendered from the record only.
public enum RunSectionKey {
    public static let plan = "plan"
    public static let sweep = "sweep"
    public static let simulation = "simulation"
    public static let measure = "measure"
    public static let hostValidation = "validation_host"
    public static let publishedValidation = "validation_published"
    public static let scaledValidation = "validation_scaled"
}

extension JSONValue {
    static let nonFinite = (positive: "inf", negative: "-inf", nan: "nan")

    /// The JSON tree of an encodable value (non-finite numbers as the strings "inf", "-inf", "nan").
    public init?<T: Encodable>(encoding value: T) {
        let enc = JSONEncoder()
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: Self.nonFinite.positive,
                                                                  negativeInfinity: Self.nonFinite.negative, nan: Self.nonFinite.nan)
        guard let data = try? enc.encode(value), let tree = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        self = tree
    }

    /// Decodes the tree as `T` (the inverse of `init(encoding:)`); nil if it does not fit.
    public func decoded<T: Decodable>(as type: T.Type) -> T? {
        guard let data = try? JSONEncoder().encode(self) else { return nil }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: Self.nonFinite.positive,
                                                                    negativeInfinity: Self.nonFinite.negative, nan: Self.nonFinite.nan)
        return try? dec.decode(T.self, from: data)
    }
}

extension RunRecord {
    /// A stored section decoded as `T` (nil when absent or of another shape).
    public func section<T: Decodable>(_ key: String, as type: T.Type) -> T? { sections[key]?.decoded(as: type) }
}

extension RunRecording {
    /// A record for commands other than `profile`: the model's identity, the device files used and
    /// the command's report(s) under `RunSectionKey` keys.
    public static func record(kind: String, model: ModelIdentity, devices: [DeviceProfile], sections: [String: JSONValue],
                              scenario: String? = nil, commandLine: [String] = CommandLine.arguments,
                              basePath: String = FileManager.default.currentDirectoryPath) -> RunRecord {
        var cmd = commandLine
        if let first = cmd.first { cmd[0] = (first as NSString).lastPathComponent }
        return RunRecord(kind: kind, createdAt: timestamp(), commandLine: cmd, toolVersion: edgeprofVersion, buildID: buildID(), model: model,
                         devices: deviceRecords(devices, relativeTo: basePath), host: HostInfo.current(), scenario: scenario,
                         profile: nil, sections: sections)
    }

    /// Identity of a model reference without importing it: an ONNX file's bytes are hashed; a zoo
    /// model's graph is built (cheap) and hashed as `modelIdentity(_:)` does.
    public static func modelIdentity(reference: String, name: String? = nil) -> ModelIdentity {
        if reference.lowercased().hasSuffix(".onnx") {
            let data = FileManager.default.contents(atPath: reference) ?? Data(reference.utf8)
            let base = ((reference as NSString).lastPathComponent as NSString).deletingPathExtension
            return ModelIdentity(name: name ?? base, source: "onnx:\(reference)", sha256: SHA256.hex(data))
        }
        if let model = try? ModelSource.load(reference) { return modelIdentity(model) }
        return ModelIdentity(name: name ?? reference, source: reference, sha256: SHA256.hex(reference))
    }

    /// Identity of a set of models (validation runs): the names and their hashes, hashed together.
    public static func modelSetIdentity(name: String, references: [String]) -> ModelIdentity {
        let ids = references.map { modelIdentity(reference: $0) }
        return ModelIdentity(name: name, source: "set: " + ids.map(\.name).joined(separator: ", "),
                             sha256: SHA256.hex(ids.map { "\($0.name)=\($0.sha256)" }.joined(separator: "\n")))
    }

    /// Loads device files for a record; files that fail to load are left out (the command already
    /// validated the ones it used).
    public static func devicesForRecord(_ files: [String]) -> [DeviceProfile] {
        files.compactMap { try? ProfileWorkflow.loadDevices([$0]).first }
    }
}

extension RunRecording {
    /// `runs diff`: per-layer and total deltas of B against A. Profile runs compare every device's
    /// predicted layers; measure runs the measured medians (end to end and per layer); plan runs the
    /// best plan's latency and device energy (per tier compute as rows); simulations the latency
    /// percentiles and energy per request. Runs with nothing in common are an error.
    public static func diff(_ a: RunRecord, _ b: RunRecord) throws(EdgeProfError) -> RunDiff {
        let what = "run #\(a.id ?? 0) (\(a.kind)) and run #\(b.id ?? 0) (\(b.kind))"
        if a.profile != nil, b.profile != nil { return RunDiff(a: a, b: b) }
        if let ma = a.section(RunSectionKey.measure, as: MeasureReport.self), let mb = b.section(RunSectionKey.measure, as: MeasureReport.self) {
            var layers: [RunDiff.LayerDelta] = []
            for la in ma.layers {
                layers.append(RunDiff.LayerDelta(name: la.name, latencyA: la.measuredLatencyS.p50, latencyB: mb.layers.first { $0.name == la.name }?.measuredLatencyS.p50))
            }
            for lb in mb.layers where !ma.layers.contains(where: { $0.name == lb.name }) {
                layers.append(RunDiff.LayerDelta(name: lb.name, latencyA: nil, latencyB: lb.measuredLatencyS.p50))
            }
            let device = "measured \(ma.model.name), \(ma.settings.threads) thread(s)"
            return RunDiff(runA: a.id, runB: b.id, devices: [RunDiff.DeviceDelta(
                device: device, latencyA: ma.totals.measuredLatencyS.p50, latencyB: mb.totals.measuredLatencyS.p50,
                energyA: ma.totals.energyJ.value ?? 0, energyB: mb.totals.energyJ.value ?? 0, layers: layers)])
        }
        if let pa = a.section(RunSectionKey.plan, as: PlanReport.self)?.plan, let pb = b.section(RunSectionKey.plan, as: PlanReport.self)?.plan {
            let tiers = pa.tiers.map { t in
                RunDiff.LayerDelta(name: "\(t.tier) compute", latencyA: t.computeS, latencyB: pb.tiers.first { $0.tier == t.tier }?.computeS)
            } + [RunDiff.LayerDelta(name: "transfers", latencyA: pa.totals.transferS, latencyB: pb.totals.transferS)]
            return RunDiff(runA: a.id, runB: b.id, devices: [RunDiff.DeviceDelta(
                device: "best plan", latencyA: pa.totals.latencyS, latencyB: pb.totals.latencyS,
                energyA: pa.totals.deviceEnergyJ, energyB: pb.totals.deviceEnergyJ, layers: tiers)])
        }
        if let sa = a.section(RunSectionKey.simulation, as: SimulationReport.self)?.results,
           let sb = b.section(RunSectionKey.simulation, as: SimulationReport.self)?.results {
            let rows = [("p50", sa.latencyP50S, sb.latencyP50S), ("p90", sa.latencyP90S, sb.latencyP90S), ("p99", sa.latencyP99S, sb.latencyP99S),
                        ("max", sa.latencyMaxS, sb.latencyMaxS)].map { RunDiff.LayerDelta(name: "latency \($0.0)", latencyA: $0.1, latencyB: $0.2) }
            return RunDiff(runA: a.id, runB: b.id, devices: [RunDiff.DeviceDelta(
                device: "simulated (p99)", latencyA: sa.latencyP99S, latencyB: sb.latencyP99S,
                energyA: sa.energyPerRequestJ, energyB: sb.energyPerRequestJ, layers: rows)])
        }
        throw .usage("\(what) have no comparable results (diff compares two profile, measure, plan or simulate runs)")
    }
}
