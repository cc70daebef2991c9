import Foundation

/// Which hardware measurements this machine allows. The runner never reports a modelled
/// number as measured: when a source is unavailable the quantity is `modelled` from time.
public struct HardwareCounterSupport: Sendable, Hashable, Codable {
    /// RAPL energy counters (`/sys/class/powercap/*/energy_uj`) readable.
    public var energy: Bool
    /// A hardware PMU is exposed to perf (`/sys/bus/event_source/devices/cpu`) and
    /// `perf_event_paranoid` allows user-space counting.
    public var memoryTraffic: Bool
    /// Why each source is or is not available, for the report.
    public var energyNote: String
    public var memoryTrafficNote: String

    enum CodingKeys: String, CodingKey {
        case energy, memoryTraffic = "memory_traffic"
        case energyNote = "energy_note"
        case memoryTrafficNote = "memory_traffic_note"
    }

    public static func probe() -> HardwareCounterSupport {
        let fm = FileManager.default
        var energy = false
        var energyNote = "no /sys/class/powercap (no RAPL exposed to this machine)"
        if let zones = try? fm.contentsOfDirectory(atPath: "/sys/class/powercap") {
            let readable = zones.filter { fm.isReadableFile(atPath: "/sys/class/powercap/\($0)/energy_uj") }
            if readable.isEmpty {
                energyNote = "/sys/class/powercap has no readable energy_uj counter"
            } else {
                energy = true
                energyNote = "RAPL zones: " + readable.sorted().joined(separator: ", ")
            }
        }
        var traffic = false
        var trafficNote: String
        let paranoid = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if !fm.fileExists(atPath: "/sys/bus/event_source/devices/cpu") {
            trafficNote = "no hardware PMU exposed (/sys/bus/event_source/devices/cpu missing; typical under KVM)"
        } else if let p = paranoid, p > 2 {
            trafficNote = "perf_event_paranoid = \(p) forbids user-space counters"
        } else {
            // A PMU exists, but the runner has no perf_event_open binding yet; say so rather than guess.
            traffic = false
            trafficNote = "a PMU is exposed, but edgeprof does not read LLC counters yet"
        }
        return HardwareCounterSupport(energy: energy, memoryTraffic: traffic, energyNote: energyNote, memoryTrafficNote: trafficNote)
    }

    /// Sum of RAPL package counters in joules, if readable.
    public static func readEnergyJoules() -> Double? {
        let fm = FileManager.default
        guard let zones = try? fm.contentsOfDirectory(atPath: "/sys/class/powercap") else { return nil }
        var total = 0.0
        var any = false
        for z in zones where !z.contains(":") || z.split(separator: ":").count == 2 {
            let path = "/sys/class/powercap/\(z)/energy_uj"
            if let s = try? String(contentsOfFile: path, encoding: .utf8), let uj = Double(s.trimmingCharacters(in: .whitespacesAndNewlines)) {
                total += uj * 1e-6
                any = true
            }
        }
        return any ? total : nil
    }
}
