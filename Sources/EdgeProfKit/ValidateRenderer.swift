import Foundation
import Reports
import Validation

/// Text/Markdown rendering of validation results (the Markdown is the report section).
public enum ValidateRenderer {
    static func table(_ t: TextTable, _ style: ProfileRenderer.Style) -> String { style == .markdown ? t.markdown() : t.plain() }
    static func pct(_ x: Double) -> String { formatPercent(x) }
    static func ms(_ x: Double) -> String { formatFixed(x, decimals: x < 10 ? 2 : 1) }

    public static func render(_ r: PublishedValidationResult, style: ProfileRenderer.Style) -> String {
        let md = style == .markdown
        var out = md ? "## Validation against published latencies\n\n" : "Validation against published latencies\n\n"
        out += "file: \(r.file) (\(r.totalRows) rows; \(r.rows.count) predictable, \(r.skipped.count) skipped)\n"
        out += (md ? "\n" : "") + "split: \(r.split)\n"
        out += (md ? "\n" : "") + "factors: \(r.factorScheme)\n\n"
        let target = "target: median abs error ≤ \(pct(PublishedValidationResult.targetMedianError)) on held-out rows"
        let h = r.heldOutUnflagged
        out += "\(target); achieved \(pct(h.medianAbsoluteError)) on \(h.count) unflagged held-out rows "
            + "(\(r.meetsTarget ? "met" : "NOT met")); all \(r.heldOut.count) held-out rows: median \(pct(r.heldOut.medianAbsoluteError)), "
            + "within ±25% \(pct(r.heldOut.shareWithinTolerance)); without factors: median \(pct(r.heldOutUncalibrated.medianAbsoluteError))\n\n"
        if let f = r.fittingRMSLogError {
            let fitRows = r.rows.filter { $0.fitting && $0.calibratedMs != nil }.count
            out += "fitting rows: RMS log error \(formatFixed(f, decimals: 3)) on \(fitRows) rows"
            if let l = r.leaveOneOut {
                out += "; leave-one-out: median abs error \(pct(l.summary.medianAbsoluteError)), within ±25% \(pct(l.summary.shareWithinTolerance)), "
                    + "RMS log error \(formatFixed(l.rmsLogError, decimals: 3)) on \(l.summary.count) rows"
            }
            out += "\n\n"
        }

        var groups = TextTable(headers: ["device", "runtime", "unit", "fit rows", "factor", "dense factor", "thread exp.", "held-out", "median |err|", "within ±25%", "uncalibrated median"],
                               aligns: [.left, .left, .left, .left, .right, .right, .right, .right, .right, .right, .right])
        for g in r.groups {
            groups.add([g.device, g.runtime, g.unit, g.fittingRows.isEmpty ? "-" : g.fittingRows.joined(separator: " "),
                        g.factor.map { formatFixed($0, decimals: 3) } ?? "-", g.denseFactor.map { formatFixed($0, decimals: 3) } ?? "-", g.threadScaling.map { formatFixed($0, decimals: 2) } ?? "-", "\(g.heldOutRows)",
                        g.heldOutRows > 0 ? pct(g.heldOut.medianAbsoluteError) : "-",
                        g.heldOutRows > 0 ? pct(g.heldOut.shareWithinTolerance) : "-",
                        g.heldOutRows > 0 ? pct(g.heldOutUncalibrated.medianAbsoluteError) : "-"])
        }
        out += (md ? "### Per device × runtime (held-out rows only)\n\n" : "Per device × runtime (held-out rows only)\n") + table(groups, style) + "\n\n"
        if let g = r.groups.first(where: { $0.pooledRows != nil }), let rows = g.pooledRows, let f = g.factor, let d = g.denseFactor {
            let a = g.pooledThreadScaling.map { formatFixed($0, decimals: 2) } ?? "1 (not fitted)"
            let own = r.groups.filter { $0.pooledRows != nil && $0.ownThreadScaling }.compactMap { o in
                o.threadScaling.map { "\(o.device) \(o.runtime) \(formatFixed($0, decimals: 2))" }
            }
            out += "CPU groups fitted together on rows \(rows.joined(separator: " ")): shared other/dense factor ratio "
                + "\(formatFixed(f / d, decimals: 3)), shared thread exponent \(a)"
                + (own.isEmpty ? "" : "; own thread exponent (rows at two or more thread counts): \(own.joined(separator: ", "))") + "\n\n"
        }

        var worst = TextTable(headers: ["row", "measured ms", "predicted ms", "error"], aligns: [.left, .right, .right, .right])
        for p in r.heldOut.worst { worst.add([p.label, ms(p.measured), ms(p.predicted), pct(p.relativeError)]) }
        out += (md ? "### Worst held-out rows\n\n" : "Worst held-out rows\n") + table(worst, style) + "\n\n"

        var rows = TextTable(headers: ["id", "model", "device", "runtime", "prec", "thr", "role", "measured ms", "uncal. ms", "fitted ms", "error"],
                             aligns: [.left, .left, .left, .left, .left, .right, .left, .right, .right, .right, .right])
        for x in r.rows {
            let role = (x.heldOut ? "held-out" : "fit") + (x.flagged ? "*" : "")
            let pred = x.calibratedMs ?? x.uncalibratedMs
            rows.add([x.id, x.model, x.device, x.runtime, x.precision, x.threads.map(String.init) ?? "-", role, ms(x.measuredMs), ms(x.uncalibratedMs),
                      x.calibratedMs.map(ms) ?? "-", pct((pred - x.measuredMs) / x.measuredMs)])
        }
        out += (md ? "### Predicted vs measured, every predictable row\n\n" : "Predicted vs measured, every predictable row\n") + table(rows, style)
        out += "\n" + "* = flagged row (kept out of the target check; data/README.md)\n\n"

        var skipped = TextTable(headers: ["skipped because", "rows"], aligns: [.left, .right])
        for s in r.skippedCounts { skipped.add([s.reason, "\(s.count)"]) }
        out += (md ? "### Skipped rows\n\n" : "Skipped rows\n") + table(skipped, style)
        return out
    }

    public static func json<T: Encodable>(_ value: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(value), let s = String(data: data, encoding: .utf8) else { return "{}" }
        return s + "\n"
    }
}
