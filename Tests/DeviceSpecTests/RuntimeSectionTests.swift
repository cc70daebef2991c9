import DeviceSpec
import NNGraph
import Testing

/// The optional `runtimes` / `default_runtime` section (README "Runtimes").
@Suite("Device runtime sections")
struct RuntimeSectionTests {
    static func document(_ runtimeLines: [String]) -> String {
        DeviceLoaderErrorTests.valid + runtimeLines.joined(separator: "\n") + "\n"
    }

    @Test func runtimeFactorsLoad() throws {
        let d = try DeviceLoader.load(yaml: Self.document([
            "default_runtime: ncnn_cpu",
            "runtimes:",
            "  ncnn_cpu:",
            "    unit: cpu",
            "    efficiency_factor:",
            "      all: {value: 1.5, source: \"fitted: test\"}",
            "      depthwise: {value: 0.5, source: \"fitted: test\"}",
        ]), file: DeviceLoaderErrorTests.file)
        #expect(d.defaultRuntime == "ncnn_cpu")
        let r = try #require(d.runtimes["ncnn_cpu"])
        #expect(r.unit == "cpu")
        #expect(r.factor(for: .conv) == 1.5)
        #expect(r.factor(for: .depthwise) == 0.5)
        #expect(r.allClasses?.source == "fitted: test")
    }

    @Test func filesWithoutTheSectionStillLoad() throws {
        let d = try DeviceLoader.load(yaml: DeviceLoaderErrorTests.valid, file: DeviceLoaderErrorTests.file)
        #expect(d.runtimes.isEmpty && d.defaultRuntime == nil)
    }

    func error(_ lines: [String]) -> SpecError? { DeviceLoaderErrorTests.loadError(Self.document(lines)) }

    @Test func unknownOpClassSuggestsOne() throws {
        let e = try #require(error(["runtimes:", "  ncnn_cpu:", "    efficiency_factor:", "      cnov: {value: 1.5, source: s}"]))
        #expect(e.line == 40)
        #expect(e.keyPath == "runtimes.ncnn_cpu.efficiency_factor.cnov")
        #expect(e.message.contains("did you mean 'conv'?"))
    }

    @Test func factorOutOfRange() throws {
        let e = try #require(error(["runtimes:", "  ncnn_cpu:", "    efficiency_factor:", "      all: {value: 180, source: s}"]))
        #expect(e.line == 40)
        #expect(e.message.contains("factor must be in (0, 20], got 180"))
        let zero = try #require(error(["runtimes:", "  ncnn_cpu:", "    efficiency_factor:", "      all: {value: 0, source: s}"]))
        #expect(zero.message.contains("got 0"))
    }

    @Test func unknownUnitAndDefaultRuntime() throws {
        let u = try #require(error(["runtimes:", "  ncnn_cpu:", "    unit: cpx", "    efficiency_factor:", "      all: {value: 1, source: s}"]))
        #expect(u.line == 39 && u.message.contains("no compute unit named 'cpx' (did you mean 'cpu'?)"))
        let d = try #require(error(["default_runtime: ncnn_cpv", "runtimes:", "  ncnn_cpu:", "    efficiency_factor:", "      all: {value: 1, source: s}"]))
        #expect(d.line == 37 && d.message.contains("no runtime named 'ncnn_cpv' under runtimes (did you mean 'ncnn_cpu'?)"))
        let missing = try #require(error(["runtimes:", "  ncnn_cpu:", "    unit: cpu"]))
        #expect(missing.message.contains("missing required field 'efficiency_factor'"))
    }
}
