import NNGraph

/// Why a model cannot be compiled or run. Never a crash: every unsupported case is a value.
public struct RunnerError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The graph has an operator (or attribute combination) the runner has no kernel for.
        case unsupportedOp
        /// A parameter has no data, or data of the wrong size.
        case missingWeight
        /// Inputs given to `run` do not match the graph.
        case badInput
        /// The graph itself is inconsistent.
        case invalidGraph
    }

    public var kind: Kind
    public var node: String?
    public var message: String

    public init(_ kind: Kind, node: String? = nil, _ message: String) {
        self.kind = kind
        self.node = node
        self.message = message
    }

    public var description: String {
        if let node { return "node '\(node)': \(message)" }
        return message
    }
}
