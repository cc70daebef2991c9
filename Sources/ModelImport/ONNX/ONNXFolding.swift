import Foundation
import NNGraph

struct FoldError: Error {
    var message: String
    var kind: ImportError.Kind
    init(_ message: String, kind: ImportError.Kind = .invalidTensor) {
        self.message = message
        self.kind = kind
    }
}

/// Evaluates ONNX operators on constant inputs: the shape arithmetic PyTorch exports
/// (Shape → Gather → Unsqueeze → Concat → Reshape, Slice, Cast, Div, Mul, …), weight
/// transforms (Transpose, DequantizeLinear) and Constant nodes. Results are capped at
/// `ONNXLimits.maxFoldedElements` elements unless they are no larger than an input.
enum ConstantFolder {
    /// Returns the outputs, or nil when this op (or this use of it) is not folded.
    static func fold(_ op: String, _ inputs: [ConstTensor?], _ attrs: ONNXAttributes, opset: Int) throws(FoldError) -> [ConstTensor]? {
        func input(_ i: Int) throws(FoldError) -> ConstTensor {
            guard i < inputs.count, let t = inputs[i] else { throw FoldError("\(op) is missing input \(i)") }
            return t
        }
        func optional(_ i: Int) -> ConstTensor? { i < inputs.count ? inputs[i] : nil }
        func ints(_ t: ConstTensor, _ what: String) throws(FoldError) -> [Int64] {
            guard let v = t.intValues else { throw FoldError("\(what) must be integers") }
            return v
        }
        func attr<T>(_ body: () throws(ImportError) -> T) throws(FoldError) -> T {
            do { return try body() } catch { throw FoldError(error.message, kind: error.kind) }
        }

        switch op {
        case "Identity", "Dropout":
            return [try input(0)]

        case "Cast":
            let to = try attr { () throws(ImportError) in try attrs.int("to") }
            guard let to else { throw FoldError("Cast needs the 'to' attribute") }
            return [try cast(try input(0), to: Int32(truncatingIfNeeded: to))]

        case "CastLike":
            return [try cast(try input(0), to: ONNXDataType.code(for: try input(1).dtype))]

        case "Unsqueeze", "Squeeze":
            let x = try input(0)
            var axes: [Int]?
            if opset >= 13 {
                if let a = optional(1) { axes = try ints(a, "axes").map { Int(clamping: $0) } }
            } else {
                axes = try attr { () throws(ImportError) in try attrs.ints("axes") }
            }
            let dims: [Int]?
            if op == "Unsqueeze" {
                guard let axes else { throw FoldError("Unsqueeze needs axes") }
                dims = ShapeMath.unsqueeze(x.dims, axes: axes)
            } else {
                dims = ShapeMath.squeeze(x.dims, axes: axes)
            }
            guard let dims else { throw FoldError("\(op) axes \(axes ?? []) are invalid for shape \(x.dims)", kind: .shape) }
            var y = x
            y.dims = dims
            return [y]

        case "Reshape":
            let x = try input(0)
            let target = try ints(try input(1), "shape").map { Int(clamping: $0) }
            let allowZero = try attr { () throws(ImportError) in try attrs.int("allowzero", default: 0) } != 0
            switch ShapeMath.reshape(x.dims, target: target, allowZero: allowZero) {
            case .success(let dims):
                var y = x
                y.dims = dims
                return [y]
            case .failure(let f): throw FoldError(f.message, kind: .shape)
            }

        case "Flatten":
            let x = try input(0)
            let a = try attr { () throws(ImportError) in try attrs.int("axis", default: 1) }
            guard let dims = ShapeMath.flatten(x.dims, axis: a) else { throw FoldError("Flatten axis \(a) invalid for \(x.dims)", kind: .shape) }
            var y = x
            y.dims = dims
            return [y]

        case "Concat":
            let a = try attr { () throws(ImportError) in try attrs.int("axis") }
            guard let a else { throw FoldError("Concat needs the 'axis' attribute") }
            let parts = inputs.compactMap { $0 }
            return [try concat(parts, axis: a)]

        case "Gather":
            let a = try attr { () throws(ImportError) in try attrs.int("axis", default: 0) }
            return [try gather(try input(0), indices: try input(1), axis: a)]

        case "Slice":
            let x = try input(0)
            let starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?
            if opset >= 10 {
                starts = try ints(try input(1), "starts")
                ends = try ints(try input(2), "ends")
                axes = try optional(3).map { (t) throws(FoldError) in try ints(t, "axes") }
                steps = try optional(4).map { (t) throws(FoldError) in try ints(t, "steps") }
            } else {
                starts = (try attr { () throws(ImportError) in try attrs.ints("starts") } ?? []).map { Int64($0) }
                ends = (try attr { () throws(ImportError) in try attrs.ints("ends") } ?? []).map { Int64($0) }
                axes = try attr { () throws(ImportError) in try attrs.ints("axes") }?.map { Int64($0) }
                steps = nil
            }
            switch ShapeMath.slice(x.dims, starts: starts, ends: ends, axes: axes, steps: steps) {
            case .success(let spec): return [slice(x, spec)]
            case .failure(let f): throw FoldError(f.message, kind: .shape)
            }

        case "Transpose":
            let x = try input(0)
            let perm = try attr { () throws(ImportError) in try attrs.ints("perm") }
            guard let dims = ShapeMath.transpose(x.dims, perm: perm) else {
                throw FoldError("Transpose perm \(perm ?? []) is invalid for \(x.dims)", kind: .shape)
            }
            return [transpose(x, perm: perm ?? Array((0..<x.dims.count).reversed()), outDims: dims)]

        case "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Min", "Max",
             "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or":
            let parts = inputs.compactMap { $0 }
            guard parts.count >= 2 else {
                if (op == "Min" || op == "Max"), let only = parts.first { return [only] }
                throw FoldError("\(op) needs two inputs")
            }
            let fmod = op == "Mod" ? (try attr { () throws(ImportError) in try attrs.int("fmod", default: 0) }) : 0
            var acc = parts[0]
            for next in parts.dropFirst() { acc = try binary(op, acc, next, fmod: fmod != 0) }
            return [acc]

        case "Neg", "Abs", "Sqrt", "Reciprocal", "Exp", "Log", "Floor", "Ceil", "Relu", "Sigmoid", "Tanh", "Erf", "Not":
            return [unary(op, try input(0))]

        case "Where":
            return [try whereOp(try input(0), try input(1), try input(2))]

        case "ConstantOfShape":
            let shape = try ints(try input(0), "shape")
            guard shape.allSatisfy({ $0 >= 0 && $0 <= Int64(ONNXLimits.maxDim) }) else { throw FoldError("ConstantOfShape shape \(shape) is invalid") }
            let dims = shape.map { Int($0) }
            guard let count = checkedProduct(dims, limit: ONNXLimits.maxFoldedElements) else {
                throw FoldError("ConstantOfShape shape \(dims) is too large to evaluate", kind: .tooLarge)
            }
            var value = ConstTensor.floats([0], dims: [1])
            if let t = try attr({ () throws(ImportError) in try attrs.tensor("value") }) {
                var decoder = TensorDecoder(path: attrs.path)
                do { value = try decoder.decode(t, name: "value", node: attrs.node) } catch { throw FoldError(error.message, kind: error.kind) }
                guard value.count == 1 else { throw FoldError("ConstantOfShape value must have one element") }
            }
            return [fill(value, dims: dims, count: count)]

        case "Expand":
            let x = try input(0)
            let shape = try ints(try input(1), "shape")
            guard shape.count <= ONNXLimits.maxRank, shape.allSatisfy({ $0 >= 0 && $0 <= Int64(ONNXLimits.maxDim) }) else {
                throw FoldError("Expand shape \(shape) is invalid")
            }
            guard let dims = ShapeMath.broadcast([x.dims, shape.map { Int($0) }]) else {
                throw FoldError("Expand shape \(shape) does not broadcast with \(x.dims)", kind: .shape)
            }
            guard let count = checkedProduct(dims, limit: max(ONNXLimits.maxFoldedElements, x.count)) else {
                throw FoldError("Expand to \(dims) is too large to evaluate", kind: .tooLarge)
            }
            return [broadcastTo(x, dims: dims, count: count)]

        case "Range":
            return [try range(try input(0), try input(1), try input(2))]

        case "ReduceProd", "ReduceSum":
            let x = try input(0)
            var axes: [Int]?
            if (op == "ReduceSum" && opset >= 13) || (op == "ReduceProd" && opset >= 18) {
                if let a = optional(1) { axes = try ints(a, "axes").map { Int(clamping: $0) } }
            } else {
                axes = try attr { () throws(ImportError) in try attrs.ints("axes") }
            }
            let keep = try attr { () throws(ImportError) in try attrs.int("keepdims", default: 1) } != 0
            let noop = try attr { () throws(ImportError) in try attrs.int("noop_with_empty_axes", default: 0) } != 0
            if (axes ?? []).isEmpty && noop { return [x] }
            return [try reduce(x, axes: axes ?? [], keepDims: keep, product: op == "ReduceProd")]

        case "DequantizeLinear":
            let a = try attr { () throws(ImportError) in try attrs.int("axis", default: 1) }
            let block = try attr { () throws(ImportError) in try attrs.int("block_size", default: 0) }
            guard block == 0 else { return nil }
            return [try dequantize(try input(0), scale: try input(1), zeroPoint: optional(2), axis: a)]

        case "QuantizeLinear":
            let a = try attr { () throws(ImportError) in try attrs.int("axis", default: 1) }
            let block = try attr { () throws(ImportError) in try attrs.int("block_size", default: 0) }
            guard block == 0 else { return nil }
            let outCode = try attr { () throws(ImportError) in try attrs.int("output_dtype", default: 0) }
            return [try quantize(try input(0), scale: try input(1), zeroPoint: optional(2), axis: a, outputCode: Int32(truncatingIfNeeded: outCode))]

        default:
            return nil
        }
    }

    // MARK: - Implementations

    static func cast(_ x: ConstTensor, to code: Int32) throws(FoldError) -> ConstTensor {
        guard let dtype = ONNXDataType.dtype(code) else { throw FoldError("Cast to \(ONNXDataType.name(code)) is not supported") }
        switch dtype {
        case .float32, .float16, .bfloat16, .float64:
            return ConstTensor(dims: x.dims, dtype: dtype, storage: .float(x.floatValues))
        case .bool:
            switch x.storage {
            case .float(let v): return ConstTensor(dims: x.dims, dtype: .bool, storage: .float(v.map { $0 != 0 ? 1 : 0 }))
            case .int(let v): return ConstTensor(dims: x.dims, dtype: .bool, storage: .float(v.map { $0 != 0 ? 1 : 0 }))
            }
        case .int8, .uint8, .int16, .int32, .int64:
            var values: [Int64]
            switch x.storage {
            case .int(let v): values = v
            case .float(let v):
                values = []
                values.reserveCapacity(v.count)
                for f in v {
                    guard f.isFinite, abs(f) < 9.2e18 else { throw FoldError("Cast of \(f) to an integer type is undefined") }
                    values.append(Int64(f.rounded(.towardZero)))
                }
            }
            switch dtype {
            case .int8: return ConstTensor(dims: x.dims, dtype: .int8, storage: .float(values.map { Float(Int8(truncatingIfNeeded: $0)) }))
            case .uint8: return ConstTensor(dims: x.dims, dtype: .uint8, storage: .float(values.map { Float(UInt8(truncatingIfNeeded: $0)) }))
            case .int16: return ConstTensor(dims: x.dims, dtype: .int16, storage: .float(values.map { Float(Int16(truncatingIfNeeded: $0)) }))
            case .int32: return ConstTensor(dims: x.dims, dtype: .int32, storage: .int(values.map { Int64(Int32(truncatingIfNeeded: $0)) }))
            default: return ConstTensor(dims: x.dims, dtype: .int64, storage: .int(values))
            }
        }
    }

    static func concat(_ parts: [ConstTensor], axis a: Int) throws(FoldError) -> ConstTensor {
        guard let first = parts.first else { throw FoldError("Concat has no inputs") }
        let rank = first.dims.count
        guard let ax = ShapeMath.axis(a, rank: rank), rank > 0 else { throw FoldError("Concat axis \(a) invalid for rank \(rank)", kind: .shape) }
        var total = 0
        for p in parts {
            guard p.dims.count == rank else { throw FoldError("Concat inputs have different ranks", kind: .shape) }
            for i in 0..<rank where i != ax && p.dims[i] != first.dims[i] {
                throw FoldError("Concat inputs \(first.dims) and \(p.dims) differ off the concat axis", kind: .shape)
            }
            total += p.dims[ax]
        }
        var dims = first.dims
        dims[ax] = total
        guard checkedProduct(dims, limit: max(ONNXLimits.maxFoldedElements, parts.reduce(0) { $0 + $1.count })) != nil else {
            throw FoldError("Concat result \(dims) is too large", kind: .tooLarge)
        }
        let outer = first.dims.prefix(ax).reduce(1, *)
        let useInt = parts.allSatisfy { if case .int = $0.storage { true } else { false } }
        let inners = parts.map { p in p.dims.suffix(from: ax).reduce(1, *) }
        func gatherBlocks<T>(_ arrays: [[T]]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(arrays.reduce(0) { $0 + $1.count })
            for o in 0..<outer {
                for (k, arr) in arrays.enumerated() {
                    let n = inners[k]
                    out.append(contentsOf: arr[(o * n)..<((o + 1) * n)])
                }
            }
            return out
        }
        let dtype = first.dtype
        if useInt {
            let arrays = parts.map { p -> [Int64] in if case .int(let v) = p.storage { v } else { [] } }
            return ConstTensor(dims: dims, dtype: dtype, storage: .int(gatherBlocks(arrays)))
        }
        return ConstTensor(dims: dims, dtype: dtype, storage: .float(gatherBlocks(parts.map(\.floatValues))))
    }

    static func gather(_ data: ConstTensor, indices: ConstTensor, axis a: Int) throws(FoldError) -> ConstTensor {
        guard let ax = ShapeMath.axis(a, rank: data.dims.count), !data.dims.isEmpty,
              let dims = ShapeMath.gather(data.dims, indices: indices.dims, axis: a) else {
            throw FoldError("Gather axis \(a) invalid for \(data.dims)", kind: .shape)
        }
        guard let idx = indices.intValues else { throw FoldError("Gather indices must be integers") }
        let n = data.dims[ax]
        var resolved: [Int] = []
        resolved.reserveCapacity(idx.count)
        for i in idx {
            let k = i < 0 ? i + Int64(n) : i
            guard k >= 0 && k < Int64(n) else { throw FoldError("Gather index \(i) out of range for axis of size \(n)", kind: .shape) }
            resolved.append(Int(k))
        }
        guard checkedProduct(dims, limit: max(ONNXLimits.maxFoldedElements, data.count)) != nil else {
            throw FoldError("Gather result \(dims) is too large", kind: .tooLarge)
        }
        let outer = data.dims.prefix(ax).reduce(1, *)
        let inner = data.dims.suffix(from: ax + 1).reduce(1, *)
        func run<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(outer * resolved.count * inner)
            for o in 0..<outer {
                for k in resolved {
                    let base = (o * n + k) * inner
                    out.append(contentsOf: v[base..<(base + inner)])
                }
            }
            return out
        }
        switch data.storage {
        case .int(let v): return ConstTensor(dims: dims, dtype: data.dtype, storedType: data.storedType, storage: .int(run(v)))
        case .float(let v): return ConstTensor(dims: dims, dtype: data.dtype, storedType: data.storedType, storage: .float(run(v)))
        }
    }

    static func slice(_ x: ConstTensor, _ spec: [ShapeMath.SliceAxis]) -> ConstTensor {
        var dims = x.dims
        var start = Array(repeating: 0, count: dims.count)
        var step = Array(repeating: 1, count: dims.count)
        for s in spec {
            dims[s.axis] = s.count
            start[s.axis] = s.start
            step[s.axis] = s.step
        }
        let strides = rowMajorStrides(x.dims)
        var offsets: [Int] = []
        offsets.reserveCapacity(dims.reduce(1, *))
        forEachIndex(dims) { idx in
            var off = 0
            for d in 0..<idx.count { off += (start[d] + idx[d] * step[d]) * strides[d] }
            offsets.append(off)
        }
        switch x.storage {
        case .int(let v): return ConstTensor(dims: dims, dtype: x.dtype, storedType: x.storedType, storage: .int(offsets.map { v[$0] }))
        case .float(let v): return ConstTensor(dims: dims, dtype: x.dtype, storedType: x.storedType, storage: .float(offsets.map { v[$0] }))
        }
    }

    static func transpose(_ x: ConstTensor, perm: [Int], outDims: [Int]) -> ConstTensor {
        switch x.storage {
        case .int(let v): return ConstTensor(dims: outDims, dtype: x.dtype, storedType: x.storedType, storage: .int(permute(v, x.dims, perm, outDims)))
        case .float(let v): return ConstTensor(dims: outDims, dtype: x.dtype, storedType: x.storedType, storage: .float(permute(v, x.dims, perm, outDims)))
        }
    }

    /// Row-major permutation of `v` (dims `inDims`) into `outDims = perm.map { inDims[$0] }`.
    static func permute<T>(_ v: [T], _ inDims: [Int], _ perm: [Int], _ outDims: [Int]) -> [T] {
        let count = v.count
        guard count > 0 else { return [] }
        let inStrides = rowMajorStrides(inDims)
        let permuted = perm.map { inStrides[$0] }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            guard let dst = out.baseAddress else { initialized = 0; return }
            v.withUnsafeBufferPointer { buffer in
                guard let src = buffer.baseAddress else { return }
                if outDims.count == 2, perm == [1, 0] {
                    // Blocked 2-D transpose: out[i][j] = src[j][i].
                    let (rows, cols) = (outDims[0], outDims[1])
                    let block = 32
                    var i0 = 0
                    while i0 < rows {
                        var j0 = 0
                        while j0 < cols {
                            for i in i0..<min(i0 + block, rows) {
                                for j in j0..<min(j0 + block, cols) {
                                    (dst + (i * cols + j)).initialize(to: src[j * rows + i])
                                }
                            }
                            j0 += block
                        }
                        i0 += block
                    }
                } else {
                    var index = Array(repeating: 0, count: outDims.count)
                    var offset = 0
                    for k in 0..<count {
                        (dst + k).initialize(to: src[offset])
                        var d = outDims.count - 1
                        while d >= 0 {
                            index[d] += 1
                            offset += permuted[d]
                            if index[d] < outDims[d] { break }
                            offset -= permuted[d] * index[d]
                            index[d] = 0
                            d -= 1
                        }
                    }
                }
            }
            initialized = count
        }
    }

    static func binary(_ op: String, _ a: ConstTensor, _ b: ConstTensor, fmod: Bool) throws(FoldError) -> ConstTensor {
        guard let dims = ShapeMath.broadcast([a.dims, b.dims]) else {
            throw FoldError("\(op) shapes \(a.dims) and \(b.dims) do not broadcast", kind: .shape)
        }
        guard let count = checkedProduct(dims, limit: max(ONNXLimits.maxFoldedElements, a.count, b.count)) else {
            throw FoldError("\(op) result \(dims) is too large", kind: .tooLarge)
        }
        let ia = BroadcastIndex(input: a.dims, output: dims)
        let ib = BroadcastIndex(input: b.dims, output: dims)
        let comparison = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"].contains(op)
        if case .int(let x) = a.storage, case .int(let y) = b.storage {
            var out = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                let (p, q) = (x[ia[i]], y[ib[i]])
                switch op {
                case "Add": out[i] = p &+ q
                case "Sub": out[i] = p &- q
                case "Mul": out[i] = p &* q
                case "Div":
                    guard q != 0 else { throw FoldError("integer division by zero") }
                    out[i] = p.dividedReportingOverflow(by: q).partialValue
                case "Mod":
                    guard q != 0 else { throw FoldError("integer modulo by zero") }
                    let r = p.remainderReportingOverflow(dividingBy: q).partialValue
                    out[i] = (!fmod && r != 0 && (r < 0) != (q < 0)) ? r &+ q : r
                case "Pow":
                    guard q >= 0, q <= 64 else { out[i] = Int64(clamping: Int(exactly: pow(Double(p), Double(q)).rounded()) ?? 0); continue }
                    var r: Int64 = 1
                    for _ in 0..<q { r = r &* p }
                    out[i] = r
                case "Min": out[i] = min(p, q)
                case "Max": out[i] = max(p, q)
                case "Equal": out[i] = p == q ? 1 : 0
                case "Less": out[i] = p < q ? 1 : 0
                case "Greater": out[i] = p > q ? 1 : 0
                case "LessOrEqual": out[i] = p <= q ? 1 : 0
                case "GreaterOrEqual": out[i] = p >= q ? 1 : 0
                case "And": out[i] = (p != 0 && q != 0) ? 1 : 0
                case "Or": out[i] = (p != 0 || q != 0) ? 1 : 0
                default: throw FoldError("cannot fold \(op)")
                }
            }
            if comparison { return ConstTensor(dims: dims, dtype: .bool, storage: .float(out.map { Float($0) })) }
            return ConstTensor(dims: dims, dtype: a.dtype, storage: .int(out))
        }
        let x = a.floatValues, y = b.floatValues
        let integral = a.isIntegerType && b.isIntegerType
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let (p, q) = (x[ia[i]], y[ib[i]])
            switch op {
            case "Add": out[i] = p + q
            case "Sub": out[i] = p - q
            case "Mul": out[i] = p * q
            case "Div":
                if integral {
                    guard q != 0 else { throw FoldError("integer division by zero") }
                    out[i] = (p / q).rounded(.towardZero)
                } else {
                    out[i] = p / q
                }
            case "Mod":
                if integral { guard q != 0 else { throw FoldError("integer modulo by zero") } }
                let r = p.truncatingRemainder(dividingBy: q)
                out[i] = (!fmod && r != 0 && (r < 0) != (q < 0)) ? r + q : r
            case "Pow": out[i] = powf(p, q)
            case "Min": out[i] = min(p, q)
            case "Max": out[i] = max(p, q)
            case "Equal": out[i] = p == q ? 1 : 0
            case "Less": out[i] = p < q ? 1 : 0
            case "Greater": out[i] = p > q ? 1 : 0
            case "LessOrEqual": out[i] = p <= q ? 1 : 0
            case "GreaterOrEqual": out[i] = p >= q ? 1 : 0
            case "And": out[i] = (p != 0 && q != 0) ? 1 : 0
            case "Or": out[i] = (p != 0 || q != 0) ? 1 : 0
            default: throw FoldError("cannot fold \(op)")
            }
        }
        return ConstTensor(dims: dims, dtype: comparison ? .bool : a.dtype, storage: .float(out))
    }

    static func unary(_ op: String, _ x: ConstTensor) -> ConstTensor {
        if case .int(let v) = x.storage, op == "Neg" || op == "Abs" {
            let out = op == "Neg" ? v.map { 0 &- $0 } : v.map { $0 == Int64.min ? $0 : abs($0) }
            return ConstTensor(dims: x.dims, dtype: x.dtype, storage: .int(out))
        }
        let f: (Float) -> Float
        switch op {
        case "Neg": f = { -$0 }
        case "Abs": f = { abs($0) }
        case "Sqrt": f = { $0.squareRoot() }
        case "Reciprocal": f = { 1 / $0 }
        case "Exp": f = { expf($0) }
        case "Log": f = { logf($0) }
        case "Floor": f = { $0.rounded(.down) }
        case "Ceil": f = { $0.rounded(.up) }
        case "Relu": f = { max($0, 0) }
        case "Sigmoid": f = { 1 / (1 + expf(-$0)) }
        case "Tanh": f = { tanhf($0) }
        case "Erf": f = { erff($0) }
        case "Not": f = { $0 == 0 ? 1 : 0 }
        default: f = { $0 }
        }
        let dtype: DType = op == "Not" ? .bool : (x.isIntegerType && ["Neg", "Abs", "Floor", "Ceil", "Relu"].contains(op) ? x.dtype : (x.isIntegerType ? .float32 : x.dtype))
        return ConstTensor(dims: x.dims, dtype: dtype, storage: .float(x.floatValues.map(f)))
    }

    static func whereOp(_ c: ConstTensor, _ a: ConstTensor, _ b: ConstTensor) throws(FoldError) -> ConstTensor {
        guard let dims = ShapeMath.broadcast([c.dims, a.dims, b.dims]) else { throw FoldError("Where shapes do not broadcast", kind: .shape) }
        guard let count = checkedProduct(dims, limit: max(ONNXLimits.maxFoldedElements, a.count, b.count, c.count)) else {
            throw FoldError("Where result \(dims) is too large", kind: .tooLarge)
        }
        let ic = BroadcastIndex(input: c.dims, output: dims)
        let ia = BroadcastIndex(input: a.dims, output: dims)
        let ib = BroadcastIndex(input: b.dims, output: dims)
        let cond = c.floatValues
        if case .int(let x) = a.storage, case .int(let y) = b.storage {
            var out = [Int64](repeating: 0, count: count)
            for i in 0..<count { out[i] = cond[ic[i]] != 0 ? x[ia[i]] : y[ib[i]] }
            return ConstTensor(dims: dims, dtype: a.dtype, storage: .int(out))
        }
        let x = a.floatValues, y = b.floatValues
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count { out[i] = cond[ic[i]] != 0 ? x[ia[i]] : y[ib[i]] }
        return ConstTensor(dims: dims, dtype: a.dtype, storage: .float(out))
    }

    static func fill(_ value: ConstTensor, dims: [Int], count: Int) -> ConstTensor {
        switch value.storage {
        case .int(let v): return ConstTensor(dims: dims, dtype: value.dtype, storage: .int(Array(repeating: v.first ?? 0, count: count)))
        case .float(let v): return ConstTensor(dims: dims, dtype: value.dtype, storage: .float(Array(repeating: v.first ?? 0, count: count)))
        }
    }

    static func broadcastTo(_ x: ConstTensor, dims: [Int], count: Int) -> ConstTensor {
        let index = BroadcastIndex(input: x.dims, output: dims)
        switch x.storage {
        case .int(let v): return ConstTensor(dims: dims, dtype: x.dtype, storedType: x.storedType, storage: .int((0..<count).map { v[index[$0]] }))
        case .float(let v): return ConstTensor(dims: dims, dtype: x.dtype, storedType: x.storedType, storage: .float((0..<count).map { v[index[$0]] }))
        }
    }

    static func range(_ start: ConstTensor, _ limit: ConstTensor, _ delta: ConstTensor) throws(FoldError) -> ConstTensor {
        guard let s = start.scalarDouble, let l = limit.scalarDouble, let d = delta.scalarDouble, d != 0, s.isFinite, l.isFinite, d.isFinite else {
            throw FoldError("Range needs finite scalar start, limit and non-zero delta")
        }
        let n = max(0, ((l - s) / d).rounded(.up))
        guard n <= Double(ONNXLimits.maxFoldedElements) else { throw FoldError("Range of \(n) elements is too large", kind: .tooLarge) }
        let count = Int(n)
        if case .int(let sv) = start.storage, case .int(let dv) = delta.storage, let si = sv.first, let di = dv.first {
            return ConstTensor(dims: [count], dtype: start.dtype, storage: .int((0..<count).map { si &+ Int64($0) &* di }))
        }
        return ConstTensor(dims: [count], dtype: start.dtype, storage: .float((0..<count).map { Float(s + Double($0) * d) }))
    }

    static func reduce(_ x: ConstTensor, axes: [Int], keepDims: Bool, product: Bool) throws(FoldError) -> ConstTensor {
        var reduceSet = Set<Int>()
        for a in axes {
            guard let n = ShapeMath.axis(a, rank: x.dims.count) else { throw FoldError("reduce axis \(a) invalid for \(x.dims)", kind: .shape) }
            reduceSet.insert(n)
        }
        if axes.isEmpty { reduceSet = Set(0..<x.dims.count) }
        let keptDims = x.dims.enumerated().map { reduceSet.contains($0.offset) ? 1 : $0.element }
        let outDims = keepDims ? keptDims : x.dims.enumerated().filter { !reduceSet.contains($0.offset) }.map(\.element)
        let outStrides = rowMajorStrides(keptDims)
        let count = keptDims.reduce(1, *)
        let inputIsInt: Bool = if case .int = x.storage { true } else { false }
        var accF = [Double](repeating: product ? 1 : 0, count: count)
        let values = x.floatValues
        var flat = 0
        forEachIndex(x.dims) { idx in
            var o = 0
            for d in 0..<idx.count where !reduceSet.contains(d) { o += idx[d] * outStrides[d] }
            if product { accF[o] *= Double(values[flat]) } else { accF[o] += Double(values[flat]) }
            flat += 1
        }
        if inputIsInt {
            return ConstTensor(dims: outDims, dtype: x.dtype, storage: .int(accF.map { Int64(clamping: Int(exactly: $0.rounded()) ?? 0) }))
        }
        return ConstTensor(dims: outDims, dtype: x.dtype, storage: .float(accF.map { Float($0) }))
    }

    /// Per-tensor or per-axis quantization parameters broadcast over `x`.
    private static func quantParams(_ x: ConstTensor, _ scale: ConstTensor, _ zeroPoint: ConstTensor?, axis a: Int) throws(FoldError) -> (scale: [Float], zp: [Float], axis: Int, inner: Int) {
        let s = scale.floatValues
        let z = zeroPoint?.floatValues ?? Array(repeating: 0, count: s.count)
        guard !s.isEmpty, z.count == s.count else { throw FoldError("quantization scale and zero point differ in size") }
        if s.count == 1 { return (s, z, 0, x.count) }
        guard let ax = ShapeMath.axis(a, rank: x.dims.count), x.dims[ax] == s.count else {
            throw FoldError("per-axis scale of \(s.count) values does not match axis \(a) of \(x.dims)", kind: .shape)
        }
        return (s, z, ax, x.dims.suffix(from: ax + 1).reduce(1, *))
    }

    static func dequantize(_ x: ConstTensor, scale: ConstTensor, zeroPoint: ConstTensor?, axis a: Int) throws(FoldError) -> ConstTensor {
        let (s, z, _, inner) = try quantParams(x, scale, zeroPoint, axis: a)
        let v = x.floatValues
        var out = [Float](repeating: 0, count: v.count)
        if s.count == 1 {
            let (sc, zp) = (s[0], z[0])
            for i in 0..<v.count { out[i] = (v[i] - zp) * sc }
        } else {
            for i in 0..<v.count {
                let c = (i / inner) % s.count
                out[i] = (v[i] - z[c]) * s[c]
            }
        }
        return ConstTensor(dims: x.dims, dtype: scale.dtype, storedType: x.storedType, storage: .float(out))
    }

    static func quantize(_ x: ConstTensor, scale: ConstTensor, zeroPoint: ConstTensor?, axis a: Int, outputCode: Int32) throws(FoldError) -> ConstTensor {
        let (s, z, _, inner) = try quantParams(x, scale, zeroPoint, axis: a)
        let dtype: DType = zeroPoint.map(\.dtype) ?? (outputCode != 0 ? (ONNXDataType.dtype(outputCode) ?? .uint8) : .uint8)
        let (lo, hi): (Float, Float) = switch dtype {
        case .int8: (-128, 127)
        case .uint8: (0, 255)
        case .int16: (-32768, 32767)
        default: (-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude)
        }
        let v = x.floatValues
        var out = [Float](repeating: 0, count: v.count)
        for i in 0..<v.count {
            let c = s.count == 1 ? 0 : (i / inner) % s.count
            guard s[c] != 0 else { throw FoldError("quantization scale is 0") }
            let q = (v[i] / s[c]).rounded(.toNearestOrEven) + z[c]
            out[i] = min(max(q.isNaN ? 0 : q, lo), hi)
        }
        return ConstTensor(dims: x.dims, dtype: dtype, storage: .float(out))
    }
}
