import RunRecords
import CostModel
import DeviceSpec
import Foundation
import ModelImport
import NNGraph

/// `edgeprof models`.
public enum ZooListing {
    public struct Row: Codable, Sendable {
        public var name: String
        public var summary: String
        public var inputShape: [Int]
        public var macs: Int
        public var params: Int
        public var publishedMacs: Double?
        public var publishedParams: Double?
        public var publishedSource: String?
        enum CodingKeys: String, CodingKey {
            case name, summary, macs, params
            case inputShape = "input_shape"
            case publishedMacs = "published_macs"
            case publishedParams = "published_params"
            case publishedSource = "published_source"
        }
    }

    public static func rows() throws(EdgeProfError) -> [Row] {
        var rows: [Row] = []
        for m in ModelZoo.all {
            let g: Graph
            do { g = try m.build() } catch { throw .graph(model: m.name, error) }
            let c = g.totalCounts()
            rows.append(Row(name: m.name, summary: m.summary, inputShape: m.inputShape.dims, macs: c.macs, params: c.params,
                            publishedMacs: m.published?.macs, publishedParams: m.published?.params, publishedSource: m.published?.source))
        }
        return rows
    }

    public static func table(_ rows: [Row]) -> TextTable {
        var t = TextTable(headers: ["model", "input", "MACs", "params", "published MACs / params", "description"],
                          aligns: [.left, .left, .right, .right, .right, .left])
        for r in rows {
            let pub = r.publishedMacs.map { "\(formatCount($0)) / \(formatCount(r.publishedParams ?? 0))" } ?? "-"
            t.add([r.name, TensorShape(r.inputShape).description, formatCount(Double(r.macs)), formatCount(Double(r.params)), pub, r.summary])
        }
        return t
    }

    public static func json(_ rows: [Row]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? enc.encode(rows)).flatMap { String(data: $0, encoding: .utf8) } ?? "[]"
    }
}

/// `edgeprof devices check`.
public enum DeviceCheck {
    public struct Result: Sendable {
        public var okLines: [String]
        public var errors: [SpecError]
    }

    public static func check(_ files: [String]) -> Result {
        var ok: [String] = []
        var errors: [SpecError] = []
        for f in files {
            do {
                let d = try DeviceLoader.load(file: f)
                let units = d.computeUnits.map { u in
                    "\(u.name) (\(u.kind.rawValue), \(u.precision.rawValue) \(formatSI(u.peak[u.precision]?.value.value ?? 0, unit: "FLOP/s")))"
                }.joined(separator: ", ")
                let mem = d.memory.map { "\($0.name) \(formatBytes($0.size.value.value))" }.joined(separator: " / ")
                ok.append("ok  \(f): \(d.name) [\(d.id)] units: \(units); memory: \(mem)")
            } catch {
                errors.append(error)
            }
        }
        return Result(okLines: ok, errors: errors)
    }
}

/// A loaded scenario ready to run.
public struct ScenarioRun: Sendable {
    public var spec: ScenarioSpec
    public var devices: [DeviceProfile]

    public static func load(_ file: String) throws(EdgeProfError) -> ScenarioRun {
        let spec: ScenarioSpec
        do { spec = try ScenarioLoader.load(file: file) } catch { throw .spec(error) }
        return ScenarioRun(spec: spec, devices: try ProfileWorkflow.loadDevices(spec.deviceFiles))
    }

    public func profile() throws(EdgeProfError) -> ProfileWorkflow.Result {
        let model = try ModelSource.load(spec.model)
        return ProfileWorkflow.Result(model: model, devices: devices, report: try ProfileWorkflow.profile(model, on: devices, coldWeights: spec.coldWeights))
    }

    /// The stored-run record of this scenario's profile.
    public func record(_ result: ProfileWorkflow.Result, commandLine: [String] = CommandLine.arguments,
                       basePath: String = FileManager.default.currentDirectoryPath) -> RunRecord {
        RunRecording.record(kind: "scenario", model: result.model, devices: result.devices, profile: result.report,
                            commandLine: commandLine, scenario: spec.name, basePath: basePath)
    }
}
