import CKernels
import NNGraph

/// Max / average pooling over NCHW planes (PyTorch/ONNX semantics for padding, ceil mode and
/// `count_include_pad`), planes split across the pool. Max pooling with strides 1–2 and windows
/// up to 7×7 takes a SIMD path: each plane is copied into a −∞-bordered, stride-2 phase-split
/// scratch plane (`PhaseSplitPlane`, as for depthwise convolution), then 8 output pixels per
/// vector take the max over the window with contiguous loads.
final class PoolStep: Step {
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let isMax: Bool
    let attrs: PoolAttributes
    let planes: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
    let threads: Int
    /// Padded phase-split plane of the SIMD max path, nil for the scalar loops.
    let padded: PhaseSplitPlane?

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, input: TensorShape, output: TensorShape, attrs: PoolAttributes, isMax: Bool,
         threads: Int = 1) {
        self.x = x
        self.y = y
        self.isMax = isMax
        self.attrs = attrs
        self.threads = threads
        planes = input[0] * input[1]
        height = input[2]; width = input[3]
        outHeight = output[2]; outWidth = output[3]
        let kh = attrs.kernel[0], kw = attrs.kernel[1], sh = attrs.strides[0], sw = attrs.strides[1]
        if isMax && (1...2).contains(sh) && (1...2).contains(sw) && kh <= 7 && kw <= 7 && attrs.pads.allSatisfy({ $0 >= 0 }) {
            let needed = (outWidth + 7) / 8 * 8 + (kw - 1) / sw + 1
            let data = (width + attrs.pads[1] + sw - 1) / sw
            padded = PhaseSplitPlane(height: height, width: width, padTop: attrs.pads[0], padLeft: attrs.pads[1],
                                     rows: (outHeight - 1) * sh + kh, phases: sw, phaseWidth: (Swift.max(needed, data) + 7) / 8 * 8)
        } else {
            padded = nil
        }
    }

    var algorithm: String {
        (isMax ? "maxpool" : "avgpool") + " \(attrs.kernel[0])x\(attrs.kernel[1])/s\(attrs.strides[0])" + (padded != nil ? " simd" : "")
    }
    var planeFloats: Int { padded.map { $0.rows * $0.phaseWidth * $0.phases } ?? 0 }
    var scratchFloats: Int { 0 }
    /// A thread's bordered plane (max pooling).
    var threadScratchFloats: Int { planeFloats }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        if let padded {
            runMax(padded, pool: pool)
            return
        }
        let kh = attrs.kernel[0], kw = attrs.kernel[1], sh = attrs.strides[0], sw = attrs.strides[1]
        let pt = attrs.pads[0], pl = attrs.pads[1], pb = attrs.pads[2], pr = attrs.pads[3]
        let h = height, w = width, ho = outHeight, wo = outWidth
        let includePad = attrs.countIncludePad
        pool.parallelRanges(planes, grain: 4) { r, _ in
            for plane in r {
                let src = x + plane * h * w
                let dst = y + plane * ho * wo
                for oy in 0..<ho {
                    let hs0 = oy * sh - pt
                    let he0 = Swift.min(hs0 + kh, h + pb)
                    let hs = Swift.max(hs0, 0), he = Swift.min(he0, h)
                    for ox in 0..<wo {
                        let ws0 = ox * sw - pl
                        let we0 = Swift.min(ws0 + kw, w + pr)
                        let ws = Swift.max(ws0, 0), we = Swift.min(we0, w)
                        if isMax {
                            var m = -Float.infinity
                            for iy in hs..<Swift.max(hs, he) {
                                let row = src + iy * w
                                for ix in ws..<Swift.max(ws, we) { m = Swift.max(m, row[ix]) }
                            }
                            dst[oy * wo + ox] = m
                        } else {
                            var s: Float = 0
                            for iy in hs..<Swift.max(hs, he) {
                                let row = src + iy * w
                                for ix in ws..<Swift.max(ws, we) { s += row[ix] }
                            }
                            let count = includePad ? (he0 - hs0) * (we0 - ws0) : (he - hs) * (we - ws)
                            dst[oy * wo + ox] = s / Float(Swift.max(1, count))
                        }
                    }
                }
            }
        }
    }
}

extension PoolStep {
    func runMax(_ layout: PhaseSplitPlane, pool: WorkerPool) {
        let kh = attrs.kernel[0], kw = attrs.kernel[1], sh = attrs.strides[0], sw = attrs.strides[1]
        let inPlane = height * width
        let floats = planeFloats
        // Planes split across the pool. (Bands of output rows over every plane, affine, to match the
        // rows the stem wrote, measured no faster in session 23: resnet18's pool 107 µs close together
        // and 213 µs on far-apart cores split by planes, 110–138 and 222–259 µs by bands.)
        pool.parallelFor(planes) { plane, thread in
            // The thread's own plane, its border −∞.
            let buf = pool.threadScratch(thread, floats: floats, filledWith: -.infinity, owner: self)
            layout.copyInterior(x + plane * inPlane, into: buf)
            let out = y + plane * outHeight * outWidth
            // The ResNet/ShuffleNet stem pools (3×3 / 2, and 2×2 / 2) with compile-time window and
            // stride, so the tap loops unroll and the phase index `kx % sw` folds away.
            switch (kh, kw, sh, sw) {
            case (3, 3, 2, 2): maxPlane(DW<K3, S2, S2>.self, buf, layout, out)
            case (3, 3, 1, 1): maxPlane(DW<K3, S1, S1>.self, buf, layout, out)
            default: maxPlane(buf, layout, out, kh: kh, kw: kw, sh: sh, sw: sw)
            }
        }
    }

    func maxPlane<Shape: DepthwiseShape>(_: Shape.Type, _ buf: UnsafeMutablePointer<Float>, _ layout: PhaseSplitPlane,
                                         _ out: UnsafeMutablePointer<Float>) {
        maxPlane(buf, layout, out, kh: Shape.k, kw: Shape.k, sh: Shape.sh, sw: Shape.sw)
    }

    @inline(__always)
    func maxPlane(_ buf: UnsafeMutablePointer<Float>, _ layout: PhaseSplitPlane, _ out: UnsafeMutablePointer<Float>,
                  kh: Int, kw: Int, sh: Int, sw: Int) {
        let pw = layout.phaseWidth, planeBytes = layout.rows * pw * 4
        let ho = outHeight, wo = outWidth
        let raw = UnsafeRawPointer(buf)
        for oy in 0..<ho {
            let dst = out + oy * wo
            var ox = 0
            while ox < wo {
                var m = Vec(repeating: -.infinity)
                for ky in 0..<kh {
                    let base = raw + ((oy * sh + ky) * pw + ox) * 4
                    for kx in 0..<kw {
                        let v = (base + (kx % sw) * planeBytes + (kx / sw) * 4).loadUnaligned(as: Vec.self)
                        m.replace(with: v, where: v .> m)
                    }
                }
                storeLanes(m, dst + ox, Swift.min(8, wo - ox))
                ox += 8
            }
        }
    }
}

/// Mean or max over a set of axes (global average/max pooling, ReduceMean). Reductions over
/// trailing axes (the common case: NCHW spatial dims) are row sums; others use a strided walk.
final class ReduceStep: Step {
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let inputDims: [Int]
    let reduced: [Bool]
    let isMax: Bool
    let outCount: Int
    let trailing: Int?

    /// Rows reduced by the C AVX2 kernel (`ck_row_reduce`: four accumulators; the Swift loop's one
    /// 8-lane accumulator is a dependency chain of adds, 39 GB/s on efficientnet_b0's 112² pools).
    let useC: Bool

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, input: TensorShape, axes: Set<Int>, isMax: Bool,
         kernels: KernelISA = .default) {
        useC = kernels == .avx2
        self.x = x
        self.y = y
        inputDims = input.dims
        reduced = (0..<input.rank).map { axes.contains($0) }
        self.isMax = isMax
        outCount = (0..<input.rank).filter { !axes.contains($0) }.map { input[$0] }.reduce(1, *)
        // Trailing block: every reduced axis comes after every kept axis (size-1 kept axes don't matter).
        let lastKept = (0..<input.rank).last { !axes.contains($0) && input[$0] != 1 } ?? -1
        let firstReduced = (0..<input.rank).first { axes.contains($0) && input[$0] != 1 } ?? input.rank
        trailing = lastKept < firstReduced ? input.elementCount / Swift.max(1, outCount) : nil
    }

    var algorithm: String { isMax ? "reduce max" : "reduce mean" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        if let inner = trailing {
            let isMax = isMax
            // Affine: a squeeze-excitation pool reads the channel planes the depthwise conv before it
            // (split by channels, affine too) wrote on the same thread.
            pool.parallelRanges(outCount, grain: Swift.max(1, 8192 / Swift.max(1, inner)), affine: true) { r, _ in
                if useC {
                    ck_row_reduce(x + r.lowerBound * inner, r.count, inner, isMax ? 1 : 0, 1 / Float(inner), y + r.lowerBound)
                    return
                }
                for o in r {
                    let src = x + o * inner
                    if isMax {
                        var m = -Float.infinity
                        for i in 0..<inner { m = Swift.max(m, src[i]) }
                        y[o] = m
                    } else {
                        var acc = Vec(repeating: 0)
                        var i = 0
                        let raw = UnsafeRawPointer(src)
                        while i + 8 <= inner { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: Vec.self); i += 8 }
                        var s = acc.sum()
                        while i < inner { s += src[i]; i += 1 }
                        y[o] = s / Float(inner)
                    }
                }
            }
            return
        }
        // General strided walk.
        let r = inputDims.count
        var outStrides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: r - 1, through: 0, by: -1) where !reduced[i] {
            outStrides[i] = s
            s *= inputDims[i]
        }
        let total = inputDims.reduce(1, *)
        y.update(repeating: isMax ? -Float.infinity : 0, count: outCount)
        var index = [Int](repeating: 0, count: r)
        var off = 0
        for flat in 0..<total {
            y[off] = isMax ? Swift.max(y[off], x[flat]) : y[off] + x[flat]
            var axis = r - 1
            while axis >= 0 {
                index[axis] += 1
                off += outStrides[axis]
                if index[axis] < inputDims[axis] { break }
                off -= outStrides[axis] * inputDims[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        if !isMax {
            let n = Float(total / Swift.max(1, outCount))
            for i in 0..<outCount { y[i] /= n }
        }
    }
}
