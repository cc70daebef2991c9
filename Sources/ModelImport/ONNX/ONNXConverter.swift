import Foundation
import NNGraph

/// Failure while converting one node.
enum ConvertError: Error {
    case fatal(ImportError)
    /// This node (or this use of its op) cannot be represented; `shapes` are its output shapes when known.
    case unsupported(String?, [TensorShape]?)
}

/// What a tensor name stands for during import.
enum Value {
    /// An activation tensor in the graph being built.
    case act(Int)
    /// A value known at import time.
    case const(ConstTensor)
    /// The output of QuantizeLinear on an activation (elided with its DequantizeLinear).
    case quant(Int, DType)
    /// Produced downstream of an operator that could not be imported.
    case unknown
}

struct Operand {
    var name: String
    var value: Value
}

struct NodeRef {
    let index: Int
    let proto: Onnx_NodeProto
    let name: String
    let domain: String
    let opset: Int
    var opType: String { proto.opType }
    /// Non-empty output names.
    var outputs: [String] { proto.output.filter { !$0.isEmpty } }
}

/// Converts a decoded ModelProto into an NNGraph `Graph`.
struct ONNXConverter {
    let path: String
    let options: ONNXImportOptions
    let model: Onnx_ModelProto
    let graphProto: Onnx_GraphProto
    let nodes: [Onnx_NodeProto]
    var decoder: TensorDecoder
    var builder: GraphBuilder
    var env: [String: Value] = [:]
    var initializerIndex: [String: Int] = [:]
    var sparseInitializers: Set<String> = []
    var graphInputNames: Set<String> = []
    var weights: [String: WeightData] = [:]
    var unsupported: [UnsupportedOp] = []
    var symbols: [String: Int] = [:]
    var valueInfo: [String: Onnx_ValueInfoProto] = [:]
    var consumers: [String: [Int]] = [:]
    var graphOutputs: Set<String> = []
    var absorbed: Set<Int> = []
    /// Mul node index → the x of Mul(x, Sigmoid(x)).
    var siluInput: [Int: String] = [:]
    /// Last Mul node index → the x of PyTorch's exact-GELU chain (`convertGELUDiv`).
    var geluInput: [Int: String] = [:]
    /// Activations stored quantized (all consumers are QuantizeLinear → DequantizeLinear).
    var quantizedStorage: [String: DType] = [:]
    var quantMaterialized: [String: Int] = [:]
    /// Element types of Constant node outputs (QuantizeLinear zero points).
    var constantNodeTypes: [String: Int32] = [:]
    var opsets: [String: Int] = [:]
    let defaultOpset: Int
    /// ONNX node index producing each tensor name.
    var producer: [String: Int] = [:]

    init(model: Onnx_ModelProto, path: String, options: ONNXImportOptions) throws(ImportError) {
        self.path = path
        self.options = options
        self.model = model
        self.graphProto = model.graph
        self.nodes = model.graph.node
        self.decoder = TensorDecoder(path: path)
        // PyTorch names every graph "main_graph": the file name says more.
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = stem.isEmpty ? (model.graph.name.isEmpty ? "onnx" : model.graph.name) : stem
        self.builder = GraphBuilder(name: name)
        for o in model.opsetImport {
            let domain = o.domain == "ai.onnx" ? "" : o.domain
            if opsets[domain] == nil { opsets[domain] = Int(clamping: o.version) }
        }
        guard let opset = opsets[""] else {
            throw ImportError(.malformed, path: path, "the model declares no opset for the default ONNX domain (opset_import is empty)")
        }
        guard ONNXImporter.supportedOpsets.contains(opset) else {
            throw ImportError(.malformed, path: path,
                              "opset \(opset) is outside the supported range \(ONNXImporter.supportedOpsets.lowerBound)–\(ONNXImporter.supportedOpsets.upperBound)")
        }
        self.defaultOpset = opset
    }

    func fail(_ kind: ImportError.Kind, _ node: String?, _ message: String) -> ImportError {
        ImportError(kind, path: path, node: node, message)
    }

    func nodeName(_ i: Int) -> String {
        let n = nodes[i]
        return n.name.isEmpty ? "\(n.opType)_\(i)" : n.name
    }

    // MARK: - Driver

    mutating func run() throws(ImportError) -> ImportedModel {
        guard !nodes.isEmpty else {
            throw fail(.malformed, nil, "the graph has no nodes (an empty or truncated model)")
        }
        try indexInitializers()
        try declareInputs()
        let order = try sortNodes()
        prepare()
        for index in order {
            try convertNode(index)
        }
        if !unsupported.isEmpty && !options.allowUnsupported {
            let n = unsupported.count
            throw ImportError(.unsupportedOps, path: path,
                              "\(n) unsupported operator\(n == 1 ? "" : "s") (--allow-unsupported imports \(n == 1 ? "it" : "them") as explicit unsupported rows):",
                              unsupported: unsupported)
        }
        var marked = Set<Int>()
        for output in graphProto.output {
            guard let value = env[output.name] else {
                throw fail(.missingTensor, nil, "graph output '\(output.name)' is not produced by any node")
            }
            switch value {
            case .act(let id), .quant(let id, _):
                if marked.insert(id).inserted { builder.markOutput(id) }
            case .const:
                throw fail(.malformed, nil, "graph output '\(output.name)' is a constant computed from initializers only; there is nothing to profile")
            case .unknown:
                throw fail(.unsupportedOps, nil, "graph output '\(output.name)' depends on unsupported operators")
            }
        }
        let graph: Graph
        do {
            graph = try builder.finish()
        } catch {
            throw fail(.malformed, error.node, error.message)
        }
        try checkTotals(graph)
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return ImportedModel(graph: graph, weights: weights, opset: defaultOpset, irVersion: Int(clamping: model.irVersion),
                             producer: producer, unsupported: unsupported)
    }

    mutating func indexInitializers() throws(ImportError) {
        for (i, t) in graphProto.initializer.enumerated() {
            guard !t.name.isEmpty else { throw fail(.malformed, nil, "initializer #\(i) has no name") }
            guard initializerIndex[t.name] == nil else {
                throw fail(.duplicateName, nil, "initializer '\(t.name)' is defined twice")
            }
            initializerIndex[t.name] = i
            _ = try decoder.shape(of: t, name: t.name, node: nil)
        }
        for s in graphProto.sparseInitializer {
            let name = s.values.name
            guard initializerIndex[name] == nil, sparseInitializers.insert(name).inserted else {
                throw fail(.duplicateName, nil, "initializer '\(name)' is defined twice")
            }
        }
    }

    mutating func declareInputs() throws(ImportError) {
        var problems: [String] = []
        var seen = Set<String>()
        for vi in graphProto.input {
            let name = vi.name
            guard !name.isEmpty else { throw fail(.malformed, nil, "a graph input has no name") }
            guard seen.insert(name).inserted else { throw fail(.duplicateName, nil, "graph input '\(name)' is declared twice") }
            // IR < 4 lists initializers as inputs too; they are constants with a default.
            if initializerIndex[name] != nil || sparseInitializers.contains(name) { continue }
            guard case .tensorType(let tt)? = vi.type.value else {
                throw fail(.malformed, nil, "graph input '\(name)' is not a tensor (sequence, map and optional inputs are not supported)")
            }
            guard let dtype = ONNXDataType.dtype(tt.elemType) else {
                throw fail(.invalidTensor, nil, "graph input '\(name)' has element type \(ONNXDataType.name(tt.elemType))")
            }
            var dims: [Int?] = []
            var params: [String?] = []
            if tt.hasShape {
                guard tt.shape.dim.count <= ONNXLimits.maxRank else { throw fail(.tooLarge, nil, "graph input '\(name)' has an absurd rank") }
                for d in tt.shape.dim {
                    switch d.value {
                    case .dimValue(let v)?:
                        guard v >= 1, v <= Int64(ONNXLimits.maxDim) else {
                            throw fail(v > 0 ? .tooLarge : .invalidTensor, nil, "graph input '\(name)' has dimension \(v)")
                        }
                        dims.append(Int(v))
                        params.append(nil)
                    case .dimParam(let p)?:
                        dims.append(nil)
                        params.append(p)
                    case nil:
                        dims.append(nil)
                        params.append(nil)
                    }
                }
            }
            let pattern = dims.enumerated().map { i, d in d.map(String.init) ?? (params[i].map { p in p.isEmpty ? "?" : p } ?? "?") }.joined(separator: "x")
            var shape: [Int]
            if let given = options.inputShapes[name] {
                if tt.hasShape {
                    guard given.rank == dims.count else {
                        throw fail(.invalidInputShape, nil, "--input-shape \(name)=\(given) has rank \(given.rank), the model's input is \(pattern) (rank \(dims.count))")
                    }
                    for (i, d) in dims.enumerated() {
                        if let d, d != given[i] {
                            throw fail(.invalidInputShape, nil, "--input-shape \(name)=\(given) conflicts with the model's fixed dimension \(d) at axis \(i) (\(pattern))")
                        }
                        if d == nil, let p = params[i], !p.isEmpty {
                            if let bound = symbols[p], bound != given[i] {
                                throw fail(.invalidInputShape, nil, "--input-shape gives dimension '\(p)' two values, \(bound) and \(given[i])")
                            }
                            symbols[p] = given[i]
                        }
                    }
                }
                guard given.dims.allSatisfy({ $0 >= 1 && $0 <= ONNXLimits.maxDim }) else {
                    throw fail(.invalidInputShape, nil, "--input-shape \(name)=\(given) has a non-positive dimension")
                }
                shape = given.dims
            } else if !tt.hasShape {
                problems.append("'\(name)' (the model gives no shape)")
                continue
            } else if dims.contains(where: { $0 == nil }) {
                problems.append("'\(name)' with shape \(pattern)")
                continue
            } else {
                shape = dims.compactMap { $0 }
            }
            guard checkedProduct(shape) != nil else {
                throw fail(.tooLarge, nil, "graph input '\(name)' shape \(TensorShape(shape)) has more than 2^31 elements")
            }
            let id = builder.input(name, shape: TensorShape(shape), dtype: dtype)
            env[name] = .act(id)
            graphInputNames.insert(name)
        }
        let unknown = options.inputShapes.keys.filter { key in !graphInputNames.contains(key) && !problems.contains(where: { p in p.hasPrefix("'\(key)'") }) }.sorted()
        if !unknown.isEmpty {
            let real = graphProto.input.map(\.name).filter { initializerIndex[$0] == nil }
            throw fail(.invalidInputShape, nil, "--input-shape names \(unknown.map { "'\($0)'" }.joined(separator: ", ")), but the model's inputs are \(real.map { "'\($0)'" }.joined(separator: ", "))")
        }
        if !problems.isEmpty {
            let example = graphProto.input.first { initializerIndex[$0.name] == nil }?.name ?? "input"
            throw fail(.dynamicShape, nil,
                       "input \(problems.joined(separator: ", ")) has dynamic dimensions; give a static shape with --input-shape (e.g. --input-shape \(example)=1x3x224x224)")
        }
    }

    /// Checks names and returns a topological order (the file's order when it already is one).
    mutating func sortNodes() throws(ImportError) -> [Int] {
        producer = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.output where !o.isEmpty {
                if initializerIndex[o] != nil || graphInputNames.contains(o) {
                    throw fail(.duplicateName, nodeName(i), "output '\(o)' has the same name as \(initializerIndex[o] != nil ? "an initializer" : "a graph input")")
                }
                if let p = producer[o] {
                    throw fail(.duplicateName, nodeName(i), "output '\(o)' is also produced by node '\(nodeName(p))'")
                }
                producer[o] = i
            }
        }
        var missing: [String] = []
        var deps = Array(repeating: [Int](), count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for input in n.input where !input.isEmpty {
                if let p = producer[input] {
                    if !deps[i].contains(p) { deps[i].append(p) }
                } else if initializerIndex[input] == nil && !graphInputNames.contains(input) {
                    if sparseInitializers.contains(input) {
                        throw fail(.invalidTensor, nodeName(i), "input '\(input)' is a sparse initializer, which is not supported")
                    }
                    if missing.count < 10 { missing.append("node '\(nodeName(i))' uses '\(input)'") }
                }
            }
        }
        if !missing.isEmpty {
            throw fail(.missingTensor, nil,
                       "tensors that no node, graph input or initializer defines (missing initializers?): \(missing.joined(separator: "; "))")
        }
        if deps.enumerated().allSatisfy({ i, d in d.allSatisfy { $0 < i } }) { return Array(nodes.indices) }
        // Kahn's algorithm, smallest index first, so the file's order is kept where possible.
        var indegree = deps.map(\.count)
        var dependents = Array(repeating: [Int](), count: nodes.count)
        for (i, d) in deps.enumerated() { for p in d { dependents[p].append(i) } }
        var heap = MinHeap()
        for i in nodes.indices where indegree[i] == 0 { heap.push(i) }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = heap.pop() {
            order.append(i)
            for j in dependents[i] {
                indegree[j] -= 1
                if indegree[j] == 0 { heap.push(j) }
            }
        }
        if order.count < nodes.count {
            let stuck = nodes.indices.filter { indegree[$0] > 0 }
            let names = stuck.prefix(6).map { "'\(nodeName($0))'" }.joined(separator: ", ")
            throw fail(.cycle, nodeName(stuck[0]),
                       "the graph has a cycle: \(stuck.count) node\(stuck.count == 1 ? "" : "s") (\(names)\(stuck.count > 6 ? ", …" : "")) depend on each other's outputs")
        }
        return order
    }

    mutating func prepare() {
        for (i, n) in nodes.enumerated() {
            for input in Set(n.input) where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        for i in consumers.keys { consumers[i]?.sort() }
        graphOutputs = Set(graphProto.output.map(\.name))
        for vi in graphProto.valueInfo + graphProto.output + graphProto.input where valueInfo[vi.name] == nil {
            valueInfo[vi.name] = vi
        }
        // QDQ: an activation whose every consumer is QuantizeLinear feeding only DequantizeLinear is
        // stored quantized between layers.
        for n in nodes where n.opType == "Constant" {
            if let out = n.output.first, let t = n.attribute.first(where: { $0.name == "value" }), t.hasT {
                constantNodeTypes[out] = t.t.dataType
            }
        }
        for n in nodes where n.opType == "QuantizeLinear" && isDefaultDomain(n.domain) {
            guard let x = n.input.first, !x.isEmpty, !graphInputNames.contains(x), !graphOutputs.contains(x),
                  initializerIndex[x] == nil, let dtype = quantizedType(of: n) else { continue }
            let allQDQ = (consumers[x] ?? []).allSatisfy { c in
                let q = nodes[c]
                guard q.opType == "QuantizeLinear", q.input.first == x else { return false }
                return q.output.allSatisfy { o in
                    o.isEmpty || (!graphOutputs.contains(o) && (consumers[o] ?? []).allSatisfy { d in
                        nodes[d].opType == "DequantizeLinear" && !nodes[d].output.contains(where: graphOutputs.contains)
                    })
                }
            }
            if allQDQ { quantizedStorage[x] = dtype }
        }
    }

    func isDefaultDomain(_ d: String) -> Bool { d.isEmpty || d == "ai.onnx" }

    /// Output type of a QuantizeLinear node: its zero point's type, else `output_dtype`, else uint8.
    func quantizedType(of n: Onnx_NodeProto) -> DType? {
        if n.input.count > 2, !n.input[2].isEmpty {
            let zp = n.input[2]
            if let i = initializerIndex[zp] { return ONNXDataType.dtype(graphProto.initializer[i].dataType) }
            if case .const(let c)? = env[zp] { return c.dtype }
            if let code = constantNodeTypes[zp] { return ONNXDataType.dtype(code) }
        }
        if let a = n.attribute.first(where: { $0.name == "output_dtype" }), a.i != 0 {
            return ONNXDataType.dtype(Int32(truncatingIfNeeded: a.i))
        }
        return .uint8
    }

    // MARK: - Values

    mutating func value(named name: String, node: String?) throws(ImportError) -> Value {
        if let v = env[name] { return v }
        if let i = initializerIndex[name] {
            let c = try decoder.decode(graphProto.initializer[i], name: name, node: node)
            env[name] = .const(c)
            return .const(c)
        }
        throw fail(.missingTensor, node, "input '\(name)' is not defined before it is used")
    }

    /// Value of a name if it is available now without side effects beyond decoding an initializer.
    mutating func constIfAvailable(_ name: String, node: String?) -> ConstTensor? {
        if case .const(let c)? = env[name] { return c }
        if env[name] == nil, initializerIndex[name] != nil, case .const(let c)? = try? value(named: name, node: node) { return c }
        return nil
    }

    func dims(_ v: Value) -> [Int]? {
        switch v {
        case .act(let id), .quant(let id, _): builder.shape(id).dims
        case .const(let c): c.dims
        case .unknown: nil
        }
    }

    // MARK: - Nodes

    mutating func convertNode(_ index: Int) throws(ImportError) {
        if absorbed.contains(index) { return }
        let proto = nodes[index]
        let domain = isDefaultDomain(proto.domain) ? "" : proto.domain
        let ref = NodeRef(index: index, proto: proto, name: nodeName(index), domain: domain, opset: opsets[domain] ?? 0)
        var operands: [Operand?] = []
        var poisoned = false
        // The last Mul of an absorbed GELU chain reads only its x (the chain's other tensors are never made).
        let geluX = geluInput[index]
        for name in proto.input {
            if name.isEmpty || (geluX != nil && name != geluX) { operands.append(nil); continue }
            let v = try value(named: name, node: ref.name)
            if case .unknown = v { poisoned = true }
            operands.append(Operand(name: name, value: v))
        }
        let known = ONNXOpTables.isKnown(proto.opType, domain: domain)
        if poisoned {
            if !known { unsupported.append(UnsupportedOp(opType: proto.opType, domain: domain, node: ref.name, opset: ref.opset)) }
            for o in ref.outputs { env[o] = .unknown }
            return
        }
        guard known else {
            try handleUnsupported(ref, operands, reason: nil, shapes: elementwiseShapes(ref, operands))
            return
        }
        let attrs = ONNXAttributes(proto, node: ref.name, path: path)
        do {
            if geluX == nil, try fold(ref, operands, attrs) { return }
            try convert(ref, operands, attrs)
        } catch {
            switch error {
            case .fatal(let e): throw e
            case .unsupported(let reason, let shapes): try handleUnsupported(ref, operands, reason: reason, shapes: shapes)
            }
        }
    }

    /// Shapes of an unsupported broadcasting elementwise op, if every input shape is known.
    func elementwiseShapes(_ ref: NodeRef, _ operands: [Operand?]) -> [TensorShape]? {
        guard ONNXOpTables.broadcastingElementwise.contains(ref.opType), ref.outputs.count == 1 else { return nil }
        var shapes: [[Int]] = []
        for o in operands.compactMap({ $0 }) {
            guard let d = dims(o.value) else { return nil }
            shapes.append(d)
        }
        guard let b = ShapeMath.broadcast(shapes) else { return nil }
        return [TensorShape(b)]
    }

    mutating func handleUnsupported(_ ref: NodeRef, _ operands: [Operand?], reason: String?, shapes computed: [TensorShape]?) throws(ImportError) {
        let op = UnsupportedOp(opType: ref.opType, domain: ref.domain, node: ref.name, opset: ref.opset, reason: reason)
        unsupported.append(op)
        guard options.allowUnsupported else {
            for o in ref.outputs { env[o] = .unknown }
            return
        }
        let outputs = ref.outputs
        if outputs.isEmpty { return }
        guard let shapes = computed ?? valueInfoShapes(outputs), shapes.count == outputs.count else {
            throw fail(.unsupportedOps, ref.name,
                       "unsupported operator \(op) has no static output shape: the model's value_info has none for \(outputs.map { "'\($0)'" }.joined(separator: ", ")) (run onnx.shape_inference.infer_shapes on the model and try again)")
        }
        for s in shapes where checkedProduct(s.dims) == nil || s.dims.contains(where: { $0 < 1 }) {
            throw fail(.tooLarge, ref.name, "unsupported operator \(op) has an invalid output shape \(s)")
        }
        var inputs: [Int] = []
        var params: [(String, ConstTensor)] = []
        let skip = ref.domain.isEmpty ? (ONNXOpTables.nonWeightInputs[ref.opType] ?? []) : []
        for (k, o) in operands.enumerated() {
            guard let o else { continue }
            switch o.value {
            case .act(let id), .quant(let id, _): inputs.append(id)
            case .const(let c): if !skip.contains(k) { params.append((o.name, c)) }
            case .unknown: break
            }
        }
        let qualified = ref.domain.isEmpty ? ref.opType : "\(ref.domain).\(ref.opType)"
        do {
            _ = try emit(ref, .unsupported(opType: qualified, outputShapes: shapes), inputs: inputs, params: params, outputs: outputs)
        } catch {
            switch error {
            case .fatal(let e): throw e
            case .unsupported(let r, _): throw fail(.unsupportedOps, ref.name, r ?? "cannot import unsupported operator")
            }
        }
    }

    func valueInfoShapes(_ names: [String]) -> [TensorShape]? {
        var shapes: [TensorShape] = []
        for n in names {
            guard let vi = valueInfo[n], case .tensorType(let tt)? = vi.type.value, tt.hasShape else { return nil }
            var dims: [Int] = []
            for d in tt.shape.dim {
                switch d.value {
                case .dimValue(let v)? where v >= 1 && v <= Int64(ONNXLimits.maxDim): dims.append(Int(v))
                case .dimParam(let p)?:
                    guard let b = symbols[p] else { return nil }
                    dims.append(b)
                default: return nil
                }
            }
            shapes.append(TensorShape(dims))
        }
        return shapes
    }

    // MARK: - Emission

    mutating func param(_ name: String, _ c: ConstTensor) -> ParamInfo {
        let info = ParamInfo(name: name, shape: TensorShape(c.dims), dtype: c.storedType)
        if weights[name] == nil {
            weights[name] = WeightData(shape: info.shape, storedType: c.storedType, values: c.floatValues)
        }
        return info
    }

    /// Adds an IR node; output names become ONNX tensor names in `env`.
    @discardableResult
    mutating func emit(_ ref: NodeRef, _ op: Op, inputs: [Int], params: [(String, ConstTensor)] = [], outputs: [String],
                       dtype: DType? = nil, name: String? = nil) throws(ConvertError) -> [Int] {
        let infos = params.map { param($0.0, $0.1) }
        var outDType = dtype
        if outputs.count == 1, let q = quantizedStorage[outputs[0]] { outDType = q }
        let ids: [Int]
        do {
            ids = try builder.add(name ?? ref.name, op, inputs: inputs, params: infos, outputDType: outDType, outputNames: outputs)
        } catch {
            throw .fatal(fail(.shape, ref.name, "\(ref.opType): \(error.message)"))
        }
        guard ids.count == outputs.count else {
            throw .fatal(fail(.malformed, ref.name, "\(ref.opType) has \(outputs.count) outputs, the IR op produces \(ids.count)"))
        }
        for id in ids {
            let s = builder.shape(id)
            guard checkedProduct(s.dims) != nil, s.dims.allSatisfy({ $0 >= 1 }) else {
                throw .fatal(fail(s.dims.contains(where: { $0 < 1 }) ? .shape : .tooLarge, ref.name, "\(ref.opType) output shape \(s) is empty or absurd"))
            }
        }
        for (k, n) in outputs.enumerated() where !n.isEmpty { env[n] = .act(ids[k]) }
        return ids
    }

    @discardableResult
    mutating func emit1(_ ref: NodeRef, _ op: Op, input: Int, params: [(String, ConstTensor)] = [], output: String,
                        dtype: DType? = nil, name: String? = nil) throws(ConvertError) -> Int {
        let ids = try emit(ref, op, inputs: [input], params: params, outputs: [output], dtype: dtype, name: name)
        guard let id = ids.first else { throw .fatal(fail(.malformed, ref.name, "no output")) }
        return id
    }

    /// The activation tensor id of an operand.
    mutating func act(_ o: Operand?, _ ref: NodeRef, _ what: String) throws(ConvertError) -> Int {
        guard let o else { throw .fatal(fail(.malformed, ref.name, "\(ref.opType) is missing its \(what) input")) }
        switch o.value {
        case .act(let id): return id
        case .quant(let id, let dtype):
            if let m = quantMaterialized[o.name] { return m }
            let m = try emit1(ref, .identity, input: id, output: o.name, dtype: dtype, name: "\(o.name)::quantize")
            quantMaterialized[o.name] = m
            return m
        case .const:
            throw .unsupported("its \(what) input '\(o.name)' is a constant, which the IR cannot use as an activation", nil)
        case .unknown:
            throw .fatal(fail(.malformed, ref.name, "input '\(o.name)' is unknown"))
        }
    }

    func constant(_ o: Operand?, _ ref: NodeRef, _ what: String) throws(ConvertError) -> ConstTensor? {
        guard let o else { return nil }
        if case .const(let c) = o.value { return c }
        throw .unsupported("its \(what) ('\(o.name)') is computed at run time, not a constant", nil)
    }

    func requireConstant(_ o: Operand?, _ ref: NodeRef, _ what: String) throws(ConvertError) -> ConstTensor {
        guard let c = try constant(o, ref, what) else { throw .fatal(fail(.malformed, ref.name, "\(ref.opType) is missing its \(what)")) }
        return c
    }

    func ints(_ c: ConstTensor, _ ref: NodeRef, _ what: String) throws(ConvertError) -> [Int] {
        guard let v = c.intArray else { throw .fatal(fail(.invalidTensor, ref.name, "\(what) must be integers")) }
        return v
    }

    func firstOutput(_ ref: NodeRef) throws(ConvertError) -> String {
        guard let o = ref.proto.output.first, !o.isEmpty else { throw .fatal(fail(.malformed, ref.name, "\(ref.opType) has no output")) }
        return o
    }

    /// Runs `body` translating attribute errors into fatal conversion errors.
    func attr<T>(_ body: () throws(ImportError) -> T) throws(ConvertError) -> T {
        do { return try body() } catch { throw .fatal(error) }
    }

    /// True if an optional extra output (mask, indices, mean, …) is consumed or exported.
    func outputUsed(_ ref: NodeRef, _ k: Int) -> Bool {
        guard k < ref.proto.output.count else { return false }
        let o = ref.proto.output[k]
        return !o.isEmpty && (!(consumers[o] ?? []).isEmpty || graphOutputs.contains(o))
    }

    // MARK: - Constant folding

    /// Folds the node if its result is known at import time. Returns true if it did.
    mutating func fold(_ ref: NodeRef, _ operands: [Operand?], _ attrs: ONNXAttributes) throws(ConvertError) -> Bool {
        let op = ref.opType
        if op == "Constant" {
            let c = try constantNodeValue(ref, attrs)
            guard let out = ref.outputs.first else { return true }
            env[out] = .const(c)
            return true
        }
        if op == "Shape" || op == "Size" {
            guard let x = operands.first ?? nil, let d = dims(x.value), let out = ref.outputs.first else { return false }
            if op == "Size" {
                env[out] = .const(.ints([Int64(d.reduce(1, *))], dims: []))
                return true
            }
            let rank = d.count
            var start = try attr { () throws(ImportError) in try attrs.int("start", default: 0) }
            var end = try attr { () throws(ImportError) in try attrs.int("end", default: rank) }
            if start < 0 { start += rank }
            if end < 0 { end += rank }
            start = min(max(start, 0), rank)
            end = min(max(end, start), rank)
            env[out] = .const(.ints(d[start..<end].map { Int64($0) }))
            return true
        }
        guard ONNXOpTables.foldable.contains(op) else { return false }
        var consts: [ConstTensor?] = []
        for o in operands {
            guard let o else { consts.append(nil); continue }
            guard case .const(let c) = o.value else { return false }
            consts.append(c)
        }
        let results: [ConstTensor]?
        do {
            results = try ConstantFolder.fold(op, consts, attrs, opset: ref.opset)
        } catch {
            throw .fatal(fail(error.kind, ref.name, "\(op): \(error.message)"))
        }
        guard let results else { return false }
        for (k, o) in ref.proto.output.enumerated() where !o.isEmpty && k < results.count { env[o] = .const(results[k]) }
        return true
    }

    mutating func constantNodeValue(_ ref: NodeRef, _ attrs: ONNXAttributes) throws(ConvertError) -> ConstTensor {
        if let t = try attr({ () throws(ImportError) in try attrs.tensor("value") }) {
            do { return try decoder.decode(t, name: ref.outputs.first ?? ref.name, node: ref.name) } catch { throw .fatal(error) }
        }
        if attrs.has("value_float") {
            return .floats([try attr { () throws(ImportError) in try attrs.float("value_float", default: 0) }], dims: [])
        }
        if let v = try attr({ () throws(ImportError) in try attrs.floats("value_floats") }) { return .floats(v, dims: [v.count]) }
        if let v = try attr({ () throws(ImportError) in try attrs.int("value_int") }) { return .ints([Int64(v)], dims: []) }
        if let v = try attr({ () throws(ImportError) in try attrs.ints("value_ints") }) { return .ints(v.map { Int64($0) }) }
        throw .unsupported("only tensor and numeric Constant values are supported", nil)
    }

    // MARK: - Totals

    func checkTotals(_ graph: Graph) throws(ImportError) {
        var total = 0
        func mul(_ xs: [Int]) -> Int? {
            var p = 1
            for x in xs {
                let (r, o) = p.multipliedReportingOverflow(by: max(x, 0))
                if o { return nil }
                p = r
            }
            return p
        }
        for node in graph.nodes {
            let outElems = node.outputs.reduce(0) { $0 + graph.tensors[$1].shape.elementCount }
            let inElems = node.inputs.first.map { graph.tensors[$0].shape.elementCount } ?? 0
            let work: Int?
            switch node.op {
            case .conv(let a): work = mul([outElems, a.inChannels / max(a.groups, 1)] + a.kernel)
            case .convTranspose(let a): work = mul([inElems, a.outChannels / max(a.groups, 1)] + a.kernel)
            case .gemm(let a): work = mul([outElems, a.inFeatures])
            case .matmul: work = mul([outElems, node.inputs.first.flatMap { graph.tensors[$0].shape.dims.last } ?? 0])
            case .maxPool(let a), .avgPool(let a): work = mul([outElems] + a.kernel)
            default: work = 0
            }
            guard let work, work <= ONNXLimits.maxTotalMACs else {
                throw fail(.tooLarge, node.name, "absurd amount of work (more than 10^15 multiply-accumulates in one node)")
            }
            total += work
            guard total <= ONNXLimits.maxTotalMACs else {
                throw fail(.tooLarge, node.name, "absurd amount of work (more than 10^15 multiply-accumulates in total)")
            }
        }
    }
}

/// Binary min-heap of node indices.
struct MinHeap {
    private var items: [Int] = []
    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }
    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l] < items[m] { m = l }
            if r < items.count && items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}
