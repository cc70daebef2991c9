import Foundation
import Reports
import RunRecords
import Testing

@Suite struct ReportRenderingTests {
    static let snapshotDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    func render(_ run: RunRecord) -> (html: String, md: String) {
        let doc = RunDocumentBuilder.document(for: run)
        return (HTMLRenderer.render(doc), MarkdownRenderer.render(doc))
    }

    @Test func modelSuppliedNamesAreEscaped() {
        var run = sampleRun(layerName: "<script>alert(1)</script>")
        run.profile?.devices[0].name = "Dev \"<img src=x onerror=alert(2)>\""
        let (html, md) = render(run)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // Exactly one script element: our own table sorter.
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(!md.contains("<script>"))
        #expect(md.contains("&lt;script&gt;"))
    }

    @Test func htmlIsSelfContained() {
        let (html, _) = render(sampleRun())
        for banned in ["http://", "https://", "<link", "@import", "src=\"", "url("] {
            #expect(!html.contains(banned), "HTML references something external: \(banned)")
        }
        #expect(html.contains("<svg"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    /// Every number in the Markdown report appears in the HTML report's text and vice versa
    /// (charts excluded: their numbers are in the tables next to them).
    @Test func bothFormatsCarryIdenticalNumbers() {
        let (html, md) = render(sampleRun())
        let htmlText = Self.visibleText(html)
        let mdNumbers = Self.numbers(in: Self.unescapeMarkdown(md))
        let htmlNumbers = Self.numbers(in: htmlText)
        #expect(!mdNumbers.isEmpty)
        #expect(mdNumbers == htmlNumbers, "only in md: \(mdNumbers.subtracting(htmlNumbers)); only in html: \(htmlNumbers.subtracting(mdNumbers))")
    }

    @Test func sectionsAppearInTheSameOrder() {
        let (html, md) = render(sampleRun())
        let doc = RunDocumentBuilder.document(for: sampleRun())
        var hPos = html.startIndex, mPos = md.startIndex
        for s in doc.sections {
            let h = try? #require(html.range(of: ">\(escapeHTML(s.title))</h2>", range: hPos..<html.endIndex))
            let m = try? #require(md.range(of: "## \(markdownEscape(s.title))", range: mPos..<md.endIndex))
            if let h, let m { hPos = h.upperBound; mPos = m.upperBound }
        }
    }

    @Test func goldenFilesMatch() throws {
        let (html, md) = render(sampleRun())
        let record = ProcessInfo.processInfo.environment["EDGEPROF_RECORD_SNAPSHOTS"] == "1"
        for (name, text) in [("sample.html", html), ("sample.md", md)] {
            let url = Self.snapshotDir.appendingPathComponent(name)
            if record {
                try FileManager.default.createDirectory(at: Self.snapshotDir, withIntermediateDirectories: true)
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            let golden = try String(contentsOf: url, encoding: .utf8)
            #expect(text == golden, "\(name) differs from the golden file; re-record with EDGEPROF_RECORD_SNAPSHOTS=1 swift test --filter ReportsTests")
        }
    }

    // MARK: helpers

    static func visibleText(_ html: String) -> String {
        var s = html
        for tag in ["svg", "script", "style", "title"] {
            while let open = s.range(of: "<\(tag)"), let close = s.range(of: "</\(tag)>", range: open.upperBound..<s.endIndex) {
                s.removeSubrange(open.lowerBound..<close.upperBound)
            }
        }
        var out = ""
        var inTag = false
        for ch in s {
            if ch == "<" { inTag = true; out.append(" "); continue }
            if ch == ">" { inTag = false; continue }
            if !inTag { out.append(ch) }
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func unescapeMarkdown(_ md: String) -> String {
        var out = ""
        var escape = false
        for ch in md {
            if escape { out.append(ch); escape = false; continue }
            if ch == "\\" { escape = true; continue }
            out.append(ch)
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Numbers with their unit-ish suffix, as a multiset key set.
    static func numbers(in text: String) -> Set<String> {
        var result = Set<String>()
        var counts: [String: Int] = [:]
        let pattern = try? NSRegularExpression(pattern: "[0-9]+(\\.[0-9]+)?( ?(ms|µs|ns|s|mJ|µJ|nJ|J|KiB|MiB|GiB|B|%|×|M|G|k))?")
        let ns = text as NSString
        for m in pattern?.matches(in: text, range: NSRange(location: 0, length: ns.length)) ?? [] {
            let v = ns.substring(with: m.range)
            counts[v, default: 0] += 1
            result.insert("\(v)#\(counts[v] ?? 0)")
        }
        return result
    }
}
