import NNGraph

/// MobileNet v1 1.0/224 (Howard et al. 2017). Not in torchvision: laid out like the common
/// PyTorch ports — `features.0` is the stem conv-BN-ReLU, `features.1`…`features.13` are
/// depthwise-separable blocks (`.0` dw conv, `.1` BN, `.2` ReLU, `.3` pw conv, `.4` BN, `.5` ReLU).
enum MobileNetV1 {
    static let model = ZooModel(
        name: "mobilenet_v1",
        summary: "MobileNet v1 1.0/224: 13 depthwise-separable blocks, ReLU, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: PublishedCounts(macs: 0.569e9, params: 4.23e6,
                                   source: "Howard et al. 2017 (arXiv:1704.04861), 1.0 MobileNet-224: 569 M mult-adds, 4.2 M params; Keras applications MobileNet: 4,231,976 trainable params"),
        build: { () throws(GraphError) -> Graph in try build() })

    /// (output channels, stride) of each depthwise-separable block.
    static let blocks: [(Int, Int)] = [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ]

    static func build() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "mobilenet_v1")
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.convBNAct("features.0", x, out: 32, kernel: 3, stride: 2, activation: .relu)
        for (i, (out, stride)) in blocks.enumerated() {
            let p = "features.\(i + 1)"
            let c = b.channels(x)
            x = try b.conv("\(p).0", x, out: c, kernel: 3, stride: stride, groups: c)
            x = try b.batchNorm("\(p).1", x)
            x = try b.activation("\(p).2", x, .relu)
            x = try b.conv("\(p).3", x, out: out, kernel: 1)
            x = try b.batchNorm("\(p).4", x)
            x = try b.activation("\(p).5", x, .relu)
        }
        x = try b.globalAvgPool("avgpool", x)
        x = try b.flatten(x)
        x = try b.linear("classifier", x, out: 1000)
        return try b.finish()
    }
}

/// torchvision `mobilenet_v2` (width 1.0): inverted residuals with linear bottlenecks, ReLU6.
enum MobileNetV2 {
    static let model = ZooModel(
        name: "mobilenet_v2",
        summary: "MobileNet v2 1.0 (torchvision): 17 inverted-residual blocks, ReLU6, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("MobileNet_V2_Weights", gmacs: 0.301, params: 3_504_872),
        build: { () throws(GraphError) -> Graph in try build() })

    /// ncnn's benchmark MobileNet v2 (Tencent/ncnn benchmark/mobilenet_v2.param, the Caffe model of
    /// shicai/MobileNet-Caffe): the t = 1 first block keeps its 1×1 expansion conv (conv2_1/expand,
    /// 32 → 32 on 112×112: +12.8 M MACs), and the activations are ReLU, not ReLU6.
    static let caffe = ZooModel(
        name: "mobilenet_v2_caffe",
        summary: "MobileNet v2 1.0 as in ncnn's benchmark (Caffe): a 1×1 expansion (32→32) in the first block too, ReLU",
        inputShape: [1, 3, 224, 224],
        published: nil,
        build: { () throws(GraphError) -> Graph in try build(caffe: true) })

    /// t (expansion), c (output channels), n (repeats), s (first stride).
    static let settings: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    /// `caffe`: ncnn's benchmark model (`caffe` above) instead of torchvision's.
    static func build(caffe: Bool = false) throws(GraphError) -> Graph {
        var b = LayerBuilder(name: caffe ? "mobilenet_v2_caffe" : "mobilenet_v2")
        let act: Activation = caffe ? .relu : .relu6
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.convBNAct("features.0", x, out: 32, kernel: 3, stride: 2, activation: act)
        var index = 1
        for setting in settings {
            for i in 0..<setting.n {
                x = try invertedResidual(&b, "features.\(index)", x, out: setting.c, stride: i == 0 ? setting.s : 1, expandRatio: setting.t,
                                         activation: act, alwaysExpand: caffe)
                index += 1
            }
        }
        x = try b.convBNAct("features.\(index)", x, out: 1280, kernel: 1, activation: act)
        x = try b.globalAvgPool("avgpool", x)
        x = try b.flatten(x)
        // classifier.0 is Dropout (identity at inference, absent from exports); classifier.1 is the Linear.
        x = try b.linear("classifier.1", x, out: 1000)
        return try b.finish()
    }

    private static func invertedResidual(_ b: inout LayerBuilder, _ p: String, _ x: Int, out: Int, stride: Int,
                                         expandRatio: Int, activation: Activation = .relu6, alwaysExpand: Bool = false) throws(GraphError) -> Int {
        let inp = b.channels(x)
        let hidden = inp * expandRatio
        var y = x
        var layer = 0
        if expandRatio != 1 || alwaysExpand {
            y = try b.convBNAct("\(p).conv.\(layer)", y, out: hidden, kernel: 1, activation: activation)
            layer += 1
        }
        y = try b.convBNAct("\(p).conv.\(layer)", y, out: hidden, kernel: 3, stride: stride, groups: hidden, activation: activation)
        y = try b.conv("\(p).conv.\(layer + 1)", y, out: out, kernel: 1)
        y = try b.batchNorm("\(p).conv.\(layer + 2)", y)
        if stride == 1 && inp == out { y = try b.add("\(p).add", x, y) }
        return y
    }
}

/// torchvision `mobilenet_v3_small` / `mobilenet_v3_large`: hardswish, squeeze-excitation
/// with hardsigmoid, BN eps 0.001.
enum MobileNetV3 {
    /// input, kernel, expanded, output, SE, hardswish, stride (dilation is 1 for classification).
    typealias Block = (inp: Int, kernel: Int, expanded: Int, out: Int, se: Bool, hardswish: Bool, stride: Int)

    static let largeBlocks: [Block] = [
        (16, 3, 16, 16, false, false, 1),
        (16, 3, 64, 24, false, false, 2),
        (24, 3, 72, 24, false, false, 1),
        (24, 5, 72, 40, true, false, 2),
        (40, 5, 120, 40, true, false, 1),
        (40, 5, 120, 40, true, false, 1),
        (40, 3, 240, 80, false, true, 2),
        (80, 3, 200, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1),
        (80, 3, 480, 112, true, true, 1),
        (112, 3, 672, 112, true, true, 1),
        (112, 5, 672, 160, true, true, 2),
        (160, 5, 960, 160, true, true, 1),
        (160, 5, 960, 160, true, true, 1),
    ]

    static let smallBlocks: [Block] = [
        (16, 3, 16, 16, true, false, 2),
        (16, 3, 72, 24, false, false, 2),
        (24, 3, 88, 24, false, false, 1),
        (24, 5, 96, 40, true, true, 2),
        (40, 5, 240, 40, true, true, 1),
        (40, 5, 240, 40, true, true, 1),
        (40, 5, 120, 48, true, true, 1),
        (48, 5, 144, 48, true, true, 1),
        (48, 5, 288, 96, true, true, 2),
        (96, 5, 576, 96, true, true, 1),
        (96, 5, 576, 96, true, true, 1),
    ]

    static let large = ZooModel(
        name: "mobilenet_v3_large",
        summary: "MobileNet v3 Large 1.0 (torchvision): 15 bnecks with SE/hardswish, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("MobileNet_V3_Large_Weights", gmacs: 0.217, params: 5_483_032),
        build: { () throws(GraphError) -> Graph in try build(name: "mobilenet_v3_large", blocks: largeBlocks, lastChannel: 1280) })

    static let small = ZooModel(
        name: "mobilenet_v3_small",
        summary: "MobileNet v3 Small 1.0 (torchvision): 11 bnecks with SE/hardswish, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("MobileNet_V3_Small_Weights", gmacs: 0.057, params: 2_542_856),
        build: { () throws(GraphError) -> Graph in try build(name: "mobilenet_v3_small", blocks: smallBlocks, lastChannel: 1024) })

    static let bnEpsilon = 0.001

    static func build(name: String, blocks: [Block], lastChannel: Int) throws(GraphError) -> Graph {
        var b = LayerBuilder(name: name)
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.convBNAct("features.0", x, out: 16, kernel: 3, stride: 2, activation: .hardswish, epsilon: bnEpsilon)
        for (i, block) in blocks.enumerated() {
            x = try invertedResidual(&b, "features.\(i + 1)", x, block)
        }
        let lastConvOut = 6 * b.channels(x)
        x = try b.convBNAct("features.\(blocks.count + 1)", x, out: lastConvOut, kernel: 1, activation: .hardswish, epsilon: bnEpsilon)
        x = try b.globalAvgPool("avgpool", x)
        x = try b.flatten(x)
        x = try b.linear("classifier.0", x, out: lastChannel)
        x = try b.activation("classifier.1", x, .hardswish)
        // classifier.2 is Dropout (identity at inference).
        x = try b.linear("classifier.3", x, out: 1000)
        return try b.finish()
    }

    private static func invertedResidual(_ b: inout LayerBuilder, _ p: String, _ x: Int, _ cfg: Block) throws(GraphError) -> Int {
        guard b.channels(x) == cfg.inp else {
            throw GraphError(node: p, "block table expects \(cfg.inp) input channels, got \(b.channels(x))")
        }
        let act: Activation = cfg.hardswish ? .hardswish : .relu
        var y = x
        var layer = 0
        if cfg.expanded != cfg.inp {
            y = try b.convBNAct("\(p).block.\(layer)", y, out: cfg.expanded, kernel: 1, activation: act, epsilon: bnEpsilon)
            layer += 1
        }
        y = try b.convBNAct("\(p).block.\(layer)", y, out: cfg.expanded, kernel: cfg.kernel, stride: cfg.stride,
                            groups: cfg.expanded, activation: act, epsilon: bnEpsilon)
        layer += 1
        if cfg.se {
            y = try b.squeezeExcitation("\(p).block.\(layer)", y, squeeze: makeDivisible(Double(cfg.expanded / 4)),
                                        activation: .relu, scaleActivation: .hardsigmoid)
            layer += 1
        }
        y = try b.convBNAct("\(p).block.\(layer)", y, out: cfg.out, kernel: 1, activation: nil, epsilon: bnEpsilon)
        if cfg.stride == 1 && cfg.inp == cfg.out { y = try b.add("\(p).add", y, x) }
        return y
    }
}
