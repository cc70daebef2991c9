import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// How `edgeprof measure MODEL --device FILE` configures the real kernel runner from a device
/// profile (issue 10): threads from the unit's cores (capped by this host), the im2col tile from
/// the unit's cache sizes, activation storage precision from the unit's precision, and the
/// device's RAM as the memory limit. Pure: the same profile and host give the same plan.
public struct EmulationPlan: Codable, Sendable, Hashable {
    public var deviceID: String
    public var deviceFile: String
    public var unit: String
    public var unitKind: String
    /// Threads the run uses on this host.
    public var threads: Int
    /// Threads the target would use: the unit's cores (CPU), or `--threads` when given.
    public var deviceThreads: Int
    public var hostCores: Int
    /// True when the host has fewer cores than the target uses.
    public var threadsCapped: Bool
    public var im2colTileBytes: Int
    /// 1×1 conv output tile: the whole cache level the im2col tile is half of (nil in plans stored
    /// before it was recorded: the runner default).
    public var pointwiseTileBytes: Int?
    /// Where the tile size came from ("half of l2 (1 MiB)").
    public var tileSource: String
    /// The unit's compute precision ("fp32", "fp16", "int8").
    public var precision: String
    /// What the host simulates: "fp32" (no change), "fp16 storage" (weights and activations
    /// rounded to binary16 in a separate numerics run), or "not simulated".
    public var simulatedStorage: String
    /// RAM available to the model on the device.
    public var memoryLimitBytes: Double
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case unit, threads, precision, notes
        case deviceID = "device_id", deviceFile = "device_file", unitKind = "unit_kind", deviceThreads = "device_threads"
        case hostCores = "host_cores", threadsCapped = "threads_capped", im2colTileBytes = "im2col_tile_bytes"
        case pointwiseTileBytes = "pointwise_tile_bytes"
        case tileSource = "tile_source", simulatedStorage = "simulated_storage", memoryLimitBytes = "memory_limit_bytes"
    }

    /// Runner options for the timed (fp32) runs.
    public var runnerOptions: RunnerOptions {
        RunnerOptions(threads: threads, im2colTileBytes: im2colTileBytes,
                      pointwiseTileBytes: pointwiseTileBytes ?? RunnerOptions.defaultPointwiseTileBytes)
    }
    public var storesFP16: Bool { simulatedStorage == "fp16 storage" }
}

public enum DeviceEmulation {
    /// Tile bounds: below 16 KiB the GEMM panels get too thin, above 8 MiB a tile stops being a tile.
    static let tileRange = (16 * 1024)...(8 * 1024 * 1024)

    /// Derives the runner configuration for `device` (its `unit`, default unit when nil).
    /// - Parameter requestedThreads: `--threads`; nil = the unit's cores.
    public static func plan(device: DeviceProfile, unit unitName: String?, hostCores: Int, requestedThreads: Int?) throws(EdgeProfError) -> EmulationPlan {
        guard let unit = device.unit(named: unitName) else {
            let names = device.computeUnits.map(\.name).joined(separator: ", ")
            throw .usage("\(device.file): no compute unit '\(unitName ?? device.defaultUnit)' (available: \(names))")
        }
        var notes: [String] = []
        switch unit.kind {
        case .accelerator, .npu:
            throw .usage("""
                \(device.file): unit '\(unit.name)' is an \(unit.kind.rawValue); the kernel runner executes CPU kernels and cannot \
                emulate it. Use the analytical path instead: `edgeprof profile MODEL --device \(device.file)` (cost model)\
                \(unit.peArray != nil ? " or `edgeprof accel MODEL --device \(device.file)` (dataflow model)" : "").
                """)
        case .gpu:
            notes.append("unit '\(unit.name)' is a GPU: the host runs its CPU kernels and each layer is scaled by the GPU's "
                         + "predicted/host-predicted ratio; how a CPU kernel deviates from its roofline need not carry over to a GPU")
        case .cpu:
            break
        }
        let cores = Swift.max(1, hostCores)
        let deviceThreads: Int
        if let requestedThreads {
            deviceThreads = Swift.max(1, requestedThreads)
        } else {
            deviceThreads = unit.kind == .cpu ? unit.cores.value : cores
        }
        let threads = Swift.min(deviceThreads, cores)
        let capped = deviceThreads > cores
        if capped {
            notes.append("\(device.id) uses \(deviceThreads) threads; this host has \(cores) cores, so the run uses \(threads) and the "
                         + "scaling carries it to \(deviceThreads) device cores through the cost model")
        }

        // Tile: half of the second cache level on the unit's path (the level a k×k conv's column
        // tile and its GEMM panel share), or of the first when there is only one cache level.
        let caches = device.levels(for: unit).dropLast()
        let tileBytes: Int
        var pointwiseTile: Int?
        let tileSource: String
        if unit.kind == .cpu, let level = caches.count >= 2 ? caches[caches.startIndex + 1] : caches.first {
            let half = Int(level.size.value.value / 2)
            tileBytes = Swift.min(Swift.max(half, tileRange.lowerBound), tileRange.upperBound)
            pointwiseTile = RunnerOptions.pointwiseTile(l2Bytes: Int(level.size.value.value))
            tileSource = "half of \(level.name) (\(formatBytes(level.size.value.value)))"
                + (tileBytes != half ? ", clamped to \(formatBytes(Double(tileBytes)))" : "")
        } else {
            tileBytes = RunnerOptions.defaultIm2colTileBytes
            tileSource = "runner default (no CPU cache level on the unit's path)"
        }

        let storage: String
        switch unit.precision {
        case .fp32: storage = "fp32"
        case .fp16:
            storage = "fp16 storage"
            notes.append("fp16: timed runs compute in fp32 on this host (scaling uses the device's fp16 prediction); a separate run "
                         + "with weights and every layer's output rounded to binary16 shows the fp16 numerics")
        case .int8:
            storage = "not simulated"
            notes.append("int8: quantized numerics are not simulated (the run is fp32); latency is scaled with the device's int8 prediction")
        }
        return EmulationPlan(deviceID: device.id, deviceFile: device.file, unit: unit.name, unitKind: unit.kind.rawValue, threads: threads,
                             deviceThreads: deviceThreads, hostCores: cores, threadsCapped: capped, im2colTileBytes: tileBytes,
                             pointwiseTileBytes: pointwiseTile,
                             tileSource: tileSource, precision: unit.precision.rawValue, simulatedStorage: storage,
                             memoryLimitBytes: device.ram.value.value, notes: notes)
    }

    /// Memory a compiled model needs on the device: packed weights + activation arena + kernel
    /// scratch, stored at the device precision.
    public static func memoryNeeded(_ memory: CompiledModel.MemoryReport, precision: String) -> (weights: Double, activations: Double, scratch: Double) {
        let width = Double(Precision(rawValue: precision)?.bytes ?? 4) / 4
        return (Double(memory.packedWeightBytes) * width, Double(memory.arenaBytes) * width, Double(memory.scratchBytes) * width)
    }

    /// Fails with the shortfall when the model does not fit the device's RAM.
    public static func checkMemory(_ plan: EmulationPlan, memory: CompiledModel.MemoryReport, model: String) throws(EdgeProfError) {
        let need = memoryNeeded(memory, precision: plan.precision)
        let total = need.weights + need.activations + need.scratch
        guard total > plan.memoryLimitBytes else { return }
        throw .usage("""
            \(model) does not fit \(plan.deviceFile): it needs \(formatBytes(total)) (weights \(formatBytes(need.weights)) + peak \
            activations \(formatBytes(need.activations)) + kernel scratch \(formatBytes(need.scratch)) at \(plan.precision)) but the \
            device's ram is \(formatBytes(plan.memoryLimitBytes)): short by \(formatBytes(total - plan.memoryLimitBytes)).
            """)
    }
}

/// How the fp16-storage run's outputs compare with the fp32 run on the same input.
public struct StorageNumerics: Codable, Sendable, Hashable {
    public var precision: String
    public var maxAbsDifference: Double
    /// max |fp16 − fp32| / max |fp32| over all outputs.
    public var maxRelativeDifference: Double
    public var top1Agrees: Bool

    enum CodingKeys: String, CodingKey {
        case precision
        case maxAbsDifference = "max_abs_difference", maxRelativeDifference = "max_relative_difference", top1Agrees = "top1_agrees"
    }

    public init(reference: [HostTensor], simulated: [HostTensor], precision: String) {
        self.precision = precision
        var maxAbs = 0.0, scale = 0.0
        for (a, b) in zip(reference, simulated) {
            for (x, y) in zip(a.values, b.values) {
                maxAbs = Swift.max(maxAbs, Double(abs(x - y)))
                scale = Swift.max(scale, Double(abs(x)))
            }
        }
        maxAbsDifference = maxAbs
        maxRelativeDifference = scale > 0 ? maxAbs / scale : maxAbs
        func argmax(_ v: [Float]) -> Int? { v.indices.max { v[$0] < v[$1] } }
        top1Agrees = argmax(reference.first?.values ?? []) == argmax(simulated.first?.values ?? [])
    }
}
