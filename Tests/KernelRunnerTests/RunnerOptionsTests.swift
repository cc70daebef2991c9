import Foundation
@testable import KernelRunner
import ModelImport
import NNGraph
import Testing

/// Runner options a device profile sets (issue 10): im2col tile size and simulated fp16 storage.
@Suite("Runner options")
struct RunnerOptionsTests {
    static func squeezenet() throws -> (Graph, WeightStore, [HostTensor]) {
        let graph = try #require(ModelZoo.model(named: "squeezenet1_1")).build()
        let weights = SeededWeights.generate(for: graph, seed: 3)
        let inputs = graph.inputs.map { HostTensor.random(shape: graph.tensors[$0].shape, seed: 4) }
        return (graph, weights, inputs)
    }

    /// One 3×3 stride-2 convolution: the im2col path, whose scratch is the per-thread column tile
    /// (stride-1 3×3 convs of the zoo models now take the Winograd path, whose scratch does not depend on it).
    static func stridedConv() throws -> (Graph, WeightStore, [HostTensor]) {
        var b = GraphBuilder(name: "strided-conv")
        let x = b.input("x", shape: [1, 16, 56, 56])
        let attrs = ConvAttributes(inChannels: 16, outChannels: 32, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], hasBias: true)
        let y = try b.add1("conv", .conv(attrs), inputs: [x], params: [
            ParamInfo(name: "w", shape: [32, 16, 3, 3]), ParamInfo(name: "b", shape: [32]),
        ])
        b.markOutput(y)
        let graph = try b.finish()
        return (graph, SeededWeights.generate(for: graph, seed: 3), [HostTensor.random(shape: graph.tensors[graph.inputs[0]].shape, seed: 4)])
    }

    @Test func tileSizeChangesScratchNotResults() throws {
        let (graph, weights, inputs) = try Self.stridedConv()
        let small = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 1, im2colTileBytes: 16 * 1024))
        let large = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 1, im2colTileBytes: 1024 * 1024))
        #expect(small.memory.scratchBytes < large.memory.scratchBytes)
        let a = try small.run(inputs), b = try large.run(inputs)
        expectClose(a[0].values, b[0].values, tolerance: 1e-5, "tile 16 KiB vs 1 MiB")
    }

    /// 1×1 convs split pixels into tiles of at most `pointwiseTileBytes` of output: mobilenet_v2's 112²
    /// expansion (96 channels) makes 20 tiles at 256 KiB and 6 at 1 MiB on 2 threads, with the same results.
    @Test func pointwiseTileFollowsItsBudget() throws {
        var b = GraphBuilder(name: "expand")
        let x = b.input("x", shape: [1, 16, 112, 112])
        let attrs = ConvAttributes(inChannels: 16, outChannels: 96, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
        b.markOutput(try b.add1("conv", .conv(attrs), inputs: [x], params: [ParamInfo(name: "w", shape: [96, 16, 1, 1]), ParamInfo(name: "b", shape: [96])]))
        let graph = try b.finish()
        let weights = SeededWeights.generate(for: graph, seed: 3)
        let inputs = [HostTensor.random(shape: graph.tensors[graph.inputs[0]].shape, seed: 4)]
        var results: [[Float]] = []
        for (budget, tiles) in [(256 * 1024, 20), (1024 * 1024, 6)] {
            let model = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 2, pointwiseTileBytes: budget))
            let step = try #require(model.steps.compactMap { $0 }.first as? ConvolutionStep)
            #expect((112 * 112 + step.tile - 1) / step.tile == tiles, "budget \(budget): tile \(step.tile)")
            results.append(try model.run(inputs)[0].values)
        }
        expectClose(results[0], results[1], tolerance: 1e-6, "256 KiB vs 1 MiB tiles")
        #expect(RunnerOptions.pointwiseTileRange.contains(RunnerOptions.defaultPointwiseTileBytes))
        #expect(MachineCaches.parseSize("1024K") == 1 << 20 && MachineCaches.parseSize("32M") == 32 << 20 && MachineCaches.parseSize("512") == 512)
    }

    @Test func fp16StorageRoundsEveryOutputAndStaysClose() throws {
        let (graph, weights, inputs) = try Self.squeezenet()
        let fp32 = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 2))
        let fp16 = try CompiledModel(graph: graph, weights: weights.roundedToFP16(), options: RunnerOptions(threads: 2, activationStorage: .fp16))
        let a = try fp32.run(inputs)[0].values, b = try fp16.run(inputs)[0].values
        // Every stored value is a binary16 value...
        #expect(b.allSatisfy { Float(Float16($0)) == $0 })
        // ...which fp32 outputs in general are not, so the rounding really happened...
        #expect(a.contains { Float(Float16($0)) != $0 })
        // ...and fp16 storage stays within fp16's precision of the fp32 result (relative to the output scale).
        let scale = a.map(abs).max() ?? 1
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(diff / scale < 0.02, "max |fp16 − fp32| / max |fp32| = \(diff / scale)")
        // Timed execution rounds too (outside the step clocks).
        var ns = [UInt64](repeating: 0, count: fp16.layers.count)
        try fp16.setInputs(inputs)
        fp16.executeTimed(into: &ns)
        #expect(fp16.readOutputs()[0].values == b)
    }

    @Test func weightRoundingIsRoundToNearestBinary16() {
        let w = WeightStore(["w": [1.0 / 3.0, 65504, 1e-8, -2.5]]).roundedToFP16()
        #expect(w["w"]! == [Float(Float16(1.0 / 3.0)), 65504, Float(Float16(Float(1e-8))), -2.5])
        #expect(w["w"]![0] != 1.0 / 3.0)
    }

    /// `TimingOptions.endToEndPhase = false` (what `calibrate` runs): no end-to-end runs, and
    /// `endToEnd` reports the per-layer runs' totals; with it (the default) both phases run.
    @Test func theEndToEndPhaseCanBeSkipped() throws {
        let (graph, weights, inputs) = try Self.stridedConv()
        let model = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 1))
        let skip = TimingOptions(warmup: 1, iterations: 3, endToEndPhase: false)
        let m = try TimingHarness.measure(model, inputs: inputs, options: skip)
        #expect(m.endToEnd == m.layeredEndToEnd && m.layeredEndToEnd.samples == 3 && m.energyPerInferenceJ == nil)
        #expect(m.layers.allSatisfy { $0.samples == 3 })
        let both = try TimingHarness.measure(model, inputs: inputs, options: TimingOptions(warmup: 1, iterations: 3))
        #expect(both.endToEnd.samples == 3 && both.layeredEndToEnd.samples == 3)
    }
}
