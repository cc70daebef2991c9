import CKernels
import Foundation
import KernelRunner
import ModelImport
import NNGraph
import Testing

/// Every zoo architecture compiles and runs with seeded weights, gives finite outputs, the
/// same result on 1 and 2 threads, with either kernel set and with every step in a buffer of its
/// own, and an arena no larger than the unshared activations.
@Suite("Zoo models execute")
struct ZooModelTests {
    @Test(arguments: ModelZoo.names)
    func runsWithSeededWeights(_ name: String) throws {
        let zoo = try #require(ModelZoo.model(named: name))
        let graph = try zoo.build()
        let weights = SeededWeights.generate(for: graph, seed: 0)
        let inputs = graph.inputs.map { HostTensor.random(shape: graph.tensors[$0].shape, seed: 1) }
        let one = try CompiledModel(graph: graph, weights: weights, threads: 1)
        let two = try CompiledModel(graph: graph, weights: weights, threads: 2)
        let a = try one.run(inputs), b = try two.run(inputs)
        for (x, y) in zip(a, b) {
            let finite = x.values.allSatisfy { $0.isFinite }
            #expect(finite, "\(name): non-finite output")
            expectClose(x.values, y.values, tolerance: 1e-5, "\(name): 1 vs 2 threads")
        }
        // Storage sharing (views, in-place element-wise steps, concat inputs written into place)
        // changes no value: the same as every step writing a buffer of its own.
        let own = try CompiledModel(graph: graph, weights: weights,
                                    options: RunnerOptions(threads: 2, inPlace: false, concatsInPlace: false)).run(inputs)
        for (x, y) in zip(b, own) { expectClose(y.values, x.values, tolerance: 1e-6, "\(name): shared vs own buffers") }
        // The AVX2 C kernels (where this CPU has them) and the portable kernels agree.
        for kernels in testedKernelSets where kernels != one.options.kernels {
            let other = try CompiledModel(graph: graph, weights: weights, options: RunnerOptions(threads: 1, kernels: kernels)).run(inputs)
            for (x, y) in zip(a, other) { expectClose(y.values, x.values, tolerance: 1e-4, "\(name): kernels \(kernels) vs \(one.options.kernels)") }
        }
        let m = one.memory
        #expect(m.arenaBytes >= m.arenaLowerBoundBytes && m.arenaBytes <= m.unsharedBytes)
        // Activations in the arena never exceed what the cost model's liveness count predicts by much.
        #expect(Double(m.arenaBytes) <= Double(graph.memoryFootprint().peakActivationBytes) * 1.25 + 4096,
                "\(name): arena \(m.arenaBytes) vs predicted peak \(graph.memoryFootprint().peakActivationBytes)")
    }
}

/// The cost model picks a conv's efficiency class (`Graph.efficiencyClass`) and charges nothing
/// for zero-copy views (`Graph.isZeroCopyView`) and concats whose producers wrote every input into
/// place (`Graph.storageRoots`) by rules that must match what the runner does.
@Suite("Runner algorithms match the cost model's classes")
struct AlgorithmClassAgreementTests {
    @Test(arguments: ["resnet18", "mobilenet_v2", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0", "vit_tiny"])
    func convAlgorithmsAndViewsMatch(_ name: String) throws {
        let graph = try #require(ModelZoo.model(named: name)).build()
        let compiled = try CompiledModel(graph: graph, weights: SeededWeights.generate(for: graph, seed: 0), threads: 1)
        let g = compiled.graph
        var seen: [OpClass: Int] = [:]
        var residuals = 0
        var placedConcats = 0
        let storage = g.storageRoots(inPlace: true, concatsInPlace: true)
        for (layer, group) in zip(compiled.layers, g.fusionGroups) {
            let anchor = g.nodes[group.nodes[0]]
            // A fused residual add (`conv-…-add`) is named after the conv algorithm that carries it.
            let fusesAdd = group.nodes.dropFirst().contains { g.nodes[$0].op == .binary(.add) }
            #expect(fusesAdd == layer.algorithm.hasSuffix(" +residual"), "\(name)/\(layer.name): \(group.kind) ran as \(layer.algorithm)")
            if fusesAdd { residuals += 1 }
            let algorithm = fusesAdd ? String(layer.algorithm.dropLast(" +residual".count)) : layer.algorithm
            let cls = g.efficiencyClass(anchor)
            seen[cls, default: 0] += 1
            switch cls {
            case .convWinograd: #expect(algorithm.contains("winograd"), "\(name)/\(layer.name): \(algorithm) but the cost model says conv_winograd")
            case .conv1x1: #expect(algorithm.hasSuffix(" 1x1") && !algorithm.hasPrefix("im2col"), "\(name)/\(layer.name): \(algorithm) but the cost model says conv_1x1")
            case .convKxK: #expect(algorithm.hasPrefix("im2col"), "\(name)/\(layer.name): \(algorithm) but the cost model says conv_kxk")
            case .gemm:
                // A 1×1 conv on a 1×1 map (squeeze-excitation fc) runs as a fully connected layer.
                if case .conv = anchor.op { #expect(algorithm == "sgemv" || algorithm == "gemv16p avx512", "\(name)/\(layer.name): \(algorithm) but the cost model says gemm (matrix-vector)") }
            case .convStem:
                // The direct stem kernel on AVX-512F CPUs, im2col + GEMM elsewhere.
                let direct = ck_isa() >= Int32(CK_ISA_AVX512)
                #expect(algorithm.hasPrefix(direct ? "direct3x3/s2 stem" : "im2col"), "\(name)/\(layer.name): \(algorithm) but the cost model says conv_stem")
            default: break
            }
            let placed = storage.concatInputs[group.id]?.count == anchor.inputs.count || storage.concatsReadByCopies[group.id] != nil
            if placed { placedConcats += 1 }
            let allViews = placed || group.nodes.allSatisfy { g.isZeroCopyView(g.nodes[$0]) }
            #expect(allViews == (layer.algorithm == "view"), "\(name)/\(layer.name): runner \(layer.algorithm), cost model view = \(allViews)")
        }
        // Every fire module's concat (two conv outputs, written in place); every ShuffleNet block's
        // concat (its channel shuffle reads both halves from their own buffers).
        if name == "squeezenet1_1" { #expect(placedConcats == 8 && storage.concatsReadByCopies.isEmpty) }
        if name == "shufflenet_v2_x1_0" { #expect(placedConcats == 16 && storage.concatsReadByCopies.count == 16) }
        if name == "resnet18" {
            #expect(seen[.convWinograd, default: 0] > 0 && seen[.convKxK, default: 0] > 0 && seen[.gemm, default: 0] == 1)
        }
        if name == "mobilenet_v2" { #expect(seen[.conv1x1, default: 0] >= 30 && seen[.convStem, default: 0] == 1 && residuals == 10) }
        if name == "efficientnet_b0" { #expect(seen[.gemm, default: 0] == 33, "16 squeeze-excitation blocks × 2 fc convs + the classifier") }
        if name == "resnet18" { #expect(residuals == 8) }
    }
}
