import NNGraph

/// One strided copy: `dims` iteration space, element strides for source and destination.
struct StridedCopy {
    var source: UnsafeMutablePointer<Float>
    var destination: UnsafeMutablePointer<Float>
    var dims: [Int]
    var sourceStrides: [Int]
    var destinationStrides: [Int]

    /// Drops size-1 dims and merges dims contiguous in both source and destination.
    func collapsed() -> StridedCopy {
        var d: [Int] = [], s: [Int] = [], t: [Int] = []
        for i in dims.indices where dims[i] != 1 {
            d.append(dims[i]); s.append(sourceStrides[i]); t.append(destinationStrides[i])
        }
        var i = d.count - 1
        while i > 0 {
            if s[i - 1] == s[i] * d[i] && t[i - 1] == t[i] * d[i] {
                d[i - 1] *= d[i]; s[i - 1] = s[i]; t[i - 1] = t[i]
                d.remove(at: i); s.remove(at: i); t.remove(at: i)
            }
            i -= 1
        }
        if d.isEmpty { d = [1]; s = [1]; t = [1] }
        return StridedCopy(source: source, destination: destination, dims: d, sourceStrides: s, destinationStrides: t)
    }

    var count: Int { dims.reduce(1, *) }

    /// Copies elements `part` of rows `outer` of the collapsed space (row = innermost dim).
    @inline(__always)
    func copyRows(_ outer: Range<Int>, part: Range<Int>) {
        let lo = part.lowerBound
        let inner = part.count
        let si = sourceStrides[dims.count - 1], di = destinationStrides[dims.count - 1]
        for o in outer {
            var so = 0, dof = 0, rem = o
            for axis in stride(from: dims.count - 2, through: 0, by: -1) {
                let idx = rem % dims[axis]
                rem /= dims[axis]
                so += idx * sourceStrides[axis]
                dof += idx * destinationStrides[axis]
            }
            let src = source + so + lo * si, dst = destination + dof + lo * di
            if si == 1 && di == 1 {
                dst.update(from: src, count: inner)
            } else {
                for k in 0..<inner { dst[k * di] = src[k * si] }
            }
        }
    }

    var rows: Int { count / dims[dims.count - 1] }
}

/// Concat, split (when not a zero-copy view), slice, transpose, pad, channel shuffle: a list
/// of strided copies (plus a zero fill for pad). All copies' work is cut into tasks of about
/// `piece` elements (several rows, or a piece of one long row) handed out in one dispatch: a
/// channel concat collapses each input to a single contiguous row, and copying those one after
/// another, each on one thread, ran shufflenet's concats at a third of the pool's bandwidth.
/// Each copy of at least `balancedFrom` elements is cut into a multiple of `threads` tasks of equal
/// size: cut into ⌈rows / rows per piece⌉ tasks, a channel shuffle of 232 planes of 14² (83, 83 and
/// 66 rows) or vit_tiny's head transpose (591 rows of 64: 256, 256, 79) left one of two threads
/// two tasks to the other's one.
final class CopyStep: Step {
    let copies: [StridedCopy]
    let zeroFill: (UnsafeMutablePointer<Float>, Int)?
    let name: String
    /// (copy, rows, part of each row), in copy order.
    let tasks: [(copy: Int, rows: Range<Int>, part: Range<Int>)]
    static let piece = 16_384
    /// Copies smaller than this (elements) stay one task per piece (a tiny copy runs on the calling thread).
    static let balancedFrom = 8_192

    init(_ name: String, copies: [StridedCopy], zeroFill: (UnsafeMutablePointer<Float>, Int)? = nil, threads: Int = 1) {
        self.name = name
        self.copies = copies.map { $0.collapsed() }
        self.zeroFill = zeroFill
        var tasks: [(copy: Int, rows: Range<Int>, part: Range<Int>)] = []
        for (i, c) in self.copies.enumerated() {
            let rows = c.rows, inner = c.dims[c.dims.count - 1]
            let balance = threads > 1 && rows * inner >= Self.balancedFrom
            func multiple(_ n: Int) -> Int { balance ? (n + threads - 1) / threads * threads : n }
            if inner >= Self.piece || (rows < threads && balance) {
                // Pieces of each row; one row alone (a concat input) in a multiple of the thread count.
                let byLength = (inner + Self.piece - 1) / Self.piece
                let pieces = Swift.min(inner, rows % threads == 0 ? byLength : multiple(byLength))
                for r in 0..<rows {
                    for p in 0..<pieces { tasks.append((i, r..<(r + 1), (inner * p / pieces)..<(inner * (p + 1) / pieces))) }
                }
            } else {
                let perTask = Swift.max(1, Self.piece / Swift.max(1, inner))
                let n = Swift.min(rows, multiple((rows + perTask - 1) / perTask))
                for t in 0..<n { tasks.append((i, (rows * t / n)..<(rows * (t + 1) / n), 0..<inner)) }
            }
        }
        self.tasks = tasks
    }

    var algorithm: String { name }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        if let (p, n) = zeroFill { p.update(repeating: 0, count: n) }
        pool.parallelFor(tasks.count) { t, _ in
            let task = tasks[t]
            copies[task.copy].copyRows(task.rows, part: task.part)
        }
    }
}

/// Sparse × dense aggregation `Y = Â·X` (GCN propagation) with Â in CSR form.
final class SparseAggregateStep: Step {
    let x: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let rowStart: [Int32]
    let columns: [Int32]
    let values: [Float]
    let features: Int

    init(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, adjacency: SparseAdjacency, features: Int) {
        self.x = x
        self.y = y
        rowStart = adjacency.rowStart
        columns = adjacency.columns
        values = adjacency.values
        self.features = features
    }

    var algorithm: String { "csr spmm" }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let f = features
        rowStart.withUnsafeBufferPointer { rs in
            columns.withUnsafeBufferPointer { cols in
                values.withUnsafeBufferPointer { vals in
                    pool.parallelRanges(rs.count - 1, grain: 64) { r, _ in
                        for i in r {
                            let dst = y + i * f
                            dst.update(repeating: 0, count: f)
                            for e in Int(rs[i])..<Int(rs[i + 1]) {
                                let a = vals[e]
                                let src = x + Int(cols[e]) * f
                                for j in 0..<f { dst[j] += a * src[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A normalised adjacency `D^-½ (A + I) D^-½` in CSR form. The IR only records the node and
/// non-zero counts, so the runner builds a deterministic synthetic graph with exactly that
/// many non-zeros (a self loop per node plus seeded random edges).
public struct SparseAdjacency: Sendable, Hashable {
    public var rowStart: [Int32]
    public var columns: [Int32]
    public var values: [Float]

    public static func synthetic(nodes: Int, nonZeros: Int, seed: UInt64 = 0) -> SparseAdjacency {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0ADA)
        var rows = [[Int32]](repeating: [], count: nodes)
        for i in 0..<nodes where nonZeros >= nodes { rows[i].append(Int32(i)) }
        let extra = Swift.max(0, nonZeros - (nonZeros >= nodes ? nodes : 0))
        for _ in 0..<extra {
            let i = Int(rng.next() % UInt64(nodes)), j = Int32(rng.next() % UInt64(nodes))
            rows[i].append(j)
        }
        let degree = rows.map { Float(Swift.max(1, $0.count)) }
        var start: [Int32] = [0], cols: [Int32] = [], vals: [Float] = []
        for i in 0..<nodes {
            for j in rows[i].sorted() {
                cols.append(j)
                vals.append(1 / (degree[i] * degree[Int(j)]).squareRoot())
            }
            start.append(Int32(cols.count))
        }
        return SparseAdjacency(rowStart: start, columns: cols, values: vals)
    }
}
