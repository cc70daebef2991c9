import ArgumentParser
import EdgeProfKit
import Foundation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score the cost model: on this host against KernelRunner measurements, or against published latencies (--published).",
        discussion: """
        Host mode (default): measures a set of models (zoo + ONNX fixtures) with the real kernels and compares per-layer and
        end-to-end latency with the prediction for --device (default devices/host.yaml, fitted by `edgeprof calibrate` from
        micro-benchmarks only, so no scored model was used for fitting). --rescore FILE scores a saved run's measurements
        (its --format json output) against --device with this build's cost model, measuring nothing.
        Published mode: edgeprof validate --published [FILE.csv] scores the device files in --devices against published
        third-party latencies (default data/published-latency.csv); one efficiency factor per device × runtime is fitted
        on the even-id unflagged rows and error is reported only on odd-id rows. --write-devices stores the fitted factors.
        """)

    @Flag(name: .long, help: "Score against published latencies instead of host measurements.") var published = false
    @Argument(help: "Published-latency CSV (with --published; default data/published-latency.csv).") var csv: String?
    @Option(name: .long, help: "Directory of device files for --published.") var devices: String = PublishedValidateWorkflow.defaultDevicesDirectory
    @Flag(name: .long, help: "With --published: write the fitted runtime factors into the device files (atomically).") var writeDevices = false
    @Flag(name: .long, help: "With --published: also score leave-one-out on the fitting rows (each fitting row predicted by a refit without it).")
    var loo = false
    @Flag(name: .long, help: "With --published: also score the scaled estimate (rows' models measured on this host × device/host prediction).")
    var scaled = false
    @Option(name: .long, help: "With --scaled: profile of this host, the scaling denominator (default: devices/host.yaml).") var host: String = MeasureWorkflow.defaultDeviceFile
    @Option(name: .long, help: "Host mode: device file to predict with.") var device: String = MeasureWorkflow.defaultDeviceFile
    @Option(name: .long, help: "Host mode: model to measure (repeatable; default: the standard set).") var model: [String] = []
    @Option(name: .long, help: "Host mode: threads (default: all cores).") var threads: Int?
    @Flag(name: .long, help: "Host mode: fewer models and shorter timing (about a minute).") var quick = false
    @Option(name: .long, help: "Host mode: rounds over the model set; the fastest round of each model is scored (default 3, --quick 1).") var rounds: Int?
    @Flag(name: .long, help: "Host mode: skip the drift probe (calibration micro-benchmarks measured before each round to tell machine-speed drift from cost-model error).")
    var noProbe = false
    @Option(name: .long, help: "Host mode: score the measurements of an earlier run (FILE: `validate --format json` output) against --device with this build's cost model; nothing is measured or stored.")
    var rescore: String?
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?
    @OptionGroup var recording: RecordingOptions
    @OptionGroup var kernelSet: KernelOptions
    @OptionGroup var quiet: QuietOptions

    func validate() throws {
        if published && quiet.waitQuiet != nil { throw ValidationError("--wait-quiet is a host-mode flag (the published mode measures nothing)") }
        if noProbe && quiet.waitQuiet != nil { throw ValidationError("--wait-quiet reads the drift probe; it cannot go with --no-probe") }
        if csv != nil && !published { throw ValidationError("a CSV file is only read with --published (edgeprof validate --published FILE.csv)") }
        if writeDevices && !published { throw ValidationError("--write-devices needs --published") }
        if loo && !published { throw ValidationError("--loo needs --published") }
        if noProbe && published { throw ValidationError("--no-probe is a host-mode flag (the published mode measures nothing)") }
        if scaled && !published { throw ValidationError("--scaled needs --published (host mode already compares with measurements)") }
        if published && (quick || !model.isEmpty || threads != nil || rounds != nil || device != MeasureWorkflow.defaultDeviceFile) {
            throw ValidationError("--quick, --model, --threads, --rounds and --device are host-mode flags; --published scores the files in --devices")
        }
        if rescore != nil && (published || quick || !model.isEmpty || threads != nil || rounds != nil || noProbe || quiet.waitQuiet != nil) {
            throw ValidationError("--rescore measures nothing: --published, --quick, --model, --threads, --rounds, --no-probe and --wait-quiet do not apply")
        }
        if rescore != nil && (recording.store != nil || !recording.report.isEmpty || recording.trace != nil) {
            throw ValidationError("--rescore stores nothing and writes only its output (-o FILE): --store, --report and --trace do not apply")
        }
        if let rounds, !(1...20).contains(rounds) {
            throw ValidationError("--rounds must be between 1 and 20 (got \(rounds))")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        kernelSet.apply()
        if published { try runPublished() } else { try runHost() }
    }

    func runPublished() throws {
        let result = try runReportingErrors { () throws(EdgeProfError) -> PublishedValidationResult in
            try PublishedValidateWorkflow.run(csv: csv ?? PublishedValidateWorkflow.defaultCSV, devicesDirectory: devices, leaveOneOut: loo)
        }
        if scaled {
            let file = csv ?? PublishedValidateWorkflow.defaultCSV
            let both = try runReportingErrors { () throws(EdgeProfError) -> ScaledPublishedValidation.Result in
                try ScaledPublishedValidation.run(csv: file, devicesDirectory: devices, hostFile: host, published: result) { line in
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
            }
            try emitResult(json: ValidateRenderer.json(PublishedAndScaled(published: result, scaled: both)),
                           text: { ValidateRenderer.render(result, style: $0) + "\n" + ValidateRenderer.render(both, style: $0) })
            try record(result, extra: [RunSectionKey.scaledValidation: JSONValue(encoding: both) ?? .null])
        } else {
            try emitResult(json: ValidateRenderer.json(result), text: { ValidateRenderer.render(result, style: $0) })
            try record(result, extra: [:])
        }
        if writeDevices {
            let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
            let files = try runReportingErrors { () throws(EdgeProfError) -> [String] in try PublishedValidateWorkflow.writeDevices(result, date: date) }
            for f in files { FileHandle.standardError.write(Data("wrote \(f)\n".utf8)) }
        }
    }

    func runHost() throws {
        if let rescore {
            let result = try runReportingErrors { () throws(EdgeProfError) -> HostValidationResult in
                try HostValidateWorkflow.rescore(rescore, deviceFile: device) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
            try emitResult(json: ValidateRenderer.json(result), text: { ValidateRenderer.render(result, style: $0) })
            return
        }
        let result = try runReportingErrors { () throws(EdgeProfError) -> HostValidationResult in
            try HostValidateWorkflow.run(.init(deviceFile: device, models: model, threads: threads, quick: quick, rounds: rounds, probe: !noProbe,
                                               waitQuiet: quiet.seconds, maxDrift: quiet.limit) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            })
        }
        try emitResult(json: ValidateRenderer.json(result), text: { ValidateRenderer.render(result, style: $0) })
        let references = result.models.map { $0.source.hasPrefix("onnx:") ? String($0.source.dropFirst(5)) : $0.model }
        let run = RunRecording.record(kind: "validate", model: RunRecording.modelSetIdentity(name: "host validation set", references: references),
                                      devices: RunRecording.devicesForRecord([device]),
                                      sections: [RunSectionKey.hostValidation: JSONValue(encoding: result) ?? .null])
        _ = try recording.finish(run)
    }

    /// Stores a published-mode run: the CSV's identity, the device files scored, the results.
    func record(_ result: PublishedValidationResult, extra: [String: JSONValue]) throws {
        let file = csv ?? PublishedValidateWorkflow.defaultCSV
        let data = FileManager.default.contents(atPath: file) ?? Data()
        let model = ModelIdentity(name: "published latencies", source: file, sha256: SHA256.hex(data))
        var sections = extra
        sections[RunSectionKey.publishedValidation] = JSONValue(encoding: result) ?? .null
        let files = Array(Set(result.groups.map(\.deviceFile))).sorted()
        _ = try recording.finish(RunRecording.record(kind: "validate-published", model: model, devices: RunRecording.devicesForRecord(files), sections: sections))
    }

    func emitResult(json: String, text: (ProfileRenderer.Style) -> String) throws {
        switch format {
        case .table: try emit(text(.plain), to: output)
        case .markdown: try emit(text(.markdown), to: output)
        case .json: try emit(json, to: output)
        }
    }
}
