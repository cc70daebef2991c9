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

    // MARK: Dense convolutions

    /// Below this many multiply-adds (per group) a dense conv runs on the calling thread: a fork/join
    /// costs more than a squeeze-excitation fc's few thousand multiply-adds.
    public static let serialConvMACs = 1 << 16

    public static func convRunsSerial(outChannelsPerGroup m: Int, depth k: Int, outPlane p: Int) -> Bool {
        m * k * p < serialConvMACs
    }

    /// Small maps: a dense conv splits output channels when the weights (m × K) outweigh the pixel
    /// matrix (K × p), else pixel tiles. Each sgemm packs its whole B and its A block, so the split
    /// that shares the smaller operand packs the least (14×14 projections: 80 × 480 weights vs
    /// 480 × 196 pixels → pixels; 7×7 and expansions → channels).
    public static func convSplitsOutputChannels(outChannelsPerGroup m: Int, depth k: Int, outPlane p: Int, threads: Int) -> Bool {
        threads > 1 && !convRunsSerial(outChannelsPerGroup: m, depth: k, outPlane: p) && p < 128 * threads && m >= 16 * threads && m > p
    }

    /// A Winograd F(2×2,3×3) conv with few tiles under many output channels (deep layers) splits its
    /// output channels (each thread transforms the whole input); otherwise blocks of tile rows.
    public static func winogradSplitsOutputChannels(outChannels: Int, outHeight: Int, outWidth: Int, threads: Int) -> Bool {
        threads > 1 && outChannels >= ((outWidth + 1) / 2) * ((outHeight + 1) / 2) && outChannels >= 16 * threads
    }

    /// The direct stem kernel's shapes (`ck_conv_stem_direct`, on CPUs with AVX-512F): ≤ 4 input
    /// channels, 3×3, stride 2, no dilation or groups.
    public static func isDirectStem(_ a: ConvAttributes) -> Bool {
        a.inChannels <= 4 && a.kernel == [3, 3] && a.strides == [2, 2] && a.dilations.allSatisfy { $0 == 1 } && a.groups == 1
    }

    // MARK: Who touches which bytes

    /// How the threads of a kernel share one tensor it reads or writes. Which core wrote a tensor's
    /// bytes decides where a reader finds them: a private cache (`per_core` level) holds what its own
    /// core wrote, and a line another core wrote moves over the interconnect first.
    public enum Partition: Sendable, Hashable {
        /// The calling thread alone (the kernel does not fork).
        case one
        /// Thread t: the t-th contiguous block of the buffer (channel planes of an NCHW map, rows of a
        /// matrix, a flat range).
        case blocks
        /// Thread t: the t-th part of every row (pixel tiles of each channel plane, feature columns of each token).
        case inner
        /// Every thread reads all of it (a conv split by output channels reads the whole map). Readers only.
        case all
        /// Thread t: the t-th block of each of n equal consecutive segments (a concat of n equal inputs, each
        /// copy cut per thread; a channel shuffle of n groups reading them). `interleaved(1)` is `blocks`.
        case interleaved(Int)
        /// No fixed owner: tasks handed out dynamically, or a gather whose reads cross the writer's blocks in
        /// no pattern stated here. Against another split not charged (the fitted efficiencies absorb what it costs).
        case scattered

        /// `interleaved(1)` as `blocks`.
        var normalized: Partition {
            if case .interleaved(let n) = self, n <= 1 { return .blocks }
            return self
        }
    }

    /// Bytes of a tensor the busiest reading thread finds in another core's cache, as a fraction of the
    /// tensor, when a kernel writing it as `written` is followed by one reading it as `read`
    /// on `threads` threads (same for both): 0 when every thread reads what it wrote; (T−1)/T² for
    /// crossing splits (pixel tiles written, channel blocks read: a quarter on two threads); (T−1)/T when
    /// every thread reads all of it or one thread reads what all wrote; 1/T when one thread wrote what all
    /// read, 1 when it wrote what every thread reads whole; 0 when a split meets a `scattered` side (unknown:
    /// session 34's A/B on one calibration's samples scored 16.4% per layer without charging it, 16.6% with
    /// (T−1)/T², 16.9% with no cross-core term at all).
    public static func remoteShare(written: Partition, read: Partition, threads t: Int) -> Double {
        guard t > 1 else { return 0 }
        let n = Double(t), f = (n - 1) / n
        switch (written.normalized, read.normalized) {
        case (.one, .one): return 0
        case (.one, .all): return 1
        case (.one, _): return 1 / n
        case (_, .one), (_, .all): return f
        case (.blocks, .blocks), (.inner, .inner): return 0
        case (.interleaved(let a), .interleaved(let b)) where a == b: return 0
        case (.scattered, _), (_, .scattered): return 0
        default: return f / n
        }
    }

    // MARK: Output-channel blocks of a dense conv (split-cout)

    /// The output-channel rows each thread computes when a dense conv (im2col/1×1 or Winograd)
    /// splits its output channels: `min(threads, ⌈m/unit⌉)` blocks cut at multiples of `unit` (the
    /// packed weight panel's rows), the last block taking the rest. 116 rows on 2 threads in 16-row
    /// panels: 0..<48 and 48..<116.
    public static func outputChannelBlocks(rows m: Int, unit: Int, threads: Int) -> [Range<Int>] {
        let u = Swift.max(1, unit)
        let blocks = Swift.max(1, Swift.min(threads, (m + u - 1) / u))
        return (0..<blocks).map { b in
            let r0 = m * b / blocks / u * u
            let r1 = b == blocks - 1 ? m : m * (b + 1) / blocks / u * u
            return r0..<Swift.max(r0, r1)
        }
    }

    /// Work of a dense conv's GEMM in whole weight panels of `panel` output channels (the micro-
    /// kernel computes every row of a panel; the last one padded), on its busiest thread, over the
    /// even share of the `m` rows: ⌈m/panel⌉·panel / m when every thread computes all rows (pixel
    /// tiles), else the largest `outputChannelBlocks` block in whole panels × blocks / m. 116 rows:
    /// 128/116 = 1.10 on pixel tiles, 80·2/116 = 1.38 split over 2 threads (48 + 68 rows).
    public static func paddedRowFactor(rows m: Int, panel: Int, threads: Int, splitsOutputChannels: Bool) -> Double {
        guard m > 0, panel > 1 else { return 1 }
        func padded(_ r: Int) -> Int { (r + panel - 1) / panel * panel }
        guard splitsOutputChannels, threads > 1 else { return Double(padded(m)) / Double(m) }
        let blocks = outputChannelBlocks(rows: m, unit: panel, threads: threads)
        let worst = blocks.map { padded($0.count) }.max() ?? m
        return Double(worst * blocks.count) / Double(m)
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

extension Graph {
    /// How KernelRunner's kernel anchored at `node` shares its operands among a pool of `threads`
    /// (`ParallelSplit.Partition`): per input of `node` (in order) how its threads read it, and how
    /// they write the output. Mirrors the steps' splits on a CPU with AVX-512F (the runner's C kernels):
    /// - dense convs: pixel tiles (`inner`), contiguous per thread (Winograd: tile-row blocks); output-channel blocks on small maps
    ///   (`ParallelSplit.convSplitsOutputChannels`: each thread reads the whole map); one thread below
    ///   `serialConvMACs`; the stem kernel splits output rows;
    /// - depthwise convs, global pools, element-wise ops, normalizations: contiguous blocks of planes,
    ///   rows or elements (one per thread: `WorkerPool.parallelRanges`), one thread when too small;
    /// - fully connected layers on several rows: feature columns (`RowMajorGemm`: every thread reads all
    ///   of X), or row panels when the outputs are few; a batch-1 product as `threadsUsed` splits it;
    /// - copies: destination blocks per thread (a concat's several sources interleave), reads by the
    ///   source's layout (a transpose or shuffle gathers across the writer's blocks);
    /// - batched matmuls, attention, windowed max pools, transposed convs: dynamic tasks (`scattered`).
    public func partitions(_ node: Node, threads: Int) -> (reads: [ParallelSplit.Partition], write: ParallelSplit.Partition) {
        typealias P = ParallelSplit.Partition
        func uniform(_ p: P) -> ([P], P) { (node.inputs.map { _ in p }, p) }
        guard threads > 1, let out = node.outputs.first, let x = node.inputs.first else { return uniform(.one) }
        let o = tensors[out].shape, input = tensors[x].shape
        /// `WorkerPool.parallelRanges` over `total` items: one block per thread, or the calling thread alone.
        func chunks(_ total: Int, grain: Int, perThread: Int = 1) -> P {
            ParallelSplit.ranges(total, grain: grain, threads: threads * perThread) > 1 ? .blocks : .one
        }
        func matrixVector(inFeatures k: Int, outFeatures n: Int) -> ([P], P) {
            if ParallelSplit.matrixVectorSplitsInputs(inFeatures: k, outFeatures: n, threads: threads) { return ([.blocks], .one) }
            return ParallelSplit.matrixVectorThreads(inFeatures: k, outFeatures: n, threads: threads) > 1 ? ([.all], .blocks) : uniform(.one)
        }
        switch node.op {
        case .conv(let a):
            guard o.rank == 4 else { return uniform(.scattered) }
            let p = o[2] * o[3]
            if a.isDepthwise { return uniform(chunks(o[0] * o[1], grain: 8, perThread: 4)) }
            if o[0] == 1 && a.isMatrixVector(outputPixels: p) { return matrixVector(inFeatures: a.inChannels, outFeatures: a.outChannels) }
            if ParallelSplit.isDirectStem(a) { return uniform(ParallelSplit.ranges(o[2], grain: 2, threads: threads) > 1 ? .inner : .one) }
            if a.isWinogradEligible(outputPixels: p) {
                // `WinogradConvolutionStep`: output channels, or blocks of tile rows (one band of each plane).
                if ParallelSplit.winogradSplitsOutputChannels(outChannels: a.outChannels, outHeight: o[2], outWidth: o[3], threads: threads) {
                    return ([.all], .blocks)
                }
                return uniform(.inner)
            }
            let m = a.outChannels / Swift.max(1, a.groups), k = a.inChannels / Swift.max(1, a.groups) * a.kernel.reduce(1, *)
            if ParallelSplit.convRunsSerial(outChannelsPerGroup: m, depth: k, outPlane: p) { return uniform(.one) }
            if ParallelSplit.convSplitsOutputChannels(outChannelsPerGroup: m, depth: k, outPlane: p, threads: threads) { return ([.all], .blocks) }
            return uniform(.inner)
        case .gemm(let a):
            let rows = input.elementCount / Swift.max(1, a.inFeatures)
            if rows <= 1 { return matrixVector(inFeatures: a.inFeatures, outFeatures: a.outFeatures) }
            let rowPanels = (rows + 15) / 16, outPanels = (a.outFeatures + 15) / 16
            if outPanels < 2 * threads && rowPanels > outPanels { return uniform(.blocks) }
            return ([.all], .inner)
        case .convTranspose:
            return ([.all], .scattered)
        case .matmul, .attention:
            return uniform(.scattered)
        case .sparseAggregate:
            return ([.scattered], .blocks)
        case .binary:
            guard (threadsUsed(node, threads: threads) ?? 1) > 1 else { return uniform(.one) }
            return (node.inputs.map { tensors[$0].shape.elementCount == o.elementCount ? .blocks : .all }, .blocks)
        case .activation, .clip, .unary:
            return uniform(chunks(o.elementCount, grain: 32_768))
        case .batchNorm:
            let planes = o.rank >= 2 ? o[0] * o[1] : 1
            return uniform(chunks(planes, grain: Swift.max(1, 16_384 / Swift.max(1, o.elementCount / Swift.max(1, planes)))))
        case .layerNorm, .softmax:
            let n = o.rank > 0 ? o.dims[o.rank - 1] : 1
            if case .softmax(let axis) = node.op, axis != -1 && axis != o.rank - 1 { return uniform(.scattered) }
            return uniform(chunks(o.elementCount / Swift.max(1, n), grain: Swift.max(1, 4096 / Swift.max(1, n))))
        case .globalAvgPool, .globalMaxPool, .reduceMean:
            let inner = input.elementCount / Swift.max(1, o.elementCount)
            return uniform(chunks(o.elementCount, grain: Swift.max(1, 8192 / Swift.max(1, inner))))
        case .avgPool:
            return uniform(chunks(o.rank >= 2 ? o[0] * o[1] : 1, grain: 4))
        case .maxPool:
            return uniform(.scattered)
        case .concat, .split, .slice, .pad, .transpose, .channelShuffle, .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            // `CopyStep`: copies of ≥ 8192 elements are cut into one part per thread.
            guard o.elementCount >= 8_192 else { return uniform(.one) }
            switch node.op {
            case .concat:
                // Thread t copies the t-th part of every input: of equal inputs, the t-th block of each segment.
                let sizes = Set(node.inputs.map { tensors[$0].shape.elementCount })
                return (node.inputs.map { _ in .blocks }, node.inputs.count == 1 ? .blocks : sizes.count == 1 ? .interleaved(node.inputs.count) : .scattered)
            case .channelShuffle(let groups):
                return ([.interleaved(groups)], .blocks)
            case .transpose(let perm):
                return ([Self.transposeReads(perm: perm, input: input)], .blocks)
            default: return uniform(.blocks)
            }
        case .unsupported:
            return uniform(.one)
        }
    }

    /// How the threads of a transpose read its input: the copy cuts the output's rows (its outermost
    /// non-unit axis first) into one block per thread, so a thread reads the block of that axis at the
    /// axis's place in the input — the input's outermost non-unit axis: `blocks`; the next one after an
    /// outer axis of g ≤ 16 (a channel shuffle written as reshape + transpose): `interleaved(g)`; one
    /// inside a single outer axis (a patch flatten [C, P] → [P, C] of a conv's pixel-split output):
    /// `inner`; else `scattered`.
    static func transposeReads(perm: [Int], input: TensorShape) -> ParallelSplit.Partition {
        let outerAxes = input.dims.indices.filter { input.dims[$0] != 1 }
        guard let lead = perm.first(where: { input.dims[$0] != 1 }), let first = outerAxes.first else { return .scattered }
        if lead == first { return .blocks }
        if outerAxes.count >= 2, lead == outerAxes[1] {
            let g = input.dims[first]
            if g <= 16 { return .interleaved(g) }
            return .inner
        }
        return .scattered
    }
}
