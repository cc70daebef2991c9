@testable import KernelRunner
import Testing

@Suite("Machine facts")
struct MachineInfoTests {
    static func machine(core: String, flags: [String]) -> MachineInfo {
        MachineInfo(cpuModel: "test CPU", logicalCPUs: 2, simdFeatures: flags, blasConfig: "OpenBLAS 0.3.21 DYNAMIC_ARCH \(core)",
                    blasCoreName: core, virtualized: true)
    }

    /// OpenBLAS's no-AVX fallback on a CPU with AVX-512F or AVX2+FMA gets a warning naming the core type to
    /// force; a kernel set that fits the CPU, or a CPU without AVX2/FMA, gets none.
    @Test func warnsWhenOpenBLASRunsKernelsWithoutAVXOnAnAVXCPU() throws {
        let avx512 = try #require(Self.machine(core: "Prescott", flags: ["avx", "avx2", "fma", "avx512f"]).blasCoreWarning)
        #expect(avx512.contains("'Prescott' kernels") && avx512.contains("AVX-512F") && avx512.contains("OPENBLAS_CORETYPE=SkylakeX"), "\(avx512)")
        let avx2 = try #require(Self.machine(core: "Nehalem", flags: ["avx", "avx2", "fma"]).blasCoreWarning)
        #expect(avx2.contains("OPENBLAS_CORETYPE=Haswell") && avx2.contains("AVX2 and FMA"), "\(avx2)")
        #expect(Self.machine(core: "SkylakeX", flags: ["avx", "avx2", "fma", "avx512f"]).blasCoreWarning == nil)
        #expect(Self.machine(core: "Zen", flags: ["avx", "avx2", "fma"]).blasCoreWarning == nil)
        #expect(Self.machine(core: "Prescott", flags: ["avx"]).blasCoreWarning == nil)
    }

    /// This machine's record names the kernel set OpenBLAS chose, and the warning is there exactly when that set has no AVX on an AVX2 CPU.
    @Test func currentMachineRecordsTheOpenBLASCore() {
        let m = MachineInfo.current()
        #expect(!m.blasCoreName.isEmpty && m.blasCoreName != "unknown")
        let preAVX = MachineInfo.preAVXBLASCores.contains(m.blasCoreName.lowercased())
        #expect((m.blasCoreWarning != nil) == (preAVX && m.simdFeatures.contains("avx2") && m.simdFeatures.contains("fma")))
    }
}
