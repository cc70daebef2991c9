import ArgumentParser
import EdgeProfKit

extension BufferEncoding: ExpressibleByArgument {}
extension Dataflow: ExpressibleByArgument {}

struct Accel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Model a DNN accelerator: dataflow cycles and traffic per layer, MLC STT-RAM buffer energy by content and encoding, bit errors.",
        discussion: """
        MODEL is a zoo name (seeded random weights) or an .onnx file (its own weights). The device must have an accelerator
        unit with a pe_array; an mlc_cell section on its buffer level enables content-dependent energy, the sensitivity table
        and --inject-errors. See README "Accelerator model".
        Example: edgeprof accel Tests/Fixtures/onnx/resnet18.onnx --device devices/mlc-stt-ram-accelerator.yaml \\
                 --baseline devices/sram-accelerator.yaml --inject-errors --scale 1e-3 --scale 1e-2 --samples 16
        """)

    @Argument(help: "Zoo model name or path to an .onnx file.") var model: String
    @Option(name: .long, help: "Accelerator device file.") var device: String
    @Option(name: .long, help: "Buffer encoding(s): none, msb-backup, rearrange, both (repeatable; default: all).") var encoding: [BufferEncoding] = []
    @Option(name: .long, help: "Dataflow override: weight-stationary, output-stationary, row-stationary (default: the device's).") var dataflow: Dataflow?
    @Option(name: .long, help: "Baseline device file whose buffer is priced on the same traffic (repeatable).") var baseline: [String] = []
    @Flag(name: .long, help: "Inject bit errors into the buffered weights and run the model with the kernel runner.") var injectErrors = false
    @Option(name: .long, help: "Error probability of the most error-prone cell pattern (repeatable; default 1e-4 1e-3 1e-2 1e-1).") var scale: [Double] = []
    @Option(name: .long, help: "Inputs per error run.") var samples: Int = 64
    @Option(name: .long, help: "Seed for inputs, zoo weights and error draws.") var seed: UInt64 = 0
    @Option(name: .long, help: "Threads for the kernel runner (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?

    func validate() throws {
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let bad = scale.first(where: { !($0 >= 0 && $0 <= 1) }) { throw ValidationError("--scale must be a probability in [0, 1], got \(bad)") }
        if !scale.isEmpty && !injectErrors { throw ValidationError("--scale only applies with --inject-errors") }
    }

    func run() throws {
        let report = try runReportingErrors { () throws(EdgeProfError) -> AccelReport in
            var request = AccelWorkflow.Request(model: model, deviceFile: device, dataflow: dataflow, baselineFiles: baseline,
                                                injectErrors: injectErrors, samples: samples, seed: seed, threads: threads)
            if !encoding.isEmpty { request.encodings = encoding }
            if !scale.isEmpty { request.scales = scale }
            return try AccelWorkflow.run(request)
        }
        switch format {
        case .table: try emit(AccelRenderer.render(report, style: .plain), to: output)
        case .markdown: try emit(AccelRenderer.render(report, style: .markdown), to: output)
        case .json: try emit(report.jsonString() + "\n", to: output)
        }
    }
}
