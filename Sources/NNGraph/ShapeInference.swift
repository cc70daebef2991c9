/// Output shapes of `op` applied to `inputs`. Errors name the node and the mismatch.
public func inferOutputShapes(op: Op, inputs: [TensorShape], params: [ParamInfo], nodeName: String) throws(GraphError) -> [TensorShape] {
    func fail(_ message: String) -> GraphError { GraphError(node: nodeName, message) }
    func need(_ n: Int) throws(GraphError) {
        guard inputs.count >= n else { throw fail("\(op.kindName) needs \(n) input(s), got \(inputs.count)") }
    }
    func rank(_ s: TensorShape, _ r: Int, _ what: String) throws(GraphError) {
        guard s.rank == r else { throw fail("\(op.kindName) expects a rank-\(r) \(what), got shape \(s)") }
    }
    func positive(_ values: [Int], _ what: String) throws(GraphError) {
        guard values.allSatisfy({ $0 > 0 }) else { throw fail("\(what) must be positive, got \(values)") }
    }

    switch op {
    case .conv(let a), .convTranspose(let a):
        try need(1)
        let x = inputs[0]
        try rank(x, 4, "NCHW input")
        guard a.kernel.count == 2, a.strides.count == 2, a.dilations.count == 2, a.pads.count == 4 else {
            throw fail("conv attributes must be 2-D (kernel, strides, dilations) with 4 pads")
        }
        try positive(a.kernel + a.strides + a.dilations + [a.groups, a.outChannels], "kernel, strides, dilations, groups and output channels")
        guard a.pads.allSatisfy({ $0 >= 0 }) else { throw fail("pads must be non-negative, got \(a.pads)") }
        let c = x[1]
        guard c == a.inChannels else { throw fail("input has \(c) channels but the weights expect \(a.inChannels)") }
        guard c % a.groups == 0, a.outChannels % a.groups == 0 else {
            throw fail("channels (in \(c), out \(a.outChannels)) are not divisible by groups \(a.groups)")
        }
        var out = [x[0], a.outChannels, 0, 0]
        for d in 0..<2 {
            let effK = a.dilations[d] * (a.kernel[d] - 1) + 1
            let size = x[2 + d]
            if case .convTranspose = op {
                let pad = a.pads[d] + a.pads[d + 2]
                let op = a.outputPadding.count == 2 ? a.outputPadding[d] : 0
                out[2 + d] = a.strides[d] * (size - 1) + op + effK - pad
            } else {
                let padded = size + a.pads[d] + a.pads[d + 2]
                guard padded >= effK else {
                    throw fail("kernel extent \(effK) is larger than the padded input \(padded) on spatial axis \(d)")
                }
                out[2 + d] = (padded - effK) / a.strides[d] + 1
            }
            guard out[2 + d] > 0 else { throw fail("output spatial size would be \(out[2 + d])") }
        }
        return [TensorShape(out)]

    case .gemm(let a):
        try need(1)
        let x = inputs[0]
        guard x.rank >= 1, x.dims.last == a.inFeatures else {
            throw fail("gemm expects the last input dim to be \(a.inFeatures), got shape \(x)")
        }
        var out = x.dims
        out[out.count - 1] = a.outFeatures
        return [TensorShape(out)]

    case .matmul:
        try need(2)
        let (x, y) = (inputs[0], inputs[1])
        guard x.rank >= 2, y.rank >= 2 else { throw fail("matmul needs rank ≥ 2 operands, got \(x) and \(y)") }
        guard x.dims[x.rank - 1] == y.dims[y.rank - 2] else {
            throw fail("matmul inner dimensions differ: \(x) × \(y)")
        }
        let batch = try broadcast(Array(x.dims.dropLast(2)), Array(y.dims.dropLast(2)), fail)
        return [TensorShape(batch + [x.dims[x.rank - 2], y.dims[y.rank - 1]])]

    case .attention(let heads):
        try need(3)
        let (q, k, v) = (inputs[0], inputs[1], inputs[2])
        try rank(q, 3, "[B, S, E] query")
        guard k.rank == 3, v.rank == 3, k[0] == q[0], v[0] == q[0], k[2] == q[2], k[1] == v[1] else {
            throw fail("attention q \(q), k \(k), v \(v) are not compatible [B, S, E] tensors")
        }
        guard heads > 0, q[2] % heads == 0 else { throw fail("embedding \(q[2]) not divisible by \(heads) heads") }
        return [TensorShape([q[0], q[1], v[2]])]

    case .sparseAggregate(let nodes, let edges):
        try need(1)
        let x = inputs[0]
        try rank(x, 2, "[nodes, features] input")
        guard x[0] == nodes else { throw fail("feature matrix has \(x[0]) rows, adjacency has \(nodes) nodes") }
        guard edges > 0 else { throw fail("adjacency must have at least one non-zero") }
        return [x]

    case .batchNorm:
        try need(1)
        guard inputs[0].rank >= 2 else { throw fail("batchnorm needs rank ≥ 2 input, got \(inputs[0])") }
        return [inputs[0]]

    case .layerNorm(let axis, _):
        try need(1)
        guard inputs[0].normalizedAxis(axis) != nil else { throw fail("axis \(axis) out of range for \(inputs[0])") }
        return [inputs[0]]

    case .activation, .clip, .unary, .identity:
        try need(1)
        return [inputs[0]]

    case .binary:
        if inputs.count >= 2 { return [try broadcast(inputs[0].dims, inputs[1].dims, fail).asShape] }
        try need(1)
        guard let p = params.first else { throw fail("binary op needs a second operand (input or constant)") }
        return [try broadcast(inputs[0].dims, p.shape.dims, fail).asShape]

    case .maxPool(let a), .avgPool(let a):
        try need(1)
        let x = inputs[0]
        try rank(x, 4, "NCHW input")
        guard a.kernel.count == 2, a.strides.count == 2, a.pads.count == 4 else { throw fail("pool attributes must be 2-D") }
        try positive(a.kernel + a.strides, "pool kernel and strides")
        var out = [x[0], x[1], 0, 0]
        for d in 0..<2 {
            let padded = x[2 + d] + a.pads[d] + a.pads[d + 2]
            guard padded >= a.kernel[d] else { throw fail("pool kernel \(a.kernel[d]) larger than padded input \(padded)") }
            let span = padded - a.kernel[d]
            var o = (a.ceilMode ? (span + a.strides[d] - 1) / a.strides[d] : span / a.strides[d]) + 1
            // A window may not start inside the end padding (PyTorch/ONNX rule).
            if a.ceilMode, (o - 1) * a.strides[d] >= x[2 + d] + a.pads[d] { o -= 1 }
            out[2 + d] = o
        }
        return [TensorShape(out)]

    case .globalAvgPool, .globalMaxPool:
        try need(1)
        let x = inputs[0]
        guard x.rank >= 3 else { throw fail("global pooling needs rank ≥ 3 input, got \(x)") }
        return [TensorShape(Array(x.dims.prefix(2)) + Array(repeating: 1, count: x.rank - 2))]

    case .reduceMean(let axes, let keepDims):
        try need(1)
        let x = inputs[0]
        var reduce = Set<Int>()
        for a in axes {
            guard let n = x.normalizedAxis(a) else { throw fail("axis \(a) out of range for \(x)") }
            reduce.insert(n)
        }
        if axes.isEmpty { reduce = Set(0..<x.rank) }
        var out: [Int] = []
        for (i, d) in x.dims.enumerated() {
            if reduce.contains(i) { if keepDims { out.append(1) } } else { out.append(d) }
        }
        return [TensorShape(out)]

    case .softmax(let axis):
        try need(1)
        guard inputs[0].normalizedAxis(axis) != nil else { throw fail("axis \(axis) out of range for \(inputs[0])") }
        return [inputs[0]]

    case .concat(let axis):
        try need(1)
        let first = inputs[0]
        guard let ax = first.normalizedAxis(axis) else { throw fail("axis \(axis) out of range for \(first)") }
        var total = 0
        for s in inputs {
            guard s.rank == first.rank else { throw fail("concat inputs have different ranks: \(first) and \(s)") }
            for i in 0..<s.rank where i != ax && s[i] != first[i] {
                throw fail("concat inputs differ on axis \(i): \(first) and \(s)")
            }
            total += s[ax]
        }
        var out = first.dims
        out[ax] = total
        return [TensorShape(out)]

    case .split(let axis, let sizes):
        try need(1)
        let x = inputs[0]
        guard let ax = x.normalizedAxis(axis) else { throw fail("axis \(axis) out of range for \(x)") }
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x[ax] else {
            throw fail("split sizes \(sizes) do not sum to \(x[ax]) on axis \(ax)")
        }
        return sizes.map { s in
            var d = x.dims
            d[ax] = s
            return TensorShape(d)
        }

    case .slice(let starts, let ends, let axes, let steps):
        try need(1)
        let x = inputs[0]
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw fail("slice starts/ends/axes/steps have different lengths")
        }
        var out = x.dims
        for i in 0..<axes.count {
            guard let ax = x.normalizedAxis(axes[i]) else { throw fail("slice axis \(axes[i]) out of range for \(x)") }
            let dim = x[ax]
            let step = steps[i]
            guard step != 0 else { throw fail("slice step must not be 0") }
            func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(v, lo), hi) }
            var s = starts[i] < 0 ? starts[i] + dim : starts[i]
            var e = ends[i] < 0 ? ends[i] + dim : ends[i]
            if step > 0 {
                s = clamp(s, 0, dim)
                e = clamp(e, 0, dim)
                out[ax] = Swift.max(0, (e - s + step - 1) / step)
            } else {
                s = clamp(s, 0, dim - 1)
                e = clamp(e, -1, dim - 1)
                out[ax] = Swift.max(0, (s - e + (-step) - 1) / (-step))
            }
        }
        return [TensorShape(out)]

    case .reshape(let shape):
        try need(1)
        let x = inputs[0]
        var out: [Int] = []
        var inferIndex: Int?
        for (i, d) in shape.enumerated() {
            if d == 0 {
                guard i < x.rank else { throw fail("reshape copies dim \(i) but input \(x) has rank \(x.rank)") }
                out.append(x[i])
            } else if d == -1 {
                guard inferIndex == nil else { throw fail("reshape target \(shape) has more than one -1") }
                inferIndex = i
                out.append(1)
            } else if d > 0 {
                out.append(d)
            } else {
                throw fail("reshape target \(shape) has an invalid dimension \(d)")
            }
        }
        let known = out.reduce(1, *)
        if let k = inferIndex {
            guard known > 0, x.elementCount % known == 0 else { throw fail("cannot reshape \(x) to \(shape)") }
            out[k] = x.elementCount / known
        }
        guard out.reduce(1, *) == x.elementCount else {
            throw fail("cannot reshape \(x) (\(x.elementCount) elements) to \(TensorShape(out))")
        }
        return [TensorShape(out)]

    case .flatten(let axis):
        try need(1)
        let x = inputs[0]
        let ax = axis < 0 ? axis + x.rank : axis
        guard (0...x.rank).contains(ax) else { throw fail("flatten axis \(axis) out of range for \(x)") }
        return [TensorShape([x.dims.prefix(ax).reduce(1, *), x.dims.suffix(from: ax).reduce(1, *)])]

    case .transpose(let perm):
        try need(1)
        let x = inputs[0]
        guard perm.count == x.rank, Set(perm) == Set(0..<x.rank) else {
            throw fail("transpose perm \(perm) is not a permutation of \(x.rank) axes")
        }
        return [TensorShape(perm.map { x[$0] })]

    case .squeeze(let axes):
        try need(1)
        let x = inputs[0]
        var drop = Set<Int>()
        for a in axes {
            guard let n = x.normalizedAxis(a) else { throw fail("squeeze axis \(a) out of range for \(x)") }
            guard x[n] == 1 else { throw fail("cannot squeeze axis \(n) of size \(x[n])") }
            drop.insert(n)
        }
        if axes.isEmpty { drop = Set(x.dims.indices.filter { x[$0] == 1 }) }
        return [TensorShape(x.dims.enumerated().filter { !drop.contains($0.offset) }.map(\.element))]

    case .unsqueeze(let axes):
        try need(1)
        let x = inputs[0]
        let newRank = x.rank + axes.count
        let norm = axes.map { $0 < 0 ? $0 + newRank : $0 }
        guard norm.allSatisfy({ (0..<newRank).contains($0) }), Set(norm).count == norm.count else {
            throw fail("unsqueeze axes \(axes) invalid for \(x)")
        }
        var out: [Int] = []
        var src = 0
        for i in 0..<newRank {
            if norm.contains(i) { out.append(1) } else { out.append(x[src]); src += 1 }
        }
        return [TensorShape(out)]

    case .channelShuffle(let groups):
        try need(1)
        let x = inputs[0]
        guard x.rank >= 2, groups > 0, x[1] % groups == 0 else {
            throw fail("channel shuffle: \(x.rank >= 2 ? x[1] : 0) channels not divisible by \(groups) groups")
        }
        return [x]

    case .pad(let pads):
        try need(1)
        let x = inputs[0]
        guard pads.count == 2 * x.rank else { throw fail("pad needs \(2 * x.rank) values for \(x), got \(pads.count)") }
        let out = (0..<x.rank).map { x[$0] + pads[$0] + pads[$0 + x.rank] }
        guard out.allSatisfy({ $0 > 0 }) else { throw fail("padding \(pads) makes \(x) empty") }
        return [TensorShape(out)]

    case .unsupported(_, let shapes):
        guard !shapes.isEmpty else { throw fail("\(op.kindName) has no known output shape") }
        return shapes
    }
}

private extension Array where Element == Int {
    var asShape: TensorShape { TensorShape(self) }
}

/// NumPy broadcasting of two dimension lists.
func broadcast(_ a: [Int], _ b: [Int], _ fail: (String) -> GraphError) throws(GraphError) -> [Int] {
    let n = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        guard x == y || x == 1 || y == 1 else { throw fail("shapes \(TensorShape(a)) and \(TensorShape(b)) do not broadcast") }
        out[i] = Swift.max(x, y)
    }
    return out
}
