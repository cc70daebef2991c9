import Foundation
import KernelRunner
import ModelImport
import NNGraph
import Testing

/// Whole-model agreement with ONNX Runtime on the exported torchvision fixtures
/// (`scripts/make-fixtures.sh` → `Tests/Fixtures/onnx/NAME.onnx` + `NAME.ref.npz` holding
/// `input_K` / `output_K` for K = 0, 1, 2). Missing fixtures FAIL these tests: they are part of CI.
@Suite("Agreement with ONNX Runtime")
struct ONNXRuntimeAgreementTests {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx")

    /// Float32 fixtures: must match ORT to 1e-4 relative (max |ours − ORT| / max |ORT|).
    static let floatModels = ["mobilenet_v2", "resnet18", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0",
                              "mobilenet_v3_small", "vit_tiny"]

    struct Agreement: CustomStringConvertible {
        var maxAbs: Float = 0
        var maxRelative: Float = 0
        var top1 = 0
        var top5 = 0
        var inputs = 0
        /// Inputs whose ORT top-1 logit leads the runner-up by more than twice this input's max |ours − ORT|:
        /// on those, a top-1 disagreement cannot be explained by the measured numerical difference.
        var decisive = 0
        var top1Decisive = 0
        /// Inputs where our top-1 class is among ORT's top-5.
        var top1InORTTop5 = 0
        var description: String {
            "max abs \(maxAbs), max rel \(maxRelative), top-1 \(top1)/\(inputs), top-5 \(top5)/\(inputs), "
                + "top-1 on decisive inputs \(top1Decisive)/\(decisive), our top-1 in ORT top-5 \(top1InORTTop5)/\(inputs)"
        }
    }

    static func compare(_ name: String, threads: Int) throws -> Agreement? {
        let model = fixtureDirectory.appendingPathComponent("\(name).onnx").path
        let refs = fixtureDirectory.appendingPathComponent("\(name).ref.npz").path
        guard FileManager.default.fileExists(atPath: model), FileManager.default.fileExists(atPath: refs) else {
            Issue.record("""
                fixture \(name) is missing (\(model) / \(refs)). Generate the ONNX fixtures and their \
                ONNX Runtime references with scripts/make-fixtures.sh (CI runs it before the tests).
                """)
            return nil
        }
        let imported = try ONNXImporter.load(path: model)
        let weights = WeightStore(imported.weights.mapValues(\.values))
        let compiled = try CompiledModel(graph: imported.graph, weights: weights, threads: threads)
        let arrays = try NumPyArray.decodeArchive([UInt8](Data(contentsOf: URL(fileURLWithPath: refs))))
        var result = Agreement()
        for k in 0..<3 {
            guard let input = arrays["input_\(k)"], let expected = arrays["output_\(k)"] else {
                Issue.record("\(refs) has no input_\(k)/output_\(k)")
                return nil
            }
            let got = try compiled.run([input])[0]
            #expect(got.shape.elementCount == expected.shape.elementCount, "\(name): output \(got.shape) vs ORT \(expected.shape)")
            guard got.values.count == expected.values.count else { return nil }
            let scale = expected.values.map(abs).max() ?? 1
            let diff = zip(got.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            result.maxAbs = Swift.max(result.maxAbs, diff)
            result.maxRelative = Swift.max(result.maxRelative, scale > 0 ? diff / scale : diff)
            let top = { (v: [Float]) in Array(v.indices.sorted { v[$0] > v[$1] }.prefix(5)) }
            let (a, b) = (top(got.values), top(expected.values))
            if a.first == b.first { result.top1 += 1 }
            if Set(a) == Set(b) { result.top5 += 1 }
            if let ours = a.first, b.contains(ours) { result.top1InORTTop5 += 1 }
            if b.count >= 2, expected.values[b[0]] - expected.values[b[1]] > 2 * diff {
                result.decisive += 1
                if a.first == b.first { result.top1Decisive += 1 }
            }
            result.inputs += 1
        }
        return result
    }

    @Test(arguments: floatModels)
    func matchesONNXRuntime(_ name: String) throws {
        let started = Date()
        guard let r = try Self.compare(name, threads: 2) else { return }
        print("ORT agreement \(name): \(r) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        #expect(r.maxRelative <= 1e-4, "\(name): \(r)")
        #expect(r.top1 == r.inputs && r.top5 == r.inputs, "\(name): \(r)")
    }

    /// QDQ int8 model: the importer dequantizes weights and elides activation fake-quantization,
    /// so the runner computes in float32 while ORT rounds activations to uint8 between layers.
    /// Agreement is therefore at quantization level, not 1e-4. The fixture's weights are torchvision's
    /// seeded random init (no pretrained download in CI), so its logits are nearly flat and a top-1 can
    /// legitimately flip under quantization noise (CI saw 0/3 with a 0.0014 max abs difference, and ORT's
    /// int8 kernels differ between CPUs). Top-1 is therefore required only on inputs where ORT's lead over
    /// its runner-up exceeds twice the measured difference; our top-1 must always be in ORT's top-5.
    @Test func quantizedModelAgreesAtQuantizationLevel() throws {
        guard let r = try Self.compare("mobilenet_v2_qdq", threads: 2) else { return }
        print("ORT agreement mobilenet_v2_qdq (float execution of a QDQ model): \(r)")
        #expect(r.maxRelative <= 0.05, "mobilenet_v2_qdq: \(r)")
        #expect(r.top1Decisive == r.decisive, "mobilenet_v2_qdq: \(r)")
        #expect(r.top1InORTTop5 == r.inputs, "mobilenet_v2_qdq: \(r)")
    }

    @Test func singleThreadMatchesToo() throws {
        guard let r = try Self.compare("shufflenet_v2_x1_0", threads: 1) else { return }
        #expect(r.maxRelative <= 1e-4, "shufflenet_v2_x1_0, 1 thread: \(r)")
    }
}
