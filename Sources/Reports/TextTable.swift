/// Column-aligned plain-text and GitHub-flavoured Markdown tables.
public struct TextTable: Sendable {
    public enum Align: Sendable { case left, right }
    public var headers: [String]
    public var aligns: [Align]
    public var rows: [[String]] = []

    public init(headers: [String], aligns: [Align]) {
        self.headers = headers
        self.aligns = aligns
    }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func plain() -> String {
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = Swift.max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: Swift.max(0, widths[i] - c.count))
                return aligns[i] == .left ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.map { $0.replacingTrailingSpaces() }.joined(separator: "\n")
    }

    public func markdown() -> String {
        func esc(_ s: String) -> String { markdownEscape(s) }
        var out = ["| " + headers.map(esc).joined(separator: " | ") + " |",
                   "|" + aligns.map { $0 == .left ? " --- |" : " ---: |" }.joined()]
        out += rows.map { "| " + $0.map(esc).joined(separator: " | ") + " |" }
        return out.joined(separator: "\n")
    }
}

/// Escapes text for a Markdown table cell (pipes, HTML, emphasis and code markers).
public func markdownEscape(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "|": out += "\\|"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "&": out += "&amp;"
        case "*", "_", "`", "[", "]", "\\": out += "\\\(ch)"
        case "\n": out += " "
        default: out.append(ch)
        }
    }
    return out
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
