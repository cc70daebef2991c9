/// Replaces sourced values (`key: {value: ..., source: ...}` written on one line) in a device
/// file's text, keeping every comment and all other lines as they are. Used by `edgeprof
/// calibrate` to write fitted values into a copy of the template device file.
public struct DeviceFileEditor {
    public let file: String
    public private(set) var lines: [String]

    public init(text: String, file: String) {
        self.file = file
        self.lines = text.components(separatedBy: "\n")
    }

    public var text: String { lines.joined(separator: "\n") }

    /// Navigates `path` (mapping keys; an Int selects a list element) from the document root.
    func node(_ path: [PathStep]) throws(SpecError) -> SpecNode {
        var n = try SpecNode.parse(yaml: text, file: file)
        for step in path {
            switch step {
            case .key(let k):
                guard let next = try n.anyMapping().first(where: { $0.key == k })?.value else {
                    throw n.error("no key '\(k)' to update")
                }
                n = next
            case .index(let i):
                let seq = try n.sequence()
                guard i < seq.count else { throw n.error("no element \(i) to update") }
                n = seq[i]
            }
        }
        return n
    }

    public enum PathStep: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func flow(value: String, source: String) -> String { "{value: \(value), source: \(quoted(source))}" }

    /// Sets the sourced value at `path` (which must be written as a one-line flow mapping), or, when
    /// the last key is missing from its parent mapping, inserts `key: {...}` after the parent's last entry.
    public mutating func set(_ path: [PathStep], value: String, source: String) throws(SpecError) {
        guard case .key(let last)? = path.last else { throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "bad edit path") }
        let parent = try node(Array(path.dropLast()))
        let entries = try parent.anyMapping()
        if let existing = entries.first(where: { $0.key == last })?.value {
            guard let line = existing.line, let column = existing.column, line >= 1, line <= lines.count else {
                throw existing.error("cannot locate the value to update")
            }
            let l = lines[line - 1]
            guard l.count >= column, l.dropFirst(column - 1).hasPrefix("{"), l.hasSuffix("}") else {
                throw existing.error("can only update a one-line {value, source} mapping")
            }
            lines[line - 1] = String(l.prefix(column - 1)) + Self.flow(value: value, source: source)
            return
        }
        guard let lastLine = entries.compactMap(\.value.line).max(), let firstLine = entries.compactMap(\.value.line).min(),
              firstLine >= 1, lastLine <= lines.count else {
            throw parent.error("cannot insert '\(last)' into an empty mapping")
        }
        // The first entry's line may open a sequence item ("  - name: l1"): keys sit after the dash.
        let first = lines[firstLine - 1]
        var indent = String(first.prefix { $0 == " " })
        if first.dropFirst(indent.count).hasPrefix("- ") { indent += "  " }
        lines.insert(indent + "\(last): " + Self.flow(value: value, source: source), at: lastLine)
    }

    /// Removes the block mapping `mapKey:` (its line and every more-indented line after it) from the
    /// mapping at `parentPath`; nothing when the key is absent.
    public mutating func removeBlock(_ parentPath: [PathStep], mapKey: String) throws(SpecError) {
        let entries = try node(parentPath).anyMapping()
        guard let value = entries.first(where: { $0.key == mapKey })?.value else { return }
        guard let first = value.line, first >= 2, first <= lines.count else { throw value.error("cannot locate '\(mapKey)' to remove") }
        // A block mapping's first entry sits on the line after its key.
        var keyLine = first - 1
        while keyLine >= 1, !lines[keyLine - 1].trimmingCharacters(in: .whitespaces).hasPrefix("\(mapKey):") { keyLine -= 1 }
        guard keyLine >= 1 else { throw value.error("cannot locate '\(mapKey)' to remove") }
        let indent = lines[keyLine - 1].prefix { $0 == " " }.count
        var end = keyLine
        while end < lines.count {
            let l = lines[end]
            let t = l.trimmingCharacters(in: .whitespaces)
            guard t.isEmpty || l.prefix(while: { $0 == " " }).count > indent else { break }
            end += 1
        }
        lines.removeSubrange((keyLine - 1)..<end)
    }

    /// Sets `mapKey.key` under the mapping at `parentPath`; when `mapKey` is missing, inserts the
    /// block `mapKey:` with this one entry right after the line of the sibling key `after`.
    public mutating func setInMapping(_ parentPath: [PathStep], mapKey: String, key: String, after sibling: String,
                                      value: String, source: String) throws(SpecError) {
        let parent = try node(parentPath)
        let entries = try parent.anyMapping()
        if entries.contains(where: { $0.key == mapKey }) {
            try set(parentPath + [.key(mapKey), .key(key)], value: value, source: source)
            return
        }
        guard let anchor = entries.first(where: { $0.key == sibling })?.value, let line = anchor.line, line >= 1, line <= lines.count else {
            throw parent.error("cannot insert '\(mapKey)': no '\(sibling)' to place it after")
        }
        let text = lines[line - 1]
        guard text.trimmingCharacters(in: .whitespaces).hasPrefix("\(sibling):"), text.hasSuffix("}") else {
            throw anchor.error("cannot insert '\(mapKey)' after a multi-line '\(sibling)'")
        }
        let indent = String(text.prefix { $0 == " " })
        lines.insert(contentsOf: [indent + "\(mapKey):", indent + "  \(key): " + Self.flow(value: value, source: source)], at: line)
    }
}
