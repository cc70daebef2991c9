import DeviceSpec
import Foundation
import NNGraph
import OffloadPlanner

/// Discrete-event simulation of requests flowing through a plan: each client's device, each
/// remote tier and each link direction is a FIFO server; transfers send one message per cut
/// tensor (lost messages are resent after one RTT), propagation adds RTT/2 plus a jitter draw,
/// a bandwidth trace changes a link's rate over time (optionally re-planning, with a device
/// stall), and arrivals follow the MLPerf load scenarios. The clock is manual (event times
/// only) and every random draw comes from one seeded generator, so a run is a pure function
/// of its inputs.
public enum RuntimeSimulator {
    public static func run(problem: PlanningProblem, placement: [Int], dynamics: [HopDynamics] = [], config: SimulationConfig,
                           replanner: (any Planner)? = nil) -> SimulationResult {
        var engine = Engine(problem: problem, placement: placement, dynamics: dynamics, config: config, replanner: replanner)
        engine.run()
        return engine.result()
    }
}

private enum Event {
    case arrival(client: Int)
    case serviceDone(resource: Int, request: Int)
    case resume(request: Int)
    case traceChange
}

private struct Resource {
    var name: String
    var busy = false
    var queue: [Int] = []
    var head = 0
    var busyTime = 0.0
    var queueArea = 0.0
    var lastChange = 0.0
    var maxQueue = 0
    var jobs = 0
    /// (time, busy, waiting) after every change, for the timeline; only for tracked resources.
    var tracked: Bool
    var log: [(Double, Bool, Int32)] = []

    var waiting: Int { queue.count - head }

    init(name: String, tracked: Bool) {
        self.name = name
        self.tracked = tracked
    }
}

private struct Request {
    var client: Int
    var arrival: Double
    var profile: Int
    var step = 0
    var message = 0
    var attempt = 0
    var dynamicEnergy = 0.0
    /// A device stall after a plan switch: occupies the device, not counted as a request.
    var overhead: Bool
}

private struct Engine {
    let problem: PlanningProblem
    let dynamics: [HopDynamics]
    let config: SimulationConfig
    let replanner: (any Planner)?
    var rng: SplitMix64
    var now = 0.0
    var queue = EventQueue<Event>()
    var resources: [Resource] = []
    var profiles: [RequestProfile] = []
    var profileIndex: [[Int]: Int] = [:]
    var currentProfile = 0
    var requests: [Request] = []
    var issued: [Int]
    var latencies: [Double] = []
    var completions: [Double] = []
    var requestEnergy: [Double] = []
    var dynamicTotal = 0.0
    var dropped = 0
    var switches = 0
    var events = 0
    var firstArrival = Double.infinity
    var lastCompletion = 0.0
    /// Current uplink rate per hop (nominal until a trace says otherwise).
    var uplink: [Double]
    var traceTimes: [Double] = []
    var traceCursor = 0
    var planCache: [[Double]: [Int]] = [:]

    // Resource layout.
    let clients: Int
    let deviceBase = 0
    var computeBase = 0
    var linkBase = 0
    var perClientHop0: Bool

    init(problem: PlanningProblem, placement: [Int], dynamics: [HopDynamics], config: SimulationConfig, replanner: (any Planner)?) {
        self.problem = problem
        self.dynamics = dynamics.count == problem.hops.count ? dynamics : problem.hops.map { _ in HopDynamics() }
        self.config = config
        self.replanner = replanner
        rng = SplitMix64(seed: config.seed)
        clients = max(config.clients, 1)
        issued = [Int](repeating: 0, count: clients)
        uplink = problem.hops.map(\.uplink.value)
        perClientHop0 = !config.sharedUplink
        for c in 0..<clients { resources.append(Resource(name: clients == 1 ? problem.tiers[0].name : "\(problem.tiers[0].name)[\(c)]", tracked: c == 0)) }
        computeBase = resources.count
        for k in 1..<max(problem.tierCount, 1) { resources.append(Resource(name: problem.tiers[k].name, tracked: true)) }
        linkBase = resources.count
        for (h, hop) in problem.hops.enumerated() {
            let copies = (h == 0 && perClientHop0) ? clients : 1
            for dir in ["up", "down"] {
                for c in 0..<copies {
                    let suffix = copies > 1 ? "[\(c)]" : ""
                    resources.append(Resource(name: "\(hop.name) \(dir)\(suffix)", tracked: c == 0))
                }
            }
        }
        currentProfile = profileID(placement)
        var times = Set<Double>()
        for d in self.dynamics { for t in d.trace?.times ?? [] { times.insert(t.value) } }
        traceTimes = times.sorted()
    }

    mutating func profileID(_ placement: [Int]) -> Int {
        if let i = profileIndex[placement] { return i }
        profiles.append(RequestProfile(problem, placement: placement))
        profileIndex[placement] = profiles.count - 1
        return profiles.count - 1
    }

    // MARK: Resources

    func computeResource(tier: Int, client: Int) -> Int {
        tier == 0 ? deviceBase + client : computeBase + tier - 1
    }

    func linkResource(hop: Int, up: Bool, client: Int) -> Int {
        // Hop 0 comes first: 2 × copies resources, then 2 per later hop.
        let copies0 = perClientHop0 ? clients : 1
        if hop == 0 { return linkBase + (up ? 0 : copies0) + (perClientHop0 ? client : 0) }
        return linkBase + 2 * copies0 + 2 * (hop - 1) + (up ? 0 : 1)
    }

    mutating func touch(_ r: Int) {
        let dt = now - resources[r].lastChange
        if dt > 0 {
            if resources[r].busy { resources[r].busyTime += dt }
            resources[r].queueArea += dt * Double(resources[r].waiting)
        }
        resources[r].lastChange = now
    }

    mutating func logState(_ r: Int) {
        if resources[r].tracked { resources[r].log.append((now, resources[r].busy, Int32(resources[r].waiting))) }
    }

    mutating func acquire(_ r: Int, _ req: Int) {
        touch(r)
        if resources[r].busy {
            resources[r].queue.append(req)
            resources[r].maxQueue = max(resources[r].maxQueue, resources[r].waiting)
        } else {
            start(r, req)
        }
        logState(r)
    }

    mutating func start(_ r: Int, _ req: Int) {
        resources[r].busy = true
        resources[r].jobs += 1
        let d = serviceTime(req)
        if d.isFinite {
            queue.push(now + d, .serviceDone(resource: r, request: req))
        } else {
            // The link stays down for the rest of the trace: drop the request, free the server.
            dropped += 1
            resources[r].busy = false
            if config.arrivals == .singleStream { scheduleNext(client: requests[req].client, at: now) }
            next(r)
        }
    }

    /// Starts the next waiting request, if any.
    mutating func next(_ r: Int) {
        guard resources[r].waiting > 0 else { return }
        let req = resources[r].queue[resources[r].head]
        resources[r].head += 1
        if resources[r].head > 1024, resources[r].head * 2 > resources[r].queue.count {
            resources[r].queue.removeFirst(resources[r].head)
            resources[r].head = 0
        }
        start(r, req)
    }

    // MARK: Service times

    mutating func serviceTime(_ req: Int) -> Double {
        let r = requests[req]
        let step = profiles[r.profile].steps[r.step]
        switch step {
        case .compute(_, let time):
            return time
        case .propagate:
            return 0
        case .send(let hop, let up, let messages):
            let m = messages[r.message]
            let codec = r.attempt == 0 ? m.encode + m.decode : 0
            let ser = transmitTime(hop: hop, up: up, bytes: m.bytes, from: now + codec)
            if hop == 0 {
                var e = 0.0
                if let radio = problem.hops[0].radio {
                    let (perByte, base) = up ? (radio.txEnergyPerByte.value, radio.txBasePower.value) : (radio.rxEnergyPerByte.value, radio.rxBasePower.value)
                    e += perByte * m.bytes + base * (ser + m.messageTime)
                }
                if r.attempt == 0 { e += (up ? m.encode : m.decode) * problem.tiers[0].codecExtraPower.value }
                requests[req].dynamicEnergy += e
            }
            return codec + ser + m.messageTime
        }
    }

    /// Serialisation time of `bytes` starting at `t0`, following the hop's bandwidth trace
    /// (piecewise constant; the downlink keeps its nominal ratio to the uplink).
    func transmitTime(hop: Int, up: Bool, bytes: Double, from t0: Double) -> Double {
        if bytes == 0 { return 0 }
        let h = problem.hops[hop]
        let ratio = up ? 1 : (h.uplink.value > 0 ? h.downlink.value / h.uplink.value : 0)
        guard let trace = dynamics[hop].trace else {
            let bw = up ? h.uplink.value : h.downlink.value
            return bw > 0 ? bytes / bw : .infinity
        }
        var remaining = bytes
        var t = t0
        var i = 0
        // Segment in force at t0.
        var lo = 0, hi = trace.times.count - 1
        if t >= trace.times[0].value {
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if trace.times[mid].value <= t { lo = mid } else { hi = mid - 1 }
            }
            i = lo
        }
        while true {
            let rate = trace.rates[i].value * ratio
            let end = i + 1 < trace.times.count ? trace.times[i + 1].value : Double.infinity
            if rate > 0 {
                let capacity = rate * (end - t)
                if capacity >= remaining { return t + remaining / rate - t0 }
                remaining -= capacity
            } else if !end.isFinite {
                return .infinity
            }
            t = end
            i += 1
        }
    }

    mutating func jitter(_ hop: Int) -> Double {
        let d = dynamics[hop]
        switch d.jitter {
        case .none: return 0
        case .uniform: return rng.uniform(0, 2 * d.jitterMean.value)
        case .exponential: return -d.jitterMean.value * log(1 - rng.unit())
        }
    }

    // MARK: Request flow

    mutating func advance(_ req: Int) {
        while true {
            let r = requests[req]
            let steps = profiles[r.profile].steps
            guard r.step < steps.count else {
                complete(req)
                return
            }
            switch steps[r.step] {
            case .compute(let tier, _):
                acquire(computeResource(tier: tier, client: r.client), req)
                return
            case .send(let hop, let up, let messages):
                if r.message < messages.count {
                    acquire(linkResource(hop: hop, up: up, client: r.client), req)
                    return
                }
                requests[req].step += 1
                requests[req].message = 0
                requests[req].attempt = 0
            case .propagate(let hop):
                requests[req].step += 1
                queue.push(now + problem.hops[hop].rtt.value / 2 + jitter(hop), .resume(request: req))
                return
            }
        }
    }

    mutating func serviceDone(_ res: Int, _ req: Int) {
        touch(res)
        resources[res].busy = false
        next(res)
        logState(res)
        let r = requests[req]
        switch profiles[r.profile].steps[r.step] {
        case .compute:
            requests[req].step += 1
            advance(req)
        case .send(let hop, _, _):
            let loss = problem.hops[hop].loss
            if loss > 0, rng.unit() < loss {
                requests[req].attempt += 1
                queue.push(now + problem.hops[hop].rtt.value, .resume(request: req))
            } else {
                requests[req].message += 1
                requests[req].attempt = 0
                advance(req)
            }
        case .propagate:
            requests[req].step += 1
            advance(req)
        }
    }

    mutating func complete(_ req: Int) {
        let r = requests[req]
        if r.overhead { return }
        let latency = now - r.arrival
        latencies.append(latency)
        completions.append(now)
        let dynamic = profiles[r.profile].localDynamicEnergy + r.dynamicEnergy
        dynamicTotal += dynamic
        requestEnergy.append(dynamic + problem.tiers[0].idlePower.value * latency)
        lastCompletion = max(lastCompletion, now)
        if config.arrivals == .singleStream { scheduleNext(client: r.client, at: now) }
    }

    mutating func scheduleNext(client: Int, at t: Double) {
        guard issued[client] < config.frames else { return }
        queue.push(t, .arrival(client: client))
    }

    mutating func arrive(client: Int) {
        issued[client] += 1
        firstArrival = min(firstArrival, now)
        requests.append(Request(client: client, arrival: now, profile: currentProfile, overhead: false))
        advance(requests.count - 1)
        switch config.arrivals {
        case .fps: scheduleNext(client: client, at: now + 1 / config.fps)
        case .poisson: scheduleNext(client: client, at: now - log(1 - rng.unit()) / config.rate)
        case .offline, .singleStream: break
        }
    }

    mutating func traceChange() {
        for (h, d) in dynamics.enumerated() {
            if let trace = d.trace { uplink[h] = trace.rate(at: Seconds(now)).value }
        }
        guard config.replan, let replanner else { return }
        let placement: [Int]
        if let cached = planCache[uplink] {
            placement = cached
        } else {
            var q = problem
            for h in q.hops.indices { q = q.withUplink(BytesPerSecond(uplink[h]), hop: h) }
            placement = replanner.plan(q).placement ?? [Int](repeating: 0, count: problem.kernelCount)
            planCache[uplink] = placement
        }
        let id = profileID(placement)
        guard id != currentProfile else { return }
        currentProfile = id
        switches += 1
        if config.switchingCost.value > 0 {
            for c in 0..<clients {
                requests.append(Request(client: c, arrival: now, profile: switchProfile(), overhead: true))
                acquire(computeResource(tier: 0, client: c), requests.count - 1)
            }
        }
    }

    var switchProfileID: Int?
    mutating func switchProfile() -> Int {
        if let id = switchProfileID { return id }
        var p = RequestProfile(problem, placement: [Int](repeating: 0, count: problem.kernelCount))
        p.steps = [.compute(tier: 0, time: config.switchingCost.value)]
        p.localDynamicEnergy = 0
        profiles.append(p)
        switchProfileID = profiles.count - 1
        return profiles.count - 1
    }

    // MARK: Run

    mutating func run() {
        for c in 0..<clients {
            switch config.arrivals {
            case .offline:
                for _ in 0..<config.frames { queue.push(0, .arrival(client: c)) }
            case .fps:
                // Clients start at random phases within one frame period.
                scheduleNext(client: c, at: clients == 1 ? 0 : rng.uniform(0, 1 / config.fps))
            case .poisson:
                scheduleNext(client: c, at: -log(1 - rng.unit()) / config.rate)
            case .singleStream:
                scheduleNext(client: c, at: 0)
            }
        }
        for t in traceTimes { queue.push(t, .traceChange) }
        while let (t, event) = queue.pop() {
            now = t
            events += 1
            switch event {
            case .arrival(let c): arrive(client: c)
            case .serviceDone(let r, let req): serviceDone(r, req)
            case .resume(let req): advance(req)
            case .traceChange: traceChange()
            }
            // Pending trace changes after the last request do not extend the run.
            if latencies.count + dropped >= config.frames * clients { break }
        }
        for r in resources.indices { touch(r); logState(r) }
    }

    // MARK: Results

    func result() -> SimulationResult {
        let sorted = latencies.sorted()
        func percentile(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1]
        }
        let mean = sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
        let deadline = config.effectiveDeadline
        let missRate = deadline.map { d in sorted.isEmpty ? 0 : Double(sorted.filter { $0 > d.value }.count + dropped) / Double(sorted.count + dropped) }
        let start = firstArrival.isFinite ? firstArrival : 0
        let span = max(lastCompletion - start, 1e-300)
        let makespan = max(now, lastCompletion)

        // Per-client copies are reported once (averaged).
        var stats: [ResourceStats] = []
        var groups: [(String, [Int])] = []
        groups.append((problem.tiers[0].name, Array(0..<clients)))
        for k in 1..<max(problem.tierCount, 1) { groups.append((problem.tiers[k].name, [computeBase + k - 1])) }
        for (h, hop) in problem.hops.enumerated() {
            for up in [true, false] {
                let ids = (h == 0 && perClientHop0) ? (0..<clients).map { linkResource(hop: 0, up: up, client: $0) } : [linkResource(hop: h, up: up, client: 0)]
                groups.append(("\(hop.name) \(up ? "up" : "down")" + (ids.count > 1 ? " (per client)" : ""), ids))
            }
        }
        let horizon = max(makespan, 1e-300)
        for (name, ids) in groups {
            let n = Double(ids.count)
            stats.append(ResourceStats(name: name + (name == problem.tiers[0].name && clients > 1 ? " (per client)" : ""),
                                       utilisation: ids.reduce(0) { $0 + resources[$1].busyTime } / n / horizon,
                                       meanQueue: ids.reduce(0) { $0 + resources[$1].queueArea } / n / horizon,
                                       maxQueue: ids.map { resources[$0].maxQueue }.max() ?? 0,
                                       jobs: ids.reduce(0) { $0 + resources[$1].jobs }))
        }
        let timeline = buildTimeline(groups.map { $0.1[0] }, horizon: makespan)
        let activity = groups.map { name, ids in busySpans(name: name, ids[0], horizon: makespan) }
        var result = SimulationResult(
            config: config, completed: latencies.count, dropped: dropped,
            latencyMean: Seconds(mean), latencyP50: Seconds(percentile(0.5)), latencyP90: Seconds(percentile(0.9)),
            latencyP99: Seconds(percentile(0.99)), latencyMax: Seconds(sorted.last ?? .nan), deadline: deadline, missRate: missRate,
            throughput: Double(latencies.count) / span,
            energyPerRequest: Joules(requestEnergy.isEmpty ? .nan : requestEnergy.reduce(0, +) / Double(requestEnergy.count)),
            averageDevicePower: Watts(problem.tiers[0].idlePower.value + dynamicTotal / (horizon * Double(clients))),
            makespan: Seconds(makespan), resources: stats, timeline: timeline, switches: switches,
            placements: profiles.enumerated().filter { $0.offset != switchProfileID }.map(\.element.placement), events: events)
        result.latencyHistogram = HistogramBin.bins(latencies, count: SimulationResult.histogramBins)
        result.activity = activity
        return result
    }

    /// Busy periods of a tracked resource from its state log (back-to-back jobs merge).
    func busySpans(name: String, _ r: Int, horizon: Double) -> ResourceActivity {
        var spans: [[Double]] = []
        var omitted = 0
        var start: Double?
        func close(_ t: Double) {
            guard let s = start else { return }
            if spans.count < SimulationResult.activitySpanLimit { spans.append([s, t]) } else { omitted += 1 }
            start = nil
        }
        for (t, busy, _) in resources[r].log {
            if busy, start == nil { start = t } else if !busy { close(t) }
        }
        close(horizon)
        return ResourceActivity(name: name, spans: spans, omitted: omitted)
    }

    /// Integrates the tracked resources' state logs into equal time bins.
    func buildTimeline(_ ids: [Int], horizon: Double) -> [TimelineBin] {
        let bins = max(config.timelineBins, 1)
        guard horizon > 0 else { return [] }
        let width = horizon / Double(bins)
        var util = [[Double]](repeating: [Double](repeating: 0, count: ids.count), count: bins)
        var queueLen = util
        for (j, r) in ids.enumerated() {
            let log = resources[r].log
            var prevT = 0.0, prevBusy = false, prevQ: Int32 = 0
            func spread(_ a: Double, _ b: Double, _ busy: Bool, _ q: Int32) {
                guard b > a else { return }
                let first = min(max(Int(a / width), 0), bins - 1)
                let last = min(max(Int(b / width), 0), bins - 1)
                for bin in first...last {
                    let lo = bin == 0 ? 0 : Double(bin) * width
                    let hi = bin == bins - 1 ? Double.infinity : Double(bin + 1) * width
                    let dt = min(b, hi) - max(a, lo)
                    guard dt > 0 else { continue }
                    if busy { util[bin][j] += dt }
                    queueLen[bin][j] += dt * Double(q)
                }
            }
            for (t, busy, q) in log {
                spread(prevT, t, prevBusy, prevQ)
                prevT = t; prevBusy = busy; prevQ = q
            }
            spread(prevT, horizon, prevBusy, prevQ)
        }
        var completed = [Int](repeating: 0, count: bins)
        for c in completions { completed[min(Int(c / width), bins - 1)] += 1 }
        return (0..<bins).map { b in
            TimelineBin(start: Seconds(Double(b) * width), end: Seconds(Double(b + 1) * width), utilisation: util[b].map { $0 / width },
                        meanQueue: queueLen[b].map { $0 / width }, completed: completed[b])
        }
    }
}
