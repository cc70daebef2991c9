import DeviceSpec

/// Bit errors in stored MLC cells (README "Accelerator model", "Bit errors").
///
/// Resistance levels are ordered 00 < 01 < 10 < 11 (hard bit major: the two-step read
/// senses the hard bit first). An erroneous cell is read as a neighbouring level, chosen
/// uniformly when it has two. A cell holding pattern p is wrong with probability
/// `scale × w(p) / max w`, w(p) = read_disturb(p) + write_error(p) from the device file:
/// `scale` is the probability of the most error-prone pattern.
public struct ErrorModel: Sendable, Hashable {
    /// Per-pattern error probability.
    public var probability: [Double]

    public init(probability: [Double]) { self.probability = probability }

    public init(cell: MLCCellSpec, scale: Double) {
        let w = (0..<4).map { cell.readDisturb[$0].value + cell.writeError[$0].value }
        let m = w.max() ?? 0
        probability = w.map { m > 0 ? Swift.min(1, scale * $0 / m) : 0 }
    }

    public struct Outcome: Sendable, Hashable {
        public var cells = 0
        public var flipped = 0
    }

    /// Flips cells of `words` in place. Deterministic for a given generator state.
    public func inject(into words: inout [UInt16], using rng: inout some RandomNumberGenerator) -> Outcome {
        var outcome = Outcome()
        guard probability.contains(where: { $0 > 0 }) else {
            outcome.cells = words.count * 8
            return outcome
        }
        for i in words.indices {
            var w = words[i]
            for cell in 0..<8 {
                outcome.cells += 1
                let p = MLCCodec.pattern(w, cell: cell)
                let q = probability[p]
                guard q > 0, Double.random(in: 0..<1, using: &rng) < q else { continue }
                let n: Int
                switch p {
                case 0: n = 1
                case 3: n = 2
                default: n = Bool.random(using: &rng) ? p - 1 : p + 1
                }
                let shift = UInt16(2 * cell)
                w = (w & ~(3 << shift)) | (UInt16(n) << shift)
                outcome.flipped += 1
            }
            words[i] = w
        }
        return outcome
    }
}
