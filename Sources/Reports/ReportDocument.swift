/// A renderer-neutral report: both the HTML and the Markdown renderer walk the same document,
/// so every number is formatted once and appears identically in both formats.
public struct ReportDocument: Sendable, Hashable {
    public var title: String
    public var subtitle: String
    public var meta: [MetaItem]
    public var cards: [Card]
    public var sections: [ReportSection]
}

public struct MetaItem: Sendable, Hashable {
    public var label: String
    public var value: String
}

public struct Card: Sendable, Hashable {
    public var label: String
    public var value: String
    public var note: String
}

public struct ReportSection: Sendable, Hashable {
    public var id: String
    public var title: String
    public var blocks: [ReportBlock]
}

public enum ReportBlock: Sendable, Hashable {
    case paragraph(String)
    case table(ReportTable)
    /// Drawn in HTML only; the numbers it shows are also in a table or paragraph of the same section.
    case chart(Chart)
}

public struct ReportTable: Sendable, Hashable {
    public var headers: [String]
    public var numeric: [Bool]
    public var rows: [[ReportCell]]
    public var sortable: Bool
}

public struct ReportCell: Sendable, Hashable {
    public var text: String
    /// Raw value for sorting (HTML tables sort numerically on it).
    public var sortKey: Double?
    public init(_ text: String, sortKey: Double? = nil) {
        self.text = text
        self.sortKey = sortKey
    }
}

public enum Chart: Sendable, Hashable {
    case bars(BarChart)
    case stacked(StackedBarChart)
    case roofline(RooflineChart)
}

public struct BarChart: Sendable, Hashable {
    public struct Bar: Sendable, Hashable {
        public var label: String
        public var value: Double
        public var valueText: String
        public var group: String
    }
    public var title: String
    public var unit: String
    public var bars: [Bar]
    /// Vertical thin bars (many layers) or horizontal labelled bars (few items).
    public var horizontal: Bool
}

public struct StackedBarChart: Sendable, Hashable {
    public struct Row: Sendable, Hashable {
        public var label: String
        public var parts: [(name: String, value: Double)]
        public var totalText: String
        public static func == (a: Row, b: Row) -> Bool {
            a.label == b.label && a.totalText == b.totalText && a.parts.map(\.name) == b.parts.map(\.name) && a.parts.map(\.value) == b.parts.map(\.value)
        }
        public func hash(into h: inout Hasher) {
            h.combine(label)
            h.combine(totalText)
            for p in parts { h.combine(p.name); h.combine(p.value) }
        }
    }
    public var title: String
    public var rows: [Row]
}

public struct RooflineChart: Sendable, Hashable {
    public struct Point: Sendable, Hashable {
        public var label: String
        public var intensity: Double
        public var flopsPerS: Double
        public var group: String
    }
    public var title: String
    public var peakFlopsPerS: Double
    public var roofs: [(level: String, bytesPerS: Double)]
    public var points: [Point]
    public static func == (a: RooflineChart, b: RooflineChart) -> Bool {
        a.title == b.title && a.peakFlopsPerS == b.peakFlopsPerS && a.points == b.points && a.roofs.map(\.level) == b.roofs.map(\.level)
            && a.roofs.map(\.bytesPerS) == b.roofs.map(\.bytesPerS)
    }
    public func hash(into h: inout Hasher) {
        h.combine(title)
        h.combine(peakFlopsPerS)
        h.combine(points)
    }
}
