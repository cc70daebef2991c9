extension Graph {
    /// Element offsets of each output inside the node's first input when the node is a zero-copy
    /// view of it, else nil. Reshape-like ops alias their input at offset 0; a split or a unit-step
    /// single-axis slice selects one contiguous block when every dim before the axis is 1 (e.g. a
    /// channel split at batch 1), so each output aliases the input at an offset. A transpose that only
    /// moves size-1 axes (the other axes keep their order: ONNX exports of attention swap the batch
    /// axis of [1, 197, 192]) leaves every element where it was, so it aliases its input too. This is the rule
    /// the kernel runner uses to skip the copy and the cost model uses to charge nothing.
    public func zeroCopyOffsets(_ node: Node) -> [Int]? {
        guard let src = node.inputs.first else { return nil }
        switch node.op {
        case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
            return node.outputs.map { _ in 0 }
        case .split(let axis, let sizes):
            let shape = tensors[src].shape
            guard let ax = shape.normalizedAxis(axis), shape.dims.prefix(ax).allSatisfy({ $0 == 1 }),
                  sizes.count == node.outputs.count else { return nil }
            let inner = shape.dims.suffix(from: ax + 1).reduce(1, *)
            var start = 0
            var offsets: [Int] = []
            for s in sizes {
                offsets.append(start * inner)
                start += s
            }
            return offsets
        case .transpose(let perm):
            let shape = tensors[src].shape
            guard perm.count == shape.rank, node.outputs.count == 1 else { return nil }
            let moved = perm.filter { $0 >= 0 && $0 < shape.rank && shape[$0] != 1 }
            return moved == moved.sorted() ? [0] : nil
        case .slice(let starts, _, let axes, let steps):
            let shape = tensors[src].shape
            guard axes.count == 1, steps.count == 1, steps[0] == 1, starts.count == 1, let ax = shape.normalizedAxis(axes[0]),
                  shape.dims.prefix(ax).allSatisfy({ $0 == 1 }), node.outputs.count == 1 else { return nil }
            let dim = shape[ax]
            let s = Swift.min(Swift.max(starts[0] < 0 ? starts[0] + dim : starts[0], 0), dim)
            return [s * shape.dims.suffix(from: ax + 1).reduce(1, *)]
        default:
            return nil
        }
    }

    /// True when the node moves no data (see `zeroCopyOffsets`). With `splitsAreViews: false`
    /// (`ExecutionStyle`) only reshape-like ops are views; splits and slices copy.
    public func isZeroCopyView(_ node: Node, splitsAreViews: Bool = true) -> Bool {
        if !splitsAreViews, node.op.opClass != .view { return false }
        return zeroCopyOffsets(node) != nil
    }
}

extension ConvAttributes {
    /// Dense 3×3 stride-1 undilated convolution with ≥ 49 output pixels (7×7 maps: 16 tiles) and ≥ 8 input and
    /// output channels: the shapes edgeprof's runner executes as Winograd F(2×2, 3×3)
    /// (`KernelRunner`'s compiler picks Winograd by this rule, so model and runner agree).
    public func isWinogradEligible(outputPixels: Int) -> Bool {
        kernel == [3, 3] && strides == [1, 1] && dilations == [1, 1] && groups == 1
            && outputPixels >= 49 && inChannels >= 8 && outChannels >= 8
    }

    /// Additions of the Winograd F(2×2, 3×3) transforms for an output of `batch` × `outH` × `outW`
    /// (⌈outH/2⌉·⌈outW/2⌉ tiles per image): the input transform Bᵀ·d·B takes 32 additions per
    /// 4×4 tile and input channel, the output transform Aᵀ·m·A 24 per tile and output channel.
    /// Not part of the counted FLOPs (which count the direct convolution); the cost model charges
    /// them as elementwise work on top of the conv_winograd part.
    public func winogradTransformFlops(batch: Int, outH: Int, outW: Int) -> Int {
        let tiles = batch * ((outH + 1) / 2) * ((outW + 1) / 2)
        return tiles * (32 * inChannels + 24 * outChannels)
    }

    /// A stem convolution (`OpClass.convStem`): dense 3×3, stride 2, no dilation, ≤ 4 input
    /// channels — the shape of the runner's direct stem kernel (`ck_conv_stem_direct`).
    public var isStem: Bool {
        inChannels <= 4 && kernel == [3, 3] && strides == [2, 2] && dilations == [1, 1] && groups == 1
    }

    /// 1×1, stride 1, no padding: a GEMM (per group) straight on the input.
    public var isPointwise: Bool {
        kernel == [1, 1] && strides == [1, 1] && pads.allSatisfy { $0 == 0 }
    }

    /// A dense 1×1 conv on a 1×1 map (a squeeze-excitation fc): a matrix-vector product per image,
    /// which streams its weights once like a classifier. The runner runs it as a fully connected
    /// layer (sgemv) and the cost model prices it as `gemm`.
    public func isMatrixVector(outputPixels: Int) -> Bool {
        isPointwise && groups == 1 && outputPixels == 1
    }
}

extension Graph {
    /// The class whose efficiency a device file applies to `node`: `Op.opClass`, refined for dense
    /// convolutions and GEMMs into `conv_1x1`, `conv_winograd`, `conv_stem`, `conv_kxk` and `gemm`, strided
    /// depthwise convolutions into `depthwise_s2`, for
    /// exp/tanh-based activations and unary ops into `transcendental` (GELU and Erf into `erf`), and for transposes that
    /// move the innermost axis into `permute` (element gathers; row-preserving transposes and channel
    /// shuffles copy whole rows and stay `data_movement`).
    public func efficiencyClass(_ node: Node) -> OpClass {
        switch node.op {
        case .conv(let a) where !a.isDepthwise:
            let pixels = node.outputs.first.map { tensors[$0].shape.dims.suffix(2).reduce(1, *) } ?? 0
            if a.isMatrixVector(outputPixels: pixels) { return .gemm }
            if a.isPointwise { return .conv1x1 }
            if a.isStem { return .convStem }
            return a.isWinogradEligible(outputPixels: pixels) ? .convWinograd : .convKxK
        case .conv(let a) where a.isDepthwise && a.strides.contains { $0 > 1 }:
            return .depthwiseS2
        case .gemm, .matmul, .convTranspose:
            return .gemm
        case .activation(.gelu), .unary(.erf):
            return .erf
        case .activation(let a) where [.sigmoid, .silu, .tanh].contains(a):
            return .transcendental
        case .unary(let u) where [.exp, .log].contains(u):
            return .transcendental
        case .softmax:
            return .softmax
        case .transpose(let perm):
            // A transpose that keeps the innermost (non-unit) axis innermost copies contiguous rows
            // (attention's [197, 3, 64] → [3, 197, 64]) like a concat; one that moves it gathers
            // single elements (K → Kᵀ, [192, 196] → [196, 192]) and is a `permute`.
            guard let src = node.inputs.first else { return .permute }
            let shape = tensors[src].shape
            let inner = (0..<shape.rank).last { shape[$0] != 1 }
            let outInner = perm.last { $0 >= 0 && $0 < shape.rank && shape[$0] != 1 }
            return inner == outInner ? .dataMovement : .permute
        case .channelShuffle:
            // [N, g, C/g, H·W] → [N, C/g, g, H·W]: whole channel planes move, a row copy.
            return .dataMovement
        default:
            return node.op.opClass
        }
    }
}

extension Graph {
    /// What a kernel anchored on `node` pays its class's `channel_overhead` per: a binary
    /// elementwise op's contiguous rows (`TensorShape.broadcastRows`, 1 for same-shape and scalar
    /// operands: one flat stream), 1 for the other elementwise maps (one flat stream), a depthwise
    /// conv's output rows (batch × channels × output height: its kernels run row by row, and a short
    /// row pays the same loop setup, masked tail and per-row stores as a long one — measured per
    /// output, a 7×7 map costs 2.5–3× a 112×112 one), a copy's contiguous runs (a transpose's runs of
    /// the inner axes it keeps, 0 for a gather; a concat's blocks; a pad's rows), otherwise the output's
    /// channel planes (batch × channels of a 4-D output: a global pool's one reduction per channel, a
    /// channel shuffle's planes).
    public func channelOverheadUnits(_ node: Node) -> Int {
        guard let out = node.outputs.first else { return 0 }
        let shape = tensors[out].shape
        switch node.op {
        case .binary:
            return TensorShape.broadcastRows(output: shape, operands: node.inputs.map { tensors[$0].shape } + node.params.map(\.shape))
        case .activation, .clip, .unary:
            return 1
        case .conv(let a) where a.isDepthwise && shape.rank == 4:
            return shape.channelPlanes * shape[2]
        case .transpose(let perm):
            return node.inputs.first.map { Self.contiguousRuns(input: tensors[$0].shape, perm: perm) } ?? 0
        case .concat(let axis):
            // Each input is copied as (dims before the axis) contiguous blocks.
            return node.inputs.reduce(0) { acc, t in
                let d = tensors[t].shape
                let a = axis < 0 ? axis + d.rank : axis
                return acc + d.dims.prefix(Swift.max(0, Swift.min(a, d.rank))).reduce(1, *)
            }
        case .pad:
            // Row by row into the padded output.
            return shape.dims.dropLast().reduce(1, *)
        default:
            return shape.channelPlanes
        }
    }

    /// The contiguous runs a transpose copies: its elements over the length of the innermost input axes
    /// it keeps innermost and in order (size-1 axes ignored): attention's [197, 3, 64] → [3, 197, 64]
    /// moves 591 runs of 64. 0 for a gather (the innermost axis moves: `permute`, priced by its share).
    public static func contiguousRuns(input: TensorShape, perm: [Int]) -> Int {
        guard perm.count == input.rank, input.elementCount > 0 else { return 0 }
        let kept = (0..<input.rank).filter { input[$0] != 1 }
        let order = perm.filter { $0 >= 0 && $0 < input.rank && input[$0] != 1 }
        var run = 1
        for (a, b) in zip(kept.reversed(), order.reversed()) {
            guard a == b else { break }
            run *= input[a]
        }
        return run > 1 ? input.elementCount / run : 0
    }
}

extension Graph {
    /// Where every tensor's bytes live: its storage root and element offset, when the zero-copy views
    /// (`zeroCopyOffsets`) alias their inputs and, with `inPlace`, element-wise groups write over a
    /// dying input (`inPlaceInputs`). The runner plans its arena from these roots.
    public func storageRoots(inPlace: Bool, concatsInPlace: Bool = false) -> StorageRoots {
        var root = Array(tensors.indices), offset = [Int](repeating: 0, count: tensors.count)
        for node in nodes {
            guard let src = node.inputs.first, let offsets = zeroCopyOffsets(node) else { continue }
            for (o, off) in zip(node.outputs, offsets) {
                root[o] = root[src]
                offset[o] = offset[src] + off
            }
        }
        var produced = Set<Int>()
        for grp in fusionGroups {
            for o in nodes[grp.nodes[grp.nodes.count - 1]].outputs where root[o] == o { produced.insert(o) }
        }
        let graphInputs = Set(inputs.map { root[$0] })
        let graphOutputs = Set(outputs.map { root[$0] })
        // Concats whose producers write straight into the output (TensorRT's concat elision): an
        // input qualifies when it is a whole buffer a kernel produced (not a graph input or output,
        // not a view at an offset) and no earlier concat took it; everything stored in that buffer
        // moves to its slice of the concat output. Before the in-place pass, so that pass sees the
        // merged lifetimes and never writes over a slice another reader still needs.
        var concatInputs: [Int: Set<Int>] = [:]
        let readByCopies = concatsInPlace ? concatsReadByCopies() : [:]
        if concatsInPlace {
            for grp in fusionGroups where grp.nodes.count == 1 && readByCopies[grp.id] == nil {
                let node = nodes[grp.nodes[0]]
                guard case .concat(let axis) = node.op, node.outputs.count == 1, let c = node.outputs.first, root[c] == c else { continue }
                let shape = tensors[c].shape
                guard let ax = shape.normalizedAxis(axis), shape.dims.prefix(ax).allSatisfy({ $0 == 1 }) else { continue }
                let inner = shape.dims.suffix(from: ax + 1).reduce(1, *)
                var start = 0
                for (position, x) in node.inputs.enumerated() {
                    defer { start += tensors[x].shape.rank > ax ? tensors[x].shape[ax] : 0 }
                    let r = root[x]
                    guard r != c, offset[x] == 0, produced.contains(r), !graphInputs.contains(r), !graphOutputs.contains(r),
                          tensors[r].shape.elementCount == tensors[x].shape.elementCount else { continue }
                    let at = start * inner
                    for t in root.indices where root[t] == r {
                        root[t] = c
                        offset[t] += at
                    }
                    produced.remove(r)
                    concatInputs[grp.id, default: []].insert(position)
                }
            }
        }
        guard inPlace else {
            return StorageRoots(root: root, offset: offset, inPlaceInputs: [:], concatInputs: concatInputs, concatsReadByCopies: readByCopies)
        }
        var last = [Int](repeating: -1, count: tensors.count)
        for grp in fusionGroups {
            for n in grp.nodes { for i in nodes[n].inputs { last[root[i]] = Swift.max(last[root[i]], grp.id) } }
        }
        // A concat read by its copy: the copy reads the concat's inputs.
        for (g, r) in readByCopies {
            for i in nodes[fusionGroups[g].nodes[0]].inputs { last[root[i]] = Swift.max(last[root[i]], r.consumerGroup) }
        }
        for o in outputs { last[root[o]] = fusionGroups.count }
        var shared: [Int: Int] = [:]
        for grp in fusionGroups {
            let anchor = nodes[grp.nodes[0]]
            switch anchor.op {
            case .binary, .activation, .clip, .unary: break
            default: continue
            }
            let tail = nodes[grp.nodes[grp.nodes.count - 1]]
            guard tail.outputs.count == 1, let o = tail.outputs.first, root[o] == o else { continue }
            let size = tensors[o].shape.elementCount
            guard let i = anchor.inputs.first(where: { i in
                let r = root[i]
                return r != o && offset[i] == 0 && produced.contains(r) && !graphInputs.contains(r) && last[r] == grp.id
                    && tensors[i].shape.elementCount == size && tensors[r].shape.elementCount == size
            }) else { continue }
            shared[grp.id] = i
            let r = root[i]
            for t in root.indices where root[t] == o { root[t] = r }
            last[r] = last[o]
        }
        return StorageRoots(root: root, offset: offset, inPlaceInputs: shared, concatInputs: concatInputs, concatsReadByCopies: readByCopies)
    }

    /// Fusion groups whose element-wise kernel writes over one of its inputs, with that input
    /// (group id → input tensor id): the runner's in-place steps, which the cost model prices
    /// without a write-allocate read (ONNX Runtime's planner and ncnn's in-place layers do the same).
    /// Eligible: a group anchored on a binary op, an activation or a unary op, whose output has as
    /// many elements as the input; the input a whole buffer a kernel produced (not a graph input
    /// or output, not a view at an offset), read by no later group. Outputs that take an input's
    /// storage pass it on, so a chain (scale → activation → add) can run in one buffer.
    /// Needs `fusionGroups`.
    public func inPlaceInputs() -> [Int: Int] { storageRoots(inPlace: true).inPlaceInputs }
}

/// Where a graph's tensors are stored (`Graph.storageRoots`).
public struct StorageRoots: Sendable {
    /// Per tensor: the materialised tensor whose buffer holds it.
    public var root: [Int]
    /// Per tensor: its element offset inside that buffer.
    public var offset: [Int]
    /// Element-wise groups that write over an input (group id → input tensor).
    public var inPlaceInputs: [Int: Int]
    /// Concat groups whose producers write some inputs straight into the output (group id →
    /// positions of those inputs); the group copies only the others, and is a view when none are left.
    public var concatInputs: [Int: Set<Int>]
    /// Concat groups that run no kernel because their one reader, a copy, reads their inputs
    /// (`Graph.concatsReadByCopies`; with `concatsInPlace`).
    public var concatsReadByCopies: [Int: ConcatReadByCopy] = [:]
}

/// A copy kernel's iteration space over its input (`Graph.copyLayout`): for each output element in
/// order, `dims` (the output's) and the element strides into the contiguous input.
public struct CopyLayout: Sendable, Equatable {
    public var dims: [Int]
    public var sourceStrides: [Int]
}

/// A concat read only by one transpose or channel shuffle (through reshapes), which reads each
/// concat input straight from its own buffer: the concat runs no kernel (`Graph.concatsReadByCopies`).
public struct ConcatReadByCopy: Sendable, Equatable {
    /// The consuming copy's group.
    public var consumerGroup: Int
    /// The copy axis (of `CopyLayout.dims`) whose index ranges are the concat inputs' blocks.
    public var axis: Int
    /// Per concat input, its index range along `axis`.
    public var ranges: [Range<Int>]
}

extension Graph {
    /// The copy a non-view transpose or a channel shuffle makes (nil for other ops).
    public func copyLayout(_ node: Node) -> CopyLayout? {
        guard let src = node.inputs.first else { return nil }
        let shape = tensors[src].shape
        var strides = [Int](repeating: 1, count: shape.rank)
        for i in stride(from: shape.rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        switch node.op {
        case .transpose(let perm):
            guard perm.count == shape.rank, perm.allSatisfy({ $0 >= 0 && $0 < shape.rank }) else { return nil }
            return CopyLayout(dims: perm.map { shape[$0] }, sourceStrides: perm.map { strides[$0] })
        case .channelShuffle(let groups):
            guard shape.rank >= 2, groups > 0, shape[1] % groups == 0 else { return nil }
            let n = shape[0], c = shape[1], inner = shape.dims.dropFirst(2).reduce(1, *)
            // [N, g, C/g, inner] -> [N, C/g, g, inner]
            return CopyLayout(dims: [n, c / groups, groups, inner], sourceStrides: [c * inner, inner, (c / groups) * inner, 1])
        default:
            return nil
        }
    }

    /// Concat groups whose only reader (through zero-copy reshapes) is one transpose or channel
    /// shuffle kernel that can read every concat input from its own buffer: each input is one block
    /// of the concat output (every dim before the axis is 1) and the blocks are index ranges of the
    /// copy's outermost input axis (ShuffleNet's concat → channel shuffle, or its ONNX export's
    /// concat → reshape → transpose). The copy then gathers from the inputs, and the concat moves
    /// nothing. Keyed by the concat's group id. Needs `fusionGroups`.
    public func concatsReadByCopies() -> [Int: ConcatReadByCopy] {
        var groupOf = [Int](repeating: -1, count: nodes.count)
        for g in fusionGroups { for n in g.nodes { groupOf[n] = g.id } }
        let consumers = self.consumers()
        let outputSet = Set(outputs)
        var result: [Int: ConcatReadByCopy] = [:]
        for grp in fusionGroups where grp.nodes.count == 1 {
            let node = nodes[grp.nodes[0]]
            guard case .concat(let axis) = node.op, node.outputs.count == 1, let c = node.outputs.first else { continue }
            let shape = tensors[c].shape
            guard let ax = shape.normalizedAxis(axis), shape.dims.prefix(ax).allSatisfy({ $0 == 1 }) else { continue }
            // Follow reshape-like views (offset 0) to the single non-view reader.
            var tensor = c, reader: Int?
            var ok = true
            while ok {
                let readers = consumers[tensor]
                guard readers.count == 1, !outputSet.contains(tensor) else { ok = false; break }
                let r = nodes[readers[0]]
                if r.op.opClass == .view, r.outputs.count == 1, zeroCopyOffsets(r) == [0] {
                    tensor = r.outputs[0]
                    continue
                }
                reader = readers[0]
                break
            }
            guard ok, let q = reader, zeroCopyOffsets(nodes[q]) == nil, let layout = copyLayout(nodes[q]),
                  fusionGroups[groupOf[q]].nodes == [q], nodes[q].inputs.first == tensor else { continue }
            // The outermost input axis (largest stride among dims > 1) must span the whole input,
            // with every block boundary on one of its indices.
            let total = shape.elementCount
            guard let k = layout.dims.indices.filter({ layout.dims[$0] > 1 }).max(by: { layout.sourceStrides[$0] < layout.sourceStrides[$1] }),
                  layout.dims[k] * layout.sourceStrides[k] == total else { continue }
            let inner = shape.dims.suffix(from: ax + 1).reduce(1, *)
            var ranges: [Range<Int>] = []
            var start = 0
            for x in node.inputs {
                let size = tensors[x].shape.elementCount
                guard start % layout.sourceStrides[k] == 0, size % layout.sourceStrides[k] == 0, size > 0 else { ok = false; break }
                ranges.append((start / layout.sourceStrides[k])..<((start + size) / layout.sourceStrides[k]))
                start += size
            }
            guard ok, start == total, inner > 0 else { continue }
            result[grp.id] = ConcatReadByCopy(consumerGroup: groupOf[q], axis: k, ranges: ranges)
        }
        return result
    }
}
