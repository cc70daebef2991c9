import Foundation
import NNGraph

/// Extra one-way delay added to each message on top of `rtt / 2` (always ≥ 0).
public enum JitterDistribution: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    /// Uniform on [0, 2 × scale]: mean `scale`.
    case uniform
    /// Exponential with mean `scale` (heavy-ish tail: queueing in the access network).
    case exponential
}

public struct JitterSpec: Sendable, Hashable, Codable {
    public var distribution: JitterDistribution
    /// Mean extra one-way delay.
    public var scale: Sourced<Seconds>
    public init(distribution: JitterDistribution, scale: Sourced<Seconds>) {
        self.distribution = distribution
        self.scale = scale
    }

    public var mean: Seconds { distribution == .none ? .zero : scale.value }
}

/// Device-side radio energy: the linear model of Huang et al. (MobiSys 2012) used by
/// Neurosurgeon, `P = α × throughput + β`. Transferring `b` bytes in `t` seconds costs
/// `α' × b + β × t` with α' = α per byte.
public struct RadioSpec: Sendable, Hashable, Codable {
    public var txEnergyPerByte: Sourced<JoulesPerByte>
    public var txBasePower: Sourced<Watts>
    public var rxEnergyPerByte: Sourced<JoulesPerByte>
    public var rxBasePower: Sourced<Watts>
    public init(txEnergyPerByte: Sourced<JoulesPerByte>, txBasePower: Sourced<Watts>, rxEnergyPerByte: Sourced<JoulesPerByte>, rxBasePower: Sourced<Watts>) {
        self.txEnergyPerByte = txEnergyPerByte
        self.txBasePower = txBasePower
        self.rxEnergyPerByte = rxEnergyPerByte
        self.rxBasePower = rxBasePower
    }
}

/// Uplink bandwidth over time, piecewise constant: `rates[i]` holds from `times[i]` until
/// `times[i + 1]`; the last rate holds forever. Read from a CSV of `time, Mbit/s` rows.
public struct BandwidthTrace: Sendable, Hashable, Codable {
    public var file: String
    public var times: [Seconds]
    public var rates: [BytesPerSecond]
    public init(file: String, times: [Seconds], rates: [BytesPerSecond]) {
        self.file = file
        self.times = times
        self.rates = rates
    }

    /// The rate in force at `t`.
    public func rate(at t: Seconds) -> BytesPerSecond {
        var lo = 0, hi = times.count - 1
        if t < times[0] { return rates[0] }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if times[mid] <= t { lo = mid } else { hi = mid - 1 }
        }
        return rates[lo]
    }
}

/// A network link between two consecutive tiers (`links/*.yaml` or inline in a scenario).
public struct LinkSpec: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var id: String
    public var name: String
    public var description: String?
    /// Where the link was defined (preset file or scenario file).
    public var file: String
    /// Toward the cloud (device → edge → cloud).
    public var uplink: Sourced<BytesPerSecond>
    /// Back toward the device.
    public var downlink: Sourced<BytesPerSecond>
    public var rtt: Sourced<Seconds>
    public var jitter: JitterSpec
    /// Probability that one message is lost and must be sent again.
    public var loss: Sourced<Double>
    /// Header/framing bytes added to every message (one message per tensor per hop).
    public var messageOverhead: Sourced<Bytes>
    /// Fixed serialisation/protocol time per message (syscalls, (de)serialisation setup).
    public var messageTime: Sourced<Seconds>
    /// Radio energy charged to the device when this link touches it; nil = wired (no radio term).
    public var radio: RadioSpec?
    /// Optional uplink bandwidth trace for the simulator (the downlink scales with it).
    public var trace: BandwidthTrace?
}

/// Reads and validates link files (schema_version 1; README "Split computing").
public enum LinkLoader {
    public static let schemaVersion = 1
    static let keys = ["schema_version", "id", "name", "description", "uplink", "downlink", "rtt", "jitter", "loss",
                       "message_overhead", "message_time", "radio", "trace"]

    public static func load(file: String) throws(SpecError) -> LinkSpec {
        try parse(SpecNode.load(file: file), base: nil, file: file, isLinkFile: true)
    }

    public static func load(yaml: String, file: String) throws(SpecError) -> LinkSpec {
        try parse(SpecNode.parse(yaml: yaml, file: file), base: nil, file: file, isLinkFile: true)
    }

    /// Parses a link mapping. With a `base` (a preset named by `file:` in a scenario), every key
    /// is optional and overrides the preset's value; without one, the full schema is required.
    /// Only a link file carries `schema_version` (an inline link follows its scenario's).
    static func parse(_ node: SpecNode, base: LinkSpec?, file: String, isLinkFile: Bool = false, extraKeys: [String] = []) throws(SpecError) -> LinkSpec {
        let m = try node.mapping(allowed: (isLinkFile ? keys : keys.filter { $0 != "schema_version" }) + extraKeys)
        if isLinkFile {
            let vNode = try m.required("schema_version")
            let v = try vNode.int()
            guard v == schemaVersion else { throw vNode.error("unsupported schema_version \(v); this edgeprof reads version \(schemaVersion)") }
        }
        func value<T>(_ key: String, _ fallback: T?, _ read: (SpecNode) throws(SpecError) -> T) throws(SpecError) -> T {
            if let n = m[key] { return try read(n) }
            if let fallback { return fallback }
            return try read(try m.required(key))
        }
        let id = try value("id", base?.id) { n throws(SpecError) in try n.string() }
        let name = try value("name", base?.name) { n throws(SpecError) in try n.string() }
        let description = try m["description"]?.string() ?? base?.description
        let uplink = try value("uplink", base?.uplink) { n throws(SpecError) in try rate(n) }
        let downlink = try value("downlink", base?.downlink) { n throws(SpecError) in try rate(n) }
        let rtt = try value("rtt", base?.rtt) { n throws(SpecError) in try DeviceLoader.sourced(n, .time, positive: false).map(Seconds.init) }
        let jitter = try value("jitter", base?.jitter ?? JitterSpec(distribution: .none, scale: Sourced(.zero, source: "default: no jitter"))) {
            n throws(SpecError) in try parseJitter(n)
        }
        let loss = try value("loss", base?.loss ?? Sourced(0, source: "default: lossless")) { n throws(SpecError) in
            try DeviceLoader.sourcedNumber(n) { v throws(SpecError) in
                let p = try v.double()
                guard p >= 0, p < 1 else { throw v.error("loss must be a probability in [0, 1), got \(p)") }
                return p
            }
        }
        let overhead = try value("message_overhead", base?.messageOverhead ?? Sourced(.zero, source: "default: none")) { n throws(SpecError) in
            try DeviceLoader.sourced(n, .bytes, positive: false).map(Bytes.init)
        }
        let messageTime = try value("message_time", base?.messageTime ?? Sourced(.zero, source: "default: none")) { n throws(SpecError) in
            try DeviceLoader.sourced(n, .time, positive: false).map(Seconds.init)
        }
        var radio = base?.radio
        if let r = m["radio"] { radio = try parseRadio(r) }
        var trace = base?.trace
        if let t = m["trace"] { trace = try loadTrace(t, relativeTo: file) }
        return LinkSpec(schemaVersion: schemaVersion, id: id, name: name, description: description, file: file, uplink: uplink,
                        downlink: downlink, rtt: rtt, jitter: jitter, loss: loss, messageOverhead: overhead, messageTime: messageTime,
                        radio: radio, trace: trace)
    }

    /// A bit rate ("100 Mbit/s") or byte rate ("12.5 MB/s"), stored in bytes per second. Zero is
    /// allowed: a link that is down (planners then keep everything local).
    static func rate(_ node: SpecNode) throws(SpecError) -> Sourced<BytesPerSecond> {
        let m = try node.mapping(allowed: ["value", "source"])
        let valueNode = try m.required("value").reported(as: node.path)
        let text = try valueNode.string()
        let bytesPerSecond: Double
        if let bits = UnitParser.parse(text, as: .bitRate) {
            bytesPerSecond = bits / 8
        } else if let bytes = UnitParser.parse(text, as: .byteRate) {
            bytesPerSecond = bytes
        } else {
            _ = try valueNode.quantity(.bitRate)  // throws the standard "expected a bit rate" message
            bytesPerSecond = 0
        }
        guard bytesPerSecond >= 0 else { throw valueNode.error("must not be negative, got \(text)") }
        return Sourced(BytesPerSecond(bytesPerSecond), source: try DeviceLoader.sourceString(m))
    }

    static func parseJitter(_ node: SpecNode) throws(SpecError) -> JitterSpec {
        let m = try node.mapping(allowed: ["distribution", "scale"])
        let d = try m.required("distribution").oneOf(JitterDistribution.self)
        if d == .none {
            return JitterSpec(distribution: .none, scale: try m["scale"].map { n throws(SpecError) in
                try DeviceLoader.sourced(n, .time, positive: false).map(Seconds.init)
            } ?? Sourced(.zero, source: "no jitter"))
        }
        return JitterSpec(distribution: d, scale: try DeviceLoader.sourced(m.required("scale"), .time, positive: false).map(Seconds.init))
    }

    static func parseRadio(_ node: SpecNode) throws(SpecError) -> RadioSpec {
        let m = try node.mapping(allowed: ["tx_energy_per_bit", "tx_base_power", "rx_energy_per_bit", "rx_base_power"])
        func perByte(_ key: String) throws(SpecError) -> Sourced<JoulesPerByte> {
            try DeviceLoader.sourced(m.required(key), .energyPerBit, positive: false).map { JoulesPerByte($0 * 8) }
        }
        func power(_ key: String) throws(SpecError) -> Sourced<Watts> {
            try DeviceLoader.sourced(m.required(key), .power, positive: false).map(Watts.init)
        }
        return RadioSpec(txEnergyPerByte: try perByte("tx_energy_per_bit"), txBasePower: try power("tx_base_power"),
                         rxEnergyPerByte: try perByte("rx_energy_per_bit"), rxBasePower: try power("rx_base_power"))
    }

    /// `trace: traces/lte-drive.csv` (relative to the file that names it).
    static func loadTrace(_ node: SpecNode, relativeTo file: String) throws(SpecError) -> BandwidthTrace {
        let name = try node.string()
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        let path = name.hasPrefix("/") ? name : base.appendingPathComponent(name).standardizedFileURL.path
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw node.error("cannot read trace file '\(path)'")
        }
        return try parseTrace(csv: text, file: path)
    }

    /// CSV rows `time_s, Mbit/s` (a header line and `#` comments are allowed); times start at
    /// 0 and increase strictly; rates are ≥ 0.
    public static func parseTrace(csv: String, file: String) throws(SpecError) -> BandwidthTrace {
        var times: [Seconds] = []
        var rates: [BytesPerSecond] = []
        for (i, raw) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            func fail(_ column: Int, _ message: String) -> SpecError {
                SpecError(file: file, line: i + 1, column: column, keyPath: "trace", message: message)
            }
            guard cells.count == 2 else { throw fail(1, "expected two columns 'time_s, mbit_per_s', got \(cells.count)") }
            guard let t = Double(cells[0]), let r = Double(cells[1]) else {
                if times.isEmpty && Double(cells[0]) == nil { continue }  // header
                throw fail(1, "expected numbers 'time_s, mbit_per_s', got '\(line)'")
            }
            guard t.isFinite, t >= 0 else { throw fail(1, "time must be a finite number ≥ 0, got \(cells[0])") }
            guard r.isFinite, r >= 0 else { throw fail(cells[0].count + 2, "rate must be a finite number ≥ 0 Mbit/s, got \(cells[1])") }
            if let last = times.last, t <= last.value { throw fail(1, "times must increase strictly (\(t) after \(last.value))") }
            if times.isEmpty, t != 0 { throw fail(1, "the first row must start at time 0, got \(t)") }
            times.append(Seconds(t))
            rates.append(BytesPerSecond(r * 1e6 / 8))
        }
        guard !times.isEmpty else { throw SpecError(file: file, line: nil, column: nil, keyPath: "trace", message: "trace has no rows") }
        return BandwidthTrace(file: file, times: times, rates: rates)
    }
}
