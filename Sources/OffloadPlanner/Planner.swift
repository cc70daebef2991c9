import NNGraph

/// Whether a planner can solve a problem exactly, and if not, why.
public enum PlannerSupport: Sendable, Hashable {
    case supported
    case unsupported(String)

    public var isSupported: Bool {
        if case .supported = self { return true }
        return false
    }
}

/// How good a returned plan is known to be.
public enum Optimality: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Proven optimal over every placement inside `scope` (the planner's assumptions).
    case exact(scope: String)
    /// The search budget ran out: the best plan found, and a proven lower bound on the optimum.
    case bestFound(lowerBound: Double)
    /// No placement inside the planner's scope satisfies the constraints.
    case infeasible(reason: String)

    public var description: String {
        switch self {
        case .exact(let s): "exact (\(s))"
        case .bestFound(let lb): "best found; search budget exhausted, optimum ≥ \(lb)"
        case .infeasible(let r): "infeasible: \(r)"
        }
    }
}

public struct PlanResult: Sendable, Hashable {
    public var planner: String
    public var optimality: Optimality
    /// Tier per kernel; nil when infeasible.
    public var placement: [Int]?
    public var metrics: PlanMetrics?
    /// What the objective minimises (∞ when infeasible).
    public var objectiveValue: Double
    /// Minimum cuts, evaluations or search nodes spent.
    public var work: Int

    public var isFeasible: Bool { placement != nil }

    static func found(_ p: PlanningProblem, planner: String, placement: [Int], scope: String, work: Int) -> PlanResult {
        let m = p.evaluate(placement, detailed: true)
        guard m.feasible else {
            return PlanResult(planner: planner, optimality: .infeasible(reason: "the best placement in scope violates: "
                                + m.violations.map(\.description).joined(separator: "; ")),
                              placement: nil, metrics: m, objectiveValue: .infinity, work: work)
        }
        return PlanResult(planner: planner, optimality: .exact(scope: scope), placement: placement, metrics: m,
                          objectiveValue: p.objectiveValue(m), work: work)
    }

    static func infeasible(_ planner: String, _ reason: String, work: Int) -> PlanResult {
        PlanResult(planner: planner, optimality: .infeasible(reason: reason), placement: nil, metrics: nil, objectiveValue: .infinity, work: work)
    }
}

/// A split-computing planner. Planners ask before they act: `supports` says whether the
/// planner's exactness guarantee covers the problem (graph shape, tier count, objective,
/// constraints); `plan` is only meaningful when it does.
public protocol Planner: Sendable {
    /// Short identifier used on the command line (`--planner chain-scan`).
    var name: String { get }
    /// One line: the method and what is exact.
    var summary: String { get }
    func supports(_ problem: PlanningProblem) -> PlannerSupport
    func plan(_ problem: PlanningProblem) -> PlanResult
}

/// The planners, in order of preference: the first that supports a problem is used.
/// Explicit list, no reflection: adding a planner is one file plus one line here.
public enum PlannerRegistry {
    public static let all: [any Planner] = [
        ChainScanPlanner(),
        TwoTierMinCutPlanner(),
        MultiTierMinCutPlanner(),
        PipelinePlanner(),
        ConstrainedSearchPlanner(),
        BruteForcePlanner(),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func planner(named name: String) -> (any Planner)? {
        all.first { $0.name == name }
    }

    /// The first planner that supports the problem exactly.
    public static func choose(for problem: PlanningProblem) -> (any Planner)? {
        all.first { $0.supports(problem).isSupported }
    }
}

// MARK: - Shared analysis

extension PlanningProblem {
    /// Kernel-level precedence: predecessors and successors through tensors.
    func kernelEdges() -> (preds: [[Int]], succs: [[Int]]) {
        var preds = [[Int]](repeating: [], count: kernelCount)
        var succs = [[Int]](repeating: [], count: kernelCount)
        for t in tensors {
            guard let u = t.producer else { continue }
            for w in t.consumers {
                preds[w].append(u)
                succs[u].append(w)
            }
        }
        return (preds, succs)
    }

    /// Tier bounds from the constraints a planner can enforce per kernel (privacy pins).
    func initialBounds() -> (lo: [Int], hi: [Int]) {
        var hi = [Int](repeating: tierCount - 1, count: kernelCount)
        for i in constraints.pinnedToDevice { hi[i] = 0 }
        return ([Int](repeating: 0, count: kernelCount), hi)
    }

    /// True when the kernels form a chain: kernel 0 reads the graph input, every later kernel
    /// reads its predecessor's output, and no tensor skips ahead. Then every placement where
    /// data flows forward gives each tier one contiguous run of kernels.
    public var isChain: Bool {
        guard kernelCount > 0 else { return false }
        var readsPrevious = [Bool](repeating: false, count: kernelCount)
        for t in tensors {
            let p = t.producer ?? -1
            for c in t.consumers {
                guard c == p + 1 else { return false }
                readsPrevious[c] = true
            }
        }
        return readsPrevious.allSatisfy { $0 }
    }

    /// Constraints that make the problem more than a minimum cut: they can bind and are not
    /// per-kernel. Empty when a min-cut planner is exact.
    public func cutIncompatibleConstraints() -> [String] {
        var reasons: [String] = []
        if let m = constraints.deviceMemory, devicePeakMemory([Int](repeating: 0, count: kernelCount)) > m.value {
            reasons.append("device memory (\(m)) can bind: the whole model needs \(Bytes(devicePeakMemory([Int](repeating: 0, count: kernelCount))))")
        }
        if let u = constraints.maxUplinkBytes, tierCount > 1 {
            let all = tensors.indices.reduce(0.0) { $0 + upMessage($1, hop: 0).bytes }
            if all > u.value { reasons.append("max uplink bytes (\(u)) can bind") }
        }
        if constraints.deadline != nil, objective != .latency {
            reasons.append("a deadline with the \(objective.name) objective")
        }
        return reasons
    }

    /// Number of cut tuples 0 ≤ c₁ ≤ … ≤ c_{K−1} ≤ N (segment placements).
    func segmentPlacementCount() -> Double {
        // C(N + K − 1, K − 1)
        let n = Double(kernelCount), r = tierCount - 1
        var c = 1.0
        if r > 0 { for j in 1...r { c = c * (n + Double(j)) / Double(j) } }
        return c
    }
}
