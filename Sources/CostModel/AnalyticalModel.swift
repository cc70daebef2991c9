import DeviceSpec
import NNGraph

public struct CostModelError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Roofline with per-op-class efficiency, a capacity-aware memory-traffic model per level,
/// a fixed per-kernel overhead, and an action-count energy model. Pure: (Graph, Device,
/// unit) -> DeviceEstimate. README "Cost model" documents every formula.
public enum AnalyticalModel {

    public static func estimate(_ graph: Graph, on device: DeviceProfile, unit unitName: String? = nil) throws(CostModelError) -> DeviceEstimate {
        guard let unit = device.unit(named: unitName) else {
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
        let index = GraphIndex(graph)
        let groups = graph.fusionGroups.isEmpty ? { var g = graph; g.fuse(); return g.fusionGroups }() : graph.fusionGroups

        // Storage width: float tensors are stored at the unit's precision; integer tensors keep theirs.
        func storedBytes(_ t: TensorInfo) -> Double { Double(t.shape.elementCount * storedWidth(t.dtype, precision)) }
        func storedBytes(_ p: ParamInfo) -> Double { Double(p.shape.elementCount * storedWidth(p.dtype, precision)) }

        // Level that holds a tensor between kernels: graph inputs come from main memory; an
        // activation stays in the innermost level with room for it twice (it must survive
        // alongside the producer's working set).
        let last = levels.count - 1
        let graphInputs = Set(graph.inputs)
        func residence(_ tensor: Int, bytes: Double) -> Int {
            if graphInputs.contains(tensor) || index.outputSet.contains(tensor) { return last }
            for (i, l) in levels.enumerated() where l.size.value.value >= 2 * bytes { return i }
            return last
        }

        var layers: [LayerEstimate] = []
        layers.reserveCapacity(groups.count)
        var unsupported: [String] = []
        for group in groups {
            let members = group.nodes.map { graph.nodes[$0] }
            let anchor = members[0]
            let counts = graph.counts(ofGroup: group, index: index)
            let cls = anchor.op.opClass
            let outs = index.externalOutputs(of: group, in: graph)
            let outShape = (outs.first ?? anchor.outputs.first).map { graph.tensors[$0].shape } ?? TensorShape([])
            let name = anchor.name
            let nodeNames = members.map(\.name)

            if cls == .view || cls == .unsupported {
                if cls == .unsupported { unsupported.append("\(anchor.name) (\(anchor.op.kindName))") }
                let zeroTraffic = levels.map { LevelTraffic(level: $0.name, readBytes: .zero, writeBytes: .zero, time: .zero, energy: .zero) }
                layers.append(LayerEstimate(
                    group: group.id, name: name, kind: group.kind, opClass: cls, nodes: nodeNames, outputShape: outShape, counts: counts,
                    computeTime: .zero, overhead: .zero, traffic: zeroTraffic, latency: .zero, bound: cls == .view ? .view : .unsupported,
                    energy: EnergyBreakdown(compute: .zero, memory: Dictionary(uniqueKeysWithValues: levels.map { ($0.name, Joules.zero) }), staticEnergy: .zero),
                    provenance: .predicted, efficiency: 0))
                continue
            }

            // Operand bytes at storage precision.
            let inputs = index.externalInputs(of: group, in: graph).filter { t in
                // Inputs read only by views inside the group are not read by the kernel.
                members.contains { $0.op.opClass != .view && $0.inputs.contains(t) }
            }
            let inputBytes = inputs.map { storedBytes(graph.tensors[$0]) }
            let weightBytes = members.reduce(0.0) { acc, n in acc + n.params.reduce(0.0) { $0 + storedBytes($1) } }
                + (anchorSparseIndexBytes(anchor))
            let outputBytes = outs.map { storedBytes(graph.tensors[$0]) }
            let totalIn = inputBytes.reduce(0, +)
            let totalOut = outputBytes.reduce(0, +)
            let inputResidence = zip(inputs, inputBytes).map { residence($0.0, bytes: $0.1) }
            let outputResidence = zip(outs, outputBytes).map { residence($0.0, bytes: $0.1) }
            let reuse = isReuseKernel(anchor.op)
            let flops = Double(counts.flops)

            var traffic: [LevelTraffic] = []
            var memoryEnergy: [String: Joules] = [:]
            var worstMemory = Seconds.zero
            var worstLevel = levels[last].name
            for (i, level) in levels.enumerated() {
                let capacityAbove = i == 0 ? unit.registerBytes.value.value : levels[i - 1].size.value.value
                // Compulsory reads: weights are cold (main memory, through every level); an input
                // counts at every level up to the one it resides in.
                var compulsory = weightBytes
                for (b, r) in zip(inputBytes, inputResidence) where i <= r { compulsory += b }
                // Reuse kernels re-fetch operands when the level above cannot hold them: a tiled
                // matrix product with S words of fast storage moves ≥ 2·MACs/√S words
                // (Hong & Kung I/O bound), never fewer than the compulsory bytes.
                var reads = compulsory
                if reuse, totalIn + weightBytes + totalOut > capacityAbove {
                    let width = Double(precision.bytes)
                    let words = Swift.max(capacityAbove / width, 1)
                    let refetch = 2 * Double(counts.macs) * width / words.squareRoot()
                    reads = Swift.max(compulsory, refetch)
                }
                var writes = 0.0
                for (b, r) in zip(outputBytes, outputResidence) where i <= r { writes += b }
                let bytes = Bytes(reads + writes)
                let time = bytes / level.bandwidth.value
                let energy = Bytes(reads) * level.readEnergy.value + Bytes(writes) * level.writeEnergy.value
                traffic.append(LevelTraffic(level: level.name, readBytes: Bytes(reads), writeBytes: Bytes(writes), time: time, energy: energy))
                memoryEnergy[level.name] = energy
                if time > worstMemory { worstMemory = time; worstLevel = level.name }
            }

            let efficiency = unit.efficiency(for: cls)
            let computeTime = Flops(flops) / (peak * efficiency)
            let overhead = unit.layerOverhead.value
            let core = Swift.max(computeTime, worstMemory)
            let latency = core + overhead
            let bound: Bound
            if overhead > core { bound = .overhead } else if computeTime >= worstMemory { bound = .compute } else { bound = .memory(level: worstLevel) }
            let energy = EnergyBreakdown(compute: Flops(flops) * energyPerOp, memory: memoryEnergy, staticEnergy: latency * idle)
            layers.append(LayerEstimate(group: group.id, name: name, kind: group.kind, opClass: cls, nodes: nodeNames, outputShape: outShape,
                                        counts: counts, computeTime: computeTime, overhead: overhead, traffic: traffic, latency: latency,
                                        bound: bound, energy: energy, provenance: .predicted, efficiency: efficiency))
        }

        let total = graph.totalCounts()
        let footprint = graph.memoryFootprint()
        let scale = Double(precision.bytes) / 4
        let storedWeights = Bytes(Double(footprint.weightBytes) * weightScale(graph, precision))
        let storedActivations = Bytes(Double(footprint.peakActivationBytes) * scale)
        let peakMemory = storedWeights + storedActivations
        var levelTotals: [LevelTraffic] = levels.map { LevelTraffic(level: $0.name, readBytes: .zero, writeBytes: .zero, time: .zero, energy: .zero) }
        var energyTotal = EnergyBreakdown(compute: .zero, memory: Dictionary(uniqueKeysWithValues: levels.map { ($0.name, Joules.zero) }), staticEnergy: .zero)
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
        let totals = EstimateTotals(macs: total.macs, flops: total.flops, params: total.params, latency: latency, energy: energyTotal,
                                    traffic: levelTotals, footprint: footprint, weightBytes: storedWeights,
                                    peakActivationBytes: storedActivations, peakMemory: peakMemory,
                                    fitsInRAM: peakMemory <= device.ram.value)
        return DeviceEstimate(deviceID: device.id, deviceName: device.name, deviceFile: device.file, unit: unit.name, precision: precision,
                              layers: layers, totals: totals, provenance: .predicted, unsupportedLayers: unsupported)
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

    static func weightScale(_ graph: Graph, _ precision: Precision) -> Double {
        var raw = 0.0, stored = 0.0
        for n in graph.nodes {
            for p in n.params {
                raw += Double(p.byteCount)
                stored += Double(p.shape.elementCount * storedWidth(p.dtype, precision))
            }
        }
        return raw == 0 ? 1 : stored / raw
    }
}
