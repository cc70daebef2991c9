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
        #expect(OpClass.erf.coarse == .elementwise)
    }

    @Test func transcendentalActivations() throws {
        var b = GraphBuilder(name: "acts")
        var x = b.input("x", shape: [1, 4, 2, 2])
        var expected: [String: OpClass] = [:]
        for (name, op, cls) in [("silu", Op.activation(.silu), OpClass.transcendental), ("relu", .activation(.relu), .elementwise),
                                ("erf", .unary(.erf), .erf), ("gelu", .activation(.gelu), .erf), ("sigmoid", .activation(.sigmoid), .transcendental), ("hswish", .activation(.hardswish), .elementwise), ("neg", .unary(.neg), .elementwise)] {
            x = try b.add1(name, op, inputs: [x])
            expected[name] = cls
        }
        b.markOutput(x)
        let g = try b.finish()
        for n in g.nodes { if let cls = expected[n.name] { #expect(g.efficiencyClass(n) == cls, "\(n.name)") } }
    }

    /// Transposes that move the innermost axis are `permute` (a finer `data_movement`: element gathers);
    /// row-preserving transposes, channel shuffles, concat and pad stay `data_movement`.
    @Test func gathersArePermutesAndBlockCopiesStayDataMovement() throws {
        var b = GraphBuilder(name: "moves")
        let x = b.input("x", shape: [1, 8, 4, 4])
        let t = try b.add1("transpose", .transpose(perm: [0, 1, 3, 2]), inputs: [x])
        let s = try b.add1("shuffle", .channelShuffle(groups: 2), inputs: [t])
        let c = try b.add1("concat", .concat(axis: 1), inputs: [s, x])
        let rows = try b.add1("rows", .transpose(perm: [0, 2, 1, 3]), inputs: [c])         // [1, 4, 16, 4]: rows of 4 move whole
        let unit = try b.add1("unit", .reshape(shape: [1, 4, 16, 4, 1]), inputs: [rows])
        let last = try b.add1("last", .transpose(perm: [0, 1, 2, 4, 3]), inputs: [unit])   // the innermost non-unit axis stays
        b.markOutput(last)
        let g = try b.finish()
        let cls = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.name, g.efficiencyClass($0)) })
        #expect(cls["transpose"] == .permute && cls["shuffle"] == .dataMovement && cls["concat"] == .dataMovement)
        #expect(cls["rows"] == .dataMovement && cls["last"] == .dataMovement)
        #expect(OpClass.permute.coarse == .dataMovement)
        #expect(g.nodes.allSatisfy { $0.op.opClass == .dataMovement || $0.op.opClass == .view })
    }

    /// A binary op pays `channel_overhead` per contiguous row it walks: one flat stream for same-shape
    /// and scalar operands, one row per channel for a per-channel scale, one per token for a bias over
    /// the last dim; other elementwise maps are one stream; a depthwise conv pays per output row
    /// (channels × output height), everything else per channel plane.
    @Test func channelOverheadUnitsFollowTheBroadcastRows() throws {
        #expect(TensorShape.broadcastRows(output: [1, 576, 7, 7], operands: [[1, 576, 7, 7], [1, 576, 1, 1]]) == 576)
        #expect(TensorShape.broadcastRows(output: [2, 16, 4, 4], operands: [[2, 16, 4, 4], [16, 1, 1]]) == 32)
        #expect(TensorShape.broadcastRows(output: [1, 32, 112, 112], operands: [[1, 32, 112, 112], [1, 32, 112, 112]]) == 1)
        #expect(TensorShape.broadcastRows(output: [1, 8, 4, 4], operands: [[1, 8, 4, 4], []]) == 1)
        #expect(TensorShape.broadcastRows(output: [1, 197, 192], operands: [[1, 197, 192], [192]]) == 197)
        // A broadcast along a middle dim: the run is the trailing dims where both operands are indexed.
        #expect(TensorShape.broadcastRows(output: [1, 3, 5, 6], operands: [[1, 3, 5, 6], [1, 3, 1, 6]]) == 15)

        var b = GraphBuilder(name: "rows")
        let x = b.input("x", shape: [1, 24, 8, 8])
        let s = b.input("s", shape: [1, 24, 1, 1])
        let m = try b.add1("scale", .binary(.mul), inputs: [x, s])
        let a = try b.add1("add", .binary(.add), inputs: [m, x])
        let bias = try b.add1("bias", .binary(.add), inputs: [a], params: [ParamInfo(name: "bias.b", shape: [24, 1, 1])])
        let r = try b.add1("relu", .activation(.relu), inputs: [bias])
        let p = try b.add1("pool", .maxPool(PoolAttributes(kernel: [2, 2], strides: [2, 2])), inputs: [r])
        let dw = ConvAttributes(inChannels: 24, outChannels: 24, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 24)
        let d = try b.add1("dw", .conv(dw), inputs: [p], params: [ParamInfo(name: "dw.w", shape: [24, 1, 3, 3])])
        let pw = ConvAttributes(inChannels: 24, outChannels: 8, kernel: [1, 1])
        b.markOutput(try b.add1("pw", .conv(pw), inputs: [d], params: [ParamInfo(name: "pw.w", shape: [8, 24, 1, 1])]))
        let g = try b.finish()
        let units = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.name, g.channelOverheadUnits($0)) })
        #expect(units == ["scale": 24, "add": 1, "bias": 24, "relu": 1, "pool": 24, "dw": 24 * 2, "pw": 8])
    }

    /// A copy pays `channel_overhead.data_movement` per contiguous run it moves: a transpose's runs of the
    /// inner axes it keeps innermost and in order (size-1 axes ignored), none for a gather (the inner axis
    /// moves: priced by the `permute` share); a concat's blocks per input; a pad's rows.
    @Test func copiesPayPerContiguousRun() throws {
        #expect(Graph.contiguousRuns(input: [197, 3, 64], perm: [1, 0, 2]) == 591)                  // attention head split
        #expect(Graph.contiguousRuns(input: [1, 197, 3, 64], perm: [0, 2, 1, 3]) == 591)
        #expect(Graph.contiguousRuns(input: [1, 2, 58, 28, 28], perm: [0, 2, 1, 3, 4]) == 116)      // channel shuffle: planes of 784
        #expect(Graph.contiguousRuns(input: [3, 197, 64], perm: [0, 2, 1]) == 0)                    // K → Kᵀ: a gather
        #expect(Graph.contiguousRuns(input: [1, 12, 19, 19], perm: [0, 2, 3, 1]) == 0)              // NCHW → NHWC: a gather
        #expect(Graph.contiguousRuns(input: [197, 1, 192], perm: [1, 0, 2]) == 1)                   // only a size-1 axis moves: one run
        #expect(Graph.contiguousRuns(input: [2, 3], perm: [0]) == 0)                                // malformed perm

        var b = GraphBuilder(name: "copies")
        let x = b.input("x", shape: [1, 58, 28, 28])
        let y = b.input("y", shape: [1, 58, 28, 28])
        let c = try b.add1("cat", .concat(axis: 1), inputs: [x, y])
        let t = b.input("t", shape: [1, 196, 192])
        let p = try b.add1("pad", .pad(pads: [0, 1, 0, 0, 0, 0]), inputs: [t])
        b.markOutput(c)
        b.markOutput(p)
        let g = try b.finish()
        let units = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.name, g.channelOverheadUnits($0)) })
        #expect(units == ["cat": 2, "pad": 197])
    }
}
