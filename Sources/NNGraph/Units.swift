import Foundation

// Typed physical quantities. No bare Double crosses a module boundary for a time,
// size, energy or rate; only meaningful operators are defined.

public protocol Quantity: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    var value: Double { get }
    init(_ value: Double)
}

extension Quantity {
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public static func + (a: Self, b: Self) -> Self { Self(a.value + b.value) }
    public static func - (a: Self, b: Self) -> Self { Self(a.value - b.value) }
    public static func += (a: inout Self, b: Self) { a = a + b }
    public static func * (a: Self, k: Double) -> Self { Self(a.value * k) }
    public static func * (k: Double, a: Self) -> Self { Self(a.value * k) }
    public static func / (a: Self, k: Double) -> Self { Self(a.value / k) }
    /// Ratio of two quantities of the same kind.
    public static func / (a: Self, b: Self) -> Double { a.value / b.value }
    public static var zero: Self { Self(0) }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(Double.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

public struct Bytes: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public init(_ count: Int) { self.value = Double(count) }
    public var description: String { formatBytes(value) }
}

public struct Seconds: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSeconds(value) }
}

public struct Joules: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "J") }
}

public struct Watts: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "W") }
}

public struct Hertz: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "Hz") }
}

/// A count of floating-point (or integer) operations.
public struct Flops: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "FLOP") }
}

public struct FlopsPerSecond: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "FLOP/s") }
}

public struct BytesPerSecond: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "B/s") }
}

/// Energy per byte moved (J/B).
public struct JoulesPerByte: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "J/B") }
}

/// Energy per operation (J/op).
public struct JoulesPerOp: Quantity {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public var description: String { formatSI(value, unit: "J/op") }
}

public func / (a: Bytes, b: BytesPerSecond) -> Seconds { Seconds(a.value / b.value) }
public func / (a: Flops, b: FlopsPerSecond) -> Seconds { Seconds(a.value / b.value) }
public func * (a: Seconds, b: Watts) -> Joules { Joules(a.value * b.value) }
public func * (a: Bytes, b: JoulesPerByte) -> Joules { Joules(a.value * b.value) }
public func * (a: Flops, b: JoulesPerOp) -> Joules { Joules(a.value * b.value) }
public func / (a: Flops, b: Seconds) -> FlopsPerSecond { FlopsPerSecond(a.value / b.value) }
public func / (a: Bytes, b: Seconds) -> BytesPerSecond { BytesPerSecond(a.value / b.value) }

// MARK: - Formatting (stable, locale-free)

public func formatSI(_ v: Double, unit: String, digits: Int = 3) -> String {
    if v == 0 { return "0 \(unit)" }
    let prefixes: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]
    let a = abs(v)
    for (scale, p) in prefixes where a >= scale * 0.9995 {
        return "\(formatSignificant(v / scale, digits: digits)) \(p)\(unit)"
    }
    return "\(formatSignificant(v / 1e-15, digits: digits)) f\(unit)"
}

public func formatSeconds(_ v: Double) -> String {
    if v == 0 { return "0 s" }
    let a = abs(v)
    if a >= 1 { return "\(formatSignificant(v, digits: 3)) s" }
    if a >= 1e-3 * 0.9995 { return "\(formatSignificant(v * 1e3, digits: 3)) ms" }
    if a >= 1e-6 * 0.9995 { return "\(formatSignificant(v * 1e6, digits: 3)) µs" }
    return "\(formatSignificant(v * 1e9, digits: 3)) ns"
}

public func formatBytes(_ v: Double) -> String {
    let a = abs(v)
    if a < 1024 { return "\(Int(v.rounded())) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var x = v / 1024
    var i = 0
    while abs(x) >= 1024 * 0.9995, i < units.count - 1 { x /= 1024; i += 1 }
    return "\(formatSignificant(x, digits: 3)) \(units[i])"
}

/// Formats with `digits` significant digits, no exponent (e.g. 4.09, 25.6, 312, 0.301).
public func formatSignificant(_ v: Double, digits: Int) -> String {
    if v == 0 || !v.isFinite { return v.isFinite ? "0" : "\(v)" }
    let mag = Int(Foundation.floor(Foundation.log10(Swift.abs(v))))
    let decimals = Swift.max(0, digits - 1 - mag)
    return formatFixed(v, decimals: decimals)
}

/// Locale-free fixed-point formatting.
public func formatFixed(_ v: Double, decimals: Int) -> String {
    String(format: "%.\(decimals)f", locale: Locale(identifier: "en_US_POSIX"), v)
}
