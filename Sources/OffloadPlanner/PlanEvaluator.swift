import NNGraph

/// Expected cost of sending one tensor once over one hop in one direction.
public struct MessageCost: Sendable, Hashable {
    /// Bytes per attempt (wire bytes + per-message overhead).
    public var bytes: Double
    /// Expected time the link is busy: codec + (serialisation + message time) / (1 − loss).
    public var busy: Double
    /// Expected end-to-end time added to a request: `busy` + expected retransmission waits
    /// (one RTT per lost attempt). Propagation is charged once per hop and direction, not here.
    public var time: Double
    /// Device energy beyond idle power × time (radio α·bytes + β·air time, codec above idle);
    /// non-zero only on the first hop.
    public var deviceExtraEnergy: Double
    /// One attempt's serialisation + message time (what the simulator draws losses against).
    public var attempt: Double
    /// Encode + decode time.
    public var codec: Double
}

public enum Direction: String, Sendable, Hashable, Codable {
    case up, down
}

/// One tensor sent over one hop.
public struct TransferRecord: Sendable, Hashable, Codable {
    public var tensor: Int
    public var hop: Int
    public var direction: Direction
    public var bytes: Bytes
    public var time: Seconds
}

public enum Violation: Sendable, Hashable, Codable, CustomStringConvertible {
    case deadline(latency: Seconds, limit: Seconds)
    case deviceMemory(peak: Bytes, limit: Bytes)
    case uplinkBytes(bytes: Bytes, limit: Bytes)
    case pinned(kernel: String)
    /// A transfer over a hop whose bandwidth is zero.
    case linkDown(hop: String)

    public var description: String {
        switch self {
        case .deadline(let l, let d): "latency \(l) exceeds the deadline \(d)"
        case .deviceMemory(let p, let m): "device peak memory \(p) exceeds \(m)"
        case .uplinkBytes(let b, let m): "uplink bytes \(b) exceed \(m)"
        case .pinned(let k): "kernel '\(k)' must stay on the device (privacy)"
        case .linkDown(let h): "link '\(h)' has zero bandwidth"
        }
    }
}

/// Everything a placement costs, computed one way for every planner (the single source of truth
/// the planners' internal models are tested against).
public struct PlanMetrics: Sendable, Hashable, Codable {
    public var latency: Seconds
    public var deviceEnergy: Joules
    /// Time per request of the busiest pipeline stage (a tier's compute or a link direction).
    public var period: Seconds
    public var tierCompute: [Seconds]
    public var tierKernels: [Int]
    public var hopUpTime: [Seconds]
    public var hopDownTime: [Seconds]
    public var hopUpBytes: [Bytes]
    public var hopDownBytes: [Bytes]
    /// Link busy time per hop and direction (pipeline stages).
    public var hopUpBusy: [Seconds]
    public var hopDownBusy: [Seconds]
    /// One-way propagation (RTT/2 + mean jitter) over the hops used, both directions.
    public var propagation: Seconds
    public var devicePeakMemory: Bytes
    /// Bytes the device sends up the first hop (= hopUpBytes[0]).
    public var uplinkBytes: Bytes
    /// Highest tier used.
    public var highestTier: Int
    public var transfers: [TransferRecord]
    public var violations: [Violation]
    public var feasible: Bool { violations.isEmpty }
    public var throughput: Double { period.value > 0 ? 1 / period.value : .infinity }
}

extension PlanningProblem {
    public func upMessage(_ t: Int, hop k: Int) -> MessageCost { message(tensors[t], hop: k, direction: .up) }
    public func downMessage(_ t: Int, hop k: Int) -> MessageCost { message(tensors[t], hop: k, direction: .down) }

    func message(_ tensor: PlanTensor, hop k: Int, direction: Direction) -> MessageCost {
        let h = hops[k]
        let bytes = tensor.wireBytes.value + h.messageOverhead.value
        let bw = direction == .up ? h.uplink.value : h.downlink.value
        let ser = bytes == 0 ? 0 : (bw > 0 ? bytes / bw : .infinity)
        let attempt = ser + h.messageTime.value
        let p = h.loss
        let codec = codec.map { tensor.rawBytes.value / $0.encodeRate.value + tensor.rawBytes.value / $0.decodeRate.value } ?? 0
        let busy = codec + attempt / (1 - p)
        let time = busy + h.rtt.value * p / (1 - p)
        var extra = 0.0
        if k == 0 {
            if let r = h.radio {
                let (perByte, base) = direction == .up ? (r.txEnergyPerByte.value, r.txBasePower.value) : (r.rxEnergyPerByte.value, r.rxBasePower.value)
                extra += perByte * bytes / (1 - p) + base * attempt / (1 - p)
            }
            if let c = self.codec {
                // The device encodes what it sends and decodes what it receives.
                let deviceCodec = direction == .up ? tensor.rawBytes.value / c.encodeRate.value : tensor.rawBytes.value / c.decodeRate.value
                extra += deviceCodec * tiers[0].codecExtraPower.value
            }
        }
        return MessageCost(bytes: bytes, busy: busy, time: time, deviceExtraEnergy: extra, attempt: attempt, codec: codec)
    }

    /// One-way propagation summed over hops 0..<m, both ways when results return.
    public func propagation(highestTier m: Int) -> Double {
        var s = 0.0
        for k in 0..<m { s += hops[k].oneWay.value * (returnResult ? 2 : 1) }
        return s
    }

    /// Tier of each endpoint of tensor `t` under `placement`: (source tier, farthest consumer tier).
    @inline(__always)
    func span(_ t: PlanTensor, _ placement: [Int]) -> (Int, Int) {
        let src = t.producer.map { placement[$0] } ?? 0
        var dst = src
        for c in t.consumers where placement[c] > dst { dst = placement[c] }
        return (src, dst)
    }

    /// Evaluates a placement (tier per kernel). `detailed` also lists every transfer.
    public func evaluate(_ placement: [Int], detailed: Bool = false) -> PlanMetrics {
        let K = tiers.count
        var tierCompute = [Double](repeating: 0, count: K)
        var tierKernels = [Int](repeating: 0, count: K)
        var localEnergy = 0.0
        var highest = 0
        for (i, k) in placement.enumerated() {
            tierCompute[k] += tiers[k].computeTime[i].value
            tierKernels[k] += 1
            if k == 0 { localEnergy += tiers[0].energy[i].value }
            if k > highest { highest = k }
        }
        let H = hops.count
        var upTime = [Double](repeating: 0, count: H), downTime = upTime, upBytes = upTime, downBytes = upTime, upBusy = upTime, downBusy = upTime
        var extra = 0.0
        var transfers: [TransferRecord] = []
        var violations: [Violation] = []
        var downed = Set<Int>()
        for (ti, t) in tensors.enumerated() {
            let (src, dst) = span(t, placement)
            if src < dst {
                for k in src..<dst {
                    let m = message(t, hop: k, direction: .up)
                    upTime[k] += m.time
                    upBusy[k] += m.busy
                    upBytes[k] += m.bytes
                    extra += m.deviceExtraEnergy
                    if !m.time.isFinite { downed.insert(k) }
                    if detailed { transfers.append(TransferRecord(tensor: ti, hop: k, direction: .up, bytes: Bytes(m.bytes), time: Seconds(m.time))) }
                }
            }
            if returnResult, t.isOutput, t.producer != nil, src > 0 {
                for k in (0..<src).reversed() {
                    let m = message(t, hop: k, direction: .down)
                    downTime[k] += m.time
                    downBusy[k] += m.busy
                    downBytes[k] += m.bytes
                    extra += m.deviceExtraEnergy
                    if !m.time.isFinite { downed.insert(k) }
                    if detailed { transfers.append(TransferRecord(tensor: ti, hop: k, direction: .down, bytes: Bytes(m.bytes), time: Seconds(m.time))) }
                }
            }
        }
        let prop = propagation(highestTier: highest)
        let compute = tierCompute.reduce(0, +)
        let latency = compute + upTime.reduce(0, +) + downTime.reduce(0, +) + prop
        let energy = localEnergy + tiers[0].idlePower.value * (latency - tierCompute[0]) + extra
        var period = tierCompute.max() ?? 0
        for k in 0..<H { period = max(period, upBusy[k], downBusy[k]) }
        let memory = devicePeakMemory(placement)

        for k in downed.sorted() { violations.append(.linkDown(hop: hops[k].name)) }
        for i in constraints.pinnedToDevice.sorted() where placement[i] != 0 { violations.append(.pinned(kernel: kernels[i].name)) }
        if let d = constraints.deadline, !(latency <= d.value) { violations.append(.deadline(latency: Seconds(latency), limit: d)) }
        if let m = constraints.deviceMemory, memory > m.value { violations.append(.deviceMemory(peak: Bytes(memory), limit: m)) }
        if let u = constraints.maxUplinkBytes, H > 0, upBytes[0] > u.value { violations.append(.uplinkBytes(bytes: Bytes(upBytes[0]), limit: u)) }

        return PlanMetrics(latency: Seconds(latency), deviceEnergy: Joules(energy), period: Seconds(period), tierCompute: tierCompute.map(Seconds.init),
                           tierKernels: tierKernels, hopUpTime: upTime.map(Seconds.init), hopDownTime: downTime.map(Seconds.init),
                           hopUpBytes: upBytes.map(Bytes.init), hopDownBytes: downBytes.map(Bytes.init), hopUpBusy: upBusy.map(Seconds.init),
                           hopDownBusy: downBusy.map(Seconds.init), propagation: Seconds(prop), devicePeakMemory: Bytes(memory),
                           uplinkBytes: Bytes(H > 0 ? upBytes[0] : 0), highestTier: highest, transfers: transfers, violations: violations)
    }

    /// The value the objective minimises (throughput: the period; infinite when a link is down).
    public func objectiveValue(_ m: PlanMetrics) -> Double {
        if m.violations.contains(where: { if case .linkDown = $0 { true } else { false } }) { return .infinity }
        switch objective {
        case .throughput: return m.period.value
        case .latency, .deviceEnergy, .weighted:
            let (a, b) = objective.additiveWeights ?? (1, 0)
            return a * m.latency.value + b * m.deviceEnergy.value
        }
    }

    /// Peak bytes on the first tier: weights of its kernels + the largest set of live tensors
    /// while its kernels run in execution order. A tensor lives from its production (graph
    /// inputs: from the start) to its last consumer on the device; one only sent away is freed
    /// once sent, right after the kernel producing it.
    public func devicePeakMemory(_ placement: [Int]) -> Double {
        let n = kernels.count
        var weights = 0.0
        for i in 0..<n where placement[i] == 0 { weights += tiers[0].weightBytes[i].value }
        // Steps -1 (before the first kernel) ... n-1, shifted by one.
        var delta = [Double](repeating: 0, count: n + 2)
        for t in tensors {
            let start: Int
            if let p = t.producer {
                guard placement[p] == 0 else { continue }
                start = p
            } else {
                start = -1
            }
            var end = start
            for c in t.consumers where placement[c] == 0 && c > end { end = c }
            delta[start + 1] += t.deviceBytes.value
            delta[end + 2] -= t.deviceBytes.value
        }
        var live = 0.0
        var peak = 0.0
        for s in 0...n {
            live += delta[s]
            // Step -1 always counts (the input frame is on the device); kernel steps only when on it.
            if s == 0 || placement[s - 1] == 0 { peak = max(peak, live) }
        }
        return weights + peak
    }
}
