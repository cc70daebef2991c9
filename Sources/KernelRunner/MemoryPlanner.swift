/// Places activation buffers in one arena from their lifetimes (first and last step that
/// touches them), reusing the space of dead tensors: greedy by size (largest first, each at
/// the lowest offset that does not collide in time and space with one already placed), the
/// TFLite / ORT "mem pattern" strategy. Typically within a few percent of the lower bound
/// (the largest sum of simultaneously live buffers).
public enum MemoryPlanner {
    public struct Request: Sendable, Hashable {
        /// Size in floats.
        public var size: Int
        /// First and last step index (inclusive) during which the buffer must hold its data.
        public var first: Int
        public var last: Int
        public init(size: Int, first: Int, last: Int) {
            self.size = size
            self.first = first
            self.last = last
        }
    }

    public struct Plan: Sendable, Hashable {
        /// Offset in floats of each request (same order).
        public var offsets: [Int]
        /// Arena size in floats.
        public var total: Int
        /// Largest sum of simultaneously live (aligned) sizes: no plan can be smaller.
        public var lowerBound: Int
    }

    /// Alignment of every buffer, in floats (16 floats = 64 bytes = one cache line).
    public static let alignment = 16

    public static func plan(_ requests: [Request]) -> Plan {
        let sizes = requests.map { ($0.size + alignment - 1) / alignment * alignment }
        let order = requests.indices.sorted { (sizes[$0], requests[$1].first) > (sizes[$1], requests[$0].first) }
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        var total = 0
        for r in order {
            let req = requests[r]
            var busy: [(Int, Int)] = []
            for p in placed where requests[p].first <= req.last && req.first <= requests[p].last {
                busy.append((offsets[p], offsets[p] + sizes[p]))
            }
            busy.sort { $0.0 < $1.0 }
            var candidate = 0
            for (lo, hi) in busy {
                if candidate + sizes[r] <= lo { break }
                candidate = Swift.max(candidate, hi)
            }
            offsets[r] = candidate
            total = Swift.max(total, candidate + sizes[r])
            placed.append(r)
        }
        return Plan(offsets: offsets, total: total, lowerBound: lowerBound(requests, sizes: sizes))
    }

    static func lowerBound(_ requests: [Request], sizes: [Int]) -> Int {
        guard let lastStep = requests.map(\.last).max(), let firstStep = requests.map(\.first).min() else { return 0 }
        var best = 0
        for step in firstStep...lastStep {
            var live = 0
            for (i, r) in requests.enumerated() where r.first <= step && step <= r.last { live += sizes[i] }
            best = Swift.max(best, live)
        }
        return best
    }
}
