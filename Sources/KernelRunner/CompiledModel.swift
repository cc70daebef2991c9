import Foundation
import NNGraph

/// A graph lowered for this CPU: weights folded and packed, every activation placed in one
/// arena, one step per fusion group (the cost model's layers), and a worker pool. Build
/// once, run many times; nothing is allocated per run except the returned output arrays.
///
/// Layout: NCHW float32 throughout (see README "Measuring on this CPU" for why).
/// Creating a model pins OpenBLAS to one thread: parallelism comes from this model's pool
/// (`threads`), which splits each GEMM itself, so OpenBLAS and the pool never oversubscribe.
public final class CompiledModel {
    public let graph: Graph
    public let threads: Int
    /// Per fusion group, in execution order.
    public let layers: [LayerPlan]
    public let memory: MemoryReport
    public let options: RunnerOptions

    let pool: WorkerPool
    let arena: AlignedBuffer
    let scratch: AlignedBuffer
    let steps: [(any Step)?]
    let inputs: [TensorRef]
    let outputs: [TensorRef]
    /// Per step, the materialised tensors it writes (rounded after the step when activations are stored in fp16).
    let stepOutputs: [[TensorRef]]

    public struct LayerPlan: Sendable, Hashable {
        public var index: Int
        /// First node of the fusion group.
        public var name: String
        /// Fusion kind, e.g. "conv-bn-relu6".
        public var kind: String
        /// Algorithm the runner picked ("sgemm 1x1", "dw3x3/s1 simd", "view" for zero-copy ops).
        public var algorithm: String
        public var nodes: [String]
    }

    public struct MemoryReport: Sendable, Hashable {
        /// Activation arena (all intermediate tensors, graph inputs and outputs), bytes.
        public var arenaBytes: Int
        /// Largest sum of simultaneously live activation buffers: the best any arena plan can do.
        public var arenaLowerBoundBytes: Int
        /// Sum of all activation buffers without reuse.
        public var unsharedBytes: Int
        /// Kernel scratch (im2col tiles, padded planes, attention scores): the buffer the threads share
        /// plus each thread's own (`WorkerPool.threadScratch`), each as large as the largest step needs.
        public var scratchBytes: Int
        /// Weights as packed for the kernels (after BN folding).
        public var packedWeightBytes: Int
    }

    public convenience init(graph: Graph, weights: WeightStore, threads: Int? = nil, seed: UInt64 = 0) throws(RunnerError) {
        try self.init(graph: graph, weights: weights, options: RunnerOptions(threads: threads), seed: seed)
    }

    public init(graph: Graph, weights: WeightStore, options: RunnerOptions, seed: UInt64 = 0) throws(RunnerError) {
        var g = graph
        if g.fusionGroups.isEmpty { g.fuse() }
        self.graph = g
        let n = Swift.max(1, options.threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.threads = n
        var resolved = options
        resolved.threads = n
        self.options = resolved
        BLASThreads.set(1)
        pool = WorkerPool(threads: n)
        let compiler = try ModelCompiler(graph: g, threads: n, im2colTileBytes: options.im2colTileBytes, pointwiseTileBytes: options.pointwiseTileBytes, kernels: options.kernels,
                                         inPlace: options.inPlace, concatsInPlace: options.concatsInPlace)
        let arenaBuffer = AlignedBuffer(count: compiler.arenaFloats)
        arena = arenaBuffer
        let lowered = try compiler.lower(arena: arenaBuffer.pointer, weights: weights, seed: seed)
        steps = lowered.steps
        let maxScratch = lowered.steps.compactMap { $0?.scratchFloats }.max() ?? 0
        scratch = AlignedBuffer(count: maxScratch)
        // Each thread's private scratch (`WorkerPool.threadScratch`), as large as the largest step needs.
        let threadScratch = lowered.steps.compactMap { $0?.threadScratchFloats }.max() ?? 0
        pool.reserveThreadScratch(floats: threadScratch)
        inputs = g.inputs.map { compiler.reference(for: $0, arena: arenaBuffer.pointer) }
        outputs = g.outputs.map { compiler.reference(for: $0, arena: arenaBuffer.pointer) }
        stepOutputs = g.fusionGroups.enumerated().map { i, group in
            guard lowered.steps[i] != nil, options.activationStorage == .fp16 else { return [] }
            return g.nodes[group.nodes[group.nodes.count - 1]].outputs.map { compiler.reference(for: $0, arena: arenaBuffer.pointer) }
        }
        layers = g.fusionGroups.enumerated().map { i, group in
            LayerPlan(index: i, name: g.nodes[group.nodes[0]].name, kind: group.kind,
                      algorithm: lowered.steps[i]?.algorithm ?? "view", nodes: group.nodes.map { g.nodes[$0].name })
        }
        memory = MemoryReport(arenaBytes: compiler.arenaFloats * 4, arenaLowerBoundBytes: compiler.arenaLowerBound * 4,
                              unsharedBytes: compiler.unsharedFloats * 4, scratchBytes: (maxScratch + n * threadScratch) * 4,
                              packedWeightBytes: lowered.weightFloats * 4)
    }

    /// Graph input shapes, in `graph.inputs` order.
    public var inputShapes: [TensorShape] { inputs.map(\.shape) }
    public var outputShapes: [TensorShape] { outputs.map(\.shape) }

    /// One inference: copies `inputs` in, runs every step, copies the outputs out.
    public func run(_ values: [HostTensor]) throws(RunnerError) -> [HostTensor] {
        try setInputs(values)
        execute()
        return readOutputs()
    }

    public func setInputs(_ values: [HostTensor]) throws(RunnerError) {
        guard values.count == inputs.count else {
            throw RunnerError(.badInput, "the model has \(inputs.count) input(s), got \(values.count)")
        }
        for (i, (ref, v)) in zip(inputs, values).enumerated() {
            guard v.shape.elementCount == ref.count, v.shape == ref.shape || v.shape.elementCount == ref.count else {
                throw RunnerError(.badInput, "input \(i) ('\(graph.tensors[graph.inputs[i]].name)') must have shape \(ref.shape), got \(v.shape)")
            }
            v.values.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { ref.pointer.update(from: base, count: ref.count) }
            }
        }
    }

    /// Runs every step once (inputs must already be set).
    public func execute() {
        let s = scratch.pointer
        if options.activationStorage == .fp16 {
            for (step, outs) in zip(steps, stepOutputs) {
                step?.run(pool: pool, scratch: s)
                for o in outs { roundToFP16(o.pointer, count: o.count) }
            }
            return
        }
        for step in steps { step?.run(pool: pool, scratch: s) }
    }

    /// Runs every step once and adds each step's wall time (ns) to `nanoseconds[i]`. Simulated
    /// fp16 rounding (if enabled) happens between the clocks, outside every step's time.
    public func executeTimed(into nanoseconds: inout [UInt64]) {
        let s = scratch.pointer
        let rounding = options.activationStorage == .fp16
        var t0 = monotonicNanoseconds()
        for (i, step) in steps.enumerated() {
            step?.run(pool: pool, scratch: s)
            let t1 = monotonicNanoseconds()
            nanoseconds[i] = t1 &- t0
            if rounding {
                for o in stepOutputs[i] { roundToFP16(o.pointer, count: o.count) }
                t0 = monotonicNanoseconds()
            } else {
                t0 = t1
            }
        }
    }

    public func readOutputs() -> [HostTensor] {
        outputs.map { ref in HostTensor(shape: ref.shape, values: Array(UnsafeBufferPointer(start: ref.pointer, count: ref.count))) }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
