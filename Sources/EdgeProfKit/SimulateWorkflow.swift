import DeviceSpec
import Foundation
import NNGraph
import OffloadPlanner
import RuntimeSimulator

/// `edgeprof simulate`: plan a scenario, then play a request stream through the plan.
public enum SimulateWorkflow {
    public struct Request: Sendable {
        public var plan: PlanWorkflow.Request
        public var arrivals: ArrivalKind?
        public var fps: Double?
        public var rate: Double?
        public var frames: Int?
        public var clients: Int?
        public var seed: UInt64?
        public var deadline: Seconds?
        public var replan: Bool?
        public var switchingCost: Seconds?
        /// Each client gets its own first link instead of sharing one medium.
        public var dedicatedUplink: Bool
        public var timelineBins: Int
        public init(plan: PlanWorkflow.Request, arrivals: ArrivalKind? = nil, fps: Double? = nil, rate: Double? = nil, frames: Int? = nil,
                    clients: Int? = nil, seed: UInt64? = nil, deadline: Seconds? = nil, replan: Bool? = nil, switchingCost: Seconds? = nil,
                    dedicatedUplink: Bool = false, timelineBins: Int = 20) {
            self.plan = plan
            self.arrivals = arrivals
            self.fps = fps
            self.rate = rate
            self.frames = frames
            self.clients = clients
            self.seed = seed
            self.deadline = deadline
            self.replan = replan
            self.switchingCost = switchingCost
            self.dedicatedUplink = dedicatedUplink
            self.timelineBins = timelineBins
        }
    }

    /// Command line over scenario `simulation:` over defaults (fps 30, 2000 frames, 1 client, seed 1).
    static func config(_ r: Request, _ scenario: OffloadScenario) throws(EdgeProfError) -> SimulationConfig {
        let s = scenario.simulation
        var arrivals = r.arrivals ?? s.arrivals ?? .fps
        // A rate on the command line implies Poisson arrivals unless arrivals are given.
        if r.arrivals == nil, r.rate != nil, r.fps == nil { arrivals = .poisson }
        if r.arrivals == nil, r.fps != nil { arrivals = .fps }
        let fps = r.fps ?? s.fps ?? 30
        let rate = r.rate ?? s.rate ?? fps
        let frames = r.frames ?? s.frames ?? 2000
        let clients = r.clients ?? s.clients ?? 1
        guard fps > 0, fps.isFinite else { throw .usage("--fps must be positive") }
        guard rate > 0, rate.isFinite else { throw .usage("--rate must be positive") }
        guard frames > 0 else { throw .usage("--frames must be positive") }
        guard clients > 0 else { throw .usage("--clients must be positive") }
        return SimulationConfig(arrivals: arrivals, fps: fps, rate: rate, frames: frames, clients: clients, seed: r.seed ?? s.seed ?? 1,
                                deadline: r.deadline ?? scenario.constraints.deadline, sharedUplink: !r.dedicatedUplink,
                                replan: r.replan ?? s.replan ?? false, switchingCost: r.switchingCost ?? s.switchingCost ?? .zero,
                                timelineBins: max(r.timelineBins, 1))
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> SimulationReport {
        try run(request, prepared: PlanWorkflow.prepare(request.plan))
    }

    /// Simulates with an already prepared scenario (`request.plan` is not prepared again).
    public static func run(_ request: Request, prepared: PlanWorkflow.Prepared) throws(EdgeProfError) -> SimulationReport {
        let p = prepared.problem
        let cfg = try config(request, prepared.scenario)
        if cfg.replan, !prepared.scenario.links.contains(where: { $0.trace != nil }) {
            throw .usage("--replan needs a link with a bandwidth trace (links[].trace in the scenario)")
        }
        let result = prepared.planner.plan(p)
        guard let placement = result.placement, let planned = result.metrics else {
            if case .infeasible(let why) = result.optimality { throw .usage("nothing to simulate: \(why)") }
            throw .usage("nothing to simulate: the planner returned no plan")
        }
        let dynamics = prepared.scenario.links.map(HopDynamics.init)
        let sim = RuntimeSimulator.run(problem: p, placement: placement, dynamics: dynamics, config: cfg,
                                       replanner: cfg.replan ? prepared.planner : nil)
        return report(prepared, placement: placement, planned: planned, sim: sim)
    }

    static func report(_ prepared: PlanWorkflow.Prepared, placement: [Int], planned: PlanMetrics, sim: SimulationResult) -> SimulationReport {
        let p = prepared.problem
        let c = sim.config
        let config = SimulationConfigRecord(arrivals: c.arrivals.rawValue, fps: c.arrivals == .fps ? c.fps : nil, rate: c.arrivals == .poisson ? c.rate : nil,
                                            frames: c.frames, clients: c.clients, seed: c.seed, deadlineS: sim.deadline?.value,
                                            sharedUplink: c.sharedUplink, replan: c.replan, switchingCostS: c.switchingCost.value)
        let results = SimulationResultsRecord(
            completed: sim.completed, dropped: sim.dropped, latencyMeanS: sim.latencyMean.value, latencyP50S: sim.latencyP50.value,
            latencyP90S: sim.latencyP90.value, latencyP99S: sim.latencyP99.value, latencyMaxS: sim.latencyMax.value, missRate: sim.missRate,
            throughputPerS: sim.throughput, energyPerRequestJ: sim.energyPerRequest.value, averageDevicePowerW: sim.averageDevicePower.value,
            makespanS: sim.makespan.value, switches: sim.switches, events: sim.events)
        return SimulationReport(
            schemaVersion: SimulationReport.currentSchemaVersion, tool: "edgeprof \(edgeprofVersion)", provenance: "simulated",
            costs: prepared.costs.rawValue, costNote: prepared.costNote,
            scenario: prepared.scenario.name, model: PlanWorkflow.modelRecord(prepared), planner: prepared.planner.name,
            plan: PlanDescription.summary(p, placement), planned: PlanTotalsRecord(p, planned), config: config, results: results,
            resources: sim.resources.map { ResourceRecord(name: $0.name, utilisation: $0.utilisation, meanQueue: $0.meanQueue, maxQueue: $0.maxQueue, jobs: $0.jobs) },
            timeline: sim.timeline.map { TimelineRecord(startS: $0.start.value, endS: $0.end.value, utilisation: $0.utilisation, meanQueue: $0.meanQueue, completed: $0.completed) },
            plansUsed: sim.placements.map { PlanDescription.summary(p, $0) },
            latencyHistogram: sim.latencyHistogram.map { HistogramBinRecord(lowS: $0.low.value, highS: $0.high.value, count: $0.count) },
            activity: sim.activity.map { ActivityRecord(resource: $0.name, spansS: $0.spans, omitted: $0.omitted) })
    }
}
