import Foundation
import NNGraph

/// Per-operator mapping from ONNX to the IR (attribute defaults per the ONNX operator spec).
extension ONNXConverter {
    mutating func convert(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        func input(_ i: Int) -> Operand? { i < ins.count ? ins[i] : nil }
        let op = ref.opType
        switch op {
        case "Conv": try convertConv(ref, ins, attrs)
        case "ConvTranspose": try convertConvTranspose(ref, ins, attrs)
        case "Gemm": try convertGemm(ref, ins, attrs)
        case "MatMul": try convertMatMul(ref, ins)
        case "BatchNormalization": try convertBatchNorm(ref, ins, attrs)
        case "LayerNormalization": try convertLayerNorm(ref, ins, attrs)

        case "Relu": try activation(ref, ins, .relu)
        case "Tanh": try activation(ref, ins, .tanh)
        case "HardSwish": try activation(ref, ins, .hardswish)
        case "Gelu": try activation(ref, ins, .gelu)
        case "Sigmoid":
            if try convertSiLUSigmoid(ref, ins) { return }
            try activation(ref, ins, .sigmoid)
        case "HardSigmoid": try convertHardSigmoid(ref, ins, attrs)
        case "Clip": try convertClip(ref, ins, attrs)

        case "Add": try convertBinary(ref, ins, .add)
        case "Sub": try convertBinary(ref, ins, .sub)
        case "Mul":
            if let x = siluInput[ref.index], case .act(let id)? = env[x] {
                try emit1(ref, .activation(.silu), input: id, output: try firstOutput(ref))
                return
            }
            if let x = geluInput[ref.index], case .act(let id)? = env[x] {
                try emit1(ref, .activation(.gelu), input: id, output: try firstOutput(ref))
                return
            }
            try convertBinary(ref, ins, .mul)
        case "Div":
            if try convertGELUDiv(ref, ins) { return }
            try convertBinary(ref, ins, .div)
        case "Pow": try convertBinary(ref, ins, .pow)

        case "Sqrt": try unary(ref, ins, .sqrt)
        case "Exp": try unary(ref, ins, .exp)
        case "Erf": try unary(ref, ins, .erf)
        case "Neg": try unary(ref, ins, .neg)
        case "Reciprocal": try unary(ref, ins, .reciprocal)
        case "Abs": try unary(ref, ins, .abs)
        case "Log": try unary(ref, ins, .log)

        case "GlobalAveragePool":
            try emit1(ref, .globalAvgPool, input: try act(input(0), ref, "X"), output: try firstOutput(ref))
        case "GlobalMaxPool":
            try emit1(ref, .globalMaxPool, input: try act(input(0), ref, "X"), output: try firstOutput(ref))
        case "AveragePool", "MaxPool": try convertPool(ref, ins, attrs)
        case "ReduceMean": try convertReduceMean(ref, ins, attrs)
        case "Softmax": try convertSoftmax(ref, ins, attrs)

        case "Concat": try convertConcat(ref, ins, attrs)
        case "Split": try convertSplit(ref, ins, attrs)
        case "Slice": try convertSlice(ref, ins, attrs)
        case "Reshape": try convertReshape(ref, ins, attrs)
        case "Flatten":
            let x = try act(input(0), ref, "input")
            let axis = try attr { () throws(ImportError) in try attrs.int("axis", default: 1) }
            guard ShapeMath.flatten(builder.shape(x).dims, axis: axis) != nil else {
                throw .fatal(fail(.invalidAttribute, ref.name, "Flatten axis \(axis) is invalid for shape \(builder.shape(x))"))
            }
            let rank = builder.shape(x).rank
            try emit1(ref, .flatten(axis: axis < 0 ? axis + rank : axis), input: x, output: try firstOutput(ref))
        case "Transpose":
            let x = try act(input(0), ref, "input")
            let d = builder.shape(x).dims
            let given = try attr { () throws(ImportError) in try attrs.ints("perm") }
            let perm = (given?.isEmpty ?? true) ? Array((0..<d.count).reversed()) : (given ?? [])
            guard ShapeMath.transpose(d, perm: perm) != nil else {
                throw .fatal(fail(.invalidAttribute, ref.name, "Transpose perm \(perm) is not a permutation of \(d.count) axes"))
            }
            try emit1(ref, .transpose(perm: perm), input: x, output: try firstOutput(ref))
        case "Squeeze", "Unsqueeze": try convertSqueeze(ref, ins, attrs)
        case "Pad": try convertPad(ref, ins, attrs)
        case "Identity", "Dropout":
            if op == "Dropout" && outputUsed(ref, 1) { throw .unsupported("its mask output is used", nil) }
            try emit1(ref, .identity, input: try act(input(0), ref, "input"), output: try firstOutput(ref))
        case "Cast":
            let x = try act(input(0), ref, "input")
            let to = try attr { () throws(ImportError) in try attrs.int("to") } ?? 0
            guard let dtype = ONNXDataType.dtype(Int32(truncatingIfNeeded: to)) else {
                throw .unsupported("cast to \(ONNXDataType.name(Int32(truncatingIfNeeded: to)))", [builder.shape(x)])
            }
            try emit1(ref, .identity, input: x, output: try firstOutput(ref), dtype: dtype)
        case "Gather": try convertGather(ref, ins, attrs)
        case "Expand":
            let x = try act(input(0), ref, "input")
            let shape = try ints(try requireConstant(input(1), ref, "shape"), ref, "shape")
            guard shape.count <= ONNXLimits.maxRank, shape.allSatisfy({ $0 >= 0 && $0 <= ONNXLimits.maxDim }),
                  let out = ShapeMath.broadcast([builder.shape(x).dims, shape]) else {
                throw .fatal(fail(.shape, ref.name, "Expand shape \(shape) does not broadcast with \(builder.shape(x))"))
            }
            guard out == builder.shape(x).dims else {
                throw .unsupported("Expand that enlarges an activation (\(builder.shape(x)) → \(TensorShape(out)))", [TensorShape(out)])
            }
            try emit1(ref, .identity, input: x, output: try firstOutput(ref))
        case "QuantizeLinear":
            guard let o = input(0) else { throw .fatal(fail(.malformed, ref.name, "QuantizeLinear has no input")) }
            let x = try act(o, ref, "x")
            let dtype = quantizedType(of: ref.proto) ?? .uint8
            env[try firstOutput(ref)] = .quant(try quantizationClamp(ref, ins, x: x, xName: o.name, dtype: dtype), dtype)
        case "DequantizeLinear":
            guard let o = input(0) else { throw .fatal(fail(.malformed, ref.name, "DequantizeLinear has no input")) }
            if case .quant(let id, _) = o.value {
                env[try firstOutput(ref)] = .act(id)
            } else {
                try emit1(ref, .identity, input: try act(o, ref, "x"), output: try firstOutput(ref), dtype: .float32)
            }
        default:
            // Foldable-only ops (Equal, Where, ConstantOfShape, …) applied to run-time values.
            throw .unsupported("\(op) on run-time (non-constant) values is not modelled", elementwiseShapes(ref, ins))
        }
    }

    /// QDQ quantizers drop a ReLU/ReLU6 before a QuantizeLinear whose range starts at 0 (zero point
    /// = qmin): the uint8 range does the clamping. Eliding Q/DQ must keep that clamp, so a range
    /// starting at 0 after a compute op becomes `clip(0, (qmax - zp) · scale)`.
    mutating func quantizationClamp(_ ref: NodeRef, _ ins: [Operand?], x: Int, xName: String, dtype: DType) throws(ConvertError) -> Int {
        let computeOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "BatchNormalization", "Sum"]
        guard let p = producer[xName], computeOps.contains(nodes[p].opType),
              ins.count > 1, case .const(let scale)? = ins[1]?.value, scale.count == 1, let s = scale.scalarDouble, s > 0, s.isFinite else { return x }
        var zp = 0.0
        if ins.count > 2, case .const(let z)? = ins[2]?.value {
            guard z.count == 1, let v = z.scalarDouble else { return x }
            zp = v
        }
        let (qmin, qmax): (Double, Double) = switch dtype {
        case .uint8: (0, 255)
        case .int8: (-128, 127)
        case .int16: (-32768, 32767)
        default: (0, 0)
        }
        guard qmax > qmin, zp == qmin else { return x }
        let hi = (qmax - zp) * s
        let out = "\(xName)::quantization_range"
        return try emit1(ref, abs(hi - 6) < 1e-6 ? .activation(.relu6) : .clip(min: 0, max: hi), input: x, output: out, dtype: dtype,
                         name: "\(ref.name)::range")
    }

    // MARK: - Convolution and linear layers

    /// Pads for auto_pad SAME_UPPER / SAME_LOWER: output = ceil(input / stride).
    func samePads(input: [Int], kernel: [Int], strides: [Int], dilations: [Int], upper: Bool) -> [Int] {
        var begin: [Int] = [], end: [Int] = []
        for d in 0..<input.count {
            let out = (input[d] + strides[d] - 1) / strides[d]
            let effK = (kernel[d] - 1) * dilations[d] + 1
            let total = max(0, (out - 1) * strides[d] + effK - input[d])
            let b = upper ? total / 2 : total - total / 2
            begin.append(b)
            end.append(total - b)
        }
        return begin + end
    }

    func convPads(_ ref: NodeRef, _ attrs: ONNXAttributes, spatial: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws(ConvertError) -> [Int] {
        let autoPad = try attr { () throws(ImportError) in try attrs.string("auto_pad", default: "NOTSET") }
        switch autoPad {
        case "NOTSET", "":
            return try attr { () throws(ImportError) in try attrs.pads("pads", count: 4) }
        case "VALID":
            return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            return samePads(input: spatial, kernel: kernel, strides: strides, dilations: dilations, upper: autoPad == "SAME_UPPER")
        default:
            throw .fatal(fail(.invalidAttribute, ref.name, "auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"))
        }
    }

    mutating func convertConv(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let xOperand = ins.first ?? nil
        let x = try act(xOperand, ref, "X")
        let xs = builder.shape(x).dims
        guard xs.count == 4 else { throw .unsupported("only 2-D convolution (rank-4 NCHW input) is modelled; input is \(TensorShape(xs))", nil) }
        let wOperand = ins.count > 1 ? ins[1] : nil
        let w = try requireConstant(wOperand, ref, "weight")
        guard w.dims.count == 4, w.dims.allSatisfy({ $0 >= 1 }) else {
            throw .fatal(fail(.shape, ref.name, "Conv weight '\(wOperand?.name ?? "")' must be [Cout, Cin/group, kH, kW], got \(w.dims)"))
        }
        let group = try attr { () throws(ImportError) in try attrs.int("group", default: 1) }
        guard (1...ONNXLimits.maxAttribute).contains(group) else { throw .fatal(fail(.invalidAttribute, ref.name, "group \(group) is out of range")) }
        let kernel = Array(w.dims[2...])
        if let k = try attr({ () throws(ImportError) in try attrs.ints("kernel_shape") }), k != kernel {
            throw .fatal(fail(.invalidAttribute, ref.name, "kernel_shape \(k) differs from the weight's spatial dims \(kernel)"))
        }
        let strides = try attr { () throws(ImportError) in try attrs.positiveInts("strides", count: 2, default: 1) }
        let dilations = try attr { () throws(ImportError) in try attrs.positiveInts("dilations", count: 2, default: 1) }
        let pads = try convPads(ref, attrs, spatial: Array(xs[2...]), kernel: kernel, strides: strides, dilations: dilations)
        var params: [(String, ConstTensor)] = [(wOperand?.name ?? "\(ref.name).weight", w)]
        if ins.count > 2, let bOperand = ins[2] {
            let b = try requireConstant(bOperand, ref, "bias")
            guard b.count == w.dims[0] else {
                throw .fatal(fail(.shape, ref.name, "Conv bias has \(b.count) values for \(w.dims[0]) output channels"))
            }
            params.append((bOperand.name, b))
        }
        let a = ConvAttributes(inChannels: w.dims[1] * group, outChannels: w.dims[0], kernel: kernel, strides: strides, pads: pads,
                               dilations: dilations, groups: group, hasBias: params.count > 1)
        try emit1(ref, .conv(a), input: x, params: params, output: try firstOutput(ref))
    }

    mutating func convertConvTranspose(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "X")
        let xs = builder.shape(x).dims
        guard xs.count == 4 else { throw .unsupported("only 2-D transposed convolution is modelled; input is \(TensorShape(xs))", nil) }
        let wOperand = ins.count > 1 ? ins[1] : nil
        let w = try requireConstant(wOperand, ref, "weight")
        guard w.dims.count == 4, w.dims.allSatisfy({ $0 >= 1 }) else {
            throw .fatal(fail(.shape, ref.name, "ConvTranspose weight must be [Cin, Cout/group, kH, kW], got \(w.dims)"))
        }
        let group = try attr { () throws(ImportError) in try attrs.int("group", default: 1) }
        guard (1...ONNXLimits.maxAttribute).contains(group) else { throw .fatal(fail(.invalidAttribute, ref.name, "group \(group) is out of range")) }
        let kernel = Array(w.dims[2...])
        let strides = try attr { () throws(ImportError) in try attrs.positiveInts("strides", count: 2, default: 1) }
        let dilations = try attr { () throws(ImportError) in try attrs.positiveInts("dilations", count: 2, default: 1) }
        let outputPadding = try attr { () throws(ImportError) in try attrs.pads("output_padding", count: 2) }
        let autoPad = try attr { () throws(ImportError) in try attrs.string("auto_pad", default: "NOTSET") }
        var pads: [Int]
        var target = try attr { () throws(ImportError) in try attrs.ints("output_shape") }
        if target == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            target = (0..<2).map { xs[2 + $0] * strides[$0] }
        }
        if var t = target {
            if t.count == 4 { t = Array(t[2...]) }
            guard t.count == 2, t.allSatisfy({ $0 >= 1 && $0 <= ONNXLimits.maxDim }) else {
                throw .fatal(fail(.invalidAttribute, ref.name, "output_shape \(t) must give the 2 spatial sizes"))
            }
            var begin: [Int] = [], end: [Int] = []
            for d in 0..<2 {
                let total = strides[d] * (xs[2 + d] - 1) + outputPadding[d] + ((kernel[d] - 1) * dilations[d] + 1) - t[d]
                guard total >= 0 else { throw .unsupported("output_shape \(t) needs negative padding", nil) }
                if autoPad == "SAME_UPPER" { begin.append(total / 2); end.append(total - total / 2) } else { begin.append(total - total / 2); end.append(total / 2) }
            }
            pads = begin + end
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        } else {
            pads = try attr { () throws(ImportError) in try attrs.pads("pads", count: 4) }
        }
        var params: [(String, ConstTensor)] = [(wOperand?.name ?? "\(ref.name).weight", w)]
        if ins.count > 2, let bOperand = ins[2] {
            let b = try requireConstant(bOperand, ref, "bias")
            guard b.count == w.dims[1] * group else {
                throw .fatal(fail(.shape, ref.name, "ConvTranspose bias has \(b.count) values for \(w.dims[1] * group) output channels"))
            }
            params.append((bOperand.name, b))
        }
        let a = ConvAttributes(inChannels: w.dims[0], outChannels: w.dims[1] * group, kernel: kernel, strides: strides, pads: pads,
                               dilations: dilations, groups: group, hasBias: params.count > 1, outputPadding: outputPadding)
        try emit1(ref, .convTranspose(a), input: x, params: params, output: try firstOutput(ref))
    }

    /// Transposes a rank-2 constant to the IR's [N, K] gemm weight layout.
    func transposed2D(_ c: ConstTensor) -> ConstTensor {
        ConstantFolder.transpose(c, perm: [1, 0], outDims: [c.dims[1], c.dims[0]])
    }

    func scaled(_ c: ConstTensor, by s: Float) -> ConstTensor {
        var r = c
        r.storage = .float(c.floatValues.map { $0 * s })
        r.dtype = .float32
        return r
    }

    mutating func convertGemm(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let out = try firstOutput(ref)
        let alpha = try attr { () throws(ImportError) in try attrs.float("alpha", default: 1) }
        let beta = try attr { () throws(ImportError) in try attrs.float("beta", default: 1) }
        let transA = try attr { () throws(ImportError) in try attrs.int("transA", default: 0) } != 0
        let transB = try attr { () throws(ImportError) in try attrs.int("transB", default: 0) } != 0
        var a = try act(ins.first ?? nil, ref, "A")
        guard builder.shape(a).rank == 2 else { throw .fatal(fail(.shape, ref.name, "Gemm input A must be rank 2, got \(builder.shape(a))")) }
        if transA {
            a = try emit1(ref, .transpose(perm: [1, 0]), input: a, output: "\(out)::A^T", name: "\(ref.name)::transA")
        }
        let bOperand = ins.count > 1 ? ins[1] : nil
        let cOperand = ins.count > 2 ? ins[2] : nil
        guard let bOperand else { throw .fatal(fail(.malformed, ref.name, "Gemm has no B input")) }

        guard case .const(let b) = bOperand.value else {
            // Two activations: matmul (+ add).
            guard alpha == 1, beta == 1 else { throw .unsupported("alpha/beta scaling of a product of two activations", nil) }
            var bid = try act(bOperand, ref, "B")
            if transB { bid = try emit1(ref, .transpose(perm: [1, 0]), input: bid, output: "\(out)::B^T", name: "\(ref.name)::transB") }
            let hasC = cOperand != nil
            let y = try emit(ref, .matmul, inputs: [a, bid], outputs: [hasC ? "\(out)::AB" : out])
            if let cOperand, let yid = y.first {
                try addOperand(ref, yid, cOperand, output: out, name: "\(ref.name)::C")
            }
            return
        }
        guard b.dims.count == 2, b.dims.allSatisfy({ $0 >= 1 }) else {
            throw .fatal(fail(.shape, ref.name, "Gemm B must be a matrix, got \(b.dims)"))
        }
        var w = transB ? b : transposed2D(b)
        var wName = transB ? bOperand.name : "\(bOperand.name)::T"
        if alpha != 1 { w = scaled(w, by: alpha); wName += "::scaled" }
        let n = w.dims[0], k = w.dims[1]
        var params: [(String, ConstTensor)] = [(wName, w)]
        var extraC: Operand?
        if let cOperand {
            if case .const(var c) = cOperand.value, c.count == n, (c.dims.last ?? 1) == n, c.dims.dropLast().allSatisfy({ $0 == 1 }) {
                var cName = cOperand.name
                if beta != 1 { c = scaled(c, by: beta); cName += "::scaled" }
                c.dims = [n]
                params.append((cName, c))
            } else if case .const(let c) = cOperand.value {
                // Scalar or matrix C: a separate add keeps its shape (and parameter count).
                extraC = beta == 1 ? cOperand : Operand(name: "\(cOperand.name)::scaled", value: .const(scaled(c, by: beta)))
            } else {
                guard beta == 1 else { throw .unsupported("beta scaling of a run-time C", nil) }
                extraC = cOperand
            }
        }
        let g = GemmAttributes(inFeatures: k, outFeatures: n, hasBias: params.count > 1)
        if let extraC {
            let y = try emit1(ref, .gemm(g), input: a, params: params, output: "\(out)::AB")
            try addOperand(ref, y, extraC, output: out, name: "\(ref.name)::C")
        } else {
            try emit1(ref, .gemm(g), input: a, params: params, output: out)
        }
    }

    /// y + operand (activation or constant), as a separate add node.
    mutating func addOperand(_ ref: NodeRef, _ y: Int, _ o: Operand, output: String, name: String) throws(ConvertError) {
        switch o.value {
        case .const(let c):
            try emit1(ref, .binary(.add), input: y, params: [(o.name, c)], output: output, name: name)
        default:
            let cid = try act(o, ref, "C")
            try emit(ref, .binary(.add), inputs: [y, cid], outputs: [output], name: name)
        }
    }

    mutating func convertMatMul(_ ref: NodeRef, _ ins: [Operand?]) throws(ConvertError) {
        let out = try firstOutput(ref)
        guard ins.count >= 2, let aOperand = ins[0], let bOperand = ins[1] else {
            throw .fatal(fail(.malformed, ref.name, "MatMul needs two inputs"))
        }
        if case .const(let b) = bOperand.value {
            let a = try act(aOperand, ref, "A")
            guard b.dims.count == 2, b.dims.allSatisfy({ $0 >= 1 }) else {
                throw .unsupported("MatMul with a rank-\(b.dims.count) constant operand", nil)
            }
            let w = transposed2D(b)
            var params: [(String, ConstTensor)] = [("\(bOperand.name)::T", w)]
            var output = out
            if let (addIndex, biasName, bias) = matMulBias(ref, out: out, n: b.dims[1]) {
                absorbed.insert(addIndex)
                params.append((biasName, bias))
                if let addOut = nodes[addIndex].output.first { output = addOut }
            }
            try emit1(ref, .gemm(GemmAttributes(inFeatures: b.dims[0], outFeatures: b.dims[1], hasBias: params.count > 1)),
                      input: a, params: params, output: output)
            return
        }
        let a = try act(aOperand, ref, "A")
        let b = try act(bOperand, ref, "B")
        guard builder.shape(a).rank >= 2, builder.shape(b).rank >= 2 else {
            throw .unsupported("MatMul of rank-1 activations", nil)
        }
        try emit(ref, .matmul, inputs: [a, b], outputs: [out])
    }

    /// MatMul(x, W) followed only by Add(·, bias[N]) becomes one gemm with bias (PyTorch's Linear on 3-D input).
    mutating func matMulBias(_ ref: NodeRef, out: String, n: Int) -> (Int, String, ConstTensor)? {
        guard !graphOutputs.contains(out), let users = consumers[out], users.count == 1 else { return nil }
        let j = users[0]
        let add = nodes[j]
        guard add.opType == "Add", isDefaultDomain(add.domain), add.input.count == 2, add.output.count == 1,
              add.input.filter({ $0 == out }).count == 1 else { return nil }
        guard let other = add.input.first(where: { $0 != out }), let c = constIfAvailable(other, node: ref.name) else { return nil }
        guard c.count == n, c.dims.last == n, c.dims.dropLast().allSatisfy({ $0 == 1 }) else { return nil }
        var bias = c
        bias.dims = [n]
        return (j, other, bias)
    }

    mutating func convertBatchNorm(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "X")
        let training = try attr { () throws(ImportError) in try attrs.int("training_mode", default: 0) }
        guard training == 0, !outputUsed(ref, 1), !outputUsed(ref, 2) else {
            throw .unsupported("training-mode batch normalization", nil)
        }
        let xs = builder.shape(x)
        guard xs.rank >= 2 else { throw .fatal(fail(.shape, ref.name, "BatchNormalization input must have a channel axis, got \(xs)")) }
        var params: [(String, ConstTensor)] = []
        for (k, what) in ["scale", "B", "input_mean", "input_var"].enumerated() {
            let o = k + 1 < ins.count ? ins[k + 1] : nil
            let c = try requireConstant(o, ref, what)
            guard c.count == xs[1] else {
                throw .fatal(fail(.shape, ref.name, "BatchNormalization \(what) has \(c.count) values for \(xs[1]) channels"))
            }
            params.append((o?.name ?? what, c))
        }
        let eps = try attr { () throws(ImportError) in try attrs.float("epsilon", default: 1e-5) }
        try emit1(ref, .batchNorm(epsilon: Double(eps)), input: x, params: params, output: try firstOutput(ref))
    }

    mutating func convertLayerNorm(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "X")
        guard !outputUsed(ref, 1), !outputUsed(ref, 2) else { throw .unsupported("its Mean/InvStdDev outputs are used", nil) }
        let axis = try attr { () throws(ImportError) in try attrs.int("axis", default: -1) }
        let eps = try attr { () throws(ImportError) in try attrs.float("epsilon", default: 1e-5) }
        let xs = builder.shape(x)
        guard let ax = ShapeMath.axis(axis, rank: xs.rank) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "LayerNormalization axis \(axis) is invalid for \(xs)"))
        }
        let normalized = xs.dims.suffix(from: ax).reduce(1, *)
        var params: [(String, ConstTensor)] = []
        let scaleOperand = ins.count > 1 ? ins[1] : nil
        let scale = try requireConstant(scaleOperand, ref, "Scale")
        guard scale.count == normalized else { throw .fatal(fail(.shape, ref.name, "LayerNormalization scale has \(scale.count) values, expected \(normalized)")) }
        params.append((scaleOperand?.name ?? "scale", scale))
        if ins.count > 2, let bOperand = ins[2] {
            let b = try requireConstant(bOperand, ref, "B")
            guard b.count == normalized else { throw .fatal(fail(.shape, ref.name, "LayerNormalization bias has \(b.count) values, expected \(normalized)")) }
            params.append((bOperand.name, b))
        }
        try emit1(ref, .layerNorm(axis: ax, epsilon: Double(eps)), input: x, params: params, output: try firstOutput(ref))
    }

    // MARK: - Activations and elementwise

    mutating func activation(_ ref: NodeRef, _ ins: [Operand?], _ kind: Activation) throws(ConvertError) {
        try emit1(ref, .activation(kind), input: try act(ins.first ?? nil, ref, "X"), output: try firstOutput(ref))
    }

    mutating func unary(_ ref: NodeRef, _ ins: [Operand?], _ kind: UnaryOp) throws(ConvertError) {
        try emit1(ref, .unary(kind), input: try act(ins.first ?? nil, ref, "X"), output: try firstOutput(ref))
    }

    /// Sigmoid(x) whose only consumer is Mul(x, Sigmoid(x)) becomes one SiLU at the Mul.
    mutating func convertSiLUSigmoid(_ ref: NodeRef, _ ins: [Operand?]) throws(ConvertError) -> Bool {
        guard let xOperand = ins.first ?? nil, case .act = xOperand.value, let s = ref.outputs.first, !graphOutputs.contains(s),
              let users = consumers[s], users.count == 1 else { return false }
        let m = nodes[users[0]]
        guard m.opType == "Mul", isDefaultDomain(m.domain), m.input.count == 2,
              Set(m.input) == Set([s, xOperand.name]), m.input[0] != m.input[1] else { return false }
        siluInput[users[0]] = xOperand.name
        // The Sigmoid is not emitted: bind its output name to x so the Mul (its only consumer) becomes SiLU(x).
        env[s] = xOperand.value
        return true
    }

    /// PyTorch's export of the exact GELU before opset 20, x / √2 → Erf → + 1 → · x → · 0.5, each
    /// intermediate read only by the next, becomes one GELU at the last Mul (as ONNX Runtime's
    /// GeluFusion does): five passes over the activation become one, which the preceding MatMul can
    /// then take as its epilogue. Returns false (nothing absorbed) for any other shape of the chain.
    mutating func convertGELUDiv(_ ref: NodeRef, _ ins: [Operand?]) throws(ConvertError) -> Bool {
        guard ins.count == 2, let xOperand = ins[0], case .act = xOperand.value, let k = ins[1], case .const(let kc) = k.value,
              kc.count == 1, let kv = kc.scalarDouble, abs(kv - 2.0.squareRoot()) < 1e-4, let d = ref.outputs.first else { return false }
        func onlyUser(of t: String, _ op: String) -> (index: Int, node: Onnx_NodeProto)? {
            guard !graphOutputs.contains(t), let users = consumers[t], users.count == 1 else { return nil }
            let n = nodes[users[0]]
            guard n.opType == op, isDefaultDomain(n.domain), n.output.count == 1, !n.output[0].isEmpty,
                  !absorbed.contains(users[0]) else { return nil }
            return (users[0], n)
        }
        func isScalar(_ name: String, _ value: Double) -> Bool {
            guard let c = peekConstant(name), c.count == 1, let v = c.scalarDouble else { return false }
            return abs(v - value) < 1e-6
        }
        func other(_ n: Onnx_NodeProto, than t: String) -> String? {
            guard n.input.count == 2, n.input.contains(t), n.input[0] != n.input[1] else { return nil }
            return n.input[0] == t ? n.input[1] : n.input[0]
        }
        guard let erf = onlyUser(of: d, "Erf"), erf.node.input.count == 1,
              let add = onlyUser(of: erf.node.output[0], "Add"), let one = other(add.node, than: erf.node.output[0]), isScalar(one, 1),
              let mul = onlyUser(of: add.node.output[0], "Mul"), other(mul.node, than: add.node.output[0]) == xOperand.name,
              let half = onlyUser(of: mul.node.output[0], "Mul"), let h = other(half.node, than: mul.node.output[0]), isScalar(h, 0.5)
        else { return false }
        absorbed.formUnion([erf.index, add.index, mul.index])
        geluInput[half.index] = xOperand.name
        return true
    }

    /// A constant's value by name without converting anything: an initializer, a folded value, or a
    /// Constant node not converted yet (`constantNodeValue`; nil for anything else).
    mutating func peekConstant(_ name: String) -> ConstTensor? {
        if let c = constIfAvailable(name, node: nil) { return c }
        guard let i = producer[name], nodes[i].opType == "Constant", isDefaultDomain(nodes[i].domain) else { return nil }
        let ref = NodeRef(index: i, proto: nodes[i], name: nodeName(i), domain: "", opset: opsets[""] ?? 0)
        return try? constantNodeValue(ref, ONNXAttributes(nodes[i], node: ref.name, path: path))
    }

    mutating func convertHardSigmoid(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "X")
        let alpha = try attr { () throws(ImportError) in try attrs.float("alpha", default: 0.2) }
        let beta = try attr { () throws(ImportError) in try attrs.float("beta", default: 0.5) }
        let out = try firstOutput(ref)
        if abs(alpha - 1.0 / 6.0) < 1e-6, abs(beta - 0.5) < 1e-6 {
            try emit1(ref, .activation(.hardsigmoid), input: x, output: out)
            return
        }
        // max(0, min(1, alpha·x + beta)) with other constants (e.g. Keras' 0.2): mul, add, clip.
        let ax = try emit1(ref, .binary(.mul), input: x, params: [("\(out)::alpha", .floats([alpha], dims: []))], output: "\(out)::ax", name: "\(ref.name)::alpha")
        let axb = try emit1(ref, .binary(.add), input: ax, params: [("\(out)::beta", .floats([beta], dims: []))], output: "\(out)::axb", name: "\(ref.name)::beta")
        try emit1(ref, .clip(min: 0, max: 1), input: axb, output: out)
    }

    mutating func convertClip(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "input")
        let big = Double(Float.greatestFiniteMagnitude)
        var lo = -big, hi = big
        if ref.opset >= 11 {
            if ins.count > 1, let c = try constant(ins[1], ref, "min") {
                guard let v = c.scalarDouble else { throw .fatal(fail(.invalidTensor, ref.name, "Clip min must be a scalar")) }
                lo = v
            }
            if ins.count > 2, let c = try constant(ins[2], ref, "max") {
                guard let v = c.scalarDouble else { throw .fatal(fail(.invalidTensor, ref.name, "Clip max must be a scalar")) }
                hi = v
            }
        } else {
            lo = Double(try attr { () throws(ImportError) in try attrs.float("min", default: -Float.greatestFiniteMagnitude) })
            hi = Double(try attr { () throws(ImportError) in try attrs.float("max", default: Float.greatestFiniteMagnitude) })
        }
        lo = lo.isFinite ? lo : (lo < 0 ? -big : big)
        hi = hi.isFinite ? hi : (hi < 0 ? -big : big)
        let op: Op
        if lo == 0 && hi == 6 { op = .activation(.relu6) } else if lo == 0 && hi >= big { op = .activation(.relu) } else { op = .clip(min: lo, max: hi) }
        try emit1(ref, op, input: x, output: try firstOutput(ref))
    }

    mutating func convertBinary(_ ref: NodeRef, _ ins: [Operand?], _ kind: BinaryOp) throws(ConvertError) {
        guard ins.count >= 2, let a = ins[0], let b = ins[1] else { throw .fatal(fail(.malformed, ref.name, "\(ref.opType) needs two inputs")) }
        let out = try firstOutput(ref)
        switch (a.value, b.value) {
        case (.const(let c), .const):
            // Not folded (e.g. too large): keep as a node on a materialized constant is not possible.
            throw .unsupported("both operands are constants too large to fold", [TensorShape(c.dims)])
        case (_, .const(let c)):
            try emit1(ref, .binary(kind), input: try act(a, ref, "A"), params: [(b.name, c)], output: out)
        case (.const(let c), _):
            let x = try act(b, ref, "B")
            switch kind {
            case .add, .mul:
                try emit1(ref, .binary(kind), input: x, params: [(a.name, c)], output: out)
            case .sub:
                // c - x = (-x) + c
                let n = try emit1(ref, .unary(.neg), input: x, output: "\(out)::neg", name: "\(ref.name)::neg")
                try emit1(ref, .binary(.add), input: n, params: [(a.name, c)], output: out)
            case .div:
                // c / x = (1/x) · c
                let r = try emit1(ref, .unary(.reciprocal), input: x, output: "\(out)::reciprocal", name: "\(ref.name)::reciprocal")
                try emit1(ref, .binary(.mul), input: r, params: [(a.name, c)], output: out)
            case .pow:
                let shape = ShapeMath.broadcast([c.dims, builder.shape(x).dims]).map { [TensorShape($0)] }
                throw .unsupported("a constant raised to an activation power", shape)
            }
        default:
            try emit(ref, .binary(kind), inputs: [try act(a, ref, "A"), try act(b, ref, "B")], outputs: [out])
        }
    }

    // MARK: - Pooling and reductions

    mutating func convertPool(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "X")
        let xs = builder.shape(x).dims
        guard xs.count == 4 else { throw .unsupported("only 2-D pooling (rank-4 NCHW input) is modelled; input is \(TensorShape(xs))", nil) }
        if ref.opType == "MaxPool" && outputUsed(ref, 1) { throw .unsupported("its Indices output is used", nil) }
        guard let kernel = try attr({ () throws(ImportError) in try attrs.ints("kernel_shape") }) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "\(ref.opType) needs kernel_shape"))
        }
        guard kernel.count == 2, kernel.allSatisfy({ $0 >= 1 && $0 <= ONNXLimits.maxAttribute }) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "kernel_shape \(kernel) must be 2 positive values"))
        }
        let strides = try attr { () throws(ImportError) in try attrs.positiveInts("strides", count: 2, default: 1) }
        let dilations = try attr { () throws(ImportError) in try attrs.positiveInts("dilations", count: 2, default: 1) }
        guard dilations == [1, 1] else { throw .unsupported("dilated pooling", nil) }
        let pads = try convPads(ref, attrs, spatial: Array(xs[2...]), kernel: kernel, strides: strides, dilations: dilations)
        let ceil = try attr { () throws(ImportError) in try attrs.int("ceil_mode", default: 0) } != 0
        let includePad = try attr { () throws(ImportError) in try attrs.int("count_include_pad", default: 0) } != 0
        let p = PoolAttributes(kernel: kernel, strides: strides, pads: pads, ceilMode: ceil, countIncludePad: includePad)
        let out = try firstOutput(ref)
        try emit1(ref, ref.opType == "MaxPool" ? .maxPool(p) : .avgPool(p), input: x, output: out)
    }

    mutating func convertReduceMean(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "data")
        let keep = try attr { () throws(ImportError) in try attrs.int("keepdims", default: 1) } != 0
        var axes: [Int]
        if ref.opset >= 18 {
            axes = try (constant(ins.count > 1 ? ins[1] : nil, ref, "axes")).map { (c) throws(ConvertError) in try ints(c, ref, "axes") } ?? []
            let noop = try attr { () throws(ImportError) in try attrs.int("noop_with_empty_axes", default: 0) } != 0
            if axes.isEmpty && noop {
                try emit1(ref, .identity, input: x, output: try firstOutput(ref))
                return
            }
        } else {
            axes = try attr { () throws(ImportError) in try attrs.ints("axes") } ?? []
        }
        let rank = builder.shape(x).rank
        var norm: [Int] = []
        for a in axes {
            guard let n = ShapeMath.axis(a, rank: rank) else { throw .fatal(fail(.invalidAttribute, ref.name, "ReduceMean axis \(a) is invalid for rank \(rank)")) }
            norm.append(n)
        }
        try emit1(ref, .reduceMean(axes: norm, keepDims: keep), input: x, output: try firstOutput(ref))
    }

    mutating func convertSoftmax(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "input")
        let xs = builder.shape(x).dims
        let out = try firstOutput(ref)
        let axis = try attr { () throws(ImportError) in try attrs.int("axis", default: ref.opset >= 13 ? -1 : 1) }
        guard let ax = ShapeMath.axis(axis, rank: xs.count) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Softmax axis \(axis) is invalid for \(TensorShape(xs))"))
        }
        if ref.opset >= 13 || ax == xs.count - 1 {
            try emit1(ref, .softmax(axis: ax), input: x, output: out)
            return
        }
        // Opset < 13: softmax over the flattened trailing axes [axis, rank).
        let flat = try emit1(ref, .flatten(axis: ax), input: x, output: "\(out)::2d", name: "\(ref.name)::flatten")
        let sm = try emit1(ref, .softmax(axis: 1), input: flat, output: "\(out)::softmax", name: "\(ref.name)::softmax")
        try emit1(ref, .reshape(shape: xs), input: sm, output: out)
    }

    // MARK: - Data movement

    mutating func convertConcat(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        guard let axis = try attr({ () throws(ImportError) in try attrs.int("axis") }) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Concat needs the 'axis' attribute"))
        }
        let present = ins.compactMap { $0 }
        guard let first = present.first, let rank = dims(first.value)?.count, let ax = ShapeMath.axis(axis, rank: rank), rank > 0 else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Concat axis \(axis) is invalid"))
        }
        let out = try firstOutput(ref)
        let constIndices = present.indices.filter { if case .const = present[$0].value { true } else { false } }
        if constIndices.isEmpty {
            var ids: [Int] = []
            for o in present { ids.append(try act(o, ref, "input")) }
            try emit(ref, .concat(axis: ax), inputs: ids, outputs: [out])
            return
        }
        guard let outDims = concatDims(present, axis: ax) else {
            throw .fatal(fail(.shape, ref.name, "Concat inputs \(present.map { dims($0.value) ?? [] }) differ off axis \(ax)"))
        }
        if try concatConstantIntoOffset(ref, present, axis: ax, out: out, outDims: outDims) { return }
        throw .unsupported("a constant input of Concat cannot be represented (the IR's concat takes activations only)", [TensorShape(outDims)])
    }

    /// Output dims of a concat, or nil if the inputs' ranks or off-axis dims differ.
    func concatDims(_ parts: [Operand], axis ax: Int) -> [Int]? {
        guard let first = parts.first.flatMap({ dims($0.value) }), ax < first.count else { return nil }
        var out = first
        out[ax] = 0
        for p in parts {
            guard let d = dims(p.value), d.count == first.count else { return nil }
            for i in 0..<d.count where i != ax && d[i] != first[i] { return nil }
            out[ax] += d[ax]
        }
        return out
    }

    /// `Add(Concat(c…, x, c…), p)` with constant c and p (ViT's class token and positional
    /// embedding) becomes `Add(Pad(x), p′)` with c folded into p′ — exact at inference, as in the zoo.
    mutating func concatConstantIntoOffset(_ ref: NodeRef, _ parts: [Operand], axis ax: Int, out: String, outDims: [Int]) throws(ConvertError) -> Bool {
        let actIndices = parts.indices.filter { if case .const = parts[$0].value { false } else { true } }
        guard actIndices.count == 1, let xi = actIndices.first, !graphOutputs.contains(out),
              let users = consumers[out], users.count == 1 else { return false }
        let addIndex = users[0]
        let add = nodes[addIndex]
        guard add.opType == "Add", isDefaultDomain(add.domain), add.input.count == 2, add.output.count == 1,
              add.input.filter({ $0 == out }).count == 1, let pName = add.input.first(where: { $0 != out }),
              let p = constIfAvailable(pName, node: ref.name), let addOut = add.output.first else { return false }
        let rank = outDims.count
        guard p.dims.count <= rank else { return false }
        let pd = Array(repeating: 1, count: rank - p.dims.count) + p.dims
        guard pd[ax] == outDims[ax], (0..<rank).allSatisfy({ $0 == ax || pd[$0] == 1 || pd[$0] == outDims[$0] }) else { return false }
        var values = p.floatValues
        let pStrides = rowMajorStrides(pd)
        var offset = 0
        var before = 0, after = 0
        var constNames: [String] = []
        for (k, part) in parts.enumerated() {
            guard let d = dims(part.value), d.count == rank else { return false }
            defer { offset += d[ax] }
            if k == xi { continue }
            if k < xi { before += d[ax] } else { after += d[ax] }
            guard case .const(var c) = part.value else { return false }
            constNames.append(part.name)
            // Undo a broadcast (e.g. the class token expanded to the batch) where p has size 1.
            for axis in 0..<rank where axis != ax && pd[axis] == 1 && c.dims[axis] > 1 {
                let first = ConstantFolder.slice(c, [ShapeMath.SliceAxis(axis: axis, start: 0, step: 1, count: 1, clampedStart: 0, clampedEnd: 1)])
                guard ConstantFolder.broadcastTo(first, dims: c.dims, count: c.count).floatValues == c.floatValues else { return false }
                c = first
            }
            guard (0..<rank).allSatisfy({ $0 == ax || c.dims[$0] == 1 || c.dims[$0] == pd[$0] }) else { return false }
            let cv = c.floatValues
            let cStrides = rowMajorStrides(c.dims)
            var region = pd
            region[ax] = c.dims[ax]
            let base = offset
            forEachIndex(region) { idx in
                var pi = 0, ci = 0
                for dim in 0..<rank {
                    let t = dim == ax ? idx[dim] + base : idx[dim]
                    pi += t * pStrides[dim]
                    ci += (c.dims[dim] == 1 ? 0 : idx[dim]) * cStrides[dim]
                }
                values[pi] += cv[ci]
            }
        }
        var pads = Array(repeating: 0, count: 2 * rank)
        pads[ax] = before
        pads[rank + ax] = after
        let x = try act(parts[xi], ref, "input")
        let padded = try emit1(ref, .pad(pads: pads), input: x, output: out)
        let folded = ConstTensor(dims: p.dims, dtype: .float32, storedType: p.storedType, storage: .float(values))
        let addRef = NodeRef(index: addIndex, proto: add, name: nodeName(addIndex), domain: "", opset: ref.opset)
        try emit1(addRef, .binary(.add), input: padded, params: [("\(pName)+\(constNames.joined(separator: "+"))", folded)], output: addOut)
        absorbed.insert(addIndex)
        return true
    }

    mutating func convertSplit(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "input")
        let xs = builder.shape(x).dims
        let axis = try attr { () throws(ImportError) in try attrs.int("axis", default: 0) }
        guard let ax = ShapeMath.axis(axis, rank: xs.count), !xs.isEmpty else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Split axis \(axis) is invalid for \(TensorShape(xs))"))
        }
        let n = ref.proto.output.count
        guard n >= 1 else { throw .fatal(fail(.malformed, ref.name, "Split has no outputs")) }
        var sizes: [Int]?
        if ref.opset >= 13 {
            if ins.count > 1, let c = try constant(ins[1], ref, "split") { sizes = try ints(c, ref, "split") }
        } else {
            sizes = try attr { () throws(ImportError) in try attrs.ints("split") }
        }
        let dim = xs[ax]
        if sizes == nil || sizes?.isEmpty == true {
            let parts = try attr { () throws(ImportError) in try attrs.int("num_outputs") } ?? n
            guard parts == n, parts >= 1 else { throw .fatal(fail(.invalidAttribute, ref.name, "Split num_outputs \(parts) but \(n) outputs")) }
            if dim % n == 0 {
                sizes = Array(repeating: dim / n, count: n)
            } else if ref.opset >= 18 {
                let chunk = (dim + n - 1) / n
                sizes = (0..<n).map { min(chunk, max(0, dim - $0 * chunk)) }
            } else {
                throw .fatal(fail(.shape, ref.name, "Split of \(dim) into \(n) equal parts"))
            }
        }
        guard let sizes, sizes.count == n, sizes.allSatisfy({ $0 >= 1 && $0 <= dim }), sizes.reduce(0, +) == dim else {
            throw .fatal(fail(.shape, ref.name, "Split sizes \(sizes ?? []) do not divide axis \(ax) of \(TensorShape(xs)) into \(n) non-empty parts"))
        }
        let names = ref.proto.output.enumerated().map { k, o in o.isEmpty ? "\(ref.name):\(k)" : o }
        try emit(ref, .split(axis: ax, sizes: sizes), inputs: [x], outputs: names)
    }

    mutating func convertSlice(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "data")
        let xs = builder.shape(x).dims
        let starts: [Int64], ends: [Int64]
        var axes: [Int64]?, steps: [Int64]?
        func int64s(_ i: Int, _ what: String) throws(ConvertError) -> [Int64]? {
            guard i < ins.count, let c = try constant(ins[i], ref, what) else { return nil }
            guard let v = c.intValues else { throw .fatal(fail(.invalidTensor, ref.name, "Slice \(what) must be integers")) }
            return v
        }
        if ref.opset >= 10 {
            guard let s = try int64s(1, "starts"), let e = try int64s(2, "ends") else {
                throw .fatal(fail(.malformed, ref.name, "Slice needs starts and ends"))
            }
            starts = s
            ends = e
            axes = try int64s(3, "axes")
            steps = try int64s(4, "steps")
        } else {
            starts = (try attr { () throws(ImportError) in try attrs.ints("starts") } ?? []).map { Int64($0) }
            ends = (try attr { () throws(ImportError) in try attrs.ints("ends") } ?? []).map { Int64($0) }
            axes = try attr { () throws(ImportError) in try attrs.ints("axes") }?.map { Int64($0) }
        }
        switch ShapeMath.slice(xs, starts: starts, ends: ends, axes: axes, steps: steps) {
        case .failure(let f):
            throw .fatal(fail(.shape, ref.name, "Slice: \(f.message)"))
        case .success(let spec):
            guard spec.allSatisfy({ $0.count >= 1 }) else {
                throw .unsupported("a slice that produces an empty tensor", nil)
            }
            try emit1(ref, .slice(starts: spec.map(\.clampedStart), ends: spec.map(\.clampedEnd), axes: spec.map(\.axis), steps: spec.map(\.step)),
                      input: x, output: try firstOutput(ref))
        }
    }

    mutating func convertReshape(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "data")
        let xs = builder.shape(x).dims
        let target: [Int]
        if ref.opset >= 5 {
            guard ins.count > 1, ins[1] != nil else { throw .fatal(fail(.malformed, ref.name, "Reshape needs a shape input")) }
            let c = try requireConstant(ins[1], ref, "shape")
            target = (c.intValues ?? []).map { Int(clamping: $0) }
            guard c.intValues != nil else { throw .fatal(fail(.invalidTensor, ref.name, "Reshape shape must be integers")) }
        } else {
            target = try attr { () throws(ImportError) in try attrs.ints("shape") } ?? []
        }
        let allowZero = try attr { () throws(ImportError) in try attrs.int("allowzero", default: 0) } != 0
        switch ShapeMath.reshape(xs, target: target, allowZero: allowZero) {
        case .failure(let f):
            throw .fatal(fail(.shape, ref.name, "Reshape: \(f.message)"))
        case .success(let d):
            guard d.allSatisfy({ $0 >= 1 }) else { throw .unsupported("reshape to an empty tensor \(d)", nil) }
            try emit1(ref, .reshape(shape: d), input: x, output: try firstOutput(ref))
        }
    }

    mutating func convertSqueeze(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "data")
        let xs = builder.shape(x).dims
        var axes: [Int]?
        if ref.opset >= 13 {
            if ins.count > 1, let c = try constant(ins[1], ref, "axes") { axes = try ints(c, ref, "axes") }
        } else {
            axes = try attr { () throws(ImportError) in try attrs.ints("axes") }
        }
        let out = try firstOutput(ref)
        if ref.opType == "Unsqueeze" {
            guard let axes, let d = ShapeMath.unsqueeze(xs, axes: axes) else {
                throw .fatal(fail(.invalidAttribute, ref.name, "Unsqueeze axes \(axes ?? []) are invalid for \(TensorShape(xs))"))
            }
            let norm = axes.map { $0 < 0 ? $0 + d.count : $0 }
            try emit1(ref, .unsqueeze(axes: norm), input: x, output: out)
        } else {
            guard ShapeMath.squeeze(xs, axes: axes) != nil else {
                throw .fatal(fail(.invalidAttribute, ref.name, "Squeeze axes \(axes ?? []) are invalid for \(TensorShape(xs))"))
            }
            let norm: [Int] = if let axes, !axes.isEmpty { axes.compactMap { ShapeMath.axis($0, rank: xs.count) } } else { xs.indices.filter { xs[$0] == 1 } }
            try emit1(ref, .squeeze(axes: norm), input: x, output: out)
        }
    }

    mutating func convertPad(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        let x = try act(ins.first ?? nil, ref, "data")
        let xs = builder.shape(x).dims
        let rank = xs.count
        let mode = try attr { () throws(ImportError) in try attrs.string("mode", default: "constant") }
        var pads: [Int]
        var value: Double = 0
        if ref.opset >= 11 {
            guard ins.count > 1, let c = try constant(ins[1], ref, "pads") else { throw .fatal(fail(.malformed, ref.name, "Pad needs pads")) }
            let raw = try ints(c, ref, "pads")
            if ins.count > 2, let v = try constant(ins[2], ref, "constant_value") { value = v.scalarDouble ?? 0 }
            if ins.count > 3, let a = try constant(ins[3], ref, "axes") {
                let axes = try ints(a, ref, "axes")
                guard raw.count == 2 * axes.count else { throw .fatal(fail(.invalidAttribute, ref.name, "Pad has \(raw.count) pads for \(axes.count) axes")) }
                pads = Array(repeating: 0, count: 2 * rank)
                for (k, a) in axes.enumerated() {
                    guard let n = ShapeMath.axis(a, rank: rank) else { throw .fatal(fail(.invalidAttribute, ref.name, "Pad axis \(a) is invalid")) }
                    pads[n] = raw[k]
                    pads[rank + n] = raw[axes.count + k]
                }
            } else {
                pads = raw
            }
        } else {
            pads = try attr { () throws(ImportError) in try attrs.ints("pads") } ?? []
            value = Double(try attr { () throws(ImportError) in try attrs.float("value", default: 0) })
        }
        guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= -ONNXLimits.maxAttribute && $0 <= ONNXLimits.maxAttribute }) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Pad needs \(2 * rank) bounded pads for \(TensorShape(xs)), got \(pads)"))
        }
        let outDims = (0..<rank).map { xs[$0] + pads[$0] + pads[rank + $0] }
        guard outDims.allSatisfy({ $0 >= 1 }), checkedProduct(outDims) != nil else {
            throw .fatal(fail(.shape, ref.name, "padding \(pads) makes \(TensorShape(xs)) empty or absurd"))
        }
        guard mode == "constant", value == 0 else {
            throw .unsupported(mode == "constant" ? "padding with the non-zero value \(value)" : "'\(mode)' padding", [TensorShape(outDims)])
        }
        try emit1(ref, .pad(pads: pads), input: x, output: try firstOutput(ref))
    }

    mutating func convertGather(_ ref: NodeRef, _ ins: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) {
        guard ins.count >= 2, let dataOperand = ins[0], let indexOperand = ins[1] else {
            throw .fatal(fail(.malformed, ref.name, "Gather needs data and indices"))
        }
        let axis = try attr { () throws(ImportError) in try attrs.int("axis", default: 0) }
        guard let dd = dims(dataOperand.value), let id = dims(indexOperand.value), let ax = ShapeMath.axis(axis, rank: dd.count), !dd.isEmpty,
              let outDims = ShapeMath.gather(dd, indices: id, axis: axis) else {
            throw .fatal(fail(.invalidAttribute, ref.name, "Gather axis \(axis) is invalid"))
        }
        let out = try firstOutput(ref)
        guard case .const(let indices) = indexOperand.value, case .act = dataOperand.value else {
            throw .unsupported(indexOperand.value.isConst ? "gathering from a constant with constant indices" : "gathering with run-time indices (e.g. an embedding lookup)", [TensorShape(outDims)])
        }
        let x = try act(dataOperand, ref, "data")
        guard let idx = indices.intValues, !idx.isEmpty else { throw .fatal(fail(.invalidTensor, ref.name, "Gather indices must be integers")) }
        let n = Int64(dd[ax])
        let resolved = idx.map { $0 < 0 ? $0 + n : $0 }
        guard resolved.allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw .fatal(fail(.shape, ref.name, "Gather index out of range for axis \(ax) of \(TensorShape(dd))"))
        }
        let start = Int(resolved[0])
        let contiguous = resolved.enumerated().allSatisfy { $0.element == Int64(start + $0.offset) }
        guard contiguous, indices.dims.count <= 1 else {
            throw .unsupported("gathering non-contiguous indices", [TensorShape(outDims)])
        }
        let sliceOp = Op.slice(starts: [start], ends: [start + resolved.count], axes: [ax], steps: [1])
        if indices.dims.isEmpty {
            let s = try emit1(ref, sliceOp, input: x, output: "\(out)::slice", name: "\(ref.name)::slice")
            try emit1(ref, .squeeze(axes: [ax]), input: s, output: out)
        } else {
            try emit1(ref, sliceOp, input: x, output: out)
        }
    }
}

extension Value {
    var isConst: Bool { if case .const = self { true } else { false } }
}
