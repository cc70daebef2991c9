/// DADS (Hu et al., INFOCOM 2019): device/remote split of a DAG as a minimum s–t cut.
/// Kernels on the source side run on the device; an edge of capacity "send this tensor" is cut
/// when its producer is local and a consumer remote, and a tensor read by several remote kernels
/// goes through one auxiliary node so it is paid once; graph inputs hang off the virtual source,
/// results return through a unary term. Exact for latency, device energy or a weighted mix
/// under per-kernel constraints (privacy pins) and a deadline on latency.
public struct TwoTierMinCutPlanner: Planner {
    public init() {}
    public var name: String { "dads-mincut" }
    public var summary: String { "DADS-style minimum s–t cut for two tiers; exact over all forward-flowing DAG placements for additive objectives" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        guard problem.tierCount == 2 else { return .unsupported("two tiers only (this scenario has \(problem.tierCount))") }
        return MinCutSupport.check(problem)
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        MinCutSupport.plan(problem, planner: name)
    }
}

/// Device → edge → cloud (any number of tiers) as one minimum cut: Ishikawa's layered graph
/// (one node per kernel and tier boundary, infinite edges keep a kernel's tier well defined
/// and data flowing forward) with DADS' auxiliary nodes per tensor and boundary. Propagation is
/// charged per hop used by solving once per highest tier. Exact over all forward-flowing
/// placements for additive objectives.
public struct MultiTierMinCutPlanner: Planner {
    public init() {}
    public var name: String { "multitier-mincut" }
    public var summary: String { "layered (Ishikawa) minimum cut for K tiers; exact over all forward-flowing DAG placements for additive objectives" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        MinCutSupport.check(problem)
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        MinCutSupport.plan(problem, planner: name)
    }
}

enum MinCutSupport {
    static func check(_ problem: PlanningProblem) -> PlannerSupport {
        guard problem.objective.additiveWeights != nil else { return .unsupported("the throughput objective is not additive (use pipeline)") }
        let blocking = problem.cutIncompatibleConstraints()
        guard blocking.isEmpty else { return .unsupported("constraints a cut cannot encode: " + blocking.joined(separator: "; ")) }
        return .supported
    }

    static func plan(_ problem: PlanningProblem, planner: String) -> PlanResult {
        guard let (a, b) = problem.objective.additiveWeights else {
            return .infeasible(planner, "the throughput objective is not additive", work: 0)
        }
        let costs = CutCosts(problem, perSecond: a, perJoule: b)
        let (lo, hi) = problem.initialBounds()
        guard let sol = TierCut.solveAll(problem, costs, lo: lo, hi: hi) else {
            return .infeasible(planner, "every placement sends data over a link with zero bandwidth or breaks a privacy pin", work: problem.tierCount)
        }
        return .found(problem, planner: planner, placement: sol.placement, scope: "all forward-flowing placements", work: problem.tierCount)
    }
}
