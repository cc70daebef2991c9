import NNGraph
import OffloadPlanner

/// One message of a transfer step.
struct Message {
    /// Wire bytes + per-message overhead, per attempt.
    var bytes: Double
    var encode: Double
    var decode: Double
    var messageTime: Double
}

/// What a request does, in order. The order is a valid schedule for any forward-flowing
/// placement: tier k only needs data from tiers ≤ k, which has arrived by the time its compute
/// step starts.
enum Step {
    /// All kernels placed on `tier`, back to back.
    case compute(tier: Int, time: Double)
    /// The tensors crossing `hop` in one direction, one message each (sent once per hop).
    case send(hop: Int, up: Bool, messages: [Message])
    /// One-way propagation over `hop`: RTT/2 + a jitter draw.
    case propagate(hop: Int)
}

/// A placement compiled into steps, with the request's device energy that does not depend on
/// run-time draws (local kernels above idle power).
struct RequestProfile {
    var placement: [Int]
    var steps: [Step]
    var localDynamicEnergy: Double

    init(_ p: PlanningProblem, placement: [Int]) {
        self.placement = placement
        let K = p.tierCount
        var tierTime = [Double](repeating: 0, count: K)
        var highest = 0
        var local = 0.0
        let idle = p.tiers[0].idlePower.value
        for (i, k) in placement.enumerated() {
            tierTime[k] += p.tiers[k].computeTime[i].value
            highest = max(highest, k)
            if k == 0 { local += p.tiers[0].energy[i].value - idle * p.tiers[0].computeTime[i].value }
        }
        localDynamicEnergy = local
        var up = [[Message]](repeating: [], count: max(K - 1, 0))
        var down = up
        func message(_ t: PlanTensor, _ k: Int) -> Message {
            let raw = t.rawBytes.value
            return Message(bytes: t.wireBytes.value + p.hops[k].messageOverhead.value,
                           encode: p.codec.map { raw / $0.encodeRate.value } ?? 0,
                           decode: p.codec.map { raw / $0.decodeRate.value } ?? 0,
                           messageTime: p.hops[k].messageTime.value)
        }
        for t in p.tensors {
            let src = t.producer.map { placement[$0] } ?? 0
            var dst = src
            for c in t.consumers where placement[c] > dst { dst = placement[c] }
            if src < dst { for k in src..<dst { up[k].append(message(t, k)) } }
            if p.returnResult, t.isOutput, t.producer != nil, src > 0 {
                for k in 0..<src { down[k].append(message(t, k)) }
            }
        }
        var steps: [Step] = []
        for k in 0...highest {
            if tierTime[k] > 0 { steps.append(.compute(tier: k, time: tierTime[k])) }
            if k < highest {
                if !up[k].isEmpty { steps.append(.send(hop: k, up: true, messages: up[k])) }
                steps.append(.propagate(hop: k))
            }
        }
        if p.returnResult {
            for k in stride(from: highest - 1, through: 0, by: -1) {
                if !down[k].isEmpty { steps.append(.send(hop: k, up: false, messages: down[k])) }
                steps.append(.propagate(hop: k))
            }
        }
        self.steps = steps
    }
}
