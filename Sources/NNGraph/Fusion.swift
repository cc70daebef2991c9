/// Fusion rules, as data: which ops start a fused kernel and which may follow.
/// Mirrors what CPU runtimes (TFLite, ncnn, ONNX Runtime) fuse: conv/gemm + batchnorm +
/// activation, add + activation. A follower joins only if it is the sole consumer of the
/// previous node's single output and that output is not a graph output.
///
/// Residual adds join the convolution that produces one of their operands (ONNX Runtime's
/// NCHWc `Conv + Sum (+ Relu)` fusion, TensorRT's conv + elementwise): `conv[-bn]-add[-act]`
/// reads the shortcut tensor while writing its output, instead of a separate pass that writes
/// the conv output and reads it back. Only when the add is the conv's sole consumer, nothing
/// has been activated before it, both operands have the output's shape (no broadcasting), the
/// conv is dense (not depthwise) and the shortcut is computed before the conv runs (so the
/// fused kernel keeps the conv's place in the node order). With `linearResidualAdds` the same holds for
/// a fully connected layer (`gemm-add`: a transformer block's residual adds after its output
/// projection and second MLP layer), which edgeprof's runner and TensorRT apply in the GEMM's
/// epilogue, also when the add reads the GEMM's output through layout views (`isLayoutView`: ONNX
/// exports of `nn.MultiheadAttention` run `Gemm → Reshape → Transpose of a size-1 axis → Add`); the
/// views join the group and its kind names only the kernels (`gemm-add`).
public enum FusionRules {
    static func canStart(_ op: Op) -> Bool {
        switch op {
        case .conv, .convTranspose, .gemm, .matmul, .binary(.add), .batchNorm: true
        default: false
        }
    }

    static func isActivation(_ op: Op) -> Bool {
        switch op {
        case .activation, .clip: true
        default: false
        }
    }

    static func canFollow(_ op: Op, after previous: Op, groupSoFar: [Op]) -> Bool {
        let hasActivation = groupSoFar.contains(where: isActivation)
        let hasBN = groupSoFar.contains { if case .batchNorm = $0 { true } else { false } }
        let hasResidual = groupSoFar.contains { if case .binary = $0 { true } else { false } }
        switch op {
        case .batchNorm:
            // A batch norm after a residual add normalises the sum: it cannot fold into the conv.
            guard !hasBN, !hasActivation, !hasResidual else { return false }
            switch groupSoFar[0] {
            case .conv, .convTranspose, .gemm: return true
            default: return false
            }
        case .activation, .clip:
            return !hasActivation
        default:
            return false
        }
    }

    /// Whether `add` (a two-input node consuming `tensor`, the group's current output) may join
    /// the group `members` as a residual add (see the type's comment).
    static func canAbsorbResidual(_ add: Node, consuming tensor: Int, into members: [Node], graph: Graph, producers: [Int?],
                                  linear: Bool = true) -> Bool {
        guard case .binary(.add) = add.op, add.inputs.count == 2, add.outputs.count == 1 else { return false }
        switch members[0].op {
        case .conv(let a) where !a.isDepthwise: break
        case .gemm where linear: break
        default: return false
        }
        guard !members.contains(where: { isActivation($0.op) }) else { return false }
        guard add.inputs[0] != add.inputs[1], let other = add.inputs.first(where: { $0 != tensor }) else { return false }
        let shape = graph.tensors[add.outputs[0]].shape
        guard graph.tensors[tensor].shape == shape, graph.tensors[other].shape == shape,
              graph.tensors[other].dtype == graph.tensors[tensor].dtype
        else { return false }
        // The shortcut must exist when the group runs: a graph input or produced before the anchor.
        if let p = producers[other] { return p < members[0].id }
        return true
    }

    /// A single-input, single-output op that keeps every element where it is (`Graph.zeroCopyOffsets`
    /// is [0]: a reshape, flatten, squeeze, unsqueeze, identity, or a transpose that moves only size-1
    /// axes): a residual add may be reached through a chain of these from a GEMM.
    public static func isLayoutView(_ node: Node, in graph: Graph) -> Bool {
        guard node.inputs.count == 1, node.outputs.count == 1 else { return false }
        switch node.op {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity, .transpose: return graph.zeroCopyOffsets(node) == [0]
        default: return false
        }
    }

    static func shortName(_ op: Op) -> String {
        switch op {
        case .batchNorm: "bn"
        default: op.kindName
        }
    }
}

extension Graph {
    /// Computes fusion groups (every node belongs to exactly one group). `residualAdds: false` keeps
    /// residual adds out of their convs and GEMMs (`ExecutionStyle.fusesResidualAdds`);
    /// `linearResidualAdds: false` out of their GEMMs (`ExecutionStyle.fusesLinearResidualAdds`).
    public mutating func fuse(residualAdds: Bool = true, linearResidualAdds: Bool = true) {
        let consumers = self.consumers()
        let producers = self.producers()
        let outputSet = Set(outputs)
        var groupOf = [Int?](repeating: nil, count: nodes.count)
        var groups: [FusionGroup] = []
        for node in nodes where groupOf[node.id] == nil {
            var members = [node.id]
            if FusionRules.canStart(node.op) {
                var current = node
                while current.outputs.count == 1 {
                    let t = current.outputs[0]
                    guard !outputSet.contains(t), consumers[t].count == 1 else { break }
                    let next = nodes[consumers[t][0]]
                    guard groupOf[next.id] == nil else { break }
                    // A GEMM's residual add behind layout views: the views and the add join together.
                    if residualAdds, linearResidualAdds, members.count == 1, case .gemm = current.op,
                       let (views, add) = residualBehindViews(from: next, consumers: consumers, outputs: outputSet, groupOf: groupOf),
                       FusionRules.canAbsorbResidual(add, consuming: views[views.count - 1].outputs[0], into: [current], graph: self,
                                                     producers: producers, linear: true) {
                        members += views.map(\.id) + [add.id]
                        current = add
                        continue
                    }
                    let joins = next.inputs.count == 1
                        ? FusionRules.canFollow(next.op, after: current.op, groupSoFar: members.map { nodes[$0].op })
                        : residualAdds && FusionRules.canAbsorbResidual(next, consuming: t, into: members.map { nodes[$0] }, graph: self,
                                                                        producers: producers, linear: linearResidualAdds)
                    guard joins else { break }
                    members.append(next.id)
                    current = next
                }
            }
            let gid = groups.count
            for m in members { groupOf[m] = gid }
            // Layout views inside a kernel's group (after its anchor) are not named in its kind.
            let named = members.enumerated().filter { $0.offset == 0 || !FusionRules.isLayoutView(nodes[$0.element], in: self) }
            groups.append(FusionGroup(id: gid, nodes: members, kind: named.map { FusionRules.shortName(nodes[$0.element].op) }.joined(separator: "-")))
        }
        fusionGroups = groups
    }

    /// From `first` (a consumer of a GEMM's output): a chain of one or more layout views
    /// (`FusionRules.isLayoutView`), each the sole consumer of the previous output and none a graph
    /// output, ending at a two-input node not yet grouped; nil otherwise.
    private func residualBehindViews(from first: Node, consumers: [[Int]], outputs: Set<Int>, groupOf: [Int?]) -> (views: [Node], add: Node)? {
        var views: [Node] = []
        var node = first
        while FusionRules.isLayoutView(node, in: self) {
            views.append(node)
            let t = node.outputs[0]
            guard !outputs.contains(t), consumers[t].count == 1 else { return nil }
            node = nodes[consumers[t][0]]
            guard groupOf[node.id] == nil else { return nil }
        }
        guard !views.isEmpty, node.inputs.count == 2 else { return nil }
        return (views, node)
    }
}
