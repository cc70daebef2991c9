import EdgeProfKit
import Foundation
import Testing

@Suite struct ProfileCommandTests {
    @Test func jsonContractHasDocumentedKeysInSIUnits() throws {
        let r = try CLI.run(["profile", "resnet50", "--device", "devices/raspberry-pi-5.yaml", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["schema_version"] as? Int == 1)
        #expect(json["provenance"] as? String == "predicted")
        let devices = try #require(json["devices"] as? [[String: Any]])
        #expect(devices.count == 1)
        let totals = try #require(devices[0]["totals"] as? [String: Any])
        for key in ["macs", "flops", "params", "latency_s", "energy_j", "peak_memory_bytes", "bytes_moved", "energy_breakdown"] {
            #expect(totals[key] != nil, "totals.\(key) missing")
        }
        let macs = try #require(totals["macs"] as? Int)
        #expect(abs(Double(macs) - 4.09e9) / 4.09e9 < 0.02)
        let latency = try #require(totals["latency_s"] as? Double)
        #expect(latency > 1e-4 && latency < 10, "latency in seconds, got \(latency)")
        let layers = try #require(devices[0]["layers"] as? [[String: Any]])
        #expect(!layers.isEmpty)
        for key in ["name", "kind", "output_shape", "macs", "params", "bytes_moved", "bound", "latency_s", "energy_j", "share"] {
            #expect(layers[0][key] != nil, "layers[0].\(key) missing")
        }
        let shareSum = layers.compactMap { $0["share"] as? Double }.reduce(0, +)
        #expect(abs(shareSum - 1) < 1e-6)
    }

    /// The Intel guest's file prices reads from the other core's cache (`cross_core_bandwidth`): mobilenet_v2's
    /// depthwise convs read their pixel-split expansions' output, so they carry `cross_core_bytes` and
    /// `cross_core_s` (part of `overhead_s`); a device without private levels or the rate (Raspberry Pi 5)
    /// reports neither key.
    @Test func crossCoreReadsAppearWhereTheDevicePricesThem() throws {
        func layers(_ device: String) throws -> [[String: Any]] {
            let r = try CLI.run(["profile", "mobilenet_v2", "--device", device, "--format", "json", "--no-store"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return try #require((json["devices"] as? [[String: Any]])?.first?["layers"] as? [[String: Any]])
        }
        let intel = try layers("devices/host-intel-xeon.yaml")
        let crossing = intel.filter { ($0["cross_core_bytes"] as? Int ?? 0) > 0 }
        #expect(crossing.contains { ($0["kind"] as? String ?? "").hasPrefix("dwconv") }, "\(crossing.map { $0["name"] ?? "" })")
        for l in crossing {
            let t = try #require(l["cross_core_s"] as? Double, "\(l["name"] ?? "")")
            #expect(t > 0 && t <= (l["overhead_s"] as? Double ?? 0), "\(l["name"] ?? "")")
        }
        #expect(try layers("devices/raspberry-pi-5.yaml").allSatisfy { $0["cross_core_bytes"] == nil && $0["cross_core_s"] == nil })
    }

    /// Steady state by default: mobilenet_v3_small (9.8 MiB of weights + 1.7 MiB of activations) fits
    /// the host's 32 MiB L3 twice, so its weights come from L3; `--cold-weights` reads them from
    /// DRAM and says so, with more DRAM bytes and a longer latency. resnet50 on a Raspberry Pi 4
    /// (1 MiB L2) reads them from DRAM either way.
    @Test func coldWeightsPricesAFirstInference() throws {
        func totals(_ args: [String]) throws -> [String: Any] {
            let r = try CLI.run(["profile"] + args + ["--format", "json", "--no-store"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return try #require((json["devices"] as? [[String: Any]])?.first?["totals"] as? [String: Any])
        }
        func dram(_ t: [String: Any]) throws -> Double {
            let level = try #require((t["bytes_moved"] as? [[String: Any]])?.first { $0["level"] as? String == "dram" })
            return (level["read_bytes"] as? Double ?? 0) + (level["write_bytes"] as? Double ?? 0)
        }
        let steady = try totals(["mobilenet_v3_small", "--device", "devices/host.yaml"])
        let cold = try totals(["mobilenet_v3_small", "--device", "devices/host.yaml", "--cold-weights"])
        #expect(steady["weights_from"] as? String == "l3" && steady["cold_weights"] as? Bool == false)
        #expect(cold["weights_from"] as? String == "dram" && cold["cold_weights"] as? Bool == true)
        let weights = try #require(steady["weight_bytes"] as? Double)
        #expect(abs(try dram(cold) - dram(steady) - weights) / weights < 1e-6)
        #expect(try #require(cold["latency_s"] as? Double) > (try #require(steady["latency_s"] as? Double)))
        let pi = try totals(["resnet50", "--device", "devices/raspberry-pi-4.yaml"])
        #expect(pi["weights_from"] as? String == "dram")
        let table = try CLI.run(["profile", "mobilenet_v3_small", "--device", "devices/host.yaml", "--cold-weights", "--no-store", "--top", "1"])
        #expect(table.stdout.contains("weights: read from dram by every kernel (--cold-weights"))
    }

    @Test func tableComparesSeveralDevicesSideBySide() throws {
        let r = try CLI.run(["profile", "mobilenet_v2", "--device", "devices/raspberry-pi-4.yaml", "--device", "devices/jetson-orin-nano.yaml", "--top", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Device comparison (predicted)"))
        #expect(r.stdout.contains("raspberry_pi_4b"))
        #expect(r.stdout.contains("jetson_orin_nano"))
        #expect(r.stdout.contains("PREDICTED"))
        #expect(r.stdout.contains("(top 5 layers by latency"))
    }

    @Test func markdownOutputIsWrittenAtomicallyToAFile() throws {
        let dir = try CLI.tempDir()
        let out = dir.appendingPathComponent("sub/report.md").path
        let r = try CLI.run(["profile", "squeezenet1_1", "--device", "devices/raspberry-pi-4.yaml", "--format", "markdown", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("# edgeprof profile: squeezenet1\\_1"))
        #expect(text.contains("| --- |"))
    }

    @Test func unknownModelFailsWithSuggestionAndWritesNothing() throws {
        let dir = try CLI.tempDir()
        let out = dir.appendingPathComponent("r.json").path
        let r = try CLI.run(["profile", "mobilenet_v9", "--device", "devices/raspberry-pi-4.yaml", "-o", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown model 'mobilenet_v9'"))
        #expect(r.stderr.contains("did you mean"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func badDeviceFileReportsFileLineColumnAndField() throws {
        let dir = try CLI.tempDir()
        let bad = dir.appendingPathComponent("bad.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("devices/raspberry-pi-4.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "bandwidth:", with: "bandwith:")
        try text.write(to: bad, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("r.md").path
        let r = try CLI.run(["profile", "mobilenet_v2", "--device", bad.path, "--format", "markdown", "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(bad.path):"))
        #expect(r.stderr.contains("bandwith: unknown key 'bandwith' (did you mean 'bandwidth'?)"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let check = try CLI.run(["devices", "check", bad.path, "devices/raspberry-pi-5.yaml"])
        #expect(check.status == 1)
        #expect(check.stdout.contains("1 ok, 1 with errors"))
    }

    @Test func devicesCheckAcceptsEveryCommittedDevice() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: CLI.packageRoot.appendingPathComponent("devices").path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "devices/\($0)" }
        #expect(files.count >= 7)
        let r = try CLI.run(["devices", "check"] + files)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\(files.count) ok, 0 with errors"))
    }

    @Test func modelsListsTheZooWithCounts() throws {
        let r = try CLI.run(["models", "--format", "json"])
        #expect(r.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let names = rows.compactMap { $0["name"] as? String }
        for n in ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0", "squeezenet1_1",
                  "resnet18", "resnet50", "efficientnet_b0", "vit_tiny", "gcn_cora"] {
            #expect(names.contains(n), "zoo lacks \(n)")
        }
    }

    @Test func usageErrorsExitNonZero() throws {
        let noDevice = try CLI.run(["profile", "mobilenet_v2"])
        #expect(noDevice.status != 0)
        #expect(noDevice.stderr.contains("--device"))
        let badTop = try CLI.run(["profile", "mobilenet_v2", "--device", "devices/raspberry-pi-4.yaml", "--top", "0"])
        #expect(badTop.status != 0)
        let badShape = try CLI.run(["profile", "mobilenet_v2", "--device", "devices/raspberry-pi-4.yaml", "--input-shape", "x=1xAx3"])
        #expect(badShape.status == 1)
        #expect(badShape.stderr.contains("dimensions must be positive integers"))
    }
}

@Suite struct ScenarioTests {
    @Test func defaultScenarioReportsMatchCommittedExamples() throws {
        // reports/default.{md,html} are generated by scripts/regen-reports.sh (fixed time, --no-store);
        // they must not drift from what the code renders.
        let root = CLI.packageRoot.path
        let run = try ScenarioRun.load(CLI.packageRoot.appendingPathComponent("profiles/default.yaml").path)
        let result = try run.profile()
        #expect(result.report.devices.count == 7)
        var record = run.record(result, commandLine: ["edgeprof", "scenario", "profiles/default.yaml", "--no-store"], basePath: root)
        record.createdAt = "2026-01-01T00:00:00Z"
        record.buildID = "reproducible"
        for (file, format) in [("reports/default.md", RunRecording.ReportFormat.md), ("reports/default.html", .html)] {
            let committed = try String(contentsOf: CLI.packageRoot.appendingPathComponent(file), encoding: .utf8)
            let rendered = RunRecording.render(record, format: format)
            #expect(rendered == committed, "\(file) drifted from the code: run scripts/regen-reports.sh")
        }
    }

    /// The plan / sweep / simulate examples of scripts/regen-reports.sh, rendered again into a temp
    /// directory with the same arguments (only the report paths differ, and are mapped back).
    static let splitExamples: [(name: String, args: [String])] = [
        ("pi4-wifi-cloud-plan", ["plan", "profiles/pi4-wifi-cloud.yaml", "-o", "/dev/null", "--no-store"]),
        ("pi4-wifi-cloud-sweep", ["plan", "profiles/pi4-wifi-cloud.yaml", "--sweep-bandwidth", "0.5..1000", "Mbit/s", "-o", "/dev/null", "--no-store"]),
        ("pi4-wifi-cloud-simulate", ["simulate", "profiles/pi4-wifi-cloud.yaml", "-o", "/dev/null", "--no-store"]),
    ]

    @Test(arguments: splitExamples.map(\.name))
    func splitComputingExamplesMatchCommittedReports(_ name: String) throws {
        let args = try #require(Self.splitExamples.first { $0.name == name }).args
        let dir = try CLI.tempDir()
        let html = dir.appendingPathComponent("\(name).html").path, md = dir.appendingPathComponent("\(name).md").path
        let r = try CLI.run(args + ["--report", html, "--report", md], environment: ["EDGEPROF_FIXED_TIME": "2026-01-01T00:00:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        for ext in ["html", "md"] {
            let committed = try String(contentsOf: CLI.packageRoot.appendingPathComponent("reports/\(name).\(ext)"), encoding: .utf8)
            let rendered = try String(contentsOfFile: dir.appendingPathComponent("\(name).\(ext)").path, encoding: .utf8)
                .replacingOccurrences(of: dir.path + "/", with: "reports/")
            #expect(rendered == committed, "reports/\(name).\(ext) drifted from the code: run scripts/regen-reports.sh")
        }
    }

    @Test func scenarioWithMissingDeviceIsALocatedError() throws {
        let dir = try CLI.tempDir()
        let file = dir.appendingPathComponent("s.yaml")
        try "schema_version: 1\nname: x\nmodel: resnet18\ndevices:\n  - nope.yaml\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["scenario", file.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(file.path):5:5: devices[0]: device file"))
    }

    /// `cold_weights: true` prices a first inference on every device of the scenario (as
    /// `profile --cold-weights`); a value that is not a boolean is a located error.
    @Test func scenarioColdWeights() throws {
        let dir = try CLI.tempDir()
        let host = CLI.packageRoot.appendingPathComponent("devices/host.yaml").path
        let file = dir.appendingPathComponent("s.yaml")
        func scenario(_ cold: String) throws -> ProfileWorkflow.Result {
            try "schema_version: 1\nname: x\nmodel: mobilenet_v3_small\ndevices:\n  - \(host)\n\(cold)".write(to: file, atomically: true, encoding: .utf8)
            return try ScenarioRun.load(file.path).profile()
        }
        let steady = try #require(try scenario("").report.devices.first?.totals)
        let cold = try #require(try scenario("cold_weights: true\n").report.devices.first?.totals)
        #expect(steady.weightsFrom == "l3" && steady.coldWeights == false)
        #expect(cold.weightsFrom == "dram" && cold.coldWeights == true && cold.latencyS > steady.latencyS)
        try "schema_version: 1\nname: x\nmodel: resnet18\ndevices:\n  - \(host)\ncold_weights: maybe\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["scenario", file.path, "--no-store"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(file.path):6:15: cold_weights"), "\(r.stderr)")
    }
}
