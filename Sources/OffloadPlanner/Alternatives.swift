import NNGraph

/// A reference placement next to the chosen plan, and why it lost.
public struct AlternativeOutcome: Sendable, Hashable, Codable {
    public var name: String
    public var placement: [Int]
    public var metrics: PlanMetrics
    public var objectiveValue: Double
    /// "chosen", "same placement as the chosen plan", or why it lost.
    public var verdict: String
}

public enum Alternatives {
    /// Device-only, everything on each remote tier, and the best single contiguous split
    /// (Neurosurgeon on the execution order), compared with the chosen plan.
    public static func compare(_ p: PlanningProblem, chosen: PlanResult) -> [AlternativeOutcome] {
        let n = p.kernelCount
        var candidates: [(String, [Int])] = [("device only", [Int](repeating: 0, count: n))]
        for k in 1..<max(p.tierCount, 1) {
            candidates.append(("\(p.tiers[k].name) only", [Int](repeating: k, count: n)))
        }
        if p.tierCount > 1, p.segmentPlacementCount() <= 2e6 {
            let model = SegmentModel(p)
            let weights = p.objective.additiveWeights
            if let s = model.best(p, rank: { v in
                if let (a, b) = weights { return (a * v.latency + b * v.energy, v.latency) }
                return (v.period, v.latency)
            }) {
                candidates.append(("best contiguous split", model.placement(s.cuts)))
            }
        }
        let best = chosen.metrics
        return candidates.map { name, placement in
            let m = p.evaluate(placement, detailed: false)
            let v = p.objectiveValue(m)
            return AlternativeOutcome(name: name, placement: placement, metrics: m, objectiveValue: v,
                                      verdict: verdict(p, placement: placement, metrics: m, value: v, chosen: chosen, best: best))
        }
    }

    static func verdict(_ p: PlanningProblem, placement: [Int], metrics m: PlanMetrics, value: Double, chosen: PlanResult, best: PlanMetrics?) -> String {
        if let c = chosen.placement, c == placement { return "chosen" }
        if !m.feasible { return "infeasible: " + m.violations.map(\.description).joined(separator: "; ") }
        guard let best, chosen.isFeasible else { return "feasible, but the planner found no feasible plan in its scope" }
        let delta = value - chosen.objectiveValue
        let rel = chosen.objectiveValue != 0 ? delta / abs(chosen.objectiveValue) : 0
        if abs(delta) <= 1e-12 * max(1, abs(chosen.objectiveValue)) { return "ties with the chosen plan" }
        let transfers = (m.hopUpTime + m.hopDownTime).reduce(Seconds.zero, +) - (best.hopUpTime + best.hopDownTime).reduce(Seconds.zero, +)
        let compute = m.tierCompute.reduce(Seconds.zero, +) - best.tierCompute.reduce(Seconds.zero, +)
        let prop = m.propagation - best.propagation
        let objective: String
        switch p.objective {
        case .throughput: objective = "bottleneck stage \(signed(m.period - best.period))"
        case .latency: objective = "latency \(signed(m.latency - best.latency))"
        case .deviceEnergy: objective = "device energy \(signedJ(m.deviceEnergy - best.deviceEnergy))"
        case .weighted: objective = "weighted objective \(formatFixed(rel * 100, decimals: 1))% worse"
        }
        var parts = ["\(objective) (\(rel >= 0 ? "+" : "")\(formatFixed(rel * 100, decimals: 1))%)"]
        parts.append("compute \(signed(compute)), transfers \(signed(transfers)), propagation \(signed(prop))")
        if p.objective != .deviceEnergy { parts.append("device energy \(signedJ(m.deviceEnergy - best.deviceEnergy))") }
        return parts.joined(separator: "; ")
    }

    static func signed(_ s: Seconds) -> String { (s.value >= 0 ? "+" : "−") + formatSeconds(abs(s.value)) }
    static func signedJ(_ j: Joules) -> String { (j.value >= 0 ? "+" : "−") + formatSI(abs(j.value), unit: "J") }
}
