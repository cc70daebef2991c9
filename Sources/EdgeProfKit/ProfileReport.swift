import CostModel
import DeviceSpec
import NNGraph

/// The `edgeprof profile --format json` contract (README "JSON output"). SI base units
/// (seconds, joules, bytes); keys are snake_case; `schema_version` bumps on breaking change.
public struct ProfileReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var tool: String
    /// Every number in this report is `predicted` by the analytical model.
    public var provenance: String
    public var model: ModelSummary
    public var devices: [DeviceReport]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", tool, provenance, model, devices
    }
}

public struct ModelSummary: Codable, Sendable, Hashable {
    public var name: String
    public var source: String
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var nodes: Int
    public var fusedKernels: Int
    public var inputs: [TensorSummary]
    public var outputs: [TensorSummary]

    enum CodingKeys: String, CodingKey {
        case name, source, macs, flops, params, nodes, inputs, outputs
        case fusedKernels = "fused_kernels"
    }
}

public struct TensorSummary: Codable, Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    public var dtype: String
}

public struct LevelBytes: Codable, Sendable, Hashable {
    public var level: String
    public var readBytes: Double
    public var writeBytes: Double
    public var timeS: Double
    public var energyJ: Double

    enum CodingKeys: String, CodingKey {
        case level
        case readBytes = "read_bytes"
        case writeBytes = "write_bytes"
        case timeS = "time_s"
        case energyJ = "energy_j"
    }
}

public struct EnergyJSON: Codable, Sendable, Hashable {
    public var computeJ: Double
    public var staticJ: Double
    public var memoryJ: [String: Double]

    enum CodingKeys: String, CodingKey {
        case computeJ = "compute_j"
        case staticJ = "static_j"
        case memoryJ = "memory_j"
    }
}

public struct DeviceTotals: Codable, Sendable, Hashable {
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var latencyS: Double
    public var energyJ: Double
    public var energyBreakdown: EnergyJSON
    public var peakMemoryBytes: Double
    public var weightBytes: Double
    public var peakActivationBytes: Double
    public var fitsInRAM: Bool
    public var ramBytes: Double
    public var bytesMoved: [LevelBytes]
    public var unsupportedLayers: [String]
    /// Layer name with the largest predicted latency.
    public var bottleneckLayer: String?

    enum CodingKeys: String, CodingKey {
        case macs, flops, params
        case latencyS = "latency_s"
        case energyJ = "energy_j"
        case energyBreakdown = "energy_breakdown"
        case peakMemoryBytes = "peak_memory_bytes"
        case weightBytes = "weight_bytes"
        case peakActivationBytes = "peak_activation_bytes"
        case fitsInRAM = "fits_in_ram"
        case ramBytes = "ram_bytes"
        case bytesMoved = "bytes_moved"
        case unsupportedLayers = "unsupported_layers"
        case bottleneckLayer = "bottleneck_layer"
    }
}

public struct LayerReport: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var kind: String
    public var opClass: String
    public var nodes: [String]
    public var outputShape: [Int]
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var bytesRead: Int
    public var bytesWritten: Int
    public var cioBytes: Int
    public var arithmeticIntensity: Double
    public var bytesMoved: [LevelBytes]
    public var bound: String
    public var efficiency: Double
    public var computeS: Double
    public var overheadS: Double
    public var latencyS: Double
    public var energyJ: Double
    public var share: Double

    enum CodingKeys: String, CodingKey {
        case index, name, kind, nodes, macs, flops, params, bound, efficiency, share
        case opClass = "op_class"
        case outputShape = "output_shape"
        case bytesRead = "bytes_read"
        case bytesWritten = "bytes_written"
        case cioBytes = "cio_bytes"
        case arithmeticIntensity = "arithmetic_intensity"
        case bytesMoved = "bytes_moved"
        case computeS = "compute_s"
        case overheadS = "overhead_s"
        case latencyS = "latency_s"
        case energyJ = "energy_j"
    }
}

public struct DeviceReport: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var file: String
    public var unit: String
    public var precision: String
    public var totals: DeviceTotals
    public var layers: [LayerReport]
}

extension DeviceReport {
    init(_ e: DeviceEstimate, ramBytes: Double) {
        func levels(_ t: [LevelTraffic]) -> [LevelBytes] {
            t.map { LevelBytes(level: $0.level, readBytes: $0.readBytes.value, writeBytes: $0.writeBytes.value, timeS: $0.time.value, energyJ: $0.energy.value) }
        }
        func energy(_ b: EnergyBreakdown) -> EnergyJSON {
            EnergyJSON(computeJ: b.compute.value, staticJ: b.staticEnergy.value, memoryJ: b.memory.mapValues(\.value))
        }
        let total = e.totals.latency.value
        let layers = e.layers.enumerated().map { i, l in
            LayerReport(index: i, name: l.name, kind: l.kind, opClass: l.opClass.rawValue, nodes: l.nodes, outputShape: l.outputShape.dims,
                        macs: l.counts.macs, flops: l.counts.flops, params: l.counts.params, bytesRead: l.counts.bytesRead,
                        bytesWritten: l.counts.bytesWritten, cioBytes: l.counts.cio, arithmeticIntensity: l.counts.arithmeticIntensity,
                        bytesMoved: levels(l.traffic), bound: l.bound.description, efficiency: l.efficiency,
                        computeS: l.computeTime.value, overheadS: l.overhead.value, latencyS: l.latency.value,
                        energyJ: l.energy.total.value, share: total > 0 ? l.latency.value / total : 0)
        }
        let bottleneck = e.layers.max { $0.latency < $1.latency }?.name
        let totals = DeviceTotals(
            macs: e.totals.macs, flops: e.totals.flops, params: e.totals.params, latencyS: total, energyJ: e.totals.energy.total.value,
            energyBreakdown: energy(e.totals.energy), peakMemoryBytes: e.totals.peakMemory.value,
            weightBytes: e.totals.weightBytes.value, peakActivationBytes: e.totals.peakActivationBytes.value, fitsInRAM: e.totals.fitsInRAM, ramBytes: ramBytes,
            bytesMoved: levels(e.totals.traffic), unsupportedLayers: e.unsupportedLayers, bottleneckLayer: bottleneck)
        self.init(id: e.deviceID, name: e.deviceName, file: e.deviceFile, unit: e.unit, precision: e.precision.rawValue, totals: totals, layers: layers)
    }
}
