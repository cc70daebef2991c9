import ArgumentParser
import EdgeProfKit
import Foundation
import KernelRunner

struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on this CPU and measure per-layer and end-to-end latency next to the cost model's prediction.",
        discussion: """
        MODEL is a built-in zoo name (seeded random weights) or a path to an .onnx file (its own weights).
        Timing: warm-up runs, then end-to-end runs (no per-layer clocks) and, separately, per-layer-timed runs;
        each phase runs --iterations times or for --time-budget seconds.
        With --device FILE the run is configured from that device (threads = its cores capped by this host, im2col tile
        from its cache sizes, fp16 storage simulated for fp16 units, its RAM as the memory limit) and every layer gets three
        numbers: the device PREDICTED by the cost model, the device SCALED from this host's measurement
        (measured × predicted device / predicted host, host profile --host), and the host MEASURED.
        Examples: edgeprof measure mobilenet_v2 --threads 1 --format json
                  edgeprof measure resnet18 --device devices/raspberry-pi-4.yaml
        """)

    @Argument(help: "Zoo model name or path to an .onnx file.") var model: String
    @Option(name: .long, help: "Threads for our kernels (OpenBLAS stays at 1 inside them). Default: all cores.") var threads: Int?
    @OptionGroup var kernelSet: KernelOptions
    @Option(name: .long, help: "Target device file: configures the run and adds predicted + scaled device costs (default: devices/host.yaml).") var device: String?
    @Option(name: .long, help: "Compute unit of the device (default: its default_unit).") var unit: String?
    @Option(name: .long, help: "Calibrated profile of this host, the denominator of the scaling (default: devices/host.yaml).") var host: String?
    @Option(name: .long, help: "Untimed warm-up runs.") var warmup: Int = 5
    @Option(name: .long, help: "Timed runs per phase (overrides --time-budget).") var iterations: Int?
    @Option(name: .long, help: "Seconds per timing phase when --iterations is not given.") var timeBudget: Double = 2
    @Option(name: .long, help: "Input data: FILE.npy, NAME=FILE.npy or FILE.npz (repeatable). Default: seeded random normal.") var input: [String] = []
    @Option(name: .long, help: "Set an input shape, e.g. input=1x3x224x224 (repeatable; for dynamic ONNX dims).") var inputShape: [String] = []
    @Option(name: .long, help: "Seed for zoo weights and the synthetic input.") var seed: UInt64 = 0
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: .long, help: "Show only the N layers with the largest measured median.") var top: Int?
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?
    @OptionGroup var recording: RecordingOptions

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if timeBudget <= 0 { throw ValidationError("--time-budget must be positive (seconds)") }
        if let top, top <= 0 { throw ValidationError("--top must be a positive number of layers") }
    }

    func run() throws {
        kernelSet.apply()
        let report = try runReportingErrors { () throws(EdgeProfError) -> MeasureReport in
            var options = ModelLoadOptions()
            for s in inputShape {
                let (name, shape) = try ModelLoadOptions.parseInputShape(s)
                options.inputShapes[name] = shape
            }
            let timing = TimingOptions(warmup: warmup, iterations: iterations, timeBudget: timeBudget)
            return try MeasureWorkflow.run(.init(model: model, threads: threads, deviceFile: device, unit: unit, hostFile: host, timing: timing,
                                                 inputs: input.map(NPYFile.Binding.parse), loadOptions: options, seed: seed))
        }
        let text: String
        switch format {
        case .table: text = MeasureRenderer.render(report, style: .plain, top: top)
        case .markdown: text = MeasureRenderer.render(report, style: .markdown, top: top)
        case .json: text = report.jsonString() + "\n"
        }
        try emit(text, to: output)
        for w in report.warnings where format == .json || output != nil {
            FileHandle.standardError.write(Data("warning: \(w)\n".utf8))
        }
        let files = [report.prediction?.file, report.emulation == nil ? nil : (host ?? MeasureWorkflow.defaultDeviceFile)].compactMap { $0 }
        let record = RunRecording.record(kind: "measure", model: RunRecording.modelIdentity(reference: model, name: report.model.name),
                                         devices: RunRecording.devicesForRecord(Array(Set(files)).sorted()),
                                         sections: [RunSectionKey.measure: JSONValue(encoding: report) ?? .null])
        _ = try recording.finish(record)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one inference on NumPy .npy input(s) and write the output(s) as .npy.",
        discussion: """
        Example: edgeprof run model.onnx --input x.npy --output y.npy
        Several inputs/outputs: --input image=x.npy --input mask=m.npy --output logits=y.npy
        """)

    @Argument(help: "Zoo model name (seeded random weights) or path to an .onnx file.") var model: String
    @Option(name: .long, help: "Input: FILE.npy, NAME=FILE.npy or FILE.npz (repeatable).") var input: [String] = []
    @Option(name: .long, help: "Output file: FILE.npy or NAME=FILE.npy (repeatable). Without it, only a summary is printed.") var output: [String] = []
    @Option(name: .long, help: "Threads (default: all cores).") var threads: Int?
    @OptionGroup var kernelSet: KernelOptions
    @Option(name: .long, help: "Set an input shape, e.g. input=1x3x224x224 (repeatable; for dynamic ONNX dims).") var inputShape: [String] = []
    @Option(name: .long, help: "Seed for zoo weights.") var seed: UInt64 = 0

    func validate() throws {
        if input.isEmpty { throw ValidationError("give the input data: --input FILE.npy (or NAME=FILE.npy)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        kernelSet.apply()
        let result = try runReportingErrors { () throws(EdgeProfError) -> RunWorkflow.Result in
            var options = ModelLoadOptions()
            for s in inputShape {
                let (name, shape) = try ModelLoadOptions.parseInputShape(s)
                options.inputShapes[name] = shape
            }
            return try RunWorkflow.run(.init(model: model, inputs: input.map(NPYFile.Binding.parse), outputs: output.map(NPYFile.Binding.parse),
                                             threads: threads, loadOptions: options, seed: seed))
        }
        print(RunWorkflow.describe(result))
    }
}
