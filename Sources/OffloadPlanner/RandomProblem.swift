import Foundation
import NNGraph

/// SplitMix64: a small, fast, seedable generator (Steele, Lea & Flood, OOPSLA 2014). Same seed,
/// same sequence on every platform — what the simulator and the property tests need.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    /// Log-uniform in [lo, hi] (lo > 0).
    public mutating func logUniform(_ lo: Double, _ hi: Double) -> Double {
        lo * pow(Swift.max(1, hi / lo), unit())
    }
}

/// Seeded random planning problems: DAGs of fused kernels with random costs, for property tests
/// and benchmarks. Kernel i reads one to `maxInputs` tensors produced earlier (or the graph
/// input); tensors nobody reads are graph outputs, so every kernel reaches an output.
public enum RandomProblem {
    public struct Options: Sendable {
        public var kernels: Int
        public var tiers: Int
        public var maxInputs: Int
        /// Only a chain (kernel i reads kernel i − 1).
        public var chain: Bool
        /// Probability that a hop has zero bandwidth.
        public var zeroBandwidthChance: Double
        public init(kernels: Int, tiers: Int, maxInputs: Int = 2, chain: Bool = false, zeroBandwidthChance: Double = 0) {
            self.kernels = kernels
            self.tiers = tiers
            self.maxInputs = maxInputs
            self.chain = chain
            self.zeroBandwidthChance = zeroBandwidthChance
        }
    }

    public static func make(seed: UInt64, _ o: Options) -> PlanningProblem {
        var rng = SplitMix64(seed: seed)
        let n = max(o.kernels, 1), K = max(o.tiers, 1)
        var tensors: [PlanTensor] = []
        // Tensor 0: the graph input. Tensor i + 1: kernel i's output.
        var consumers = [[Int]](repeating: [], count: n + 1)
        for i in 0..<n {
            if o.chain {
                consumers[i].append(i)  // input i is tensor i (graph input for kernel 0)
                continue
            }
            let k = 1 + Int(rng.next() % UInt64(max(o.maxInputs, 1)))
            var picked = Set<Int>()
            for _ in 0..<k { picked.insert(Int(rng.next() % UInt64(i + 1))) }
            // Favour the previous kernel so graphs look like networks (long paths, some skips).
            if rng.unit() < 0.7 { picked.insert(i) }
            for t in picked { consumers[t].append(i) }
        }
        for t in 0...n {
            let bytes = Bytes(rng.logUniform(1e2, 4e6).rounded())
            tensors.append(PlanTensor(name: t == 0 ? "input" : "k\(t - 1)", producer: t == 0 ? nil : t - 1, consumers: consumers[t],
                                      isOutput: t > 0 && consumers[t].isEmpty, wireBytes: bytes, rawBytes: bytes * 2, deviceBytes: bytes))
        }
        var tiers: [TierCosts] = []
        for k in 0..<K {
            // Remote tiers tend to be faster, with per-kernel variety (some kernels slower remotely).
            let speed = Double(k) * 2 + 1
            var time: [Seconds] = [], energy: [Joules] = [], weights: [Bytes] = []
            for _ in 0..<n {
                let t = rng.logUniform(1e-5, 2e-2) / speed * rng.uniform(0.5, 2)
                time.append(Seconds(t))
                energy.append(Joules(t * rng.uniform(2, 8)))
                weights.append(Bytes(rng.logUniform(1e3, 5e6).rounded()))
            }
            tiers.append(TierCosts(name: ["device", "edge", "cloud", "far"][min(k, 3)] + (k > 3 ? "\(k)" : ""), deviceID: "t\(k)", unit: "u",
                                   computeTime: time, energy: energy, weightBytes: weights, idlePower: Watts(rng.uniform(0.5, 4)),
                                   codecExtraPower: Watts(rng.uniform(0, 2))))
        }
        var hops: [HopModel] = []
        for k in 0..<(K - 1) {
            let up = rng.unit() < o.zeroBandwidthChance ? 0 : rng.logUniform(1e5, 1e9)
            let radio = k == 0 && rng.unit() < 0.7
                ? RadioModel(txEnergyPerByte: JoulesPerByte(rng.uniform(0, 4e-6)), txBasePower: Watts(rng.uniform(0, 1.5)),
                             rxEnergyPerByte: JoulesPerByte(rng.uniform(0, 1e-6)), rxBasePower: Watts(rng.uniform(0, 1)))
                : nil
            hops.append(HopModel(name: "hop\(k)", uplink: BytesPerSecond(up), downlink: BytesPerSecond(up * rng.uniform(0.5, 3)),
                                 rtt: Seconds(rng.logUniform(1e-4, 0.1)), meanJitter: Seconds(rng.uniform(0, 2e-3)),
                                 loss: rng.unit() < 0.5 ? 0 : rng.uniform(0, 0.1), messageOverhead: Bytes(rng.uniform(0, 200).rounded()),
                                 messageTime: Seconds(rng.uniform(0, 1e-4)), radio: radio))
        }
        let codec = rng.unit() < 0.3 ? CodecModel(encodeRate: BytesPerSecond(rng.logUniform(1e8, 1e10)), decodeRate: BytesPerSecond(rng.logUniform(1e8, 1e10))) : nil
        return PlanningProblem(modelName: "random-\(seed)", kernels: (0..<n).map { PlanKernel(name: "k\($0)", kind: "random") },
                               tensors: tensors, tiers: tiers, hops: hops, objective: .latency, constraints: PlanConstraints(),
                               codec: codec, returnResult: rng.unit() < 0.8)
    }
}
