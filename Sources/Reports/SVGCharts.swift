import Foundation
import NNGraph

/// Inline SVG charts (no scripts, no external resources). Labels are escaped.
enum SVGCharts {
    static let palette = ["#3b6fb6", "#e07b39", "#3a9d5d", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]

    static func color(for group: String, in groups: [String]) -> String {
        palette[(groups.firstIndex(of: group) ?? 0) % palette.count]
    }

    static func num(_ v: Double) -> String { formatFixed(v, decimals: 1) }

    static func legend(_ groups: [String], x: Double, y: Double) -> String {
        var s = ""
        var cx = x
        for g in groups {
            s += "<rect x=\"\(num(cx))\" y=\"\(num(y - 9))\" width=\"10\" height=\"10\" fill=\"\(color(for: g, in: groups))\"/>"
            s += "<text x=\"\(num(cx + 14))\" y=\"\(num(y))\" class=\"lg\">\(escapeHTML(g))</text>"
            cx += 24 + Double(g.count) * 6.5
        }
        return s
    }

    static func bars(_ c: BarChart) -> String {
        let groups = c.bars.map(\.group).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let maxV = max(c.bars.map(\.value).max() ?? 0, 1e-30)
        if c.horizontal {
            let rowH = 22.0, labelW = 260.0, width = 760.0
            let height = Double(c.bars.count) * rowH + 30
            var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
            for (i, b) in c.bars.enumerated() {
                let y = Double(i) * rowH + 8
                let w = (width - labelW - 90) * b.value / maxV
                s += "<text x=\"\(num(labelW - 6))\" y=\"\(num(y + 14))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(String(b.label.prefix(40))))</text>"
                s += "<rect x=\"\(num(labelW))\" y=\"\(num(y + 2))\" width=\"\(num(max(w, 0.5)))\" height=\"\(num(rowH - 6))\" fill=\"\(color(for: b.group, in: groups))\">"
                s += "<title>\(escapeHTML(b.label)): \(escapeHTML(b.valueText))</title></rect>"
                s += "<text x=\"\(num(labelW + w + 4))\" y=\"\(num(y + 14))\" class=\"lb\">\(escapeHTML(b.valueText))</text>"
            }
            return s + "</svg>"
        }
        let width = 760.0, height = 240.0, left = 50.0, bottom = 200.0, top = 24.0
        let bw = (width - left - 10) / Double(max(c.bars.count, 1))
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(bottom))\" x2=\"\(num(width - 10))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        s += "<text x=\"\(num(left - 4))\" y=\"\(num(top + 4))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(c.bars.max { $0.value < $1.value }?.valueText ?? ""))</text>"
        for (i, b) in c.bars.enumerated() {
            let h = (bottom - top) * b.value / maxV
            s += "<rect x=\"\(num(left + Double(i) * bw + 0.5))\" y=\"\(num(bottom - h))\" width=\"\(num(max(bw - 1, 0.8)))\" height=\"\(num(max(h, 0.5)))\" fill=\"\(color(for: b.group, in: groups))\">"
            s += "<title>\(escapeHTML(b.label)): \(escapeHTML(b.valueText))</title></rect>"
        }
        s += legend(groups, x: left, y: height - 12)
        return s + "</svg>"
    }

    static func stacked(_ c: StackedBarChart) -> String {
        let names = c.rows.flatMap { $0.parts.map(\.name) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let rowH = 26.0, labelW = 260.0, width = 760.0
        let height = Double(c.rows.count) * rowH + 44
        let maxV = max(c.rows.map { $0.parts.reduce(0) { $0 + $1.value } }.max() ?? 0, 1e-30)
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
        for (i, r) in c.rows.enumerated() {
            let y = Double(i) * rowH + 8
            s += "<text x=\"\(num(labelW - 6))\" y=\"\(num(y + 15))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(String(r.label.prefix(40))))</text>"
            var x = labelW
            for p in r.parts {
                let w = (width - labelW - 90) * p.value / maxV
                s += "<rect x=\"\(num(x))\" y=\"\(num(y + 2))\" width=\"\(num(max(w, 0)))\" height=\"\(num(rowH - 8))\" fill=\"\(color(for: p.name, in: names))\">"
                s += "<title>\(escapeHTML(r.label)) — \(escapeHTML(p.name)): \(escapeHTML(formatSI(p.value, unit: c.unit)))</title></rect>"
                x += w
            }
            s += "<text x=\"\(num(x + 4))\" y=\"\(num(y + 15))\" class=\"lb\">\(escapeHTML(r.totalText))</text>"
        }
        s += legend(names, x: 10, y: height - 10)
        return s + "</svg>"
    }

    static func roofline(_ c: RooflineChart) -> String {
        let width = 760.0, height = 380.0, left = 64.0, right = 16.0, top = 16.0, bottom = 330.0
        let intensities = c.points.map(\.intensity).filter { $0 > 0 }
        let xMin = pow(10, floor(log10(max(min(intensities.min() ?? 0.1, 0.1), 1e-3))))
        let xMax = pow(10, ceil(log10(max(intensities.max() ?? 100, 100))))
        let yMax = pow(10, ceil(log10(c.peakFlopsPerS * 1.01)))
        let yMin = pow(10, floor(log10(max(min(c.points.map(\.flopsPerS).min() ?? yMax / 1e4, yMax / 1e4), 1))))
        func px(_ x: Double) -> Double { left + (log10(x) - log10(xMin)) / (log10(xMax) - log10(xMin)) * (width - left - right) }
        func py(_ y: Double) -> Double { bottom - (log10(max(y, yMin)) - log10(yMin)) / (log10(yMax) - log10(yMin)) * (bottom - top) }
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(bottom))\" x2=\"\(num(width - right))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(top))\" x2=\"\(num(left))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        var x = xMin
        while x <= xMax * 1.001 {
            s += "<text x=\"\(num(px(x)))\" y=\"\(num(bottom + 14))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(formatSignificant(x, digits: 1)))</text>"
            x *= 10
        }
        var y = yMin
        while y <= yMax * 1.001 {
            s += "<text x=\"\(num(left - 4))\" y=\"\(num(py(y) + 4))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(formatSI(y, unit: "")))</text>"
            y *= 10
        }
        s += "<text x=\"\(num((left + width) / 2))\" y=\"\(num(height - 20))\" text-anchor=\"middle\" class=\"lb\">arithmetic intensity (FLOP/byte, compulsory traffic)</text>"
        s += "<text x=\"14\" y=\"\(num((top + bottom) / 2))\" transform=\"rotate(-90 14 \(num((top + bottom) / 2)))\" text-anchor=\"middle\" class=\"lb\">attained FLOP/s (predicted)</text>"
        // Roofs: one slanted line per memory level meeting the flat compute roof.
        for (i, r) in c.roofs.enumerated() {
            let ridge = c.peakFlopsPerS / r.bytesPerS
            let x0 = xMin, y0 = r.bytesPerS * xMin
            let x1 = min(ridge, xMax)
            s += "<line x1=\"\(num(px(x0)))\" y1=\"\(num(py(y0)))\" x2=\"\(num(px(x1)))\" y2=\"\(num(py(r.bytesPerS * x1)))\" class=\"roof\" stroke-dasharray=\"\(i == c.roofs.count - 1 ? "0" : "4 3")\"/>"
            s += "<text x=\"\(num(px(x0) + 4))\" y=\"\(num(py(y0) - 4))\" class=\"lb\">\(escapeHTML(r.level))</text>"
        }
        s += "<line x1=\"\(num(px(xMin)))\" y1=\"\(num(py(c.peakFlopsPerS)))\" x2=\"\(num(px(xMax)))\" y2=\"\(num(py(c.peakFlopsPerS)))\" class=\"roof\"/>"
        s += "<text x=\"\(num(width - right - 4))\" y=\"\(num(py(c.peakFlopsPerS) - 4))\" text-anchor=\"end\" class=\"lb\">peak \(escapeHTML(formatSI(c.peakFlopsPerS, unit: "FLOP/s")))</text>"
        let groups = c.points.map(\.group).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for p in c.points {
            s += "<circle cx=\"\(num(px(p.intensity)))\" cy=\"\(num(py(p.flopsPerS)))\" r=\"3.5\" fill=\"\(color(for: p.group, in: groups))\" fill-opacity=\"0.8\">"
            s += "<title>\(escapeHTML(p.label)): \(escapeHTML(formatFixed(p.intensity, decimals: 1))) FLOP/B, \(escapeHTML(formatSI(p.flopsPerS, unit: "FLOP/s")))</title></circle>"
        }
        s += legend(groups, x: left, y: height - 4)
        return s + "</svg>"
    }

    /// Log-log scatter of y against x with the y = x diagonal and a shaded ±band around it.
    static func scatter(_ c: ScatterChart) -> String {
        let width = 760.0, height = 400.0, left = 70.0, right = 16.0, top = 16.0, bottom = 340.0
        let values = c.points.flatMap { [$0.x, $0.y] }.filter { $0 > 0 && $0.isFinite }
        let lo = pow(10, floor(log10(values.min() ?? 1e-6)))
        let hi = pow(10, ceil(log10((values.max() ?? 1) * 1.0001)))
        let span = max(log10(hi) - log10(lo), 1)
        func px(_ v: Double) -> Double { left + (log10(max(v, lo)) - log10(lo)) / span * (width - left - right) }
        func py(_ v: Double) -> Double { bottom - (log10(max(v, lo)) - log10(lo)) / span * (bottom - top) }
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
        // Band: the region between y = x(1 − b) and y = x(1 + b).
        let b0 = 1 - c.band, b1 = 1 + c.band
        s += "<polygon points=\"\(num(px(lo))),\(num(py(lo * b1))) \(num(px(hi / b1))),\(num(py(hi))) \(num(px(hi))),\(num(py(hi))) \(num(px(hi))),\(num(py(hi * b0))) \(num(px(lo / b0))),\(num(py(lo)))\" fill=\"#3a9d5d\" fill-opacity=\"0.15\"/>"
        s += "<line x1=\"\(num(px(lo)))\" y1=\"\(num(py(lo)))\" x2=\"\(num(px(hi)))\" y2=\"\(num(py(hi)))\" class=\"roof\" stroke-dasharray=\"4 3\"/>"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(bottom))\" x2=\"\(num(width - right))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(top))\" x2=\"\(num(left))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        var v = lo
        while v <= hi * 1.001 {
            s += "<text x=\"\(num(px(v)))\" y=\"\(num(bottom + 14))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(formatSI(v, unit: c.unit)))</text>"
            s += "<text x=\"\(num(left - 4))\" y=\"\(num(py(v) + 4))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(formatSI(v, unit: c.unit)))</text>"
            v *= 10
        }
        s += "<text x=\"\(num((left + width) / 2))\" y=\"\(num(height - 26))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(c.xLabel))</text>"
        s += "<text x=\"14\" y=\"\(num((top + bottom) / 2))\" transform=\"rotate(-90 14 \(num((top + bottom) / 2)))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(c.yLabel))</text>"
        let groups = c.points.map(\.group).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for p in c.points where p.x > 0 && p.y > 0 {
            s += "<circle cx=\"\(num(px(p.x)))\" cy=\"\(num(py(p.y)))\" r=\"3.5\" fill=\"\(color(for: p.group, in: groups))\" fill-opacity=\"0.8\">"
            s += "<title>\(escapeHTML(p.label)): \(escapeHTML(formatSI(p.x, unit: c.unit))) vs \(escapeHTML(formatSI(p.y, unit: c.unit)))</title></circle>"
        }
        s += legend(groups + ["±\(formatFixed(c.band * 100, decimals: 0))% band"], x: left, y: height - 6)
        return s + "</svg>"
    }

    /// Line series (log or linear x), linear y from 0, vertical dashed markers with labels.
    static func lines(_ c: LineChart) -> String {
        let width = 760.0, height = 320.0, left = 70.0, right = 16.0, top = 24.0, bottom = 260.0
        let xs = c.series.flatMap { $0.points.map(\.x) }.filter { $0.isFinite && (!c.logX || $0 > 0) }
        let ys = c.series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-12)
        let yMax = max(ys.max() ?? 1, 1e-30) * 1.05
        func px(_ x: Double) -> Double {
            let f = c.logX ? (log10(x) - log10(xMin)) / max(log10(xMax) - log10(xMin), 1e-12) : (x - xMin) / max(xMax - xMin, 1e-300)
            return left + min(max(f, 0), 1) * (width - left - right)
        }
        func py(_ y: Double) -> Double { bottom - min(max(y / yMax, 0), 1) * (bottom - top) }
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(escapeHTML(c.title))\">"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(bottom))\" x2=\"\(num(width - right))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        s += "<line x1=\"\(num(left))\" y1=\"\(num(top))\" x2=\"\(num(left))\" y2=\"\(num(bottom))\" class=\"ax\"/>"
        for f in [0.0, 0.5, 1.0] {
            let y = yMax * f
            let label = c.yUnit == "%" ? formatPercent(y) : formatSI(y, unit: c.yUnit)
            s += "<text x=\"\(num(left - 4))\" y=\"\(num(py(y) + 4))\" text-anchor=\"end\" class=\"lb\">\(escapeHTML(label))</text>"
        }
        var ticks: [Double] = []
        if c.logX, xMin > 0 {
            var t = pow(10, ceil(log10(xMin)))
            while t <= xMax * 1.001 { ticks.append(t); t *= 10 }
        } else {
            ticks = [xMin, (xMin + xMax) / 2, xMax]
        }
        for t in ticks {
            s += "<text x=\"\(num(px(t)))\" y=\"\(num(bottom + 14))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(formatSI(t, unit: c.xUnit)))</text>"
        }
        s += "<text x=\"\(num((left + width) / 2))\" y=\"\(num(bottom + 32))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(c.xLabel))</text>"
        s += "<text x=\"14\" y=\"\(num((top + bottom) / 2))\" transform=\"rotate(-90 14 \(num((top + bottom) / 2)))\" text-anchor=\"middle\" class=\"lb\">\(escapeHTML(c.yLabel))</text>"
        for (i, m) in c.markers.enumerated() where m.x.isFinite && (!c.logX || m.x > 0) {
            s += "<line x1=\"\(num(px(m.x)))\" y1=\"\(num(top))\" x2=\"\(num(px(m.x)))\" y2=\"\(num(bottom))\" class=\"roof\" stroke-dasharray=\"3 3\"/>"
            s += "<text x=\"\(num(px(m.x) + 3))\" y=\"\(num(top + 10 + Double(i % 3) * 11))\" class=\"lb\">\(escapeHTML(m.label))</text>"
        }
        let names = c.series.map(\.name)
        for series in c.series {
            let pts = series.points.filter { $0.x.isFinite && $0.y.isFinite && (!c.logX || $0.x > 0) }
            guard !pts.isEmpty else { continue }
            let path = pts.map { "\(num(px($0.x))),\(num(py($0.y)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color(for: series.name, in: names))\" stroke-width=\"1.8\"><title>\(escapeHTML(series.name))</title></polyline>"
        }
        s += legend(names, x: left, y: height - 6)
        return s + "</svg>"
    }
}
