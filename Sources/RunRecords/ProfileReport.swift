import Foundation

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

    public init(schemaVersion: Int, tool: String, provenance: String, model: ModelSummary, devices: [DeviceReport]) {
        self.schemaVersion = schemaVersion
        self.tool = tool
        self.provenance = provenance
        self.model = model
        self.devices = devices
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

    public init(name: String, source: String, macs: Int, flops: Int, params: Int, nodes: Int, fusedKernels: Int, inputs: [TensorSummary], outputs: [TensorSummary]) {
        self.name = name
        self.source = source
        self.macs = macs
        self.flops = flops
        self.params = params
        self.nodes = nodes
        self.fusedKernels = fusedKernels
        self.inputs = inputs
        self.outputs = outputs
    }
}

public struct TensorSummary: Codable, Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    public var dtype: String

    public init(name: String, shape: [Int], dtype: String) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }
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

    public init(level: String, readBytes: Double, writeBytes: Double, timeS: Double, energyJ: Double) {
        self.level = level
        self.readBytes = readBytes
        self.writeBytes = writeBytes
        self.timeS = timeS
        self.energyJ = energyJ
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

    public init(computeJ: Double, staticJ: Double, memoryJ: [String: Double]) {
        self.computeJ = computeJ
        self.staticJ = staticJ
        self.memoryJ = memoryJ
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
    /// Memory level the cost model reads the weights from, and whether that is because the estimate
    /// priced a first inference (`profile --cold-weights`) rather than steady-state repeated inference.
    /// nil in reports made before session 19.
    public var weightsFrom: String?
    public var coldWeights: Bool?

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
        case weightsFrom = "weights_from"
        case coldWeights = "cold_weights"
    }

    public init(macs: Int, flops: Int, params: Int, latencyS: Double, energyJ: Double, energyBreakdown: EnergyJSON, peakMemoryBytes: Double, weightBytes: Double, peakActivationBytes: Double, fitsInRAM: Bool, ramBytes: Double, bytesMoved: [LevelBytes], unsupportedLayers: [String], bottleneckLayer: String?,
                weightsFrom: String? = nil, coldWeights: Bool? = nil) {
        self.weightsFrom = weightsFrom
        self.coldWeights = coldWeights
        self.macs = macs
        self.flops = flops
        self.params = params
        self.latencyS = latencyS
        self.energyJ = energyJ
        self.energyBreakdown = energyBreakdown
        self.peakMemoryBytes = peakMemoryBytes
        self.weightBytes = weightBytes
        self.peakActivationBytes = peakActivationBytes
        self.fitsInRAM = fitsInRAM
        self.ramBytes = ramBytes
        self.bytesMoved = bytesMoved
        self.unsupportedLayers = unsupportedLayers
        self.bottleneckLayer = bottleneckLayer
    }
}

extension DeviceTotals {
    /// Where the estimate reads the weights from, and why (nil for reports made before session 19).
    public var weightsNote: String? {
        guard let level = weightsFrom else { return nil }
        return coldWeights == true ? "weights: read from \(level) by every kernel (--cold-weights: a first inference, caches cold)"
            : "weights: read from \(level) (steady state of repeated inference: the innermost level with room for all weights and the peak "
            + "activations twice keeps the weights between inferences; --cold-weights prices a first inference)"
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
    /// Bytes the kernel's busiest thread reads from another core's private cache (absent when none).
    public var crossCoreBytes: Int?
    /// Part of `overheadS`: those bytes at the unit's `cross_core_bandwidth` (absent when not priced).
    public var crossCoreS: Double?

    enum CodingKeys: String, CodingKey {
        case index, name, kind, nodes, macs, flops, params, bound, efficiency, share
        case crossCoreBytes = "cross_core_bytes"
        case crossCoreS = "cross_core_s"
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

    public init(index: Int, name: String, kind: String, opClass: String, nodes: [String], outputShape: [Int], macs: Int, flops: Int, params: Int, bytesRead: Int, bytesWritten: Int, cioBytes: Int, arithmeticIntensity: Double, bytesMoved: [LevelBytes], bound: String, efficiency: Double, computeS: Double, overheadS: Double, latencyS: Double, energyJ: Double, share: Double,
                crossCoreBytes: Int? = nil, crossCoreS: Double? = nil) {
        self.crossCoreBytes = crossCoreBytes
        self.crossCoreS = crossCoreS
        self.index = index
        self.name = name
        self.kind = kind
        self.opClass = opClass
        self.nodes = nodes
        self.outputShape = outputShape
        self.macs = macs
        self.flops = flops
        self.params = params
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
        self.cioBytes = cioBytes
        self.arithmeticIntensity = arithmeticIntensity
        self.bytesMoved = bytesMoved
        self.bound = bound
        self.efficiency = efficiency
        self.computeS = computeS
        self.overheadS = overheadS
        self.latencyS = latencyS
        self.energyJ = energyJ
        self.share = share
    }
}

/// The roofs a device offers its compute unit: peak compute at the unit's precision and the
/// bandwidth of each memory level (for roofline charts).
public struct Roofline: Codable, Sendable, Hashable {
    public var peakFlopsPerS: Double
    public var levels: [LevelRoof]

    enum CodingKeys: String, CodingKey {
        case peakFlopsPerS = "peak_flops_per_s"
        case levels
    }

    public init(peakFlopsPerS: Double, levels: [LevelRoof]) {
        self.peakFlopsPerS = peakFlopsPerS
        self.levels = levels
    }
}

public struct LevelRoof: Codable, Sendable, Hashable {
    public var level: String
    public var bytesPerS: Double
    enum CodingKeys: String, CodingKey {
        case level
        case bytesPerS = "bytes_per_s"
    }
    public init(level: String, bytesPerS: Double) {
        self.level = level
        self.bytesPerS = bytesPerS
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
    public var roofline: Roofline?

    public init(id: String, name: String, file: String, unit: String, precision: String, totals: DeviceTotals, layers: [LayerReport],
                roofline: Roofline? = nil) {
        self.roofline = roofline
        self.id = id
        self.name = name
        self.file = file
        self.unit = unit
        self.precision = precision
        self.totals = totals
        self.layers = layers
    }
}

