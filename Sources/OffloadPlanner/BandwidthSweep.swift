import Foundation
import NNGraph

public struct SweepPoint: Sendable, Hashable, Codable {
    public var bandwidth: BytesPerSecond
    /// Index into `SweepResult.plans`; nil when nothing is feasible at this bandwidth.
    public var plan: Int?
    public var objectiveValue: Double
    public var latency: Seconds?
    public var deviceEnergy: Joules?
}

/// A bandwidth range over which one plan is optimal.
public struct SweepInterval: Sendable, Hashable, Codable {
    public var from: BytesPerSecond
    public var to: BytesPerSecond
    public var plan: Int?
}

public struct SweepResult: Sendable, Hashable {
    public var hop: Int
    public var planner: String
    /// Distinct optimal placements, in order of first appearance (low bandwidth first).
    public var plans: [[Int]]
    public var points: [SweepPoint]
    public var intervals: [SweepInterval]
    /// Bandwidths where the optimal plan changes (interval boundaries).
    public var switchPoints: [BytesPerSecond]
    /// Plans solved in total (grid + refinement).
    public var solves: Int
    /// How the switch points were found.
    public var method: String
}

/// The best plan per bandwidth of one hop over a range, and the exact bandwidths where it
/// changes. For additive objectives a placement's cost is affine in 1/bandwidth
/// (`A + B / w`: every transfer time, radio air time and idle wait scales with 1/w), so the
/// optimum is the lower envelope of lines in x = 1/w; a plan optimal at two grid points is
/// optimal between them (the envelope is concave), and between grid points with different
/// plans the switch is where their lines cross — solved in closed form and verified by
/// re-planning there (a third plan found below both lines splits the interval). The downlink
/// keeps its ratio to the uplink. A deadline or the throughput objective breaks the line
/// structure; those switch points are found by bisection to a relative 1e-12.
public enum BandwidthSweep {
    public static func run(_ problem: PlanningProblem, hop: Int, from lo: BytesPerSecond, to hi: BytesPerSecond, points: Int,
                           planner: any Planner) -> SweepResult {
        let count = max(points, 2)
        var plans: [[Int]] = []
        var planIndex: [[Int]: Int] = [:]
        var solves = 0
        func id(_ placement: [Int]?) -> Int? {
            guard let placement else { return nil }
            if let i = planIndex[placement] { return i }
            plans.append(placement)
            planIndex[placement] = plans.count - 1
            return plans.count - 1
        }
        func solve(_ w: Double) -> PlanResult {
            solves += 1
            return planner.plan(problem.withUplink(BytesPerSecond(w), hop: hop))
        }
        let additive = problem.objective.additiveWeights
        let linear = additive != nil && problem.constraints.deadline == nil
        /// Objective of a placement at bandwidth w ignoring feasibility (affine in 1/w when additive).
        func raw(_ placement: [Int], _ w: Double) -> Double {
            let m = problem.withUplink(BytesPerSecond(w), hop: hop).evaluate(placement)
            if let (a, b) = additive { return a * m.latency.value + b * m.deviceEnergy.value }
            return m.period.value
        }
        func feasibleValue(_ placement: [Int], _ w: Double) -> Double {
            let q = problem.withUplink(BytesPerSecond(w), hop: hop)
            let m = q.evaluate(placement)
            return m.feasible ? q.objectiveValue(m) : .infinity
        }

        var switches: [(Double, Int?, Int?)] = []
        func refine(_ wLo: Double, _ pLo: [Int]?, _ wHi: Double, _ pHi: [Int]?, _ depth: Int) {
            if pLo == pHi { return }
            if depth > 100 || wHi <= wLo * (1 + 1e-12) {
                switches.append((wHi, id(pLo), id(pHi)))
                return
            }
            var crossing: Double?
            if additive != nil, let a = pLo, let b = pHi {
                // Lines A + B·x through the interval ends, x = 1/w.
                let (x1, x2) = (1 / wLo, 1 / wHi)
                let (fa1, fa2, fb1, fb2) = (raw(a, wLo), raw(a, wHi), raw(b, wLo), raw(b, wHi))
                let sa = (fa1 - fa2) / (x1 - x2), sb = (fb1 - fb2) / (x1 - x2)
                let ia = fa1 - sa * x1, ib = fb1 - sb * x1
                if sa != sb {
                    let x = (ib - ia) / (sa - sb)
                    let w = 1 / x
                    if w.isFinite, w > wLo * (1 + 1e-12), w < wHi * (1 - 1e-12) { crossing = w }
                }
            }
            let w = crossing ?? (wLo * wHi).squareRoot()
            let r = solve(w)
            let star = r.placement
            if crossing != nil, let a = pLo, let b = pHi {
                let va = feasibleValue(a, w), vb = feasibleValue(b, w)
                let line = min(va, vb)
                if va.isFinite, vb.isFinite, r.objectiveValue >= line - 1e-9 * max(abs(line), 1e-300) {
                    switches.append((w, id(pLo), id(pHi)))
                    return
                }
            }
            if star == pLo { refine(w, pLo, wHi, pHi, depth + 1); return }
            if star == pHi { refine(wLo, pLo, w, pHi, depth + 1); return }
            refine(wLo, pLo, w, star, depth + 1)
            refine(w, star, wHi, pHi, depth + 1)
        }

        let ratio = hi.value / lo.value
        var grid: [(Double, PlanResult)] = []
        for i in 0..<count {
            let w = i == count - 1 ? hi.value : lo.value * pow(ratio, Double(i) / Double(count - 1))
            grid.append((w, solve(w)))
        }
        var points: [SweepPoint] = []
        for (w, r) in grid {
            points.append(SweepPoint(bandwidth: BytesPerSecond(w), plan: id(r.placement), objectiveValue: r.objectiveValue,
                                     latency: r.metrics.map(\.latency), deviceEnergy: r.metrics.map(\.deviceEnergy)))
        }
        for i in 0..<(grid.count - 1) where grid[i].1.placement != grid[i + 1].1.placement {
            refine(grid[i].0, grid[i].1.placement, grid[i + 1].0, grid[i + 1].1.placement, 0)
        }
        switches.sort { $0.0 < $1.0 }
        var intervals: [SweepInterval] = []
        var start = lo.value
        var current = points.first?.plan
        for (w, _, above) in switches {
            intervals.append(SweepInterval(from: BytesPerSecond(start), to: BytesPerSecond(w), plan: current))
            start = w
            current = above
        }
        intervals.append(SweepInterval(from: BytesPerSecond(start), to: hi, plan: current))
        let method = linear ? "grid of \(count) log-spaced points; switch points where the cost lines (A + B/bandwidth) of adjacent optimal plans cross, verified by re-planning"
                            : "grid of \(count) log-spaced points; switch points by bisection to a relative 1e-12 (deadline or throughput objective)"
        return SweepResult(hop: hop, planner: planner.name, plans: plans, points: points, intervals: intervals,
                           switchPoints: switches.map { BytesPerSecond($0.0) }, solves: solves, method: method)
    }
}
