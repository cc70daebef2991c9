import Foundation
import NNGraph

/// The physical kinds a YAML value may carry. Values are written with their unit in the
/// string ("12.8 GB/s", "32 KiB", "4 ns", "0.25 pJ/B") and parsed once, here.
public enum UnitKind: String, Sendable, CaseIterable {
    case bytes, time, frequency, byteRate, bitRate, opRate, energy, energyPerByte, energyPerOp, energyPerBit, power

    /// An example for error messages.
    public var example: String {
        switch self {
        case .bytes: "a size like \"32 KiB\""
        case .time: "a time like \"4 ns\""
        case .frequency: "a frequency like \"1.5 GHz\""
        case .byteRate: "a rate like \"12.8 GB/s\""
        case .bitRate: "a bit rate like \"100 Mbit/s\""
        case .opRate: "a throughput like \"48 GFLOP/s\""
        case .energy: "an energy like \"0.25 pJ\""
        case .energyPerByte: "an energy per byte like \"0.25 pJ/B\""
        case .energyPerOp: "an energy per operation like \"2.3 pJ/FLOP\""
        case .energyPerBit: "an energy per bit like \"283 nJ/bit\""
        case .power: "a power like \"2.7 W\""
        }
    }
}

public enum UnitParser {
    /// SI prefixes; sub-unit prefixes divide (by exact powers of ten).
    private static let si: [(String, Factor)] = [
        ("T", Factor(multiplier: 1e12)), ("G", Factor(multiplier: 1e9)), ("M", Factor(multiplier: 1e6)),
        ("k", Factor(multiplier: 1e3)), ("K", Factor(multiplier: 1e3)), ("", Factor()),
        ("m", Factor(divisor: 1e3)), ("u", Factor(divisor: 1e6)), ("µ", Factor(divisor: 1e6)), ("μ", Factor(divisor: 1e6)),
        ("n", Factor(divisor: 1e9)), ("p", Factor(divisor: 1e12)), ("f", Factor(divisor: 1e15)),
    ]

    /// A unit's conversion to SI base units, `value × multiplier / divisor`. Sub-unit prefixes
    /// divide by an exact power of ten, so "10 us" is exactly 1e-5 s (10 × 1e-6 is not).
    struct Factor: Sendable {
        var multiplier: Double = 1
        var divisor: Double = 1
    }

    /// Parses `text` as `kind`, returning the value in SI base units (B, s, Hz, B/s, bit/s,
    /// op/s, J, J/B, J/op, J/bit, W). Returns nil when the unit does not fit the kind.
    public static func parse(_ text: String, as kind: UnitKind) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // Split number and unit.
        var numberEnd = trimmed.startIndex
        for idx in trimmed.indices {
            let ch = trimmed[idx]
            if ch.isNumber || ch == "." || ch == "-" || ch == "+" || ((ch == "e" || ch == "E") && idx != trimmed.startIndex
                && trimmed.index(after: idx) < trimmed.endIndex && (trimmed[trimmed.index(after: idx)].isNumber || trimmed[trimmed.index(after: idx)] == "-")) {
                numberEnd = trimmed.index(after: idx)
            } else { break }
        }
        guard let number = Double(trimmed[..<numberEnd]), number.isFinite else { return nil }
        let unit = trimmed[numberEnd...].trimmingCharacters(in: .whitespaces)
        guard let factor = factor(unit, kind) else { return nil }
        return number * factor.multiplier / factor.divisor
    }

    static func factor(_ unit: String, _ kind: UnitKind) -> Factor? {
        switch kind {
        case .bytes:
            let binary: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824, "TiB": 1099511627776]
            if let b = binary[unit] { return Factor(multiplier: b) }
            let decimal: [String: Double] = ["kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12]
            return decimal[unit].map { Factor(multiplier: $0) }
        case .time:
            return prefixed(unit, base: ["s"])
        case .frequency:
            return prefixed(unit, base: ["Hz"])
        case .byteRate:
            return prefixed(unit, base: ["B/s", "Bps"])
        case .bitRate:
            return prefixed(unit, base: ["bit/s", "b/s", "bps"])
        case .opRate:
            return prefixed(unit, base: ["FLOP/s", "FLOPS", "OP/s", "OPS", "op/s"])
        case .energy:
            return prefixed(unit, base: ["J"])
        case .energyPerByte:
            return prefixed(unit, base: ["J/B", "J/byte"])
        case .energyPerOp:
            // The cost model charges energy per operation (FLOP); one MAC is two operations.
            if var perMAC = prefixed(unit, base: ["J/MAC"]) {
                perMAC.divisor *= 2
                return perMAC
            }
            return prefixed(unit, base: ["J/FLOP", "J/op"])
        case .energyPerBit:
            return prefixed(unit, base: ["J/bit", "J/b"])
        case .power:
            return prefixed(unit, base: ["W"])
        }
    }

    private static func prefixed(_ unit: String, base: [String]) -> Factor? {
        for b in base where unit.hasSuffix(b) {
            let prefix = String(unit.dropLast(b.count))
            if let factor = si.first(where: { $0.0 == prefix })?.1 { return factor }
        }
        return nil
    }
}
