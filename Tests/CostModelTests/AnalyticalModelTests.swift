import Foundation
import CostModel
import DeviceSpec
import ModelImport
import NNGraph
import PropertyBased
import Testing

@Suite struct AnalyticalModelTests {
    @Test func elementwiseLayerMatchesHandArithmetic() throws {
        // sigmoid on 1×8×16×16 fp32: 2048 elements, 8 KiB in, 8 KiB out; graph input/output live in DRAM.
        let g = try elementwiseGraph(channels: 8, size: 16)
        let e = try AnalyticalModel.estimate(g, on: testDevice(overhead: "0 us"))
        let l = try #require(e.layers.first)
        #expect(l.counts.flops == 2048 * 4)
        // compute = 8192 FLOP / (100 GFLOP/s × 0.1) = 0.8192 µs
        #expect(abs(l.computeTime.value - 8192 / 10e9) < 1e-15)
        // Every level moves 8 KiB in + 8 KiB out (no reuse op, tensors resident in DRAM).
        for t in l.traffic {
            #expect(t.readBytes.value == 8192)
            #expect(t.writeBytes.value == 8192)
        }
        // DRAM time = 16384 B / 10 GB/s = 1.6384 µs > compute → memory-bound on dram.
        #expect(l.bound == .memory(level: "dram"))
        #expect(abs(l.latency.value - 16384 / 10e9) < 1e-15)
        // energy = ops × 2 pJ + Σ reads/writes × per-level energy + 2 W × latency
        let memory = 8192 * (1e-12 + 5e-12 + 100e-12) + 8192 * (1e-12 + 6e-12 + 120e-12)
        let expected = 8192 * 2e-12 + memory + 2 * l.latency.value
        #expect(abs(l.energy.total.value - expected) < 1e-15)
        #expect(l.provenance == .predicted)
    }

    @Test func intermediateActivationThatFitsInL2DoesNotTouchDRAM() throws {
        // conv → relu → sigmoid: conv+relu fuse; the fused output (1×16×32×32 fp32 = 64 KiB) needs
        // 2× headroom: too big for L1 (32 KiB), fits L2 (1 MiB), so sigmoid reads it from L2, not DRAM.
        let g = try convGraph(channels: 8, outChannels: 16, size: 32)
        #expect(g.fusionGroups.map(\.kind) == ["conv-relu", "sigmoid"])
        let e = try AnalyticalModel.estimate(g, on: testDevice())
        let conv = e.layers[0], sig = e.layers[1]
        let dramConv = try #require(conv.traffic.last)
        // conv reads its input (graph input, DRAM) from DRAM; its weights stay in L2 between
        // inferences (weights + activations fit L2 twice: steady state); writes nothing to DRAM.
        let weightBytes = Double((16 * 8 * 9 + 16) * 4)
        #expect(e.totals.weightsFrom == "l2" && !e.totals.coldWeights)
        #expect(dramConv.writeBytes.value == 0)
        #expect(dramConv.readBytes.value == Double(8 * 32 * 32 * 4))
        // A first inference (cold weights) reads them from DRAM too.
        let cold = try AnalyticalModel.estimate(g, on: testDevice(), coldWeights: true)
        #expect(cold.totals.weightsFrom == "dram" && cold.totals.coldWeights)
        #expect(try #require(cold.layers[0].traffic.last).readBytes.value == Double(8 * 32 * 32 * 4) + weightBytes)
        let dramSig = try #require(sig.traffic.last)
        #expect(dramSig.readBytes.value == 0)
        #expect(dramSig.writeBytes.value == Double(16 * 32 * 32 * 4))  // graph output goes to main memory
        #expect(sig.traffic[1].readBytes.value == Double(16 * 32 * 32 * 4))
        #expect(sig.traffic[0].readBytes.value == Double(16 * 32 * 32 * 4))
    }

    /// Each kernel pays the access latency of the outermost level it moves bytes through, as part of
    /// its overhead: with the 64 KiB L2 the conv reads weights and input from DRAM (200 ns), the
    /// sigmoid reads its input back from DRAM too; levels without a latency add nothing.
    @Test func kernelsPayTheirOutermostLevelsAccessLatency() throws {
        let g = try convGraph(channels: 8, outChannels: 16, size: 32)
        var device = try testDevice(l2Size: "64 KiB")
        let plain = try AnalyticalModel.estimate(g, on: device)
        for (i, ns) in [(0, 1.0), (1, 5.0), (2, 200.0)] { device.memory[i].latency = Sourced(Seconds(ns * 1e-9), source: "test") }
        let timed = try AnalyticalModel.estimate(g, on: device)
        for (a, b) in zip(plain.layers, timed.layers) {
            #expect(a.accessLatency == .zero)
            #expect(abs(b.accessLatency.value - 200e-9) < 1e-15, "\(b.name)")
            #expect(abs((b.overhead - a.overhead).value - 200e-9) < 1e-15 && abs((b.latency - a.latency).value - 200e-9) < 1e-15)
        }
        // conv-relu → sigmoid → conv on an 8 KiB map: the sigmoid between the convs reads and writes L1 only
        // (1 ns); the first conv reads the graph input and the last writes the graph output (DRAM).
        var b = GraphBuilder(name: "chain")
        let x = b.input("x", shape: [1, 8, 16, 16])
        let c1 = try b.add1("c1", .conv(ConvAttributes(inChannels: 8, outChannels: 8, kernel: [1, 1])), inputs: [x], params: [ParamInfo(name: "w1", shape: [8, 8, 1, 1])])
        let r = try b.add1("r", .activation(.relu), inputs: [c1])   // fuses into c1; the sigmoid stays a kernel
        let s = try b.add1("s", .activation(.sigmoid), inputs: [r])
        b.markOutput(try b.add1("c2", .conv(ConvAttributes(inChannels: 8, outChannels: 8, kernel: [1, 1])), inputs: [s], params: [ParamInfo(name: "w2", shape: [8, 8, 1, 1])]))
        var small = try testDevice()
        for (i, ns) in [(0, 1.0), (1, 5.0), (2, 200.0)] { small.memory[i].latency = Sourced(Seconds(ns * 1e-9), source: "test") }
        let e = try AnalyticalModel.estimate(try b.finish(), on: small)
        #expect(e.layers.count == 3)
        #expect(e.layers.map { ($0.accessLatency.value * 1e9).rounded() } == [200, 1, 200])
        // Main memory's `stream_startup` (a cold stream) replaces its pointer-chase latency; the L1 kernel keeps 1 ns.
        small.memory[2].streamStartup = Sourced(Seconds(600e-9), source: "test")
        let cold = try AnalyticalModel.estimate(try b.finish(), on: small)
        #expect(cold.layers.map { ($0.accessLatency.value * 1e9).rounded() } == [600, 1, 600])
        #expect(abs((cold.layers[0].latency - e.layers[0].latency).value - 400e-9) < 1e-15)
        // Read from a device file: `stream_startup` is a time, located when it is not.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let yaml = try String(contentsOf: root.appendingPathComponent("devices/host.yaml"), encoding: .utf8)
        let host = try DeviceLoader.load(yaml: yaml, file: "host.yaml")
        let dram = try #require(host.memory.last)
        #expect(dram.accessLatency == (dram.streamStartup ?? dram.latency)?.value)
        let bad = yaml.replacingOccurrences(of: "  - name: dram\n", with: "  - name: dram\n    stream_startup: {value: \"3 GB/s\", source: test}\n")
        #expect(bad != yaml)
        #expect(throws: SpecError.self) { try DeviceLoader.load(yaml: bad, file: "bad.yaml") }
    }

    @Test func smallerCacheForcesDRAMStreaming() throws {
        let g = try convGraph(channels: 8, outChannels: 16, size: 32)
        let e = try AnalyticalModel.estimate(g, on: testDevice(l2Size: "64 KiB"))
        // Weights (4.7 KiB) + peak activations (> 64 KiB) do not fit the 64 KiB L2 twice: the weights
        // come from DRAM on every inference.
        #expect(e.totals.weightsFrom == "dram")
        let cold = try AnalyticalModel.estimate(g, on: testDevice(l2Size: "64 KiB"), coldWeights: true)
        #expect(cold.totals.latency == e.totals.latency && cold.layers[0].traffic == e.layers[0].traffic)
        // The 64 KiB output needs 2× headroom; with a 64 KiB L2 it spills to DRAM and is read back from there.
        #expect(try #require(e.layers[0].traffic.last).writeBytes.value == 65536)
        #expect(try #require(e.layers[1].traffic.last).readBytes.value == 65536)
    }

    /// A private (`per_core`) L2 holds a tensor the cores split once per active core: the conv's 64 KiB
    /// output needs 128 KiB; one shared 48 KiB L2 cannot hold it (the sigmoid reads it back from DRAM),
    /// four private 48 KiB L2s can; with one active core it is one L2 again.
    @Test func privateLevelsHoldOnePartPerActiveCore() throws {
        let g = try convGraph(channels: 8, outChannels: 16, size: 32)
        let shared = try AnalyticalModel.estimate(g, on: testDevice(l2Size: "48 KiB"))
        #expect(try #require(shared.layers[1].traffic.last).readBytes.value == 65536)
        let perCore = try testDevice(l2Size: "48 KiB", l2PerCore: true)
        #expect(perCore.memory[1].perCore && perCore.memory[1].capacity(activeCores: 4) == 4 * 48 * 1024)
        let e = try AnalyticalModel.estimate(g, on: perCore)
        #expect(try #require(e.layers[1].traffic.last).readBytes.value == 0)
        #expect(e.layers[1].traffic[1].readBytes.value == 65536)
        #expect(e.layers[1].latency < shared.layers[1].latency)
        let one = try AnalyticalModel.estimate(g, on: perCore.activatingCores(1, unit: nil))
        #expect(try #require(one.layers[1].traffic.last).readBytes.value == 65536)
    }

    @Test func totalsAreSumsOfLayers() throws {
        let g = try #require(ModelZoo.model(named: "resnet18")).build()
        let e = try AnalyticalModel.estimate(g, on: testDevice())
        let sum = e.layers.reduce(0.0) { $0 + $1.latency.value }
        #expect(abs(e.totals.latency.value - sum) < 1e-12)
        let energy = e.layers.reduce(0.0) { $0 + $1.energy.total.value }
        #expect(abs(e.totals.energy.total.value - energy) / energy < 1e-9)
        #expect(e.totals.macs == g.totalCounts().macs)
        #expect(e.layers.count == g.fusionGroups.count)
        #expect(e.totals.fitsInRAM)
    }

    @Test func unsupportedNodesAreExplicitRowsNotDropped() throws {
        var b = GraphBuilder(name: "u")
        let x = b.input("x", shape: [1, 4])
        let y = try b.add1("mystery", .unsupported(opType: "FancyOp", outputShapes: [[1, 4]]), inputs: [x])
        let z = try b.add1("relu", .activation(.relu), inputs: [y])
        b.markOutput(z)
        let e = try AnalyticalModel.estimate(try b.finish(), on: testDevice())
        #expect(e.layers.count == 2)
        #expect(e.layers[0].bound == .unsupported)
        #expect(e.unsupportedLayers == ["mystery (unsupported:FancyOp)"])
    }

    @Test func unknownUnitIsAnError() throws {
        let g = try elementwiseGraph(channels: 1, size: 2)
        #expect(throws: CostModelError.self) { try AnalyticalModel.estimate(g, on: testDevice(), unit: "npu") }
    }
}

/// Monotonicity: more bandwidth or more peak never makes a layer slower; more bytes never cheaper.
@Suite struct CostModelMonotonicityProperties {
    static let shapes = Gen.int(in: 1...64)

    @Test func moreBandwidthIsNeverSlower() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 1...48), Gen.int(in: 1...32), Gen.int(in: 1...8), Gen.int(in: 2...40)) { c, o, s, bwFactor in
            let g = try convGraph(channels: c, outChannels: o, size: s * 4)
            let slow = try AnalyticalModel.estimate(g, on: testDevice(dramBandwidth: "10 GB/s"))
            let fast = try AnalyticalModel.estimate(g, on: testDevice(l1Bandwidth: "\(100 * bwFactor) GB/s", l2Bandwidth: "\(50 * bwFactor) GB/s",
                                                                         dramBandwidth: "\(10 * bwFactor) GB/s"))
            for (a, b) in zip(slow.layers, fast.layers) { #expect(b.latency <= a.latency) }
        }
    }

    @Test func morePeakIsNeverSlower() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 1...48), Gen.int(in: 1...32), Gen.int(in: 1...8), Gen.int(in: 2...50)) { c, o, s, k in
            let g = try convGraph(channels: c, outChannels: o, size: s * 4)
            let base = try AnalyticalModel.estimate(g, on: testDevice(peak: "100 GFLOP/s"))
            let more = try AnalyticalModel.estimate(g, on: testDevice(peak: "\(100 * k) GFLOP/s"))
            for (a, b) in zip(base.layers, more.layers) {
                #expect(b.latency <= a.latency)
                #expect(b.computeTime <= a.computeTime)
            }
        }
    }

    @Test func moreBytesAreNeverCheaper() async throws {
        await propertyCheck(count: 80, input: Gen.int(in: 1...64), Gen.int(in: 1...64), Gen.int(in: 1...64)) { c, s, extra in
            let small = try AnalyticalModel.estimate(try elementwiseGraph(channels: c, size: s), on: testDevice())
            let big = try AnalyticalModel.estimate(try elementwiseGraph(channels: c + extra, size: s), on: testDevice())
            #expect(big.totals.latency >= small.totals.latency)
            #expect(big.totals.energy.total >= small.totals.energy.total)
            for (a, b) in zip(small.totals.traffic, big.totals.traffic) { #expect(b.totalBytes >= a.totalBytes) }
        }
    }

    @Test func moreChannelsInAConvAreNeverCheaper() async throws {
        await propertyCheck(count: 60, input: Gen.int(in: 1...32), Gen.int(in: 1...32), Gen.int(in: 1...6), Gen.int(in: 1...16)) { c, o, s, extra in
            let small = try AnalyticalModel.estimate(try convGraph(channels: c, outChannels: o, size: s * 4), on: testDevice())
            let big = try AnalyticalModel.estimate(try convGraph(channels: c + extra, outChannels: o, size: s * 4), on: testDevice())
            #expect(big.totals.latency >= small.totals.latency)
            #expect(big.totals.energy.total >= small.totals.energy.total)
        }
    }
}

@Suite struct RuntimeFactorTests {
    static func device(defaultRuntime: Bool) throws -> DeviceProfile {
        var d = try testDevice(overhead: "0 us")
        d.runtimes["fast"] = RuntimeProfile(name: "fast", factors: [.conv: Sourced(2, source: "test")])
        d.defaultRuntime = defaultRuntime ? "fast" : nil
        return d
    }

    @Test func factorDividesComputeTime() throws {
        let g = try convGraph(channels: 64, outChannels: 64, size: 16)
        let plain = try AnalyticalModel.estimate(g, on: Self.device(defaultRuntime: false))
        let fast = try AnalyticalModel.estimate(g, on: Self.device(defaultRuntime: false), runtime: "fast")
        let byDefault = try AnalyticalModel.estimate(g, on: Self.device(defaultRuntime: true))
        let conv = try #require(plain.layers.first { $0.opClass == .conv })
        let fastConv = try #require(fast.layers.first { $0.opClass == .conv })
        // The fused relu (one FLOP per output element) runs in the conv's epilogue, at the conv's
        // efficiency and factor. (The device lists no conv_winograd: no Winograd transform part.)
        #expect(abs(fastConv.computeTime.value * 2 - conv.computeTime.value) < 1e-15)
        #expect(fastConv.efficiency == 1.0)  // 0.5 × 2: may reach 1 and beyond
        #expect(fast.runtime == "fast" && plain.runtime == nil)
        #expect(byDefault.totals.latency == fast.totals.latency)
        // Elementwise layers have no factor: unchanged.
        let ew = plain.layers.filter { $0.opClass == .elementwise }.map(\.latency)
        #expect(ew == fast.layers.filter { $0.opClass == .elementwise }.map(\.latency))
    }

    @Test func unknownRuntimeIsAnError() throws {
        let g = try convGraph(channels: 8, outChannels: 8, size: 8)
        #expect(throws: CostModelError.self) { try AnalyticalModel.estimate(g, on: Self.device(defaultRuntime: false), runtime: "fsat") }
        let d = try Self.device(defaultRuntime: false)
        do { _ = try AnalyticalModel.estimate(g, on: d, runtime: "fsat") } catch {
            #expect(error.message.contains("did you mean 'fast'?"))
        }
    }

}

@Suite("Efficiency classes and zero-copy views")
struct EfficiencyClassTests {
    static let winogradLine = "\n      conv_winograd: {value: 1.0, source: test}"

    @Test func winogradEfficiencyAppliesOnlyToEligibleConvs() throws {
        let plain = try testDevice()
        let wino = try testDevice(extraEfficiency: Self.winogradLine)
        // 14×14 and 7×7 outputs: Winograd-eligible; 6×6: not (fewer than 49 output pixels).
        for (size, eligible) in [(14, true), (7, true), (6, false)] {
            let g = try convGraph(channels: 64, outChannels: 64, size: size)
            let a = try #require(try AnalyticalModel.estimate(g, on: plain).layers.first { $0.opClass == .conv })
            let b = try #require(try AnalyticalModel.estimate(g, on: wino).layers.first { $0.opClass == .conv })
            #expect(a.efficiency == 0.5)
            #expect(b.efficiency == (eligible ? 1.0 : 0.5), "size \(size)")
            // The fused relu runs in the conv's epilogue at the conv's efficiency, on every output the
            // kernel computes (whole Winograd tiles included); the device listing conv_winograd also pays
            // the Winograd transform additions at elementwise efficiency (0.1), the plain one does not.
            let transformFlops = eligible ? ConvAttributes(inChannels: 64, outChannels: 64, kernel: [3, 3], pads: [1, 1, 1, 1])
                .winogradTransformFlops(batch: 1, outH: size, outW: size) : 0
            let transform = Double(transformFlops) / (100e9 * 0.1)
            let tiles = ((size + 1) / 2) * ((size + 1) / 2)   // 2×2 output tiles: 49 for 14×14, 16 for 7×7
            // Whole tiles are multiplied: the 7×7 map computes 64 outputs for its 49 (14×14: exact).
            let padding = eligible ? Double(4 * tiles) / Double(size * size) : 1
            #expect(padding == [14: 1, 7: 64.0 / 49, 6: 1][size])
            #expect(abs((b.computeTime.value - transform) * (eligible ? 2 : 1) / padding - a.computeTime.value) < 1e-15)
            let cls: OpClass = eligible ? .convWinograd : .convKxK
            let direct = try #require(a.computeFlopsByClass[cls])   // no Winograd on the plain device: the direct count (+ relu)
            #expect(direct == Double(2 * 64 * 64 * 9 * size * size + 64 * size * size + 64 * size * size))
            #expect(abs(try #require(b.computeFlopsByClass[cls]) - direct * padding) < 1e-3)
            #expect(b.computeFlopsByClass[.elementwise] == (eligible ? Double(transformFlops) : nil))
            #expect(a.computeFlopsByClass[.elementwise] == nil)
            #expect(transformFlops == (eligible ? tiles * (32 * 64 + 24 * 64) : 0))
        }
    }

    @Test func deviceFileRejectsMisspelledSubclass() throws {
        do {
            _ = try testDevice(extraEfficiency: "\n      conv_winogard: {value: 1.0, source: test}")
            Issue.record("a misspelled efficiency class was accepted")
        } catch {
            #expect("\(error)".contains("did you mean 'conv_winograd'?"), "\(error)")
        }
    }

    @Test func fusedActivationCostsItsOwnClassEfficiency() throws {
        // conv → relu fuse into one kernel, whose epilogue applies the relu in registers: the relu's one
        // FLOP per output element runs at the conv's efficiency (0.5), not the elementwise one (0.1); a
        // transcendental efficiency changes the separate sigmoid kernel only.
        let g = try convGraph(channels: 8, outChannels: 8, size: 8)
        let plain = try AnalyticalModel.estimate(g, on: try testDevice(overhead: "0 us", extraEfficiency: "\n      transcendental: {value: 0.01, source: test}"))
        let conv = try #require(plain.layers.first { $0.opClass == .conv })
        let convFlops = Double(2 * 8 * 8 * 9 * 64 + 8 * 64)   // MACs × 2 + bias
        let reluFlops = Double(8 * 64)
        let expected = (convFlops + reluFlops) / (100e9 * 0.5)
        #expect(abs(conv.computeTime.value / expected - 1) < 1e-9, "\(conv.computeTime.value) vs \(expected)")
        let sig = try #require(plain.layers.first { $0.nodes == ["sig"] })
        #expect(abs(sig.computeTime.value - Double(4 * 8 * 64) / (100e9 * 0.01)) < 1e-15)
    }

    /// A sigmoid fused into a conv keeps its own (transcendental) class: exp costs real arithmetic per
    /// element. A relu6 after an add (not a conv or GEMM epilogue) keeps the elementwise one.
    @Test func onlyCheapActivationsInAConvEpilogueRunAtTheConvsEfficiency() throws {
        var b = GraphBuilder(name: "epi")
        let x = b.input("x", shape: [1, 8, 8, 8])
        let conv = ConvAttributes(inChannels: 8, outChannels: 8, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
        let y = try b.add1("conv", .conv(conv), inputs: [x], params: [ParamInfo(name: "w", shape: [8, 8, 1, 1]), ParamInfo(name: "b", shape: [8])])
        let s = try b.add1("sig", .activation(.sigmoid), inputs: [y])
        let a = try b.add1("add", .binary(.add), inputs: [s, x])
        b.markOutput(try b.add1("relu6", .activation(.relu6), inputs: [a]))
        let e = try AnalyticalModel.estimate(try b.finish(), on: try testDevice(overhead: "0 us", extraEfficiency: "\n      transcendental: {value: 0.01, source: test}"))
        let fused = try #require(e.layers.first { $0.nodes == ["conv", "sig"] })
        let convFlops = Double(2 * 8 * 8 * 64 + 8 * 64)
        #expect(abs(fused.computeTime.value / (convFlops / (100e9 * 0.5) + Double(4 * 8 * 64) / (100e9 * 0.01)) - 1) < 1e-9)
        let addRelu = try #require(e.layers.first { $0.nodes == ["add", "relu6"] })
        #expect(abs(addRelu.computeTime.value / (Double(8 * 64 + 2 * 8 * 64) / (100e9 * 0.1)) - 1) < 1e-9, "\(addRelu.computeTime.value)")
    }

    /// GELU (class `erf`) uses the device's `erf` efficiency, else its `transcendental` one, else
    /// the `elementwise` one; a sigmoid stays `transcendental`.
    @Test func geluFallsBackFromErfToTranscendental() throws {
        var b = GraphBuilder(name: "acts")
        let x = b.input("x", shape: [1, 8, 8, 8])
        let g1 = try b.add1("gelu", .activation(.gelu), inputs: [x])
        b.markOutput(try b.add1("sig", .activation(.sigmoid), inputs: [g1]))
        let graph = try b.finish()
        func times(_ extra: String) throws -> (gelu: Double, sig: Double) {
            let e = try AnalyticalModel.estimate(graph, on: try testDevice(overhead: "0 us", extraEfficiency: extra))
            return (try #require(e.layers.first { $0.nodes == ["gelu"] }).computeTime.value, try #require(e.layers.first { $0.nodes == ["sig"] }).computeTime.value)
        }
        let elements = Double(8 * 64)
        let plain = try times("")
        #expect(abs(plain.gelu - 8 * elements / (100e9 * 0.1)) < 1e-15)   // elementwise 0.1
        let trans = try times("\n      transcendental: {value: 0.01, source: test}")
        #expect(abs(trans.gelu - 8 * elements / (100e9 * 0.01)) < 1e-15 && abs(trans.sig - 4 * elements / (100e9 * 0.01)) < 1e-15)
        let both = try times("\n      transcendental: {value: 0.01, source: test}\n      erf: {value: 0.004, source: test}")
        #expect(abs(both.gelu - 8 * elements / (100e9 * 0.004)) < 1e-15 && abs(both.sig - 4 * elements / (100e9 * 0.01)) < 1e-15)
    }

    /// A global pool's additions run at the elementwise efficiency; a windowed max pool keeps the
    /// pooling one (with pooling 0.01 and elementwise 0.1 the two differ 10×).
    @Test func globalPoolSumsAtTheElementwiseRate() throws {
        var b = GraphBuilder(name: "pools")
        let x = b.input("x", shape: [1, 16, 14, 14])
        let m = try b.add1("max", .maxPool(PoolAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])), inputs: [x])
        let gp = try b.add1("gap", .globalAvgPool, inputs: [m])
        b.markOutput(gp)
        var device = try testDevice(overhead: "0 us")
        device.computeUnits[0].efficiency[.pooling] = Sourced(0.01, source: "test")
        let e = try AnalyticalModel.estimate(try b.finish(), on: device)
        let gap = try #require(e.layers.first { $0.nodes == ["gap"] })
        let maxPool = try #require(e.layers.first { $0.nodes == ["max"] })
        #expect(gap.opClass == .pooling)
        #expect(abs(gap.computeTime.value - Double(gap.counts.flops) / (100e9 * 0.1)) < 1e-15, "\(gap.computeTime.value)")
        #expect(abs(maxPool.computeTime.value - Double(maxPool.counts.flops) / (100e9 * 0.01)) < 1e-15, "\(maxPool.computeTime.value)")
    }

    @Test func classOverheadReplacesLayerOverheadForItsClass() throws {
        var device = try testDevice()
        device.computeUnits[0].classOverhead[.conv] = Sourced(Seconds(50e-6), source: "test")
        let e = try AnalyticalModel.estimate(try convGraph(channels: 8, outChannels: 8, size: 8), on: device)
        let conv = try #require(e.layers.first { $0.opClass == .conv })
        let other = try #require(e.layers.first { $0.opClass == .elementwise })
        #expect(conv.overhead.value == 50e-6)
        #expect(other.overhead.value == 10e-6)   // layer_overhead of the test device
    }

    /// `per_output_macs` adds 2·c·outputs FLOPs of work at the class's efficiency to its kernels'
    /// compute term (not to their counted FLOPs), and leaves other classes alone.
    @Test func perOutputMACsAddWorkPerOutputElement() throws {
        let g = try convGraph(channels: 16, outChannels: 32, size: 28, kernel: 1)
        let plain = try testDevice(overhead: "0 us")
        var device = plain
        device.computeUnits[0].perOutputMACs[.conv] = Sourced(8, source: "test")
        let before = try AnalyticalModel.estimate(g, on: plain), after = try AnalyticalModel.estimate(g, on: device)
        let c0 = try #require(before.layers.first { $0.opClass == .conv }), c1 = try #require(after.layers.first { $0.opClass == .conv })
        // 32 × 28 × 28 outputs × 8 MACs × 2 FLOP at 100 GFLOP/s × 0.5 (conv efficiency of the test device).
        let extra = 2.0 * 8 * 32 * 28 * 28 / (100e9 * 0.5)
        #expect(abs((c1.computeTime - c0.computeTime).value - extra) < 1e-12, "\((c1.computeTime - c0.computeTime).value) vs \(extra)")
        #expect(c1.counts.flops == c0.counts.flops && c1.computeFlopsByClass == c0.computeFlopsByClass)
        let s0 = try #require(before.layers.first { $0.opClass == .elementwise }), s1 = try #require(after.layers.first { $0.opClass == .elementwise })
        #expect(s0.latency == s1.latency)
    }

    /// `channel_overhead.depthwise` adds its time per output row (channels × output height) of the
    /// depthwise kernels to their overhead: 24 × 14 rows at stride 1, 24 × 7 at stride 2.
    @Test func depthwiseChannelOverheadIsPaidPerOutputRow() throws {
        var b = GraphBuilder(name: "dw")
        let x = b.input("x", shape: [1, 24, 14, 14])
        let a = ConvAttributes(inChannels: 24, outChannels: 24, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 24, hasBias: true)
        let y = try b.add1("dw", .conv(a), inputs: [x], params: [ParamInfo(name: "w", shape: [24, 1, 3, 3]), ParamInfo(name: "b", shape: [24])])
        var a2 = a
        a2.strides = [2, 2]
        b.markOutput(try b.add1("dw2", .conv(a2), inputs: [y], params: [ParamInfo(name: "w2", shape: [24, 1, 3, 3]), ParamInfo(name: "b2", shape: [24])]))
        let g = try b.finish()
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].channelOverhead[.depthwise] = Sourced(Seconds(50e-9), source: "test")
        let before = try AnalyticalModel.estimate(g, on: plain), after = try AnalyticalModel.estimate(g, on: device)
        for (name, rows) in [("dw", 24.0 * 14), ("dw2", 24.0 * 7)] {
            let l0 = try #require(before.layers.first { $0.name == name }), l1 = try #require(after.layers.first { $0.name == name })
            #expect(abs((l1.overhead - l0.overhead).value - rows * 50e-9) < 1e-15, "\(name)")
            #expect(abs((l1.latency - l0.latency).value - rows * 50e-9) < 1e-15, "\(name)")
            #expect(l1.computeTime == l0.computeTime)
        }
    }

    /// `channel_overhead.elementwise` is paid per contiguous row of a binary op: per channel for a
    /// squeeze-excitation scale, once for a same-shape add, once for a relu.
    @Test func elementwiseChannelOverheadIsPaidPerBroadcastRow() throws {
        var b = GraphBuilder(name: "se")
        let x = b.input("x", shape: [1, 96, 7, 7])
        let s = b.input("s", shape: [1, 96, 1, 1])
        let m = try b.add1("scale", .binary(.mul), inputs: [x, s])
        b.markOutput(try b.add1("add", .binary(.add), inputs: [m, x]))
        b.markOutput(try b.add1("relu", .activation(.relu), inputs: [x]))
        let g = try b.finish()
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].channelOverhead[.elementwise] = Sourced(Seconds(30e-9), source: "test")
        let before = try AnalyticalModel.estimate(g, on: plain), after = try AnalyticalModel.estimate(g, on: device)
        for (name, rows) in [("scale", 96.0), ("add", 1), ("relu", 1)] {
            let l0 = try #require(before.layers.first { $0.name == name }, "\(before.layers.map(\.name))")
            let l1 = try #require(after.layers.first { $0.name == name })
            #expect(abs((l1.overhead - l0.overhead).value - rows * 30e-9) < 1e-15, "\(name)")
        }
    }

    /// `channel_overhead.data_movement` is paid per contiguous run a copy moves: 591 runs of 64 for
    /// attention's head split; none for the K → Kᵀ gather (class `permute`, which would otherwise
    /// inherit the data-movement value).
    @Test func copiesPayTheirChannelOverheadPerContiguousRun() throws {
        var b = GraphBuilder(name: "heads")
        let x = b.input("x", shape: [197, 3, 64])
        let h = try b.add1("split", .transpose(perm: [1, 0, 2]), inputs: [x])
        b.markOutput(try b.add1("kt", .transpose(perm: [0, 2, 1]), inputs: [h]))
        let g = try b.finish()
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].channelOverhead[.dataMovement] = Sourced(Seconds(8e-9), source: "test")
        let before = try AnalyticalModel.estimate(g, on: plain), after = try AnalyticalModel.estimate(g, on: device)
        for (name, runs) in [("split", 591.0), ("kt", 0)] {
            let l0 = try #require(before.layers.first { $0.name == name }, "\(before.layers.map(\.name))")
            let l1 = try #require(after.layers.first { $0.name == name })
            #expect(abs((l1.overhead - l0.overhead).value - runs * 8e-9) < 1e-15, "\(name)")
        }
    }

    /// `parallel_overhead` is added to exactly the kernels the runner splits over threads
    /// (`Graph.threadsUsed`): the squeeze-excitation fcs 1152 → 48 (inputs split) and 48 → 1152 (panels
    /// split) and the 1152-row scale, not the 144 → 6 fc (one 16-row panel, one thread), not kernels
    /// without a rule (the relu); with one core nothing forks; a device without the value charges 0.
    @Test func parallelOverheadIsChargedWhereTheRunnerForks() throws {
        var b = GraphBuilder(name: "se")
        let x = b.input("x", shape: [1, 1152, 7, 7])
        let g = try b.add1("pool", .globalAvgPool, inputs: [x])
        func fc(_ name: String, _ input: Int, _ cin: Int, _ cout: Int) throws -> Int {
            let a = ConvAttributes(inChannels: cin, outChannels: cout, kernel: [1, 1], pads: [0, 0, 0, 0], hasBias: true)
            return try b.add1(name, .conv(a), inputs: [input], params: [ParamInfo(name: "\(name).w", shape: [cout, cin, 1, 1]), ParamInfo(name: "\(name).b", shape: [cout])])
        }
        let f2 = try fc("fc2", try fc("fc1", g, 1152, 48), 48, 1152)
        let scaled = try b.add1("scale", .binary(.mul), inputs: [x, f2])
        b.markOutput(try b.add1("relu", .activation(.relu), inputs: [scaled]))
        let small = try b.add1("pool2", .globalAvgPool, inputs: [try b.add1("slice", .slice(starts: [0], ends: [144], axes: [1], steps: [1]), inputs: [x])])
        b.markOutput(try fc("fc3", small, 144, 6))
        let graph = try b.finish()
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].parallelOverhead = Sourced(Seconds(0.7e-6), source: "test")
        let before = try AnalyticalModel.estimate(graph, on: plain), after = try AnalyticalModel.estimate(graph, on: device)
        let forking: Set<String> = ["fc1", "fc2", "scale"]
        for name in ["fc1", "fc2", "scale", "relu", "fc3", "pool"] {
            let l0 = try #require(before.layers.first { $0.name == name }, "\(before.layers.map(\.name))")
            let l1 = try #require(after.layers.first { $0.name == name })
            let charged = forking.contains(name)
            #expect(l1.forks == charged && l0.forks == charged, "\(name)")
            #expect(abs((l1.overhead - l0.overhead).value - (charged ? 0.7e-6 : 0)) < 1e-15, "\(name)")
            #expect(l1.parallelOverhead.value == (charged ? 0.7e-6 : 0), "\(name)")
        }
        let one = try AnalyticalModel.estimate(graph, on: device.activatingCores(1))
        #expect(one.layers.allSatisfy { !$0.forks && $0.parallelOverhead == .zero })
    }

    /// The cross-core term: a global pool (channel blocks) after a 1×1 conv (pixel tiles) reads 3/16 of its
    /// map from other cores' L2 on 4 threads, priced at `cross_core_bandwidth`; the same pool after a
    /// depthwise conv (channel blocks, like the pool) reads none. The bytes are counted without the rate
    /// (calibration fits it from them) but cost nothing; one thread, or a map in a shared level, has none.
    @Test func crossCoreReadsArePricedWhereSplitsCross() throws {
        var b = GraphBuilder(name: "cross")
        let x = b.input("x", shape: [1, 64, 28, 28])
        let pw = try b.add1("pw", .conv(ConvAttributes(inChannels: 64, outChannels: 64, kernel: [1, 1])), inputs: [x],
                            params: [ParamInfo(name: "pw.w", shape: [64, 64, 1, 1])])
        b.markOutput(try b.add1("poolAfterConv", .globalAvgPool, inputs: [pw]))
        let dw = try b.add1("dw", .conv(ConvAttributes(inChannels: 64, outChannels: 64, kernel: [3, 3], pads: [1, 1, 1, 1], groups: 64)),
                            inputs: [x], params: [ParamInfo(name: "dw.w", shape: [64, 1, 3, 3])])
        b.markOutput(try b.add1("poolAfterDepthwise", .globalAvgPool, inputs: [dw]))
        let graph = try b.finish()
        let plain = try testDevice(l2PerCore: true)
        var device = plain
        device.computeUnits[0].crossCoreBandwidth = Sourced(BytesPerSecond(10e9), source: "test")
        let before = try AnalyticalModel.estimate(graph, on: plain), after = try AnalyticalModel.estimate(graph, on: device)
        func layer(_ e: DeviceEstimate, _ name: String) throws -> LayerEstimate { try #require(e.layers.first { $0.name == name }) }
        let map = 64.0 * 784 * 4
        let crossed = try layer(after, "poolAfterConv")
        #expect(abs(crossed.crossCoreBytes.value - map * 3 / 16) < 1e-6)
        #expect(abs(crossed.crossCoreTime.value - map * 3 / 16 / 10e9) < 1e-15)
        #expect(abs((crossed.latency - (try layer(before, "poolAfterConv")).latency).value - map * 3 / 16 / 10e9) < 1e-15)
        #expect(try layer(before, "poolAfterConv").crossCoreBytes == crossed.crossCoreBytes)
        #expect(try layer(before, "poolAfterConv").crossCoreTime == .zero)
        #expect(try layer(after, "poolAfterDepthwise").crossCoreBytes == .zero)
        // The convs read the graph input (main memory): nothing from another core's cache.
        #expect(try layer(after, "pw").crossCoreBytes == .zero && layer(after, "dw").crossCoreBytes == .zero)
        let one = try AnalyticalModel.estimate(graph, on: device.activatingCores(1))
        #expect(one.layers.allSatisfy { $0.crossCoreBytes == .zero && $0.crossCoreTime == .zero })
        // With the L2 shared (not `per_core`) the map is in a level every core reads alike.
        var shared = try testDevice()
        shared.computeUnits[0].crossCoreBandwidth = Sourced(BytesPerSecond(10e9), source: "test")
        #expect(try AnalyticalModel.estimate(graph, on: shared).layers.allSatisfy { $0.crossCoreBytes == .zero })
    }

    /// `weight_panel_rows`: a dense conv's counted FLOPs are its output channels in whole weight panels
    /// on the busiest thread (4 threads here): 116 channels on a 28² map (pixel tiles) count 128/116; on
    /// a 7² map (split by output channels: 16 + 32 + 32 + 36 rows) the last block's 48 rows × 4 / 116.
    /// Depthwise convs and matrix-vector products are not padded; without the field nothing is.
    @Test func denseConvsCountWholeWeightPanels() throws {
        var b = GraphBuilder(name: "panels")
        let big = b.input("big", shape: [1, 116, 28, 28]), small = b.input("small", shape: [1, 116, 7, 7])
        let vec = b.input("vec", shape: [1, 116, 1, 1])
        func conv(_ name: String, _ x: Int, groups: Int = 1, k: Int = 1) throws -> Int {
            let a = ConvAttributes(inChannels: 116, outChannels: 116, kernel: [k, k], pads: Array(repeating: k / 2, count: 4), groups: groups)
            return try b.add1(name, .conv(a), inputs: [x], params: [ParamInfo(name: "\(name).w", shape: [116, 116 / groups, k, k])])
        }
        b.markOutput(try conv("pixels", big))
        b.markOutput(try conv("channels", small))
        b.markOutput(try conv("depthwise", big, groups: 116, k: 3))
        b.markOutput(try conv("fc", vec))
        let graph = try b.finish()
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].weightPanelRows = Sourced(16, source: "test")
        let before = try AnalyticalModel.estimate(graph, on: plain), after = try AnalyticalModel.estimate(graph, on: device)
        func flops(_ e: DeviceEstimate, _ name: String) throws -> Double {
            try #require(e.layers.first { $0.name == name }).computeFlopsByClass.values.reduce(0, +)
        }
        #expect(abs(try flops(after, "pixels") / flops(before, "pixels") - 128.0 / 116) < 1e-12)
        #expect(abs(try flops(after, "channels") / flops(before, "channels") - 48.0 * 4 / 116) < 1e-12)
        #expect(try flops(after, "depthwise") == flops(before, "depthwise"))
        #expect(try flops(after, "fc") == flops(before, "fc"))
        #expect(try flops(before, "pixels") == Double(#require(before.layers.first { $0.name == "pixels" }).counts.flops))
    }

    /// A stride-2 depthwise conv is priced at `depthwise_s2` (efficiency, per-output MACs, per-row
    /// overhead) when the unit lists it, and exactly as a `depthwise` conv when it does not; a stride-1
    /// one always at `depthwise`.
    @Test func strideTwoDepthwiseConvsUseTheirFinerClassWhenListed() throws {
        var b = GraphBuilder(name: "dw2")
        let x = b.input("x", shape: [1, 96, 56, 56])
        for (name, s) in [("s1", 1), ("s2", 2)] {
            let a = ConvAttributes(inChannels: 96, outChannels: 96, kernel: [3, 3], strides: [s, s], pads: [1, 1, 1, 1], groups: 96)
            b.markOutput(try b.add1(name, .conv(a), inputs: [x], params: [ParamInfo(name: "\(name).w", shape: [96, 1, 3, 3])]))
        }
        let graph = try b.finish()
        #expect(graph.efficiencyClass(try #require(graph.nodes.first { $0.name == "s2" })) == .depthwiseS2)
        #expect(graph.efficiencyClass(try #require(graph.nodes.first { $0.name == "s1" })) == .depthwise)
        let plain = try testDevice()
        var device = plain
        device.computeUnits[0].efficiency[.depthwiseS2] = Sourced(plain.computeUnits[0].efficiency(for: .depthwise) / 4, source: "test")
        device.computeUnits[0].channelOverhead[.depthwiseS2] = Sourced(Seconds(1e-6), source: "test")
        #expect(plain.computeUnits[0].efficiency(for: .depthwiseS2) == plain.computeUnits[0].efficiency(for: .depthwise))
        let before = try AnalyticalModel.estimate(graph, on: plain), after = try AnalyticalModel.estimate(graph, on: device)
        func latency(_ e: DeviceEstimate, _ name: String) throws -> Double { try #require(e.layers.first { $0.name == name }).latency.value }
        #expect(try latency(after, "s1") == latency(before, "s1"))
        // 96 × 28 output rows at 1 µs each, plus a slower compute term.
        #expect(try latency(after, "s2") > latency(before, "s2") + 96 * 28 * 1e-6)
    }

    /// A Winograd conv re-fetches operands for the 16/36 of its counted MACs it performs.
    @Test func winogradRefetchCountsTheProductsItPerforms() throws {
        let g = try convGraph(channels: 64, outChannels: 64, size: 28)
        let direct = try AnalyticalModel.estimate(g, on: try testDevice())
        var device = try testDevice()
        device.computeUnits[0].efficiency[.convWinograd] = Sourced(0.9, source: "test")
        let wino = try AnalyticalModel.estimate(g, on: device)
        let d = try #require(direct.layers.first { $0.opClass == .conv }), w = try #require(wino.layers.first { $0.opClass == .conv })
        // Innermost level: register-tile re-fetch dominates the compulsory bytes for this shape.
        let macs = Double(d.counts.macs)
        let words = 2048.0 / 4   // the test device's register_bytes
        #expect(abs(d.traffic[0].readBytes.value - 2 * macs * 4 / words.squareRoot()) < 1)
        #expect(abs(w.traffic[0].readBytes.value - 2 * macs * 16 / 36 * 4 / words.squareRoot()) < 1)
    }

    /// `memory_efficiency` divides a class's memory term (every level) and nothing else.
    @Test func memoryEfficiencyStretchesOnlyItsClassesMemoryTime() throws {
        var b = GraphBuilder(name: "transpose")
        let x = b.input("x", shape: [1, 64, 32, 32])
        let r = try b.add1("relu", .activation(.relu), inputs: [x])
        let t = try b.add1("tr", .transpose(perm: [0, 1, 3, 2]), inputs: [r])
        b.markOutput(try b.add1("relu2", .activation(.relu), inputs: [t]))
        let g = try b.finish()
        var device = try testDevice()
        let plain = try AnalyticalModel.estimate(g, on: device)
        device.computeUnits[0].memoryEfficiency[.dataMovement] = Sourced(0.25, source: "test")
        let slow = try AnalyticalModel.estimate(g, on: device)
        let before = try #require(plain.layers.first { $0.nodes == ["tr"] })
        let after = try #require(slow.layers.first { $0.nodes == ["tr"] })
        #expect(before.traffic.contains { $0.time.value > 0 })
        for (p, q) in zip(before.traffic, after.traffic) where p.time.value > 0 {
            #expect(abs(q.time.value / p.time.value - 4) < 1e-9, "\(p.level)")
            #expect(q.readBytes == p.readBytes && q.writeBytes == p.writeBytes)
        }
        #expect(after.latency.value > before.latency.value)
        let relu0 = try #require(plain.layers.first { $0.nodes == ["relu"] }), relu1 = try #require(slow.layers.first { $0.nodes == ["relu"] })
        #expect(relu0.latency == relu1.latency, "other classes unchanged")
    }

    /// `bulk_copy`: a copy's traffic beyond `after` bytes (per level) moves at the bulk share, the first
    /// `after` bytes at the class's share; a copy below `after` and other classes are unchanged.
    @Test func bulkCopySplitsALargeCopysTrafficAtAfter() throws {
        func graph(_ c: Int) throws -> Graph {
            var b = GraphBuilder(name: "copy")
            let x = b.input("x", shape: [1, c, 32, 32])
            let r = try b.add1("relu", .activation(.relu), inputs: [x])
            let t = try b.add1("tr", .transpose(perm: [0, 1, 3, 2]), inputs: [r])
            b.markOutput(try b.add1("relu2", .activation(.relu), inputs: [t]))
            return try b.finish()
        }
        var device = try testDevice()
        device.computeUnits[0].memoryEfficiency[.dataMovement] = Sourced(0.25, source: "test")
        let large = try graph(64), small = try graph(4)   // 512 KiB of traffic (256 KiB read + written) vs 32 KiB
        let plainLarge = try AnalyticalModel.estimate(large, on: device), plainSmall = try AnalyticalModel.estimate(small, on: device)
        device.computeUnits[0].bulkCopy = .init(after: Sourced(Bytes(64 * 1024), source: "test"), efficiency: Sourced(2, source: "test"))
        let bulkLarge = try AnalyticalModel.estimate(large, on: device), bulkSmall = try AnalyticalModel.estimate(small, on: device)
        let before = try #require(plainLarge.layers.first { $0.nodes == ["tr"] }), after = try #require(bulkLarge.layers.first { $0.nodes == ["tr"] })
        let bandwidths = device.memory.map(\.bandwidth.value.value)
        for (i, (p, q)) in zip(before.traffic, after.traffic).enumerated() where p.time.value > 0 {
            let bytes = p.readBytes.value + p.writeBytes.value
            #expect(bytes > 64 * 1024)
            let want = 65536 / (bandwidths[i] * 0.25) + (bytes - 65536) / (bandwidths[i] * 2)
            #expect(abs(q.time.value / want - 1) < 1e-9, "\(p.level)")
            #expect(q.readBytes == p.readBytes && q.writeBytes == p.writeBytes, "same bytes, faster")
        }
        #expect(after.latency.value < before.latency.value)
        let s0 = try #require(plainSmall.layers.first { $0.nodes == ["tr"] }), s1 = try #require(bulkSmall.layers.first { $0.nodes == ["tr"] })
        #expect(s0.latency == s1.latency, "32 KiB of traffic: below after")
        let r0 = try #require(plainLarge.layers.first { $0.nodes == ["relu"] }), r1 = try #require(bulkLarge.layers.first { $0.nodes == ["relu"] })
        #expect(r0.latency == r1.latency, "other classes unchanged")
    }

    /// An element-wise kernel that overwrites its dying input (`Graph.inPlaceInputs`) moves the same
    /// bytes as one that writes a fresh buffer, in 1/`inPlaceStreamGain` of the time; runtimes priced
    /// without in-place execution (ncnn's style) and a mul whose input is read again pay the full stream.
    @Test func inPlaceElementwiseKernelsStreamFaster() throws {
        func graph(reuseInput: Bool) throws -> Graph {
            var b = GraphBuilder(name: "se")
            let x = b.input("x", shape: [1, 32, 28, 28])
            let c = try b.add1("conv", .conv(ConvAttributes(inChannels: 32, outChannels: 32, kernel: [1, 1], pads: [0, 0, 0, 0], groups: 1, hasBias: true)),
                               inputs: [x], params: [ParamInfo(name: "w", shape: [32, 32, 1, 1]), ParamInfo(name: "b", shape: [32])])
            let m = try b.add1("scale", .binary(.mul), inputs: [c], params: [ParamInfo(name: "s", shape: [1, 32, 1, 1])])
            let y = reuseInput ? try b.add1("sum", .binary(.add), inputs: [m, c])
                : try b.add1("conv2", .conv(ConvAttributes(inChannels: 32, outChannels: 32, kernel: [1, 1], pads: [0, 0, 0, 0], groups: 1, hasBias: true)),
                             inputs: [m], params: [ParamInfo(name: "w2", shape: [32, 32, 1, 1]), ParamInfo(name: "b2", shape: [32])])
            b.markOutput(y)
            return try b.finish()
        }
        let device = try testDevice()
        let shared = try graph(reuseInput: false), own = try graph(reuseInput: true)
        var fused = shared
        fused.fuse()
        #expect(fused.inPlaceInputs().count == 1)
        let inPlace = try #require(AnalyticalModel.estimate(shared, on: device).layers.first { $0.nodes == ["scale"] })
        let separate = try #require(AnalyticalModel.estimate(own, on: device).layers.first { $0.nodes == ["scale"] })
        let ncnn = try #require(AnalyticalModel.estimate(PreparedGraph(shared, style: .forRuntime("ncnn_cpu")), on: device).layers.first { $0.nodes == ["scale"] })
        #expect(inPlace.traffic.contains { $0.time.value > 0 })
        for (p, q) in zip(inPlace.traffic, separate.traffic) where q.time.value > 0 {
            #expect(p.readBytes == q.readBytes && p.writeBytes == q.writeBytes, "\(p.level)")
            #expect(abs(q.time.value / p.time.value - AnalyticalModel.inPlaceStreamGain) < 1e-9, "\(p.level)")
        }
        for (p, q) in zip(ncnn.traffic, separate.traffic) { #expect(p.time == q.time, "\(p.level)") }
    }

    /// A concat whose producers write into its output (`ExecutionStyle.concatsInPlace`) moves only
    /// the inputs that cannot be placed (one an earlier concat took), and is a view when none are
    /// left; a runtime that copies concats (ncnn) pays for every input.
    @Test func placedConcatInputsCostNothing() throws {
        var b = GraphBuilder(name: "cat")
        let x = b.input("x", shape: [1, 8, 16, 16])
        let r = try b.add1("relu", .activation(.relu), inputs: [x])
        let s = try b.add1("sig", .activation(.sigmoid), inputs: [x])
        let u = try b.add1("tanh", .activation(.tanh), inputs: [x])
        let c = try b.add1("cat", .concat(axis: 1), inputs: [r, s])        // both placed: a view
        let d = try b.add1("cat2", .concat(axis: 1), inputs: [r, u])       // r lives in cat's output: copied
        b.markOutput(try b.add1("tanh2", .activation(.tanh), inputs: [c]))
        b.markOutput(try b.add1("tanh3", .activation(.tanh), inputs: [d]))
        let g = try b.finish()
        let device = try testDevice()
        let placed = try AnalyticalModel.estimate(g, on: device)
        let ncnn = try AnalyticalModel.estimate(PreparedGraph(g, style: .forRuntime("ncnn_cpu")), on: device)
        let view = try #require(placed.layers.first { $0.nodes == ["cat"] })
        #expect(view.latency.value == 0 && view.bound == .view)
        #expect(try #require(ncnn.layers.first { $0.nodes == ["cat"] }).latency.value > 0)
        let half = try #require(placed.layers.first { $0.nodes == ["cat2"] })
        let whole = try #require(ncnn.layers.first { $0.nodes == ["cat2"] })
        // 8 KiB of the 16 KiB: relu's output, read from its slice of cat's output and written into cat2's.
        let bytes = 8 * 16 * 16 * 4.0
        #expect(half.traffic[0].readBytes.value == bytes && half.traffic[0].writeBytes.value == bytes)
        #expect(whole.traffic[0].readBytes.value == 2 * bytes && whole.traffic[0].writeBytes.value == 2 * bytes)
        #expect(half.latency < whole.latency)
    }

    @Test func contiguousSplitCostsNothing() throws {
        var b = GraphBuilder(name: "split")
        let x = b.input("x", shape: [1, 8, 16, 16])
        let r = try b.add1("relu", .activation(.relu), inputs: [x])
        let outs = try b.add("split", .split(axis: 1, sizes: [4, 4]), inputs: [r])
        let s0 = try b.add1("sig0", .activation(.sigmoid), inputs: [outs[0]])
        let s1 = try b.add1("sig1", .activation(.sigmoid), inputs: [outs[1]])
        b.markOutput(s0)
        b.markOutput(s1)
        let e = try AnalyticalModel.estimate(try b.finish(), on: try testDevice())
        let split = try #require(e.layers.first { $0.nodes.contains("split") && $0.nodes.count == 1 })
        #expect(split.latency.value == 0 && split.bound == .view)

        // A runtime that copies channel splits (ncnn's Slice) pays for reading the input and writing both halves.
        // The 8 KiB tensor stays in L1 (the residence rule), so L1 sees the copy's bytes and nothing outside it does.
        let ncnn = ExecutionStyle.forRuntime("ncnn_cpu")
        let copied = try AnalyticalModel.estimate(PreparedGraph(try b.finish(), style: ncnn), on: try testDevice())
        let copy = try #require(copied.layers.first { $0.nodes == ["split"] })
        #expect(copy.opClass == .dataMovement && copy.latency.value > 0 && copy.bound != .view)
        let bytes = Double(8 * 16 * 16 * 4)
        let l1 = try #require(copy.traffic.first)
        #expect(l1.readBytes.value == bytes && l1.writeBytes.value == bytes, "\(l1)")
        #expect(copied.layers.count == e.layers.count)
        #expect(abs((copied.totals.latency - e.totals.latency - copy.latency).value) < 1e-12)
    }

    /// The same model priced as ncnn runs it (residual adds separate, channel splits copied) and as
    /// edgeprof's runner does: more kernels, more traffic, never faster; reshapes stay free in both.
    @Test func executionStylePricesTheKernelsTheRuntimeRuns() throws {
        let device = try testDevice()
        let ncnn = ExecutionStyle.forRuntime("ncnn_cpu")
        for name in ["resnet18", "shufflenet_v2_x1_0", "mobilenet_v2"] {
            let g = try #require(ModelZoo.model(named: name)).build()
            let own = try AnalyticalModel.estimate(PreparedGraph(g), on: device)
            let theirs = try AnalyticalModel.estimate(PreparedGraph(g, style: ncnn), on: device)
            let residual = own.layers.filter { $0.kind.contains("-add") }.count
            let adds = theirs.layers.filter { $0.kind.hasPrefix("add") }.count - own.layers.filter { $0.kind.hasPrefix("add") }.count
            #expect(adds == residual, "\(name): every residual add becomes its own kernel")
            #expect(theirs.layers.count == own.layers.count + residual)
            #expect(!theirs.layers.contains { $0.kind.contains("-add") })
            let copies = theirs.layers.filter { $0.kind == "split" || $0.kind == "slice" }
            #expect(copies.allSatisfy { $0.bound != .view && $0.latency.value > 0 }, "\(name)")
            #expect(theirs.layers.filter { $0.bound == .view }.allSatisfy { !["split", "slice"].contains($0.kind) })
            #expect(theirs.totals.latency > own.totals.latency, "\(name)")
            func moved(_ e: DeviceEstimate) -> Double { e.totals.traffic.reduce(0) { $0 + $1.readBytes.value + $1.writeBytes.value } }
            #expect(moved(theirs) > moved(own), "\(name)")
        }
        let shuffle = try AnalyticalModel.estimate(PreparedGraph(try #require(ModelZoo.model(named: "shufflenet_v2_x1_0")).build(), style: ncnn), on: device)
        #expect(shuffle.layers.contains { $0.kind == "split" || $0.kind == "slice" }, "shufflenet's channel split is priced")
        // PyTorch (eager): adds separate, chunks are views.
        let torch = ExecutionStyle.forRuntime("pytorch_cpu")
        #expect(!torch.fusesResidualAdds && torch.splitsAreViews)
        #expect(ExecutionStyle.forRuntime("tensorrt") == .edgeprof && ExecutionStyle.forRuntime(nil) == .edgeprof)
        #expect(ExecutionStyle.forRuntime("ncnn_vulkan") == ncnn && ExecutionStyle.forRuntime("tflite_cpu") == ncnn)
    }
}
