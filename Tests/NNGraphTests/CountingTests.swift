import Testing
import NNGraph

@Suite("Counting")
struct CountingTests {
    private func node(_ g: Graph, _ name: String) throws -> Node {
        try #require(g.nodes.first { $0.name == name }, "no node \(name)")
    }

    @Test func groupedConvMACs() throws {
        // out 1×6×8×8 = 384 elements; each needs Cin/g · kH · kW = 2 · 3 · 3 = 18 MACs → 6912.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 4, 8, 8])
        let a = convAttrs(in: 4, out: 6, k: 3, p: 1, g: 2, bias: true)
        _ = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        let g = try b.finish()
        let c = g.counts(of: try node(g, "conv"))
        #expect(c.macs == 6912)
        #expect(c.flops == 2 * 6912 + 384)        // + one bias add per output
        #expect(c.params == 6 * 2 * 3 * 3 + 6)    // 108 + 6
        #expect(c.paramBytes == 114 * 4)
        #expect(c.inputBytes == 4 * 8 * 8 * 4)
        #expect(c.outputBytes == 384 * 4)
        #expect(c.cio == (256 + 384) * 4)
    }

    @Test func depthwiseAndStridedConvMACs() throws {
        // Depthwise 3×3 s2 on 1×32×16×16 → 1×32×8×8 = 2048 outputs × (1 · 9) = 18432.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 32, 16, 16])
        let a = convAttrs(in: 32, out: 32, k: 3, s: 2, p: 1, g: 32)
        _ = try b.add1("dw", .conv(a), inputs: [x], params: convParams("dw", a))
        let g = try b.finish()
        let c = g.counts(of: g.nodes[0])
        #expect(c.macs == 18432)
        #expect(c.flops == 36864)
        #expect(g.nodes[0].op.opClass == .depthwise)
        #expect(g.nodes[0].op.kindName == "dwconv")
    }

    @Test func gemmCounts() throws {
        // [2, 10] · W[5, 10]ᵀ + b: 2·5 outputs × 10 = 100 MACs; params 55.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [2, 10])
        _ = try b.add1("fc", .gemm(GemmAttributes(inFeatures: 10, outFeatures: 5)), inputs: [x],
                       params: [ParamInfo(name: "fc.weight", shape: [5, 10]), ParamInfo(name: "fc.bias", shape: [5])])
        let g = try b.finish()
        let c = g.counts(of: g.nodes[0])
        #expect(c.macs == 100)
        #expect(c.flops == 210)
        #expect(c.params == 55)
        #expect(c.bytesRead == 20 * 4 + 55 * 4)
        #expect(c.bytesWritten == 10 * 4)
        #expect(c.arithmeticIntensity == 210.0 / Double(80 + 220 + 40))
    }

    @Test func matmulCounts() throws {
        // [2, 3, 4] × [4, 5] → [2, 3, 5] = 30 outputs × K 4 = 120 MACs.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [2, 3, 4])
        let y = b.input("y", shape: [4, 5])
        _ = try b.add1("mm", .matmul, inputs: [x, y])
        let g = try b.finish()
        #expect(g.counts(of: g.nodes[0]).macs == 120)
        #expect(g.counts(of: g.nodes[0]).inputBytes == (24 + 20) * 4)
    }

    @Test func attentionCountsQKTransposeAndAV() throws {
        // q [1, 4, 8], k = v [1, 6, 8], 2 heads (dh 4): QKᵀ = 2 heads · 4 · 6 · 4 = 192, AV = 192 → 384.
        var b = GraphBuilder(name: "g")
        let q = b.input("q", shape: [1, 4, 8])
        let k = b.input("k", shape: [1, 6, 8])
        let v = b.input("v", shape: [1, 6, 8])
        _ = try b.add1("attn", .attention(heads: 2), inputs: [q, k, v])
        let g = try b.finish()
        let c = g.counts(of: g.nodes[0])
        #expect(c.macs == 384)
        // 2·MACs + softmax and scale over heads · Sq · Sk = 2 · 4 · 6 = 48 scores × 6.
        #expect(c.flops == 768 + 6 * 48)
        #expect(g.nodes[0].op.opClass == .attention)
    }

    @Test func attentionWithNarrowerValues() throws {
        // v [1, 6, 4]: QKᵀ still 4 · 6 · 8 = 192, but AV is 4 · 6 · 4 = 96.
        var b = GraphBuilder(name: "g")
        let q = b.input("q", shape: [1, 4, 8])
        let k = b.input("k", shape: [1, 6, 8])
        let v = b.input("v", shape: [1, 6, 4])
        let out = try b.add1("attn", .attention(heads: 2), inputs: [q, k, v])
        let g = try b.finish()
        #expect(g.tensors[out].shape == [1, 4, 4])
        #expect(g.counts(of: g.nodes[0]).macs == 288)
    }

    @Test func sparseAggregateCountsEdgesAndCSRBytes() throws {
        // 5 nodes, 12 non-zeros, 3 features: 36 MACs; CSR = 12 · 8 B + 6 · 4 B = 120 B.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [5, 3])
        _ = try b.add1("agg", .sparseAggregate(nodes: 5, edges: 12), inputs: [x])
        let g = try b.finish()
        let c = g.counts(of: g.nodes[0])
        #expect(c.macs == 36)
        #expect(c.params == 0)
        #expect(c.paramBytes == 120)
    }

    @Test func viewsMoveZeroBytes() throws {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 8, 2, 2])
        var y = try b.add1("flatten", .flatten(axis: 1), inputs: [x])
        y = try b.add1("reshape", .reshape(shape: [0, 4, -1]), inputs: [y])
        y = try b.add1("unsqueeze", .unsqueeze(axes: [0]), inputs: [y])
        y = try b.add1("squeeze", .squeeze(axes: [0]), inputs: [y])
        y = try b.add1("identity", .identity, inputs: [y])
        let t = try b.add1("transpose", .transpose(perm: [0, 2, 1]), inputs: [y])
        let g = try b.finish()
        for n in g.nodes.dropLast() {
            let c = g.counts(of: n)
            #expect(n.op.opClass == .view, "\(n.name)")
            #expect(c.bytesMoved == 0 && c.cio == 0 && c.flops == 0, "\(n.name)")
        }
        // A transpose is not a view: it reads and writes the whole tensor.
        let tc = g.counts(of: g.nodes[g.nodes.count - 1])
        #expect(g.tensors[t].shape == [1, 8, 4])
        #expect(tc.inputBytes == 128 && tc.outputBytes == 128)
    }

    @Test func elementwiseAndPoolingFlops() throws {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 2, 4, 4])
        let h = try b.add1("hs", .activation(.hardswish), inputs: [x])
        let p = try b.add1("pool", .maxPool(PoolAttributes(kernel: [2, 2], strides: [2, 2])), inputs: [h])
        _ = try b.add1("gap", .globalAvgPool, inputs: [p])
        let g = try b.finish()
        #expect(g.counts(of: g.nodes[0]).flops == 4 * 32)   // hardswish: 4 ops × 32 elements
        #expect(g.counts(of: g.nodes[1]).flops == 8 * 4)    // 8 outputs × 2×2 window
        #expect(g.counts(of: g.nodes[2]).flops == 8)        // one op per input element
        #expect(g.nodes.allSatisfy { g.counts(of: $0).macs == 0 })
    }

    @Test func totalsAreSumsOfNodes() throws {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 3, 8, 8])
        let a = convAttrs(in: 3, out: 4, k: 3, p: 1)
        var y = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn", 4))
        y = try b.add1("relu", .activation(.relu), inputs: [y])
        let g = try b.finish()
        let total = g.totalCounts()
        #expect(total.macs == 4 * 64 * 27)
        #expect(total.params == 4 * 27 + 4 * 4)
        #expect(total.flops == 2 * 6912 + 2 * 256 + 256)
        #expect(total == g.nodes.reduce(OpCounts()) { $0 + g.counts(of: $1) })
    }

    @Test func fusedGroupCountsOnlyBoundaryBytes() throws {
        // conv → bn → relu fused: reads x once, writes only relu's output; intermediates stay inside.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 3, 8, 8])
        let a = convAttrs(in: 3, out: 4, k: 3, p: 1)
        var y = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn", 4))
        y = try b.add1("relu", .activation(.relu), inputs: [y])
        let g = try b.finish()
        let group = try #require(g.fusionGroups.first)
        let c = g.counts(ofGroup: group)
        #expect(c.inputBytes == 3 * 64 * 4)
        #expect(c.outputBytes == 4 * 64 * 4)
        #expect(c.macs == g.totalCounts().macs)
        #expect(c.paramBytes == g.totalCounts().paramBytes)
        // Unfused, the three nodes would move the intermediates twice more.
        #expect(g.totalCounts().cio == c.cio + 2 * 2 * 4 * 64 * 4)
    }
}
