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
}
