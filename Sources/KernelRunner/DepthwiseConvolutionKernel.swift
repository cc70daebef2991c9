import Foundation
import NNGraph

/// Depthwise convolution (groups == input channels, any channel multiplier) with hand-written
/// SIMD: each thread copies one input plane into a zero-bordered scratch plane (so the
/// inner loop has no bounds checks), then computes 8 output pixels per vector with the
/// filter taps held in registers; bias and activation are applied before the single store.
/// Stride 2 loads 16 inputs and keeps the even lanes. Planes are split across the pool.
final class DepthwiseConvolutionStep: Step {
    let g: ConvGeometry
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let weights: AlignedBuffer   // [Cout, kH·kW]
    let bias: AlignedBuffer
    let activation: FusedActivation
    let threads: Int
    let paddedHeight: Int
    let paddedWidth: Int

    init(geometry: ConvGeometry, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, weights: [Float], bias: [Float],
         activation: FusedActivation, threads: Int) {
        g = geometry
        self.x = x
        self.y = y
        self.weights = AlignedBuffer(weights)
        self.bias = AlignedBuffer(bias)
        self.activation = activation
        self.threads = threads
        paddedHeight = (geometry.outHeight - 1) * geometry.strideH + (geometry.kernelH - 1) * geometry.dilationH + 1
        let vectorWidth = (geometry.outWidth + 7) / 8 * 8
        paddedWidth = Swift.max(vectorWidth * geometry.strideW + (geometry.kernelW - 1) * geometry.dilationW + 16,
                                geometry.width + geometry.padLeft + 16)
    }

    var algorithm: String { "dw\(g.kernelH)x\(g.kernelW)/s\(g.strideH) simd" }
    var planeFloats: Int { paddedHeight * paddedWidth }
    var scratchFloats: Int { planeFloats * threads }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.outChannels
        let multiplier = g.outChannels / g.inChannels
        pool.parallelFor(planes) { task, thread in
            let n = task / g.outChannels
            let c = task % g.outChannels
            let src = x + (n * g.inChannels + c / multiplier) * g.inPlane
            let padded = scratch + thread * planeFloats
            pad(src, into: padded)
            compute(padded, channel: c, out: y + task * g.outPlane)
        }
    }

    @inline(__always)
    func pad(_ src: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let wp = paddedWidth
        for r in 0..<paddedHeight {
            let iy = r - g.padTop
            let row = dst + r * wp
            if iy < 0 || iy >= g.height {
                row.update(repeating: 0, count: wp)
            } else {
                if g.padLeft > 0 { row.update(repeating: 0, count: g.padLeft) }
                let n = Swift.min(g.width, wp - g.padLeft)
                (row + g.padLeft).update(from: src + iy * g.width, count: n)
                let rest = wp - g.padLeft - n
                if rest > 0 { (row + g.padLeft + n).update(repeating: 0, count: rest) }
            }
        }
    }

    @inline(__always)
    func compute(_ padded: UnsafeMutablePointer<Float>, channel c: Int, out: UnsafeMutablePointer<Float>) {
        let w = weights.pointer + c * g.kernelH * g.kernelW
        let b = Vec(repeating: bias.pointer[c])
        let wp = paddedWidth
        let wo = g.outWidth
        let raw = UnsafeRawPointer(padded)
        let act = activation
        if g.kernelH == 3 && g.kernelW == 3 && g.dilationH == 1 && g.dilationW == 1 && (g.strideW == 1 || g.strideW == 2) {
            let w0 = Vec(repeating: w[0]), w1 = Vec(repeating: w[1]), w2 = Vec(repeating: w[2])
            let w3 = Vec(repeating: w[3]), w4 = Vec(repeating: w[4]), w5 = Vec(repeating: w[5])
            let w6 = Vec(repeating: w[6]), w7 = Vec(repeating: w[7]), w8 = Vec(repeating: w[8])
            let sw = g.strideW
            for oy in 0..<g.outHeight {
                let r0 = oy * g.strideH * wp
                let r1 = r0 + wp
                let r2 = r1 + wp
                let dst = out + oy * wo
                var ox = 0
                while ox < wo {
                    var acc = b
                    let col = ox * sw
                    if sw == 1 {
                        @inline(__always) func ld(_ i: Int) -> Vec { raw.loadUnaligned(fromByteOffset: i &* 4, as: Vec.self) }
                        acc += w0 * ld(r0 + col) + w1 * ld(r0 + col + 1) + w2 * ld(r0 + col + 2)
                        acc += w3 * ld(r1 + col) + w4 * ld(r1 + col + 1) + w5 * ld(r1 + col + 2)
                        acc += w6 * ld(r2 + col) + w7 * ld(r2 + col + 1) + w8 * ld(r2 + col + 2)
                    } else {
                        @inline(__always) func ld(_ i: Int) -> Vec { raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self).evenHalf }
                        acc += w0 * ld(r0 + col) + w1 * ld(r0 + col + 1) + w2 * ld(r0 + col + 2)
                        acc += w3 * ld(r1 + col) + w4 * ld(r1 + col + 1) + w5 * ld(r1 + col + 2)
                        acc += w6 * ld(r2 + col) + w7 * ld(r2 + col + 1) + w8 * ld(r2 + col + 2)
                    }
                    storeLanes(acc, dst + ox, Swift.min(8, wo - ox))
                    ox += 8
                }
                Epilogue.apply(dst, wo, bias: 0, act)
            }
            return
        }
        // General kernel size, stride and dilation.
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
            Epilogue.apply(dst, wo, bias: 0, act)
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
