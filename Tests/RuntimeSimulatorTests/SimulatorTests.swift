import DeviceSpec
import NNGraph
import OffloadPlanner
import Testing
@testable import RuntimeSimulator

/// A random problem without randomness on its links (no jitter, no loss), planned exactly.
func deterministicProblem(seed: UInt64, tiers: Int = 3, kernels: Int = 10) -> (PlanningProblem, [Int]) {
    var p = RandomProblem.make(seed: seed, .init(kernels: kernels, tiers: tiers))
    for h in p.hops.indices {
        p.hops[h].meanJitter = .zero
        p.hops[h].loss = 0
        p.hops[h].uplink = BytesPerSecond(max(p.hops[h].uplink.value, 1e7))
        p.hops[h].downlink = BytesPerSecond(max(p.hops[h].downlink.value, 1e7))
    }
    let placement = MultiTierMinCutPlanner().plan(p).placement ?? [Int](repeating: 0, count: kernels)
    return (p, placement)
}

/// As `deterministicProblem`, with remote tiers 20× faster than the device so plans offload.
func offloadingProblem(seed: UInt64, tiers: Int = 2, kernels: Int = 10) -> (PlanningProblem, [Int]) {
    var (p, _) = deterministicProblem(seed: seed, tiers: tiers, kernels: kernels)
    for k in 1..<tiers { p.tiers[k].computeTime = p.tiers[0].computeTime.map { $0 * 0.05 } }
    for h in p.hops.indices {
        p.hops[h].uplink = BytesPerSecond(max(p.hops[h].uplink.value, 1e8))
        p.hops[h].downlink = BytesPerSecond(max(p.hops[h].downlink.value, 1e8))
    }
    let placement = MultiTierMinCutPlanner().plan(p).placement ?? [Int](repeating: 0, count: kernels)
    return (p, placement)
}

func relClose(_ a: Double, _ b: Double, _ rel: Double) -> Bool { abs(a - b) <= rel * max(abs(a), abs(b)) }

@Suite("Runtime simulator")
struct SimulatorTests {
    @Test func lowLoadReproducesThePlannersLatencyAndEnergy() {
        for seed in UInt64(1)...25 {
            let (p, placement) = deterministicProblem(seed: seed, tiers: seed % 2 == 0 ? 2 : 3)
            let planned = p.evaluate(placement)
            let config = SimulationConfig(arrivals: .fps, fps: 1 / (4 * planned.latency.value), frames: 200, seed: seed)
            let r = RuntimeSimulator.run(problem: p, placement: placement, config: config)
            #expect(r.completed == 200)
            #expect(relClose(r.latencyMean.value, planned.latency.value, 0.01), "seed \(seed): simulated \(r.latencyMean) planned \(planned.latency)")
            // Without randomness every request takes exactly the planned time.
            #expect(relClose(r.latencyMax.value, planned.latency.value, 1e-9) && relClose(r.latencyP50.value, planned.latency.value, 1e-9))
            #expect(relClose(r.energyPerRequest.value, planned.deviceEnergy.value, 1e-9), "seed \(seed): \(r.energyPerRequest) vs \(planned.deviceEnergy)")
            #expect(r.resources.allSatisfy { $0.utilisation <= 1 + 1e-9 && $0.meanQueue < 1e-9 })
        }
    }

    @Test func jitterAndLossMatchThePlannersExpectation() {
        var (p, placement) = offloadingProblem(seed: 7)
        p.hops[0].loss = 0.05
        p.hops[0].meanJitter = Seconds(0.002)
        placement = MultiTierMinCutPlanner().plan(p).placement ?? placement
        #expect(placement.contains { $0 > 0 }, "the plan should use the link")
        let planned = p.evaluate(placement)
        let config = SimulationConfig(arrivals: .fps, fps: 1 / (5 * planned.latency.value), frames: 20_000, seed: 3)
        let dynamics = [HopDynamics(jitter: .exponential, jitterMean: Seconds(0.002))]
        let r = RuntimeSimulator.run(problem: p, placement: placement, dynamics: dynamics, config: config)
        #expect(relClose(r.latencyMean.value, planned.latency.value, 0.03), "simulated mean \(r.latencyMean), planned \(planned.latency)")
        #expect(r.latencyP99 > r.latencyP50)
    }

    @Test func sameSeedSameRunDifferentSeedDifferentRun() {
        let (p, placement) = deterministicProblem(seed: 4)
        let dynamics = p.hops.map { _ in HopDynamics(jitter: .uniform, jitterMean: Seconds(0.001)) }
        func run(_ seed: UInt64) -> SimulationResult {
            RuntimeSimulator.run(problem: p, placement: placement, dynamics: dynamics,
                                 config: SimulationConfig(arrivals: .poisson, rate: 20, frames: 500, clients: 3, seed: seed))
        }
        #expect(run(9) == run(9))
        #expect(run(9).latencyP99 != run(10).latencyP99)
    }

    @Test func clientsContendForTheSharedTiers() {
        let (p, placement) = offloadingProblem(seed: 2)
        #expect(placement.contains { $0 > 0 })
        let planned = p.evaluate(placement)
        // Offered load per client on the busiest shared resource: 0.2 (8 clients: 1.6).
        let shared = max(planned.tierCompute[1].value, planned.hopUpBusy[0].value, planned.hopDownBusy[0].value)
        let fps = 0.2 / shared
        #expect(fps * planned.tierCompute[0].value < 0.5, "the devices themselves must not saturate")
        func run(_ clients: Int) -> SimulationResult {
            RuntimeSimulator.run(problem: p, placement: placement,
                                 config: SimulationConfig(arrivals: .poisson, rate: fps, frames: 2000, clients: clients, seed: 5))
        }
        let one = run(1), four = run(4), eight = run(8)
        #expect(one.latencyP99 < four.latencyP99 && four.latencyP99 < eight.latencyP99)
        for r in [one, four, eight] { #expect(r.resources.allSatisfy { $0.utilisation <= 1 + 1e-9 }) }
        // At 8 clients the offered load is 1.6 > 1: the busiest remote resource saturates.
        let busiest = eight.resources.dropFirst().map(\.utilisation).max() ?? 0
        #expect(busiest > 0.95)
    }

    @Test func offlineThroughputIsTheBottleneckStage() {
        let (p, placement) = deterministicProblem(seed: 8, tiers: 3)
        let planned = p.evaluate(placement)
        let r = RuntimeSimulator.run(problem: p, placement: placement, config: SimulationConfig(arrivals: .offline, frames: 3000, seed: 1))
        #expect(relClose(r.throughput, 1 / planned.period.value, 0.02), "throughput \(r.throughput) vs 1/period \(1 / planned.period.value)")
    }

    @Test func singleStreamIssuesTheNextRequestWhenThePreviousEnds() {
        let (p, placement) = deterministicProblem(seed: 6, tiers: 2)
        let planned = p.evaluate(placement)
        let r = RuntimeSimulator.run(problem: p, placement: placement, config: SimulationConfig(arrivals: .singleStream, frames: 100, seed: 1))
        #expect(r.completed == 100)
        #expect(relClose(r.throughput, 1 / planned.latency.value, 1e-6))
    }

    @Test func bandwidthTraceSlowsTransfersWhenTheRateDrops() {
        // A two-kernel chain split across the link: one fixed-size transfer per request.
        let tensors = [
            PlanTensor(name: "x", producer: nil, consumers: [0], isOutput: false, wireBytes: Bytes(1e6)),
            PlanTensor(name: "a", producer: 0, consumers: [1], isOutput: false, wireBytes: Bytes(1e6)),
            PlanTensor(name: "y", producer: 1, consumers: [], isOutput: true, wireBytes: .zero),
        ]
        let tier = { (name: String) in
            TierCosts(name: name, deviceID: name, unit: "u", computeTime: [Seconds(0.001), Seconds(0.001)], energy: [.zero, .zero],
                      weightBytes: [.zero, .zero], idlePower: .zero)
        }
        let p = PlanningProblem(modelName: "two", kernels: [PlanKernel(name: "a", kind: "k"), PlanKernel(name: "b", kind: "k")], tensors: tensors,
                                tiers: [tier("device"), tier("cloud")],
                                hops: [HopModel(name: "link", uplink: BytesPerSecond(1e7), downlink: BytesPerSecond(1e7), rtt: .zero)])
        // 10 MB/s until t = 1 s, then 2.5 MB/s.
        let trace = BandwidthTrace(file: "test", times: [Seconds(0), Seconds(1)], rates: [BytesPerSecond(1e7), BytesPerSecond(2.5e6)])
        let r = RuntimeSimulator.run(problem: p, placement: [0, 1], dynamics: [HopDynamics(trace: trace)],
                                     config: SimulationConfig(arrivals: .fps, fps: 2, frames: 6, seed: 1))
        // Before: 1 + 100 + 1 ms; after: 1 + 400 + 1 ms.
        #expect(relClose(r.latencyP50.value, 0.102, 1e-9) || relClose(r.latencyP50.value, 0.402, 1e-9))
        #expect(relClose(r.latencyMax.value, 0.402, 1e-9))
        #expect(r.completed == 6)
    }

    @Test func replanningSwitchesPlansWhenTheTraceDrops() {
        var (p, placement) = offloadingProblem(seed: 3)
        p.hops[0].uplink = BytesPerSecond(1e9)
        p.hops[0].downlink = BytesPerSecond(1e9)
        placement = MultiTierMinCutPlanner().plan(p).placement ?? placement
        #expect(placement.contains { $0 > 0 })
        let planned = p.evaluate(placement)
        let period = 4 * planned.latency.value
        let trace = BandwidthTrace(file: "t", times: [Seconds(0), Seconds(50 * period)], rates: [BytesPerSecond(1e9), BytesPerSecond(1)])
        let config = SimulationConfig(arrivals: .fps, fps: 1 / period, frames: 100, seed: 1, replan: true, switchingCost: Seconds(0.01))
        let r = RuntimeSimulator.run(problem: p, placement: placement, dynamics: [HopDynamics(trace: trace)], config: config,
                                     replanner: MultiTierMinCutPlanner())
        #expect(r.switches >= 1)
        #expect(r.placements.contains([Int](repeating: 0, count: p.kernelCount)))
        #expect(r.dropped == 0)
    }
}
