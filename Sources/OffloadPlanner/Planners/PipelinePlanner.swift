/// Throughput objective: requests pipeline across tiers and links, so the rate is set by the
/// busiest stage (a tier's compute or one link direction). Scans every segment placement
/// (each tier runs a contiguous run of the execution order) and minimises that stage's time,
/// breaking ties by latency. Exact among segment placements; on chains these are all
/// forward-flowing placements.
public struct PipelinePlanner: Planner {
    public init() {}
    public var name: String { "pipeline" }
    public var summary: String { "throughput: minimises the bottleneck stage over every contiguous split of the execution order; exact among segment placements" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        guard problem.objective == .throughput else { return .unsupported("only the throughput objective") }
        guard problem.segmentPlacementCount() <= ChainScanPlanner.maxCandidates else {
            return .unsupported("too many segment placements (\(Int(problem.segmentPlacementCount())))")
        }
        return .supported
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        let model = SegmentModel(problem)
        var count = 0
        let best = model.best(problem) { v in
            count += 1
            return (v.period, v.latency)
        }
        guard let best else { return .infeasible(name, "no contiguous split meets the constraints", work: count) }
        let scope = problem.isChain ? "all forward-flowing placements of a chain" : "placements giving each tier a contiguous run of the execution order"
        return .found(problem, planner: name, placement: model.placement(best.cuts), scope: scope, work: count)
    }
}
