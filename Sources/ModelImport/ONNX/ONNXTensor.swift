import Foundation
import NNGraph

/// ONNX `TensorProto.DataType` codes.
enum ONNXDataType {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, uint16: Int32 = 4, int16: Int32 = 5
    static let int32: Int32 = 6, int64: Int32 = 7, string: Int32 = 8, bool: Int32 = 9, float16: Int32 = 10
    static let double: Int32 = 11, uint32: Int32 = 12, uint64: Int32 = 13, complex64: Int32 = 14
    static let complex128: Int32 = 15, bfloat16: Int32 = 16

    static func name(_ code: Int32) -> String {
        let names: [Int32: String] = [
            1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL",
            10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
            17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
        ]
        return names[code] ?? "type \(code)"
    }

    /// The IR dtype used for a tensor of this ONNX type (unsigned types map to the signed type of the same width).
    static func dtype(_ code: Int32) -> DType? {
        switch code {
        case float: .float32
        case uint8: .uint8
        case int8: .int8
        case uint16, int16: .int16
        case int32, uint32: .int32
        case int64, uint64: .int64
        case bool: .bool
        case float16: .float16
        case double: .float64
        case bfloat16: .bfloat16
        default: nil
        }
    }

    static func byteSize(_ code: Int32) -> Int? {
        switch code {
        case float, int32, uint32: 4
        case uint8, int8, bool: 1
        case uint16, int16, float16, bfloat16: 2
        case int64, uint64, double: 8
        default: nil
        }
    }

    static func code(for dtype: DType) -> Int32 {
        switch dtype {
        case .float32: float
        case .float16: float16
        case .bfloat16: bfloat16
        case .float64: double
        case .int8: int8
        case .uint8: uint8
        case .int16: int16
        case .int32: int32
        case .int64: int64
        case .bool: bool
        }
    }
}

/// A tensor whose value is known at import time: an initializer, a `Constant`, or a folded result.
struct ConstTensor: Sendable {
    enum Storage: Sendable {
        /// Floating-point values and small integers (int8/uint8/int16/bool are exact in Float).
        case float([Float])
        /// 32/64-bit integers (shape arithmetic needs them exact).
        case int([Int64])
    }

    var dims: [Int]
    /// Logical element type of the value (float32 after dequantization).
    var dtype: DType
    /// Element type the data had in the model file (int8 for a dequantized QDQ weight).
    var storedType: DType
    var storage: Storage

    init(dims: [Int], dtype: DType, storedType: DType? = nil, storage: Storage) {
        self.dims = dims
        self.dtype = dtype
        self.storedType = storedType ?? dtype
        self.storage = storage
    }

    static func ints(_ values: [Int64], dims: [Int]? = nil) -> ConstTensor {
        ConstTensor(dims: dims ?? [values.count], dtype: .int64, storage: .int(values))
    }

    static func floats(_ values: [Float], dims: [Int], dtype: DType = .float32) -> ConstTensor {
        ConstTensor(dims: dims, dtype: dtype, storage: .float(values))
    }

    var count: Int {
        switch storage {
        case .float(let v): v.count
        case .int(let v): v.count
        }
    }

    var isIntegerType: Bool {
        switch dtype {
        case .int8, .uint8, .int16, .int32, .int64, .bool: true
        case .float32, .float16, .bfloat16, .float64: false
        }
    }

    var floatValues: [Float] {
        switch storage {
        case .float(let v): v
        case .int(let v): v.map { Float($0) }
        }
    }

    /// Integer values; nil if a float value is not an exact integer in Int64 range.
    var intValues: [Int64]? {
        switch storage {
        case .int(let v): return v
        case .float(let v):
            var out: [Int64] = []
            out.reserveCapacity(v.count)
            for x in v {
                guard x.isFinite, x == x.rounded(), abs(x) < 9.2e18 else { return nil }
                out.append(Int64(x))
            }
            return out
        }
    }

    /// Int values as `Int`, e.g. for shapes and axes.
    var intArray: [Int]? { intValues.map { $0.map { Int($0) } } }

    var scalarDouble: Double? {
        guard count == 1 else { return nil }
        switch storage {
        case .float(let v): return Double(v[0])
        case .int(let v): return Double(v[0])
        }
    }
}

/// Multiplies dimensions, returning nil on overflow or when the product exceeds `limit`.
func checkedProduct(_ dims: [Int], limit: Int = ONNXLimits.maxElements) -> Int? {
    var p = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (r, o) = p.multipliedReportingOverflow(by: d)
        guard !o, r <= limit else { return nil }
        p = r
    }
    return p
}

func halfToFloat(_ h: UInt16) -> Float {
    let sign: Float = (h & 0x8000) != 0 ? -1 : 1
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        return sign * Float(mantissa) * 0x1p-24
    }
    if exponent == 31 {
        return mantissa == 0 ? sign * .infinity : .nan
    }
    let bits = (UInt32(h & 0x8000) << 16) | (UInt32(exponent + 112) << 23) | (mantissa << 13)
    return Float(bitPattern: bits)
}

func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Decodes `TensorProto`s into `ConstTensor`s, checking sizes before allocating.
struct TensorDecoder {
    let path: String
    let baseDirectory: String
    /// Memory-mapped external data files, by location.
    var externalFiles: [String: Data] = [:]

    init(path: String) {
        self.path = path
        self.baseDirectory = (path as NSString).deletingLastPathComponent
    }

    func fail(_ name: String, _ message: String, kind: ImportError.Kind = .invalidTensor, node: String? = nil) -> ImportError {
        ImportError(kind, path: path, node: node, "tensor '\(name)': \(message)")
    }

    /// Validated dims and element count.
    func shape(of t: Onnx_TensorProto, name: String, node: String?) throws(ImportError) -> (dims: [Int], count: Int) {
        guard t.dims.count <= ONNXLimits.maxRank else { throw fail(name, "rank \(t.dims.count) is absurd", kind: .tooLarge, node: node) }
        var dims: [Int] = []
        for d in t.dims {
            guard d >= 0 else { throw fail(name, "negative dimension \(d) in dims \(t.dims)", node: node) }
            guard d <= Int64(ONNXLimits.maxDim) else { throw fail(name, "dimension \(d) is absurd", kind: .tooLarge, node: node) }
            dims.append(Int(d))
        }
        guard let count = checkedProduct(dims) else {
            throw fail(name, "dims \(t.dims) have more than 2^31 elements", kind: .tooLarge, node: node)
        }
        return (dims, count)
    }

    mutating func decode(_ t: Onnx_TensorProto, name: String, node: String? = nil) throws(ImportError) -> ConstTensor {
        let (dims, count) = try shape(of: t, name: name, node: node)
        let code = t.dataType
        guard let dtype = ONNXDataType.dtype(code), let size = ONNXDataType.byteSize(code) else {
            throw fail(name, "element type \(ONNXDataType.name(code)) is not supported", node: node)
        }
        if t.hasSegment { throw fail(name, "segmented tensors are not supported", node: node) }

        if t.dataLocation == .external {
            let bytes = try externalBytes(t, name: name, expected: count * size, node: node)
            return try fromRaw(bytes, code: code, dtype: dtype, dims: dims, count: count, name: name, node: node)
        }
        if t.hasRawData {
            let raw = t.rawData
            guard raw.count == count * size else {
                throw fail(name, "raw_data has \(raw.count) bytes, expected \(count * size) (dims \(dims), \(ONNXDataType.name(code)))", node: node)
            }
            return try fromRaw(raw, code: code, dtype: dtype, dims: dims, count: count, name: name, node: node)
        }
        return try fromTyped(t, code: code, dtype: dtype, dims: dims, count: count, name: name, node: node)
    }

    private mutating func externalBytes(_ t: Onnx_TensorProto, name: String, expected: Int, node: String?) throws(ImportError) -> Data {
        var location: String?
        var offset = 0
        var length: Int?
        for entry in t.externalData {
            switch entry.key {
            case "location": location = entry.value
            case "offset":
                guard let v = Int(entry.value), v >= 0 else { throw fail(name, "external data offset '\(entry.value)' is not a byte offset", node: node) }
                offset = v
            case "length":
                guard let v = Int(entry.value), v >= 0 else { throw fail(name, "external data length '\(entry.value)' is not a byte count", node: node) }
                length = v
            default: break
            }
        }
        guard let location, !location.isEmpty else { throw fail(name, "external data without a location", node: node) }
        let components = location.split(separator: "/", omittingEmptySubsequences: true)
        guard !location.hasPrefix("/"), !location.contains("\\"), !components.contains("..") else {
            throw fail(name, "external data location '\(location)' must be a relative path inside the model's folder", node: node)
        }
        let file: Data
        if let cached = externalFiles[location] {
            file = cached
        } else {
            let full = baseDirectory.isEmpty ? location : baseDirectory + "/" + location
            guard FileManager.default.fileExists(atPath: full) else {
                throw fail(name, "external data file '\(location)' not found next to the model (looked for \(full))", kind: .io, node: node)
            }
            do {
                file = try Data(contentsOf: URL(fileURLWithPath: full), options: .alwaysMapped)
            } catch {
                throw fail(name, "cannot read external data file '\(location)': \(error.localizedDescription)", kind: .io, node: node)
            }
            externalFiles[location] = file
        }
        let available = file.count - min(offset, file.count)
        let len = length ?? available
        guard offset <= file.count, len <= available else {
            throw fail(name, "external data '\(location)' offset \(offset) + length \(len) is past its end (\(file.count) bytes)", node: node)
        }
        guard len == expected else {
            throw fail(name, "external data has \(len) bytes, expected \(expected)", node: node)
        }
        let start = file.startIndex + offset
        return file.subdata(in: start..<(start + len))
    }

    private func fromRaw(_ raw: Data, code: Int32, dtype: DType, dims: [Int], count: Int, name: String, node: String?) throws(ImportError) -> ConstTensor {
        switch code {
        case ONNXDataType.float:
            return .floats(loadLE(raw, count: count, as: Float.self), dims: dims)
        case ONNXDataType.double:
            return .floats(loadLE(raw, count: count, as: Double.self).map { Float($0) }, dims: dims, dtype: .float64)
        case ONNXDataType.float16:
            return .floats(loadLE(raw, count: count, as: UInt16.self).map(halfToFloat), dims: dims, dtype: .float16)
        case ONNXDataType.bfloat16:
            return .floats(loadLE(raw, count: count, as: UInt16.self).map(bfloat16ToFloat), dims: dims, dtype: .bfloat16)
        case ONNXDataType.int8:
            return .floats(loadLE(raw, count: count, as: Int8.self).map { Float($0) }, dims: dims, dtype: .int8)
        case ONNXDataType.uint8:
            return .floats(loadLE(raw, count: count, as: UInt8.self).map { Float($0) }, dims: dims, dtype: .uint8)
        case ONNXDataType.bool:
            return .floats(loadLE(raw, count: count, as: UInt8.self).map { $0 != 0 ? 1 : 0 }, dims: dims, dtype: .bool)
        case ONNXDataType.int16:
            return .floats(loadLE(raw, count: count, as: Int16.self).map { Float($0) }, dims: dims, dtype: .int16)
        case ONNXDataType.uint16:
            return .floats(loadLE(raw, count: count, as: UInt16.self).map { Float($0) }, dims: dims, dtype: .int16)
        case ONNXDataType.int32:
            return ConstTensor(dims: dims, dtype: .int32, storage: .int(loadLE(raw, count: count, as: Int32.self).map { Int64($0) }))
        case ONNXDataType.uint32:
            return ConstTensor(dims: dims, dtype: .int32, storage: .int(loadLE(raw, count: count, as: UInt32.self).map { Int64($0) }))
        case ONNXDataType.int64:
            return ConstTensor(dims: dims, dtype: .int64, storage: .int(loadLE(raw, count: count, as: Int64.self)))
        case ONNXDataType.uint64:
            return ConstTensor(dims: dims, dtype: .int64, storage: .int(loadLE(raw, count: count, as: UInt64.self).map { Int64(truncatingIfNeeded: $0) }))
        default:
            throw fail(name, "element type \(ONNXDataType.name(code)) is not supported", node: node)
        }
    }

    private func fromTyped(_ t: Onnx_TensorProto, code: Int32, dtype: DType, dims: [Int], count: Int, name: String, node: String?) throws(ImportError) -> ConstTensor {
        func check(_ n: Int, _ field: String) throws(ImportError) {
            guard n == count else {
                if n == 0 { throw fail(name, "has no data (dims \(dims) need \(count) values)", node: node) }
                throw fail(name, "\(field) has \(n) values, dims \(dims) need \(count)", node: node)
            }
        }
        switch code {
        case ONNXDataType.float:
            try check(t.floatData.count, "float_data")
            return .floats(t.floatData, dims: dims)
        case ONNXDataType.double:
            try check(t.doubleData.count, "double_data")
            return .floats(t.doubleData.map { Float($0) }, dims: dims, dtype: .float64)
        case ONNXDataType.float16, ONNXDataType.bfloat16:
            try check(t.int32Data.count, "int32_data")
            let half = code == ONNXDataType.float16
            let values: [Float] = t.int32Data.map { (v: Int32) -> Float in
                let bits = UInt16(truncatingIfNeeded: v)
                return half ? halfToFloat(bits) : bfloat16ToFloat(bits)
            }
            return .floats(values, dims: dims, dtype: dtype)
        case ONNXDataType.int8, ONNXDataType.uint8, ONNXDataType.int16, ONNXDataType.uint16, ONNXDataType.bool:
            try check(t.int32Data.count, "int32_data")
            return .floats(t.int32Data.map { (v: Int32) -> Float in Float(v) }, dims: dims, dtype: dtype)
        case ONNXDataType.int32:
            try check(t.int32Data.count, "int32_data")
            return ConstTensor(dims: dims, dtype: .int32, storage: .int(t.int32Data.map { Int64($0) }))
        case ONNXDataType.int64:
            try check(t.int64Data.count, "int64_data")
            return ConstTensor(dims: dims, dtype: .int64, storage: .int(t.int64Data))
        case ONNXDataType.uint32, ONNXDataType.uint64:
            try check(t.uint64Data.count, "uint64_data")
            return ConstTensor(dims: dims, dtype: dtype, storage: .int(t.uint64Data.map { Int64(truncatingIfNeeded: $0) }))
        default:
            throw fail(name, "element type \(ONNXDataType.name(code)) is not supported", node: node)
        }
    }
}

/// Copies `count` little-endian values of `T` out of `data` (any alignment).
func loadLE<T: FixedWidthInteger>(_ data: Data, count: Int, as: T.Type) -> [T] {
    let values = copyBytes(data, count: count, as: T.self)
    #if _endian(big)
    return values.map { T(littleEndian: $0) }
    #else
    return values
    #endif
}

func loadLE(_ data: Data, count: Int, as: Float.Type) -> [Float] {
    #if _endian(big)
    return loadLE(data, count: count, as: UInt32.self).map { Float(bitPattern: $0) }
    #else
    return copyBytes(data, count: count, as: Float.self)
    #endif
}

func loadLE(_ data: Data, count: Int, as: Double.Type) -> [Double] {
    #if _endian(big)
    return loadLE(data, count: count, as: UInt64.self).map { Double(bitPattern: $0) }
    #else
    return copyBytes(data, count: count, as: Double.self)
    #endif
}

private func copyBytes<T>(_ data: Data, count: Int, as: T.Type) -> [T] {
    let byteCount = count * MemoryLayout<T>.stride
    guard count > 0, data.count >= byteCount else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        data.withUnsafeBytes { raw in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<byteCount]))
        }
        initialized = count
    }
}
