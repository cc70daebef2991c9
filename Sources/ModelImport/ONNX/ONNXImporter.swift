import Foundation
import NNGraph
import SwiftProtobuf

/// How to import an ONNX file.
public struct ONNXImportOptions: Sendable, Hashable {
    /// Static shapes for graph inputs, by input name. Needed when an input has dynamic
    /// dimensions (e.g. an exported dynamic batch axis); CLI: `--input-shape input=1x3x224x224`.
    public var inputShapes: [String: TensorShape]
    /// Import operators edgeprof does not model as explicit `.unsupported` nodes (their output
    /// shapes come from the model's `value_info`) instead of failing. CLI: `--allow-unsupported`.
    public var allowUnsupported: Bool

    public init(inputShapes: [String: TensorShape] = [:], allowUnsupported: Bool = false) {
        self.inputShapes = inputShapes
        self.allowUnsupported = allowUnsupported
    }

    /// Parses one `--input-shape` value, `name=1x3x224x224` (a scalar is `name=scalar`).
    /// The name may itself contain `=`; the last `=` separates it from the shape.
    public static func parseInputShape(_ text: String) throws(ImportError) -> (name: String, shape: TensorShape) {
        func bad(_ why: String) -> ImportError {
            ImportError(.invalidInputShape, path: "--input-shape", "'\(text)': \(why); expected NAME=DIMxDIMx... e.g. input=1x3x224x224")
        }
        guard let eq = text.lastIndex(of: "=") else { throw bad("no '='") }
        let name = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let spec = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw bad("empty input name") }
        if spec == "scalar" { return (name, TensorShape([])) }
        var dims: [Int] = []
        for part in spec.split(separator: "x", omittingEmptySubsequences: false) {
            guard let d = Int(part.trimmingCharacters(in: .whitespaces)), d > 0, d <= ONNXLimits.maxDim else {
                throw bad("'\(part)' is not a positive dimension")
            }
            dims.append(d)
        }
        guard !dims.isEmpty, dims.count <= ONNXLimits.maxRank else { throw bad("bad rank") }
        return (name, TensorShape(dims))
    }
}

/// Float32 data of one parameter (ONNX initializer), keyed in `ImportedModel.weights` by the
/// `ParamInfo.name` of the node that owns it.
public struct WeightData: Sendable, Hashable {
    public var shape: TensorShape
    /// Element type stored in the model. `values` are always float32: float16/int8/int64 data is
    /// converted, and QDQ-quantized weights are dequantized (`(q - zero_point) * scale`).
    public var storedType: DType
    /// Row-major values, `shape.elementCount` of them.
    public var values: [Float]

    public init(shape: TensorShape, storedType: DType, values: [Float]) {
        self.shape = shape
        self.storedType = storedType
        self.values = values
    }
}

/// One ONNX node edgeprof cannot model.
public struct UnsupportedOp: Sendable, Hashable, Codable, CustomStringConvertible {
    public var opType: String
    /// Operator domain; empty for the default ONNX domain.
    public var domain: String
    public var node: String
    /// Opset version of the node's domain in the model.
    public var opset: Int
    /// Why, when the op type is known but this use of it is not (e.g. `Pad` in reflect mode).
    public var reason: String?

    public init(opType: String, domain: String = "", node: String, opset: Int, reason: String? = nil) {
        self.opType = opType
        self.domain = domain
        self.node = node
        self.opset = opset
        self.reason = reason
    }

    public var description: String {
        let op = domain.isEmpty || domain == "ai.onnx" ? opType : "\(domain).\(opType)"
        var s = "\(op) (node '\(node)', opset \(opset))"
        if let reason { s += ": \(reason)" }
        return s
    }
}

/// The result of importing an ONNX model.
public struct ImportedModel: Sendable {
    /// Validated and fused (`GraphBuilder.finish()`), with static shapes.
    public var graph: Graph
    /// Float32 data for every `ParamInfo` in the graph, keyed by `ParamInfo.name`.
    /// Transformed copies of an initializer get a suffixed name: `W::T` (transposed to the
    /// IR's `[N, K]` gemm layout), `W::scaled` (Gemm alpha/beta folded in).
    public var weights: [String: WeightData]
    /// Version of the default (ai.onnx) operator set.
    public var opset: Int
    public var irVersion: Int
    /// `producer_name producer_version`, e.g. "pytorch 2.13.0".
    public var producer: String
    /// Operators imported as `.unsupported` nodes (only with `allowUnsupported`).
    public var unsupported: [UnsupportedOp]
}

/// A located, human-readable import failure.
public struct ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The file cannot be read (missing, a directory, permissions, external data file missing).
        case io
        /// The bytes are not an ONNX protobuf (wrong leading bytes, another format).
        case notONNX
        /// The file ends in the middle of a protobuf field.
        case truncated
        /// Protobuf-level or ONNX-level structure is invalid.
        case malformed
        /// A tensor (initializer, Constant, attribute) has inconsistent dims, data or type.
        case invalidTensor
        /// Dimensions or counts beyond what any real model has (e.g. more than 2^31 elements).
        case tooLarge
        /// A node input names a tensor no node, graph input or initializer produces.
        case missingTensor
        /// Two definitions of one tensor name.
        case duplicateName
        /// Nodes that depend on each other.
        case cycle
        /// A graph input has dynamic dimensions and no `inputShapes` entry.
        case dynamicShape
        /// An `inputShapes` entry is malformed or does not fit the model.
        case invalidInputShape
        /// An attribute is missing or out of range.
        case invalidAttribute
        /// Output shape computation failed (incompatible shapes).
        case shape
        /// Operators edgeprof does not model (see `unsupported`).
        case unsupportedOps
    }

    public var kind: Kind
    /// The model file (or `--input-shape` for option errors).
    public var path: String
    /// The ONNX node the error is about, when there is one.
    public var node: String?
    public var message: String
    /// For `.unsupportedOps`: every unsupported operator in the model.
    public var unsupported: [UnsupportedOp]

    public init(_ kind: Kind, path: String, node: String? = nil, _ message: String, unsupported: [UnsupportedOp] = []) {
        self.kind = kind
        self.path = path
        self.node = node
        self.message = message
        self.unsupported = unsupported
    }

    public var description: String {
        var s = path + ": "
        if let node { s += "node '\(node)': " }
        s += message
        if !unsupported.isEmpty {
            s += unsupported.map { "\n  - \($0)" }.joined()
        }
        return s
    }
}

/// Sanity limits: anything beyond them is treated as a corrupt or hostile file.
enum ONNXLimits {
    /// Largest element count of one tensor (2^31 - 1).
    static let maxElements = Int(Int32.max)
    /// Largest single dimension.
    static let maxDim = Int(Int32.max)
    static let maxRank = 32
    /// Largest value of a size-like attribute (kernel, stride, pad, dilation, group).
    static let maxAttribute = 1 << 24
    /// Largest tensor created by constant folding (ConstantOfShape, Expand, Range, ...).
    static let maxFoldedElements = 1 << 24
    /// Largest total multiply-accumulates of a model (10^15 ≈ 2^50).
    static let maxTotalMACs = 1 << 50
    /// Protobuf messages cannot exceed 2 GiB.
    static let maxFileBytes = Int(Int32.max)
}

public enum ONNXImporter {
    /// Default-domain opset versions accepted. Tested on 11–21 (PyTorch exports 17/18).
    public static let supportedOpsets: ClosedRange<Int> = 7...24

    /// ONNX operator types the importer maps to the IR (plus shape arithmetic it folds away).
    public static var supportedOperators: [String] { ONNXOpTables.converted.sorted() }
    /// Operator types evaluated at import time when all their inputs are constant.
    public static var foldedOperators: [String] { ONNXOpTables.foldable.sorted() }

    /// Imports the ONNX model at `path`. External data files are looked up next to it.
    public static func load(path: String, options: ONNXImportOptions = ONNXImportOptions()) throws(ImportError) -> ImportedModel {
        let data = try readModelFile(path)
        return try load(data: data, path: path, options: options)
    }

    /// Imports a serialized ONNX model. `path` names it in errors and locates external data.
    public static func load(data: Data, path: String, options: ONNXImportOptions = ONNXImportOptions()) throws(ImportError) -> ImportedModel {
        if let reason = sniffNonONNX(data) {
            throw ImportError(.notONNX, path: path, "not an ONNX model: \(reason)")
        }
        var decoding = BinaryDecodingOptions()
        decoding.discardUnknownFields = true
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data, options: decoding)
        } catch let error as BinaryDecodingError {
            switch error {
            case .truncated:
                throw ImportError(.truncated, path: path,
                                  "the file is truncated: it ends inside a protobuf field (\(data.count) bytes read); re-export or re-download it")
            default:
                throw ImportError(.malformed, path: path, "not a valid ONNX protobuf (\(error))")
            }
        } catch {
            throw ImportError(.malformed, path: path, "not a valid ONNX protobuf (\(error))")
        }
        guard model.hasGraph else {
            throw ImportError(.notONNX, path: path, "the protobuf has no graph: not an ONNX model, or truncated before the graph")
        }
        var converter = try ONNXConverter(model: model, path: path, options: options)
        return try converter.run()
    }

    static func readModelFile(_ path: String) throws(ImportError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImportError(.io, path: path, "no such file")
        }
        guard !isDirectory.boolValue else { throw ImportError(.io, path: path, "is a directory, not an .onnx file") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(ONNXLimits.maxFileBytes) {
            throw ImportError(.tooLarge, path: path,
                              "the file is \(size.int64Value / (1 << 20)) MiB; a protobuf cannot exceed 2 GiB (large models keep weights in external data files)")
        }
        do {
            // Memory-mapped: the protobuf decoder copies what it keeps, so the file is read once.
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ImportError(.io, path: path, "cannot read the file: \(error.localizedDescription)")
        }
    }

    /// Returns why `data` cannot be an ONNX ModelProto, or nil if it may be one.
    static func sniffNonONNX(_ data: Data) -> String? {
        guard !data.isEmpty else { return "the file is empty" }
        let head = [UInt8](data.prefix(16))
        func starts(_ bytes: [UInt8]) -> Bool { head.count >= bytes.count && Array(head.prefix(bytes.count)) == bytes }
        let hex = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "it is a zip archive (a PyTorch .pt/.pth checkpoint?); export it with torch.onnx.export" }
        if starts([0x89, 0x48, 0x44, 0x46]) { return "it is an HDF5 file (a Keras .h5 model?); convert it with tf2onnx" }
        if head.count >= 8, Array(head[4..<8]) == Array("TFL3".utf8) { return "it is a TensorFlow Lite flatbuffer" }
        if starts([0x80]) && head.count > 1 && head[1] <= 5 { return "it is a Python pickle" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "it is an ELF executable" }
        // A serialized ModelProto starts with the tag of one of its fields.
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var ok = false
        for byte in head.prefix(10) {
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { ok = true; break }
            shift += 7
        }
        let field = value >> 3
        let wire = value & 7
        // ir_version(1), model_version(5): varint; strings and messages: length-delimited.
        let expected: [UInt64: UInt64] = [1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2]
        guard ok, let w = expected[field], w == wire else {
            if let text = String(bytes: head, encoding: .utf8), text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isWhitespace || $0.isPunctuation || $0.isNumber || $0.isSymbol) }) {
                return "it looks like a text file (starts with \"\(text.prefix(12))\"), not a binary ONNX protobuf"
            }
            return "unexpected leading bytes \(hex) (an ONNX file starts with a ModelProto field tag, usually 08 = ir_version)"
        }
        return nil
    }
}
