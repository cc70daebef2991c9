import NNGraph

/// torchvision `efficientnet_b0`: MBConv blocks with SiLU and squeeze-excitation (SiLU,
/// sigmoid). Stochastic depth is an identity at inference and is not represented.
enum EfficientNet {
    static let b0 = ZooModel(
        name: "efficientnet_b0",
        summary: "EfficientNet-B0 (torchvision): 16 MBConv blocks, SiLU, SE, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("EfficientNet_B0_Weights", gmacs: 0.386, params: 5_288_548),
        build: { () throws(GraphError) -> Graph in try build() })

    /// expand ratio, kernel, first stride, input channels, output channels, layers (width/depth multiplier 1.0).
    static let stages: [(expand: Int, kernel: Int, stride: Int, inp: Int, out: Int, layers: Int)] = [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ]

    static func build() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "efficientnet_b0")
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.convBNAct("features.0", x, out: 32, kernel: 3, stride: 2, activation: .silu)
        for (s, stage) in stages.enumerated() {
            for i in 0..<stage.layers {
                x = try mbConv(&b, "features.\(s + 1).\(i)", x, expand: stage.expand, kernel: stage.kernel,
                               stride: i == 0 ? stage.stride : 1, inp: i == 0 ? stage.inp : stage.out, out: stage.out)
            }
        }
        x = try b.convBNAct("features.\(stages.count + 1)", x, out: 4 * b.channels(x), kernel: 1, activation: .silu)
        x = try b.globalAvgPool("avgpool", x)
        x = try b.flatten(x)
        // classifier.0 is Dropout (identity at inference).
        x = try b.linear("classifier.1", x, out: 1000)
        return try b.finish()
    }

    private static func mbConv(_ b: inout LayerBuilder, _ p: String, _ x: Int, expand: Int, kernel: Int, stride: Int,
                               inp: Int, out: Int) throws(GraphError) -> Int {
        guard b.channels(x) == inp else {
            throw GraphError(node: p, "stage table expects \(inp) input channels, got \(b.channels(x))")
        }
        let expanded = makeDivisible(Double(inp * expand))
        var y = x
        var layer = 0
        if expanded != inp {
            y = try b.convBNAct("\(p).block.\(layer)", y, out: expanded, kernel: 1, activation: .silu)
            layer += 1
        }
        y = try b.convBNAct("\(p).block.\(layer)", y, out: expanded, kernel: kernel, stride: stride, groups: expanded, activation: .silu)
        layer += 1
        y = try b.squeezeExcitation("\(p).block.\(layer)", y, squeeze: Swift.max(1, inp / 4), activation: .silu, scaleActivation: .sigmoid)
        layer += 1
        y = try b.convBNAct("\(p).block.\(layer)", y, out: out, kernel: 1, activation: nil)
        if stride == 1 && inp == out { y = try b.add("\(p).add", y, x) }
        return y
    }
}
