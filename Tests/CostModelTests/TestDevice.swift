import DeviceSpec
import NNGraph

/// A small, fully specified device for cost-model tests (numbers chosen for easy arithmetic).
func testDevice(peak: String = "100 GFLOP/s", l1Bandwidth: String = "100 GB/s", l2Bandwidth: String = "50 GB/s",
                dramBandwidth: String = "10 GB/s", overhead: String = "10 us", l2Size: String = "1 MiB",
                extraEfficiency: String = "", l2PerCore: Bool = false) throws -> DeviceProfile {
    try DeviceLoader.load(yaml: """
    schema_version: 1
    id: test_device
    name: Test device
    default_unit: cpu
    compute_units:
      - name: cpu
        kind: cpu
        cores: {value: 4, source: test}
        peak:
          fp32: {value: "\(peak)", source: test}
        efficiency:
          conv: {value: 0.5, source: test}
          depthwise: {value: 0.25, source: test}
          elementwise: {value: 0.1, source: test}
          pooling: {value: 0.1, source: test}\(extraEfficiency)
        layer_overhead: {value: "\(overhead)", source: test}
        energy_per_op:
          fp32: {value: "2 pJ/FLOP", source: test}
        register_bytes: {value: "2 KiB", source: test}
        memory_path: [l1, l2, dram]
    memory:
      - {name: l1, technology: sram, size: {value: "32 KiB", source: test}, bandwidth: {value: "\(l1Bandwidth)", source: test}, read_energy: {value: "1 pJ/B", source: test}, write_energy: {value: "1 pJ/B", source: test}}
      - {name: l2, technology: sram, size: {value: "\(l2Size)", source: test},\(l2PerCore ? " per_core: true," : "") bandwidth: {value: "\(l2Bandwidth)", source: test}, read_energy: {value: "5 pJ/B", source: test}, write_energy: {value: "6 pJ/B", source: test}}
      - {name: dram, technology: dram, size: {value: "4 GiB", source: test}, bandwidth: {value: "\(dramBandwidth)", source: test}, read_energy: {value: "100 pJ/B", source: test}, write_energy: {value: "120 pJ/B", source: test}}
    power:
      idle: {value: "2 W", source: test}
    ram: {value: "4 GiB", source: test}
    """, file: "test-device.yaml")
}

/// input → conv(k×k, cin→cout) → relu → add(1) graph, small enough for hand arithmetic.
func convGraph(channels: Int, outChannels: Int, size: Int, kernel: Int = 3) throws -> Graph {
    var b = GraphBuilder(name: "conv")
    let x = b.input("x", shape: [1, channels, size, size])
    let pad = kernel / 2
    let conv = ConvAttributes(inChannels: channels, outChannels: outChannels, kernel: [kernel, kernel], pads: [pad, pad, pad, pad], hasBias: true)
    let y = try b.add1("conv", .conv(conv), inputs: [x], params: [
        ParamInfo(name: "w", shape: [outChannels, channels, kernel, kernel]), ParamInfo(name: "b", shape: [outChannels]),
    ])
    let r = try b.add1("relu", .activation(.relu), inputs: [y])
    let s = try b.add1("sig", .activation(.sigmoid), inputs: [r])
    b.markOutput(s)
    return try b.finish()
}

/// A single elementwise op on [1, c, h, w].
func elementwiseGraph(channels: Int, size: Int) throws -> Graph {
    var b = GraphBuilder(name: "ew")
    let x = b.input("x", shape: [1, channels, size, size])
    let y = try b.add1("sigmoid", .activation(.sigmoid), inputs: [x])
    b.markOutput(y)
    return try b.finish()
}
