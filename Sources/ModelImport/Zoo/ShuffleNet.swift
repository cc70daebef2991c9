import NNGraph

/// torchvision `shufflenet_v2_x1_0`: channel split, two branches, concat, channel shuffle (groups 2).
enum ShuffleNetV2 {
    static let x1_0 = ZooModel(
        name: "shufflenet_v2_x1_0",
        summary: "ShuffleNet v2 ×1.0 (torchvision): stages [4, 8, 4], channels [24, 116, 232, 464, 1024], 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("ShuffleNet_V2_X1_0_Weights", gmacs: 0.145, params: 2_278_604),
        build: { () throws(GraphError) -> Graph in
            try build(name: "shufflenet_v2_x1_0", repeats: [4, 8, 4], channels: [24, 116, 232, 464, 1024])
        })

    static func build(name: String, repeats: [Int], channels: [Int]) throws(GraphError) -> Graph {
        var b = LayerBuilder(name: name)
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.conv("conv1.0", x, out: channels[0], kernel: 3, stride: 2, padding: 1)
        x = try b.batchNorm("conv1.1", x)
        x = try b.activation("conv1.2", x, .relu)
        x = try b.maxPool("maxpool", x, kernel: 3, stride: 2, padding: 1)
        for (stage, count) in repeats.enumerated() {
            let out = channels[stage + 1]
            for i in 0..<count {
                x = try unit(&b, "stage\(stage + 2).\(i)", x, out: out, stride: i == 0 ? 2 : 1)
            }
        }
        x = try b.conv("conv5.0", x, out: channels[channels.count - 1], kernel: 1, padding: 0)
        x = try b.batchNorm("conv5.1", x)
        x = try b.activation("conv5.2", x, .relu)
        x = try b.graph.add1("mean", .reduceMean(axes: [2, 3], keepDims: false), inputs: [x])
        x = try b.linear("fc", x, out: 1000)
        return try b.finish()
    }

    /// torchvision `InvertedResidual`: stride 1 splits the channels in half and transforms one
    /// half; stride 2 transforms the whole input on both branches. Then concat + shuffle.
    private static func unit(_ b: inout LayerBuilder, _ p: String, _ x: Int, out: Int, stride: Int) throws(GraphError) -> Int {
        let half = out / 2
        let left: Int
        let right: Int
        if stride == 1 {
            let c = b.channels(x)
            let parts = try b.graph.add("\(p).chunk", .split(axis: 1, sizes: [c / 2, c - c / 2]), inputs: [x])
            left = parts[0]
            right = try branch2(&b, p, parts[1], out: half, stride: 1)
        } else {
            let inp = b.channels(x)
            var l = try b.conv("\(p).branch1.0", x, out: inp, kernel: 3, stride: stride, padding: 1, groups: inp)
            l = try b.batchNorm("\(p).branch1.1", l)
            l = try b.conv("\(p).branch1.2", l, out: half, kernel: 1, padding: 0)
            l = try b.batchNorm("\(p).branch1.3", l)
            left = try b.activation("\(p).branch1.4", l, .relu)
            right = try branch2(&b, p, x, out: half, stride: stride)
        }
        let joined = try b.graph.add1("\(p).cat", .concat(axis: 1), inputs: [left, right])
        return try b.graph.add1("\(p).channel_shuffle", .channelShuffle(groups: 2), inputs: [joined])
    }

    /// 1×1 → BN → ReLU → 3×3 depthwise (stride) → BN → 1×1 → BN → ReLU.
    private static func branch2(_ b: inout LayerBuilder, _ p: String, _ x: Int, out: Int, stride: Int) throws(GraphError) -> Int {
        var y = try b.conv("\(p).branch2.0", x, out: out, kernel: 1, padding: 0)
        y = try b.batchNorm("\(p).branch2.1", y)
        y = try b.activation("\(p).branch2.2", y, .relu)
        y = try b.conv("\(p).branch2.3", y, out: out, kernel: 3, stride: stride, padding: 1, groups: out)
        y = try b.batchNorm("\(p).branch2.4", y)
        y = try b.conv("\(p).branch2.5", y, out: out, kernel: 1, padding: 0)
        y = try b.batchNorm("\(p).branch2.6", y)
        return try b.activation("\(p).branch2.7", y, .relu)
    }
}
