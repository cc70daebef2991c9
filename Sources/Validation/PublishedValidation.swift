import CostModel
import DeviceSpec
import Foundation
import ModelImport
import NNGraph

/// One scored published row.
public struct PublishedRowResult: Sendable, Hashable, Codable {
    public var id: String
    public var model: String
    public var device: String
    public var runtime: String
    public var unit: String
    public var precision: String
    public var threads: Int?
    public var flagged: Bool
    /// In the fitting subset (used to fit its group's factor, never scored).
    public var fitting: Bool
    /// Scored: id ends in an odd number.
    public var heldOut: Bool
    public var measuredMs: Double
    /// Device file without any runtime factor.
    public var uncalibratedMs: Double
    /// With the factor fitted on the group's fitting rows; nil when the group has none.
    public var calibratedMs: Double?
    public var line: Int
}

/// One device × runtime group.
public struct PublishedGroupResult: Sendable, Hashable, Codable {
    public var device: String
    public var deviceFile: String
    public var runtime: String
    public var unit: String
    public var fittingRows: [String]
    /// Fitted efficiency factor (all op classes of the runtime's unit); nil = no fitting rows.
    public var factor: Double?
    /// Fitted thread-scaling exponent; nil = not fitted (no fitting row ran on fewer threads than cores).
    public var threadScaling: Double?
    public var heldOutRows: Int
    /// Held-out rows with the fitted factor (the uncalibrated device where there is no factor).
    public var heldOut: ErrorSummary
    /// Held-out rows, device file without runtime factors.
    public var heldOutUncalibrated: ErrorSummary
}

public struct PublishedValidationResult: Sendable, Hashable, Codable {
    public static let tolerance = 0.25
    /// Target (issue 6): median absolute error ≤ 20% on rows not used for fitting.
    public static let targetMedianError = 0.20

    public var file: String
    public var split: String
    public var factorScheme: String
    public var totalRows: Int
    public var rows: [PublishedRowResult]
    public var groups: [PublishedGroupResult]
    public var skipped: [SkippedRowResult]
    public var skippedCounts: [SkipCount]
    /// All held-out rows with fitted factors / without.
    public var heldOut: ErrorSummary
    public var heldOutUncalibrated: ErrorSummary
    /// Unflagged held-out rows only (data/README.md: flagged rows stay out of pass/fail checks).
    public var heldOutUnflagged: ErrorSummary
    public var meetsTarget: Bool
}

public struct SkippedRowResult: Sendable, Hashable, Codable {
    public var id: String
    public var model: String
    public var device: String
    public var runtime: String
    public var reason: String
}

public struct SkipCount: Sendable, Hashable, Codable {
    public var reason: String
    public var count: Int
    public init(reason: String, count: Int) {
        self.reason = reason
        self.count = count
    }
}

/// `edgeprof validate --published`: predicts every resolvable row, fits two numbers per device ×
/// runtime on the fitting subset (`PublishedSplit`), and scores only held-out rows.
public enum PublishedValidation {
    public static let factorScheme = """
    per device × runtime, one efficiency factor applied to every op class of the runtime's compute unit \
    (runtimes.<runtime>.efficiency_factor.all) and, when its fitting rows include runs on fewer threads than cores, \
    a thread-scaling exponent a (compute peak × (threads/cores)^a; a = 1, linear, otherwise); both fitted by least squares \
    on log(predicted/measured) over the group's fitting rows (factor 0.05-20, a 0-1); groups without fitting rows \
    keep the device file's plain efficiencies
    """

    /// The effective factor of a row: factor × (threads/cores)^a on a CPU unit run on fewer threads than cores.
    static func threadRatio(_ r: ResolvedRow) -> Double {
        guard let unit = r.device.unit(named: r.unit), unit.kind == .cpu, let t = r.row.threads, t < unit.cores.value else { return 1 }
        return Double(t) / Double(unit.cores.value)
    }

    /// Prediction in milliseconds for a row with an effective efficiency factor `x` on all op classes
    /// (x = 1 and no runtime section: the plain device file). The row's precision (when stated and the
    /// unit has a peak for it) replaces the unit's; threads enter only through `x` (see `threadRatio`).
    public static func predictMs(_ prepared: PreparedGraph, _ r: ResolvedRow, effectiveFactor x: Double) throws(CostModelError) -> Double {
        var device = r.device
        guard let ui = device.computeUnits.firstIndex(where: { $0.name == r.unit }) else {
            throw CostModelError(message: "\(device.file): no unit '\(r.unit)'")
        }
        if let p = Precision(rawValue: r.row.precision.rawValue), device.computeUnits[ui].peak[p] != nil { device.computeUnits[ui].precision = p }
        device.defaultRuntime = nil
        device.runtimes = [r.row.runtime: RuntimeProfile(name: r.row.runtime, unit: r.unit, allClasses: Sourced(x, source: "candidate"))]
        let e = try AnalyticalModel.estimate(prepared, on: device, unit: r.unit, runtime: r.row.runtime)
        return e.totals.latency.value * 1000
    }

    /// A row's predicted latency as a function of the effective factor, tabulated on a log grid
    /// (the cost model is evaluated once per grid point, then interpolated in log-log).
    public struct LatencyCurve: Sendable {
        public static let logLow = log(0.002), logHigh = log(50.0), points = 161
        var logLatency: [Double]

        public init(_ predict: (Double) throws(CostModelError) -> Double) throws(CostModelError) {
            var v: [Double] = []
            for i in 0..<Self.points { v.append(log(try predict(exp(Self.x(i))))) }
            logLatency = v
        }

        static func x(_ i: Int) -> Double { logLow + (logHigh - logLow) * Double(i) / Double(points - 1) }

        public func latency(effectiveFactor f: Double) -> Double {
            let u = (log(f) - Self.logLow) / (Self.logHigh - Self.logLow) * Double(Self.points - 1)
            let i = Swift.min(Swift.max(Int(u.rounded(.down)), 0), Self.points - 2)
            let w = Swift.min(Swift.max(u - Double(i), 0), 1)
            return exp(logLatency[i] * (1 - w) + logLatency[i + 1] * w)
        }
    }

    public struct GroupFit: Sendable, Hashable {
        public var factor: Double
        public var threadScaling: Double
        public var fitsThreadScaling: Bool
    }

    /// Least squares on log(predicted/measured) (pure): factor on a 241-point log grid over [0.05, 20]
    /// refined by golden section, for each thread exponent a ∈ {0, 0.02, …, 1} when some row has a
    /// thread ratio < 1 (else a = 1).
    public static func fit(curves: [LatencyCurve], threadRatios: [Double], measured: [Double]) -> GroupFit {
        let fitsA = threadRatios.contains { $0 < 1 }
        func loss(_ logF: Double, _ a: Double) -> Double {
            var l = 0.0
            for i in curves.indices {
                let r = log(curves[i].latency(effectiveFactor: exp(logF) * pow(threadRatios[i], a)) / measured[i])
                l += r * r
            }
            return l
        }
        let lo = log(0.05), hi = log(20.0), steps = 240
        var best = (f: 0.0, a: 1.0, loss: Double.infinity)
        for a in fitsA ? stride(from: 0.0, through: 1.0001, by: 0.02).map({ $0 }) : [1.0] {
            var bx = lo, bl = Double.infinity
            for i in 0...steps {
                let x = lo + (hi - lo) * Double(i) / Double(steps)
                let l = loss(x, a)
                if l < bl { bx = x; bl = l }
            }
            let step = (hi - lo) / Double(steps)
            var p = Swift.max(lo, bx - step), q = Swift.min(hi, bx + step)
            let g = (5.0.squareRoot() - 1) / 2
            for _ in 0..<30 {
                let c = q - g * (q - p), d = p + g * (q - p)
                if loss(c, a) < loss(d, a) { q = d } else { p = c }
            }
            let x = (p + q) / 2
            let l = Swift.min(loss(x, a), bl)
            if l < best.loss { best = (loss(x, a) <= bl ? x : bx, a, l) }
        }
        return GroupFit(factor: exp(best.f), threadScaling: best.a, fitsThreadScaling: fitsA)
    }

    public static func run(_ table: PublishedLatencyTable, devices: [DeviceProfile]) throws(CostModelError) -> PublishedValidationResult {
        let resolution = PublishedMapping.resolve(table, devices: devices)
        var prepared: [String: PreparedGraph] = [:]
        for r in resolution.resolved where prepared[r.zooModel] == nil {
            guard let zoo = ModelZoo.model(named: r.zooModel) else { continue }
            do { prepared[r.zooModel] = PreparedGraph(try zoo.build()) } catch {
                throw CostModelError(message: "zoo model \(r.zooModel) failed to build: \(error)")
            }
        }
        struct Key: Hashable { var device: String; var runtime: String }
        let groups = Dictionary(grouping: resolution.resolved) { Key(device: $0.device.id, runtime: $0.row.runtime) }
        var rowResults: [PublishedRowResult] = []
        var groupResults: [PublishedGroupResult] = []
        for key in groups.keys.sorted(by: { ($0.device, $0.runtime) < ($1.device, $1.runtime) }) {
            let rows = (groups[key] ?? []).sorted { $0.row.id < $1.row.id }
            var curves: [LatencyCurve] = []
            for r in rows {
                guard let p = prepared[r.zooModel] else { throw CostModelError(message: "no graph for \(r.zooModel)") }
                curves.append(try LatencyCurve { (x: Double) throws(CostModelError) -> Double in try predictMs(p, r, effectiveFactor: x) })
            }
            let ratios = rows.map(threadRatio)
            let fitIdx = rows.indices.filter { rows[$0].isFitting }
            let groupFit = fitIdx.isEmpty ? nil
                : fit(curves: fitIdx.map { curves[$0] }, threadRatios: fitIdx.map { ratios[$0] }, measured: fitIdx.map { rows[$0].row.latencyMs })
            var held: [PredictionPair] = [], heldUncal: [PredictionPair] = []
            for (i, r) in rows.enumerated() {
                // Uncalibrated: factor 1, linear thread scaling.
                let uncal = curves[i].latency(effectiveFactor: ratios[i])
                let cal = groupFit.map { curves[i].latency(effectiveFactor: $0.factor * pow(ratios[i], $0.threadScaling)) }
                let heldOut = PublishedSplit.isHeldOut(r.row)
                rowResults.append(PublishedRowResult(
                    id: r.row.id, model: r.row.model, device: r.device.id, runtime: r.row.runtime, unit: r.unit, precision: r.row.precision.rawValue,
                    threads: r.row.threads, flagged: r.row.isFlagged, fitting: r.isFitting, heldOut: heldOut, measuredMs: r.row.latencyMs,
                    uncalibratedMs: uncal, calibratedMs: cal, line: r.row.line))
                if heldOut, let p = try? PredictionPair(label: r.row.id, predicted: cal ?? uncal, measured: r.row.latencyMs),
                   let u = try? PredictionPair(label: r.row.id, predicted: uncal, measured: r.row.latencyMs) {
                    held.append(p)
                    heldUncal.append(u)
                }
            }
            let first = rows[0]
            groupResults.append(PublishedGroupResult(
                device: key.device, deviceFile: first.device.file, runtime: key.runtime, unit: first.unit,
                fittingRows: fitIdx.map { rows[$0].row.id }, factor: groupFit?.factor,
                threadScaling: groupFit.flatMap { $0.fitsThreadScaling ? $0.threadScaling : nil }, heldOutRows: held.count,
                heldOut: ValidationStatistics.summarize(held, tolerance: PublishedValidationResult.tolerance, worstCount: 3),
                heldOutUncalibrated: ValidationStatistics.summarize(heldUncal, tolerance: PublishedValidationResult.tolerance, worstCount: 3)))
        }
        func pairs(_ rows: [PublishedRowResult], calibrated: Bool) -> [PredictionPair] {
            rows.compactMap { r in
                try? PredictionPair(label: "\(r.id) \(r.model) \(r.device) \(r.runtime)", predicted: calibrated ? (r.calibratedMs ?? r.uncalibratedMs) : r.uncalibratedMs,
                                    measured: r.measuredMs)
            }
        }
        let heldRows = rowResults.filter(\.heldOut)
        let tol = PublishedValidationResult.tolerance
        let heldOut = ValidationStatistics.summarize(pairs(heldRows, calibrated: true), tolerance: tol, worstCount: 10)
        let unflagged = ValidationStatistics.summarize(pairs(heldRows.filter { !$0.flagged }, calibrated: true), tolerance: tol, worstCount: 10)
        return PublishedValidationResult(
            file: table.file, split: PublishedSplit.description, factorScheme: factorScheme, totalRows: table.rows.count,
            rows: rowResults, groups: groupResults,
            skipped: resolution.skipped.map { SkippedRowResult(id: $0.row.id, model: $0.row.model, device: $0.row.device, runtime: $0.row.runtime,
                                                               reason: $0.reason.description) },
            skippedCounts: resolution.skippedCounts.map { SkipCount(reason: $0.category, count: $0.count) },
            heldOut: heldOut, heldOutUncalibrated: ValidationStatistics.summarize(pairs(heldRows, calibrated: false), tolerance: tol, worstCount: 10),
            heldOutUnflagged: unflagged, meetsTarget: unflagged.count > 0 && unflagged.medianAbsoluteError <= PublishedValidationResult.targetMedianError)
    }
}
