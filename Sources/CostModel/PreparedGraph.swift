import DeviceSpec
import NNGraph

/// Everything the cost model needs from a graph that does not depend on the device: per fused
/// kernel its counts, operands and names. Prepare once, estimate on many devices. The kernels are
/// those a runtime of `style` runs (`ExecutionStyle`: `.edgeprof`, the default, is the graph's own
/// fusion groups, which the runner, planners and trace scaling share).
public struct PreparedGraph: Sendable {
    /// A cheap activation (ReLU, ReLU6/Clip, hard-swish, hard-sigmoid: class `elementwise`) fused into a
    /// convolution's or matrix product's kernel: the runner applies it to the finished accumulators in
    /// registers before the store (`Epilogue`, the C kernels' activation codes), so its FLOPs run on the
    /// anchor's pipeline at the anchor's efficiency. Priced at `efficiency.elementwise` (fitted on
    /// standalone passes that stream their map through memory, 31 GFLOP/s on the Intel guest) a fused
    /// ReLU6 added 29 µs to mobilenet_v2's 24 → 144 expansion on 56² (measured 92 µs in all), and
    /// validation read conv-relu6, conv-bn-hardswish and dwconv-relu6 layers 25–46% high (session 32).
    /// Exp- and erf-based activations keep their own classes: they are fitted fused (calibration's
    /// activation grid) and cost real arithmetic per element.
    static func isEpilogueActivation(_ node: Node, anchor: Node, in g: Graph) -> Bool {
        switch anchor.op {
        case .conv, .convTranspose, .gemm, .matmul: break
        default: return false
        }
        switch node.op {
        case .activation, .clip: return g.efficiencyClass(node) == .elementwise
        default: return false
        }
    }

    /// A tensor a kernel reads or writes.
    struct Operand: Sendable {
        var elements: Int
        var dtype: DType
        /// Graph inputs and outputs live in main memory.
        var inMainMemory: Bool
        func storedBytes(_ p: Precision) -> Double { Double(elements * AnalyticalModel.storedWidth(dtype, p)) }
    }

    /// Parameter elements by dtype (few distinct dtypes per kernel).
    struct Weights: Sendable {
        var elementsByDType: [(DType, Int)] = []
        mutating func add(_ p: ParamInfo) {
            if let i = elementsByDType.firstIndex(where: { $0.0 == p.dtype }) { elementsByDType[i].1 += p.shape.elementCount } else {
                elementsByDType.append((p.dtype, p.shape.elementCount))
            }
        }
        func storedBytes(_ p: Precision) -> Double {
            elementsByDType.reduce(0.0) { $0 + Double($1.1 * AnalyticalModel.storedWidth($1.0, p)) }
        }
    }

    struct Kernel: Sendable {
        var group: Int
        var name: String
        var kind: String
        var anchorKind: String
        var opClass: OpClass
        /// `opClass`, refined for dense convs/GEMMs (`Graph.efficiencyClass`): selects the efficiency.
        var efficiencyClass: OpClass
        /// FLOPs per efficiency class: the anchor (with a batch norm folded into it) at its class, a
        /// fused activation at its own (a SiLU after a conv costs what a SiLU costs), except a cheap one
        /// in a conv's or GEMM's epilogue, at the anchor's (`isEpilogueActivation`).
        var computeParts: [(cls: OpClass, flops: Double)]
        /// A conv_winograd kernel's transform additions (`ConvAttributes.winogradTransformFlops`):
        /// elementwise work on units whose device file lists `conv_winograd` (they model the
        /// Winograd algorithm explicitly); other units price the conv by their `conv` efficiency alone.
        var winogradTransformFlops: Double
        var nodeNames: [String]
        var outputShape: TensorShape
        /// Elements the anchor writes (what `per_output_macs` is charged per).
        var anchorOutputElements: Double
        /// What `channel_overhead` is charged per (`Graph.channelOverheadUnits`): the anchor's channel planes,
        /// or a binary elementwise anchor's contiguous rows.
        var anchorChannels: Double
        var counts: OpCounts
        var inputs: [Operand]
        var outputs: [Operand]
        var weights: Weights
        var extraWeightBytes: Double
        var reuse: Bool
        /// The kernel overwrites one of its inputs (`Graph.inPlaceInputs`, under a style that runs
        /// element-wise kernels in place).
        var inPlace: Bool
        /// The anchor node's index in `graph.nodes` (what `Graph.threadsUsed` is asked about).
        var anchorNode: Int
        /// Per input operand (aligned with `inputs`): who reads it and who wrote it, for the cross-core
        /// term (`Graph.partitions`).
        var inputSources: [InputSource] = []
    }

    /// Which split reads an input of a kernel and which kernels wrote it.
    struct InputSource: Sendable {
        /// The anchor's input slot that reads it; nil: a fused member reads it (a residual add in the
        /// epilogue), in the pattern the anchor writes its output.
        var slot: Int?
        /// Anchor nodes of the kernels that wrote it, looking through zero-copy views (a concat several
        /// producers wrote in place has several); empty for graph inputs.
        var writers: [Int]
    }

    public let graph: Graph
    public let style: ExecutionStyle
    let kernels: [Kernel]
    let allWeights: Weights
    public let footprint: MemoryFootprint
    public let totalCounts: OpCounts

    public init(_ graph: Graph, style: ExecutionStyle = .edgeprof) {
        var g = graph
        // The graph's own fusion is the runner's (every residual add fused); `fusesLinearResidualAdds`
        // implies `fusesResidualAdds`, so a style without it refuses.
        if g.fusionGroups.isEmpty || !style.fusesLinearResidualAdds {
            g.fuse(residualAdds: style.fusesResidualAdds, linearResidualAdds: style.fusesLinearResidualAdds)
        }
        self.graph = g
        self.style = style
        let splitsAreViews = style.splitsAreViews
        func isView(_ n: Node) -> Bool { g.isZeroCopyView(n, splitsAreViews: splitsAreViews) }
        let index = GraphIndex(g)
        let graphInputs = Set(g.inputs)
        func operand(_ t: Int) -> Operand {
            Operand(elements: g.tensors[t].shape.elementCount, dtype: g.tensors[t].dtype,
                    inMainMemory: graphInputs.contains(t) || index.outputSet.contains(t))
        }
        let storage = g.storageRoots(inPlace: style.runsElementwiseInPlace, concatsInPlace: style.concatsInPlace)
        let inPlace = storage.inPlaceInputs
        var kernels: [Kernel] = []
        kernels.reserveCapacity(g.fusionGroups.count)
        var all = Weights()
        var inputIDs: [[Int]] = []
        var viewedIDs: [[Int]] = []
        for group in g.fusionGroups {
            let members = group.nodes.map { g.nodes[$0] }
            let anchor = members[0]
            let outs = index.externalOutputs(of: group, in: g)
            // Inputs read only by views inside the group are not read by the kernel.
            let external = index.externalInputs(of: group, in: g)
            var inIDs = external.filter { t in members.contains { !isView($0) && $0.inputs.contains(t) } }
            var outOperands = outs.map(operand)
            // A concat copies only the inputs its producers did not write into their slices; none left: a view.
            // A concat whose one reader, a copy, reads its inputs moves nothing itself (the copy reads the same bytes).
            var concatView = storage.concatsReadByCopies[group.id] != nil
            if !concatView, let written = storage.concatInputs[group.id], let c = anchor.outputs.first {
                let copied = anchor.inputs.enumerated().filter { !written.contains($0.offset) }.map(\.element)
                concatView = copied.isEmpty
                inIDs = copied
                outOperands = [Operand(elements: copied.reduce(0) { $0 + g.tensors[$1].shape.elementCount }, dtype: g.tensors[c].dtype,
                                       inMainMemory: operand(c).inMainMemory)]
            }
            let ins = inIDs.map(operand)
            inputIDs.append(inIDs)
            viewedIDs.append(external)
            // A group of zero-copy views (reshapes; contiguous splits/slices unless the style copies them) moves no data.
            let opClass: OpClass = concatView || members.allSatisfy(isView) ? .view : anchor.op.opClass
            let anchorClass = opClass == .view ? OpClass.view : g.efficiencyClass(anchor)
            var parts: [(cls: OpClass, flops: Double)] = []
            for (i, n) in members.enumerated() {
                let f = Double(g.counts(of: n).flops)
                guard f > 0 else { continue }
                let folded: Bool
                if case .batchNorm = n.op { folded = true } else { folded = false }
                var cls = (i == 0 || folded || Self.isEpilogueActivation(n, anchor: anchor, in: g)) ? anchorClass : g.efficiencyClass(n)
                // Global pools and mean reductions are one pass of vector adds over their input: their
                // FLOPs run at the elementwise rate, not at the windowed pools' (`efficiency.pooling` is
                // fitted on 3×3 stride-2 max pools). Pricing them at the latter made the squeeze-
                // excitation pools compute-bound and 1.5–2.4× over-predicted.
                if i == 0, n.op.isGlobalReduction { cls = .elementwise }
                if let j = parts.firstIndex(where: { $0.cls == cls }) { parts[j].flops += f } else { parts.append((cls, f)) }
            }
            // Winograd's input/output transforms: additions the direct-conv count does not include.
            var transform = 0.0
            if anchorClass == .convWinograd, case .conv(let a) = anchor.op, let out = anchor.outputs.first {
                let shape = g.tensors[out].shape
                if shape.rank == 4 { transform = Double(a.winogradTransformFlops(batch: shape[0], outH: shape[2], outW: shape[3])) }
            }
            var w = Weights()
            for n in members { for p in n.params { w.add(p); all.add(p) } }
            kernels.append(Kernel(
                group: group.id, name: anchor.name, kind: group.kind, anchorKind: anchor.op.kindName, opClass: opClass,
                efficiencyClass: anchorClass, computeParts: parts, winogradTransformFlops: transform,
                nodeNames: members.map(\.name),
                outputShape: (outs.first ?? anchor.outputs.first).map { g.tensors[$0].shape } ?? TensorShape([]),
                anchorOutputElements: Double(anchor.outputs.reduce(0) { $0 + g.tensors[$1].shape.elementCount }),
                anchorChannels: Double(g.channelOverheadUnits(anchor)),
                counts: g.counts(ofGroup: group, index: index), inputs: ins, outputs: outOperands, weights: w,
                extraWeightBytes: AnalyticalModel.anchorSparseIndexBytes(anchor), reuse: AnalyticalModel.isReuseKernel(anchor.op),
                inPlace: inPlace[group.id] != nil, anchorNode: group.nodes[0]))
        }
        // Who wrote each kernel input: the producing kernel's anchor, or through a view kernel (a
        // reshape, a concat its producers wrote in place) the kernels that wrote what it views.
        var kernelOf = [Int](repeating: -1, count: g.nodes.count)
        for (i, group) in g.fusionGroups.enumerated() { for n in group.nodes { kernelOf[n] = i } }
        var writersMemo: [Int: [Int]] = [:]
        func writers(_ t: Int, depth: Int = 0) -> [Int] {
            if let w = writersMemo[t] { return w }
            guard let p = index.producers[t], kernelOf[p] >= 0, depth < 64 else { return [] }
            let k = kernelOf[p]
            // A slice or split view holds part of what its producer's threads wrote, in no pattern the
            // partitions describe (a third of a GEMM's columns, one of q/k/v): its owners are unknown.
            let slices = kernels[k].opClass == .view && g.fusionGroups[k].nodes.contains { n in
                switch g.nodes[n].op { case .slice, .split: true; default: false }
            }
            let w = slices ? [] : kernels[k].opClass == .view ? Array(Set(viewedIDs[k].flatMap { writers($0, depth: depth + 1) })).sorted()
                : [kernels[k].anchorNode]
            writersMemo[t] = w
            return w
        }
        for i in kernels.indices {
            let anchor = g.nodes[kernels[i].anchorNode]
            kernels[i].inputSources = inputIDs[i].map { t in InputSource(slot: anchor.inputs.firstIndex(of: t), writers: writers(t)) }
        }
        self.kernels = kernels
        self.allWeights = all
        self.footprint = g.memoryFootprint()
        self.totalCounts = g.totalCounts()
    }
}
