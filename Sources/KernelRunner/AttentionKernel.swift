import CKernels
import COpenBLAS
import Foundation
import NNGraph

/// Scaled dot-product attention on q [B, Sq, E], k [B, Skv, E], v [B, Skv, Ev] with `heads`
/// heads: per (batch, head) `softmax(Q_h K_hᵀ / √d) V_h` with two strided products and a
/// row softmax in per-thread scratch; (batch, head, query-row block) triples run in parallel
/// (row blocks only when the heads do not split evenly over the threads). The products are
/// `ck_gemm_rowmajor_avx512` on AVX-512F CPUs with the C kernel set (K_h, scaled by 1/√d, and V_h
/// packed into the thread's scratch first), else OpenBLAS sgemm.
final class AttentionStep: Step, EpilogueKernelSet {
    var kernels: KernelISA = .generic
    let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let batch: Int, queryLength: Int, keyLength: Int, embed: Int, valueEmbed: Int, heads: Int
    let threads: Int

    init(q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
         qShape: TensorShape, kShape: TensorShape, vShape: TensorShape, heads: Int, threads: Int) {
        self.q = q; self.k = k; self.v = v; self.y = y
        batch = qShape[0]; queryLength = qShape[1]; embed = qShape[2]
        keyLength = kShape[1]; valueEmbed = vShape[2]
        self.heads = heads
        self.threads = threads
    }

    var rowMajor: Bool { kernels.runsEveryGEMMInC }
    var algorithm: String {
        let gemm = rowMajor ? RowMajorGemm.name : "sgemm"
        return "\(gemm)-softmax-\(gemm) ×\(batch * heads)"
    }
    var scratchFloats: Int { 0 }
    /// A thread's score rows; `rowMajor`: then K_h and V_h packed and the transposed query or score rows.
    var threadScratchFloats: Int {
        let d = embed / heads, dv = valueEmbed / heads
        return queryLength * keyLength
            + (rowMajor ? packedFloats(rows: keyLength, depth: d) + packedFloats(rows: dv, depth: keyLength)
                + RowMajorGemm.scratchFloats(depth: Swift.max(d, keyLength)) : 0)
    }

    /// `ck_gemm_packed_wt_floats`, rounded up to whole 64-byte lines.
    private func packedFloats(rows: Int, depth: Int) -> Int { (ck_gemm_packed_wt_floats(rows, depth) + 15) / 16 * 16 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let d = embed / heads, dv = valueEmbed / heads
        let sq = queryLength, skv = keyLength
        let scale = 1 / Float(d).squareRoot()
        let blocks = pool.rowBlocks(matrices: batch * heads, rows: sq)
        pool.parallelFor(batch * heads * blocks) { task, thread in
            let pair = task / blocks, block = task % blocks
            let b = pair / heads, h = pair % heads
            let part = WorkerPool.part(block, of: blocks, in: sq)
            let r0 = part.lowerBound, rows = part.count
            let scores = pool.threadScratch(thread, floats: sq * skv).pointer
            let qh = q + b * sq * embed + r0 * embed + h * d
            let kh = k + b * skv * embed + h * d
            let vh = v + b * skv * valueEmbed + h * dv
            let yh = y + b * sq * valueEmbed + r0 * valueEmbed + h * dv
            if rowMajor {
                let packedK = scores + sq * skv, packedV = packedK + packedFloats(rows: skv, depth: d)
                let rowScratch = packedV + packedFloats(rows: dv, depth: skv)
                let keys = ck_gemm_packed_wt_floats(skv, d)
                ck_gemm_pack_wt(kh, skv, d, embed, packedK)
                for i in 0..<keys { packedK[i] *= scale }
                ck_gemm_rowmajor_avx512(packedK, skv, 0, skv, d, qh, embed, 0, rows, scores, skv, nil, FusedActivation.none.ck, rowScratch)
                softmaxRows(scores, rows: rows, n: skv, kernels: kernels)
                ck_gemm_pack_b(vh, skv, dv, valueEmbed, packedV)
                ck_gemm_rowmajor_avx512(packedV, dv, 0, dv, skv, scores, skv, 0, rows, yh, valueEmbed, nil, FusedActivation.none.ck,
                                        rowScratch)
                return
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(skv), Int32(d), scale, qh, Int32(embed),
                        kh, Int32(embed), 0, scores, Int32(skv))
            softmaxRows(scores, rows: rows, n: skv, kernels: kernels)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(dv), Int32(skv), 1, scores, Int32(skv),
                        vh, Int32(valueEmbed), 0, yh, Int32(valueEmbed))
        }
    }
}

/// Softmax of `rows` contiguous rows of `n` values in place: the AVX-512 C kernel (`ck_softmax_rows512`:
/// 16-lane max, exp and scale passes) with the C kernel set on AVX-512F CPUs, else `softmaxRow` per row.
/// vit_tiny's [3, 197, 197] attention scores: 297 µs in the Swift row kernel (session 27, ONNX export).
@inline(__always)
func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, n: Int, kernels: KernelISA) {
    if kernels == .avx2 && KernelISA.hasAVX512 {
        ck_softmax_rows512(p, n, rows, n)
        return
    }
    for r in 0..<rows { softmaxRow(p + r * n, n) }
}

/// In-place numerically stable softmax of `n` contiguous values.
@inline(__always)
func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var mx = -Float.infinity
    for i in 0..<n { mx = Swift.max(mx, p[i]) }
    let raw = UnsafeMutableRawPointer(p)
    var sumV = Vec(repeating: 0)
    var i = 0
    let m = Vec(repeating: mx)
    while i + 8 <= n {
        let e = vexp(raw.loadUnaligned(fromByteOffset: i * 4, as: Vec.self) - m)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: Vec.self)
        sumV += e
        i += 8
    }
    var sum = sumV.sum()
    while i < n { p[i] = expf(p[i] - mx); sum += p[i]; i += 1 }
    let inv = 1 / sum
    for j in 0..<n { p[j] *= inv }
}
