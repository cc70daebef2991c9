/// Neurosurgeon's linear scan, generalised to K tiers: on a chain every forward-flowing
/// placement is a tuple of cut points, so scanning them all is exact for any objective and
/// constraint. O(N) candidates for two tiers, O(N^(K−1)) in general, O(K) each.
public struct ChainScanPlanner: Planner {
    public static let maxCandidates = 5e7
    public init() {}
    public var name: String { "chain-scan" }
    public var summary: String { "Neurosurgeon-style scan of every cut-point tuple of a chain; exact on chains for every objective and constraint" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        guard problem.isChain else { return .unsupported("the model is not a chain (some tensor skips a kernel or has several consumers)") }
        guard problem.segmentPlacementCount() <= Self.maxCandidates else {
            return .unsupported("too many cut tuples (\(Int(problem.segmentPlacementCount())))")
        }
        return .supported
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        let model = SegmentModel(problem)
        var count = 0
        let weights = problem.objective.additiveWeights
        let best = model.best(problem) { v in
            count += 1
            if let (a, b) = weights { return (a * v.latency + b * v.energy, v.latency) }
            return (v.period, v.latency)
        }
        guard let best else {
            return .infeasible(name, "no cut of the chain meets the constraints", work: count)
        }
        return .found(problem, planner: name, placement: model.placement(best.cuts), scope: "all forward-flowing placements of a chain", work: count)
    }
}
