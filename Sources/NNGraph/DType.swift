/// Element type of a tensor. Sizes in bytes per element.
public enum DType: String, Hashable, Sendable, Codable, CaseIterable {
    case float32, float16, bfloat16, float64
    case int8, uint8, int16, int32, int64, bool

    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .float64, .int64: 8
        case .int8, .uint8, .bool: 1
        }
    }

    /// The precision class used to pick a compute peak from a device file.
    public var precisionKey: String {
        switch self {
        case .float32, .float64: "fp32"
        case .float16, .bfloat16: "fp16"
        case .int8, .uint8, .int16, .int32, .int64, .bool: "int8"
        }
    }
}
