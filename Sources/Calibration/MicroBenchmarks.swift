import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// One micro-benchmark: a chain of identical kernels, so the middle kernels read and write
/// activations where the cost model says a network's activations live (graph inputs and
/// outputs sit in main memory; only the chain's first and last kernel touch them).
public struct MicroBenchmark: Sendable {
    public var name: String
    /// Family written into the `source:` of fitted values.
    public var benchmark: String
    public var opClass: OpClass
    /// nil = decided from the cost model's traffic (a stream's residence level); otherwise fixed.
    public var role: CalibrationSample.Role?
    public var graph: Graph
}

/// The benchmark suite: GEMM/conv grid, depthwise conv, activations, pooling, attention,
/// normalization, streams across working-set sizes, and a tiny-kernel chain for the overhead.
public enum MicroBenchmarkSuite {
    static func chain(_ name: String, input: TensorShape, count: Int, _ layer: (inout GraphBuilder, String, Int) throws(GraphError) -> Int) throws(GraphError) -> Graph {
        var b = GraphBuilder(name: name)
        var x = b.input("x", shape: input)
        for i in 0..<count { x = try layer(&b, "\(name).\(i)", x) }
        b.markOutput(x)
        return try b.finish()
    }

    /// `x = relu(input)` read by `count` copies of one kernel (outputs all kept): for kernels that
    /// cannot chain (a global pool's output is 1×1, a concat doubles its input). The middle kernels
    /// read an activation that the cost model places in a cache level, as in a network.
    static func fanOut(_ name: String, input: TensorShape, count: Int, _ layer: (inout GraphBuilder, String, Int) throws(GraphError) -> Int) throws(GraphError) -> Graph {
        var b = GraphBuilder(name: name)
        let x = try b.add1("\(name).src", .activation(.relu), inputs: [b.input("x", shape: input)])
        for i in 0..<count { b.markOutput(try layer(&b, "\(name).\(i)", x)) }
        return try b.finish()
    }

    static func convChain(_ name: String, c: Int, hw: Int, k: Int, groups: Int = 1, count: Int) throws(GraphError) -> Graph {
        try chain(name, input: [1, c, hw, hw], count: count) { (b: inout GraphBuilder, n: String, x: Int) throws(GraphError) -> Int in
            let a = ConvAttributes(inChannels: c, outChannels: c, kernel: [k, k], pads: Array(repeating: k / 2, count: 4), groups: groups, hasBias: true)
            return try b.add1(n, .conv(a), inputs: [x], params: [ParamInfo(name: "\(n).w", shape: [c, c / groups, k, k]), ParamInfo(name: "\(n).b", shape: [c])])
        }
    }

    static func unaryChain(_ name: String, _ op: Op, shape: TensorShape, count: Int) throws(GraphError) -> Graph {
        try chain(name, input: shape, count: count) { (b: inout GraphBuilder, n: String, x: Int) throws(GraphError) -> Int in try b.add1(n, op, inputs: [x]) }
    }

    public static func suite(quick: Bool) throws(GraphError) -> [MicroBenchmark] {
        var out: [MicroBenchmark] = []
        let n = quick ? 4 : 6
        // Fixed per-kernel overhead: relu on 4 floats.
        out.append(MicroBenchmark(name: "tiny-relu×16", benchmark: "tiny-kernel chain", opClass: .elementwise, role: .overhead,
                                  graph: try unaryChain("tiny", .activation(.relu), shape: [1, 1, 2, 2], count: 16)))
        // Fixed per-kernel overhead of other classes: the same kind of tiny kernel a network runs
        // (squeeze-excitation 1×1 convs on 1×1 maps, global pools, small depthwise convs, transposes,
        // softmax rows), so their fixed cost (GEMM call, thread-pool dispatch) is measured, not assumed.
        out.append(MicroBenchmark(name: "tiny-conv1x1-c64-1²×16", benchmark: "tiny-kernel chain", opClass: .conv, role: .overhead,
                                  graph: try convChain("tinyconv", c: 64, hw: 1, k: 1, count: 16)))
        out.append(MicroBenchmark(name: "tiny-dwconv3x3-c32-4²×16", benchmark: "tiny-kernel chain", opClass: .depthwise, role: .overhead,
                                  graph: try convChain("tinydw", c: 32, hw: 4, k: 3, groups: 32, count: 16)))
        out.append(MicroBenchmark(name: "tiny-globalavgpool-c64×16", benchmark: "tiny-kernel chain", opClass: .pooling, role: .overhead,
                                  graph: try unaryChain("tinygap", .globalAvgPool, shape: [1, 64, 1, 1], count: 16)))
        out.append(MicroBenchmark(name: "tiny-transpose-8x4x4×16", benchmark: "tiny-kernel chain", opClass: .dataMovement, role: .overhead,
                                  graph: try unaryChain("tinytr", .transpose(perm: [0, 1, 3, 2]), shape: [1, 8, 4, 4], count: 16)))
        out.append(MicroBenchmark(name: "tiny-softmax-16×16", benchmark: "tiny-kernel chain", opClass: .normalization, role: .overhead,
                                  graph: try unaryChain("tinysm", .softmax(axis: -1), shape: [1, 16], count: 16)))
        // Streams: relu over working sets from 4 KiB to 64 MiB (×4 steps; quick ×16).
        let streamKiB = quick ? [4, 64, 1024, 16384, 65536] : [4, 16, 64, 256, 1024, 4096, 16384, 65536]
        for kib in streamKiB {
            let elements = kib * 256
            out.append(MicroBenchmark(name: "stream-relu-\(kib)KiB", benchmark: "relu stream sweep 4 KiB-64 MiB", opClass: .elementwise, role: nil,
                                      graph: try unaryChain("stream\(kib)", .activation(.relu), shape: [1, elements / 64, 8, 8], count: n)))
        }
        // Dense conv / GEMM grid: each shape is tagged with its efficiency class (conv_1x1,
        // conv_winograd, conv_kxk, gemm; `Graph.efficiencyClass`); `conv` is fitted on all of them.
        let convGrid: [(c: Int, hw: Int, k: Int)] = quick
            ? [(64, 28, 1), (256, 14, 1), (64, 28, 3), (128, 14, 3), (256, 7, 3), (48, 28, 5)]
            : [(32, 56, 1), (64, 28, 1), (128, 28, 1), (256, 14, 1), (512, 7, 1), (24, 56, 1),
               (32, 56, 3), (64, 28, 3), (128, 14, 3), (96, 14, 3), (64, 56, 3), (128, 28, 3), (256, 14, 3),
               (256, 7, 3), (512, 7, 3), (48, 28, 5), (96, 14, 5), (64, 14, 7)]
        for g in convGrid {
            let graph = try convChain("conv\(g.k)_\(g.c)_\(g.hw)", c: g.c, hw: g.hw, k: g.k, count: n)
            out.append(MicroBenchmark(name: "conv\(g.k)x\(g.k)-c\(g.c)-\(g.hw)²", benchmark: "conv/GEMM grid", opClass: graph.efficiencyClass(graph.nodes[0]),
                                      role: .compute, graph: graph))
        }
        for d in quick ? [192] : [192, 384, 768] {
            let g = try chain("gemm\(d)", input: [1, 197, d], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .gemm(GemmAttributes(inFeatures: d, outFeatures: d)), inputs: [x],
                           params: [ParamInfo(name: "\(name).w", shape: [d, d]), ParamInfo(name: "\(name).b", shape: [d])])
            }
            out.append(MicroBenchmark(name: "gemm-197x\(d)x\(d)", benchmark: "conv/GEMM grid", opClass: .gemm, role: .compute, graph: g))
        }
        // Depthwise 3×3.
        let dw: [(c: Int, hw: Int)] = quick ? [(32, 112), (144, 28)] : [(32, 112), (96, 56), (144, 28), (384, 14), (960, 7)]
        for d in dw {
            out.append(MicroBenchmark(name: "dwconv3x3-c\(d.c)-\(d.hw)²", benchmark: "depthwise 3×3 grid", opClass: .depthwise, role: .compute,
                                      graph: try convChain("dw\(d.c)_\(d.hw)", c: d.c, hw: d.hw, k: 3, groups: d.c, count: n)))
        }
        // Activations with real arithmetic: exp/erf-based ones (class transcendental) and cheap ones
        // and a binary add (class elementwise); `elementwise` is also fitted over all of them.
        for (act, shape) in [(Activation.sigmoid, TensorShape([1, 64, 28, 28])), (.gelu, TensorShape([1, 197, 768])), (.silu, TensorShape([1, 96, 28, 28])),
                             (.hardswish, TensorShape([1, 96, 56, 56]))]
            where !quick || act != .silu {
            let graph = try unaryChain("act_\(act.rawValue)", .activation(act), shape: shape, count: n)
            out.append(MicroBenchmark(name: "\(act.rawValue)-\(shape.dims.map(String.init).joined(separator: "x"))", benchmark: "activation grid",
                                      opClass: graph.efficiencyClass(graph.nodes[0]), role: .compute, graph: graph))
        }
        // Streaming kernels (`memory_efficiency` per class): binary ops (same shape, and the per-channel
        // scale of squeeze-excitation), global pooling, and data movement (concat, transpose, channel shuffle).
        for (c, hw) in quick ? [(64, 28)] : [(64, 28), (32, 112)] {
            let g = try chain("add\(c)_\(hw)", input: [1, c, hw, hw], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .binary(.add), inputs: [x, x])
            }
            out.append(MicroBenchmark(name: "add-1x\(c)x\(hw)x\(hw)", benchmark: "streaming grid", opClass: .elementwise, role: .streaming, graph: g))
        }
        for (c, hw) in quick ? [(144, 28)] : [(144, 28), (480, 14)] {
            let g = try chain("scale\(c)_\(hw)", input: [1, c, hw, hw], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .binary(.mul), inputs: [x], params: [ParamInfo(name: "\(name).s", shape: [1, c, 1, 1])])
            }
            out.append(MicroBenchmark(name: "mul-1x\(c)x\(hw)x\(hw)-by-channel", benchmark: "streaming grid", opClass: .elementwise, role: .streaming, graph: g))
        }
        for (c, hw) in quick ? [(144, 28)] : [(144, 28), (96, 56), (480, 14)] {
            out.append(MicroBenchmark(name: "globalavgpool-c\(c)-\(hw)²", benchmark: "streaming grid", opClass: .pooling, role: .streaming,
                                      graph: try fanOut("gap\(c)_\(hw)", input: [1, c, hw, hw], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                                          try b.add1(name, .globalAvgPool, inputs: [x])
                                      }))
        }
        for (c, hw) in quick ? [(58, 28)] : [(58, 28), (116, 14)] {
            // x → concat(x, x) doubles the channels per step: three steps, the middle one is timed.
            out.append(MicroBenchmark(name: "concat-2x\(2 * c)-\(hw)²", benchmark: "streaming grid", opClass: .dataMovement, role: .streaming,
                                      graph: try chain("cat\(c)_\(hw)", input: [1, c, hw, hw], count: 3) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                                          try b.add1(name, .concat(axis: 1), inputs: [x, x])
                                      }))
            out.append(MicroBenchmark(name: "channelshuffle-\(2 * c)-\(hw)²", benchmark: "streaming grid", opClass: .dataMovement, role: .streaming,
                                      graph: try unaryChain("shuffle\(c)_\(hw)", .channelShuffle(groups: 2), shape: [1, 2 * c, hw, hw], count: n)))
        }
        for (t, h, d) in quick ? [(197, 3, 64)] : [(197, 3, 64), (50, 6, 64)] {
            out.append(MicroBenchmark(name: "transpose-\(t)x\(h)x\(d)", benchmark: "streaming grid", opClass: .dataMovement, role: .streaming,
                                      graph: try unaryChain("tr\(t)_\(h)", .transpose(perm: [0, 2, 1, 3]), shape: [1, t, h, d], count: n)))
        }
        // Pooling 3×3 stride 1.
        for (c, hw) in quick ? [(64, 56)] : [(64, 56), (192, 28)] {
            let p = PoolAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])
            out.append(MicroBenchmark(name: "maxpool3x3-c\(c)-\(hw)²", benchmark: "pooling grid", opClass: .pooling, role: .compute,
                                      graph: try unaryChain("pool\(c)_\(hw)", .maxPool(p), shape: [1, c, hw, hw], count: n)))
        }
        // Attention (q = k = v = the previous output).
        for (t, d, h) in quick ? [(197, 192, 3)] : [(197, 192, 3), (50, 384, 6), (197, 384, 6)] {
            let g = try chain("attn\(t)_\(d)", input: [1, t, d], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .attention(heads: h), inputs: [x, x, x])
            }
            out.append(MicroBenchmark(name: "attention-t\(t)-d\(d)-h\(h)", benchmark: "attention grid", opClass: .attention, role: .compute, graph: g))
        }
        // Normalization: softmax (class softmax) and layer norm (class normalization).
        for shape in quick ? [TensorShape([1, 3, 197, 197])] : [[1, 3, 197, 197], [1, 6, 50, 50]] {
            out.append(MicroBenchmark(name: "softmax-\(shape.dims.dropFirst().map(String.init).joined(separator: "x"))", benchmark: "normalization grid",
                                      opClass: .softmax, role: .compute,
                                      graph: try unaryChain("softmax\(shape[1])", .softmax(axis: -1), shape: shape, count: n)))
        }
        let g = try chain("layernorm", input: [1, 197, 384], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
            try b.add1(name, .layerNorm(axis: -1, epsilon: 1e-6), inputs: [x],
                       params: [ParamInfo(name: "\(name).weight", shape: [384]), ParamInfo(name: "\(name).bias", shape: [384])])
        }
        out.append(MicroBenchmark(name: "layernorm-197x384", benchmark: "normalization grid", opClass: .normalization, role: .compute, graph: g))
        return out
    }
}

/// Runs micro-benchmarks with the real kernels and turns each into a `CalibrationSample`
/// using the cost model's own counting on `template` (traffic does not depend on bandwidths).
public enum MicroBenchmarkRunner {
    public struct Options: Sendable {
        public var threads: Int?
        public var timing: TimingOptions
        public init(threads: Int? = nil, timing: TimingOptions) {
            self.threads = threads
            self.timing = timing
        }
    }

    /// Runs a benchmark's chain with the real kernels (seeded weights and inputs) and estimates it
    /// with the cost model on `device(threads the runner used)`; the two line up kernel by kernel.
    static func measureAndEstimate(_ bench: MicroBenchmark, device: (Int) -> DeviceProfile, unit: String?, threads: Int?,
                                   timing: TimingOptions) throws -> (measured: ModelMeasurement, estimate: DeviceEstimate) {
        let compiled = try CompiledModel(graph: bench.graph, weights: SeededWeights.generate(for: bench.graph), threads: threads)
        let inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: 7 &+ UInt64(i)) }
        let m = try TimingHarness.measure(compiled, inputs: inputs, options: timing)
        let estimate = try AnalyticalModel.estimate(compiled.graph, on: device(compiled.threads), unit: unit)
        guard estimate.layers.count == compiled.layers.count, compiled.layers.count >= 1 else {
            throw CostModelError(message: "\(bench.name): the cost model's kernels do not line up with the runner's")
        }
        return (m, estimate)
    }

    public static func run(_ bench: MicroBenchmark, template: DeviceProfile, unit: String?, options: Options) throws -> CalibrationSample {
        let (m, estimate) = try measureAndEstimate(bench, device: { _ in template }, unit: unit, threads: options.threads, timing: options.timing)
        let count = estimate.layers.count
        // Middle kernels (all but first and last when there are ≥ 3): activations resident in a cache level.
        let middle = count >= 3 ? Array(1..<(count - 1)) : Array(0..<count)
        let times = middle.map { m.layers[$0].p50 }.sorted()
        let measured = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let layer = estimate.layers[middle[middle.count / 2]]
        let bytes = layer.traffic.map { $0.totalBytes.value }
        let role = bench.role ?? .bandwidth(level: bytes.lastIndex { $0 > 0 } ?? 0)
        // The benchmark's class part, and the kernel's other parts at their classes (as the cost model prices them).
        var other = layer.computeFlopsByClass
        let own = other.removeValue(forKey: bench.opClass) ?? (other.isEmpty ? Double(layer.counts.flops) : 0)
        let fitsCompute = role == .compute   // overhead and bandwidth kernels: FLOPs negligible, not split
        return CalibrationSample(name: bench.name, benchmark: bench.benchmark, role: role, opClass: bench.opClass,
                                 flops: fitsCompute ? own : Double(layer.counts.flops), otherFlops: fitsCompute ? other : [:],
                                 levelBytes: bytes, measured: measured)
    }
}
