import NNGraph
import Testing
@testable import OffloadPlanner

@Suite("Planner sanity")
struct PlannerSanityTests {
    /// Remote tiers at a fixed fraction of the device's time and a near-infinite, zero-latency link.
    static func fastRemote(seed: UInt64, tiers: Int, bandwidth: Double) -> PlanningProblem {
        var p = RandomProblem.make(seed: seed, .init(kernels: 10, tiers: tiers))
        for k in 1..<tiers {
            p.tiers[k].computeTime = p.tiers[0].computeTime.map { $0 * (0.5 / Double(k)) }
            p.hops[k - 1] = HopModel(name: "h\(k)", uplink: BytesPerSecond(bandwidth), downlink: BytesPerSecond(bandwidth), rtt: .zero)
        }
        p.codec = nil
        return p
    }

    @Test(arguments: [2, 3])
    func infiniteBandwidthOffloadsWhateverIsFasterRemotely(tiers: Int) {
        for seed in UInt64(1)...20 {
            let p = Self.fastRemote(seed: seed, tiers: tiers, bandwidth: 1e30)
            let r = MultiTierMinCutPlanner().plan(p)
            // The last tier is fastest for every kernel and transfers are free: everything goes there.
            #expect(r.placement == [Int](repeating: tiers - 1, count: p.kernelCount))
            let remote = p.tiers[tiers - 1].computeTime.reduce(Seconds.zero, +)
            #expect(close(r.metrics?.latency.value ?? -1, remote.value, rel: 1e-12))
        }
        // Mixed speeds: each kernel runs where it is fastest as long as data flows forward.
        for seed in UInt64(30)...50 {
            var p = RandomProblem.make(seed: seed, .init(kernels: 8, tiers: 2))
            p.hops[0] = HopModel(name: "inf", uplink: BytesPerSecond(1e30), downlink: BytesPerSecond(1e30), rtt: .zero)
            p.codec = nil
            let r = TwoTierMinCutPlanner().plan(p)
            let brute = BruteForcePlanner().plan(p)
            #expect(close(r.objectiveValue, brute.objectiveValue))
            // With free transfers, a kernel faster remotely never stays local unless a local consumer forces it.
            if let placement = r.placement {
                let (_, succs) = p.kernelEdges()
                for i in 0..<p.kernelCount where placement[i] == 0 && p.tiers[1].computeTime[i] < p.tiers[0].computeTime[i] {
                    #expect(succs[i].contains { placement[$0] == 0 }, "kernel \(i) is faster remotely and feeds nothing local")
                }
            }
        }
    }

    @Test(arguments: [2, 3])
    func zeroBandwidthKeepsEverythingLocal(tiers: Int) {
        for seed in UInt64(1)...20 {
            var p = Self.fastRemote(seed: seed, tiers: tiers, bandwidth: 0)
            for objective in additiveObjectives {
                p.objective = objective
                let r = PlannerRegistry.choose(for: p)?.plan(p)
                #expect(r?.placement == [Int](repeating: 0, count: p.kernelCount), "\(objective)")
            }
            p.objective = .throughput
            #expect(PipelinePlanner().plan(p).placement == [Int](repeating: 0, count: p.kernelCount))
        }
    }

    /// A → {B, C}: with A local and B, C remote, A's output crosses the link once.
    @Test func tensorReadByTwoRemoteKernelsIsSentOnce() {
        let tenMB = Bytes(1e7)
        let tensors = [
            PlanTensor(name: "x", producer: nil, consumers: [0], isOutput: false, wireBytes: Bytes(1e7)),
            PlanTensor(name: "a", producer: 0, consumers: [1, 2], isOutput: false, wireBytes: tenMB),
            PlanTensor(name: "b", producer: 1, consumers: [3], isOutput: false, wireBytes: Bytes(1)),
            PlanTensor(name: "c", producer: 2, consumers: [3], isOutput: false, wireBytes: Bytes(1)),
            PlanTensor(name: "y", producer: 3, consumers: [], isOutput: true, wireBytes: Bytes(1)),
        ]
        let slow = TierCosts(name: "device", deviceID: "d", unit: "cpu", computeTime: [0.001, 1, 1, 0.001].map(Seconds.init),
                             energy: [Joules](repeating: .zero, count: 4), weightBytes: [Bytes](repeating: .zero, count: 4), idlePower: .zero)
        let fast = TierCosts(name: "cloud", deviceID: "c", unit: "gpu", computeTime: [0.5, 0.01, 0.01, 0.001].map(Seconds.init),
                             energy: [Joules](repeating: .zero, count: 4), weightBytes: [Bytes](repeating: .zero, count: 4), idlePower: .zero)
        // 10 MB at 10 MB/s = 1 s once (plan 1.022 s, beats all-local 2.002 s and all-remote 1.521 s);
        // charged twice (2.022 s) the split would lose to both.
        let hop = HopModel(name: "link", uplink: BytesPerSecond(1e7), downlink: BytesPerSecond(1e7), rtt: .zero)
        let p = PlanningProblem(modelName: "diamond", kernels: (0..<4).map { PlanKernel(name: "k\($0)", kind: "k") }, tensors: tensors,
                                tiers: [slow, fast], hops: [hop])
        let r = TwoTierMinCutPlanner().plan(p)
        #expect(r.placement == [0, 1, 1, 1])
        let m = p.evaluate([0, 1, 1, 1])
        #expect(m.hopUpBytes[0].value == 1e7)
        #expect(close(m.latency.value, 0.001 + 1.0 + 0.021 + 1e-7))
        #expect(close(r.objectiveValue, m.latency.value))
        #expect(close(CutCosts(p, perSecond: 1, perJoule: 0).value(p, [0, 1, 1, 1]), m.latency.value))
    }

    @Test func propagationIsChargedPerHopUsed() {
        var p = RandomProblem.make(seed: 5, .init(kernels: 4, tiers: 3, chain: true))
        p.hops = [HopModel(name: "a", uplink: BytesPerSecond(1e12), downlink: BytesPerSecond(1e12), rtt: Seconds(0.010)),
                  HopModel(name: "b", uplink: BytesPerSecond(1e12), downlink: BytesPerSecond(1e12), rtt: Seconds(0.030))]
        p.codec = nil
        p.returnResult = true
        #expect(close(p.evaluate([0, 0, 0, 0]).propagation.value, 0))
        #expect(close(p.evaluate([0, 1, 1, 1]).propagation.value, 0.010))
        #expect(close(p.evaluate([0, 1, 2, 2]).propagation.value, 0.040))
        p.returnResult = false
        #expect(close(p.evaluate([0, 1, 2, 2]).propagation.value, 0.020))
    }

    @Test func constrainedSearchHonoursMemoryOnALargerProblem() {
        var p = RandomProblem.make(seed: 99, .init(kernels: 60, tiers: 3))
        let local = p.evaluate([Int](repeating: 0, count: 60))
        p.constraints.deviceMemory = Bytes(local.devicePeakMemory.value * 0.3)
        p.objective = .deviceEnergy
        #expect(!MultiTierMinCutPlanner().supports(p).isSupported)
        let r = ConstrainedSearchPlanner().plan(p)
        if let m = r.metrics, r.isFeasible {
            #expect(m.devicePeakMemory <= (p.constraints.deviceMemory ?? .zero))
        }
    }
}
