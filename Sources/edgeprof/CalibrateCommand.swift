import ArgumentParser
import EdgeProfKit
import Foundation

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit the host device file from micro-benchmarks run with the real kernels.",
        discussion: """
        Runs chains of identical kernels (conv/GEMM grid, depthwise 3×3, activations, pooling, attention, softmax/layer norm,
        relu streams over 4 KiB-256 MiB working sets (64 MiB with --quick), tiny kernels, the fcs of squeeze-excitation blocks of three shapes,
        which the runner splits over threads), a pointer chase and cold 1 KiB reads, and fits the cost model's layer overhead, bandwidth
        and latency per memory level, main memory's stream start-up, the parallel dispatch overhead and efficiency per op class.
        Structure, sizes, peaks and energies come from --template; every fitted
        value gets `source: measured <date> (<benchmark>)`. The file is written atomically. Build with -c release.
        On a shared machine, --wait-quiet MINUTES first waits until the drift probe (the quick suite's probe benchmarks
        against --template's predictions) reads at most --max-drift (default 1.2) twice in a row, and fails with nothing
        written if the machine does not settle in time.
        --save-measurements FILE keeps what was measured (every benchmark's sample, the latency sweep, the cold reads) as
        JSON; --refit FILE fits a device file from such a record without measuring (e.g. after editing the template, or to
        compare two fits on the same timings). The fitted values' sources keep the measurement date.
        """)

    @Flag(name: .long, help: "Fewer shapes and shorter timing (under a minute).") var quick = false
    @Option(name: .long, help: "Device file to write.") var output: String = MeasureWorkflow.defaultDeviceFile
    @Option(name: .long, help: "Device file providing everything that is not fitted (default: devices/host.yaml).") var template: String = MeasureWorkflow.defaultDeviceFile
    @Option(name: .long, help: "Threads for the kernels (default: all cores).") var threads: Int?
    @OptionGroup var kernelSet: KernelOptions
    @OptionGroup var quiet: QuietOptions
    @Option(name: .long, help: "Passes over the benchmark suite; each benchmark keeps its fastest pass (default 3, --quick 1).") var passes: Int?
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: .long, help: "Also write what was measured (samples, latency sweep, cold reads) to this JSON file, for --refit.") var saveMeasurements: String?
    @Option(name: .long, help: "Fit from a file --save-measurements wrote instead of measuring.") var refit: String?

    func validate() throws {
        if refit != nil && saveMeasurements != nil { throw ValidationError("--refit reads a record; --save-measurements writes one: use one of them") }
        if refit != nil && (quick || passes != nil || threads != nil || quiet.seconds != nil) {
            throw ValidationError("--refit measures nothing: --quick, --passes, --threads and --wait-quiet do not apply")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let passes, !(1...20).contains(passes) { throw ValidationError("--passes must be between 1 and 20 (got \(passes))") }
    }

    func run() throws {
        kernelSet.apply()
        let result = try runReportingErrors { () throws(EdgeProfError) -> CalibrateWorkflow.Result in
            var request = CalibrateWorkflow.Request(template: template, output: output, quick: quick, threads: threads, passes: passes,
                                                    waitQuiet: quiet.seconds, maxDrift: quiet.limit) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            request.saveMeasurements = saveMeasurements
            request.refit = refit
            return try CalibrateWorkflow.run(request)
        }
        switch format {
        case .table: print(CalibrateWorkflow.render(result, style: .plain))
        case .markdown: print(CalibrateWorkflow.render(result, style: .markdown))
        case .json: print(ValidateRenderer.json(result), terminator: "")
        }
        FileHandle.standardError.write(Data("wrote \(result.output)\n".utf8))
    }
}
