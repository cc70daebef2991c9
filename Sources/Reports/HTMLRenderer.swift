import Foundation

/// One self-contained HTML file: inline CSS and SVG, a small inline script for sorting tables,
/// no network, fonts or external scripts. Readable on a phone, printable.
public enum HTMLRenderer {
    public static func render(_ doc: ReportDocument) -> String {
        var w = HTMLWriter()
        w.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        w.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        w.element("title", [], doc.title)
        w.raw("<style>\(css)</style></head><body><main>\n")
        w.element("h1", [], doc.title)
        w.element("p", [("class", "sub")], doc.subtitle)
        if !doc.cards.isEmpty {
            w.raw("<div class=\"cards\">")
            for c in doc.cards {
                w.raw("<div class=\"card\">")
                w.element("div", [("class", "cl")], c.label)
                w.element("div", [("class", "cv")], c.value)
                w.element("div", [("class", "cn")], c.note)
                w.raw("</div>")
            }
            w.raw("</div>\n")
        }
        w.raw("<nav><ul>")
        for s in doc.sections {
            w.open("li")
            w.element("a", [("href", "#\(s.id)")], s.title)
            w.close("li")
        }
        w.raw("</ul></nav>\n")
        for s in doc.sections {
            w.open("section", [("id", s.id)])
            w.element("h2", [], s.title)
            for b in s.blocks {
                switch b {
                case .paragraph(let p): w.element("p", [], p)
                case .table(let t): table(t, into: &w)
                case .chart(let c):
                    w.raw("<figure>")
                    switch c {
                    case .bars(let b): w.element("figcaption", [], b.title); w.raw(SVGCharts.bars(b))
                    case .stacked(let st): w.element("figcaption", [], st.title); w.raw(SVGCharts.stacked(st))
                    case .roofline(let r): w.element("figcaption", [], r.title); w.raw(SVGCharts.roofline(r))
                    case .scatter(let sc): w.element("figcaption", [], sc.title); w.raw(SVGCharts.scatter(sc))
                    case .lines(let l): w.element("figcaption", [], l.title); w.raw(SVGCharts.lines(l))
                    }
                    w.raw("</figure>")
                }
            }
            w.close("section")
            w.raw("\n")
        }
        w.raw("<footer><dl>")
        for m in doc.meta {
            w.element("dt", [], m.label)
            w.element("dd", [], m.value)
        }
        w.raw("</dl></footer></main><script>\(script)</script></body></html>\n")
        return w.html
    }

    static func table(_ t: ReportTable, into w: inout HTMLWriter) {
        w.raw("<div class=\"tw\">")
        w.open("table", t.sortable ? [("class", "sortable")] : [])
        w.raw("<thead><tr>")
        for (i, h) in t.headers.enumerated() {
            w.element("th", t.numeric[i] ? [("class", "n")] : [], h)
        }
        w.raw("</tr></thead><tbody>")
        for r in t.rows {
            w.raw("<tr>")
            for (i, c) in r.enumerated() {
                var attrs: [(String, String)] = []
                if i < t.numeric.count, t.numeric[i] { attrs.append(("class", "n")) }
                if let k = c.sortKey { attrs.append(("data-v", String(format: "%.9g", k))) }
                w.element("td", attrs, c.text)
            }
            w.raw("</tr>")
        }
        w.raw("</tbody></table></div>")
    }

    static let css = """
    :root{--fg:#1d2330;--mut:#5b6475;--bd:#d9dee7;--bg:#fff;--acc:#3b6fb6}
    *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
    main{max-width:1100px;margin:0 auto;padding:16px}h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid var(--bd);padding-bottom:4px}
    .sub{color:var(--mut);margin-top:0}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:10px;margin:14px 0}
    .card{border:1px solid var(--bd);border-radius:8px;padding:10px 12px}.cl{color:var(--mut);font-size:.85em}.cv{font-size:1.35em;font-weight:600;word-break:break-all}.cn{color:var(--mut);font-size:.8em}
    nav ul{display:flex;flex-wrap:wrap;gap:6px 14px;padding:0;list-style:none;font-size:.9em}a{color:var(--acc)}
    .tw{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:.85em;margin:8px 0;min-width:50%}
    th,td{border-bottom:1px solid var(--bd);padding:3px 8px;text-align:left;white-space:nowrap}th.n,td.n{text-align:right}
    table.sortable th{cursor:pointer}table.sortable th:hover{background:#eef2f8}tbody tr:nth-child(even){background:#f7f9fc}
    figure{margin:10px 0}figcaption{color:var(--mut);font-size:.9em}svg.chart{width:100%;height:auto;max-width:900px}
    svg .lb{font-size:11px;fill:var(--fg)}svg .lg{font-size:11px;fill:var(--mut)}svg .ax{stroke:#888;stroke-width:1}svg .roof{stroke:#c44e52;stroke-width:2;fill:none}
    footer{margin-top:2em;color:var(--mut);font-size:.85em}footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}footer dd{margin:0;word-break:break-all}
    @media print{nav{display:none}main{max-width:none}section{break-inside:avoid-page}.tw{overflow:visible}}
    @media (max-width:600px){main{padding:8px}th,td{padding:2px 4px}}
    """

    static let script = """
    document.querySelectorAll('table.sortable').forEach(function(t){t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){var b=t.tBodies[0];var rows=Array.from(b.rows);var asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';rows.sort(function(r1,r2){var a=r1.cells[i],c=r2.cells[i];var x=a.dataset.v,y=c.dataset.v;var d=(x!==undefined&&y!==undefined)?(parseFloat(x)-parseFloat(y)):a.textContent.localeCompare(c.textContent);return asc?d:-d;});rows.forEach(function(r){b.appendChild(r);});});});});
    """
}
