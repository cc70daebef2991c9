import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// Where per-kernel costs for planning come from: the cost model (`predicted`), or the cost
/// model's device/host ratio applied to a measurement of the real kernels on this host
/// (`scaled`, trace-driven scaling; README "Device-parameterised runs").
public enum CostSource: String, Sendable, CaseIterable, Codable {
    case predicted, scaled
}

/// Measures a model once on this host and turns per-tier predictions into scaled costs.
public enum ScaledCosts {
    public struct HostTrace: Sendable {
        /// Per kernel: measured median seconds, rescaled so they sum to the end-to-end median.
        public var seconds: [Double]
        public var endToEnd: LatencyStatistics
        public var hostEstimate: DeviceEstimate
        public var threads: Int
        public var hostFile: String
        /// The fused graph that ran (per-kernel estimates must come from it).
        public var graph: Graph
    }

    /// Loads the host profile (the scaling denominator), with the hint users need when it is missing.
    public static func loadHost(_ hostFile: String?) throws(EdgeProfError) -> DeviceProfile {
        let file = hostFile ?? MeasureWorkflow.defaultDeviceFile
        guard FileManager.default.fileExists(atPath: file) else {
            throw .io("\(file): no such file; scaled estimates need a profile of this host (pass --host FILE or run `edgeprof calibrate`)")
        }
        return try ProfileWorkflow.loadDevices([file])[0]
    }

    /// Runs `runnable` on this CPU (`threads`, nil = all cores; `timing`) and predicts it on `host`
    /// derated to the threads used.
    public static func trace(_ runnable: RunnableModel, host: DeviceProfile, threads: Int? = nil,
                             timing: TimingOptions = TimingOptions(warmup: 3, timeBudget: 1), seed: UInt64 = 0) throws(EdgeProfError) -> HostTrace {
        let compiled = try runnable.compile(threads: threads, seed: seed)
        let inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: seed &+ 1000 &+ UInt64(i)) }
        let m: ModelMeasurement
        do { m = try TimingHarness.measure(compiled, inputs: inputs, options: timing) } catch {
            throw .importFailed("cannot execute \(runnable.model.name): \(error.description)")
        }
        let hostEstimate: DeviceEstimate
        do { hostEstimate = try AnalyticalModel.estimate(compiled.graph, on: host.activatingCores(compiled.threads)) } catch { throw .costModel(error) }
        return HostTrace(seconds: m.normalizedLayerSeconds, endToEnd: m.endToEnd, hostEstimate: hostEstimate,
                         threads: compiled.threads, hostFile: host.file, graph: compiled.graph)
    }

    /// Every tier's estimate scaled by the host trace.
    public static func scale(_ estimates: [DeviceEstimate], devices: [DeviceProfile], trace: HostTrace) throws(EdgeProfError) -> [DeviceEstimate] {
        var out: [DeviceEstimate] = []
        for (e, d) in zip(estimates, devices) {
            do {
                out.append(try TraceScaling.scale(device: e, host: trace.hostEstimate, measured: trace.seconds, idlePower: d.power.idle.value))
            } catch { throw .usage(error.description) }
        }
        return out
    }
}

extension ModelMeasurement {
    /// Per-layer medians rescaled so they sum to the end-to-end median (the per-layer clocks'
    /// overhead is spread over the layers): the measured side of trace-driven scaling.
    public var normalizedLayerSeconds: [Double] {
        let sum = layers.reduce(0) { $0 + $1.p50 }
        let norm = sum > 0 ? endToEnd.p50 / sum : 1
        return layers.map { $0.p50 * norm }
    }
}
