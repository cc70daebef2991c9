/// Builds a graph node by node, inferring shapes as it goes so errors point at the node
/// that caused them.
public struct GraphBuilder: Sendable {
    public private(set) var graph: Graph
    private var usedNames: Set<String> = []

    public init(name: String) {
        graph = Graph(name: name, tensors: [], nodes: [], inputs: [], outputs: [])
    }

    /// Declares a graph input and returns its tensor id.
    public mutating func input(_ name: String, shape: TensorShape, dtype: DType = .float32) -> Int {
        let id = graph.tensors.count
        graph.tensors.append(TensorInfo(name: name, shape: shape, dtype: dtype))
        graph.inputs.append(id)
        return id
    }

    public func shape(_ tensor: Int) -> TensorShape { graph.tensors[tensor].shape }

    /// Adds a node; its output shapes come from shape inference. Returns output tensor ids.
    @discardableResult
    public mutating func add(_ name: String, _ op: Op, inputs: [Int], params: [ParamInfo] = [],
                             outputDType: DType? = nil, outputNames: [String]? = nil) throws(GraphError) -> [Int] {
        let nodeName = uniqueName(name)
        if let bad = inputs.first(where: { !graph.tensors.indices.contains($0) }) {
            throw GraphError(node: nodeName, "input tensor id \(bad) does not exist (the graph has \(graph.tensors.count) tensors)")
        }
        let inputInfos = inputs.map { graph.tensors[$0] }
        let shapes = try inferOutputShapes(op: op, inputs: inputInfos.map(\.shape), params: params, nodeName: nodeName)
        let dtype = outputDType ?? inputInfos.first?.dtype ?? .float32
        var outs: [Int] = []
        for (i, s) in shapes.enumerated() {
            let id = graph.tensors.count
            let tname = outputNames.flatMap { i < $0.count ? $0[i] : nil } ?? (shapes.count == 1 ? nodeName : "\(nodeName):\(i)")
            graph.tensors.append(TensorInfo(name: tname, shape: s, dtype: dtype))
            outs.append(id)
        }
        graph.nodes.append(Node(id: graph.nodes.count, name: nodeName, op: op, inputs: inputs, params: params, outputs: outs))
        return outs
    }

    /// Single-output convenience.
    public mutating func add1(_ name: String, _ op: Op, inputs: [Int], params: [ParamInfo] = []) throws(GraphError) -> Int {
        let outputs = try add(name, op, inputs: inputs, params: params)
        guard let first = outputs.first else { throw GraphError(node: graph.nodes.last?.name ?? name, "\(op.kindName) produced no output") }
        return first
    }

    public mutating func markOutput(_ tensor: Int) { graph.outputs.append(tensor) }

    /// Validates and fuses; the result is ready for counting and costing.
    public func finish() throws(GraphError) -> Graph {
        var g = graph
        if g.outputs.isEmpty, let last = g.nodes.last { g.outputs = last.outputs }
        try g.validate()
        g.fuse()
        return g
    }

    private mutating func uniqueName(_ base: String) -> String {
        var name = base
        var k = 1
        while usedNames.contains(name) { name = "\(base)_\(k)"; k += 1 }
        usedNames.insert(name)
        return name
    }
}
