import ArgumentParser
import EdgeProfKit
import Foundation

@main
struct EdgeProf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgeprof",
        abstract: "Predict how fast, memory-hungry and power-hungry a neural network is on edge devices.",
        version: edgeprofVersion,
        subcommands: [Profile.self, Scenario.self, Models.self, Devices.self, Runs.self, Report.self, Measure.self, Run.self, Plan.self, Simulate.self, Validate.self, Calibrate.self, Accel.self])
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, markdown
}

/// Runs a workflow step; user errors print `error: ...` to stderr and exit 1.
func runReportingErrors<T>(_ body: () throws(EdgeProfError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}

func emit(_ text: String, to output: String?) throws {
    if let output {
        try runReportingErrors { () throws(EdgeProfError) in try writeAtomically(text, to: output) }
        FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
    } else {
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}

struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict per-layer latency, memory traffic and energy of a model on one or more devices.",
        discussion: """
        MODEL is a built-in zoo name (see `edgeprof models`) or a path to an .onnx file.
        Example: edgeprof profile mobilenet_v2 --device devices/raspberry-pi-4.yaml --device devices/jetson-orin-nano.yaml
        """)

    @Argument(help: "Zoo model name or path to an .onnx file.") var model: String
    @Option(name: .long, help: "Device file (repeat for a side-by-side comparison).") var device: [String] = []
    @Option(name: .long, help: "Compute unit to use on every device (default: each device's default_unit).") var unit: String?
    @Option(name: .long, help: "Runtime section of the device files to apply, e.g. ncnn_cpu (default: each device's default_runtime).") var runtime: String?
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: .long, help: "Show only the N layers with the largest predicted latency.") var top: Int?
    @Option(name: .long, help: "Set an input shape, e.g. input=1x3x224x224 (repeatable; for dynamic ONNX dims).") var inputShape: [String] = []
    @Flag(name: .long, help: "Profile the supported part of an ONNX model; unknown ops become explicit unsupported rows.") var allowUnsupported = false
    @Flag(name: .long, help: "Price a first inference: every weight read from main memory (default: the steady state of repeated inference, where a model whose weights and activations fit a cache level twice over reads its weights from there).") var coldWeights = false
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?
    @OptionGroup var recording: RecordingOptions

    func validate() throws {
        if let top, top <= 0 { throw ValidationError("--top must be a positive number of layers") }
        if device.isEmpty { throw ValidationError("give at least one --device FILE (e.g. --device devices/raspberry-pi-4.yaml)") }
    }

    func run() throws {
        let result = try runReportingErrors { () throws(EdgeProfError) -> ProfileWorkflow.Result in
            var options = ModelLoadOptions(allowUnsupported: allowUnsupported)
            for s in inputShape {
                let (name, shape) = try ModelLoadOptions.parseInputShape(s)
                options.inputShapes[name] = shape
            }
            return try ProfileWorkflow.run(.init(model: model, deviceFiles: device, unit: unit, runtime: runtime, loadOptions: options,
                                                 coldWeights: coldWeights))
        }
        let report = result.report.relativizingPaths(to: FileManager.default.currentDirectoryPath)
        let text: String
        switch format {
        case .table: text = ProfileRenderer.render(report, style: .plain, top: top)
        case .markdown: text = ProfileRenderer.render(report, style: .markdown, top: top)
        case .json: text = report.jsonString() + "\n"
        }
        try emit(text, to: output)
        _ = try recording.finish(RunRecording.record(kind: "profile", model: result.model, devices: result.devices, profile: result.report))
    }
}

struct Scenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario file (profiles/*.yaml): profile its model on its devices and write its reports.")

    @Argument(help: "Scenario file, e.g. profiles/default.yaml.") var file: String = "profiles/default.yaml"
    @Option(name: .long, help: "Override the number of layers shown per device.") var top: Int?
    @OptionGroup var recording: RecordingOptions

    func run() throws {
        let started = Date()
        let (scenario, result) = try runReportingErrors { () throws(EdgeProfError) -> (ScenarioRun, ProfileWorkflow.Result) in
            let run = try ScenarioRun.load(file)
            return (run, try run.profile())
        }
        let report = result.report.relativizingPaths(to: FileManager.default.currentDirectoryPath)
        print(ProfileRenderer.render(report, style: .plain, top: top ?? scenario.spec.top), terminator: "")
        let stored = try recording.finish(scenario.record(result))
        let cwd = FileManager.default.currentDirectoryPath + "/"
        for (path, format) in [(scenario.spec.markdownReport, RunRecording.ReportFormat.md), (scenario.spec.htmlReport, .html)] {
            guard let path else { continue }
            try runReportingErrors { () throws(EdgeProfError) in try writeAtomically(RunRecording.render(stored, format: format), to: path) }
            print("wrote \(path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path)")
        }
        print("scenario '\(scenario.spec.name)' done in \(formatFixed(Date().timeIntervalSince(started), decimals: 2)) s")
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in model zoo with MACs, params and input shape.")
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table

    func run() throws {
        let rows = try runReportingErrors { () throws(EdgeProfError) in try ZooListing.rows() }
        switch format {
        case .json: print(ZooListing.json(rows))
        case .table: print(ZooListing.table(rows).plain())
        case .markdown: print(ZooListing.table(rows).markdown())
        }
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate and list device files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate device files; prints every problem as file:line:column: field: message.")
        @Argument(help: "Device files, e.g. devices/*.yaml.") var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one device file, e.g. devices/*.yaml") }
        }

        func run() throws {
            let result = DeviceCheck.check(files)
            for line in result.okLines { print(line) }
            for e in result.errors { FileHandle.standardError.write(Data("error: \(e)\n".utf8)) }
            print("\(result.okLines.count) ok, \(result.errors.count) with errors")
            if !result.errors.isEmpty { throw ExitCode(1) }
        }
    }
}
