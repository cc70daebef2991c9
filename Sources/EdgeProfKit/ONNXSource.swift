import Foundation
import ModelImport
import NNGraph

extension ModelSource {
    /// Imports an ONNX file into the graph IR (weights are not needed for prediction).
    static func loadONNX(path: String, options: ModelLoadOptions) throws(EdgeProfError) -> LoadedModel {
        guard FileManager.default.fileExists(atPath: path) else { throw .io("\(path): no such file") }
        do {
            let imported = try ONNXImporter.load(path: path, options: ONNXImportOptions(inputShapes: options.inputShapes,
                                                                                      allowUnsupported: options.allowUnsupported))
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return LoadedModel(name: name, source: "onnx:\(path)", graph: imported.graph)
        } catch {
            throw .importFailed(error.description)
        }
    }
}
