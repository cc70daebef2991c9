import EdgeProfKit
import KernelRunner
import Foundation
import Testing

/// `--kernels` picks the runner's kernel set on measure; the choice is recorded in the JSON and
/// bad values fail before anything runs.
@Suite("Kernel set option")
struct KernelSetCommandTests {
    static func settings(_ stdout: String) throws -> [String: Any] {
        let j = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        return try #require(j["settings"] as? [String: Any])
    }

    @Test func measureRecordsTheKernelSetItRan() throws {
        let generic = try CLI.run(["measure", "squeezenet1_1", "--kernels", "generic", "--iterations", "1", "--warmup", "0", "--format", "json", "--no-store"])
        #expect(generic.status == 0, "\(generic.stderr)")
        #expect(try Self.settings(generic.stdout)["kernels"] as? String == "generic")
        // The default is what the CPU supports; EDGEPROF_KERNELS overrides it.
        let byDefault = try CLI.run(["measure", "squeezenet1_1", "--iterations", "1", "--warmup", "0", "--format", "json", "--no-store"])
        #expect(try Self.settings(byDefault.stdout)["kernels"] as? String == KernelISA.supported.rawValue)
        let byEnv = try CLI.run(["measure", "squeezenet1_1", "--iterations", "1", "--warmup", "0", "--format", "json", "--no-store"],
                                environment: ["EDGEPROF_KERNELS": "generic"])
        #expect(try Self.settings(byEnv.stdout)["kernels"] as? String == "generic")
    }

    /// The OpenBLAS-core warning is given only when some layer calls OpenBLAS: always with the generic
    /// kernel set (where OpenBLAS runs a kernel set without AVX on an AVX2 CPU), never with the C set on an
    /// AVX-512F CPU (every GEMM of squeezenet runs in C there).
    @Test func openBLASWarningOnlyWhenALayerCallsIt() throws {
        let machine = MachineInfo.current()
        func warnings(_ extra: [String]) throws -> [String] {
            let r = try CLI.run(["measure", "squeezenet1_1", "--iterations", "1", "--warmup", "0", "--format", "json", "--no-store"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let j = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return (j["warnings"] as? [String] ?? []).filter { $0.contains("OpenBLAS runs its") }
        }
        let generic = try warnings(["--kernels", "generic"])
        #expect(generic.count == (machine.blasCoreWarning == nil ? 0 : 1), "\(generic)")
        if let w = generic.first { #expect(w.contains("layer(s) of this model call it"), "\(w)") }
        if KernelISA.supported == .avx2 && machine.simdFeatures.contains("avx512f") {
            #expect(try warnings([]).isEmpty)
        }
    }

    @Test func unknownKernelSetIsAUsageError() throws {
        let r = try CLI.run(["measure", "squeezenet1_1", "--kernels", "avx3", "--no-store"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--kernels must be avx2 or generic"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
