import Foundation
import ModelImport
import NNGraph

extension ModelSource {
    static func loadONNX(path: String, options: ModelLoadOptions) throws(EdgeProfError) -> LoadedModel {
        guard FileManager.default.fileExists(atPath: path) else { throw .io("\(path): no such file") }
        throw .importFailed("\(path): ONNX import is not available in this build")
    }
}
