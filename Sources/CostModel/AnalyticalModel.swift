import DeviceSpec
import NNGraph

public struct CostModelError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Roofline with per-op-class efficiency, a capacity-aware memory-traffic model per level,
/// a fixed per-kernel overhead, and an action-count energy model. Pure: (Graph, Device,
/// unit) -> DeviceEstimate. README "Cost model" documents every formula.
public enum AnalyticalModel {
    /// How much faster an element-wise kernel that overwrites its input streams than the relu sweep
    /// the level bandwidths are fitted on: the sweep reads a buffer and writes another, and every
    /// line it writes is first read into the cache (write-allocate), so it transfers 3 bytes per 2
    /// it counts; in place, the written lines are the ones just read, and it transfers what it counts.
    public static let inPlaceStreamGain = 1.5

    public static func estimate(_ graph: Graph, on device: DeviceProfile, unit unitName: String? = nil,
                                runtime runtimeName: String? = nil, coldWeights: Bool = false) throws(CostModelError) -> DeviceEstimate {
        try estimate(PreparedGraph(graph), on: device, unit: unitName, runtime: runtimeName, coldWeights: coldWeights)
    }

    /// The runtime section an estimate uses: the named one (must exist), else the device's default
    /// runtime, else none (plain unit efficiencies).
    public static func runtime(named name: String?, on device: DeviceProfile) throws(CostModelError) -> RuntimeProfile? {
        guard let name = name ?? device.defaultRuntime else { return nil }
        guard let r = device.runtimes[name] else {
            let names = device.runtimes.keys.sorted()
            let hint = didYouMean(name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            throw CostModelError(message: "\(device.file): no runtime '\(name)'\(hint) (available: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        return r
    }

    /// Per-device pass over a prepared graph (prepare once, estimate on many devices). The runtime's
    /// unit is used unless `unit` names one; its factors multiply the unit's efficiencies.
    /// `coldWeights`: every weight comes from main memory (a first inference); by default the
    /// steady state of repeated inference, where a model whose weights and activations fit a cache
    /// level twice over reads its weights from that level.
    public static func estimate(_ prepared: PreparedGraph, on device: DeviceProfile, unit unitName: String? = nil,
                                runtime runtimeName: String? = nil, coldWeights: Bool = false) throws(CostModelError) -> DeviceEstimate {
        let runtime = try runtime(named: runtimeName, on: device)
        guard let unit = device.unit(named: unitName ?? runtime?.unit) else {
            let names = device.computeUnits.map(\.name).joined(separator: ", ")
            throw CostModelError(message: "\(device.file): no compute unit '\(unitName ?? device.defaultUnit)' (available: \(names))")
        }
        let levels = device.levels(for: unit)
        guard !levels.isEmpty else { throw CostModelError(message: "\(device.file): unit '\(unit.name)' has no memory levels") }
        let precision = unit.precision
        guard let peak = unit.peakThroughput(precision) else {
            throw CostModelError(message: "\(device.file): unit '\(unit.name)' has no peak for \(precision.rawValue)")
        }
        let energyPerOp = unit.energyPerOp[precision]?.value ?? JoulesPerOp.zero
        let idle = device.power.idle.value
        let last = levels.count - 1
        let levelNames = levels.map(\.name)
        let sizes = levels.map { $0.size.value.value }
        // What each level holds between kernels: a private (`per_core`) level once per active core.
        let capacities = levels.map { $0.capacity(activeCores: unit.cores.value) }
        let bandwidths = levels.map { $0.bandwidth.value }
        let readEnergies = levels.map { $0.readEnergy.value }
        let writeEnergies = levels.map { $0.writeEnergy.value }
        let registerBytes = unit.registerBytes.value.value
        let width = Double(precision.bytes)
        let zeroMemory = Dictionary(uniqueKeysWithValues: levelNames.map { ($0, Joules.zero) })
        let threads = unit.cores.value

        // Level that holds a tensor between kernels: graph inputs/outputs live in main memory; an
        // activation stays in the innermost level with room for it twice (it must survive
        // alongside the producer's working set). A private level counts once per active core: the
        // kernels split their tensors over the cores and each core keeps its part in its own cache.
        func residence(_ t: PreparedGraph.Operand, bytes: Double) -> Int {
            if t.inMainMemory { return last }
            for i in 0..<levels.count where capacities[i] >= 2 * bytes { return i }
            return last
        }

        // Level the weights are read from. Steady state (repeated inference, as `measure` and every
        // benchmark time it): each inference touches all weights and the activation arena, so the
        // weights stay, between inferences, in the innermost level with room for that working set
        // twice (the activations' rule); a larger model streams them from main memory every time.
        // `coldWeights` (a first inference, or a cache flushed in between) reads them from main memory.
        // The working set is the model's peak memory (weights + peak live activations, stored).
        let footprint = prepared.footprint
        let storedWeights = Bytes(prepared.allWeights.storedBytes(precision))
        let storedActivations = Bytes(Double(footprint.peakActivationBytes) * width / 4)
        let peakMemory = storedWeights + storedActivations
        let weightLevel = coldWeights ? last : (levels.indices.first { capacities[$0] >= 2 * peakMemory.value } ?? last)
        // Cross-core reads: per anchor node, how its kernel's threads share its operands.
        // (The bytes are counted on every multi-core unit with `per_core` levels, with or without the rate:
        // calibration fits the rate from them.)
        let crossCore = unit.crossCoreBandwidth?.value.value
        let countsCrossCore = threads > 1 && levels.contains { $0.perCore }
        var partitionMemo: [Int: (reads: [ParallelSplit.Partition], write: ParallelSplit.Partition)] = [:]
        func partitions(_ node: Int) -> (reads: [ParallelSplit.Partition], write: ParallelSplit.Partition) {
            if let p = partitionMemo[node] { return p }
            let p = prepared.graph.partitions(prepared.graph.nodes[node], threads: threads)
            partitionMemo[node] = p
            return p
        }
        var layers: [LayerEstimate] = []
        layers.reserveCapacity(prepared.kernels.count)
        var unsupported: [String] = []
        var inputBytes: [Double] = []
        var inputResidence: [Int] = []
        var outputBytes: [Double] = []
        var outputResidence: [Int] = []
        for k in prepared.kernels {
            let cls = k.opClass
            if cls == .view || cls == .unsupported {
                if cls == .unsupported { unsupported.append("\(k.name) (\(k.anchorKind))") }
                let zeroTraffic = levelNames.map { LevelTraffic(level: $0, readBytes: .zero, writeBytes: .zero, time: .zero, energy: .zero) }
                layers.append(LayerEstimate(
                    group: k.group, name: k.name, kind: k.kind, opClass: cls, nodes: k.nodeNames, outputShape: k.outputShape, counts: k.counts,
                    computeTime: .zero, overhead: .zero, traffic: zeroTraffic, latency: .zero, bound: cls == .view ? .view : .unsupported,
                    energy: EnergyBreakdown(compute: .zero, memory: zeroMemory, staticEnergy: .zero), provenance: .predicted, efficiency: 0))
                continue
            }

            // Operand bytes at storage precision.
            inputBytes.removeAll(keepingCapacity: true)
            inputResidence.removeAll(keepingCapacity: true)
            outputBytes.removeAll(keepingCapacity: true)
            outputResidence.removeAll(keepingCapacity: true)
            for t in k.inputs {
                let b = t.storedBytes(precision)
                inputBytes.append(b)
                inputResidence.append(residence(t, bytes: b))
            }
            for t in k.outputs {
                let b = t.storedBytes(precision)
                outputBytes.append(b)
                outputResidence.append(residence(t, bytes: b))
            }
            // A Winograd F(2×2,3×3) kernel multiplies 16 transformed values per 2×2 output tile
            // where the direct conv multiplies 36: its tiled products re-fetch operands for
            // 16/36 of the counted (direct) MACs.
            let winograd = k.winogradTransformFlops > 0 && unit.efficiency[.convWinograd] != nil
            // It streams the transformed weights (U = G·g·Gᵀ, transformed once at load): 16 values
            // per 3×3 filter, 16/9 of the stored weights.
            let weightBytes = (k.weights.storedBytes(precision) + k.extraWeightBytes) * (winograd ? 16.0 / 9.0 : 1)
            let totalIn = inputBytes.reduce(0, +)
            let totalOut = outputBytes.reduce(0, +)
            let flops = Double(k.counts.flops)
            let reuseMACs = Double(k.counts.macs) * (winograd ? 16.0 / 36.0 : 1)
            // The class's share of the stream bandwidths (gathers, copies and reductions reach less).
            // An in-place kernel transfers only the bytes it counts; the bandwidths (fitted on an
            // out-of-place stream) carry a write-allocate read per written byte.
            let memoryEfficiency = unit.memoryEfficiency(for: k.efficiencyClass) * (k.inPlace ? Self.inPlaceStreamGain : 1)
            var traffic: [LevelTraffic] = []
            traffic.reserveCapacity(levels.count)
            var memoryEnergy = zeroMemory
            var worstMemory = Seconds.zero
            var worstLevel = levelNames[last]
            for i in 0..<levels.count {
                let capacityAbove = i == 0 ? registerBytes : sizes[i - 1]
                // Compulsory reads: weights and each input count at every level up to the one they
                // reside in (weights: `weightLevel`).
                var compulsory = i <= weightLevel ? weightBytes : 0
                for j in 0..<inputBytes.count where i <= inputResidence[j] { compulsory += inputBytes[j] }
                // Reuse kernels re-fetch operands when the level above cannot hold them: a tiled
                // matrix product with S words of fast storage moves ≥ 2·MACs/√S words
                // (Hong & Kung I/O bound), never fewer than the compulsory bytes.
                var reads = compulsory
                if k.reuse, totalIn + weightBytes + totalOut > capacityAbove {
                    let words = Swift.max(capacityAbove / width, 1)
                    let refetch = 2 * reuseMACs * width / words.squareRoot()
                    reads = Swift.max(compulsory, refetch)
                }
                var writes = 0.0
                for j in 0..<outputBytes.count where i <= outputResidence[j] { writes += outputBytes[j] }
                // Data movement beyond `bulk_copy.after` bytes streams at the bulk share.
                let time = Seconds(unit.memoryTime(bytes: reads + writes, bandwidth: bandwidths[i].value, share: memoryEfficiency, cls: k.efficiencyClass))
                let energy = Bytes(reads) * readEnergies[i] + Bytes(writes) * writeEnergies[i]
                traffic.append(LevelTraffic(level: levelNames[i], readBytes: Bytes(reads), writeBytes: Bytes(writes), time: time, energy: energy))
                memoryEnergy[levelNames[i]] = energy
                if time > worstMemory { worstMemory = time; worstLevel = levelNames[i] }
            }

            func eff(_ c: OpClass) -> Double { unit.efficiency(for: c) * (runtime?.factor(for: c) ?? 1) }
            let efficiency = eff(k.efficiencyClass)
            // Each part of a fused kernel at its own class's efficiency (conv FLOPs at the conv's,
            // a fused SiLU's at the transcendental one); a single-class kernel is FLOPs / (peak·e).
            var computeTime = Seconds.zero
            var computeByClass: [OpClass: Seconds] = [:]
            var computeFlopsByClass: [OpClass: Double] = [:]
            var parts = k.computeParts
            if winograd {
                // The kernel multiplies whole 2×2 output tiles: on an odd-sized map the last tile row and
                // column are half padding (7×7: 16 tiles = 64 outputs for 49 wanted), work the direct
                // count leaves out. Part of the counted FLOPs calibration fits the efficiency against.
                if let j = parts.firstIndex(where: { $0.cls == .convWinograd }) { parts[j].flops *= Self.winogradTileFactor(k.outputShape) }
                if let j = parts.firstIndex(where: { $0.cls == .elementwise }) { parts[j].flops += k.winogradTransformFlops }
                else { parts.append((.elementwise, k.winogradTransformFlops)) }
            }
            // A dense conv's GEMM computes whole weight panels of output channels (`weight_panel_rows`):
            // its anchor part counts the padded rows of the busiest thread (`ParallelSplit.paddedRowFactor`,
            // with the runner's output-channel split). Part of the counted FLOPs calibration fits against.
            if let panel = unit.weightPanelRows?.value, panel > 1, k.efficiencyClass != .convStem, let j = parts.firstIndex(where: { $0.cls == k.efficiencyClass }),
               let factor = Self.paddedRowFactor(prepared.graph.nodes[k.anchorNode], output: k.outputShape, panel: panel, threads: threads,
                                                 write: partitions(k.anchorNode).write) {
                parts[j].flops *= factor
            }
            // Per-output work of the anchor's class (`per_output_macs`), priced with the anchor's part.
            // Not part of the counted FLOPs (`computeFlopsByClass`, which calibration fits against).
            let perOutput = 2 * unit.perOutputMACs(for: k.efficiencyClass) * k.anchorOutputElements
            let anchorPart = perOutput > 0 ? parts.firstIndex(where: { $0.cls == k.efficiencyClass }) : nil
            for (j, part) in parts.enumerated() {
                computeFlopsByClass[part.cls, default: 0] += part.flops
                let t = Flops(part.flops + (j == anchorPart ? perOutput : 0)) / (peak * eff(part.cls))
                computeTime += t
                computeByClass[part.cls.coarse, default: .zero] += t
            }
            let core = Swift.max(computeTime, worstMemory)
            // A kernel's first bytes from its outermost level arrive one access latency after it starts
            // (Hockney's t = α + n/β): the bandwidth term counts only the streaming. Matters for small
            // kernels on cold weights (a squeeze-excitation fc reading a few KiB from main memory). A level's
            // `stream_startup` (a cold stream, page walk included) replaces its pointer-chase `latency` here.
            let outermost = traffic.lastIndex { $0.readBytes.value + $0.writeBytes.value > 0 }
            let accessLatency = outermost.flatMap { levels[$0].accessLatency } ?? .zero
            // A kernel the runner splits over threads pays the pool's dispatch (`parallel_overhead`), where
            // `Graph.threadsUsed` knows the split; the class overheads are measured on one-thread kernels.
            let forks = (prepared.graph.threadsUsed(prepared.graph.nodes[k.anchorNode], threads: threads) ?? 1) > 1
            let parallelOverhead = forks ? (unit.parallelOverhead?.value ?? .zero) : .zero
            // Bytes the busiest thread reads from another core's private cache: inputs that reside in a
            // `per_core` level, written by a kernel whose threads split them differently from how this
            // kernel's threads read them (`ParallelSplit.remoteShare`), at the unit's `cross_core_bandwidth`.
            var remoteBytes = 0.0
            if countsCrossCore {
                let mine = partitions(k.anchorNode)
                for (j, source) in k.inputSources.enumerated() where j < inputBytes.count && levels[inputResidence[j]].perCore {
                    guard let first = source.writers.first else { continue }
                    let w0 = partitions(first).write
                    let written = source.writers.allSatisfy { partitions($0).write == w0 } ? w0 : .scattered
                    let read = source.slot.flatMap { $0 < mine.reads.count ? mine.reads[$0] : nil } ?? mine.write
                    remoteBytes += ParallelSplit.remoteShare(written: written, read: read, threads: threads) * inputBytes[j]
                }
            }
            let crossCoreTime = Seconds(crossCore.map { $0 > 0 ? remoteBytes / $0 : 0 } ?? 0)
            let overhead = unit.overhead(for: k.efficiencyClass) + unit.channelOverhead(for: k.efficiencyClass) * k.anchorChannels + accessLatency
                + parallelOverhead + crossCoreTime
            let latency = core + overhead
            let bound: Bound
            if overhead > core { bound = .overhead } else if computeTime >= worstMemory { bound = .compute } else { bound = .memory(level: worstLevel) }
            let energy = EnergyBreakdown(compute: Flops(flops) * energyPerOp, memory: memoryEnergy, staticEnergy: latency * idle)
            var layer = LayerEstimate(group: k.group, name: k.name, kind: k.kind, opClass: cls, nodes: k.nodeNames, outputShape: k.outputShape,
                                      counts: k.counts, computeTime: computeTime, overhead: overhead, traffic: traffic, latency: latency,
                                      bound: bound, energy: energy, provenance: .predicted, efficiency: efficiency)
            layer.computeByClass = computeByClass
            layer.computeFlopsByClass = computeFlopsByClass
            layer.accessLatency = accessLatency
            layer.forks = forks
            layer.parallelOverhead = parallelOverhead
            layer.crossCoreBytes = Bytes(remoteBytes)
            layer.crossCoreTime = crossCoreTime
            layers.append(layer)
        }

        var levelTotals: [LevelTraffic] = levelNames.map { LevelTraffic(level: $0, readBytes: .zero, writeBytes: .zero, time: .zero, energy: .zero) }
        var energyTotal = EnergyBreakdown(compute: .zero, memory: zeroMemory, staticEnergy: .zero)
        var latency = Seconds.zero
        for l in layers {
            latency += l.latency
            energyTotal.compute += l.energy.compute
            energyTotal.staticEnergy += l.energy.staticEnergy
            for (i, t) in l.traffic.enumerated() {
                levelTotals[i].readBytes += t.readBytes
                levelTotals[i].writeBytes += t.writeBytes
                levelTotals[i].time += t.time
                levelTotals[i].energy += t.energy
                energyTotal.memory[t.level, default: .zero] += t.energy
            }
        }
        let total = prepared.totalCounts
        let totals = EstimateTotals(macs: total.macs, flops: total.flops, params: total.params, latency: latency, energy: energyTotal,
                                    traffic: levelTotals, footprint: footprint, weightBytes: storedWeights,
                                    peakActivationBytes: storedActivations, peakMemory: peakMemory,
                                    fitsInRAM: peakMemory <= device.ram.value, weightsFrom: levelNames[weightLevel], coldWeights: coldWeights)
        return DeviceEstimate(deviceID: device.id, deviceName: device.name, deviceFile: device.file, unit: unit.name, precision: precision,
                              layers: layers, totals: totals, provenance: .predicted, unsupportedLayers: unsupported, runtime: runtime?.name)
    }

    /// The padded-row factor of a dense conv anchor (im2col/1×1 or Winograd; nil for depthwise convs,
    /// matrix-vector products and anything else): its output channels per group in `panel`-row weight
    /// panels, split as the runner splits them at `threads` threads — by output channels where its
    /// output partition (`Graph.partitions`) is `blocks`, on the calling thread alone where it is `one`.
    static func paddedRowFactor(_ node: Node, output: TensorShape, panel: Int, threads: Int, write: ParallelSplit.Partition) -> Double? {
        guard case .conv(let a) = node.op, !a.isDepthwise, output.rank == 4, !a.isMatrixVector(outputPixels: output[2] * output[3]) else { return nil }
        return ParallelSplit.paddedRowFactor(rows: a.outChannels / Swift.max(1, a.groups), panel: panel, threads: write == .one ? 1 : threads,
                                             splitsOutputChannels: write == .blocks)
    }

    /// Outputs a Winograd F(2×2,3×3) kernel computes per output it keeps: 4·⌈H/2⌉·⌈W/2⌉ / (H·W)
    /// (1 on even maps; 64/49 on 7×7, 196/169 on 13×13).
    public static func winogradTileFactor(_ output: TensorShape) -> Double {
        guard output.rank == 4, output[2] > 0, output[3] > 0 else { return 1 }
        let h = output[2], w = output[3]
        return Double(4 * ((h + 1) / 2) * ((w + 1) / 2)) / Double(h * w)
    }

    /// Kernels with operand reuse (each input element feeds many MACs), which tile and re-fetch.
    static func isReuseKernel(_ op: Op) -> Bool {
        switch op {
        case .conv(let a): !a.isDepthwise
        case .convTranspose, .gemm, .matmul, .attention: true
        case .sparseAggregate, .batchNorm, .layerNorm, .activation, .clip, .binary, .unary, .maxPool, .avgPool, .globalAvgPool,
             .globalMaxPool, .reduceMean, .softmax, .concat, .split, .slice, .reshape, .flatten, .transpose, .squeeze, .unsqueeze,
             .channelShuffle, .pad, .identity, .unsupported:
            false
        }
    }

    /// CSR index bytes of a sparse aggregation (counted with the weights: read once per inference).
    static func anchorSparseIndexBytes(_ node: Node) -> Double {
        // Same convention as NNGraph counting: CSR values + column indices + row pointers.
        if case .sparseAggregate(let nodes, let edges) = node.op { return Double(edges * 8 + (nodes + 1) * 4) }
        return 0
    }

    static func storedWidth(_ dtype: DType, _ precision: Precision) -> Int {
        switch dtype {
        case .float32, .float64, .float16, .bfloat16: Swift.min(dtype.byteSize, precision.bytes)
        case .int8, .uint8, .int16, .int32, .int64, .bool: dtype.byteSize
        }
    }
}
