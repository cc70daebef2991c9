/// Every operator the IR knows. Switched on without `default:` everywhere it must be
/// handled (shape inference, counting, op class, cost, kernels, import), so adding a case
/// fails to compile until each place handles it.
public enum Op: Hashable, Sendable, Codable {
    /// 2-D convolution (incl. grouped, depthwise, dilated). Params: weight [Cout, Cin/g, kH, kW], optional bias [Cout].
    case conv(ConvAttributes)
    /// 2-D transposed convolution. Params: weight [Cin, Cout/g, kH, kW], optional bias [Cout].
    case convTranspose(ConvAttributes)
    /// Fully connected: y = x·Wᵀ + b over the last axis. Params: weight [N, K], optional bias [N].
    case gemm(GemmAttributes)
    /// Batched matrix product of two activations with NumPy broadcasting (attention pieces, GCN dense aggregation).
    case matmul
    /// Fused scaled-dot-product attention on q, k, v shaped [B, S, E] (E = heads × headDim): counts QKᵀ and AV.
    case attention(heads: Int)
    /// Sparse×dense aggregation (GCN): adjacency with `edges` non-zeros (self-loops included) × features [N, F].
    case sparseAggregate(nodes: Int, edges: Int)
    /// Batch normalisation (inference). Params: scale, bias, mean, var [C].
    case batchNorm(epsilon: Double)
    /// Layer normalisation over the trailing axes from `axis`. Params: scale, bias.
    case layerNorm(axis: Int, epsilon: Double)
    case activation(Activation)
    case clip(min: Double, max: Double)
    /// Elementwise binary op with NumPy broadcasting; the second operand may be a constant param.
    case binary(BinaryOp)
    case unary(UnaryOp)
    case maxPool(PoolAttributes)
    case avgPool(PoolAttributes)
    case globalAvgPool
    case globalMaxPool
    case reduceMean(axes: [Int], keepDims: Bool)
    case softmax(axis: Int)
    case concat(axis: Int)
    case split(axis: Int, sizes: [Int])
    case slice(starts: [Int], ends: [Int], axes: [Int], steps: [Int])
    /// ONNX semantics: 0 copies the input dim, -1 is inferred.
    case reshape(shape: [Int])
    case flatten(axis: Int)
    case transpose(perm: [Int])
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    case channelShuffle(groups: Int)
    /// Constant zero padding; pads are [x1_begin, x2_begin, ..., x1_end, x2_end, ...] as in ONNX.
    case pad(pads: [Int])
    /// Dropout at inference, Identity.
    case identity
    /// An operator edgeprof does not model, kept as an explicit row (never silently dropped).
    case unsupported(opType: String, outputShapes: [TensorShape])

    /// Short, stable name used in tables and JSON.
    public var kindName: String {
        switch self {
        case .conv(let a): a.isDepthwise ? "dwconv" : "conv"
        case .convTranspose: "convtranspose"
        case .gemm: "gemm"
        case .matmul: "matmul"
        case .attention: "attention"
        case .sparseAggregate: "spmm"
        case .batchNorm: "batchnorm"
        case .layerNorm: "layernorm"
        case .activation(let a): a.rawValue
        case .clip: "clip"
        case .binary(let b): b.rawValue
        case .unary(let u): u.rawValue
        case .maxPool: "maxpool"
        case .avgPool: "avgpool"
        case .globalAvgPool: "globalavgpool"
        case .globalMaxPool: "globalmaxpool"
        case .reduceMean: "reducemean"
        case .softmax: "softmax"
        case .concat: "concat"
        case .split: "split"
        case .slice: "slice"
        case .reshape: "reshape"
        case .flatten: "flatten"
        case .transpose: "transpose"
        case .squeeze: "squeeze"
        case .unsqueeze: "unsqueeze"
        case .channelShuffle: "channelshuffle"
        case .pad: "pad"
        case .identity: "identity"
        case .unsupported(let t, _): "unsupported:\(t)"
        }
    }
}

public struct ConvAttributes: Hashable, Sendable, Codable {
    public var outChannels: Int
    public var kernel: [Int]        // [kH, kW]
    public var strides: [Int]       // [sH, sW]
    public var pads: [Int]          // [top, left, bottom, right]
    public var dilations: [Int]     // [dH, dW]
    public var groups: Int
    public var hasBias: Bool
    /// Set by shape inference/import: input channel count, so `isDepthwise` is known without the graph.
    public var inChannels: Int
    /// ConvTranspose only: extra size added to one side of the output.
    public var outputPadding: [Int]

    public init(inChannels: Int, outChannels: Int, kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                dilations: [Int] = [1, 1], groups: Int = 1, hasBias: Bool = false, outputPadding: [Int] = [0, 0]) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.groups = groups
        self.hasBias = hasBias
        self.outputPadding = outputPadding
    }

    /// Depthwise: one group per input channel (channel multiplier may be > 1).
    public var isDepthwise: Bool { groups > 1 && groups == inChannels }
}

public struct GemmAttributes: Hashable, Sendable, Codable {
    public var inFeatures: Int
    public var outFeatures: Int
    public var hasBias: Bool
    public init(inFeatures: Int, outFeatures: Int, hasBias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = hasBias
    }
}

public struct PoolAttributes: Hashable, Sendable, Codable {
    public var kernel: [Int]
    public var strides: [Int]
    public var pads: [Int]          // [top, left, bottom, right]
    public var ceilMode: Bool
    public var countIncludePad: Bool
    public init(kernel: [Int], strides: [Int], pads: [Int] = [0, 0, 0, 0], ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

public enum Activation: String, Hashable, Sendable, Codable, CaseIterable {
    case relu, relu6, hardswish, hardsigmoid, sigmoid, silu, gelu, tanh

    /// Arithmetic operations per element (counting convention, README).
    public var flopsPerElement: Int {
        switch self {
        case .relu: 1
        case .relu6: 2
        case .hardsigmoid: 3
        case .hardswish: 4
        case .sigmoid: 4
        case .silu: 5
        case .tanh: 5
        case .gelu: 8
        }
    }
}

public enum BinaryOp: String, Hashable, Sendable, Codable, CaseIterable {
    case add, sub, mul, div, pow
}

public enum UnaryOp: String, Hashable, Sendable, Codable, CaseIterable {
    case sqrt, exp, erf, neg, reciprocal, abs, log

    public var flopsPerElement: Int {
        switch self {
        case .neg, .abs: 1
        case .sqrt, .reciprocal: 1
        case .exp, .log: 4
        case .erf: 8
        }
    }
}

/// Coarse operator class: selects the efficiency and fixed overhead a device file gives.
public enum OpClass: String, Hashable, Sendable, Codable, CaseIterable {
    /// Dense convolution, GEMM, matmul.
    case conv
    case depthwise
    case elementwise
    case pooling
    case normalization
    case attention
    case dataMovement = "data_movement"
    case sparse
    /// Zero-copy reshapes: no data moves.
    case view
    case unsupported
    // Finer classes of `conv`, used only to look up efficiencies (`Graph.efficiencyClass`); a
    // device file that does not list one uses its `conv` efficiency. Kernels report `conv`.
    /// 1×1 stride-1 unpadded dense convolution: a plain GEMM on the input, no im2col.
    case conv1x1 = "conv_1x1"
    /// Dense 3×3 stride-1 convolution on ≥ 196 output pixels with ≥ 8 in/out channels: what a
    /// Winograd runtime (edgeprof's runner, ncnn) runs with fewer multiplies than counted.
    case convWinograd = "conv_winograd"
    /// Every other dense or grouped convolution (im2col + GEMM, or direct).
    case convKxK = "conv_kxk"
    /// A network's stem: dense 3×3 stride-2 convolution of ≤ 4 input channels (the image), whose
    /// 27-deep GEMM wastes most of a GEMM kernel's tile; edgeprof's runner runs it as a direct
    /// kernel on AVX-512F CPUs (`ConvAttributes.isStem`). A device file without it uses `conv`.
    case convStem = "conv_stem"
    /// Fully connected layers, matmul and transposed convolution.
    case gemm
    /// Finer class of `elementwise`: activations and unary ops built on exp/erf/tanh (sigmoid,
    /// SiLU, GELU, tanh, exp, log, erf), which cost far more per element than their counted FLOPs.
    case transcendental
    /// Finer class of `elementwise`: GELU and Erf, an erf polynomial per element, 2-3× a sigmoid's
    /// or SiLU's time per counted FLOP in edgeprof's runner (session 19, 2 threads: GELU 79 ps per
    /// counted FLOP, SiLU and sigmoid 31-35). A device file without it uses `transcendental`.
    case erf
    /// Finer class of `normalization`: softmax (an exp per element and two passes over each row),
    /// several times slower per counted FLOP than layer or batch norm.
    case softmax
    /// Finer class of `data_movement`: gathers that reorder elements (transpose, channel shuffle),
    /// whose achieved share of the stream bandwidth differs from the block copies' (concat, split,
    /// slice, pad); a device file without it uses `data_movement`.
    case permute
    /// Finer class of `depthwise`: a depthwise convolution with a stride above 1 on either axis (2 in
    /// every zoo network). At stride 2 its kernel reads four input pixels per output: where the runner first copies each input plane into a
    /// bordered, column-phase-split plane (the AVX2 kernels), that copy costs per input pixel, which
    /// the per-output count does not see (session 36, AMD EPYC guest: every stride-2 depthwise layer
    /// of the zoo 15-52% slower than the stride-1 fit priced it). A device file without it uses
    /// `depthwise`.
    case depthwiseS2 = "depthwise_s2"

    /// Largest efficiency (fraction of peak per counted FLOP) a device file may give the class: 1,
    /// except `conv_winograd`, whose FLOPs are counted as direct convolution while Winograd
    /// F(2×2, 3×3) does 16 multiplies per 2×2 output tile and channel pair instead of 36 (2.25×).
    public var maxEfficiency: Double { self == .convWinograd ? 2.25 : 1 }

    /// Largest `memory_efficiency` (share of the level bandwidths) a device file may give the class:
    /// 1, except `elementwise` (and its finer classes), whose kernels overwrite an input that dies
    /// at them (the runner's in-place steps) and so stream without the write-allocate read that the
    /// out-of-place relu sweep, which the bandwidths are fitted on, pays for every byte it writes:
    /// a same-shape add moves 3 counted bytes per 4 transferred out of place, 3 per 3 in place;
    /// and 1.5 for `gemm`, whose matrix-vector products are read streams (the weights) with no
    /// write-allocate traffic: the relu sweep transfers 3 bytes per 2 it counts, a read stream 1 per 1;
    /// and 2 for `pooling`, whose global pools read a map and write one value per channel (measured
    /// 2026-12-05 after the reduction kernel got four accumulators: 1.2 MB in 8.5 µs at 2 threads,
    /// 1.5× what share 1 prices; on the Intel guest efficientnet_b0's squeeze-excitation pools read
    /// 1.6 MB their depthwise producer left in the cores' own L2 in 9.7 µs, 2.4× the relu sweep's
    /// L2 rate, session 32); raised to 4 in session 33: the five in-context pools of the streaming grid
    /// (Intel guest) fitted share 3.35 of the relu sweep's L2 rate (229 GB/s at 2 threads, a pure read
    /// stream from each core's own L2) with a 0.7 µs intercept and 2 ns per channel, loss 0.002 on log
    /// time against 0.24 with the share held at 2; and 1.5 for `data_movement` (since session 34): row
    /// copies run as memcpy (`rep movsb` on CPUs with fast strings), which writes whole lines without
    /// reading them first, so they transfer the bytes they count where the relu sweep transfers 3 per 2.
    /// With reads from another core's cache priced on their own (`cross_core_bandwidth`), the Intel
    /// guest's shuffles that read only their own core's bytes ran 1.2-1.3× faster than share 1 prices.
    /// `permute` (element gathers) stays at 1.
    public var maxMemoryEfficiency: Double {
        switch self {
        case .pooling: 4
        case .gemm, .dataMovement: 1.5
        default: coarse == .elementwise ? 2 : 1
        }
    }

    /// The class a finer class refines (`conv` for the conv sub-classes), else itself.
    public var coarse: OpClass {
        switch self {
        case .conv1x1, .convWinograd, .convKxK, .convStem, .gemm: .conv
        case .transcendental, .erf: .elementwise
        case .softmax: .normalization
        case .permute: .dataMovement
        case .depthwiseS2: .depthwise
        default: self
        }
    }
}

extension Op {
    /// Pools and means over whole planes or axes (no window): one streaming pass of additions.
    public var isGlobalReduction: Bool {
        switch self {
        case .globalAvgPool, .globalMaxPool, .reduceMean: true
        default: false
        }
    }

    public var opClass: OpClass {
        switch self {
        case .conv(let a): a.isDepthwise ? .depthwise : .conv
        case .convTranspose, .gemm, .matmul: .conv
        case .attention: .attention
        case .sparseAggregate: .sparse
        case .batchNorm, .layerNorm, .softmax: .normalization
        case .activation, .clip, .binary, .unary: .elementwise
        case .maxPool, .avgPool, .globalAvgPool, .globalMaxPool, .reduceMean: .pooling
        case .concat, .split, .slice, .transpose, .channelShuffle, .pad: .dataMovement
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity: .view
        case .unsupported: .unsupported
        }
    }
}
