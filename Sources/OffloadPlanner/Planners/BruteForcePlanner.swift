/// Enumerates placements and evaluates each with `PlanningProblem.evaluate`: the oracle the
/// other planners are tested against. Any objective and constraint; only small problems.
public struct BruteForcePlanner: Planner {
    public enum Scope: Sendable {
        /// Every forward-flowing placement.
        case allPlacements
        /// Every segment placement (contiguous runs of the execution order per tier).
        case segments
    }

    public var scope: Scope
    public var limit: Double
    public init(scope: Scope = .allPlacements, limit: Double = 2e6) {
        self.scope = scope
        self.limit = limit
    }

    public var name: String { scope == .allPlacements ? "brute-force" : "brute-force-segments" }
    public var summary: String { "evaluates every placement (small problems only); exact by enumeration" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        let count = scope == .allPlacements ? Self.powerBound(Double(problem.tierCount), problem.kernelCount) : problem.segmentPlacementCount()
        return count <= limit ? .supported : .unsupported("up to \(Int(count)) placements to enumerate (limit \(Int(limit)))")
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        var best: (placement: [Int], key: (Double, Double))?
        var count = 0
        forEach(problem) { placement in
            count += 1
            let m = problem.evaluate(placement)
            guard m.feasible else { return }
            let key = (problem.objectiveValue(m), m.latency.value)
            guard key.0.isFinite else { return }
            if let b = best, !(key.0 < b.key.0 || (key.0 == b.key.0 && key.1 < b.key.1)) { return }
            best = (placement, key)
        }
        guard let best else { return .infeasible(name, "no placement meets the constraints", work: count) }
        let scopeText = scope == .allPlacements ? "all forward-flowing placements" : "segment placements"
        return .found(problem, planner: name, placement: best.placement, scope: scopeText, work: count)
    }

    /// x^n, stopping early once it passes 1e18 (only compared with a limit).
    static func powerBound(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n {
            r *= x
            if r > 1e18 { break }
        }
        return r
    }

    /// Calls `visit` with every placement in scope.
    public func forEach(_ problem: PlanningProblem, _ visit: ([Int]) -> Void) {
        let n = problem.kernelCount, K = problem.tierCount
        switch scope {
        case .segments:
            let model = SegmentModel(problem)
            model.forEachCutTuple(firstCutOK: { _ in true }) { cuts in visit(model.placement(cuts)) }
        case .allPlacements:
            let (preds, _) = problem.kernelEdges()
            var placement = [Int](repeating: 0, count: n)
            func recurse(_ i: Int) {
                if i == n { visit(placement); return }
                var lo = 0
                for u in preds[i] where placement[u] > lo { lo = placement[u] }
                for k in lo..<K {
                    placement[i] = k
                    recurse(i + 1)
                }
            }
            recurse(0)
        }
    }
}
