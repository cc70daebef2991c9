import Foundation
import NNGraph

/// A string from a spec file that can only be checked later (e.g. a layer name, checked
/// against the model graph), with its location so the error still points into the file.
public struct LocatedString: Sendable, Hashable, Codable {
    public var value: String
    public var file: String
    public var line: Int?
    public var column: Int?
    public var keyPath: String

    public func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, keyPath: keyPath, message: message)
    }
}

/// One tier of a split-computing scenario: a device file (and optionally its compute unit).
public struct TierSpec: Sendable, Hashable, Codable {
    public var name: String
    public var deviceFile: String
    public var unit: String?
}

public enum ObjectiveKind: String, Sendable, Hashable, Codable, CaseIterable {
    case latency
    case deviceEnergy = "device_energy"
    case throughput
    case weighted
}

/// What a planner minimises. `weighted` minimises
/// `latency_weight × latency / latency(device-only) + energy_weight × energy / energy(device-only)`.
public struct ObjectiveSpec: Sendable, Hashable, Codable {
    public var kind: ObjectiveKind
    public var latencyWeight: Double
    public var energyWeight: Double
    public init(kind: ObjectiveKind, latencyWeight: Double = 1, energyWeight: Double = 1) {
        self.kind = kind
        self.latencyWeight = latencyWeight
        self.energyWeight = energyWeight
    }
}

public struct ConstraintSpec: Sendable, Hashable, Codable {
    /// Peak memory (weights + live activations) allowed on the first tier; nil = its `ram`.
    public var deviceMemory: Bytes?
    /// End-to-end latency bound per request.
    public var deadline: Seconds?
    /// Privacy: every kernel up to and including the one containing this layer (in execution
    /// order), and every kernel reading a graph input, stays on the first tier.
    public var keepOnDeviceThrough: LocatedString?
    /// Bytes per request the first tier may send up its link.
    public var maxUplinkBytes: Bytes?
    public init(deviceMemory: Bytes? = nil, deadline: Seconds? = nil, keepOnDeviceThrough: LocatedString? = nil, maxUplinkBytes: Bytes? = nil) {
        self.deviceMemory = deviceMemory
        self.deadline = deadline
        self.keepOnDeviceThrough = keepOnDeviceThrough
        self.maxUplinkBytes = maxUplinkBytes
    }
}

/// Wire format of tensors cut between tiers.
public enum CompressionFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// The graph's own element type (fp32 for the zoo models).
    case none
    case fp16
    case int8

    /// Bytes per element on the wire, nil = the tensor's own dtype.
    public var wireWidth: Int? {
        switch self {
        case .none: nil
        case .fp16: 2
        case .int8: 1
        }
    }
}

public struct OffloadOptions: Sendable, Hashable, Codable {
    public var compression: CompressionFormat
    /// Quantisation throughput at the sender, in bytes of the uncompressed tensor per second.
    public var encodeRate: BytesPerSecond?
    /// Dequantisation throughput at the receiver.
    public var decodeRate: BytesPerSecond?
    /// Send the model's outputs back to the first tier (default true).
    public var returnResult: Bool
    public init(compression: CompressionFormat = .none, encodeRate: BytesPerSecond? = nil, decodeRate: BytesPerSecond? = nil, returnResult: Bool = true) {
        self.compression = compression
        self.encodeRate = encodeRate
        self.decodeRate = decodeRate
        self.returnResult = returnResult
    }
}

/// Arrival processes, after the MLPerf Inference load scenarios.
public enum ArrivalKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Next request when the previous one finishes (MLPerf SingleStream; report p90).
    case singleStream = "single_stream"
    /// A frame every 1/fps seconds.
    case fps
    /// Poisson arrivals at `rate` per second (MLPerf Server; report p99 against a bound).
    case poisson
    /// Every request at time 0 (MLPerf Offline; report throughput).
    case offline
}

/// Defaults for `edgeprof simulate` (every field can be overridden on the command line).
public struct SimulationDefaults: Sendable, Hashable, Codable {
    public var arrivals: ArrivalKind?
    public var fps: Double?
    public var rate: Double?
    public var frames: Int?
    public var clients: Int?
    public var seed: UInt64?
    /// Re-plan when the bandwidth trace changes the uplink rate.
    public var replan: Bool?
    /// Stall charged to the device when the plan changes (e.g. loading weights).
    public var switchingCost: Seconds?
    public init(arrivals: ArrivalKind? = nil, fps: Double? = nil, rate: Double? = nil, frames: Int? = nil, clients: Int? = nil,
                seed: UInt64? = nil, replan: Bool? = nil, switchingCost: Seconds? = nil) {
        self.arrivals = arrivals
        self.fps = fps
        self.rate = rate
        self.frames = frames
        self.clients = clients
        self.seed = seed
        self.replan = replan
        self.switchingCost = switchingCost
    }
}

/// A split-computing scenario file (`profiles/*.yaml` with `tiers`): the model, ordered tiers,
/// one link per consecutive pair, objective, constraints, options and simulation defaults.
/// The keys of a plain scenario (`ScenarioSpec`) are accepted too, so one file serves
/// `edgeprof scenario` and `edgeprof plan`.
public struct OffloadScenario: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    /// Zoo name or ONNX path.
    public var model: String
    public var file: String
    public var tiers: [TierSpec]
    public var links: [LinkSpec]
    public var objective: ObjectiveSpec
    public var constraints: ConstraintSpec
    public var options: OffloadOptions
    public var simulation: SimulationDefaults
}

public enum OffloadScenarioLoader {
    /// Top-level scenario keys owned by the split-computing schema.
    static let keys = ["tiers", "links", "objective", "weights", "constraints", "options", "simulation"]

    /// Keys of a plain scenario file, accepted (and, except the model, ignored) here.
    static let plainScenarioKeys = ["schema_version", "name", "description", "model", "devices", "top", "markdown_report", "html_report"]

    /// Loads a scenario that must define tiers (for `edgeprof plan` / `simulate`).
    public static func load(file: String) throws(SpecError) -> OffloadScenario {
        try parse(SpecNode.load(file: file), file: file)
    }

    public static func load(yaml: String, file: String) throws(SpecError) -> OffloadScenario {
        try parse(SpecNode.parse(yaml: yaml, file: file), file: file)
    }

    static func parse(_ root: SpecNode, file: String) throws(SpecError) -> OffloadScenario {
        let m = try root.mapping(allowed: plainScenarioKeys + keys)
        let vNode = try m.required("schema_version")
        guard try vNode.int() == 1 else { throw vNode.error("unsupported schema_version; this edgeprof reads version 1") }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
        }
        guard let tiersNode = m["tiers"] else {
            throw SpecError(file: file, line: root.line, column: root.column, keyPath: "tiers",
                            message: "this scenario has no 'tiers' (and 'links'); add them to plan or simulate split computing (see README \"Split computing: plan and simulate\")")
        }
        let name = try m.required("name").string()
        let description = try m["description"]?.string()
        let model = try m.required("model").string()
        var tiers: [TierSpec] = []
        for n in try tiersNode.sequence() {
            let tm = try n.mapping(allowed: ["name", "device", "unit"])
            let name = try tm.required("name").string()
            if tiers.contains(where: { $0.name == name }) { throw try tm.required("name").error("duplicate tier name '\(name)'") }
            let dNode = try tm.required("device")
            let path = resolve(try dNode.string())
            guard FileManager.default.fileExists(atPath: path) else { throw dNode.error("device file '\(path)' does not exist") }
            tiers.append(TierSpec(name: name, deviceFile: path, unit: try tm["unit"]?.string()))
        }
        guard tiers.count >= 2 else { throw tiersNode.error("list at least two tiers (the device first, then edge and/or cloud)") }

        let linksNode = try m.required("links")
        let linkNodes = try linksNode.sequence()
        guard linkNodes.count == tiers.count - 1 else {
            throw linksNode.error("expected \(tiers.count - 1) links (one between each pair of consecutive tiers), got \(linkNodes.count)")
        }
        var links: [LinkSpec] = []
        for n in linkNodes {
            links.append(try parseLinkReference(n, scenarioFile: file, resolve: resolve))
        }

        var objective = ObjectiveSpec(kind: .latency)
        if let o = m["objective"] { objective.kind = try o.oneOf(ObjectiveKind.self) }
        if let w = m["weights"] {
            guard objective.kind == .weighted else { throw w.error("'weights' only applies with objective: weighted") }
            let wm = try w.mapping(allowed: ["latency", "device_energy"])
            func weight(_ key: String) throws(SpecError) -> Double {
                guard let n = wm[key] else { return 0 }
                let v = try n.double()
                guard v >= 0 else { throw n.error("weights must not be negative, got \(v)") }
                return v
            }
            objective.latencyWeight = try weight("latency")
            objective.energyWeight = try weight("device_energy")
            guard objective.latencyWeight + objective.energyWeight > 0 else { throw w.error("at least one weight must be positive") }
        }

        var constraints = ConstraintSpec()
        if let c = m["constraints"] {
            let cm = try c.mapping(allowed: ["device_memory", "deadline", "keep_on_device_through", "max_uplink_bytes"])
            constraints.deviceMemory = try cm["device_memory"].map { n throws(SpecError) in Bytes(try positive(n, .bytes)) }
            constraints.deadline = try cm["deadline"].map { n throws(SpecError) in Seconds(try positive(n, .time)) }
            constraints.maxUplinkBytes = try cm["max_uplink_bytes"].map { n throws(SpecError) in Bytes(try nonNegative(n, .bytes)) }
            if let k = cm["keep_on_device_through"] {
                constraints.keepOnDeviceThrough = LocatedString(value: try k.string(), file: file, line: k.line, column: k.column, keyPath: k.path)
            }
        }

        var options = OffloadOptions()
        if let o = m["options"] {
            let om = try o.mapping(allowed: ["compression", "encode_rate", "decode_rate", "return_result"])
            options.compression = try om["compression"]?.oneOf(CompressionFormat.self) ?? .none
            options.encodeRate = try om["encode_rate"].map { n throws(SpecError) in BytesPerSecond(try positive(n, .byteRate)) }
            options.decodeRate = try om["decode_rate"].map { n throws(SpecError) in BytesPerSecond(try positive(n, .byteRate)) }
            options.returnResult = try om["return_result"]?.bool() ?? true
            if options.compression != .none {
                for key in ["encode_rate", "decode_rate"] where om[key] == nil {
                    throw o.error("compression '\(options.compression.rawValue)' needs '\(key)' (e.g. \"2 GB/s\" of uncompressed tensor bytes)")
                }
            }
        }

        var simulation = SimulationDefaults()
        if let s = m["simulation"] {
            let sm = try s.mapping(allowed: ["arrivals", "fps", "rate", "frames", "clients", "seed", "replan", "switching_cost"])
            simulation.arrivals = try sm["arrivals"]?.oneOf(ArrivalKind.self)
            simulation.fps = try sm["fps"].map { n throws(SpecError) in try positiveNumber(n) }
            simulation.rate = try sm["rate"].map { n throws(SpecError) in try positiveNumber(n) }
            simulation.frames = try sm["frames"].map { n throws(SpecError) in try positiveInt(n) }
            simulation.clients = try sm["clients"].map { n throws(SpecError) in try positiveInt(n) }
            simulation.seed = try sm["seed"].map { n throws(SpecError) in
                let v = try n.int()
                guard v >= 0 else { throw n.error("seed must not be negative, got \(v)") }
                return UInt64(v)
            }
            simulation.replan = try sm["replan"]?.bool()
            simulation.switchingCost = try sm["switching_cost"].map { n throws(SpecError) in Seconds(try nonNegative(n, .time)) }
        }
        return OffloadScenario(name: name, description: description, model: model, file: file, tiers: tiers, links: links, objective: objective, constraints: constraints, options: options, simulation: simulation)
    }

    /// `{file: ../links/wifi5.yaml, uplink: {...}}` (preset + overrides) or a full inline link.
    static func parseLinkReference(_ node: SpecNode, scenarioFile: String, resolve: (String) -> String) throws(SpecError) -> LinkSpec {
        let probe = try node.mapping(allowed: LinkLoader.keys.filter { $0 != "schema_version" } + ["file"])
        guard let fileNode = probe["file"] else {
            return try LinkLoader.parse(node, base: nil, file: scenarioFile)
        }
        let path = resolve(try fileNode.string())
        guard FileManager.default.fileExists(atPath: path) else { throw fileNode.error("link file '\(path)' does not exist") }
        let preset = try LinkLoader.load(file: path)
        return try LinkLoader.parse(node, base: preset, file: scenarioFile, extraKeys: ["file"])
    }

    static func positive(_ n: SpecNode, _ kind: UnitKind) throws(SpecError) -> Double {
        let v = try n.quantity(kind)
        guard v > 0 else { throw n.error("must be positive, got \(try n.string())") }
        return v
    }

    static func nonNegative(_ n: SpecNode, _ kind: UnitKind) throws(SpecError) -> Double {
        let v = try n.quantity(kind)
        guard v >= 0 else { throw n.error("must not be negative, got \(try n.string())") }
        return v
    }

    static func positiveNumber(_ n: SpecNode) throws(SpecError) -> Double {
        let v = try n.double()
        guard v > 0 else { throw n.error("must be positive, got \(v)") }
        return v
    }

    static func positiveInt(_ n: SpecNode) throws(SpecError) -> Int {
        let v = try n.int()
        guard v > 0 else { throw n.error("must be a positive integer, got \(v)") }
        return v
    }
}
