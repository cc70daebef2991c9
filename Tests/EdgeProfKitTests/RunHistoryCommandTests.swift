import Foundation
import RunStore
import Testing

/// The run store through the CLI: storing, listing, diff gates, reports, and multi-process safety.
@Suite struct RunHistoryCommandTests {
    func profileArgs(_ store: String, model: String = "squeezenet1_1", device: String = "devices/raspberry-pi-4.yaml") -> [String] {
        ["profile", model, "--device", device, "--format", "json", "-o", "/dev/null", "--store", store]
    }

    @Test func storeListShowExportReportAndRemove() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let r = try CLI.run(profileArgs(store) + ["--report", dir.appendingPathComponent("r.html").path, "--report", dir.appendingPathComponent("r.md").path,
                                                   "--trace", dir.appendingPathComponent("t.json").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("stored run #1 in \(store)"))
        let html = try String(contentsOf: dir.appendingPathComponent("r.html"), encoding: .utf8)
        #expect(html.contains("edgeprof profile: squeezenet1_1"))
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("t.json"))) as? [String: Any]
        #expect(((trace?["traceEvents"] as? [Any])?.count ?? 0) > 10)

        let list = try CLI.run(["runs", "list", "--store", store, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows[0]["model"] as? String == "squeezenet1_1")

        let export = try CLI.run(["runs", "export", "1", "--store", store, "--format", "json"])
        let record = try #require(try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any])
        #expect((record["devices"] as? [[String: Any]])?.first?["content"] as? String != nil)
        #expect(record["profile"] != nil)

        let md = try CLI.run(["report", "1", "--store", store, "--format", "md"])
        #expect(md.status == 0)
        #expect(md.stdout.contains("# edgeprof profile: squeezenet1\\_1"))
        #expect(try CLI.run(["runs", "show", "1", "--store", store, "--top", "3"]).stdout.contains("top 3 layers"))

        #expect(try CLI.run(["runs", "rm", "1", "--store", store]).status == 0)
        let missing = try CLI.run(["report", "1", "--store", store])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no run #1"))
    }

    @Test func noStoreLeavesTheStoreUntouched() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let r = try CLI.run(profileArgs(store) + ["--no-store"])
        #expect(r.status == 0)
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    @Test func diffFailAboveGatesRegressions() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        // Run 2 uses a slower copy of the device (half the DRAM bandwidth, more overhead).
        let slow = dir.appendingPathComponent("slow-pi4.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("devices/raspberry-pi-4.yaml"), encoding: .utf8)
        let peakLine = try #require(text.range(of: "layer_overhead: {value: \""))
        let rest = text[peakLine.upperBound...]
        let endQuote = try #require(rest.firstIndex(of: "\""))
        text.replaceSubrange(peakLine.upperBound..<endQuote, with: "500 us")
        try text.write(to: slow, atomically: true, encoding: .utf8)
        #expect(try CLI.run(profileArgs(store)).status == 0)
        #expect(try CLI.run(profileArgs(store, device: slow.path)).status == 0)
        let same = try CLI.run(["runs", "diff", "1", "1", "--store", store, "--fail-above", "5%"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("no regression above 5.0%"))
        let worse = try CLI.run(["runs", "diff", "1", "2", "--store", store, "--fail-above", "5%"])
        #expect(worse.status == 1)
        #expect(worse.stderr.contains("raspberry_pi_4b: latency +"))
        let better = try CLI.run(["runs", "diff", "2", "1", "--store", store, "--fail-above", "5%"])
        #expect(better.status == 0)
        let bad = try CLI.run(["runs", "diff", "1", "2", "--store", store, "--fail-above", "lots"])
        #expect(bad.status == 1)
    }

    @Test func twoProcessesWritingConcurrentlyLoseNoRuns() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        let perWriter = 6
        let writers = (0..<2).map { w -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            let cmd = (0..<perWriter).map { _ in
                "'\(CLI.executable.path)' profile gcn_cora --device devices/raspberry-pi-\(w == 0 ? 4 : 5).yaml --format json -o /dev/null --store '\(store)' || exit 1"
            }.joined(separator: "; ")
            p.arguments = ["-c", cmd]
            p.currentDirectoryURL = CLI.packageRoot
            let log = dir.appendingPathComponent("writer\(w).stderr")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            p.standardError = try? FileHandle(forWritingTo: log)
            return p
        }
        for p in writers { try p.run() }
        for p in writers { p.waitUntilExit() }
        for (w, p) in writers.enumerated() {
            let log = (try? String(contentsOf: dir.appendingPathComponent("writer\(w).stderr"), encoding: .utf8)) ?? ""
            #expect(p.terminationStatus == 0, "writer \(w): \(log.suffix(2000))")
        }
        let s = try RunStore(path: store)
        let c = try s.counts()
        #expect(c.runs == 2 * perWriter)
        #expect(c.devices == 2 * perWriter)
        #expect(try s.list(device: "raspberry_pi_4b").count == perWriter)
    }

    @Test func killingAWriterMidTransactionLeavesNoPartialRun() throws {
        let dir = try CLI.tempDir()
        let store = dir.appendingPathComponent("runs.sqlite").path
        #expect(try CLI.run(profileArgs(store)).status == 0)  // one complete run
        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = profileArgs(store, model: "resnet18")
        p.currentDirectoryURL = CLI.packageRoot
        var env = ProcessInfo.processInfo.environment
        env["EDGEPROF_TEST_PAUSE_IN_TRANSACTION"] = "30"  // stall after writing rows, before commit
        p.environment = env
        let err = Pipe()
        p.standardError = err
        try p.run()
        // Wait until the writer says it is inside the open write transaction, then SIGKILL it.
        var seen = ""
        while !seen.contains("paused inside the write transaction") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("paused inside the write transaction"), "writer never reached the transaction: \(seen)")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        let s = try RunStore(path: store)
        let c = try s.counts()
        #expect(c.runs == 1)
        #expect(c.devices == 1)
        #expect(try s.list().map(\.model) == ["squeezenet1_1"])
        // The store still accepts writes afterwards.
        #expect(try CLI.run(profileArgs(store)).status == 0)
        #expect(try s.counts().runs == 2)
    }
}
