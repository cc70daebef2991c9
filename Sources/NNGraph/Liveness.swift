/// Activation memory over the graph's execution order.
public struct MemoryFootprint: Hashable, Sendable, Codable {
    /// Largest sum of simultaneously live activation bytes (graph inputs included).
    public var peakActivationBytes: Int
    /// Node after whose execution the peak happens.
    public var peakAtNode: Int
    /// Total parameter bytes (every initializer).
    public var weightBytes: Int
    public var totalBytes: Int { peakActivationBytes + weightBytes }
}

extension Graph {
    /// Peak live activations when nodes run in array order and each tensor is freed after
    /// its last consumer. Views alias their input and allocate nothing.
    public func memoryFootprint() -> MemoryFootprint {
        let outputSet = Set(outputs)
        // Resolve view outputs to the storage they alias.
        var storage = Array(tensors.indices)
        for node in nodes where node.op.opClass == .view {
            if let src = node.inputs.first { for o in node.outputs { storage[o] = storage[src] } }
        }
        var lastUse = [Int](repeating: -1, count: tensors.count)
        for node in nodes {
            for t in node.inputs { lastUse[storage[t]] = Swift.max(lastUse[storage[t]], node.id) }
        }
        for t in outputSet { lastUse[storage[t]] = Int.max }
        var live = 0
        var peak = 0
        var peakAt = 0
        for i in inputs { live += tensors[i].byteCount }
        peak = live
        for node in nodes {
            if node.op.opClass != .view {
                for o in node.outputs where storage[o] == o { live += tensors[o].byteCount }
            }
            if live > peak { peak = live; peakAt = node.id }
            var freed = Set<Int>()
            for t in node.inputs {
                let s = storage[t]
                if lastUse[s] == node.id, freed.insert(s).inserted { live -= tensors[s].byteCount }
            }
            for o in node.outputs where storage[o] == o && lastUse[o] == -1 && !outputSet.contains(o) {
                live -= tensors[o].byteCount  // produced but never used
            }
        }
        let weights = nodes.reduce(0) { acc, n in acc + n.params.reduce(0) { $0 + $1.byteCount } }
        return MemoryFootprint(peakActivationBytes: peak, peakAtNode: peakAt, weightBytes: weights)
    }
}
