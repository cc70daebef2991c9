import CostModel
import DeviceSpec
import NNGraph
import RunRecords

extension DeviceReport {
    init(_ e: DeviceEstimate, device: DeviceProfile) {
        let ramBytes = device.ram.value.value
        func levels(_ t: [LevelTraffic]) -> [LevelBytes] {
            t.map { LevelBytes(level: $0.level, readBytes: $0.readBytes.value, writeBytes: $0.writeBytes.value, timeS: $0.time.value, energyJ: $0.energy.value) }
        }
        func energy(_ b: EnergyBreakdown) -> EnergyJSON {
            EnergyJSON(computeJ: b.compute.value, staticJ: b.staticEnergy.value, memoryJ: b.memory.mapValues(\.value))
        }
        let total = e.totals.latency.value
        let layers = e.layers.enumerated().map { i, l in
            LayerReport(index: i, name: l.name, kind: l.kind, opClass: l.opClass.rawValue, nodes: l.nodes, outputShape: l.outputShape.dims,
                        macs: l.counts.macs, flops: l.counts.flops, params: l.counts.params, bytesRead: l.counts.bytesRead,
                        bytesWritten: l.counts.bytesWritten, cioBytes: l.counts.cio, arithmeticIntensity: l.counts.arithmeticIntensity,
                        bytesMoved: levels(l.traffic), bound: l.bound.description, efficiency: l.efficiency,
                        computeS: l.computeTime.value, overheadS: l.overhead.value, latencyS: l.latency.value,
                        energyJ: l.energy.total.value, share: total > 0 ? l.latency.value / total : 0,
                        crossCoreBytes: l.crossCoreBytes.value > 0 ? Int(l.crossCoreBytes.value.rounded()) : nil,
                        crossCoreS: l.crossCoreTime.value > 0 ? l.crossCoreTime.value : nil)
        }
        let bottleneck = e.layers.max { $0.latency < $1.latency }?.name
        let totals = DeviceTotals(
            macs: e.totals.macs, flops: e.totals.flops, params: e.totals.params, latencyS: total, energyJ: e.totals.energy.total.value,
            energyBreakdown: energy(e.totals.energy), peakMemoryBytes: e.totals.peakMemory.value,
            weightBytes: e.totals.weightBytes.value, peakActivationBytes: e.totals.peakActivationBytes.value, fitsInRAM: e.totals.fitsInRAM, ramBytes: ramBytes,
            bytesMoved: levels(e.totals.traffic), unsupportedLayers: e.unsupportedLayers, bottleneckLayer: bottleneck,
            weightsFrom: e.totals.weightsFrom, coldWeights: e.totals.coldWeights)
        var roofline: Roofline?
        if let unit = device.unit(named: e.unit), let peak = unit.peakThroughput(e.precision) {
            roofline = Roofline(peakFlopsPerS: peak.value,
                                levels: device.levels(for: unit).map { LevelRoof(level: $0.name, bytesPerS: $0.bandwidth.value.value) })
        }
        // The runtime whose efficiency factors were applied is shown with the unit ("cpu · ncnn_cpu").
        self.init(id: e.deviceID, name: e.deviceName, file: e.deviceFile, unit: e.runtime.map { "\(e.unit) · \($0)" } ?? e.unit,
                  precision: e.precision.rawValue, totals: totals,
                  layers: layers, roofline: roofline)
    }
}
