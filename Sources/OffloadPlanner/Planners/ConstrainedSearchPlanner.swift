/// Exact branch and bound for additive objectives under constraints a cut cannot encode
/// (device memory, uplink bytes, a deadline on a non-latency objective). Every search node
/// restricts kernels to tier ranges; its bound is the layered minimum cut without those
/// constraints (a relaxation), so a node whose relaxed optimum is feasible is solved, and one
/// whose bound is no better than the incumbent is pruned. Deadline nodes are also pruned when
/// even the minimum-latency placement inside them misses the deadline; memory nodes when the
/// kernels pinned to the device alone overflow it. Branching splits one kernel's tier range,
/// chosen from the violated constraint. Seeded with device-only and the best segment
/// placement. Exact when the search finishes within `nodeBudget`; otherwise it says so and
/// reports the proven lower bound.
public struct ConstrainedSearchPlanner: Planner {
    public var nodeBudget: Int
    public init(nodeBudget: Int = 20_000) { self.nodeBudget = nodeBudget }
    public var name: String { "constrained-search" }
    public var summary: String { "branch and bound with min-cut relaxations; exact for additive objectives under every constraint when it finishes" }

    public func supports(_ problem: PlanningProblem) -> PlannerSupport {
        problem.objective.additiveWeights == nil ? .unsupported("the throughput objective is not additive (use pipeline)") : .supported
    }

    private struct Node {
        var lo: [Int]
        var hi: [Int]
        var bound: Double
    }

    public func plan(_ problem: PlanningProblem) -> PlanResult {
        guard let (a, b) = problem.objective.additiveWeights else {
            return .infeasible(name, "the throughput objective is not additive", work: 0)
        }
        let p = problem
        let n = p.kernelCount
        let costs = CutCosts(p, perSecond: a, perJoule: b)
        let latencyCosts = p.constraints.deadline == nil ? nil : CutCosts(p, perSecond: 1, perJoule: 0)
        let (preds, succs) = p.kernelEdges()

        func propagate(_ lo: inout [Int], _ hi: inout [Int]) -> Bool {
            for w in 0..<n { for u in preds[w] where lo[u] > lo[w] { lo[w] = lo[u] } }
            for u in stride(from: n - 1, through: 0, by: -1) { for w in succs[u] where hi[w] < hi[u] { hi[u] = hi[w] } }
            for i in 0..<n where lo[i] > hi[i] { return false }
            return true
        }

        var incumbent: (placement: [Int], value: Double)?
        func consider(_ placement: [Int]) {
            let m = p.evaluate(placement)
            guard m.feasible else { return }
            let v = p.objectiveValue(m)
            guard v.isFinite else { return }
            if let inc = incumbent, v >= inc.value { return }
            incumbent = (placement, v)
        }
        consider([Int](repeating: 0, count: n))
        if p.tierCount > 1, p.segmentPlacementCount() <= 2e6 {
            let model = SegmentModel(p)
            if let s = model.best(p, rank: { (a * $0.latency + b * $0.energy, $0.latency) }) { consider(model.placement(s.cuts)) }
        }

        var (lo0, hi0) = p.initialBounds()
        guard propagate(&lo0, &hi0) else { return .infeasible(name, "privacy pins contradict the forward data flow", work: 0) }
        var stack = [Node(lo: lo0, hi: hi0, bound: -.infinity)]
        var explored = 0
        var exhausted = false
        func tolerance(_ v: Double) -> Double { 1e-12 * max(1, abs(v)) }

        while let node = stack.popLast() {
            if explored >= nodeBudget {
                stack.append(node)
                exhausted = true
                break
            }
            explored += 1
            if let inc = incumbent, node.bound >= inc.value - tolerance(inc.value) { continue }
            if let limit = p.constraints.deviceMemory, p.tierCount > 1 {
                // Memory grows with the device's share; the kernels pinned there are a floor.
                let floor = node.hi.map { $0 == 0 ? 0 : 1 }
                if p.devicePeakMemory(floor) > limit.value { continue }
            }
            guard let relaxed = TierCut.solveAll(p, costs, lo: node.lo, hi: node.hi) else { continue }
            if let inc = incumbent, relaxed.value >= inc.value - tolerance(inc.value) { continue }
            var fastest: [Int]?
            if let lc = latencyCosts, let deadline = p.constraints.deadline {
                guard let l = TierCut.solveAll(p, lc, lo: node.lo, hi: node.hi), l.value <= deadline.value * (1 + 1e-12) else { continue }
                fastest = l.placement
            }
            let metrics = p.evaluate(relaxed.placement)
            if metrics.feasible {
                consider(relaxed.placement)
                continue
            }
            guard let (kernel, split, preferUpper) = branch(p, relaxed.placement, metrics, fastest, node) else { continue }
            var lower = node, upper = node
            lower.hi[kernel] = split
            upper.lo[kernel] = split + 1
            lower.bound = relaxed.value
            upper.bound = relaxed.value
            let lowerOK = propagate(&lower.lo, &lower.hi)
            let upperOK = propagate(&upper.lo, &upper.hi)
            // Depth first; the preferred child is explored first (pushed last).
            if preferUpper {
                if lowerOK { stack.append(lower) }
                if upperOK { stack.append(upper) }
            } else {
                if upperOK { stack.append(upper) }
                if lowerOK { stack.append(lower) }
            }
        }

        guard let inc = incumbent else {
            return .infeasible(name, exhausted ? "search budget (\(nodeBudget) nodes) exhausted before a feasible placement was found"
                                               : "no placement meets the constraints", work: explored)
        }
        var result = PlanResult.found(p, planner: name, placement: inc.placement, scope: "all forward-flowing placements", work: explored)
        if exhausted {
            let open = stack.map(\.bound).min() ?? inc.value
            result.optimality = .bestFound(lowerBound: min(open, inc.value))
        }
        return result
    }

    /// Which kernel to split, at which tier (children: tier ≤ split, tier > split), and whether
    /// the upper child looks more promising.
    private func branch(_ p: PlanningProblem, _ placement: [Int], _ m: PlanMetrics, _ fastest: [Int]?, _ node: Node)
        -> (Int, Int, Bool)? {
        let free = { (i: Int) in node.lo[i] < node.hi[i] }
        for v in m.violations {
            switch v {
            case .deviceMemory:
                // Move the heaviest unpinned device kernel off the device (or pin it).
                let candidates = (0..<p.kernelCount).filter { placement[$0] == 0 && free($0) }
                if let i = candidates.max(by: { p.tiers[0].weightBytes[$0].value < p.tiers[0].weightBytes[$1].value }) {
                    return (i, 0, true)
                }
            case .uplinkBytes:
                // The largest tensor crossing the first hop: pull a remote consumer down, or push its producer up.
                var bestTensor: (Int, Double)?
                for (ti, t) in p.tensors.enumerated() {
                    let (src, dst) = p.span(t, placement)
                    guard src == 0, dst >= 1 else { continue }
                    let bytes = t.wireBytes.value
                    if bestTensor.map({ bytes > $0.1 }) ?? true { bestTensor = (ti, bytes) }
                }
                if let (ti, _) = bestTensor {
                    let t = p.tensors[ti]
                    if let w = t.consumers.first(where: { placement[$0] >= 1 && node.lo[$0] == 0 }) { return (w, 0, false) }
                    if let u = t.producer, node.hi[u] > 0 { return (u, 0, true) }
                }
            case .deadline:
                if let fastest {
                    let candidates = (0..<p.kernelCount).filter { placement[$0] != fastest[$0] && free($0) }
                    func gap(_ i: Int) -> Double {
                        abs(p.tiers[placement[i]].computeTime[i].value - p.tiers[fastest[i]].computeTime[i].value)
                    }
                    if let i = candidates.max(by: { gap($0) < gap($1) }) {
                        let split = min(placement[i], fastest[i])
                        return (i, split, fastest[i] > placement[i])
                    }
                }
            case .pinned, .linkDown:
                break
            }
        }
        // Fallback: split the first free kernel at its relaxed tier.
        guard let i = (0..<p.kernelCount).first(where: free) else { return nil }
        let split = placement[i] < node.hi[i] ? placement[i] : placement[i] - 1
        return (i, max(split, node.lo[i]), placement[i] > split)
    }
}
