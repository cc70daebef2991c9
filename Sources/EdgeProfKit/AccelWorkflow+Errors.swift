import Accelerator
import DeviceSpec
import KernelRunner
import NNGraph

extension AccelWorkflow {
    /// Weights as the array reads them from the buffer: normalised, FP16, encoded, hit by
    /// `model`'s errors (nil: error-free), decoded and scaled back.
    static func bufferedWeights(_ runnable: RunnableModel, layers: [AcceleratorLayer], encoding: BufferEncoding, model: ErrorModel?,
                                seed: UInt64) throws(EdgeProfError) -> (weights: WeightStore, flipped: Int, cells: Int, corrections: Int) {
        var store = runnable.weights
        var flipped = 0, cells = 0, corrections = 0
        var rng = KernelRunner.SplitMix64(seed: seed)
        for layer in layers {
            var (scale, stored) = try encodedWeights(layer, weights: runnable.weights, encoding: encoding)
            if let model {
                let outcome = model.inject(into: &stored.words, using: &rng)
                flipped += outcome.flipped
                cells += outcome.cells
            }
            corrections += MLCCodec.corrections(stored, encoding)
            store[layer.weightName] = FP16Weights.denormalise(MLCCodec.decode(stored, encoding), scale: scale)
        }
        return (store, flipped, cells, corrections)
    }

    static func outputs(graph: Graph, weights: WeightStore, inputs: [[HostTensor]], threads: Int?, seed: UInt64) throws(EdgeProfError) -> [[Float]] {
        do {
            let model = try CompiledModel(graph: graph, weights: weights, threads: threads, seed: seed)
            var out: [[Float]] = []
            for x in inputs { out.append(try model.run(x).first?.values ?? []) }
            return out
        } catch {
            throw .importFailed("cannot run the model with buffered weights: \(error.description)")
        }
    }

    static func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] } ?? 0 }

    static func compare(_ ys: [[Float]], reference: [[Float]]) -> (agreement: Double, deviation: Double) {
        var agree = 0
        var diff = 0.0, mag = 0.0
        for (y, r) in zip(ys, reference) {
            if argmax(y) == argmax(r) { agree += 1 }
            for (a, b) in zip(y, r) {
                // A non-finite output counts as disagreement of the full magnitude of the reference.
                diff += a.isFinite ? Double(abs(a - b)) : Double(abs(b)) + 1
                mag += Double(abs(b))
            }
        }
        return (Double(agree) / Double(max(1, ys.count)), mag > 0 ? diff / mag : 0)
    }

    static func injectErrors(runnable: RunnableModel, graph: Graph, layers: [AcceleratorLayer], cell: MLCCellSpec, inputs: [[HostTensor]],
                             request: Request) throws(EdgeProfError) -> (rows: [AccelReport.ErrorRow], fp16Agreement: Double) {
        let fp32 = try outputs(graph: graph, weights: runnable.weights, inputs: inputs, threads: request.threads, seed: request.seed)
        let clean = try bufferedWeights(runnable, layers: layers, encoding: .none, model: nil, seed: request.seed).weights
        let reference = try outputs(graph: graph, weights: clean, inputs: inputs, threads: request.threads, seed: request.seed)
        var rows: [AccelReport.ErrorRow] = []
        for encoding in request.encodings {
            for (i, scale) in request.scales.enumerated() {
                // The same seed per scale for every encoding: encodings see comparable draws.
                let buffered = try bufferedWeights(runnable, layers: layers, encoding: encoding, model: ErrorModel(cell: cell, scale: scale),
                                                   seed: request.seed &+ 0x9E37_79B9 &* UInt64(i + 1))
                let ys = try outputs(graph: graph, weights: buffered.weights, inputs: inputs, threads: request.threads, seed: request.seed)
                let c = compare(ys, reference: reference)
                rows.append(.init(encoding: encoding.rawValue, scale: scale, samples: inputs.count, top1Agreement: c.agreement,
                                  relativeDeviation: c.deviation, cellsFlipped: buffered.flipped, cellsStored: buffered.cells,
                                  corrections: buffered.corrections))
            }
        }
        return (rows, compare(reference, reference: fp32).agreement)
    }
}
