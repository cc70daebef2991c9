import NNGraph
import Testing

@Suite("Parallel split rules")
struct ParallelSplitTests {
    /// Matrix-vector products at batch 1: squeeze-excitation fcs of efficientnet_b0 and mobilenet_v3.
    @Test func matrixVectorThreads() {
        // 1152 → 48: 3 panels, long rows: inputs split over both threads.
        #expect(ParallelSplit.matrixVectorSplitsInputs(inFeatures: 1152, outFeatures: 48, threads: 2))
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 1152, outFeatures: 48, threads: 2) == 2)
        // 48 → 1152: 72 panels in ranges of 5: two ranges.
        #expect(!ParallelSplit.matrixVectorSplitsInputs(inFeatures: 48, outFeatures: 1152, threads: 2))
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 48, outFeatures: 1152, threads: 2) == 2)
        // 144 → 6: one panel, rows too short to split: one thread. 240 → 10 likewise (240 < 2 × 128).
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 144, outFeatures: 6, threads: 2) == 1)
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 240, outFeatures: 10, threads: 2) == 1)
        // 10 → 240: 15 panels in ranges of 25: one range. 64 → 64: 4 panels in ranges of 4.
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 10, outFeatures: 240, threads: 2) == 1)
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 64, outFeatures: 64, threads: 2) == 1)
        // 16 → 512: 32 panels in ranges of 16: two ranges; four threads still get only two.
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 16, outFeatures: 512, threads: 2) == 2)
        #expect(ParallelSplit.matrixVectorThreads(inFeatures: 16, outFeatures: 512, threads: 4) == 2)
        for (k, n) in [(1152, 48), (48, 1152), (1280, 1000)] {
            #expect(ParallelSplit.matrixVectorThreads(inFeatures: k, outFeatures: n, threads: 1) == 1)
        }
    }

    /// Binary ops: rows cut into pieces of at most 4096 elements, tasks of about 4096 elements.
    @Test func elementwiseThreads() {
        #expect(ParallelSplit.elementwiseThreads(rows: 1, total: 4096, threads: 2) == 1)
        #expect(ParallelSplit.elementwiseThreads(rows: 1, total: 8192, threads: 2) == 2)
        #expect(ParallelSplit.elementwiseThreads(rows: 512, total: 512 * 16, threads: 2) == 2)   // 512 rows of 16: 2 tasks of 256 rows
        #expect(ParallelSplit.elementwiseThreads(rows: 96, total: 96 * 49, threads: 2) == 1)     // 4704 elements: one task
        #expect(ParallelSplit.elementwiseThreads(rows: 1152, total: 1152 * 49, threads: 4) == 4)
        #expect(ParallelSplit.elementwiseThreads(rows: 0, total: 0, threads: 2) == 1)
    }

    /// `Graph.threadsUsed` applies the rules to nodes: a 1×1 conv on a 1×1 map and a one-row GEMM are
    /// matrix-vector products, a per-channel scale uses its broadcast rows, a GEMM over several rows and
    /// other ops have no rule (nil).
    @Test func graphAppliesTheRules() throws {
        var b = GraphBuilder(name: "rules")
        let x = b.input("x", shape: [1, 1152, 7, 7])
        let pooled = try b.add1("pool", .globalAvgPool, inputs: [x])
        let a = ConvAttributes(inChannels: 1152, outChannels: 48, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
        let fc = try b.add1("fc", .conv(a), inputs: [pooled], params: [ParamInfo(name: "fc.w", shape: [48, 1152, 1, 1]), ParamInfo(name: "fc.b", shape: [48])])
        b.markOutput(fc)
        let s = b.input("s", shape: [1, 1152, 1, 1])
        b.markOutput(try b.add1("scale", .binary(.mul), inputs: [x, s]))
        let v = b.input("v", shape: [1, 240])
        b.markOutput(try b.add1("row", .gemm(GemmAttributes(inFeatures: 240, outFeatures: 10)), inputs: [v],
                                params: [ParamInfo(name: "row.w", shape: [10, 240]), ParamInfo(name: "row.b", shape: [10])]))
        let m = b.input("m", shape: [197, 192])
        b.markOutput(try b.add1("rows", .gemm(GemmAttributes(inFeatures: 192, outFeatures: 192)), inputs: [m],
                                params: [ParamInfo(name: "rows.w", shape: [192, 192]), ParamInfo(name: "rows.b", shape: [192])]))
        let g = try b.finish()
        func used(_ name: String, _ threads: Int = 2) throws -> Int? { g.threadsUsed(try #require(g.nodes.first { $0.name == name }), threads: threads) }
        #expect(try used("fc") == 2)
        #expect(try used("fc", 1) == 1)
        #expect(try used("scale") == 2)
        #expect(try used("row") == 1)
        #expect(try used("rows") == nil)
        #expect(try used("pool") == nil)
    }

    /// A dense conv split by output channels cuts them at whole panels (the runner's blocks), and the
    /// padded-row factor is the busiest thread's rows in whole panels over its even share.
    @Test func outputChannelBlocksAndPaddedRows() {
        #expect(ParallelSplit.outputChannelBlocks(rows: 116, unit: 16, threads: 2) == [0..<48, 48..<116])
        #expect(ParallelSplit.outputChannelBlocks(rows: 116, unit: 16, threads: 4) == [0..<16, 16..<48, 48..<80, 80..<116])
        #expect(ParallelSplit.outputChannelBlocks(rows: 24, unit: 16, threads: 4) == [0..<0, 0..<24])
        #expect(ParallelSplit.outputChannelBlocks(rows: 64, unit: 16, threads: 1) == [0..<64])
        // Every thread computes all rows (pixel tiles): the last panel padded.
        #expect(ParallelSplit.paddedRowFactor(rows: 116, panel: 16, threads: 2, splitsOutputChannels: false) == 128.0 / 116)
        #expect(ParallelSplit.paddedRowFactor(rows: 24, panel: 16, threads: 2, splitsOutputChannels: false) == 32.0 / 24)
        #expect(ParallelSplit.paddedRowFactor(rows: 64, panel: 16, threads: 2, splitsOutputChannels: false) == 1)
        // Split: 48 + 68 rows, the second in 5 panels (80 rows) against an even 58.
        #expect(ParallelSplit.paddedRowFactor(rows: 116, panel: 16, threads: 2, splitsOutputChannels: true) == 160.0 / 116)
        #expect(ParallelSplit.paddedRowFactor(rows: 232, panel: 16, threads: 2, splitsOutputChannels: true) == 256.0 / 232)
        #expect(ParallelSplit.paddedRowFactor(rows: 96, panel: 16, threads: 2, splitsOutputChannels: true) == 1)
        #expect(ParallelSplit.paddedRowFactor(rows: 116, panel: 1, threads: 2, splitsOutputChannels: true) == 1)
    }

    /// The busiest thread's remote share of a tensor for each writer/reader pair (2 and 4 threads).
    @Test func remoteShareOfEachPairOfSplits() {
        typealias P = ParallelSplit.Partition
        // Same split: every thread reads what it wrote.
        #expect(ParallelSplit.remoteShare(written: .blocks, read: .blocks, threads: 2) == 0)
        #expect(ParallelSplit.remoteShare(written: .inner, read: .inner, threads: 4) == 0)
        #expect(ParallelSplit.remoteShare(written: .one, read: .one, threads: 2) == 0)
        // Crossing splits: each thread reads 1/T of the tensor, (T−1)/T of it written elsewhere.
        #expect(ParallelSplit.remoteShare(written: .inner, read: .blocks, threads: 2) == 0.25)
        #expect(ParallelSplit.remoteShare(written: .blocks, read: .inner, threads: 4) == 3.0 / 16)
        // Unknown owners (dynamic tasks, gathers) against a split are not charged; a thread that reads all of
        // it still finds (T−1)/T written elsewhere, whoever wrote what.
        #expect(ParallelSplit.remoteShare(written: .scattered, read: .blocks, threads: 2) == 0)
        #expect(ParallelSplit.remoteShare(written: .inner, read: .scattered, threads: 2) == 0)
        #expect(ParallelSplit.remoteShare(written: .scattered, read: .all, threads: 2) == 0.5)
        #expect(ParallelSplit.remoteShare(written: .interleaved(2), read: .interleaved(2), threads: 2) == 0)
        #expect(ParallelSplit.remoteShare(written: .interleaved(1), read: .blocks, threads: 2) == 0)
        #expect(ParallelSplit.remoteShare(written: .interleaved(2), read: .blocks, threads: 2) == 0.25)
        // Every thread reads all of it: (T−1)/T.
        #expect(ParallelSplit.remoteShare(written: .blocks, read: .all, threads: 2) == 0.5)
        #expect(ParallelSplit.remoteShare(written: .inner, read: .all, threads: 4) == 0.75)
        // One thread reads what all wrote: (T−1)/T; all read what one wrote: 1/T each, or all of it.
        #expect(ParallelSplit.remoteShare(written: .inner, read: .one, threads: 2) == 0.5)
        #expect(ParallelSplit.remoteShare(written: .one, read: .blocks, threads: 4) == 0.25)
        #expect(ParallelSplit.remoteShare(written: .one, read: .all, threads: 2) == 1)
        // One thread: nothing is remote.
        for w in [P.one, .blocks, .inner, .interleaved(2), .scattered] {
            for r in [P.one, .blocks, .inner, .all, .scattered] { #expect(ParallelSplit.remoteShare(written: w, read: r, threads: 1) == 0) }
        }
    }

    /// `Graph.partitions` on an inverted residual block and a transformer MLP, as the runner splits them on
    /// two threads: the expansion splits pixels, the depthwise conv and the pool channel blocks, a 7² 1×1
    /// conv output channels (reading the whole map), a squeeze-excitation fc runs on one thread; the GEMM
    /// over 197 tokens splits feature columns (reading all of X).
    @Test func partitionsFollowTheRunnersSplits() throws {
        typealias P = ParallelSplit.Partition
        var b = GraphBuilder(name: "splits")
        let x = b.input("x", shape: [1, 24, 56, 56])
        let ea = ConvAttributes(inChannels: 24, outChannels: 144, kernel: [1, 1], pads: [0, 0, 0, 0])
        let e = try b.add1("expand", .conv(ea), inputs: [x], params: [ParamInfo(name: "expand.w", shape: [144, 24, 1, 1])])
        let da = ConvAttributes(inChannels: 144, outChannels: 144, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 144)
        let d = try b.add1("dw", .conv(da), inputs: [e], params: [ParamInfo(name: "dw.w", shape: [144, 1, 3, 3])])
        let pooled = try b.add1("pool", .globalAvgPool, inputs: [d])
        let fa = ConvAttributes(inChannels: 144, outChannels: 6, kernel: [1, 1], pads: [0, 0, 0, 0])
        b.markOutput(try b.add1("fc", .conv(fa), inputs: [pooled], params: [ParamInfo(name: "fc.w", shape: [6, 144, 1, 1])]))
        let y = b.input("y", shape: [1, 160, 7, 7])
        let la = ConvAttributes(inChannels: 160, outChannels: 960, kernel: [1, 1], pads: [0, 0, 0, 0])
        b.markOutput(try b.add1("late", .conv(la), inputs: [y], params: [ParamInfo(name: "late.w", shape: [960, 160, 1, 1])]))
        let t = b.input("t", shape: [1, 197, 192])
        b.markOutput(try b.add1("mlp", .gemm(GemmAttributes(inFeatures: 192, outFeatures: 768)), inputs: [t],
                                params: [ParamInfo(name: "mlp.w", shape: [768, 192])]))
        let h1 = b.input("h1", shape: [1, 58, 28, 28]), h2 = b.input("h2", shape: [1, 58, 28, 28])
        let cat = try b.add1("cat", .concat(axis: 1), inputs: [h1, h2])
        let grouped = try b.add1("grouped", .reshape(shape: [1, 2, 58, 28, 28]), inputs: [cat])
        b.markOutput(try b.add1("shuffle", .transpose(perm: [0, 2, 1, 3, 4]), inputs: [grouped]))
        let patches = b.input("patches", shape: [1, 192, 196])
        b.markOutput(try b.add1("flatten", .transpose(perm: [0, 2, 1]), inputs: [patches]))
        let qkv = b.input("qkv", shape: [197, 3, 64])
        b.markOutput(try b.add1("heads", .transpose(perm: [1, 0, 2]), inputs: [qkv]))
        b.markOutput(try b.add1("keep", .transpose(perm: [0, 2, 1]), inputs: [qkv]))
        let g = try b.finish()
        func parts(_ name: String, _ threads: Int = 2) throws -> (reads: [P], write: P) {
            g.partitions(try #require(g.nodes.first { $0.name == name }), threads: threads)
        }
        #expect(try parts("expand").reads == [.inner] && parts("expand").write == .inner)
        #expect(try parts("dw").reads == [.blocks] && parts("dw").write == .blocks)
        #expect(try parts("pool").write == .blocks)
        #expect(try parts("fc").write == .one)
        #expect(try parts("late").reads == [.all] && parts("late").write == .blocks)
        #expect(try parts("mlp").reads == [.all] && parts("mlp").write == .inner)
        // ShuffleNet's shuffle as ONNX writes it (reshape + transpose of 2 groups) reads the t-th block of each
        // group, as the concat of two equal halves before it wrote them: nothing remote.
        #expect(try parts("shuffle").reads == [.interleaved(2)] && parts("shuffle").write == .blocks)
        #expect(try parts("cat").write == .interleaved(2) && parts("cat").reads == [.blocks, .blocks])
        #expect(ParallelSplit.remoteShare(written: try parts("cat").write, read: try parts("shuffle").reads[0], threads: 2) == 0)
        // A patch flatten [192, 196] → [196, 192] of a conv's pixel-split output reads each thread's pixels.
        #expect(try parts("flatten").reads == [.inner])
        // Head split after a GEMM keeps tokens outermost: [197, 3, 64] → [3, 197, 64] reads blocks of each row.
        #expect(try parts("heads").reads == [.inner])
        #expect(try parts("keep").reads == [.blocks])
        // On one thread everything is the calling thread's.
        for name in ["expand", "dw", "pool", "late", "mlp", "shuffle", "cat"] { #expect(try parts(name, 1).write == .one, "\(name)") }
        // The expansion's pixel split crosses the depthwise conv's channel blocks: a quarter remote.
        #expect(ParallelSplit.remoteShare(written: try parts("expand").write, read: try parts("dw").reads[0], threads: 2) == 0.25)
    }

    /// Winograd 3×3 convs split as `WinogradConvolutionStep` does: tile-row blocks (`inner`) on large maps,
    /// output channels (each thread reading the whole map) when the channels outnumber the tiles.
    @Test func winogradConvsSplitTileRowsOrOutputChannels() throws {
        var b = GraphBuilder(name: "winograd")
        let x = b.input("x", shape: [1, 64, 56, 56])
        b.markOutput(try b.add1("large", .conv(ConvAttributes(inChannels: 64, outChannels: 64, kernel: [3, 3], pads: [1, 1, 1, 1])), inputs: [x],
                                params: [ParamInfo(name: "large.w", shape: [64, 64, 3, 3])]))
        let y = b.input("y", shape: [1, 256, 14, 14])
        b.markOutput(try b.add1("deep", .conv(ConvAttributes(inChannels: 256, outChannels: 256, kernel: [3, 3], pads: [1, 1, 1, 1])), inputs: [y],
                                params: [ParamInfo(name: "deep.w", shape: [256, 256, 3, 3])]))
        let g = try b.finish()
        let large = g.partitions(try #require(g.nodes.first { $0.name == "large" }), threads: 2)
        let deep = g.partitions(try #require(g.nodes.first { $0.name == "deep" }), threads: 2)
        #expect(large.reads == [.inner] && large.write == .inner)
        #expect(deep.reads == [.all] && deep.write == .blocks)
        #expect(!ParallelSplit.winogradSplitsOutputChannels(outChannels: 64, outHeight: 56, outWidth: 56, threads: 2))
        #expect(ParallelSplit.winogradSplitsOutputChannels(outChannels: 256, outHeight: 14, outWidth: 14, threads: 2))   // 49 tiles
        #expect(!ParallelSplit.winogradSplitsOutputChannels(outChannels: 256, outHeight: 14, outWidth: 14, threads: 1))
    }
}
