import CKernels
import COpenBLAS
import NNGraph

/// Fully connected layer `Y[M, N] = X[M, K] · W[N, K]ᵀ + b` (+ activation), M = all leading
/// dims. One row is a matrix-vector product split over output features (16-row weight panels on
/// AVX-512F CPUs, else OpenBLAS sgemv); more rows use sgemm split over rows.
final class GemmStep: Step, EpilogueKernelSet {
    var kernels: KernelISA
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let rows: Int, inFeatures: Int, outFeatures: Int
    let weights: AlignedBuffer
    let bias: AlignedBuffer?
    let activation: FusedActivation
    let threads: Int

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int,
         weights: [Float], bias: [Float]?, activation: FusedActivation, threads: Int, kernels: KernelISA) {
        self.x = x
        self.y = y
        self.rows = rows
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.kernels = kernels
        panels = rows == 1 && kernels == .avx2 && ck_isa() >= Int32(CK_ISA_AVX512)
        if panels {
            // Only the packed copy is kept (the compiler's `weightFloats` counts the row-major size;
            // the packing pads the last panel to 16 rows).
            let packed = AlignedBuffer(count: ParallelSplit.panelCount(outFeatures) * 16 * inFeatures)
            weights.withUnsafeBufferPointer { ck_gemv_pack($0.baseAddress!, outFeatures, inFeatures, packed.pointer) }
            self.weights = packed
        } else {
            self.weights = AlignedBuffer(weights)
        }
        self.bias = bias.map { AlignedBuffer($0) }
        self.activation = activation
        self.threads = threads
        splitsInputs = panels && ParallelSplit.matrixVectorSplitsInputs(inFeatures: inFeatures, outFeatures: outFeatures, threads: threads)
    }

    /// Batch 1 on a CPU with AVX-512F: the weights are packed in 16-row panels at load and the
    /// product runs as `ck_gemv_panels_avx512` (no horizontal sums) instead of OpenBLAS's sgemv.
    let panels: Bool

    var algorithm: String { rows == 1 ? (panels ? (splitsInputs ? "gemv16p k-split avx512" : "gemv16p avx512") : "sgemv") : "sgemm nt" }
    var scratchFloats: Int { 0 }
    /// The K split's partial outputs (`splitsInputs`): room for every slice in each thread's scratch,
    /// as a thread that finishes its own slice may take another's.
    var threadScratchFloats: Int { splitsInputs ? threads * ParallelSplit.panelCount(outFeatures) * 16 : 0 }

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
                }
                return
            }
            pool.parallelRanges(n, grain: Swift.max(1, 4096 / Swift.max(1, k))) { r, _ in
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r.count), Int32(k), 1, weights.pointer + r.lowerBound * k, Int32(k),
                            x, 1, 0, y + r.lowerBound, 1)
                Epilogue.applyRow(y + r.lowerBound, r.count, bias: b.map { UnsafePointer($0 + r.lowerBound) }, activation, kernels)
            }
            return
        }
        if rows >= 4 * threads {
            pool.parallelRanges(rows, grain: 4) { r, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r.count), Int32(n), Int32(k), 1, x + r.lowerBound * k, Int32(k),
                            weights.pointer, Int32(k), 0, y + r.lowerBound * n, Int32(n))
                for m in r { Epilogue.applyRow(y + m * n, n, bias: b.map { UnsafePointer($0) }, activation, kernels) }
            }
        } else {
            pool.parallelRanges(n, grain: 64) { r, _ in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(r.count), Int32(k), 1, x, Int32(k),
                            weights.pointer + r.lowerBound * k, Int32(k), 0, y + r.lowerBound, Int32(n))
                for m in 0..<rows { Epilogue.applyRow(y + m * n + r.lowerBound, r.count, bias: b.map { UnsafePointer($0 + r.lowerBound) }, activation, kernels) }
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
    }
}

/// Batched matrix product `[..., M, K] × [..., K, N]` with NumPy broadcasting of the batch
/// dims; the second operand may be a constant. One sgemm per batch entry (and row block, when
/// the batch does not split evenly over the threads), in parallel.
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

    init(a: UnsafeMutablePointer<Float>, aShape: TensorShape, b: UnsafeMutablePointer<Float>?, bShape: TensorShape, constant: [Float]?,
         y: UnsafeMutablePointer<Float>, yShape: TensorShape, activation: FusedActivation) {
        let buffer = constant.map { AlignedBuffer($0) }
        self.constant = buffer
        self.a = a
        self.b = buffer?.pointer ?? b!
        self.y = y
        m = aShape[aShape.rank - 2]
        k = aShape[aShape.rank - 1]
        n = bShape[bShape.rank - 1]
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

    var algorithm: String { batchA.count > 1 ? "batched sgemm ×\(batchA.count)" : "sgemm" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let m = m, k = k, n = n
        let blocks = pool.rowBlocks(matrices: batchA.count, rows: m)
        pool.parallelFor(batchA.count * blocks) { task, _ in
            let i = task / blocks, block = task % blocks
            let part = WorkerPool.part(block, of: blocks, in: m)
            let r0 = part.lowerBound, rows = part.count
            let c = y + i * m * n + r0 * n
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1, a + batchA[i] * m * k + r0 * k, Int32(k),
                        b + batchB[i] * k * n, Int32(n), 0, c, Int32(n))
            if activation != .none { Epilogue.apply(c, rows * n, bias: 0, activation) }
        }
    }
}
