/// A static tensor shape (all dimensions known). Batch is part of the shape.
public struct TensorShape: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    public var rank: Int { dims.count }
    /// Batch × channels of a 4-D (NCHW) shape, else 0: what `channel_overhead` is charged per.
    public var channelPlanes: Int { rank == 4 ? dims[0] * dims[1] : 0 }
    public var elementCount: Int { dims.reduce(1, *) }
    public subscript(i: Int) -> Int { dims[i] }

    /// "1x3x224x224"; a scalar is "scalar".
    public var description: String { dims.isEmpty ? "scalar" : dims.map(String.init).joined(separator: "x") }

    public init(from decoder: any Decoder) throws { dims = try decoder.singleValueContainer().decode([Int].self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(dims)
    }

    /// Resolves a possibly negative axis against this rank.
    public func normalizedAxis(_ axis: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return (0..<Swift.max(rank, 1)).contains(a) ? a : nil
    }
}

/// A named tensor flowing between nodes (activations and graph inputs/outputs).
public struct TensorInfo: Hashable, Sendable, Codable {
    public var name: String
    public var shape: TensorShape
    public var dtype: DType
    public init(name: String, shape: TensorShape, dtype: DType = .float32) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }
    public var byteCount: Int { shape.elementCount * dtype.byteSize }
}

/// A learned parameter (initializer) of a node. Data, when present, lives in `Graph.weights`.
public struct ParamInfo: Hashable, Sendable, Codable {
    public var name: String
    public var shape: TensorShape
    public var dtype: DType
    public init(name: String, shape: TensorShape, dtype: DType = .float32) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }
    public var byteCount: Int { shape.elementCount * dtype.byteSize }
}

extension TensorShape {
    /// Contiguous rows a broadcasting elementwise op walks: the output's elements divided by its
    /// innermost run, the trailing dimensions over which every operand is either fully indexed or
    /// broadcast in the same way (NumPy rules, operands right-aligned). Same-shape and scalar
    /// operands give 1 (one flat stream); a per-channel operand ([N, C, 1, 1] against [N, C, H, W])
    /// gives N·C rows of H·W; a bias over the last dim of [T, D] gives T rows of D.
    public static func broadcastRows(output: TensorShape, operands: [TensorShape]) -> Int {
        let total = output.elementCount
        guard total > 0 else { return 0 }
        // Per output dim (innermost first), which operands broadcast along it; size-1 output dims join any run.
        var run = 1
        var pattern: [Bool]?
        for d in stride(from: output.rank - 1, through: 0, by: -1) where output[d] > 1 {
            let offset = output.rank - d
            let flags = operands.map { s in s.rank < offset || s[s.rank - offset] == 1 }
            if let p = pattern, p != flags { break }
            pattern = flags
            run *= output[d]
        }
        return total / run
    }
}
