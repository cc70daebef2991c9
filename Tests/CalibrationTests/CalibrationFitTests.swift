@testable import Calibration
import Foundation
import NNGraph
import Testing

/// The fitter recovers known parameters from samples generated with the cost model's formula.
@Suite("Calibration fit")
struct CalibrationFitTests {
    static let peak = 100e9
    // Close to what the runner measures per tiny kernel (~0.1 µs): with a 5 µs overhead an L1-resident
    // stream (≤ 32 KiB moved, ~0.1 µs at 200 GB/s) would drown in 3% noise on the overhead.
    static let overhead = 0.1e-6
    static let bandwidths = [200e9, 100e9, 40e9, 10e9]
    static let efficiency: [OpClass: Double] = [.conv: 0.6, .depthwise: 0.15, .elementwise: 0.5, .pooling: 0.08, .attention: 0.3]

    /// Deterministic ±3% multiplicative noise (a fixed pattern, so the test is reproducible).
    static func noise(_ i: Int) -> Double { 1 + 0.03 * sin(Double(i) * 12.9898) }

    static func samples() -> [CalibrationSample] {
        var out: [CalibrationSample] = []
        var i = 0
        func add(_ name: String, _ role: CalibrationSample.Role, _ cls: OpClass, flops: Double, bytes: [Double]) {
            var s = CalibrationSample(name: name, benchmark: "synthetic-\(cls.rawValue)", role: role, opClass: cls, flops: flops, levelBytes: bytes, measured: 0)
            let t = CalibrationFitter.predict(s, peak: peak, overhead: overhead, bandwidths: bandwidths, efficiency: efficiency[cls] ?? 1)
            s.measured = t * noise(i)
            i += 1
            out.append(s)
        }
        for k in 0..<5 { add("tiny\(k)", .overhead, .elementwise, flops: 16, bytes: [128, 0, 0, 0]) }
        // Memory-bound streams resident in each level: bytes counted at every level up to it.
        for (level, base) in [(0, 16_384.0), (1, 262_144.0), (2, 2_097_152.0), (3, 67_108_864.0)] {
            for m in [1.0, 1.5, 2.0] {
                let b = base * m
                add("stream-L\(level)-\(m)", .bandwidth(level: level), .elementwise, flops: b / 8, bytes: (0..<4).map { $0 <= level ? b : 0 })
            }
        }
        for n in [64.0, 128, 256, 512] {
            let flops = 2 * n * n * 196
            add("conv\(Int(n))", .compute, .conv, flops: flops, bytes: [n * n * 4 + 2 * n * 196 * 4, n * 196 * 8, 0, 0])
            add("attn\(Int(n))", .compute, .attention, flops: flops / 2, bytes: [n * 196 * 16, n * 196 * 16, 0, 0])
            add("dw\(Int(n))", .compute, .depthwise, flops: 18 * n * 3136, bytes: [n * 3136 * 8, n * 3136 * 8, 0, 0])
            add("pool\(Int(n))", .compute, .pooling, flops: 9 * n * 3136, bytes: [n * 3136 * 8, n * 3136 * 8, 0, 0])
            add("sigmoid\(Int(n))", .compute, .elementwise, flops: 40 * n * 784, bytes: [n * 784 * 8, 0, 0, 0])
        }
        return out
    }

    @Test func recoversKnownParameters() throws {
        let fit = CalibrationFitter.fit(Self.samples(), peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        #expect(abs(fit.overhead / Self.overhead - 1) < 0.05, "overhead \(fit.overhead)")
        for (l, truth) in Self.bandwidths.enumerated() {
            let got = try #require(fit.bandwidths[l])
            // L1 streams last ~0.1-0.2 µs, as long as the overhead itself: a looser bound there.
            #expect(abs(got / truth - 1) < (l == 0 ? 0.12 : 0.06), "level \(l): \(got) vs \(truth)")
        }
        for (cls, truth) in Self.efficiency {
            let got = try #require(fit.efficiency[cls])
            #expect(abs(got / truth - 1) < 0.06, "\(cls): \(got) vs \(truth)")
        }
        #expect(fit.efficiencyBenchmarks[.conv] == ["synthetic-conv"])
    }

    /// Depthwise 3×3 and 5×5 kernels generated with per-output work c: the joint fit finds c and the
    /// efficiency; generated without it, it keeps c = 0; kernels that do not differ in MACs per output
    /// (all 3×3) leave c unfitted.
    @Test func perOutputMACsAreRecoveredJointlyWithTheEfficiency() throws {
        func samples(c: Double, kernels: [Int]) -> [CalibrationSample] {
            var out: [CalibrationSample] = []
            var i = 0
            for k in kernels {
                for (ch, hw) in [(32, 112), (144, 28), (672, 14)] {
                    let outputs = Double(ch * hw * hw)
                    var s = CalibrationSample(name: "dw\(k)-\(ch)", benchmark: "synthetic-dw", role: .compute, opClass: .depthwise,
                                              flops: 2 * Double(k * k) * outputs, levelBytes: [outputs * 8, 0, 0, 0], measured: 0, outputs: outputs)
                    s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths,
                                                           efficiency: 0.3, perOutputMACs: c) * Self.noise(i)
                    i += 1
                    out.append(s)
                }
            }
            return out
        }
        let fit = CalibrationFitter.fit(samples(c: 6, kernels: [3, 5]), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(fit.perOutputMACs[.depthwise] == 6, "\(fit.perOutputMACs)")
        #expect(abs(fit.efficiency[.depthwise, default: 0] / 0.3 - 1) < 0.05, "\(fit.efficiency[.depthwise, default: 0])")
        let none = CalibrationFitter.fit(samples(c: 0, kernels: [3, 5]), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(none.perOutputMACs[.depthwise] == 0, "\(none.perOutputMACs)")
        #expect(abs(none.efficiency[.depthwise, default: 0] / 0.3 - 1) < 0.05)
        let same = CalibrationFitter.fit(samples(c: 6, kernels: [3]), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(same.perOutputMACs[.depthwise] == nil)
        // Classes outside `perOutputClasses` are never given per-output work.
        #expect(CalibrationFitter.fit(Self.samples(), peak: Self.peak, fallbackBandwidths: Self.bandwidths).perOutputMACs.isEmpty)
    }

    /// Fully connected layers over 197 tokens with 96-768 inputs (a vision transformer's shapes),
    /// generated with a per-output cost (the bias/activation pass over the output): the fit recovers
    /// it with the efficiency, so a K = 192 layer is priced slower per MAC than a K = 768 one.
    @Test func gemmPerOutputCostIsRecoveredFromTransformerShapes() throws {
        func samples(c: Double) -> [CalibrationSample] {
            [96, 192, 384, 768].enumerated().map { i, d in
                let outputs = Double(197 * d)
                var s = CalibrationSample(name: "gemm-197x\(d)x\(d)", benchmark: "synthetic-gemm", role: .compute, opClass: .gemm,
                                          flops: 2 * Double(d) * outputs, levelBytes: [Double(197 * d * 8 + d * d * 4), 0, 0, 0], measured: 0,
                                          outputs: outputs)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths,
                                                       efficiency: 0.7, perOutputMACs: c) * Self.noise(i)
                return s
            }
        }
        let fit = CalibrationFitter.fit(samples(c: 20), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        let c = try #require(fit.perOutputMACs[.gemm])
        #expect(abs(c - 20) <= 4, "per-output MACs \(c), generated with 20")
        #expect(abs(fit.efficiency[.gemm, default: 0] / 0.7 - 1) < 0.05, "\(fit.efficiency[.gemm, default: 0])")
        let none = CalibrationFitter.fit(samples(c: 0), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(none.perOutputMACs[.gemm, default: -1] <= 1, "\(none.perOutputMACs)")
    }

    /// SiLUs fused into 1×1 convs (session 31's activation grid): samples whose own part is the SiLU
    /// (transcendental) and whose conv part, with its per-output work, is priced at conv_1x1, generated
    /// from known values. The fit orders conv_1x1 first and recovers the SiLU's efficiency only when it
    /// prices the conv part with conv_1x1's per-output MACs; left out, the SiLU absorbs them.
    @Test func aFusedActivationIsFittedAfterItsAnchorWithTheAnchorsPerOutputWork() throws {
        var samples: [CalibrationSample] = []
        var i = 0
        func convs(_ c: Double) {
            for (k, hw) in [(16.0, 56.0), (64, 28), (256, 14), (512, 7)] {
                let outputs = 96 * hw * hw
                var s = CalibrationSample(name: "conv-\(Int(k))", benchmark: "synthetic-conv1x1", role: .compute, opClass: .conv1x1,
                                          flops: 2 * k * outputs, levelBytes: [outputs * 8, 0, 0, 0], measured: 0, outputs: outputs)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths,
                                                       efficiency: 0.6, perOutputMACs: c) * Self.noise(i)
                i += 1
                samples.append(s)
            }
        }
        convs(8)
        for (k, hw) in [(16.0, 56.0), (40, 28)] {
            let outputs = 6 * k * hw * hw
            var s = CalibrationSample(name: "silu-\(Int(k))", benchmark: "synthetic-fused", role: .compute, opClass: .transcendental,
                                      flops: 20 * outputs, otherFlops: [.conv1x1: 2 * k * outputs], levelBytes: [outputs * 8, 0, 0, 0],
                                      measured: 0, outputs: outputs)
            s.anchorClass = .conv1x1
            s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths, efficiency: 0.2,
                                                   otherEfficiency: { $0 == .conv1x1 ? 0.6 : 1 }, otherPerOutputMACs: { $0 == .conv1x1 ? 8 : 0 })
            samples.append(s)
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(fit.perOutputMACs[.conv1x1] == 8, "\(fit.perOutputMACs)")
        #expect(abs(fit.efficiency[.conv1x1, default: 0] / 0.6 - 1) < 0.05, "\(fit.efficiency)")
        #expect(abs(fit.efficiency[.transcendental, default: 0] / 0.2 - 1) < 0.05, "\(fit.efficiency)")
        // The order the fitter uses: a class after the classes its samples' other parts are priced at.
        let order = CalibrationFitter.dependencyOrder([.transcendental, .conv1x1, .elementwise, .convWinograd]) { c in
            c == .transcendental ? [.conv1x1] : c == .convWinograd ? [.elementwise] : []
        }
        #expect(order.firstIndex(of: .conv1x1)! < order.firstIndex(of: .transcendental)!, "\(order)")
        #expect(order.firstIndex(of: .elementwise)! < order.firstIndex(of: .convWinograd)!, "\(order)")
        #expect(Set(order) == [.transcendental, .conv1x1, .elementwise, .convWinograd])
    }

    /// Depthwise kernels from 32 channels on 112² to 960 on 7² with a per-row cost (charged per output
    /// row, channels × height): the fit finds it with the per-output MACs and the efficiency, and takes
    /// the tiny depthwise chain's overhead less its 32 × 4 rows' share.
    @Test func channelOverheadIsRecoveredWithTheOtherDepthwiseTerms() throws {
        let o = 2.5e-9, c = 4.0, e = 0.5, fixed = 0.3e-6
        var samples: [CalibrationSample] = []
        var i = 0
        for (ch, hw, k) in [(32, 112, 3), (96, 56, 3), (144, 28, 3), (384, 14, 3), (960, 7, 3), (240, 28, 5), (672, 14, 5)] {
            let outputs = Double(ch * hw * hw)
            var x = CalibrationSample(name: "dw\(k)-\(ch)", benchmark: "synthetic-dw", role: .compute, opClass: .depthwise,
                                      flops: 2 * Double(k * k) * outputs, levelBytes: [outputs * 8, 0, 0, 0], measured: 0,
                                      outputs: outputs, channels: Double(ch * hw))
            x.measured = CalibrationFitter.predict(x, peak: Self.peak, overhead: fixed, bandwidths: Self.bandwidths, efficiency: e,
                                                   perOutputMACs: c, channelOverhead: o) * (1 + 0.01 * sin(Double(i) * 12.9898))
            i += 1
            samples.append(x)
        }
        samples.append(CalibrationSample(name: "tiny-dw", benchmark: "tiny", role: .overhead, opClass: .depthwise, flops: 0, levelBytes: [0, 0, 0, 0],
                                         measured: fixed + 32 * 4 * o, outputs: 512, channels: 32 * 4))
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs((fit.channelOverheads[.depthwise] ?? 0) / o - 1) < 0.3, "\(fit.channelOverheads)")
        #expect(abs((fit.perOutputMACs[.depthwise] ?? 0) - c) <= 1, "\(fit.perOutputMACs)")
        #expect(abs(fit.efficiency[.depthwise, default: 0] / e - 1) < 0.1, "\(fit.efficiency[.depthwise, default: 0])")
        #expect(abs(fit.overhead(for: .depthwise) / fixed - 1) < 0.3, "\(fit.overhead(for: .depthwise))")
    }

    /// Stride-2 depthwise kernels (`depthwise_s2`) next to the stride-1 grid, generated with their own
    /// efficiency, per-output MACs and per-row cost: with five shapes the fit recovers all three
    /// without disturbing `depthwise`'s; with two (as `--quick` runs) it fits only the efficiency, with
    /// `depthwise`'s per-output and per-row terms, which it reports as inherited (not as its own).
    @Test func strideTwoDepthwiseGetsItsOwnTermsOrInheritsThem() throws {
        let fixed = 0.3e-6
        let s1 = (o: 2.0e-9, c: 1.0, e: 0.4), s2 = (o: 6.0e-9, c: 6.0, e: 0.25)
        func dw(_ cls: OpClass, _ ch: Int, _ hw: Int, _ k: Int, _ t: (o: Double, c: Double, e: Double), _ i: Int) -> CalibrationSample {
            let out = cls == .depthwiseS2 ? hw / 2 : hw
            let outputs = Double(ch * out * out)
            var x = CalibrationSample(name: "dw\(k)-\(ch)-\(cls.rawValue)", benchmark: "synthetic-dw", role: .compute, opClass: cls,
                                      flops: 2 * Double(k * k) * outputs, levelBytes: [outputs * 8, 0, 0, 0], measured: 0,
                                      outputs: outputs, channels: Double(ch * out))
            x.measured = CalibrationFitter.predict(x, peak: Self.peak, overhead: fixed, bandwidths: Self.bandwidths, efficiency: t.e,
                                                   perOutputMACs: t.c, channelOverhead: t.o) * (1 + 0.01 * sin(Double(i) * 12.9898))
            return x
        }
        let grid = [(32, 112, 3), (96, 56, 3), (144, 28, 3), (384, 14, 3), (960, 7, 3), (240, 28, 5), (672, 14, 5)]
        let strided = [(96, 112, 3), (144, 56, 5), (192, 28, 3), (576, 14, 3), (672, 14, 5)]
        let tiny = CalibrationSample(name: "tiny-dw", benchmark: "tiny", role: .overhead, opClass: .depthwise, flops: 0, levelBytes: [0, 0, 0, 0],
                                     measured: fixed + 32 * 4 * s1.o, outputs: 512, channels: 32 * 4)
        let base = grid.enumerated().map { dw(.depthwise, $0.element.0, $0.element.1, $0.element.2, s1, $0.offset) } + [tiny]
        let full = CalibrationFitter.fit(base + strided.enumerated().map { dw(.depthwiseS2, $0.element.0, $0.element.1, $0.element.2, s2, 20 + $0.offset) },
                                         peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(try #require(full.efficiency[.depthwiseS2]) / s2.e - 1) < 0.1, "\(full.efficiency)")
        #expect(abs((full.perOutputMACs[.depthwiseS2] ?? -9) - s2.c) <= 1, "\(full.perOutputMACs)")
        #expect(abs((full.channelOverheads[.depthwiseS2] ?? 0) / s2.o - 1) < 0.3, "\(full.channelOverheads)")
        #expect(abs(try #require(full.efficiency[.depthwise]) / s1.e - 1) < 0.1, "\(full.efficiency)")
        #expect(abs((full.perOutputMACs[.depthwise] ?? -9) - s1.c) <= 1, "\(full.perOutputMACs)")
        // Two shapes: not enough to separate the terms. Generated here with depthwise's terms and its
        // own efficiency, which is recovered; the terms stay depthwise's.
        let quick = CalibrationFitter.fit(base + strided.prefix(2).enumerated().map {
            dw(.depthwiseS2, $0.element.0, $0.element.1, $0.element.2, (o: s1.o, c: s1.c, e: s2.e), 30 + $0.offset)
        }, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(try #require(quick.efficiency[.depthwiseS2]) / s2.e - 1) < 0.1, "\(quick.efficiency)")
        #expect(quick.perOutputMACs[.depthwiseS2] == nil && quick.channelOverheads[.depthwiseS2] == nil)
        #expect(CalibrationFitter.inheritsTerms(.depthwiseS2) && !CalibrationFitter.inheritsTerms(.depthwise) && !CalibrationFitter.inheritsTerms(.conv1x1))
    }

    @Test func noiseFreeDataIsRecoveredTightly() throws {
        let clean = Self.samples().map { s -> CalibrationSample in
            var c = s
            c.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths,
                                                   efficiency: Self.efficiency[s.opClass] ?? 1)
            return c
        }
        let fit = CalibrationFitter.fit(clean, peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        #expect(abs(fit.efficiency[.conv, default: 0] / 0.6 - 1) < 0.01)
        #expect(abs(fit.efficiency[.depthwise, default: 0] / 0.15 - 1) < 0.01)
        // The streams carry the tiny kernels' work on top of the overhead: the bandwidths stay within 1%.
        #expect(abs((fit.bandwidths[3] ?? 0) / 10e9 - 1) < 0.01)
    }

    @Test func aCoarseClassWithKernelsOfItsOwnIgnoresItsFinerClass() throws {
        // elementwise kernels at 0.2, transcendental ones at 0.02: `elementwise` must stay 0.2.
        var samples: [CalibrationSample] = []
        for (cls, e) in [(OpClass.elementwise, 0.2), (.transcendental, 0.02)] {
            for n in [1e6, 2e6] {
                var s = CalibrationSample(name: "\(cls.rawValue)\(n)", benchmark: "act", role: .compute, opClass: cls, flops: 8 * n, levelBytes: [n, 0, 0, 0], measured: 0)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 0, bandwidths: Self.bandwidths, efficiency: e)
                samples.append(s)
            }
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(fit.efficiency[.elementwise, default: 0] / 0.2 - 1) < 0.01)
        #expect(abs(fit.efficiency[.transcendental, default: 0] / 0.02 - 1) < 0.01)
    }

    /// Streaming kernels of a class that reaches only part of the stream bandwidths (a gather, a
    /// reduction) recover that share as `memory_efficiency`, per class; the pooling compute fit then
    /// prices its memory term with it, so a memory-bound pooling kernel does not bend the efficiency.
    @Test func memoryEfficiencyIsRecoveredPerClass() throws {
        let truth: [OpClass: Double] = [.dataMovement: 0.4, .pooling: 0.7]
        var samples = Self.samples()
        var i = 100
        for (cls, e) in truth.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for b in [300_000.0, 900_000, 2_000_000] {
                var s = CalibrationSample(name: "\(cls.rawValue)\(Int(b))", benchmark: "streaming", role: .streaming, opClass: cls, flops: 0,
                                          levelBytes: [b, b, b, 0], measured: 0)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths, efficiency: 1,
                                                       memoryEfficiency: e) * Self.noise(i)
                i += 1
                samples.append(s)
            }
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        for (cls, e) in truth {
            let got = try #require(fit.memoryEfficiency[cls])
            #expect(abs(got / e - 1) < 0.06, "\(cls): \(got) vs \(e)")
        }
        #expect(fit.memoryEfficiency[.elementwise] == nil, "no streaming kernels of that class")
        #expect(fit.memoryEfficiencyBenchmarks[.pooling] == ["streaming"])
        let pool = try #require(fit.efficiency[.pooling])
        #expect(abs(pool / Self.efficiency[.pooling]! - 1) < 0.06, "pooling efficiency \(pool)")
    }

    /// Streams of a memory-bound class (`gemm`, matrix-vector products) generated with a known share, the
    /// forking ones (`forks`) with a known `parallel_overhead` τ on top, and probes (small forking kernels,
    /// `parallelOverhead`) generated the same way: the fit recovers τ and the share net of it; without
    /// probes τ stays unfitted (nil); probes faster than their one-thread prediction give τ = 0, not less.
    @Test func parallelOverheadIsRecoveredFromTheProbes() throws {
        func samples(tau: Double, probeTimes: Double = 1) -> [CalibrationSample] {
            var out = Self.samples()
            var i = 200
            func add(_ name: String, role: CalibrationSample.Role, bytes b: Double, forks: Bool, scale: Double = 1) {
                var s = CalibrationSample(name: name, benchmark: role == .parallelOverhead ? "probe" : "gemv", role: role, opClass: .gemm,
                                          flops: b / 2, levelBytes: [b, b, b, 0], measured: 0)
                s.forks = forks
                s.accessLatency = 20e-9
                s.measured = (CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths, efficiency: 1,
                                                        memoryEfficiency: 1.2) + (forks ? tau : 0)) * scale * Self.noise(i)
                i += 1
                out.append(s)
            }
            for b in [20_000.0, 60_000, 200_000, 900_000] { add("gemv\(Int(b))", role: .streaming, bytes: b, forks: b > 50_000) }
            // Small probes, as the suite's: ±3 % noise on a 5 µs kernel would be ±0.15 µs of τ.
            for b in [8_000.0, 16_000, 32_000] { add("probe\(Int(b))", role: .parallelOverhead, bytes: b, forks: true, scale: probeTimes) }
            return out
        }
        let tau = 0.6e-6
        let fit = CalibrationFitter.fit(samples(tau: tau), peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        let got = try #require(fit.parallelOverhead)
        #expect(abs(got / tau - 1) < 0.1, "parallel_overhead \(got)")  // ±3 % of the probes' ~1.2 µs
        let share = try #require(fit.memoryEfficiency[.gemm])
        #expect(abs(share / 1.2 - 1) < 0.06, "gemm share \(share), fitted net of τ on the forking streams")
        #expect(fit.parallelOverheadBenchmarks == ["probe"])
        // Fitted as if nothing forked, the share of the forking streams absorbs τ and comes out lower.
        var unaware = samples(tau: tau)
        for j in unaware.indices { unaware[j].forks = false }
        let blind = CalibrationFitter.fit(unaware.filter { $0.role != .parallelOverhead }, peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        #expect(blind.parallelOverhead == nil)
        #expect(try #require(blind.memoryEfficiency[.gemm]) < share * 0.97)
        let none = CalibrationFitter.fit(samples(tau: 0, probeTimes: 0.8), peak: Self.peak, fallbackBandwidths: [1e9, 1e9, 1e9, 1e9])
        #expect(none.parallelOverhead == 0)
    }

    /// Copies generated with the bulk-copy split (the first 512 KiB of traffic at share 0.45, the rest at
    /// 1.3, ±3 % noise): with the device's `after` the fit recovers both shares and names the large copies;
    /// copies generated with one share get no split (tested and rejected); without `after`, none is tried.
    @Test func bulkCopyShareIsRecoveredBeyondAfter() throws {
        let after = 512.0 * 1024, share = 0.45, bulk = 1.3
        func copies(bulkShare: Double) -> [CalibrationSample] {
            [150_000.0, 300_000, 364_000, 728_000, 1_600_000, 3_200_000].enumerated().map { i, b in
                var s = CalibrationSample(name: "copy\(Int(b))", benchmark: "streaming", role: .streaming, opClass: .dataMovement, flops: 0,
                                          levelBytes: [b, b, b, 0], measured: 0)
                s.measured = (Self.overhead + CalibrationFitter.splitMemoryTime(s, bandwidths: Self.bandwidths, share: share, after: after, bulk: bulkShare))
                    * Self.noise(i + 40)
                return s
            }
        }
        let fit = CalibrationFitter.fit(Self.samples() + copies(bulkShare: bulk), peak: Self.peak, fallbackBandwidths: Self.bandwidths, bulkCopyAfter: after)
        let b = try #require(fit.bulkCopy)
        #expect(fit.bulkCopyTested)
        #expect(b.after == after)
        #expect(abs(b.efficiency / bulk - 1) < 0.08, "bulk share \(b.efficiency)")
        #expect(abs(fit.memoryEfficiency[.dataMovement, default: 0] / share - 1) < 0.08, "\(fit.memoryEfficiency)")
        #expect(b.largeBenchmarks == ["copy1600000", "copy3200000"], "≥ 1.5 × 512 KiB of traffic")
        // With the split the copies are predicted within the noise; one share misses the large ones.
        for x in copies(bulkShare: bulk) {
            let p = CalibrationFitter.predict(x, peak: Self.peak, overhead: fit.overhead(for: .dataMovement), bandwidths: Self.bandwidths, efficiency: 1,
                                              memoryEfficiency: fit.memoryEfficiency[.dataMovement] ?? 1, bulkCopy: b)
            #expect(abs(p / x.measured - 1) < 0.1, "\(x.name): \(p) vs \(x.measured)")
        }
        let flat = CalibrationFitter.fit(Self.samples() + copies(bulkShare: share), peak: Self.peak, fallbackBandwidths: Self.bandwidths, bulkCopyAfter: after)
        #expect(flat.bulkCopy == nil && flat.bulkCopyTested)
        #expect(abs(flat.memoryEfficiency[.dataMovement, default: 0] / share - 1) < 0.08)
        let untried = CalibrationFitter.fit(Self.samples() + copies(bulkShare: bulk), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(untried.bulkCopy == nil && !untried.bulkCopyTested)
        // Too few large copies (the --quick grid): not tried, whatever the data.
        let small = CalibrationFitter.fit(Self.samples() + copies(bulkShare: bulk).prefix(5), peak: Self.peak, fallbackBandwidths: Self.bandwidths,
                                          bulkCopyAfter: after)
        #expect(small.bulkCopy == nil && !small.bulkCopyTested)
    }

    /// Streams of `cls` (name, bytes, rows) timed as the model prices them with `share` and a per-row
    /// overhead `o` (±1 % deterministic noise): the fit recovers o (within 30 %) and the share (10 %);
    /// the same streams with `flatRows` rows each are fitted with the share alone (no per-row term).
    static func expectRowOverheadRecovered(_ cls: OpClass, shapes: [(String, Double, Double)], levels: (Double) -> [Double], share: Double, o: Double,
                                           flatRows: Double, outputs: ((Double) -> Double)? = nil) throws {
        func streams(rows: (Double) -> Double) -> [CalibrationSample] {
            shapes.enumerated().map { i, x in
                var s = CalibrationSample(name: x.0, benchmark: "streaming", role: .streaming, opClass: cls, flops: 0,
                                          levelBytes: levels(x.1), measured: 0, outputs: outputs?(x.1), channels: rows(x.2))
                s.measured = CalibrationFitter.predict(s, peak: peak, overhead: overhead, bandwidths: bandwidths, efficiency: 1,
                                                       memoryEfficiency: share, channelOverhead: o) * (1 + 0.01 * sin(Double(i) * 12.9898))
                return s
            }
        }
        let fit = CalibrationFitter.fit(samples() + streams { $0 }, peak: peak, fallbackBandwidths: bandwidths)
        let got = try #require(fit.channelOverheads[cls])
        #expect(abs(got / o - 1) < 0.3, "\(cls) row overhead \(got)")
        #expect(abs(fit.memoryEfficiency[cls, default: 0] / share - 1) < 0.1, "\(fit.memoryEfficiency)")
        let flat = CalibrationFitter.fit(samples() + streams { _ in flatRows }, peak: peak, fallbackBandwidths: bandwidths)
        #expect(flat.channelOverheads[cls] == nil)
        #expect(abs(flat.memoryEfficiency[cls, default: 0] / share - 1) < 0.1, "\(flat.memoryEfficiency)")
    }

    /// Copies generated with a per-run overhead (8 ns per contiguous run, share 0.6, ±1 % noise): two
    /// concats of 2 blocks, shuffles of 116-256 planes and two head transposes of 300 and 591 short runs.
    /// The fit recovers o and the share together; copies whose run counts differ less than 4× are fitted
    /// with the share alone (no per-run term).
    @Test func copiesPerRunOverheadIsRecoveredWithTheShare() throws {
        let shapes: [(String, Double, Double)] = [("concat-58", 727_552, 2), ("concat-116", 363_776, 2), ("shuffle-116", 727_552, 116),
                                                  ("shuffle-256", 1_605_632, 256), ("transpose-591", 302_592, 591), ("transpose-300", 153_600, 300)]
        // With equal run counts (2 each, as the concats) nothing separates the run term from the share.
        try Self.expectRowOverheadRecovered(.dataMovement, shapes: shapes, levels: { [$0, $0, 0, 0] }, share: 0.6, o: 8e-9, flatRows: 2)
    }

    /// Binary elementwise streams: same-shape adds (one row) and per-channel scales (one short row per
    /// channel) generated with a per-row overhead; the fit recovers that overhead and the share
    /// together, and writes the class's `channel_overhead`. Without row spread it fits the share alone.
    @Test func elementwiseRowOverheadIsRecoveredWithTheShare() throws {
        let shapes: [(String, Double, Double)] = [("add-64x28²", 602_112, 1), ("add-32x112²", 4_816_896, 1), ("mul-144x28²", 1_354_752, 144),
                                                  ("mul-480x14²", 1_128_960, 480), ("mul-576x7²", 338_688, 576)]
        // All same-shape (one row each): no rows to separate, one share and no per-row term.
        try Self.expectRowOverheadRecovered(.elementwise, shapes: shapes, levels: { [$0, $0, $0, 0] }, share: 0.6, o: 20e-9, flatRows: 1,
                                            outputs: { $0 / 12 })
    }

    /// Global pools reduce one row per channel: streams from 96 channels on 56² to 1280 on 7² generated
    /// with a per-row overhead, plus the tiny pool chain (64 one-pixel rows) with a fixed overhead. The fit
    /// recovers the row overhead, the share, and the fixed part of the class overhead net of the tiny
    /// kernels' own rows; the streams pay no intercept beyond it, so none is fitted.
    @Test func poolingRowOverheadIsRecoveredNetOfTheTinyKernelsRows() throws {
        let fit = try Self.expectPoolStreamsRecovered(intercept: 0)
        #expect(fit.streamIntercepts[.pooling] == nil, "\(fit.streamIntercepts)")
    }

    /// The same pools paying 0.8 µs per kernel beyond the tiny chain's fixed overhead (in a network they
    /// are split over the threads; the chain's are not): the fit recovers that intercept with the row
    /// overhead and the share, and the class overhead is the chain's fixed part plus it.
    @Test func poolStreamsInterceptBeyondTheTinyChainIsRecovered() throws {
        let fit = try Self.expectPoolStreamsRecovered(intercept: 0.8e-6)
        let d = try #require(fit.streamIntercepts[.pooling])
        #expect(abs(d - 0.8e-6) <= 0.1e-6, "intercept \(d)")
    }

    /// Pools generated with share 0.75, 8 ns per row, a 0.15 µs fixed overhead from the tiny chain and
    /// `intercept` more per stream (±1 % noise); checks the row overhead, the share and the class overhead.
    static func expectPoolStreamsRecovered(intercept: Double) throws -> CalibrationFit {
        let share = 0.75, o = 8e-9, fixed = 0.15e-6
        var samples = Self.samples().filter { $0.opClass != .pooling }
        samples.append(CalibrationSample(name: "tiny-gap", benchmark: "tiny", role: .overhead, opClass: .pooling, flops: 0,
                                         levelBytes: [0, 0, 0, 0], measured: fixed + 64 * o, channels: 64))
        let pools: [(Double, Double)] = [(144, 28 * 28), (96, 56 * 56), (480, 14 * 14), (576, 49), (1280, 49)]
        for (i, (c, hw)) in pools.enumerated() {
            let bytes = c * hw * 4 + c * 4
            var x = CalibrationSample(name: "gap-\(Int(c))", benchmark: "streaming", role: .streaming, opClass: .pooling, flops: 0,
                                      levelBytes: [bytes, bytes, 0, 0], measured: 0, outputs: c, channels: c)
            x.measured = CalibrationFitter.predict(x, peak: Self.peak, overhead: fixed + intercept, bandwidths: Self.bandwidths, efficiency: 1,
                                                   memoryEfficiency: share, channelOverhead: o) * (1 + 0.01 * sin(Double(i) * 12.9898))
            samples.append(x)
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        let got = try #require(fit.channelOverheads[.pooling])
        #expect(abs(got / o - 1) < 0.3, "row overhead \(got)")
        #expect(abs(fit.memoryEfficiency[.pooling, default: 0] / share - 1) < 0.1, "\(fit.memoryEfficiency)")
        let classOverhead = try #require(fit.classOverheads[.pooling])
        #expect(abs(classOverhead - fixed - intercept) < 0.1e-6, "class overhead \(classOverhead) (tiny chain measured \(fixed + 64 * o))")
        #expect(fit.channelOverheads[.elementwise] == nil)
        return fit
    }

    /// Depthwise convs that read a quarter of their map from the other core (`crossCoreBytes`), pools split
    /// like their producer (no such bytes) and pools after a conv split otherwise (`crossCore` probes), all
    /// generated with `cross_core_bandwidth` 5 GB/s: the fit recovers the rate from the probes, the pools'
    /// share from their twins, and the depthwise efficiency net of the crossing; without probes no rate is
    /// fitted and the depthwise efficiency absorbs the crossing.
    @Test func crossCoreBandwidthIsRecoveredFromPoolsAfterAConv() throws {
        let rate = 5e9, share = 0.75, o = 8e-9, fixed = 0.15e-6
        func samples(probes: Bool) -> [CalibrationSample] {
            var out = Self.samples().filter { $0.opClass != .pooling }
            for j in out.indices where out[j].opClass == .depthwise {
                out[j].crossCoreBytes = out[j].levelBytes[1] / 8   // a quarter of the n × 56² map
                out[j].measured += out[j].crossCoreBytes / rate
            }
            out.append(CalibrationSample(name: "tiny-gap", benchmark: "tiny", role: .overhead, opClass: .pooling, flops: 0,
                                         levelBytes: [0, 0, 0, 0], measured: fixed + 64 * o, channels: 64))
            let twins: [(Double, Double)] = [(144, 28 * 28), (96, 56 * 56), (480, 14 * 14), (576, 49), (1280, 49)]
            let crossing: [(Double, Double)] = probes ? [(144, 28 * 28), (96, 56 * 56), (16, 56 * 56)] : []
            for (i, (c, hw)) in (twins + crossing).enumerated() {
                let bytes = c * hw * 4 + c * 4
                let probe = i >= twins.count
                var x = CalibrationSample(name: "gap-\(Int(c))\(probe ? "-after-conv" : "")", benchmark: probe ? "cross-core" : "streaming",
                                          role: probe ? .crossCore : .streaming, opClass: .pooling, flops: 0,
                                          levelBytes: [bytes, bytes, 0, 0], measured: 0, outputs: c, channels: c)
                x.crossCoreBytes = probe ? c * hw * 4 / 4 : 0
                x.measured = (CalibrationFitter.predict(x, peak: Self.peak, overhead: fixed, bandwidths: Self.bandwidths, efficiency: 1,
                                                        memoryEfficiency: share, channelOverhead: o) + x.crossCoreBytes / rate)
                    * (1 + 0.01 * sin(Double(i) * 12.9898))
                out.append(x)
            }
            return out
        }
        let fit = CalibrationFitter.fit(samples(probes: true), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        let got = try #require(fit.crossCoreBandwidth)
        #expect(abs(got / rate - 1) < 0.1, "cross_core_bandwidth \(got)")
        #expect(fit.crossCoreBenchmarks == ["cross-core"])
        #expect(abs(fit.memoryEfficiency[.pooling, default: 0] / share - 1) < 0.1, "\(fit.memoryEfficiency)")
        let dw = try #require(fit.efficiency[.depthwise])
        #expect(abs(dw / Self.efficiency[.depthwise]! - 1) < 0.06, "depthwise efficiency \(dw), fitted net of the crossing")
        let blind = CalibrationFitter.fit(samples(probes: false), peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(blind.crossCoreBandwidth == nil)
        #expect(try #require(blind.efficiency[.depthwise]) < Self.efficiency[.depthwise]! * 0.9)
    }

    /// In-context element-wise units that ran in place carry the cost model's stream gain: the fit
    /// recovers the share net of it (up to 2 for element-wise kernels), and the same timings read
    /// without the gain fit a share that much larger.
    @Test func inPlaceStreamsAreFittedNetOfTheirGain() throws {
        let shapes: [(String, Double, Double)] = [("add-64x28²", 602_112, 1), ("add-32x112²", 4_816_896, 1), ("mul-144x28²", 1_354_752, 144),
                                                  ("mul-480x14²", 1_128_960, 480), ("mul-576x7²", 338_688, 576)]
        for share in [0.7, 1.3] {
            let streams = shapes.enumerated().map { i, x -> CalibrationSample in
                var s = CalibrationSample(name: x.0, benchmark: "streaming", role: .streaming, opClass: .elementwise, flops: 0,
                                          levelBytes: [x.1, x.1, x.1, 0], measured: 0, outputs: x.1 / 12, channels: x.2, streamGain: 1.5)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: Self.overhead, bandwidths: Self.bandwidths, efficiency: 1,
                                                       memoryEfficiency: share, channelOverhead: 10e-9) * (1 + 0.01 * sin(Double(i) * 12.9898))
                return s
            }
            let fit = CalibrationFitter.fit(Self.samples() + streams, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
            #expect(abs(fit.memoryEfficiency[.elementwise, default: 0] / share - 1) < 0.1, "share \(share): \(fit.memoryEfficiency)")
            if share < 1 {
                let gross = CalibrationFitter.fit(Self.samples() + streams.map { var s = $0; s.streamGain = nil; return s },
                                                  peak: Self.peak, fallbackBandwidths: Self.bandwidths)
                #expect(abs(gross.memoryEfficiency[.elementwise, default: 0] / (share * 1.5) - 1) < 0.1, "\(gross.memoryEfficiency)")
            }
        }
    }

    @Test func classOverheadsComeFromTheirOwnTinyKernels() throws {
        let tiny = [(OpClass.elementwise, 1e-7), (.elementwise, 1.2e-7), (.conv, 3e-6), (.conv, 3.2e-6), (.conv, 2.9e-6), (.depthwise, 8e-6)]
        var samples = tiny.enumerated().map { i, t in
            CalibrationSample(name: "tiny\(i)", benchmark: "tiny", role: .overhead, opClass: t.0, flops: 0, levelBytes: [0, 0, 0, 0], measured: t.1)
        }
        // A compute-bound conv_1x1 kernel: its fit must subtract conv's overhead, not the elementwise one.
        var s = CalibrationSample(name: "c", benchmark: "grid", role: .compute, opClass: .conv1x1, flops: 1e9, levelBytes: [1e3, 0, 0, 0], measured: 0)
        s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 3e-6, bandwidths: Self.bandwidths, efficiency: 0.5)
        samples.append(s)
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(fit.overhead - 1.1e-7) < 1e-12)
        #expect(fit.classOverheads[.conv] == 3e-6 && fit.classOverheads[.depthwise] == 8e-6 && fit.classOverheads[.elementwise] == nil)
        #expect(fit.overhead(for: .conv1x1) == 3e-6)
        #expect(abs(fit.efficiency[.conv1x1, default: 0] / 0.5 - 1) < 0.01)
    }

    /// Winograd kernels carry their transform additions as elementwise work: the fit prices that
    /// part with the elementwise efficiency it fitted on elementwise kernels, then recovers the
    /// conv_winograd efficiency from what is left — even where the transforms are a large share.
    @Test func otherPartsArePricedWithTheirOwnFittedClass() throws {
        let eW = 0.8, eE = 0.05
        var samples: [CalibrationSample] = []
        for n in [1.0, 2, 4] {
            var s = CalibrationSample(name: "add\(Int(n))", benchmark: "act", role: .compute, opClass: .elementwise, flops: 1e6 * n,
                                      levelBytes: [1e3, 0, 0, 0], measured: 0)
            s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 0, bandwidths: Self.bandwidths, efficiency: eE)
            samples.append(s)
        }
        for c in [8.0, 64, 256] {
            let transform = 784 * (32 * c + 24 * c)
            var s = CalibrationSample(name: "wino\(Int(c))", benchmark: "grid", role: .compute, opClass: .convWinograd,
                                      flops: 2 * 9 * c * c * 3136, otherFlops: [.elementwise: transform], levelBytes: [c * 3136 * 8, 0, 0, 0], measured: 0)
            s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 0, bandwidths: Self.bandwidths, efficiency: eW,
                                                   otherEfficiency: { $0 == .elementwise ? eE : 1 })
            samples.append(s)
        }
        // With 8 channels the transforms take most of the time.
        let small = samples.first { $0.name == "wino8" }!
        #expect(small.otherFlops[.elementwise]! / (Self.peak * eE) > small.flops / (Self.peak * eW))
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(fit.efficiency[.elementwise, default: 0] / eE - 1) < 0.01)
        #expect(abs(fit.efficiency[.convWinograd, default: 0] / eW - 1) < 0.01, "\(fit.efficiency[.convWinograd] ?? 0)")
        // Ignoring the other part would have pushed the Winograd efficiency far down.
        let naive = CalibrationFitter.fit(samples.map { var x = $0; x.otherFlops = [:]; return x }, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(naive.efficiency[.convWinograd, default: 1] < eW * 0.8)
    }

    /// conv_winograd's efficiency is per counted (direct) FLOP and may exceed 1: a fit of 1.6 is
    /// recovered, not clamped at 1.
    @Test func winogradEfficiencyAboveOneIsRecovered() throws {
        var samples: [CalibrationSample] = []
        for n in [64.0, 128, 256] {
            var s = CalibrationSample(name: "w\(Int(n))", benchmark: "grid", role: .compute, opClass: .convWinograd,
                                      flops: 18 * n * n * 784, levelBytes: [n * 784 * 8, 0, 0, 0], measured: 0)
            s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 0, bandwidths: Self.bandwidths, efficiency: 1.6)
            samples.append(s)
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(fit.efficiency[.convWinograd, default: 0] / 1.6 - 1) < 0.01, "\(fit.efficiency[.convWinograd] ?? 0)")
    }

    @Test func convSubclassesAreFittedSeparatelyAndTogether() throws {
        // Noise-free compute-bound kernels: 1×1 at efficiency 0.4, Winograd-eligible at 0.9.
        var samples: [CalibrationSample] = []
        for (cls, e) in [(OpClass.conv1x1, 0.4), (.convWinograd, 0.9)] {
            for n in [128.0, 256, 512] {
                var s = CalibrationSample(name: "\(cls.rawValue)\(Int(n))", benchmark: "synthetic", role: .compute, opClass: cls,
                                          flops: 2 * n * n * 784, levelBytes: [n * 784 * 8, 0, 0, 0], measured: 0)
                s.measured = CalibrationFitter.predict(s, peak: Self.peak, overhead: 0, bandwidths: Self.bandwidths, efficiency: e)
                samples.append(s)
            }
        }
        let fit = CalibrationFitter.fit(samples, peak: Self.peak, fallbackBandwidths: Self.bandwidths)
        #expect(abs(fit.efficiency[.conv1x1, default: 0] / 0.4 - 1) < 0.01)
        #expect(abs(fit.efficiency[.convWinograd, default: 0] / 0.9 - 1) < 0.01)
        // `conv` (for devices without the sub-classes) is fitted on all six: a blend between the two.
        let blend = try #require(fit.efficiency[.conv])
        #expect(blend > 0.45 && blend < 0.85, "conv \(blend)")
    }

    @Test func missingLevelsStayUnfittedAndBandwidthsNeverIncreaseOutward() {
        // Only a DRAM stream, and an inner level measured slower than DRAM (noise): the inner one is raised to DRAM's.
        let s = [
            CalibrationSample(name: "t", benchmark: "b", role: .overhead, opClass: .elementwise, flops: 0, levelBytes: [0, 0], measured: 1e-6),
            CalibrationSample(name: "l1", benchmark: "b", role: .bandwidth(level: 0), opClass: .elementwise, flops: 0, levelBytes: [1e6, 0], measured: 1e-6 + 1e6 / 5e9),
            CalibrationSample(name: "d", benchmark: "b", role: .bandwidth(level: 1), opClass: .elementwise, flops: 0, levelBytes: [1e7, 1e7], measured: 1e-6 + 1e7 / 8e9),
        ]
        let fit = CalibrationFitter.fit(s, peak: 1e9, fallbackBandwidths: [1, 1])
        #expect(abs((fit.bandwidths[1] ?? 0) / 8e9 - 1) < 1e-9)
        #expect(abs((fit.bandwidths[0] ?? 0) / 8e9 - 1) < 1e-9)
        let none = CalibrationFitter.fit([], peak: 1e9, fallbackBandwidths: [1, 1])
        #expect(none.bandwidths == [nil, nil] && none.efficiency.isEmpty && none.overhead == 0)
    }
}
