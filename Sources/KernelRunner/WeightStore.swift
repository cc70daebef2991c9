import NNGraph

/// Parameter data by `ParamInfo.name` (row-major float32, the ONNX initializer layout).
public struct WeightStore: Sendable {
    public var values: [String: [Float]]

    public init(_ values: [String: [Float]] = [:]) { self.values = values }

    public subscript(name: String) -> [Float]? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// Data for `param`, checked against its shape.
    func data(for param: ParamInfo, node: String) throws(RunnerError) -> [Float] {
        guard let v = values[param.name] else {
            throw RunnerError(.missingWeight, node: node, "no data for parameter '\(param.name)' \(param.shape)")
        }
        guard v.count == param.shape.elementCount else {
            throw RunnerError(.missingWeight, node: node,
                              "parameter '\(param.name)' has \(v.count) values, its shape \(param.shape) needs \(param.shape.elementCount)")
        }
        return v
    }
}

/// Deterministic random weights for architectures without trained weights (the zoo).
/// Scaled so activations stay finite through deep networks: He-normal convolutions
/// (std √(2/fan_in)), LeCun-normal fully connected layers (std √(1/fan_in)), batch-norm
/// statistics near identity (γ ∈ [0.8, 1.2], β, μ ~ 0.05·N(0,1), σ² ∈ [0.8, 1.2]) so
/// folding is exercised. Each parameter is seeded from `seed` and its name, so values do not
/// depend on graph order.
public enum SeededWeights {
    public static func generate(for graph: Graph, seed: UInt64 = 0) -> WeightStore {
        var store = WeightStore()
        for node in graph.nodes {
            for (index, param) in node.params.enumerated() where store.values[param.name] == nil {
                var rng = SplitMix64(seed: seed ^ fnv1a(param.name))
                store.values[param.name] = values(for: node.op, paramIndex: index, param: param, rng: &rng)
            }
        }
        return store
    }

    static func values(for op: Op, paramIndex: Int, param: ParamInfo, rng: inout SplitMix64) -> [Float] {
        let n = param.shape.elementCount
        func normal(_ std: Float) -> [Float] { (0..<n).map { _ in rng.nextNormal() * std } }
        func uniform(_ lo: Float, _ hi: Float) -> [Float] { (0..<n).map { _ in lo + (hi - lo) * rng.nextUnit() } }
        let dims = param.shape.dims
        switch op {
        case .conv, .convTranspose:
            if paramIndex == 0 {
                // weight [Cout, Cin/g, kH, kW] (conv) or [Cin, Cout/g, kH, kW] (transpose): fan-in per output.
                let fanIn = Swift.max(1, dims.dropFirst().reduce(1, *))
                return normal((2 / Float(fanIn)).squareRoot())
            }
            return normal(0.01)
        case .gemm(let a):
            if paramIndex == 0 { return normal((1 / Float(Swift.max(1, a.inFeatures))).squareRoot()) }
            return normal(0.01)
        case .batchNorm:
            switch paramIndex {
            case 0: return uniform(0.8, 1.2)      // scale γ
            case 3: return uniform(0.8, 1.2)      // running variance
            default: return normal(0.05)          // bias β, running mean
            }
        case .layerNorm:
            return paramIndex == 0 ? uniform(0.9, 1.1) : normal(0.02)
        case .matmul:
            let fanIn = dims.count >= 2 ? dims[dims.count - 2] : Swift.max(1, n)
            return normal((1 / Float(Swift.max(1, fanIn))).squareRoot())
        case .binary(let b):
            switch b {
            case .mul, .div, .pow: return uniform(0.9, 1.1)
            case .add, .sub: return normal(0.02)
            }
        case .attention, .sparseAggregate, .activation, .clip, .unary, .maxPool, .avgPool, .globalAvgPool, .globalMaxPool,
             .reduceMean, .softmax, .concat, .split, .slice, .reshape, .flatten, .transpose, .squeeze, .unsqueeze,
             .channelShuffle, .pad, .identity, .unsupported:
            return normal(0.05)
        }
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01B3
        }
        return h
    }
}
