import Calibration
import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph
import Testing

/// The suite builds valid graphs and a benchmark run turns into a sample with the cost model's
/// counting (no timing assertions: only structure).
@Suite("Micro-benchmarks")
struct MicroBenchmarkTests {
    static let host = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("devices/host.yaml").path

    @Test func suitesCoverEveryFittedClassAndRole() throws {
        for quick in [true, false] {
            let suite = try MicroBenchmarkSuite.suite(quick: quick)
            let classes = Set(suite.filter { $0.role == .compute }.map(\.opClass))
            #expect(classes == [.conv1x1, .convWinograd, .convKxK, .convStem, .gemm, .depthwise, .depthwiseS2, .elementwise, .transcendental, .erf, .pooling, .attention, .normalization, .softmax])
            #expect(Set(classes.map(\.coarse)) == [.conv, .depthwise, .elementwise, .pooling, .attention, .normalization])
            #expect(Set(suite.filter { $0.role == .overhead }.map(\.opClass)) == [.elementwise, .conv, .gemm, .depthwise, .pooling, .dataMovement, .normalization])
            #expect(suite.filter { $0.role == nil }.count >= 5)  // streams: role from the residence level
            #expect(Set(suite.filter { $0.role == .streaming }.map(\.opClass)) == [.elementwise, .pooling, .dataMovement, .permute, .gemm])
            // The depthwise grid spans 3×3 and 5×5 (per-output MACs) and 16× in outputs per row (per-row overhead).
            let dw = suite.filter { $0.role == .compute && $0.opClass == .depthwise }
            #expect(dw.contains { $0.name.hasPrefix("dwconv5x5") } && dw.contains { $0.name.hasPrefix("dwconv3x3") })
            #expect(dw.contains { $0.name.hasSuffix("-112²") } && dw.contains { $0.name.hasSuffix("-7²") })
            // Stride 2 (depthwise_s2): 3×3 and 5×5 in both modes; the full grid has five shapes, enough to
            // fit its own per-output and per-row terms (outputs per row 56 down to 7).
            let dw2 = suite.filter { $0.role == .compute && $0.opClass == .depthwiseS2 }
            #expect(dw2.count == (quick ? 2 : 5))
            if !quick { #expect(dw2.contains { $0.name.hasPrefix("dwconv5x5s2") } && dw2.contains { $0.name.hasPrefix("dwconv3x3s2") }) }
            // In context: each timed depthwise conv reads a 1×1 conv's output, as in an inverted residual block.
            for bench in dw + dw2 {
                let timed = try #require(bench.timed, "\(bench.name) is not in context")
                let anchors = bench.graph.nodes.filter { timed.contains($0.name) }
                #expect(!anchors.isEmpty && anchors.allSatisfy { bench.graph.efficiencyClass($0) == bench.opClass }, "\(bench.name)")
                for node in anchors {
                    let producer = bench.graph.nodes.first { $0.outputs.contains(node.inputs[0]) }
                    #expect(producer.map { bench.graph.efficiencyClass($0) } == .conv1x1, "\(bench.name): \(node.name)")
                }
            }
        }
        // conv_kxk covers the strided convs residual networks downsample with (3×3 and 1×1, stride 2),
        // timed reading a 1×1 conv's output.
        for quick in [true, false] {
            let kxk = try MicroBenchmarkSuite.suite(quick: quick).filter { $0.opClass == .convKxK }
            let strided = kxk.filter { $0.name.contains("s2-") }
            #expect(!strided.isEmpty)
            for bench in strided {
                let timed = try #require(bench.timed, "\(bench.name) is not in context")
                let anchors = bench.graph.nodes.filter { timed.contains($0.name) }
                #expect(anchors.count == (quick ? 2 : 4) && anchors.allSatisfy { node in
                    guard case .conv(let a) = node.op else { return false }
                    return a.strides == [2, 2] && bench.graph.efficiencyClass(node) == .convKxK
                }, "\(bench.name)")
            }
            if !quick { #expect(Set(strided.map { $0.name.prefix(4) }) == ["conv"] && strided.contains { $0.name.hasPrefix("conv1x1s2") }) }
        }
        #expect(try MicroBenchmarkSuite.suite(quick: true).count < MicroBenchmarkSuite.suite(quick: false).count)
    }

    /// Every in-context streaming benchmark is tagged with the class the cost model gives its timed
    /// kernels (`Graph.efficiencyClass`): row-copy transposes and shuffles fit `data_movement`, the
    /// transposes that move the innermost axis `permute`.
    @Test func streamingBenchmarksCarryTheirKernelsClass() throws {
        for bench in try MicroBenchmarkSuite.suite(quick: false) where bench.role == .streaming {
            guard let timed = bench.timed else { continue }
            let anchors = bench.graph.nodes.filter { timed.contains($0.name) }
            #expect(!anchors.isEmpty, "\(bench.name)")
            for node in anchors { #expect(bench.graph.efficiencyClass(node) == bench.opClass, "\(bench.name): \(node.name)") }
        }
        // Channel shuffles are timed as ShuffleNet runs them: on a concat's output.
        let shuffles = try MicroBenchmarkSuite.suite(quick: false).filter { $0.name.hasPrefix("channelshuffle") }
        #expect(shuffles.count == 4)
        for bench in shuffles {
            let timed = try #require(bench.timed)
            for node in bench.graph.nodes where timed.contains(node.name) {
                let producer = bench.graph.nodes.first { $0.outputs.contains(node.inputs[0]) }
                #expect(producer.map { if case .concat = $0.op { true } else { false } } == true, "\(bench.name): \(node.name)")
            }
        }
    }

    @Test func streamRunsAreAssignedToTheirResidenceLevel() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let levels = try #require(device.unit(named: nil)).memoryPath
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 1))
        let small = try #require(suite.first { $0.name == "stream-relu-4KiB" })
        let large = try #require(suite.first { $0.name == "stream-relu-65536KiB" })
        let s = try MicroBenchmarkRunner.run(small, template: device, unit: nil, options: options)
        let l = try MicroBenchmarkRunner.run(large, template: device, unit: nil, options: options)
        // 4 KiB (twice over) fits L1; 64 MiB (twice over) fits no cache of host.yaml: main memory.
        #expect(s.role == .bandwidth(level: 0))
        #expect(l.role == .bandwidth(level: levels.count - 1))
        // relu: 1 FLOP per element; 4 KiB in + 4 KiB out at L1.
        #expect(s.flops == 1024)
        #expect(s.levelBytes[0] == 8192)
        #expect(s.measured > 0 && l.measured > s.measured)
    }

    @Test func inContextBenchmarksScoreOnlyTheirStreamingKernels() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let add = try #require(suite.first { $0.name == "add-1x64x28x28" })
        // Producer convs interleave the adds; only the adds of the inner units are timed.
        let timed = try #require(add.timed)
        #expect(timed.count >= 2)
        // Each timed add is a kernel of its own (the anchor of a fusion group), not fused into its producer.
        let anchors = Set(add.graph.fusionGroups.map { add.graph.nodes[$0.nodes[0]].name })
        #expect(timed.isSubset(of: anchors))
        #expect(add.graph.nodes.contains { if case .conv = $0.op { true } else { false } })
        for name in timed {
            let node = try #require(add.graph.nodes.first { $0.name == name })
            #expect(node.op == .binary(.add))
        }
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 1))
        let s = try MicroBenchmarkRunner.run(add, template: device, unit: nil, options: options)
        // The sample is the add's counting (1 FLOP per element; two inputs and one output of
        // 64×28² floats at L1), not the conv's.
        #expect(s.role == .streaming)
        #expect(s.flops == 64 * 28 * 28)
        #expect(s.levelBytes[0] == Double(3 * 64 * 28 * 28 * 4))
    }

    /// The concat benchmarks time a copy of both inputs: the runner and the cost model run them without
    /// concat elision (`ExecutionStyle.edgeprofCopyingConcats`), under which both inputs, a conv's output
    /// and the previous unit's, would be written in place and the timed kernel would be a free view.
    @Test func concatBenchmarksCopyBothInputs() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let bench = try #require(try MicroBenchmarkSuite.suite(quick: true).first { $0.name == "concat-2x58-28²" })
        var fused = bench.graph
        fused.fuse()
        #expect(fused.storageRoots(inPlace: true, concatsInPlace: true).concatInputs.values.contains { $0.count == 2 },
                "with elision the timed concats would be views")
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 1))
        let s = try MicroBenchmarkRunner.run(bench, template: device, unit: nil, options: options)
        #expect(s.role == .streaming && s.opClass == .dataMovement)
        // Two inputs of 58×28² floats read and one output of twice that written, at L1.
        #expect(s.levelBytes[0] == Double(4 * 58 * 28 * 28 * 4))
        #expect(s.measured > 0)
    }

    /// The matrix-vector benchmark streams cold weights: a gemm-class streaming sample whose main-memory
    /// bytes include the whole weight matrix, recording its outputs and (no) channels.
    @Test func matrixVectorBenchmarkStreamsItsWeightsFromMainMemory() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let bench = try #require(try MicroBenchmarkSuite.suite(quick: true).first { $0.name == "gemv-1x1280x1280" })
        #expect(bench.cold && bench.opClass == .gemm && bench.role == .streaming)
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 1))
        let s = try MicroBenchmarkRunner.run(bench, template: device, unit: nil, options: options)
        #expect(try #require(s.levelBytes.last) >= Double(1280 * 1280 * 4))
        #expect(s.outputs == 1280 && s.channels == 0)
        #expect(s.measured > 0)
    }

    @Test func stemBenchmarksTimeOnlyTheirStemConvs() throws {
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let stem = try #require(suite.first { $0.name == "stem3x3s2-c32-224²" })
        let timed = try #require(stem.timed)
        #expect(timed.count >= 2 && stem.cold)
        let anchors = Set(stem.graph.fusionGroups.map { stem.graph.nodes[$0.nodes[0]].name })
        #expect(timed.isSubset(of: anchors))
        for name in timed {
            let node = try #require(stem.graph.nodes.first { $0.name == name })
            #expect(stem.graph.efficiencyClass(node) == .convStem)
        }
        let device = try DeviceLoader.load(file: Self.host)
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 1))
        let s = try MicroBenchmarkRunner.run(stem, template: device, unit: nil, options: options)
        // One stem's counting: 32 × 112² outputs × 27 MACs × 2 FLOPs (+ the bias).
        #expect(s.role == .compute && s.opClass == .convStem)
        #expect(s.flops >= Double(2 * 32 * 112 * 112 * 27) && s.flops <= Double(2 * 32 * 112 * 112 * 28))
    }

    /// The squeeze-excitation fc's fixed cost is measured in context (after a global pool of a
    /// depthwise conv's output) and warm: its class is `gemm` (a matrix-vector product), whose cold
    /// weight fetch the cost model prices in the memory term. Dense convs get their own tiny chain.
    @Test func seFcOverheadIsMeasuredInContextAsAMatrixVectorProduct() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let se = try #require(suite.first { $0.name == "tiny-se-fc64-1²" })
        #expect(!se.cold && se.role == .overhead && se.opClass == .gemm)
        let conv = try #require(suite.first { $0.name == "tiny-conv1x1-c32-2²×16" })
        #expect(conv.role == .overhead && conv.opClass == .conv)
        #expect(conv.graph.nodes.allSatisfy { conv.graph.efficiencyClass($0) == .conv1x1 })
        // Timed: the 64→64 1×1 convs on the pooled 1×1 map, not the depthwise producers or the pools.
        let timed = try #require(se.timed)
        #expect(timed.count >= 2)
        for name in timed {
            let node = try #require(se.graph.nodes.first { $0.name == name })
            guard case .conv(let a) = node.op else { Issue.record("\(name) is not a conv"); continue }
            #expect(a.isPointwise && !a.isDepthwise)
            #expect(se.graph.tensors[node.outputs[0]].shape == [1, 64, 1, 1])
            #expect(se.graph.efficiencyClass(node) == .gemm)
        }
        // Runs and gives the fc's FLOPs: 2 × 64 × 64 + bias.
        let options = MicroBenchmarkRunner.Options(threads: 1, timing: TimingOptions(warmup: 0, iterations: 2))
        let s = try MicroBenchmarkRunner.run(se, template: device, unit: nil, options: options)
        #expect(s.role == .overhead && s.measured > 0)
        #expect(s.flops >= Double(2 * 64 * 64) && s.flops < Double(3 * 64 * 64))
    }

    /// The exp- and erf-based activations are timed fused into the conv or GEMM before them: every
    /// timed kernel is such a fused kernel (conv-silu, conv-sigmoid, gemm-gelu), and a run's sample
    /// fits the activation part with the conv/GEMM part priced at its own class (`anchorClass`).
    @Test func activationsAreTimedFusedIntoTheirProducers() throws {
        let device = try DeviceLoader.load(file: Self.host)
        for quick in [true, false] {
            let fused = try MicroBenchmarkSuite.suite(quick: quick).filter { $0.opClass == .transcendental || $0.opClass == .erf }
            #expect(fused.count == (quick ? 2 : 5) && fused.contains { $0.opClass == .erf } && fused.contains { $0.opClass == .transcendental })
            for bench in fused {
                var g = bench.graph
                g.fuse()
                let timed = try #require(bench.timed, "\(bench.name)")
                let kinds = Set(g.fusionGroups.filter { timed.contains(g.nodes[$0.nodes[0]].name) }.map(\.kind))
                #expect(kinds.count == 1 && ["conv-silu", "conv-sigmoid", "gemm-gelu"].contains(kinds.first ?? ""), "\(bench.name): \(kinds)")
            }
        }
        let bench = try #require(try MicroBenchmarkSuite.suite(quick: true).first { $0.name == "conv1x1-c16to96-56²-silu" })
        let s = try MicroBenchmarkRunner.run(bench, template: device, unit: nil, options: .init(threads: 1, timing: TimingOptions(warmup: 0, iterations: 2)))
        #expect(s.opClass == .transcendental && s.anchorClass == .conv1x1 && s.measured > 0)
        // The conv part: 16 MACs and the bias per output (96 × 56²).
        let conv = try #require(s.otherFlops[.conv1x1])
        #expect(s.flops > 0 && conv == Double((2 * 16 + 1) * 96 * 56 * 56), "\(s.flops) \(s.otherFlops)")
    }

    /// The `parallel_overhead` probes time squeeze-excitation blocks' fcs of three shapes, kernels the
    /// runner splits over two threads (so their samples fork) and, on one thread, does not; their
    /// weights are L3-resident by the residence rule (1.2–3.7 MB: past L2, within half the L3).
    @Test func parallelOverheadProbesTimeSplitKernels() throws {
        let device = try DeviceLoader.load(file: Self.host)
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let probes = suite.filter { $0.role == .parallelOverhead }
        #expect(probes.map(\.name) == ["se-blocks-1152-48-7²-fcs", "se-blocks-672-28-14²-fcs", "se-blocks-480-120-14²-fcs"])
        for fcs in probes {
            let timed = try #require(fcs.timed)
            #expect(timed.count == 12, "\(fcs.name)")   // fc1 and fc2 of the six inner blocks
            for name in timed {
                let node = try #require(fcs.graph.nodes.first { $0.name == name })
                #expect(fcs.graph.efficiencyClass(node) == .gemm && fcs.graph.threadsUsed(node, threads: 2) == 2, "\(fcs.name): \(name)")
            }
        }
        let timing = TimingOptions(warmup: 0, iterations: 2)
        for probe in probes {
            let two = try MicroBenchmarkRunner.run(probe, template: device, unit: nil, options: .init(threads: 2, timing: timing))
            #expect(two.role == .parallelOverhead && two.forks && two.measured > 0, "\(probe.name)")
            // the fcs' weights: from L3, not main memory
            #expect(two.opClass == .gemm && two.levelBytes.count == 4 && two.levelBytes[2] > 0 && two.levelBytes[3] == 0, "\(probe.name): \(two.levelBytes)")
            let one = try MicroBenchmarkRunner.run(probe, template: device, unit: nil, options: .init(threads: 1, timing: timing))
            #expect(!one.forks, "\(probe.name)")
        }
    }

    /// The cross-core probes time global pools that read a 1×1 conv's pixel-split output (a quarter of the
    /// map from the other core on two threads); their twins' pools read a depthwise conv's channel blocks
    /// (none). One thread reads nothing from another core.
    @Test func crossCoreProbesReadTheOtherCoresBytesAndTheirTwinsDoNot() throws {
        // The Intel guest's file: its L1 and L2 are `per_core` (the AMD host.yaml's are not).
        let device = try DeviceLoader.load(file: Self.host.replacingOccurrences(of: "host.yaml", with: "host-intel-xeon.yaml"))
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let probes = suite.filter { $0.role == .crossCore }
        #expect(probes.map(\.name) == ["globalavgpool-c96-56²-after-conv1x1", "globalavgpool-c32-112²-after-conv1x1"])
        #expect(try MicroBenchmarkSuite.suite(quick: false).filter { $0.role == .crossCore }.count == 3)
        let timing = TimingOptions(warmup: 0, iterations: 2)
        for probe in probes {
            let two = try MicroBenchmarkRunner.run(probe, template: device, unit: nil, options: .init(threads: 2, timing: timing))
            let sides = probe.name.split(separator: "-")[1].dropFirst()
            let channels = Double(sides) ?? 0
            let hw = Double(probe.name.split(separator: "-")[2].prefix { $0.isASCII && $0.isNumber }) ?? 0
            #expect(two.role == .crossCore && two.opClass == .pooling && two.measured > 0)
            #expect(abs(two.crossCoreBytes - channels * hw * hw * 4 / 4) < 1, "\(probe.name): \(two.crossCoreBytes)")
            // The same pool after a depthwise conv (the streaming grid's 96×56² unit) reads only its own core's planes.
            if let twin = suite.first(where: { $0.name == String(probe.name.dropLast("-after-conv1x1".count)) }) {
                let plain = try MicroBenchmarkRunner.run(twin, template: device, unit: nil, options: .init(threads: 2, timing: timing))
                #expect(plain.role == .streaming && plain.crossCoreBytes == 0, "\(twin.name)")
            } else {
                #expect(!probe.name.hasPrefix("globalavgpool-c96-56²"), "the 96×56² pool after a depthwise conv is in the quick suite")
            }
            let one = try MicroBenchmarkRunner.run(probe, template: device, unit: nil, options: .init(threads: 1, timing: timing))
            #expect(one.crossCoreBytes == 0)
        }
    }

    /// `recount` (what `calibrate --refit` does to a saved sample) counts the cost model's side again
    /// without running: on the template the sample was measured with it gives back exactly the sample
    /// `run` made (measured time and placement kept); on a template whose private caches are shared
    /// it drops the cross-core bytes, and at one thread the split.
    @Test func recountGivesTheRunsCountsAndFollowsTheTemplate() throws {
        let intel = try DeviceLoader.load(file: Self.host.replacingOccurrences(of: "host.yaml", with: "host-intel-xeon.yaml"))
        let suite = try MicroBenchmarkSuite.suite(quick: true)
        let timing = TimingOptions(warmup: 0, iterations: 2)
        for name in ["globalavgpool-c96-56²-after-conv1x1", "dwconv3x3-c144-28²", "conv1x1-c64-28²"] {
            let bench = try #require(suite.first { $0.name == name })
            let measured = try MicroBenchmarkRunner.run(bench, template: intel, unit: nil, options: .init(threads: 2, timing: timing))
            var recorded = measured
            recorded.measured = 42e-6
            recorded.farApart = true
            var again = try MicroBenchmarkRunner.recount(recorded, bench: bench, template: intel, unit: nil, threads: 2)
            #expect(again.measured == 42e-6 && again.farApart)
            again.measured = measured.measured
            again.farApart = measured.farApart
            #expect(again == measured, "\(name)")
        }
        let probe = try #require(suite.first { $0.role == .crossCore })
        let sample = try MicroBenchmarkRunner.run(probe, template: intel, unit: nil, options: .init(threads: 2, timing: timing))
        #expect(sample.crossCoreBytes > 0)
        var shared = intel
        for i in shared.memory.indices { shared.memory[i].perCore = false }
        #expect(try MicroBenchmarkRunner.recount(sample, bench: probe, template: shared, unit: nil, threads: 2).crossCoreBytes == 0)
        let alone = try MicroBenchmarkRunner.recount(sample, bench: probe, template: intel, unit: nil, threads: 1)
        #expect(alone.crossCoreBytes == 0 && !alone.forks && alone.measured == sample.measured)
    }

    /// Every timed kernel of an in-context benchmark anchors its own fused kernel (so the runner and
    /// the cost model report it by that name), in both suites.
    @Test func timedKernelsAnchorTheirOwnFusedKernels() throws {
        for quick in [true, false] {
            for bench in try MicroBenchmarkSuite.suite(quick: quick) {
                guard let timed = bench.timed else { continue }
                var g = bench.graph
                g.fuse()
                let anchors = Set(g.fusionGroups.map { g.nodes[$0.nodes[0]].name })
                #expect(!timed.isEmpty && timed.isSubset(of: anchors), "\(bench.name): \(timed.subtracting(anchors).sorted())")
            }
        }
    }
}
