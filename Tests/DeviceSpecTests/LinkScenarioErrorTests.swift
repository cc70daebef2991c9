import DeviceSpec
import Foundation
import NNGraph
import Testing

/// Located errors for link files, split-computing scenarios and bandwidth traces:
/// `file:line:column: keyPath: message`, did-you-mean for unknown keys and values, bad units.
@Suite("Link and scenario errors")
struct LinkScenarioErrorTests {
    static let linkFile = "links/test.yaml"

    static let linkLines: [String] = [
        /* 1 */ "schema_version: 1",
        /* 2 */ "id: test_link",
        /* 3 */ "name: Test link",
        /* 4 */ "uplink: {value: \"100 Mbit/s\", source: \"assumed: test\"}",
        /* 5 */ "downlink: {value: \"25 MB/s\", source: \"assumed: test\"}",
        /* 6 */ "rtt: {value: \"5 ms\", source: \"assumed: test\"}",
        /* 7 */ "jitter: {distribution: exponential, scale: {value: \"1 ms\", source: \"assumed: test\"}}",
        /* 8 */ "loss: {value: 0.01, source: \"assumed: test\"}",
        /* 9 */ "radio:",
        /* 10 */ "  tx_energy_per_bit: {value: \"283.17 nJ/bit\", source: \"assumed: test\"}",
        /* 11 */ "  tx_base_power: {value: \"132.86 mW\", source: \"assumed: test\"}",
        /* 12 */ "  rx_energy_per_bit: {value: \"137 nJ/bit\", source: \"assumed: test\"}",
        /* 13 */ "  rx_base_power: {value: \"132.86 mW\", source: \"assumed: test\"}",
    ]

    static func link(line: Int, _ replacement: String?) -> String {
        var l = linkLines
        if let replacement { l[line - 1] = replacement } else { l.remove(at: line - 1) }
        return l.joined(separator: "\n") + "\n"
    }

    static func linkError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> SpecError? {
        do {
            _ = try LinkLoader.load(yaml: yaml, file: linkFile)
            Issue.record("expected a SpecError, but the link loaded", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func theMinimalLinkLoadsInSIUnits() throws {
        let l = try LinkLoader.load(yaml: Self.linkLines.joined(separator: "\n"), file: Self.linkFile)
        #expect(l.uplink.value.value == 12.5e6)          // 100 Mbit/s in bytes per second
        #expect(l.downlink.value.value == 25e6)
        #expect(l.rtt.value.value == 0.005)
        #expect(l.jitter.mean.value == 0.001)
        #expect(l.loss.value == 0.01)
        let radio = try #require(l.radio)
        #expect(abs(radio.txEnergyPerByte.value.value - 283.17e-9 * 8) < 1e-15)
        #expect(abs(radio.txBasePower.value.value - 0.13286) < 1e-12)
        #expect(l.messageOverhead.value == .zero && l.trace == nil)
    }

    @Test func badUnitForABandwidth() throws {
        let e = try #require(Self.linkError(Self.link(line: 4, "uplink: {value: \"fast\", source: \"assumed: test\"}")))
        #expect(e.description == "links/test.yaml:4:17: uplink: expected a bit rate like \"100 Mbit/s\", got \"fast\"")
    }

    @Test func bareNumberForABandwidth() throws {
        let e = try #require(Self.linkError(Self.link(line: 4, "uplink: {value: 100, source: \"assumed: test\"}")))
        #expect(e.keyPath == "uplink")
        #expect(e.message.contains("bare number 100"))
    }

    @Test func aTimeIsNotABandwidth() throws {
        let e = try #require(Self.linkError(Self.link(line: 6, "rtt: {value: \"5 Mbit/s\", source: \"assumed: test\"}")))
        #expect(e.line == 6 && e.keyPath == "rtt")
        #expect(e.message == "expected a time like \"4 ns\", got \"5 Mbit/s\"")
    }

    @Test func unknownKeyWithDidYouMean() throws {
        let e = try #require(Self.linkError(Self.link(line: 4, "uplnk: {value: \"100 Mbit/s\", source: \"assumed: test\"}")))
        #expect(e.line == 4 && e.column == 1)
        #expect(e.description.hasPrefix("links/test.yaml:4:1: uplnk: unknown key 'uplnk' (did you mean 'uplink'?); allowed keys: "))
    }

    @Test func unknownRadioKey() throws {
        let e = try #require(Self.linkError(Self.link(line: 11, "  tx_base_powr: {value: \"132.86 mW\", source: \"assumed: test\"}")))
        #expect(e.keyPath == "radio.tx_base_powr")
        #expect(e.message.contains("did you mean 'tx_base_power'?"))
    }

    @Test func energyPerBitNeedsAnEnergyUnit() throws {
        let e = try #require(Self.linkError(Self.link(line: 10, "  tx_energy_per_bit: {value: \"283 mW\", source: \"assumed: test\"}")))
        #expect(e.description == "links/test.yaml:10:30: radio.tx_energy_per_bit: expected an energy per bit like \"283 nJ/bit\", got \"283 mW\"")
    }

    @Test func lossMustBeAProbability() throws {
        let e = try #require(Self.linkError(Self.link(line: 8, "loss: {value: 1.5, source: \"assumed: test\"}")))
        #expect(e.line == 8 && e.keyPath == "loss")
        #expect(e.message == "loss must be a probability in [0, 1), got 1.5")
    }

    @Test func unknownJitterDistribution() throws {
        let e = try #require(Self.linkError(Self.link(line: 7, "jitter: {distribution: exponentail, scale: {value: \"1 ms\", source: \"assumed: test\"}}")))
        #expect(e.keyPath == "jitter.distribution")
        #expect(e.message.hasPrefix("unknown value 'exponentail' (did you mean 'exponential'?); expected one of: none, uniform, exponential"))
    }

    @Test func missingRTT() throws {
        let e = try #require(Self.linkError(Self.link(line: 6, nil)))
        #expect(e.keyPath == "rtt")
        #expect(e.message == "missing required field 'rtt'")
    }

    @Test func sourceIsRequired() throws {
        let e = try #require(Self.linkError(Self.link(line: 6, "rtt: {value: \"5 ms\"}")))
        #expect(e.keyPath == "rtt.source")
        #expect(e.message == "missing required field 'source'")
    }

    // MARK: Bandwidth traces

    @Test func traceRowsAreLocated() throws {
        let t = try LinkLoader.parseTrace(csv: "time_s,mbit_per_s\n0,10\n1.5,2\n", file: "t.csv")
        #expect(t.times.map(\.value) == [0, 1.5])
        #expect(t.rates.map(\.value) == [1.25e6, 0.25e6])
        #expect(t.rate(at: Seconds(1)).value == 1.25e6 && t.rate(at: Seconds(7)).value == 0.25e6)
        #expect(throws: SpecError.self) { try LinkLoader.parseTrace(csv: "0,10\n0,5\n", file: "t.csv") }
        do {
            _ = try LinkLoader.parseTrace(csv: "time_s,mbit_per_s\n0,10\n1,fast\n", file: "t.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "t.csv:3:1: trace: expected numbers 'time_s, mbit_per_s', got '1,fast'")
        }
        do {
            _ = try LinkLoader.parseTrace(csv: "0,10\n1,-3\n", file: "t.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2 && error.message.contains("≥ 0"))
        }
    }

    // MARK: Scenarios

    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A split-computing scenario in a temporary directory whose device/link paths point into the checkout.
    static func scenario(_ body: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgeprof-scn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("s.yaml").path
        try Data(body.replacingOccurrences(of: "ROOT", with: root).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let validScenario = """
    schema_version: 1
    name: t
    model: mobilenet_v2
    tiers:
      - {name: device, device: ROOT/devices/raspberry-pi-4.yaml}
      - {name: cloud, device: ROOT/devices/cloud-gpu.yaml}
    links:
      - {file: ROOT/links/wifi5.yaml, uplink: {value: "20 Mbit/s", source: "measured: test"}}
    objective: weighted
    weights: {latency: 1, device_energy: 0.5}
    constraints:
      deadline: "100 ms"
      device_memory: "512 MiB"
      keep_on_device_through: features.2
    options:
      compression: fp16
      encode_rate: "2 GB/s"
      decode_rate: "4 GB/s"
    simulation:
      arrivals: poisson
      rate: 12.5
      clients: 4

    """

    /// The error loading the scenario; it must point into the scenario file unless `inFile` says otherwise.
    static func scenarioError(_ body: String, inFile: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> SpecError? {
        let path = try scenario(body)
        do {
            _ = try OffloadScenarioLoader.load(file: path)
            Issue.record("expected a SpecError, but the scenario loaded", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.file == (inFile ?? path), sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func theScenarioLoadsWithPresetOverrides() throws {
        let s = try OffloadScenarioLoader.load(file: try Self.scenario(Self.validScenario))
        #expect(s.tiers.map(\.name) == ["device", "cloud"])
        #expect(s.links[0].id == "wifi5")
        #expect(s.links[0].uplink.value.value == 2.5e6)       // overridden
        #expect(s.links[0].uplink.source == "measured: test")
        #expect(s.links[0].rtt.value.value == 0.005)          // from the preset
        #expect(s.objective == ObjectiveSpec(kind: .weighted, latencyWeight: 1, energyWeight: 0.5))
        #expect(s.constraints.deadline?.value == 0.1)
        #expect(s.constraints.deviceMemory == Bytes(512 * 1024 * 1024))
        #expect(s.constraints.keepOnDeviceThrough?.value == "features.2")
        #expect(s.constraints.keepOnDeviceThrough?.line == 14)
        #expect(s.options.compression == .fp16 && s.options.encodeRate?.value == 2e9)
        #expect(s.simulation.arrivals == .poisson && s.simulation.rate == 12.5 && s.simulation.clients == 4)
    }

    @Test func theShippedScenariosAndLinksLoad() throws {
        let fm = FileManager.default
        for dir in ["links", "profiles"] {
            for f in try fm.contentsOfDirectory(atPath: "\(Self.root)/\(dir)").filter({ $0.hasSuffix(".yaml") }) {
                let path = "\(Self.root)/\(dir)/\(f)"
                if dir == "links" {
                    let l = try LinkLoader.load(file: path)
                    #expect(l.uplink.value.value > 0, "\(f)")
                    // Provenance: devices-reference.md §3, a URL, or an explicit assumption.
                    var sources = [l.uplink.source, l.downlink.source, l.rtt.source, l.jitter.scale.source, l.loss.source,
                                   l.messageOverhead.source, l.messageTime.source]
                    if let r = l.radio { sources += [r.txEnergyPerByte.source, r.txBasePower.source, r.rxEnergyPerByte.source, r.rxBasePower.source] }
                    for s in sources {
                        let ok = s.hasPrefix("assumed: ") || s.hasPrefix("derived: ") || s.hasPrefix("measured") || s.contains("devices-reference.md")
                            || s.contains("https://") || s.hasPrefix("default: ") || s == "no jitter"
                        #expect(ok, "\(f): source \"\(s)\"")
                    }
                } else if f != "default.yaml" {
                    let s = try OffloadScenarioLoader.load(file: path)
                    #expect(s.links.count == s.tiers.count - 1, "\(f)")
                }
            }
        }
    }

    @Test func badUnitForADeadline() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "deadline: \"100 ms\"", with: "deadline: soon")))
        #expect(e.line == 12 && e.column == 13)
        #expect(e.keyPath == "constraints.deadline")
        #expect(e.message == "expected a time like \"4 ns\", got \"soon\"")
    }

    @Test func badUnitForALinkOverride() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "uplink: {value: \"20 Mbit/s\"", with: "uplink: {value: \"fast\"")))
        #expect(e.line == 8)
        #expect(e.keyPath == "links[0].uplink")
        #expect(e.message == "expected a bit rate like \"100 Mbit/s\", got \"fast\"")
    }

    @Test func unknownObjectiveWithDidYouMean() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "objective: weighted", with: "objective: latncy")))
        #expect(e.line == 9 && e.column == 12)
        #expect(e.message.hasPrefix("unknown value 'latncy' (did you mean 'latency'?)"))
    }

    @Test func unknownTopLevelKey() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "constraints:", with: "constriants:")))
        #expect(e.line == 11 && e.column == 1)
        #expect(e.message.hasPrefix("unknown key 'constriants' (did you mean 'constraints'?)"))
    }

    @Test func unknownKeyInATier() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "{name: cloud, device:", with: "{name: cloud, devise:")))
        #expect(e.keyPath == "tiers[1].devise")
        #expect(e.message.contains("did you mean 'device'?"))
    }

    @Test func oneLinkPerPairOfTiers() throws {
        let body = Self.validScenario.replacingOccurrences(of: "  - {file: ROOT/links/wifi5.yaml, uplink: {value: \"20 Mbit/s\", source: \"measured: test\"}}",
                                                           with: "  - {file: ROOT/links/wifi5.yaml}\n  - {file: ROOT/links/lte.yaml}")
        let e = try #require(try Self.scenarioError(body))
        #expect(e.keyPath == "links")
        #expect(e.message == "expected 1 links (one between each pair of consecutive tiers), got 2")
    }

    @Test func missingLinkFile() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "links/wifi5.yaml", with: "links/wifi7.yaml")))
        #expect(e.keyPath == "links[0].file")
        #expect(e.message.contains("does not exist"))
    }

    @Test func aBrokenPresetReportsItsOwnFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgeprof-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let preset = dir.appendingPathComponent("broken.yaml").path
        try Data(Self.link(line: 5, "downlink: {value: \"quick\", source: \"assumed: test\"}").utf8).write(to: URL(fileURLWithPath: preset))
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "ROOT/links/wifi5.yaml", with: preset), inFile: preset))
        #expect(e.description.hasPrefix("\(preset):5:19: downlink: expected a bit rate"))
    }

    @Test func weightsNeedTheWeightedObjective() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "objective: weighted", with: "objective: latency")))
        #expect(e.keyPath == "weights")
        #expect(e.message == "'weights' only applies with objective: weighted")
    }

    @Test func compressionNeedsCodecRates() throws {
        let e = try #require(try Self.scenarioError(Self.validScenario.replacingOccurrences(of: "  decode_rate: \"4 GB/s\"\n", with: "")))
        #expect(e.keyPath == "options")
        #expect(e.message.contains("needs 'decode_rate'"))
    }

    @Test func aScenarioWithoutTiersCannotBePlanned() throws {
        let e = try #require(try Self.scenarioError("schema_version: 1\nname: d\nmodel: mobilenet_v2\ndevices: [ROOT/devices/raspberry-pi-4.yaml]\n"))
        #expect(e.keyPath == "tiers")
        #expect(e.message.contains("no 'tiers'"))
    }
}
