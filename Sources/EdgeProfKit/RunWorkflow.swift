import Foundation
import KernelRunner
import NNGraph

/// `edgeprof run`: one plain inference on user data (`.npy` in, `.npy` out), so numerics can
/// be checked against another framework.
public enum RunWorkflow {
    public struct Request: Sendable {
        public var model: String
        public var inputs: [NPYFile.Binding]
        public var outputs: [NPYFile.Binding]
        public var threads: Int?
        public var loadOptions: ModelLoadOptions
        public var seed: UInt64

        public init(model: String, inputs: [NPYFile.Binding], outputs: [NPYFile.Binding] = [], threads: Int? = nil,
                    loadOptions: ModelLoadOptions = ModelLoadOptions(), seed: UInt64 = 0) {
            self.model = model
            self.inputs = inputs
            self.outputs = outputs
            self.threads = threads
            self.loadOptions = loadOptions
            self.seed = seed
        }
    }

    public struct OutputSummary: Sendable {
        public var name: String
        public var tensor: HostTensor
        /// File written, if any.
        public var path: String?
    }

    public struct Result: Sendable {
        public var model: String
        public var outputs: [OutputSummary]
        public var latencyS: Double
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> Result {
        guard !request.inputs.isEmpty else { throw .usage("give the input data: --input FILE.npy (or NAME=FILE.npy, repeatable)") }
        let runnable = try RunnableModel.load(request.model, options: request.loadOptions, seed: request.seed)
        let compiled = try runnable.compile(threads: request.threads, seed: request.seed)
        let g = compiled.graph
        let names = g.outputs.map { g.tensors[$0].name }
        // Resolve output paths before running, so a bad flag fails fast.
        var paths = [String?](repeating: nil, count: names.count)
        var positional = 0
        for b in request.outputs {
            if let n = b.name {
                guard let i = names.firstIndex(of: n) else {
                    throw .usage("--output \(n)=...: the model has no output '\(n)' (outputs: \(names.joined(separator: ", ")))")
                }
                paths[i] = b.path
            } else {
                guard positional < names.count else { throw .usage("more --output files than model outputs (\(names.count))") }
                while positional < names.count && paths[positional] != nil { positional += 1 }
                guard positional < names.count else { throw .usage("more --output files than model outputs (\(names.count))") }
                paths[positional] = b.path
                positional += 1
            }
        }
        let inputs = try NPYFile.inputs(request.inputs, for: g)
        let t0 = monotonicNanoseconds()
        let outputs: [HostTensor]
        do { outputs = try compiled.run(inputs) } catch { throw .usage(error.description) }
        let latency = Double(monotonicNanoseconds() - t0) * 1e-9
        var summaries: [OutputSummary] = []
        for (i, t) in outputs.enumerated() {
            if let p = paths[i] { try NPYFile.write(t, to: p) }
            summaries.append(OutputSummary(name: names[i], tensor: t, path: paths[i]))
        }
        return Result(model: runnable.model.name, outputs: summaries, latencyS: latency)
    }

    /// Human summary: shape, range and (for a [1, N] output) the top-5 classes.
    public static func describe(_ r: Result) -> String {
        var lines = ["\(r.model): one inference in \(formatSeconds(r.latencyS)) (includes copying inputs/outputs; use `edgeprof measure` for timing)"]
        for o in r.outputs {
            let v = o.tensor.values
            let mn = v.min() ?? 0, mx = v.max() ?? 0
            let mean = v.isEmpty ? 0 : v.reduce(0, +) / Float(v.count)
            var line = "output '\(o.name)' \(o.tensor.shape): min \(mn) max \(mx) mean \(mean)"
            if o.tensor.shape.elementCount == o.tensor.shape.dims.last, v.count > 1 {
                let top = v.indices.sorted { v[$0] > v[$1] }.prefix(5)
                line += " · top-5 " + top.map { "\($0) (\(v[$0]))" }.joined(separator: ", ")
            }
            if let p = o.path { line += " → wrote \(p)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
