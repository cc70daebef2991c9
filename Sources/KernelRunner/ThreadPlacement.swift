import CKernels
import Foundation

/// How far apart the cores a multi-threaded run lands on are: the cache-line round trip between the
/// first CPU this process may use and each of the next `threads − 1` (the slowest is kept).
///
/// Why it is recorded: on the 2-vCPU KVM guests edgeprof is developed on, the host sometimes places
/// the two vCPUs on cores of different dies. The round trip then goes from 50–110 ns to 330–390 ns,
/// and a 2-thread run slows down 2–4× in every kernel whose threads touch lines the other thread
/// wrote (mobilenet_v2 3.9 → 8 ms; ONNX Runtime 3.8 → 6.6 ms), while a 1-thread run keeps its speed.
/// Nothing in the process's own counters shows it (no steal time, no migrations); this probe does.
public struct ThreadPlacement: Sendable, Hashable, Codable {
    /// Slowest round trip, nanoseconds.
    public var roundTripNs: Double
    /// The CPUs probed (first allowed CPU and its partners).
    public var cpus: [Int]

    enum CodingKeys: String, CodingKey {
        case roundTripNs = "round_trip_ns"
        case cpus
    }

    public init(roundTripNs: Double, cpus: [Int]) {
        self.roundTripNs = roundTripNs
        self.cpus = cpus
    }

    /// Above this round trip the cores are taken to be on different dies (or sockets): same-die core
    /// pairs measure 50–110 ns on this VM (Zen 4), 40–120 ns on current Intel and Arm server parts;
    /// cross-die pairs 330–390 ns here.
    public static let farApartNs = 200.0

    public var farApart: Bool { roundTripNs > Self.farApartNs }

    /// Whether any of a measurement's probes (before / after its timed runs) found the cores far apart.
    public static func anyFarApart(_ probes: ThreadPlacement?...) -> Bool { probes.contains { $0?.farApart ?? false } }

    /// Extra runs calibrate and validate give a measurement that only ran on far-apart cores.
    public static let farApartRetries = 3

    /// Probes the placement every second, up to 10 s, until the threads' cores are close; returns
    /// whether they were (true where the placement cannot be probed).
    @discardableResult
    public static func waitForNearbyCores(threads: Int) -> Bool {
        for _ in 0..<10 {
            guard let p = probe(threads: threads), p.farApart else { return true }
            Thread.sleep(forTimeInterval: 1)
        }
        return false
    }

    /// Probes the placement a run with `threads` threads would get, or nil with one thread, one
    /// allowed CPU, or where pinning is unsupported. ~1–8 ms (`roundTrips` ping-pongs per pair).
    public static func probe(threads: Int, roundTrips: Int = 20_000) -> ThreadPlacement? {
        guard threads > 1 else { return nil }
        var allowed = [Int32](repeating: 0, count: 1024)
        let n = Int(ck_allowed_cpus(&allowed, Int32(allowed.count)))
        guard n > 1 else { return nil }
        let cpus = allowed.prefix(Swift.min(n, threads)).map(Int.init)
        var worst = 0.0
        for partner in cpus.dropFirst() {
            let ns = ck_core_round_trip_ns(Int32(cpus[0]), Int32(partner), roundTrips)
            guard ns > 0 else { return nil }
            worst = Swift.max(worst, ns)
        }
        return ThreadPlacement(roundTripNs: worst, cpus: cpus)
    }
}
