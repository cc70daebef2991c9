import NNGraph
import Testing

@Suite("Zero-copy views and efficiency classes")
struct ViewsTests {
    func splitGraph(batch: Int) throws -> Graph {
        var b = GraphBuilder(name: "split")
        let x = b.input("x", shape: [batch, 8, 4, 4])
        let outs = try b.add("split", .split(axis: 1, sizes: [3, 5]), inputs: [x])
        for o in outs { b.markOutput(o) }
        return try b.finish()
    }

    @Test func channelSplitAtBatchOneIsAContiguousView() throws {
        let g = try splitGraph(batch: 1)
        let node = try #require(g.nodes.first { $0.name == "split" })
        #expect(g.zeroCopyOffsets(node) == [0, 3 * 16])
        #expect(g.isZeroCopyView(node))
    }

    @Test func channelSplitAtBatchTwoIsACopy() throws {
        let g = try splitGraph(batch: 2)
        let node = try #require(g.nodes.first { $0.name == "split" })
        #expect(g.zeroCopyOffsets(node) == nil)
    }

    @Test func sliceOffsetsClampNegativeStarts() throws {
        var b = GraphBuilder(name: "slice")
        let x = b.input("x", shape: [1, 10, 2])
        let y = try b.add1("slice", .slice(starts: [-4], ends: [10], axes: [1], steps: [1]), inputs: [x])
        b.markOutput(y)
        let g = try b.finish()
        #expect(g.zeroCopyOffsets(try #require(g.nodes.first { $0.name == "slice" })) == [6 * 2])
    }

    @Test func stemConvolutionsHaveTheirOwnClass() throws {
        for (cin, stride, k, want) in [(3, 2, 3, OpClass.convStem), (4, 2, 3, .convStem), (5, 2, 3, .convKxK), (3, 1, 3, .convKxK),
                                       (3, 2, 7, .convKxK)] {
            var b = GraphBuilder(name: "stem")
            let x = b.input("x", shape: [1, cin, 32, 32])
            let a = convAttrs(in: cin, out: 16, k: k, s: stride, p: k / 2)
            b.markOutput(try b.add1("stem", .conv(a), inputs: [x], params: convParams("stem", a)))
            let g = try b.finish()
            #expect(g.efficiencyClass(g.nodes[0]) == want, "\(cin) channels, stride \(stride), \(k)×\(k)")
            #expect(want.coarse == .conv)
        }
    }

    @Test func convEfficiencyClasses() throws {
        var b = GraphBuilder(name: "convs")
        var x = b.input("x", shape: [1, 16, 14, 14])
        let specs: [(String, ConvAttributes, OpClass)] = [
            ("pw", convAttrs(in: 16, out: 16, k: 1), .conv1x1),
            ("wino", convAttrs(in: 16, out: 16, k: 3, p: 1), .convWinograd),   // 14×14 = 196 output pixels
            ("dil", convAttrs(in: 16, out: 16, k: 3, p: 2, d: 2), .convKxK),
            ("grouped", convAttrs(in: 16, out: 16, k: 3, p: 1, g: 2), .convKxK),
            ("dw", convAttrs(in: 16, out: 16, k: 3, p: 1, g: 16), .depthwise),
            ("s2", convAttrs(in: 16, out: 16, k: 3, s: 2, p: 1), .convKxK),
            ("small", convAttrs(in: 16, out: 16, k: 3, p: 1), .convWinograd),    // 7×7 = 49 output pixels: the smallest Winograd map
            ("tiny", convAttrs(in: 16, out: 16, k: 3, s: 2, p: 1), .convKxK),     // stride 2 (4×4 out)
            ("tinys1", convAttrs(in: 16, out: 16, k: 3, p: 1), .convKxK),        // 4×4 = 16 output pixels: below 49
        ]
        var expected: [String: OpClass] = [:]
        for (name, a, cls) in specs {
            x = try b.add1(name, .conv(a), inputs: [x], params: convParams(name, a))
            expected[name] = cls
        }
        b.markOutput(x)
        let g = try b.finish()
        for n in g.nodes { if let cls = expected[n.name] { #expect(g.efficiencyClass(n) == cls, "\(n.name)") } }
        #expect(OpClass.convWinograd.coarse == .conv && OpClass.gemm.coarse == .conv && OpClass.depthwise.coarse == .depthwise)
        #expect(OpClass.transcendental.coarse == .elementwise)
    }

    @Test func transcendentalActivations() throws {
        var b = GraphBuilder(name: "acts")
        var x = b.input("x", shape: [1, 4, 2, 2])
        var expected: [String: OpClass] = [:]
        for (name, op, cls) in [("silu", Op.activation(.silu), OpClass.transcendental), ("relu", .activation(.relu), .elementwise),
                                ("erf", .unary(.erf), .transcendental), ("hswish", .activation(.hardswish), .elementwise), ("neg", .unary(.neg), .elementwise)] {
            x = try b.add1(name, op, inputs: [x])
            expected[name] = cls
        }
        b.markOutput(x)
        let g = try b.finish()
        for n in g.nodes { if let cls = expected[n.name] { #expect(g.efficiencyClass(n) == cls, "\(n.name)") } }
    }

    /// Transposes and channel shuffles are `permute` (a finer `data_movement`); concat and pad stay `data_movement`.
    @Test func gathersArePermutesAndBlockCopiesStayDataMovement() throws {
        var b = GraphBuilder(name: "moves")
        let x = b.input("x", shape: [1, 8, 4, 4])
        let t = try b.add1("transpose", .transpose(perm: [0, 1, 3, 2]), inputs: [x])
        let s = try b.add1("shuffle", .channelShuffle(groups: 2), inputs: [t])
        let c = try b.add1("concat", .concat(axis: 1), inputs: [s, x])
        b.markOutput(c)
        let g = try b.finish()
        let cls = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.name, g.efficiencyClass($0)) })
        #expect(cls["transpose"] == .permute && cls["shuffle"] == .permute && cls["concat"] == .dataMovement)
        #expect(OpClass.permute.coarse == .dataMovement)
        #expect(g.nodes.allSatisfy { $0.op.opClass == .dataMovement })
    }
}
