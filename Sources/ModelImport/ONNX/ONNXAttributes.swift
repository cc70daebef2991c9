import Foundation
import NNGraph

/// Typed access to a node's attributes, with ONNX defaults supplied by the caller.
struct ONNXAttributes {
    private var byName: [String: Onnx_AttributeProto] = [:]
    let node: String
    let path: String

    init(_ proto: Onnx_NodeProto, node: String, path: String) {
        self.node = node
        self.path = path
        for a in proto.attribute where byName[a.name] == nil { byName[a.name] = a }
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    private func fail(_ name: String, _ message: String) -> ImportError {
        ImportError(.invalidAttribute, path: path, node: node, "attribute '\(name)': \(message)")
    }

    /// The declared type, or one inferred from which field is set (old exporters omit `type`).
    private func kind(_ a: Onnx_AttributeProto) -> Onnx_AttributeProto.AttributeType {
        if a.hasType, a.type != .undefined { return a.type }
        if a.hasI { return .int }
        if a.hasF { return .float }
        if a.hasS { return .string }
        if a.hasT { return .tensor }
        if a.hasG { return .graph }
        if !a.ints.isEmpty { return .ints }
        if !a.floats.isEmpty { return .floats }
        if !a.strings.isEmpty { return .strings }
        return .undefined
    }

    func int(_ name: String) throws(ImportError) -> Int? {
        guard let a = byName[name] else { return nil }
        guard kind(a) == .int else { throw fail(name, "expected an int, got \(kind(a))") }
        return Int(a.i)
    }

    func int(_ name: String, default value: Int) throws(ImportError) -> Int {
        try int(name) ?? value
    }

    func ints(_ name: String) throws(ImportError) -> [Int]? {
        guard let a = byName[name] else { return nil }
        let k = kind(a)
        // An empty list may be declared as INTS with no values.
        guard k == .ints || (k == .undefined && a.ints.isEmpty) else { throw fail(name, "expected a list of ints, got \(k)") }
        return a.ints.map { Int($0) }
    }

    func float(_ name: String, default value: Float) throws(ImportError) -> Float {
        guard let a = byName[name] else { return value }
        switch kind(a) {
        case .float: return a.f
        case .int: return Float(a.i)
        default: throw fail(name, "expected a float, got \(kind(a))")
        }
    }

    func string(_ name: String, default value: String) throws(ImportError) -> String {
        guard let a = byName[name] else { return value }
        guard kind(a) == .string else { throw fail(name, "expected a string, got \(kind(a))") }
        return String(decoding: a.s, as: UTF8.self)
    }

    func tensor(_ name: String) throws(ImportError) -> Onnx_TensorProto? {
        guard let a = byName[name] else { return nil }
        guard kind(a) == .tensor else { throw fail(name, "expected a tensor, got \(kind(a))") }
        return a.t
    }

    func floats(_ name: String) throws(ImportError) -> [Float]? {
        guard let a = byName[name] else { return nil }
        guard kind(a) == .floats || (kind(a) == .undefined && a.floats.isEmpty) else { throw fail(name, "expected a list of floats, got \(kind(a))") }
        return a.floats
    }

    /// A size-like list (kernel, strides, dilations): `count` values in 1...maxAttribute.
    func positiveInts(_ name: String, count: Int, default value: Int) throws(ImportError) -> [Int] {
        guard let v = try ints(name) else { return Array(repeating: value, count: count) }
        guard v.count == count else { throw fail(name, "expected \(count) values, got \(v)") }
        guard v.allSatisfy({ $0 >= 1 && $0 <= ONNXLimits.maxAttribute }) else { throw fail(name, "values must be in 1...\(ONNXLimits.maxAttribute), got \(v)") }
        return v
    }

    /// Pads: `count` values bounded by maxAttribute; `allowNegative` for ops that crop.
    func pads(_ name: String, count: Int, allowNegative: Bool = false) throws(ImportError) -> [Int] {
        guard let v = try ints(name) else { return Array(repeating: 0, count: count) }
        guard v.count == count else { throw fail(name, "expected \(count) values, got \(v)") }
        guard v.allSatisfy({ $0 <= ONNXLimits.maxAttribute && $0 >= (allowNegative ? -ONNXLimits.maxAttribute : 0) }) else {
            throw fail(name, "values out of range: \(v)")
        }
        return v
    }
}

/// Which operator types the importer knows.
enum ONNXOpTables {
    /// Mapped to IR nodes when their data input is an activation.
    static let converted: Set<String> = [
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization",
        "Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "Gelu",
        "Add", "Sub", "Mul", "Div", "Pow",
        "Sqrt", "Exp", "Erf", "Neg", "Reciprocal", "Abs", "Log",
        "GlobalAveragePool", "GlobalMaxPool", "AveragePool", "MaxPool", "ReduceMean",
        "Softmax", "Concat", "Split", "Slice", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
        "Pad", "Dropout", "Identity", "Cast", "Gather", "Expand", "Shape", "Size",
        "QuantizeLinear", "DequantizeLinear", "Constant",
    ]

    /// Evaluated at import time when every input is constant (shape arithmetic, weight transforms).
    static let foldable: Set<String> = [
        "Constant", "Identity", "Dropout", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Flatten",
        "Slice", "Cast", "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Neg", "Abs", "Sqrt", "Reciprocal", "Exp", "Log",
        "Floor", "Ceil", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Where",
        "Min", "Max", "ConstantOfShape", "Expand", "Range", "Transpose", "DequantizeLinear", "QuantizeLinear",
        "Relu", "Sigmoid", "Tanh", "Erf", "ReduceProd", "ReduceSum", "CastLike",
    ]

    /// Unsupported elementwise ops whose output shape is the broadcast of the inputs (used for
    /// `.unsupported` rows when the model has no value_info for them).
    static let broadcastingElementwise: Set<String> = [
        "Where", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Mod",
        "Min", "Max", "Mean", "Sum", "Floor", "Ceil", "Round", "Sign", "LeakyRelu", "Elu", "Selu", "Celu",
        "PRelu", "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Sin", "Cos", "IsNaN", "IsInf", "BitShift", "CastLike",
    ]

    /// Inputs that are shapes, axes, pads, bounds or quantization parameters, never weights: kept
    /// off the parameter list of `.unsupported` rows.
    static let nonWeightInputs: [String: Set<Int>] = [
        "QuantizeLinear": [1, 2], "DequantizeLinear": [1, 2], "Reshape": [1], "Slice": [1, 2, 3, 4], "Unsqueeze": [1],
        "Squeeze": [1], "Expand": [1], "Pad": [1, 2, 3], "Split": [1], "Clip": [1, 2], "ReduceMean": [1], "ReduceSum": [1],
        "Gather": [1], "Tile": [1], "Resize": [1, 2, 3], "Upsample": [1], "ConstantOfShape": [0], "TopK": [1],
        "ReduceMax": [1], "ReduceMin": [1], "ReduceProd": [1], "Range": [0, 1, 2], "OneHot": [1, 2],
    ]

    static func isKnown(_ opType: String, domain: String) -> Bool {
        guard domain.isEmpty || domain == "ai.onnx" else { return false }
        return converted.contains(opType) || foldable.contains(opType)
    }
}
