import NNGraph

/// One fused kernel (a fusion group): the unit a planner places on a tier.
public struct PlanKernel: Sendable, Hashable, Codable {
    /// Anchor node name (as in the profile tables).
    public var name: String
    public var kind: String
    /// Member node names, producer first.
    public var nodes: [String]
    public init(name: String, kind: String, nodes: [String] = []) {
        self.name = name
        self.kind = kind
        self.nodes = nodes.isEmpty ? [name] : nodes
    }
}

/// A tensor crossing kernel boundaries: what a cut transfers. Sent once per hop however many
/// kernels beyond the hop consume it.
public struct PlanTensor: Sendable, Hashable, Codable {
    public var name: String
    /// Producing kernel; nil = a graph input, which starts on the first tier.
    public var producer: Int?
    /// Consuming kernels, ascending and unique.
    public var consumers: [Int]
    /// A graph output (returned to the first tier when `returnResult`).
    public var isOutput: Bool
    /// Bytes per message on the wire (after compression).
    public var wireBytes: Bytes
    /// Uncompressed bytes (what the codec processes).
    public var rawBytes: Bytes
    /// Bytes the tensor occupies in the first tier's memory.
    public var deviceBytes: Bytes
    public init(name: String, producer: Int?, consumers: [Int], isOutput: Bool, wireBytes: Bytes, rawBytes: Bytes? = nil, deviceBytes: Bytes? = nil) {
        self.name = name
        self.producer = producer
        self.consumers = Array(Set(consumers)).sorted()
        self.isOutput = isOutput
        self.wireBytes = wireBytes
        self.rawBytes = rawBytes ?? wireBytes
        self.deviceBytes = deviceBytes ?? rawBytes ?? wireBytes
    }
}

/// Per-kernel costs of one tier (device, edge or cloud).
public struct TierCosts: Sendable, Hashable, Codable {
    public var name: String
    public var deviceID: String
    public var unit: String
    /// Predicted latency per kernel on this tier.
    public var computeTime: [Seconds]
    /// Predicted energy per kernel on this tier (incl. idle power × latency, as the cost model
    /// charges it). Only the first tier's enters the device energy.
    public var energy: [Joules]
    /// Weight bytes per kernel at this tier's precision.
    public var weightBytes: [Bytes]
    /// Board idle power: the first tier's is charged for every second the device waits.
    public var idlePower: Watts
    /// Power above idle while the tier (de)quantises tensors for a link (max − idle).
    public var codecExtraPower: Watts
    public init(name: String, deviceID: String, unit: String, computeTime: [Seconds], energy: [Joules], weightBytes: [Bytes],
                idlePower: Watts, codecExtraPower: Watts = .zero) {
        self.name = name
        self.deviceID = deviceID
        self.unit = unit
        self.computeTime = computeTime
        self.energy = energy
        self.weightBytes = weightBytes
        self.idlePower = idlePower
        self.codecExtraPower = codecExtraPower
    }
}

/// Device-side radio energy of the first link (Huang et al. linear model, per byte).
public struct RadioModel: Sendable, Hashable, Codable {
    public var txEnergyPerByte: JoulesPerByte
    public var txBasePower: Watts
    public var rxEnergyPerByte: JoulesPerByte
    public var rxBasePower: Watts
    public init(txEnergyPerByte: JoulesPerByte, txBasePower: Watts, rxEnergyPerByte: JoulesPerByte, rxBasePower: Watts) {
        self.txEnergyPerByte = txEnergyPerByte
        self.txBasePower = txBasePower
        self.rxEnergyPerByte = rxEnergyPerByte
        self.rxBasePower = rxBasePower
    }
}

/// The link between tier k and tier k + 1, as planners see it (expected values).
public struct HopModel: Sendable, Hashable, Codable {
    public var name: String
    public var uplink: BytesPerSecond
    public var downlink: BytesPerSecond
    public var rtt: Seconds
    /// Mean extra one-way delay per direction.
    public var meanJitter: Seconds
    /// Probability a message is lost (then resent after one RTT).
    public var loss: Double
    public var messageOverhead: Bytes
    public var messageTime: Seconds
    /// Radio energy, charged to the device only on the first hop.
    public var radio: RadioModel?
    public init(name: String, uplink: BytesPerSecond, downlink: BytesPerSecond, rtt: Seconds, meanJitter: Seconds = .zero, loss: Double = 0,
                messageOverhead: Bytes = .zero, messageTime: Seconds = .zero, radio: RadioModel? = nil) {
        self.name = name
        self.uplink = uplink
        self.downlink = downlink
        self.rtt = rtt
        self.meanJitter = meanJitter
        self.loss = loss
        self.messageOverhead = messageOverhead
        self.messageTime = messageTime
        self.radio = radio
    }

    /// One-way propagation per direction: half the RTT plus the mean jitter.
    public var oneWay: Seconds { rtt * 0.5 + meanJitter }
}

/// What to minimise. Additive objectives are `a × latency + b × device energy`.
public enum PlanObjective: Sendable, Hashable, Codable {
    case latency
    case deviceEnergy
    /// Maximise requests per second when consecutive requests pipeline across tiers and links
    /// (minimise the busiest stage's time per request).
    case throughput
    /// `latency × perSecond + energy × perJoule` (the scenario's weights already divided by the
    /// device-only latency and energy).
    case weighted(perSecond: Double, perJoule: Double)

    /// (per second, per joule) weights of an additive objective; nil for throughput.
    public var additiveWeights: (Double, Double)? {
        switch self {
        case .latency: (1, 0)
        case .deviceEnergy: (0, 1)
        case .weighted(let a, let b): (a, b)
        case .throughput: nil
        }
    }

    public var name: String {
        switch self {
        case .latency: "latency"
        case .deviceEnergy: "device_energy"
        case .throughput: "throughput"
        case .weighted: "weighted"
        }
    }
}

public struct PlanConstraints: Sendable, Hashable, Codable {
    /// Peak memory on the first tier (weights + live activations).
    public var deviceMemory: Bytes?
    public var deadline: Seconds?
    /// Bytes per request the first tier may send up the first link (messages incl. overhead).
    public var maxUplinkBytes: Bytes?
    /// Kernels that must stay on the first tier (privacy).
    public var pinnedToDevice: Set<Int>
    public init(deviceMemory: Bytes? = nil, deadline: Seconds? = nil, maxUplinkBytes: Bytes? = nil, pinnedToDevice: Set<Int> = []) {
        self.deviceMemory = deviceMemory
        self.deadline = deadline
        self.maxUplinkBytes = maxUplinkBytes
        self.pinnedToDevice = pinnedToDevice
    }
}

/// Codec applied to every cut tensor (quantise at the sender, dequantise at the receiver).
public struct CodecModel: Sendable, Hashable, Codable {
    public var encodeRate: BytesPerSecond
    public var decodeRate: BytesPerSecond
    public init(encodeRate: BytesPerSecond, decodeRate: BytesPerSecond) {
        self.encodeRate = encodeRate
        self.decodeRate = decodeRate
    }
}

/// Everything a planner needs, as plain numbers: kernels in execution order (a topological
/// order), the tensors between them, per-tier costs, the hops, objective and constraints.
///
/// Placement model (README "Split computing"): a placement gives each kernel a tier; data only
/// flows forward along the tier chain (a consumer's tier ≥ its producers' tiers), graph inputs
/// start on the first tier, results return to it. A request runs its kernels one after another
/// (batch 1, no overlap between tiers), so latency = compute + transfers + propagation.
public struct PlanningProblem: Sendable, Hashable, Codable {
    public var modelName: String
    public var kernels: [PlanKernel]
    public var tensors: [PlanTensor]
    public var tiers: [TierCosts]
    public var hops: [HopModel]
    public var objective: PlanObjective
    public var constraints: PlanConstraints
    public var codec: CodecModel?
    public var returnResult: Bool

    public init(modelName: String, kernels: [PlanKernel], tensors: [PlanTensor], tiers: [TierCosts], hops: [HopModel],
                objective: PlanObjective = .latency, constraints: PlanConstraints = PlanConstraints(), codec: CodecModel? = nil,
                returnResult: Bool = true) {
        self.modelName = modelName
        self.kernels = kernels
        self.tensors = tensors
        self.tiers = tiers
        self.hops = hops
        self.objective = objective
        self.constraints = constraints
        self.codec = codec
        self.returnResult = returnResult
    }

    public var kernelCount: Int { kernels.count }
    public var tierCount: Int { tiers.count }

    /// Checks the shapes of the arrays and the topological order; returns problems found.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        if tiers.count < 1 { errors.append("at least one tier is needed") }
        if hops.count != max(tiers.count - 1, 0) { errors.append("expected \(tiers.count - 1) hops for \(tiers.count) tiers, got \(hops.count)") }
        for t in tiers where t.computeTime.count != kernels.count || t.energy.count != kernels.count || t.weightBytes.count != kernels.count {
            errors.append("tier '\(t.name)': per-kernel arrays must have \(kernels.count) entries")
        }
        for t in tensors {
            if let p = t.producer, !(0..<kernels.count).contains(p) { errors.append("tensor '\(t.name)': producer \(p) out of range") }
            for c in t.consumers {
                if !(0..<kernels.count).contains(c) { errors.append("tensor '\(t.name)': consumer \(c) out of range") }
                if let p = t.producer, c <= p { errors.append("tensor '\(t.name)': consumer \(c) does not come after producer \(p)") }
            }
        }
        for p in constraints.pinnedToDevice where !(0..<kernels.count).contains(p) { errors.append("pinned kernel \(p) out of range") }
        return errors
    }

    /// A copy with the bandwidth of one hop replaced (downlink keeps its ratio to the uplink).
    public func withUplink(_ bandwidth: BytesPerSecond, hop: Int) -> PlanningProblem {
        var copy = self
        let old = hops[hop]
        let ratio = old.uplink.value > 0 ? old.downlink.value / old.uplink.value : 1
        copy.hops[hop].uplink = bandwidth
        copy.hops[hop].downlink = BytesPerSecond(bandwidth.value * ratio)
        return copy
    }
}
