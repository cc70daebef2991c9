import CKernels
import Foundation
import Validation

/// Load-to-use latency across working-set sizes by pointer chasing: a random cyclic permutation
/// of cache lines (Sattolo's algorithm, seeded) is followed one dependent load at a time, so
/// neither the prefetcher nor out-of-order execution hides the latency of the level the working
/// set lives in (lmbench's `lat_mem_rd` method).
public enum PointerChase {
    public struct Point: Sendable, Hashable, Codable {
        public var workingSetBytes: Int
        /// Seconds per dependent load (median of the repeats).
        public var secondsPerLoad: Double
        public init(workingSetBytes: Int, secondsPerLoad: Double) {
            self.workingSetBytes = workingSetBytes
            self.secondsPerLoad = secondsPerLoad
        }
    }

    public static let lineBytes = 64

    /// Seconds per load for one working set: `loads` dependent loads, `repeats` times, median.
    public static func measure(workingSetBytes: Int, loads: Int, repeats: Int = 5, seed: UInt64 = 42) -> Double {
        let stride = lineBytes / MemoryLayout<Int>.stride
        let lines = max(workingSetBytes / lineBytes, 2)
        let buffer = UnsafeMutablePointer<Int>.allocate(capacity: lines * stride)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: lines * stride)
        // Sattolo: one cycle through every line.
        var order = Array(0..<lines)
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var i = lines - 1
        while i > 0 {
            let j = Int(next() % UInt64(i))
            order.swapAt(i, j)
            i -= 1
        }
        for k in 0..<lines { buffer[order[k] * stride] = order[(k + 1) % lines] * stride }
        var times: [Double] = []
        var p = 0
        // Warm the working set once.
        for _ in 0..<lines { p = buffer[p] }
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<loads { p = buffer[p] }
            let t1 = DispatchTime.now().uptimeNanoseconds
            times.append(Double(t1 - t0) / 1e9 / Double(loads))
        }
        // Keep the chase observable so it is not optimised away.
        if p == -1 { print("") }
        return ValidationStatistics.median(times) ?? times[0]
    }

    /// Working sets from 8 KiB to 64 MiB (×2 steps; `quick`: ×4).
    public static func sizes(quick: Bool) -> [Int] {
        var out: [Int] = []
        var s = 8 * 1024
        while s <= 64 * 1024 * 1024 {
            out.append(s)
            s *= quick ? 4 : 2
        }
        return out
    }

    public static func sweep(quick: Bool, progress: (String) -> Void = { _ in }) -> [Point] {
        sizes(quick: quick).map { size in
            progress("pointer chase \(size / 1024) KiB")
            return Point(workingSetBytes: size, secondsPerLoad: measure(workingSetBytes: size, loads: quick ? 200_000 : 1_000_000))
        }
    }

    /// The points that measure memory level `i` (innermost first; the last is main memory): working
    /// sets that fit the level at most half full and overflow the level inside it (ws > size of the
    /// inner level); main memory takes working sets ≥ 2× the last cache.
    public static func points(_ points: [Point], inLevel i: Int, levelSizes: [Double]) -> [Point] {
        let isMain = i == levelSizes.count - 1
        let lower = i == 0 ? 0 : levelSizes[i - 1] * (isMain ? 2 : 1)
        let upper = isMain ? Double.infinity : levelSizes[i] / 2
        return points.filter { Double($0.workingSetBytes) > lower && Double($0.workingSetBytes) <= upper }
    }

    /// Latency of each memory level: the median over `points(_:inLevel:levelSizes:)`; nil when no
    /// working set qualifies.
    public static func levelLatencies(_ points: [Point], levelSizes: [Double]) -> [Double?] {
        levelSizes.indices.map { ValidationStatistics.median(Self.points(points, inLevel: $0, levelSizes: levelSizes).map(\.secondsPerLoad)) }
    }

    /// Working-set sizes where latency jumps by more than `factor` from one point to the next: the
    /// capacity edges the sweep sees (compare with the cache sizes the template declares).
    public static func edges(_ points: [Point], factor: Double = 1.4) -> [Int] {
        let sorted = points.sorted { $0.workingSetBytes < $1.workingSetBytes }
        guard sorted.count >= 2 else { return [] }
        var out: [Int] = []
        for k in 1..<sorted.count where sorted[k].secondsPerLoad > factor * sorted[k - 1].secondsPerLoad {
            out.append(sorted[k - 1].workingSetBytes)
        }
        return out
    }
}

/// The start-up of a stream from main memory (a device file's `stream_startup` for its last level):
/// the time to read a small buffer none of whose lines, pages or page-table entries are cached — what a
/// kernel waits before its first weight bytes arrive when its weights were last touched an inference ago
/// (a model larger than the caches). The pointer chase's latency is one dependent load in a working set
/// whose page tables stay cached; a cold stream also walks the page tables from memory. On the 2-vCPU
/// EPYC VM (session 27): 0.62 µs for 1 KiB against the chase's 0.15 µs, and t grows by ~0.3 µs per
/// further 4 KiB page up to 16 KiB — the excess the networks' small squeeze-excitation fcs showed.
public enum ColdStream {
    /// Bytes read per timed read: 16 cache lines, whose transfer (~30 ns at the DRAM bandwidth) is small
    /// against the start-up, so the time is the start-up.
    public static let bytes = 1024
    /// Bytes streamed through the caches before each timed read: twice a 32 MiB last-level cache, and
    /// 16 K pages, beyond any TLB's reach.
    public static let evictBytes = 64 << 20

    /// Median seconds of `repeats` cold reads of `bytes` (each after the eviction: ~2 ms at 30 GB/s);
    /// nil when the buffers could not be allocated.
    public static func measure(bytes: Int = ColdStream.bytes, repeats: Int) -> Double? {
        let t = ck_cold_read_seconds(bytes, evictBytes, Int32(repeats))
        return t > 0 && t.isFinite ? t : nil
    }
}
