import DeviceSpec
import Foundation
import Testing

/// The accelerator buffer additions: `width`, `banks` and `mlc_cell` on a memory level.
@Suite("Accelerator buffer schema")
struct AcceleratorDeviceTests {
    typealias Doc = DeviceLoaderErrorTests

    /// Lines of an `mlc_cell` section for memory[0] (inserted after line 27 of the minimal document).
    static func cellLines(readDisturb01: String = "0.5", extraKey: String? = nil, drop: String? = nil) -> String {
        func table(_ key: String, _ values: [String]) -> [String] {
            ["      \(key):"] + zip(["00", "01", "10", "11"], values).compactMap { p, v in
                drop == "\(key).\(p)" ? nil : "        \"\(p)\": {value: \(v), source: \"assumed: test\"}"
            }
        }
        var l = ["    width: {value: \"64 B\", source: \"assumed: test\"}", "    banks: {value: 8, source: \"assumed: test\"}", "    mlc_cell:"]
        l += table("read_energy", ["\"0.25 pJ\"", "\"0.4 pJ\"", "\"0.4 pJ\"", "\"0.25 pJ\""])
        l += table("read_latency", ["\"2 ns\"", "\"4 ns\"", "\"4 ns\"", "\"2 ns\""])
        for (k, v) in [("soft_write_energy", "\"0.252 pJ\""), ("soft_write_latency", "\"4 ns\""), ("hard_write_energy", "\"0.504 pJ\""),
                       ("hard_write_latency", "\"4 ns\""), ("peripheral_read_energy", "\"6.6 pJ/B\""), ("peripheral_write_energy", "\"6.6 pJ/B\"")] {
            l.append("      \(k): {value: \(v), source: \"assumed: test\"}")
        }
        l += table("read_disturb", ["0.1", readDisturb01, "1", "0.1"])
        l += table("write_error", ["0.1", "1", "1", "0.1"])
        if let extraKey { l.append("      \(extraKey): {value: 1, source: \"assumed: test\"}") }
        return l.joined(separator: "\n")
    }

    static func mlcDocument(_ cell: String) -> String {
        var lines = Doc.lines
        lines[22] = "    technology: mlc-stt-ram"
        lines.insert(cell, at: 27)
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func anMLCCellLoads() throws {
        let device = try DeviceLoader.load(yaml: Self.mlcDocument(Self.cellLines()), file: Doc.file)
        let level = device.memory[0]
        #expect(level.width?.value.value == 64)
        #expect(level.banks?.value == 8)
        let cell = try #require(level.mlcCell)
        #expect(abs(cell.readEnergy[1].value.value - 0.4e-12) < 1e-18)
        #expect(cell.readDisturb.map(\.value) == [0.1, 0.5, 1, 0.1])
        #expect(abs(cell.peripheralReadEnergy.value.value - 6.6e-12) < 1e-18)
    }

    @Test func mlcCellOnlyOnAnMLCLevel() throws {
        var lines = Doc.lines
        lines.insert(Self.cellLines(), at: 27)
        let e = try #require(Doc.loadError(lines.joined(separator: "\n") + "\n"))
        #expect(e.keyPath == "memory[0].mlc_cell")
        #expect(e.message.contains("only allowed on a level with technology mlc-stt-ram"))
        #expect(e.line == 31)
    }

    @Test func unknownCellKeyIsAnError() throws {
        let e = try #require(Doc.loadError(Self.mlcDocument(Self.cellLines(extraKey: "read_disturbance"))))
        #expect(e.keyPath == "memory[0].mlc_cell.read_disturbance")
        #expect(e.message.hasPrefix("unknown key 'read_disturbance' (did you mean 'read_disturb'?)"))
    }

    @Test func missingPatternIsAnError() throws {
        let e = try #require(Doc.loadError(Self.mlcDocument(Self.cellLines(drop: "write_error.10"))))
        #expect(e.keyPath == "memory[0].mlc_cell.write_error.10")
        #expect(e.message == "missing required field '10'")
    }

    @Test func probabilityAboveOneIsAnError() throws {
        let e = try #require(Doc.loadError(Self.mlcDocument(Self.cellLines(readDisturb01: "1.5"))))
        #expect(e.keyPath == "memory[0].mlc_cell.read_disturb.01")
        #expect(e.message == "probability must be in [0, 1], got 1.5")
        #expect(e.line != nil)
    }

    @Test func theShippedAcceleratorsDifferOnlyInTheirBuffer() throws {
        let dir = DeviceFileTests.devicesDirectory
        let names = ["sram-accelerator.yaml", "slc-stt-ram-accelerator.yaml", "mlc-stt-ram-accelerator.yaml"]
        let devices = try names.map { try DeviceLoader.load(file: dir.appendingPathComponent($0).path) }
        #expect(devices.map { $0.memory[1].technology } == [.sram, .sttRAM, .mlcSTTRAM])
        #expect(Set(devices.map { $0.computeUnits }).count == 1)
        #expect(Set(devices.map { $0.memory[1].size }).count == 1)
        let cell = try #require(devices[2].memory[1].mlcCell)
        // The cell model reproduces the level's flat read energy for uniform content: periphery + 4 cells × mean pattern energy.
        let meanCell = cell.readEnergy.map(\.value.value).reduce(0, +) / 4
        let flat = devices[2].memory[1].readEnergy.value.value
        #expect(abs(cell.peripheralReadEnergy.value.value + 4 * meanCell - flat) < 0.01 * flat)
        let sources = cell.readEnergy.map(\.source) + cell.readDisturb.map(\.source) + cell.writeError.map(\.source)
            + [cell.softWriteEnergy.source, cell.hardWriteEnergy.source, cell.peripheralReadEnergy.source]
        #expect(sources.allSatisfy { $0.hasPrefix("assumed: ") || $0.contains("https://") })
    }
}
