import NNGraph
import PropertyBased
import Testing
@testable import OffloadPlanner

/// The acceptance properties: on random DAGs (≤ 12 kernels) with random costs and 2–3 tiers,
/// every exact planner equals brute force over the placements its assumptions allow; the chain
/// scan equals the min cut on chains; no returned plan violates a constraint.
@Suite("Planner properties")
struct PlannerPropertyTests {
    @Test func cutDecompositionEqualsTheEvaluator() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...12), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            let p = RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers))
            var rng = SplitMix64(seed: UInt64(seed))
            let (preds, _) = p.kernelEdges()
            var placement = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let lo = preds[i].map { placement[$0] }.max() ?? 0
                placement[i] = lo + Int(rng.next() % UInt64(tiers - lo))
            }
            for objective in additiveObjectives {
                guard let (a, b) = objective.additiveWeights else { continue }
                let m = p.evaluate(placement)
                let direct = a * m.latency.value + b * m.deviceEnergy.value
                let cut = CutCosts(p, perSecond: a, perJoule: b).value(p, placement)
                #expect(close(direct, cut) || (!direct.isFinite && cut >= FlowNetwork.infinite / 2 || !cut.isFinite),
                        "\(objective): evaluator \(direct) vs decomposition \(cut) for \(placement)")
            }
        }
    }

    @Test func twoTierMinCutEqualsBruteForce() async {
        await propertyCheck(count: 150, input: Gen.int(in: 1...12), Gen.int(in: 0...Int(Int32.max))) { n, seed in
            var p = RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: 2, zeroBandwidthChance: 0.1))
            if seed % 3 == 0 { p.constraints.pinnedToDevice = Set(0..<min(n, seed % 4)) }
            for objective in additiveObjectives {
                p.objective = objective
                let brute = BruteForcePlanner().plan(p)
                let cut = TwoTierMinCutPlanner().plan(p)
                #expect(TwoTierMinCutPlanner().supports(p).isSupported)
                #expect(brute.isFeasible == cut.isFeasible)
                #expect(close(brute.objectiveValue, cut.objectiveValue), "\(objective) n=\(n) seed=\(seed): brute \(brute.objectiveValue) cut \(cut.objectiveValue)")
                if let m = cut.metrics, cut.isFeasible { #expect(m.feasible) }
            }
        }
    }

    @Test func multiTierMinCutEqualsBruteForce() async {
        await propertyCheck(count: 60, input: Gen.int(in: 1...12), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = RandomProblem.make(seed: UInt64(seed), .init(kernels: tiers == 3 ? min(n, 11) : n, tiers: tiers, zeroBandwidthChance: 0.1))
            if seed % 3 == 0 { p.constraints.pinnedToDevice = Set(0..<min(p.kernelCount, seed % 4)) }
            for objective in additiveObjectives {
                p.objective = objective
                let brute = BruteForcePlanner().plan(p)
                let cut = MultiTierMinCutPlanner().plan(p)
                #expect(brute.isFeasible == cut.isFeasible)
                #expect(close(brute.objectiveValue, cut.objectiveValue),
                        "\(objective) K=\(tiers) n=\(p.kernelCount) seed=\(seed): brute \(brute.objectiveValue) \(brute.placement ?? []) cut \(cut.objectiveValue) \(cut.placement ?? [])")
            }
        }
    }

    @Test func twelveKernelsOverThreeTiersMatchBruteForce() async {
        // The full acceptance size (3^12 placements) on a few seeds.
        for seed in UInt64(1)...3 {
            var p = RandomProblem.make(seed: seed * 7919, .init(kernels: 12, tiers: 3))
            p.objective = .deviceEnergy
            let brute = BruteForcePlanner().plan(p)
            let cut = MultiTierMinCutPlanner().plan(p)
            #expect(close(brute.objectiveValue, cut.objectiveValue), "seed \(seed): brute \(brute.objectiveValue) cut \(cut.objectiveValue)")
        }
    }

    @Test func chainScanEqualsMinCutOnChains() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...40), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers, chain: true))
            #expect(p.isChain)
            #expect(ChainScanPlanner().supports(p).isSupported)
            for objective in additiveObjectives {
                p.objective = objective
                let scan = ChainScanPlanner().plan(p)
                let cut = MultiTierMinCutPlanner().plan(p)
                #expect(close(scan.objectiveValue, cut.objectiveValue), "\(objective) K=\(tiers) n=\(n): scan \(scan.objectiveValue) cut \(cut.objectiveValue)")
                if tiers == 2 {
                    #expect(close(scan.objectiveValue, TwoTierMinCutPlanner().plan(p).objectiveValue))
                }
            }
        }
    }

    @Test func chainScanEqualsBruteForceUnderConstraints() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...12), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = withRandomConstraints(RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers, chain: true)), seed: UInt64(seed))
            for objective in additiveObjectives + [.throughput] {
                p.objective = objective
                let scan = ChainScanPlanner().plan(p)
                let brute = BruteForcePlanner().plan(p)
                #expect(scan.isFeasible == brute.isFeasible)
                #expect(close(scan.objectiveValue, brute.objectiveValue), "\(objective): scan \(scan.objectiveValue) brute \(brute.objectiveValue)")
                if let m = scan.metrics, scan.isFeasible { #expect(m.violations.isEmpty) }
            }
        }
    }

    @Test func constrainedSearchEqualsBruteForce() async {
        await propertyCheck(count: 80, input: Gen.int(in: 1...10), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = withRandomConstraints(RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers)), seed: UInt64(seed))
            for objective in additiveObjectives {
                p.objective = objective
                let search = ConstrainedSearchPlanner().plan(p)
                let brute = BruteForcePlanner().plan(p)
                #expect(search.isFeasible == brute.isFeasible, "\(objective) seed=\(seed): \(search.optimality) vs \(brute.optimality)")
                #expect(close(search.objectiveValue, brute.objectiveValue),
                        "\(objective) K=\(tiers) n=\(n) seed=\(seed): search \(search.objectiveValue) brute \(brute.objectiveValue)")
                if case .bestFound = search.optimality { Issue.record("search budget exhausted on a \(n)-kernel problem") }
            }
        }
    }

    @Test func pipelinePlannerEqualsBruteForceOverSegments() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...12), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = withRandomConstraints(RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers)), seed: UInt64(seed))
            p.objective = .throughput
            let pipe = PipelinePlanner().plan(p)
            let brute = BruteForcePlanner(scope: .segments).plan(p)
            #expect(pipe.isFeasible == brute.isFeasible)
            #expect(close(pipe.objectiveValue, brute.objectiveValue), "pipeline \(pipe.objectiveValue) brute(segments) \(brute.objectiveValue)")
            // Segments are a subset of all placements.
            let all = BruteForcePlanner().plan(p)
            #expect(all.objectiveValue <= pipe.objectiveValue * (1 + 1e-12) || !pipe.isFeasible)
        }
    }

    @Test func segmentModelEqualsTheEvaluator() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...15), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            let p = RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers))
            let model = SegmentModel(p)
            model.forEachCutTuple(firstCutOK: { _ in true }) { cuts in
                let v = model.value(cuts)
                let m = p.evaluate(model.placement(cuts))
                #expect(close(v.latency, m.latency.value) && close(v.energy, m.deviceEnergy.value) && close(v.period, m.period.value)
                        && close(v.memory, m.devicePeakMemory.value) && close(v.uplinkBytes, m.uplinkBytes.value), "cuts \(cuts)")
            }
        }
    }

    @Test func registryPlansNeverViolateConstraints() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...10), Gen.int(in: 2...3), Gen.int(in: 0...Int(Int32.max))) { n, tiers, seed in
            var p = withRandomConstraints(RandomProblem.make(seed: UInt64(seed), .init(kernels: n, tiers: tiers, zeroBandwidthChance: 0.1)), seed: UInt64(seed))
            for objective in additiveObjectives + [.throughput] {
                p.objective = objective
                let brute = BruteForcePlanner().plan(p)
                for planner in PlannerRegistry.all where planner.supports(p).isSupported {
                    let r = planner.plan(p)
                    if let placement = r.placement {
                        let m = p.evaluate(placement)
                        #expect(m.violations.isEmpty, "\(planner.name) returned a plan violating \(m.violations)")
                        #expect(r.objectiveValue >= brute.objectiveValue * (1 - 1e-9), "\(planner.name) beat brute force")
                    } else if objective.additiveWeights != nil {
                        // Exact additive planners only give up when nothing is feasible.
                        #expect(!brute.isFeasible, "\(planner.name) found nothing, brute force found \(brute.objectiveValue)")
                    }
                }
                if let chosen = PlannerRegistry.choose(for: p), objective.additiveWeights != nil {
                    #expect(close(chosen.plan(p).objectiveValue, brute.objectiveValue), "\(chosen.name) is not exact here")
                }
            }
        }
    }
}
