import ArgumentParser
import EdgeProfKit
import Foundation

enum ObjectiveOption: String, ExpressibleByArgument, CaseIterable {
    case latency
    case deviceEnergy = "device-energy"
    case throughput
    case weighted

    var kind: ObjectiveKind {
        switch self {
        case .latency: .latency
        case .deviceEnergy: .deviceEnergy
        case .throughput: .throughput
        case .weighted: .weighted
        }
    }
}

enum ArrivalsOption: String, ExpressibleByArgument, CaseIterable {
    case fps
    case poisson
    case singleStream = "single-stream"
    case offline

    var kind: ArrivalKind {
        switch self {
        case .fps: .fps
        case .poisson: .poisson
        case .singleStream: .singleStream
        case .offline: .offline
        }
    }
}

/// Scenario, model, objective and planner choices shared by `plan` and `simulate`.
struct PlanningOptions: ParsableArguments {
    @Argument(help: "Split-computing scenario file (profiles/*.yaml with tiers and links).") var scenario: String
    @Option(name: .long, help: "Override the scenario's objective: latency, device-energy, throughput or weighted.") var objective: ObjectiveOption?
    @Option(name: .long, help: "Planner to use (chain-scan, dads-mincut, multitier-mincut, pipeline, constrained-search, brute-force); default: the first that is exact for the problem.")
    var planner: String?
    @Option(name: .long, help: "Override the scenario's model (zoo name or .onnx path).") var model: String?
    @Option(name: .long, help: "Override the first link's uplink bandwidth, e.g. \"20 Mbit/s\" (the downlink keeps its ratio).") var bandwidth: String?
    @Option(name: .long, help: "Kernel costs: predicted (cost model) or scaled (measured on this host × tier predicted / host predicted).")
    var costs: CostSource = .predicted
    @Option(name: .long, help: "Host profile for --costs scaled (default: devices/host.yaml).") var host: String?

    func request() throws(EdgeProfError) -> PlanWorkflow.Request {
        var bw: BytesPerSecond?
        if let bandwidth {
            guard let r = PlanWorkflow.parseRate(bandwidth) else { throw .usage("--bandwidth: expected a rate like \"20 Mbit/s\", got \"\(bandwidth)\"") }
            bw = r
        }
        return PlanWorkflow.Request(scenarioFile: scenario, model: model, objective: objective?.kind, planner: planner, bandwidth: bw,
                                    costs: costs, hostFile: host)
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan split computing for a scenario: which kernels run on the device, the edge and the cloud.",
        discussion: """
        Examples:
          edgeprof plan profiles/pi4-wifi-cloud.yaml
          edgeprof plan profiles/pi4-wifi-cloud.yaml --objective device-energy --format json
          edgeprof plan profiles/pi4-lte-cloud.yaml --sweep-bandwidth 0.5..1000 Mbit/s
        """)

    @OptionGroup var planning: PlanningOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Sweep a link's uplink (see --sweep-link) over FROM..TO [UNIT] (e.g. 0.5..1000 Mbit/s); report the best plan per bandwidth and the exact switch points.")
    var sweepBandwidth: [String] = []
    @Option(name: .long, help: "Bandwidths evaluated in a sweep (log-spaced; switch points are refined exactly).") var sweepPoints: Int = 100
    @Option(name: .long, help: "Which link a sweep varies (1 = the device's link).") var sweepLink: Int = 1
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?
    @OptionGroup var recording: RecordingOptions

    func validate() throws {
        if sweepPoints < 2 { throw ValidationError("--sweep-points must be at least 2") }
        if sweepLink < 1 { throw ValidationError("--sweep-link counts from 1 (the device's link)") }
    }

    func run() throws {
        let (text, record) = try runReportingErrors { () throws(EdgeProfError) -> (String, RunRecord) in
            let request = try planning.request()
            let prepared = try PlanWorkflow.prepare(request)
            let model = RunRecording.modelIdentity(prepared.model)
            if !sweepBandwidth.isEmpty {
                let (from, to) = try PlanWorkflow.parseBandwidthRange(sweepBandwidth.joined(separator: " "))
                let report = try PlanWorkflow.sweep(prepared: prepared, .init(from: from, to: to, points: sweepPoints, link: sweepLink - 1))
                let record = RunRecording.record(kind: "sweep", model: model, devices: prepared.devices,
                                                 sections: [RunSectionKey.sweep: JSONValue(encoding: report) ?? .null], scenario: request.scenarioFile)
                switch format {
                case .table: return (PlanRenderer.render(report, style: .plain), record)
                case .markdown: return (PlanRenderer.render(report, style: .markdown), record)
                case .json: return (report.jsonString() + "\n", record)
                }
            }
            let report = try PlanWorkflow.run(prepared: prepared)
            let record = RunRecording.record(kind: "plan", model: model, devices: prepared.devices,
                                             sections: [RunSectionKey.plan: JSONValue(encoding: report) ?? .null], scenario: request.scenarioFile)
            switch format {
            case .table: return (PlanRenderer.render(report, style: .plain), record)
            case .markdown: return (PlanRenderer.render(report, style: .markdown), record)
            case .json: return (report.jsonString() + "\n", record)
            }
        }
        try emit(text, to: output)
        _ = try recording.finish(record)
    }
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a request stream through a scenario's plan (queues, link jitter/loss/traces, N clients).",
        discussion: """
        Arrival processes follow the MLPerf Inference scenarios: single-stream, fps (fixed frame rate),
        poisson (server) and offline. Flags override the scenario's `simulation:` section.
        Examples:
          edgeprof simulate profiles/pi4-wifi-cloud.yaml --fps 30 --frames 2000 --seed 1
          edgeprof simulate profiles/phone-5g-edge-cloud.yaml --arrivals poisson --rate 50 --clients 8
        """)

    @OptionGroup var planning: PlanningOptions
    @Option(name: .long, help: "Arrival process: fps, poisson, single-stream or offline.") var arrivals: ArrivalsOption?
    @Option(name: .long, help: "Frames per second per client (fps arrivals).") var fps: Double?
    @Option(name: .long, help: "Mean requests per second per client (poisson arrivals).") var rate: Double?
    @Option(name: .long, help: "Requests per client.") var frames: Int?
    @Option(name: .long, help: "Devices sharing the edge/cloud tiers and the first link.") var clients: Int?
    @Option(name: .long, help: "Random seed (same seed, same run).") var seed: UInt64?
    @Option(name: .long, help: "Latency bound for the miss rate, e.g. \"100 ms\" (default: the scenario's deadline, or 1/fps).") var deadline: String?
    @Flag(name: .long, inversion: .prefixedNo, help: "Re-plan when a link's bandwidth trace changes the rate.") var replan: Bool?
    @Option(name: .long, help: "Device stall per plan switch, e.g. \"20 ms\".") var switchingCost: String?
    @Flag(name: .long, help: "Give each client its own first link instead of one shared medium.") var dedicatedUplink = false
    @Option(name: .long, help: "Bins of the utilisation timeline.") var timelineBins: Int = 10
    @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table
    @Option(name: [.short, .long], help: "Write the output to FILE (atomically) instead of stdout.") var output: String?
    @OptionGroup var recording: RecordingOptions

    func validate() throws {
        if let fps, !(fps > 0) { throw ValidationError("--fps must be positive") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if let frames, frames <= 0 { throw ValidationError("--frames must be positive") }
        if let clients, clients <= 0 { throw ValidationError("--clients must be positive") }
        if timelineBins <= 0 { throw ValidationError("--timeline-bins must be positive") }
    }

    func run() throws {
        let (report, record) = try runReportingErrors { () throws(EdgeProfError) -> (SimulationReport, RunRecord) in
            func time(_ text: String?, _ flag: String) throws(EdgeProfError) -> Seconds? {
                guard let text else { return nil }
                guard let v = UnitParser.parse(text, as: .time), v >= 0 else { throw .usage("\(flag): expected a time like \"100 ms\", got \"\(text)\"") }
                return Seconds(v)
            }
            let request = SimulateWorkflow.Request(
                plan: try planning.request(), arrivals: arrivals?.kind, fps: fps, rate: rate, frames: frames, clients: clients, seed: seed,
                deadline: try time(deadline, "--deadline"), replan: replan, switchingCost: try time(switchingCost, "--switching-cost"),
                dedicatedUplink: dedicatedUplink, timelineBins: timelineBins)
            let prepared = try PlanWorkflow.prepare(request.plan)
            let report = try SimulateWorkflow.run(request, prepared: prepared)
            let record = RunRecording.record(kind: "simulate", model: RunRecording.modelIdentity(prepared.model), devices: prepared.devices,
                                             sections: [RunSectionKey.simulation: JSONValue(encoding: report) ?? .null],
                                             scenario: request.plan.scenarioFile)
            return (report, record)
        }
        // The busy-period list is for --trace and stored runs, not for the printed JSON.
        var printed = report
        printed.activity = nil
        let text: String
        switch format {
        case .table: text = PlanRenderer.render(printed, style: .plain)
        case .markdown: text = PlanRenderer.render(printed, style: .markdown)
        case .json: text = printed.jsonString() + "\n"
        }
        try emit(text, to: output)
        _ = try recording.finish(record)
    }
}

extension CostSource: ExpressibleByArgument {}
