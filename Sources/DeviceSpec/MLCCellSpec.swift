import NNGraph

/// A 2-bit multi-level STT-RAM cell: a soft (small) MTJ and a hard (large) MTJ in series.
/// Patterns are written hard bit first: "10" = hard 1, soft 0. Each FP16 word occupies
/// 8 cells; cell k holds bits 2k+1 (hard) and 2k (soft) of the word.
public struct MLCCellSpec: Sendable, Hashable, Codable {
    /// Energy to sense one cell per stored pattern (two-step sensing), index = pattern 0...3.
    public var readEnergy: [Sourced<Joules>]
    public var readLatency: [Sourced<Seconds>]
    /// One-step write that switches only the soft MTJ.
    public var softWriteEnergy: Sourced<Joules>
    public var softWriteLatency: Sourced<Seconds>
    /// Switching the hard MTJ (first step of a two-step write); the larger current also
    /// overwrites the soft MTJ, so a soft write (restore) always follows.
    public var hardWriteEnergy: Sourced<Joules>
    public var hardWriteLatency: Sourced<Seconds>
    /// Peripheral (decoder, sense-amplifier, bus) energy per byte accessed, content-independent.
    public var peripheralReadEnergy: Sourced<JoulesPerByte>
    public var peripheralWriteEnergy: Sourced<JoulesPerByte>
    /// Probability that reading a cell holding the pattern flips it (read disturb / sensing error), per read.
    public var readDisturb: [Sourced<Double>]
    /// Probability that writing the pattern into a cell leaves a wrong value, per cell written.
    public var writeError: [Sourced<Double>]

    public static let patternNames = ["00", "01", "10", "11"]

    public init(readEnergy: [Sourced<Joules>], readLatency: [Sourced<Seconds>], softWriteEnergy: Sourced<Joules>,
                softWriteLatency: Sourced<Seconds>, hardWriteEnergy: Sourced<Joules>, hardWriteLatency: Sourced<Seconds>,
                peripheralReadEnergy: Sourced<JoulesPerByte>, peripheralWriteEnergy: Sourced<JoulesPerByte>,
                readDisturb: [Sourced<Double>], writeError: [Sourced<Double>]) {
        self.readEnergy = readEnergy
        self.readLatency = readLatency
        self.softWriteEnergy = softWriteEnergy
        self.softWriteLatency = softWriteLatency
        self.hardWriteEnergy = hardWriteEnergy
        self.hardWriteLatency = hardWriteLatency
        self.peripheralReadEnergy = peripheralReadEnergy
        self.peripheralWriteEnergy = peripheralWriteEnergy
        self.readDisturb = readDisturb
        self.writeError = writeError
    }
}

extension DeviceLoader {
    static func parseBufferExtras(_ m: SpecMap, into level: inout MemoryLevel) throws(SpecError) {
        level.width = try m["width"].map { n throws(SpecError) in try sourced(n, .bytes).map(Bytes.init) }
        level.banks = try m["banks"].map { n throws(SpecError) in
            try sourcedNumber(n) { v throws(SpecError) in
                let b = try v.int()
                guard b > 0 else { throw v.error("must be positive, got \(b)") }
                return b
            }
        }
        guard let cellNode = m["mlc_cell"] else { return }
        guard level.technology == .mlcSTTRAM else {
            throw cellNode.error("mlc_cell is only allowed on a level with technology mlc-stt-ram (this level is \(level.technology.rawValue))")
        }
        level.mlcCell = try parseMLCCell(cellNode)
    }

    static func parseMLCCell(_ node: SpecNode) throws(SpecError) -> MLCCellSpec {
        let m = try node.mapping(allowed: ["read_energy", "read_latency", "soft_write_energy", "soft_write_latency", "hard_write_energy",
                                           "hard_write_latency", "peripheral_read_energy", "peripheral_write_energy", "read_disturb",
                                           "write_error"])
        func perPattern<T>(_ key: String, _ read: (SpecNode) throws(SpecError) -> Sourced<T>) throws(SpecError) -> [Sourced<T>] {
            let table = try m.required(key).mapping(allowed: MLCCellSpec.patternNames)
            var out: [Sourced<T>] = []
            for name in MLCCellSpec.patternNames { out.append(try read(table.required(name))) }
            return out
        }
        func probability(_ n: SpecNode) throws(SpecError) -> Sourced<Double> {
            try sourcedNumber(n) { v throws(SpecError) in
                let p = try v.double()
                guard p >= 0, p <= 1 else { throw v.error("probability must be in [0, 1], got \(p)") }
                return p
            }
        }
        func energy(_ n: SpecNode) throws(SpecError) -> Sourced<Joules> { try sourced(n, .energy, positive: false).map(Joules.init) }
        func time(_ n: SpecNode) throws(SpecError) -> Sourced<Seconds> { try sourced(n, .time, positive: false).map(Seconds.init) }
        return MLCCellSpec(
            readEnergy: try perPattern("read_energy", energy), readLatency: try perPattern("read_latency", time),
            softWriteEnergy: try energy(m.required("soft_write_energy")), softWriteLatency: try time(m.required("soft_write_latency")),
            hardWriteEnergy: try energy(m.required("hard_write_energy")), hardWriteLatency: try time(m.required("hard_write_latency")),
            peripheralReadEnergy: try sourced(m.required("peripheral_read_energy"), .energyPerByte, positive: false).map(JoulesPerByte.init),
            peripheralWriteEnergy: try sourced(m.required("peripheral_write_energy"), .energyPerByte, positive: false).map(JoulesPerByte.init),
            readDisturb: try perPattern("read_disturb", probability), writeError: try perPattern("write_error", probability))
    }
}
