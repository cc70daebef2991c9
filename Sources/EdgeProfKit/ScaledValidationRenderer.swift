import Foundation
import Reports
import Validation

extension ValidateRenderer {
    /// Predicted vs scaled vs published (issue 10): per device × runtime, which estimate is closer.
    public static func render(_ r: ScaledPublishedValidation.Result, style: ProfileRenderer.Style) -> String {
        let md = style == .markdown
        var out = md ? "## Predicted vs scaled device estimates against published latencies\n\n"
                     : "Predicted vs scaled device estimates against published latencies\n\n"
        out += "method: \(r.method); host profile \(r.hostProfile)\n\n"
        let p = r.heldOutPredicted, s = r.heldOutScaled
        out += "held-out rows (\(p.count)): PREDICTED median |err| \(pct(p.medianAbsoluteError)), within ±25% \(pct(p.shareWithinTolerance)); "
            + "SCALED median |err| \(pct(s.medianAbsoluteError)), within ±25% \(pct(s.shareWithinTolerance))\n\n"
        var groups = TextTable(headers: ["device", "runtime", "held-out", "predicted median |err|", "predicted ±25%", "scaled factor",
                                         "scaled median |err|", "scaled ±25%", "closer"],
                               aligns: [.left, .left, .right, .right, .right, .right, .right, .right, .left])
        for g in r.groups {
            let has = g.heldOutRows > 0
            groups.add([g.device, g.runtime, "\(g.heldOutRows)", has ? pct(g.predicted.medianAbsoluteError) : "-",
                        has ? pct(g.predicted.shareWithinTolerance) : "-", g.scaledFactor.map { formatFixed($0, decimals: 3) } ?? "-",
                        has ? pct(g.scaled.medianAbsoluteError) : "-",
                        has ? pct(g.scaled.shareWithinTolerance) : "-", g.better])
        }
        out += (md ? "### Per device × runtime (held-out rows)\n\n" : "Per device × runtime (held-out rows)\n") + table(groups, style) + "\n"
        var rows = TextTable(headers: ["id", "model", "device", "runtime", "thr", "role", "published ms", "predicted ms", "err", "scaled ms", "err",
                                       "scaled unfitted ms", "host measured ms", "host predicted ms"],
                             aligns: [.left, .left, .left, .left, .right, .left, .right, .right, .right, .right, .right, .right, .right, .right])
        for x in r.rows {
            rows.add([x.id, x.model, x.device, x.runtime, x.threads.map(String.init) ?? "-", (x.heldOut ? "held-out" : "fit") + (x.flagged ? "*" : ""),
                      ms(x.publishedMs), ms(x.predictedMs), pct((x.predictedMs - x.publishedMs) / x.publishedMs), ms(x.scaledMs),
                      pct((x.scaledMs - x.publishedMs) / x.publishedMs), ms(x.scaledUnfittedMs), ms(x.hostMeasuredMs), ms(x.hostPredictedMs)])
        }
        out += (md ? "### Every predictable row\n\n" : "Every predictable row\n") + table(rows, style)
        out += "\n* = flagged row; host times: this machine, the row's zoo model, min(row threads, host cores) threads (MEASURED / predicted)\n"
        return out
    }
}

/// JSON of `validate --published --scaled`: both results side by side.
public struct PublishedAndScaled: Codable, Sendable {
    public var published: PublishedValidationResult
    public var scaled: ScaledPublishedValidation.Result
    public init(published: PublishedValidationResult, scaled: ScaledPublishedValidation.Result) {
        self.published = published
        self.scaled = scaled
    }
}
