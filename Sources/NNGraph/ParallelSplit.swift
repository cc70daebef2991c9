/// How KernelRunner splits the kernels whose split the cost model prices: a kernel that runs on more
/// than one thread pays the worker pool's dispatch and the other core's start (`parallel_overhead` in
/// a device file); one that stays on the calling thread does not. The runner's steps and the cost
/// model both call these rules, so a prediction charges the dispatch exactly where the runner forks.
///
/// Covered: matrix-vector products at batch 1 (fully connected layers and squeeze-excitation fcs, the
/// AVX-512 16-row panel kernel) and binary element-wise ops. Other kernels are either always split in
/// a network (their fitted efficiencies absorb the dispatch) or have no rule here (`Graph.threadsUsed`
/// returns nil).
public enum ParallelSplit {
    /// `WorkerPool.parallelRanges`: `total` items in ranges of at least `grain`, at most `threads` of them.
    public static func ranges(_ total: Int, grain: Int, threads: Int) -> Int {
        guard total > 0 else { return 0 }
        return Swift.max(1, Swift.min(total / Swift.max(1, grain), Swift.max(1, threads)))
    }

    // MARK: Matrix-vector products (16-row weight panels)

    /// 16-row weight panels for `outputs` rows (the last one padded).
    public static func panelCount(_ outputs: Int) -> Int { (outputs + 15) / 16 }
    /// Inputs per thread below which splitting K is not worth its reduction.
    public static let minimumSplitInputs = 128
    /// Panels per range: each part streams ≥ 16 KiB of weights (256 inputs × 16 rows × 4 bytes).
    public static func panelGrain(inFeatures k: Int) -> Int { Swift.max(1, 256 / Swift.max(1, k)) }

    /// A product with fewer panels than twice the threads but long rows (a squeeze-excitation fc1,
    /// 1152 → 48: 3 panels of 74 KiB) splits its inputs (K) over the threads instead of its panels.
    public static func matrixVectorSplitsInputs(inFeatures k: Int, outFeatures n: Int, threads: Int) -> Bool {
        threads > 1 && panelCount(n) < 2 * threads && k >= minimumSplitInputs * threads
    }

    /// Threads a batch-1 matrix-vector product runs on.
    public static func matrixVectorThreads(inFeatures k: Int, outFeatures n: Int, threads: Int) -> Int {
        if matrixVectorSplitsInputs(inFeatures: k, outFeatures: n, threads: threads) { return threads }
        return ranges(panelCount(n), grain: panelGrain(inFeatures: k), threads: threads)
    }

    // MARK: Binary element-wise ops

    /// Elements per parallel task along a binary op's innermost (collapsed) dim: a same-shape op
    /// collapses to one long row, which is cut so every thread streams a share of it.
    public static let elementwisePiece = 4_096

    /// Threads a binary op over `total` elements in `rows` contiguous rows (`TensorShape.broadcastRows`)
    /// runs on: rows are cut into pieces of at most `elementwisePiece`, grouped into tasks of about
    /// `elementwisePiece` elements.
    public static func elementwiseThreads(rows: Int, total: Int, threads: Int) -> Int {
        guard rows > 0, total > 0 else { return 1 }
        let t = elementwiseTasks(inner: total / rows)
        return ranges(rows * t.pieces, grain: t.grain, threads: threads)
    }

    /// How a binary op cuts rows of `inner` elements: pieces of `piece` elements, `pieces` per row, and
    /// ranges of at least `grain` pieces (about `elementwisePiece` elements) per task.
    public static func elementwiseTasks(inner: Int) -> (piece: Int, pieces: Int, grain: Int) {
        let piece = Swift.min(inner, elementwisePiece)
        return (piece, (inner + piece - 1) / Swift.max(1, piece), Swift.max(1, elementwisePiece / Swift.max(1, piece)))
    }
}

extension Graph {
    /// Threads KernelRunner runs `node` (a fused kernel's anchor) on with a pool of `threads`, for the
    /// kernels `ParallelSplit` covers; nil for the others.
    public func threadsUsed(_ node: Node, threads: Int) -> Int? {
        guard let out = node.outputs.first, let x = node.inputs.first else { return nil }
        let outShape = tensors[out].shape
        switch node.op {
        case .gemm(let a):
            guard tensors[x].shape.elementCount == a.inFeatures else { return nil }  // more than one row: sgemm
            return ParallelSplit.matrixVectorThreads(inFeatures: a.inFeatures, outFeatures: a.outFeatures, threads: threads)
        case .conv(let a) where outShape.rank == 4 && outShape[0] == 1 && a.isMatrixVector(outputPixels: outShape[2] * outShape[3]):
            return ParallelSplit.matrixVectorThreads(inFeatures: a.inChannels, outFeatures: a.outChannels, threads: threads)
        case .binary:
            return ParallelSplit.elementwiseThreads(rows: channelOverheadUnits(node), total: outShape.elementCount, threads: threads)
        default:
            return nil
        }
    }
}
