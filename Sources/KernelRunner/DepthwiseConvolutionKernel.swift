import CKernels
import Foundation
import NNGraph

/// Depthwise convolution (groups == input channels, any channel multiplier) with hand-written
/// SIMD. Each thread copies one input plane into a zero-bordered scratch plane (so the inner
/// loop has no bounds checks); the borders are zeroed once per run, later planes only rewrite
/// the interior. Stride-2 layers split the columns into even and odd phase planes while
/// copying, so every tap of the inner loop is a contiguous vector load (no gathers or lane
/// shuffles). 3×3 and 5×5 kernels with stride 1 or 2 use an unrolled loop computing 16 output
/// pixels per iteration (8 at the row tail) with the bias in the accumulator; the activation
/// runs on the finished rows (at least 64 values at a time) while they are in L1. Other shapes
/// use a general loop. Planes are split across the pool. On the AVX2 path, maps of at most 8
/// output columns (7×7, 4×4) build no bordered plane: each output row is one vector whose taps
/// are masked loads straight from the input (`ck_depthwise_planes`' narrow kernel); on a CPU with
/// AVX-512F, wider maps at stride 1 or horizontal stride 2 build none either: 16 outputs per
/// vector, each tap taken (stride 1: shifted; stride 2: de-interleaved) from masked input loads in
/// registers (`ck_depthwise_direct`).
final class DepthwiseConvolutionStep: Step {
    let g: ConvGeometry
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let weights: AlignedBuffer   // [Cout, kH·kW]
    let bias: AlignedBuffer
    let activation: FusedActivation
    let threads: Int
    /// Rows of the padded plane (only rows some output reads).
    let paddedHeight: Int
    /// Column phases of the padded plane: 2 for the stride-2 fast path (even/odd columns), else 1.
    let phases: Int
    /// Row length of one phase plane, in floats.
    let phaseWidth: Int
    /// Kernel size of the unrolled fast path (3 or 5), 0 for the general loop.
    let fastKernel: Int
    /// Output rows per activation pass: enough for ≥ `Epilogue.shortRow` values, so narrow maps
    /// (7×7, 14×14) do not run the activation's scalar tail on every row; still in L1.
    let rowsPerEpilogue: Int
    /// The fast path runs the C AVX2+FMA kernel (bias and activation in registers).
    let useC: Bool
    /// The C kernel reads taps straight from the input (≤ 8 output columns): no bordered plane.
    let narrow: Bool
    /// The C AVX-512 stride-2 kernel reads taps straight from the input: no bordered plane.
    let direct: Bool
    /// Narrow maps at horizontal stride 2 with AVX-512F: each input row is one masked load and the
    /// taps are lane permutes of it (`ck_depthwise_narrow_s2`), not two loads and shuffles per tap.
    let narrowDirect: Bool

    init(geometry: ConvGeometry, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, weights: [Float], bias: [Float],
         activation: FusedActivation, threads: Int, kernels: KernelISA, allowDirect: Bool = true) {
        g = geometry
        self.x = x
        self.y = y
        self.weights = AlignedBuffer(weights)
        self.bias = AlignedBuffer(bias)
        self.activation = activation
        self.threads = threads
        let k = geometry.kernelH
        let fast = (k == 3 || k == 5) && geometry.kernelW == k && geometry.dilationH == 1 && geometry.dilationW == 1
            && (1...2).contains(geometry.strideH) && (1...2).contains(geometry.strideW)
        fastKernel = fast ? k : 0
        useC = fast && kernels == .avx2
        narrow = useC && geometry.outWidth <= Int(CK_DW_NARROW_COLUMNS)
        // `allowDirect: false` keeps the AVX2 copy path on an AVX-512 CPU (tests cover both).
        direct = useC && !narrow && allowDirect
            && ck_depthwise_direct(Int32(k), Int32(geometry.strideH), Int32(geometry.strideW), geometry.outWidth) != 0
        narrowDirect = narrow && allowDirect
            && ck_depthwise_narrow_s2(Int32(k), Int32(geometry.strideH), Int32(geometry.strideW), geometry.outWidth,
                                      geometry.width, geometry.padLeft) != 0
        rowsPerEpilogue = Swift.max(1, (Epilogue.shortRow + geometry.outWidth - 1) / geometry.outWidth)
        paddedHeight = (geometry.outHeight - 1) * geometry.strideH + (geometry.kernelH - 1) * geometry.dilationH + 1
        let vectorWidth = (geometry.outWidth + 7) / 8 * 8
        if fast {
            let s = geometry.strideW
            phases = s
            let needed = vectorWidth + (k - 1) / s + 1
            let data = (geometry.width + geometry.padLeft + s - 1) / s
            phaseWidth = (Swift.max(needed, data) + 7) / 8 * 8
        } else {
            phases = 1
            phaseWidth = Swift.max(vectorWidth * geometry.strideW + (geometry.kernelW - 1) * geometry.dilationW + 16,
                                   geometry.width + geometry.padLeft + 16)
        }
    }

    var algorithm: String {
        "dw\(g.kernelH)x\(g.kernelW)/s\(g.strideH) \(direct ? "avx512 direct" : narrowDirect ? "avx512" : useC ? "avx2" : "simd")"
            + (narrow ? " narrow" : direct ? "" : phases == 2 ? " phase-split" : "")
    }
    var planeFloats: Int { narrow || direct ? 0 : paddedHeight * phaseWidth * phases }
    var scratchFloats: Int { 0 }
    /// A thread's bordered plane.
    var threadScratchFloats: Int { planeFloats }

    /// `thread`'s bordered plane, its border zero.
    @inline(__always)
    func plane(_ pool: WorkerPool, _ thread: Int) -> UnsafeMutablePointer<Float> {
        pool.threadScratch(thread, floats: planeFloats, filledWith: 0, owner: self)
    }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.outChannels
        let multiplier = g.outChannels / g.inChannels
        if useC {
            // Contiguous plane ranges per task (a few per thread): one C call each, no per-plane
            // closure call or shared task counter.
            let geometry = ck_dw_geometry(in_channels: g.inChannels, out_channels: g.outChannels, height: g.height, width: g.width,
                                          out_h: g.outHeight, out_w: g.outWidth, pad_top: g.padTop, pad_left: g.padLeft,
                                          k: Int32(fastKernel), sh: Int32(g.strideH), sw: Int32(g.strideW),
                                          rows: paddedHeight, phase_width: phaseWidth, direct: direct || narrowDirect ? 1 : 0)
            let act = activation.ck
            pool.parallelRanges(planes, grain: 8, chunksPerThread: 4, affine: true) { r, thread in
                ck_depthwise_planes(x, y, weights.pointer, bias.pointer, geometry, r.lowerBound, r.upperBound, act,
                                    planeFloats == 0 ? scratch : plane(pool, thread))
            }
            return
        }
        pool.parallelFor(planes) { task, thread in
            let n = task / g.outChannels
            let c = task % g.outChannels
            let src = x + (n * g.inChannels + c / multiplier) * g.inPlane
            let padded = plane(pool, thread)
            copyInterior(src, into: padded)
            let out = y + task * g.outPlane
            switch (fastKernel, g.strideH, g.strideW) {
            case (3, 1, 1): unrolled(DW<K3, S1, S1>.self, padded, c, out)
            case (3, 2, 2): unrolled(DW<K3, S2, S2>.self, padded, c, out)
            case (3, 1, 2): unrolled(DW<K3, S1, S2>.self, padded, c, out)
            case (3, 2, 1): unrolled(DW<K3, S2, S1>.self, padded, c, out)
            case (5, 1, 1): unrolled(DW<K5, S1, S1>.self, padded, c, out)
            case (5, 2, 2): unrolled(DW<K5, S2, S2>.self, padded, c, out)
            case (5, 1, 2): unrolled(DW<K5, S1, S2>.self, padded, c, out)
            case (5, 2, 1): unrolled(DW<K5, S2, S1>.self, padded, c, out)
            default: general(padded, channel: c, out: out)
            }
        }
    }

    @inline(__always)
    func copyInterior(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        PhaseSplitPlane(height: g.height, width: g.width, padTop: g.padTop, padLeft: g.padLeft, rows: paddedHeight,
                        phases: phases, phaseWidth: phaseWidth).copyInterior(src, into: dst)
    }

    /// k×k, stride (sh, sw ∈ 1…2), dilation 1. Generic over the shape so each combination is
    /// specialised with compile-time constants: the tap loops unroll and `kx % sw` folds away
    /// (plain integer arguments were not constant-propagated into the pool closure).
    func unrolled<Shape: DepthwiseShape>(_: Shape.Type, _ padded: UnsafeMutablePointer<Float>, _ c: Int, _ out: UnsafeMutablePointer<Float>) {
        let k = Shape.k, sh = Shape.sh, sw = Shape.sw
        let w = weights.pointer + c * k * k
        let b = Vec(repeating: bias.pointer[c])
        let pw = phaseWidth
        let planeBytes = paddedHeight * pw * 4
        let wo = g.outWidth
        let raw = UnsafeRawPointer(padded)
        let act = activation
        for oy in 0..<g.outHeight {
            let dst = out + oy * wo
            let rowBytes = oy * sh * pw * 4
            var ox = 0
            while ox + 16 <= wo {
                var a0 = b, a1 = b
                for ky in 0..<k {
                    let base = raw + rowBytes + ky * pw * 4 + ox * 4
                    for kx in 0..<k {
                        let p = base + (kx % sw) * planeBytes + (kx / sw) * 4
                        let wv = Vec(repeating: w[ky * k + kx])
                        a0 += wv * p.loadUnaligned(as: Vec.self)
                        a1 += wv * p.loadUnaligned(fromByteOffset: 32, as: Vec.self)
                    }
                }
                UnsafeMutableRawPointer(dst + ox).storeBytes(of: a0, as: Vec.self)
                UnsafeMutableRawPointer(dst + ox + 8).storeBytes(of: a1, as: Vec.self)
                ox += 16
            }
            while ox < wo {
                var a0 = b
                for ky in 0..<k {
                    let base = raw + rowBytes + ky * pw * 4 + ox * 4
                    for kx in 0..<k {
                        let p = base + (kx % sw) * planeBytes + (kx / sw) * 4
                        a0 += Vec(repeating: w[ky * k + kx]) * p.loadUnaligned(as: Vec.self)
                    }
                }
                storeLanes(a0, dst + ox, Swift.min(8, wo - ox))
                ox += 8
            }
            if (oy + 1) % rowsPerEpilogue == 0 || oy + 1 == g.outHeight {
                let first = oy / rowsPerEpilogue * rowsPerEpilogue
                Epilogue.apply(out + first * wo, (oy + 1 - first) * wo, bias: 0, act)
            }
        }
    }

    /// Any kernel size, stride and dilation (single phase plane).
    func general(_ padded: UnsafeMutablePointer<Float>, channel c: Int, out: UnsafeMutablePointer<Float>) {
        let w = weights.pointer + c * g.kernelH * g.kernelW
        let b = Vec(repeating: bias.pointer[c])
        let wp = phaseWidth
        let wo = g.outWidth
        let raw = UnsafeRawPointer(padded)
        let kh = g.kernelH, kw = g.kernelW
        for oy in 0..<g.outHeight {
            let dst = out + oy * wo
            var ox = 0
            while ox < wo {
                var acc = b
                for ky in 0..<kh {
                    let rowStart = (oy * g.strideH + ky * g.dilationH) * wp + ox * g.strideW
                    for kx in 0..<kw {
                        let i = rowStart + kx * g.dilationW
                        let v: Vec
                        switch g.strideW {
                        case 1: v = raw.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self)
                        case 2: v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self).evenHalf
                        default:
                            var t = Vec()
                            for l in 0..<8 { t[l] = padded[i + l * g.strideW] }
                            v = t
                        }
                        acc += Vec(repeating: w[ky * kw + kx]) * v
                    }
                }
                storeLanes(acc, dst + ox, Swift.min(8, wo - ox))
                ox += 8
            }
            if (oy + 1) % rowsPerEpilogue == 0 || oy + 1 == g.outHeight {
                let first = oy / rowsPerEpilogue * rowsPerEpilogue
                Epilogue.apply(out + first * wo, (oy + 1 - first) * wo, bias: 0, activation)
            }
        }
    }
}

/// Stores the first `lanes` lanes of `v` (the activation is applied to the finished row, with
/// plain loops LLVM vectorises; generic SIMD min/max helpers are not).
@inline(__always)
func storeLanes(_ v: Vec, _ dst: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 8 {
        UnsafeMutableRawPointer(dst).storeBytes(of: v, as: Vec.self)
    } else {
        for l in 0..<lanes { dst[l] = v[l] }
    }
}

/// Compile-time depthwise shape (kernel size and strides) for `DepthwiseConvolutionStep.unrolled`.
protocol DepthwiseShape { static var k: Int { get }; static var sh: Int { get }; static var sw: Int { get } }
protocol StaticInt { static var value: Int { get } }
enum K3: StaticInt { static var value: Int { 3 } }
enum K5: StaticInt { static var value: Int { 5 } }
enum S1: StaticInt { static var value: Int { 1 } }
enum S2: StaticInt { static var value: Int { 2 } }
enum DW<K: StaticInt, SH: StaticInt, SW: StaticInt>: DepthwiseShape {
    static var k: Int { K.value }
    static var sh: Int { SH.value }
    static var sw: Int { SW.value }
}

/// One input plane copied into a bordered scratch plane, optionally split into `phases` column
/// phases (padded column j goes to phase j % phases at j / phases; phases ∈ {1, 2}), so
/// stride-2 windows read contiguous vectors. The caller fills the border once (zeros for
/// convolution, −∞ for max pooling); `copyInterior` only writes cells that hold input.
struct PhaseSplitPlane {
    var height: Int, width: Int, padTop: Int, padLeft: Int
    /// Rows of the padded plane, phase planes, and the row length of one phase plane.
    var rows: Int, phases: Int, phaseWidth: Int

    /// Copies the input rows some output reads into the padded plane (phase-split for stride 2).
    /// Border cells are never written, so they keep the caller's fill.
    @inline(__always)
    func copyInterior(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let pw = phaseWidth
        let cols = Swift.min(width, pw * phases - padLeft)
        guard cols > 0 else { return }
        let firstRow = Swift.max(0, padTop)
        let lastRow = Swift.min(height + padTop, rows)
        guard lastRow > firstRow else { return }
        if phases == 1 {
            for r in firstRow..<lastRow {
                (dst + r * pw + padLeft).update(from: src + (r - padTop) * width, count: cols)
            }
            return
        }
        // Two phases: padded column j = i + padLeft goes to phase j & 1 at j >> 1.
        let plane = rows * pw
        let evenFirst = padLeft & 1 == 0
        let inEven = dst + (evenFirst ? 0 : plane)       // phase receiving even input columns
        let inOdd = dst + (evenFirst ? plane : 0)        // phase receiving odd input columns
        let offEven = padLeft >> 1                     // (0 + padLeft) >> 1
        let offOdd = (1 + padLeft) >> 1
        for r in firstRow..<lastRow {
            let s = UnsafeRawPointer(src + (r - padTop) * width)
            let e = UnsafeMutableRawPointer(inEven + r * pw + offEven)
            let o = UnsafeMutableRawPointer(inOdd + r * pw + offOdd)
            var i = 0
            while i + 16 <= cols {
                let v = s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                e.storeBytes(of: v.evenHalf, toByteOffset: (i >> 1) &* 4, as: Vec.self)
                o.storeBytes(of: v.oddHalf, toByteOffset: (i >> 1) &* 4, as: Vec.self)
                i += 16
            }
            if i + 8 <= cols {
                let v = s.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self)
                e.storeBytes(of: v.evenHalf, toByteOffset: (i >> 1) &* 4, as: SIMD4<Float>.self)
                o.storeBytes(of: v.oddHalf, toByteOffset: (i >> 1) &* 4, as: SIMD4<Float>.self)
                i += 8
            }
            // Narrow maps (7–14 columns) live here: pairs without a per-element branch. i is even.
            let sf = s.assumingMemoryBound(to: Float.self)
            let ef = e.assumingMemoryBound(to: Float.self), of = o.assumingMemoryBound(to: Float.self)
            while i + 2 <= cols {
                ef[i >> 1] = sf[i]
                of[i >> 1] = sf[i + 1]
                i += 2
            }
            if i < cols { ef[i >> 1] = sf[i] }
        }
    }
}
