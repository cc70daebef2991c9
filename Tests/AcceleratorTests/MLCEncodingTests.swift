import Accelerator
import DeviceSpec
import KernelRunner
import NNGraph
import Testing

@Suite("MLC buffer encodings, pattern counts and bit errors")
struct MLCEncodingTests {
    /// Every FP16 bit pattern whose value lies in [−1, 1] (both zeros and all subnormals included).
    static let unitInterval: [UInt16] = (0...UInt16.max).filter { w in
        let v = Float(Float16(bitPattern: w))
        return !v.isNaN && abs(v) <= 1
    }

    @Test func everyFP16ValueInTheUnitIntervalRoundTrips() throws {
        #expect(Self.unitInterval.count == 2 * 0x3C01)  // 0x0000...0x3C00 and their negatives
        for encoding in BufferEncoding.allCases {
            // As one long stream (blocks of 16 neighbours) and in a shuffled order (mixed blocks).
            var rng = SplitMix64(seed: 7)
            for words in [Self.unitInterval, Self.unitInterval.shuffled(using: &rng)] {
                let stored = try MLCCodec.encode(words, encoding)
                #expect(MLCCodec.decode(stored, encoding) == words, "\(encoding.rawValue)")
                #expect(MLCCodec.corrections(stored, encoding) == 0)
            }
        }
    }

    @Test func msbBackupStoresOnlyExtremePatternsInTheSignCell() throws {
        for encoding in [BufferEncoding.msbBackup, .both] {
            let stored = try MLCCodec.encode(Self.unitInterval, encoding)
            #expect(stored.words.allSatisfy { [0, 3].contains(MLCCodec.pattern($0, cell: 7)) })
        }
        let plain = try MLCCodec.encode(Self.unitInterval, .none)
        #expect(plain.words.contains { MLCCodec.pattern($0, cell: 7) == 2 })  // negative values: 10
    }

    @Test func msbBackupRejectsUnnormalisedWords() {
        #expect(throws: MLCCodec.EncodeError.notNormalised(index: 1, word: Float16(2).bitPattern)) {
            try MLCCodec.encode([Float16(0.5).bitPattern, Float16(2).bitPattern], .msbBackup)
        }
    }

    @Test func rearrangementNeverIncreasesIntermediatePatterns() throws {
        var rng = SplitMix64(seed: 3)
        let words = (0..<4096).map { _ in Float16(Float.random(in: -1...1, using: &rng)).bitPattern }
        let plain = PatternCounts.count(try MLCCodec.encode(words, .none).words)
        let rearranged = PatternCounts.count(try MLCCodec.encode(words, .rearrange).words)
        #expect(rearranged.cells[1] + rearranged.cells[2] <= plain.cells[1] + plain.cells[2])
        #expect(plain.total == rearranged.total)
    }

    /// The counter against a bit-by-bit count through a string of binary digits.
    @Test func patternCounterMatchesADirectCount() {
        var rng = SplitMix64(seed: 11)
        let words = (0..<2000).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
        var direct = [0, 0, 0, 0]
        for w in words {
            let bits = Array(String(w, radix: 2)).map { $0 == "1" ? 1 : 0 }
            let padded = Array(repeating: 0, count: 16 - bits.count) + bits  // MSB first
            for cell in 0..<8 {
                let hard = padded[15 - (2 * cell + 1)], soft = padded[15 - 2 * cell]
                direct[hard * 2 + soft] += 1
            }
        }
        #expect(PatternCounts.count(words).cells == direct)
        #expect(direct.reduce(0, +) == words.count * 8)
    }

    @Test func transitionsClassifyEveryCellChange() {
        // old 00 → 01 soft only; 00 → 11 hard to extreme; 00 → 10 hard then soft; 11 → 11 unchanged.
        let old: [UInt16] = [0b00_00_00_11]
        let new: [UInt16] = [0b10_11_01_11]
        let t = TransitionCounts.count(old: old, new: new)
        #expect(t.softOnly == 1 && t.hardToExtreme == 1 && t.hardThenSoft == 1 && t.unchanged == 5)
    }

    @Test func zeroRateChangesNothing() {
        var rng = SplitMix64(seed: 1)
        let words = (0..<5000).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
        var copy = words
        let outcome = ErrorModel(probability: [0, 0, 0, 0]).inject(into: &copy, using: &rng)
        #expect(copy == words)
        #expect(outcome.flipped == 0 && outcome.cells == 40_000)
    }

    /// Injected errors per pattern against the configured probability: within 5 binomial
    /// standard deviations (false-failure chance < 1e-6 per check).
    @Test func injectedRateMatchesTheConfiguredRate() {
        var rng = SplitMix64(seed: 2)
        let words = (0..<50_000).map { _ in UInt16.random(in: 0...UInt16.max, using: &rng) }
        let model = ErrorModel(probability: [0.001, 0.02, 0.05, 0.004])
        var copy = words
        let outcome = model.inject(into: &copy, using: &rng)
        var cells = [0, 0, 0, 0], changed = [0, 0, 0, 0]
        for (a, b) in zip(words, copy) {
            for c in 0..<8 {
                let p = MLCCodec.pattern(a, cell: c)
                cells[p] += 1
                if MLCCodec.pattern(b, cell: c) != p { changed[p] += 1 }
            }
        }
        for p in 0..<4 {
            let n = Double(cells[p]), q = model.probability[p]
            let sigma = (n * q * (1 - q)).squareRoot()
            #expect(abs(Double(changed[p]) - n * q) <= 5 * sigma, "pattern \(p): \(changed[p]) of \(cells[p]), expected \(n * q)")
        }
        #expect(outcome.flipped == changed.reduce(0, +))
    }

    @Test func msbBackupCorrectsEveryErrorInTheSignCell() throws {
        var rng = SplitMix64(seed: 5)
        let words = (0..<20_000).map { _ in Float16(Float.random(in: -1...1, using: &rng)).bitPattern }
        for encoding in [BufferEncoding.msbBackup, .both] {
            var stored = try MLCCodec.encode(words, encoding)
            // Errors only in cell 7 (probability 1 for its patterns 00 and 11).
            let model = ErrorModel(probability: [1, 0, 0, 1])
            var cell7 = stored.words.map { $0 >> 14 }
            _ = model.inject(into: &cell7, using: &rng)
            for i in stored.words.indices { stored.words[i] = (stored.words[i] & 0x3FFF) | (cell7[i] << 14) }
            #expect(MLCCodec.corrections(stored, encoding) == words.count)
            #expect(MLCCodec.decode(stored, encoding) == words)
        }
    }

    @Test func normalisationKeepsWeightsInTheUnitInterval() {
        let (scale, words) = FP16Weights.normalise([0.5, -2, 1, 0])
        #expect(scale == 2)
        #expect(words.allSatisfy { $0 & MLCCodec.exponentMSB == 0 })
        #expect(FP16Weights.denormalise(words, scale: scale) == [0.5, -2, 1, 0])
    }
}
