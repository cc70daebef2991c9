import CKernels
import NNGraph

/// Dense 3×3 stride-1 convolution by Winograd F(2×2, 3×3) (Lavin & Gray 2016): each 2×2
/// output tile costs 16 multiplies per (input, output) channel pair instead of 36.
///
/// - Weights are transformed once at load, `U = G·g·Gᵀ`, stored as 16 matrices `[Cout, Cin]`.
/// - Tiles are processed in blocks of whole tile rows sized so the transformed input
///   `V[16][Cin][tiles]` and the GEMM output `M[16][Cout][tiles]` of one block stay in cache; each
///   thread takes whole blocks and first copies the block's input rows (and two halo rows) into
///   zero-bordered planes in its own scratch (padding is never handled in the inner loops).
/// - Input transform `V = Bᵀ·d·B` for 8 horizontally adjacent tiles at once: one tile row of
///   input is two 16-float loads split into even/odd lanes, so the transform is pure SIMD adds.
/// - 16 GEMMs per block, `M[e] = U[e] · V[e]`: with the avx2 kernel set the C packed GEMM over
///   `U[e]` packed once at load for deep layers (OpenBLAS re-packs an operand on every call:
///   its copy routine was 7 % of resnet18's run time), otherwise `cblas_sgemm`.
/// - Output transform `Y = Aᵀ·M·A` + bias, then the fused activation on the block's rows.
///
/// Accuracy: the transforms only add and subtract (and halve in G), so float32 results stay
/// within ~1e-6 relative of direct convolution (checked by the kernel tests and the ORT
/// agreement tests).
final class WinogradConvolutionStep: Step {
    let g: ConvGeometry
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    /// `U[16][Cout][Cin]` for `cblas_sgemm` (empty when `packedU` holds them: no second copy).
    let transformed: AlignedBuffer
    let bias: AlignedBuffer
    /// The activation of the output transform (none when a residual add follows the conv).
    let activation: FusedActivation
    /// A fused residual add, applied to each block's output rows right after the output
    /// transform wrote them.
    let residual: FusedResidual?
    let threads: Int
    let tilesX: Int, tilesY: Int
    /// Row length (floats) of a padded input row.
    let paddedWidth: Int
    /// Blocks of whole tile rows per run, the most tile rows in one block, and the allocated
    /// column count (tiles + slack) of V and M.
    let blockCount: Int
    let blockRows: Int
    let blockColumns: Int
    /// Few tiles under many weights (deep layers): with blocks of tile rows every thread streams
    /// all 16 transformed weight matrices U for its own few tiles, so two threads read U twice
    /// (resnet18 layer4 3×3, 512 channels on 7×7: 1.56–1.62 ms at 1 thread, 1.66–1.71 ms at 2).
    /// Then one block holds every tile, and the threads split the output channels: each pads and
    /// transforms the whole input itself and reads only its rows of U (`runSplitChannels`). Chosen
    /// when U is at least as large as V of the whole image (16·Cin·Cout ≥ 16·Cin·tiles, i.e.
    /// Cout ≥ tiles): the redundant input transform then costs less than the second read of U.
    /// resnet18 at 2 threads, interleaved runs against the tile-row blocks: splitting the 7×7
    /// layers 0.90 end to end on far-apart cores (5 pairs), 0.95 close together (1 pair); also the
    /// 14×14 ones (256 channels, 49 tiles) another 0.88 (2) / 0.93 (6); also the 28×28 ones (128
    /// channels, 196 tiles, where U is smaller than V) 0.97 (7) / 1.00 (2), so they stay in blocks.
    let splitChannels: Bool

    /// Transforms run in C (AVX2+FMA, activation in registers) with the avx2 kernel set.
    let useC: Bool
    /// `U[e]` packed for the C GEMM (avx2 kernel set, at least `packedMinInputChannels` input
    /// channels; empty otherwise).
    let packedU: [PackedGemmWeights]
    /// Measured on resnet18 (1 thread, per-layer medians): the packed GEMM took the 256-channel
    /// layers from 2.9 to 2.3 ms, was even at 128 channels and 20 % slower at 64 (OpenBLAS's
    /// kernel is better on those shallow, wide products). On AVX-512F CPUs every layer takes the
    /// packed GEMM (16-row panels, `ck_gemm_rows16`): standalone, 1 thread, session 30's Intel Xeon,
    /// 64 × 64 × 392 25 µs against OpenBLAS SkylakeX's 28 and Prescott's 120 (the kernels Debian's
    /// OpenBLAS runs on that CPU); 128 × 128 × 196 47 against 53 and 223.
    static let packedMinInputChannels = 192

    /// Whether `U[e]` is packed for the C GEMM.
    static func packs(inChannels: Int, kernels: KernelISA) -> Bool {
        kernels.runsEveryGEMMInC || (kernels == .avx2 && inChannels >= packedMinInputChannels)
    }

    init(geometry: ConvGeometry, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, weights: [Float], bias: [Float],
         activation: FusedActivation, threads: Int, kernels: KernelISA, residual: UnsafeMutablePointer<Float>? = nil) {
        useC = kernels == .avx2
        g = geometry
        self.x = x
        self.y = y
        self.bias = AlignedBuffer(bias)
        (self.activation, self.residual) = FusedResidual.split(activation, shortcut: residual, kernels: kernels)
        self.threads = threads
        let cin = geometry.inChannels, cout = geometry.outChannels
        let u16 = AlignedBuffer(count: 16 * cout * cin)
        let u = u16.pointer
        for o in 0..<cout {
            for i in 0..<cin {
                let k = Array(weights[(o * cin + i) * 9..<(o * cin + i) * 9 + 9])
                let t = WinogradConvolutionStep.transformFilter(k)
                for e in 0..<16 { u[(e * cout + o) * cin + i] = t[e] }
            }
        }
        tilesX = (geometry.outWidth + 1) / 2
        tilesY = (geometry.outHeight + 1) / 2
        paddedWidth = 2 * ((tilesX + 7) / 8 * 8) + 2 + 16
        // ~1 MiB of V + M per block, at least one tile row, and enough blocks to feed every thread.
        let perTile = 16 * (cin + cout) * 4
        // The block count is a multiple of the thread count and blocks differ by at most one tile
        // row, so both threads get the same work (28 tile rows: 8 blocks of 3–4 rows, not 4,4,…,4).
        let rows = Swift.max(1, (1 << 20) / Swift.max(1, perTile * tilesX))
        var count = (tilesY + rows - 1) / rows
        if threads > 1 { count = (Swift.max(count, threads) + threads - 1) / threads * threads }
        splitChannels = ParallelSplit.winogradSplitsOutputChannels(outChannels: cout, outHeight: geometry.outHeight, outWidth: geometry.outWidth,
                                                                   threads: threads)
        blockCount = splitChannels ? 1 : Swift.min(count, tilesY)
        blockRows = (tilesY + blockCount - 1) / blockCount
        blockColumns = blockRows * tilesX + 8
        packedU = Self.packs(inChannels: cin, kernels: kernels) ? (0..<16).map { e in
            PackedGemmWeights(u + e * cout * cin, rows: cout, depth: cin, lda: cin)
        } : []
        transformed = packedU.isEmpty ? u16 : AlignedBuffer(count: 0)
    }

    /// `G·g·Gᵀ` for one 3×3 filter (row-major), G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]].
    static func transformFilter(_ k: [Float]) -> [Float] {
        let gm: [[Float]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        var tmp = [Float](repeating: 0, count: 12)   // G·g: 4×3
        for r in 0..<4 { for c in 0..<3 { tmp[r * 3 + c] = (0..<3).reduce(0) { $0 + gm[r][$1] * k[$1 * 3 + c] } } }
        var out = [Float](repeating: 0, count: 16)   // (G·g)·Gᵀ: 4×4
        for r in 0..<4 { for c in 0..<4 { out[r * 4 + c] = (0..<3).reduce(0) { $0 + tmp[r * 3 + $1] * gm[c][$1] } } }
        return out
    }

    var algorithm: String {
        "winograd F(2x2,3x3)" + (useC ? " avx2" : "") + (splitChannels ? " split-cout" : "") + (residual != nil ? " +residual" : "")
    }
    /// V and M of one block, then the C GEMM's packing scratch.
    var blockFloats: Int { 16 * (g.inChannels + g.outChannels) * blockColumns + gemmScratchFloats }
    var gemmScratchFloats: Int { packedU.first?.scratchFloats(columns: blockRows * tilesX) ?? 0 }
    /// Padded input rows of one block (its tile rows and the two halo rows below them), per channel
    /// (with `splitChannels` the one block is the whole image).
    var bandPlane: Int { (2 * blockRows + 2) * paddedWidth }
    var bandFloats: Int { g.inChannels * bandPlane }
    var scratchFloats: Int { 0 }
    /// The padded band, V and M of the block a thread runs (`splitChannels`: M of its channels), then
    /// the GEMM's packing scratch.
    var threadScratchFloats: Int { bandFloats + blockFloats }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let blocks = blockCount
        for n in 0..<g.batch {
            let xn = x + n * g.inChannels * g.inPlane
            let yn = y + n * g.outChannels * g.outPlane
            if splitChannels {
                runSplitChannels(pool: pool, xn: xn, yn: yn)
                continue
            }
            // Each block pads its own rows (with the two halo rows) into the running thread's own
            // scratch, then transforms, multiplies and writes them, in one affine region: thread i
            // reads the band of rows it wrote in the layer before (tile-row blocks, pixel tiles and
            // the stem's rows also give thread 0 the top of the map), and writes only lines of its
            // own scratch, never lines the other thread wrote last.
            let own = threadScratchFloats
            pool.parallelFor(blocks, affine: true) { blk, thread in
                let band = pool.threadScratch(thread, floats: own).pointer
                let v = band + bandFloats
                let m = v + 16 * g.inChannels * blockColumns
                let ty0 = tilesY * blk / blocks
                let ty1 = tilesY * (blk + 1) / blocks
                let tiles = (ty1 - ty0) * tilesX
                transformInput(xn, tileRows: ty0..<ty1, band: band, into: v)
                for e in 0..<16 {
                    let ve = v + e * g.inChannels * blockColumns, me = m + e * g.outChannels * blockColumns
                    if packedU.isEmpty {
                        gemm(rows: g.outChannels, columns: tiles, depth: g.inChannels, a: transformed.pointer + e * g.outChannels * g.inChannels,
                             b: ve, ldb: blockColumns, c: me, ldc: blockColumns)
                    } else {
                        packedU[e].multiply(rows: 0..<g.outChannels, b: ve, ldb: blockColumns, columns: tiles, c: me, ldc: blockColumns,
                                            bias: nil, .none, scratch: m + 16 * g.outChannels * blockColumns)
                    }
                }
                if useC {
                    ck_winograd_output(m, blockColumns, g.outChannels, ty0, ty1, tilesX, bias.pointer, yn, g.outHeight, g.outWidth, activation.ck)
                } else {
                    outputTransform(m, ty0..<ty1, channels: 0..<g.outChannels, into: yn)
                }
                addResidual(yn, tileRows: ty0..<ty1)
            }
        }
    }

    /// One block of every tile, the threads splitting the output channels: each thread pads and
    /// transforms the whole input into its own scratch (the transform is small next to the
    /// GEMMs on these maps), multiplies its rows of every `U[e]`, and transforms its channels out.
    /// Every line a thread writes is its own (V, its part of M, its output planes), and the
    /// transformed weights are read once in all, not once per thread.
    func runSplitChannels(pool: WorkerPool, xn: UnsafeMutablePointer<Float>, yn: UnsafeMutablePointer<Float>) {
        let tiles = tilesY * tilesX
        let parts = ParallelSplit.outputChannelBlocks(rows: g.outChannels, unit: packedU.first?.rowUnit ?? 8, threads: threads)
        let own = threadScratchFloats
        pool.parallelFor(parts.count, affine: true) { part, thread in
            let r0 = parts[part].lowerBound, r1 = parts[part].upperBound
            guard r1 > r0 else { return }
            let band = pool.threadScratch(thread, floats: own).pointer
            let v = band + bandFloats
            let m = v + 16 * g.inChannels * blockColumns        // M[e][r0..<r1][tiles]
            let gemmScratch = m + 16 * g.outChannels * blockColumns
            transformInput(xn, tileRows: 0..<tilesY, band: band, into: v)
            let rows = r1 - r0
            for e in 0..<16 {
                let ve = v + e * g.inChannels * blockColumns, me = m + e * rows * blockColumns
                if packedU.isEmpty {
                    gemm(rows: rows, columns: tiles, depth: g.inChannels, a: transformed.pointer + (e * g.outChannels + r0) * g.inChannels,
                         b: ve, ldb: blockColumns, c: me, ldc: blockColumns)
                } else {
                    // `multiply` writes rows r0..<r1 of the C it is given: shift C so they land at `me`.
                    packedU[e].multiply(rows: r0..<r1, b: ve, ldb: blockColumns, columns: tiles, c: me - r0 * blockColumns, ldc: blockColumns,
                                        bias: nil, .none, scratch: gemmScratch)
                }
            }
            if useC {
                ck_winograd_output(m, blockColumns, rows, 0, tilesY, tilesX, bias.pointer + r0, yn + r0 * g.outPlane,
                                   g.outHeight, g.outWidth, activation.ck)
            } else {
                outputTransform(m, 0..<tilesY, channels: r0..<r1, into: yn)
            }
            residual?.apply(y, offset: (yn - y) + r0 * g.outPlane, rows: rows, length: g.outPlane, stride: g.outPlane)
        }
    }

    /// V of tile rows `tileRows` of image `xn` (column t = tile t counted from the first of them):
    /// their input rows and the two halo rows below, zero-bordered, copied into `band` first (one
    /// channel every `bandPlane` floats; padding is never handled in the inner loops). The transform
    /// stores 8 tiles at a time, so a tile row shorter than 8 tiles spills into the next row's
    /// columns, which only a later row of the same call may overwrite.
    func transformInput(_ xn: UnsafeMutablePointer<Float>, tileRows: Range<Int>, band: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>) {
        padRows(xn, rows: (2 * tileRows.lowerBound)..<(2 * tileRows.upperBound + 2), into: band)
        if useC {
            ck_winograd_input(band, bandPlane, paddedWidth, g.inChannels, 0, tileRows.count, tilesX, v, blockColumns)
        } else {
            inputTransform(band, 0..<tileRows.count, into: v)
        }
    }

    /// Padded rows `rows` of every input channel's bordered plane (zeros outside the image), stored
    /// from row 0 of `planes` on, one channel every `bandPlane` floats.
    func padRows(_ xn: UnsafeMutablePointer<Float>, rows: Range<Int>, into planes: UnsafeMutablePointer<Float>) {
        let cols = Swift.min(g.width, paddedWidth - g.padLeft)
        for c in 0..<g.inChannels {
            let src = xn + c * g.inPlane, dst = planes + c * bandPlane
            for r in rows {
                let row = dst + (r - rows.lowerBound) * paddedWidth
                let iy = r - g.padTop
                guard iy >= 0 && iy < g.height else { row.update(repeating: 0, count: paddedWidth); continue }
                row.update(repeating: 0, count: g.padLeft)
                (row + g.padLeft).update(from: src + iy * g.width, count: cols)
                (row + g.padLeft + cols).update(repeating: 0, count: paddedWidth - g.padLeft - cols)
            }
        }
    }

    /// V[e][ci][t] for the tiles of tile rows `rows` of `padded` (channel planes `bandPlane` floats
    /// apart; t counts from the first tile of `rows`).
    @inline(__always)
    func inputTransform(_ padded: UnsafeMutablePointer<Float>, _ rows: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let ld = blockColumns
        let eStride = g.inChannels * ld
        for ci in 0..<g.inChannels {
            let plane = UnsafeRawPointer(padded + ci * bandPlane)
            let vc = v + ci * ld
            for ty in rows {
                var tx = 0
                while tx < tilesX {
                    let lanes = Swift.min(8, tilesX - tx)
                    let t = (ty - rows.lowerBound) * tilesX + tx
                    // d[r][c] for 8 tiles: input row 2ty + r, column 2(tx + lane) + c.
                    @inline(__always) func row(_ r: Int) -> (Vec, Vec, Vec, Vec) {
                        let p = plane + ((2 * ty + r) * paddedWidth + 2 * tx) * 4
                        let a = p.loadUnaligned(as: SIMD16<Float>.self)
                        let b = p.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                    let d0 = row(0), d1 = row(1), d2 = row(2), d3 = row(3)
                    // Bᵀ·d (rows): [d0 − d2, d1 + d2, d2 − d1, d1 − d3], then ·B (columns) the same way.
                    let r0 = (d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3)
                    let r1 = (d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3)
                    let r2 = (d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3)
                    let r3 = (d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3)
                    @inline(__always) func put(_ e: Int, _ val: Vec) {
                        storeLanes(val, vc + e * eStride + t, lanes)
                    }
                    @inline(__always) func cols(_ r: (Vec, Vec, Vec, Vec), _ i: Int) {
                        put(i * 4 + 0, r.0 - r.2)
                        put(i * 4 + 1, r.1 + r.2)
                        put(i * 4 + 2, r.2 - r.1)
                        put(i * 4 + 3, r.1 - r.3)
                    }
                    cols(r0, 0)
                    cols(r1, 1)
                    cols(r2, 2)
                    cols(r3, 3)
                    tx += 8
                }
            }
        }
    }

    /// The fused residual add (if any) over the output rows of tile rows `tileRows` of image
    /// `yn`, every channel.
    @inline(__always)
    func addResidual(_ yn: UnsafeMutablePointer<Float>, tileRows: Range<Int>) {
        guard let residual else { return }
        let r0 = 2 * tileRows.lowerBound, r1 = Swift.min(g.outHeight, 2 * tileRows.upperBound)
        guard r1 > r0 else { return }
        residual.apply(y, offset: (yn - y) + r0 * g.outWidth, rows: g.outChannels, length: (r1 - r0) * g.outWidth, stride: g.outPlane)
    }

    /// Y = Aᵀ·M·A + bias for the tiles of `rows` and output channels `channels` (M holds those
    /// channels only), A = [[1,0],[1,1],[1,−1],[0,−1]]; then the activation.
    @inline(__always)
    func outputTransform(_ m: UnsafeMutablePointer<Float>, _ rows: Range<Int>, channels: Range<Int>, into yn: UnsafeMutablePointer<Float>) {
        let ldm = blockColumns
        let eStride = channels.count * ldm
        let wo = g.outWidth, ho = g.outHeight
        for co in channels {
            let mc = UnsafeRawPointer(m + (co - channels.lowerBound) * ldm)
            let b = Vec(repeating: bias.pointer[co])
            let plane = yn + co * g.outPlane
            for ty in rows {
                var tx = 0
                while tx < tilesX {
                    let t = (ty - rows.lowerBound) * tilesX + tx
                    @inline(__always) func ld(_ e: Int) -> Vec { mc.loadUnaligned(fromByteOffset: (e * eStride + t) * 4, as: Vec.self) }
                    // Aᵀ·M (rows): [m0 + m1 + m2, m1 − m2 − m3] per column.
                    let a0 = ld(0) + ld(4) + ld(8), b0 = ld(4) - ld(8) - ld(12)
                    let a1 = ld(1) + ld(5) + ld(9), b1 = ld(5) - ld(9) - ld(13)
                    let a2 = ld(2) + ld(6) + ld(10), b2 = ld(6) - ld(10) - ld(14)
                    let a3 = ld(3) + ld(7) + ld(11), b3 = ld(7) - ld(11) - ld(15)
                    let y00 = a0 + a1 + a2 + b, y01 = a1 - a2 - a3 + b
                    let y10 = b0 + b1 + b2 + b, y11 = b1 - b2 - b3 + b
                    let lanes = Swift.min(8, tilesX - tx)
                    let oy = 2 * ty
                    let top = plane + oy * wo
                    let hasBottom = oy + 1 < ho
                    for l in 0..<lanes {
                        let ox = 2 * (tx + l)
                        top[ox] = y00[l]
                        if ox + 1 < wo { top[ox + 1] = y01[l] }
                        if hasBottom {
                            top[wo + ox] = y10[l]
                            if ox + 1 < wo { top[wo + ox + 1] = y11[l] }
                        }
                    }
                    tx += 8
                }
            }
            let r0 = 2 * rows.lowerBound, r1 = Swift.min(ho, 2 * rows.upperBound)
            Epilogue.apply(plane + r0 * wo, (r1 - r0) * wo, bias: 0, activation)
        }
    }
}
