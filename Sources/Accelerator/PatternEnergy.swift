import DeviceSpec
import NNGraph

/// How many cells hold each 2-bit pattern, and how many cell writes of each kind a content
/// change needs.
public struct PatternCounts: Sendable, Hashable, Codable {
    /// Cells per pattern 00, 01, 10, 11.
    public var cells: [Int] = [0, 0, 0, 0]
    public init() {}

    public static func count(_ words: [UInt16]) -> PatternCounts {
        var c = PatternCounts()
        for w in words {
            var x = w
            for _ in 0..<8 {
                c.cells[Int(x & 3)] += 1
                x >>= 2
            }
        }
        return c
    }

    /// Flag cells of rearranged blocks: 00 = as is, 11 = inverted.
    public mutating func addFlags(_ flags: [Bool]) {
        for f in flags { cells[f ? 3 : 0] += 1 }
    }

    public var total: Int { cells.reduce(0, +) }
    public var intermediateFraction: Double { total == 0 ? 0 : Double(cells[1] + cells[2]) / Double(total) }
}

/// Cell writes needed to change buffer content old → new, per cell (differential write:
/// unchanged cells are not written).
public struct TransitionCounts: Sendable, Hashable, Codable {
    /// Only the soft bit changes: one soft-write step.
    public var softOnly = 0
    /// The hard bit changes and the new pattern is 00 or 11: the hard-write current drives
    /// both MTJs to the new state in one step.
    public var hardToExtreme = 0
    /// The hard bit changes and the new pattern is 01 or 10: hard write, then soft restore.
    public var hardThenSoft = 0
    public var unchanged = 0
    public init() {}

    public static func count(old: [UInt16], new: [UInt16]) -> TransitionCounts {
        var t = TransitionCounts()
        for (i, n) in new.enumerated() {
            let o = i < old.count ? old[i] : 0
            for cell in 0..<8 { t.add(old: MLCCodec.pattern(o, cell: cell), new: MLCCodec.pattern(n, cell: cell)) }
        }
        return t
    }

    public mutating func add(old: Int, new: Int) {
        if old == new { unchanged += 1 } else if (old ^ new) & 2 == 0 { softOnly += 1 } else if new == 0 || new == 3 {
            hardToExtreme += 1
        } else { hardThenSoft += 1 }
    }

    public mutating func addFlags(old: [Bool], new: [Bool]) {
        for (i, f) in new.enumerated() { add(old: (i < old.count && old[i]) ? 3 : 0, new: f ? 3 : 0) }
    }
}
