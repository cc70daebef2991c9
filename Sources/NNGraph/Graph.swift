/// One operator instance. Graphs store nodes as an array in topological order.
public struct Node: Hashable, Sendable, Codable {
    public var id: Int
    public var name: String
    public var op: Op
    /// Activation tensor ids consumed (indices into `Graph.tensors`).
    public var inputs: [Int]
    /// Learned parameters / constants owned by this node.
    public var params: [ParamInfo]
    /// Tensor ids produced.
    public var outputs: [Int]

    public init(id: Int, name: String, op: Op, inputs: [Int], params: [ParamInfo], outputs: [Int]) {
        self.id = id
        self.name = name
        self.op = op
        self.inputs = inputs
        self.params = params
        self.outputs = outputs
    }
}

/// Nodes that a runtime executes as one kernel (e.g. conv + batchnorm + relu). Recorded,
/// not hidden: every member node still has its own counts.
public struct FusionGroup: Hashable, Sendable, Codable {
    public var id: Int
    /// Node ids, producer first.
    public var nodes: [Int]
    /// e.g. "conv-bn-relu", "dwconv-bn-relu6", "add-relu", or the op name for a single node.
    public var kind: String
    public init(id: Int, nodes: [Int], kind: String) {
        self.id = id
        self.nodes = nodes
        self.kind = kind
    }
}

/// A static-shape dataflow graph. `nodes` is in topological order (checked by `validate()`).
public struct Graph: Sendable, Codable {
    public var name: String
    public var tensors: [TensorInfo]
    public var nodes: [Node]
    public var inputs: [Int]
    public var outputs: [Int]
    /// Filled by `fuse()`; empty means "not fused yet".
    public var fusionGroups: [FusionGroup]

    public init(name: String, tensors: [TensorInfo], nodes: [Node], inputs: [Int], outputs: [Int], fusionGroups: [FusionGroup] = []) {
        self.name = name
        self.tensors = tensors
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.fusionGroups = fusionGroups
    }

    public func tensor(_ id: Int) -> TensorInfo { tensors[id] }

    /// For each tensor id, the node ids that consume it.
    public func consumers() -> [[Int]] {
        var result = Array(repeating: [Int](), count: tensors.count)
        for node in nodes {
            for t in node.inputs where !result[t].contains(node.id) { result[t].append(node.id) }
        }
        return result
    }

    /// For each tensor id, the node id producing it (nil for graph inputs).
    public func producers() -> [Int?] {
        var result = [Int?](repeating: nil, count: tensors.count)
        for node in nodes { for t in node.outputs { result[t] = node.id } }
        return result
    }
}

public struct GraphError: Error, Hashable, Sendable, CustomStringConvertible {
    public var node: String?
    public var message: String
    public init(node: String?, _ message: String) {
        self.node = node
        self.message = message
    }
    public var description: String {
        if let node { return "node '\(node)': \(message)" }
        return message
    }
}

extension Graph {
    /// Checks ids, topological order, single producer per tensor, and that every output is produced.
    public func validate() throws(GraphError) {
        var produced = Array(repeating: false, count: tensors.count)
        for i in inputs {
            guard tensors.indices.contains(i) else { throw GraphError(node: nil, "graph input id \(i) out of range") }
            produced[i] = true
        }
        for (index, node) in nodes.enumerated() {
            guard node.id == index else { throw GraphError(node: node.name, "node id \(node.id) is not its position \(index)") }
            for t in node.inputs {
                guard tensors.indices.contains(t) else { throw GraphError(node: node.name, "input tensor id \(t) out of range") }
                guard produced[t] else {
                    throw GraphError(node: node.name, "input '\(tensors[t].name)' is used before it is produced (cycle or wrong order)")
                }
            }
            for t in node.outputs {
                guard tensors.indices.contains(t) else { throw GraphError(node: node.name, "output tensor id \(t) out of range") }
                guard !produced[t] else { throw GraphError(node: node.name, "tensor '\(tensors[t].name)' has more than one producer") }
                produced[t] = true
            }
        }
        for o in outputs where !(tensors.indices.contains(o) && produced[o]) {
            throw GraphError(node: nil, "graph output id \(o) is never produced")
        }
    }
}
