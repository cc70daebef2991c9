import RunRecords
import CostModel
import DeviceSpec
import Foundation
import NNGraph

public let edgeprofVersion = "0.1.0"

/// `edgeprof profile`: predict a model's per-layer cost on one or more devices.
public enum ProfileWorkflow {
    public struct Request: Sendable {
        public var model: String
        public var deviceFiles: [String]
        /// Compute unit name (per device); nil = each device's default unit.
        public var unit: String?
        /// Runtime section (per device); nil = each device's default runtime.
        public var runtime: String?
        public var loadOptions: ModelLoadOptions
        /// Price a first inference: every weight from main memory (default: steady state).
        public var coldWeights: Bool
        public init(model: String, deviceFiles: [String], unit: String? = nil, runtime: String? = nil, loadOptions: ModelLoadOptions = ModelLoadOptions(),
                    coldWeights: Bool = false) {
            self.coldWeights = coldWeights
            self.model = model
            self.deviceFiles = deviceFiles
            self.unit = unit
            self.runtime = runtime
            self.loadOptions = loadOptions
        }
    }

    /// Loads every device file first and reports all spec errors together.
    public static func loadDevices(_ files: [String]) throws(EdgeProfError) -> [DeviceProfile] {
        var devices: [DeviceProfile] = []
        var errors: [SpecError] = []
        for f in files {
            do { devices.append(try DeviceLoader.load(file: f)) } catch { errors.append(error) }
        }
        if errors.count == 1 { throw .spec(errors[0]) }
        if !errors.isEmpty { throw .specs(errors) }
        return devices
    }

    /// A finished profile with the inputs it came from (for storing the run).
    public struct Result: Sendable {
        public var model: LoadedModel
        public var devices: [DeviceProfile]
        public var report: ProfileReport
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> Result {
        guard !request.deviceFiles.isEmpty else { throw .usage("give at least one --device FILE (e.g. devices/raspberry-pi-4.yaml)") }
        let devices = try loadDevices(request.deviceFiles)
        let model = try ModelSource.load(request.model, options: request.loadOptions)
        return Result(model: model, devices: devices, report: try profile(model, on: devices, unit: request.unit, runtime: request.runtime,
                                                                                     coldWeights: request.coldWeights))
    }

    public static func profile(_ model: LoadedModel, on devices: [DeviceProfile], unit: String? = nil,
                               runtime: String? = nil, coldWeights: Bool = false) throws(EdgeProfError) -> ProfileReport {
        var reports: [DeviceReport] = []
        // Each device's kernels are the ones its runtime runs (`ExecutionStyle.forRuntime`), as in
        // `validate --published`, whose fitted factors the runtime sections hold.
        var prepared: [ExecutionStyle: PreparedGraph] = [:]
        for d in devices {
            do {
                let style = ExecutionStyle.forRuntime(runtime ?? d.defaultRuntime)
                if prepared[style] == nil { prepared[style] = PreparedGraph(model.graph, style: style) }
                let e = try AnalyticalModel.estimate(prepared[style]!, on: d, unit: unit, runtime: runtime, coldWeights: coldWeights)
                reports.append(DeviceReport(e, device: d))
            } catch {
                throw .costModel(error)
            }
        }
        let g = model.graph
        let totals = g.totalCounts()
        func summary(_ ids: [Int]) -> [TensorSummary] {
            ids.map { TensorSummary(name: g.tensors[$0].name, shape: g.tensors[$0].shape.dims, dtype: g.tensors[$0].dtype.rawValue) }
        }
        let summaryModel = ModelSummary(name: model.name, source: model.source, macs: totals.macs, flops: totals.flops, params: totals.params,
                                        nodes: g.nodes.count, fusedKernels: g.fusionGroups.count, inputs: summary(g.inputs), outputs: summary(g.outputs))
        return ProfileReport(schemaVersion: ProfileReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: "predicted",
                             model: summaryModel, devices: reports)
    }
}

extension ProfileReport {
    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(self), let s = String(data: data, encoding: .utf8) else { return "{}" }
        return s
    }
}

/// Writes a file atomically (temp file in the same directory + rename), creating parent directories.
public func writeAtomically(_ text: String, to path: String) throws(EdgeProfError) {
    let url = URL(fileURLWithPath: path)
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
        throw .io("\(path): cannot write (\(error.localizedDescription))")
    }
}

extension ProfileReport {
    /// Device file paths relative to `base` (reports must not depend on where the checkout lives).
    public func relativizingPaths(to base: String) -> ProfileReport {
        var copy = self
        let prefix = base.hasSuffix("/") ? base : base + "/"
        for i in copy.devices.indices where copy.devices[i].file.hasPrefix(prefix) {
            copy.devices[i].file = String(copy.devices[i].file.dropFirst(prefix.count))
        }
        return copy
    }
}
