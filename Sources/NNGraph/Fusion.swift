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
/// epilogue.
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
            groups.append(FusionGroup(id: gid, nodes: members, kind: members.map { FusionRules.shortName(nodes[$0].op) }.joined(separator: "-")))
        }
        fusionGroups = groups
    }
}
