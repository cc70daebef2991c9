import NNGraph

/// One conv or fully connected layer as the accelerator sees it: `groups` independent
/// convolutions, each `inChannels → outChannels` (per group), batch 1.
public struct AcceleratorLayer: Sendable, Hashable, Codable {
    public var name: String
    /// Graph node index (the layer's conv/gemm node).
    public var node: Int
    public var groups: Int
    /// Per group.
    public var inChannels: Int
    /// Per group.
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var outH: Int
    public var outW: Int
    /// Name of the weight parameter ([Cout, Cin/g, kH, kW] or [N, K]).
    public var weightName: String
    /// Input/output tensor ids in the graph.
    public var inputTensor: Int
    public var outputTensor: Int

    public init(name: String, node: Int = 0, groups: Int = 1, inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1, outH: Int, outW: Int, weightName: String = "", inputTensor: Int = 0, outputTensor: Int = 0) {
        self.name = name
        self.node = node
        self.groups = groups
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.outH = outH
        self.outW = outW
        self.weightName = weightName
        self.inputTensor = inputTensor
        self.outputTensor = outputTensor
    }

    /// Input rows/columns the convolution actually touches (padding included, no trailing
    /// rows a stride skips): (P − 1)·stride + R. This is the ifmap size SCALE-Sim is given.
    public var usedInH: Int { (outH - 1) * strideH + kernelH }
    public var usedInW: Int { (outW - 1) * strideW + kernelW }
    /// Conv window per output (GEMM reduction length) and output pixels, per group.
    public var window: Int { kernelH * kernelW * inChannels }
    public var pixels: Int { outH * outW }
    public var macs: Int { groups * pixels * window * outChannels }
    public var weightCount: Int { groups * outChannels * window }
    public var outputCount: Int { groups * outChannels * pixels }

    /// The conv and gemm nodes of a graph, in topological order (dilation is not modelled:
    /// a dilated kernel is treated as its dense footprint R × S).
    public static func layers(of graph: Graph) -> [AcceleratorLayer] {
        var out: [AcceleratorLayer] = []
        for node in graph.nodes {
            guard let weight = node.params.first, let input = node.inputs.first, let output = node.outputs.first else { continue }
            let outDims = graph.tensors[output].shape.dims
            switch node.op {
            case .conv(let a) where outDims.count == 4:
                out.append(AcceleratorLayer(name: node.name, node: node.id, groups: a.groups, inChannels: a.inChannels / a.groups,
                                            outChannels: a.outChannels / a.groups, kernelH: a.kernel[0], kernelW: a.kernel[1],
                                            strideH: a.strides[0], strideW: a.strides[1], outH: outDims[2], outW: outDims[3],
                                            weightName: weight.name, inputTensor: input, outputTensor: output))
            case .gemm(let a):
                let rows = outDims.dropLast().reduce(1, *)
                out.append(AcceleratorLayer(name: node.name, node: node.id, inChannels: a.inFeatures, outChannels: a.outFeatures,
                                            kernelH: 1, kernelW: 1, outH: rows, outW: 1,
                                            weightName: weight.name, inputTensor: input, outputTensor: output))
            case .conv, .convTranspose, .matmul, .attention, .sparseAggregate, .batchNorm, .layerNorm, .activation, .clip, .binary,
                 .unary, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool, .reduceMean, .softmax, .concat, .split, .slice,
                 .reshape, .flatten, .transpose, .squeeze, .unsqueeze, .channelShuffle, .pad, .identity, .unsupported:
                continue
            }
        }
        return out
    }
}
