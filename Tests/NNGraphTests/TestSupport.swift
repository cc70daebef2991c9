import NNGraph

/// Conv attributes with square kernel/stride/padding, as tests spell them.
func convAttrs(in cin: Int, out: Int, k: Int, s: Int = 1, p: Int = 0, d: Int = 1, g: Int = 1, bias: Bool = false) -> ConvAttributes {
    ConvAttributes(inChannels: cin, outChannels: out, kernel: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [d, d],
                   groups: g, hasBias: bias)
}

func convParams(_ name: String, _ a: ConvAttributes) -> [ParamInfo] {
    var p = [ParamInfo(name: "\(name).weight", shape: [a.outChannels, a.inChannels / a.groups, a.kernel[0], a.kernel[1]])]
    if a.hasBias { p.append(ParamInfo(name: "\(name).bias", shape: [a.outChannels])) }
    return p
}

func bnParams(_ name: String, _ c: Int) -> [ParamInfo] {
    ["weight", "bias", "running_mean", "running_var"].map { ParamInfo(name: "\(name).\($0)", shape: [c]) }
}

/// Shape inference for one op, as the builder would run it.
func infer(_ op: Op, _ inputs: [TensorShape], params: [ParamInfo] = [], name: String = "n") throws(GraphError) -> [TensorShape] {
    try inferOutputShapes(op: op, inputs: inputs, params: params, nodeName: name)
}

/// Runs `body` and returns the GraphError it throws (nil if it throws nothing or something else).
func graphError(_ body: () throws -> Void) -> GraphError? {
    do {
        try body()
        return nil
    } catch {
        return error as? GraphError
    }
}
