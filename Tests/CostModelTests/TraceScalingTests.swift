import CostModel
import DeviceSpec
import NNGraph
import Testing

/// Trace-driven scaling: scaled_i = measured_i × device_i / host_i (README "Device-parameterised runs").
@Suite struct TraceScalingTests {
    @Test func hostScaledOntoItselfIsTheMeasurementExactly() throws {
        let device = try testDevice()
        let e = try AnalyticalModel.estimate(try convGraph(channels: 8, outChannels: 16, size: 32), on: device)
        let measured = e.layers.enumerated().map { i, _ in 1e-4 * Double(i + 1) + 3.3e-7 }
        let s = try TraceScaling.scale(device: e, host: e, measured: measured, idlePower: device.power.idle.value)
        for (layer, m) in zip(s.layers, measured) {
            #expect(layer.latency.value == m)
            #expect(layer.provenance == .scaled)
        }
        #expect(s.provenance == .scaled)
    }

    @Test func ratioOfPredictionsMultipliesTheMeasurement() throws {
        let graph = try convGraph(channels: 16, outChannels: 32, size: 28)
        // Same device with half the peak and half every bandwidth and overhead ×2: every kernel's
        // prediction doubles, so every scaled time is 2 × measured.
        let fast = try testDevice(peak: "100 GFLOP/s", l1Bandwidth: "100 GB/s", l2Bandwidth: "50 GB/s", dramBandwidth: "10 GB/s", overhead: "10 us")
        let slow = try testDevice(peak: "50 GFLOP/s", l1Bandwidth: "50 GB/s", l2Bandwidth: "25 GB/s", dramBandwidth: "5 GB/s", overhead: "20 us")
        let host = try AnalyticalModel.estimate(graph, on: fast)
        let device = try AnalyticalModel.estimate(graph, on: slow)
        let measured = host.layers.map { 3 * $0.latency.value }   // the real kernels run 3× slower than predicted
        let s = try TraceScaling.scale(device: device, host: host, measured: measured, idlePower: slow.power.idle.value)
        for (i, l) in s.layers.enumerated() where host.layers[i].latency.value > 0 {
            #expect(abs(l.latency.value - 2 * measured[i]) <= 1e-12 * measured[i], "layer \(i)")
            #expect(abs(l.latency.value - 3 * device.layers[i].latency.value) <= 1e-12 * l.latency.value)
            // Static energy follows the scaled time; dynamic energy stays the device's.
            #expect(abs(l.energy.staticEnergy.value - l.latency.value * 2) <= 1e-15)
            #expect(l.energy.compute == device.layers[i].energy.compute)
        }
        let sum = s.layers.reduce(0) { $0 + $1.latency.value }
        #expect(abs(s.totals.latency.value - sum) <= 1e-15)
    }

    @Test func mismatchedLayerCountsAreAnError() throws {
        let device = try testDevice()
        let e = try AnalyticalModel.estimate(try convGraph(channels: 4, outChannels: 4, size: 8), on: device)
        #expect(throws: TraceScaling.ScalingError.self) {
            try TraceScaling.scale(device: e, host: e, measured: [1], idlePower: device.power.idle.value)
        }
    }
}
