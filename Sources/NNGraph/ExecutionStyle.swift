/// How a runtime executes a graph where runtimes differ in ways that change what a kernel reads and
/// writes (not how fast): whether a residual add joins the convolution producing one of its
/// operands, and whether a contiguous channel split is a view or a copy. The cost model prices the
/// kernels a runtime actually runs (`PreparedGraph(graph, style:)`); edgeprof's own runner is `.edgeprof`.
public struct ExecutionStyle: Sendable, Hashable, Codable {
    /// `conv[-bn]-add[-act]` runs as one kernel (`FusionRules.canAbsorbResidual`); false = the add is
    /// its own kernel that reads the conv output back.
    public var fusesResidualAdds: Bool
    /// `gemm-add[-act]` runs as one kernel too (`FusionRules.canAbsorbResidual` with a fully connected
    /// anchor: a transformer's residual add after its output projection or second MLP layer, applied to
    /// each thread's slice of the product while it is in cache). edgeprof's runner and TensorRT (GEMM
    /// epilogue fusion) do it; ONNX Runtime's CPU provider keeps the add (its transformer fusions fold
    /// it into the next `SkipLayerNormalization` instead), as do ncnn, TFLite and PyTorch eager.
    public var fusesLinearResidualAdds: Bool
    /// A split/slice that selects one contiguous block (`Graph.zeroCopyOffsets`) aliases its input;
    /// false = it copies its outputs into new buffers.
    public var splitsAreViews: Bool
    /// Element-wise kernels overwrite an input that dies at them (`Graph.inPlaceInputs`), so they
    /// write no fresh buffer and pay no write-allocate read (`AnalyticalModel.inPlaceStreamGain`).
    /// Only edgeprof's runner is known to do it for every such op; the published runtimes' rows
    /// are priced without it.
    public var runsElementwiseInPlace: Bool
    /// A concat's producers write straight into its output (`Graph.storageRoots`): the concat
    /// copies only the inputs that cannot be placed, and is no kernel when none are left.
    /// edgeprof's runner and TensorRT (concatenation elision) do it; ncnn, TFLite, PyTorch eager
    /// and ONNX Runtime's CPU provider copy every input.
    public var concatsInPlace: Bool

    public init(fusesResidualAdds: Bool, splitsAreViews: Bool, runsElementwiseInPlace: Bool = false, concatsInPlace: Bool = false,
                fusesLinearResidualAdds: Bool = false) {
        self.fusesResidualAdds = fusesResidualAdds
        self.fusesLinearResidualAdds = fusesResidualAdds && fusesLinearResidualAdds
        self.splitsAreViews = splitsAreViews
        self.runsElementwiseInPlace = runsElementwiseInPlace
        self.concatsInPlace = concatsInPlace
    }

    /// edgeprof's kernel runner (and ONNX Runtime's NCHWc `Conv + Sum`, TensorRT's conv + elementwise).
    public static let edgeprof = ExecutionStyle(fusesResidualAdds: true, splitsAreViews: true, runsElementwiseInPlace: true,
                                                concatsInPlace: true, fusesLinearResidualAdds: true)

    /// edgeprof's runner without its concat elision and its GEMM residual fusion: the other runtimes'
    /// style (they copy every concat input), and how `calibrate`'s copy benchmarks run.
    public static let edgeprofCopyingConcats = ExecutionStyle(fusesResidualAdds: true, splitsAreViews: true, runsElementwiseInPlace: true,
                                                              concatsInPlace: false)

    /// The style of a runtime named as in published-latency.csv / device files (`ncnn_cpu`, `tflite_cpu`, ...),
    /// by its family (the part before the first `_`); runtimes not listed, and nil, run as `.edgeprof`.
    ///
    /// - ncnn: `ncnnoptimize` folds batch norms and activations into convolutions but nothing with a
    ///   second input (`fuse_convolution_*` take one bottom blob; residual sums stay `BinaryOp`/`Eltwise`
    ///   layers), and `Slice` along channels `memcpy`s each part into a new blob
    ///   (src/layer/arm/slice_arm.cpp).
    /// - TFLite: `ADD` is its own op (conv carries a fused activation only); `SPLIT` writes its outputs.
    /// - PyTorch (eager): `out += identity` is a separate op; `chunk`/`split` return views.
    /// - TensorRT: runs as edgeprof's runner, with its concat elision.
    public static func forRuntime(_ name: String?) -> ExecutionStyle {
        guard let name else { return .edgeprof }
        let family = name.split(separator: "_", maxSplits: 1).first.map { String($0).lowercased() } ?? ""
        switch family {
        case "ncnn", "tflite": return ExecutionStyle(fusesResidualAdds: false, splitsAreViews: false)
        case "pytorch": return ExecutionStyle(fusesResidualAdds: false, splitsAreViews: true)
        case "tensorrt": return .edgeprof
        default: return .edgeprofCopyingConcats
        }
    }
}
