// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "edgeprof",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "edgeprof", targets: ["edgeprof"]),
        .library(name: "EdgeProfKit", targets: ["EdgeProfKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Pure: graph IR, shapes, counting, fusion. Foundation only, no I/O.
        .target(name: "NNGraph"),
        // Device / link / scenario schema, YAML loading with located errors, units.
        .target(name: "DeviceSpec", dependencies: ["NNGraph", .product(name: "Yams", package: "Yams")]),
        // Model sources: built-in zoo, ONNX importer.
        .target(name: "ModelImport", dependencies: [
            "NNGraph",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Analytical cost model (pure).
        .target(name: "CostModel", dependencies: ["NNGraph", "DeviceSpec"]),
        // System OpenBLAS (libopenblas-dev): cblas.h.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Hot kernels in C (AVX2+FMA via per-function target attributes, chosen at run time by CPUID).
        .target(name: "CKernels"),
        // Real kernels, executor, timing harness. The only target that links C (OpenBLAS, CKernels).
        .target(name: "KernelRunner", dependencies: ["NNGraph", "COpenBLAS", "CKernels"]),
        // Predicted-vs-measured statistics, the published-latency CSV and its mapping onto zoo models and device files.
        .target(name: "Validation", dependencies: ["NNGraph", "DeviceSpec", "ModelImport", "CostModel"]),
        // Micro-benchmarks with the real kernels and the (pure) fit of a unit's cost-model parameters.
        .target(name: "Calibration", dependencies: ["NNGraph", "DeviceSpec", "CostModel", "KernelRunner", "Validation", "CKernels"]),
        // Accelerator dataflow model, MLC STT-RAM buffer encodings, energy and bit errors (pure).
        .target(name: "Accelerator", dependencies: ["NNGraph", "DeviceSpec"]),
        // Split-computing planners (pure).
        .target(name: "OffloadPlanner", dependencies: ["NNGraph", "DeviceSpec", "CostModel"]),
        // Discrete-event runtime simulator (pure, seeded).
        .target(name: "RuntimeSimulator", dependencies: ["OffloadPlanner", "DeviceSpec", "NNGraph"]),
        // Stored/rendered records: plain Codable values (no dependencies), so RunStore and Reports need nothing else.
        .target(name: "RunRecords"),
        // SQLite run history (GRDB on the system SQLite): migrations, WAL, one transaction per run.
        .target(name: "RunStore", dependencies: ["RunRecords", .product(name: "GRDB", package: "GRDB.swift")]),
        // HTML (inline SVG) and Markdown renderers of a stored run.
        .target(name: "Reports", dependencies: ["RunRecords", "NNGraph"]),
        // Library facade: workflows wiring the modules together.
        .target(name: "EdgeProfKit", dependencies: ["NNGraph", "DeviceSpec", "ModelImport", "CostModel", "KernelRunner",
                                                    "OffloadPlanner", "RuntimeSimulator", "RunRecords", "RunStore", "Reports", "Validation", "Calibration", "Accelerator"]),
        .executableTarget(name: "edgeprof", dependencies: [
            "EdgeProfKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "EdgeProfBench", dependencies: ["EdgeProfKit", "ModelImport", "KernelRunner"]),

        .testTarget(name: "NNGraphTests", dependencies: ["NNGraph"]),
        .testTarget(name: "DeviceSpecTests", dependencies: ["DeviceSpec"]),
        .testTarget(name: "ModelImportTests", dependencies: ["ModelImport"]),
        .testTarget(name: "CostModelTests", dependencies: [
            "CostModel", "ModelImport",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "KernelRunnerTests", dependencies: ["KernelRunner", "ModelImport"]),
        .testTarget(name: "OffloadPlannerTests", dependencies: [
            "OffloadPlanner", "ModelImport",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "RuntimeSimulatorTests", dependencies: ["RuntimeSimulator", "ModelImport"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "NNGraph", "CostModel", "DeviceSpec", "KernelRunner"]),
        .testTarget(name: "ValidationTests", dependencies: ["Validation", "DeviceSpec", "ModelImport"]),
        .testTarget(name: "AcceleratorTests", dependencies: ["Accelerator", "DeviceSpec", "ModelImport", "KernelRunner"]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore", "RunRecords"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "RunRecords"], exclude: ["Snapshots"]),
        .testTarget(name: "EdgeProfKitTests", dependencies: ["EdgeProfKit", "edgeprof"]),
    ],
    swiftLanguageModes: [.v6]
)
