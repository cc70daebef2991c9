/// A binary min-heap of events ordered by (time, sequence number): equal times keep insertion
/// order, so a run is a pure function of its inputs and seed.
struct EventQueue<Payload> {
    private var times: [Double] = []
    private var seqs: [UInt64] = []
    private var payloads: [Payload] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { times.isEmpty }
    var count: Int { times.count }

    mutating func push(_ time: Double, _ payload: Payload) {
        times.append(time); seqs.append(counter); payloads.append(payload)
        counter &+= 1
        var i = times.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: Double, payload: Payload)? {
        guard !times.isEmpty else { return nil }
        let result = (times[0], payloads[0])
        let last = times.count - 1
        if last > 0 { swapAt(0, last) }
        times.removeLast(); seqs.removeLast(); payloads.removeLast()
        var i = 0
        let n = times.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && less(l, m) { m = l }
            if r < n && less(r, m) { m = r }
            if m == i { break }
            swapAt(i, m)
            i = m
        }
        return result
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        times[a] < times[b] || (times[a] == times[b] && seqs[a] < seqs[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        times.swapAt(a, b); seqs.swapAt(a, b); payloads.swapAt(a, b)
    }
}
