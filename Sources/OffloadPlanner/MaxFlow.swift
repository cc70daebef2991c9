/// Dinic's maximum flow on a directed graph with real capacities, and the minimum s–t cut it
/// certifies. Iterative (no recursion), so graphs with long chains cannot exhaust the stack.
/// Capacities at or above `infinite` mean "never cut".
struct FlowNetwork {
    static let infinite = 1e15

    private(set) var nodeCount: Int
    private var head: [Int32]
    private var next: [Int32] = []
    private var to: [Int32] = []
    private var residual: [Double] = []
    private var epsilon = 0.0

    init(nodes: Int, edgeCapacityHint: Int = 0) {
        nodeCount = nodes
        head = [Int32](repeating: -1, count: nodes)
        next.reserveCapacity(edgeCapacityHint * 2)
        to.reserveCapacity(edgeCapacityHint * 2)
        residual.reserveCapacity(edgeCapacityHint * 2)
    }

    mutating func addNode() -> Int {
        head.append(-1)
        nodeCount += 1
        return nodeCount - 1
    }

    /// Adds u → v with capacity `c` (infinite values are clamped to `infinite`).
    mutating func addEdge(_ u: Int, _ v: Int, _ c: Double) {
        let cap = c.isFinite ? Swift.min(c, Self.infinite) : Self.infinite
        to.append(Int32(v)); residual.append(cap); next.append(head[u]); head[u] = Int32(to.count - 1)
        to.append(Int32(u)); residual.append(0); next.append(head[v]); head[v] = Int32(to.count - 1)
    }

    /// Pushes the maximum flow from `s` to `t`; returns its value. Residuals at or below
    /// `epsilon` count as saturated.
    mutating func maxFlow(from s: Int, to t: Int) -> Double {
        var maxCap = 0.0
        for r in residual where r < Self.infinite && r > maxCap { maxCap = r }
        epsilon = Swift.max(maxCap, 1e-300) * 1e-13
        var total = 0.0
        var level = [Int32](repeating: -1, count: nodeCount)
        var iter = [Int32](repeating: -1, count: nodeCount)
        var queue = [Int32](repeating: 0, count: nodeCount)
        var pathEdges: [Int32] = []
        pathEdges.reserveCapacity(64)
        while true {
            // BFS levels.
            for i in 0..<nodeCount { level[i] = -1 }
            level[s] = 0
            var qh = 0, qt = 0
            queue[qt] = Int32(s); qt += 1
            while qh < qt {
                let u = Int(queue[qh]); qh += 1
                var e = head[u]
                while e >= 0 {
                    let v = Int(to[Int(e)])
                    if level[v] < 0 && residual[Int(e)] > epsilon {
                        level[v] = level[u] + 1
                        queue[qt] = Int32(v); qt += 1
                    }
                    e = next[Int(e)]
                }
            }
            if level[t] < 0 { break }
            for i in 0..<nodeCount { iter[i] = head[i] }
            // Blocking flow by repeated iterative DFS along level-increasing edges.
            while true {
                pathEdges.removeAll(keepingCapacity: true)
                var u = s
                var found = false
                while true {
                    if u == t { found = true; break }
                    var advanced = false
                    while iter[u] >= 0 {
                        let e = Int(iter[u])
                        let v = Int(to[e])
                        if residual[e] > epsilon && level[v] == level[u] + 1 {
                            pathEdges.append(Int32(e))
                            u = v
                            advanced = true
                            break
                        }
                        iter[u] = next[e]
                    }
                    if advanced { continue }
                    // Dead end: retreat and never try this node again in this phase.
                    level[u] = -1
                    guard let last = pathEdges.popLast() else { break }
                    let prev = Int(to[Int(last) ^ 1])
                    iter[prev] = next[Int(last)]
                    u = prev
                }
                if !found { break }
                var f = Double.infinity
                for e in pathEdges { f = Swift.min(f, residual[Int(e)]) }
                for e in pathEdges {
                    let i = Int(e)
                    residual[i] -= f
                    if residual[i] <= epsilon { residual[i] = 0 }
                    residual[i ^ 1] += f
                }
                total += f
                if f >= Self.infinite / 2 { return .infinity }
            }
        }
        return total
    }

    /// After `maxFlow`: nodes reachable from `s` in the residual graph (the source side of a
    /// minimum cut).
    func sourceSide(from s: Int) -> [Bool] {
        var seen = [Bool](repeating: false, count: nodeCount)
        var stack = [s]
        seen[s] = true
        while let u = stack.popLast() {
            var e = head[u]
            while e >= 0 {
                let v = Int(to[Int(e)])
                if !seen[v] && residual[Int(e)] > epsilon {
                    seen[v] = true
                    stack.append(v)
                }
                e = next[Int(e)]
            }
        }
        return seen
    }
}
