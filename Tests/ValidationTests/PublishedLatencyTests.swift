import DeviceSpec
import Foundation
import ModelImport
import Testing
import Validation

@Suite("Published-latency CSV")
struct PublishedLatencyTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let header = PublishedLatencyTable.columns.joined(separator: ",")

    static func csv(_ rows: [String]) -> String { ([header] + rows).joined(separator: "\n") + "\n" }

    @Test func parsesRowsIncludingQuotedFields() throws {
        let t = try PublishedLatencyTable.parse(csv: Self.csv([
            "N02,mobilenet_v1,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,61.17,60.74,61.79,,S-NCNN,https://example.org/a",
            "X01,resnet18,224,unknown,jetson_nano,tensorrt,,1,11.4,,,\"board, assumed; input size unconfirmed\",S-X,\"https://example.org/?a=1,2\"",
        ]), file: "t.csv")
        #expect(t.rows.count == 2)
        #expect(t.rows[0].threads == 4 && t.rows[0].latencyMinMs == 60.74 && t.rows[0].line == 2)
        #expect(t.rows[1].flags == ["board, assumed", "input size unconfirmed"])
        #expect(t.rows[1].sourceURL == "https://example.org/?a=1,2")
        #expect(t.rows[1].threads == nil && t.rows[1].precision == .unknown)
    }

    @Test func committedFileLoadsEveryRow() throws {
        let path = Self.packageRoot.appendingPathComponent("data/published-latency.csv").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let dataLines = text.split(separator: "\n").count - 1
        let t = try PublishedLatencyTable.load(file: path)
        #expect(t.rows.count == dataLines)
        #expect(Set(t.rows.map(\.id)).count == t.rows.count)
    }

    func expectError(_ rows: [String], header: String = header, line: Int, column: Int?, keyPath: String, contains: String) {
        do {
            _ = try PublishedLatencyTable.parse(csv: ([header] + rows).joined(separator: "\n") + "\n", file: "bad.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "bad.csv")
            #expect(error.line == line)
            if let column { #expect(error.column == column) }
            #expect(error.keyPath == keyPath)
            #expect(error.description.contains(contains), "\(error.description)")
        }
    }

    @Test func badLatencyIsLocated() {
        // "fast" starts at column 51 of line 3.
        let good = "A1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u"
        let bad = "A2,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,fast,,,,S,u"
        expectError([good, bad], line: 3, column: 51, keyPath: "latency_ms", contains: "expected a positive number")
    }

    @Test func otherMalformedRows() {
        let ok = "A1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u"
        expectError([ok, "A2,resnet18,224,fp32"], line: 3, column: 1, keyPath: "", contains: "expected 14 fields, got 4")
        expectError([ok, ok], line: 3, column: 1, keyPath: "id", contains: "duplicate id 'A1' (first on line 2)")
        expectError(["A1,resnet18,224,fp64,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u"], line: 2, column: 17, keyPath: "precision", contains: "fp64")
        expectError(["A1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,-2,1,10,,,,S,u"], line: 2, column: nil, keyPath: "threads", contains: "positive integer")
        expectError(["A1,,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u"], line: 2, column: 4, keyPath: "model", contains: "required")
        expectError(["A1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,12,11,,S,u"], line: 2, column: nil, keyPath: "latency_min_ms", contains: "exceeds")
        expectError(["A1,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,\"open,S,u"], line: 2, column: nil, keyPath: "", contains: "unterminated")
    }

    @Test func badHeaderIsLocated() {
        let typo = Self.header.replacingOccurrences(of: "latency_ms", with: "latncy_ms")
        expectError([], header: typo, line: 1, column: nil, keyPath: "latncy_ms", contains: "did you mean 'latency_ms'")
        let missing = PublishedLatencyTable.columns.filter { $0 != "flag" }.joined(separator: ",")
        expectError([], header: missing, line: 1, column: 1, keyPath: "", contains: "missing column(s): flag")
    }

    @Test func splitRuleUsesTheTrailingNumber() throws {
        #expect(PublishedSplit.isEvenID("N02") && PublishedSplit.isEvenID("AR2") && PublishedSplit.isEvenID("T10"))
        #expect(!PublishedSplit.isEvenID("N03") && !PublishedSplit.isEvenID("U01"))
        let t = try PublishedLatencyTable.parse(csv: Self.csv([
            "N02,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u",
            "N04,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,power mode not stated,S,u",
            "N05,resnet18,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,10,,,,S,u",
        ]), file: "t.csv")
        #expect(t.rows.map(PublishedSplit.isFitting) == [true, true, false])
        #expect(t.rows.map(PublishedSplit.isHeldOut) == [false, false, true])
    }

    @Test func mappingResolvesZooModelsAndDevicesAndCountsSkips() throws {
        let devices = try ["raspberry-pi-4.yaml", "jetson-nano.yaml"].map {
            try DeviceLoader.load(file: Self.packageRoot.appendingPathComponent("devices/\($0)").path)
        }
        let t = try PublishedLatencyTable.parse(csv: Self.csv([
            "A1,shufflenet_v2,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,24,,,,S,u",    // alias → shufflenet_v2_x1_0, cpu
            "A2,resnet18,224,fp16,jetson_nano,tensorrt,,1,11,,,,S,u",              // gpu unit
            "A3,googlenet,224,fp32,raspberry_pi_4b,pytorch_cpu,,1,132,,,,S,u",     // not in the zoo
            "A4,yolov8n,640,fp32,raspberry_pi_4b,ncnn_cpu,,1,400,,,,S,u",          // not in the zoo
            "A5,mobilenet_v2,320,unknown,jetson_nano,tensorrt,,1,37,,,,S,u",       // input size
            "A6,resnet18,224,fp16,raspberry_pi_5,ncnn_cpu,4,1,20,,,,S,u",          // no device file loaded
            "A7,mobilenet_v3,224,fp32,raspberry_pi_4b,ncnn_cpu,4,1,47,,,,S,u",     // ambiguous
            "A8,resnet18,224,fp16,raspberry_pi_4b,coreml,,1,1,,,,S,u",             // no unit for the runtime
        ]), file: "t.csv")
        let r = PublishedMapping.resolve(t, devices: devices)
        #expect(r.resolved.map(\.row.id) == ["A1", "A2"])
        #expect(r.resolved[0].zooModel == "shufflenet_v2_x1_0" && r.resolved[0].unit == "cpu")
        #expect(r.resolved[1].zooModel == "resnet18" && r.resolved[1].unit == "gpu")
        #expect(r.skipped.count == 6)
        let counts = Dictionary(uniqueKeysWithValues: r.skippedCounts.map { ($0.category, $0.count) })
        #expect(counts["model not in the zoo"] == 2)
        #expect(counts["input size differs from the zoo model"] == 1)
        #expect(counts["no committed device file"] == 1)
        #expect(counts["ambiguous model name"] == 1)
        #expect(counts["device has no unit for the runtime"] == 1)
    }

    /// ncnn's benchmark rows (source S-NCNN) ran the Caffe models of Tencent/ncnn benchmark/*.param, not
    /// torchvision's: resnet18/resnet50/mobilenet_v2 map to the zoo's Caffe variants for that source only.
    @Test func ncnnBenchmarkRowsMapToTheCaffeModelsNcnnRuns() throws {
        func row(_ model: String, _ source: String) -> PublishedRow {
            PublishedRow(id: "X2", model: model, inputHW: 224, precision: .fp32, device: "raspberry_pi_4b", runtime: "ncnn_cpu", threads: 4, batch: 1,
                         latencyMs: 1, latencyMinMs: nil, latencyMaxMs: nil, flags: [], sourceKey: source, sourceURL: "", line: 0)
        }
        #expect(try PublishedMapping.zooModel(for: row("resnet50", "S-NCNN")).get().name == "resnet50_caffe")
        #expect(try PublishedMapping.zooModel(for: row("resnet18", "S-NCNN")).get().name == "resnet18_caffe")
        #expect(try PublishedMapping.zooModel(for: row("mobilenet_v2", "S-NCNN")).get().name == "mobilenet_v2_caffe")
        // ncnn's mobilenet (v1), shufflenet_v2 and efficientnet_b0 are the zoo's architectures.
        #expect(try PublishedMapping.zooModel(for: row("mobilenet_v1", "S-NCNN")).get().name == "mobilenet_v1")
        #expect(try PublishedMapping.zooModel(for: row("shufflenet_v2", "S-NCNN")).get().name == "shufflenet_v2_x1_0")
        // Other sources (torchvision models, e.g. the PyTorch tutorial or torch2trt) keep torchvision's.
        #expect(try PublishedMapping.zooModel(for: row("resnet50", "S-PT-RPI")).get().name == "resnet50")
        #expect(try PublishedMapping.zooModel(for: row("mobilenet_v2", "S-T2T")).get().name == "mobilenet_v2")
    }
}
