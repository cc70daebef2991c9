import Foundation
import NNGraph

/// Reads and validates `devices/*.yaml` (schema_version 1; README "Device files").
public enum DeviceLoader {
    public static let schemaVersion = 1

    public static func load(file: String) throws(SpecError) -> DeviceProfile {
        try parse(SpecNode.load(file: file), file: file)
    }

    public static func load(yaml: String, file: String) throws(SpecError) -> DeviceProfile {
        try parse(SpecNode.parse(yaml: yaml, file: file), file: file)
    }

    static func parse(_ root: SpecNode, file: String) throws(SpecError) -> DeviceProfile {
        let m = try root.mapping(allowed: ["schema_version", "id", "name", "description", "default_unit", "compute_units", "memory", "power", "ram",
                                                  "default_runtime", "runtimes"])
        let versionNode = try m.required("schema_version")
        let version = try versionNode.int()
        guard version == schemaVersion else {
            throw versionNode.error("unsupported schema_version \(version); this edgeprof reads version \(schemaVersion)")
        }
        let id = try m.required("id").string()
        let name = try m.required("name").string()
        let description = try m["description"]?.string()

        // Memory first, so compute units can refer to levels by name.
        var memory: [MemoryLevel] = []
        for node in try m.required("memory").sequence() {
            let level = try parseMemoryLevel(node)
            if memory.contains(where: { $0.name == level.name }) {
                throw node.error("duplicate memory level name '\(level.name)'")
            }
            memory.append(level)
        }
        guard !memory.isEmpty else { throw try m.required("memory").error("at least one memory level is required") }

        var units: [ComputeUnit] = []
        for node in try m.required("compute_units").sequence() {
            let unit = try parseComputeUnit(node, levels: memory.map(\.name))
            if units.contains(where: { $0.name == unit.name }) { throw node.error("duplicate compute unit name '\(unit.name)'") }
            units.append(unit)
        }
        guard !units.isEmpty else { throw try m.required("compute_units").error("at least one compute unit is required") }

        let defaultNode = try m.required("default_unit")
        let defaultUnit = try defaultNode.string()
        guard units.contains(where: { $0.name == defaultUnit }) else {
            let hint = didYouMean(defaultUnit, among: units.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            throw defaultNode.error("no compute unit named '\(defaultUnit)'\(hint)")
        }

        let pm = try m.required("power").mapping(allowed: ["idle", "max"])
        let power = PowerSpec(idle: try sourced(pm.required("idle"), .power, positive: false).map(Watts.init),
                              max: try pm["max"].map { n throws(SpecError) in try sourced(n, .power).map(Watts.init) })
        let ram = try sourced(m.required("ram"), .bytes).map(Bytes.init)

        var runtimes: [String: RuntimeProfile] = [:]
        if let rn = m["runtimes"] {
            for (key, value) in try rn.anyMapping() { runtimes[key] = try parseRuntime(key, value, units: units.map(\.name)) }
        }
        var defaultRuntime: String?
        if let dn = m["default_runtime"] {
            let name = try dn.string()
            guard runtimes[name] != nil else {
                let hint = didYouMean(name, among: Array(runtimes.keys)).map { " (did you mean '\($0)'?)" } ?? ""
                throw dn.error("no runtime named '\(name)' under runtimes\(hint)")
            }
            defaultRuntime = name
        }

        return DeviceProfile(schemaVersion: version, id: id, name: name, file: file, description: description, defaultUnit: defaultUnit,
                             computeUnits: units, memory: memory, power: power, ram: ram, runtimes: runtimes, defaultRuntime: defaultRuntime)
    }

    /// Largest accepted runtime factor: far above any fitted value, low enough to catch unit mistakes (a percentage typed as 180).
    public static let maxRuntimeFactor = 20.0

    static func parseRuntime(_ name: String, _ node: SpecNode, units: [String]) throws(SpecError) -> RuntimeProfile {
        let m = try node.mapping(allowed: ["unit", "efficiency_factor", "thread_scaling"])
        var unit: String?
        if let un = m["unit"] {
            let u = try un.string()
            guard units.contains(u) else {
                let hint = didYouMean(u, among: units).map { " (did you mean '\($0)'?)" } ?? ""
                throw un.error("no compute unit named '\(u)'\(hint)")
            }
            unit = u
        }
        var factors: [OpClass: Sourced<Double>] = [:]
        var all: Sourced<Double>?
        for (key, value) in try m.required("efficiency_factor").anyMapping() {
            let f = try sourcedNumber(value) { n throws(SpecError) in
                let v = try n.double()
                guard v > 0, v <= maxRuntimeFactor else { throw n.error("factor must be in (0, \(Int(maxRuntimeFactor))], got \(v)") }
                return v
            }
            if key == "all" { all = f; continue }
            factors[try opClassKey(key, value, extra: ["all"])] = f
        }
        let scaling = try m["thread_scaling"].map { n throws(SpecError) in
            try sourcedNumber(n) { v throws(SpecError) in
                let x = try v.double()
                guard x >= 0, x <= 1 else { throw v.error("thread_scaling must be in [0, 1], got \(x)") }
                return x
            }
        }
        return RuntimeProfile(name: name, unit: unit, factors: factors, allClasses: all, threadScaling: scaling)
    }

    static func parseMemoryLevel(_ node: SpecNode) throws(SpecError) -> MemoryLevel {
        let m = try node.mapping(allowed: ["name", "technology", "size", "bandwidth", "latency", "stream_startup", "read_energy", "write_energy",
                                           "width", "banks", "mlc_cell", "per_core"])
        var level = MemoryLevel(
            name: try m.required("name").string(),
            technology: try m.required("technology").oneOf(MemoryTechnology.self),
            size: try sourced(m.required("size"), .bytes).map(Bytes.init),
            bandwidth: try sourced(m.required("bandwidth"), .byteRate).map(BytesPerSecond.init),
            latency: try m["latency"].map { n throws(SpecError) in try sourced(n, .time, positive: false).map(Seconds.init) },
            readEnergy: try sourced(m.required("read_energy"), .energyPerByte, positive: false).map(JoulesPerByte.init),
            writeEnergy: try sourced(m.required("write_energy"), .energyPerByte, positive: false).map(JoulesPerByte.init))
        level.streamStartup = try m["stream_startup"].map { n throws(SpecError) in try sourced(n, .time, positive: false).map(Seconds.init) }
        level.perCore = try m["per_core"]?.bool() ?? false
        try parseBufferExtras(m, into: &level)
        return level
    }

    /// Op classes a device file may key values by (`efficiency`, `efficiency_factor`, `class_overhead`, `memory_efficiency`).
    static let keyedOpClasses = OpClass.allCases.filter { $0 != .view && $0 != .unsupported }

    /// The op class a mapping key names, or a located error with did-you-mean; `extra` lists other
    /// keys the mapping accepts (for the message).
    static func opClassKey(_ key: String, _ value: SpecNode, extra: [String] = []) throws(SpecError) -> OpClass {
        guard let cls = OpClass(rawValue: key), keyedOpClasses.contains(cls) else {
            let names = extra + keyedOpClasses.map(\.rawValue)
            let hint = didYouMean(key, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw value.error("unknown op class '\(key)'\(hint); expected one of: \(names.joined(separator: ", "))")
        }
        return cls
    }

    static func parseComputeUnit(_ node: SpecNode, levels: [String]) throws(SpecError) -> ComputeUnit {
        let m = try node.mapping(allowed: ["name", "kind", "cores", "frequency", "peak", "precision", "efficiency", "layer_overhead",
                                           "class_overhead", "parallel_overhead", "cross_core_bandwidth", "weight_panel_rows", "memory_efficiency", "per_output_macs", "channel_overhead", "bulk_copy", "energy_per_op", "register_bytes", "memory_path", "active_power", "pe_array"])
        let cores = try sourcedNumber(m.required("cores")) { n throws(SpecError) in
            let v = try n.int()
            guard v > 0 else { throw n.error("must be positive, got \(v)") }
            return v
        }

        var peak: [Precision: Sourced<FlopsPerSecond>] = [:]
        let peakNode = try m.required("peak")
        for (key, value) in try peakNode.anyMapping() {
            guard let p = Precision(rawValue: key) else {
                let hint = didYouMean(key, among: Precision.allCases.map(\.rawValue)).map { " (did you mean '\($0)'?)" } ?? ""
                throw value.error("unknown precision '\(key)'\(hint); expected fp32, fp16 or int8")
            }
            peak[p] = try sourced(value, .opRate).map(FlopsPerSecond.init)
        }
        let precisionNode = m["precision"]
        let precision = try precisionNode?.oneOf(Precision.self) ?? .fp32
        guard peak[precision] != nil else {
            throw (precisionNode ?? peakNode).error("no peak given for the unit's precision '\(precision.rawValue)'")
        }

        var efficiency: [OpClass: Sourced<Double>] = [:]
        let effNode = try m.required("efficiency")
        for (key, value) in try effNode.anyMapping() {
            let cls = try opClassKey(key, value)
            efficiency[cls] = try sourcedNumber(value) { n throws(SpecError) in
                let e = try n.double()
                let high = cls.maxEfficiency
                guard e > 0, e <= high else {
                    throw n.error("efficiency must be in (0, \(formatFixedSpec(high))], got \(e)"
                                  + (cls == .convWinograd ? " (per counted direct-convolution FLOP; Winograd F(2×2,3×3) saves at most 2.25×)" : ""))
                }
                return e
            }
        }
        for required in [OpClass.conv, .depthwise, .elementwise, .pooling] where efficiency[required] == nil {
            throw effNode.error("missing required op class '\(required.rawValue)' (required: conv, depthwise, elementwise, pooling)")
        }

        var energyPerOp: [Precision: Sourced<JoulesPerOp>] = [:]
        let eNode = try m.required("energy_per_op")
        for (key, value) in try eNode.anyMapping() {
            guard let p = Precision(rawValue: key) else { throw value.error("unknown precision '\(key)'; expected fp32, fp16 or int8") }
            energyPerOp[p] = try sourced(value, .energyPerOp, positive: false).map(JoulesPerOp.init)
        }
        guard energyPerOp[precision] != nil else { throw eNode.error("no energy given for the unit's precision '\(precision.rawValue)'") }

        let pathNode = try m.required("memory_path")
        var path: [String] = []
        for n in try pathNode.sequence() {
            let name = try n.string()
            guard levels.contains(name) else {
                let hint = didYouMean(name, among: levels).map { " (did you mean '\($0)'?)" } ?? ""
                throw n.error("no memory level named '\(name)'\(hint)")
            }
            path.append(name)
        }
        guard !path.isEmpty else { throw pathNode.error("must list at least one memory level") }

        var pe: PEArray?
        if let peNode = m["pe_array"] {
            let pm = try peNode.mapping(allowed: ["rows", "cols", "macs_per_pe_per_cycle", "dataflow"])
            func positiveInt(_ key: String) throws(SpecError) -> Sourced<Int> {
                try sourcedNumber(pm.required(key)) { n throws(SpecError) in
                    let v = try n.int()
                    guard v > 0 else { throw n.error("must be positive, got \(v)") }
                    return v
                }
            }
            pe = PEArray(rows: try positiveInt("rows"), cols: try positiveInt("cols"), macsPerPEPerCycle: try positiveInt("macs_per_pe_per_cycle"),
                         dataflow: try pm.required("dataflow").oneOf(Dataflow.self))
        }

        var classOverhead: [OpClass: Sourced<Seconds>] = [:]
        if let coNode = m["class_overhead"] {
            for (key, value) in try coNode.anyMapping() {
                classOverhead[try opClassKey(key, value)] = try sourced(value, .time, positive: false).map(Seconds.init)
            }
        }

        var memoryEfficiency: [OpClass: Sourced<Double>] = [:]
        if let meNode = m["memory_efficiency"] {
            for (key, value) in try meNode.anyMapping() {
                let cls = try opClassKey(key, value)
                memoryEfficiency[cls] = try sourcedNumber(value) { n throws(SpecError) in
                    let e = try n.double()
                    let high = cls.maxMemoryEfficiency
                    guard e > 0, e <= high else {
                        throw n.error("memory efficiency must be in (0, \(formatFixedSpec(high))] (a share of the level bandwidths\(high > 1 ? "; above 1 for " + (cls == .gemm || cls == .pooling ? "read streams, which pay no write-allocate" : cls == .dataMovement ? "copies, which write whole lines without reading them" : "kernels that overwrite their input") : "")), got \(e)")
                    }
                    return e
                }
            }
        }

        var perOutputMACs: [OpClass: Sourced<Double>] = [:]
        if let node = m["per_output_macs"] {
            for (key, value) in try node.anyMapping() {
                perOutputMACs[try opClassKey(key, value)] = try sourcedNumber(value) { n throws(SpecError) in
                    let c = try n.double()
                    guard c >= 0, c.isFinite else { throw n.error("per-output MACs must be a number ≥ 0 (multiply-accumulates per output element), got \(c)") }
                    return c
                }
            }
        }

        var channelOverhead: [OpClass: Sourced<Seconds>] = [:]
        if let node = m["channel_overhead"] {
            for (key, value) in try node.anyMapping() {
                channelOverhead[try opClassKey(key, value)] = try sourced(value, .time, positive: false).map(Seconds.init)
            }
        }

        var bulkCopy: ComputeUnit.BulkCopy?
        if let node = m["bulk_copy"] {
            let b = try node.mapping(allowed: ["after", "efficiency"])
            bulkCopy = ComputeUnit.BulkCopy(
                after: try sourced(b.required("after"), .bytes).map(Bytes.init),
                efficiency: try sourcedNumber(b.required("efficiency")) { n throws(SpecError) in
                    let e = try n.double()
                    guard e > 0, e <= ComputeUnit.maxBulkCopyEfficiency else {
                        throw n.error("bulk-copy efficiency must be in (0, \(formatFixedSpec(ComputeUnit.maxBulkCopyEfficiency))] (a share of the level bandwidths), got \(e)")
                    }
                    return e
                })
        }

        var unit = ComputeUnit(
            name: try m.required("name").string(),
            kind: try m.required("kind").oneOf(ComputeKind.self),
            cores: cores,
            frequency: try m["frequency"].map { n throws(SpecError) in try sourced(n, .frequency).map(Hertz.init) },
            peak: peak, precision: precision, efficiency: efficiency,
            layerOverhead: try sourced(m.required("layer_overhead"), .time, positive: false).map(Seconds.init),
            energyPerOp: energyPerOp,
            registerBytes: try sourced(m.required("register_bytes"), .bytes).map(Bytes.init),
            memoryPath: path,
            activePower: try m["active_power"].map { n throws(SpecError) in try sourced(n, .power).map(Watts.init) },
            peArray: pe)
        unit.classOverhead = classOverhead
        unit.parallelOverhead = try m["parallel_overhead"].map { n throws(SpecError) in try sourced(n, .time, positive: false).map(Seconds.init) }
        unit.crossCoreBandwidth = try m["cross_core_bandwidth"].map { n throws(SpecError) in try sourced(n, .byteRate).map(BytesPerSecond.init) }
        unit.weightPanelRows = try m["weight_panel_rows"].map { node throws(SpecError) in
            try sourcedNumber(node) { n throws(SpecError) in
                let v = try n.int()
                guard (1...256).contains(v) else { throw n.error("must be an integer from 1 to 256 (output channels per weight panel), got \(v)") }
                return v
            }
        }
        unit.memoryEfficiency = memoryEfficiency
        unit.perOutputMACs = perOutputMACs
        unit.channelOverhead = channelOverhead
        unit.bulkCopy = bulkCopy
        return unit
    }

    /// `{value: "12.8 GB/s", source: "..."}` → SI value with its source.
    static func sourced(_ node: SpecNode, _ kind: UnitKind, positive: Bool = true) throws(SpecError) -> Sourced<Double> {
        let m = try node.mapping(allowed: ["value", "source"])
        let valueNode = try m.required("value").reported(as: node.path)
        let v = try valueNode.quantity(kind)
        if positive {
            guard v > 0 else { throw valueNode.error("must be positive, got \(try valueNode.string())") }
        } else {
            guard v >= 0 else { throw valueNode.error("must not be negative, got \(try valueNode.string())") }
        }
        return Sourced(v, source: try sourceString(m))
    }

    static func sourcedNumber<T>(_ node: SpecNode, _ read: (SpecNode) throws(SpecError) -> T) throws(SpecError) -> Sourced<T> {
        let m = try node.mapping(allowed: ["value", "source"])
        return Sourced(try read(m.required("value").reported(as: node.path)), source: try sourceString(m))
    }

    static func sourceString(_ m: SpecMap) throws(SpecError) -> String {
        let n = try m.required("source")
        let s = try n.string().trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { throw n.error("source must not be empty (a URL, 'measured ...', or 'assumed ...')") }
        return s
    }
}

extension Sourced {
    func map<U>(_ f: (Value) -> U) -> Sourced<U> { Sourced<U>(f(value), source: source) }
}

/// "1" or "2.25": a bound in an error message.
func formatFixedSpec(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
