import NNGraph

/// torchvision `resnet18` / `resnet50` (v1.5: the stride of a bottleneck sits on its 3×3 conv), and
/// the Caffe ResNets ncnn's benchmark runs (`benchncnn`'s resnet18/resnet50; the published ncnn rows).
enum ResNet {
    static let resnet18 = ZooModel(
        name: "resnet18",
        summary: "ResNet-18 (torchvision): BasicBlock × [2, 2, 2, 2], 224×224, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("ResNet18_Weights", gmacs: 1.814, params: 11_689_512),
        build: { () throws(GraphError) -> Graph in try build(name: "resnet18", bottleneck: false, blocks: [2, 2, 2, 2]) })

    static let resnet50 = ZooModel(
        name: "resnet50",
        summary: "ResNet-50 (torchvision, v1.5): Bottleneck × [3, 4, 6, 3], 224×224, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("ResNet50_Weights", gmacs: 4.089, params: 25_557_032),
        build: { () throws(GraphError) -> Graph in try build(name: "resnet50", bottleneck: true, blocks: [3, 4, 6, 3]) })

    /// ncnn's benchmark ResNet-18 (Tencent/ncnn benchmark/resnet18.param, a Caffe conversion): torchvision's
    /// layers plus a 1×1 projection shortcut (res2a_branch1, 64 → 64) in the first block of stage 1.
    static let resnet18Caffe = ZooModel(
        name: "resnet18_caffe",
        summary: "ResNet-18 as in ncnn's benchmark (Caffe): torchvision's layers + a 1×1 projection shortcut in layer1.0",
        inputShape: [1, 3, 224, 224],
        published: nil,
        build: { () throws(GraphError) -> Graph in
            try build(name: "resnet18_caffe", bottleneck: false, blocks: [2, 2, 2, 2], caffe: true)
        })

    /// ResNet-50 v1 (He et al. 2015; the Caffe model ncnn's benchmark runs, Tencent/ncnn
    /// benchmark/resnet50.param): a down-sampling bottleneck's stride sits on its first 1×1 conv
    /// (res3a_branch2a `3=2`, 56² → 28²), so its 3×3 runs on the smaller map: 3.86 G MACs, not 4.09.
    static let resnet50Caffe = ZooModel(
        name: "resnet50_caffe",
        summary: "ResNet-50 v1 as in ncnn's benchmark (Caffe): stride on the first 1×1 of a down-sampling bottleneck, 224×224",
        inputShape: [1, 3, 224, 224],
        published: PublishedCounts(macs: 3.8e9, params: 25_557_032,
                                   source: "He et al. 2016 (arXiv:1512.03385) Table 1: ResNet-50 3.8×10⁹ FLOPs (multiply-adds); params as torchvision's (strides move no weights)"),
        build: { () throws(GraphError) -> Graph in
            try build(name: "resnet50_caffe", bottleneck: true, blocks: [3, 4, 6, 3], caffe: true)
        })

    /// `caffe`: the Caffe layout of ncnn's benchmark models — a bottleneck's stride on its first 1×1
    /// conv (ResNet v1) and a projection shortcut in the first block even when the shape is unchanged.
    static func build(name: String, bottleneck: Bool, blocks: [Int], caffe: Bool = false) throws(GraphError) -> Graph {
        var b = LayerBuilder(name: name)
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.conv("conv1", x, out: 64, kernel: 7, stride: 2, padding: 3)
        x = try b.batchNorm("bn1", x)
        x = try b.activation("relu", x, .relu)
        x = try b.maxPool("maxpool", x, kernel: 3, stride: 2, padding: 1)
        let expansion = bottleneck ? 4 : 1
        for (stage, count) in blocks.enumerated() {
            let planes = 64 << stage
            for i in 0..<count {
                let stride = (stage > 0 && i == 0) ? 2 : 1
                let prefix = "layer\(stage + 1).\(i)"
                let project = caffe && i == 0
                x = bottleneck
                    ? try bottleneckBlock(&b, prefix, x, planes: planes, stride: stride, expansion: expansion, strideOn1x1: caffe)
                    : try basicBlock(&b, prefix, x, planes: planes, stride: stride, project: project)
            }
        }
        x = try b.globalAvgPool("avgpool", x)
        x = try b.flatten(x)
        x = try b.linear("fc", x, out: 1000)
        return try b.finish()
    }

    /// 3×3 → BN → ReLU → 3×3 → BN, + identity (or 1×1 stride-s conv + BN), → ReLU.
    private static func basicBlock(_ b: inout LayerBuilder, _ p: String, _ x: Int, planes: Int, stride: Int,
                                   project: Bool = false) throws(GraphError) -> Int {
        var y = try b.conv("\(p).conv1", x, out: planes, kernel: 3, stride: stride)
        y = try b.batchNorm("\(p).bn1", y)
        y = try b.activation("\(p).relu", y, .relu)
        y = try b.conv("\(p).conv2", y, out: planes, kernel: 3)
        y = try b.batchNorm("\(p).bn2", y)
        let shortcut = try downsample(&b, p, x, out: planes, stride: stride, always: project)
        y = try b.add("\(p).add", y, shortcut)
        return try b.activation("\(p).relu", y, .relu)  // the same ReLU module again; the builder names it "<p>.relu_1"
    }

    /// 1×1 → BN → ReLU → 3×3 (stride) → BN → ReLU → 1×1 (×4) → BN, + shortcut, → ReLU.
    /// `strideOn1x1`: ResNet v1 (Caffe) — the stride sits on conv1 (1×1) and conv2 (3×3) runs at stride 1.
    private static func bottleneckBlock(_ b: inout LayerBuilder, _ p: String, _ x: Int, planes: Int, stride: Int,
                                        expansion: Int, strideOn1x1: Bool = false) throws(GraphError) -> Int {
        var y = try b.conv("\(p).conv1", x, out: planes, kernel: 1, stride: strideOn1x1 ? stride : 1, padding: 0)
        y = try b.batchNorm("\(p).bn1", y)
        y = try b.activation("\(p).relu", y, .relu)
        y = try b.conv("\(p).conv2", y, out: planes, kernel: 3, stride: strideOn1x1 ? 1 : stride)
        y = try b.batchNorm("\(p).bn2", y)
        y = try b.activation("\(p).relu", y, .relu)
        y = try b.conv("\(p).conv3", y, out: planes * expansion, kernel: 1)
        y = try b.batchNorm("\(p).bn3", y)
        // torchvision runs the downsample branch after the main path.
        let shortcut = try downsample(&b, p, x, out: planes * expansion, stride: stride)
        y = try b.add("\(p).add", y, shortcut)
        return try b.activation("\(p).relu", y, .relu)
    }

    /// torchvision adds `downsample` (1×1 conv with the block's stride + BN) when the shape changes;
    /// `always`: also when it does not (the Caffe ResNet-18's res2a_branch1).
    private static func downsample(_ b: inout LayerBuilder, _ p: String, _ x: Int, out: Int, stride: Int, always: Bool = false) throws(GraphError) -> Int {
        guard always || stride != 1 || b.channels(x) != out else { return x }
        let y = try b.conv("\(p).downsample.0", x, out: out, kernel: 1, stride: stride, padding: 0)
        return try b.batchNorm("\(p).downsample.1", y)
    }
}
