import RunRecords

/// A small, fully specified run record (two devices, three layers) for store and report tests.
func sampleRun(model: String = "tiny", latencyScale: Double = 1, layerName: String = "conv1", createdAt: String = "2026-01-01T00:00:00Z",
               devices: [String] = ["dev_a", "dev_b"]) -> RunRecord {
    func layers(_ scale: Double) -> [LayerReport] {
        [("\(layerName)", "conv-bn-relu", "conv", 1e-3), ("pool", "maxpool", "pooling", 2e-4), ("fc", "gemm", "conv", 5e-4)].enumerated().map { i, l in
            LayerReport(index: i, name: l.0, kind: l.1, opClass: l.2, nodes: [l.0], outputShape: [1, 8, 4, 4], macs: 1000 * (i + 1), flops: 2000 * (i + 1),
                        params: 10 * (i + 1), bytesRead: 512, bytesWritten: 512, cioBytes: 1024, arithmeticIntensity: 1.5,
                        bytesMoved: [LevelBytes(level: "l1", readBytes: 512, writeBytes: 512, timeS: 1e-6, energyJ: 1e-9),
                                     LevelBytes(level: "dram", readBytes: 256, writeBytes: 0, timeS: 2e-6, energyJ: 2e-8)],
                        bound: i == 1 ? "memory:dram" : "compute", efficiency: 0.5, computeS: l.3 * scale * 0.9, overheadS: l.3 * scale * 0.1,
                        latencyS: l.3 * scale, energyJ: l.3 * scale * 3, share: [1e-3, 2e-4, 5e-4][i] / 1.7e-3)
        }
    }
    let reports = devices.enumerated().map { i, id in
        let scale = latencyScale * Double(i + 1)
        let ls = layers(scale)
        let lat = ls.reduce(0) { $0 + $1.latencyS }
        let energy = ls.reduce(0) { $0 + $1.energyJ }
        return DeviceReport(id: id, name: "Device \(id)", file: "devices/\(id).yaml", unit: "cpu", precision: "fp32",
                            totals: DeviceTotals(macs: 6000, flops: 12000, params: 60, latencyS: lat, energyJ: energy,
                                                 energyBreakdown: EnergyJSON(computeJ: energy * 0.5, staticJ: energy * 0.3, memoryJ: ["l1": energy * 0.05, "dram": energy * 0.15]),
                                                 peakMemoryBytes: 4096, weightBytes: 240, peakActivationBytes: 3856, fitsInRAM: true, ramBytes: 1e9,
                                                 bytesMoved: [LevelBytes(level: "l1", readBytes: 1536, writeBytes: 1536, timeS: 3e-6, energyJ: 3e-9),
                                                              LevelBytes(level: "dram", readBytes: 768, writeBytes: 0, timeS: 6e-6, energyJ: 6e-8)],
                                                 unsupportedLayers: [], bottleneckLayer: layerName),
                            layers: ls, roofline: Roofline(peakFlopsPerS: 1e11, levels: [LevelRoof(level: "l1", bytesPerS: 1e11), LevelRoof(level: "dram", bytesPerS: 1e10)]))
    }
    let profile = ProfileReport(schemaVersion: 1, tool: "edgeprof test", provenance: "predicted",
                                model: ModelSummary(name: model, source: "zoo", macs: 6000, flops: 12000, params: 60, nodes: 3, fusedKernels: 3,
                                                    inputs: [TensorSummary(name: "x", shape: [1, 3, 8, 8], dtype: "float32")],
                                                    outputs: [TensorSummary(name: "y", shape: [1, 10], dtype: "float32")]),
                                devices: reports)
    return RunRecord(kind: "profile", createdAt: createdAt, commandLine: ["edgeprof", "profile", model], toolVersion: "0.1.0", buildID: "test",
                     model: ModelIdentity(name: model, source: "zoo", sha256: String(repeating: "ab", count: 32)),
                     devices: devices.map { DeviceFileRecord(id: $0, name: "Device \($0)", path: "devices/\($0).yaml", sha256: "00", content: "id: \($0)\n") },
                     host: HostInfo(hostname: "test", os: "linux", cpuModel: "cpu", logicalCores: 2, memoryBytes: 1e9), profile: profile)
}
