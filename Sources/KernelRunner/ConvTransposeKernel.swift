import COpenBLAS
import NNGraph

/// Transposed convolution as GEMM + col2im: per group `cols[Cout/g·kH·kW, H·W] = W_gᵀ · X_g`,
/// then each column entry is added to the output pixel it lands on; bias and activation last.
/// Not on any zoo model's hot path: correctness over speed (parallel over output planes in
/// the epilogue only). On AVX-512F CPUs with the C kernel set the GEMM is the packed C GEMM
/// (`W_gᵀ` packed per group at load), so no layer of that set calls OpenBLAS there.
final class ConvTransposeStep: Step {
    let g: ConvGeometry
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let weights: AlignedBuffer   // [Cin, Cout/g, kH, kW]; empty when `packed` holds them
    let bias: AlignedBuffer
    let activation: FusedActivation
    /// `W_gᵀ` per group, packed for the C GEMM (`KernelISA.runsEveryGEMMInC`); nil: OpenBLAS sgemm.
    let packed: [PackedGemmWeights]?

    /// `geometry` is built with input/output swapped roles: `height/width` are the input's,
    /// `outHeight/outWidth` the output's, as for a forward convolution.
    init(geometry: ConvGeometry, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, weights: [Float], bias: [Float],
         activation: FusedActivation, kernels: KernelISA = .default) {
        g = geometry
        self.x = x
        self.y = y
        self.bias = AlignedBuffer(bias)
        self.activation = activation
        let rows = geometry.outChannelsPerGroup * geometry.kernelH * geometry.kernelW, cinG = geometry.inChannelsPerGroup
        packed = kernels.runsEveryGEMMInC ? (0..<geometry.groups).map { grp in
            var t = [Float](repeating: 0, count: rows * cinG)   // W_gᵀ: [rows, cinG]
            for c in 0..<cinG { for r in 0..<rows { t[r * cinG + c] = weights[(grp * cinG + c) * rows + r] } }
            return t.withUnsafeBufferPointer { PackedGemmWeights($0.baseAddress!, rows: rows, depth: cinG, lda: cinG) }
        } : nil
        self.weights = packed == nil ? AlignedBuffer(weights) : AlignedBuffer(count: 0)
    }

    var algorithm: String { (packed?.first.map { $0.kernelName(columns: g.inPlane) } ?? "sgemm") + "+col2im" }
    var rowsPerGroup: Int { g.outChannelsPerGroup * g.kernelH * g.kernelW }
    /// The columns, then the packed GEMM's scratch.
    var scratchFloats: Int { rowsPerGroup * g.inPlane + (packed?.first?.scratchFloats(columns: g.inPlane) ?? 0) }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        let rows = rowsPerGroup, hw = g.inPlane
        for n in 0..<g.batch {
            let yn = y + n * g.outChannels * g.outPlane
            yn.update(repeating: 0, count: g.outChannels * g.outPlane)
            for grp in 0..<g.groups {
                let xg = x + (n * g.inChannels + grp * cinG) * hw
                // cols[rows, hw] = Wgᵀ[rows, cinG] · Xg[cinG, hw]
                if let packed {
                    packed[grp].multiply(rows: 0..<rows, b: xg, ldb: hw, columns: hw, c: scratch, ldc: hw, bias: nil, .none,
                                         scratch: scratch + rows * hw)
                } else {
                    let wg = weights.pointer + grp * cinG * rows
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(hw), Int32(cinG), 1, wg, Int32(rows),
                                xg, Int32(hw), 0, scratch, Int32(hw))
                }
                for r in 0..<rows {
                    let kx = r % g.kernelW
                    let ky = (r / g.kernelW) % g.kernelH
                    let co = grp * coutG + r / (g.kernelW * g.kernelH)
                    let plane = yn + co * g.outPlane
                    let col = scratch + r * hw
                    for iy in 0..<g.height {
                        let oy = iy * g.strideH - g.padTop + ky * g.dilationH
                        if oy < 0 || oy >= g.outHeight { continue }
                        for ix in 0..<g.width {
                            let ox = ix * g.strideW - g.padLeft + kx * g.dilationW
                            if ox < 0 || ox >= g.outWidth { continue }
                            plane[oy * g.outWidth + ox] += col[iy * g.width + ix]
                        }
                    }
                }
            }
            pool.parallelFor(g.outChannels) { c, _ in
                Epilogue.apply(yn + c * g.outPlane, g.outPlane, bias: bias.pointer[c], activation)
            }
        }
    }
}
