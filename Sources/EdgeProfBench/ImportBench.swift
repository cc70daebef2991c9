// `swift run -c release EdgeProfBench import FILE.onnx …`: ONNX import speed (issue 4's target:
// a 100 MB export imports in under 1 s). Release build; timings only, no assertions.
import Foundation
import EdgeProfKit
import ModelImport

enum ImportBench {
    static func run(_ paths: [String]) -> Int32 {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: EdgeProfBench import FILE.onnx [FILE.onnx …]\n".utf8))
            return 2
        }
        print("edgeprof bench import (release build expected; median of 7 after 1 warm-up; file read + parse + import + fusion)")
        var missed = false
        for path in paths {
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.doubleValue ?? 0
            var times: [Double] = []
            var nodes = 0
            var params = 0
            for i in 0..<8 {
                let t0 = now()
                do {
                    let m = try ONNXImporter.load(path: path)
                    nodes = m.graph.nodes.count
                    params = m.graph.totalCounts().params
                } catch {
                    FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
                    return 1
                }
                if i > 0 { times.append(now() - t0) }
            }
            let med = median(times)
            let perMB = bytes > 0 ? med / (bytes / 1e6) : 0
            let big = bytes >= 100e6
            if big && med >= 1 { missed = true }
            let name = (path as NSString).lastPathComponent
            let size = formatFixed(bytes / 1e6, decimals: 1)
            let mParams = formatFixed(Double(params) / 1e6, decimals: 2)
            let medMs = formatFixed(med * 1000, decimals: 1)
            let minMs = formatFixed((times.min() ?? 0) * 1000, decimals: 1)
            let rate = formatFixed(perMB * 1000, decimals: 2)
            let verdict = big ? "; target < 1 s for ≥ 100 MB: " + (med < 1 ? "met" : "MISSED") : ""
            print("\(name): \(size) MB, \(nodes) nodes, \(mParams) M params: median \(medMs) ms, min \(minMs) ms (\(rate) ms/MB)\(verdict)")
        }
        return missed ? 1 : 0
    }
}
