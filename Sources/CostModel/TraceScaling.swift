import DeviceSpec
import NNGraph

/// Trace-driven scaling (issue 10): carries per-layer measurements on this host to a target
/// device. For kernel i,
///
///     scaled_i = measured_i × predicted_device_i / predicted_host_i
///
/// so the real kernel's deviation from its host prediction (its actual efficiency, cache
/// effects, fusion) is kept and only the host → device ratio comes from the cost model.
/// Energy: the device's predicted compute + memory energy (action counts do not depend on
/// time) + the device's idle power × the scaled latency. Traffic stays the device prediction.
/// Kernels the host model predicts as free (zero-copy views, unsupported rows) have no ratio:
/// they keep the host measurement when the device also predicts zero (same cost assumed), else
/// the device prediction. Scaling the host onto itself returns the measurements exactly.
public enum TraceScaling {
    public struct ScalingError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// - Parameters:
    ///   - device: cost-model estimate for the target device (same graph as `host`).
    ///   - host: cost-model estimate for this host, for the configuration that was measured.
    ///   - measured: measured seconds per kernel on this host, in estimate order.
    ///   - idlePower: the target device's idle power (static energy per second).
    public static func scale(device: DeviceEstimate, host: DeviceEstimate, measured: [Double], idlePower: Watts) throws(ScalingError) -> DeviceEstimate {
        guard device.layers.count == host.layers.count, host.layers.count == measured.count else {
            throw ScalingError(message: "cannot scale: \(device.layers.count) device kernels, \(host.layers.count) host kernels, "
                               + "\(measured.count) measured kernels (the estimates must come from the graph that ran)")
        }
        var scaled = device
        scaled.provenance = .scaled
        var latency = Seconds.zero
        var staticEnergy = Joules.zero
        for i in scaled.layers.indices {
            let hostPredicted = host.layers[i].latency.value
            var layer = scaled.layers[i]
            let usable = measured[i].isFinite && measured[i] >= 0
            if usable, hostPredicted > 0 || layer.latency.value == 0 {
                layer.latency = hostPredicted > 0 ? Seconds(ratio(measured: measured[i], device: layer.latency.value, host: hostPredicted))
                                                  : Seconds(measured[i])
                layer.energy.staticEnergy = layer.latency * idlePower
                layer.provenance = .scaled
            }
            latency += layer.latency
            staticEnergy += layer.energy.staticEnergy
            scaled.layers[i] = layer
        }
        scaled.totals.latency = latency
        scaled.totals.energy.staticEnergy = staticEnergy
        return scaled
    }

    /// measured × device / host, exact (returns `measured` bit for bit) when device == host.
    @inline(__always)
    static func ratio(measured: Double, device: Double, host: Double) -> Double {
        device == host ? measured : measured * (device / host)
    }
}
