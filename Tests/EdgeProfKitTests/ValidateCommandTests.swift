@testable import EdgeProfKit
import Foundation
import Testing

@Suite struct ValidateCommandTests {
    @Test func publishedModeReportsHeldOutStatisticsAsJSONAndMarkdown() throws {
        let dir = try CLI.tempDir()
        let md = dir.appendingPathComponent("validation.md").path
        let r = try CLI.run(["validate", "--published", "--format", "json", "--report", md])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for key in ["groups", "rows", "heldOut", "heldOutUnflagged", "skippedCounts", "split", "factorScheme"] { #expect(json[key] != nil, "\(key)") }
        let rows = try #require(json["rows"] as? [[String: Any]])
        // Held-out rows are exactly the odd-id ones.
        for row in rows {
            let id = try #require(row["id"] as? String)
            #expect((row["heldOut"] as? Bool) == !PublishedSplit.isEvenID(id))
        }
        let report = try String(contentsOfFile: md, encoding: .utf8)
        #expect(report.contains("## Validation against published latencies"))
        #expect(report.contains("target: median abs error ≤ 20.0% on held-out rows"))
    }

    @Test func malformedCSVIsALocatedErrorWithNoOutput() throws {
        let dir = try CLI.tempDir()
        let csv = dir.appendingPathComponent("bad.csv")
        let header = PublishedLatencyTable.columns.joined(separator: ",")
        try "\(header)\nA1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,fast,,,,S,u\n".write(to: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.txt").path
        let r = try CLI.run(["validate", "--published", csv.path, "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(csv.path):2:51: latency_ms: expected a positive number (milliseconds), got 'fast'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func writeDevicesStoresFactorsAndIsIdempotent() throws {
        let dir = try CLI.tempDir()
        let devices = dir.appendingPathComponent("devices")
        try FileManager.default.createDirectory(at: devices, withIntermediateDirectories: true)
        for f in ["raspberry-pi-4.yaml", "raspberry-pi-5.yaml"] {
            try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent("devices/\(f)"), to: devices.appendingPathComponent(f))
        }
        let csv = CLI.packageRoot.appendingPathComponent("data/published-latency.csv").path
        let first = try CLI.run(["validate", "--published", csv, "--devices", devices.path, "--write-devices", "--format", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        let path = devices.appendingPathComponent("raspberry-pi-4.yaml").path
        let once = try String(contentsOfFile: path, encoding: .utf8)
        let d = try DeviceLoader.load(file: path)
        #expect(d.defaultRuntime == "ncnn_cpu")
        let factor = try #require(d.runtimes["ncnn_cpu"]?.allClasses)
        #expect(factor.source.contains("edgeprof validate --published"))
        #expect(factor.source.contains("N02"))
        _ = try CLI.run(["validate", "--published", csv, "--devices", devices.path, "--write-devices", "--format", "json"])
        let twice = try String(contentsOfFile: path, encoding: .utf8)
        #expect(once == twice)
        #expect(once.components(separatedBy: "# BEGIN runtimes").count == 2)
    }

    /// What `validate --published` reports as the fitted prediction of a row run on all cores is what
    /// `profile` predicts with the committed device file's default runtime.
    @Test func committedRuntimeFactorsReproduceTheFittedPrediction() throws {
        let v = try CLI.run(["validate", "--published", "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        let n08 = try #require(rows.first { ($0["id"] as? String) == "N08" })
        let fitted = try #require(n08["calibratedMs"] as? Double)
        // N08 is ncnn's benchmark ResNet-18 (source S-NCNN → the zoo's resnet18_caffe, PublishedMapping.sourceModelAliases).
        #expect((n08["model"] as? String) == "resnet18")
        let p = try CLI.run(["profile", "resnet18_caffe", "--device", "devices/raspberry-pi-4.yaml", "--format", "json"])
        let profile = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any])
        let device = try #require((profile["devices"] as? [[String: Any]])?.first)
        #expect((device["unit"] as? String) == "cpu · ncnn_cpu")
        let latency = try #require((device["totals"] as? [String: Any])?["latency_s"] as? Double)
        // The file stores factors with 3 decimals (0.238): a relative difference of a few 1e-4 remains.
        #expect(abs(latency * 1000 / fitted - 1) < 3e-3, "profile \(latency * 1000) ms vs validate \(fitted) ms")
    }

    @Test func calibrateWithABadTemplateIsALocatedErrorAndWritesNothing() throws {
        let dir = try CLI.tempDir()
        let template = dir.appendingPathComponent("bad.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("devices/host.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "layer_overhead:", with: "layer_overhed:")
        try text.write(to: template, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("host.yaml").path
        let r = try CLI.run(["calibrate", "--quick", "--template", template.path, "--output", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(template.path):"), "\(r.stderr)")
        #expect(r.stderr.contains("did you mean 'layer_overhead'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// `calibrate --refit` fits a device file from a saved record without measuring: the same record gives the
    /// same file twice, the fitted values keep the record's measurement date and say they were refitted, and a
    /// file that is not a record fails with its path and writes nothing.
    @Test func refitFitsASavedRecordWithoutMeasuring() throws {
        let dir = try CLI.tempDir()
        // Samples as the suite records them: the tiny relu chain, relu streams resident in each of host.yaml's
        // four levels, two 1×1 convs and two cross-core pools (bytes from another core's cache).
        var samples = [CalibrationSample(name: "tiny-relu×16", benchmark: "tiny-kernel chain", role: .overhead, opClass: .elementwise, flops: 4,
                                         levelBytes: [32, 0, 0, 0], measured: 0.06e-6)]
        for (level, bytes, t) in [(0, 16_384.0, 0.25e-6), (1, 262_144.0, 3.5e-6), (2, 4_194_304.0, 90e-6), (3, 67_108_864.0, 3.2e-3)] {
            samples.append(CalibrationSample(name: "stream-relu-\(Int(bytes) / 1024)KiB", benchmark: "relu stream sweep", role: .bandwidth(level: level),
                                             opClass: .elementwise, flops: bytes / 8, levelBytes: (0..<4).map { $0 <= level ? bytes : 0 }, measured: t))
        }
        for (c, t) in [(64.0, 30e-6), (256.0, 105e-6)] {
            let hw = c == 64 ? 784.0 : 196
            samples.append(CalibrationSample(name: "conv1x1-c\(Int(c))", benchmark: "conv/GEMM grid", role: .compute, opClass: .conv1x1,
                                             flops: 2 * c * c * hw, levelBytes: [c * hw * 8, c * hw * 8, 0, 0], measured: t, outputs: c * hw))
        }
        for (c, hw, t) in [(96.0, 3136.0, 7e-6), (32.0, 12544.0, 9e-6)] {
            var pool = CalibrationSample(name: "gap-\(Int(c))", benchmark: "streaming grid", role: .streaming, opClass: .pooling, flops: c * hw,
                                         levelBytes: [c * hw * 4, c * hw * 4, 0, 0], measured: t, outputs: c, channels: c)
            samples.append(pool)
            pool.name += "-after-conv1x1"
            pool.role = .crossCore
            pool.crossCoreBytes = c * hw
            pool.measured = t + c * hw / 16e9
            samples.append(pool)
        }
        let record = CalibrateWorkflow.CalibrationRecord(date: "2026-12-06", quick: true, threads: 2, passes: 1, loadAverage: "0.10 0.20 0.30",
                                                         loadOneMinute: 0.1, coldRepeats: 15, coldStartup: 450e-9, samples: samples,
                                                         latencySweep: [], farApartRerun: 0, farApartKept: [])
        let recordFile = dir.appendingPathComponent("record.json")
        try JSONEncoder().encode(record).write(to: recordFile)
        let template = CLI.packageRoot.appendingPathComponent("devices/host.yaml").path
        var outputs: [String] = []
        for i in 0..<2 {
            let out = dir.appendingPathComponent("refit\(i).yaml").path
            let r = try CLI.run(["calibrate", "--refit", recordFile.path, "--template", template, "--output", out])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("refitting \(samples.count) benchmarks measured 2026-12-06"), "\(r.stderr)")
            // Hand-made names the suite does not have keep their recorded counts, and say so.
            #expect(r.stderr.contains("are no longer in the suite and keep their recorded counts: stream-relu-16KiB, stream-relu-256KiB, stream-relu-4096KiB, conv1x1-c64, conv1x1-c256, …"), "\(r.stderr)")
            outputs.append(try String(contentsOfFile: out, encoding: .utf8))
        }
        #expect(outputs[0] == outputs[1])
        let text = outputs[0]
        #expect(text.contains("cross_core_bandwidth: {value: \"16.00 GB/s\", source: \"measured 2026-12-06 (calibrate --quick, refitted by calibrate --refit"), "\(text)")
        #expect(text.contains("conv_1x1: {value:") && text.contains("stream_startup: {value: \"450 ns\""))
        // Not a record: a located message, nothing written.
        let out = dir.appendingPathComponent("never.yaml").path
        let bad = try CLI.run(["calibrate", "--refit", template, "--template", template, "--output", out])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("\(template): not a calibration record"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // A template with another memory path (a Raspberry Pi 4: l1, l2, dram) does not fit a record of four levels.
        let pi = CLI.packageRoot.appendingPathComponent("devices/raspberry-pi-4.yaml").path
        let mismatch = try CLI.run(["calibrate", "--refit", recordFile.path, "--template", pi, "--output", out])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("measured through 4 memory levels"), "\(mismatch.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let both = try CLI.run(["calibrate", "--refit", recordFile.path, "--quick", "--output", out])
        #expect(both.status != 0 && both.stderr.contains("--refit measures nothing"), "\(both.stderr)")
    }

    /// `validate --rescore` scores a saved run's measurements with this build's predictions and measures
    /// nothing: a hand-made run of squeezenet1_1 whose every measured time is 1.25 × what `profile` predicts
    /// on the Intel guest's file scores −20% on every layer and end to end; rescored against another file,
    /// the predictions are that file's; a file that is not a run, or measuring flags, fail cleanly.
    @Test func rescoreScoresSavedMeasurementsWithoutMeasuring() throws {
        let dir = try CLI.tempDir()
        let intel = "devices/host-intel-xeon.yaml"
        let p = try CLI.run(["profile", "squeezenet1_1", "--device", intel, "--format", "json", "--no-store"])
        #expect(p.status == 0, "\(p.stderr)")
        let profile = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any])
        let device = try #require((profile["devices"] as? [[String: Any]])?.first)
        let layers = try #require(device["layers"] as? [[String: Any]])
        let total = try #require((device["totals"] as? [String: Any])?["latency_s"] as? Double)
        var pairs: [PredictionPair] = []
        for l in layers {
            guard let t = l["latency_s"] as? Double, t > 0, let name = l["name"] as? String else { continue }
            pairs.append(try PredictionPair(label: "squeezenet1_1/\(name)", predicted: 0, measured: 1.25 * t, kind: l["kind"] as? String))
        }
        #expect(pairs.count >= 20)
        let model = HostModelResult(model: "squeezenet1_1", source: "zoo", measuredMs: 1.25 * total * 1000, measuredCoV: 0.01, predictedMs: 0,
                                    relativeError: 0, layers: pairs.count, layerMAPE: 0, layerSpearman: nil, roundMs: [1.25 * total * 1000],
                                    drift: 1.1, driftAdjustedError: nil)
        let e2e = try PredictionPair(label: "squeezenet1_1", predicted: 0, measured: 1.25 * total)
        let stored = HostValidateWorkflow.assemble(deviceFile: "devices/host.yaml", deviceID: "host", calibrationNote: "hand-made", threads: 2,
                                                   machineNote: "test", models: [model], endToEnd: [e2e], layers: pairs,
                                                   spreads: pairs.map { _ in 0.02 }, skippedModels: [], drift: nil, layerRoundSpread: 0.02)
        let file = dir.appendingPathComponent("run.json")
        try JSONEncoder().encode(stored).write(to: file)
        let out = dir.appendingPathComponent("rescored.json").path
        let r = try CLI.run(["validate", "--rescore", file.path, "--device", intel, "--format", "json", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try JSONDecoder().decode(HostValidationResult.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(result.layers.count == pairs.count && result.models.count == 1)
        #expect(abs(result.layers.meanAbsoluteError - 0.2) < 1e-9 && abs(result.endToEnd.meanAbsoluteError - 0.2) < 1e-9)
        #expect(result.layerPairs.allSatisfy { abs($0.relativeError + 0.2) < 1e-9 })
        #expect(result.models[0].drift == nil && result.drift == nil && result.layerRoundSpread == stored.layerRoundSpread)
        #expect(result.calibrationNote.contains("rescored") && result.calibrationNote.contains(file.path))
        // Another device file: its own predictions (the Raspberry Pi 5 is far slower than this host).
        let pi = try CLI.run(["validate", "--rescore", file.path, "--device", "devices/raspberry-pi-5.yaml", "--format", "json"])
        #expect(pi.status == 0, "\(pi.stderr)")
        let piResult = try JSONDecoder().decode(HostValidationResult.self, from: Data(pi.stdout.utf8))
        #expect(piResult.models[0].predictedMs > 2 * 1.25 * total * 1000)
        // Not a run: a located message, nothing written; measuring flags are refused.
        let never = dir.appendingPathComponent("never.json").path
        let bad = try CLI.run(["validate", "--rescore", intel, "--device", intel, "-o", never])
        #expect(bad.status != 0 && bad.stderr.contains("\(intel): not the output of `edgeprof validate --format json`"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: never))
        let both = try CLI.run(["validate", "--rescore", file.path, "--quick"])
        #expect(both.status != 0 && both.stderr.contains("--rescore measures nothing"), "\(both.stderr)")
    }

    /// Each committed host file is what its committed measurements fit: refitting
    /// devices/records/<id>-measurements.json (with that file as template) gives the same fitted
    /// values — efficiencies, overheads, shares, bandwidths, latencies, `cross_core_bandwidth`.
    @Test(arguments: ["host", "host-intel-xeon"])
    func committedHostFileIsTheFitOfItsCommittedMeasurements(_ name: String) throws {
        let dir = try CLI.tempDir()
        let committed = CLI.packageRoot.appendingPathComponent("devices/\(name).yaml").path
        let record = CLI.packageRoot.appendingPathComponent("devices/records/\(name)-measurements.json").path
        let out = dir.appendingPathComponent("refit.yaml").path
        let r = try CLI.run(["calibrate", "--refit", record, "--template", committed, "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try DeviceLoader.load(file: committed), b = try DeviceLoader.load(file: out)
        let ua = try #require(a.computeUnits.first), ub = try #require(b.computeUnits.first)
        func near(_ x: Double?, _ y: Double?, _ what: String) {
            guard let x, let y else { Issue.record("\(what): \(String(describing: x)) vs \(String(describing: y))"); return }
            #expect(abs(x - y) <= 1e-3 * Swift.max(abs(x), abs(y)) + 1e-12, "\(what): \(x) vs \(y)")
        }
        #expect(Set(ua.efficiency.keys) == Set(ub.efficiency.keys))
        for (cls, e) in ua.efficiency { near(e.value, ub.efficiency[cls]?.value, "efficiency.\(cls.rawValue)") }
        for (cls, e) in ua.memoryEfficiency { near(e.value, ub.memoryEfficiency[cls]?.value, "memory_efficiency.\(cls.rawValue)") }
        for (cls, o) in ua.classOverhead { near(o.value.value, ub.classOverhead[cls]?.value.value, "class_overhead.\(cls.rawValue)") }
        near(ua.layerOverhead.value.value, ub.layerOverhead.value.value, "layer_overhead")
        if ua.crossCoreBandwidth != nil || ub.crossCoreBandwidth != nil {
            near(ua.crossCoreBandwidth?.value.value, ub.crossCoreBandwidth?.value.value, "cross_core_bandwidth")
        }
        near(ua.parallelOverhead?.value.value, ub.parallelOverhead?.value.value, "parallel_overhead")
        for (x, y) in zip(a.memory, b.memory) {
            near(x.bandwidth.value.value, y.bandwidth.value.value, "\(x.name).bandwidth")
            if x.latency != nil || y.latency != nil { near(x.latency?.value.value, y.latency?.value.value, "\(x.name).latency") }
        }
        #expect((try String(contentsOfFile: out, encoding: .utf8)).contains("refitted by calibrate --refit"))
    }

    /// Host mode on one small model, one round: the drift probe's reading is applied exactly as
    /// documented (prediction × the drift read before the scored measurement), and --no-probe
    /// leaves it out. Timing values themselves are not asserted.
    @Test func hostModeDriftProbeArithmetic() throws {
        let r = try CLI.run(["validate", "--model", "squeezenet1_1", "--quick", "--threads", "1", "--format", "json", "--no-store"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("(drift probe: "), "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let model = try #require((json["models"] as? [[String: Any]])?.first)
        let drift = try #require(json["drift"] as? [String: Any])
        let rounds = try #require(drift["roundDrift"] as? [Double])
        #expect(rounds.count == 1)
        let d = try #require(model["drift"] as? Double)
        #expect(d == rounds[0])   // one model in the round: its reading is the round's median
        #expect(d > 0)
        let measured = try #require(model["measuredMs"] as? Double), predicted = try #require(model["predictedMs"] as? Double)
        let adjusted = try #require(model["driftAdjustedError"] as? Double)
        #expect(abs(adjusted - (predicted * d / measured - 1)) < 1e-9)
        let e2e = try #require(drift["endToEnd"] as? [String: Any])
        #expect((e2e["count"] as? Int) == 1)
        #expect(abs((e2e["meanAbsoluteError"] as? Double ?? -1) - abs(adjusted)) < 1e-9)
        let items = try #require(drift["firstItems"] as? [[String: Any]])
        #expect(items.count == DriftProbe.names.count)

        let plain = try CLI.run(["validate", "--model", "squeezenet1_1", "--quick", "--threads", "1", "--format", "json", "--no-store", "--no-probe"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let plainJSON = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        #expect(plainJSON["drift"] == nil)
        #expect(!plain.stderr.contains("drift probe"))
    }

    /// --wait-quiet: with a generous limit (1000×: a debug build runs the probe 30–45× slower than the release-fitted
    /// host.yaml predicts) the probe reads quiet at once and the run goes on; against a device
    /// file that predicts everything 1000× too fast the machine never reads quiet, so the run fails after the
    /// wait with the readings and writes nothing.
    @Test func waitQuietGoesOnWhenQuietAndFailsCleanlyWhenNot() throws {
        let ok = try CLI.run(["validate", "--model", "squeezenet1_1", "--quick", "--threads", "1", "--format", "json", "--no-store",
                              "--wait-quiet", "1", "--max-drift", "1000"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("wait-quiet: drift") && ok.stderr.contains("quiet (2/2)"), "\(ok.stderr)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgeprof-quiet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var yaml = try String(contentsOfFile: "devices/host.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: #"GFLOP/s""#, with: #"TFLOP/s""#)
            .replacingOccurrences(of: #"GB/s""#, with: #"TB/s""#)
        let fast = dir.appendingPathComponent("fast.yaml").path
        try yaml.write(toFile: fast, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.json").path
        let busy = try CLI.run(["validate", "--model", "squeezenet1_1", "--quick", "--threads", "1", "--no-store", "--device", fast,
                                "--wait-quiet", "0.02", "--max-drift", "1", "-o", out])
        #expect(busy.status != 0)
        #expect(busy.stderr.contains("did not settle within"), "\(busy.stderr)")
        #expect(busy.stderr.contains("fast.yaml"), "\(busy.stderr)")
        #expect(!busy.stderr.contains("measuring squeezenet1_1"), "nothing measured: \(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func usageErrors() throws {
        let r = try CLI.run(["validate", "data/published-latency.csv"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("only read with --published"))
        let probe = try CLI.run(["validate", "--published", "--no-probe"])
        #expect(probe.status != 0)
        #expect(probe.stderr.contains("--no-probe is a host-mode flag"), "\(probe.stderr)")
        for (args, message) in [(["validate", "--published", "--wait-quiet", "5"], "--wait-quiet is a host-mode flag"),
                                (["validate", "--no-probe", "--wait-quiet", "5"], "cannot go with --no-probe"),
                                (["validate", "--wait-quiet", "0"], "--wait-quiet takes minutes in (0, 240]"),
                                (["calibrate", "--max-drift", "1.5"], "--max-drift needs --wait-quiet"),
                                (["calibrate", "--wait-quiet", "5", "--max-drift", "0.5"], "--max-drift must be between 1 and 1000")] {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}
