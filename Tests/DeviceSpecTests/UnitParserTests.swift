import DeviceSpec
import Testing

@Suite("Unit parsing")
struct UnitParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var kind: UnitKind
        var expected: Double?
        var testDescription: String { "\"\(text)\" as \(kind) → \(expected.map { "\($0)" } ?? "nil")" }
    }

    static let valid: [Case] = [
        // byte rates: decimal SI prefixes
        Case(text: "12.8 GB/s", kind: .byteRate, expected: 12.8e9),
        Case(text: "4844 MB/s", kind: .byteRate, expected: 4.844e9),
        Case(text: "500 MB/s", kind: .byteRate, expected: 5e8),
        // sizes: binary (KiB/MiB/GiB) and decimal (kB/KB/MB/GB)
        Case(text: "32 KiB", kind: .bytes, expected: 32768),
        Case(text: "1 MiB", kind: .bytes, expected: 1_048_576),
        Case(text: "4 GiB", kind: .bytes, expected: 4_294_967_296),
        Case(text: "512 B", kind: .bytes, expected: 512),
        Case(text: "32 kB", kind: .bytes, expected: 32_000),
        Case(text: "32 KB", kind: .bytes, expected: 32_000),
        Case(text: "8 MB", kind: .bytes, expected: 8e6),
        Case(text: "4 GB", kind: .bytes, expected: 4e9),
        Case(text: "25276063744 B", kind: .bytes, expected: 25_276_063_744),
        // times
        Case(text: "4 ns", kind: .time, expected: 4e-9),
        Case(text: "20 us", kind: .time, expected: 20e-6),
        Case(text: "20 µs", kind: .time, expected: 20e-6),
        Case(text: "1.5 ms", kind: .time, expected: 1.5e-3),
        Case(text: "2 s", kind: .time, expected: 2),
        // energies
        Case(text: "0.25 pJ", kind: .energy, expected: 0.25e-12),
        Case(text: "0.25 pJ/B", kind: .energyPerByte, expected: 0.25e-12),
        Case(text: "162.5 pJ/B", kind: .energyPerByte, expected: 162.5e-12),
        Case(text: "2.3 pJ/FLOP", kind: .energyPerOp, expected: 2.3e-12),
        Case(text: "26 pJ/op", kind: .energyPerOp, expected: 26e-12),
        // one MAC is two operations: energy per MAC is halved into energy per op
        Case(text: "1.5 pJ/MAC", kind: .energyPerOp, expected: 0.75e-12),
        Case(text: "283 nJ/bit", kind: .energyPerBit, expected: 283e-9),
        // throughputs
        Case(text: "48 GFLOP/s", kind: .opRate, expected: 48e9),
        Case(text: "1.28 TFLOP/s", kind: .opRate, expected: 1.28e12),
        Case(text: "4 TOPS", kind: .opRate, expected: 4e12),
        Case(text: "614.4 GOP/s", kind: .opRate, expected: 614.4e9),
        Case(text: "57.6 GFLOPS", kind: .opRate, expected: 57.6e9),
        // power, frequency, bit rates
        Case(text: "2.7 W", kind: .power, expected: 2.7),
        Case(text: "23.4 uW", kind: .power, expected: 23.4e-6),
        Case(text: "1.5 GHz", kind: .frequency, expected: 1.5e9),
        Case(text: "921 MHz", kind: .frequency, expected: 921e6),
        Case(text: "100 Mbit/s", kind: .bitRate, expected: 100e6),
        // spacing and exponents
        Case(text: "1.5GHz", kind: .frequency, expected: 1.5e9),
        Case(text: "  12.8 GB/s ", kind: .byteRate, expected: 12.8e9),
        Case(text: "1e3 B", kind: .bytes, expected: 1000),
        Case(text: "-32 KiB", kind: .bytes, expected: -32768),  // sign is the loader's business
    ]

    static let invalid: [Case] = [
        Case(text: "fast", kind: .byteRate),
        Case(text: "12.8", kind: .byteRate),  // bare number
        Case(text: "GB/s", kind: .byteRate),  // no number
        Case(text: "", kind: .bytes),
        Case(text: "12.8 GB/s", kind: .bytes),  // a rate is not a size
        Case(text: "32 KiB", kind: .byteRate),  // a size is not a rate
        Case(text: "12.8 GiB/s", kind: .byteRate),  // rates are decimal
        Case(text: "0.25 pJ/B", kind: .energy),  // per-byte is not an energy
        Case(text: "0.25 pJ", kind: .energyPerByte),
        Case(text: "2.3 pJ/FLOP", kind: .energyPerByte),
        Case(text: "4 ns", kind: .frequency),
        Case(text: "1.5 GHz", kind: .time),
        Case(text: "48 GFLOP/s", kind: .byteRate),
        Case(text: "4 TOPS", kind: .power),
        Case(text: "2.7 W", kind: .energy),
        Case(text: "1.5 Ghz", kind: .frequency),  // case matters: one spelling per unit
        Case(text: "32 kib", kind: .bytes),
        Case(text: "12.8 XB/s", kind: .byteRate),  // unknown prefix
        Case(text: "12.8 GB/s extra", kind: .byteRate),
        Case(text: "1-2 GB/s", kind: .byteRate),
        Case(text: "inf GB/s", kind: .byteRate),
    ]

    @Test(arguments: valid)
    func parses(_ c: Case) throws {
        let value = try #require(UnitParser.parse(c.text, as: c.kind))
        let expected = try #require(c.expected)
        #expect(abs(value - expected) <= abs(expected) * 1e-12, "\(value) ≠ \(expected)")
    }

    @Test(arguments: invalid)
    func rejects(_ c: Case) {
        #expect(UnitParser.parse(c.text, as: c.kind) == nil)
    }

    @Test func exactValuesFromTheBrief() {
        #expect(UnitParser.parse("12.8 GB/s", as: .byteRate) == 12.8e9)
        #expect(UnitParser.parse("32 KiB", as: .bytes) == 32768)
        #expect(UnitParser.parse("48 GFLOP/s", as: .opRate) == 48e9)
        #expect(UnitParser.parse("4 TOPS", as: .opRate) == 4e12)
    }

    /// Sub-unit prefixes divide by an exact power of ten, so decimal values come out as the
    /// nearest double ("10 us" == 1e-5, where 10 × 1e-6 would be 9.999999999999999e-06).
    @Test func subUnitPrefixesAreExact() {
        #expect(UnitParser.parse("10 us", as: .time) == 1e-5)
        #expect(UnitParser.parse("4 ns", as: .time) == 4e-9)
        #expect(UnitParser.parse("0.25 pJ/B", as: .energyPerByte) == 0.25e-12)
        #expect(UnitParser.parse("2.3 pJ/FLOP", as: .energyPerOp) == 2.3e-12)
        #expect(UnitParser.parse("23.4 uW", as: .power) == 23.4e-6)
    }

    @Test(arguments: UnitKind.allCases)
    func everyKindHasAnExampleThatParses(_ kind: UnitKind) throws {
        // "a rate like \"12.8 GB/s\"" → "12.8 GB/s"
        let parts = kind.example.split(separator: "\"")
        let example = try #require(parts.count >= 2 ? String(parts[1]) : nil)
        #expect(UnitParser.parse(example, as: kind) != nil, "example \(example) for \(kind)")
    }
}
