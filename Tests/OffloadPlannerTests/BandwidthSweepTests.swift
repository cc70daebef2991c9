import Foundation
import NNGraph
import Testing
@testable import OffloadPlanner

@Suite("Bandwidth sweep")
struct BandwidthSweepTests {
    /// The interval map is the optimum everywhere: at random bandwidths the plan it names costs
    /// what brute force finds, and at each switch point the two neighbouring plans cost the same.
    @Test(arguments: [(UInt64(11), 2), (UInt64(12), 2), (UInt64(13), 3), (UInt64(14), 3), (UInt64(15), 2)])
    func switchPointsAreExact(seed: UInt64, tiers: Int) {
        var p = RandomProblem.make(seed: seed, .init(kernels: tiers == 2 ? 9 : 7, tiers: tiers))
        p.objective = seed % 2 == 0 ? .latency : .deviceEnergy
        let planner = MultiTierMinCutPlanner()
        let sweep = BandwidthSweep.run(p, hop: 0, from: BytesPerSecond(1e3), to: BytesPerSecond(1e10), points: 40, planner: planner)
        #expect(sweep.intervals.count == sweep.switchPoints.count + 1)
        var rng = SplitMix64(seed: seed)
        for _ in 0..<150 {
            let w = 1e3 * pow(10, rng.uniform(0, 7))
            guard let interval = sweep.intervals.first(where: { $0.from.value <= w && w <= $0.to.value }), let plan = interval.plan else {
                Issue.record("no interval covers \(w)")
                continue
            }
            let q = p.withUplink(BytesPerSecond(w), hop: 0)
            let brute = BruteForcePlanner().plan(q)
            let named = q.objectiveValue(q.evaluate(sweep.plans[plan]))
            #expect(close(named, brute.objectiveValue, rel: 1e-7), "at \(w) B/s the sweep names a plan costing \(named), optimum \(brute.objectiveValue)")
        }
        for (i, s) in sweep.switchPoints.enumerated() {
            guard let below = sweep.intervals[i].plan, let above = sweep.intervals[i + 1].plan else { continue }
            let q = p.withUplink(s, hop: 0)
            let a = q.objectiveValue(q.evaluate(sweep.plans[below]))
            let b = q.objectiveValue(q.evaluate(sweep.plans[above]))
            #expect(close(a, b, rel: 1e-9), "plans differ at the switch point \(s): \(a) vs \(b)")
        }
    }

    @Test func sweepWithADeadlineBisectsFeasibility() {
        var p = RandomProblem.make(seed: 21, .init(kernels: 8, tiers: 2))
        p.objective = .deviceEnergy
        let local = p.evaluate([Int](repeating: 0, count: 8))
        p.constraints.deadline = local.latency * 0.6
        let sweep = BandwidthSweep.run(p, hop: 0, from: BytesPerSecond(1e3), to: BytesPerSecond(1e10), points: 30, planner: ConstrainedSearchPlanner())
        #expect(sweep.method.contains("bisection"))
        for interval in sweep.intervals {
            let mid = (interval.from.value * interval.to.value).squareRoot()
            let q = p.withUplink(BytesPerSecond(mid), hop: 0)
            let brute = BruteForcePlanner().plan(q)
            if let plan = interval.plan {
                #expect(close(q.objectiveValue(q.evaluate(sweep.plans[plan])), brute.objectiveValue, rel: 1e-7))
            } else {
                #expect(!brute.isFeasible)
            }
        }
    }
}
