import NNGraph

/// Thin layer-level vocabulary over `GraphBuilder` for the zoo definitions. Parameter names
/// follow PyTorch state-dict keys (`<module>.weight`, `<module>.running_mean`, ...), so a
/// zoo graph lines up with a torchvision export node for node.
struct LayerBuilder {
    var graph: GraphBuilder

    init(name: String) { graph = GraphBuilder(name: name) }

    mutating func input(_ name: String = "input", shape: TensorShape) -> Int {
        graph.input(name, shape: shape)
    }

    func channels(_ tensor: Int) -> Int { graph.shape(tensor)[1] }

    /// 2-D convolution; `padding` defaults to torchvision's "same"-style `(k - 1) / 2 * dilation`.
    mutating func conv(_ name: String, _ x: Int, out: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                       dilation: Int = 1, groups: Int = 1, bias: Bool = false) throws(GraphError) -> Int {
        let cin = channels(x)
        let p = padding ?? (kernel - 1) / 2 * dilation
        let attrs = ConvAttributes(inChannels: cin, outChannels: out, kernel: [kernel, kernel], strides: [stride, stride],
                                   pads: [p, p, p, p], dilations: [dilation, dilation], groups: groups, hasBias: bias)
        var params = [ParamInfo(name: "\(name).weight", shape: [out, groups > 0 ? cin / groups : cin, kernel, kernel])]
        if bias { params.append(ParamInfo(name: "\(name).bias", shape: [out])) }
        return try graph.add1(name, .conv(attrs), inputs: [x], params: params)
    }

    /// Inference batch norm with the four PyTorch buffers/parameters, each [C].
    mutating func batchNorm(_ name: String, _ x: Int, epsilon: Double = 1e-5) throws(GraphError) -> Int {
        let c = channels(x)
        let params = ["weight", "bias", "running_mean", "running_var"].map { ParamInfo(name: "\(name).\($0)", shape: [c]) }
        return try graph.add1(name, .batchNorm(epsilon: epsilon), inputs: [x], params: params)
    }

    mutating func activation(_ name: String, _ x: Int, _ kind: Activation) throws(GraphError) -> Int {
        try graph.add1(name, .activation(kind), inputs: [x])
    }

    /// torchvision `Conv2dNormActivation`: children `<prefix>.0` conv, `.1` BN, `.2` activation.
    mutating func convBNAct(_ prefix: String, _ x: Int, out: Int, kernel: Int, stride: Int = 1, dilation: Int = 1,
                            groups: Int = 1, activation: Activation?, epsilon: Double = 1e-5) throws(GraphError) -> Int {
        var y = try conv("\(prefix).0", x, out: out, kernel: kernel, stride: stride, dilation: dilation, groups: groups)
        y = try batchNorm("\(prefix).1", y, epsilon: epsilon)
        if let activation { y = try self.activation("\(prefix).2", y, activation) }
        return y
    }

    /// `nn.Linear`: weight [out, in], bias [out].
    mutating func linear(_ name: String, _ x: Int, out: Int, bias: Bool = true) throws(GraphError) -> Int {
        let k = graph.shape(x).dims.last ?? 0
        var params = [ParamInfo(name: "\(name).weight", shape: [out, k])]
        if bias { params.append(ParamInfo(name: "\(name).bias", shape: [out])) }
        return try graph.add1(name, .gemm(GemmAttributes(inFeatures: k, outFeatures: out, hasBias: bias)), inputs: [x], params: params)
    }

    mutating func add(_ name: String, _ a: Int, _ b: Int) throws(GraphError) -> Int {
        try graph.add1(name, .binary(.add), inputs: [a, b])
    }

    mutating func mul(_ name: String, _ a: Int, _ b: Int) throws(GraphError) -> Int {
        try graph.add1(name, .binary(.mul), inputs: [a, b])
    }

    mutating func globalAvgPool(_ name: String, _ x: Int) throws(GraphError) -> Int {
        try graph.add1(name, .globalAvgPool, inputs: [x])
    }

    mutating func maxPool(_ name: String, _ x: Int, kernel: Int, stride: Int, padding: Int = 0, ceilMode: Bool = false) throws(GraphError) -> Int {
        let attrs = PoolAttributes(kernel: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding], ceilMode: ceilMode)
        return try graph.add1(name, .maxPool(attrs), inputs: [x])
    }

    mutating func flatten(_ x: Int, name: String = "flatten") throws(GraphError) -> Int {
        try graph.add1(name, .flatten(axis: 1), inputs: [x])
    }

    /// torchvision `SqueezeExcitation`: avgpool → fc1 (1×1 conv, bias) → activation → fc2 (1×1 conv, bias) → scale activation → x · scale.
    mutating func squeezeExcitation(_ prefix: String, _ x: Int, squeeze: Int, activation: Activation,
                                    scaleActivation: Activation) throws(GraphError) -> Int {
        let c = channels(x)
        var s = try globalAvgPool("\(prefix).avgpool", x)
        s = try conv("\(prefix).fc1", s, out: squeeze, kernel: 1, bias: true)
        s = try self.activation("\(prefix).activation", s, activation)
        s = try conv("\(prefix).fc2", s, out: c, kernel: 1, bias: true)
        s = try self.activation("\(prefix).scale_activation", s, scaleActivation)
        return try mul("\(prefix).mul", x, s)
    }

    func finish() throws(GraphError) -> Graph { try graph.finish() }
}

/// torchvision's `_make_divisible`: round `v` to the nearest multiple of `divisor`, not below
/// `divisor` and never more than 10 % under `v`.
func makeDivisible(_ v: Double, _ divisor: Int = 8) -> Int {
    var newV = Swift.max(divisor, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(newV) < 0.9 * v { newV += divisor }
    return newV
}
