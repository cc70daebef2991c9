import Foundation
import SwiftProtobuf
import Testing
import NNGraph
@testable import ModelImport

// MARK: - Real exports

@Suite("ONNX import: real PyTorch exports")
struct ONNXRealModelTests {
    @Test("MACs and params equal the reference counts", arguments: ONNXFixtures.standard)
    func countsMatchReference(name: String) throws {
        let ref = try ONNXFixtures.reference(name)
        let model = try ONNXFixtures.load(name)
        let counts = model.graph.totalCounts()
        #expect(counts.macs == ref.macs, "\(name): MACs")
        // An absorbed exact-GELU chain (vit_tiny) takes its three scalar constants (√2, 1, 0.5) with it.
        let gelus = model.graph.nodes.filter { $0.op == .activation(.gelu) }.count
        #expect(counts.params == ref.params - 3 * gelus, "\(name): params")
        #expect(model.opset == ref.opset)
        #expect(model.unsupported.isEmpty)
        #expect(model.producer.hasPrefix(ref.producer))
        #expect(model.graph.inputs.count == 1)
        #expect(model.graph.tensor(model.graph.inputs[0]).shape.dims == ref.input_shape)
        #expect(!model.graph.fusionGroups.isEmpty, "finish() fuses the graph")
        #expect(model.graph.name == name, "graphs are named after the file")
    }

    @Test("Per-layer output shapes equal ONNX Runtime's", arguments: ONNXFixtures.standard + ["shufflenet_v2_x1_0_dynbatch"])
    func shapesMatchReference(name: String) throws {
        let ref = try ONNXFixtures.reference(name)
        let options = name.hasSuffix("_dynbatch") ? ONNXImportOptions(inputShapes: ["input": TensorShape(ref.input_shape)]) : ONNXImportOptions()
        let model = try ONNXFixtures.load(name, options)
        var shapes: [String: [Int]] = [:]
        for t in model.graph.tensors { shapes[t.name] = t.shape.dims }
        // Outputs that legitimately disappear: MatMul fused with its bias Add into one gemm, Sigmoid fused
        // into SiLU, the Quantize/Dequantize pairs of QDQ models, and the first four ops of an exact-GELU
        // chain (Div, Erf, Add, Mul: only its last Mul's output is made, by the GELU).
        let mayVanish: Set<String> = ["MatMul", "Sigmoid", "QuantizeLinear", "DequantizeLinear"]
        let geluChain: Set<String> = ["Div", "Erf", "Add", "Mul"]
        let geluOutputs = Set(model.graph.nodes.filter { $0.op == .activation(.gelu) }.flatMap { $0.outputs.map { model.graph.tensors[$0].name } })
        var compared = 0
        for node in ref.nodes where !node.const {
            for out in node.outputs {
                guard let expected = out.shape else { continue }
                if let got = shapes[out.name] {
                    #expect(got == expected, "\(name): '\(out.name)' (\(node.op_type))")
                    compared += 1
                } else {
                    let inGELU = geluChain.contains(node.op_type) && !geluOutputs.isEmpty && node.name.contains("/mlp.1/")
                    #expect(mayVanish.contains(node.op_type) || inGELU, "\(name): output '\(out.name)' of \(node.op_type) '\(node.name)' is missing from the graph")
                }
            }
        }
        #expect(compared >= model.graph.nodes.count / 2, "\(name): compared \(compared) tensors")
    }

    /// Every parameter has float32 data of the right size.
    @Test("Weights cover every parameter", arguments: ["resnet18", "vit_tiny", "mobilenet_v2_qdq", "mobilenet_v2_bn"])
    func weightsCoverParams(name: String) throws {
        let model = try ONNXFixtures.load(name)
        var count = 0
        for node in model.graph.nodes {
            for p in node.params {
                let w = try #require(model.weights[p.name], "\(name): no weights for \(p.name)")
                #expect(w.values.count == p.shape.elementCount, "\(p.name)")
                #expect(w.shape == p.shape)
                #expect(w.storedType == p.dtype)
                count += 1
            }
        }
        #expect(count > 0)
        #expect(model.weights.values.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }

    @Test func matMulWithInitializerBecomesGemmWithBias() throws {
        let model = try ONNXFixtures.load("vit_tiny")
        var gemms = 0, matmuls = 0, attentionMatmuls = 0
        for node in model.graph.nodes {
            switch node.op {
            case .gemm(let g):
                gemms += 1
                #expect(node.params.first?.shape.dims == [g.outFeatures, g.inFeatures], "gemm weights are [N, K]")
                #expect(g.hasBias)
            case .matmul:
                matmuls += 1
                if node.name.contains("self_attention") { attentionMatmuls += 1 }
            default: break
            }
        }
        // Per layer: in_proj, out_proj, mlp.0, mlp.3 are gemms; QKᵀ and AV are activation matmuls.
        #expect(gemms == 12 * 4 + 1)
        #expect(matmuls == 12 * 2 && attentionMatmuls == matmuls)
        // The class token concat + positional embedding is a pad + add with the folded embedding.
        #expect(model.graph.nodes.contains { if case .pad = $0.op { true } else { false } })
        // PyTorch's exact-GELU chain (x / √2 → Erf → + 1 → · x → · 0.5) is one GELU per block, fused
        // into the mlp.0 GEMM; none of the chain's five ops is left. LayerNormalization is imported.
        #expect(model.graph.nodes.filter { $0.op == .activation(.gelu) }.count == 12)
        #expect(!model.graph.nodes.contains { $0.op == .unary(.erf) || $0.op == .binary(.div) })
        let geluGroups = model.graph.fusionGroups.filter { g in
            g.nodes.count == 2 && { if case .gemm = model.graph.nodes[g.nodes[0]].op { true } else { false } }()
                && model.graph.nodes[g.nodes[1]].op == .activation(.gelu)
        }
        #expect(geluGroups.count == 12)
        #expect(model.graph.nodes.contains { if case .layerNorm = $0.op { true } else { false } })
    }

    @Test func efficientNetSiLUIsFused() throws {
        let model = try ONNXFixtures.load("efficientnet_b0")
        let silu = model.graph.nodes.filter { $0.op == .activation(.silu) }.count
        #expect(silu > 40)
        // The squeeze-excitation gates keep their plain sigmoid.
        #expect(model.graph.nodes.contains { $0.op == .activation(.sigmoid) })
    }

    @Test func mobileNetClipBecomesRelu6AndFuses() throws {
        let model = try ONNXFixtures.load("mobilenet_v2")
        #expect(model.graph.nodes.filter { $0.op == .activation(.relu6) }.count == 35)
        #expect(model.graph.fusionGroups.contains { $0.kind == "dwconv-relu6" })
        let bn = try ONNXFixtures.load("mobilenet_v2_bn")
        #expect(bn.graph.nodes.filter { if case .batchNorm = $0.op { true } else { false } }.count == 52)
        #expect(bn.graph.fusionGroups.contains { $0.kind == "conv-bn-relu6" })
    }

    @Test func qdqModelCountsWeightsAtInt8() throws {
        let q = try ONNXFixtures.load("mobilenet_v2_qdq")
        let f = try ONNXFixtures.load("mobilenet_v2")
        #expect(q.graph.totalCounts().macs == f.graph.totalCounts().macs)
        #expect(q.graph.totalCounts().params == f.graph.totalCounts().params)
        let convs = q.graph.nodes.filter { if case .conv = $0.op { true } else { false } }
        #expect(convs.count == 52)
        for c in convs {
            #expect(c.params[0].dtype == .int8, "\(c.name) weight")
            #expect(c.params.count == 2 && c.params[1].dtype == .int32, "\(c.name) bias")
        }
        // Weight bytes: int8 weights are a quarter of the float model's.
        let qBytes = q.graph.nodes.flatMap(\.params).filter { $0.dtype == .int8 }.reduce(0) { $0 + $1.byteCount }
        let fBytes = f.graph.nodes.flatMap(\.params).filter { $0.shape.rank > 1 }.reduce(0) { $0 + $1.byteCount }
        #expect(qBytes * 4 == fBytes)
        // Activations between quantized layers are stored as uint8; no Q/DQ nodes remain.
        let uint8Tensors = q.graph.tensors.filter { $0.dtype == .uint8 }.count
        #expect(uint8Tensors > 50)
        // The quantizer drops the ReLU6 clips (a uint8 range starting at 0 clamps instead); the importer
        // restores them as clip(0, 255·scale) so float execution keeps the activation.
        #expect(q.graph.nodes.filter { $0.op.kindName.hasPrefix("unsupported") || $0.op == .identity }.isEmpty)
        for kind in ["conv", "dwconv", "gemm", "add", "globalavgpool", "flatten"] {
            #expect(q.graph.nodes.filter { $0.op.kindName == kind }.count == f.graph.nodes.filter { $0.op.kindName == kind }.count, "\(kind)")
        }
        let clamps = q.graph.nodes.filter { if case .clip(let lo, let hi) = $0.op { lo == 0 && hi > 0 && hi < 100 } else { false } }
        #expect(clamps.count == 35, "one clamp per ReLU6 of the float model")
        #expect(q.graph.nodes.count == f.graph.nodes.count)
        #expect(q.graph.fusionGroups.contains { $0.kind == "dwconv-clip" })
        // Dequantized weights are the float model's up to int8 rounding (per-tensor scale).
        let fConvs = f.graph.nodes.filter { if case .conv = $0.op { true } else { false } }
        for (qc, fc) in zip(convs, fConvs) {
            let wq = try #require(q.weights[qc.params[0].name]).values
            let wf = try #require(f.weights[fc.params[0].name]).values
            let scale = (wf.map(abs).max() ?? 1) / 127
            let err = zip(wq, wf).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= scale * 0.5 + 1e-6, "\(qc.name): int8 weight error \(err) vs half a step \(scale / 2)")
        }
        // Dequantized weight values: (q - zp) * scale, finite and not all zero.
        let w = try #require(q.weights[convs[0].params[0].name])
        #expect(w.values.contains { $0 != 0 })
    }

    @Test("Zoo builders agree within 1%",
          arguments: ["mobilenet_v2", "resnet18", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0", "mobilenet_v3_small",
                      "vit_tiny", "mobilenet_v2_bn"])
    func agreesWithZoo(name: String) throws {
        let zooName = name.replacingOccurrences(of: "_bn", with: "")
        let zoo = try #require(ModelZoo.model(named: zooName), "no zoo model \(zooName)").build()
        let imported = try ONNXFixtures.load(name).graph
        let z = zoo.totalCounts(), i = imported.totalCounts()
        #expect(abs(Double(i.macs) / Double(z.macs) - 1) <= 0.01, "\(name): MACs import \(i.macs) vs zoo \(z.macs)")
        // torch.onnx.export folds each BatchNorm that follows a bias-free conv into the conv
        // (4·C BN parameters become a C-element conv bias); the _bn export keeps BatchNormalization.
        let expectedParams = name.hasSuffix("_bn") ? z.params : z.params - foldedBatchNormParams(zoo)
        #expect(abs(Double(i.params) / Double(expectedParams) - 1) <= 0.01,
                "\(name): params import \(i.params) vs zoo \(z.params) (\(expectedParams) after BN folding)")
    }

    private func foldedBatchNormParams(_ g: Graph) -> Int {
        let producers = g.producers()
        var folded = 0
        for node in g.nodes {
            guard case .batchNorm = node.op, let input = node.inputs.first, let p = producers[input] else { continue }
            let c = node.params.first?.shape.elementCount ?? 0
            switch g.nodes[p].op {
            case .conv(let a), .convTranspose(let a): folded += a.hasBias ? 4 * c : 3 * c
            default: break
            }
        }
        return folded
    }
}

// MARK: - Dynamic shapes and options

@Suite("ONNX import: input shapes")
struct ONNXInputShapeTests {
    @Test func dynamicBatchNeedsAnInputShape() throws {
        let path = try ONNXFixtures.path("shufflenet_v2_x1_0_dynbatch")
        do {
            _ = try ONNXImporter.load(path: path)
            Issue.record("a dynamic batch without --input-shape must fail")
        } catch {
            #expect(error.kind == .dynamicShape)
            let text = error.description
            #expect(text.hasPrefix(path))
            #expect(text.contains("'input'") && text.contains("batchx3x224x224") && text.contains("--input-shape input="), "\(text)")
        }
    }

    @Test func dynamicBatchWithInputShape() throws {
        let ref = try ONNXFixtures.reference("shufflenet_v2_x1_0_dynbatch")
        #expect(ref.input_shape == [2, 3, 224, 224])
        let (name, shape) = try ONNXImportOptions.parseInputShape("input=2x3x224x224")
        let model = try ONNXFixtures.load("shufflenet_v2_x1_0_dynbatch", ONNXImportOptions(inputShapes: [name: shape]))
        let counts = model.graph.totalCounts()
        #expect(counts.macs == ref.macs)
        #expect(counts.params == ref.params)
        let static1 = try ONNXFixtures.load("shufflenet_v2_x1_0").graph.totalCounts()
        #expect(counts.macs == 2 * static1.macs)
        // Batch 1 through the dynamic export equals the static export.
        let b1 = try ONNXFixtures.load("shufflenet_v2_x1_0_dynbatch", ONNXImportOptions(inputShapes: ["input": [1, 3, 224, 224]]))
        #expect(b1.graph.totalCounts().macs == static1.macs)
    }

    @Test func badInputShapes() throws {
        let path = try ONNXFixtures.path("shufflenet_v2_x1_0_dynbatch")
        let cases: [([String: TensorShape], String)] = [
            (["input": [2, 3, 224]], "rank"),
            (["input": [2, 4, 224, 224]], "fixed dimension 3 at axis 1"),
            (["images": [1, 3, 224, 224]], "'images'"),
        ]
        for (shapes, expected) in cases {
            do {
                _ = try ONNXImporter.load(path: path, options: ONNXImportOptions(inputShapes: shapes))
                Issue.record("\(shapes) must fail")
            } catch {
                #expect(error.kind == .invalidInputShape, "\(error)")
                #expect(error.description.contains(expected), "\(error)")
            }
        }
        // A fully static model accepts its own shape and rejects another batch.
        #expect(throws: ImportError.self) {
            try ONNXFixtures.load("resnet18", ONNXImportOptions(inputShapes: ["input": [4, 3, 224, 224]]))
        }
        _ = try ONNXFixtures.load("resnet18", ONNXImportOptions(inputShapes: ["input": [1, 3, 224, 224]]))
    }

    @Test func parseInputShape() throws {
        let (n, s) = try ONNXImportOptions.parseInputShape("pixel_values=1x3x224x224")
        #expect(n == "pixel_values" && s == [1, 3, 224, 224])
        let (n2, s2) = try ONNXImportOptions.parseInputShape("a=b=7")
        #expect(n2 == "a=b" && s2 == [7])
        for bad in ["input", "input=", "input=1x0x3", "input=1xx3", "=1x3", "input=1x-3"] {
            #expect(throws: ImportError.self, "\(bad)") { try ONNXImportOptions.parseInputShape(bad) }
        }
    }
}

// MARK: - Operators and attributes on small models

@Suite("ONNX import: operators")
struct ONNXOperatorTests {
    typealias B = ONNXBuild

    @Test func convDefaultsAndWeights() throws {
        let m = try B.load(B.convRelu())
        let conv = m.graph.nodes[0]
        guard case .conv(let a) = conv.op else { Issue.record("expected conv, got \(conv.op)"); return }
        #expect(a.strides == [1, 1] && a.dilations == [1, 1] && a.groups == 1 && a.pads == [1, 1, 1, 1] && a.hasBias)
        #expect(a.inChannels == 3 && a.outChannels == 4 && a.kernel == [3, 3])
        #expect(m.weights["w"]?.values.count == 108)
        #expect(m.weights["w"]?.values[5] == 0.05)
        #expect(m.weights["b"]?.values == [0.1, 0.2, 0.3, 0.4])
        #expect(m.graph.totalCounts().macs == 4 * 8 * 8 * 3 * 9)
        #expect(m.graph.fusionGroups.map(\.kind) == ["conv-relu"])
        #expect(m.graph.tensor(m.graph.outputs[0]).name == "y")
    }

    /// PyTorch's exact-GELU chain x / √2 → Erf → + 1 → · x → · 0.5 becomes one GELU (constants as a
    /// Constant node and as initializers); a different constant, or a chain tensor with a second
    /// reader, leaves the five ops as they are.
    @Test(arguments: [("exact", Float(2).squareRoot(), Float(1), false, true), ("constant node", Float(2).squareRoot(), Float(1), true, true),
                      ("other divisor", Float(2), Float(1), false, false), ("other addend", Float(2).squareRoot(), Float(2), false, false)])
    func exactGELUChainBecomesOneGELU(_ c: (String, Float, Float, Bool, Bool)) throws {
        let (_, divisor, addend, constantNode, fuses) = c
        var nodes: [Onnx_NodeProto] = []
        var initializers = [B.tensor("one", [], floats: [addend]), B.tensor("half", [], floats: [0.5])]
        if constantNode {
            nodes.append(B.node("Constant", [], ["sqrt2"], name: "c", attributes: [B.attr("value", tensor: B.tensor("v", [], floats: [divisor]))]))
        } else {
            initializers.append(B.tensor("sqrt2", [], floats: [divisor]))
        }
        nodes += [B.node("Div", ["x", "sqrt2"], ["d"], name: "div"), B.node("Erf", ["d"], ["e"], name: "erf"),
                  B.node("Add", ["e", "one"], ["a"], name: "add"), B.node("Mul", ["x", "a"], ["m"], name: "mul"),
                  B.node("Mul", ["m", "half"], ["y"], name: "mul_1")]
        let m = try B.load(B.model(nodes: nodes, initializers: initializers, inputs: [B.valueInfo("x", [2, 8])], outputs: [B.valueInfo("y", [2, 8])]))
        if fuses {
            #expect(m.graph.nodes.map(\.op) == [.activation(.gelu)])
            #expect(m.graph.nodes[0].name == "mul_1" && m.graph.tensor(m.graph.outputs[0]).name == "y")
        } else {
            #expect(m.graph.nodes.count == 5 && !m.graph.nodes.contains { $0.op == .activation(.gelu) })
        }
        // A second reader of the Erf's output keeps the chain.
        let shared = try B.load(B.model(nodes: nodes, initializers: initializers, inputs: [B.valueInfo("x", [2, 8])],
                                        outputs: [B.valueInfo("y", [2, 8]), B.valueInfo("e", [2, 8])]))
        #expect(!shared.graph.nodes.contains { $0.op == .activation(.gelu) })
    }

    @Test func autoPadSameUpper() throws {
        var model = B.convRelu()
        model.graph.node[0].attribute = [B.attr("auto_pad", string: "SAME_UPPER"), B.attr("strides", ints: [2, 2])]
        model.graph.output = [B.valueInfo("y", [1, 4, 4, 4])]
        let m = try B.load(model)
        guard case .conv(let a) = m.graph.nodes[0].op else { Issue.record("no conv"); return }
        #expect(a.pads == [0, 0, 1, 1])
        #expect(m.graph.tensor(m.graph.outputs[0]).shape == [1, 4, 4, 4])
    }

    @Test func gemmTransposeAlphaBeta() throws {
        // Gemm with transB = 0 (B is [K, N]) and alpha/beta: weights become [N, K] scaled copies.
        let b = B.tensor("B", [3, 2], floats: [1, 2, 3, 4, 5, 6])
        let c = B.tensor("C", [2], floats: [10, 20])
        let model = B.model(nodes: [B.node("Gemm", ["x", "B", "C"], ["y"], name: "fc", attributes: [B.attr("alpha", float: 2), B.attr("beta", float: 0.5)])],
                            initializers: [b, c], inputs: [B.valueInfo("x", [4, 3])], outputs: [B.valueInfo("y", [4, 2])])
        let m = try B.load(model)
        let node = m.graph.nodes[0]
        #expect(node.op == .gemm(GemmAttributes(inFeatures: 3, outFeatures: 2, hasBias: true)))
        #expect(node.params.map(\.name) == ["B::T::scaled", "C::scaled"])
        #expect(m.weights["B::T::scaled"]?.values == [2, 6, 10, 4, 8, 12])
        #expect(m.weights["C::scaled"]?.values == [5, 10])
        #expect(m.graph.totalCounts().macs == 4 * 2 * 3)
    }

    @Test func matMulOfActivationsAndConstantFirstOperands() throws {
        let one = B.tensor("one", [], floats: [1])
        let model = B.model(nodes: [
            B.node("MatMul", ["a", "b"], ["ab"], name: "mm"),
            B.node("Sub", ["one", "ab"], ["s"], name: "one_minus"),
            B.node("Div", ["one", "s"], ["y"], name: "inverse"),
        ], initializers: [one], inputs: [B.valueInfo("a", [2, 5, 7]), B.valueInfo("b", [2, 7, 3])], outputs: [B.valueInfo("y", [2, 5, 3])])
        let m = try B.load(model)
        #expect(m.graph.nodes.map(\.op.kindName) == ["matmul", "neg", "add", "reciprocal", "mul"])
        #expect(m.graph.totalCounts().macs == 2 * 5 * 3 * 7)
    }

    @Test func pyTorchShapeArithmeticFolds() throws {
        // x.view(x.size(0), -1) as TorchScript exports it: Shape → Gather → Unsqueeze → Concat → Reshape,
        // plus Slice/Cast/Div/Mul on the shape values.
        let model = B.model(nodes: [
            B.node("Shape", ["x"], ["shape"], name: "shape"),
            B.node("Constant", [], ["zero"], name: "c0", attributes: [B.attr("value", tensor: B.tensor("", [], int64s: [0]))]),
            B.node("Gather", ["shape", "zero"], ["n"], name: "gather", attributes: [B.attr("axis", int: 0)]),
            B.node("Unsqueeze", ["n", "axes"], ["n1"], name: "unsqueeze"),
            B.node("Slice", ["shape", "one", "big"], ["rest"], name: "slice"),
            B.node("Cast", ["rest"], ["restf"], name: "cast", attributes: [B.attr("to", int: 1)]),
            B.node("Div", ["restf", "two"], ["half"], name: "div"),
            B.node("Mul", ["half", "two"], ["again"], name: "mul"),
            B.node("Cast", ["again"], ["restI"], name: "cast2", attributes: [B.attr("to", int: 7)]),
            B.node("ReduceProd", ["restI"], ["flat"], name: "prod", attributes: [B.attr("keepdims", int: 1)]),
            B.node("Concat", ["n1", "flat"], ["target"], name: "concat", attributes: [B.attr("axis", int: 0)]),
            B.node("Reshape", ["x", "target"], ["y"], name: "reshape"),
        ], initializers: [
            B.tensor("axes", [1], int64s: [0]), B.tensor("one", [1], int64s: [1]),
            B.tensor("big", [1], int64s: [Int64.max]), B.tensor("two", [], floats: [2]),
        ], inputs: [B.valueInfo("x", [3, 4, 5, 6])], outputs: [B.valueInfo("y", [3, 120])])
        let m = try B.load(model)
        #expect(m.graph.nodes.count == 1)
        #expect(m.graph.nodes[0].op == .reshape(shape: [3, 120]))
        #expect(m.graph.totalCounts().params == 0)
    }

    @Test func typedInitializerFieldsAndDTypes() throws {
        // float16 raw_data, int8 in int32_data, double_data and int64: all become float32 weights.
        var h = Onnx_TensorProto()
        h.name = "h"
        h.dims = [2]
        h.dataType = ONNXDataType.float16
        h.rawData = Data([0x00, 0x3C, 0x00, 0xC0])  // 1.0, -2.0
        var i8 = Onnx_TensorProto()
        i8.name = "i8"
        i8.dims = [2]
        i8.dataType = ONNXDataType.int8
        i8.int32Data = [-5, 7]
        var d = Onnx_TensorProto()
        d.name = "d"
        d.dims = [2]
        d.dataType = ONNXDataType.double
        d.doubleData = [0.25, 8]
        let i64 = B.tensor("i64", [2], int64s: [3, -4])
        let model = B.model(nodes: [
            B.node("Mul", ["x", "h"], ["a"], name: "mul_h"),
            B.node("Add", ["a", "i8"], ["b"], name: "add_i8"),
            B.node("Mul", ["b", "d"], ["c"], name: "mul_d"),
            B.node("Add", ["c", "i64"], ["y"], name: "add_i64"),
        ], initializers: [h, i8, d, i64], inputs: [B.valueInfo("x", [3, 2])], outputs: [B.valueInfo("y", [3, 2])])
        let m = try B.load(model)
        #expect(m.weights["h"]?.values == [1, -2] && m.weights["h"]?.storedType == .float16)
        #expect(m.weights["i8"]?.values == [-5, 7] && m.weights["i8"]?.storedType == .int8)
        #expect(m.weights["d"]?.values == [0.25, 8] && m.weights["d"]?.storedType == .float64)
        #expect(m.weights["i64"]?.values == [3, -4] && m.weights["i64"]?.storedType == .int64)
        #expect(m.graph.nodes.map { $0.params[0].dtype } == [.float16, .int8, .float64, .int64])
    }

    @Test func externalDataNextToTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgeprof-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = B.convRelu()
        // Move the conv weights into weights.bin at offset 16.
        let w = (0..<108).map { Float($0) / 100 }
        var blob = Data(repeating: 0xAB, count: 16)
        blob.append(w.withUnsafeBufferPointer { Data(buffer: $0) })
        try blob.write(to: dir.appendingPathComponent("weights.bin"))
        var t = model.graph.initializer[0]
        t.clearRawData()
        t.dataLocation = .external
        for (k, v) in [("location", "weights.bin"), ("offset", "16"), ("length", "\(108 * 4)")] {
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            t.externalData.append(e)
        }
        model.graph.initializer[0] = t
        let path = dir.appendingPathComponent("model.onnx").path
        try B.bytes(model).write(to: URL(fileURLWithPath: path))
        let m = try ONNXImporter.load(path: path)
        #expect(m.weights["w"]?.values == w)

        // Escaping the model's folder, a missing file and a short file are errors.
        for (location, offset, expected) in [("../weights.bin", "16", "relative path"), ("nope.bin", "0", "not found"), ("weights.bin", "100", "past its end")] {
            var bad = model
            bad.graph.initializer[0].externalData[0].value = location
            bad.graph.initializer[0].externalData[1].value = offset
            try B.bytes(bad).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ONNXImporter.load(path: path)
                Issue.record("\(location) must fail")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
                #expect(error.description.contains("'w'"))
            }
        }
    }

    @Test func olderOpsetAttributeForms() throws {
        // Opset 11: Squeeze/Unsqueeze axes and Softmax axis (default 1, 2-D coercion) are attributes; Clip min/max are inputs.
        let model = B.model(nodes: [
            B.node("Unsqueeze", ["x"], ["u"], name: "unsqueeze", attributes: [B.attr("axes", ints: [0])]),
            B.node("Squeeze", ["u"], ["s"], name: "squeeze", attributes: [B.attr("axes", ints: [0])]),
            B.node("Clip", ["s", "lo", "hi"], ["c"], name: "clip"),
            B.node("Softmax", ["c"], ["y"], name: "softmax"),
        ], initializers: [B.tensor("lo", [], floats: [0]), B.tensor("hi", [], floats: [6])],
                            inputs: [B.valueInfo("x", [2, 3, 4])], outputs: [B.valueInfo("y", [2, 3, 4])], opset: 11)
        let m = try B.load(model)
        #expect(m.graph.nodes.map(\.op.kindName) == ["unsqueeze", "squeeze", "relu6", "flatten", "softmax", "reshape"])
        #expect(m.graph.tensor(m.graph.outputs[0]).shape == [2, 3, 4])
    }

    @Test func unsupportedOperatorsAreListedTogether() throws {
        let model = B.model(nodes: [
            B.node("Relu", ["x"], ["r"], name: "relu"),
            B.node("GridSample", ["r", "grid"], ["g"], name: "warp"),
            B.node("Resize", ["g", "", "scales"], ["z"], name: "upsample"),
            B.node("FancyNorm", ["r"], ["f"], name: "custom", domain: "com.example"),
            B.node("Pad", ["r", "pads"], ["p"], name: "reflect", attributes: [B.attr("mode", string: "reflect")]),
            B.node("Add", ["z", "f"], ["y0"], name: "add"),
            B.node("Add", ["y0", "p"], ["y"], name: "add2"),
        ], initializers: [B.tensor("grid", [1, 4, 4, 2], floats: Array(repeating: 0, count: 32)), B.tensor("scales", [4], floats: [1, 1, 1, 1]),
                          B.tensor("pads", [8], int64s: [0, 0, 0, 0, 0, 0, 0, 0])],
                            inputs: [B.valueInfo("x", [1, 2, 4, 4])], outputs: [B.valueInfo("y", [1, 2, 4, 4])],
                            valueInfo: [B.valueInfo("g", [1, 2, 4, 4]), B.valueInfo("z", [1, 2, 4, 4]), B.valueInfo("f", [1, 2, 4, 4])],
                            extraOpsets: ["com.example": 1])
        let error = try B.error(model)
        #expect(error.kind == .unsupportedOps)
        #expect(error.unsupported.map(\.node) == ["warp", "upsample", "custom", "reflect"])
        let text = error.description
        for piece in ["test.onnx", "4 unsupported operators", "--allow-unsupported", "GridSample (node 'warp', opset 17)",
                      "Resize (node 'upsample', opset 17)", "com.example.FancyNorm (node 'custom', opset 1)", "Pad (node 'reflect', opset 17): 'reflect' padding"] {
            #expect(text.contains(piece), "missing '\(piece)' in:\n\(text)")
        }

        let m = try B.load(model, ONNXImportOptions(allowUnsupported: true))
        #expect(m.unsupported.count == 4)
        let rows = m.graph.nodes.filter { if case .unsupported = $0.op { true } else { false } }
        #expect(rows.map(\.op.kindName) == ["unsupported:GridSample", "unsupported:Resize", "unsupported:com.example.FancyNorm", "unsupported:Pad"])
        #expect(rows.allSatisfy { m.graph.tensor($0.outputs[0]).shape == [1, 2, 4, 4] })
        #expect(rows[0].params.map(\.name) == ["grid"], "constant inputs of unsupported ops are kept as params")
        #expect(m.graph.totalCounts().params == 32, "Resize scales and Pad pads are not parameters")

        // Without value_info an unsupported op's shape is unknown: a clear error even when allowed.
        var noInfo = model
        noInfo.graph.valueInfo = []
        let e2 = try B.error(noInfo, ONNXImportOptions(allowUnsupported: true))
        #expect(e2.description.contains("value_info") && e2.node == "warp", "\(e2)")
    }

    @Test func supportedOperatorListIsDocumented() {
        for op in ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "HardSwish", "HardSigmoid",
                   "Sigmoid", "Mul", "Add", "Sub", "Div", "GlobalAveragePool", "AveragePool", "MaxPool", "Concat", "Split", "Slice",
                   "Reshape", "Flatten", "Transpose", "Softmax", "LayerNormalization", "Erf", "Gelu", "ReduceMean", "Pow", "Sqrt",
                   "Squeeze", "Unsqueeze", "Pad", "Dropout", "Identity", "Tanh", "Exp", "Neg", "Reciprocal", "Abs", "Log",
                   "QuantizeLinear", "DequantizeLinear", "Constant"] {
            #expect(ONNXImporter.supportedOperators.contains(op), "\(op)")
        }
        for op in ["Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Slice", "Cast", "Div", "Mul"] {
            #expect(ONNXImporter.foldedOperators.contains(op), "\(op)")
        }
    }
}

// MARK: - Robustness

/// Seeds per fuzz test; EDGEPROF_FUZZ_SEEDS=5000 fuzzes longer locally.
private func fuzzSeeds(_ standard: Int) -> Int {
    ProcessInfo.processInfo.environment["EDGEPROF_FUZZ_SEEDS"].flatMap { Int($0) }.map { max($0, 1) } ?? standard
}

@Suite("ONNX import: robustness")
struct ONNXRobustnessTests {
    typealias B = ONNXBuild

    @Test func missingFileAndDirectory() throws {
        do { _ = try ONNXImporter.load(path: "/nonexistent/model.onnx"); Issue.record("must fail") } catch {
            #expect(error.kind == .io && error.description == "/nonexistent/model.onnx: no such file")
        }
        do { _ = try ONNXImporter.load(path: ONNXFixtures.directory.deletingLastPathComponent().path); Issue.record("must fail") } catch {
            #expect(error.kind == .io && error.description.contains("directory"))
        }
    }

    @Test func wrongMagic() throws {
        let cases: [(Data, String)] = [
            (Data(), "empty"),
            (Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]), "zip archive"),
            (Data("name: resnet\nlayers: []\n".utf8), "text file"),
            (Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A]), "HDF5"),
            (Data([0x20, 0, 0, 0]) + Data("TFL3".utf8), "TensorFlow Lite"),
            (Data([0xFF, 0xFE, 0x00, 0x01, 0x02]), "unexpected leading bytes ff fe"),
        ]
        for (data, expected) in cases {
            let error = try B.error(data, path: "bad.onnx")
            #expect(error.kind == .notONNX, "\(error)")
            #expect(error.description.hasPrefix("bad.onnx: not an ONNX model: "), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
        }
        // Starts like a ModelProto but is garbage.
        let garbage = Data([0x08, 0x07, 0x3A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01])
        let e = try B.error(garbage)
        #expect(e.kind == .truncated || e.kind == .malformed, "\(e)")
    }

    @Test func truncatedRealModel() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try ONNXFixtures.path("squeezenet1_1")))
        for fraction in [0.5, 0.9, 0.999] {
            let cut = data.prefix(Int(Double(data.count) * fraction))
            let error = try B.error(Data(cut), path: "squeezenet1_1.onnx")
            #expect(error.kind == .truncated, "\(fraction): \(error)")
            #expect(error.description.hasPrefix("squeezenet1_1.onnx: the file is truncated"), "\(error)")
        }
        // Cut at a field boundary (between nodes): parses, then names what is missing.
        var model = B.convRelu()
        model.graph.node.removeLast()
        let e = try B.error(model)
        #expect(e.kind == .missingTensor && e.description.contains("graph output 'y'"), "\(e)")
    }

    @Test func missingInitializer() throws {
        var model = B.convRelu()
        model.graph.initializer.removeFirst()
        let e = try B.error(model)
        #expect(e.kind == .missingTensor)
        #expect(e.description.contains("node 'conv' uses 'w'") && e.description.contains("missing initializers"), "\(e)")
    }

    @Test func cycle() throws {
        let model = B.model(nodes: [
            B.node("Relu", ["x"], ["a"], name: "first"),
            B.node("Add", ["a", "c"], ["b"], name: "second"),
            B.node("Relu", ["b"], ["c"], name: "third"),
        ], inputs: [B.valueInfo("x", [4])], outputs: [B.valueInfo("c", [4])])
        let e = try B.error(model)
        #expect(e.kind == .cycle)
        #expect(e.description.contains("'second'") && e.description.contains("'third'") && !e.description.contains("'first'"), "\(e)")
    }

    @Test func outOfOrderNodesAreSorted() throws {
        var model = B.convRelu()
        model.graph.node.reverse()
        let m = try B.load(model)
        #expect(m.graph.nodes.map(\.name) == ["conv", "relu"])
    }

    @Test func duplicateNames() throws {
        var twoInits = B.convRelu()
        twoInits.graph.initializer.append(B.tensor("w", [1], floats: [0]))
        #expect(try B.error(twoInits).kind == .duplicateName)
        #expect(try B.error(twoInits).description.contains("initializer 'w' is defined twice"))

        var twoProducers = B.convRelu()
        twoProducers.graph.node.append(B.node("Relu", ["x"], ["c"], name: "again"))
        let e = try B.error(twoProducers)
        #expect(e.kind == .duplicateName && e.description.contains("'c' is also produced by node 'conv'"), "\(e)")

        var shadow = B.convRelu()
        shadow.graph.node.append(B.node("Relu", ["x"], ["w"], name: "shadow"))
        #expect(try B.error(shadow).kind == .duplicateName)

        var inputs = B.convRelu()
        inputs.graph.input.append(inputs.graph.input[0])
        #expect(try B.error(inputs).kind == .duplicateName)
    }

    @Test func absurdDimensions() throws {
        // 2^40 elements declared, 4 bytes present: rejected before any allocation.
        var huge = B.convRelu()
        huge.graph.initializer[0].dims = [1 << 20, 1 << 20]
        let e1 = try B.error(huge)
        #expect(e1.kind == .tooLarge && e1.description.contains("'w'"), "\(e1)")

        var negative = B.convRelu()
        negative.graph.initializer[0].dims = [4, -3, 3, 3]
        #expect(try B.error(negative).kind == .invalidTensor)

        var short = B.convRelu()
        short.graph.initializer[0].rawData = Data(count: 12)
        let e2 = try B.error(short)
        #expect(e2.kind == .invalidTensor && e2.description.contains("raw_data has 12 bytes, expected 432"), "\(e2)")

        var hugeInput = B.convRelu()
        hugeInput.graph.input = [B.valueInfo("x", [1 << 20, 3, 1 << 16, 1 << 16])]
        #expect(try B.error(hugeInput).kind == .tooLarge)

        var zeroInput = B.convRelu()
        zeroInput.graph.input = [B.valueInfo("x", [0, 3, 8, 8])]
        #expect(try B.error(zeroInput).kind == .invalidTensor)

        // Shape arithmetic asking for an absurd tensor.
        let blowUp = B.model(nodes: [
            B.node("ConstantOfShape", ["shape"], ["big"], name: "fill"),
            B.node("Add", ["x", "big"], ["y"], name: "add"),
        ], initializers: [B.tensor("shape", [2], int64s: [1 << 30, 1 << 30])],
                             inputs: [B.valueInfo("x", [1])], outputs: [B.valueInfo("y", [1])])
        #expect(try B.error(blowUp).kind == .tooLarge)

        let reshape = B.model(nodes: [B.node("Reshape", ["x", "shape"], ["y"], name: "reshape")],
                              initializers: [B.tensor("shape", [3], int64s: [Int64.max, Int64.max, -1])],
                              inputs: [B.valueInfo("x", [6])], outputs: [B.valueInfo("y", [6])])
        #expect(try B.error(reshape).kind == .shape)

        var bigPads = B.convRelu()
        bigPads.graph.node[0].attribute = [B.attr("pads", ints: [Int(Int64.max), 0, 0, 0])]
        #expect(try B.error(bigPads).kind == .invalidAttribute)
    }

    @Test func shapeMismatchNamesTheNode() throws {
        var model = B.convRelu()
        model.graph.input = [B.valueInfo("x", [1, 5, 8, 8])]
        let e = try B.error(model)
        #expect(e.kind == .shape && e.node == "conv" && e.description.contains("5 channels"), "\(e)")
    }

    @Test func opsetOutOfRange() throws {
        let e = try B.error(B.convRelu(opset: 3))
        #expect(e.description.contains("opset 3"), "\(e)")
        var noOpset = B.convRelu()
        noOpset.opsetImport = []
        #expect(try B.error(noOpset).description.contains("no opset"))
    }

    /// Mutates real exports byte-wise with 200 seeds: every import either returns a valid graph
    /// or throws an ImportError. A crash (trap) fails the whole test run.
    @Test func fuzzRealModelBytes() throws {
        let bases = try ["squeezenet1_1", "shufflenet_v2_x1_0"].map { try Data(contentsOf: URL(fileURLWithPath: try ONNXFixtures.path($0))) }
        var outcomes = (graphs: 0, errors: [ImportError.Kind: Int]())
        let seeds = fuzzSeeds(200)
        for seed in 0..<seeds {
            var rng = SplitMix64(seed: UInt64(seed) &* 7919 &+ 17)
            var bytes = [UInt8](bases[seed % 4 == 3 ? 1 : 0])
            // The graph structure (nodes, attributes) is near the start; weights fill the middle;
            // inputs/outputs/value_info sit at the end.
            func position() -> Int {
                let roll = Int.random(in: 0..<10, using: &rng)
                if roll < 6 { return Int.random(in: 0..<min(bytes.count, 65_536), using: &rng) }
                if roll < 8 { return Int.random(in: max(0, bytes.count - 4096)..<bytes.count, using: &rng) }
                return Int.random(in: 0..<bytes.count, using: &rng)
            }
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                guard !bytes.isEmpty else { break }
                switch Int.random(in: 0..<7, using: &rng) {
                case 0: bytes[position()] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                case 1: bytes[position()] = UInt8.random(in: 0...255, using: &rng)
                case 2: bytes[position()] = [0x00, 0x7F, 0x80, 0xFF][Int.random(in: 0..<4, using: &rng)]
                case 3: bytes.removeSubrange(position()..<bytes.count)
                case 4:
                    let p = position()
                    bytes.removeSubrange(p..<min(bytes.count, p + Int.random(in: 1...64, using: &rng)))
                case 5:
                    let p = position()
                    let chunk = bytes[p..<min(bytes.count, p + Int.random(in: 1...64, using: &rng))]
                    bytes.insert(contentsOf: chunk, at: position())
                default:
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: position())
                }
            }
            do {
                let model = try ONNXImporter.load(data: Data(bytes), path: "fuzz-\(seed).onnx")
                #expect(throws: Never.self) { try model.graph.validate() }
                _ = model.graph.totalCounts()
                _ = model.graph.memoryFootprint()
                outcomes.graphs += 1
            } catch {
                #expect(error.description.hasPrefix("fuzz-\(seed).onnx: "), "\(error)")
                outcomes.errors[error.kind, default: 0] += 1
            }
        }
        #expect(outcomes.graphs + outcomes.errors.values.reduce(0, +) == seeds)
        #expect(outcomes.errors.count >= 3, "mutations should hit several error kinds: \(outcomes.errors)")
    }

    /// Structure-aware fuzzing: decodes real exports and mutates attributes, dims, names, op types,
    /// constants and node order (byte flips mostly stop at the protobuf layer), 300 seeds.
    @Test func fuzzRealModelStructure() throws {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        let bases = try ["shufflenet_v2_x1_0", "squeezenet1_1", "vit_tiny"].map {
            try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: try ONNXFixtures.path($0))), options: options)
        }
        let interesting: [Int64] = [0, 1, -1, 2, 3, 7, -2, 64, 1 << 31, -(1 << 31), 1 << 40, Int64.max, Int64.min, Int64.max - 1]
        let ops = ["Conv", "Gemm", "MatMul", "Reshape", "Slice", "Gather", "Concat", "Split", "Transpose", "Pad", "Expand",
                   "Softmax", "MaxPool", "Shape", "Squeeze", "Unsqueeze", "ConstantOfShape", "Range", "Where", "Cast", "Add",
                   "DequantizeLinear", "QuantizeLinear", "LayerNormalization", "BatchNormalization", "Flatten", "ReduceMean", "Nope"]
        var graphs = 0
        var errors: [ImportError.Kind: Int] = [:]
        let seeds = fuzzSeeds(300)
        for seed in 0..<seeds {
            var rng = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 3)
            // shufflenet 50%, squeezenet 35%, ViT 15% (the ViT is the slowest to import in debug builds).
            let pick = seed % 20
            var m = bases[pick < 10 ? 0 : (pick < 17 ? 1 : 2)]
            var g = m.graph
            let names = g.node.flatMap(\.output) + g.initializer.prefix(50).map(\.name) + ["", "nope"]
            func value() -> Int64 {
                Bool.random(using: &rng) ? interesting[Int.random(in: 0..<interesting.count, using: &rng)] : Int64.random(in: -300...300, using: &rng)
            }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let n = Int.random(in: 0..<g.node.count, using: &rng)
                switch Int.random(in: 0..<11, using: &rng) {
                case 0, 1:
                    guard !g.node[n].attribute.isEmpty else { continue }
                    let a = Int.random(in: 0..<g.node[n].attribute.count, using: &rng)
                    if g.node[n].attribute[a].ints.isEmpty {
                        g.node[n].attribute[a].i = value()
                    } else {
                        let k = Int.random(in: 0..<g.node[n].attribute[a].ints.count, using: &rng)
                        g.node[n].attribute[a].ints[k] = value()
                        if Bool.random(using: &rng) { g.node[n].attribute[a].ints.append(value()) }
                    }
                case 2:
                    guard !g.node[n].input.isEmpty else { continue }
                    g.node[n].input[Int.random(in: 0..<g.node[n].input.count, using: &rng)] = names[Int.random(in: 0..<names.count, using: &rng)]
                case 3:
                    g.node[n].opType = ops[Int.random(in: 0..<ops.count, using: &rng)]
                case 4:
                    guard !g.initializer.isEmpty else { continue }
                    let i = Int.random(in: 0..<g.initializer.count, using: &rng)
                    if g.initializer[i].dims.isEmpty || Bool.random(using: &rng) {
                        g.initializer[i].dims.append(value())
                    } else {
                        g.initializer[i].dims[Int.random(in: 0..<g.initializer[i].dims.count, using: &rng)] = value()
                    }
                case 5:
                    guard !g.initializer.isEmpty else { continue }
                    g.initializer[Int.random(in: 0..<g.initializer.count, using: &rng)].dataType = Int32.random(in: 0...24, using: &rng)
                case 6:
                    // Constant values drive the shape arithmetic.
                    guard g.node[n].opType == "Constant" || g.node.contains(where: { $0.opType == "Constant" }) else { continue }
                    let c = g.node[n].opType == "Constant" ? n : (g.node.firstIndex { $0.opType == "Constant" } ?? n)
                    for a in g.node[c].attribute.indices where g.node[c].attribute[a].hasT {
                        var t = g.node[c].attribute[a].t
                        if t.dataType == ONNXDataType.int64, t.rawData.count >= 8 {
                            var raw = [UInt8](t.rawData)
                            let v = value()
                            let at = 8 * Int.random(in: 0..<(raw.count / 8), using: &rng)
                            for b in 0..<8 { raw[at + b] = UInt8(truncatingIfNeeded: v >> (8 * b)) }
                            t.rawData = Data(raw)
                        } else {
                            t.dims = [value()]
                        }
                        g.node[c].attribute[a].t = t
                    }
                case 7:
                    g.node.swapAt(n, Int.random(in: 0..<g.node.count, using: &rng))
                case 8:
                    if Bool.random(using: &rng) { g.node.remove(at: n) } else { g.node.insert(g.node[n], at: Int.random(in: 0...g.node.count, using: &rng)) }
                case 9:
                    guard !g.input.isEmpty, case .tensorType(var tt)? = g.input[0].type.value, !tt.shape.dim.isEmpty else { continue }
                    tt.shape.dim[Int.random(in: 0..<tt.shape.dim.count, using: &rng)].dimValue = value()
                    g.input[0].type.tensorType = tt
                default:
                    g.node[n].output = g.node[n].output.map { _ in names[Int.random(in: 0..<names.count, using: &rng)] }
                }
                guard !g.node.isEmpty else { break }
            }
            m.graph = g
            do {
                // The converter directly: re-serializing a real model per seed is slow in debug builds.
                var converter = try ONNXConverter(model: m, path: "structure-\(seed).onnx", options: ONNXImportOptions())
                let model = try converter.run()
                #expect(throws: Never.self) { try model.graph.validate() }
                _ = model.graph.totalCounts()
                _ = model.graph.memoryFootprint()
                graphs += 1
            } catch {
                #expect(error.description.hasPrefix("structure-\(seed).onnx: "), "\(error)")
                errors[error.kind, default: 0] += 1
            }
        }
        #expect(graphs + errors.values.reduce(0, +) == seeds)
        #expect(graphs > 0 && errors.count >= 4, "graphs \(graphs), errors \(errors)")
    }
}

// MARK: - Fixtures and model-building helpers
/// Real exported models live in Tests/Fixtures/onnx (generated by scripts/make-fixtures.sh, not committed).
enum ONNXFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("onnx")

    /// Standard exports compared against their reference JSON (and, with `zoo`, the zoo builder).
    static let standard = ["mobilenet_v2", "resnet18", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0",
                           "mobilenet_v3_small", "vit_tiny", "mobilenet_v2_bn", "mobilenet_v2_qdq"]

    static func path(_ name: String) throws -> String {
        let p = directory.appendingPathComponent(name + ".onnx").path
        try #require(FileManager.default.fileExists(atPath: p),
                     "ONNX fixture \(name).onnx is missing in \(directory.path): run scripts/make-fixtures.sh")
        return p
    }

    static func reference(_ name: String) throws -> ONNXReference {
        let url = directory.appendingPathComponent(name + ".json")
        try #require(FileManager.default.fileExists(atPath: url.path),
                     "reference \(name).json is missing in \(directory.path): run scripts/make-fixtures.sh")
        return try JSONDecoder().decode(ONNXReference.self, from: Data(contentsOf: url))
    }

    static func load(_ name: String, _ options: ONNXImportOptions = ONNXImportOptions()) throws -> ImportedModel {
        try ONNXImporter.load(path: try path(name), options: options)
    }
}

/// Written by Tests/Fixtures/export_models.py.
struct ONNXReference: Decodable {
    struct Output: Decodable {
        var name: String
        var shape: [Int]?
    }
    struct Node: Decodable {
        var name: String
        var op_type: String
        var const: Bool
        var outputs: [Output]
    }
    var model: String
    var zoo: String?
    var producer: String
    var opset: Int
    var input_shape: [Int]
    var params: Int
    var params_torch: Int?
    var macs: Int
    var nodes: [Node]
}

/// Small ONNX models built in Swift with the generated protobuf types.
enum ONNXBuild {
    static func tensor(_ name: String, _ dims: [Int], floats: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = ONNXDataType.float
        t.rawData = floats.withUnsafeBufferPointer { Data(buffer: $0) }
        return t
    }

    static func tensor(_ name: String, _ dims: [Int], int64s: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = ONNXDataType.int64
        t.int64Data = int64s
        return t
    }

    static func valueInfo(_ name: String, _ dims: [Int?], elemType: Int32 = ONNXDataType.float, param: String = "N") -> Onnx_ValueInfoProto {
        var vi = Onnx_ValueInfoProto()
        vi.name = name
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = elemType
        var shape = Onnx_TensorShapeProto()
        for d in dims {
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = param }
            shape.dim.append(dim)
        }
        tt.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tt
        vi.type = type
        return vi
    }

    static func attr(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(int)
        return a
    }

    static func attr(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = ints.map { Int64($0) }
        return a
    }

    static func attr(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = float
        return a
    }

    static func attr(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(string.utf8)
        return a
    }

    static func attr(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .tensor
        a.t = tensor
        return a
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String, domain: String = "",
                     attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name
        if !domain.isEmpty { n.domain = domain }
        n.attribute = attributes
        return n
    }

    static func model(nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [], inputs: [Onnx_ValueInfoProto],
                      outputs: [Onnx_ValueInfoProto], valueInfo: [Onnx_ValueInfoProto] = [], opset: Int = 17,
                      extraOpsets: [String: Int] = [:]) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        g.name = "test"
        g.node = nodes
        g.initializer = initializers
        g.input = inputs
        g.output = outputs
        g.valueInfo = valueInfo
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "edgeprof-tests"
        var os = Onnx_OperatorSetIdProto()
        os.domain = ""
        os.version = Int64(opset)
        m.opsetImport = [os]
        for (d, v) in extraOpsets.sorted(by: { $0.key < $1.key }) {
            var o = Onnx_OperatorSetIdProto()
            o.domain = d
            o.version = Int64(v)
            m.opsetImport.append(o)
        }
        m.graph = g
        return m
    }

    static func bytes(_ m: Onnx_ModelProto) throws -> Data { try m.serializedData() }

    /// Imports an in-memory model; `path` only names it in errors.
    static func load(_ m: Onnx_ModelProto, path: String = "test.onnx", _ options: ONNXImportOptions = ONNXImportOptions()) throws -> ImportedModel {
        try ONNXImporter.load(data: try bytes(m), path: path, options: options)
    }

    /// The ImportError thrown by importing `m` (fails the test if none is thrown).
    static func error(_ m: Onnx_ModelProto, path: String = "test.onnx", _ options: ONNXImportOptions = ONNXImportOptions(),
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> ImportError {
        let data = try bytes(m)
        return try error(data, path: path, options, sourceLocation: sourceLocation)
    }

    static func error(_ data: Data, path: String = "test.onnx", _ options: ONNXImportOptions = ONNXImportOptions(),
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> ImportError {
        do {
            _ = try ONNXImporter.load(data: data, path: path, options: options)
        } catch {
            return error
        }
        Issue.record("expected an ImportError, the import succeeded", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// x [1, 3, 8, 8] → Conv(4 output channels, 3×3, pad 1, bias) → Relu → y.
    static func convRelu(opset: Int = 17) -> Onnx_ModelProto {
        let w = tensor("w", [4, 3, 3, 3], floats: (0..<108).map { Float($0) / 100 })
        let b = tensor("b", [4], floats: [0.1, 0.2, 0.3, 0.4])
        return model(nodes: [
            node("Conv", ["x", "w", "b"], ["c"], name: "conv", attributes: [attr("pads", ints: [1, 1, 1, 1])]),
            node("Relu", ["c"], ["y"], name: "relu"),
        ], initializers: [w, b], inputs: [valueInfo("x", [1, 3, 8, 8])], outputs: [valueInfo("y", [1, 4, 8, 8])], opset: opset)
    }
}

/// Deterministic PRNG for the fuzz test (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
