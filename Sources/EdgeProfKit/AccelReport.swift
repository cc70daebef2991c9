import Accelerator
import Foundation

/// `edgeprof accel`: per-layer dataflow mapping, energy per level, content-dependent MLC
/// buffer energy per encoding, sensitivity to assumed cell values, and bit-error effects.
public struct AccelReport: Sendable, Codable {
    public struct Layer: Sendable, Codable {
        public var name: String
        public var kind: String
        /// Shape as mapped (per-group channels, kernel, stride, output size).
        public var shape: AcceleratorLayer
        public var cycles: Int
        public var utilisation: Double
        public var seconds: Double
        /// Element accesses: register file, global buffer (array side, fills from and drains to DRAM included), DRAM.
        public var rfReads: Int, rfWrites: Int
        public var glbReads: Int, glbWrites: Int
        public var dramReads: Int, dramWrites: Int
        public var glbAccesses: LevelAccesses
        /// Energy (J), modelled: MACs, and accesses × the device's flat per-byte energies.
        public var macEnergy: Double, rfEnergy: Double, glbEnergy: Double, dramEnergy: Double
    }

    /// Buffer read/write energy (J) for one encoding, or for a flat-priced baseline.
    public struct BufferEnergy: Sendable, Codable {
        public var label: String
        public var weightRead: Double, weightWrite: Double
        public var activationRead: Double, activationWrite: Double
        public var read: Double { weightRead + activationRead }
        public var write: Double { weightWrite + activationWrite }
        /// Share of stored weight cells in the intermediate patterns 01/10 (encodings only).
        public var weightIntermediateFraction: Double?
    }

    public struct Sensitivity: Sendable, Codable {
        public var parameter: String
        public var factor: Double
        /// Change of `both` vs `none`, percent, with the parameter scaled: whole buffer, and weight traffic only.
        public var readChangePercent: Double, writeChangePercent: Double
        public var weightReadChangePercent: Double, weightWriteChangePercent: Double
    }

    public struct ErrorRow: Sendable, Codable {
        public var encoding: String
        public var scale: Double
        public var samples: Int
        /// Inputs whose top-1 class equals the error-free run's.
        public var top1Agreement: Double
        /// Mean |y − y_ref| / mean |y_ref| over all outputs and inputs.
        public var relativeDeviation: Double
        public var cellsFlipped: Int
        public var cellsStored: Int
        public var corrections: Int
    }

    public var model: String
    public var device: String
    public var dataflow: String
    public var array: String
    public var frequencyHz: Double
    public var layers: [Layer]
    public var totalCycles: Int
    public var totalSeconds: Double
    public var bufferLevel: String
    public var bufferEnergy: [BufferEnergy]
    public var sensitivity: [Sensitivity]
    /// FP16 (normalised) vs FP32 weights, error-free: the reference the error table compares against.
    public var fp16Top1Agreement: Double?
    public var errors: [ErrorRow]
    public var inputs: String
    public var notes: [String]

    public func jsonString() -> String { encodeJSON(self) }
}
