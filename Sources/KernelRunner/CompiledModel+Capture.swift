import NNGraph

extension CompiledModel {
    /// One inference that also copies out `tensors` (graph tensor ids) as they are right
    /// after the step that produces them (graph inputs right after they are set), before
    /// the arena reuses their memory. Tensors internal to a fusion group are never
    /// materialised and are left out of `captured`.
    public func runCapturing(_ values: [HostTensor], tensors: Set<Int>) throws(RunnerError)
        -> (outputs: [HostTensor], captured: [Int: HostTensor]) {
        let plan = try ModelCompiler(graph: graph, threads: threads, inPlace: options.inPlace, concatsInPlace: options.concatsInPlace)
        var captured: [Int: HostTensor] = [:]
        func copy(_ t: Int) {
            guard tensors.contains(t), plan.arenaOffset[plan.root[t]] >= 0 else { return }
            let ref = plan.reference(for: t, arena: arena.pointer)
            captured[t] = HostTensor(shape: ref.shape, values: Array(UnsafeBufferPointer(start: ref.pointer, count: ref.count)))
        }
        try setInputs(values)
        for t in graph.inputs { copy(t) }
        let s = scratch.pointer
        for (i, step) in steps.enumerated() {
            step?.run(pool: pool, scratch: s)
            for n in graph.fusionGroups[i].nodes { for o in graph.nodes[n].outputs { copy(o) } }
        }
        return (readOutputs(), captured)
    }
}
