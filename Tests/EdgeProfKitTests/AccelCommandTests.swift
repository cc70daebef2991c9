import Foundation
import Testing
@testable import EdgeProfKit

@Suite("edgeprof accel")
struct AccelCommandTests {
    @Test func aNonAcceleratorDeviceIsAClearError() throws {
        let r = try CLI.run(["accel", "mobilenet_v2", "--device", "devices/raspberry-pi-4.yaml"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("devices/raspberry-pi-4.yaml: 'raspberry_pi_4b' is not an accelerator device"))
    }

    @Test func errorInjectionNeedsAnMLCCell() throws {
        let r = try CLI.run(["accel", "mobilenet_v2", "--device", "devices/sram-accelerator.yaml", "--inject-errors"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("--inject-errors needs a buffer level with an mlc_cell section"))
    }

    @Test func badFlagsAreRejected() throws {
        let scale = try CLI.run(["accel", "mobilenet_v2", "--device", "devices/mlc-stt-ram-accelerator.yaml", "--inject-errors", "--scale", "2"])
        #expect(scale.status != 0 && scale.stderr.contains("--scale must be a probability in [0, 1], got 2.0"))
        let encoding = try CLI.run(["accel", "mobilenet_v2", "--device", "devices/mlc-stt-ram-accelerator.yaml", "--encoding", "msb"])
        #expect(encoding.status != 0 && encoding.stderr.contains("msb"))
    }

    @Test func aBadCellSectionIsLocatedAndNothingIsWritten() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("devices/mlc-stt-ram-accelerator.yaml"), encoding: .utf8)
        let bad = text.replacingOccurrences(of: "      soft_write_energy:", with: "      soft_write_energie:")
        let device = dir.appendingPathComponent("bad.yaml")
        try bad.write(to: device, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.txt")
        let r = try CLI.run(["accel", "mobilenet_v2", "--device", device.path, "-o", out.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.yaml:"))
        #expect(r.stderr.contains("memory[1].mlc_cell.soft_write_energie"))
        #expect(r.stderr.contains("unknown key 'soft_write_energie' (did you mean 'soft_write_energy'?)"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Scale 0 leaves the buffered weights exactly as the error-free buffer delivers them, for every encoding.
    @Test func zeroErrorScaleChangesNoWeight() throws {
        let runnable = try RunnableModel.load("mobilenet_v3_small")
        // The first eight conv layers keep the debug-build test short (the path is the same for every layer).
        let layers = Array(AcceleratorLayer.layers(of: runnable.model.graph).prefix(8))
        let device = try AccelWorkflow.loadAccelerator(CLI.packageRoot.appendingPathComponent("devices/mlc-stt-ram-accelerator.yaml").path)
        let cell = try #require(device.buffer.mlcCell)
        for encoding in BufferEncoding.allCases {
            let clean = try AccelWorkflow.bufferedWeights(runnable, layers: layers, encoding: encoding, model: nil, seed: 1)
            let zero = try AccelWorkflow.bufferedWeights(runnable, layers: layers, encoding: encoding, model: ErrorModel(cell: cell, scale: 0), seed: 1)
            #expect(zero.flipped == 0 && zero.corrections == 0)
            for layer in layers { #expect(zero.weights[layer.weightName] == clean.weights[layer.weightName]) }
            // The same path with a non-zero scale does flip cells (the check above is not vacuous).
            let hit = try AccelWorkflow.bufferedWeights(runnable, layers: layers, encoding: encoding, model: ErrorModel(cell: cell, scale: 0.01), seed: 1)
            #expect(hit.flipped > 0)
        }
    }
}
