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
/// of strided copies (plus a zero fill for pad).
///
/// With several threads each copy of at least `splitFrom` elements is cut into one contiguous part
/// per thread (whole rows, or pieces of each row when there are fewer rows than threads), ordered
/// part-major and dispatched affine: thread i copies part i of every copy, one block each, in every
/// run. A copy's cost here is moving cache lines between the cores that wrote them and the core
/// that copies them, not bandwidth: session 22 measured vit_tiny's head transpose after a GEMM
/// ([197, 3, 64] → [3, 197, 64], 151 KB; 1 thread 5.1 µs) at 5.4 µs with two tasks on two threads,
/// 5.3 with three unequal ones (256, 256, 79 rows), 8.6–10 with four equal ones and 9–31 µs with six;
/// the 16K-element tasks before session 22 also left one thread two thirds of a channel shuffle
/// (83 + 83 + 66 rows of 232). Smaller copies, and copies with more parts than the affine
/// dispatch takes, run as `piece`-element tasks.
final class CopyStep: Step {
    let copies: [StridedCopy]
    let zeroFill: (UnsafeMutablePointer<Float>, Int)?
    let name: String
    /// (copy, rows, part of each row), in dispatch order.
    let tasks: [(copy: Int, rows: Range<Int>, part: Range<Int>)]
    /// The tasks are `threads` equal blocks, block i for thread i (`WorkerPool` affine dispatch).
    let affine: Bool
    static let piece = 16_384
    /// Copies smaller than this (elements) are not split per thread.
    static let splitFrom = 8_192

    init(_ name: String, copies: [StridedCopy], zeroFill: (UnsafeMutablePointer<Float>, Int)? = nil, threads: Int = 1) {
        self.name = name
        let collapsed = copies.map { $0.collapsed() }
        self.copies = collapsed
        self.zeroFill = zeroFill
        func pieces(_ c: StridedCopy, _ i: Int) -> [(copy: Int, rows: Range<Int>, part: Range<Int>)] {
            let rows = c.rows, inner = c.dims[c.dims.count - 1]
            if inner >= Self.piece {
                let n = (inner + Self.piece - 1) / Self.piece
                return (0..<rows).flatMap { r in (0..<n).map { p in (i, r..<(r + 1), (inner * p / n)..<(inner * (p + 1) / n)) } }
            }
            let perTask = Swift.max(1, Self.piece / Swift.max(1, inner))
            return stride(from: 0, to: rows, by: perTask).map { lo in (i, lo..<Swift.min(rows, lo + perTask), 0..<inner) }
        }
        // Part p (of `threads`) of copy i: whole rows, or piece p of every row.
        func part(_ c: StridedCopy, _ i: Int, _ p: Int) -> [(copy: Int, rows: Range<Int>, part: Range<Int>)] {
            let rows = c.rows, inner = c.dims[c.dims.count - 1]
            if rows >= threads { return [(i, (rows * p / threads)..<(rows * (p + 1) / threads), 0..<inner)] }
            return (0..<rows).map { r in (i, r..<(r + 1), (inner * p / threads)..<(inner * (p + 1) / threads)) }
        }
        let split = threads > 1 && collapsed.allSatisfy { $0.count >= Self.splitFrom }
        let perThread = split ? collapsed.enumerated().flatMap { i, c in part(c, i, 0) }.count : 0
        if split && perThread * threads <= WorkerPool.maxAffineTasks {
            tasks = (0..<threads).flatMap { p in collapsed.enumerated().flatMap { i, c in part(c, i, p) } }
            affine = true
        } else {
            tasks = collapsed.enumerated().flatMap { i, c in pieces(c, i) }
            affine = false
        }
    }

    var algorithm: String { name }
    var scratchFloats: Int { 0 }

    func run(pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        if let (p, n) = zeroFill { p.update(repeating: 0, count: n) }
        pool.parallelFor(tasks.count, affine: affine) { t, _ in
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
