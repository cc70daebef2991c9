import EdgeProfKit
import Foundation
import Testing

/// Every result-producing command (profile, measure, plan, simulate, validate) stores its run and
/// renders it: reports with the command's own sections, traces, `runs show` / `runs diff`.
@Suite("Recording plan, simulate, measure and validate runs")
struct ResultRecordingTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func runs(_ store: String) throws -> [[String: Any]] {
        let r = try CLI.run(["runs", "list", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    }

    /// Numbers shown in the report cards (the value column): they must appear in both formats.
    static func cardValues(_ html: String) -> [String] {
        html.components(separatedBy: "<div class=\"cv\">").dropFirst().compactMap { $0.components(separatedBy: "</div>").first }
    }

    @Test func planIsStoredAndRendersThePlanDiagramInBothFormats() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let html = dir.appendingPathComponent("plan.html").path, md = dir.appendingPathComponent("plan.md").path
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--format", "json", "-o", dir.appendingPathComponent("plan.json").path,
                             "--store", store, "--report", html, "--report", md])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try Self.runs(store)
        #expect(list.count == 1 && list.first?["kind"] as? String == "plan")
        let h = try String(contentsOfFile: html, encoding: .utf8), m = try String(contentsOfFile: md, encoding: .utf8)
        for title in ["Offload plan", "Why the alternatives lost", "Placement: which kernel runs on which tier"] {
            #expect(h.contains(title) && m.contains(title), "\(title)")
        }
        #expect(h.contains("<svg") && h.contains("Where the latency goes"))
        let plan = try Self.json(try String(contentsOfFile: dir.appendingPathComponent("plan.json").path, encoding: .utf8))
        let totals = try #require((plan["plan"] as? [String: Any])?["totals"] as? [String: Any])
        let latency = formatSeconds(try #require(totals["latency_s"] as? Double))
        let cards = Self.cardValues(h)
        #expect(cards.contains(latency), "\(cards) vs \(latency)")
        for v in cards { #expect(m.contains(v), "card value \(v) missing from Markdown") }
    }

    @Test func sweepReportHasTheBandwidthCurveAndSwitchPoints() throws {
        let dir = try CLI.tempDir()
        let html = dir.appendingPathComponent("sweep.html").path, md = dir.appendingPathComponent("sweep.md").path
        let r = try CLI.run(["plan", "profiles/pi4-lte-cloud.yaml", "--sweep-bandwidth", "0.5..1000", "Mbit/s", "--format", "json",
                             "--no-store", "--report", html, "--report", md])
        #expect(r.status == 0, "\(r.stderr)")
        let sweep = try Self.json(r.stdout)
        let switches = try #require(sweep["switch_points_bits_per_s"] as? [Double])
        let h = try String(contentsOfFile: html, encoding: .utf8), m = try String(contentsOfFile: md, encoding: .utf8)
        #expect(h.contains("<polyline") && h.contains("Policy map"))
        for s in switches { #expect(h.contains(formatSI(s, unit: "bit/s")) && m.contains(formatSI(s, unit: "bit/s"))) }
    }

    @Test func simulationStoresHistogramAndTraceWithTierAndLinkActivity() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let trace = dir.appendingPathComponent("sim.json").path, md = dir.appendingPathComponent("sim.md").path
        let r = try CLI.run(["simulate", "profiles/pi4-wifi-cloud.yaml", "--frames", "200", "--seed", "3", "--format", "json",
                             "--store", store, "--trace", trace, "--report", md])
        #expect(r.status == 0, "\(r.stderr)")
        let printed = try Self.json(r.stdout)
        #expect(printed["activity"] == nil, "busy periods stay out of the printed JSON")
        let histogram = try #require(printed["latency_histogram"] as? [[String: Any]])
        #expect(histogram.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) } == 200)
        let t = try Self.json(try String(contentsOfFile: trace, encoding: .utf8))
        let events = try #require(t["traceEvents"] as? [[String: Any]])
        let threads = events.filter { $0["name"] as? String == "thread_name" }.compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(threads.contains("device") && threads.contains { $0.hasSuffix(" up") })
        #expect(events.contains { $0["ph"] as? String == "X" && $0["name"] as? String == "busy" })
        let m = try String(contentsOfFile: md, encoding: .utf8)
        #expect(m.contains("Latency distribution") && m.contains("Queues and utilisation over time"))
        let stored = try Self.runs(store)
        #expect(stored.first?["kind"] as? String == "simulate")
    }

    @Test func measureRunsStoreTraceDiffAndShow() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let trace = dir.appendingPathComponent("measure.json").path, html = dir.appendingPathComponent("measure.html").path
        let args = ["measure", "squeezenet1_1", "--threads", "1", "--warmup", "1", "--iterations", "3", "--format", "json", "-o", "/dev/null", "--store", store]
        let a = try CLI.run(args + ["--trace", trace, "--report", html])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try CLI.run(args)
        #expect(b.status == 0, "\(b.stderr)")
        let events = try #require(try Self.json(try String(contentsOfFile: trace, encoding: .utf8))["traceEvents"] as? [[String: Any]])
        let layers = events.filter { $0["ph"] as? String == "X" }
        #expect(layers.count > 20)
        #expect(layers.allSatisfy { (($0["args"] as? [String: Any])?["provenance"] as? String)?.hasPrefix("measured") == true })
        let h = try String(contentsOfFile: html, encoding: .utf8)
        #expect(h.contains("Per-layer predicted vs measured latency") && h.contains("<polygon"), "scatter with the ±10% band")
        let diff = try CLI.run(["runs", "diff", "1", "2", "--store", store])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("measured squeezenet1_1"))
        let show = try CLI.run(["runs", "show", "2", "--store", store])
        #expect(show.status == 0 && show.stdout.contains("Measured on this host"))
    }

    @Test func planDiffGatesALatencyRegression() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        for bw in ["100 Mbit/s", "2 Mbit/s"] {
            let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--bandwidth", bw, "-o", "/dev/null", "--store", store])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let gate = try CLI.run(["runs", "diff", "1", "2", "--store", store, "--fail-above", "5%"])
        #expect(gate.status == 1, "\(gate.stdout)")
        #expect(gate.stderr.contains("best plan: latency +"))
        // Back to 100 Mbit/s: faster (offloaded), but the device pays for the radio — an energy regression only.
        let back = try CLI.run(["runs", "diff", "2", "1", "--store", store, "--fail-above", "5%"])
        #expect(!back.stderr.contains("latency +"), "\(back.stderr)")
    }

    @Test func runsOfDifferentKindsCannotBeDiffed() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let plan = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "-o", "/dev/null", "--store", store])
        let sim = try CLI.run(["simulate", "profiles/pi4-wifi-cloud.yaml", "--frames", "50", "-o", "/dev/null", "--store", store])
        #expect(plan.status == 0 && sim.status == 0)
        let r = try CLI.run(["runs", "diff", "1", "2", "--store", store])
        #expect(r.status == 1 && r.stderr.contains("no comparable results"))
    }

    @Test func publishedValidationIsStoredWithItsScatter() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path, html = dir.appendingPathComponent("v.html").path
        let r = try CLI.run(["validate", "--published", "-o", "/dev/null", "--store", store, "--report", html])
        #expect(r.status == 0, "\(r.stderr)")
        let stored = try Self.runs(store)
        #expect(stored.first?["kind"] as? String == "validate-published")
        let h = try String(contentsOfFile: html, encoding: .utf8)
        #expect(h.contains("Validation against published latencies") && h.contains("<circle"))
    }

    @Test func aFailingPlanStoresNothingAndWritesNoReport() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path, html = dir.appendingPathComponent("bad.html").path
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--planner", "no-such-planner", "--store", store, "--report", html])
        #expect(r.status != 0)
        #expect(!FileManager.default.fileExists(atPath: html))
        if FileManager.default.fileExists(atPath: store) {
            let stored = try Self.runs(store)
            #expect(stored.isEmpty)
        }
    }
}
