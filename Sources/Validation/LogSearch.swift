import Foundation

/// One-dimensional minimisation over an interval (in log space for the fits that use it): a
/// uniform grid, then a golden-section refinement between the best point's neighbours. Shared by
/// the runtime-factor fit and the host calibration fit.
public enum LogSearch {
    /// Returns the x in [low, high] with the smallest f found. With `preferHigh`, grid ties (within
    /// a relative 1e-9) go to the larger x — a flat loss then picks the upper end.
    public static func minimize(low: Double, high: Double, steps: Int, preferHigh: Bool = false, _ f: (Double) -> Double) -> Double {
        var bx = low, bl = Double.infinity
        for i in 0...steps {
            let x = low + (high - low) * Double(i) / Double(steps)
            let l = f(x)
            if l < bl || (preferHigh && l <= bl * (1 + 1e-9) + 1e-15) { bx = x; bl = Swift.min(l, bl) }
        }
        let step = (high - low) / Double(steps)
        var p = Swift.max(low, bx - step), q = Swift.min(high, bx + step)
        let g = (5.0.squareRoot() - 1) / 2
        for _ in 0..<40 {
            let c = q - g * (q - p), d = p + g * (q - p)
            if f(c) < f(d) { q = d } else { p = c }
        }
        let x = (p + q) / 2
        return f(x) < bl ? x : bx
    }
}

/// Text between two marker lines (inclusive), as written by `edgeprof calibrate` / `validate --write-devices`.
public enum MarkedBlock {
    /// `text` without the first block from the line `begin` through the line `end` (and its newline).
    public static func removing(from text: String, begin: String, end: String) -> String {
        guard let b = text.range(of: begin), let e = text.range(of: end, range: b.upperBound..<text.endIndex) else { return text }
        var after = e.upperBound
        if after < text.endIndex, text[after] == "\n" { after = text.index(after: after) }
        return String(text[..<b.lowerBound]) + String(text[after...])
    }
}
