import CKernels
import COpenBLAS
import NNGraph

/// Geometry of a 2-D convolution on NCHW data.
struct ConvGeometry: Hashable {
    var batch: Int, inChannels: Int, height: Int, width: Int
    var outChannels: Int, outHeight: Int, outWidth: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var dilationH: Int, dilationW: Int
    var groups: Int

    init(_ a: ConvAttributes, input: TensorShape, output: TensorShape) {
        batch = input[0]; inChannels = input[1]; height = input[2]; width = input[3]
        outChannels = output[1]; outHeight = output[2]; outWidth = output[3]
        kernelH = a.kernel[0]; kernelW = a.kernel[1]
        strideH = a.strides[0]; strideW = a.strides[1]
        padTop = a.pads[0]; padLeft = a.pads[1]
        dilationH = a.dilations[0]; dilationW = a.dilations[1]
        groups = a.groups
    }

    var inPlane: Int { height * width }
    var outPlane: Int { outHeight * outWidth }
    var inChannelsPerGroup: Int { inChannels / groups }
    var outChannelsPerGroup: Int { outChannels / groups }
    /// GEMM depth: input channels per group × kernel taps.
    var depth: Int { inChannelsPerGroup * kernelH * kernelW }
    var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && outHeight == height && outWidth == width
    }
}

/// Dense and grouped convolution as GEMM: `Y[Cout/g, P] = W[Cout/g, K] · cols[K, P]` per group
/// (P = output pixels, K = Cin/g·kH·kW), then bias + activation on the tile just written.
/// 1×1 stride-1 convolutions multiply the input directly (no copy); other shapes build the
/// im2col columns in per-thread scratch, one pixel tile at a time so the expanded data stays in
/// cache. Work is split across the pool by pixel tiles, or by output-channel blocks when a
/// layer has few pixels (then each thread builds the columns of every pixel); OpenBLAS itself
/// runs single-threaded inside each task.
final class ConvolutionStep: Step {
    let g: ConvGeometry
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let weights: AlignedBuffer   // [Cout, K]
    let bias: AlignedBuffer      // [Cout]
    /// The activation applied inside the GEMM (none when a residual add follows the conv).
    let activation: FusedActivation
    /// A fused residual add, applied to each output tile right after the GEMM wrote it.
    let residual: FusedResidual?
    let threads: Int
    /// Pixel tile width for the column split (im2col scratch per thread = K × tile).
    let tile: Int
    let splitRows: Bool
    /// Per-group weights packed for the C GEMM (`KernelISA.avx2`: bias and activation fused in
    /// registers); nil = OpenBLAS `cblas_sgemm` plus a separate epilogue pass.
    let packed: [PackedGemmWeights]?
    /// Stem layers (≤ 4 input channels, 3×3, stride 2) on an AVX-512F CPU: the direct kernel
    /// `ck_conv_stem_s2_avx512` over the row-major weights, no im2col, no packing.
    let stem: Bool

    init(geometry: ConvGeometry, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, weights: [Float], bias: [Float],
         activation: FusedActivation, threads: Int, tileBytes: Int = RunnerOptions.defaultIm2colTileBytes,
         pointwiseTileBytes: Int = RunnerOptions.defaultPointwiseTileBytes,
         kernels: KernelISA, allowDirect: Bool = true, residual: UnsafeMutablePointer<Float>? = nil) {
        g = geometry
        self.x = x
        self.y = y
        // `allowDirect: false` keeps im2col + GEMM on an AVX-512 CPU (tests cover both).
        stem = kernels == .avx2 && allowDirect && residual == nil
            && ck_conv_stem_direct(geometry.inChannels, Int32(geometry.kernelH), Int32(geometry.kernelW), Int32(geometry.strideH),
                                   Int32(geometry.strideW), Int32(geometry.dilationH), Int32(geometry.dilationW), geometry.groups) != 0
        let packAtLoad = kernels == .avx2 && !stem
        // The C GEMM keeps only its packed copy (the row-major weights are dropped after packing).
        self.weights = packAtLoad ? AlignedBuffer(count: 0) : AlignedBuffer(weights)
        self.bias = AlignedBuffer(bias)
        (self.activation, self.residual) = FusedResidual.split(activation, shortcut: residual, kernels: kernels)
        self.threads = threads
        let p = geometry.outPlane
        let m = geometry.outChannelsPerGroup
        // Few pixels but many output channels (late layers): split channels so each thread still
        // runs one reasonably shaped GEMM (`ParallelSplit.convSplitsOutputChannels`, the rule the cost
        // model's partitions use). Otherwise split pixels. Tiny layers (squeeze-excitation FCs on a 1×1
        // map) run on the calling thread (`ParallelSplit.convRunsSerial`).
        let serial = ParallelSplit.convRunsSerial(outChannelsPerGroup: m, depth: geometry.depth, outPlane: p)
        splitRows = ParallelSplit.convSplitsOutputChannels(outChannelsPerGroup: m, depth: geometry.depth, outPlane: p, threads: threads)
        let byCache: Int
        if geometry.isPointwise {
            // Output tiles of ≤ `pointwiseTileBytes` (Cout × tile floats; default the core's L2), so a
            // tile (and a fused residual pass over it) stays in L2 while it is written. 256 KiB tiles
            // (half the old VM's L2) measured 1–2% slower at 2 threads on mobilenet_v2 (1 MiB L2; 20
            // tiles on features.2's 112² expansion instead of 6, 282 → 247 µs with 1 MiB), equal at 1.
            byCache = Swift.max(256, (pointwiseTileBytes / 4) / Swift.max(1, m) / 64 * 64)
        } else {
            // Aim for `tileBytes` (default 256 KiB) of columns per tile, at least 64 pixels.
            byCache = Swift.max(64, (tileBytes / 4) / Swift.max(1, geometry.depth))
        }
        tile = serial || stem ? p : ConvolutionStep.balancedTile(pixels: p, atMost: byCache, threads: threads)
        if packAtLoad {
            let k = geometry.depth
            let t = PackedGemmWeights.prefersTransposed(columns: splitRows ? p : tile, depth: k)
            packed = weights.withUnsafeBufferPointer { w in
                (0..<geometry.groups).map { PackedGemmWeights(w.baseAddress! + $0 * m * k, rows: m, depth: k, lda: k, transposed: t) }
            }
        } else {
            packed = nil
        }
    }

    /// Floats of GEMM packing scratch per thread (C kernels only).
    var gemmScratchPerThread: Int {
        guard let packed = packed?.first else { return 0 }
        return packed.scratchFloats(columns: splitRows ? g.outPlane : tile)
    }

    /// Floats of im2col scratch per thread: one pixel tile's columns when the threads split pixels,
    /// the whole matrix when they split output channels (each thread builds it for itself).
    var tileFloats: Int { g.isPointwise || stem ? 0 : g.depth * (splitRows ? g.outPlane : tile) }

    /// Tile width for `pixels` split into tiles of ≤ `atMost`, with a tile count that is a
    /// multiple of `threads` and near-equal tiles, so no thread waits on a
    /// lone last tile (e.g. 784 pixels: 4 × 196 instead of 256, 256, 256, 16).
    static func balancedTile(pixels: Int, atMost: Int, threads: Int) -> Int {
        var count = (pixels + atMost - 1) / Swift.max(1, atMost)
        if threads > 1 { count = (Swift.max(count, threads) + threads - 1) / threads * threads }
        let tile = (pixels + count - 1) / Swift.max(1, count)
        // Multiples of 16 for wide tiles; narrow ones stay exact (196 pixels: 98 + 98, not 112 + 84).
        return Swift.max(1, Swift.min(pixels, tile >= 128 ? (tile + 15) / 16 * 16 : tile))
    }

    var algorithm: String {
        if stem { return "direct3x3/s2 stem avx512" }
        let gemmName = packed?.first?.kernelName(columns: splitRows ? g.outPlane : tile) ?? "sgemm"
        return (g.isPointwise ? "\(gemmName) 1x1" : "im2col+\(gemmName) \(g.kernelH)x\(g.kernelW)") + (g.groups > 1 ? " g\(g.groups)" : "")
            + (splitRows ? " split-cout" : "") + (residual != nil ? " +residual" : "")
    }

    var scratchFloats: Int { 0 }
    /// A thread's im2col tile, then its GEMM packing scratch.
    var threadScratchFloats: Int { tileFloats + gemmScratchPerThread }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let p = g.outPlane
        let m = g.outChannelsPerGroup
        let k = g.depth
        if stem {
            let geometry = ck_stem_geometry(in_channels: g.inChannels, out_channels: g.outChannels, height: g.height, width: g.width,
                                            out_h: g.outHeight, out_w: g.outWidth, pad_top: g.padTop, pad_left: g.padLeft)
            for n in 0..<g.batch {
                let xn = x + n * g.inChannels * g.inPlane, yn = y + n * g.outChannels * p
                // Output rows in parallel: 2 rows per task at least (a 112-wide row of 32
                // channels is ~2 µs of work).
                pool.parallelRanges(g.outHeight, grain: 2, affine: true) { rows, _ in
                    ck_conv_stem_s2_avx512(xn, yn, weights.pointer, bias.pointer, geometry, rows.lowerBound, rows.upperBound, activation.ck)
                }
            }
            return
        }
        for n in 0..<g.batch {
            for grp in 0..<g.groups {
                let xg = x + (n * g.inChannels + grp * g.inChannelsPerGroup) * g.inPlane
                let yg = y + (n * g.outChannels + grp * m) * p
                let wg = weights.pointer + grp * m * k
                let bg = bias.pointer + grp * m
                let base = (n * g.outChannels + grp * m) * p
                if splitRows {
                    // One block per thread: every block repacks all of B. A k×k conv's thread builds
                    // the whole im2col matrix in its own scratch: the other core's share of the input
                    // is read once, not the 9× larger columns a shared matrix would send across.
                    let blocks = ParallelSplit.outputChannelBlocks(rows: m, unit: packed?.first?.rowUnit ?? 8, threads: threads)
                    let own = threadScratchFloats
                    pool.parallelFor(blocks.count, affine: true) { b, thread in
                        let r0 = blocks[b].lowerBound, r1 = blocks[b].upperBound
                        guard r1 > r0 else { return }
                        let mine = pool.threadScratch(thread, floats: own).pointer
                        let cols: UnsafeMutablePointer<Float>
                        if g.isPointwise {
                            cols = xg
                        } else {
                            cols = mine
                            im2col(xg, rows: 0..<k, columns: 0..<p, into: mine, ld: p)
                        }
                        if let packed {
                            packed[grp].multiply(rows: r0..<r1, b: cols, ldb: p, columns: p, c: yg, ldc: p, bias: bg, activation,
                                                 scratch: mine + tileFloats)
                        } else {
                            gemm(rows: r1 - r0, columns: p, depth: k, a: wg + r0 * k, b: cols, ldb: p, c: yg + r0 * p, ldc: p)
                            Epilogue.applyRows(yg + r0 * p, rows: r1 - r0, length: p, stride: p, bias: bg + r0, activation)
                        }
                        residual?.apply(y, offset: base + r0 * p, rows: r1 - r0, length: p, stride: p)
                    }
                } else {
                    let tiles = (p + tile - 1) / tile
                    let own = threadScratchFloats
                    pool.parallelFor(tiles, affine: true) { t, thread in
                        let mine = pool.threadScratch(thread, floats: own).pointer
                        let c0 = t * tile
                        let c1 = Swift.min(p, c0 + tile)
                        let width = c1 - c0
                        let b: UnsafeMutablePointer<Float>
                        let ldb: Int
                        if g.isPointwise {
                            b = xg + c0
                            ldb = p
                        } else {
                            b = mine
                            ldb = width
                            im2col(xg, rows: 0..<k, columns: c0..<c1, into: b, ld: width)
                        }
                        if let packed {
                            packed[grp].multiply(rows: 0..<m, b: b, ldb: ldb, columns: width, c: yg + c0, ldc: p, bias: bg, activation,
                                                 scratch: mine + tileFloats)
                        } else {
                            gemm(rows: m, columns: width, depth: k, a: wg, b: b, ldb: ldb, c: yg + c0, ldc: p)
                            Epilogue.applyRows(yg + c0, rows: m, length: width, stride: p, bias: bg, activation)
                        }
                        residual?.apply(y, offset: base + c0, rows: m, length: width, stride: p)
                    }
                }
            }
        }
    }

    /// Writes rows `rows` (each a (channel, ky, kx) tap) × output pixels `columns` of the im2col
    /// matrix of one group's input `xg` into `dst` (row stride `ld`, first column = columns.lowerBound).
    /// With the C kernel set on an AVX-512F CPU, `ck_im2col_avx512` (16 pixels per store).
    @inline(__always)
    func im2col(_ xg: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Range<Int>, into dst: UnsafeMutablePointer<Float>, ld: Int) {
        let kh = g.kernelH, kw = g.kernelW
        let wo = g.outWidth
        if packed != nil && KernelISA.hasAVX512 {
            ck_im2col_avx512(xg, g.inPlane, g.height, g.width, kh, kw, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW,
                             wo, rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound, dst, ld)
            return
        }
        for r in rows {
            let kx = r % kw
            let ky = (r / kw) % kh
            let ci = r / (kw * kh)
            let plane = xg + ci * g.inPlane
            var out = dst + (r - rows.lowerBound) * ld
            var pix = columns.lowerBound
            while pix < columns.upperBound {
                let oy = pix / wo
                let ox0 = pix - oy * wo
                let ox1 = Swift.min(wo, ox0 + (columns.upperBound - pix))
                let count = ox1 - ox0
                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                if iy < 0 || iy >= g.height {
                    out.update(repeating: 0, count: count)
                } else {
                    let row = plane + iy * g.width
                    let base = kx * g.dilationW - g.padLeft
                    let sw = g.strideW
                    // Valid output x: 0 <= ox*sw + base < width.
                    var lo = base >= 0 ? 0 : (-base + sw - 1) / sw
                    var hi = g.width - base <= 0 ? 0 : (g.width - base + sw - 1) / sw
                    lo = Swift.min(Swift.max(lo, ox0), ox1)
                    hi = Swift.min(Swift.max(hi, lo), ox1)
                    if lo > ox0 { out.update(repeating: 0, count: lo - ox0) }
                    if sw == 1 {
                        (out + (lo - ox0)).update(from: row + lo + base, count: hi - lo)
                    } else {
                        var o = out + (lo - ox0)
                        var src = row + lo * sw + base
                        var x = lo
                        if sw == 2 {
                            // Stride 2 (the stem convs): 16 loaded, the 8 even lanes kept, while the
                            // 16-float load stays inside the input row.
                            let rowEnd = row + g.width
                            while x + 8 <= hi && src + 16 <= rowEnd {
                                let v = UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(o).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                o += 8
                                src += 16
                                x += 8
                            }
                        }
                        while x < hi {
                            o.pointee = src.pointee
                            o += 1
                            src += sw
                            x += 1
                        }
                    }
                    if ox1 > hi { (out + (hi - ox0)).update(repeating: 0, count: ox1 - hi) }
                }
                out += count
                pix += count
            }
        }
    }
}

/// Row-major single-precision C = A·B (A: rows × depth, lda = depth).
@inline(__always)
func gemm(rows: Int, columns: Int, depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
          c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(depth), 1,
                a, Int32(depth), b, Int32(ldb), beta, c, Int32(ldc))
}
