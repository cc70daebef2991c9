import EdgeProfKit
import Foundation
import KernelRunner
import Testing

/// `edgeprof measure MODEL --device FILE`: the runner configured from a device profile, the
/// trace-driven scaling, and the failure modes (issue 10).
@Suite("Device-parameterised runs")
struct DeviceEmulationTests {
    static func device(_ name: String) throws -> DeviceProfile {
        try DeviceLoader.load(file: CLI.packageRoot.appendingPathComponent("devices/\(name)").path)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: configuration derived from the profile

    @Test func raspberryPi4PlanComesFromItsProfile() throws {
        let pi4 = try Self.device("raspberry-pi-4.yaml")
        let unit = try #require(pi4.unit(named: nil))
        let l2 = pi4.levels(for: unit)[1]
        let plan = try DeviceEmulation.plan(device: pi4, unit: nil, hostCores: 2, requestedThreads: nil)
        #expect(plan.deviceThreads == unit.cores.value && unit.cores.value == 4)
        #expect(plan.threads == 2 && plan.threadsCapped)
        #expect(plan.notes.contains { $0.contains("this host has 2 cores") })
        #expect(plan.im2colTileBytes == Int(l2.size.value.value) / 2)
        #expect(plan.pointwiseTileBytes == Int(l2.size.value.value), "1×1 output tiles: the whole L2")
        #expect(plan.runnerOptions.pointwiseTileBytes == Int(l2.size.value.value))
        #expect(plan.tileSource.contains(l2.name))
        #expect(plan.precision == "fp32" && plan.simulatedStorage == "fp32")
        #expect(plan.memoryLimitBytes == pi4.ram.value.value)
        // A bigger host is not capped; --threads overrides the device's cores.
        let roomy = try DeviceEmulation.plan(device: pi4, unit: nil, hostCores: 64, requestedThreads: nil)
        #expect(roomy.threads == 4 && !roomy.threadsCapped)
        let single = try DeviceEmulation.plan(device: pi4, unit: nil, hostCores: 2, requestedThreads: 1)
        #expect(single.threads == 1 && single.deviceThreads == 1 && !single.threadsCapped)
    }

    @Test func fp16UnitsSimulateFP16Storage() throws {
        let pi5 = try Self.device("raspberry-pi-5.yaml")
        let plan = try DeviceEmulation.plan(device: pi5, unit: nil, hostCores: 2, requestedThreads: nil)
        #expect(plan.precision == "fp16" && plan.storesFP16)
        let nano = try Self.device("jetson-nano.yaml")
        let cpu = try DeviceEmulation.plan(device: nano, unit: "cpu", hostCores: 2, requestedThreads: nil)
        #expect(cpu.precision == "fp32" && cpu.unit == "cpu")
        let gpu = try DeviceEmulation.plan(device: nano, unit: nil, hostCores: 2, requestedThreads: nil)
        #expect(gpu.unitKind == "gpu" && gpu.threads == 2 && gpu.notes.contains { $0.contains("GPU") })
    }

    @Test func hostPlanIsTheRunnerDefault() throws {
        let host = try Self.device("host.yaml")
        let plan = try DeviceEmulation.plan(device: host, unit: nil, hostCores: 2, requestedThreads: nil)
        #expect(plan.im2colTileBytes == RunnerOptions.defaultIm2colTileBytes)
        #expect(plan.threads == 2 && !plan.threadsCapped)
    }

    @Test func acceleratorsAreRefusedWithThePathToTheAnalyticalModel() throws {
        let accel = try Self.device("mlc-stt-ram-accelerator.yaml")
        do {
            _ = try DeviceEmulation.plan(device: accel, unit: nil, hostCores: 2, requestedThreads: nil)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("cannot emulate"))
            #expect(error.description.contains("edgeprof profile"))
        }
    }

    // MARK: through the CLI

    static let quick = ["--iterations", "3", "--warmup", "1", "--format", "json"]

    static let deviceFiles: [String] = {
        let dir = CLI.packageRoot.appendingPathComponent("devices").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    /// Every committed device file: a scaled run, or a clear refusal (accelerators) or shortfall (too little RAM).
    @Test(arguments: deviceFiles)
    func everyCommittedDeviceEitherRunsOrSaysWhyNot(_ file: String) throws {
        let device = try Self.device(file)
        let kind = device.unit(named: nil)?.kind
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/\(file)", "--iterations", "1", "--warmup", "0", "--format", "json"])
        if kind == .accelerator || kind == .npu {
            #expect(r.status != 0 && r.stderr.contains("cannot emulate"), "\(file): \(r.stderr)")
        } else if r.status != 0 {
            #expect(r.stderr.contains("does not fit") && r.stderr.contains("short by"), "\(file): \(r.stderr)")
            #expect(device.ram.value.value < 64 * 1024 * 1024, "\(file) has \(device.ram.value) of RAM but squeezenet1_1 did not fit")
        } else {
            let totals = try #require(try Self.json(r.stdout)["totals"] as? [String: Any])
            #expect((totals["scaled_latency_s"] as? Double ?? 0) > 0, "\(file)")
            #expect((totals["predicted_latency_s"] as? Double ?? 0) > 0, "\(file)")
        }
    }

    @Test func hostOnHostScalingIsTheMeasurement() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/host.yaml"] + Self.quick)
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let totals = try #require(j["totals"] as? [String: Any])
        let measured = try #require((totals["measured_latency_s"] as? [String: Any])?["p50"] as? Double)
        let scaled = try #require(totals["scaled_latency_s"] as? Double)
        #expect(abs(scaled - measured) <= 1e-9 * measured, "scaled \(scaled) vs measured \(measured)")
        #expect(totals["predicted_latency_s"] as? Double == totals["host_predicted_latency_s"] as? Double)
        let layers = try #require(j["layers"] as? [[String: Any]])
        let medians = layers.compactMap { ($0["measured_latency_s"] as? [String: Any])?["p50"] as? Double }
        let norm = measured / medians.reduce(0, +)
        for (l, m) in zip(layers, medians) {
            let s = try #require(l["scaled_latency_s"] as? Double)
            #expect(abs(s - m * norm) <= 1e-12 + 1e-9 * s, "\(l["name"] ?? "")")
        }
        // On the host itself the "disagreements" are the layers whose real kernel strays most from its prediction.
        let emulation = try #require(j["emulation"] as? [String: Any])
        let worst = try #require((emulation["disagreements"] as? [[String: Any]])?.first)
        let factor = try #require(worst["host_factor"] as? Double)
        #expect(abs(factor - (worst["scaled_latency_s"] as! Double) / (worst["predicted_latency_s"] as! Double)) <= 1e-9 * factor)
    }

    @Test func raspberryPi4RunCarriesThreeNumbersPerLayer() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/raspberry-pi-4.yaml"] + Self.quick)
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.json(r.stdout)
        let plan = try #require((j["emulation"] as? [String: Any])?["plan"] as? [String: Any])
        #expect(plan["device_id"] as? String == "raspberry_pi_4b")
        #expect(plan["threads"] as? Int == min(4, ProcessInfo.processInfo.activeProcessorCount))
        #expect((j["settings"] as? [String: Any])?["threads"] as? Int == plan["threads"] as? Int)
        let layers = try #require(j["layers"] as? [[String: Any]])
        let costed = layers.filter { ($0["host_predicted_latency_s"] as? Double ?? 0) > 0 }
        #expect(!costed.isEmpty)
        for l in costed {
            let p = try #require(l["predicted_latency_s"] as? Double), s = try #require(l["scaled_latency_s"] as? Double)
            let hp = try #require(l["host_predicted_latency_s"] as? Double)
            #expect(p > 0 && s > 0 && hp > 0)
            #expect(p != hp, "the Pi 4 and the host predict the same time for \(l["name"] ?? "")")
        }
        let table = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/raspberry-pi-4.yaml", "--iterations", "2", "--warmup", "0"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("raspberry_pi_4b predicted") && table.stdout.contains("raspberry_pi_4b scaled"))
        #expect(table.stdout.contains("PREDICTED") && table.stdout.contains("SCALED") && table.stdout.contains("MEASURED"))
    }

    @Test func fp16DeviceReportsStorageNumerics() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/raspberry-pi-5.yaml"] + Self.quick)
        #expect(r.status == 0, "\(r.stderr)")
        let em = try #require(try Self.json(r.stdout)["emulation"] as? [String: Any])
        let numerics = try #require(em["numerics"] as? [String: Any])
        let rel = try #require(numerics["max_relative_difference"] as? Double)
        #expect(rel > 0 && rel < 0.05)
    }

    @Test func modelThatDoesNotFitFailsNamingTheShortfall() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.json")
        let r = try CLI.run(["measure", "mobilenet_v2", "--device", "devices/stm32h743.yaml", "-o", out.path] + Self.quick)
        #expect(r.status != 0)
        #expect(r.stderr.contains("does not fit devices/stm32h743.yaml") && r.stderr.contains("short by"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func acceleratorProfileIsRefusedByTheCLI() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/mlc-stt-ram-accelerator.yaml"] + Self.quick)
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot emulate"), "\(r.stderr)")
    }

    @Test func missingHostProfileIsAnIOError() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--device", "devices/raspberry-pi-4.yaml", "--host", "devices/nope.yaml"] + Self.quick)
        #expect(r.status != 0)
        #expect(r.stderr.contains("devices/nope.yaml"))
    }

    // MARK: planner input

    @Test func plannerAndSimulatorAcceptScaledCosts() throws {
        let plan = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--model", "squeezenet1_1", "--costs", "scaled", "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let j = try Self.json(plan.stdout)
        #expect(j["provenance"] as? String == "scaled")
        #expect((j["cost_note"] as? String)?.contains("SCALED") == true)
        #expect(j["feasible"] as? Bool == true)
        #expect(plan.stderr.contains("measuring squeezenet1_1 on this host"))
        let predicted = try Self.json(try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--model", "squeezenet1_1", "--format", "json"]).stdout)
        #expect(predicted["provenance"] as? String == "predicted" && predicted["cost_note"] == nil)

        let sim = try CLI.run(["simulate", "profiles/pi4-wifi-cloud.yaml", "--model", "squeezenet1_1", "--costs", "scaled", "--frames", "50", "--format", "json"])
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(try Self.json(sim.stdout)["costs"] as? String == "scaled")

        let bad = try CLI.run(["plan", "profiles/pi4-wifi-cloud.yaml", "--costs", "measured"])
        #expect(bad.status != 0 && bad.stderr.contains("--costs"))
    }
}

/// Scoring of predicted vs scaled estimates against published rows on a hand-made table.
@Suite("Scaled published validation")
struct ScaledPublishedValidationTests {
    static func row(_ id: String, device: String = "pi", heldOut: Bool = true, published: Double, predicted: Double, scaled: Double)
        -> ScaledPublishedValidation.RowResult {
        ScaledPublishedValidation.RowResult(id: id, model: "m", zooModel: "m", device: device, runtime: "ncnn_cpu", threads: 4, hostThreads: 2,
                                            heldOut: heldOut, fitting: !heldOut, flagged: false, scaledFactor: nil, publishedMs: published,
                                            predictedMs: predicted, scaledMs: scaled, scaledUnfittedMs: scaled, hostMeasuredMs: 1, hostPredictedMs: 1)
    }

    @Test func handMadeTable() {
        // pi: errors predicted +50%, −20%, +10% → median 20%; scaled +5%, −30%, 0% → median 5%. The fit row is ignored.
        // nano: predicted +10% vs scaled −40% → predicted is closer.
        let rows = [
            Self.row("A1", published: 100, predicted: 150, scaled: 105),
            Self.row("A3", published: 50, predicted: 40, scaled: 35),
            Self.row("A5", published: 10, predicted: 11, scaled: 10),
            Self.row("A2", heldOut: false, published: 10, predicted: 1000, scaled: 1000),
            Self.row("B1", device: "nano", published: 20, predicted: 22, scaled: 12),
        ]
        let r = ScaledPublishedValidation.score(rows, hostProfile: "host.yaml")
        let pi = r.groups.first { $0.device == "pi" }!
        #expect(pi.heldOutRows == 3)
        #expect(abs(pi.predicted.medianAbsoluteError - 0.2) < 1e-12)
        #expect(abs(pi.scaled.medianAbsoluteError - 0.05) < 1e-12)
        #expect(abs(pi.predicted.shareWithinTolerance - 2.0 / 3.0) < 1e-12)   // 50% is outside ±25%
        #expect(abs(pi.scaled.shareWithinTolerance - 2.0 / 3.0) < 1e-12)      // −30% is outside
        #expect(pi.better == "scaled")
        let nano = r.groups.first { $0.device == "nano" }!
        #expect(nano.better == "predicted")
        #expect(r.heldOutPredicted.count == 4 && r.heldOutScaled.count == 4)
        // Held-out predicted errors 50, 20, 10, 10 → median 15%.
        #expect(abs(r.heldOutPredicted.medianAbsoluteError - 0.15) < 1e-12)
    }

    @Test func scaledFactorIsTheGeometricMeanOverFittingRowsOnly() {
        // Fitting rows: published/unfitted = 2 and 8 → factor √16 = 4; held-out rows are multiplied, not used.
        let rows = [
            Self.row("A2", heldOut: false, published: 20, predicted: 20, scaled: 10),
            Self.row("A4", heldOut: false, published: 80, predicted: 80, scaled: 10),
            Self.row("A1", published: 100, predicted: 100, scaled: 1000),
            Self.row("B1", device: "nano", published: 5, predicted: 5, scaled: 3),
        ]
        let fitted = ScaledPublishedValidation.fitScaled(rows)
        let a1 = fitted.first { $0.id == "A1" }!
        #expect(abs(a1.scaledMs - 4000) < 1e-9 && abs(a1.scaledFactor! - 4) < 1e-12)
        let b1 = fitted.first { $0.id == "B1" }!
        #expect(b1.scaledMs == 3 && b1.scaledFactor == nil)   // no fitting rows: unchanged
    }
}
