import Foundation

/// Per-layer and total deltas between two runs (B relative to A), matched by device id and
/// layer name. Used by `runs diff` and its `--fail-above` regression gate.
public struct RunDiff: Codable, Sendable, Hashable {
    public struct LayerDelta: Codable, Sendable, Hashable {
        public var name: String
        public var latencyA: Double?
        public var latencyB: Double?
        public var energyA: Double?
        public var energyB: Double?
        public init(name: String, latencyA: Double?, latencyB: Double?, energyA: Double? = nil, energyB: Double? = nil) {
            self.name = name
            self.latencyA = latencyA
            self.latencyB = latencyB
            self.energyA = energyA
            self.energyB = energyB
        }
        public var latencyChange: Double? {
            guard let a = latencyA, let b = latencyB, a > 0 else { return nil }
            return (b - a) / a
        }
    }

    public struct DeviceDelta: Codable, Sendable, Hashable {
        public var device: String
        public var latencyA: Double
        public var latencyB: Double
        public var energyA: Double
        public var energyB: Double
        public var layers: [LayerDelta]
        public init(device: String, latencyA: Double, latencyB: Double, energyA: Double, energyB: Double, layers: [LayerDelta]) {
            self.device = device
            self.latencyA = latencyA
            self.latencyB = latencyB
            self.energyA = energyA
            self.energyB = energyB
            self.layers = layers
        }
        public var latencyChange: Double { latencyA > 0 ? (latencyB - latencyA) / latencyA : 0 }
        public var energyChange: Double { energyA > 0 ? (energyB - energyA) / energyA : 0 }
    }

    public var runA: Int64?
    public var runB: Int64?
    public var devices: [DeviceDelta]
    /// Device ids present in only one of the runs.
    public var unmatchedDevices: [String]

    public init(runA: Int64?, runB: Int64?, devices: [DeviceDelta], unmatchedDevices: [String] = []) {
        self.runA = runA
        self.runB = runB
        self.devices = devices
        self.unmatchedDevices = unmatchedDevices
    }

    public init(a: RunRecord, b: RunRecord) {
        runA = a.id
        runB = b.id
        let devA = a.profile?.devices ?? []
        let devB = b.profile?.devices ?? []
        var deltas: [DeviceDelta] = []
        for da in devA {
            guard let db = devB.first(where: { $0.id == da.id }) else { continue }
            var layers: [LayerDelta] = []
            var seen = Set<String>()
            for la in da.layers {
                let lb = db.layers.first { $0.name == la.name }
                layers.append(LayerDelta(name: la.name, latencyA: la.latencyS, latencyB: lb?.latencyS, energyA: la.energyJ, energyB: lb?.energyJ))
                seen.insert(la.name)
            }
            for lb in db.layers where !seen.contains(lb.name) {
                layers.append(LayerDelta(name: lb.name, latencyA: nil, latencyB: lb.latencyS, energyA: nil, energyB: lb.energyJ))
            }
            deltas.append(DeviceDelta(device: da.id, latencyA: da.totals.latencyS, latencyB: db.totals.latencyS,
                                      energyA: da.totals.energyJ, energyB: db.totals.energyJ, layers: layers))
        }
        devices = deltas
        let ida = Set(devA.map(\.id)), idb = Set(devB.map(\.id))
        unmatchedDevices = ida.symmetricDifference(idb).sorted()
    }

    /// Devices whose total latency or energy grew by more than `threshold` (0.05 = 5 %).
    public func regressions(above threshold: Double) -> [String] {
        devices.flatMap { d -> [String] in
            var out: [String] = []
            if d.latencyChange > threshold { out.append("\(d.device): latency +\(String(format: "%.1f", d.latencyChange * 100))%") }
            if d.energyChange > threshold { out.append("\(d.device): energy +\(String(format: "%.1f", d.energyChange * 100))%") }
            return out
        }
    }
}
