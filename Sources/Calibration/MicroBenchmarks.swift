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
    /// Kernels (anchor names) whose times make the sample; nil = the chain's middle kernels.
    /// In-context benchmarks interleave producer kernels that are not timed.
    public var timed: Set<String>? = nil
    /// Runs start with cold caches (`TimingOptions.evictBytes`): weights come from main memory,
    /// as in a network whose weights do not fit the caches.
    public var cold = false
    /// Whether element-wise kernels may overwrite a dying input (`RunnerOptions.inPlace`). Off for
    /// chains of one kernel, which measure a stream from one buffer into another (the bandwidth
    /// per level that every kernel's traffic is priced at); on for in-context units, which run
    /// their kernels as a network does (a squeeze-excitation scale overwrites its producer's output).
    public var inPlace = false

    /// Bytes read between runs of a `cold` benchmark: 4× the 8 MiB last-level cache of the
    /// machine this was written on, and as large as the L3 of most single-socket servers.
    public static let evictBytes = 32 << 20

    /// The same benchmark with cold caches at the start of every run.
    func coldCaches() -> MicroBenchmark {
        var b = self
        b.cold = true
        return b
    }
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

    /// The producer kernel of an in-context benchmark unit.
    enum Producer { case conv1x1, depthwise3x3, gemm }
    /// What an in-context unit hands to the next unit: the timed kernel's output, or the producer's.
    enum PassOn { case timed, producer }

    /// `count` units of `producer → timed kernel`, each unit's producer reading the previous unit's
    /// result: the timed kernel (anchor `name.i`) reads operands as a network leaves them. Units
    /// 1…count−2 are timed (the first reads the graph input, the last writes the graph output).
    static func inContext(_ name: String, opClass: OpClass, input: TensorShape, count: Int, producer: Producer, passOn: PassOn = .timed,
                          role: CalibrationSample.Role = .streaming, benchmark: String = "streaming grid (in context)",
                          _ layer: (inout GraphBuilder, String, _ produced: Int, _ previous: Int) throws(GraphError) -> Int) throws(GraphError) -> MicroBenchmark {
        let tag = name.filter { $0.isLetter || $0.isNumber }
        var b = GraphBuilder(name: tag)
        var x = b.input("x", shape: input)
        var timed: Set<String> = []
        for i in 0..<count {
            let unit = "\(tag).\(i)"
            let p: Int
            switch producer {
            case .conv1x1, .depthwise3x3:
                let c = input[1]
                let dw = producer == .depthwise3x3
                let k = dw ? 3 : 1
                let a = ConvAttributes(inChannels: c, outChannels: c, kernel: [k, k], pads: Array(repeating: k / 2, count: 4), groups: dw ? c : 1, hasBias: true)
                p = try b.add1("\(unit).producer", .conv(a), inputs: [x],
                               params: [ParamInfo(name: "\(unit).producer.w", shape: [c, dw ? 1 : c, k, k]), ParamInfo(name: "\(unit).producer.b", shape: [c])])
            case .gemm:
                let d = input.dims.last ?? 1
                p = try b.add1("\(unit).producer", .gemm(GemmAttributes(inFeatures: d, outFeatures: d)), inputs: [x],
                               params: [ParamInfo(name: "\(unit).producer.w", shape: [d, d]), ParamInfo(name: "\(unit).producer.b", shape: [d])])
            }
            let y = try layer(&b, unit, p, x)
            if i > 0 && i < count - 1 { timed.insert(unit) }
            x = passOn == .timed ? y : p
        }
        b.markOutput(x)
        var bench = MicroBenchmark(name: name, benchmark: benchmark, opClass: opClass, role: role,
                                   graph: try b.finish(), timed: timed)
        bench.inPlace = true
        return bench
    }

    /// The squeeze-excitation shapes whose fcs probe `parallel_overhead` (channels, squeezed channels,
    /// map side): efficientnet_b0's 1152 → 48 on 7² and 672 → 28 on 14², mobilenet_v3_large's 480 → 120
    /// on 14². Eight blocks of each hold 3.5, 1.2 and 3.7 MB of weights: L3 by the residence rule.
    public static let seProbeShapes: [(c: Int, s: Int, hw: Int)] = [(1152, 48, 7), (672, 28, 14), (480, 120, 14)]

    /// `units` squeeze-excitation blocks as efficientnet_b0 and mobilenet_v3 run them (default: the late
    /// stages' 1152 channels on 7² maps): depthwise 5×5 → global pool → fc c → s + ReLU → fc s → c +
    /// sigmoid → per-channel scale of the depthwise output, which feeds the next block. Both fcs run split
    /// over the threads (`ParallelSplit`: 1152 → 48 splits its inputs, 48 → 1152 its 72 panels); the
    /// middle blocks' fcs are timed (`fcs`). A probe with its operands hot in L2 (fc 16 → 512, 32 KiB) ran
    /// only 0.11 µs over its one-thread prediction (session 27): the fork itself is cheap; the second
    /// thread's cold start is not.
    static func seBlocks(units: Int, channels c: Int = 1152, squeezed s: Int = 48, hw: Int = 7) throws(GraphError)
        -> (graph: Graph, fcs: Set<String>) {
        var b = GraphBuilder(name: "seblocks")
        var x = b.input("x", shape: [1, c, hw, hw])
        var fcs: Set<String> = []
        for i in 0..<units {
            let u = "se.\(i)"
            let dwa = ConvAttributes(inChannels: c, outChannels: c, kernel: [5, 5], pads: [2, 2, 2, 2], groups: c, hasBias: true)
            let d = try b.add1("\(u).dw", .conv(dwa), inputs: [x], params: [ParamInfo(name: "\(u).dw.w", shape: [c, 1, 5, 5]), ParamInfo(name: "\(u).dw.b", shape: [c])])
            let g = try b.add1("\(u).pool", .globalAvgPool, inputs: [d])
            let f1a = ConvAttributes(inChannels: c, outChannels: s, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
            let f1 = try b.add1("\(u).fc1", .conv(f1a), inputs: [g], params: [ParamInfo(name: "\(u).fc1.w", shape: [s, c, 1, 1]), ParamInfo(name: "\(u).fc1.b", shape: [s])])
            let r = try b.add1("\(u).relu", .activation(.relu), inputs: [f1])
            let f2a = ConvAttributes(inChannels: s, outChannels: c, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
            let f2 = try b.add1("\(u).fc2", .conv(f2a), inputs: [r], params: [ParamInfo(name: "\(u).fc2.w", shape: [c, s, 1, 1]), ParamInfo(name: "\(u).fc2.b", shape: [c])])
            let sg = try b.add1("\(u).sigmoid", .activation(.sigmoid), inputs: [f2])
            x = try b.add1("\(u).scale", .binary(.mul), inputs: [d, sg])
            if i > 0 && i < units - 1 {
                fcs.formUnion(["\(u).fc1", "\(u).fc2"])
            }
        }
        b.markOutput(x)
        return (try b.finish(), fcs)
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
        // (1×1 convs on small maps, squeeze-excitation fcs after a global pool, small depthwise convs,
        // transposes, softmax rows), so their fixed cost (GEMM call, thread-pool dispatch) is measured,
        // not assumed. The squeeze-excitation fc (64 → 64 on the 1×1 map a global pool made of a
        // depthwise conv's output) is a matrix-vector product (`gemm` class, sgemv in the runner); it
        // runs warm, because the cost model prices a cold weight fetch in its memory term already (a
        // cold run measured 1.45 µs against mobilenet_v3_small's SE fcs at 0.2–0.7 µs in the model).
        out.append(try inContext("tiny-se-fc64-1²", opClass: .gemm, input: [1, 64, 14, 14], count: n + 2, producer: .depthwise3x3,
                                 passOn: .producer, role: .overhead,
                                 benchmark: "tiny-kernel chain (in context)") { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
            let pooled = try b.add1("\(name).pool", .globalAvgPool, inputs: [p])
            let a = ConvAttributes(inChannels: 64, outChannels: 64, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
            let fc = try b.add1(name, .conv(a), inputs: [pooled], params: [ParamInfo(name: "\(name).w", shape: [64, 64, 1, 1]), ParamInfo(name: "\(name).b", shape: [64])])
            b.markOutput(fc)
            return fc
        })
        // What splitting a kernel over threads costs (`parallel_overhead`; the chains above stay on one
        // thread), where networks split small kernels: the fcs of squeeze-excitation blocks
        // (`seBlocks`), of three networks' shapes so the median is not one shape's noise — efficientnet_b0's
        // 1152 → 48 on 7² and 672 → 28 on 14² (fc1 split by inputs, fc2 by panels) and
        // mobilenet_v3_large's 480 → 120 on 14² (both split by panels). Only the fcs: their one-thread
        // price is class overhead + a cold-ish weight stream, while the blocks' per-channel scales
        // (1152 rows) are dominated by `channel_overhead` × rows, whose fit noise (4 → 5 ns is 1.2 µs)
        // swamped a τ of ~0.5 µs (session 28: the scales' excess swung from +0.9 to −0.6 µs between
        // two calibrations and took τ to 0 with them).
        for shape in MicroBenchmarkSuite.seProbeShapes {
            let se = try seBlocks(units: 8, channels: shape.c, squeezed: shape.s, hw: shape.hw)
            var bench = MicroBenchmark(name: "se-blocks-\(shape.c)-\(shape.s)-\(shape.hw)²-fcs", benchmark: "squeeze-excitation blocks (in context)",
                                       opClass: .gemm, role: .parallelOverhead, graph: se.graph, timed: se.fcs)
            bench.inPlace = true
            out.append(bench)
        }
        out.append(MicroBenchmark(name: "tiny-conv1x1-c32-2²×16", benchmark: "tiny-kernel chain", opClass: .conv, role: .overhead,
                                  graph: try convChain("tinyconv", c: 32, hw: 2, k: 1, count: 16)))
        out.append(MicroBenchmark(name: "tiny-dwconv3x3-c32-4²×16", benchmark: "tiny-kernel chain", opClass: .depthwise, role: .overhead,
                                  graph: try convChain("tinydw", c: 32, hw: 4, k: 3, groups: 32, count: 16)))
        out.append(MicroBenchmark(name: "tiny-globalavgpool-c64×16", benchmark: "tiny-kernel chain", opClass: .pooling, role: .overhead,
                                  graph: try unaryChain("tinygap", .globalAvgPool, shape: [1, 64, 1, 1], count: 16)))
        out.append(MicroBenchmark(name: "tiny-transpose-8x4x4×16", benchmark: "tiny-kernel chain", opClass: .dataMovement, role: .overhead,
                                  graph: try unaryChain("tinytr", .transpose(perm: [0, 1, 3, 2]), shape: [1, 8, 4, 4], count: 16)))
        out.append(MicroBenchmark(name: "tiny-softmax-16×16", benchmark: "tiny-kernel chain", opClass: .normalization, role: .overhead,
                                  graph: try unaryChain("tinysm", .softmax(axis: -1), shape: [1, 16], count: 16)))
        // Streams: relu over working sets from 4 KiB to 256 MiB (×4 steps; quick ×16 up to 64 MiB). The
        // 256 MiB one keeps the main-memory fit off the host's physical last-level cache, which under
        // KVM can be larger than the 8 MiB sysfs reports (a 16 MiB stream then partly hits it: DRAM
        // fits of one day's calibrations ranged 34-64 GB/s with only 16 and 64 MiB).
        let streamKiB = quick ? [4, 64, 1024, 16384, 65536] : [4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144]
        for kib in streamKiB {
            let elements = kib * 256
            out.append(MicroBenchmark(name: "stream-relu-\(kib)KiB", benchmark: quick ? "relu stream sweep 4 KiB-64 MiB" : "relu stream sweep 4 KiB-256 MiB", opClass: .elementwise, role: nil,
                                      graph: try unaryChain("stream\(kib)", .activation(.relu), shape: [1, elements / 64, 8, 8], count: n)))
        }
        // Dense conv / GEMM grid: each shape is tagged with its efficiency class (conv_1x1,
        // conv_winograd, conv_kxk, conv_stem, gemm; `Graph.efficiencyClass`); `conv` is fitted on all of them.
        // The 1×1 shapes cover both GEMM kernels the runner picks on an AVX-512F CPU: 16-row tiles reading
        // the map in place (56²–14²) and, since session 29, the transposed pixel-panel kernel (7² and 10²
        // maps: 512 and 160 channels on 49 pixels, 384 on 100), which runs small maps 1.1–1.3× faster per
        // FLOP; with one 7² shape of six the fit priced the networks' late 1×1 layers by the large maps.
        let convGrid: [(c: Int, hw: Int, k: Int)] = quick
            ? [(64, 28, 1), (256, 14, 1), (64, 28, 3), (128, 14, 3), (256, 7, 3), (48, 28, 5)]
            : [(32, 56, 1), (64, 28, 1), (128, 28, 1), (256, 14, 1), (512, 7, 1), (24, 56, 1), (160, 7, 1), (384, 10, 1),
               (32, 56, 3), (64, 28, 3), (128, 14, 3), (96, 14, 3), (64, 56, 3), (128, 28, 3), (256, 14, 3),
               (256, 7, 3), (512, 7, 3), (48, 28, 5), (96, 14, 5), (64, 14, 7)]
        for g in convGrid {
            let graph = try convChain("conv\(g.k)_\(g.c)_\(g.hw)", c: g.c, hw: g.hw, k: g.k, count: n)
            out.append(MicroBenchmark(name: "conv\(g.k)x\(g.k)-c\(g.c)-\(g.hw)²", benchmark: "conv/GEMM grid", opClass: graph.efficiencyClass(graph.nodes[0]),
                                      role: .compute, graph: graph).coldCaches())
        }
        // Strided dense convs (conv_kxk, which the runner runs as im2col + GEMM): the downsampling
        // convs of residual networks, 3×3 stride 2 and the 1×1 stride-2 shortcut. Not chainable (the
        // map halves): each unit's 1×1 producer keeps the chain going at full size and the strided
        // conv reads its output, then is pooled away. The 5×5/7×7 shapes above alone (K = 1200-3136
        // inputs per output on ≤ 28² maps: 52-70 GMAC/s) fitted conv_kxk 0.50, while resnet's strided
        // convs ran at 79-93 GMAC/s (resnet50 measure: 1×1 stride-2 shortcuts 1.02-1.11 ms against
        // 1.73-1.75 predicted).
        let strided: [(cin: Int, cout: Int, hw: Int, k: Int)] = quick ? [(64, 128, 56, 3)] : [(64, 128, 56, 3), (128, 256, 28, 3), (256, 512, 28, 1), (64, 128, 56, 1)]
        for sc in strided {
            out.append(try inContext("conv\(sc.k)x\(sc.k)s2-c\(sc.cin)to\(sc.cout)-\(sc.hw)²", opClass: .convKxK, input: [1, sc.cin, sc.hw, sc.hw], count: n,
                                     producer: .conv1x1, passOn: .producer, role: .compute,
                                     benchmark: "conv/GEMM grid") { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                let a = ConvAttributes(inChannels: sc.cin, outChannels: sc.cout, kernel: [sc.k, sc.k], strides: [2, 2],
                                       pads: Array(repeating: sc.k / 2, count: 4), hasBias: true)
                let y = try b.add1(name, .conv(a), inputs: [p],
                                   params: [ParamInfo(name: "\(name).w", shape: [sc.cout, sc.cin, sc.k, sc.k]), ParamInfo(name: "\(name).b", shape: [sc.cout])])
                b.markOutput(try b.add1("\(name).pool", .globalAvgPool, inputs: [y]))
                return y
            }.coldCaches())
        }
        // Stems (conv_stem): 3×3 stride 2 on a 3-channel image, the first conv of mobilenet,
        // efficientnet, shufflenet and squeezenet. A stem cannot chain (3 channels in, more out):
        // each unit makes a fresh image from the previous one (a relu, not timed), runs the stem on
        // it and pools the stem's output away, so each stem reads an image another kernel just
        // wrote and writes its full output, as in a network. Only the inner units' stems are timed.
        for st in quick ? [(c: 32, hw: 224)] : [(c: 32, hw: 224), (c: 16, hw: 224), (c: 24, hw: 224)] {
            let tag = "stem\(st.c)_\(st.hw)"
            var b = GraphBuilder(name: tag)
            var x = b.input("x", shape: [1, 3, st.hw, st.hw])
            var timed: Set<String> = []
            for i in 0..<n {
                let unit = "\(tag).\(i)"
                x = try b.add1("\(unit).image", .activation(.relu), inputs: [x])
                let a = ConvAttributes(inChannels: 3, outChannels: st.c, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], hasBias: true)
                let y = try b.add1(unit, .conv(a), inputs: [x],
                                   params: [ParamInfo(name: "\(unit).w", shape: [st.c, 3, 3, 3]), ParamInfo(name: "\(unit).b", shape: [st.c])])
                b.markOutput(try b.add1("\(unit).pool", .globalAvgPool, inputs: [y]))
                if i > 0 && i < n - 1 { timed.insert(unit) }
            }
            b.markOutput(x)
            let graph = try b.finish()
            out.append(MicroBenchmark(name: "stem3x3s2-c\(st.c)-\(st.hw)²", benchmark: "conv/GEMM grid", opClass: .convStem, role: .compute,
                                      graph: graph, timed: timed).coldCaches())
        }
        // 96-768 inputs per output (8×): the spread that separates `per_output_macs.gemm` (the bias and
        // activation pass over the output) from the per-MAC efficiency.
        for d in quick ? [192] : [96, 192, 384, 768] {
            let g = try chain("gemm\(d)", input: [1, 197, d], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .gemm(GemmAttributes(inFeatures: d, outFeatures: d)), inputs: [x],
                           params: [ParamInfo(name: "\(name).w", shape: [d, d]), ParamInfo(name: "\(name).b", shape: [d])])
            }
            out.append(MicroBenchmark(name: "gemm-197x\(d)x\(d)", benchmark: "conv/GEMM grid", opClass: .gemm, role: .compute, graph: g).coldCaches())
        }
        // A transformer MLP's down projection (vit_tiny: 768 → 192 on 197 tokens, 4 inputs per output
        // where the square shapes have 1): each unit's up projection (192 → 768) makes its input, as in
        // the network, and only the down projections are timed. With square shapes alone the fit priced
        // vit_tiny's mlp.3 layers 24% fast (session 33, the Intel guest).
        if !quick {
            var b = GraphBuilder(name: "gemmdown")
            var x = b.input("x", shape: [1, 197, 192])
            var timed: Set<String> = []
            for i in 0..<n {
                let up = try b.add1("gemmdown.\(i).up", .gemm(GemmAttributes(inFeatures: 192, outFeatures: 768)), inputs: [x],
                                    params: [ParamInfo(name: "gemmdown.\(i).up.w", shape: [768, 192]), ParamInfo(name: "gemmdown.\(i).up.b", shape: [768])])
                x = try b.add1("gemmdown.\(i)", .gemm(GemmAttributes(inFeatures: 768, outFeatures: 192)), inputs: [up],
                               params: [ParamInfo(name: "gemmdown.\(i).w", shape: [192, 768]), ParamInfo(name: "gemmdown.\(i).b", shape: [192])])
                timed.insert("gemmdown.\(i)")
            }
            b.markOutput(x)
            out.append(MicroBenchmark(name: "gemm-197x768to192", benchmark: "conv/GEMM grid", opClass: .gemm, role: .compute,
                                      graph: try b.finish(), timed: timed).coldCaches())
        }
        // Depthwise 3×3 and 5×5 (efficientnet/mobilenet_v3 shapes): 25 MACs per output against 9, so
        // the fit can separate per-output work (`per_output_macs`) from per-MAC work; rows of 112 down
        // to 7 outputs, so it can separate the per-row cost (`channel_overhead`, charged per output
        // row). Two shapes per map size from 14² down (the sizes networks run most depthwise layers at).
        let dw: [(c: Int, hw: Int, k: Int)] = quick
            ? [(32, 112, 3), (144, 28, 3), (960, 7, 3), (240, 28, 5)]
            : [(32, 112, 3), (96, 56, 3), (144, 28, 3), (384, 14, 3), (576, 14, 3), (960, 7, 3), (240, 28, 5), (672, 14, 5), (1152, 7, 5)]
        // In context, as networks run them: each depthwise conv reads the output of a 1×1 conv (the
        // expansion of an inverted residual block), which splits its work across the threads its own
        // way (pixel tiles, or output channels on small maps), so with several threads part of every
        // input plane sits in the other core's cache. A chain of depthwise convs, each reading the
        // previous one's planes on the thread that wrote them, ran ~30% faster than the same shapes
        // in the networks (validation, 2 threads: 116×14² 8.0 µs in shufflenet vs 5.4 predicted).
        // Stride 2 (class depthwise_s2, since session 36), the networks' down-sampling shapes
        // (mobilenet_v2's 96×112², 192×28², 576×14² 3×3; efficientnet_b0's 144×56², 672×14² 5×5), in the
        // same context: four input pixels per output, which the AVX2 kernels first copy into a
        // phase-split plane. Each 1×1 conv then reads the previous one's output (the strided output is
        // smaller).
        let dw2: [(c: Int, hw: Int, k: Int)] = quick
            ? [(96, 112, 3), (576, 14, 3)]
            : [(96, 112, 3), (144, 56, 5), (192, 28, 3), (576, 14, 3), (672, 14, 5)]
        for d in dw.map({ (c: $0.c, hw: $0.hw, k: $0.k, s: 1) }) + dw2.map({ (c: $0.c, hw: $0.hw, k: $0.k, s: 2) }) {
            out.append(try inContext("dwconv\(d.k)x\(d.k)\(d.s == 1 ? "" : "s\(d.s)")-c\(d.c)-\(d.hw)²", opClass: d.s == 1 ? .depthwise : .depthwiseS2,
                                     input: [1, d.c, d.hw, d.hw], count: n, producer: .conv1x1, passOn: d.s == 1 ? .timed : .producer, role: .compute,
                                     benchmark: "depthwise grid (in context)") { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                let a = ConvAttributes(inChannels: d.c, outChannels: d.c, kernel: [d.k, d.k], strides: [d.s, d.s], pads: Array(repeating: d.k / 2, count: 4),
                                       groups: d.c, hasBias: true)
                return try b.add1(name, .conv(a), inputs: [p],
                                  params: [ParamInfo(name: "\(name).w", shape: [d.c, 1, d.k, d.k]), ParamInfo(name: "\(name).b", shape: [d.c])])
            }.coldCaches())
        }
        // Activations with real arithmetic: exp-based ones (class transcendental), erf-based ones
        // (class erf: GELU, and the Erf op of GELU as ONNX exports it) and cheap ones (class
        // elementwise). Every map is large enough that the runner splits it over two threads
        // (≥ 2 × 32 768 elements): a 64×28² sigmoid ran on one thread, 1.8× slower per element than
        // the 96×28² SiLU, and dragged the shared transcendental fit to 0.076, which priced
        // efficientnet's fused SiLUs 40% high.
        // Since session 31 the exp- and erf-based ones are fitted where networks run them: fused into
        // the 1×1 conv or GEMM before them (efficientnet's expansions, a transformer MLP's first GEMM),
        // applied to the finished rows while they are in L1; the fit prices the conv/GEMM part at its
        // own class (fitted first, `per_output_macs` included) and the activation part at this one.
        // Fitted on standalone kernels, which also stream their map through memory, the classes priced
        // the fused SiLUs and GELUs 25–45% high on the Intel guest (sessions 30–31: efficientnet_b0's
        // conv-bn-silu expansions, vit_tiny's gemm-gelu layers). Each unit: expansion (fused
        // activation, timed) → projection back (plain, not timed).
        let fused: [(name: String, input: TensorShape, expand: Int, act: Activation)] = quick
            ? [("conv1x1-c16to96-56²-silu", [1, 16, 56, 56], 96, .silu), ("gemm-197x192to768-gelu", [1, 197, 192], 768, .gelu)]
            : [("conv1x1-c16to96-56²-silu", [1, 16, 56, 56], 96, .silu), ("conv1x1-c40to240-28²-silu", [1, 40, 28, 28], 240, .silu),
               ("conv1x1-c24to144-28²-sigmoid", [1, 24, 28, 28], 144, .sigmoid),
               ("gemm-197x192to768-gelu", [1, 197, 192], 768, .gelu), ("gemm-50x384to1536-gelu", [1, 50, 384], 1536, .gelu)]
        for f in fused {
            let tag = f.name.filter { $0.isLetter || $0.isNumber }
            let c = f.input.dims[f.input.rank == 4 ? 1 : 2]
            var b = GraphBuilder(name: tag)
            var x = b.input("x", shape: f.input)
            var timed: Set<String> = []
            for i in 0..<n {
                let unit = "\(tag).\(i)"
                let e: Int, p: Op, pShape: TensorShape
                if f.input.rank == 4 {
                    e = try b.add1("\(unit).expand", .conv(ConvAttributes(inChannels: c, outChannels: f.expand, kernel: [1, 1], hasBias: true)), inputs: [x],
                                   params: [ParamInfo(name: "\(unit).expand.w", shape: [f.expand, c, 1, 1]), ParamInfo(name: "\(unit).expand.b", shape: [f.expand])])
                    p = .conv(ConvAttributes(inChannels: f.expand, outChannels: c, kernel: [1, 1], hasBias: true))
                    pShape = TensorShape([c, f.expand, 1, 1])
                } else {
                    e = try b.add1("\(unit).expand", .gemm(GemmAttributes(inFeatures: c, outFeatures: f.expand)), inputs: [x],
                                   params: [ParamInfo(name: "\(unit).expand.w", shape: [f.expand, c]), ParamInfo(name: "\(unit).expand.b", shape: [f.expand])])
                    p = .gemm(GemmAttributes(inFeatures: f.expand, outFeatures: c))
                    pShape = TensorShape([c, f.expand])
                }
                let a = try b.add1("\(unit).act", .activation(f.act), inputs: [e])
                x = try b.add1("\(unit).project", p, inputs: [a], params: [ParamInfo(name: "\(unit).project.w", shape: pShape),
                                                                             ParamInfo(name: "\(unit).project.b", shape: [c])])
                if i > 0 && i < n - 1 { timed.insert("\(unit).expand") }
            }
            b.markOutput(x)
            out.append(MicroBenchmark(name: f.name, benchmark: "activation grid (fused)", opClass: f.act == .gelu ? .erf : .transcendental,
                                      role: .compute, graph: try b.finish(), timed: timed))
        }
        // Cheap activations (class elementwise) stay standalone: hard-swish runs as its own kernel in
        // mobilenet_v3 wherever it follows something it cannot fuse into.
        let activations: [(op: Op, name: String, shape: TensorShape)] = [(.activation(.hardswish), "hardswish", [1, 96, 56, 56])]
        for a in activations {
            let graph = try unaryChain("act_\(a.name)", a.op, shape: a.shape, count: n)
            out.append(MicroBenchmark(name: "\(a.name)-\(a.shape.dims.map(String.init).joined(separator: "x"))", benchmark: "activation grid",
                                      opClass: graph.efficiencyClass(graph.nodes[0]), role: .compute, graph: graph))
        }
        // Streaming kernels (`memory_efficiency` per class), in the context a network runs them:
        // their operands come straight from a producer kernel partitioned its own way (a GEMM splits
        // pixel columns, a streaming kernel splits channel rows or runs on one thread), so with
        // several threads part of each operand sits in another core's cache. Measured on this VM at
        // 2 threads, the same add or per-channel mul takes 1.5–2.3× longer after a conv than in a
        // chain of itself, whose operands every thread left in its own cache. Binary ops (an add
        // after a depthwise conv, the per-channel scale of squeeze-excitation after a
        // depthwise conv), global pooling after a conv, data movement (concat of a conv output and
        // the block input, channel shuffle after a conv, attention's head transpose after a GEMM).
        // Only the streaming kernels are timed, and only those that neither read a graph input nor
        // write a graph output (first and last unit). The add follows a depthwise conv: after a
        // dense conv it would fuse into the conv (`FusionRules.canAbsorbResidual`), and the adds a
        // network still runs as kernels of their own are the ones no dense conv produced.
        for (c, hw) in quick ? [(64, 28)] : [(64, 28), (32, 112)] {
            out.append(try inContext("add-1x\(c)x\(hw)x\(hw)", opClass: .elementwise, input: [1, c, hw, hw], count: n,
                                     producer: .depthwise3x3) { (b: inout GraphBuilder, name: String, p: Int, prev: Int) throws(GraphError) -> Int in
                try b.add1(name, .binary(.add), inputs: [p, prev])
            })
        }
        // An element-wise op right after a GEMM, as a transformer runs it: GELU's scalar multiply of an
        // MLP GEMM's output ([197, 768]). The GEMM splits its output by feature columns, the element-wise
        // op by flat ranges, so part of each operand sits in the other core's cache; after a depthwise
        // conv (channel split, like the op's) alone, vit_tiny's adds and GELU divisions were predicted
        // 20–40% fast (session 22). Sessions 22–32 also timed a residual add of a [197, 192] GEMM output;
        // since session 33 such adds fuse into their GEMM (`FusionRules.canAbsorbResidual`, also through
        // layout views), zoo and ONNX alike, so no network runs one as a kernel of its own.
        if !quick {
            out.append(try inContext("mul-197x768-by-scalar-after-gemm", opClass: .elementwise, input: [1, 197, 768], count: n,
                                     producer: .gemm) { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                try b.add1(name, .binary(.mul), inputs: [p], params: [ParamInfo(name: "\(name).s", shape: [])])
            })
        }
        // Five squeeze-excitation scales from 49 to 3136 elements per channel row (efficientnet_b0 and
        // mobilenet_v3 run 16-1152 channels on 112²-7² maps), so the per-row term and the share are
        // both pinned: with three, one noisy in-context timing moved the per-row fit 4 ↔ 12 ns.
        for (c, hw) in quick ? [(144, 28)] : [(144, 28), (480, 14), (576, 7), (1152, 7), (96, 56)] {
            out.append(try inContext("mul-1x\(c)x\(hw)x\(hw)-by-channel", opClass: .elementwise, input: [1, c, hw, hw], count: n,
                                     producer: .depthwise3x3) { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                try b.add1(name, .binary(.mul), inputs: [p], params: [ParamInfo(name: "\(name).s", shape: [1, c, 1, 1])])
            })
        }
        // Global pools from 96 channels on 56² (bytes dominate) to 1280 on 7² (one row per channel
        // dominates: the per-row overhead is fitted jointly with the share), and since session 33 two
        // small ones (mobilenet_v3_small's 16 × 56² and 96 × 14² squeeze-excitation pools), where the
        // per-kernel intercept dominates: with the five larger pools alone the intercept and the per-row
        // term traded off (one calibration fitted 0.1 µs and 3.5 ns, and priced the networks' 16-96
        // channel pools 25-40% fast and their 672-1152 channel ones 30% slow).
        for (c, hw) in quick ? [(144, 28), (576, 7), (96, 56), (96, 14)]
            : [(144, 28), (96, 56), (480, 14), (576, 7), (1280, 7), (16, 56), (96, 14)] {
            // A pool's 1×1 output cannot feed the next unit: each unit pools its producer's output
            // and passes the producer's output on. The producer is a depthwise conv, as in the squeeze-
            // excitation blocks that run most of the networks' global pools: split by channels like the
            // pool, it leaves each thread's planes in that thread's own L2. Until session 32 a 1×1 conv
            // produced them; on 56² and 28² maps it splits pixels, so every pool thread read half its
            // planes from the other core's cache, and the fitted share priced efficientnet_b0's and
            // mobilenet_v3's pools on 112²-28² maps 30-200% high (Intel guest, session 31 validation).
            out.append(try inContext("globalavgpool-c\(c)-\(hw)²", opClass: .pooling, input: [1, c, hw, hw], count: n,
                                     producer: .depthwise3x3, passOn: .producer) { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                let pooled = try b.add1(name, .globalAvgPool, inputs: [p])
                b.markOutput(pooled)
                return pooled
            })
        }
        // What reading another core's cache costs (`cross_core_bandwidth`): global pools after a 1×1 conv,
        // which splits the map by pixel tiles where the pool splits channels, so each thread reads a quarter
        // of the map (on two threads) from the other core's L2 (`Graph.partitions`). The pools above follow
        // a depthwise conv split like the pool and price everything else; a pool reads its map once and
        // writes a few hundred bytes, so the time beyond that is the crossing. Maps of 0.8-1.6 MB: on the
        // Intel guest (session 34) a 144×28² probe (0.45 MB) measured 4.8-12.2 µs in five calibrations
        // (its twin 3.1-4.6), as if in some runs one core had done both kernels' work, while 96×56²
        // measured 23-28 µs in four of five (twin 6.4-8.8: 16-18 GB/s for its 0.3 MB per thread).
        for (c, hw) in quick ? [(96, 56), (32, 112)] : [(96, 56), (32, 112), (64, 56)] {
            out.append(try inContext("globalavgpool-c\(c)-\(hw)²-after-conv1x1", opClass: .pooling, input: [1, c, hw, hw], count: n,
                                     producer: .conv1x1, passOn: .producer, role: .crossCore,
                                     benchmark: "cross-core reads (in context)") { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                let pooled = try b.add1(name, .globalAvgPool, inputs: [p])
                b.markOutput(pooled)
                return pooled
            })
        }
        // Copies from 0.36 to 3.2 MB of traffic (read + written): shufflenet's concats and shuffles, and
        // (full mode) larger ones as squeezenet and resnet-sized maps make, which stream most of their
        // bytes from the shared cache at another rate than the small ones (`bulk_copy`).
        for (c, hw) in quick ? [(58, 28)] : [(58, 28), (116, 14), (128, 28), (64, 56)] {
            // concat(conv(x), x) has 2c channels; a 2c→c 1×1 conv brings the next unit back to c.
            func fold(_ b: inout GraphBuilder, _ name: String, _ x: Int) throws(GraphError) -> Int {
                let a = ConvAttributes(inChannels: 2 * c, outChannels: c, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
                return try b.add1("\(name).fold", .conv(a), inputs: [x],
                                  params: [ParamInfo(name: "\(name).fold.w", shape: [c, 2 * c, 1, 1]), ParamInfo(name: "\(name).fold.b", shape: [c])])
            }
            out.append(try inContext("concat-2x\(c)-\(hw)²", opClass: .dataMovement, input: [1, c, hw, hw], count: n,
                                     producer: .conv1x1) { (b: inout GraphBuilder, name: String, p: Int, prev: Int) throws(GraphError) -> Int in
                try fold(&b, name, try b.add1(name, .concat(axis: 1), inputs: [p, prev]))
            })
            // ShuffleNet shuffles the concat's output (the copy's own row split), not a conv's: timed
            // after a conv (pixel split, half of every plane in the other core's cache) the shuffles ran
            // 1.3–1.5× the concats of the same bytes, in the networks 1.0–1.35× (sessions 21–22).
            out.append(try inContext("channelshuffle-\(2 * c)-\(hw)²", opClass: .dataMovement, input: [1, c, hw, hw], count: n,
                                     producer: .conv1x1) { (b: inout GraphBuilder, name: String, p: Int, prev: Int) throws(GraphError) -> Int in
                let cat = try b.add1("\(name).cat", .concat(axis: 1), inputs: [p, prev])
                return try fold(&b, name, try b.add1(name, .channelShuffle(groups: 2), inputs: [cat]))
            })
        }
        // Matrix-vector products (a classifier at batch 1): one row of activations against a weight
        // matrix read once from main memory (cold), so the kernel streams its weights; what share of
        // the stream bandwidth it reaches is `memory_efficiency.gemm` (compute-bound GEMMs never reach
        // their memory term, so only matrix-vector products feel it).
        for d in quick ? [1280] : [1024, 1280] {
            let g = try chain("gemv\(d)", input: [1, d], count: n) { (b: inout GraphBuilder, name: String, x: Int) throws(GraphError) -> Int in
                try b.add1(name, .gemm(GemmAttributes(inFeatures: d, outFeatures: d)), inputs: [x],
                           params: [ParamInfo(name: "\(name).w", shape: [d, d]), ParamInfo(name: "\(name).b", shape: [d])])
            }
            out.append(MicroBenchmark(name: "gemv-1x\(d)x\(d)", benchmark: "matrix-vector (cold weights)", opClass: .gemm, role: .streaming, graph: g).coldCaches())
        }
        // Attention's transposes right after the GEMM producing them: GEMM over [t, h·d] → view
        // [t, h, d] → transpose → view back to [t, h·d]. The heads split to [h, t, d] copies whole
        // rows (`data_movement`); K → Kᵀ to [h, d, t] moves the innermost axis, so every element is
        // read on its own (a gather: `permute`, with the patch flatten below).
        let transposes: [(prefix: String, perm: [Int], cls: OpClass)] = [("transpose", [0, 2, 1, 3], .dataMovement), ("transposeT", [0, 2, 3, 1], .permute)]
        for (t, h, d) in quick ? [(197, 3, 64)] : [(197, 3, 64), (50, 6, 64)] {
            for kind in transposes {
                out.append(try inContext("\(kind.prefix)-\(t)x\(h)x\(d)", opClass: kind.cls, input: [1, t, h * d], count: n,
                                         producer: .gemm) { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                    let heads = try b.add1("\(name).split", .reshape(shape: [1, t, h, d]), inputs: [p])
                    let tr = try b.add1(name, .transpose(perm: kind.perm), inputs: [heads])
                    return try b.add1("\(name).merge", .reshape(shape: [1, t, h * d]), inputs: [tr])
                })
            }
        }
        if !quick {
            out.append(try inContext("transpose-196x192-flatten", opClass: .permute, input: [1, 196, 192], count: n,
                                     producer: .gemm) { (b: inout GraphBuilder, name: String, p: Int, _: Int) throws(GraphError) -> Int in
                let tr = try b.add1(name, .transpose(perm: [0, 2, 1]), inputs: [p])
                return try b.add1("\(name).merge", .reshape(shape: [1, 196, 192]), inputs: [tr])
            })
        }
        // Max pooling 3×3 stride 2, as networks use it (the ResNet/SqueezeNet/ShuffleNet stems): a
        // chain of three halves the map twice; the middle pool reads a (c, hw, hw) map. Per output a
        // stride-2 pool costs more than a stride-1 one (its bordered input copy is 4× larger per
        // output), so the stride-1 pools fitted before under-predicted the networks' pools 2.4–3.7×.
        for (c, hw) in quick ? [(64, 112)] : [(64, 112), (128, 56)] {
            let p = PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])
            out.append(MicroBenchmark(name: "maxpool3x3s2-c\(c)-\(hw)²", benchmark: "pooling grid", opClass: .pooling, role: .compute,
                                      graph: try unaryChain("pool\(c)_\(hw)", .maxPool(p), shape: [1, c, 2 * hw, 2 * hw], count: 3)))
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
    /// `graph` is the fused graph both ran.
    static func measureAndEstimate(_ bench: MicroBenchmark, device: (Int) -> DeviceProfile, unit: String?, threads: Int?,
                                   timing: TimingOptions) throws -> (measured: ModelMeasurement, estimate: DeviceEstimate, graph: Graph) {
        // Concats copy every input here (no concat elision): the copy benchmarks time copies, which is
        // what a concat still does with inputs that cannot be placed (a split-off half, a graph input).
        let compiled = try CompiledModel(graph: bench.graph, weights: SeededWeights.generate(for: bench.graph),
                                         options: RunnerOptions(threads: threads, inPlace: bench.inPlace, concatsInPlace: false))
        let inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: 7 &+ UInt64(i)) }
        var timing = timing
        if bench.cold {
            // At most 400 runs, each preceded by the eviction (1–3 ms at 10–30 GB/s).
            timing.evictBytes = MicroBenchmark.evictBytes
            timing.maxIterations = Swift.min(timing.maxIterations, 400)
        }
        let m = try TimingHarness.measure(compiled, inputs: inputs, options: timing)
        let estimate = try Self.estimate(bench, graph: compiled.graph, on: device(compiled.threads), unit: unit)
        guard estimate.layers.count == compiled.layers.count, compiled.layers.count >= 1 else {
            throw CostModelError(message: "\(bench.name): the cost model's kernels do not line up with the runner's")
        }
        return (m, estimate, compiled.graph)
    }

    /// The cost model's estimate of a benchmark's fused `graph` (concats copy every input, as the
    /// benchmarks run them). A cold benchmark evicts the caches before every run: its weights come
    /// from main memory.
    static func estimate(_ bench: MicroBenchmark, graph: Graph, on device: DeviceProfile, unit: String?) throws -> DeviceEstimate {
        try AnalyticalModel.estimate(PreparedGraph(graph, style: .edgeprofCopyingConcats), on: device, unit: unit, coldWeights: bench.cold)
    }

    /// Indices of the kernels a benchmark is scored on: its `timed` kernels (each the anchor of its
    /// own fused kernel; the suite's test checks it), else the middle kernels of the chain (all but
    /// first and last when there are ≥ 3: activations resident in a cache level).
    static func timedLayers(_ bench: MicroBenchmark, _ estimate: DeviceEstimate) -> [Int] {
        if let timed = bench.timed {
            let picked = estimate.layers.indices.filter { timed.contains(estimate.layers[$0].name) }
            if !picked.isEmpty { return picked }
        }
        let count = estimate.layers.count
        return count >= 3 ? Array(1..<(count - 1)) : Array(0..<count)
    }

    public static func run(_ bench: MicroBenchmark, template: DeviceProfile, unit: String?, options: Options) throws -> CalibrationSample {
        let (m, estimate, graph) = try measureAndEstimate(bench, device: { _ in template }, unit: unit, threads: options.threads, timing: options.timing)
        let middle = timedLayers(bench, estimate)
        let times = middle.map { m.layers[$0].scored }.sorted()
        let measured = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        var sample = count(bench, estimate: estimate, graph: graph, measured: measured, threads: m.threads)
        sample.farApart = m.ranFarApart
        return sample
    }

    /// `recorded` (a sample `run` measured, kept by `calibrate --save-measurements`) with the cost
    /// model's side counted again by this build on `template`: FLOPs per class, bytes per level,
    /// output rows, access latency, the split and cross-core bytes. Nothing runs; the benchmark is
    /// fused as the runner fuses it and split at the recorded thread count, as the runner split it.
    /// So a record measured before a change to the cost model's counting refits with the new counts.
    public static func recount(_ recorded: CalibrationSample, bench: MicroBenchmark, template: DeviceProfile, unit: String?, threads: Int) throws -> CalibrationSample {
        // The graph the runner compiles (`CompiledModel` fuses an unfused graph the same way); no weights are made.
        var graph = bench.graph
        if graph.fusionGroups.isEmpty { graph.fuse() }
        let estimate = try Self.estimate(bench, graph: graph, on: template, unit: unit)
        guard !estimate.layers.isEmpty else { throw CostModelError(message: "\(bench.name): the cost model found no kernels") }
        var sample = count(bench, estimate: estimate, graph: graph, measured: recorded.measured, threads: Swift.max(1, threads))
        sample.farApart = recorded.farApart
        return sample
    }

    /// The sample of a benchmark measured at `measured` seconds: the cost model's counts of its
    /// scored kernel (`estimate` of the fused `graph` the runner ran with `threads` threads).
    static func count(_ bench: MicroBenchmark, estimate: DeviceEstimate, graph: Graph, measured: Double, threads: Int) -> CalibrationSample {
        let middle = timedLayers(bench, estimate)
        let layer = estimate.layers[middle[middle.count / 2]]
        let bytes = layer.traffic.map { $0.totalBytes.value }
        let role = bench.role ?? .bandwidth(level: bytes.lastIndex { $0 > 0 } ?? 0)
        // The benchmark's class part, and the kernel's other parts at their classes (as the cost model prices them).
        var other = layer.computeFlopsByClass
        let own = other.removeValue(forKey: bench.opClass) ?? (other.isEmpty ? Double(layer.counts.flops) : 0)
        let fitsCompute = role == .compute   // overhead and bandwidth kernels: FLOPs negligible, not split
        // Whether the timed kernel overwrote its input, as the runner decided it (on the graph the
        // estimate was made from, already fused).
        let inPlace = bench.inPlace && graph.inPlaceInputs()[layer.group] != nil
        var sample = CalibrationSample(name: bench.name, benchmark: bench.benchmark, role: role, opClass: bench.opClass,
                                       flops: fitsCompute ? own : Double(layer.counts.flops), otherFlops: fitsCompute ? other : [:],
                                       levelBytes: bytes, measured: measured,
                                       outputs: Double(layer.outputShape.elementCount),
                                       channels: Double(bench.graph.nodes.first { $0.name == layer.name }.map(bench.graph.channelOverheadUnits) ?? layer.outputShape.channelPlanes),
                                       streamGain: inPlace ? AnalyticalModel.inPlaceStreamGain : nil)
        sample.accessLatency = layer.accessLatency.value
        let anchor = graph.nodes.first { $0.name == layer.name }
        // A part fitted inside another class's kernel (a fused SiLU in a 1×1 conv): the anchor's class.
        if fitsCompute, let anchor, graph.efficiencyClass(anchor) != bench.opClass {
            sample.anchorClass = graph.efficiencyClass(anchor)
        }
        // Whether the runner split the kernel, at the threads it ran with (the template may have more cores).
        sample.forks = anchor.flatMap { graph.threadsUsed($0, threads: threads) }.map { $0 > 1 } ?? false
        // Bytes read from another core's cache, counted at the template's cores (none when the run used one thread).
        sample.crossCoreBytes = threads > 1 ? layer.crossCoreBytes.value : 0
        return sample
    }
}
