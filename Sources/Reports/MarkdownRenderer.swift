/// GitHub-flavoured Markdown: same sections, order and numbers as the HTML report; charts are
/// represented by the tables and key figures next to them (nothing GitHub would not render).
public enum MarkdownRenderer {
    public static func render(_ doc: ReportDocument) -> String {
        var out: [String] = []
        out.append("# \(markdownEscape(doc.title))")
        out.append(markdownEscape(doc.subtitle))
        if !doc.cards.isEmpty {
            var t = TextTable(headers: ["figure", "value", "note"], aligns: [.left, .right, .left])
            for c in doc.cards { t.add([c.label, c.value, c.note]) }
            out.append(t.markdown())
        }
        for s in doc.sections {
            out.append("## \(markdownEscape(s.title))")
            for b in s.blocks {
                switch b {
                case .paragraph(let p): out.append(markdownEscape(p))
                case .table(let t):
                    var tt = TextTable(headers: t.headers, aligns: t.numeric.map { $0 ? .right : .left })
                    for r in t.rows { tt.add(r.map(\.text)) }
                    out.append(tt.markdown())
                case .chart(let c):
                    out.append("*Chart (HTML report): \(markdownEscape(c.title)).*")
                }
            }
        }
        var meta = TextTable(headers: ["run", "value"], aligns: [.left, .left])
        for m in doc.meta { meta.add([m.label, m.value]) }
        out.append("---\n\n" + meta.markdown())
        return out.joined(separator: "\n\n") + "\n"
    }
}
