/// DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks. Needed to
/// read `.npz` archives written by `numpy.savez_compressed` (Foundation has no zlib on Linux).
/// Table-driven for codes up to 10 bits, bit-by-bit (canonical order) beyond.
struct Inflater {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let input: [UInt8]
    private var position = 0
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    init(_ input: [UInt8]) { self.input = input }

    static func inflate(_ data: [UInt8], expectedSize: Int? = nil) throws(Failure) -> [UInt8] {
        var decoder = Inflater(data)
        var out: [UInt8] = []
        out.reserveCapacity(expectedSize ?? data.count * 3)
        var last = false
        while !last {
            last = try decoder.bits(1) == 1
            switch try decoder.bits(2) {
            case 0: try decoder.stored(&out)
            case 1: try decoder.codes(&out, lit: Huffman.fixedLiteral, dist: Huffman.fixedDistance)
            case 2:
                let (lit, dist) = try decoder.dynamicTables()
                try decoder.codes(&out, lit: lit, dist: dist)
            default: throw Failure(description: "invalid deflate block type")
            }
        }
        return out
    }

    @inline(__always)
    private mutating func need(_ n: Int) throws(Failure) {
        while bitCount < n {
            guard position < input.count else { throw Failure(description: "deflate stream ends early") }
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
    }

    @inline(__always)
    private mutating func bits(_ n: Int) throws(Failure) -> Int {
        if n == 0 { return 0 }
        try need(n)
        let v = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return v
    }

    private mutating func stored(_ out: inout [UInt8]) throws(Failure) {
        bitBuffer = 0
        bitCount = 0
        guard position + 4 <= input.count else { throw Failure(description: "truncated stored block") }
        let len = Int(input[position]) | Int(input[position + 1]) << 8
        let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard len == (~nlen & 0xFFFF) else { throw Failure(description: "stored block length check failed") }
        position += 4
        guard position + len <= input.count else { throw Failure(description: "truncated stored block") }
        out.append(contentsOf: input[position..<(position + len)])
        position += len
    }

    @inline(__always)
    private mutating func decode(_ h: Huffman) throws(Failure) -> Int {
        // Fast path: peek `fastBits` bits (fewer near the end of the stream).
        if bitCount < Huffman.fastBits {
            while bitCount < Huffman.fastBits && position < input.count {
                bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
                position += 1
                bitCount += 8
            }
        }
        let entry = h.fast[Int(bitBuffer & UInt64(Huffman.fastMask))]
        let len = Int(entry & 0xF)
        if len > 0 && len <= bitCount {
            bitBuffer >>= UInt64(len)
            bitCount -= len
            return Int(entry >> 4)
        }
        // Slow path: canonical decoding bit by bit (codes are stored bit-reversed in the stream).
        var code = 0, first = 0, index = 0
        for l in 1...15 {
            code |= try bits(1)
            let count = h.counts[l]
            if code - first < count { return h.symbols[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw Failure(description: "invalid Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                   4097, 6145, 8193, 12289, 16385, 24577]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private mutating func codes(_ out: inout [UInt8], lit: Huffman, dist: Huffman) throws(Failure) {
        while true {
            let sym = try decode(lit)
            if sym < 256 {
                out.append(UInt8(sym))
            } else if sym == 256 {
                return
            } else {
                let li = sym - 257
                guard li < 29 else { throw Failure(description: "invalid length symbol") }
                let length = Self.lengthBase[li] + (try bits(Self.lengthExtra[li]))
                let ds = try decode(dist)
                guard ds < 30 else { throw Failure(description: "invalid distance symbol") }
                let distance = Self.distBase[ds] + (try bits(Self.distExtra[ds]))
                guard distance <= out.count else { throw Failure(description: "distance too far back") }
                let start = out.count - distance
                for i in 0..<length { out.append(out[start + i]) }
            }
        }
    }

    private mutating func dynamicTables() throws(Failure) -> (Huffman, Huffman) {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<ncode { codeLengths[order[i]] = try bits(3) }
        let codeTable = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < nlen + ndist {
            let sym = try decode(codeTable)
            switch sym {
            case 0...15: lengths.append(sym)
            case 16:
                guard let prev = lengths.last else { throw Failure(description: "repeat with no previous length") }
                lengths += [Int](repeating: prev, count: 3 + (try bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
            }
        }
        guard lengths.count == nlen + ndist else { throw Failure(description: "too many code lengths") }
        return (try Huffman(lengths: Array(lengths[0..<nlen])), try Huffman(lengths: Array(lengths[nlen...])))
    }
}

/// A canonical Huffman code: counts per length, symbols in canonical order, and a lookup
/// table for codes of at most `fastBits` bits (entry = symbol << 4 | length; 0 = slow path).
struct Huffman {
    static let fastBits = 10
    static let fastMask = (1 << fastBits) - 1
    var counts: [Int]
    var symbols: [Int]
    var fast: [UInt32]

    init(lengths: [Int]) throws(Inflater.Failure) {
        counts = [Int](repeating: 0, count: 16)
        for l in lengths { counts[l] += 1 }
        counts[0] = 0
        var offsets = [Int](repeating: 0, count: 16)
        for l in 1..<16 { offsets[l] = offsets[l - 1] + counts[l - 1] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (s, l) in lengths.enumerated() where l > 0 {
            symbols[offsets[l]] = s
            offsets[l] += 1
        }
        fast = [UInt32](repeating: 0, count: 1 << Self.fastBits)
        // Assign canonical codes and fill the table with bit-reversed codes.
        var code = 0
        var next = [Int](repeating: 0, count: 16)
        for l in 1..<16 {
            code = (code + counts[l - 1]) << 1
            next[l] = code
        }
        for (s, l) in lengths.enumerated() where l > 0 && l <= Self.fastBits {
            let c = next[l]
            next[l] += 1
            var rev = 0
            for b in 0..<l where c & (1 << b) != 0 { rev |= 1 << (l - 1 - b) }
            var i = rev
            while i < (1 << Self.fastBits) {
                fast[i] = UInt32(s << 4 | l)
                i += 1 << l
            }
        }
    }

    static let fixedLiteral: Huffman = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        // Force-unwrapped construction of a constant table cannot fail.
        return (try? Huffman(lengths: l)) ?? Huffman(empty: ())
    }()

    static let fixedDistance: Huffman = (try? Huffman(lengths: [Int](repeating: 5, count: 30))) ?? Huffman(empty: ())

    private init(empty: Void) {
        counts = [Int](repeating: 0, count: 16)
        symbols = []
        fast = []
    }
}
