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

    @Test func missingPathIsALocatedError() {
        var e = DeviceFileEditor(text: DeviceLoaderErrorTests.valid, file: "t.yaml")
        #expect(throws: SpecError.self) { try e.set([.key("compute_units"), .index(3), .key("efficiency"), .key("conv")], value: "1", source: "s") }
        #expect(throws: SpecError.self) { try e.set([.key("nope"), .key("x")], value: "1", source: "s") }
    }
}
