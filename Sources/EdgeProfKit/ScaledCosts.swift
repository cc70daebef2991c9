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
    }

    /// Runs `runnable` on this CPU (all cores, `timing`) and predicts it on the host profile.
    public static func trace(_ runnable: RunnableModel, hostFile: String?, timing: TimingOptions = TimingOptions(warmup: 3, timeBudget: 1),
                             seed: UInt64 = 0) throws(EdgeProfError) -> HostTrace {
        let file = hostFile ?? MeasureWorkflow.defaultDeviceFile
        guard FileManager.default.fileExists(atPath: file) else {
            throw .io("\(file): no such file; scaled costs need a profile of this host (pass --host FILE or run `edgeprof calibrate`)")
        }
        let host = try ProfileWorkflow.loadDevices([file])[0]
        let compiled = try runnable.compile(threads: nil, seed: seed)
        let inputs = compiled.inputShapes.enumerated().map { i, s in HostTensor.random(shape: s, seed: seed &+ 1000 &+ UInt64(i)) }
        FileHandle.standardError.write(Data("measuring \(runnable.model.name) on this host (\(compiled.threads) threads) for scaled costs…\n".utf8))
        let m: ModelMeasurement
        do { m = try TimingHarness.measure(compiled, inputs: inputs, options: timing) } catch {
            throw .importFailed("cannot execute \(runnable.model.name): \(error.description)")
        }
        let hostEstimate: DeviceEstimate
        do { hostEstimate = try AnalyticalModel.estimate(compiled.graph, on: host.activatingCores(compiled.threads)) } catch { throw .costModel(error) }
        let sum = m.layers.reduce(0) { $0 + $1.p50 }
        let norm = sum > 0 ? m.endToEnd.p50 / sum : 1
        return HostTrace(seconds: m.layers.map { $0.p50 * norm }, endToEnd: m.endToEnd, hostEstimate: hostEstimate,
                         threads: compiled.threads, hostFile: file)
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
