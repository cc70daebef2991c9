import DeviceSpec
import Foundation

/// Precision column of the published-latency CSV (`unknown` = not stated by the source).
public enum PublishedPrecision: String, Sendable, Hashable, Codable, CaseIterable {
    case fp32, fp16, int8, unknown
}

/// One row of a published-latency CSV (data/README.md "published-latency.csv" describes the columns).
public struct PublishedRow: Sendable, Hashable, Codable {
    public var id: String
    public var model: String
    /// Input height = width; nil when the source does not state it.
    public var inputHW: Int?
    public var precision: PublishedPrecision
    public var device: String
    public var runtime: String
    /// nil = not applicable or not stated.
    public var threads: Int?
    public var batch: Int
    public var latencyMs: Double
    public var latencyMinMs: Double?
    public var latencyMaxMs: Double?
    /// `;`-separated caveats, split; empty = unflagged.
    public var flags: [String]
    public var sourceKey: String
    public var sourceURL: String
    /// 1-based line in the file the row came from.
    public var line: Int

    public var isFlagged: Bool { !flags.isEmpty }

    public init(id: String, model: String, inputHW: Int?, precision: PublishedPrecision, device: String, runtime: String, threads: Int?,
                batch: Int, latencyMs: Double, latencyMinMs: Double?, latencyMaxMs: Double?, flags: [String], sourceKey: String,
                sourceURL: String, line: Int) {
        self.id = id
        self.model = model
        self.inputHW = inputHW
        self.precision = precision
        self.device = device
        self.runtime = runtime
        self.threads = threads
        self.batch = batch
        self.latencyMs = latencyMs
        self.latencyMinMs = latencyMinMs
        self.latencyMaxMs = latencyMaxMs
        self.flags = flags
        self.sourceKey = sourceKey
        self.sourceURL = sourceURL
        self.line = line
    }
}

/// A parsed published-latency CSV. Any file with the same header (columns in any order) loads,
/// so users can score the tool against their own measurements.
public struct PublishedLatencyTable: Sendable, Hashable {
    public static let columns = ["id", "model", "input_hw", "precision", "device", "runtime", "threads", "batch", "latency_ms",
                                 "latency_min_ms", "latency_max_ms", "flag", "source_key", "source_url"]
    public var file: String
    public var rows: [PublishedRow]

    public init(file: String, rows: [PublishedRow]) {
        self.file = file
        self.rows = rows
    }

    public static func load(file: String) throws(SpecError) -> PublishedLatencyTable {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SpecError(file: file, line: nil, column: nil, keyPath: "", message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(csv: text, file: file)
    }

    /// Strict: every header column must be known and present once, every row must have one field per
    /// column, required fields must be non-empty, numbers positive, ids unique. Errors say
    /// `file:line:column: <column>: problem`.
    public static func parse(csv text: String, file: String) throws(SpecError) -> PublishedLatencyTable {
        let records = try CSVRecords.split(text, file: file)
        guard let header = records.first else {
            throw SpecError(file: file, line: 1, column: 1, keyPath: "", message: "empty file; expected the header \(columns.joined(separator: ","))")
        }
        var index: [String: Int] = [:]
        for (i, f) in header.fields.enumerated() {
            let name = f.text.trimmingCharacters(in: .whitespaces)
            guard columns.contains(name) else {
                let hint = didYouMean(name, among: columns).map { " (did you mean '\($0)'?)" } ?? ""
                throw SpecError(file: file, line: header.line, column: f.column, keyPath: name, message: "unknown column\(hint)")
            }
            guard index[name] == nil else { throw SpecError(file: file, line: header.line, column: f.column, keyPath: name, message: "duplicate column") }
            index[name] = i
        }
        let missing = columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw SpecError(file: file, line: header.line, column: 1, keyPath: "", message: "missing column(s): \(missing.joined(separator: ", "))")
        }

        var rows: [PublishedRow] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            if record.fields.count == 1 && record.fields[0].text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard record.fields.count == header.fields.count else {
                throw SpecError(file: file, line: record.line, column: 1, keyPath: "",
                                message: "expected \(header.fields.count) fields, got \(record.fields.count)")
            }
            let row = RowReader(file: file, record: record, index: index)
            let id = try row.required("id")
            if let first = seen[id] { throw row.error("id", "duplicate id '\(id)' (first on line \(first))") }
            seen[id] = record.line
            let precisionText = try row.required("precision")
            guard let precision = PublishedPrecision(rawValue: precisionText) else {
                throw row.error("precision", "expected one of \(PublishedPrecision.allCases.map(\.rawValue).joined(separator: ", ")), got '\(precisionText)'")
            }
            let batch = try row.positiveInt("batch") ?? 0
            guard batch > 0 else { throw row.error("batch", "required") }
            guard let latency = try row.positiveDouble("latency_ms") else { throw row.error("latency_ms", "required") }
            let minMs = try row.positiveDouble("latency_min_ms"), maxMs = try row.positiveDouble("latency_max_ms")
            if let minMs, let maxMs, minMs > maxMs { throw row.error("latency_min_ms", "min \(minMs) ms exceeds max \(maxMs) ms") }
            let flags = row.text("flag").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            rows.append(PublishedRow(id: id, model: try row.required("model"), inputHW: try row.positiveInt("input_hw"), precision: precision,
                                     device: try row.required("device"), runtime: try row.required("runtime"), threads: try row.positiveInt("threads"),
                                     batch: batch, latencyMs: latency, latencyMinMs: minMs, latencyMaxMs: maxMs, flags: flags,
                                     sourceKey: row.text("source_key"), sourceURL: row.text("source_url"), line: record.line))
        }
        return PublishedLatencyTable(file: file, rows: rows)
    }
}

/// Field access with located errors for one CSV record.
private struct RowReader {
    var file: String
    var record: CSVRecord
    var index: [String: Int]

    func field(_ column: String) -> CSVField { record.fields[index[column] ?? 0] }
    func text(_ column: String) -> String { field(column).text.trimmingCharacters(in: .whitespaces) }
    func error(_ column: String, _ message: String) -> SpecError {
        SpecError(file: file, line: record.line, column: field(column).column, keyPath: column, message: message)
    }
    func required(_ column: String) throws(SpecError) -> String {
        let t = text(column)
        guard !t.isEmpty else { throw error(column, "required, got an empty field") }
        return t
    }
    func positiveInt(_ column: String) throws(SpecError) -> Int? {
        let t = text(column)
        if t.isEmpty { return nil }
        guard let v = Int(t), v > 0 else { throw error(column, "expected a positive integer, got '\(t)'") }
        return v
    }
    func positiveDouble(_ column: String) throws(SpecError) -> Double? {
        let t = text(column)
        if t.isEmpty { return nil }
        guard let v = Double(t), v.isFinite, v > 0 else { throw error(column, "expected a positive number (milliseconds), got '\(t)'") }
        return v
    }
}

struct CSVField {
    var text: String
    /// 1-based column (characters) where the field starts.
    var column: Int
}

struct CSVRecord {
    var line: Int
    var fields: [CSVField]
}

/// RFC 4180 splitting: comma-separated, `"` quotes fields that hold commas, quotes (doubled) or
/// newlines; a record's line is the line it starts on.
enum CSVRecords {
    static func split(_ text: String, file: String) throws(SpecError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        var fields: [CSVField] = []
        var current = ""
        var fieldColumn = 1
        var recordLine = 1
        var line = 1, column = 1
        var inQuotes = false
        var quoteLine = 1, quoteColumn = 1
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        if chars.last != "\n" { chars.append("\n") }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 2; column += 2; continue }
                    inQuotes = false
                } else {
                    current.append(c)
                    if c == "\n" { line += 1; column = 0 }
                }
            } else {
                switch c {
                case "\"" where current.isEmpty:
                    inQuotes = true
                    quoteLine = line
                    quoteColumn = column
                case ",":
                    fields.append(CSVField(text: current, column: fieldColumn))
                    current = ""
                    fieldColumn = column + 1
                case "\n":
                    fields.append(CSVField(text: current, column: fieldColumn))
                    if !(fields.count == 1 && fields[0].text.isEmpty) { records.append(CSVRecord(line: recordLine, fields: fields)) }
                    fields = []
                    current = ""
                    line += 1
                    column = 0
                    fieldColumn = 1
                    recordLine = line
                default:
                    current.append(c)
                }
            }
            i += 1
            column += 1
        }
        if inQuotes { throw SpecError(file: file, line: quoteLine, column: quoteColumn, keyPath: "", message: "unterminated quoted field") }
        return records
    }
}
