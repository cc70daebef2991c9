import DeviceSpec
import NNGraph

/// Price-independent content statistics of a buffer's traffic: cell reads per pattern and
/// cell writes per transition kind, each weighted by how often the data is accessed. Kept
/// separate from prices so the sensitivity table re-prices without recounting.
public struct ContentCounts: Sendable, Hashable, Codable {
    public var readCells: [Double] = [0, 0, 0, 0]
    public var readBytes: Double = 0
    public var softOnly: Double = 0
    public var hardToExtreme: Double = 0
    public var hardThenSoft: Double = 0
    public var writeBytes: Double = 0
    public init() {}

    /// `times` reads of every word counted in `patterns`.
    public mutating func addReads(_ patterns: PatternCounts, words: Int, times: Double) {
        for p in 0..<4 { readCells[p] += Double(patterns.cells[p]) * times }
        readBytes += Double(2 * words) * times
    }

    public mutating func addWrites(_ t: TransitionCounts, words: Int, times: Double) {
        softOnly += Double(t.softOnly) * times
        hardToExtreme += Double(t.hardToExtreme) * times
        hardThenSoft += Double(t.hardThenSoft) * times
        writeBytes += Double(2 * words) * times
    }

    public static func + (a: Self, b: Self) -> Self {
        var r = a
        for p in 0..<4 { r.readCells[p] += b.readCells[p] }
        r.readBytes += b.readBytes
        r.softOnly += b.softOnly
        r.hardToExtreme += b.hardToExtreme
        r.hardThenSoft += b.hardThenSoft
        r.writeBytes += b.writeBytes
        return r
    }

    public func readEnergy(_ cell: MLCCellSpec) -> Joules {
        var e = Bytes(readBytes) * cell.peripheralReadEnergy.value
        for p in 0..<4 { e += cell.readEnergy[p].value * readCells[p] }
        return e
    }

    public func writeEnergy(_ cell: MLCCellSpec) -> Joules {
        let soft = cell.softWriteEnergy.value, hard = cell.hardWriteEnergy.value
        return Bytes(writeBytes) * cell.peripheralWriteEnergy.value + soft * softOnly + hard * hardToExtreme + (hard + soft) * hardThenSoft
    }
}

/// One assumed cell parameter scaled by a factor (sensitivity analysis).
public struct CellParameter: Sendable {
    public var name: String
    public var apply: @Sendable (inout MLCCellSpec, Double) -> Void

    /// Every energy parameter of the cell model.
    public static let all: [CellParameter] = {
        var out: [CellParameter] = []
        for p in 0..<4 {
            out.append(CellParameter(name: "read_energy.\(MLCCellSpec.patternNames[p])") { c, k in c.readEnergy[p].value = c.readEnergy[p].value * k })
        }
        out.append(CellParameter(name: "soft_write_energy") { c, k in c.softWriteEnergy.value = c.softWriteEnergy.value * k })
        out.append(CellParameter(name: "hard_write_energy") { c, k in c.hardWriteEnergy.value = c.hardWriteEnergy.value * k })
        out.append(CellParameter(name: "peripheral_read_energy") { c, k in c.peripheralReadEnergy.value = c.peripheralReadEnergy.value * k })
        out.append(CellParameter(name: "peripheral_write_energy") { c, k in c.peripheralWriteEnergy.value = c.peripheralWriteEnergy.value * k })
        return out
    }()
}
