import Foundation
import NNGraph
import Yams

/// A YAML node with its file and key path, so every error can say where it happened.
/// Mappings track which keys were read so unknown keys are reported with a did-you-mean.
public struct SpecNode {
    public let file: String
    public let path: String
    let node: Yams.Node

    public var line: Int? { node.mark?.line }
    public var column: Int? { node.mark?.column }

    public func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, keyPath: path, message: message)
    }

    /// Parses YAML text into the root node; syntax errors carry Yams' line and column.
    public static func parse(yaml: String, file: String) throws(SpecError) -> SpecNode {
        do {
            guard let root = try Yams.compose(yaml: yaml) else {
                throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "file is empty")
            }
            return SpecNode(file: file, path: "", node: root)
        } catch let e as SpecError {
            throw e
        } catch let e as YamlError {
            throw Self.locate(e, file: file)
        } catch {
            throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "malformed YAML: \(error)")
        }
    }

    public static func load(file: String) throws(SpecError) -> SpecNode {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "cannot read file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "file is not UTF-8 text")
        }
        return try parse(yaml: text, file: file)
    }

    private static func locate(_ e: YamlError, file: String) -> SpecError {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            // The context says where the construct that failed began (e.g. the unclosed `[`),
            // which is often the line to fix; the problem mark is where parsing gave up.
            let ctx = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return SpecError(file: file, line: mark.line, column: mark.column, keyPath: "", message: "malformed YAML: \(problem)\(ctx)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams marks the first occurrence of the (alphabetically first) duplicated key.
            let names = duplicates.map { "'\($0)'" }
            let message = names.count == 1
                ? "duplicate key \(names[0]) in a mapping (first occurrence here)"
                : "duplicate keys \(names.joined(separator: ", ")) in a mapping (first occurrence of \(names[0]) here)"
            return SpecError(file: file, line: context.mark.line, column: context.mark.column, keyPath: "", message: message)
        default:
            return SpecError(file: file, line: nil, column: nil, keyPath: "", message: "malformed YAML: \(e)")
        }
    }

    /// The same YAML node reported under another key path: the `value` of a
    /// `{value:, source:}` pair is reported under the pair's own path
    /// (`memory[1].bandwidth`, not `memory[1].bandwidth.value`), at the value's position.
    func reported(as path: String) -> SpecNode {
        SpecNode(file: file, path: path, node: node)
    }

    func child(_ key: String, _ node: Yams.Node) -> SpecNode {
        SpecNode(file: file, path: path.isEmpty ? key : "\(path).\(key)", node: node)
    }

    // MARK: Scalars

    public var isNull: Bool {
        if case .scalar(let s) = node { return (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) }
        return false
    }

    public func string() throws(SpecError) -> String {
        guard case .scalar(let s) = node, !isNull else { throw error("expected a string, got \(describe())") }
        return s.string
    }

    public func int() throws(SpecError) -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string) else { throw error("expected an integer, got \(describe())") }
        return v
    }

    public func double() throws(SpecError) -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string), v.isFinite else { throw error("expected a number, got \(describe())") }
        return v
    }

    public func bool() throws(SpecError) -> Bool {
        guard case .scalar(let s) = node else { throw error("expected true or false, got \(describe())") }
        switch s.string {
        case "true", "True", "yes": return true
        case "false", "False", "no": return false
        default: throw error("expected true or false, got \(describe())")
        }
    }

    /// A value with a unit in the string, returned in SI base units.
    public func quantity(_ kind: UnitKind) throws(SpecError) -> Double {
        guard case .scalar(let s) = node, !isNull else { throw error("expected \(kind.example), got \(describe())") }
        if Double(s.string) != nil {
            throw error("expected \(kind.example), got the bare number \(s.string) (write the unit in the string)")
        }
        guard let v = UnitParser.parse(s.string, as: kind) else {
            throw error("expected \(kind.example), got \"\(s.string)\"")
        }
        return v
    }

    public func oneOf<T: RawRepresentable>(_ type: T.Type) throws(SpecError) -> T where T.RawValue == String, T: CaseIterable {
        let s = try string()
        guard let v = T(rawValue: s) else {
            let all = T.allCases.map(\.rawValue)
            let hint = didYouMean(s, among: all).map { " (did you mean '\($0)'?)" } ?? ""
            throw error("unknown value '\(s)'\(hint); expected one of: \(all.joined(separator: ", "))")
        }
        return v
    }

    func describe() -> String {
        switch node {
        case .scalar(let s): isNull ? "nothing (null)" : "\"\(s.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: Collections

    public func sequence() throws(SpecError) -> [SpecNode] {
        guard case .sequence(let seq) = node else { throw error("expected a list, got \(describe())") }
        return seq.enumerated().map { SpecNode(file: file, path: "\(path)[\($0.offset)]", node: $0.element) }
    }

    /// Opens a mapping whose keys must all be in `allowed`.
    public func mapping(allowed: [String]) throws(SpecError) -> SpecMap {
        guard case .mapping(let map) = node else { throw error("expected a mapping, got \(describe())") }
        var entries: [(String, SpecNode)] = []
        for (k, v) in map {
            guard case .scalar(let ks) = k else {
                throw SpecError(file: file, line: k.mark?.line, column: k.mark?.column, keyPath: path, message: "mapping keys must be strings")
            }
            let key = ks.string
            if !allowed.contains(key) {
                let hint = didYouMean(key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                throw SpecError(file: file, line: k.mark?.line, column: k.mark?.column, keyPath: keyPath,
                                message: "unknown key '\(key)'\(hint); allowed keys: \(allowed.joined(separator: ", "))")
            }
            entries.append((key, child(key, v)))
        }
        return SpecMap(owner: self, entries: entries)
    }

    /// Opens a mapping with arbitrary keys (e.g. per-precision tables), in file order.
    public func anyMapping() throws(SpecError) -> [(key: String, value: SpecNode)] {
        guard case .mapping(let map) = node else { throw error("expected a mapping, got \(describe())") }
        var out: [(key: String, value: SpecNode)] = []
        for (k, v) in map {
            guard case .scalar(let ks) = k else { throw error("mapping keys must be strings") }
            out.append((ks.string, child(ks.string, v)))
        }
        return out
    }
}

public struct SpecMap {
    public let owner: SpecNode
    let entries: [(String, SpecNode)]

    public subscript(_ key: String) -> SpecNode? {
        entries.first { $0.0 == key }.map(\.1).flatMap { $0.isNull ? nil : $0 }
    }

    public func required(_ key: String) throws(SpecError) -> SpecNode {
        guard let n = self[key] else {
            let keyPath = owner.path.isEmpty ? key : "\(owner.path).\(key)"
            throw SpecError(file: owner.file, line: owner.line, column: owner.column, keyPath: keyPath, message: "missing required field '\(key)'")
        }
        return n
    }
}
