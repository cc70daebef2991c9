import NNGraph
import DeviceSpec
import ModelImport

/// A published row the tool can predict: a zoo model at the row's input size, on a committed device's unit.
public struct ResolvedRow: Sendable, Hashable {
    public var row: PublishedRow
    public var zooModel: String
    public var device: DeviceProfile
    public var unit: String
    /// True when the row is in the fitting subset (see `PublishedSplit`).
    public var isFitting: Bool
    /// How the row's runtime executes the model (`ExecutionStyle.forRuntime`): the kernels it is priced as.
    public var style: ExecutionStyle { ExecutionStyle.forRuntime(row.runtime) }

    public init(row: PublishedRow, zooModel: String, device: DeviceProfile, unit: String, isFitting: Bool) {
        self.row = row
        self.zooModel = zooModel
        self.device = device
        self.unit = unit
        self.isFitting = isFitting
    }
}

/// Why a row cannot be predicted. Counted per reason in every report, never dropped silently.
public enum SkipReason: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    case modelNotInZoo(String)
    case ambiguousModel(String, String)
    case inputSize(row: Int?, zoo: Int)
    case noDeviceFile(String)
    case noUnit(runtime: String, device: String)
    case noPeak(precision: String, device: String, unit: String)

    /// Short category for counting.
    public var category: String {
        switch self {
        case .modelNotInZoo: "model not in the zoo"
        case .ambiguousModel: "ambiguous model name"
        case .inputSize: "input size differs from the zoo model"
        case .noDeviceFile: "no committed device file"
        case .noUnit: "device has no unit for the runtime"
        case .noPeak: "unit has no peak for the row's precision"
        }
    }

    public var description: String {
        switch self {
        case .modelNotInZoo(let m): "model '\(m)' is not in the zoo"
        case .ambiguousModel(let m, let why): "model '\(m)' is ambiguous: \(why)"
        case .inputSize(let r, let z): "input \(r.map { "\($0)²" } ?? "not stated") ≠ zoo input \(z)²"
        case .noDeviceFile(let d): "no committed device file has id '\(d)'"
        case .noUnit(let r, let d): "device '\(d)' has no compute unit for runtime '\(r)'"
        case .noPeak(let p, let d, let u): "\(d) unit '\(u)' has no \(p) peak"
        }
    }
}

public struct SkippedRow: Sendable, Hashable {
    public var row: PublishedRow
    public var reason: SkipReason
}

public struct PublishedResolution: Sendable {
    public var resolved: [ResolvedRow]
    public var skipped: [SkippedRow]
    /// Skipped rows per reason category, sorted by category.
    public var skippedCounts: [(category: String, count: Int)] {
        Dictionary(grouping: skipped, by: \.reason.category).map { ($0.key, $0.value.count) }.sorted { $0.category < $1.category }
    }
}

/// Which rows device files may be fitted on: rows whose id ends in an even number (`N02`, `T10`,
/// `AR2`); rows ending in an odd number are held out and are the only ones errors are reported on.
/// Flagged rows are fitted on like the others (many boards have only flagged rows, e.g. "power mode
/// not stated"), but the pass/fail target counts only unflagged held-out rows (data/README.md).
public enum PublishedSplit {
    public static let description = "fit on rows whose id ends in an even number; report error only on rows whose id ends in an odd number "
        + "(the target check uses the unflagged ones)"

    public static func idNumber(_ id: String) -> Int? {
        let digits = id.reversed().prefix { $0.isNumber }
        return digits.isEmpty ? nil : Int(String(digits.reversed()))
    }

    /// Even trailing number = fitting side (before the flag check).
    public static func isEvenID(_ id: String) -> Bool { (idNumber(id) ?? 1) % 2 == 0 }

    public static func isFitting(_ row: PublishedRow) -> Bool { isEvenID(row.id) }
    public static func isHeldOut(_ row: PublishedRow) -> Bool { !isEvenID(row.id) }
}

/// Maps the CSV's model/device/runtime names onto zoo models and committed device files.
public enum PublishedMapping {
    /// CSV model name → zoo model name where they differ (data/README.md: names are normalised
    /// lowercase; no suffix = ×1.0).
    public static let modelAliases: [String: String] = [
        "shufflenet_v2": "shufflenet_v2_x1_0",
        "squeezenet_v1_1": "squeezenet1_1",
    ]

    /// Per source (`source_key`): CSV model name → the zoo model the source actually ran, where it differs
    /// from the torchvision architecture of the same name. `S-NCNN` rows are ncnn's `benchncnn` runs of the
    /// Caffe models in Tencent/ncnn `benchmark/*.param`: its resnet50 is ResNet-50 v1 (stride on the first
    /// 1×1 of a down-sampling bottleneck, 3.86 G MACs, not torchvision's v1.5 4.09 G), its resnet18 has a
    /// projection shortcut in the first block, its mobilenet_v2 (shicai/MobileNet-Caffe) keeps a 1×1
    /// expansion in the first block (314 M MACs). Its mobilenet, shufflenet_v2 and efficientnet_b0 are the
    /// zoo's architectures.
    public static let sourceModelAliases: [String: [String: String]] = [
        "S-NCNN": ["resnet18": "resnet18_caffe", "resnet50": "resnet50_caffe", "mobilenet_v2": "mobilenet_v2_caffe"],
    ]

    /// The zoo model name for a row: its source's model (`sourceModelAliases`), else `modelAliases`, else the CSV name.
    public static func zooName(for row: PublishedRow) -> String {
        sourceModelAliases[row.sourceKey]?[row.model] ?? modelAliases[row.model] ?? row.model
    }

    /// CSV names that could mean more than one zoo model; skipped rather than guessed.
    public static let ambiguousModels: [String: String] = [
        "mobilenet_v3": "ncnn's benchmark names no width (large or small)",
        "squeezenet": "ncnn's 227² SqueezeNet is kept apart from torchvision's squeezenet_v1_1 (data/README.md)",
    ]

    /// The kind of compute unit a runtime runs on: the part after the last `_` (`ncnn_cpu` → cpu,
    /// `tflite_npu` → npu); TensorRT, CUDA and Vulkan run on the GPU. nil = unknown (`coreml`, `qai_hub_default`).
    public static func unitKind(forRuntime runtime: String) -> ComputeKind? {
        if runtime == "tensorrt" || runtime.hasSuffix("_cuda") || runtime.hasSuffix("_vulkan") { return .gpu }
        if runtime.hasSuffix("_cpu") { return .cpu }
        if runtime.hasSuffix("_npu") { return .npu }
        return nil
    }

    public static func zooModel(for row: PublishedRow) -> Result<ZooModel, SkipReason> {
        if let why = ambiguousModels[row.model] { return .failure(.ambiguousModel(row.model, why)) }
        guard let zoo = ModelZoo.model(named: zooName(for: row)) else { return .failure(.modelNotInZoo(row.model)) }
        let zooHW = zoo.inputShape.dims.last ?? 0
        guard row.inputHW == zooHW else { return .failure(.inputSize(row: row.inputHW, zoo: zooHW)) }
        return .success(zoo)
    }

    /// The unit a runtime runs on in a device: the unit named by the device's `runtimes` entry,
    /// else the first unit of the runtime's kind.
    public static func unit(forRuntime runtime: String, in device: DeviceProfile) -> ComputeUnit? {
        if let named = device.runtimes[runtime]?.unit { return device.unit(named: named) }
        guard let kind = unitKind(forRuntime: runtime) else { return nil }
        return device.computeUnits.first { $0.kind == kind }
    }

    public static func resolve(_ table: PublishedLatencyTable, devices: [DeviceProfile]) -> PublishedResolution {
        var resolved: [ResolvedRow] = []
        var skipped: [SkippedRow] = []
        let byID = Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for row in table.rows {
            let zoo: ZooModel
            switch zooModel(for: row) {
            case .success(let z): zoo = z
            case .failure(let r): skipped.append(SkippedRow(row: row, reason: r)); continue
            }
            guard let device = byID[row.device] else { skipped.append(SkippedRow(row: row, reason: .noDeviceFile(row.device))); continue }
            guard let unit = unit(forRuntime: row.runtime, in: device) else {
                skipped.append(SkippedRow(row: row, reason: .noUnit(runtime: row.runtime, device: device.id)))
                continue
            }
            if let p = Precision(rawValue: row.precision.rawValue), unit.peak[p] == nil {
                skipped.append(SkippedRow(row: row, reason: .noPeak(precision: p.rawValue, device: device.id, unit: unit.name)))
                continue
            }
            resolved.append(ResolvedRow(row: row, zooModel: zoo.name, device: device, unit: unit.name, isFitting: PublishedSplit.isFitting(row)))
        }
        return PublishedResolution(resolved: resolved, skipped: skipped)
    }
}
