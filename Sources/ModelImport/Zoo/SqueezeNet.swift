import NNGraph

/// torchvision `squeezenet1_1`: Fire modules (squeeze 1×1 → expand 1×1 ‖ expand 3×3), no BN,
/// ceil-mode max pools, a 1×1 conv classifier.
enum SqueezeNet {
    static let v1_1 = ZooModel(
        name: "squeezenet1_1",
        summary: "SqueezeNet 1.1 (torchvision): 8 Fire modules, conv classifier, 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: torchvisionCounts("SqueezeNet1_1_Weights", gmacs: 0.349, params: 1_235_496),
        build: { () throws(GraphError) -> Graph in try build() })

    /// features index → (squeeze, expand1x1, expand3x3) for Fire modules; nil = max pool.
    static let features: [(index: Int, fire: (Int, Int, Int)?)] = [
        (2, nil), (3, (16, 64, 64)), (4, (16, 64, 64)), (5, nil), (6, (32, 128, 128)), (7, (32, 128, 128)),
        (8, nil), (9, (48, 192, 192)), (10, (48, 192, 192)), (11, (64, 256, 256)), (12, (64, 256, 256)),
    ]

    static func build() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "squeezenet1_1")
        var x = b.input(shape: [1, 3, 224, 224])
        x = try b.conv("features.0", x, out: 64, kernel: 3, stride: 2, padding: 0, bias: true)
        x = try b.activation("features.1", x, .relu)
        for (index, fire) in features {
            if let (s, e1, e3) = fire {
                x = try fireModule(&b, "features.\(index)", x, squeeze: s, expand1x1: e1, expand3x3: e3)
            } else {
                x = try b.maxPool("features.\(index)", x, kernel: 3, stride: 2, ceilMode: true)
            }
        }
        // classifier.0 is Dropout (identity at inference).
        x = try b.conv("classifier.1", x, out: 1000, kernel: 1, padding: 0, bias: true)
        x = try b.activation("classifier.2", x, .relu)
        x = try b.globalAvgPool("classifier.3", x)
        x = try b.flatten(x)
        return try b.finish()
    }

    private static func fireModule(_ b: inout LayerBuilder, _ p: String, _ x: Int, squeeze: Int, expand1x1: Int,
                                   expand3x3: Int) throws(GraphError) -> Int {
        var s = try b.conv("\(p).squeeze", x, out: squeeze, kernel: 1, padding: 0, bias: true)
        s = try b.activation("\(p).squeeze_activation", s, .relu)
        var e1 = try b.conv("\(p).expand1x1", s, out: expand1x1, kernel: 1, padding: 0, bias: true)
        e1 = try b.activation("\(p).expand1x1_activation", e1, .relu)
        var e3 = try b.conv("\(p).expand3x3", s, out: expand3x3, kernel: 3, padding: 1, bias: true)
        e3 = try b.activation("\(p).expand3x3_activation", e3, .relu)
        return try b.graph.add1("\(p).cat", .concat(axis: 1), inputs: [e1, e3])
    }
}
