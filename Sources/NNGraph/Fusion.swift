/// Fusion rules, as data: which ops start a fused kernel and which may follow.
/// Mirrors what CPU runtimes (TFLite, ncnn, ONNX Runtime) fuse: conv/gemm + batchnorm +
/// activation, add + activation. A follower joins only if it is the sole consumer of the
/// previous node's single output and that output is not a graph output.
public enum FusionRules {
    static func canStart(_ op: Op) -> Bool {
        switch op {
        case .conv, .convTranspose, .gemm, .matmul, .binary(.add), .batchNorm: true
        default: false
        }
    }

    static func canFollow(_ op: Op, after previous: Op, groupSoFar: [Op]) -> Bool {
        let hasActivation = groupSoFar.contains { if case .activation = $0 { true } else if case .clip = $0 { true } else { false } }
        let hasBN = groupSoFar.contains { if case .batchNorm = $0 { true } else { false } }
        switch op {
        case .batchNorm:
            guard !hasBN, !hasActivation else { return false }
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

    static func shortName(_ op: Op) -> String {
        switch op {
        case .batchNorm: "bn"
        default: op.kindName
        }
    }
}

extension Graph {
    /// Computes fusion groups (every node belongs to exactly one group).
    public mutating func fuse() {
        let consumers = self.consumers()
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
                    guard groupOf[next.id] == nil, next.inputs.count == 1,
                          FusionRules.canFollow(next.op, after: current.op, groupSoFar: members.map { nodes[$0].op })
                    else { break }
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
