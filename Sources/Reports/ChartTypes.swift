// Chart types added for plan/simulate/measure/validate runs (built by EdgeProfKit).

/// Points of predicted (y) against measured (x) on log axes, with the y = x line and a ±band.
public struct ScatterChart: Sendable, Hashable {
    public struct Point: Sendable, Hashable {
        public var label: String
        public var x: Double
        public var y: Double
        public var group: String
        public init(label: String, x: Double, y: Double, group: String) {
            self.label = label
            self.x = x
            self.y = y
            self.group = group
        }
    }
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Unit of both axes (values formatted with SI prefixes).
    public var unit: String
    /// Relative half-width of the shaded band around y = x (0.1 = ±10%).
    public var band: Double
    public var points: [Point]
    public init(title: String, xLabel: String, yLabel: String, unit: String, band: Double, points: [Point]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.unit = unit
        self.band = band
        self.points = points
    }
}

/// Line series over a (optionally logarithmic) x axis, with labelled vertical markers.
public struct LineChart: Sendable, Hashable {
    public struct Series: Sendable, Hashable {
        public var name: String
        public var points: [Point]
        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points
        }
    }
    public struct Point: Sendable, Hashable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }
    public struct Marker: Sendable, Hashable {
        public var x: Double
        public var label: String
        public init(x: Double, label: String) {
            self.x = x
            self.label = label
        }
    }
    public var title: String
    public var xLabel: String
    public var xUnit: String
    public var yLabel: String
    /// SI unit of y ("%" = fractions shown as percentages).
    public var yUnit: String
    public var logX: Bool
    public var series: [Series]
    public var markers: [Marker]
    public init(title: String, xLabel: String, xUnit: String, yLabel: String, yUnit: String, logX: Bool, series: [Series], markers: [Marker] = []) {
        self.title = title
        self.xLabel = xLabel
        self.xUnit = xUnit
        self.yLabel = yLabel
        self.yUnit = yUnit
        self.logX = logX
        self.series = series
        self.markers = markers
    }
}
