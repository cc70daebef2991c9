/// A located problem in a spec file: `file:line:column: keyPath: message`.
public struct SpecError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// e.g. `memory[1].bandwidth`; empty for file-level problems.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int?, column: Int?, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var loc = file
        if let line { loc += ":\(line)" }
        if let column { loc += ":\(column)" }
        return keyPath.isEmpty ? "\(loc): \(message)" : "\(loc): \(keyPath): \(message)"
    }
}

/// Several spec errors reported at once (e.g. `devices check` on many files).
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Levenshtein distance, for did-you-mean suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

/// The closest candidate within a small edit distance, if any.
public func didYouMean(_ word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
    guard let best = scored.first else { return nil }
    let limit = Swift.max(2, word.count / 3)
    return best.1 <= limit ? best.0 : nil
}
