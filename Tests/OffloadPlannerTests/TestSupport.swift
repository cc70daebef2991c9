import NNGraph
@testable import OffloadPlanner

/// Relative closeness for objective values computed along different arithmetic paths.
func close(_ a: Double, _ b: Double, rel: Double = 1e-9) -> Bool {
    if a == b { return true }
    guard a.isFinite, b.isFinite else { return false }
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)
}

let additiveObjectives: [PlanObjective] = [.latency, .deviceEnergy, .weighted(perSecond: 3, perJoule: 0.5)]

/// Random constraints drawn around the problem's own scale so that they sometimes bind.
func withRandomConstraints(_ problem: PlanningProblem, seed: UInt64) -> PlanningProblem {
    var p = problem
    var rng = SplitMix64(seed: seed ^ 0xC0FFEE)
    let n = p.kernelCount
    let local = p.evaluate([Int](repeating: 0, count: n))
    var c = PlanConstraints()
    if rng.unit() < 0.5 { c.deviceMemory = Bytes(local.devicePeakMemory.value * rng.uniform(0.1, 1.1)) }
    if rng.unit() < 0.5 { c.deadline = Seconds(local.latency.value * rng.uniform(0.2, 1.5)) }
    if rng.unit() < 0.4, p.tierCount > 1 {
        let all = p.tensors.indices.reduce(0.0) { $0 + p.upMessage($1, hop: 0).bytes }
        c.maxUplinkBytes = Bytes(all * rng.uniform(0, 0.6))
    }
    if rng.unit() < 0.3 { for i in 0..<Int(rng.next() % UInt64(n / 2 + 1)) { c.pinnedToDevice.insert(i) } }
    p.constraints = c
    return p
}
