import DeviceSpec
import Foundation
import NNGraph
import Testing

/// The committed `devices/*.yaml` files: they load, and they keep the invariants the cost
/// model relies on.
@Suite("Committed device files")
struct DeviceFileTests {
    static let devicesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // DeviceSpecTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("devices")

    static let deviceFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: devicesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    static func load(_ name: String) throws -> DeviceProfile {
        try DeviceLoader.load(file: devicesDirectory.appendingPathComponent(name).path)
    }

    static func loadAll() throws -> [DeviceProfile] { try deviceFiles.map(load) }

    /// File name → id. Board ids equal the `device` ids of ../shared/data/published-latency.csv.
    static let expectedIDs: [String: String] = [
        "raspberry-pi-4.yaml": "raspberry_pi_4b",
        "raspberry-pi-5.yaml": "raspberry_pi_5",
        "snapdragon-8-gen-2.yaml": "snapdragon_8gen2",
        "jetson-nano.yaml": "jetson_nano",
        "jetson-orin-nano.yaml": "jetson_orin_nano",
        "mlc-stt-ram-accelerator.yaml": "mlc_stt_ram_accelerator",
        "host.yaml": "host",
        "host-intel-xeon.yaml": "host_intel_xeon",
    ]

    @Test func theExpectedFilesAreCommitted() {
        #expect(Set(Self.deviceFiles).isSuperset(of: Self.expectedIDs.keys))
    }

    @Test(arguments: deviceFiles)
    func loads(_ name: String) throws {
        let device = try Self.load(name)
        #expect(device.schemaVersion == DeviceLoader.schemaVersion)
        #expect(device.unit(named: nil) != nil, "default unit resolves")
        if let id = Self.expectedIDs[name] { #expect(device.id == id) }
    }

    @Test func idsAreUnique() throws {
        let ids = try Self.loadAll().map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate ids in \(ids.sorted())")
    }

    @Test(arguments: deviceFiles)
    func everyUnitHasAPeakAndAnEnergyForItsPrecision(_ name: String) throws {
        for unit in try Self.load(name).computeUnits {
            #expect(unit.peakThroughput(unit.precision) != nil, "\(name): \(unit.name) has no \(unit.precision) peak")
            #expect(unit.energyPerOp[unit.precision] != nil, "\(name): \(unit.name) has no \(unit.precision) energy")
            for cls in [OpClass.conv, .depthwise, .elementwise, .pooling] {
                #expect(unit.efficiency[cls] != nil, "\(name): \(unit.name) lacks efficiency.\(cls.rawValue)")
            }
        }
    }

    /// Innermost first, ending at main memory (DRAM where the device has any; an MCU's SRAM
    /// otherwise); each level larger, no faster and no cheaper per byte than the one inside it.
    @Test(arguments: deviceFiles)
    func memoryPathsRunFromSmallFastLevelsOutToMainMemory(_ name: String) throws {
        let device = try Self.load(name)
        let hasDRAM = device.memory.contains { $0.technology == .dram }
        for unit in device.computeUnits {
            let levels = device.levels(for: unit)
            #expect(levels.count == unit.memoryPath.count)
            if hasDRAM { #expect(levels.last?.technology == .dram, "\(name): \(unit.name) path must end in DRAM") }
            #expect(levels.last?.size.value == device.ram.value, "\(name): main-memory size = ram")
            for (inner, outer) in zip(levels, levels.dropFirst()) {
                #expect(inner.size.value < outer.size.value, "\(name): \(inner.name) must be smaller than \(outer.name)")
                #expect(inner.bandwidth.value >= outer.bandwidth.value, "\(name): \(inner.name) must be at least as fast as \(outer.name)")
                #expect(inner.readEnergy.value <= outer.readEnergy.value, "\(name): \(inner.name) must cost no more per byte than \(outer.name)")
            }
        }
    }

    /// Provenance: every number says where it came from (DESIGN.md "Provenance everywhere").
    @Test(arguments: deviceFiles)
    func everySourceIsAURLAMeasurementADerivationOrAnAssumption(_ name: String) throws {
        let device = try Self.load(name)
        var sources: [(String, String)] = [("ram", device.ram.source), ("power.idle", device.power.idle.source)]
        if let max = device.power.max { sources.append(("power.max", max.source)) }
        for level in device.memory {
            sources += [("\(level.name).size", level.size.source), ("\(level.name).bandwidth", level.bandwidth.source),
                        ("\(level.name).read_energy", level.readEnergy.source), ("\(level.name).write_energy", level.writeEnergy.source)]
            if let latency = level.latency { sources.append(("\(level.name).latency", latency.source)) }
        }
        for unit in device.computeUnits {
            sources += [("\(unit.name).cores", unit.cores.source), ("\(unit.name).layer_overhead", unit.layerOverhead.source),
                        ("\(unit.name).register_bytes", unit.registerBytes.source)]
            if let f = unit.frequency { sources.append(("\(unit.name).frequency", f.source)) }
            sources += unit.peak.map { ("\(unit.name).peak.\($0.key.rawValue)", $0.value.source) }
            sources += unit.efficiency.map { ("\(unit.name).efficiency.\($0.key.rawValue)", $0.value.source) }
            sources += unit.energyPerOp.map { ("\(unit.name).energy_per_op.\($0.key.rawValue)", $0.value.source) }
            if let pe = unit.peArray {
                sources += [("pe_array.rows", pe.rows.source), ("pe_array.cols", pe.cols.source),
                            ("pe_array.macs_per_pe_per_cycle", pe.macsPerPEPerCycle.source)]
            }
        }
        // Runtime factors come from `edgeprof validate --published --write-devices` and name their rows.
        for (name, r) in device.runtimes {
            for f in Array(r.factors.values) + [r.allClasses, r.threadScaling].compactMap({ $0 }) {
                #expect(f.source.hasPrefix("fitted ") && f.source.contains("edgeprof validate --published"), "\(name): \(f.source)")
            }
        }
        for (field, source) in sources {
            let ok = source.hasPrefix("assumed: ") || source.hasPrefix("measured (") || source.hasPrefix("derived: ")
                || source.range(of: #"^measured \d{4}-\d{2}-\d{2} \("#, options: .regularExpression) != nil  // edgeprof calibrate
                || source.contains("https://")  // a cited figure (✅ copied or ⚠ unverified)
                || source.contains("URL not resolved in devices-reference.md")  // a named source without a URL
            #expect(ok, "\(name): \(field) has source \"\(source)\"")
        }
    }

    @Test func boardIDsMatchThePublishedLatencyCSV() throws {
        let csv = Self.devicesDirectory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/data/published-latency.csv")
        guard let text = try? String(contentsOf: csv, encoding: .utf8) else { return }  // shared data not checked out here
        let csvIDs = Set(text.split(separator: "\n").dropFirst().compactMap { line in
            line.split(separator: ",", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init)
        })
        let boards = Self.expectedIDs.values.filter { !$0.hasPrefix("host") && $0 != "mlc_stt_ram_accelerator" }
        for id in boards { #expect(csvIDs.contains(id), "\(id) is not a device id of published-latency.csv") }
    }

    @Test func theAcceleratorTemplateDescribesItsArray() throws {
        let device = try Self.load("mlc-stt-ram-accelerator.yaml")
        let unit = try #require(device.unit(named: nil))
        #expect(unit.kind == .accelerator)
        let pe = try #require(unit.peArray)
        #expect(pe.rows.value * pe.cols.value == unit.cores.value)
        #expect(pe.dataflow == .rowStationary)
        #expect(unit.precision == .fp16)
        // peak = PEs × MACs/cycle × 2 FLOP × f
        let f = try #require(unit.frequency?.value.value)
        let peak = try #require(unit.peakThroughput(.fp16)?.value)
        #expect(abs(peak - Double(pe.rows.value * pe.cols.value * pe.macsPerPEPerCycle.value) * 2 * f) < 1)
        #expect(device.memory.contains { $0.technology == .mlcSTTRAM })
        #expect(device.memory.contains { $0.technology == .registers })
    }

    @Test func jetsonsDefaultToTheirGPUInFP16() throws {
        for name in ["jetson-nano.yaml", "jetson-orin-nano.yaml"] {
            let unit = try #require(try Self.load(name).unit(named: nil))
            #expect(unit.kind == .gpu && unit.precision == .fp16, "\(name)")
        }
    }
}

@Suite("Active cores")
struct ActiveCoresTests {
    @Test func oneOfFourCoresScalesPeakAndInnerBandwidthsOnly() throws {
        let pi4 = try DeviceFileTests.load("raspberry-pi-4.yaml")
        let unit = try #require(pi4.unit(named: nil))
        let one = pi4.activatingCores(1)
        let u1 = try #require(one.unit(named: nil))
        #expect(u1.cores.value == 1)
        #expect(abs(u1.peak[.fp32]!.value.value - unit.peak[.fp32]!.value.value / 4) < 1e-3)
        let path = pi4.levels(for: unit)
        let path1 = one.levels(for: u1)
        for (a, b) in zip(path.dropLast(), path1.dropLast()) {
            #expect(abs(b.bandwidth.value.value - a.bandwidth.value.value / 4) < 1e-3, "\(a.name)")
        }
        #expect(path1.last!.bandwidth == path.last!.bandwidth)
        #expect(u1.efficiency == unit.efficiency && u1.layerOverhead == unit.layerOverhead)
        #expect(u1.peak[.fp32]!.source.contains("1 of 4 cores"))
    }

    @Test func allOrMoreCoresIsTheSameDevice() throws {
        let pi4 = try DeviceFileTests.load("raspberry-pi-4.yaml")
        #expect(pi4.activatingCores(4) == pi4)
        #expect(pi4.activatingCores(16) == pi4)
        #expect(pi4.activatingCores(2, unit: "no-such-unit") == pi4)
    }
}
