import NNGraph

/// Two-layer GCN on Cora (Kipf & Welling 2017), laid out like PyTorch Geometric's `GCNConv`:
/// each layer is X·W (gemm without bias) → normalised sparse aggregation Â·(XW) → + bias,
/// with ReLU between the layers. Dropout is an identity at inference.
enum GCN {
    /// Cora: 2708 nodes, 1433 bag-of-words features, 7 classes, 10556 directed edges.
    static let nodes = 2708
    static let features = 1433
    static let hidden = 16
    static let classes = 7
    static let edges = 10556
    /// Â = D^-½ (A + I) D^-½ has the edges plus one self loop per node.
    static let nonZeros = edges + nodes

    static let cora = ZooModel(
        name: "gcn_cora",
        summary: "2-layer GCN on Cora (2708 nodes, 1433 → 16 → 7, 13264 adjacency non-zeros incl. self loops)",
        inputShape: [nodes, features],
        published: nil,
        build: { () throws(GraphError) -> Graph in try build() })

    static func build() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "gcn_cora")
        var x = b.input("x", shape: [nodes, features])
        x = try layer(&b, "conv1", x, out: hidden)
        x = try b.activation("relu", x, .relu)
        x = try layer(&b, "conv2", x, out: classes)
        return try b.finish()
    }

    private static func layer(_ b: inout LayerBuilder, _ p: String, _ x: Int, out: Int) throws(GraphError) -> Int {
        var y = try b.linear("\(p).lin", x, out: out, bias: false)
        y = try b.graph.add1("\(p).propagate", .sparseAggregate(nodes: nodes, edges: nonZeros), inputs: [y])
        return try b.graph.add1("\(p).bias", .binary(.add), inputs: [y], params: [ParamInfo(name: "\(p).bias", shape: [out])])
    }
}
