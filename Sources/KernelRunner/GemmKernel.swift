import CKernels
import COpenBLAS
import NNGraph

/// Fully connected layer `Y[M, N] = X[M, K] · W[N, K]ᵀ + b` (+ activation), M = all leading
/// dims. One row is a matrix-vector product split over output features (16-row weight panels on
/// AVX-512F CPUs, else OpenBLAS sgemv); more rows run `RowMajorGemm` on AVX-512F CPUs with the C
/// kernel set, else OpenBLAS sgemm split over rows. A fused residual add (`gemm-add`, a transformer
/// block's residual after its output projection or second MLP layer) is applied to each thread's
/// slice of Y right after the product wrote it, while the slice is in that thread's cache.
final class GemmStep: Step, EpilogueKernelSet {
    var kernels: KernelISA
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let rows: Int, inFeatures: Int, outFeatures: Int
    let weights: AlignedBuffer
    let bias: AlignedBuffer?
    /// The activation of the product (none when a residual add follows: the sum is activated).
    let activation: FusedActivation
    /// A fused residual add (`FusionRules.canAbsorbResidual`), applied to each thread's slice of Y.
    let residual: FusedResidual?
    let threads: Int

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int,
         weights: [Float], bias: [Float]?, activation: FusedActivation, threads: Int, kernels: KernelISA,
         residual: UnsafeMutablePointer<Float>? = nil) {
        self.x = x
        self.y = y
        self.rows = rows
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.kernels = kernels
        panels = rows == 1 && kernels == .avx2 && ck_isa() >= Int32(CK_ISA_AVX512)
        rowMajor = rows > 1 && kernels.runsEveryGEMMInC
        if rowMajor {
            let packed = AlignedBuffer(count: ck_gemm_packed_wt_floats(outFeatures, inFeatures))
            weights.withUnsafeBufferPointer { ck_gemm_pack_wt($0.baseAddress!, outFeatures, inFeatures, inFeatures, packed.pointer) }
            self.weights = packed
        } else if panels {
            // Only the packed copy is kept (the compiler's `weightFloats` counts the row-major size;
            // the packing pads the last panel to 16 rows).
            let packed = AlignedBuffer(count: ParallelSplit.panelCount(outFeatures) * 16 * inFeatures)
            weights.withUnsafeBufferPointer { ck_gemv_pack($0.baseAddress!, outFeatures, inFeatures, packed.pointer) }
            self.weights = packed
        } else {
            self.weights = AlignedBuffer(weights)
        }
        self.bias = bias.map { AlignedBuffer($0) }
        (self.activation, self.residual) = FusedResidual.split(activation, shortcut: residual, kernels: kernels)
        self.threads = threads
        splitsInputs = panels && ParallelSplit.matrixVectorSplitsInputs(inFeatures: inFeatures, outFeatures: outFeatures, threads: threads)
    }

    /// Batch 1 on a CPU with AVX-512F: the weights are packed in 16-row panels at load and the
    /// product runs as `ck_gemv_panels_avx512` (no horizontal sums) instead of OpenBLAS's sgemv.
    let panels: Bool
    /// Several rows on a CPU with AVX-512F: the weights are packed in 16-row panels at load and the
    /// product runs as `RowMajorGemm` instead of OpenBLAS's sgemm.
    let rowMajor: Bool

    var algorithm: String {
        (rows == 1 ? (panels ? (splitsInputs ? "gemv16p k-split avx512" : "gemv16p avx512") : "sgemv")
            : (rowMajor ? RowMajorGemm.name : "sgemm nt")) + (residual != nil ? " +residual" : "")
    }
    var scratchFloats: Int { 0 }
    /// The K split's partial outputs (`splitsInputs`): room for every slice in each thread's scratch,
    /// as a thread that finishes its own slice may take another's; `RowMajorGemm`'s transposed rows.
    var threadScratchFloats: Int {
        splitsInputs ? threads * ParallelSplit.panelCount(outFeatures) * 16 : rowMajor ? RowMajorGemm.scratchFloats(depth: inFeatures) : 0
    }

    /// A matrix-vector product with fewer 16-row panels than twice the threads but long rows (a
    /// squeeze-excitation fc1, 1152 → 48: 3 panels of 74 KiB) splits its inputs instead of its
    /// panels: each thread streams its slice of K of every panel into its own partial outputs, and
    /// the calling thread sums them. Split by panels, 3 panels on 2 threads leave one thread
    /// streaming two thirds of the weights; a 2-panel 672 → 28 fc1 ran no faster on 2 threads
    /// than on 1. (`ParallelSplit.matrixVectorSplitsInputs`, the rule the cost model prices.)
    let splitsInputs: Bool

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let k = inFeatures, n = outFeatures
        let b = bias?.pointer
        if rows == 1 {
            if splitsInputs {
                runSplitInputs(pool: pool, bias: b)
                return
            }
            // Split by output features once each part streams ≥ 16 KiB of weights (a squeeze-excitation
            // fc 1152 → 48 is 221 KiB over 48 rows: a 64-row grain left it on one thread).
            if panels {
                // `ParallelSplit.matrixVectorThreads` counts the threads this split uses.
                let count = ParallelSplit.panelCount(n)
                pool.parallelRanges(count, grain: ParallelSplit.panelGrain(inFeatures: k)) { r, _ in
                    ck_gemv_panels_avx512(weights.pointer, n, k, x, y, r.lowerBound, r.upperBound)
                    let o = r.lowerBound * 16, end = Swift.min(n, r.upperBound * 16)
                    Epilogue.applyRow(y + o, end - o, bias: b.map { UnsafePointer($0 + o) }, activation, kernels)
                    residual?.apply(y, offset: o, rows: 1, length: end - o, stride: n)
                }
                return
            }
            pool.parallelRanges(n, grain: Swift.max(1, 4096 / Swift.max(1, k))) { r, _ in
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r.count), Int32(k), 1, weights.pointer + r.lowerBound * k, Int32(k),
                            x, 1, 0, y + r.lowerBound, 1)
                Epilogue.applyRow(y + r.lowerBound, r.count, bias: b.map { UnsafePointer($0 + r.lowerBound) }, activation, kernels)
                residual?.apply(y, offset: r.lowerBound, rows: 1, length: r.count, stride: n)
            }
            return
        }
        if rowMajor {
            RowMajorGemm.run(pool: pool, packed: weights.pointer, outputs: n, depth: k, x: x, ldx: k, rows: rows, y: y, ldy: n,
                             bias: b, activation: activation, residual: residual)
            return
        }
        if rows >= 4 * threads {
            pool.parallelRanges(rows, grain: 4) { r, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r.count), Int32(n), Int32(k), 1, x + r.lowerBound * k, Int32(k),
                            weights.pointer, Int32(k), 0, y + r.lowerBound * n, Int32(n))
                for m in r { Epilogue.applyRow(y + m * n, n, bias: b.map { UnsafePointer($0) }, activation, kernels) }
                residual?.apply(y, offset: r.lowerBound * n, rows: r.count, length: n, stride: n)
            }
        } else {
            pool.parallelRanges(n, grain: 64) { r, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(r.count), Int32(k), 1, x, Int32(k),
                            weights.pointer + r.lowerBound * k, Int32(k), 0, y + r.lowerBound, Int32(n))
                for m in 0..<rows { Epilogue.applyRow(y + m * n + r.lowerBound, r.count, bias: b.map { UnsafePointer($0 + r.lowerBound) }, activation, kernels) }
                residual?.apply(y, offset: r.lowerBound, rows: rows, length: r.count, stride: n)
            }
        }
    }

    /// `splitsInputs`: slice t of K (whole pairs of inputs: the kernel steps two at a time) into
    /// partial outputs at slice t's place in the running thread's scratch; the calling thread sums the
    /// slices' partials (a few dozen outputs) and applies bias and activation.
    private func runSplitInputs(pool: WorkerPool, bias b: UnsafeMutablePointer<Float>?) {
        let k = inFeatures, n = outFeatures, count = ParallelSplit.panelCount(n), parts = threads
        let slice = ((k + parts - 1) / parts + 1) / 2 * 2
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: parts) { partials in
            partials.initialize(repeating: nil)
            pool.parallelFor(parts, affine: true) { t, thread in
                let part = pool.threadScratch(thread, floats: parts * count * 16).pointer + t * count * 16
                let j0 = Swift.min(k, t * slice), j1 = Swift.min(k, j0 + slice)
                ck_gemv_panels_krange_avx512(weights.pointer, count * 16, k, x, part, 0, count, j0, j1)
                partials[t] = part
            }
            for o in 0..<n {
                var sum: Float = 0
                for t in 0..<parts { sum += partials[t]![o] }
                y[o] = sum
            }
        }
        Epilogue.applyRow(y, n, bias: b.map { UnsafePointer($0) }, activation, kernels)
        residual?.apply(y, offset: 0, rows: 1, length: n, stride: n)
    }
}

/// Batched matrix product `[..., M, K] × [..., K, N]` with NumPy broadcasting of the batch
/// dims; the second operand may be a constant. One product per batch entry (and row block, when
/// the batch does not split evenly over the threads), in parallel: `ck_gemm_rowmajor_avx512` on
/// AVX-512F CPUs with the C kernel set (each entry's B packed into the running thread's scratch
/// first), else OpenBLAS sgemm.
final class MatMulStep: Step {
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let m: Int, k: Int, n: Int
    /// Per output batch entry: offsets (in matrices) into a and b.
    let batchA: [Int]
    let batchB: [Int]
    let activation: FusedActivation
    let constant: AlignedBuffer?
    /// `ck_gemm_rowmajor_avx512` instead of OpenBLAS (`KernelISA.runsEveryGEMMInC`).
    let rowMajor: Bool

    init(a: UnsafeMutablePointer<Float>, aShape: TensorShape, b: UnsafeMutablePointer<Float>?, bShape: TensorShape, constant: [Float]?,
         y: UnsafeMutablePointer<Float>, yShape: TensorShape, activation: FusedActivation, kernels: KernelISA = .default) {
        let buffer = constant.map { AlignedBuffer($0) }
        self.constant = buffer
        self.a = a
        self.b = buffer?.pointer ?? b!
        self.y = y
        m = aShape[aShape.rank - 2]
        k = aShape[aShape.rank - 1]
        n = bShape[bShape.rank - 1]
        rowMajor = kernels.runsEveryGEMMInC
        let outBatch = Array(yShape.dims.dropLast(2))
        let r = outBatch.count
        func aligned(_ s: TensorShape) -> [Int] {
            let d = Array(s.dims.dropLast(2))
            return [Int](repeating: 1, count: r - d.count) + d
        }
        let ad = aligned(aShape), bd = aligned(bShape)
        let count = outBatch.reduce(1, *)
        var ia: [Int] = [], ib: [Int] = []
        ia.reserveCapacity(count)
        ib.reserveCapacity(count)
        for flat in 0..<count {
            var rem = flat
            var offA = 0, offB = 0, strideA = 1, strideB = 1
            for axis in stride(from: r - 1, through: 0, by: -1) {
                let idx = rem % outBatch[axis]
                rem /= outBatch[axis]
                if ad[axis] != 1 { offA += idx * strideA }
                if bd[axis] != 1 { offB += idx * strideB }
                strideA *= ad[axis]
                strideB *= bd[axis]
            }
            ia.append(offA)
            ib.append(offB)
        }
        batchA = ia
        batchB = ib
        self.activation = activation
    }

    var algorithm: String {
        let kernel = rowMajor ? RowMajorGemm.name : "sgemm"
        return batchA.count > 1 ? "batched \(kernel) ×\(batchA.count)" : kernel
    }
    var scratchFloats: Int { 0 }
    /// `rowMajor`: the transposed rows of A, then B packed.
    var threadScratchFloats: Int { rowMajor ? RowMajorGemm.scratchFloats(depth: k) + ck_gemm_packed_wt_floats(n, k) : 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let m = m, k = k, n = n
        let blocks = pool.rowBlocks(matrices: batchA.count, rows: m)
        pool.parallelFor(batchA.count * blocks) { task, thread in
            let i = task / blocks, block = task % blocks
            let part = WorkerPool.part(block, of: blocks, in: m)
            let r0 = part.lowerBound, rows = part.count
            let c = y + i * m * n + r0 * n
            if rowMajor {
                let own = pool.threadScratch(thread, floats: threadScratchFloats).pointer
                let packedB = own + RowMajorGemm.scratchFloats(depth: k)
                ck_gemm_pack_b(b + batchB[i] * k * n, k, n, n, packedB)
                ck_gemm_rowmajor_avx512(packedB, n, 0, n, k, a + batchA[i] * m * k, k, r0, r0 + rows, y + i * m * n, n, nil,
                                        activation.ck, own)
                return
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1, a + batchA[i] * m * k + r0 * k, Int32(k),
                        b + batchB[i] * k * n, Int32(n), 0, c, Int32(n))
            if activation != .none { Epilogue.apply(c, rows * n, bias: 0, activation) }
        }
    }
}

/// Row-major products `Y[m × n] = act(X[m × k] · Wᵀ + b)` in C (`ck_gemm_rowmajor_avx512`: X's
/// rows in panels of up to 16, transposed into scratch, times 16-output weight panels with one
/// accumulator per row) instead of OpenBLAS's sgemm, for fully connected layers over several rows,
/// MatMuls and attention on AVX-512F CPUs with the C kernel set. Standalone, 1 thread, min of 200
/// calls, session 30's 2-vCPU Intel Xeon (Emerald Rapids), vit_tiny's shapes (197 rows): 120–157
/// GFLOP/s, 1.2–1.3× OpenBLAS 0.3.21's SkylakeX kernels (197 × 192 → 576: 321 against 400 µs;
/// 197 × 768 → 192: 463 against 549 µs) and 5.4–5.8× the 'Prescott' kernels Debian's build runs on
/// that CPU unless told otherwise (342 against 1993 µs). Not measured on the AMD guest.
enum RowMajorGemm {
    static let name = "gemmNx16 avx512"

    /// A thread's scratch: up to 16 rows of X transposed ([k][16]).
    static func scratchFloats(depth k: Int) -> Int { 16 * Swift.max(1, k) }

    /// All of Y, the threads splitting the outputs in 16-wide panels when there are at least two per
    /// thread (each thread then streams only its part of the weights, and transposes all of X), else
    /// X's rows in 16-row panels. Measured (2 pthreads, vit_tiny's 197 × 192 → 576, session 30's
    /// Intel VM): split by outputs 131–135 µs per thread, by rows 164–178 µs on the thread with 7 of
    /// the 13 row panels.
    /// A fused residual add runs on each thread's rows (or columns) right after the kernel wrote them.
    static func run(pool: WorkerPool, packed: UnsafePointer<Float>, outputs n: Int, depth k: Int, x: UnsafePointer<Float>, ldx: Int,
                    rows m: Int, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, activation: FusedActivation,
                    residual: FusedResidual? = nil) {
        let rowPanels = (m + 15) / 16, outPanels = (n + 15) / 16
        let act = activation.ck, floats = scratchFloats(depth: k)
        if outPanels < 2 * pool.threadCount && rowPanels > outPanels {
            pool.parallelRanges(rowPanels) { r, thread in
                let s = pool.threadScratch(thread, floats: floats).pointer
                let r0 = r.lowerBound * 16, r1 = Swift.min(m, r.upperBound * 16)
                ck_gemm_rowmajor_avx512(packed, n, 0, n, k, x, ldx, r0, r1, y, ldy, bias, act, s)
                residual?.apply(y, offset: r0 * ldy, rows: r1 - r0, length: n, stride: ldy)
            }
        } else {
            pool.parallelRanges(outPanels) { r, thread in
                let s = pool.threadScratch(thread, floats: floats).pointer
                let c0 = r.lowerBound * 16, c1 = Swift.min(n, r.upperBound * 16)
                ck_gemm_rowmajor_avx512(packed, n, c0, c1, k, x, ldx, 0, m, y, ldy, bias, act, s)
                residual?.apply(y, offset: c0, rows: m, length: c1 - c0, stride: ldy)
            }
        }
    }
}
