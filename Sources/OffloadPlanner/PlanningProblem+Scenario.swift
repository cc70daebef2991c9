import CostModel
import DeviceSpec
import NNGraph

public struct PlanningError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Set when the problem points into a scenario file.
    public var spec: SpecError?
    public init(_ message: String, spec: SpecError? = nil) {
        self.message = message
        self.spec = spec
    }
    public var description: String { spec?.description ?? message }
}

extension HopModel {
    /// The planner's view of a link file: expected values, radio only if the link has one.
    public init(_ link: LinkSpec) {
        self.init(name: link.id, uplink: link.uplink.value, downlink: link.downlink.value, rtt: link.rtt.value, meanJitter: link.jitter.mean,
                  loss: link.loss.value, messageOverhead: link.messageOverhead.value, messageTime: link.messageTime.value,
                  radio: link.radio.map {
                      RadioModel(txEnergyPerByte: $0.txEnergyPerByte.value, txBasePower: $0.txBasePower.value,
                                 rxEnergyPerByte: $0.rxEnergyPerByte.value, rxBasePower: $0.rxBasePower.value)
                  })
    }
}

extension PlanningProblem {
    /// Builds the problem for a fused graph from one cost-model estimate per tier (same graph,
    /// tiers in scenario order) and the links between consecutive tiers.
    public static func build(graph input: Graph, estimates: [DeviceEstimate], devices: [DeviceProfile], tierNames: [String],
                             links: [LinkSpec], objective: ObjectiveSpec, constraints: ConstraintSpec,
                             options: OffloadOptions) throws(PlanningError) -> PlanningProblem {
        var graph = input
        if graph.fusionGroups.isEmpty { graph.fuse() }
        let groups = graph.fusionGroups
        guard !estimates.isEmpty, estimates.count == devices.count, devices.count == tierNames.count else {
            throw PlanningError("need one estimate, device and name per tier")
        }
        guard links.count == estimates.count - 1 else { throw PlanningError("need \(estimates.count - 1) links for \(estimates.count) tiers") }
        for e in estimates where e.layers.count != groups.count {
            throw PlanningError("estimate for \(e.deviceID) has \(e.layers.count) kernels, the graph \(groups.count)")
        }
        let index = GraphIndex(graph)
        var groupOfNode = [Int](repeating: 0, count: graph.nodes.count)
        for g in groups { for n in g.nodes { groupOfNode[n] = g.id } }

        let kernels = groups.map { g in
            PlanKernel(name: graph.nodes[g.nodes[0]].name, kind: g.kind, nodes: g.nodes.map { graph.nodes[$0].name })
        }

        // Tensors crossing group boundaries: producers from externalOutputs, consumers from externalInputs.
        var consumersOf: [Int: [Int]] = [:]
        for g in groups {
            for t in index.externalInputs(of: g, in: graph) { consumersOf[t, default: []].append(g.id) }
        }
        let devicePrecision = estimates[0].precision
        func width(_ dtype: DType, _ precision: Precision) -> Int {
            switch dtype {
            case .float32, .float64, .float16, .bfloat16: min(dtype.byteSize, precision.bytes)
            case .int8, .uint8, .int16, .int32, .int64, .bool: dtype.byteSize
            }
        }
        func wire(_ info: TensorInfo) -> Int {
            switch info.dtype {
            case .float32, .float64, .float16, .bfloat16: info.shape.elementCount * min(info.dtype.byteSize, options.compression.wireWidth ?? info.dtype.byteSize)
            case .int8, .uint8, .int16, .int32, .int64, .bool: info.byteCount
            }
        }
        func planTensor(_ t: Int, producer: Int?) -> PlanTensor {
            let info = graph.tensors[t]
            return PlanTensor(name: info.name, producer: producer, consumers: (consumersOf[t] ?? []).filter { $0 != producer },
                              isOutput: index.outputSet.contains(t), wireBytes: Bytes(wire(info)), rawBytes: Bytes(info.byteCount),
                              deviceBytes: Bytes(info.shape.elementCount * width(info.dtype, devicePrecision)))
        }
        var tensors: [PlanTensor] = []
        for t in graph.inputs where consumersOf[t] != nil { tensors.append(planTensor(t, producer: nil)) }
        for g in groups {
            for t in index.externalOutputs(of: g, in: graph) { tensors.append(planTensor(t, producer: g.id)) }
        }

        var tiers: [TierCosts] = []
        for (k, e) in estimates.enumerated() {
            let d = devices[k]
            let weights = groups.map { g in
                Bytes(g.nodes.reduce(0) { acc, n in
                    acc + graph.nodes[n].params.reduce(0) { $0 + $1.shape.elementCount * width($1.dtype, e.precision) }
                })
            }
            let idle = d.power.idle.value
            let extra = d.power.max.map { Watts(max(0, $0.value.value - idle.value)) } ?? .zero
            tiers.append(TierCosts(name: tierNames[k], deviceID: d.id, unit: e.unit, computeTime: e.layers.map(\.latency),
                                   energy: e.layers.map(\.energy.total), weightBytes: weights, idlePower: idle, codecExtraPower: extra))
        }

        var pinned = Set<Int>()
        if let through = constraints.keepOnDeviceThrough {
            let names = graph.nodes.map(\.name)
            guard let node = graph.nodes.first(where: { $0.name == through.value }) else {
                let hint = didYouMean(through.value, among: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw PlanningError("unknown layer", spec: through.error("no layer named '\(through.value)' in \(graph.name)\(hint)"))
            }
            for g in 0...groupOfNode[node.id] { pinned.insert(g) }
            // The raw input never leaves the device either.
            for t in tensors where t.producer == nil { pinned.formUnion(t.consumers) }
        }
        let planConstraints = PlanConstraints(deviceMemory: constraints.deviceMemory ?? devices[0].ram.value, deadline: constraints.deadline,
                                              maxUplinkBytes: constraints.maxUplinkBytes, pinnedToDevice: pinned)
        let codec: CodecModel? = options.compression == .none ? nil
            : options.encodeRate.flatMap { e in options.decodeRate.map { CodecModel(encodeRate: e, decodeRate: $0) } }
        var problem = PlanningProblem(modelName: graph.name, kernels: kernels, tensors: tensors, tiers: tiers, hops: links.map(HopModel.init),
                                      objective: .latency, constraints: planConstraints, codec: codec, returnResult: options.returnResult)
        problem.objective = problem.planObjective(objective)
        let errors = problem.validationErrors()
        guard errors.isEmpty else { throw PlanningError("internal: " + errors.joined(separator: "; ")) }
        return problem
    }

    /// The scenario's objective for this problem (`weighted` is normalised by device-only).
    public func planObjective(_ spec: ObjectiveSpec) -> PlanObjective {
        switch spec.kind {
        case .latency: return .latency
        case .deviceEnergy: return .deviceEnergy
        case .throughput: return .throughput
        case .weighted:
            let local = evaluate([Int](repeating: 0, count: kernelCount))
            let l = max(local.latency.value, 1e-12), e = max(local.deviceEnergy.value, 1e-12)
            return .weighted(perSecond: spec.latencyWeight / l, perJoule: spec.energyWeight / e)
        }
    }
}
