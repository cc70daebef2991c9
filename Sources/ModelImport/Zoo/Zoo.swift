import NNGraph

/// Published multiply-accumulate and parameter counts for a zoo model, with where they come from.
public struct PublishedCounts: Sendable {
    /// Multiply-accumulates per inference (batch 1).
    public let macs: Double
    /// Parameter count as published (torchvision counts weights and biases, not BN running statistics).
    public let params: Double
    public let source: String

    public init(macs: Double, params: Double, source: String) {
        self.macs = macs
        self.params = params
        self.source = source
    }
}

/// A built-in architecture (no weights): every layer is a node whose `ParamInfo`s have the
/// shapes the trained model's initializers have.
public struct ZooModel: Sendable {
    public let name: String
    public let summary: String
    public let inputShape: TensorShape
    public let published: PublishedCounts?
    /// Builds the validated, fused graph.
    public let build: @Sendable () throws(GraphError) -> Graph

    public init(name: String, summary: String, inputShape: TensorShape, published: PublishedCounts?,
                build: @escaping @Sendable () throws(GraphError) -> Graph) {
        self.name = name
        self.summary = summary
        self.inputShape = inputShape
        self.published = published
        self.build = build
    }
}

/// The registry of built-in models. Explicit list, no reflection: adding a model is one
/// definition file plus one line here.
public enum ModelZoo {
    public static let all: [ZooModel] = [
        MobileNetV1.model,
        MobileNetV2.model,
        MobileNetV3.small,
        MobileNetV3.large,
        ShuffleNetV2.x1_0,
        SqueezeNet.v1_1,
        ResNet.resnet18,
        ResNet.resnet50,
        EfficientNet.b0,
        MobileNetV2.caffe,
        ResNet.resnet18Caffe,
        ResNet.resnet50Caffe,
        VisionTransformer.tiny,
        GCN.cora,
        ClassicCNN.alexnet,
        ClassicCNN.vgg16,
        MobileNetSSD.model,
    ]

    /// Looks a model up by name; case and `-`/`_` spelling do not matter (`ResNet-50` finds `resnet50`).
    public static func model(named name: String) -> ZooModel? {
        if let exact = all.first(where: { $0.name == name }) { return exact }
        let key = normalized(name)
        return all.first { normalized($0.name) == key }
    }

    public static var names: [String] { all.map(\.name) }

    private static func normalized(_ s: String) -> String {
        String(s.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }
}

/// Counts from a torchvision weights enum's `meta` (`IMAGENET1K_V1`): `_ops` is GMACs with
/// three decimals (the docs table rounds it to two, e.g. 0.145 → "0.14"); `num_params`
/// counts weights and biases but not BN running statistics.
func torchvisionCounts(_ weightsEnum: String, gmacs: Double, params: Int) -> PublishedCounts {
    PublishedCounts(macs: gmacs * 1e9, params: Double(params),
                    source: "torchvision \(weightsEnum).IMAGENET1K_V1 meta: _ops \(gmacs) G, num_params \(params)")
}
