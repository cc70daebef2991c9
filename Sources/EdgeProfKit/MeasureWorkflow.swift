import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// `edgeprof measure`: execute a model on this CPU, time every layer and the whole model,
/// and put the cost model's prediction for a device (default `devices/host.yaml`) next to it.
public enum MeasureWorkflow {
    public static let defaultDeviceFile = "devices/host.yaml"
    /// Above this end-to-end coefficient of variation the report warns that the machine is noisy.
    public static let noisyCoV = 0.05

    public struct Request: Sendable {
        public var model: String
        /// nil = all cores.
        public var threads: Int?
        /// nil = `devices/host.yaml` when it exists (no prediction otherwise).
        public var deviceFile: String?
        public var unit: String?
        public var timing: TimingOptions
        public var inputs: [NPYFile.Binding]
        public var loadOptions: ModelLoadOptions
        /// Seeds zoo weights and the synthetic input.
        public var seed: UInt64

        public init(model: String, threads: Int? = nil, deviceFile: String? = nil, unit: String? = nil,
                    timing: TimingOptions = TimingOptions(), inputs: [NPYFile.Binding] = [],
                    loadOptions: ModelLoadOptions = ModelLoadOptions(), seed: UInt64 = 0) {
            self.model = model
            self.threads = threads
            self.deviceFile = deviceFile
            self.unit = unit
            self.timing = timing
            self.inputs = inputs
            self.loadOptions = loadOptions
            self.seed = seed
        }
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> MeasureReport {
        var warnings: [String] = []
        // Device first: a bad device file should fail before minutes of measuring.
        var device: DeviceProfile?
        if let file = request.deviceFile {
            device = try ProfileWorkflow.loadDevices([file])[0]
        } else if FileManager.default.fileExists(atPath: defaultDeviceFile) {
            device = try ProfileWorkflow.loadDevices([defaultDeviceFile])[0]
        } else {
            warnings.append("no prediction: \(defaultDeviceFile) not found here; pass --device FILE to compare with the cost model")
        }
        let runnable = try RunnableModel.load(request.model, options: request.loadOptions, seed: request.seed)
        let graph = runnable.model.graph
        let compiled = try runnable.compile(threads: request.threads, seed: request.seed)
        let inputs: [HostTensor]
        let inputNote: String
        if request.inputs.isEmpty {
            inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: request.seed &+ 1000 &+ UInt64(i)) }
            inputNote = "seeded random normal (seed \(request.seed &+ 1000))"
        } else {
            inputs = try NPYFile.inputs(request.inputs, for: compiled.graph)
            inputNote = request.inputs.map(\.path).joined(separator: ", ")
        }
        let measurement: ModelMeasurement
        do { measurement = try TimingHarness.measure(compiled, inputs: inputs, options: request.timing) } catch {
            throw .importFailed("cannot execute \(runnable.model.name): \(error.description)")
        }
        let peakRSS = ProcessMemory.peakResidentBytes

        var estimate: DeviceEstimate?
        if let device {
            do { estimate = try AnalyticalModel.estimate(compiled.graph, on: device, unit: request.unit) } catch { throw .costModel(error) }
        }
        return assemble(runnable: runnable, compiled: compiled, measurement: measurement, estimate: estimate, device: device,
                        peakRSS: peakRSS, inputNote: inputNote, timing: request.timing, warnings: warnings)
    }

    static func assemble(runnable: RunnableModel, compiled: CompiledModel, measurement m: ModelMeasurement, estimate: DeviceEstimate?,
                         device: DeviceProfile?, peakRSS: Int?, inputNote: String, timing: TimingOptions,
                         warnings initial: [String]) -> MeasureReport {
        var warnings = initial
        let g = compiled.graph
        let index = GraphIndex(g)
        let totals = g.totalCounts()
        let predictedLayers = estimate.map { $0.layers.count == compiled.layers.count ? $0.layers : [] } ?? []
        if estimate != nil && predictedLayers.isEmpty {
            warnings.append("the cost model's layers do not line up with the runner's; per-layer predictions omitted")
        }
        let medianSum = m.layers.reduce(0) { $0 + $1.p50 }
        var layers: [MeasuredLayer] = []
        for (i, plan) in compiled.layers.enumerated() {
            let group = g.fusionGroups[i]
            let counts = g.counts(ofGroup: group, index: index)
            let tail = g.nodes[group.nodes[group.nodes.count - 1]]
            let stats = m.layers[i]
            layers.append(MeasuredLayer(
                index: i, name: plan.name, kind: plan.kind, algorithm: plan.algorithm, nodes: plan.nodes,
                outputShape: tail.outputs.first.map { g.tensors[$0].shape.dims } ?? [], macs: counts.macs, flops: counts.flops,
                measuredLatencyS: LatencyJSON(stats), predictedLatencyS: predictedLayers.isEmpty ? nil : predictedLayers[i].latency.value,
                share: medianSum > 0 ? stats.p50 / medianSum : 0, achievedFlopsPerS: stats.p50 > 0 ? Double(counts.flops) / stats.p50 : 0))
        }
        let e2e = m.endToEnd
        if e2e.cov > noisyCoV {
            warnings.append("end-to-end CoV \(formatPercent(e2e.cov)) > \(formatPercent(noisyCoV)): this machine is noisy right now; "
                            + "compare against a baseline measured in the same run, or raise --iterations / --time-budget")
        }
        let noisyLayers = layers.filter { $0.measuredLatencyS.cov > noisyCoV && $0.share >= 0.02 }
        if !noisyLayers.isEmpty {
            warnings.append("\(noisyLayers.count) layer(s) with ≥ 2% of the time have CoV > \(formatPercent(noisyCoV))")
        }

        let counters = HardwareCounterSupport.probe()
        let energy: CounterQuantity
        if let e = m.energyPerInferenceJ {
            energy = CounterQuantity(provenance: "measured", value: e, unit: "J", note: "RAPL over the end-to-end runs: " + counters.energyNote)
        } else if let est = estimate, let device {
            let dynamic = est.totals.energy.compute.value + est.totals.energy.memory.values.reduce(0) { $0 + $1.value }
            energy = CounterQuantity(provenance: "modelled", value: dynamic + device.power.idle.value.value * e2e.p50, unit: "J",
                                     note: "no energy counters (\(counters.energyNote)); modelled as the cost model's compute + memory energy "
                                         + "+ idle power × measured median latency")
        } else {
            energy = CounterQuantity(provenance: "modelled", value: nil, unit: "J", note: "no energy counters (\(counters.energyNote)) and no device profile to model from")
        }
        let traffic: CounterQuantity
        if let est = estimate, let dram = est.totals.traffic.last {
            traffic = CounterQuantity(provenance: "modelled", value: dram.readBytes.value + dram.writeBytes.value, unit: "B",
                                      note: "no LLC/memory counters (\(counters.memoryTrafficNote)); the cost model's \(dram.level) traffic")
        } else {
            traffic = CounterQuantity(provenance: "modelled", value: nil, unit: "B", note: "no LLC/memory counters (\(counters.memoryTrafficNote))")
        }
        let mem = compiled.memory
        let memory = MemoryComparison(
            arenaBytes: mem.arenaBytes, arenaLowerBoundBytes: mem.arenaLowerBoundBytes, unsharedActivationBytes: mem.unsharedBytes,
            scratchBytes: mem.scratchBytes, packedWeightBytes: mem.packedWeightBytes, peakRSSBytes: peakRSS,
            predictedPeakActivationBytes: estimate?.totals.peakActivationBytes.value, predictedWeightBytes: estimate?.totals.weightBytes.value,
            predictedPeakMemoryBytes: estimate?.totals.peakMemory.value)
        let reportTotals = MeasureTotals(
            measuredLatencyS: LatencyJSON(e2e), perLayerRunsLatencyS: LatencyJSON(m.layeredEndToEnd), timingGapS: m.timingGap,
            predictedLatencyS: estimate?.totals.latency.value, memory: memory, energyJ: energy, dramTrafficBytes: traffic,
            achievedFlopsPerS: e2e.p50 > 0 ? Double(totals.flops) / e2e.p50 : 0)
        func tensors(_ ids: [Int]) -> [MeasuredTensor] { ids.map { MeasuredTensor(name: g.tensors[$0].name, shape: g.tensors[$0].shape.dims) } }
        let model = MeasuredModel(name: runnable.model.name, source: runnable.model.source, weights: runnable.weightsSource,
                                  macs: totals.macs, flops: totals.flops, params: totals.params, nodes: g.nodes.count,
                                  fusedKernels: g.fusionGroups.count, inputs: tensors(g.inputs), outputs: tensors(g.outputs))
        let settings = MeasureSettings(threads: compiled.threads, blasThreads: BLASThreads.current, warmup: m.warmup,
                                       iterationsEndToEnd: e2e.samples, iterationsPerLayer: m.layeredEndToEnd.samples,
                                       timeBudgetS: timing.iterations == nil ? timing.timeBudget : nil, layout: "nchw-fp32", input: inputNote)
        let prediction = estimate.map { PredictionSource(deviceID: $0.deviceID, deviceName: $0.deviceName, file: $0.deviceFile, unit: $0.unit) }
        return MeasureReport(schemaVersion: MeasureReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: "measured",
                             model: model, host: MachineInfo.current(), settings: settings, prediction: prediction, totals: reportTotals,
                             layers: layers, warnings: warnings)
    }
}

extension MeasureReport {
    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(self), let s = String(data: data, encoding: .utf8) else { return "{}" }
        return s
    }
}
