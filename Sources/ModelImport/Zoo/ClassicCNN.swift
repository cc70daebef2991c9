import NNGraph

/// torchvision `alexnet` and `vgg16`: the classic plain CNNs (conv/ReLU stacks, max pools, three
/// fully connected layers). Both are dominated by large dense convs (VGG-16: 15.5 G MACs) and by
/// fully connected weights (AlexNet 58.6 M of its 61.1 M parameters, VGG-16 123.6 M of 138.4 M),
/// which a device streams from main memory every inference: the published TensorRT rows of the
/// Jetson Nano (`T04`, `T06`) measure them.
///
/// At the zoo's 224×224 input the `AdaptiveAvgPool2d` between features and classifier
/// ((6, 6) for AlexNet, (7, 7) for VGG) receives exactly its output size and is the identity, so
/// it is left out; the `Dropout`s are the identity at inference.
enum ClassicCNN {
    static let alexnet = ZooModel(
        name: "alexnet",
        summary: "AlexNet (torchvision): 5 convs (11×11/4, 5×5, 3 × 3×3), 3 max pools, 3 fc layers, 224×224, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("AlexNet_Weights", gmacs: 0.714, params: 61_100_840),
        build: { () throws(GraphError) -> Graph in try buildAlexNet() })

    static let vgg16 = ZooModel(
        name: "vgg16",
        summary: "VGG-16 (torchvision, no BN): 13 3×3 convs in 5 stages, 5 max pools, 3 fc layers, 224×224, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("VGG16_Weights", gmacs: 15.47, params: 138_357_544),
        build: { () throws(GraphError) -> Graph in try buildVGG16() })

    /// AlexNet `features` index → (out channels, kernel, stride, padding); nil = max pool 3/2.
    static let alexnetFeatures: [(index: Int, conv: (out: Int, kernel: Int, stride: Int, padding: Int)?)] = [
        (0, (64, 11, 4, 2)), (2, nil), (3, (192, 5, 1, 2)), (5, nil), (6, (384, 3, 1, 1)), (8, (256, 3, 1, 1)),
        (10, (256, 3, 1, 1)), (12, nil),
    ]

    static func buildAlexNet() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "alexnet")
        var x = b.input(shape: [1, 3, 224, 224])
        for (index, conv) in alexnetFeatures {
            if let c = conv {
                x = try b.conv("features.\(index)", x, out: c.out, kernel: c.kernel, stride: c.stride, padding: c.padding, bias: true)
                x = try b.activation("features.\(index + 1)", x, .relu)
            } else {
                x = try b.maxPool("features.\(index)", x, kernel: 3, stride: 2)
            }
        }
        // avgpool (identity at 224²), then classifier: 0 Dropout, 1 Linear, 2 ReLU, 3 Dropout, 4 Linear, 5 ReLU, 6 Linear.
        x = try b.flatten(x)
        return try classifier(&b, x, linear: [1, 4, 6])
    }

    /// VGG configuration "D": channels per 3×3 conv; 0 = max pool 2/2.
    static let vgg16Config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    static func buildVGG16() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "vgg16")
        var x = b.input(shape: [1, 3, 224, 224])
        var index = 0
        for channels in vgg16Config {
            if channels == 0 {
                x = try b.maxPool("features.\(index)", x, kernel: 2, stride: 2)
                index += 1
            } else {
                x = try b.conv("features.\(index)", x, out: channels, kernel: 3, padding: 1, bias: true)
                x = try b.activation("features.\(index + 1)", x, .relu)
                index += 2
            }
        }
        // avgpool (identity at 224²), then classifier: 0 Linear, 1 ReLU, 2 Dropout, 3 Linear, 4 ReLU, 5 Dropout, 6 Linear.
        x = try b.flatten(x)
        return try classifier(&b, x, linear: [0, 3, 6])
    }

    /// The three-layer classifier both share: Linear 4096 → ReLU → Linear 4096 → ReLU → Linear 1000;
    /// `linear` holds the `classifier` indices of the three Linear modules (each ReLU follows at index + 1).
    private static func classifier(_ b: inout LayerBuilder, _ input: Int, linear: [Int]) throws(GraphError) -> Graph {
        var x = input
        for (i, index) in linear.enumerated() {
            let last = i == linear.count - 1
            x = try b.linear("classifier.\(index)", x, out: last ? 1000 : 4096)
            if !last { x = try b.activation("classifier.\(index + 1)", x, .relu) }
        }
        return try b.finish()
    }
}
