import DeviceSpec
import Testing

/// One test per error kind: each mutates one line of a minimal valid device document and
/// checks the located message `file:line:column: keyPath: message`.
@Suite("Device loader errors")
struct DeviceLoaderErrorTests {
    static let file = "devices/tiny.yaml"

    /// A minimal valid document; line numbers in the tests refer to it (1-based).
    static let lines: [String] = [
        /* 1 */ "schema_version: 1",
        /* 2 */ "id: tiny",
        /* 3 */ "name: Tiny test device",
        /* 4 */ "default_unit: cpu",
        /* 5 */ "compute_units:",
        /* 6 */ "  - name: cpu",
        /* 7 */ "    kind: cpu",
        /* 8 */ "    cores: {value: 1, source: \"assumed: test\"}",
        /* 9 */ "    peak:",
        /* 10 */ "      fp32: {value: \"1 GFLOP/s\", source: \"assumed: test\"}",
        /* 11 */ "    efficiency:",
        /* 12 */ "      conv: {value: 0.5, source: \"assumed: test\"}",
        /* 13 */ "      depthwise: {value: 0.1, source: \"assumed: test\"}",
        /* 14 */ "      elementwise: {value: 0.1, source: \"assumed: test\"}",
        /* 15 */ "      pooling: {value: 0.1, source: \"assumed: test\"}",
        /* 16 */ "    layer_overhead: {value: \"10 us\", source: \"assumed: test\"}",
        /* 17 */ "    energy_per_op:",
        /* 18 */ "      fp32: {value: \"2.3 pJ/FLOP\", source: \"assumed: test\"}",
        /* 19 */ "    register_bytes: {value: \"512 B\", source: \"assumed: test\"}",
        /* 20 */ "    memory_path: [l1, dram]",
        /* 21 */ "memory:",
        /* 22 */ "  - name: l1",
        /* 23 */ "    technology: sram",
        /* 24 */ "    size: {value: \"32 KiB\", source: \"assumed: test\"}",
        /* 25 */ "    bandwidth: {value: \"64 GB/s\", source: \"assumed: test\"}",
        /* 26 */ "    read_energy: {value: \"1 pJ/B\", source: \"assumed: test\"}",
        /* 27 */ "    write_energy: {value: \"1 pJ/B\", source: \"assumed: test\"}",
        /* 28 */ "  - name: dram",
        /* 29 */ "    technology: dram",
        /* 30 */ "    size: {value: \"1 GiB\", source: \"assumed: test\"}",
        /* 31 */ "    bandwidth: {value: \"12.8 GB/s\", source: \"assumed: test\"}",
        /* 32 */ "    read_energy: {value: \"160 pJ/B\", source: \"assumed: test\"}",
        /* 33 */ "    write_energy: {value: \"160 pJ/B\", source: \"assumed: test\"}",
        /* 34 */ "power:",
        /* 35 */ "  idle: {value: \"2 W\", source: \"assumed: test\"}",
        /* 36 */ "ram: {value: \"1 GiB\", source: \"assumed: test\"}",
    ]

    static var valid: String { lines.joined(separator: "\n") + "\n" }

    /// The document with 1-based line `line` replaced (or removed, for nil).
    static func document(line: Int, _ replacement: String?) -> String {
        var l = lines
        if let replacement { l[line - 1] = replacement } else { l.remove(at: line - 1) }
        return l.joined(separator: "\n") + "\n"
    }

    static func document(inserting text: String, after line: Int) -> String {
        var l = lines
        l.insert(text, at: line)
        return l.joined(separator: "\n") + "\n"
    }

    /// The error loading `yaml` throws; records an issue when it loads.
    static func loadError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> SpecError? {
        do {
            _ = try DeviceLoader.load(yaml: yaml, file: file)
            Issue.record("expected a SpecError, but the document loaded", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func theMinimalDocumentLoads() throws {
        let device = try DeviceLoader.load(yaml: Self.valid, file: Self.file)
        #expect(device.id == "tiny")
        #expect(device.file == Self.file)
        let unit = try #require(device.unit(named: nil))
        #expect(unit.peakThroughput(.fp32)?.value == 1e9)
        #expect(unit.layerOverhead.value.value == 10e-6)
        #expect(unit.memoryPath == ["l1", "dram"])
        #expect(device.memory[1].bandwidth.value.value == 12.8e9)
        #expect(device.memory[0].size.value.value == 32768)
        #expect(device.memory[0].size.source == "assumed: test")
        #expect(device.power.max == nil)
    }

    // MARK: YAML syntax (located by Yams)

    @Test func malformedYAMLUnclosedBracket() throws {
        let e = try #require(Self.loadError(Self.document(line: 20, "    memory_path: [l1, dram")))
        #expect(e.file == Self.file)
        // libyaml gives up on the next line; the message points back at the `[`.
        #expect(e.description == "devices/tiny.yaml:21:7: malformed YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 20, column 18)")
    }

    @Test func malformedYAMLBadIndentation() throws {
        // `technology` indented one column too far under a sequence entry's mapping.
        let e = try #require(Self.loadError(Self.document(line: 23, "     technology: sram")))
        #expect(e.file == Self.file)
        #expect(e.description == "devices/tiny.yaml:23:16: malformed YAML: mapping values are not allowed in this context")
        #expect(e.keyPath == "")
        #expect(e.message.hasPrefix("malformed YAML: "))
    }

    @Test func duplicateKey() throws {
        let e = try #require(Self.loadError(Self.document(inserting: "    bandwidth: {value: \"32 GB/s\", source: \"assumed: test\"}", after: 25)))
        #expect(e.file == Self.file)
        #expect(e.description == "devices/tiny.yaml:25:5: duplicate key 'bandwidth' in a mapping (first occurrence here)")
        #expect(e.message.contains("duplicate key"))
        #expect(e.message.contains("bandwidth"))
    }

    @Test func emptyFile() throws {
        let e = try #require(Self.loadError(""))
        #expect(e.description == "devices/tiny.yaml: file is empty")
    }

    // MARK: Schema

    @Test func unknownKeyWithDidYouMean() throws {
        let e = try #require(Self.loadError(Self.document(line: 31, "    bandwith: {value: \"12.8 GB/s\", source: \"assumed: test\"}")))
        #expect(e.line == 31 && e.column == 5)
        #expect(e.keyPath == "memory[1].bandwith")
        #expect(e.message.hasPrefix("unknown key 'bandwith' (did you mean 'bandwidth'?); allowed keys: "))
        #expect(e.description.hasPrefix("devices/tiny.yaml:31:5: memory[1].bandwith: unknown key 'bandwith' (did you mean 'bandwidth'?)"))
    }

    @Test func perCoreIsABooleanAndDefaultsToShared() throws {
        let doc = Self.document(inserting: "    per_core: true", after: 24)
        let d = try DeviceLoader.load(yaml: doc, file: Self.file)
        #expect(d.memory[0].perCore && !d.memory[1].perCore)
        #expect(d.memory[0].capacity(activeCores: 2) == 2 * 32 * 1024 && d.memory[1].capacity(activeCores: 2) == 1_073_741_824)
        let e = try #require(Self.loadError(Self.document(inserting: "    per_core: 2", after: 24)))
        #expect(e.line == 25 && e.keyPath == "memory[0].per_core", "\(e)")
        #expect(e.message.hasPrefix("expected true or false"), "\(e)")
    }

    @Test func unknownTopLevelKeyWithoutASuggestion() throws {
        let e = try #require(Self.loadError(Self.document(inserting: "vendor: Acme", after: 3)))
        #expect(e.line == 4 && e.column == 1)
        #expect(e.keyPath == "vendor")
        #expect(e.message.hasPrefix("unknown key 'vendor'; allowed keys: schema_version, id, name"))
    }

    @Test func missingRequiredField() throws {
        // memory[0] without `technology`: located at the start of that mapping.
        let e = try #require(Self.loadError(Self.document(line: 23, nil)))
        #expect(e.description == "devices/tiny.yaml:22:5: memory[0].technology: missing required field 'technology'")
    }

    @Test func missingTopLevelField() throws {
        let e = try #require(Self.loadError(Self.document(line: 36, nil)))
        #expect(e.description == "devices/tiny.yaml:1:1: ram: missing required field 'ram'")
    }

    @Test func badUnit() throws {
        let e = try #require(Self.loadError(Self.document(line: 31, "    bandwidth: {value: \"fast\", source: \"assumed: test\"}")))
        #expect(e.description == #"devices/tiny.yaml:31:24: memory[1].bandwidth: expected a rate like "12.8 GB/s", got "fast""#)
    }

    @Test func wrongKindOfUnit() throws {
        let e = try #require(Self.loadError(Self.document(line: 24, "    size: {value: \"32 GB/s\", source: \"assumed: test\"}")))
        #expect(e.description == #"devices/tiny.yaml:24:19: memory[0].size: expected a size like "32 KiB", got "32 GB/s""#)
    }

    /// `cross_core_bandwidth` is optional, a rate, and must be one.
    @Test func crossCoreBandwidthIsAnOptionalRate() throws {
        #expect(try DeviceLoader.load(yaml: Self.valid, file: Self.file).computeUnits[0].crossCoreBandwidth == nil)
        let ok = try DeviceLoader.load(yaml: Self.document(inserting: "    cross_core_bandwidth: {value: \"16.7 GB/s\", source: \"measured: test\"}", after: 16),
                                       file: Self.file)
        #expect(ok.computeUnits[0].crossCoreBandwidth?.value.value == 16.7e9)
        let e = try #require(Self.loadError(Self.document(inserting: "    cross_core_bandwidth: {value: \"16 ns\", source: \"measured: test\"}", after: 16)))
        #expect(e.description == #"devices/tiny.yaml:17:35: compute_units[0].cross_core_bandwidth: expected a rate like "12.8 GB/s", got "16 ns""#)
    }

    /// `weight_panel_rows` is an optional integer count of output channels (1–256).
    @Test func weightPanelRowsIsAnOptionalCount() throws {
        #expect(try DeviceLoader.load(yaml: Self.valid, file: Self.file).computeUnits[0].weightPanelRows == nil)
        let ok = try DeviceLoader.load(yaml: Self.document(inserting: "    weight_panel_rows: {value: 16, source: \"runner: test\"}", after: 16),
                                       file: Self.file)
        #expect(ok.computeUnits[0].weightPanelRows?.value == 16)
        let zero = try #require(Self.loadError(Self.document(inserting: "    weight_panel_rows: {value: 0, source: \"runner: test\"}", after: 16)))
        #expect(zero.description == "devices/tiny.yaml:17:32: compute_units[0].weight_panel_rows: must be an integer from 1 to 256 (output channels per weight panel), got 0")
        let text = try #require(Self.loadError(Self.document(inserting: "    weight_panel_rows: {value: \"16 rows\", source: \"runner: test\"}", after: 16)))
        #expect(text.keyPath == "compute_units[0].weight_panel_rows" && text.line == 17, "\(text)")
    }

    @Test func bareNumberWithoutUnit() throws {
        let e = try #require(Self.loadError(Self.document(line: 31, "    bandwidth: {value: 12.8, source: \"assumed: test\"}")))
        #expect(e.line == 31 && e.column == 24)
        #expect(e.keyPath == "memory[1].bandwidth")
        #expect(e.message == #"expected a rate like "12.8 GB/s", got the bare number 12.8 (write the unit in the string)"#)
    }

    @Test func negativeSize() throws {
        let e = try #require(Self.loadError(Self.document(line: 24, "    size: {value: \"-32 KiB\", source: \"assumed: test\"}")))
        #expect(e.description == "devices/tiny.yaml:24:19: memory[0].size: must be positive, got -32 KiB")
    }

    @Test func zeroSize() throws {
        let e = try #require(Self.loadError(Self.document(line: 24, "    size: {value: \"0 B\", source: \"assumed: test\"}")))
        #expect(e.description == "devices/tiny.yaml:24:19: memory[0].size: must be positive, got 0 B")
    }

    @Test func negativeEnergyIsRejectedButZeroIsAllowed() throws {
        let e = try #require(Self.loadError(Self.document(line: 26, "    read_energy: {value: \"-1 pJ/B\", source: \"assumed: test\"}")))
        #expect(e.description == "devices/tiny.yaml:26:26: memory[0].read_energy: must not be negative, got -1 pJ/B")
        let device = try DeviceLoader.load(yaml: Self.document(line: 26, "    read_energy: {value: \"0 pJ/B\", source: \"assumed: test\"}"), file: Self.file)
        #expect(device.memory[0].readEnergy.value.value == 0)
    }

    @Test func unknownMemoryLevelInMemoryPath() throws {
        let e = try #require(Self.loadError(Self.document(line: 20, "    memory_path: [l1, dram2]")))
        #expect(e.description == "devices/tiny.yaml:20:23: compute_units[0].memory_path[1]: no memory level named 'dram2' (did you mean 'dram'?)")
    }

    @Test func unknownEnumValue() throws {
        let e = try #require(Self.loadError(Self.document(line: 23, "    technology: flash")))
        #expect(e.description == "devices/tiny.yaml:23:17: memory[0].technology: unknown value 'flash'; expected one of: registers, sram, dram, stt-ram, mlc-stt-ram")
        let typo = try #require(Self.loadError(Self.document(line: 23, "    technology: mlc-sttram")))
        #expect(typo.message.hasPrefix("unknown value 'mlc-sttram' (did you mean 'mlc-stt-ram'?)"))
    }

    @Test func missingSource() throws {
        let e = try #require(Self.loadError(Self.document(line: 24, "    size: {value: \"32 KiB\"}")))
        #expect(e.description == "devices/tiny.yaml:24:11: memory[0].size.source: missing required field 'source'")
    }

    @Test func emptySource() throws {
        let e = try #require(Self.loadError(Self.document(line: 24, "    size: {value: \"32 KiB\", source: \"  \"}")))
        #expect(e.line == 24 && e.column == 37)
        #expect(e.keyPath == "memory[0].size.source")
        #expect(e.message.hasPrefix("source must not be empty"))
    }

    @Test func efficiencyAboveOne() throws {
        let e = try #require(Self.loadError(Self.document(line: 12, "      conv: {value: 1.5, source: \"assumed: test\"}")))
        #expect(e.description == "devices/tiny.yaml:12:21: compute_units[0].efficiency.conv: efficiency must be in (0, 1], got 1.5")
    }

    /// conv_winograd counts direct-convolution FLOPs, so it may exceed 1 — up to F(2×2,3×3)'s 2.25×.
    @Test func winogradEfficiencyMayExceedOneUpToItsMultiplySaving() throws {
        let ok = Self.document(inserting: "      conv_winograd: {value: 1.8, source: \"assumed: test\"}", after: 12)
        let d = try DeviceLoader.load(yaml: ok, file: Self.file)
        #expect(d.computeUnits[0].efficiency[.convWinograd]?.value == 1.8)
        let e = try #require(Self.loadError(Self.document(inserting: "      conv_winograd: {value: 2.5, source: \"assumed: test\"}", after: 12)))
        #expect(e.message.hasPrefix("efficiency must be in (0, 2.25], got 2.5"), "\(e.message)")
        #expect(e.keyPath == "compute_units[0].efficiency.conv_winograd")
    }

    @Test func memoryEfficiencyIsOptionalAndAFraction() throws {
        let ok = Self.document(inserting: "    memory_efficiency: {data_movement: {value: 0.5, source: \"measured: test\"}}", after: 16)
        let d = try DeviceLoader.load(yaml: ok, file: Self.file)
        #expect(d.computeUnits[0].memoryEfficiency(for: .dataMovement) == 0.5)
        #expect(d.computeUnits[0].memoryEfficiency(for: .conv) == 1)
        let e = try #require(Self.loadError(Self.document(inserting: "    memory_efficiency: {permute: {value: 1.2, source: \"measured: test\"}}", after: 16)))
        #expect(e.line == 17, "\(e.description)")
        #expect(e.keyPath == "compute_units[0].memory_efficiency.permute")
        #expect(e.message.hasPrefix("memory efficiency must be in (0, 1]"), "\(e.message)")
        // Row copies (memcpy) write whole lines without reading them first: up to 1.5.
        let copy = Self.document(inserting: "    memory_efficiency: {data_movement: {value: 1.5, source: \"measured: test\"}}", after: 16)
        #expect(try DeviceLoader.load(yaml: copy, file: Self.file).computeUnits[0].memoryEfficiency(for: .dataMovement) == 1.5)
        let copyOver = try #require(Self.loadError(Self.document(inserting: "    memory_efficiency: {data_movement: {value: 1.6, source: \"measured: test\"}}", after: 16)))
        #expect(copyOver.message.hasPrefix("memory efficiency must be in (0, 1.5]") && copyOver.message.contains("copies"), "\(copyOver.message)")
        // Element-wise kernels run in place, without the sweep's write-allocate reads: up to 2.
        let inPlace = Self.document(inserting: "    memory_efficiency: {elementwise: {value: 1.5, source: \"measured: test\"}}", after: 16)
        #expect(try DeviceLoader.load(yaml: inPlace, file: Self.file).computeUnits[0].memoryEfficiency(for: .elementwise) == 1.5)
        let high = try #require(Self.loadError(Self.document(inserting: "    memory_efficiency: {elementwise: {value: 2.5, source: \"measured: test\"}}", after: 16)))
        #expect(high.keyPath == "compute_units[0].memory_efficiency.elementwise")
        #expect(high.message.hasPrefix("memory efficiency must be in (0, 2]"), "\(high.message)")
        // Matrix-vector products are read streams (no write-allocate): up to 1.5.
        // Global pools are read streams too (one value written per channel), of maps the producer left
        // in the cores' own caches: pooling up to 4.
        let pool = Self.document(inserting: "    memory_efficiency: {pooling: {value: 3.9, source: \"measured: test\"}}", after: 16)
        #expect(try DeviceLoader.load(yaml: pool, file: Self.file).computeUnits[0].memoryEfficiency(for: .pooling) == 3.9)
        let poolOver = try #require(Self.loadError(Self.document(inserting: "    memory_efficiency: {pooling: {value: 4.1, source: \"measured: test\"}}", after: 16)))
        #expect(poolOver.keyPath == "compute_units[0].memory_efficiency.pooling")
        #expect(poolOver.message.hasPrefix("memory efficiency must be in (0, 4]"), "\(poolOver.message)")
        let read = Self.document(inserting: "    memory_efficiency: {gemm: {value: 1.4, source: \"measured: test\"}}", after: 16)
        #expect(try DeviceLoader.load(yaml: read, file: Self.file).computeUnits[0].memoryEfficiency(for: .gemm) == 1.4)
        let over = try #require(Self.loadError(Self.document(inserting: "    memory_efficiency: {gemm: {value: 1.6, source: \"measured: test\"}}", after: 16)))
        #expect(over.keyPath == "compute_units[0].memory_efficiency.gemm")
        #expect(over.message.hasPrefix("memory efficiency must be in (0, 1.5]") && over.message.contains("read streams"), "\(over.message)")
    }

    /// `bulk_copy`: data movement's traffic beyond `after` at its own share (up to 3); the other
    /// classes and copies below `after` keep bytes / (bandwidth · share).
    @Test func bulkCopyIsOptionalAndSplitsOnlyDataMovement() throws {
        let yaml = Self.document(inserting: "    bulk_copy: {after: {value: \"1 KiB\", source: \"assumed: test\"}, efficiency: {value: 2, source: \"measured: test\"}}", after: 16)
        let u = try DeviceLoader.load(yaml: yaml, file: Self.file).computeUnits[0]
        #expect(u.bulkCopy?.after.value.value == 1024 && u.bulkCopy?.efficiency.value == 2)
        // 3072 bytes at 1 GB/s: the first 1024 at share 0.5 (2.048 µs), the other 2048 at 2 (1.024 µs).
        #expect(abs(u.memoryTime(bytes: 3072, bandwidth: 1e9, share: 0.5, cls: .dataMovement) - 3.072e-6) < 1e-15)
        #expect(abs(u.memoryTime(bytes: 3072, bandwidth: 1e9, share: 0.5, cls: .permute) - 3.072e-6) < 1e-15, "finer class of data_movement")
        #expect(u.memoryTime(bytes: 3072, bandwidth: 1e9, share: 0.5, cls: .elementwise) == 3072 / 0.5e9)
        #expect(u.memoryTime(bytes: 1000, bandwidth: 1e9, share: 0.5, cls: .dataMovement) == 1000 / 0.5e9)
        let high = try #require(Self.loadError(Self.document(
            inserting: "    bulk_copy: {after: {value: \"1 KiB\", source: \"assumed: test\"}, efficiency: {value: 3.5, source: \"measured: test\"}}", after: 16)))
        #expect(high.line == 17, "\(high.description)")
        #expect(high.keyPath == "compute_units[0].bulk_copy.efficiency")
        #expect(high.message.hasPrefix("bulk-copy efficiency must be in (0, 3]"), "\(high.message)")
        let missing = try #require(Self.loadError(Self.document(inserting: "    bulk_copy: {efficiency: {value: 1.2, source: \"measured: test\"}}", after: 16)))
        #expect(missing.keyPath.hasPrefix("compute_units[0].bulk_copy") && missing.message.contains("after"), "\(missing.description)")
        let unit = try #require(Self.loadError(Self.document(
            inserting: "    bulk_copy: {after: {value: \"1 GHz\", source: \"assumed: test\"}, efficiency: {value: 1, source: \"measured: test\"}}", after: 16)))
        #expect(unit.keyPath == "compute_units[0].bulk_copy.after", "\(unit.description)")
        let unknown = try #require(Self.loadError(Self.document(
            inserting: "    bulk_copy: {after: {value: \"1 KiB\", source: \"assumed: test\"}, share: {value: 1, source: \"measured: test\"}}", after: 16)))
        #expect(unknown.message.contains("share"), "\(unknown.description)")
    }

    @Test func perOutputMACsAreOptionalAndNonNegative() throws {
        let ok = Self.document(inserting: "    per_output_macs: {depthwise: {value: 6, source: \"measured: test\"}}", after: 16)
        let d = try DeviceLoader.load(yaml: ok, file: Self.file)
        #expect(d.computeUnits[0].perOutputMACs(for: .depthwise) == 6)
        #expect(d.computeUnits[0].perOutputMACs(for: .conv1x1) == 0)
        let e = try #require(Self.loadError(Self.document(inserting: "    per_output_macs: {conv_1x1: {value: -2, source: \"measured: test\"}}", after: 16)))
        #expect(e.line == 17, "\(e.description)")
        #expect(e.keyPath == "compute_units[0].per_output_macs.conv_1x1")
        #expect(e.message.hasPrefix("per-output MACs must be a number ≥ 0"), "\(e.message)")
        let typo = try #require(Self.loadError(Self.document(inserting: "    per_output_macs: {depthwize: {value: 2, source: \"measured: test\"}}", after: 16)))
        #expect(typo.keyPath.hasPrefix("compute_units[0].per_output_macs"), "\(typo.description)")
    }

    @Test func efficiencyZero() throws {
        let e = try #require(Self.loadError(Self.document(line: 12, "      conv: {value: 0, source: \"assumed: test\"}")))
        #expect(e.message == "efficiency must be in (0, 1], got 0.0")
    }

    @Test func missingRequiredOpClass() throws {
        let e = try #require(Self.loadError(Self.document(line: 15, nil)))
        #expect(e.line == 12 && e.column == 7)
        #expect(e.keyPath == "compute_units[0].efficiency")
        #expect(e.message.hasPrefix("missing required op class 'pooling'"))
    }

    @Test func unknownOpClassWithDidYouMean() throws {
        let e = try #require(Self.loadError(Self.document(line: 13, "      depthwize: {value: 0.1, source: \"assumed: test\"}")))
        #expect(e.keyPath == "compute_units[0].efficiency.depthwize")
        #expect(e.message.hasPrefix("unknown op class 'depthwize' (did you mean 'depthwise'?)"))
    }

    @Test func unsupportedSchemaVersion() throws {
        let e = try #require(Self.loadError(Self.document(line: 1, "schema_version: 2")))
        #expect(e.description == "devices/tiny.yaml:1:17: schema_version: unsupported schema_version 2; this edgeprof reads version 1")
    }

    @Test func noPeakForTheUnitsPrecision() throws {
        let e = try #require(Self.loadError(Self.document(inserting: "    precision: fp16", after: 10)))
        #expect(e.description == "devices/tiny.yaml:11:16: compute_units[0].precision: no peak given for the unit's precision 'fp16'")
    }

    @Test func unknownDefaultUnit() throws {
        let e = try #require(Self.loadError(Self.document(line: 4, "default_unit: cpus")))
        #expect(e.description == "devices/tiny.yaml:4:15: default_unit: no compute unit named 'cpus' (did you mean 'cpu'?)")
    }

    @Test func nonPositiveCoreCount() throws {
        let e = try #require(Self.loadError(Self.document(line: 8, "    cores: {value: 0, source: \"assumed: test\"}")))
        #expect(e.description == "devices/tiny.yaml:8:20: compute_units[0].cores: must be positive, got 0")
    }

    @Test func duplicateMemoryLevelName() throws {
        let e = try #require(Self.loadError(Self.document(line: 28, "  - name: l1")))
        #expect(e.line == 28 && e.column == 5)
        #expect(e.keyPath == "memory[1]")
        #expect(e.message == "duplicate memory level name 'l1'")
    }
}
