import Foundation
@testable import KernelRunner
import NNGraph
import Testing

@Suite("Arena planner")
struct MemoryPlannerTests {
    @Test func neverOverlapsLiveBuffers() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<50 {
            let n = 1 + Int(rng.next() % 40)
            let requests = (0..<n).map { _ -> MemoryPlanner.Request in
                let first = Int(rng.next() % 30)
                return MemoryPlanner.Request(size: 1 + Int(rng.next() % 5000), first: first, last: first + Int(rng.next() % 10))
            }
            let plan = MemoryPlanner.plan(requests)
            for i in 0..<n {
                #expect(plan.offsets[i] % MemoryPlanner.alignment == 0)
                #expect(plan.offsets[i] + requests[i].size <= plan.total)
                for j in 0..<i where requests[i].first <= requests[j].last && requests[j].first <= requests[i].last {
                    let disjoint = plan.offsets[i] + requests[i].size <= plan.offsets[j] || plan.offsets[j] + requests[j].size <= plan.offsets[i]
                    #expect(disjoint, "buffers \(i) and \(j) are live together and overlap")
                }
            }
            #expect(plan.total >= plan.lowerBound)
        }
    }

    @Test func chainReusesTwoBuffers() {
        // a -> b -> c -> d: each tensor dies when the next is produced; two slots suffice.
        let requests = (0..<4).map { MemoryPlanner.Request(size: 1024, first: $0, last: $0 + 1) }
        let plan = MemoryPlanner.plan(requests)
        #expect(plan.total == 2048)
        #expect(plan.lowerBound == 2048)
    }

    /// Element-wise steps take over an input that dies at them (`ModelCompiler.planInPlace`), and
    /// only then: a squeeze-excitation style graph keeps the right values on every runner
    /// configuration, and the compiler shares exactly the buffers it may.
    @Test func elementwiseStepsOverwriteOnlyDyingInputs() throws {
        let shape = TensorShape([1, 4, 30, 30])
        var b = GraphBuilder(name: "inplace")
        let x = b.input("x", shape: shape)
        let a = try b.add1("relu", .activation(.relu), inputs: [x])          // x is a graph input: own buffer
        let s = try b.add1("pool", .globalAvgPool, inputs: [a])
        let m = try b.add1("scale", .binary(.mul), inputs: [a, s])           // a dies here: shared
        let n = try b.add1("gate", .activation(.sigmoid), inputs: [m])       // m is read again below: own buffer
        let z = try b.add1("sum", .binary(.add), inputs: [n, m])             // n and m die here: shares n's
        b.markOutput(z)
        let g = try b.finish()
        let plan = try ModelCompiler(graph: g, threads: 2)
        #expect(plan.root[x] == x && plan.root[a] == a)
        #expect(plan.root[m] == plan.root[a])
        #expect(plan.root[n] == n)
        #expect(plan.root[z] == plan.root[n])
        #expect(plan.arenaOffset[plan.root[m]] != plan.arenaOffset[plan.root[n]])
        let separate = try ModelCompiler(graph: g, threads: 2, inPlace: false)
        #expect([x, a, s, m, n, z].allSatisfy { separate.root[$0] == $0 })

        let input = randomInput(shape)
        let plane = 30 * 30
        var want = [Float](repeating: 0, count: shape.elementCount)
        for c in 0..<4 {
            let relu = input.values[c * plane..<(c + 1) * plane].map { Swift.max($0, 0) }
            let mean = relu.reduce(0, +) / Float(plane)
            for (i, v) in relu.enumerated() {
                let scaled = v * mean
                want[c * plane + i] = 1 / (1 + Foundation.exp(-scaled)) + scaled
            }
        }
        for got in try runBoth(g, WeightStore(), [input]) { expectClose(got[0].values, want, "in-place SE chain") }
        let own = try CompiledModel(graph: g, weights: WeightStore(), options: RunnerOptions(threads: 2, inPlace: false)).run([input])
        expectClose(own[0].values, want, "SE chain, a buffer per step")
        // The input tensor itself is never overwritten (the next inference reads it again).
        let model = try CompiledModel(graph: g, weights: WeightStore(), threads: 2)
        let first = try model.run([input])[0].values
        model.execute()
        expectClose(model.readOutputs()[0].values, first, tolerance: 0, "second inference on the same inputs")
    }

    /// A transpose that only moves size-1 axes is a view (`Graph.zeroCopyOffsets`): no step, the same
    /// values as the copy; one that reorders real axes still copies.
    @Test func unitAxisTransposeIsAView() throws {
        var b = GraphBuilder(name: "tr")
        let x = b.input("x", shape: [1, 5, 7])
        let r = try b.add1("relu", .activation(.relu), inputs: [x])
        let t = try b.add1("swap", .transpose(perm: [1, 0, 2]), inputs: [r])        // [5, 1, 7]: a view
        let u = try b.add1("real", .transpose(perm: [2, 1, 0]), inputs: [t])        // [7, 1, 5]: a copy
        b.markOutput(try b.add1("relu2", .activation(.relu), inputs: [u]))
        let g = try b.finish()
        #expect(g.zeroCopyOffsets(g.nodes[1]) == [0])
        #expect(g.zeroCopyOffsets(g.nodes[2]) == nil)
        let input = randomInput([1, 5, 7])
        var want = [Float](repeating: 0, count: 35)
        for i in 0..<5 { for j in 0..<7 { want[j * 5 + i] = Swift.max(input.values[i * 7 + j], 0) } }
        for o in runnerConfigurations {
            let model = try CompiledModel(graph: g, weights: WeightStore(), options: o)
            #expect(model.layers.first { $0.nodes == ["swap"] }?.algorithm == "view")
            #expect(model.layers.first { $0.nodes == ["real"] }?.algorithm == "transpose")
            expectClose(try model.run([input])[0].values, want, tolerance: 0, "unit-axis transpose")
        }
    }

    /// Concat elision (`Graph.storageRoots(concatsInPlace:)`): producers write straight into their
    /// slice of the concat output, nested concats chain, a graph input is still copied, and a reader
    /// of a placed input after the concat sees its values (no in-place step writes over the slice).
    @Test func concatInputsAreWrittenInPlace() throws {
        let shape = TensorShape([1, 2, 3, 3])
        var b = GraphBuilder(name: "cat")
        let x = b.input("x", shape: shape)
        let a = try b.add1("relu", .activation(.relu), inputs: [x])
        let s = try b.add1("sig", .activation(.sigmoid), inputs: [x])
        let c = try b.add1("cat", .concat(axis: 1), inputs: [a, s, x])       // a, s placed; x (graph input) copied
        let t = try b.add1("sig2", .activation(.sigmoid), inputs: [a])      // reads a from its slice
        let p = try b.add1("swap", .transpose(perm: [0, 1, 3, 2]), inputs: [a]) // a copy step writing into its slice
        let f = try b.add1("cat2", .concat(axis: 1), inputs: [c, t, p])     // c, t and p placed: no step
        let r = try b.add1("relu2", .activation(.relu), inputs: [a])        // last reader of a, after cat2
        b.markOutput(f)
        b.markOutput(r)
        let g = try b.finish()
        var fused = g
        fused.fuse()
        let storage = fused.storageRoots(inPlace: true, concatsInPlace: true)
        #expect(storage.root[a] == f && storage.offset[a] == 0)
        #expect(storage.root[s] == f && storage.offset[s] == 18)
        #expect(storage.root[c] == f && storage.offset[c] == 0)
        #expect(storage.root[t] == f && storage.offset[t] == 54)
        #expect(storage.root[p] == f && storage.offset[p] == 72)
        #expect(storage.root[x] == x && storage.root[r] == r, "graph input copied; relu2 does not write over a's slice")
        #expect(storage.concatInputs.values.map { $0.sorted() }.sorted { $0.count < $1.count } == [[0, 1], [0, 1, 2]])
        let plain = fused.storageRoots(inPlace: true)
        #expect(plain.concatInputs.isEmpty && plain.root[a] == a)

        let input = randomInput(shape)
        func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
        let relu = input.values.map { Swift.max($0, 0) }
        var swapped = relu
        for ch in 0..<2 { for i in 0..<3 { for j in 0..<3 { swapped[ch * 9 + j * 3 + i] = relu[ch * 9 + i * 3 + j] } } }
        let want = relu + input.values.map(sigmoid) + input.values + relu.map(sigmoid) + swapped
        for o in runnerConfigurations {
            let model = try CompiledModel(graph: g, weights: WeightStore(), options: o)
            #expect(model.layers.first { $0.nodes == ["cat"] }?.algorithm == "concat")
            #expect(model.layers.first { $0.nodes == ["cat2"] }?.algorithm == "view")
            #expect(model.layers.first { $0.nodes == ["swap"] }?.algorithm == "transpose", "still copies, into its slice")
            let got = try model.run([input])
            expectClose(got[0].values, want, tolerance: 1e-6, "placed concats, threads \(o.threads ?? 0)")
            expectClose(got[1].values, relu, tolerance: 0, "reader after the concat")
            var copying = o
            copying.concatsInPlace = false
            let copied = try CompiledModel(graph: g, weights: WeightStore(), options: copying)
            #expect(copied.layers.first { $0.nodes == ["cat2"] }?.algorithm == "concat")
            expectClose(try copied.run([input])[0].values, got[0].values, tolerance: 0, "copying concats: the same values")
        }
    }

    /// A concat read only by a channel shuffle (or, as ONNX exports it, a reshape and a transpose) runs
    /// no kernel: the copy reads both halves from their own buffers (`Graph.concatsReadByCopies`), which
    /// stay alive until it has run even when nothing else reads them after the concat.
    @Test func shuffleReadsTheConcatsInputs() throws {
        let shape = TensorShape([1, 4, 3, 3])
        for onnxStyle in [false, true] {
            var b = GraphBuilder(name: "shuffle")
            let x = b.input("x", shape: shape)
            let parts = try b.add("split", .split(axis: 1, sizes: [2, 2]), inputs: [x])   // left half: a view at offset 0
            let right = try b.add1("relu", .activation(.relu), inputs: [parts[1]])
            let c = try b.add1("cat", .concat(axis: 1), inputs: [parts[0], right])
            let y: Int
            if onnxStyle {
                let r = try b.add1("reshape", .reshape(shape: [1, 2, 2, 3, 3]), inputs: [c])
                let t = try b.add1("swap", .transpose(perm: [0, 2, 1, 3, 4]), inputs: [r])
                y = try b.add1("flat", .reshape(shape: [1, 4, 3, 3]), inputs: [t])
            } else {
                y = try b.add1("swap", .channelShuffle(groups: 2), inputs: [c])
            }
            b.markOutput(try b.add1("sig", .activation(.sigmoid), inputs: [y]))
            let g = try b.finish()
            var fused = g
            fused.fuse()
            let read = fused.concatsReadByCopies()
            #expect(read.count == 1 && read.values.first?.ranges == [0..<1, 1..<2], "onnx style \(onnxStyle)")
            let input = randomInput(shape)
            // Channels [x0, x1, relu(x2), relu(x3)] shuffled in groups of 2: x0, relu(x2), x1, relu(x3).
            func plane(_ ch: Int) -> [Float] { Array(input.values[ch * 9..<(ch + 1) * 9]) }
            let relu = { (v: [Float]) in v.map { Swift.max($0, 0) } }
            let want = (plane(0) + relu(plane(2)) + plane(1) + relu(plane(3))).map { 1 / (1 + Foundation.exp(-$0)) }
            for o in runnerConfigurations {
                let model = try CompiledModel(graph: g, weights: WeightStore(), options: o)
                #expect(model.layers.first { $0.nodes == ["cat"] }?.algorithm == "view")
                let got = try model.run([input])[0].values
                expectClose(got, want, tolerance: 1e-6, "shuffle of a concat, onnx style \(onnxStyle), threads \(o.threads ?? 0)")
                var copying = o
                copying.concatsInPlace = false
                expectClose(try CompiledModel(graph: g, weights: WeightStore(), options: copying).run([input])[0].values, got,
                            tolerance: 0, "the concat copied")
            }
        }
    }
}
