import KernelRunner
import Testing

@Suite("Arena planner")
struct MemoryPlannerTests {
    @Test func neverOverlapsLiveBuffers() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<50 {
            let n = 1 + Int(rng.next() % 40)
            let requests = (0..<n).map { _ -> MemoryPlanner.Request in
                let first = Int(rng.next() % 30)
                return MemoryPlanner.Request(size: 1 + Int(rng.next() % 5000), first: first, last: first + Int(rng.next() % 10))
            }
            let plan = MemoryPlanner.plan(requests)
            for i in 0..<n {
                #expect(plan.offsets[i] % MemoryPlanner.alignment == 0)
                #expect(plan.offsets[i] + requests[i].size <= plan.total)
                for j in 0..<i where requests[i].first <= requests[j].last && requests[j].first <= requests[i].last {
                    let disjoint = plan.offsets[i] + requests[i].size <= plan.offsets[j] || plan.offsets[j] + requests[j].size <= plan.offsets[i]
                    #expect(disjoint, "buffers \(i) and \(j) are live together and overlap")
                }
            }
            #expect(plan.total >= plan.lowerBound)
        }
    }

    @Test func chainReusesTwoBuffers() {
        // a -> b -> c -> d: each tensor dies when the next is produced; two slots suffice.
        let requests = (0..<4).map { MemoryPlanner.Request(size: 1024, first: $0, last: $0 + 1) }
        let plan = MemoryPlanner.plan(requests)
        #expect(plan.total == 2048)
        #expect(plan.lowerBound == 2048)
    }
}
