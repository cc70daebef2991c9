import Foundation
import NNGraph

/// Reading and writing NumPy `.npy` arrays and `.npz` archives (the formats users check
/// numerics with). Float32 in C order is native; float64, float16, integer and bool arrays
/// are converted to float32 on read, Fortran-order arrays are reordered. Writing produces
/// version 1.0 little-endian float32 (`<f4`).
public enum NumPyArray {
    public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    public static func decode(_ bytes: [UInt8]) throws(FormatError) -> HostTensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw FormatError("not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw FormatError("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw FormatError(".npy format version \(major) is not supported")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw FormatError("truncated or non-text .npy header")
        }
        let descr = try field("descr", in: header)
        let fortran = try field("fortran_order", in: header) == "True"
        let shapeText = try field("shape", in: header)
        let dims = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { (s: Substring) throws(FormatError) -> Int in
                guard let d = Int(s.trimmingCharacters(in: .whitespaces)), d >= 0 else { throw FormatError("bad shape \(shapeText)") }
                return d
            }
        let count = dims.reduce(1, *)
        let data = Array(bytes[(headerStart + headerLength)...])
        var values = try convert(data, descr: descr, count: count)
        if fortran && dims.count > 1 { values = fortranToC(values, dims: dims) }
        return HostTensor(shape: TensorShape(dims), values: values)
    }

    public static func encode(_ t: HostTensor) -> [UInt8] {
        let shape = t.shape.dims.isEmpty ? "()" : t.shape.rank == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.dims.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Pad so the data starts on a 64-byte boundary; the header ends with a newline.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        t.values.withUnsafeBytes { out += Array($0) }
        return out
    }

    /// Arrays of an `.npz` archive by name (without the `.npy` suffix).
    public static func decodeArchive(_ bytes: [UInt8]) throws(FormatError) -> [String: HostTensor] {
        let entries: [String: [UInt8]]
        do { entries = try ZipArchive.entries(bytes) } catch { throw FormatError("npz: \(error)") }
        var out: [String: HostTensor] = [:]
        for (name, data) in entries where name.hasSuffix(".npy") {
            do { out[String(name.dropLast(4))] = try decode(data) } catch { throw FormatError("npz entry \(name): \(error.message)") }
        }
        return out
    }

    static func field(_ key: String, in header: String) throws(FormatError) -> String {
        guard let r = header.range(of: "'\(key)'") else { throw FormatError(".npy header has no '\(key)': \(header)") }
        var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw FormatError("bad shape in .npy header") }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            return String(rest.prefix { $0 != "'" })
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }

    static func convert(_ data: [UInt8], descr: String, count: Int) throws(FormatError) -> [Float] {
        let little = !descr.hasPrefix(">")
        let code = String(descr.drop { $0 == "<" || $0 == ">" || $0 == "|" || $0 == "=" })
        let size: Int
        switch code {
        case "f4", "i4", "u4": size = 4
        case "f8", "i8", "u8": size = 8
        case "f2", "i2", "u2": size = 2
        case "i1", "u1", "b1": size = 1
        default: throw FormatError("dtype '\(descr)' is not supported (use float32, float64, float16, integers or bool)")
        }
        guard data.count >= count * size else {
            throw FormatError(".npy data has \(data.count) bytes, shape needs \(count * size)")
        }
        guard little || size == 1 else { throw FormatError("big-endian dtype '\(descr)' is not supported") }
        return data.withUnsafeBytes { raw -> [Float] in
            switch code {
            case "f4": (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            case "f8": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
            case "f2": (0..<count).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case "i4": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case "u4": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
            case "i8": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case "u8": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
            case "i2": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
            case "u2": (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            case "i1": (0..<count).map { Float(raw.load(fromByteOffset: $0, as: Int8.self)) }
            default: (0..<count).map { Float(raw.load(fromByteOffset: $0, as: UInt8.self)) }
            }
        }
    }

    static func fortranToC(_ v: [Float], dims: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        let r = dims.count
        var fStrides = [Int](repeating: 1, count: r)
        for i in 1..<r { fStrides[i] = fStrides[i - 1] * dims[i - 1] }
        var index = [Int](repeating: 0, count: r)
        for flat in 0..<v.count {
            var off = 0
            for i in 0..<r { off += index[i] * fStrides[i] }
            out[flat] = v[off]
            var a = r - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < dims[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return out
    }
}

/// Minimal ZIP reader: central directory (with ZIP64 sizes/offsets, which NumPy writes),
/// stored and deflated entries.
enum ZipArchive {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func entries(_ b: [UInt8]) throws(Failure) -> [String: [UInt8]] {
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        func u64(_ i: Int) -> Int { u32(i) | u32(i + 4) << 32 }
        guard b.count >= 22 else { throw Failure(description: "too short to be a zip archive") }
        var eocd = -1
        var i = b.count - 22
        while i >= Swift.max(0, b.count - 22 - 65_535) {
            if u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw Failure(description: "no end-of-central-directory record (not a zip/npz file?)") }
        var entryCount = u16(eocd + 10)
        var cdOffset = u32(eocd + 16)
        // ZIP64 end of central directory locator just before the EOCD.
        if eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let z64 = u64(eocd - 20 + 8)
            if z64 + 56 <= b.count, u32(z64) == 0x0606_4B50 {
                entryCount = u64(z64 + 32)
                cdOffset = u64(z64 + 48)
            }
        }
        var out: [String: [UInt8]] = [:]
        var p = cdOffset
        for _ in 0..<entryCount {
            guard p + 46 <= b.count, u32(p) == 0x0201_4B50 else { throw Failure(description: "corrupt central directory") }
            let method = u16(p + 10)
            var compressed = u32(p + 20)
            var size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            guard p + 46 + nameLength + extraLength <= b.count else { throw Failure(description: "corrupt central directory entry") }
            let name = String(decoding: b[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field: the 0xFFFFFFFF fields follow in order size, compressed, offset.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), len = u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF { size = u64(q); q += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = u64(q); q += 8 }
                    if local == 0xFFFF_FFFF { local = u64(q) }
                }
                e += 4 + len
            }
            guard local + 30 <= b.count, u32(local) == 0x0403_4B50 else { throw Failure(description: "corrupt local header for \(name)") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + compressed <= b.count else { throw Failure(description: "entry \(name) runs past the end of the archive") }
            let raw = Array(b[start..<(start + compressed)])
            switch method {
            case 0: out[name] = raw
            case 8:
                do { out[name] = try Inflater.inflate(raw, expectedSize: size) } catch { throw Failure(description: "\(name): \(error)") }
            default: throw Failure(description: "entry \(name) uses compression method \(method) (only stored and deflate are supported)")
            }
            p += 46 + nameLength + extraLength + commentLength
        }
        return out
    }
}
