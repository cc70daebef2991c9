import CostModel
import DeviceSpec
import NNGraph

/// Errors a workflow reports to the user. The CLI prints `description` and exits non-zero.
public enum EdgeProfError: Error, CustomStringConvertible, Sendable {
    case spec(SpecError)
    case specs([SpecError])
    case unknownModel(String, suggestion: String?)
    case graph(model: String, GraphError)
    case costModel(CostModelError)
    case importFailed(String)
    case io(String)
    case usage(String)

    public var description: String {
        switch self {
        case .spec(let e): e.description
        case .specs(let es): es.map(\.description).joined(separator: "\n")
        case .unknownModel(let name, let suggestion):
            "unknown model '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; run `edgeprof models` for the built-in zoo, or pass a path to an .onnx file"
        case .graph(let model, let e): "\(model): \(e)"
        case .costModel(let e): e.description
        case .importFailed(let m): m
        case .io(let m): m
        case .usage(let m): m
        }
    }
}
