/// Escapes text for HTML element content and attribute values. Every model-supplied string
/// (layer names, device names, paths) goes through this.
public func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// Minimal HTML writer: text is escaped unless passed through `raw` (used only for markup this
/// module generates itself).
struct HTMLWriter {
    private(set) var html = ""
    mutating func raw(_ s: String) { html += s }
    mutating func text(_ s: String) { html += escapeHTML(s) }
    mutating func element(_ tag: String, _ attrs: [(String, String)] = [], _ content: String) {
        open(tag, attrs)
        text(content)
        close(tag)
    }
    mutating func open(_ tag: String, _ attrs: [(String, String)] = []) {
        html += "<\(tag)"
        for (k, v) in attrs { html += " \(k)=\"\(escapeHTML(v))\"" }
        html += ">"
    }
    mutating func close(_ tag: String) { html += "</\(tag)>" }
}
