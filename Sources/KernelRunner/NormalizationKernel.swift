import Foundation
import NNGraph

/// Softmax along one axis: contiguous rows (last axis) use the vectorised row kernel.
final class SoftmaxStep: Step, EpilogueKernelSet {
    var kernels: KernelISA = .generic
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let outer: Int, length: Int, inner: Int

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, shape: TensorShape, axis: Int) {
        self.x = x
        self.y = y
        outer = shape.dims.prefix(axis).reduce(1, *)
        length = shape[axis]
        inner = shape.dims.suffix(from: axis + 1).reduce(1, *)
    }

    var algorithm: String { inner == 1 ? (kernels == .avx2 && KernelISA.hasAVX512 ? "softmax rows avx512" : "softmax rows") : "softmax strided" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let n = length, inner = inner
        if x != y { y.update(from: x, count: outer * n * inner) }
        if inner == 1 {
            pool.parallelRanges(outer, grain: Swift.max(1, 4096 / Swift.max(1, n))) { r, _ in
                softmaxRows(y + r.lowerBound * n, rows: r.count, n: n, kernels: kernels)
            }
            return
        }
        pool.parallelRanges(outer * inner, grain: 64) { r, _ in
            for t in r {
                let base = y + (t / inner) * n * inner + t % inner
                var m = -Float.infinity
                for i in 0..<n { m = Swift.max(m, base[i * inner]) }
                var s: Float = 0
                for i in 0..<n { let e = expf(base[i * inner] - m); base[i * inner] = e; s += e }
                for i in 0..<n { base[i * inner] /= s }
            }
        }
    }
}

/// Layer normalisation over the trailing `size` elements of each row (two-pass mean/variance).
final class LayerNormStep: Step {
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let rows: Int, size: Int
    let epsilon: Float
    let scale: AlignedBuffer
    let bias: AlignedBuffer?

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, shape: TensorShape, axis: Int, epsilon: Double,
         scale: [Float], bias: [Float]?) {
        self.x = x
        self.y = y
        size = shape.dims.suffix(from: axis).reduce(1, *)
        rows = shape.elementCount / Swift.max(1, size)
        self.epsilon = Float(epsilon)
        self.scale = AlignedBuffer(scale)
        self.bias = bias.map { AlignedBuffer($0) }
    }

    var algorithm: String { "layernorm" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let d = size
        pool.parallelRanges(rows, grain: Swift.max(1, 4096 / Swift.max(1, d))) { r, _ in
            for row in r {
                let src = x + row * d, dst = y + row * d
                var s: Float = 0
                for i in 0..<d { s += src[i] }
                let mean = s / Float(d)
                var v: Float = 0
                for i in 0..<d { let t = src[i] - mean; v += t * t }
                let inv = 1 / (v / Float(d) + epsilon).squareRoot()
                let g = scale.pointer
                if let b = bias?.pointer {
                    for i in 0..<d { dst[i] = (src[i] - mean) * inv * g[i] + b[i] }
                } else {
                    for i in 0..<d { dst[i] = (src[i] - mean) * inv * g[i] }
                }
            }
        }
    }
}
