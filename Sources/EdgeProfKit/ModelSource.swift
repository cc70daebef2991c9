import DeviceSpec
import Foundation
import ModelImport
import NNGraph

/// A model ready to profile: its graph and where it came from.
public struct LoadedModel: Sendable {
    public var name: String
    /// "zoo" or "onnx:<path>".
    public var source: String
    public var graph: Graph
}

public enum ModelSource {
    /// Resolves a zoo name or an ONNX path.
    public static func load(_ reference: String, options: ModelLoadOptions = ModelLoadOptions()) throws(EdgeProfError) -> LoadedModel {
        if reference.hasSuffix(".onnx") || reference.contains("/") {
            return try loadONNX(path: reference, options: options)
        }
        guard let zoo = ModelZoo.model(named: reference) else {
            throw .unknownModel(reference, suggestion: didYouMean(reference, among: ModelZoo.names))
        }
        do {
            return LoadedModel(name: zoo.name, source: "zoo", graph: try zoo.build())
        } catch {
            throw .graph(model: reference, error)
        }
    }
}

public struct ModelLoadOptions: Sendable {
    public var inputShapes: [String: TensorShape]
    public var allowUnsupported: Bool
    public init(inputShapes: [String: TensorShape] = [:], allowUnsupported: Bool = false) {
        self.inputShapes = inputShapes
        self.allowUnsupported = allowUnsupported
    }

    /// Parses `name=1x3x224x224`.
    public static func parseInputShape(_ text: String) throws(EdgeProfError) -> (String, TensorShape) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw .usage("--input-shape expects NAME=DIMS like input=1x3x224x224, got '\(text)'")
        }
        let dims = parts[1].split(separator: "x").map { Int($0) }
        guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw .usage("--input-shape \(parts[0]): dimensions must be positive integers separated by 'x', got '\(parts[1])'")
        }
        return (parts[0], TensorShape(dims.compactMap { $0 }))
    }
}
