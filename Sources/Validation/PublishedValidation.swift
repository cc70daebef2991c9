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
    /// Fitted efficiency factor (all op classes of the runtime's unit not covered by `denseFactor`); nil = no fitting rows.
    public var factor: Double?
    /// Fitted factor of the dense classes (conv, attention); nil = not fitted separately (fewer than 3 fitting rows).
    public var denseFactor: Double?
    /// Fitted thread-scaling exponent; nil = not fitted (no fitting row ran on fewer threads than cores).
    public var threadScaling: Double?
    /// Fitting rows of every group in this group's CPU pool (`PublishedValidation.fitPooled`): the
    /// dense/other ratio and the shared thread exponent were fitted on all of them; nil = fitted alone.
    public var pooledRows: [String]? = nil
    public var heldOutRows: Int
    /// Held-out rows with the fitted factor (the uncalibrated device where there is no factor).
    public var heldOut: ErrorSummary
    /// Held-out rows, device file without runtime factors.
    public var heldOutUncalibrated: ErrorSummary
    /// The pool's shared thread exponent (pooled groups only; `threadScaling` is this group's own when
    /// `ownThreadScaling`).
    public var pooledThreadScaling: Double? = nil
    /// `threadScaling` was fitted on this group's own rows (they ran at two or more thread counts)
    /// rather than shared with the pool.
    public var ownThreadScaling: Bool = false
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
    /// √(mean log(fitted/measured)²) over the fitting rows (what the fit minimises); nil = no fitted row.
    public var fittingRMSLogError: Double? = nil
    /// Leave-one-out over the fitting rows (`PublishedValidation.leaveOneOut`); nil = not computed (`validate --published --loo`).
    public var leaveOneOut: LeaveOneOutResult? = nil
}

/// Each fitting row predicted by the fit of all other fitting rows.
public struct LeaveOneOutResult: Sendable, Hashable, Codable {
    public var summary: ErrorSummary
    /// √(mean log(predicted/measured)²) over the left-out predictions.
    public var rmsLogError: Double
    public var rows: [PredictionPair]
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
    per device × runtime, an efficiency factor on the dense classes (runtimes.<runtime>.efficiency_factor.conv and \
    .attention) and one on every other op class of the runtime's compute unit (efficiency_factor.all); groups on CPU units \
    are fitted together: each has its own dense factor, while the ratio of the other factor to the dense one and the \
    thread-scaling exponent a (compute peak × (threads/cores)^a; fitted when some CPU group's rows ran at two or more \
    thread counts, else a = 1) are shared by all CPU groups, except that a CPU group whose own fitting rows ran at two \
    or more thread counts then refits its dense factor and its own a (the shared ratio fixed); other groups alone: one factor for all classes, a separate \
    dense factor with 3 or more fitting rows, a from their own rows at two or more thread counts; all fitted by least \
    squares on log(predicted/measured) over the fitting rows (factors 0.05-20, a 0-1); groups without fitting rows \
    keep the device file's plain efficiencies
    """

    /// The effective factor of a row: factor × (threads/cores)^a on a CPU unit run on fewer threads than cores.
    static func threadRatio(_ r: ResolvedRow) -> Double {
        guard let unit = r.device.unit(named: r.unit), unit.kind == .cpu, let t = r.row.threads, t < unit.cores.value else { return 1 }
        return Double(t) / Double(unit.cores.value)
    }

    /// Op classes the `dense` factor applies to (GEMM-shaped kernels: dense conv, gemm, matmul, attention).
    public static let denseClasses: Set<OpClass> = [.conv, .attention]

    /// The device file's estimate for a row with no runtime factor. The row's precision (when stated
    /// and the unit has a peak for it) replaces the unit's; threads enter through `threadRatio`.
    /// `prepared` fixes the kernels: `PreparedGraph(graph, style: r.style)` prices what the row's
    /// runtime runs (as `run` does); trace scaling passes the runner's own (`.edgeprof`) kernels.
    public static func baseEstimate(_ prepared: PreparedGraph, _ r: ResolvedRow) throws(CostModelError) -> DeviceEstimate {
        var device = r.device
        guard let ui = device.computeUnits.firstIndex(where: { $0.name == r.unit }) else {
            throw CostModelError(message: "\(device.file): no unit '\(r.unit)'")
        }
        if let p = Precision(rawValue: r.row.precision.rawValue), device.computeUnits[ui].peak[p] != nil { device.computeUnits[ui].precision = p }
        device.defaultRuntime = nil
        device.runtimes = [:]
        return try AnalyticalModel.estimate(prepared, on: device, unit: r.unit)
    }

    /// A row's predicted latency as a function of the runtime factors, exact: per kernel
    /// max(compute / factor, memory) + overhead, with compute, memory and overhead from one estimate
    /// (a factor on the efficiency divides the compute term and nothing else).
    public struct LatencyModel: Sendable, Hashable {
        public struct Term: Sendable, Hashable {
            public var dense: Bool
            /// Milliseconds of compute at factor 1 that the kernel's own class factor divides
            /// (the dense factor when `dense`, else the other one).
            public var compute: Double
            /// Milliseconds of compute of fused parts in non-dense classes (always the other factor).
            public var otherCompute: Double
            public var memory: Double
            public var overhead: Double
            public init(dense: Bool, compute: Double, otherCompute: Double = 0, memory: Double, overhead: Double) {
                self.dense = dense
                self.compute = compute
                self.otherCompute = otherCompute
                self.memory = memory
                self.overhead = overhead
            }
        }
        public var terms: [Term] { didSet { pack() } }
        /// Per kernel: milliseconds of compute divided by the dense factor, by the other factor, and the
        /// memory time; plus the summed overheads. `latency` runs once per step of every fit's search
        /// (and once more per left-out row), so it reads these flat arrays rather than `terms`.
        private var perDense: [Double] = [], perOther: [Double] = [], memory: [Double] = [], overheadSum = 0.0
        public init(terms: [Term]) {
            self.terms = terms
            pack()
        }

        private mutating func pack() {
            perDense = terms.map { $0.dense ? $0.compute : 0 }
            perOther = terms.map { ($0.dense ? 0 : $0.compute) + $0.otherCompute }
            memory = terms.map(\.memory)
            overheadSum = terms.reduce(0) { $0 + $1.overhead }
        }

        /// Milliseconds, from an estimate made without runtime factors.
        public init(_ e: DeviceEstimate) {
            // A kernel's compute splits by class: a conv's part takes the dense factor, a fused
            // activation's part the other one (as the cost model applies runtime factors per part).
            let terms: [Term] = e.layers.map { l in
                let parts = l.computeByClass.isEmpty ? [l.opClass: l.computeTime] : l.computeByClass
                let dense = parts.filter { PublishedValidation.denseClasses.contains($0.key) }.reduce(0.0) { $0 + $1.value.value }
                let other = parts.filter { !PublishedValidation.denseClasses.contains($0.key) }.reduce(0.0) { $0 + $1.value.value }
                return Term(dense: PublishedValidation.denseClasses.contains(l.opClass), compute: dense * 1000, otherCompute: other * 1000,
                            memory: (l.traffic.map(\.time.value).max() ?? 0) * 1000, overhead: l.overhead.value * 1000)
            }
            self.init(terms: terms)
        }

        public func latency(dense: Double, other: Double) -> Double {
            let invD = 1 / dense, invO = 1 / other
            var total = overheadSum
            perDense.withUnsafeBufferPointer { d in
                perOther.withUnsafeBufferPointer { o in
                    memory.withUnsafeBufferPointer { m in
                        for i in 0..<d.count { total += Swift.max(d[i] * invD + o[i] * invO, m[i]) }
                    }
                }
            }
            return total
        }
    }

    public struct GroupFit: Sendable, Hashable {
        public var dense: Double
        public var other: Double
        public var threadScaling: Double
        public var fitsThreadScaling: Bool
        public var fitsDenseSeparately: Bool
        public init(dense: Double, other: Double, threadScaling: Double, fitsThreadScaling: Bool, fitsDenseSeparately: Bool) {
            self.dense = dense
            self.other = other
            self.threadScaling = threadScaling
            self.fitsThreadScaling = fitsThreadScaling
            self.fitsDenseSeparately = fitsDenseSeparately
        }
        public func latency(_ m: LatencyModel, threadRatio: Double) -> Double {
            let t = pow(threadRatio, threadScaling)
            return m.latency(dense: dense * t, other: other * t)
        }
    }

    /// Minimum number of fitting rows before the dense factor is fitted separately from the others.
    public static let minimumRowsForDenseFactor = 3

    /// Least squares on log(predicted/measured) (pure). Factors in [0.05, 20]: one factor for all
    /// classes; with ≥ `minimumRowsForDenseFactor` rows a separate factor for dense classes
    /// (coordinate descent from the one-factor solution); the thread exponent a ∈ {0, 0.02, …, 1}
    /// when the rows have two or more different thread ratios (else a = 1).
    public static func fit(models: [LatencyModel], threadRatios: [Double], measured: [Double]) -> GroupFit {
        // The exponent is identifiable only from rows at two or more different thread ratios (with one
        // ratio r < 1, factor × r^a is all the rows see).
        let fitsA = Set(threadRatios).count >= 2
        let fitsDense = models.count >= minimumRowsForDenseFactor
        let rows = FitRows(models: models, threadRatios: threadRatios, measured: measured)
        func loss(_ d: Double, _ o: Double, _ a: Double) -> Double { rows.loss(logDense: d, logOther: o, threadScaling: a) }
        func search(_ f: (Double) -> Double) -> Double { LogSearch.minimize(low: log(0.05), high: log(20.0), steps: 120, f) }
        var best = (d: 0.0, o: 0.0, a: 1.0, loss: Double.infinity)
        for a in fitsA ? stride(from: 0.0, through: 1.0001, by: 0.02).map({ $0 }) : [1.0] {
            let one = search { loss($0, $0, a) }
            var d = one, o = one
            if fitsDense {
                for _ in 0..<8 {
                    d = search { loss($0, o, a) }
                    o = search { loss(d, $0, a) }
                }
            }
            let l = loss(d, o, a)
            if l < best.loss { best = (d, o, a, l) }
        }
        return GroupFit(dense: exp(best.d), other: exp(best.o), threadScaling: best.a, fitsThreadScaling: fitsA, fitsDenseSeparately: fitsDense)
    }

    /// One group's fitting rows, as the pooled fit sees them.
    public struct FitRows: Sendable, Hashable {
        public var models: [LatencyModel]
        public var threadRatios: [Double]
        public var measured: [Double]
        public init(models: [LatencyModel], threadRatios: [Double], measured: [Double]) {
            self.models = models
            self.threadRatios = threadRatios
            self.measured = measured
        }

        /// Σ log(predicted/measured)² with factors e^logDense, e^logOther scaled by (threads/cores)^a.
        public func loss(logDense: Double, logOther: Double, threadScaling a: Double) -> Double {
            var l = 0.0
            for i in models.indices {
                let t = pow(threadRatios[i], a)
                let r = log(models[i].latency(dense: exp(logDense) * t, other: exp(logOther) * t) / measured[i])
                l += r * r
            }
            return l
        }
    }

    /// The CPU pool's fit: a dense factor per group, and the other/dense ratio and thread exponent shared by all.
    public struct PooledFit: Sendable, Hashable {
        /// Other-class factor / dense factor, the same for every group of the pool.
        public var otherToDense: Double
        public var threadScaling: Double
        public var fitsThreadScaling: Bool
        /// Dense factor per group (in the order given to `fitPooled`).
        public var dense: [Double]
        /// Per group: its own thread exponent (its fitting rows ran at two or more thread counts), else
        /// nil (the shared `threadScaling`).
        public var ownThreadScaling: [Double?]
        public init(otherToDense: Double, threadScaling: Double, fitsThreadScaling: Bool, dense: [Double], ownThreadScaling: [Double?]? = nil) {
            self.otherToDense = otherToDense
            self.threadScaling = threadScaling
            self.fitsThreadScaling = fitsThreadScaling
            self.dense = dense
            self.ownThreadScaling = ownThreadScaling ?? Array(repeating: nil, count: dense.count)
        }
        public func group(_ i: Int) -> GroupFit {
            GroupFit(dense: dense[i], other: dense[i] * otherToDense, threadScaling: ownThreadScaling[i] ?? threadScaling,
                     fitsThreadScaling: fitsThreadScaling, fitsDenseSeparately: true)
        }
    }

    /// A pool needs fitting rows from this many groups (else each CPU group is fitted alone) ...
    public static let minimumGroupsForPooledFit = 2
    /// ... and this many fitting rows in all.
    public static let minimumRowsForPooledFit = 3

    /// Least squares on log(predicted/measured) over every fitting row of a pool of groups (pure).
    /// Why pool: the groups on CPU units have 1-5 fitting rows each, too few to fit a dense and an
    /// other factor per group (two rows fit both exactly, one row neither); but what separates the
    /// dense classes from the rest (the runtimes' packed/Winograd GEMMs against their depthwise and
    /// elementwise kernels, relative to the device files' nominal efficiencies) is about the same on
    /// every board, and so is how throughput drops on fewer threads. So each group keeps its own
    /// dense factor s (its overall speed) and shares r = other/dense and the thread exponent a.
    /// Factors in [0.05, 20] (s and r·s), a ∈ {0, 0.05, …, 1} refined to 0.01 when some group has
    /// rows at two or more thread ratios (else a = 1).
    ///
    /// Then each group whose own rows ran at two or more thread ratios refits its s and its own a
    /// (same grid) with r fixed: how throughput drops on fewer threads is a property of the board's
    /// shared caches, memory and clocks (the Pi 4's A72 cluster gains 1.6-2× from 4 threads, the Orin
    /// Nano's A78AE cluster 3.5× from 6), identifiable from that group's own rows; the shared a stays
    /// for groups whose rows ran at one thread count (there a only scales the factors).
    /// Visits the thread-exponent grid: a ∈ {0, 0.05, …, 1}, then ±0.04 in steps of 0.01 around
    /// `best()` (the best a after the coarse pass).
    static func exponentGrid(_ visit: (Double) -> Void, best: () -> Double) {
        for a in stride(from: 0.0, through: 1.0001, by: 0.05) { visit(Swift.min(a, 1)) }
        let coarse = best()
        for a in stride(from: coarse - 0.04, through: coarse + 0.0401, by: 0.01) where a >= 0 && a <= 1 && abs(a - coarse) > 1e-9 { visit(a) }
    }

    public static func fitPooled(_ groups: [FitRows]) -> PooledFit {
        let fitsA = groups.contains { Set($0.threadRatios).count >= 2 }
        let lo = log(0.05), hi = log(20.0)
        func groupLoss(_ g: FitRows, _ logS: Double, _ logR: Double, _ a: Double) -> Double {
            g.loss(logDense: logS, logOther: logS + logR, threadScaling: a)
        }
        // Given r and a, each group's dense factor is a separate one-dimensional fit.
        func scales(_ logR: Double, _ a: Double) -> (loss: Double, logS: [Double]) {
            var total = 0.0, out: [Double] = []
            for g in groups {
                let low = Swift.max(lo, lo - logR), high = Swift.min(hi, hi - logR)
                let x = LogSearch.minimize(low: low, high: high, steps: 24) { groupLoss(g, $0, logR, a) }
                total += groupLoss(g, x, logR, a)
                out.append(x)
            }
            return (total, out)
        }
        func bestRatio(_ a: Double) -> (loss: Double, logR: Double) {
            let r = LogSearch.minimize(low: lo, high: hi, steps: 40) { scales($0, a).loss }
            return (scales(r, a).loss, r)
        }
        var best = (a: 1.0, logR: 0.0, loss: Double.infinity)
        func tryA(_ a: Double) {
            let b = bestRatio(a)
            if b.loss < best.loss { best = (a, b.logR, b.loss) }
        }
        if fitsA {
            exponentGrid(tryA) { best.a }
        } else {
            tryA(1)
        }
        var s = scales(best.logR, best.a).logS
        var own: [Double?] = Array(repeating: nil, count: groups.count)
        for (i, g) in groups.enumerated() where Set(g.threadRatios).count >= 2 {
            let low = Swift.max(lo, lo - best.logR), high = Swift.min(hi, hi - best.logR)
            var b = (a: best.a, logS: s[i], loss: Double.infinity)
            func tryOwn(_ a: Double) {
                let x = LogSearch.minimize(low: low, high: high, steps: 24) { groupLoss(g, $0, best.logR, a) }
                let l = groupLoss(g, x, best.logR, a)
                if l < b.loss { b = (a, x, l) }
            }
            exponentGrid(tryOwn) { b.a }
            own[i] = b.a
            s[i] = b.logS
        }
        return PooledFit(otherToDense: exp(best.logR), threadScaling: best.a, fitsThreadScaling: fitsA, dense: s.map { exp($0) },
                         ownThreadScaling: own)
    }

    struct GroupKey: Hashable { var device: String; var runtime: String }

    /// One device × runtime group as the fit sees it: its rows (sorted by id), their latency
    /// models and thread ratios.
    struct GroupData {
        var key: GroupKey
        var rows: [ResolvedRow]
        var models: [LatencyModel]
        var ratios: [Double]
        var isCPU: Bool
    }

    /// Fits every group that has fitting rows (`fitIdx[g]` = indices into group g's rows): the CPU
    /// groups together (`fitPooled`) when there are enough of them, every other group alone (`fit`).
    static func fitGroups(_ all: [GroupData], fitIdx: [[Int]])
        -> (fits: [Int: GroupFit], pool: [Int], pooledRows: [String]?, pooledThreadScaling: Double?, ownThreadScaling: Set<Int>) {
        func fitRows(_ i: Int) -> FitRows {
            let g = all[i], idx = fitIdx[i]
            return FitRows(models: idx.map { g.models[$0] }, threadRatios: idx.map { g.ratios[$0] }, measured: idx.map { g.rows[$0].row.latencyMs })
        }
        let pool = all.indices.filter { !fitIdx[$0].isEmpty && all[$0].isCPU }
        let poolRowCount = pool.reduce(0) { $0 + fitIdx[$1].count }
        var fits: [Int: GroupFit] = [:]
        var pooledRows: [String]?
        var pooledA: Double?
        var ownA: Set<Int> = []
        if pool.count >= minimumGroupsForPooledFit, poolRowCount >= minimumRowsForPooledFit {
            let pooled = fitPooled(pool.map(fitRows))
            for (j, i) in pool.enumerated() {
                fits[i] = pooled.group(j)
                if pooled.ownThreadScaling[j] != nil { ownA.insert(i) }
            }
            if pooled.fitsThreadScaling { pooledA = pooled.threadScaling }
            pooledRows = pool.flatMap { i in fitIdx[i].map { all[i].rows[$0].row.id } }.sorted()
        }
        for i in all.indices where fits[i] == nil && !fitIdx[i].isEmpty {
            let f = fitRows(i)
            fits[i] = fit(models: f.models, threadRatios: f.threadRatios, measured: f.measured)
        }
        return (fits, pooledRows == nil ? [] : pool, pooledRows, pooledA, ownA)
    }

    /// Leave-one-out over the fitting rows (the check for choosing between model or fit variants
    /// without looking at held-out rows): each fitting row is left out in turn, every group is refitted
    /// from the remaining fitting rows exactly as `run` fits them, and the left-out row is predicted
    /// (with the device file's plain efficiencies when its group has no other fitting row).
    static func leaveOneOut(_ all: [GroupData], fitIdx: [[Int]]) -> [PredictionPair] {
        var out: [PredictionPair] = []
        for (gi, idx) in fitIdx.enumerated() {
            for leave in idx {
                var reduced = fitIdx
                reduced[gi] = idx.filter { $0 != leave }
                let fits = fitGroups(all, fitIdx: reduced).fits
                let g = all[gi]
                let predicted = fits[gi].map { $0.latency(g.models[leave], threadRatio: g.ratios[leave]) }
                    ?? g.models[leave].latency(dense: g.ratios[leave], other: g.ratios[leave])
                if let p = try? PredictionPair(label: g.rows[leave].row.id, predicted: predicted, measured: g.rows[leave].row.latencyMs) { out.append(p) }
            }
        }
        return out.sorted { $0.label < $1.label }
    }

    /// √(mean log(predicted/measured)²): the quantity the fit minimises, over the given pairs.
    public static func rmsLogError(_ pairs: [PredictionPair]) -> Double {
        guard !pairs.isEmpty else { return 0 }
        return (pairs.reduce(0.0) { $0 + pow(log($1.predicted / $1.measured), 2) } / Double(pairs.count)).squareRoot()
    }

    public static func run(_ table: PublishedLatencyTable, devices: [DeviceProfile], leaveOneOut computeLOO: Bool = false) throws(CostModelError) -> PublishedValidationResult {
        let resolution = PublishedMapping.resolve(table, devices: devices)
        // Each row's kernels are the ones its runtime runs (`ExecutionStyle.forRuntime`).
        struct PreparedKey: Hashable { var model: String; var style: ExecutionStyle }
        func preparedKey(_ r: ResolvedRow) -> PreparedKey { PreparedKey(model: r.zooModel, style: r.style) }
        var graphs: [String: Graph] = [:]
        var prepared: [PreparedKey: PreparedGraph] = [:]
        for r in resolution.resolved where prepared[preparedKey(r)] == nil {
            if graphs[r.zooModel] == nil {
                guard let zoo = ModelZoo.model(named: r.zooModel) else { continue }
                do { graphs[r.zooModel] = try zoo.build() } catch {
                    throw CostModelError(message: "zoo model \(r.zooModel) failed to build: \(error)")
                }
            }
            if let g = graphs[r.zooModel] { prepared[preparedKey(r)] = PreparedGraph(g, style: r.style) }
        }
        let groups = Dictionary(grouping: resolution.resolved) { GroupKey(device: $0.device.id, runtime: $0.row.runtime) }
        // Every group's rows, models and thread ratios first: the CPU groups are fitted together.
        var all: [GroupData] = []
        for key in groups.keys.sorted(by: { ($0.device, $0.runtime) < ($1.device, $1.runtime) }) {
            let rows = (groups[key] ?? []).sorted { $0.row.id < $1.row.id }
            var models: [LatencyModel] = []
            for r in rows {
                guard let p = prepared[preparedKey(r)] else { throw CostModelError(message: "no graph for \(r.zooModel)") }
                models.append(LatencyModel(try baseEstimate(p, r)))
            }
            all.append(GroupData(key: key, rows: rows, models: models, ratios: rows.map(threadRatio),
                                 isCPU: rows[0].device.unit(named: rows[0].unit)?.kind == .cpu))
        }
        let fitIdxAll = all.map { g in g.rows.indices.filter { g.rows[$0].isFitting } }
        let fitted = fitGroups(all, fitIdx: fitIdxAll)
        let fits = fitted.fits, pool = fitted.pool, pooledRows = fitted.pooledRows

        var rowResults: [PublishedRowResult] = []
        var groupResults: [PublishedGroupResult] = []
        for (gi, g) in all.enumerated() {
            let rows = g.rows, models = g.models, ratios = g.ratios, fitIdx = fitIdxAll[gi], key = g.key
            let groupFit = fits[gi]
            var held: [PredictionPair] = [], heldUncal: [PredictionPair] = []
            for (i, r) in rows.enumerated() {
                // Uncalibrated: factor 1, linear thread scaling.
                let uncal = models[i].latency(dense: ratios[i], other: ratios[i])
                let cal = groupFit.map { $0.latency(models[i], threadRatio: ratios[i]) }
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
            let isPooled = pooledRows != nil && pool.contains(gi)
            groupResults.append(PublishedGroupResult(
                device: key.device, deviceFile: first.device.file, runtime: key.runtime, unit: first.unit,
                fittingRows: fitIdx.map { rows[$0].row.id }, factor: groupFit?.other,
                denseFactor: groupFit.flatMap { $0.fitsDenseSeparately ? $0.dense : nil },
                threadScaling: groupFit.flatMap { $0.fitsThreadScaling ? $0.threadScaling : nil }, pooledRows: isPooled ? pooledRows : nil,
                heldOutRows: held.count,
                heldOut: ValidationStatistics.summarize(held, tolerance: PublishedValidationResult.tolerance, worstCount: 3),
                heldOutUncalibrated: ValidationStatistics.summarize(heldUncal, tolerance: PublishedValidationResult.tolerance, worstCount: 3),
                pooledThreadScaling: isPooled ? fitted.pooledThreadScaling : nil, ownThreadScaling: fitted.ownThreadScaling.contains(gi)))
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
        let fittedPairs = rowResults.filter(\.fitting).compactMap { r in
            r.calibratedMs.flatMap { try? PredictionPair(label: r.id, predicted: $0, measured: r.measuredMs) }
        }
        var loo: LeaveOneOutResult?
        if computeLOO {
            let pairs = leaveOneOut(all, fitIdx: fitIdxAll)
            loo = LeaveOneOutResult(summary: ValidationStatistics.summarize(pairs, tolerance: tol, worstCount: 5), rmsLogError: rmsLogError(pairs), rows: pairs)
        }
        var result = PublishedValidationResult(
            file: table.file, split: PublishedSplit.description, factorScheme: factorScheme, totalRows: table.rows.count,
            rows: rowResults, groups: groupResults,
            skipped: resolution.skipped.map { SkippedRowResult(id: $0.row.id, model: $0.row.model, device: $0.row.device, runtime: $0.row.runtime,
                                                               reason: $0.reason.description) },
            skippedCounts: resolution.skippedCounts.map { SkipCount(reason: $0.category, count: $0.count) },
            heldOut: heldOut, heldOutUncalibrated: ValidationStatistics.summarize(pairs(heldRows, calibrated: false), tolerance: tol, worstCount: 10),
            heldOutUnflagged: unflagged, meetsTarget: unflagged.count > 0 && unflagged.medianAbsoluteError <= PublishedValidationResult.targetMedianError)
        result.fittingRMSLogError = fittedPairs.isEmpty ? nil : rmsLogError(fittedPairs)
        result.leaveOneOut = loo
        return result
    }
}
