import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// How fast this machine runs right now relative to what a device file predicts: a handful of
/// `calibrate`'s own micro-benchmarks, measured with the real kernels and predicted by the cost
/// model. On a shared VM the whole machine changes speed for minutes at a time (measured here: the
/// fitted stream bandwidth 74.8 vs 99.1 GB/s in two calibrations the same day, a model's rounds
/// 6.3 vs 12.2 ms); a probe right before each model measurement tells that drift apart from
/// cost-model error. Compute, depthwise and streaming kernels, so a drift of one resource shows in the spread.
public enum DriftProbe {
    public struct Item: Sendable, Hashable, Codable {
        public var name: String
        public var measured: Double
        public var predicted: Double
        /// measured / predicted.
        public var ratio: Double { measured / predicted }
    }

    public struct Reading: Sendable, Hashable, Codable {
        public var items: [Item]
        /// Median of the items' measured/predicted ratios: > 1 means the machine runs slower now
        /// than the device file describes.
        public var drift: Double
    }

    /// Benchmarks of the quick calibration suite used as the probe.
    public static let names: Set<String> = ["conv1x1-c256-14²", "conv3x3-c64-28²", "conv3x3-c128-14²", "gemm-197x192x192",
                                            "dwconv3x3-c144-28²", "stream-relu-1024KiB", "add-1x64x28x28"]

    public static func benchmarks() throws(GraphError) -> [MicroBenchmark] {
        try MicroBenchmarkSuite.suite(quick: true).filter { names.contains($0.name) }
    }

    /// Measures every probe benchmark once (short time budget) and predicts it for `device` with
    /// as many active cores as the runner uses, as `measure` predicts a model.
    public static func read(_ benches: [MicroBenchmark], device: DeviceProfile, unit: String?, threads: Int?,
                            timing: TimingOptions = TimingOptions(warmup: 2, iterations: nil, timeBudget: 0.06, minIterations: 3,
                                                                 endToEndPhase: false)) throws -> Reading {
        var items: [Item] = []
        for bench in benches {
            let (m, estimate, _) = try MicroBenchmarkRunner.measureAndEstimate(
                bench, device: { device.activatingCores($0, unit: unit) }, unit: unit, threads: threads, timing: timing)
            // The middle one of the kernels calibrate scores the benchmark on.
            let timed = MicroBenchmarkRunner.timedLayers(bench, estimate)
            let mid = timed[timed.count / 2]
            let predicted = estimate.layers[mid].latency.value
            let measured = m.layers[mid].scored
            guard predicted > 0, measured > 0 else { continue }
            items.append(Item(name: bench.name, measured: measured, predicted: predicted))
        }
        return Reading(items: items, drift: median(items.map(\.ratio)))
    }

    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 1 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Waiting for a quiet machine before measuring (`calibrate` / `validate --wait-quiet`): the drift
/// probe is read until `needed` readings in a row are at most `maxDrift` (the machine runs about as
/// fast as the device file describes), or `timeout` seconds have passed. On a shared VM the machine
/// runs 1.3–2× slower for minutes at a time (README, `validate` drift probe: 0.86–1.93× within one run);
/// a calibration fitted in such a spell describes the neighbours, not the machine. The drift is read
/// against a device file, so it only means something on the machine that file was fitted on.
public enum QuietWait {
    public struct Outcome: Sendable, Equatable {
        /// Every drift read, in order.
        public var readings: [Double]
        /// Seconds from the start of the first reading to the decision.
        public var waited: Double
        /// Whether `needed` quiet readings came in a row before the timeout.
        public var quiet: Bool
    }

    /// Reads `read()` (one drift probe reading) until `needed` consecutive readings are ≤ `maxDrift`,
    /// sleeping `interval` seconds after each noisy one (cut to what is left of the timeout), or until
    /// `timeout` seconds have passed since the first reading began. `progress` gets one line per reading.
    public static func wait<E: Error>(maxDrift: Double, needed: Int = 2, timeout: Double, interval: Double = 20,
                                      read: () throws(E) -> Double, sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                                      now: () -> Double = { Date().timeIntervalSinceReferenceDate },
                                      progress: (String) -> Void = { _ in }) throws(E) -> Outcome {
        let start = now()
        var readings: [Double] = []
        var streak = 0
        while true {
            let d = try read()
            readings.append(d)
            streak = d <= maxDrift ? streak + 1 : 0
            let waited = now() - start
            let state = d <= maxDrift ? "quiet (\(streak)/\(needed))" : "busy"
            progress(String(format: "wait-quiet: drift %.2f× (limit %.2f×): %@, %.0f s of %.0f s waited", d, maxDrift, state, waited, timeout))
            if streak >= Swift.max(1, needed) { return Outcome(readings: readings, waited: waited, quiet: true) }
            if waited >= timeout { return Outcome(readings: readings, waited: waited, quiet: false) }
            if d > maxDrift { sleep(Swift.min(interval, Swift.max(0, timeout - waited))) }
        }
    }

    /// The error text when the machine did not settle.
    public static func timeoutMessage(_ o: Outcome, maxDrift: Double, reference: String) -> String {
        let shown = o.readings.suffix(8).map { String(format: "%.2f", $0) }.joined(separator: ", ")
        return String(format: "the machine did not settle within %.0f s: drift probe readings (measured / predicted by %@) %@%@ × against a limit of %.2f×; "
                      + "nothing was measured or written (raise --wait-quiet, or --max-drift if %@ no longer describes this machine's quiet speed)",
                      o.waited, reference, o.readings.count > 8 ? "…, " : "", shown, maxDrift, reference)
    }
}
