/// Costs of segment placements in O(K) each: tier k runs kernels [c_k, c_{k+1}) of the execution
/// order (c_0 = 0 ≤ c_1 ≤ … ≤ c_{K−1} ≤ c_K = N). Prefix sums per tier; per hop, the tensors
/// crossing it are those produced before its cut and consumed at or after it, which depends on
/// that one cut only. Neurosurgeon's linear scan is this model with K = 2.
struct SegmentModel {
    let n: Int
    let tiers: Int
    private let computePrefix: [[Double]]   // [tier][c]
    private let energyPrefix0: [Double]
    private let upTime: [[Double]], upBusy: [[Double]], upBytes: [[Double]], upExtra: [[Double]]     // [hop][c]
    private let downTime: [[Double]], downBusy: [[Double]], downExtra: [[Double]]
    /// Transfers over a zero-bandwidth hop (infinite time) counted apart: ∞ − ∞ would poison the sums.
    private let blocked: [[Double]]
    private let memory: [Double]            // device set [0, c)
    private let propagation: [Double]       // [highest tier]
    private let idle0: Double
    /// Smallest first cut honouring privacy pins.
    let minFirstCut: Int

    struct Value {
        var latency: Double
        var energy: Double
        var period: Double
        var memory: Double
        var uplinkBytes: Double
    }

    init(_ p: PlanningProblem) {
        let n = p.kernelCount
        self.n = n
        tiers = p.tierCount
        computePrefix = p.tiers.map { t in
            var a = [Double](repeating: 0, count: n + 1)
            for i in 0..<n { a[i + 1] = a[i] + t.computeTime[i].value }
            return a
        }
        var e = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { e[i + 1] = e[i] + p.tiers[0].energy[i].value }
        energyPrefix0 = e
        let H = max(p.tierCount - 1, 0)
        func zeros() -> [[Double]] { [[Double]](repeating: [Double](repeating: 0, count: n + 2), count: H) }
        var uT = zeros(), uB = zeros(), uY = zeros(), uE = zeros(), dT = zeros(), dB = zeros(), dE = zeros(), inf = zeros()
        for (ti, t) in p.tensors.enumerated() {
            let prod = t.producer ?? -1
            if let last = t.consumers.last {
                // Crosses hop h iff prod < c_{h+1} ≤ last.
                for h in 0..<H {
                    let m = p.upMessage(ti, hop: h)
                    if !m.time.isFinite {
                        inf[h][prod + 1] += 1; inf[h][last + 1] -= 1
                        continue
                    }
                    uT[h][prod + 1] += m.time; uT[h][last + 1] -= m.time
                    uB[h][prod + 1] += m.busy; uB[h][last + 1] -= m.busy
                    uY[h][prod + 1] += m.bytes; uY[h][last + 1] -= m.bytes
                    uE[h][prod + 1] += m.deviceExtraEnergy; uE[h][last + 1] -= m.deviceExtraEnergy
                }
            }
            if p.returnResult, t.isOutput, let q = t.producer {
                // Returns down hop h iff the producer sits above it: c_{h+1} ≤ q.
                for h in 0..<H {
                    let m = p.downMessage(ti, hop: h)
                    if !m.time.isFinite {
                        inf[h][0] += 1; inf[h][q + 1] -= 1
                        continue
                    }
                    dT[h][0] += m.time; dT[h][q + 1] -= m.time
                    dB[h][0] += m.busy; dB[h][q + 1] -= m.busy
                    dE[h][0] += m.deviceExtraEnergy; dE[h][q + 1] -= m.deviceExtraEnergy
                }
            }
        }
        func integrate(_ a: [[Double]]) -> [[Double]] {
            a.map { row in
                var out = [Double](repeating: 0, count: n + 1)
                var s = 0.0
                for c in 0...n { s += row[c]; out[c] = s }
                return out
            }
        }
        upTime = integrate(uT); upBusy = integrate(uB); upBytes = integrate(uY); upExtra = integrate(uE)
        downTime = integrate(dT); downBusy = integrate(dB); downExtra = integrate(dE)
        blocked = integrate(inf)
        var mem = [Double](repeating: 0, count: n + 1)
        var placement = [Int](repeating: min(1, p.tierCount - 1), count: n)
        mem[0] = p.devicePeakMemory(placement)
        for c in 1...max(n, 1) where c <= n {
            placement[c - 1] = 0
            mem[c] = p.devicePeakMemory(placement)
        }
        memory = mem
        propagation = (0..<p.tierCount).map { p.propagation(highestTier: $0) }
        idle0 = p.tiers[0].idlePower.value
        minFirstCut = (p.constraints.pinnedToDevice.max() ?? -1) + 1
    }

    /// Placement of a cut tuple.
    func placement(_ cuts: [Int]) -> [Int] {
        var p = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var k = 0
            for c in cuts where c <= i { k += 1 }
            p[i] = k
        }
        return p
    }

    func value(_ cuts: [Int]) -> Value {
        var latency = 0.0
        var period = 0.0
        var extra = 0.0
        var highest = 0
        for k in 0..<tiers {
            let from = k == 0 ? 0 : cuts[k - 1]
            let to = k == tiers - 1 ? n : cuts[k]
            let c = computePrefix[k][to] - computePrefix[k][from]
            latency += c
            period = max(period, c)
            if to > from { highest = k }
        }
        for h in 0..<(tiers - 1) {
            let c = cuts[h]
            if blocked[h][c] > 0.5 { latency = .infinity }
            latency += upTime[h][c] + downTime[h][c]
            extra += upExtra[h][c] + downExtra[h][c]
            period = max(period, upBusy[h][c], downBusy[h][c])
        }
        latency += propagation[highest]
        let c1 = tiers > 1 ? cuts[0] : n
        let energy = energyPrefix0[c1] + idle0 * (latency - computePrefix[0][c1]) + extra
        return Value(latency: latency, energy: energy, period: period, memory: memory[c1], uplinkBytes: tiers > 1 ? upBytes[0][c1] : 0)
    }

    func memory(firstCut c: Int) -> Double { memory[c] }
    func uplinkBytes(firstCut c: Int) -> Double { tiers > 1 ? upBytes[0][c] : 0 }

    /// Visits every cut tuple whose first cut passes `firstCutOK`; `visit` gets the cuts.
    func forEachCutTuple(firstCutOK: (Int) -> Bool, _ visit: ([Int]) -> Void) {
        let r = tiers - 1
        if r == 0 { visit([]); return }
        var cuts = [Int](repeating: 0, count: r)
        func recurse(_ level: Int, _ from: Int) {
            for c in from...n {
                if level == 0 && !firstCutOK(c) { continue }
                cuts[level] = c
                if level == r - 1 { visit(cuts) } else { recurse(level + 1, c) }
            }
        }
        recurse(0, 0)
    }

    /// The best segment placement for `rank` (lower is better) among those meeting the
    /// problem's constraints. Returns the cuts and their value.
    func best(_ p: PlanningProblem, rank: (Value) -> (Double, Double)) -> (cuts: [Int], value: Value)? {
        let c = p.constraints
        var best: (cuts: [Int], value: Value, key: (Double, Double))?
        forEachCutTuple(firstCutOK: { c1 in
            c1 >= minFirstCut
                && (c.deviceMemory.map { memory(firstCut: c1) <= $0.value } ?? true)
                && (c.maxUplinkBytes.map { uplinkBytes(firstCut: c1) <= $0.value } ?? true)
        }) { cuts in
            let v = value(cuts)
            guard v.latency.isFinite else { return }
            if let d = c.deadline, v.latency > d.value { return }
            let key = rank(v)
            if let b = best, !(key.0 < b.key.0 || (key.0 == b.key.0 && key.1 < b.key.1)) { return }
            best = (cuts, v, key)
        }
        return best.map { ($0.cuts, $0.value) }
    }
}
