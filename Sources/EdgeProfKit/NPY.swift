import Foundation
import KernelRunner
import NNGraph

/// `.npy` / `.npz` files for `edgeprof run` and `edgeprof measure --input`.
public enum NPYFile {
    public static func read(_ path: String) throws(EdgeProfError) -> HostTensor {
        let bytes = try readBytes(path)
        do { return try NumPyArray.decode(bytes) } catch { throw .io("\(path): \(error.message)") }
    }

    public static func readArchive(_ path: String) throws(EdgeProfError) -> [String: HostTensor] {
        let bytes = try readBytes(path)
        do { return try NumPyArray.decodeArchive(bytes) } catch { throw .io("\(path): \(error.message)") }
    }

    /// Writes float32 `.npy` atomically (temp file + rename).
    public static func write(_ tensor: HostTensor, to path: String) throws(EdgeProfError) {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(NumPyArray.encode(tensor)).write(to: url, options: .atomic)
        } catch {
            throw .io("\(path): cannot write (\(error.localizedDescription))")
        }
    }

    static func readBytes(_ path: String) throws(EdgeProfError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .io("\(path): no such file") }
        do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .io("\(path): cannot read (\(error.localizedDescription))")
        }
    }

    /// One `--input` / `--output` value: `file.npy` or `name=file.npy`.
    public struct Binding: Sendable, Hashable {
        public var name: String?
        public var path: String
        public static func parse(_ text: String) -> Binding {
            // A name never contains '/', so "dir/a=b.npy" is a path.
            if let eq = text.firstIndex(of: "="), !text[..<eq].contains("/"), !text[..<eq].isEmpty {
                return Binding(name: String(text[..<eq]), path: String(text[text.index(after: eq)...]))
            }
            return Binding(name: nil, path: text)
        }
    }

    /// Resolves `--input` bindings to one tensor per graph input (in graph order). Unnamed
    /// files bind to inputs in order; a `.npz` binds its arrays by input name.
    public static func inputs(_ bindings: [Binding], for graph: Graph) throws(EdgeProfError) -> [HostTensor] {
        let names = graph.inputs.map { graph.tensors[$0].name }
        var byName: [String: HostTensor] = [:]
        var positional: [HostTensor] = []
        for b in bindings {
            if b.path.hasSuffix(".npz") {
                let arrays = try readArchive(b.path)
                for n in names { if let t = arrays[n] { byName[n] = t } }
                if arrays.keys.allSatisfy({ !names.contains($0) }), let only = arrays.count == 1 ? arrays.values.first : nil {
                    positional.append(only)
                }
                continue
            }
            let t = try read(b.path)
            if let n = b.name {
                guard names.contains(n) else {
                    throw .usage("--input \(n)=...: the model has no input '\(n)' (inputs: \(names.joined(separator: ", ")))")
                }
                byName[n] = t
            } else {
                positional.append(t)
            }
        }
        var result: [HostTensor] = []
        var next = 0
        for (i, id) in graph.inputs.enumerated() {
            let info = graph.tensors[id]
            let t: HostTensor
            if let named = byName[names[i]] {
                t = named
            } else if next < positional.count {
                t = positional[next]
                next += 1
            } else {
                throw .usage("no data for model input '\(info.name)' \(info.shape); pass --input \(info.name)=FILE.npy")
            }
            guard t.shape.elementCount == info.shape.elementCount else {
                throw .usage("input '\(info.name)' needs shape \(info.shape) (\(info.shape.elementCount) values), the file has \(t.shape)")
            }
            result.append(HostTensor(shape: info.shape, values: t.values))
        }
        if next < positional.count {
            throw .usage("\(positional.count) unnamed --input file(s) for \(graph.inputs.count) model input(s)")
        }
        return result
    }
}
