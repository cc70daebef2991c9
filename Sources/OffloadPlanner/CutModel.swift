/// The additive objective `a × latency + b × device energy` of a placement, split into terms a
/// minimum cut can represent:
///
/// - unary: kernel i on tier j (compute; the device's own energy when j = 0, its idle power
///   while it waits otherwise) plus, for kernels producing graph outputs, returning them down;
/// - per tensor and hop ℓ: sending the tensor over hop ℓ once, paid iff its producer is below
///   the hop and at least one consumer above it (consumers beyond the hop share one transfer);
/// - per highest tier m used: propagation over hops 0..<m (both ways when results return).
///
/// `value(placement) = Σ unary + Σ hop terms + fixed[m]` equals `a × latency + b × energy` from
/// `PlanningProblem.evaluate` (tested).
struct CutCosts {
    let unary: [[Double]]      // [kernel][tier]
    let hopCost: [[Double]]    // [tensor][hop]
    let fixed: [Double]        // [highest tier]

    init(_ p: PlanningProblem, perSecond a: Double, perJoule b: Double) {
        let K = p.tierCount
        let wait = a + b * p.tiers[0].idlePower.value
        var unary = [[Double]](repeating: [Double](repeating: 0, count: K), count: p.kernelCount)
        for i in 0..<p.kernelCount {
            unary[i][0] = a * p.tiers[0].computeTime[i].value + b * p.tiers[0].energy[i].value
            for j in 1..<max(K, 1) { unary[i][j] = wait * p.tiers[j].computeTime[i].value }
        }
        var hopCost = [[Double]](repeating: [Double](repeating: 0, count: max(K - 1, 0)), count: p.tensors.count)
        for (ti, t) in p.tensors.enumerated() {
            for k in 0..<(K - 1) {
                let m = p.upMessage(ti, hop: k)
                hopCost[ti][k] = wait * m.time + b * m.deviceExtraEnergy
            }
            if p.returnResult, t.isOutput, let u = t.producer {
                var cumulative = 0.0
                for j in 1..<max(K, 1) {
                    let m = p.downMessage(ti, hop: j - 1)
                    cumulative += wait * m.time + b * m.deviceExtraEnergy
                    unary[u][j] += cumulative
                }
            }
        }
        self.unary = unary
        self.hopCost = hopCost
        self.fixed = (0..<K).map { wait * p.propagation(highestTier: $0) }
    }

    /// The decomposed objective of a placement (for tests and tie checks).
    func value(_ p: PlanningProblem, _ placement: [Int]) -> Double {
        var v = 0.0
        var highest = 0
        for (i, k) in placement.enumerated() {
            v += unary[i][k]
            highest = max(highest, k)
        }
        for (ti, t) in p.tensors.enumerated() {
            let (src, dst) = p.span(t, placement)
            if src < dst { for k in src..<dst { v += hopCost[ti][k] } }
        }
        return v + fixed[highest]
    }
}

/// Ishikawa's construction for ordered labels (tiers) with the "data only flows forward"
/// constraint as infinite edges, and DADS' auxiliary node for tensors with several consumers
/// (one transfer however many consumers sit beyond a hop). Exact for the additive objective.
enum TierCut {
    /// Minimises the decomposed objective over placements using tiers 0...m with tier of
    /// kernel i in lo[i]...hi[i]. Returns nil when no such placement has finite cost.
    static func solve(_ p: PlanningProblem, _ costs: CutCosts, highestTier m: Int, lo: [Int], hi: [Int]) -> (placement: [Int], value: Double)? {
        let n = p.kernelCount
        if m == 0 {
            guard lo.allSatisfy({ $0 == 0 }) else { return nil }
            let placement = [Int](repeating: 0, count: n)
            let v = costs.value(p, placement)
            return v.isFinite && v < FlowNetwork.infinite / 2 ? (placement, v) : nil
        }
        let s = 0, t = 1
        func node(_ i: Int, _ level: Int) -> Int { 2 + i * m + (level - 1) }
        var net = FlowNetwork(nodes: 2 + n * m, edgeCapacityHint: n * (2 * m + 1) + p.tensors.count * 3 * m)
        let inf = Double.infinity
        for i in 0..<n {
            // Unary: kernel i on tier j cuts the edge between levels j + 1 and j.
            for j in 0...m {
                let c = (j < lo[i] || j > hi[i]) ? inf : costs.unary[i][j]
                let from = j == m ? s : node(i, j + 1)
                let to = j == 0 ? t : node(i, j)
                net.addEdge(from, to, c)
            }
            // Levels are monotone within a kernel: tier ≥ ℓ + 1 implies tier ≥ ℓ.
            if m >= 2 { for l in 1..<m { net.addEdge(node(i, l), node(i, l + 1), inf) } }
        }
        for (ti, tensor) in p.tensors.enumerated() where !tensor.consumers.isEmpty {
            for l in 1...m {
                let c = costs.hopCost[ti][l - 1]
                if let u = tensor.producer {
                    // Forward flow: producer's tier ≤ consumer's tier.
                    for w in tensor.consumers { net.addEdge(node(w, l), node(u, l), inf) }
                    if c <= 0 { continue }
                    if tensor.consumers.count == 1 {
                        net.addEdge(node(u, l), node(tensor.consumers[0], l), c)
                    } else {
                        let aux = net.addNode()
                        net.addEdge(node(u, l), aux, c)
                        for w in tensor.consumers { net.addEdge(aux, node(w, l), inf) }
                    }
                } else {
                    // A graph input starts on tier 0 (the source side at every level).
                    if c <= 0 { continue }
                    if tensor.consumers.count == 1 {
                        net.addEdge(s, node(tensor.consumers[0], l), c)
                    } else {
                        let aux = net.addNode()
                        net.addEdge(s, aux, c)
                        for w in tensor.consumers { net.addEdge(aux, node(w, l), inf) }
                    }
                }
            }
        }
        let flow = net.maxFlow(from: s, to: t)
        guard flow.isFinite, flow < FlowNetwork.infinite / 2 else { return nil }
        let side = net.sourceSide(from: s)
        var placement = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var tier = 0
            for l in 1...m where !side[node(i, l)] { tier += 1 }
            placement[i] = tier
        }
        return (placement, flow + costs.fixed[m])
    }

    /// Minimises over every highest tier m (propagation is charged per hop used), within bounds.
    /// Exact: each case's value bounds its placement's true cost from above and the optimum's
    /// case equals it.
    static func solveAll(_ p: PlanningProblem, _ costs: CutCosts, lo: [Int], hi: [Int], maxTier: Int? = nil) -> (placement: [Int], value: Double)? {
        var best: (placement: [Int], value: Double)?
        let top = min(maxTier ?? (p.tierCount - 1), p.tierCount - 1)
        for m in 0...top {
            guard let sol = solve(p, costs, highestTier: m, lo: lo, hi: hi) else { continue }
            // Re-value exactly (the cut may not use tier m, then its propagation is smaller).
            let v = costs.value(p, sol.placement)
            if let b = best, v >= b.value - 1e-15 * max(1, abs(v)) { continue }
            best = (sol.placement, v)
        }
        return best
    }
}
