import ArgumentParser
import EdgeProfKit
import Foundation

/// `--store PATH`, `--no-store`, `--report FILE`, `--trace FILE` on every result-producing command.
struct RecordingOptions: ParsableArguments {
    @Option(name: .long, help: "Run store (SQLite). Default: $XDG_DATA_HOME/edgeprof/runs.sqlite or ~/.edgeprof/runs.sqlite.") var store: String?
    @Flag(name: .long, help: "Do not save this run in the store.") var noStore = false
    @Option(name: .long, help: "Also write a report of this run to FILE (.html or .md).") var report: [String] = []
    @Option(name: .long, help: "Write a Chrome trace-event JSON of the run's timeline (open in Perfetto).") var trace: String?

    func validate() throws {
        for r in report where RunRecording.ReportFormat.forPath(r) == nil {
            throw ValidationError("--report \(r): use a .html or .md file name")
        }
    }

    /// Saves (unless --no-store) and writes the requested reports/trace. Returns the stored record.
    func finish(_ run: RunRecord) throws -> RunRecord {
        var stored = run
        if !noStore {
            let (saved, path) = try runReportingErrors { () throws(EdgeProfError) in try RunRecording.save(run, storePath: store) }
            stored = saved
            FileHandle.standardError.write(Data("stored run #\(saved.id ?? 0) in \(path)\n".utf8))
        }
        for r in report {
            try runReportingErrors { () throws(EdgeProfError) in try RunRecording.writeReport(stored, to: r) }
            FileHandle.standardError.write(Data("wrote \(r)\n".utf8))
        }
        if let trace {
            try runReportingErrors { () throws(EdgeProfError) in try writeAtomically(RunRecording.chromeTrace(stored), to: trace) }
            FileHandle.standardError.write(Data("wrote \(trace)\n".utf8))
        }
        return stored
    }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Browse and compare stored runs.",
        subcommands: [List.self, Show.self, Diff.self, Remove.self, Export.self])

    struct StoreOption: ParsableArguments {
        @Option(name: .long, help: "Run store (default: $XDG_DATA_HOME/edgeprof/runs.sqlite or ~/.edgeprof/runs.sqlite).") var store: String?
        func open() throws -> RunStore { try runReportingErrors { () throws(EdgeProfError) in try RunRecording.openStore(store) } }
        func record(_ id: Int64) throws -> RunRecord {
            let s = try open()
            let r = try runReportingErrors { () throws(EdgeProfError) -> RunRecord? in
                do { return try s.record(id: id) } catch { throw .io("\(error)") }
            }
            guard let r else {
                FileHandle.standardError.write(Data("error: no run #\(id) in \(s.path) (see `edgeprof runs list`)\n".utf8))
                throw ExitCode(1)
            }
            return r
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.")
        @OptionGroup var store: StoreOption
        @Option(name: .long, help: "Only runs of this model.") var model: String?
        @Option(name: .long, help: "Only runs on this device id (e.g. raspberry_pi_4b).") var device: String?
        @Option(name: .long, help: "Only runs created at or after this ISO 8601 time or date (e.g. 2026-11-25).") var since: String?
        @Option(name: .long, help: "Only runs of this kind (profile, scenario, measure, …).") var kind: String?
        @Option(name: .long, help: "Output format: table, json or markdown.") var format: OutputFormat = .table

        func run() throws {
            let s = try store.open()
            let rows = try runReportingErrors { () throws(EdgeProfError) -> [RunSummary] in
                do { return try s.list(model: model, device: device, since: since, kind: kind) } catch { throw .io("\(error)") }
            }
            switch format {
            case .json:
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(rows), as: UTF8.self))
            case .table, .markdown:
                var t = TextTable(headers: ["id", "created", "kind", "model", "devices", "scenario"], aligns: [.right, .left, .left, .left, .left, .left])
                for r in rows { t.add([String(r.id), r.createdAt, r.kind, r.model, r.devices.joined(separator: ","), r.scenario ?? "-"]) }
                print(format == .table ? t.plain() : t.markdown())
                if format == .table { print("\(rows.count) run(s) in \(s.path)") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a stored run (the same tables `profile` prints).")
        @OptionGroup var store: StoreOption
        @Argument(help: "Run id.") var id: Int64
        @Option(name: .long, help: "Show only the N slowest layers per device.") var top: Int?

        func run() throws {
            let r = try store.record(id)
            print("run #\(id) · \(r.kind) · \(r.createdAt) · \(r.commandLine.joined(separator: " "))")
            if let p = r.profile { print(ProfileRenderer.render(p, style: .plain, top: top), terminator: "") }
            if r.profile == nil, !r.sections.isEmpty {
                // Plan, simulation, measure and validation runs: the Markdown report's text.
                print(RunRecording.render(r, format: .md), terminator: "")
            } else {
                for key in r.sections.keys.sorted() { print("section: \(key) (see `edgeprof report \(id)` or `runs export`)") }
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-layer and total deltas of run B against run A.",
            discussion: "With --fail-above 5%, exits 1 when any device's total latency or energy grew by more than 5% (a CI gate).")
        @OptionGroup var store: StoreOption
        @Argument(help: "Baseline run id.") var a: Int64
        @Argument(help: "Candidate run id.") var b: Int64
        @Option(name: .long, help: "Regression threshold, e.g. 5% or 0.05.") var failAbove: String?
        @Option(name: .long, help: "Show only the N layers with the largest latency change per device.") var top: Int = 10

        func run() throws {
            var threshold: Double?
            if let f = failAbove {
                let t = f.hasSuffix("%") ? Double(f.dropLast()).map { $0 / 100 } : Double(f)
                guard let t, t >= 0 else {
                    FileHandle.standardError.write(Data("error: --fail-above expects a percentage like 5% or a fraction like 0.05, got '\(f)'\n".utf8))
                    throw ExitCode(1)
                }
                threshold = t
            }
            let ra = try store.record(a), rb = try store.record(b)
            let diff = try runReportingErrors { () throws(EdgeProfError) in try RunRecording.diff(ra, rb) }
            print(RunDiffRenderer.render(diff, top: top), terminator: "")
            if let threshold {
                let regressions = diff.regressions(above: threshold)
                if !regressions.isEmpty {
                    FileHandle.standardError.write(Data("regression above \(formatFixed(threshold * 100, decimals: 1))%: \(regressions.joined(separator: "; "))\n".utf8))
                    throw ExitCode(1)
                }
                print("no regression above \(formatFixed(threshold * 100, decimals: 1))%")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete runs.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Run ids.") var ids: [Int64]

        func run() throws {
            let s = try store.open()
            let n = try runReportingErrors { () throws(EdgeProfError) -> Int in
                do { return try s.remove(ids: ids) } catch { throw .io("\(error)") }
            }
            print("removed \(n) run(s)")
            if n < ids.count {
                FileHandle.standardError.write(Data("error: \(ids.count - n) of the given ids did not exist\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a stored run record.")
        @OptionGroup var store: StoreOption
        @Argument(help: "Run id.") var id: Int64
        @Option(name: .long, help: "Export format (json).") var format: String = "json"
        @Option(name: [.short, .long], help: "Write to FILE instead of stdout.") var output: String?

        func run() throws {
            guard format == "json" else {
                FileHandle.standardError.write(Data("error: --format: only json is supported for export\n".utf8))
                throw ExitCode(1)
            }
            let r = try store.record(id)
            try emit(String(decoding: r.jsonData(), as: UTF8.self) + "\n", to: output)
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render a stored run as HTML or Markdown.")
    @OptionGroup var store: Runs.StoreOption
    @Argument(help: "Run id.") var id: Int64
    @Option(name: .long, help: "html or md (default: from -o's extension, else html).") var format: String?
    @Option(name: [.short, .long], help: "Write to FILE (atomically) instead of stdout.") var output: String?

    func run() throws {
        let fmt: RunRecording.ReportFormat
        if let format {
            guard let f = RunRecording.ReportFormat(rawValue: format == "markdown" ? "md" : format) else {
                FileHandle.standardError.write(Data("error: --format must be html or md, got '\(format)'\n".utf8))
                throw ExitCode(1)
            }
            fmt = f
        } else {
            fmt = output.flatMap(RunRecording.ReportFormat.forPath) ?? .html
        }
        let r = try store.record(id)
        try emit(RunRecording.render(r, format: fmt), to: output)
    }
}

/// `--kernels avx2|generic`: which kernel set the runner uses (default: the best this CPU supports,
/// or `EDGEPROF_KERNELS`). Sets `EDGEPROF_KERNELS` for this process, which `KernelISA.default` reads.
struct KernelOptions: ParsableArguments {
    @Option(name: .long, help: "Kernel set: avx2 (C AVX2+FMA kernels, chosen by default where the CPU has them) or generic (portable Swift + OpenBLAS).")
    var kernels: String?

    func validate() throws {
        guard let kernels else { return }
        guard let k = KernelISA(rawValue: kernels.lowercased()) else {
            throw ValidationError("--kernels must be avx2 or generic (got '\(kernels)')")
        }
        if k == .avx2 && KernelISA.supported != .avx2 {
            throw ValidationError("--kernels avx2: this CPU does not report AVX2 and FMA; use --kernels generic")
        }
    }

    func apply() {
        if let kernels { setenv("EDGEPROF_KERNELS", kernels.lowercased(), 1) }
    }
}

/// `--wait-quiet MINUTES` / `--max-drift X`: before measuring, read the drift probe (calibrate's
/// micro-benchmarks, measured against the device file's predictions) until two readings in a row are
/// at most X, or give up after MINUTES with an error and nothing measured or written.
struct QuietOptions: ParsableArguments {
    @Option(name: .long, help: "Wait up to MINUTES for a quiet machine (drift probe ≤ --max-drift twice in a row) before measuring; fail with nothing written if it does not settle.")
    var waitQuiet: Double?
    @Option(name: .long, help: "With --wait-quiet: the drift (measured / predicted by the device file) at or under which the machine counts as quiet (default 1.2).")
    var maxDrift: Double?

    func validate() throws {
        if let waitQuiet, !(waitQuiet > 0 && waitQuiet <= 240) {
            throw ValidationError("--wait-quiet takes minutes in (0, 240] (got \(waitQuiet))")
        }
        if let maxDrift {
            guard waitQuiet != nil else { throw ValidationError("--max-drift needs --wait-quiet") }
            guard maxDrift >= 1 && maxDrift <= 1000 else { throw ValidationError("--max-drift must be between 1 and 1000 (got \(maxDrift))") }
        }
    }

    /// Seconds to wait, or nil.
    var seconds: Double? { waitQuiet.map { $0 * 60 } }
    var limit: Double { maxDrift ?? QuietWait.defaultMaxDrift }
}
