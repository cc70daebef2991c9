import Foundation
import NNGraph

/// Lowers a fused graph to steps: decides which tensors are zero-copy views of others,
/// plans the arena from tensor lifetimes, folds batch norm into the producing conv / gemm,
/// and creates one kernel step per fusion group.
struct ModelCompiler {
    let graph: Graph
    let threads: Int
    /// im2col tile budget per thread (RunnerOptions.im2colTileBytes).
    let im2colTileBytes: Int
    /// 1×1 conv output tile budget (RunnerOptions.pointwiseTileBytes).
    let pointwiseTileBytes: Int
    /// Which hot-kernel implementation the steps use (RunnerOptions.kernels).
    let kernels: KernelISA
    /// Storage root (a materialised tensor) and element offset inside it, per tensor id.
    var root: [Int]
    var aliasOffset: [Int]
    /// Concat groups whose producers write some inputs into the output (`StorageRoots.concatInputs`).
    var concatInputs: [Int: Set<Int>] = [:]
    /// Concat groups read by their one copy (`StorageRoots.concatsReadByCopies`), and the reverse:
    /// copy group → the concat node it reads from and how.
    var concatsReadByCopies: [Int: ConcatReadByCopy] = [:]
    var copyReadsConcat: [Int: (concat: Node, read: ConcatReadByCopy)] = [:]
    /// Arena offset (floats) per root tensor; -1 = not materialised (internal to a fusion group).
    var arenaOffset: [Int]
    var arenaFloats = 0
    var arenaLowerBound = 0
    var unsharedFloats = 0
    let groupOfNode: [Int]

    init(graph: Graph, threads: Int, im2colTileBytes: Int = RunnerOptions.defaultIm2colTileBytes,
         pointwiseTileBytes: Int = RunnerOptions.defaultPointwiseTileBytes,
         kernels: KernelISA = .default, inPlace: Bool = true, concatsInPlace: Bool = true) throws(RunnerError) {
        self.graph = graph
        self.threads = threads
        self.im2colTileBytes = im2colTileBytes
        self.pointwiseTileBytes = pointwiseTileBytes
        self.kernels = kernels
        let t = graph.tensors.count
        root = Array(0..<t)
        aliasOffset = [Int](repeating: 0, count: t)
        arenaOffset = [Int](repeating: -1, count: t)
        var groupOf = [Int](repeating: -1, count: graph.nodes.count)
        for grp in graph.fusionGroups { for n in grp.nodes { groupOf[n] = grp.id } }
        guard !groupOf.contains(-1) else { throw RunnerError(.invalidGraph, "fusion groups do not cover every node") }
        groupOfNode = groupOf
        planStorage(inPlace: inPlace, concatsInPlace: concatsInPlace)
        planArena()
    }

    // MARK: Views and arena

    /// Zero-copy ops (`Graph.zeroCopyOffsets`, shared with the cost model) alias their input (a
    /// split or slice that selects a contiguous block at an offset); with `inPlace`, element-wise
    /// steps write over an input that dies at them (`Graph.inPlaceInputs`, the rule the cost model
    /// prices too), so the step streams one buffer instead of two and the arena shrinks. The kernels
    /// of these steps read element i of a full-shaped operand only to write element i. With
    /// `concatsInPlace`, a concat's producers write into its output's slices.
    mutating func planStorage(inPlace: Bool, concatsInPlace: Bool) {
        let storage = graph.storageRoots(inPlace: inPlace, concatsInPlace: concatsInPlace)
        root = storage.root
        aliasOffset = storage.offset
        concatInputs = storage.concatInputs
        concatsReadByCopies = storage.concatsReadByCopies
        copyReadsConcat = [:]
        for (g, r) in concatsReadByCopies { copyReadsConcat[r.consumerGroup] = (graph.nodes[graph.fusionGroups[g].nodes[0]], r) }
    }

    /// A zero-copy view (no step). By the op's own rule, not by where its output is stored: an
    /// output placed in a concat's slice has another root and still needs its copy.
    func isView(_ node: Node) -> Bool {
        graph.zeroCopyOffsets(node) != nil
    }

    mutating func planArena() {
        let groups = graph.fusionGroups
        let end = groups.count
        var first = [Int](repeating: Int.max, count: graph.tensors.count)
        var last = [Int](repeating: -1, count: graph.tensors.count)
        var materialised = Set<Int>()
        for i in graph.inputs {
            materialised.insert(root[i])
            first[root[i]] = 0
        }
        for grp in groups {
            let tail = graph.nodes[grp.nodes[grp.nodes.count - 1]]
            // A buffer lives from its first writer: with concats in place, each producer writes its slice.
            for o in tail.outputs {
                let r = root[o]
                // A concat read by its copy is never written: no buffer.
                if r == o && concatsReadByCopies[grp.id] == nil { materialised.insert(o) }
                first[r] = Swift.min(first[r], grp.id)
                last[r] = Swift.max(last[r], grp.id)
            }
            for n in grp.nodes {
                for i in graph.nodes[n].inputs { last[root[i]] = Swift.max(last[root[i]], grp.id) }
            }
            // A copy reading a concat's inputs keeps them alive.
            if let (concat, _) = copyReadsConcat[grp.id] {
                for i in concat.inputs { last[root[i]] = Swift.max(last[root[i]], grp.id) }
            }
        }
        // Graph inputs live for the whole run: the timing harness sets them once and executes many
        // times, so every inference must read the caller's values, not a later tensor's leftovers.
        for o in graph.outputs + graph.inputs { last[root[o]] = end }
        let roots = materialised.sorted()
        let requests = roots.map { r in
            MemoryPlanner.Request(size: graph.tensors[r].shape.elementCount, first: first[r] == Int.max ? 0 : first[r],
                                  last: Swift.max(last[r], first[r] == Int.max ? 0 : first[r]))
        }
        let plan = MemoryPlanner.plan(requests)
        for (r, off) in zip(roots, plan.offsets) { arenaOffset[r] = off }
        arenaFloats = plan.total
        arenaLowerBound = plan.lowerBound
        unsharedFloats = requests.reduce(0) { $0 + ($1.size + 15) / 16 * 16 }
    }

    /// A transpose's or channel shuffle's copies (`Graph.copyLayout`): one from its input, or, when it
    /// reads a concat's inputs from their own buffers (`Graph.concatsReadByCopies`), one per input over
    /// its index range of the copy's outermost input axis, into the same places of the output.
    /// nil when the op does not fit its input's shape.
    func permutationCopies(_ node: Node, group: Int, arena: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) -> [StridedCopy]? {
        guard let layout = graph.copyLayout(node) else { return nil }
        let outStrides = contiguousStrides(layout.dims)
        guard let (concat, read) = copyReadsConcat[group] else {
            return [StridedCopy(source: reference(for: node.inputs[0], arena: arena).pointer, destination: y, dims: layout.dims,
                                sourceStrides: layout.sourceStrides, destinationStrides: outStrides)]
        }
        return zip(concat.inputs, read.ranges).map { input, range in
            var dims = layout.dims
            dims[read.axis] = range.count
            return StridedCopy(source: reference(for: input, arena: arena).pointer, destination: y + range.lowerBound * outStrides[read.axis],
                               dims: dims, sourceStrides: layout.sourceStrides, destinationStrides: outStrides)
        }
    }

    func reference(for tensor: Int, arena: UnsafeMutablePointer<Float>) -> TensorRef {
        TensorRef(pointer: arena + arenaOffset[root[tensor]] + aliasOffset[tensor], shape: graph.tensors[tensor].shape)
    }

    // MARK: Lowering

    struct Lowered {
        var steps: [(any Step)?]
        var weightFloats: Int
    }

    func lower(arena: UnsafeMutablePointer<Float>, weights: WeightStore, seed: UInt64) throws(RunnerError) -> Lowered {
        var steps: [(any Step)?] = []
        var weightFloats = 0
        for grp in graph.fusionGroups {
            let members = grp.nodes.map { graph.nodes[$0] }
            let anchor = members[0]
            let tail = members[members.count - 1]
            var bn: Node?
            var activation = FusedActivation.none
            // A residual add fused into a conv or gemm (`FusionRules.canAbsorbResidual`): its shortcut operand.
            var shortcut: Int?
            for (i, m) in members.enumerated().dropFirst() {
                if FusionRules.isLayoutView(m, in: graph) {
                    continue  // a view between a GEMM and its residual add: same memory, nothing to run
                } else if case .batchNorm = m.op {
                    bn = m
                } else if case .binary(.add) = m.op, m.inputs.count == 2 {
                    let previous = members[i - 1].outputs[0]
                    shortcut = m.inputs.first { $0 != previous }
                } else if let a = FusedActivation(m.op) {
                    activation = a
                } else {
                    throw RunnerError(.unsupportedOp, node: m.name, "cannot fuse \(m.op.kindName) into \(anchor.op.kindName)")
                }
            }
            func ref(_ t: Int) -> TensorRef { reference(for: t, arena: arena) }
            func out() -> TensorRef { ref(tail.outputs[0]) }
            func data(_ i: Int) throws(RunnerError) -> [Float] {
                guard i < anchor.params.count else {
                    throw RunnerError(.missingWeight, node: anchor.name, "\(anchor.op.kindName) needs parameter \(i), the node has \(anchor.params.count)")
                }
                let d = try weights.data(for: anchor.params[i], node: anchor.name)
                return d
            }
            func bnScaleShift(_ node: Node, channels: Int) throws(RunnerError) -> ([Float], [Float]) {
                guard case .batchNorm(let eps) = node.op, node.params.count >= 4 else {
                    throw RunnerError(.missingWeight, node: node.name, "batchnorm needs scale, bias, mean and variance")
                }
                let p = try node.params.map { (p: ParamInfo) throws(RunnerError) -> [Float] in try weights.data(for: p, node: node.name) }
                guard p.allSatisfy({ $0.count == channels }) else {
                    throw RunnerError(.missingWeight, node: node.name, "batchnorm parameters must have \(channels) values")
                }
                var scale = [Float](repeating: 0, count: channels), shift = scale
                for c in 0..<channels {
                    let s = Float(Double(p[0][c]) / (Double(p[3][c]) + eps).squareRoot())
                    scale[c] = s
                    shift[c] = p[1][c] - p[2][c] * s
                }
                return (scale, shift)
            }
            func checkInputs(_ n: Int) throws(RunnerError) {
                guard anchor.inputs.count >= n else {
                    throw RunnerError(.invalidGraph, node: anchor.name, "\(anchor.op.kindName) needs \(n) inputs, has \(anchor.inputs.count)")
                }
            }

            if shortcut != nil {
                switch anchor.op {
                case .conv(let a) where !a.isDepthwise: break
                case .gemm: break
                default: throw RunnerError(.unsupportedOp, node: anchor.name, "a residual add fuses only into a dense conv or a gemm")
                }
            }
            let residual = shortcut.map { ref($0).pointer }
            let step: (any Step)?
            switch anchor.op {
            case .conv(let a):
                try checkInputs(1)
                let x = ref(anchor.inputs[0]), y = out()
                var w = try data(0)
                var b = a.hasBias ? try data(1) : [Float](repeating: 0, count: a.outChannels)
                if let bn {
                    let (scale, shift) = try bnScaleShift(bn, channels: a.outChannels)
                    let per = w.count / a.outChannels
                    for o in 0..<a.outChannels {
                        for i in 0..<per { w[o * per + i] *= scale[o] }
                        b[o] = b[o] * scale[o] + shift[o]
                    }
                }
                let geometry = ConvGeometry(a, input: x.shape, output: graph.tensors[anchor.outputs[0]].shape)
                weightFloats += w.count + b.count
                if a.isDepthwise {
                    step = DepthwiseConvolutionStep(geometry: geometry, x: x.pointer, y: y.pointer, weights: w, bias: b,
                                                    activation: activation, threads: threads, kernels: kernels)
                } else if a.isMatrixVector(outputPixels: geometry.outPlane) {  // the cost model's gemm rule
                    // [N, C, 1, 1] is [N, C]: the fully connected step (matrix-vector at batch 1) instead of a
                    // 16-column GEMM tile of which one column is used.
                    step = GemmStep(x: x.pointer, y: y.pointer, rows: geometry.batch, inFeatures: a.inChannels, outFeatures: a.outChannels,
                                    weights: w, bias: b, activation: activation, threads: threads, kernels: kernels, residual: residual)
                } else if a.isWinogradEligible(outputPixels: geometry.outPlane) {  // the cost model's conv_winograd rule
                    step = WinogradConvolutionStep(geometry: geometry, x: x.pointer, y: y.pointer, weights: w, bias: b,
                                                   activation: activation, threads: threads, kernels: kernels, residual: residual)
                } else {
                    step = ConvolutionStep(geometry: geometry, x: x.pointer, y: y.pointer, weights: w, bias: b,
                                           activation: activation, threads: threads, tileBytes: im2colTileBytes,
                                           pointwiseTileBytes: pointwiseTileBytes,
                                           kernels: kernels, residual: residual)
                }
            case .convTranspose(let a):
                try checkInputs(1)
                let x = ref(anchor.inputs[0]), y = out()
                var w = try data(0)
                var b = a.hasBias ? try data(1) : [Float](repeating: 0, count: a.outChannels)
                if let bn {
                    let (scale, shift) = try bnScaleShift(bn, channels: a.outChannels)
                    let coutG = a.outChannels / a.groups, taps = a.kernel[0] * a.kernel[1]
                    let cinG = a.inChannels / a.groups
                    for ci in 0..<a.inChannels {
                        for oc in 0..<coutG {
                            let o = (ci / cinG) * coutG + oc
                            for t in 0..<taps { w[(ci * coutG + oc) * taps + t] *= scale[o] }
                        }
                    }
                    for o in 0..<a.outChannels { b[o] = b[o] * scale[o] + shift[o] }
                }
                weightFloats += w.count + b.count
                let geometry = ConvGeometry(a, input: x.shape, output: graph.tensors[anchor.outputs[0]].shape)
                step = ConvTransposeStep(geometry: geometry, x: x.pointer, y: y.pointer, weights: w, bias: b, activation: activation,
                                         kernels: kernels)
            case .gemm(let a):
                try checkInputs(1)
                let x = ref(anchor.inputs[0]), y = out()
                var w = try data(0)
                var b: [Float]? = a.hasBias ? try data(1) : nil
                if let bn {
                    let (scale, shift) = try bnScaleShift(bn, channels: a.outFeatures)
                    var bb = b ?? [Float](repeating: 0, count: a.outFeatures)
                    for o in 0..<a.outFeatures {
                        for i in 0..<a.inFeatures { w[o * a.inFeatures + i] *= scale[o] }
                        bb[o] = bb[o] * scale[o] + shift[o]
                    }
                    b = bb
                }
                weightFloats += w.count + (b?.count ?? 0)
                step = GemmStep(x: x.pointer, y: y.pointer, rows: x.count / a.inFeatures, inFeatures: a.inFeatures,
                                outFeatures: a.outFeatures, weights: w, bias: b, activation: activation, threads: threads, kernels: kernels,
                                residual: residual)
            case .matmul:
                let a = ref(anchor.inputs[0]), y = out()
                if anchor.inputs.count >= 2 {
                    let b = ref(anchor.inputs[1])
                    step = MatMulStep(a: a.pointer, aShape: a.shape, b: b.pointer, bShape: b.shape, constant: nil, y: y.pointer,
                                      yShape: y.shape, activation: activation, kernels: kernels)
                } else {
                    let c = try data(0)
                    weightFloats += c.count
                    step = MatMulStep(a: a.pointer, aShape: a.shape, b: nil, bShape: anchor.params[0].shape, constant: c, y: y.pointer,
                                      yShape: y.shape, activation: activation, kernels: kernels)
                }
            case .attention(let heads):
                try checkInputs(3)
                let q = ref(anchor.inputs[0]), k = ref(anchor.inputs[1]), v = ref(anchor.inputs[2])
                step = AttentionStep(q: q.pointer, k: k.pointer, v: v.pointer, y: out().pointer, qShape: q.shape, kShape: k.shape,
                                     vShape: v.shape, heads: heads, threads: threads)
            case .sparseAggregate(let nodes, let edges):
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                step = SparseAggregateStep(x: x.pointer, y: out().pointer, adjacency: .synthetic(nodes: nodes, nonZeros: edges, seed: seed),
                                           features: x.shape[1])
            case .batchNorm:
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                guard x.shape.rank >= 2 else { throw RunnerError(.unsupportedOp, node: anchor.name, "batchnorm on rank \(x.shape.rank)") }
                let (scale, shift) = try bnScaleShift(anchor, channels: x.shape[1])
                weightFloats += 2 * scale.count
                step = ChannelAffineStep(x: x.pointer, y: out().pointer, shape: x.shape, scale: scale, shift: shift, activation: activation)
            case .layerNorm(let axis, let eps):
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                guard let ax = x.shape.normalizedAxis(axis) else { throw RunnerError(.invalidGraph, node: anchor.name, "bad axis \(axis)") }
                let scale = try data(0)
                let bias: [Float]? = anchor.params.count > 1 ? try data(1) : nil
                let size = x.shape.dims.suffix(from: ax).reduce(1, *)
                guard scale.count == size, bias.map({ $0.count == size }) ?? true else {
                    throw RunnerError(.unsupportedOp, node: anchor.name, "layernorm scale/bias must cover the normalised axes (\(size) values)")
                }
                weightFloats += scale.count + (bias?.count ?? 0)
                step = LayerNormStep(x: x.pointer, y: out().pointer, shape: x.shape, axis: ax, epsilon: eps, scale: scale, bias: bias)
            case .activation, .clip:
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                guard let a = FusedActivation(anchor.op) else { throw RunnerError(.unsupportedOp, node: anchor.name, "activation") }
                var act = a
                if activation != .none {
                    // activation followed by another activation (rare): run both as one pass over the output.
                    step = ChainedStep([UnaryStep(x: x.pointer, y: out().pointer, count: x.count, kind: .activation(a)),
                                        UnaryStep(x: out().pointer, y: out().pointer, count: x.count, kind: .activation(activation))])
                    act = .none
                } else {
                    step = UnaryStep(x: x.pointer, y: out().pointer, count: x.count, kind: .activation(act))
                }
            case .binary(let op):
                let a = ref(anchor.inputs[0]), y = out()
                if anchor.inputs.count >= 2 {
                    let b = ref(anchor.inputs[1])
                    step = BinaryStep(a: a.pointer, aShape: a.shape, b: b.pointer, bShape: b.shape, constant: nil, y: y.pointer,
                                      yShape: y.shape, op: op, activation: activation)
                } else {
                    let c = try data(0)
                    weightFloats += c.count
                    // Division by a constant multiplies by its reciprocal (≤ 1 ulp apart): a vector divide
                    // has ~10× a multiply's reciprocal throughput, and vit's GELU `x / √2` over 151K
                    // floats was divide-bound (20 µs against 11 µs for the neighbouring multiply).
                    // Not when a reciprocal is not a normal number (a divisor below 2⁻¹²⁸ or above 2¹²⁶).
                    let reciprocal = op == .div && c.allSatisfy { (1 / $0).isNormal }
                    let (constantOp, operand) = reciprocal ? (BinaryOp.mul, c.map { 1 / $0 }) : (op, c)
                    step = BinaryStep(a: a.pointer, aShape: a.shape, b: nil, bShape: anchor.params[0].shape, constant: operand,
                                      y: y.pointer, yShape: y.shape, op: constantOp, activation: activation)
                }
            case .unary(let u):
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                step = UnaryStep(x: x.pointer, y: out().pointer, count: x.count, kind: .unary(u))
            case .maxPool(let a), .avgPool(let a):
                try checkInputs(1)
                let x = ref(anchor.inputs[0]), y = out()
                var isMax = false
                if case .maxPool = anchor.op { isMax = true }
                step = PoolStep(x: x.pointer, y: y.pointer, input: x.shape, output: y.shape, attrs: a, isMax: isMax, threads: threads)
            case .globalAvgPool, .globalMaxPool:
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                var isMax = false
                if case .globalMaxPool = anchor.op { isMax = true }
                step = ReduceStep(x: x.pointer, y: out().pointer, input: x.shape, axes: Set(2..<x.shape.rank), isMax: isMax, kernels: kernels)
            case .reduceMean(let axes, _):
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                let set = axes.isEmpty ? Set(0..<x.shape.rank) : Set(axes.compactMap { x.shape.normalizedAxis($0) })
                step = ReduceStep(x: x.pointer, y: out().pointer, input: x.shape, axes: set, isMax: false, kernels: kernels)
            case .softmax(let axis):
                try checkInputs(1)
                let x = ref(anchor.inputs[0])
                guard let ax = x.shape.normalizedAxis(axis) else { throw RunnerError(.invalidGraph, node: anchor.name, "bad axis \(axis)") }
                step = SoftmaxStep(x: x.pointer, y: out().pointer, shape: x.shape, axis: ax)
            case .concat(let axis):
                try checkInputs(1)
                if concatsReadByCopies[grp.id] != nil { step = nil; break }
                let y = out()
                guard let ax = y.shape.normalizedAxis(axis) else { throw RunnerError(.invalidGraph, node: anchor.name, "bad axis \(axis)") }
                let outStrides = contiguousStrides(y.shape.dims)
                let written = concatInputs[grp.id] ?? []
                var copies: [StridedCopy] = []
                var start = 0
                for (position, t) in anchor.inputs.enumerated() {
                    let x = ref(t)
                    // Inputs whose producers wrote them into their slice already.
                    if !written.contains(position) {
                        copies.append(StridedCopy(source: x.pointer, destination: y.pointer + start * outStrides[ax], dims: x.shape.dims,
                                                  sourceStrides: contiguousStrides(x.shape.dims), destinationStrides: outStrides))
                    }
                    start += x.shape[ax]
                }
                step = copies.isEmpty ? nil : CopyStep("concat", copies: copies, threads: threads)
            case .split(let axis, _):
                try checkInputs(1)
                if isView(anchor) {
                    step = nil
                } else {
                    let x = ref(anchor.inputs[0])
                    guard let ax = x.shape.normalizedAxis(axis) else { throw RunnerError(.invalidGraph, node: anchor.name, "bad axis \(axis)") }
                    let inStrides = contiguousStrides(x.shape.dims)
                    var copies: [StridedCopy] = []
                    var start = 0
                    for o in anchor.outputs {
                        let y = ref(o)
                        copies.append(StridedCopy(source: x.pointer + start * inStrides[ax], destination: y.pointer, dims: y.shape.dims,
                                                  sourceStrides: inStrides, destinationStrides: contiguousStrides(y.shape.dims)))
                        start += y.shape[ax]
                    }
                    step = CopyStep("split", copies: copies, threads: threads)
                }
            case .slice(let starts, _, let axes, let stepsAttr):
                try checkInputs(1)
                if isView(anchor) {
                    step = nil
                } else {
                    let x = ref(anchor.inputs[0]), y = out()
                    let inStrides = contiguousStrides(x.shape.dims)
                    var srcStrides = inStrides
                    var offset = 0
                    for (i, axis) in axes.enumerated() {
                        guard let ax = x.shape.normalizedAxis(axis) else { throw RunnerError(.invalidGraph, node: anchor.name, "bad axis \(axis)") }
                        let dim = x.shape[ax]
                        let st = stepsAttr[i]
                        var s = starts[i] < 0 ? starts[i] + dim : starts[i]
                        s = st > 0 ? Swift.min(Swift.max(s, 0), dim) : Swift.min(Swift.max(s, 0), dim - 1)
                        offset += s * inStrides[ax]
                        srcStrides[ax] = inStrides[ax] * st
                    }
                    step = CopyStep("slice", copies: [StridedCopy(source: x.pointer + offset, destination: y.pointer, dims: y.shape.dims,
                                                                  sourceStrides: srcStrides, destinationStrides: contiguousStrides(y.shape.dims))],
                                    threads: threads)
                }
            case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
                step = nil
            case .transpose, .channelShuffle:
                try checkInputs(1)
                if isView(anchor) { step = nil; break }
                guard let copies = permutationCopies(anchor, group: grp.id, arena: arena, into: out().pointer) else {
                    throw RunnerError(.invalidGraph, node: anchor.name, "bad \(anchor.op.kindName) for input shape \(ref(anchor.inputs[0]).shape)")
                }
                var name = "channel shuffle"
                if case .transpose = anchor.op { name = "transpose" }
                step = CopyStep(name, copies: copies, threads: threads)
            case .pad(let pads):
                try checkInputs(1)
                let x = ref(anchor.inputs[0]), y = out()
                let r = x.shape.rank
                guard pads.allSatisfy({ $0 >= 0 }) else {
                    throw RunnerError(.unsupportedOp, node: anchor.name, "negative pads (cropping) \(pads) are not supported")
                }
                let outStrides = contiguousStrides(y.shape.dims)
                let offset = (0..<r).reduce(0) { $0 + pads[$1] * outStrides[$1] }
                step = CopyStep("pad", copies: [StridedCopy(source: x.pointer, destination: y.pointer + offset, dims: x.shape.dims,
                                                            sourceStrides: contiguousStrides(x.shape.dims), destinationStrides: outStrides)],
                                zeroFill: (y.pointer, y.count), threads: threads)
            case .unsupported(let opType, _):
                throw RunnerError(.unsupportedOp, node: anchor.name, "operator \(opType) has no kernel")
            }
            // Activation passes use the C vector code with the C kernel set (as the fused ones do).
            for part in (step as? ChainedStep)?.parts ?? (step.map { [$0] } ?? []) {
                (part as? EpilogueKernelSet)?.kernels = kernels
            }
            steps.append(step)
        }
        return Lowered(steps: steps, weightFloats: weightFloats)
    }
}

/// Several steps run as one layer (rare chains the fusion rules group together).
final class ChainedStep: Step {
    let parts: [any Step]
    init(_ parts: [any Step]) { self.parts = parts }
    var scratchFloats: Int { parts.map(\.scratchFloats).max() ?? 0 }
    var threadScratchFloats: Int { parts.map(\.threadScratchFloats).max() ?? 0 }
    var algorithm: String { parts.map(\.algorithm).joined(separator: " + ") }
    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        for p in parts { p.run(pool: pool, scratch: scratch) }
    }
}
