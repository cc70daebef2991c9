// Release-build benchmarks (not tests). Run: swift run -c release EdgeProfBench [devices-dir]
// Split-computing benchmarks: swift run -c release EdgeProfBench planner [scenario] (scripts/bench-planner.sh)
// ONNX import speed: swift run -c release EdgeProfBench import FILE.onnx … (scripts/bench-import.sh)
// Worker-pool fork/join cost: swift run -c release EdgeProfBench pool [threads]
import EdgeProfKit
import Foundation

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "planner" {
    exit(PlannerBench.run(Array(CommandLine.arguments.dropFirst(2))))
}
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "pool" {
    exit(PoolBench.run(Array(CommandLine.arguments.dropFirst(2))))
}
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "import" {
    exit(ImportBench.run(Array(CommandLine.arguments.dropFirst(2))))
}

let dir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "devices"
let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { "\(dir)/\($0)" }
guard !files.isEmpty else {
    FileHandle.standardError.write(Data("no device files in \(dir)\n".utf8))
    exit(1)
}
do {
    let devices = try ProfileWorkflow.loadDevices(files)
    let model = try ModelSource.load("resnet50")
    print("edgeprof bench: predict resnet50 (\(model.graph.nodes.count) nodes, \(model.graph.fusionGroups.count) kernels) on \(devices.count) devices")

    // Warm-up, then time full sweeps (all devices) and report the median and min.
    for _ in 0..<5 { _ = try ProfileWorkflow.profile(model, on: devices) }
    var sweeps: [Double] = []
    var modelOnly: [Double] = []
    for _ in 0..<50 {
        let t0 = now()
        let prepared = PreparedGraph(model.graph)  // device-independent part, once per model
        for d in devices { _ = try AnalyticalModel.estimate(prepared, on: d) }
        let t1 = now()
        _ = try ProfileWorkflow.profile(model, on: devices)
        let t2 = now()
        modelOnly.append(t1 - t0)
        sweeps.append(t2 - t1)
    }
    let target = 5e-3
    print("cost model only (prepare once + every device): median \(formatSeconds(median(modelOnly))), min \(formatSeconds(modelOnly.min() ?? 0))")
    print("profile workflow incl. report records: median \(formatSeconds(median(sweeps))), min \(formatSeconds(sweeps.min() ?? 0))")
    print("target < 5 ms for all devices together: median/target = \(formatFixed(median(modelOnly) / target, decimals: 3)) "
          + (median(modelOnly) < target ? "(met)" : "(MISSED)"))

    let t0 = now()
    let build = 20
    for _ in 0..<build { _ = try ModelSource.load("resnet50") }
    print("building resnet50 from the zoo: \(formatSeconds((now() - t0) / Double(build))) per build")
} catch let e as EdgeProfError {
    FileHandle.standardError.write(Data("error: \(e)\n".utf8))
    exit(1)
}
