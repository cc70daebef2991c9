import Foundation
import KernelRunner
import ModelImport
import NNGraph
import Testing

/// Every zoo architecture compiles and runs with seeded weights, gives finite outputs, the
/// same result on 1 and 2 threads, and an arena no larger than the unshared activations.
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
        let m = one.memory
        #expect(m.arenaBytes >= m.arenaLowerBoundBytes && m.arenaBytes <= m.unsharedBytes)
        // Activations in the arena never exceed what the cost model's liveness count predicts by much.
        #expect(Double(m.arenaBytes) <= Double(graph.memoryFootprint().peakActivationBytes) * 1.25 + 4096,
                "\(name): arena \(m.arenaBytes) vs predicted peak \(graph.memoryFootprint().peakActivationBytes)")
    }
}
