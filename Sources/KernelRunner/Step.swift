import CKernels
import NNGraph

/// One executable kernel instance with every pointer resolved at compile time. A step runs
/// one fusion group (e.g. conv + folded BN + ReLU6) and touches only the arena, its own
/// packed weights, the shared scratch buffer and each thread's own scratch (reserved when the
/// model is compiled): nothing is allocated while a model runs.
protocol Step: AnyObject {
    /// Floats of scratch space shared by the threads (the `scratch` argument of `run`; one buffer
    /// for every step of a model).
    var scratchFloats: Int { get }
    /// Floats of scratch each thread needs for itself (`WorkerPool.threadScratch`).
    var threadScratchFloats: Int { get }
    /// Short description of the algorithm chosen, for reports ("sgemm 1x1", "im2col+sgemm", "dw3x3 simd").
    var algorithm: String { get }
    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>)
}

extension Step {
    var threadScratchFloats: Int { 0 }
}

/// 64-byte aligned float storage owned by a step (packed weights, biases, CSR values).
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = allocateFloats(Swift.max(count, 1) + 16)
        pointer.initialize(repeating: 0, count: Swift.max(count, 1) + 16)
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { ck_free(pointer) }

    var bytes: Int { count * 4 }
}

/// 64-byte aligned storage for `count` floats (uninitialised; free with `ck_free`). Blocks of at
/// least 2 MiB (the arena, large weight matrices, packed GEMM weights) ask for transparent huge
/// pages; the tail beyond the last whole 2 MiB stays on 4 KiB pages. Interleaved `measure` runs of
/// mobilenet_v2 at 1 thread (4 pairs, p50): 1.1% faster than without (2 threads: within the VM's noise).
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    guard let raw = ck_alloc(count * 4, 1) else { fatalError("out of memory: \(count * 4) bytes") }
    return raw.bindMemory(to: Float.self, capacity: count)
}

/// Where a tensor lives: a pointer into the arena plus its shape.
struct TensorRef {
    var pointer: UnsafeMutablePointer<Float>
    var shape: TensorShape
    var count: Int { shape.elementCount }
}

/// Row-major strides of `dims`.
func contiguousStrides(_ dims: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: dims.count)
    var s = 1
    for i in stride(from: dims.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= dims[i]
    }
    return strides
}
