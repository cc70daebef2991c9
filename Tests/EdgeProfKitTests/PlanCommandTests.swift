import EdgeProfKit
import Foundation
import Testing

/// `edgeprof plan` and `edgeprof simulate` through the built binary: exit codes, JSON
/// contracts, determinism, located errors; plus the shipped scenarios end to end.
@Suite("plan and simulate commands")
struct PlanCommandTests {
    static let scenarios = ["pi4-wifi-cloud", "pi4-lte-cloud", "phone-5g-edge-cloud", "jetson-ethernet-server", "mcu-lte-cloud"]

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(arguments: scenarios)
    func everyShippedScenarioPlans(_ name: String) throws {
        let r = try CLI.run(["plan", "profiles/\(name).yaml", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        #expect(j["schema_version"] as? Int == 1)
        #expect(j["provenance"] as? String == "predicted")
        #expect(j["feasible"] as? Bool == true)
        let planner = try #require(j["planner"] as? [String: Any])
        #expect(planner["optimality"] as? String == "exact")
        let plan = try #require(j["plan"] as? [String: Any])
        let totals = try #require(plan["totals"] as? [String: Any])
        for key in ["latency_s", "device_energy_j", "period_s", "throughput_per_s", "device_peak_memory_bytes", "uplink_bytes", "objective_value"] {
            #expect(totals[key] is Double, "plan.totals.\(key)")
        }
        let alternatives = try #require(j["alternatives"] as? [[String: Any]])
        #expect(alternatives.contains { $0["name"] as? String == "device only" })
        #expect(alternatives.allSatisfy { ($0["verdict"] as? String)?.isEmpty == false })
    }

    @Test func tableNamesTheBestPlanAndTheAlternatives() throws {
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("PREDICTED"))
        #expect(r.stdout.contains("Best plan"))
        #expect(r.stdout.contains("Why the alternatives lost"))
        #expect(r.stdout.contains("multitier-mincut — exact"))
    }

    @Test func sweepReportsSwitchPointsAndAPolicyMap() throws {
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--sweep-bandwidth", "0.5..1000", "Mbit/s", "--sweep-points", "60", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let points = try #require(j["points"] as? [[String: Any]])
        #expect(points.count == 60)
        let first = try #require(points.first?["bandwidth_bits_per_s"] as? Double)
        let last = try #require(points.last?["bandwidth_bits_per_s"] as? Double)
        #expect(abs(first - 0.5e6) < 1 && abs(last - 1e9) < 1e-3)
        let switches = try #require(j["switch_points_bits_per_s"] as? [Double])
        let intervals = try #require(j["intervals"] as? [[String: Any]])
        #expect(intervals.count == switches.count + 1)
        #expect(switches == switches.sorted())
        #expect(!switches.isEmpty, "Wi-Fi from 0.5 to 1000 Mbit/s should change the plan")
        let table = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--sweep-bandwidth", "0.5..1000 Mbit/s", "--sweep-points", "20"])
        #expect(table.status == 0 && table.stdout.contains("Policy map") && table.stdout.contains("all on device"))
    }

    @Test func simulateIsDeterministicForASeed() throws {
        let args = ["simulate", "profiles/phone-5g-edge-cloud.yaml", "--arrivals", "poisson", "--rate", "40", "--clients", "4", "--frames", "300",
                    "--seed", "7", "--format", "json"]
        let a = try CLI.run(args), b = try CLI.run(args)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout == b.stdout)
        let j = try Self.json(a.stdout)
        #expect(j["provenance"] as? String == "simulated")
        let results = try #require(j["results"] as? [String: Any])
        #expect(results["completed"] as? Int == 1200)
        for key in ["latency_p50_s", "latency_p90_s", "latency_p99_s", "throughput_per_s", "energy_per_request_j", "average_device_power_w"] {
            #expect(results[key] is Double, "results.\(key)")
        }
        let resources = try #require(j["resources"] as? [[String: Any]])
        #expect(resources.allSatisfy { ($0["utilisation"] as? Double ?? 2) <= 1 + 1e-9 })
        let c = try CLI.run(args.map { $0 == "7" ? "8" : $0 })
        #expect(c.status == 0 && c.stdout != a.stdout)
    }

    @Test func lowLoadSimulationReproducesThePlannedLatency() throws {
        // Ethernet: no jitter, no loss; one frame every 0.5 s never queues.
        let r = try CLI.run(["simulate", "profiles/jetson-ethernet-server.yaml", "--arrivals", "fps", "--fps", "2", "--frames", "50", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let planned = try #require((j["planned"] as? [String: Any])?["latency_s"] as? Double)
        let simulated = try #require((j["results"] as? [String: Any])?["latency_mean_s"] as? Double)
        #expect(abs(simulated - planned) / planned < 0.01, "simulated \(simulated) s, planned \(planned) s")
    }

    @Test func lowLoadWithJitterAndLossStaysWithinOnePercent() throws {
        // Wi-Fi (jitter, 0.1 % loss) without the trace: the mean converges to the planner's expectation.
        let dir = try CLI.tempDir()
        let root = CLI.packageRoot.path
        let yaml = """
        schema_version: 1
        name: wifi-no-trace
        model: mobilenet_v2
        tiers:
          - {name: device, device: \(root)/devices/raspberry-pi-4.yaml}
          - {name: edge, device: \(root)/devices/jetson-orin-nano.yaml}
        links:
          - {file: \(root)/links/wifi5.yaml}
        """
        let path = dir.appendingPathComponent("s.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["simulate", path, "--fps", "5", "--frames", "4000", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let planned = try #require((j["planned"] as? [String: Any])?["latency_s"] as? Double)
        let simulated = try #require((j["results"] as? [String: Any])?["latency_mean_s"] as? Double)
        #expect(abs(simulated - planned) / planned < 0.01, "simulated \(simulated) s, planned \(planned) s")
    }

    // MARK: Errors: `error: ...` on stderr, exit 1, nothing written

    @Test func missingScenarioFails() throws {
        let r = try CLI.run(["plan", "profiles/nope.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: profiles/nope.yaml: cannot read file"))
    }

    @Test func aProfileScenarioWithoutTiersIsRejected() throws {
        let r = try CLI.run(["plan", "profiles/default.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("tiers"))
    }

    @Test func unknownPlannerSuggestsTheClosestName() throws {
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--planner", "chain-scn"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unknown planner 'chain-scn' (did you mean 'chain-scan'?)"))
    }

    @Test func aPlannerOutsideItsGuaranteeIsRefused() throws {
        let r = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--planner", "dads-mincut"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("does not support this problem: two tiers only"))
    }

    @Test func badBandwidthsFail() throws {
        let a = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--bandwidth", "fast"])
        #expect(a.status == 1 && a.stderr.contains("--bandwidth: expected a rate like"))
        let b = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--sweep-bandwidth", "100..1", "Mbit/s"])
        #expect(b.status == 1 && b.stderr.contains("0 < from < to"))
        let c = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--sweep-bandwidth", "1..10", "furlongs"])
        #expect(c.status == 1 && c.stderr.contains("--sweep-bandwidth"))
    }

    @Test func unknownLayerInAPrivacyConstraintIsLocated() throws {
        let dir = try CLI.tempDir()
        let root = CLI.packageRoot.path
        let yaml = """
        schema_version: 1
        name: privacy
        model: mobilenet_v2
        tiers:
          - {name: device, device: \(root)/devices/raspberry-pi-4.yaml}
          - {name: cloud, device: \(root)/devices/cloud-gpu.yaml}
        links:
          - {file: \(root)/links/lte.yaml}
        constraints:
          keep_on_device_through: features.3.conv.9
        """
        let path = dir.appendingPathComponent("s.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["plan", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(path):10:27: constraints.keep_on_device_through: no layer named 'features.3.conv.9' in mobilenet_v2"))
        #expect(r.stderr.contains("did you mean"))
    }

    @Test func invalidSimulationFlagsFail() throws {
        let a = try CLI.run(["simulate", "profiles/pi4-wifi-cloud.yaml", "--fps", "0"])
        #expect(a.status != 0 && a.stderr.contains("--fps must be positive"))
        let b = try CLI.run(["simulate", "profiles/jetson-ethernet-server.yaml", "--replan"])
        #expect(b.status == 1 && b.stderr.contains("needs a link with a bandwidth trace"))
        let c = try CLI.run(["simulate", "profiles/pi4-wifi-cloud.yaml", "--deadline", "soon"])
        #expect(c.status == 1 && c.stderr.contains("--deadline: expected a time"))
    }

    @Test func outputIsWrittenAtomicallyAndNotOnError() throws {
        let dir = try CLI.tempDir()
        let good = dir.appendingPathComponent("out/plan.md").path
        let r = try CLI.run(["plan", "profiles/mcu-lte-cloud.yaml", "--format", "markdown", "-o", good])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: good, encoding: .utf8)
        #expect(text.hasPrefix("# edgeprof plan: mcu-lte-cloud"))
        #expect(text.contains("| --- |"))
        let bad = dir.appendingPathComponent("bad.json").path
        let e = try CLI.run(["simulate", "profiles/nope.yaml", "-o", bad])
        #expect(e.status == 1)
        #expect(!FileManager.default.fileExists(atPath: bad))
    }
}
