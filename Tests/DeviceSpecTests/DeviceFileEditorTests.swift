import DeviceSpec
import Testing

@Suite("Device file editor")
struct DeviceFileEditorTests {
    @Test func replacesAndInsertsSourcedValuesKeepingComments() throws {
        let text = "# header comment\n" + DeviceLoaderErrorTests.valid
        var e = DeviceFileEditor(text: text, file: "t.yaml")
        try e.set([.key("compute_units"), .index(0), .key("efficiency"), .key("conv")], value: "0.8125", source: "measured 2026-01-01 (test \"grid\")")
        try e.set([.key("compute_units"), .index(0), .key("efficiency"), .key("attention")], value: "0.25", source: "measured 2026-01-01 (attention)")
        try e.set([.key("memory"), .index(1), .key("bandwidth")], value: "\"20.5 GB/s\"", source: "measured 2026-01-01 (stream)")
        let d = try DeviceLoader.load(yaml: e.text, file: "t.yaml")
        let unit = try #require(d.unit(named: nil))
        #expect(unit.efficiency[.conv]?.value == 0.8125)
        #expect(unit.efficiency[.conv]?.source == "measured 2026-01-01 (test \"grid\")")
        #expect(unit.efficiency[.attention]?.value == 0.25)
        #expect(d.memory[1].bandwidth.value.value == 20.5e9)
        #expect(e.text.hasPrefix("# header comment\n"))
        // Untouched values keep their text.
        #expect(e.text.contains("      depthwise: {value: 0.1, source: \"assumed: test\"}"))
    }

    @Test func insertsAClassOverheadBlockThenUpdatesIt() throws {
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        let unit: [DeviceFileEditor.PathStep] = [.key("compute_units"), .index(0)]
        try e.setInMapping(unit, mapKey: "class_overhead", key: "conv", after: "layer_overhead", value: "\"2.5 us\"", source: "measured (tiny conv)")
        try e.setInMapping(unit, mapKey: "class_overhead", key: "pooling", after: "layer_overhead", value: "\"0.5 us\"", source: "measured (tiny pool)")
        try e.setInMapping(unit, mapKey: "class_overhead", key: "conv", after: "layer_overhead", value: "\"3 us\"", source: "measured again")
        let d = try DeviceLoader.load(yaml: e.text, file: "t.yaml")
        let u = try #require(d.unit(named: nil))
        #expect(u.classOverhead[.conv]?.value.value == 3e-6 && u.classOverhead[.conv]?.source == "measured again")
        #expect(u.classOverhead[.pooling]?.value.value == 0.5e-6)
        // Fallbacks: a conv sub-class uses conv's, a class without an entry uses layer_overhead.
        #expect(u.overhead(for: .convWinograd).value == 3e-6)
        #expect(u.overhead(for: .elementwise) == u.layerOverhead.value)
    }

    /// `calibrate` drops a template's `bulk_copy` block when the split does not fit: the block (key
    /// line and its entries) goes, every other line stays.
    @Test func removesABlockMappingAndNothingElse() throws {
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        let unit: [DeviceFileEditor.PathStep] = [.key("compute_units"), .index(0)]
        try e.setInMapping(unit, mapKey: "bulk_copy", key: "after", after: "layer_overhead", value: "\"512 KiB\"", source: "assumed: test")
        try e.setInMapping(unit, mapKey: "bulk_copy", key: "efficiency", after: "layer_overhead", value: "1.25", source: "measured: test")
        let with = try #require(DeviceLoader.load(yaml: e.text, file: "t.yaml").unit(named: nil))
        #expect(with.bulkCopy?.after.value.value == 524_288 && with.bulkCopy?.efficiency.value == 1.25)
        try e.removeBlock(unit, mapKey: "bulk_copy")
        #expect(e.text == DeviceLoaderErrorTests.valid)
        #expect(try DeviceLoader.load(yaml: e.text, file: "t.yaml").unit(named: nil)?.bulkCopy == nil)
        try e.removeBlock(unit, mapKey: "bulk_copy")
        #expect(e.text == DeviceLoaderErrorTests.valid, "removing an absent block changes nothing")
    }

    @Test func insertsAKeyIntoASequenceItemMapping() throws {
        // Memory levels are block mappings that open a sequence item ("  - name: l1"): a new key
        // must get the item's key indentation, not the dash's.
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        try e.set([.key("memory"), .index(0), .key("latency")], value: "\"1.5 ns\"", source: "measured (pointer chase)")
        #expect(e.text.contains("\n    latency: {value: \"1.5 ns\", source: \"measured (pointer chase)\"}\n"))
        let d = try DeviceLoader.load(yaml: e.text, file: "t.yaml")
        #expect(d.memory[0].latency?.value.value == 1.5e-9)
    }

    @Test func unknownClassOverheadKeyIsALocatedError() throws {
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        try e.setInMapping([.key("compute_units"), .index(0)], mapKey: "class_overhead", key: "conv", after: "layer_overhead", value: "\"1 us\"", source: "s")
        let bad = e.text.replacingOccurrences(of: "  conv: {value: \"1 us\"", with: "  cnov: {value: \"1 us\"")
        do {
            _ = try DeviceLoader.load(yaml: bad, file: "t.yaml")
            Issue.record("an unknown class_overhead key was accepted")
        } catch {
            #expect("\(error)".contains("did you mean 'conv'?") && "\(error)".contains("t.yaml:"), "\(error)")
        }
    }

    @Test func missingPathIsALocatedError() {
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        #expect(throws: SpecError.self) { try e.set([.key("compute_units"), .index(3), .key("efficiency"), .key("conv")], value: "1", source: "s") }
        #expect(throws: SpecError.self) { try e.set([.key("nope"), .key("x")], value: "1", source: "s") }
    }
}
