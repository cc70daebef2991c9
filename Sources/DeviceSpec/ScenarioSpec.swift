import Foundation

/// A scenario file (`profiles/*.yaml`): a model, the devices to compare, and where the
/// report goes. Paths are relative to the scenario file. (Tiers, links, objectives and
/// constraints for offloading extend this schema in a later version.)
public struct ScenarioSpec: Sendable, Hashable {
    public var schemaVersion: Int
    public var name: String
    public var description: String?
    public var model: String
    public var deviceFiles: [String]
    /// Layers shown per device in the printed table (nil = all).
    public var top: Int?
    /// Markdown report path (resolved), if any.
    public var markdownReport: String?
    /// HTML report path (resolved), if any.
    public var htmlReport: String?
    public var file: String
    /// Price a first inference (every weight from main memory; `profile --cold-weights`); default
    /// false: the steady state of repeated inference.
    public var coldWeights = false
}

public enum ScenarioLoader {
    public static func load(file: String) throws(SpecError) -> ScenarioSpec {
        let root = try SpecNode.load(file: file)
        if let keys = try? root.anyMapping(), let tiers = keys.first(where: { $0.key == "tiers" }) {
            throw tiers.value.error("this is a split-computing scenario (it has tiers): run `edgeprof plan \(file)` or `edgeprof simulate \(file)`")
        }
        let m = try root.mapping(allowed: ["schema_version", "name", "description", "model", "devices", "top", "markdown_report", "html_report", "cold_weights"])
        let vNode = try m.required("schema_version")
        guard try vNode.int() == 1 else { throw vNode.error("unsupported schema_version; this edgeprof reads version 1") }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
        }
        var devices: [String] = []
        let dNode = try m.required("devices")
        for n in try dNode.sequence() {
            let path = resolve(try n.string())
            guard FileManager.default.fileExists(atPath: path) else { throw n.error("device file '\(path)' does not exist") }
            devices.append(path)
        }
        guard !devices.isEmpty else { throw dNode.error("list at least one device file") }
        var top: Int?
        if let t = m["top"] {
            top = try t.int()
            guard (top ?? 0) > 0 else { throw t.error("must be a positive number of layers") }
        }
        var spec = ScenarioSpec(schemaVersion: 1, name: try m.required("name").string(), description: try m["description"]?.string(),
                                model: try m.required("model").string(), deviceFiles: devices, top: top,
                                markdownReport: try m["markdown_report"].map { n throws(SpecError) in resolve(try n.string()) },
                                htmlReport: try m["html_report"].map { n throws(SpecError) in resolve(try n.string()) }, file: file)
        if let c = m["cold_weights"] { spec.coldWeights = try c.bool() }
        return spec
    }
}
