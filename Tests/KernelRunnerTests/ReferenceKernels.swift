import Foundation
import KernelRunner
import NNGraph

/// Naive, obviously-correct kernels (Double accumulation) the fast ones are checked against.
enum Reference {
    static func conv(_ x: [Float], _ xs: TensorShape, _ w: [Float], _ b: [Float]?, _ a: ConvAttributes, out ys: TensorShape) -> [Float] {
        let (n, cin, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (cout, ho, wo) = (ys[1], ys[2], ys[3])
        let cinG = cin / a.groups, coutG = cout / a.groups
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        var y = [Float](repeating: 0, count: ys.elementCount)
        for b0 in 0..<n {
            for o in 0..<cout {
                let grp = o / coutG
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var acc = Double(b?[o] ?? 0)
                        for ci in 0..<cinG {
                            let c = grp * cinG + ci
                            for ky in 0..<kh {
                                let iy = oy * a.strides[0] - a.pads[0] + ky * a.dilations[0]
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<kw {
                                    let ix = ox * a.strides[1] - a.pads[1] + kx * a.dilations[1]
                                    if ix < 0 || ix >= wd { continue }
                                    acc += Double(x[((b0 * cin + c) * h + iy) * wd + ix]) * Double(w[((o * cinG + ci) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        y[((b0 * cout + o) * ho + oy) * wo + ox] = Float(acc)
                    }
                }
            }
        }
        return y
    }

    static func convTranspose(_ x: [Float], _ xs: TensorShape, _ w: [Float], _ b: [Float]?, _ a: ConvAttributes, out ys: TensorShape) -> [Float] {
        let (n, cin, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (cout, ho, wo) = (ys[1], ys[2], ys[3])
        let cinG = cin / a.groups, coutG = cout / a.groups
        let (kh, kw) = (a.kernel[0], a.kernel[1])
        var y = [Double](repeating: 0, count: ys.elementCount)
        for b0 in 0..<n {
            for ci in 0..<cin {
                let grp = ci / cinG
                for oc in 0..<coutG {
                    let o = grp * coutG + oc
                    for iy in 0..<h {
                        for ix in 0..<wd {
                            let v = Double(x[((b0 * cin + ci) * h + iy) * wd + ix])
                            for ky in 0..<kh {
                                let oy = iy * a.strides[0] - a.pads[0] + ky * a.dilations[0]
                                if oy < 0 || oy >= ho { continue }
                                for kx in 0..<kw {
                                    let ox = ix * a.strides[1] - a.pads[1] + kx * a.dilations[1]
                                    if ox < 0 || ox >= wo { continue }
                                    y[((b0 * cout + o) * ho + oy) * wo + ox] += v * Double(w[((ci * coutG + oc) * kh + ky) * kw + kx])
                                }
                            }
                        }
                    }
                }
            }
            for o in 0..<cout { for p in 0..<(ho * wo) { y[(b0 * cout + o) * ho * wo + p] += Double(b?[o] ?? 0) } }
        }
        return y.map(Float.init)
    }

    static func batchNorm(_ x: [Float], channels: Int, inner: Int, _ p: [[Float]], eps: Double) -> [Float] {
        x.indices.map { i in
            let c = (i / inner) % channels
            return Float((Double(x[i]) - Double(p[2][c])) / (Double(p[3][c]) + eps).squareRoot() * Double(p[0][c]) + Double(p[1][c]))
        }
    }

    static func activation(_ v: Float, _ a: Activation) -> Float {
        let x = Double(v)
        let r: Double
        switch a {
        case .relu: r = Swift.max(x, 0)
        case .relu6: r = Swift.min(Swift.max(x, 0), 6)
        case .hardsigmoid: r = Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .hardswish: r = x * Swift.min(Swift.max(x / 6 + 0.5, 0), 1)
        case .sigmoid: r = 1 / (1 + Foundation.exp(-x))
        case .silu: r = x / (1 + Foundation.exp(-x))
        case .gelu: r = 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .tanh: r = Foundation.tanh(x)
        }
        return Float(r)
    }

    /// NumPy broadcasting of two operands.
    static func binary(_ a: [Float], _ ash: [Int], _ b: [Float], _ bsh: [Int], out: [Int], _ f: (Double, Double) -> Double) -> [Float] {
        let r = out.count
        let aa = [Int](repeating: 1, count: r - ash.count) + ash
        let bb = [Int](repeating: 1, count: r - bsh.count) + bsh
        let total = out.reduce(1, *)
        return (0..<total).map { flat in
            var rem = flat
            var ia = 0, ib = 0, sa = 1, sb = 1
            for axis in stride(from: r - 1, through: 0, by: -1) {
                let idx = rem % out[axis]
                rem /= out[axis]
                if aa[axis] != 1 { ia += idx * sa }
                if bb[axis] != 1 { ib += idx * sb }
                sa *= aa[axis]
                sb *= bb[axis]
            }
            return Float(f(Double(a[ia]), Double(b[ib])))
        }
    }

    static func matmul(_ a: [Float], _ ash: [Int], _ b: [Float], _ bsh: [Int], out: [Int]) -> [Float] {
        let m = ash[ash.count - 2], k = ash[ash.count - 1], n = bsh[bsh.count - 1]
        let batch = Array(out.dropLast(2))
        let r = batch.count
        let ab = [Int](repeating: 1, count: r - (ash.count - 2)) + ash.dropLast(2)
        let bb = [Int](repeating: 1, count: r - (bsh.count - 2)) + bsh.dropLast(2)
        var y: [Float] = []
        for flat in 0..<batch.reduce(1, *) {
            var rem = flat, ia = 0, ib = 0, sa = 1, sb = 1
            for axis in stride(from: r - 1, through: 0, by: -1) {
                let idx = rem % batch[axis]
                rem /= batch[axis]
                if ab[axis] != 1 { ia += idx * sa }
                if bb[axis] != 1 { ib += idx * sb }
                sa *= ab[axis]
                sb *= bb[axis]
            }
            for i in 0..<m {
                for j in 0..<n {
                    var acc = 0.0
                    for t in 0..<k { acc += Double(a[ia * m * k + i * k + t]) * Double(b[ib * k * n + t * n + j]) }
                    y.append(Float(acc))
                }
            }
        }
        return y
    }

    static func pool(_ x: [Float], _ xs: TensorShape, _ a: PoolAttributes, out ys: TensorShape, max isMax: Bool) -> [Float] {
        let (h, w, ho, wo) = (xs[2], xs[3], ys[2], ys[3])
        var y: [Float] = []
        for plane in 0..<(xs[0] * xs[1]) {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var m = -Double.infinity, s = 0.0, count = 0, padded = 0
                    for ky in 0..<a.kernel[0] {
                        for kx in 0..<a.kernel[1] {
                            let iy = oy * a.strides[0] - a.pads[0] + ky, ix = ox * a.strides[1] - a.pads[1] + kx
                            if iy < h + a.pads[2] && ix < w + a.pads[3] { padded += 1 }
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            let v = Double(x[plane * h * w + iy * w + ix])
                            m = Swift.max(m, v)
                            s += v
                            count += 1
                        }
                    }
                    y.append(Float(isMax ? m : s / Double(a.countIncludePad ? padded : count)))
                }
            }
        }
        return y
    }
}
