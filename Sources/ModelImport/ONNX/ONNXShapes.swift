import Foundation

/// Shape helpers shared by constant folding and IR conversion. All return nil (or throw a
/// message) instead of trapping on hostile values.
enum ShapeMath {
    static func axis(_ a: Int, rank: Int) -> Int? {
        let n = a < 0 ? a + rank : a
        return (0..<max(rank, 1)).contains(n) && (rank > 0 || n == 0) ? n : nil
    }

    static func broadcast(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = Array(repeating: 1, count: rank)
        for s in shapes {
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                let o = out[offset + i]
                if o == d || d == 1 { continue }
                if o == 1 { out[offset + i] = d; continue }
                return nil
            }
        }
        return out
    }

    static func unsqueeze(_ dims: [Int], axes: [Int]) -> [Int]? {
        let rank = dims.count + axes.count
        guard rank <= ONNXLimits.maxRank else { return nil }
        var norm = Set<Int>()
        for a in axes {
            let n = a < 0 ? a + rank : a
            guard (0..<rank).contains(n), norm.insert(n).inserted else { return nil }
        }
        var out: [Int] = []
        var src = 0
        for i in 0..<rank {
            if norm.contains(i) { out.append(1) } else { out.append(dims[src]); src += 1 }
        }
        return out
    }

    /// nil axes squeezes every 1.
    static func squeeze(_ dims: [Int], axes: [Int]?) -> [Int]? {
        guard let axes, !axes.isEmpty else { return dims.filter { $0 != 1 } }
        var drop = Set<Int>()
        for a in axes {
            guard let n = axis(a, rank: dims.count), dims[n] == 1 else { return nil }
            drop.insert(n)
        }
        return dims.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    /// ONNX Reshape: 0 copies the input dim (unless allowZero), -1 is inferred.
    static func reshape(_ input: [Int], target: [Int], allowZero: Bool) -> Result<[Int], ShapeFailure> {
        guard target.count <= ONNXLimits.maxRank else { return .failure(ShapeFailure("reshape target rank \(target.count) is absurd")) }
        guard let total = checkedProduct(input) else { return .failure(ShapeFailure("input \(input) is too large")) }
        var out: [Int] = []
        var inferAt: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case 0 where !allowZero:
                guard i < input.count else { return .failure(ShapeFailure("reshape target \(target) copies dim \(i) of a rank-\(input.count) input")) }
                out.append(input[i])
            case -1:
                guard inferAt == nil else { return .failure(ShapeFailure("reshape target \(target) has more than one -1")) }
                inferAt = i
                out.append(1)
            case 0...ONNXLimits.maxDim:
                out.append(d)
            default:
                return .failure(ShapeFailure("reshape target \(target) has an invalid dimension \(d)"))
            }
        }
        guard let known = checkedProduct(out) else { return .failure(ShapeFailure("reshape target \(target) is too large")) }
        if let k = inferAt {
            guard known > 0, total % known == 0 else { return .failure(ShapeFailure("cannot reshape \(input) to \(target)")) }
            out[k] = total / known
        } else if known != total {
            return .failure(ShapeFailure("cannot reshape \(input) (\(total) elements) to \(target) (\(known) elements)"))
        }
        return .success(out)
    }

    static func flatten(_ dims: [Int], axis a: Int) -> [Int]? {
        let n = a < 0 ? a + dims.count : a
        guard (0...dims.count).contains(n), let lead = checkedProduct(Array(dims.prefix(n))),
              let tail = checkedProduct(Array(dims.suffix(from: n))) else { return nil }
        return [lead, tail]
    }

    static func transpose(_ dims: [Int], perm: [Int]?) -> [Int]? {
        let p = perm ?? Array((0..<dims.count).reversed())
        guard p.count == dims.count, Set(p) == Set(0..<dims.count) else { return nil }
        return p.map { dims[$0] }
    }

    struct SliceAxis {
        var axis: Int
        var start: Int
        var step: Int
        var count: Int
        /// Start/end clamped to [-dim-1, dim], safe to hand to the IR's slice.
        var clampedStart: Int
        var clampedEnd: Int
    }

    /// Normalises ONNX Slice parameters against `dims`.
    static func slice(_ dims: [Int], starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?) -> Result<[SliceAxis], ShapeFailure> {
        guard starts.count == ends.count else { return .failure(ShapeFailure("slice starts \(starts) and ends \(ends) differ in length")) }
        let axesList = axes ?? (0..<Int64(starts.count)).map { $0 }
        let stepsList = steps ?? Array(repeating: 1, count: starts.count)
        guard axesList.count == starts.count, stepsList.count == starts.count else {
            return .failure(ShapeFailure("slice axes/steps do not match starts/ends in length"))
        }
        var seen = Set<Int>()
        var result: [SliceAxis] = []
        for i in 0..<starts.count {
            guard axesList[i] >= -Int64(ONNXLimits.maxRank), axesList[i] <= Int64(ONNXLimits.maxRank), let ax = axis(Int(axesList[i]), rank: dims.count), seen.insert(ax).inserted else {
                return .failure(ShapeFailure("slice axis \(axesList[i]) is invalid for rank \(dims.count)"))
            }
            let dim = dims[ax]
            let step = stepsList[i]
            guard step != 0 else { return .failure(ShapeFailure("slice step must not be 0")) }
            guard step != Int64.min else { return .failure(ShapeFailure("slice step \(step) is absurd")) }
            func clampRaw(_ v: Int64) -> Int { Int(max(min(v, Int64(dim)), Int64(-dim - 1))) }
            let s0 = clampRaw(starts[i]), e0 = clampRaw(ends[i])
            var s = s0 < 0 ? s0 + dim : s0
            var e = e0 < 0 ? e0 + dim : e0
            let st = Int(max(min(step, Int64(ONNXLimits.maxDim)), -Int64(ONNXLimits.maxDim)))
            let count: Int
            if st > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                count = max(0, (e - s + st - 1) / st)
            } else {
                s = min(max(s, 0), dim - 1)
                e = min(max(e, -1), dim - 1)
                count = max(0, (s - e + (-st) - 1) / (-st))
            }
            result.append(SliceAxis(axis: ax, start: s, step: st, count: count, clampedStart: s0, clampedEnd: e0))
        }
        return .success(result)
    }

    /// Output dims of Gather.
    static func gather(_ data: [Int], indices: [Int], axis a: Int) -> [Int]? {
        guard let ax = axis(a, rank: data.count), data.count + indices.count - 1 <= ONNXLimits.maxRank else { return nil }
        return Array(data.prefix(ax)) + indices + Array(data.suffix(from: ax + 1))
    }
}

struct ShapeFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Row-major strides.
func rowMajorStrides(_ dims: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: dims.count)
    var s = 1
    for i in stride(from: dims.count - 1, through: 0, by: -1) {
        strides[i] = s
        s &*= max(dims[i], 1)
    }
    return strides
}

/// Maps each element of an output of `outDims` to the element of a broadcast input of `inDims`.
enum BroadcastIndex {
    case identity
    case scalar
    case table([Int])

    init(input inDims: [Int], output outDims: [Int]) {
        if inDims == outDims { self = .identity; return }
        if inDims.allSatisfy({ $0 == 1 }) { self = .scalar; return }
        let rank = outDims.count
        let aligned = Array(repeating: 1, count: rank - inDims.count) + inDims
        let inStrides = rowMajorStrides(aligned)
        let effective = (0..<rank).map { aligned[$0] == 1 ? 0 : inStrides[$0] }
        let count = outDims.reduce(1, *)
        var table = [Int](repeating: 0, count: count)
        var index = Array(repeating: 0, count: rank)
        var offset = 0
        for i in 0..<count {
            table[i] = offset
            // Advance the odometer.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offset += effective[d]
                if index[d] < outDims[d] { break }
                offset -= effective[d] * index[d]
                index[d] = 0
                d -= 1
            }
        }
        self = .table(table)
    }

    @inline(__always) subscript(_ i: Int) -> Int {
        switch self {
        case .identity: i
        case .scalar: 0
        case .table(let t): t[i]
        }
    }
}

/// Visits every multi-index of `dims` in row-major order.
func forEachIndex(_ dims: [Int], _ body: ([Int]) -> Void) {
    guard dims.allSatisfy({ $0 > 0 }) else { return }
    var index = Array(repeating: 0, count: dims.count)
    while true {
        body(index)
        var d = dims.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < dims[d] { break }
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}
