import Foundation
import Testing
import NNGraph
@testable import ModelImport

/// Every zoo model, by name (names make readable test-case labels).
private let allNames = ModelZoo.names
private let publishedNames = ModelZoo.all.filter { $0.published != nil }.map(\.name)

private func zooModel(_ name: String) throws -> ZooModel {
    try #require(ModelZoo.model(named: name), "no zoo model named \(name)")
}

private func build(_ name: String) throws -> Graph {
    try zooModel(name).build()
}

/// BN running_mean + running_var elements: initializers we count and torchvision's `num_params` does not.
private func bnRunningStatElements(_ g: Graph) -> Int {
    g.nodes.reduce(0) { acc, n in
        acc + n.params.filter { $0.name.hasSuffix(".running_mean") || $0.name.hasSuffix(".running_var") }
            .reduce(0) { $0 + $1.shape.elementCount }
    }
}

/// The first output shape of the node named `name`.
private func nodeOutputShape(_ g: Graph, _ name: String) throws -> TensorShape {
    let node = try #require(g.nodes.first { $0.name == name }, "no node \(name)")
    return g.tensors[node.outputs[0]].shape
}

private func kindHistogram(_ g: Graph) -> [String: Int] {
    g.fusionGroups.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
}

@Suite("Model zoo")
struct ZooTests {
    @Test func registryHasTheExpectedModels() throws {
        #expect(ModelZoo.names == ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0",
                                   "squeezenet1_1", "resnet18", "resnet50", "efficientnet_b0", "mobilenet_v2_caffe", "resnet18_caffe",
                                   "resnet50_caffe", "vit_tiny", "gcn_cora", "alexnet", "vgg16", "mobilenet_ssd"])
        #expect(Set(ModelZoo.names).count == ModelZoo.names.count)
    }

    @Test func lookupIgnoresCaseAndSeparators() throws {
        #expect(ModelZoo.model(named: "resnet50")?.name == "resnet50")
        #expect(ModelZoo.model(named: "ResNet-50")?.name == "resnet50")
        #expect(ModelZoo.model(named: "MobileNet-V3-Large")?.name == "mobilenet_v3_large")
        #expect(ModelZoo.model(named: "resnet101") == nil)
        #expect(ModelZoo.model(named: "") == nil)
    }

    @Test(arguments: allNames)
    func buildsAndValidates(name: String) throws {
        let model = try zooModel(name)
        let g = try model.build()
        try g.validate()
        #expect(g.name == name)
        #expect(g.inputs.count == 1)
        #expect(g.tensors[g.inputs[0]].shape == model.inputShape)
        #expect(!g.fusionGroups.isEmpty, "build() must return a fused graph")
        #expect(!model.summary.isEmpty)
        // Names are unique: nodes, and initializers across the graph (state-dict keys).
        #expect(Set(g.nodes.map(\.name)).count == g.nodes.count)
        let paramNames = g.nodes.flatMap { $0.params.map(\.name) }
        #expect(Set(paramNames).count == paramNames.count)
    }

    @Test(arguments: allNames)
    func outputShape(name: String) throws {
        let g = try build(name)
        let expected: [TensorShape] = switch name {
        case "gcn_cora": [[2708, 7]]
        case "mobilenet_ssd": [[1, 1917 * 4], [1, 1917 * 21]]  // box offsets, class scores per prior
        default: [[1, 1000]]
        }
        #expect(g.outputs.map { g.tensors[$0].shape } == expected)
    }

    @Test(arguments: publishedNames)
    func countsMatchPublishedWithinTwoPercent(name: String) throws {
        let model = try zooModel(name)
        let published = try #require(model.published)
        let c = try model.build().totalCounts()
        let macDiff = abs(Double(c.macs) / published.macs - 1)
        let paramDiff = abs(Double(c.params) / published.params - 1)
        #expect(macDiff < 0.02, "\(name): \(c.macs) MACs vs published \(published.macs) (\(published.source))")
        #expect(paramDiff < 0.02, "\(name): \(c.params) params vs published \(published.params) (\(published.source))")
    }

    /// torchvision's `num_params` exactly, once BN running statistics (which we count) are removed.
    @Test(arguments: [
        ("mobilenet_v2", 3_504_872), ("mobilenet_v3_small", 2_542_856), ("mobilenet_v3_large", 5_483_032),
        ("shufflenet_v2_x1_0", 2_278_604), ("squeezenet1_1", 1_235_496), ("resnet18", 11_689_512),
        ("resnet50", 25_557_032), ("efficientnet_b0", 5_288_548),
        ("alexnet", 61_100_840), ("vgg16", 138_357_544),
        ("mobilenet_v1", 4_231_976),  // Keras MobileNet 1.0/224 trainable parameters
    ])
    func paramsMatchTorchvisionExactlyWithoutBNBuffers(name: String, numParams: Int) throws {
        let g = try build(name)
        #expect(g.totalCounts().params - bnRunningStatElements(g) == numParams)
    }

    /// The torchvision docs table rounds `_ops` to two decimals; our MACs must round to the same figure.
    @Test(arguments: [
        ("resnet50", 4.09), ("resnet18", 1.81), ("mobilenet_v2", 0.30), ("mobilenet_v3_large", 0.22), ("mobilenet_v3_small", 0.06),
        ("efficientnet_b0", 0.39), ("shufflenet_v2_x1_0", 0.14), ("squeezenet1_1", 0.35),
        ("alexnet", 0.71), ("vgg16", 15.47),
    ])
    func gmacsRoundToTheDocsTable(name: String, gmacs: Double) throws {
        let macs = Double(try build(name).totalCounts().macs)
        #expect((macs / 1e7).rounded() / 100 == gmacs)
    }

    @Test(arguments: allNames)
    func fusionGroupsCoverEveryNodeExactlyOnce(name: String) throws {
        let g = try build(name)
        let members = g.fusionGroups.flatMap(\.nodes).sorted()
        #expect(members == Array(g.nodes.indices))
        #expect(g.fusionGroups.map(\.id) == Array(g.fusionGroups.indices))
    }

    /// Hand-counted fused kernels per model (see the architecture tables in each Zoo file).
    @Test(arguments: [
        // stem + 13 pointwise | 13 depthwise
        ("mobilenet_v1", ["conv-bn-relu": 14, "dwconv-bn-relu": 13]),
        // stem + 16 expansions + last 1×1 | 17 depthwise | 17 projections, 10 with the residual add fused
        ("mobilenet_v2", ["conv-bn-relu6": 18, "dwconv-bn-relu6": 17, "conv-bn": 7, "conv-bn-add": 10, "add": 0]),
        // 11 blocks, 9 with SE; block 1 has no expansion; hardswish: stem + 8 expansions (blocks 4–11) + last conv
        ("mobilenet_v3_small", ["conv-bn-hardswish": 10, "conv-bn-relu": 2, "dwconv-bn-relu": 3, "dwconv-bn-hardswish": 8,
                                "conv-relu": 9, "conv-hardsigmoid": 9, "conv-bn": 5, "conv-bn-add": 6, "mul": 9, "add": 0,
                                "gemm-hardswish": 1]),
        // 15 blocks, 8 with SE; block 1 has no expansion; hardswish: stem + 9 expansions (blocks 7–15) + last conv
        ("mobilenet_v3_large", ["conv-bn-hardswish": 11, "conv-bn-relu": 5, "dwconv-bn-relu": 6, "dwconv-bn-hardswish": 9,
                                "conv-relu": 8, "conv-hardsigmoid": 8, "conv-bn": 5, "conv-bn-add": 10, "mul": 8, "add": 0,
                                "gemm-hardswish": 1]),
        // conv1, conv5, 16×2 in branch2, 3 in branch1 | 16 + 3 depthwise
        ("shufflenet_v2_x1_0", ["conv-bn-relu": 37, "dwconv-bn": 19, "split": 13, "concat": 16, "channelshuffle": 16]),
        // stem + 8×3 fire convs + classifier conv
        ("squeezenet1_1", ["conv-relu": 26, "concat": 8, "maxpool": 3]),
        // every residual add joins the conv of the later branch (the block's last conv, or its downsample)
        ("resnet18", ["conv-bn-relu": 9, "conv-bn": 3, "conv-bn-add-relu": 8, "add-relu": 0, "maxpool": 1]),
        ("resnet50", ["conv-bn-relu": 33, "conv-bn": 4, "conv-bn-add-relu": 16, "add-relu": 0, "maxpool": 1]),
        // stem + 15 expansions + head | 16 depthwise | 16 projections, 9 with the residual add fused | 16 SE
        ("efficientnet_b0", ["conv-bn-silu": 17, "dwconv-bn-silu": 16, "conv-bn": 7, "conv-bn-add": 9, "conv-silu": 16,
                             "conv-sigmoid": 16, "mul": 16, "add": 0]),
        // 24 residual adds fused into the attention output projection and the second MLP layer; the
        // position embedding's add stays alone (it follows the class-token pad, not a GEMM).
        ("vit_tiny", ["gemm-gelu": 12, "attention": 12, "layernorm": 25, "gemm-add": 24, "add": 1, "split": 12]),
        ("gcn_cora", ["gemm": 2, "spmm": 2, "add-relu": 1, "add": 1]),
        // 5 convs, 3 max pools | fc6, fc7 with their ReLUs, fc8
        ("alexnet", ["conv-relu": 5, "maxpool": 3, "gemm-relu": 2, "gemm": 1]),
        // 13 convs in 5 stages, a max pool after each | fc6, fc7 with their ReLUs, fc8
        ("vgg16", ["conv-relu": 13, "maxpool": 5, "gemm-relu": 2, "gemm": 1]),
        // conv0 + 13 pointwise + 8 extra convs | 13 depthwise | 12 head convs, 12 NHWC permutes, 2 concats, the softmax
        ("mobilenet_ssd", ["conv-relu": 22, "dwconv-relu": 13, "conv": 12, "transpose": 12, "concat": 2, "softmax": 1]),
    ] as [(String, [String: Int])])
    func expectedFusedKernels(name: String, expected: [String: Int]) throws {
        let histogram = kindHistogram(try build(name))
        for (kind, count) in expected {
            #expect(histogram[kind, default: 0] == count, "\(name): \(kind)")
        }
    }

    /// Every initializer has the shape its op implies (weights [Cout, Cin/g, kH, kW], BN [C] ×4, Linear [N, K]).
    @Test(arguments: allNames)
    func paramShapesMatchTheirOps(name: String) throws {
        let g = try build(name)
        for node in g.nodes {
            let inShape = node.inputs.first.map { g.tensors[$0].shape }
            switch node.op {
            case .conv(let a):
                var expected: [TensorShape] = [[a.outChannels, a.inChannels / a.groups, a.kernel[0], a.kernel[1]]]
                if a.hasBias { expected.append([a.outChannels]) }
                #expect(node.params.map(\.shape) == expected, "\(node.name)")
                #expect(node.params.first?.name == "\(node.name).weight")
            case .gemm(let a):
                var expected: [TensorShape] = [[a.outFeatures, a.inFeatures]]
                if a.hasBias { expected.append([a.outFeatures]) }
                #expect(node.params.map(\.shape) == expected, "\(node.name)")
            case .batchNorm:
                let c = try #require(inShape)[1]
                #expect(node.params.map(\.shape) == Array(repeating: [c], count: 4), "\(node.name)")
                #expect(node.params.map(\.name) == ["weight", "bias", "running_mean", "running_var"].map { "\(node.name).\($0)" })
            case .layerNorm:
                let e = try #require(inShape).dims.last ?? 0
                #expect(node.params.map(\.shape) == [[e], [e]], "\(node.name)")
            case .activation, .globalAvgPool, .maxPool, .flatten, .concat, .split, .channelShuffle, .reduceMean, .attention,
                 .sparseAggregate, .reshape, .transpose, .pad, .slice, .squeeze, .softmax:
                #expect(node.params.isEmpty, "\(node.name)")
            case .binary:
                #expect(node.params.count == (node.inputs.count == 1 ? 1 : 0), "\(node.name)")
            default:
                Issue.record("\(name): unexpected op \(node.op.kindName) in \(node.name)")
            }
        }
    }

    @Test func weightBytesAreFourBytesPerParam() throws {
        let g = try build("resnet18")
        #expect(g.memoryFootprint().weightBytes == 4 * g.totalCounts().params)
    }
}

@Suite("Zoo architectures")
struct ZooArchitectureTests {
    @Test func resnetUsesTorchvisionModulePaths() throws {
        let names = Set(try build("resnet50").nodes.map(\.name))
        for n in ["conv1", "bn1", "maxpool", "layer1.0.conv1", "layer1.0.downsample.0", "layer1.0.downsample.1", "layer2.0.conv2",
                  "layer4.2.conv3", "layer4.2.bn3", "avgpool", "fc"] {
            #expect(names.contains(n), "missing \(n)")
        }
        #expect(!names.contains("layer1.1.downsample.0"))
        #expect(!names.contains("layer4.3.conv1"))
    }

    @Test func resnet50StrideSitsOnTheThreeByThree() throws {
        // torchvision v1.5: layer2.0.conv1 is 1×1 stride 1; conv2 (3×3) carries stride 2.
        let g = try build("resnet50")
        let conv1 = try #require(g.nodes.first { $0.name == "layer2.0.conv1" })
        let conv2 = try #require(g.nodes.first { $0.name == "layer2.0.conv2" })
        guard case .conv(let a1) = conv1.op, case .conv(let a2) = conv2.op else { Issue.record("not convs"); return }
        #expect(a1.strides == [1, 1] && a1.kernel == [1, 1])
        #expect(a2.strides == [2, 2] && a2.kernel == [3, 3])
        #expect(g.tensors[conv2.outputs[0]].shape == [1, 128, 28, 28])
    }

    /// ncnn's benchmark ResNet-50 (Caffe, v1): the stride sits on the 1×1 (res3a_branch2a `3=2`, 28×28 out),
    /// the 3×3 runs at stride 1 on 28×28; 3 × ¾ · 56² · 256 · 128 = 231,211,008 MACs fewer than v1.5, same weights.
    @Test func resnet50CaffeStrideSitsOnTheOneByOne() throws {
        let g = try build("resnet50_caffe")
        let conv1 = try #require(g.nodes.first { $0.name == "layer2.0.conv1" })
        let conv2 = try #require(g.nodes.first { $0.name == "layer2.0.conv2" })
        guard case .conv(let a1) = conv1.op, case .conv(let a2) = conv2.op else { Issue.record("not convs"); return }
        #expect(a1.strides == [2, 2] && a1.kernel == [1, 1] && a1.pads == [0, 0, 0, 0])
        #expect(a2.strides == [1, 1] && a2.kernel == [3, 3])
        #expect(g.tensors[conv1.outputs[0]].shape == [1, 128, 28, 28])
        let v15 = try build("resnet50").totalCounts(), v1 = g.totalCounts()
        #expect(v15.macs - v1.macs == 231_211_008)
        #expect(v15.params == v1.params)
    }

    /// ncnn's benchmark ResNet-18 and MobileNet v2 (Caffe) add one 1×1 conv on a 56×56×64 / 112×112×32 map
    /// (res2a_branch1; conv2_1/expand): 56²·64·64 = 112²·32·32 = 12,845,056 MACs each.
    @Test func caffeResNet18AndMobileNetV2AddOneOneByOneConv() throws {
        let r18 = try build("resnet18").totalCounts(), r18c = try build("resnet18_caffe").totalCounts()
        #expect(r18c.macs - r18.macs == 12_845_056)
        #expect(try build("resnet18_caffe").nodes.contains { $0.name == "layer1.0.downsample.0" })
        let m2 = try build("mobilenet_v2").totalCounts(), m2c = try build("mobilenet_v2_caffe").totalCounts()
        #expect(m2c.macs - m2.macs == 12_845_056)
        let g = try build("mobilenet_v2_caffe")
        let expand = try #require(g.nodes.first { $0.name == "features.1.conv.0.0" })
        guard case .conv(let a) = expand.op else { Issue.record("not a conv"); return }
        #expect(a.kernel == [1, 1] && a.inChannels == 32 && a.outChannels == 32 && a.groups == 1)
        #expect(!g.nodes.contains { if case .activation(.relu6) = $0.op { true } else { false } })
    }

    /// ncnn's benchmark/mobilenet_ssd.param: 47 convs whose weight sizes (`6=`) sum to 5,769,920 and
    /// whose output channels (`0=`, one bias each) to 13,497; 1917 priors (19²·3 + (10² + 5² + 3² + 2² + 1)·6).
    @Test func mobileNetSSDMatchesNcnnBenchmarkModel() throws {
        let g = try build("mobilenet_ssd")
        let convs = g.nodes.filter { if case .conv = $0.op { true } else { false } }
        #expect(convs.count == 47)
        #expect(g.totalCounts().params == 5_769_920 + 13_497)
        func out(_ n: String) throws -> TensorShape { try nodeOutputShape(g, n) }
        #expect(try out("conv0") == [1, 32, 150, 150])
        #expect(try out("conv11/relu") == [1, 512, 19, 19])
        #expect(try out("conv13/relu") == [1, 1024, 10, 10])
        #expect(try out("conv14_2") == [1, 512, 5, 5])
        #expect(try out("conv17_2") == [1, 128, 1, 1])
    }

    @Test func resnet18StageShapes() throws {
        let g = try build("resnet18")
        func out(_ n: String) throws -> TensorShape { try nodeOutputShape(g, n) }
        #expect(try out("maxpool") == [1, 64, 56, 56])
        #expect(try out("layer1.1.relu_1") == [1, 64, 56, 56])
        #expect(try out("layer2.1.relu_1") == [1, 128, 28, 28])
        #expect(try out("layer3.1.relu_1") == [1, 256, 14, 14])
        #expect(try out("layer4.1.relu_1") == [1, 512, 7, 7])
    }

    @Test func mobileNetV3SqueezeExcitation() throws {
        let g = try build("mobilenet_v3_large")
        // features.4 = bneck(24 → 40, k5, exp 72, SE, ReLU, s2): SE squeeze = make_divisible(72 / 4, 8) = 24.
        let fc1 = try #require(g.nodes.first { $0.name == "features.4.block.2.fc1" })
        #expect(fc1.params.map(\.shape) == [[24, 72, 1, 1], [24]])
        let seOps = g.nodes.filter { $0.name.hasPrefix("features.4.block.2.") }.map(\.op.kindName)
        #expect(seOps == ["globalavgpool", "conv", "relu", "conv", "hardsigmoid", "mul"])
        let dw = try #require(g.nodes.first { $0.name == "features.4.block.1.0" })
        guard case .conv(let a) = dw.op else { Issue.record("not a conv"); return }
        #expect(a.isDepthwise && a.kernel == [5, 5] && a.strides == [2, 2] && a.pads == [2, 2, 2, 2])
        let bn = try #require(g.nodes.first { $0.name == "features.4.block.1.1" })
        #expect(bn.op == .batchNorm(epsilon: 0.001))
        #expect(g.nodes.contains { $0.name == "features.16.0" })  // last conv 160 → 960
        #expect(!g.nodes.contains { $0.name == "features.17.0" })
    }

    @Test func efficientNetSqueezeUsesBlockInputChannels() throws {
        // features.2.0: 16 → 24, expand 6 (96 channels); SE squeeze = max(1, 16 / 4) = 4, SiLU then sigmoid.
        let g = try build("efficientnet_b0")
        let fc1 = try #require(g.nodes.first { $0.name == "features.2.0.block.2.fc1" })
        #expect(fc1.params.map(\.shape) == [[4, 96, 1, 1], [4]])
        let kinds = g.nodes.filter { $0.name.hasPrefix("features.2.0.block.2.") }.map(\.op.kindName)
        #expect(kinds == ["globalavgpool", "conv", "silu", "conv", "sigmoid", "mul"])
        #expect(!g.nodes.contains { $0.name.contains("stochastic") })
    }

    @Test func shuffleNetUnitsSplitConcatAndShuffle() throws {
        let g = try build("shufflenet_v2_x1_0")
        let split = try #require(g.nodes.first { $0.name == "stage2.1.chunk" })
        #expect(split.op == .split(axis: 1, sizes: [58, 58]))
        let shuffle = try #require(g.nodes.first { $0.name == "stage3.0.channel_shuffle" })
        #expect(shuffle.op == .channelShuffle(groups: 2))
        #expect(g.tensors[shuffle.outputs[0]].shape == [1, 232, 14, 14])
        // Stride-2 units have a branch1; stride-1 units do not.
        #expect(g.nodes.contains { $0.name == "stage4.0.branch1.0" })
        #expect(!g.nodes.contains { $0.name == "stage4.1.branch1.0" })
    }

    @Test func squeezeNetCeilModePools() throws {
        let g = try build("squeezenet1_1")
        let pools = g.nodes.filter { if case .maxPool = $0.op { true } else { false } }
        #expect(pools.map { g.tensors[$0.outputs[0]].shape } == [[1, 64, 55, 55], [1, 128, 27, 27], [1, 256, 13, 13]])
    }

    /// ViT-Tiny counts in closed form (hand-derived; N = 197 tokens, D = 192, MLP = 768, 12 layers).
    @Test func vitTinyCountsInClosedForm() throws {
        let g = try build("vit_tiny")
        let (n, d, m, layers) = (197, 192, 768, 12)
        let perLayer = n * d * 3 * d      // in_proj
            + 2 * n * n * d                 // QKᵀ and AV
            + n * d * d                     // out_proj
            + 2 * n * d * m                 // MLP
        let patch = 196 * d * 3 * 16 * 16
        let head = d * 1000
        #expect(g.totalCounts().macs == patch + layers * perLayer + head)
        let perLayerParams = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (m * d + m) + (d * m + d)
        // timm's vit_tiny_patch16_224 has 5,717,416; the class token (192) is folded into pos_embedding[0].
        let params = (d * 3 * 256 + d) + n * d + layers * perLayerParams + 2 * d + (d * 1000 + 1000)
        #expect(params == 5_717_416 - 192)
        #expect(g.totalCounts().params == params)
        let attention = g.nodes.filter { if case .attention = $0.op { true } else { false } }
        #expect(attention.count == 12)
        #expect(attention.allSatisfy { $0.op == .attention(heads: 3) })
        let pos = try #require(g.nodes.first { $0.name == "encoder.pos_embedding" })
        #expect(pos.op == .binary(.add) && pos.params.map(\.shape) == [[1, 197, 192]])
        #expect(g.nodes.filter { $0.op == .activation(.gelu) }.count == 12)
    }

    @Test func gcnCoraCountsInClosedForm() throws {
        let g = try build("gcn_cora")
        let nnz = 10556 + 2708
        let macs = 2708 * 1433 * 16 + nnz * 16 + 2708 * 16 * 7 + nnz * 7
        #expect(g.totalCounts().macs == macs)
        #expect(g.totalCounts().params == 1433 * 16 + 16 + 16 * 7 + 7)
        #expect(g.nodes.map(\.op.kindName) == ["gemm", "spmm", "add", "relu", "gemm", "spmm", "add"])
        #expect(g.nodes.allSatisfy { node in
            if case .sparseAggregate(let nodes, let edges) = node.op { return nodes == 2708 && edges == 13264 }
            return true
        })
    }
}
