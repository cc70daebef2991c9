@_exported import OffloadPlanner
@_exported import RuntimeSimulator
import CostModel
import DeviceSpec
import Foundation
import NNGraph

/// `edgeprof plan`: load a split-computing scenario, cost the model on every tier, plan.
public enum PlanWorkflow {
    public struct Request: Sendable {
        public var scenarioFile: String
        /// Overrides the scenario's model (zoo name or ONNX path).
        public var model: String?
        /// Overrides the scenario's objective.
        public var objective: ObjectiveKind?
        /// A planner by name (`PlannerRegistry.names`); nil = the first that supports the problem.
        public var planner: String?
        /// Overrides the first link's uplink (the downlink keeps its ratio).
        public var bandwidth: BytesPerSecond?
        /// Per-kernel tier costs: cost model, or scaled from a measurement on this host.
        public var costs: CostSource
        /// Host profile for `scaled` costs (nil = devices/host.yaml).
        public var hostFile: String?
        public init(scenarioFile: String, model: String? = nil, objective: ObjectiveKind? = nil, planner: String? = nil, bandwidth: BytesPerSecond? = nil,
                    costs: CostSource = .predicted, hostFile: String? = nil) {
            self.scenarioFile = scenarioFile
            self.model = model
            self.objective = objective
            self.planner = planner
            self.bandwidth = bandwidth
            self.costs = costs
            self.hostFile = hostFile
        }
    }

    public struct SweepRequest: Sendable {
        public var from: BytesPerSecond
        public var to: BytesPerSecond
        public var points: Int
        /// Link index (0 = the first link, device side).
        public var link: Int
        public init(from: BytesPerSecond, to: BytesPerSecond, points: Int = 100, link: Int = 0) {
            self.from = from
            self.to = to
            self.points = points
            self.link = link
        }
    }

    /// Everything loaded and costed, ready for planners and the simulator.
    public struct Prepared: Sendable {
        public var scenario: OffloadScenario
        public var model: LoadedModel
        public var devices: [DeviceProfile]
        public var estimates: [DeviceEstimate]
        public var problem: PlanningProblem
        public var planner: any Planner
        public var costs: CostSource
        /// For scaled costs: the host measurement behind them.
        public var costNote: String?
    }

    public static func prepare(_ request: Request) throws(EdgeProfError) -> Prepared {
        let scenario: OffloadScenario
        do { scenario = try OffloadScenarioLoader.load(file: request.scenarioFile) } catch { throw .spec(error) }
        let devices = try ProfileWorkflow.loadDevices(scenario.tiers.map(\.deviceFile))
        let reference = request.model ?? scenario.model
        let runnable = request.costs == .scaled ? try RunnableModel.load(reference) : nil
        let model: LoadedModel
        if let runnable { model = runnable.model } else { model = try ModelSource.load(reference) }
        var estimates: [DeviceEstimate] = []
        for (tier, device) in zip(scenario.tiers, devices) {
            do { estimates.append(try AnalyticalModel.estimate(model.graph, on: device, unit: tier.unit)) } catch { throw .costModel(error) }
        }
        var costNote: String?
        if let runnable {
            let host = try ScaledCosts.loadHost(request.hostFile)
            FileHandle.standardError.write(Data("measuring \(runnable.model.name) on this host for scaled costs…\n".utf8))
            let trace = try ScaledCosts.trace(runnable, host: host)
            estimates = try ScaledCosts.scale(estimates, devices: devices, trace: trace)
            costNote = "kernel costs SCALED: measured on this host (\(trace.threads) threads, end-to-end median "
                + "\(formatSeconds(trace.endToEnd.p50)), \(trace.endToEnd.samples) runs) × tier predicted / host predicted (\(trace.hostFile))"
        }
        var objective = scenario.objective
        if let o = request.objective { objective.kind = o }
        var problem: PlanningProblem
        do {
            problem = try PlanningProblem.build(graph: model.graph, estimates: estimates, devices: devices, tierNames: scenario.tiers.map(\.name),
                                                links: scenario.links, objective: objective, constraints: scenario.constraints,
                                                options: scenario.options)
        } catch {
            if let spec = error.spec { throw .spec(spec) }
            throw .usage(error.message)
        }
        if let bw = request.bandwidth {
            guard !problem.hops.isEmpty else { throw .usage("--bandwidth needs a scenario with at least one link") }
            problem = problem.withUplink(bw, hop: 0)
        }
        let planner = try choosePlanner(request.planner, for: problem)
        return Prepared(scenario: scenario, model: model, devices: devices, estimates: estimates, problem: problem, planner: planner,
                        costs: request.costs, costNote: costNote)
    }

    static func choosePlanner(_ name: String?, for problem: PlanningProblem) throws(EdgeProfError) -> any Planner {
        if let name {
            guard let p = PlannerRegistry.planner(named: name) else {
                let hint = didYouMean(name, among: PlannerRegistry.names).map { " (did you mean '\($0)'?)" } ?? ""
                throw .usage("unknown planner '\(name)'\(hint); available: \(PlannerRegistry.names.joined(separator: ", "))")
            }
            if case .unsupported(let why) = p.supports(problem) {
                throw .usage("planner '\(name)' does not support this problem: \(why)")
            }
            return p
        }
        guard let p = PlannerRegistry.choose(for: problem) else {
            let reasons = PlannerRegistry.all.map { p -> String in
                if case .unsupported(let why) = p.supports(problem) { return "\(p.name): \(why)" }
                return "\(p.name): supported"
            }
            throw .usage("no planner supports this problem:\n  " + reasons.joined(separator: "\n  "))
        }
        return p
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> PlanReport {
        try run(prepared: prepare(request))
    }

    /// Plans an already prepared scenario (the caller keeps `prepared` to record the run).
    public static func run(prepared: Prepared) throws(EdgeProfError) -> PlanReport {
        let result = prepared.planner.plan(prepared.problem)
        return report(prepared, result)
    }

    public static func sweep(_ request: Request, _ sweep: SweepRequest) throws(EdgeProfError) -> SweepReport {
        try self.sweep(prepared: prepare(request), sweep)
    }

    public static func sweep(prepared: Prepared, _ sweep: SweepRequest) throws(EdgeProfError) -> SweepReport {
        let p = prepared.problem
        guard (0..<p.hops.count).contains(sweep.link) else {
            throw .usage("--sweep-link \(sweep.link + 1): this scenario has \(p.hops.count) link(s)")
        }
        guard sweep.from.value > 0, sweep.to.value > sweep.from.value else {
            throw .usage("--sweep-bandwidth needs 0 < from < to, got \(formatRate(sweep.from))..\(formatRate(sweep.to))")
        }
        guard sweep.points >= 2 else { throw .usage("--sweep-points must be at least 2") }
        let result = BandwidthSweep.run(p, hop: sweep.link, from: sweep.from, to: sweep.to, points: sweep.points, planner: prepared.planner)
        let plans = result.plans.enumerated().map { i, placement in
            SweepPlanRecord(id: i, summary: PlanDescription.summary(p, placement), split: PlanDescription.splitPoints(p, placement), placement: placement)
        }
        return SweepReport(
            schemaVersion: SweepReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: prepared.costs.rawValue,
            scenario: prepared.scenario.name, model: modelRecord(prepared), objective: p.objective.name, planner: prepared.planner.name,
            link: linkRecords(prepared)[sweep.link], method: result.method, solves: result.solves, plans: plans,
            intervals: result.intervals.map { SweepIntervalRecord(fromBitsPerS: $0.from.value * 8, toBitsPerS: $0.to.value * 8, plan: $0.plan) },
            switchPointsBitsPerS: result.switchPoints.map { $0.value * 8 },
            points: result.points.map {
                SweepPointRecord(bandwidthBitsPerS: $0.bandwidth.value * 8, plan: $0.plan, objectiveValue: $0.objectiveValue.isFinite ? $0.objectiveValue : nil,
                                 latencyS: $0.latency?.value, deviceEnergyJ: $0.deviceEnergy?.value)
            })
    }

    // MARK: Records

    static func modelRecord(_ prepared: Prepared) -> PlanModelRecord {
        let c = prepared.model.graph.totalCounts()
        return PlanModelRecord(name: prepared.model.name, source: prepared.model.source, macs: c.macs, params: c.params,
                               kernels: prepared.problem.kernelCount, cutTensors: prepared.problem.tensors.count)
    }

    static func linkRecords(_ prepared: Prepared) -> [PlanLinkRecord] {
        let p = prepared.problem
        return p.hops.enumerated().map { h, hop in
            let spec = prepared.scenario.links[h]
            return PlanLinkRecord(index: h, id: spec.id, name: spec.name, from: p.tiers[h].name, to: p.tiers[h + 1].name,
                                  uplinkBitsPerS: hop.uplink.value * 8, downlinkBitsPerS: hop.downlink.value * 8, rttS: hop.rtt.value,
                                  jitterMeanS: hop.meanJitter.value, loss: hop.loss, radio: hop.radio != nil, trace: spec.trace?.file)
        }
    }

    static func totals(_ p: PlanningProblem, _ m: PlanMetrics) -> PlanTotalsRecord { PlanTotalsRecord(p, m) }

    static func report(_ prepared: Prepared, _ result: PlanResult) -> PlanReport {
        let p = prepared.problem
        let tiers = prepared.scenario.tiers.enumerated().map { k, t in
            PlanTierRecord(index: k, name: t.name, deviceID: prepared.devices[k].id, deviceName: prepared.devices[k].name,
                           unit: prepared.estimates[k].unit, precision: prepared.estimates[k].precision.rawValue)
        }
        let c = p.constraints
        let constraints = PlanConstraintRecord(deviceMemoryBytes: c.deviceMemory?.value, deadlineS: c.deadline?.value, maxUplinkBytes: c.maxUplinkBytes?.value,
                                               pinnedKernels: c.pinnedToDevice.sorted().map { p.kernels[$0].name })
        var optimality = "exact", scope: String?, lowerBound: Double?, reason: String?
        switch result.optimality {
        case .exact(let s): scope = s
        case .bestFound(let lb): optimality = "best_found"; lowerBound = lb
        case .infeasible(let r): optimality = "infeasible"; reason = r
        }
        let planner = PlannerRecord(name: prepared.planner.name, summary: prepared.planner.summary, optimality: optimality, scope: scope,
                                    lowerBound: lowerBound, work: result.work)
        var plan: PlanRecord?
        if let placement = result.placement, let m = result.metrics {
            let uses = p.tiers.indices.map { k in
                TierUseRecord(tier: p.tiers[k].name, kernels: m.tierKernels[k], computeS: m.tierCompute[k].value,
                              runs: PlanDescription.runs(placement, tier: k).map { r in
                                  r.count == 1 ? p.kernels[r.lowerBound].name : "\(p.kernels[r.lowerBound].name)…\(p.kernels[r.upperBound].name)"
                              })
            }
            let transfers = m.transfers.map { t in
                TransferRow(tensor: p.tensors[t.tensor].name, link: p.hops[t.hop].name, direction: t.direction.rawValue,
                            fromTier: p.tiers[t.direction == .up ? t.hop : t.hop + 1].name, toTier: p.tiers[t.direction == .up ? t.hop + 1 : t.hop].name,
                            bytes: t.bytes.value, timeS: t.time.value)
            }
            plan = PlanRecord(summary: PlanDescription.summary(p, placement), split: PlanDescription.splitPoints(p, placement),
                              totals: totals(p, m), tiers: uses, transfers: transfers,
                              placement: placement.enumerated().map { i, k in
                                  KernelPlacementRecord(index: i, name: p.kernels[i].name, kind: p.kernels[i].kind, tier: p.tiers[k].name)
                              })
        }
        let alternatives = Alternatives.compare(p, chosen: result).map { a in
            AlternativeRecord(name: a.name, summary: PlanDescription.summary(p, a.placement), feasible: a.metrics.feasible,
                              totals: totals(p, a.metrics), verdict: a.verdict)
        }
        return PlanReport(schemaVersion: PlanReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: prepared.costs.rawValue,
                          costNote: prepared.costNote,
                          scenario: prepared.scenario.name, scenarioFile: prepared.scenario.file, model: modelRecord(prepared),
                          objective: p.objective.name, tiers: tiers, links: linkRecords(prepared), constraints: constraints,
                          compression: prepared.scenario.options.compression.rawValue, planner: planner, feasible: result.isFeasible,
                          infeasibleReason: reason, plan: plan, alternatives: alternatives)
    }

    /// Parses `0.5..1000 Mbit/s` (unit optional, default Mbit/s; bit or byte rates).
    public static func parseBandwidthRange(_ text: String) throws(EdgeProfError) -> (BytesPerSecond, BytesPerSecond) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let parts = t.components(separatedBy: "..")
        guard parts.count == 2 else { throw .usage("--sweep-bandwidth expects FROM..TO [UNIT], e.g. \"0.5..1000 Mbit/s\", got '\(text)'") }
        let lo = parts[0].trimmingCharacters(in: .whitespaces)
        var hi = parts[1].trimmingCharacters(in: .whitespaces)
        var unit = "Mbit/s"
        if let space = hi.firstIndex(where: { !($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-") }) {
            unit = hi[space...].trimmingCharacters(in: .whitespaces)
            hi = String(hi[..<space])
        }
        guard let a = parseRate("\(lo) \(unit)"), let b = parseRate("\(hi) \(unit)") else {
            throw .usage("--sweep-bandwidth: cannot read '\(text)' as a bandwidth range like \"0.5..1000 Mbit/s\"")
        }
        return (a, b)
    }

    /// "20 Mbit/s", "2.5 MB/s" → bytes per second.
    public static func parseRate(_ text: String) -> BytesPerSecond? {
        if let bits = UnitParser.parse(text, as: .bitRate) { return BytesPerSecond(bits / 8) }
        if let bytes = UnitParser.parse(text, as: .byteRate) { return BytesPerSecond(bytes) }
        return nil
    }
}

/// "6 Mbit/s", "940 Mbit/s", "1.5 Gbit/s".
public func formatRate(_ r: BytesPerSecond) -> String { formatSI(r.value * 8, unit: "bit/s") }
