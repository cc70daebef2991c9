/// Per-node work and data counts. Conventions (README "Counting conventions"):
/// MAC = one multiply-add = 2 FLOPs; MACs are counted for conv, convtranspose, gemm,
/// matmul, attention (QKᵀ and AV) and sparse aggregation; other ops have 0 MACs and
/// FLOPs = elements × ops per element. Params count every initializer element.
/// Bytes read = activation inputs + params; written = outputs. CIO = activation input +
/// output bytes (HarDNet). Views (reshape/flatten/squeeze/unsqueeze/identity) move no data.
public struct OpCounts: Hashable, Sendable, Codable {
    public var macs: Int
    public var flops: Int
    public var params: Int
    public var paramBytes: Int
    public var inputBytes: Int
    public var outputBytes: Int

    public init(macs: Int = 0, flops: Int = 0, params: Int = 0, paramBytes: Int = 0, inputBytes: Int = 0, outputBytes: Int = 0) {
        self.macs = macs
        self.flops = flops
        self.params = params
        self.paramBytes = paramBytes
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
    }

    public var bytesRead: Int { inputBytes + paramBytes }
    public var bytesWritten: Int { outputBytes }
    public var bytesMoved: Int { bytesRead + bytesWritten }
    /// Input + output feature-map bytes.
    public var cio: Int { inputBytes + outputBytes }
    /// FLOPs per byte moved (compulsory traffic). 0 when nothing moves.
    public var arithmeticIntensity: Double { bytesMoved == 0 ? 0 : Double(flops) / Double(bytesMoved) }

    public static func + (a: OpCounts, b: OpCounts) -> OpCounts {
        OpCounts(macs: a.macs + b.macs, flops: a.flops + b.flops, params: a.params + b.params, paramBytes: a.paramBytes + b.paramBytes,
                 inputBytes: a.inputBytes + b.inputBytes, outputBytes: a.outputBytes + b.outputBytes)
    }
}

extension Graph {
    /// Counts for one node.
    public func counts(of node: Node) -> OpCounts {
        let ins = node.inputs.map { tensors[$0] }
        let outs = node.outputs.map { tensors[$0] }
        let outElems = outs.reduce(0) { $0 + $1.shape.elementCount }
        let inElems = ins.reduce(0) { $0 + $1.shape.elementCount }
        let params = node.params.reduce(0) { $0 + $1.shape.elementCount }
        let paramBytes = node.params.reduce(0) { $0 + $1.byteCount }
        var c = OpCounts(params: params, paramBytes: paramBytes,
                         inputBytes: ins.reduce(0) { $0 + $1.byteCount },
                         outputBytes: outs.reduce(0) { $0 + $1.byteCount })
        switch node.op {
        case .conv(let a):
            c.macs = outElems * (a.inChannels / a.groups) * a.kernel[0] * a.kernel[1]
            c.flops = 2 * c.macs + (a.hasBias ? outElems : 0)
        case .convTranspose(let a):
            // Every input element scatters into Cout/g × kH × kW outputs.
            c.macs = inElems * (a.outChannels / a.groups) * a.kernel[0] * a.kernel[1]
            c.flops = 2 * c.macs + (a.hasBias ? outElems : 0)
        case .gemm(let a):
            c.macs = outElems * a.inFeatures
            c.flops = 2 * c.macs + (a.hasBias ? outElems : 0)
        case .matmul:
            let k = ins[0].shape.dims.last ?? 0
            c.macs = outElems * k
            c.flops = 2 * c.macs
        case .attention(let heads):
            let q = ins[0].shape, k = ins[1].shape, v = ins[2].shape
            let (b, sq, e, sk, ev) = (q[0], q[1], q[2], k[1], v[2])
            // QKᵀ: b·h·sq·sk·(e/h) = b·sq·sk·e; AV: b·h·sq·sk·(ev/h) = b·sq·sk·ev (v may be narrower or wider than q, k).
            c.macs = b * sq * sk * (e + ev)
            // + softmax (≈5 ops/score) and the 1/√d scale.
            c.flops = 2 * c.macs + 6 * b * heads * sq * sk
        case .sparseAggregate(let nodeCount, let edges):
            let f = ins[0].shape[1]
            c.macs = edges * f
            c.flops = 2 * c.macs
            // Adjacency in CSR: edges × (4 B index + 4 B value) + (nodes+1) × 4 B row pointers.
            c.paramBytes += edges * 8 + (nodeCount + 1) * 4
        case .batchNorm:
            c.flops = 2 * outElems
        case .layerNorm:
            c.flops = 8 * outElems
        case .activation(let act):
            c.flops = act.flopsPerElement * outElems
        case .clip:
            c.flops = 2 * outElems
        case .binary:
            c.flops = outElems
        case .unary(let u):
            c.flops = u.flopsPerElement * outElems
        case .maxPool(let a), .avgPool(let a):
            c.flops = outElems * a.kernel[0] * a.kernel[1]
        case .globalAvgPool, .globalMaxPool, .reduceMean:
            c.flops = inElems
        case .softmax:
            c.flops = 5 * outElems
        case .concat, .split, .slice, .transpose, .channelShuffle, .pad:
            c.flops = 0
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            c.inputBytes = 0
            c.outputBytes = 0
        case .unsupported:
            c.flops = 0
        }
        return c
    }

    /// Totals over all nodes.
    public func totalCounts() -> OpCounts {
        nodes.reduce(OpCounts()) { $0 + counts(of: $1) }
    }

    /// Counts for a fusion group: MACs/FLOPs/params summed; bytes only for tensors that cross
    /// the group boundary (intermediates stay in registers/cache inside the fused kernel).
    public func counts(ofGroup group: FusionGroup) -> OpCounts {
        counts(ofGroup: group, index: GraphIndex(self))
    }

    /// As `counts(ofGroup:)`, with a precomputed index (linear total cost over all groups).
    public func counts(ofGroup group: FusionGroup, index: GraphIndex) -> OpCounts {
        let members = Set(group.nodes)
        var c = group.nodes.reduce(OpCounts()) { $0 + counts(of: nodes[$1]) }
        let produced = Set(group.nodes.flatMap { nodes[$0].outputs })
        let consumers = index.consumers
        let producers = index.producers
        let outputSet = index.outputSet
        var inBytes = 0
        var seen = Set<Int>()
        for n in group.nodes {
            let node = nodes[n]
            if node.op.opClass == .view { continue }
            for t in node.inputs where !produced.contains(t) && seen.insert(t).inserted {
                inBytes += tensors[t].byteCount
            }
        }
        var outBytes = 0
        for t in produced {
            let external = consumers[t].contains { !members.contains($0) } || outputSet.contains(t)
            let isView = producers[t].map { nodes[$0].op.opClass == .view } ?? false
            if external && !isView { outBytes += tensors[t].byteCount }
        }
        // A group made only of views moves nothing.
        if group.nodes.allSatisfy({ nodes[$0].op.opClass == .view }) { inBytes = 0; outBytes = 0 }
        c.inputBytes = inBytes
        c.outputBytes = outBytes
        return c
    }
}

/// Producer/consumer lookups computed once per graph.
public struct GraphIndex: Sendable {
    public let consumers: [[Int]]
    public let producers: [Int?]
    public let outputSet: Set<Int>
    public init(_ graph: Graph) {
        consumers = graph.consumers()
        producers = graph.producers()
        outputSet = Set(graph.outputs)
    }

    /// Tensor ids read by a fusion group from outside it (views excluded), in first-use order.
    public func externalInputs(of group: FusionGroup, in graph: Graph) -> [Int] {
        let produced = Set(group.nodes.flatMap { graph.nodes[$0].outputs })
        var seen = Set<Int>()
        var result: [Int] = []
        for n in group.nodes {
            for t in graph.nodes[n].inputs where !produced.contains(t) && seen.insert(t).inserted { result.append(t) }
        }
        return result
    }

    /// Tensor ids a fusion group produces that are consumed outside it or are graph outputs.
    public func externalOutputs(of group: FusionGroup, in graph: Graph) -> [Int] {
        let members = Set(group.nodes)
        var result: [Int] = []
        for n in group.nodes {
            for t in graph.nodes[n].outputs where outputSet.contains(t) || consumers[t].contains(where: { !members.contains($0) }) {
                result.append(t)
            }
        }
        return result
    }
}
