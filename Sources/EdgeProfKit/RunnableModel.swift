import Foundation
import KernelRunner
import ModelImport
import NNGraph

/// A model with the weights to execute it: ONNX files bring their own; zoo architectures get
/// deterministic seeded random weights (`SeededWeights`).
public struct RunnableModel: Sendable {
    public var model: LoadedModel
    public var weights: WeightStore
    /// "onnx initializers" or "seeded random (seed N)".
    public var weightsSource: String

    public static func load(_ reference: String, options: ModelLoadOptions = ModelLoadOptions(), seed: UInt64 = 0) throws(EdgeProfError) -> RunnableModel {
        if reference.hasSuffix(".onnx") || reference.contains("/") {
            guard FileManager.default.fileExists(atPath: reference) else { throw .io("\(reference): no such file") }
            let imported: ImportedModel
            do {
                imported = try ONNXImporter.load(path: reference, options: ONNXImportOptions(inputShapes: options.inputShapes,
                                                                                           allowUnsupported: false))
            } catch {
                throw .importFailed(error.description)
            }
            let name = ((reference as NSString).lastPathComponent as NSString).deletingPathExtension
            return RunnableModel(model: LoadedModel(name: name, source: "onnx:\(reference)", graph: imported.graph),
                                 weights: WeightStore(imported.weights.mapValues(\.values)), weightsSource: "onnx initializers")
        }
        let model = try ModelSource.load(reference, options: options)
        return RunnableModel(model: model, weights: SeededWeights.generate(for: model.graph, seed: seed),
                             weightsSource: "seeded random (seed \(seed); He-normal conv, LeCun-normal linear)")
    }

    /// Compiles for this CPU with `threads` threads (nil = all cores).
    public func compile(threads: Int?, seed: UInt64 = 0) throws(EdgeProfError) -> CompiledModel {
        try compile(options: RunnerOptions(threads: threads), seed: seed)
    }

    /// Compiles for this CPU with a full runner configuration (threads, tile size, storage precision).
    public func compile(options: RunnerOptions, seed: UInt64 = 0) throws(EdgeProfError) -> CompiledModel {
        do {
            return try CompiledModel(graph: model.graph, weights: weights, options: options, seed: seed)
        } catch {
            throw .importFailed("cannot execute \(model.name) on this CPU: \(error.description)")
        }
    }
}
