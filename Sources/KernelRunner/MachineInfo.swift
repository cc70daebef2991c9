import Foundation

/// Facts about the machine a measurement ran on (recorded with every measurement).
public struct MachineInfo: Sendable, Hashable, Codable {
    /// `/proc/cpuinfo` "model name" (e.g. "AMD EPYC"), or "unknown".
    public var cpuModel: String
    /// Logical CPUs available to this process.
    public var logicalCPUs: Int
    /// SIMD features this CPU reports that matter for the kernels (avx2, fma, avx512f).
    public var simdFeatures: [String]
    /// `openblas_get_config()`.
    public var blasConfig: String
    /// `openblas_get_corename()`: the OpenBLAS kernel set (core type) chosen for this CPU.
    public var blasCoreName: String
    /// Whether /proc/cpuinfo says the CPU runs under a hypervisor.
    public var virtualized: Bool

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model"
        case logicalCPUs = "logical_cpus"
        case simdFeatures = "simd_features"
        case blasConfig = "blas_config"
        case blasCoreName = "blas_core"
        case virtualized
    }

    public static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown"
        var flags: Set<Substring> = []
        for line in cpuinfo.split(separator: "\n") {
            if model == "unknown", line.hasPrefix("model name"), let colon = line.firstIndex(of: ":") {
                model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if flags.isEmpty, line.hasPrefix("flags"), let colon = line.firstIndex(of: ":") {
                flags = Set(line[line.index(after: colon)...].split(separator: " "))
            }
        }
        let wanted = ["avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512vnni"]
        return MachineInfo(cpuModel: model, logicalCPUs: ProcessInfo.processInfo.activeProcessorCount,
                        simdFeatures: wanted.filter { flags.contains(Substring($0)) },
                        blasConfig: BLASThreads.config, blasCoreName: BLASThreads.coreName,
                        virtualized: flags.contains("hypervisor"))
    }
}

/// Process memory from `/proc/self/status`.
public enum ProcessMemory {
    /// Peak resident set size (VmHWM), bytes; nil where /proc is unavailable.
    public static var peakResidentBytes: Int? { field("VmHWM") }
    /// Current resident set size (VmRSS), bytes.
    public static var residentBytes: Int? { field("VmRSS") }

    static func field(_ name: String) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in s.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}
