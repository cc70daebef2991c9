import Foundation

/// Everything a result-producing command stores: what ran, on what, with which inputs, and
/// the full results. Reports are rendered from this record only.
public struct RunRecord: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Store id (nil until saved).
    public var id: Int64?
    public var uuid: String
    /// "profile", "scenario", "measure", "plan", "simulate", "validate".
    public var kind: String
    /// ISO 8601 UTC.
    public var createdAt: String
    public var commandLine: [String]
    public var toolVersion: String
    /// Hash of the running executable (no git needed).
    public var buildID: String
    public var model: ModelIdentity
    public var devices: [DeviceFileRecord]
    public var host: HostInfo
    /// Scenario name when the run came from a scenario file.
    public var scenario: String?
    public var profile: ProfileReport?
    /// Further result sections (measurements, plans, simulations) as JSON objects keyed by section name.
    public var sections: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", id, uuid, kind
        case createdAt = "created_at"
        case commandLine = "command_line"
        case toolVersion = "tool_version"
        case buildID = "build_id"
        case model, devices, host, scenario, profile, sections
    }

    public init(id: Int64? = nil, uuid: String = UUID().uuidString.lowercased(), kind: String, createdAt: String, commandLine: [String],
                toolVersion: String, buildID: String, model: ModelIdentity, devices: [DeviceFileRecord], host: HostInfo,
                scenario: String? = nil, profile: ProfileReport? = nil, sections: [String: JSONValue] = [:]) {
        self.schemaVersion = Self.currentSchemaVersion
        self.id = id
        self.uuid = uuid
        self.kind = kind
        self.createdAt = createdAt
        self.commandLine = commandLine
        self.toolVersion = toolVersion
        self.buildID = buildID
        self.model = model
        self.devices = devices
        self.host = host
        self.scenario = scenario
        self.profile = profile
        self.sections = sections
    }

    public func jsonData(pretty: Bool = true) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? enc.encode(self)) ?? Data("{}".utf8)
    }

    public static func decode(_ data: Data) throws -> RunRecord {
        try JSONDecoder().decode(RunRecord.self, from: data)
    }
}

public struct ModelIdentity: Codable, Sendable, Hashable {
    public var name: String
    public var source: String
    /// SHA-256 of the model file, or of the zoo graph's canonical JSON.
    public var sha256: String
    public init(name: String, source: String, sha256: String) {
        self.name = name
        self.source = source
        self.sha256 = sha256
    }
}

public struct DeviceFileRecord: Codable, Sendable, Hashable {
    public var id: String
    public var name: String
    public var path: String
    public var sha256: String
    /// The file's full text, so a stored run can be understood without the file.
    public var content: String
    public init(id: String, name: String, path: String, sha256: String, content: String) {
        self.id = id
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.content = content
    }
}

public struct HostInfo: Codable, Sendable, Hashable {
    public var hostname: String
    public var os: String
    public var cpuModel: String
    public var logicalCores: Int
    public var memoryBytes: Double

    enum CodingKeys: String, CodingKey {
        case hostname, os
        case cpuModel = "cpu_model"
        case logicalCores = "logical_cores"
        case memoryBytes = "memory_bytes"
    }

    public init(hostname: String, os: String, cpuModel: String, logicalCores: Int, memoryBytes: Double) {
        self.hostname = hostname
        self.os = os
        self.cpuModel = cpuModel
        self.logicalCores = logicalCores
        self.memoryBytes = memoryBytes
    }

    /// Reads this machine's facts (Linux /proc where available).
    public static func current() -> HostInfo {
        let info = ProcessInfo.processInfo
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HostInfo(hostname: info.hostName, os: info.operatingSystemVersionString, cpuModel: cpu,
                        logicalCores: info.activeProcessorCount, memoryBytes: Double(info.physicalMemory))
    }
}

/// A JSON value, for result sections whose types live in higher modules.
public indirect enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Converts any Encodable value (e.g. a measurement report) into a section.
    public static func from<T: Encodable>(_ value: T) throws -> JSONValue {
        let data = try JSONEncoder().encode(value)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Decodes a section back into a typed value.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(self))
    }
}
