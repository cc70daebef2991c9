/// A renderer-neutral report: both the HTML and the Markdown renderer walk the same document,
/// so every number is formatted once and appears identically in both formats.
public struct ReportDocument: Sendable, Hashable {
    public var title: String
    public var subtitle: String
    public var meta: [MetaItem]
    public var cards: [Card]
    public var sections: [ReportSection]
    public init(title: String, subtitle: String, meta: [MetaItem], cards: [Card], sections: [ReportSection]) {
        self.title = title
        self.subtitle = subtitle
        self.meta = meta
        self.cards = cards
        self.sections = sections
    }
}

public struct MetaItem: Sendable, Hashable {
    public var label: String
    public var value: String
    public init(label: String, value: String) {
        self.label = label
        self.value = value
    }
}

public struct Card: Sendable, Hashable {
    public var label: String
    public var value: String
    public var note: String
    public init(label: String, value: String, note: String) {
        self.label = label
        self.value = value
        self.note = note
    }
}

public struct ReportSection: Sendable, Hashable {
    public var id: String
    public var title: String
    public var blocks: [ReportBlock]
    public init(id: String, title: String, blocks: [ReportBlock]) {
        self.id = id
        self.title = title
        self.blocks = blocks
    }
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
    public init(headers: [String], numeric: [Bool], rows: [[ReportCell]], sortable: Bool) {
        self.headers = headers
        self.numeric = numeric
        self.rows = rows
        self.sortable = sortable
    }
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
    case scatter(ScatterChart)
    case lines(LineChart)

    public var title: String {
        switch self {
        case .bars(let c): c.title
        case .stacked(let c): c.title
        case .roofline(let c): c.title
        case .scatter(let c): c.title
        case .lines(let c): c.title
        }
    }
}

public struct BarChart: Sendable, Hashable {
    public struct Bar: Sendable, Hashable {
        public var label: String
        public var value: Double
        public var valueText: String
        public var group: String
        public init(label: String, value: Double, valueText: String, group: String) {
            self.label = label
            self.value = value
            self.valueText = valueText
            self.group = group
        }
    }
    public var title: String
    public var unit: String
    public var bars: [Bar]
    /// Vertical thin bars (many layers) or horizontal labelled bars (few items).
    public var horizontal: Bool
    public init(title: String, unit: String, bars: [Bar], horizontal: Bool) {
        self.title = title
        self.unit = unit
        self.bars = bars
        self.horizontal = horizontal
    }
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
        public init(label: String, parts: [(name: String, value: Double)], totalText: String) {
            self.label = label
            self.parts = parts
            self.totalText = totalText
        }
    }
    public var title: String
    public var rows: [Row]
    /// Unit of the parts (tooltips).
    public var unit: String = "J"
    public init(title: String, rows: [Row], unit: String = "J") {
        self.title = title
        self.rows = rows
        self.unit = unit
    }
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
