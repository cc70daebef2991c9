import Testing
import NNGraph

@Suite("Graph validation and memory")
struct GraphTests {
    private func relu(_ id: Int, _ name: String, _ input: Int, _ output: Int) -> Node {
        Node(id: id, name: name, op: .activation(.relu), inputs: [input], params: [], outputs: [output])
    }

    private func tensors(_ n: Int) -> [TensorInfo] {
        (0..<n).map { TensorInfo(name: "t\($0)", shape: [1, 4]) }
    }

    @Test func validGraphPasses() throws {
        let g = Graph(name: "ok", tensors: tensors(3), nodes: [relu(0, "a", 0, 1), relu(1, "b", 1, 2)], inputs: [0], outputs: [2])
        try g.validate()
    }

    @Test func useBeforeProduceIsReported() {
        // Node "a" reads t2, which node "b" only produces afterwards.
        let g = Graph(name: "bad", tensors: tensors(3), nodes: [relu(0, "a", 2, 1), relu(1, "b", 1, 2)], inputs: [0], outputs: [2])
        let e = graphError { try g.validate() }
        #expect(e?.node == "a")
        #expect(e?.message == "input 't2' is used before it is produced (cycle or wrong order)")
    }

    @Test func otherStructuralErrors() {
        let twoProducers = Graph(name: "g", tensors: tensors(2), nodes: [relu(0, "a", 0, 1), relu(1, "b", 0, 1)], inputs: [0], outputs: [1])
        #expect(graphError { try twoProducers.validate() }?.message.contains("more than one producer") == true)
        let wrongID = Graph(name: "g", tensors: tensors(2), nodes: [relu(3, "a", 0, 1)], inputs: [0], outputs: [1])
        #expect(graphError { try wrongID.validate() }?.message.contains("not its position") == true)
        let missingOutput = Graph(name: "g", tensors: tensors(3), nodes: [relu(0, "a", 0, 1)], inputs: [0], outputs: [2])
        #expect(graphError { try missingOutput.validate() }?.message == "graph output id 2 is never produced")
        let outOfRange = Graph(name: "g", tensors: tensors(2), nodes: [relu(0, "a", 7, 1)], inputs: [0], outputs: [1])
        #expect(graphError { try outOfRange.validate() }?.node == "a")
    }

    @Test func consumersAndProducers() throws {
        let g = try diamond()
        #expect(g.producers()[0] == nil)
        #expect(g.producers()[1] == 0)
        #expect(g.consumers()[1] == [1, 2])   // A feeds B and C
        #expect(g.consumers()[4] == [])       // D is the output
    }

    /// x[1,100] → A = gemm(100→300) → { B = gemm(300→50), C = gemm(300→100) } → D = concat(B, C) [1,150].
    private func diamond(viewBeforeC: Bool = false) throws -> Graph {
        var b = GraphBuilder(name: "diamond")
        let x = b.input("x", shape: [1, 100])
        func fc(_ name: String, _ k: Int, _ n: Int) -> (Op, [ParamInfo]) {
            (.gemm(GemmAttributes(inFeatures: k, outFeatures: n)), [ParamInfo(name: "\(name).w", shape: [n, k]), ParamInfo(name: "\(name).b", shape: [n])])
        }
        let (oa, pa) = fc("A", 100, 300)
        let a = try b.add1("A", oa, inputs: [x], params: pa)
        let (ob, pb) = fc("B", 300, 50)
        let bo = try b.add1("B", ob, inputs: [a], params: pb)
        var cIn = a
        if viewBeforeC { cIn = try b.add1("view", .reshape(shape: [1, -1]), inputs: [a]) }
        let (oc, pc) = fc("C", 300, 100)
        let co = try b.add1("C", oc, inputs: [cIn], params: pc)
        _ = try b.add1("D", .concat(axis: 1), inputs: [bo, co])
        return try b.finish()
    }

    @Test func diamondPeakIsHandComputed() throws {
        // Live bytes (float32): start x = 400. A: +1200 → 1600, x freed → 1200. B: +200 → 1400.
        // C: +400 → 1800 (peak, A still live until C), A freed → 600. D: +600 → 1200, B and C freed → 600.
        let m = try diamond().memoryFootprint()
        #expect(m.peakActivationBytes == 1800)
        #expect(m.peakAtNode == 2)
        let params = (100 * 300 + 300) + (300 * 50 + 50) + (300 * 100 + 100)
        #expect(m.weightBytes == params * 4)
        #expect(m.totalBytes == 1800 + params * 4)
    }

    @Test func viewsAliasAndKeepTheirSourceAlive() throws {
        // The reshape allocates nothing, but A must stay live until C (its last real consumer via the view).
        let g = try diamond(viewBeforeC: true)
        let m = g.memoryFootprint()
        #expect(m.peakActivationBytes == 1800)
        #expect(g.nodes[m.peakAtNode].name == "C")
    }
}
