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
        /// nil = the device's cores (capped by this host) with a device, else all cores.
        public var threads: Int?
        /// Target device: the run is configured from it and its costs are predicted and scaled.
        /// nil = `devices/host.yaml` when it exists (no prediction otherwise).
        public var deviceFile: String?
        public var unit: String?
        /// Calibrated profile of this host, the denominator of trace-driven scaling
        /// (nil = `devices/host.yaml`).
        public var hostFile: String?
        public var timing: TimingOptions
        public var inputs: [NPYFile.Binding]
        public var loadOptions: ModelLoadOptions
        /// Seeds zoo weights and the synthetic input.
        public var seed: UInt64

        public init(model: String, threads: Int? = nil, deviceFile: String? = nil, unit: String? = nil, hostFile: String? = nil,
                    timing: TimingOptions = TimingOptions(), inputs: [NPYFile.Binding] = [],
                    loadOptions: ModelLoadOptions = ModelLoadOptions(), seed: UInt64 = 0) {
            self.model = model
            self.threads = threads
            self.deviceFile = deviceFile
            self.unit = unit
            self.hostFile = hostFile
            self.timing = timing
            self.inputs = inputs
            self.loadOptions = loadOptions
            self.seed = seed
        }
    }

    /// Everything besides the measurement that the report is assembled from.
    struct Context {
        var device: DeviceProfile?
        var host: DeviceProfile?
        var plan: EmulationPlan?
        var estimate: DeviceEstimate?
        var hostEstimate: DeviceEstimate?
        var numerics: StorageNumerics?
        var peakRSS: Int?
        var inputNote: String
        var warnings: [String]
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> MeasureReport {
        var warnings: [String] = []
        // Device files first: a bad file should fail before minutes of measuring.
        let hostFile = request.hostFile ?? defaultDeviceFile
        var host: DeviceProfile?
        if FileManager.default.fileExists(atPath: hostFile) {
            host = try ProfileWorkflow.loadDevices([hostFile])[0]
        } else if request.hostFile != nil {
            throw .io("\(hostFile): no such file (the host profile for scaling; `edgeprof calibrate` writes one)")
        }
        var device: DeviceProfile?
        if let file = request.deviceFile {
            device = try ProfileWorkflow.loadDevices([file])[0]
            if host == nil {
                warnings.append("no scaled estimate: \(hostFile) not found; pass --host FILE (a calibrated profile of this machine)")
            }
        } else if let host {
            device = host
        } else {
            warnings.append("no prediction: \(defaultDeviceFile) not found here; pass --device FILE to compare with the cost model")
        }
        let hostCores = ProcessInfo.processInfo.activeProcessorCount
        let plan = try device.map { d throws(EdgeProfError) in
            try DeviceEmulation.plan(device: d, unit: request.unit, hostCores: hostCores, requestedThreads: request.threads)
        }
        let runnable = try RunnableModel.load(request.model, options: request.loadOptions, seed: request.seed)
        let options = plan?.runnerOptions ?? RunnerOptions(threads: request.threads)
        let compiled = try runnable.compile(options: options, seed: request.seed)
        if let plan { try DeviceEmulation.checkMemory(plan, memory: compiled.memory, model: runnable.model.name) }
        let inputs: [HostTensor]
        let inputNote: String
        if request.inputs.isEmpty {
            inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: request.seed &+ 1000 &+ UInt64(i)) }
            inputNote = "seeded random normal (seed \(request.seed &+ 1000))"
        } else {
            inputs = try NPYFile.inputs(request.inputs, for: compiled.graph)
            inputNote = request.inputs.map(\.path).joined(separator: ", ")
        }
        var numerics: StorageNumerics?
        if let plan, plan.storesFP16 {
            var fp16Options = options
            fp16Options.activationStorage = .fp16
            let rounded = RunnableModel(model: runnable.model, weights: runnable.weights.roundedToFP16(), weightsSource: runnable.weightsSource)
            let simulated = try rounded.compile(options: fp16Options, seed: request.seed)
            do {
                numerics = StorageNumerics(reference: try compiled.run(inputs), simulated: try simulated.run(inputs), precision: "fp16")
            } catch {
                throw .importFailed("cannot execute \(runnable.model.name): \(error.description)")
            }
        }
        let measurement: ModelMeasurement
        do { measurement = try TimingHarness.measure(compiled, inputs: inputs, options: request.timing) } catch {
            throw .importFailed("cannot execute \(runnable.model.name): \(error.description)")
        }
        let peakRSS = ProcessMemory.peakResidentBytes

        var estimate: DeviceEstimate?
        var hostEstimate: DeviceEstimate?
        do {
            if let device, let plan {
                let target = plan.unitKind == ComputeKind.cpu.rawValue ? device.activatingCores(plan.deviceThreads, unit: plan.unit) : device
                estimate = try AnalyticalModel.estimate(compiled.graph, on: target, unit: plan.unit)
            }
            if let host {
                hostEstimate = try AnalyticalModel.estimate(compiled.graph, on: host.activatingCores(compiled.threads), unit: nil)
            }
        } catch { throw .costModel(error) }
        let context = Context(device: device, host: host, plan: plan, estimate: estimate, hostEstimate: hostEstimate, numerics: numerics,
                              peakRSS: peakRSS, inputNote: inputNote, warnings: warnings)
        return try assemble(runnable: runnable, compiled: compiled, measurement: measurement, context: context, timing: request.timing)
    }

    static func assemble(runnable: RunnableModel, compiled: CompiledModel, measurement m: ModelMeasurement, context c: Context,
                         timing: TimingOptions) throws(EdgeProfError) -> MeasureReport {
        var warnings = c.warnings
        let g = compiled.graph
        let index = GraphIndex(g)
        let totals = g.totalCounts()
        func aligned(_ e: DeviceEstimate?) -> [LayerEstimate] { e.map { $0.layers.count == compiled.layers.count ? $0.layers : [] } ?? [] }
        let predictedLayers = aligned(c.estimate)
        let hostLayers = aligned(c.hostEstimate)
        if (c.estimate != nil && predictedLayers.isEmpty) || (c.hostEstimate != nil && hostLayers.isEmpty) {
            warnings.append("the cost model's layers do not line up with the runner's; per-layer predictions omitted")
        }
        let e2e = m.endToEnd
        let medianSum = m.layers.reduce(0) { $0 + $1.p50 }
        // Trace-driven scaling: per-layer medians rescaled to sum to the end-to-end median (the
        // per-layer clocks' overhead is spread over the layers), then measured × device / host.
        var scaled: DeviceEstimate?
        if let estimate = c.estimate, let hostEstimate = c.hostEstimate, let device = c.device, !predictedLayers.isEmpty, !hostLayers.isEmpty {
            do {
                scaled = try TraceScaling.scale(device: estimate, host: hostEstimate, measured: m.normalizedLayerSeconds,
                                                idlePower: device.power.idle.value)
            } catch { throw .usage(error.description) }
        }
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
                hostPredictedLatencyS: hostLayers.isEmpty ? nil : hostLayers[i].latency.value,
                scaledLatencyS: scaled.map { $0.layers[i].latency.value },
                share: medianSum > 0 ? stats.p50 / medianSum : 0, achievedFlopsPerS: stats.p50 > 0 ? Double(counts.flops) / stats.p50 : 0))
        }
        if e2e.cov > noisyCoV {
            warnings.append("end-to-end CoV \(formatPercent(e2e.cov)) > \(formatPercent(noisyCoV)): this machine is noisy right now; "
                            + "compare against a baseline measured in the same run, or raise --iterations / --time-budget")
        }
        if let warning = farApartWarning(m) { warnings.append(warning) }
        let host = MachineInfo.current()
        // Only when some layer calls OpenBLAS (the generic kernel set; without AVX-512F also the C set's
        // products over several rows, attention, ConvTranspose and small Winograd layers).
        let blasLayers = layers.filter { $0.algorithm.contains("sgemm") || $0.algorithm.contains("sgemv") }
        if let first = blasLayers.first, let warning = host.blasCoreWarning {
            warnings.append(warning + "; \(blasLayers.count) layer(s) of this model call it (first: '\(first.name)', \(first.algorithm))")
        }
        let noisyLayers = layers.filter { $0.measuredLatencyS.cov > noisyCoV && $0.share >= 0.02 }
        if !noisyLayers.isEmpty {
            warnings.append("\(noisyLayers.count) layer(s) with ≥ 2% of the time have CoV > \(formatPercent(noisyCoV))")
        }

        // Energy and traffic of the run on THIS host: measured with counters, else modelled from the host profile.
        let counters = HardwareCounterSupport.probe()
        let hostModel = c.hostEstimate.map { ($0, c.host!) } ?? c.estimate.map { ($0, c.device!) }
        let energy: CounterQuantity
        if let e = m.energyPerInferenceJ {
            energy = CounterQuantity(provenance: "measured", value: e, unit: "J", note: "RAPL over the end-to-end runs: " + counters.energyNote)
        } else if let (est, profile) = hostModel {
            let dynamic = est.totals.energy.compute.value + est.totals.energy.memory.values.reduce(0) { $0 + $1.value }
            energy = CounterQuantity(provenance: "modelled", value: dynamic + profile.power.idle.value.value * e2e.p50, unit: "J",
                                     note: "no energy counters (\(counters.energyNote)); modelled from \(profile.file) as compute + memory "
                                         + "energy + idle power × measured median latency")
        } else {
            energy = CounterQuantity(provenance: "modelled", value: nil, unit: "J", note: "no energy counters (\(counters.energyNote)) and no device profile to model from")
        }
        let traffic: CounterQuantity
        if let (est, profile) = hostModel, let dram = est.totals.traffic.last {
            traffic = CounterQuantity(provenance: "modelled", value: dram.readBytes.value + dram.writeBytes.value, unit: "B",
                                      note: "no LLC/memory counters (\(counters.memoryTrafficNote)); \(profile.file)'s \(dram.level) traffic")
        } else {
            traffic = CounterQuantity(provenance: "modelled", value: nil, unit: "B", note: "no LLC/memory counters (\(counters.memoryTrafficNote))")
        }
        let mem = compiled.memory
        let memoryPrediction = hostModel?.0
        let memory = MemoryComparison(
            arenaBytes: mem.arenaBytes, arenaLowerBoundBytes: mem.arenaLowerBoundBytes, unsharedActivationBytes: mem.unsharedBytes,
            scratchBytes: mem.scratchBytes, packedWeightBytes: mem.packedWeightBytes, peakRSSBytes: c.peakRSS,
            predictedPeakActivationBytes: memoryPrediction?.totals.peakActivationBytes.value, predictedWeightBytes: memoryPrediction?.totals.weightBytes.value,
            predictedPeakMemoryBytes: memoryPrediction?.totals.peakMemory.value)
        let reportTotals = MeasureTotals(
            measuredLatencyS: LatencyJSON(e2e), perLayerRunsLatencyS: LatencyJSON(m.layeredEndToEnd), timingGapS: m.timingGap,
            predictedLatencyS: c.estimate?.totals.latency.value, hostPredictedLatencyS: c.hostEstimate?.totals.latency.value,
            scaledLatencyS: scaled?.totals.latency.value, predictedEnergyJ: c.estimate?.totals.energy.total.value,
            scaledEnergyJ: scaled?.totals.energy.total.value, memory: memory, energyJ: energy, dramTrafficBytes: traffic,
            achievedFlopsPerS: e2e.p50 > 0 ? Double(totals.flops) / e2e.p50 : 0)
        func tensors(_ ids: [Int]) -> [MeasuredTensor] { ids.map { MeasuredTensor(name: g.tensors[$0].name, shape: g.tensors[$0].shape.dims) } }
        let model = MeasuredModel(name: runnable.model.name, source: runnable.model.source, weights: runnable.weightsSource,
                                  macs: totals.macs, flops: totals.flops, params: totals.params, nodes: g.nodes.count,
                                  fusedKernels: g.fusionGroups.count, inputs: tensors(g.inputs), outputs: tensors(g.outputs))
        let settings = MeasureSettings(threads: compiled.threads, blasThreads: BLASThreads.current, warmup: m.warmup,
                                       iterationsEndToEnd: e2e.samples, iterationsPerLayer: m.layeredEndToEnd.samples,
                                       timeBudgetS: timing.iterations == nil ? timing.timeBudget : nil, layout: "nchw-fp32", kernels: compiled.options.kernels.rawValue,
                                       input: c.inputNote, placementBefore: m.placementBefore, placementAfter: m.placementAfter)
        let prediction = c.estimate.map { PredictionSource(deviceID: $0.deviceID, deviceName: $0.deviceName, file: $0.deviceFile, unit: $0.unit) }
        var emulation: EmulationSummary?
        if let plan = c.plan {
            let need = DeviceEmulation.memoryNeeded(mem, precision: plan.precision)
            emulation = EmulationSummary(
                plan: plan, hostProfile: c.host?.file, memoryNeededBytes: need.weights + need.activations + need.scratch,
                numerics: c.numerics, disagreements: scaled == nil ? [] : disagreements(layers, hostLayers: hostLayers, predictedLayers: predictedLayers))
        }
        return MeasureReport(schemaVersion: MeasureReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: "measured",
                             model: model, host: host, settings: settings, prediction: prediction, emulation: emulation,
                             totals: reportTotals, layers: layers, warnings: warnings)
    }

    /// The warning for a multi-thread measurement whose threads' cores were far apart (`ThreadPlacement`).
    public static func farApartWarning(_ m: ModelMeasurement) -> String? {
        guard m.ranFarApart else { return nil }
        let probes = [("before", m.placementBefore), ("after", m.placementAfter)].compactMap { label, p in
            p.map { "\(formatFixed($0.roundTripNs, decimals: 0)) ns \(label)" }
        }.joined(separator: ", ")
        return "the \(m.threads) threads ran on cores far apart (cache-line round trip \(probes) the timed runs; nearby cores: "
            + "< \(formatFixed(ThreadPlacement.farApartNs, decimals: 0)) ns): the host placed them on different dies, so every line one "
            + "thread writes and another reads crosses between dies and multi-thread timings can be 2× slower than usual; re-run, "
            + "and compare only with baselines measured in the same placement"
    }

    /// The layers where the scaled and the predicted device time differ most (absolute
    /// seconds), with the host evidence behind the difference.
    static func disagreements(_ layers: [MeasuredLayer], hostLayers: [LayerEstimate], predictedLayers: [LayerEstimate], limit: Int = 5) -> [Disagreement] {
        let ranked = layers.compactMap { l -> (MeasuredLayer, Double)? in
            guard let p = l.predictedLatencyS, let s = l.scaledLatencyS, p > 0, s != p else { return nil }
            return (l, abs(s - p))
        }.sorted { ($0.1, -$0.0.index) > ($1.1, -$1.0.index) }.prefix(limit)
        return ranked.map { l, _ in
            let host = hostLayers[l.index]
            let measured = l.scaledLatencyS! / l.predictedLatencyS! * host.latency.value
            let factor = host.latency.value > 0 ? measured / host.latency.value : 0
            let modelled = host.latency.value > 0 ? Double(l.flops) / host.latency.value : 0
            let device = predictedLayers[l.index]
            let why = "on this host the real kernel (\(l.algorithm)) took \(formatFixed(factor, decimals: 2))× its prediction: "
                + "\(formatFixed(Double(l.flops) / Swift.max(measured, 1e-12) / 1e9, decimals: 1)) GFLOP/s achieved vs "
                + "\(formatFixed(modelled / 1e9, decimals: 1)) modelled (\(host.opClass.rawValue), host-bound \(host.bound), device-bound "
                + "\(device.bound)); scaling carries that factor to the device"
            return Disagreement(index: l.index, name: l.name, kind: l.kind, opClass: host.opClass.rawValue, predictedLatencyS: l.predictedLatencyS!,
                                scaledLatencyS: l.scaledLatencyS!, hostFactor: factor, explanation: why)
        }
    }
}

extension MeasureReport {
    /// Whether a placement probe found the threads' cores far apart around the timed runs.
    public var ranFarApart: Bool { ThreadPlacement.anyFarApart(settings.placementBefore, settings.placementAfter) }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(self), let s = String(data: data, encoding: .utf8) else { return "{}" }
        return s
    }
}
