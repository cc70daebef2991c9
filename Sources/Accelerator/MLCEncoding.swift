/// How FP16 weights are laid out in the MLC buffer (README "Accelerator model", "Encodings").
///
/// A 16-bit word occupies 8 two-bit cells; cell k holds bit 2k+1 as its hard bit and bit
/// 2k as its soft bit, so cell 7 holds the sign (bit 15) and the exponent MSB (bit 14).
/// Weights are normalised per layer to [−1, 1], so bit 14 is always 0.
public enum BufferEncoding: String, Sendable, Codable, CaseIterable {
    /// FP16 words stored as they are.
    case none
    /// Bit 14 (always 0) holds a copy of the sign bit 15, so cell 7 stores 00 or 11 (the
    /// extreme, robust patterns). Decoding: a cell 7 that reads 01 or 10 disagrees with its
    /// backup; a one-level resistance shift from 00 or 11 moves only the soft bit, so the
    /// hard bit (the sign) wins and bit 14 is cleared.
    case msbBackup = "msb-backup"
    /// Per block of `blockWords` words, the soft bits of cells 0–6 are inverted (XOR
    /// 0x1555) when that lowers the block's number of intermediate patterns (01, 10); one
    /// flag cell per block (00 = as is, 11 = inverted) records the choice.
    case rearrange
    /// MSB-backup, then rearrangement (cell 7 is never inverted, so its backup survives).
    case both

    public var backsUpMSB: Bool { self == .msbBackup || self == .both }
    public var rearranges: Bool { self == .rearrange || self == .both }
}

/// Words as stored in the buffer plus one flag per block (empty without rearrangement).
public struct StoredWords: Sendable, Hashable {
    public var words: [UInt16]
    public var flags: [Bool]
    public init(words: [UInt16], flags: [Bool]) {
        self.words = words
        self.flags = flags
    }
}

public enum MLCCodec {
    public static let blockWords = 16
    public static let signBit: UInt16 = 0x8000
    public static let exponentMSB: UInt16 = 0x4000
    /// Soft bits of cells 0–6.
    public static let invertMask: UInt16 = 0x1555

    public enum EncodeError: Error, Equatable { case notNormalised(index: Int, word: UInt16) }

    /// Cell k's 2-bit pattern (hard << 1 | soft).
    @inline(__always) public static func pattern(_ word: UInt16, cell: Int) -> Int { Int((word >> UInt16(2 * cell)) & 3) }

    @inline(__always) static func isIntermediate(_ p: Int) -> Bool { p == 1 || p == 2 }

    public static func encode(_ words: [UInt16], _ encoding: BufferEncoding) throws(EncodeError) -> StoredWords {
        var out = words
        if encoding.backsUpMSB {
            for i in out.indices {
                guard out[i] & exponentMSB == 0 else { throw .notNormalised(index: i, word: out[i]) }
                if out[i] & signBit != 0 { out[i] |= exponentMSB }
            }
        }
        var flags: [Bool] = []
        if encoding.rearranges {
            flags.reserveCapacity((out.count + blockWords - 1) / blockWords)
            for start in stride(from: 0, to: out.count, by: blockWords) {
                let end = Swift.min(out.count, start + blockWords)
                var intermediate = 0
                for i in start..<end { for c in 0..<7 where isIntermediate(pattern(out[i], cell: c)) { intermediate += 1 } }
                let invert = 2 * intermediate > 7 * (end - start)
                if invert { for i in start..<end { out[i] ^= invertMask } }
                flags.append(invert)
            }
        }
        return StoredWords(words: out, flags: flags)
    }

    public static func decode(_ stored: StoredWords, _ encoding: BufferEncoding) -> [UInt16] {
        var out = stored.words
        if encoding.rearranges {
            for (b, invert) in stored.flags.enumerated() where invert {
                for i in (b * blockWords)..<Swift.min(out.count, (b + 1) * blockWords) { out[i] ^= invertMask }
            }
        }
        if encoding.backsUpMSB {
            // Agreeing or not, the sign is the hard bit and bit 14 is the known 0.
            for i in out.indices { out[i] &= ~exponentMSB }
        }
        return out
    }

    /// Backups that disagreed with their sign (corrections the decoder made).
    public static func corrections(_ stored: StoredWords, _ encoding: BufferEncoding) -> Int {
        guard encoding.backsUpMSB else { return 0 }
        return stored.words.reduce(0) { n, w in n + (((w >> 15) ^ (w >> 14)) & 1 == 1 ? 1 : 0) }
    }
}

/// Per-layer [−1, 1] normalisation and FP16 conversion.
public enum FP16Weights {
    /// Scale (max |w|, 1 for an all-zero tensor) and the FP16 bit patterns of w / scale.
    public static func normalise(_ values: [Float]) -> (scale: Float, words: [UInt16]) {
        let m = values.reduce(Float(0)) { Swift.max($0, abs($1)) }
        let scale = m > 0 && m.isFinite ? m : 1
        return (scale, values.map { Float16(Swift.min(1, Swift.max(-1, $0 / scale))).bitPattern })
    }

    public static func denormalise(_ words: [UInt16], scale: Float) -> [Float] {
        words.map { Float(Float16(bitPattern: $0)) * scale }
    }
}
