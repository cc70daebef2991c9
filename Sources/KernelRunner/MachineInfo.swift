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

extension MachineInfo {
    /// OpenBLAS kernel sets that use no AVX: what an OpenBLAS build with DYNAMIC_ARCH falls back to on a
    /// CPU model it does not know (Debian 12's 0.3.21 on Intel's family 6 model 207, Emerald Rapids: "Prescott").
    public static let preAVXBLASCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                                                      "coppermine", "northwood", "banias", "opteron", "opteron_sse3", "barcelona",
                                                      "bobcat", "nano", "generic"]

    /// A warning when OpenBLAS runs kernels without AVX on a CPU that has AVX2 and FMA: every `cblas_sgemm`
    /// (on AVX-512F CPUs only the generic kernel set's; without AVX-512F also the C set's GEMM layers over
    /// several rows, MatMuls, attention, ConvTranspose and Winograd layers under 192 input channels) then runs several times
    /// slower than it could (session 29, 2-vCPU Intel Xeon, OpenBLAS 0.3.21 on its "Prescott" kernels:
    /// vit_tiny 200.9 ms, with OPENBLAS_CORETYPE=SkylakeX 25.0 ms). Nil when the kernel set fits the CPU.
    public var blasCoreWarning: String? {
        guard MachineInfo.preAVXBLASCores.contains(blasCoreName.lowercased()),
              simdFeatures.contains("avx2"), simdFeatures.contains("fma") else { return nil }
        let suggested = simdFeatures.contains("avx512f") ? "SkylakeX" : "Haswell"
        let isa = simdFeatures.contains("avx512f") ? "AVX-512F" : "AVX2 and FMA"
        let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE is set to '\($0)')" } ?? ""
        // With AVX-512F the C kernel set runs every GEMM itself (`RowMajorGemm`, the packed GEMMs).
        let affected = simdFeatures.contains("avx512f") ? "the generic kernel set"
            : "GEMM and MatMul layers over several rows, attention, small Winograd and transposed convolutions, the generic kernel set"
        return "OpenBLAS runs its '\(blasCoreName)' kernels (no AVX) on this CPU, which has \(isa)\(forced): its build does not know "
            + "this CPU model, so every sgemm (\(affected)) runs several times "
            + "slower than it could; run edgeprof with OPENBLAS_CORETYPE=\(suggested) in the environment (e.g. "
            + "`OPENBLAS_CORETYPE=\(suggested) edgeprof measure MODEL`)"
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
