import CostModel
import DeviceSpec
import Foundation
import KernelRunner
import ModelImport
import NNGraph
import Validation

/// `edgeprof validate --published --scaled` (issue 10 part 4): scores both device estimates
/// against the published rows. `predicted` is the (fitted) cost model of `edgeprof validate
/// --published`; `scaled` runs the row's zoo model on this host with the row's thread count
/// (capped by this host's cores) and carries every layer's measurement to the device with
/// `TraceScaling` (measured × predicted device / predicted host). Both are scored on the same
/// held-out rows with the same statistics.
public enum ScaledPublishedValidation {
    public struct RowResult: Codable, Sendable, Hashable {
        public var id: String
        public var model: String
        public var zooModel: String
        public var device: String
        public var runtime: String
        public var threads: Int?
        /// Threads the host measurement used.
        public var hostThreads: Int
        public var heldOut: Bool
        /// In the fitting subset (even id).
        public var fitting: Bool
        public var flagged: Bool
        /// The group's fitted factor applied to `scaledUnfittedMs` (nil: no fitting rows).
        public var scaledFactor: Double?
        public var publishedMs: Double
        public var predictedMs: Double
        public var scaledMs: Double
        /// Scaled before the group's factor: uncalibrated device prediction × host measured / host predicted, per layer.
        public var scaledUnfittedMs: Double
        public var hostMeasuredMs: Double
        public var hostPredictedMs: Double

        public init(id: String, model: String, zooModel: String, device: String, runtime: String, threads: Int?, hostThreads: Int, heldOut: Bool,
                    fitting: Bool, flagged: Bool, scaledFactor: Double?, publishedMs: Double, predictedMs: Double, scaledMs: Double,
                    scaledUnfittedMs: Double, hostMeasuredMs: Double, hostPredictedMs: Double) {
            self.id = id; self.model = model; self.zooModel = zooModel; self.device = device; self.runtime = runtime
            self.threads = threads; self.hostThreads = hostThreads; self.heldOut = heldOut; self.fitting = fitting; self.flagged = flagged
            self.scaledFactor = scaledFactor; self.publishedMs = publishedMs; self.predictedMs = predictedMs; self.scaledMs = scaledMs
            self.scaledUnfittedMs = scaledUnfittedMs; self.hostMeasuredMs = hostMeasuredMs; self.hostPredictedMs = hostPredictedMs
        }

        enum CodingKeys: String, CodingKey {
            case id, model, device, runtime, threads, flagged, fitting
            case scaledFactor = "scaled_factor"
            case zooModel = "zoo_model", hostThreads = "host_threads", heldOut = "held_out", publishedMs = "published_ms"
            case predictedMs = "predicted_ms", scaledMs = "scaled_ms", scaledUnfittedMs = "scaled_unfitted_ms", hostMeasuredMs = "host_measured_ms", hostPredictedMs = "host_predicted_ms"
        }
    }

    public struct GroupResult: Codable, Sendable, Hashable {
        public var device: String
        public var runtime: String
        public var heldOutRows: Int
        /// Multiplicative factor of the scaled estimate fitted on the group's fitting rows (nil: none, factor 1).
        public var scaledFactor: Double?
        public var predicted: ErrorSummary
        public var scaled: ErrorSummary
        /// "scaled", "predicted", "tie" (equal median abs error) or "-" (no held-out rows).
        public var better: String

        enum CodingKeys: String, CodingKey {
            case device, runtime, predicted, scaled, better
            case heldOutRows = "held_out_rows", scaledFactor = "scaled_factor"
        }
    }

    public struct Result: Codable, Sendable, Hashable {
        public var hostProfile: String
        public var method: String
        public var rows: [RowResult]
        public var groups: [GroupResult]
        public var heldOutPredicted: ErrorSummary
        public var heldOutScaled: ErrorSummary

        enum CodingKeys: String, CodingKey {
            case method, rows, groups
            case hostProfile = "host_profile", heldOutPredicted = "held_out_predicted", heldOutScaled = "held_out_scaled"
        }
    }

    public static let method = """
    scaled = Σ_layers host measured × device predicted / host predicted: the row's zoo model (seeded weights) runs on this host \
    with min(row threads, host cores) threads (row threads unknown: the unit's cores for CPU units); per-layer medians rescaled to \
    the end-to-end median; host side = the host profile derated to the threads used; device side = the device file without \
    runtime factors (derated to the row's threads on CPU units). Then, like the predicted estimate (the fitted `validate \
    --published` prediction), one factor per device × runtime is fitted on the even-id rows (log least squares: the geometric \
    mean of published / scaled), and both estimates are scored on the same held-out (odd-id) rows with the same statistics
    """

    /// Measures what the rows need (one run per zoo model × host thread count) and scores both estimates.
    public static func run(csv: String, devicesDirectory: String, hostFile: String, published: PublishedValidationResult,
                           timing: TimingOptions = TimingOptions(warmup: 2, timeBudget: 0.5),
                           progress: (String) -> Void = { _ in }) throws(EdgeProfError) -> Result {
        let table: PublishedLatencyTable
        do { table = try PublishedLatencyTable.load(file: csv) } catch { throw .spec(error) }
        let devices = try PublishedValidateWorkflow.loadDeviceDirectory(devicesDirectory)
        let host = try ScaledCosts.loadHost(hostFile)
        let resolution = PublishedMapping.resolve(table, devices: devices)
        let scoredIDs = Set(published.rows.map(\.id))
        let rows = resolution.resolved.filter { scoredIDs.contains($0.row.id) }.sorted { $0.row.id < $1.row.id }
        let hostCores = ProcessInfo.processInfo.activeProcessorCount

        func hostThreads(_ r: ResolvedRow) -> Int {
            let unit = r.device.unit(named: r.unit)
            let wanted = r.row.threads ?? (unit?.kind == .cpu ? unit?.cores.value ?? hostCores : hostCores)
            return Swift.max(1, Swift.min(wanted, hostCores))
        }

        // One host trace per (model, threads).
        struct TraceKey: Hashable { var model: String; var threads: Int }
        var traces: [TraceKey: ScaledCosts.HostTrace] = [:]
        let keys = Set(rows.map { TraceKey(model: $0.zooModel, threads: hostThreads($0)) }).sorted { ($0.model, $0.threads) < ($1.model, $1.threads) }
        for (n, key) in keys.enumerated() {
            progress("[\(n + 1)/\(keys.count)] measuring \(key.model) on this host, \(key.threads) thread(s)")
            traces[key] = try ScaledCosts.trace(try RunnableModel.load(key.model), host: host, threads: key.threads, timing: timing)
        }

        let predictedByID = Dictionary(published.rows.map { ($0.id, $0.calibratedMs ?? $0.uncalibratedMs) }, uniquingKeysWith: { a, _ in a })
        var results: [RowResult] = []
        for r in rows {
            let key = TraceKey(model: r.zooModel, threads: hostThreads(r))
            guard let trace = traces[key], let predictedMs = predictedByID[r.row.id] else { continue }
            // Device side: the device file without runtime factors, derated to the row's thread count on a CPU unit.
            var plainRow = r
            if let t = r.row.threads, r.device.unit(named: r.unit)?.kind == .cpu { plainRow.device = r.device.activatingCores(t, unit: r.unit) }
            let scaled: DeviceEstimate
            do {
                let plain = try PublishedValidation.baseEstimate(PreparedGraph(trace.graph), plainRow)
                scaled = try TraceScaling.scale(device: plain, host: trace.hostEstimate, measured: trace.seconds, idlePower: r.device.power.idle.value)
            } catch let e as CostModelError { throw .costModel(e) } catch { throw .usage("\(r.row.id): \(error)") }
            results.append(RowResult(
                id: r.row.id, model: r.row.model, zooModel: r.zooModel, device: r.device.id, runtime: r.row.runtime, threads: r.row.threads,
                hostThreads: key.threads, heldOut: PublishedSplit.isHeldOut(r.row), fitting: r.isFitting, flagged: r.row.isFlagged,
                scaledFactor: nil, publishedMs: r.row.latencyMs,
                predictedMs: predictedMs, scaledMs: scaled.totals.latency.value * 1000,
                scaledUnfittedMs: scaled.totals.latency.value * 1000,
                hostMeasuredMs: trace.endToEnd.p50 * 1000, hostPredictedMs: trace.hostEstimate.totals.latency.value * 1000))
        }
        return score(fitScaled(results), hostProfile: hostFile)
    }

    /// Per device × runtime: scaled = factor × scaled-unfitted, factor = exp(mean log(published / unfitted)) over the
    /// group's fitting rows (1 when it has none). Pure.
    public static func fitScaled(_ rows: [RowResult]) -> [RowResult] {
        let byGroup = Dictionary(grouping: rows.indices) { "\(rows[$0].device)|\(rows[$0].runtime)" }
        var out = rows
        for (_, idx) in byGroup {
            let fit = idx.filter { rows[$0].fitting && rows[$0].scaledUnfittedMs > 0 }
            let factor = fit.isEmpty ? 1 : exp(fit.map { log(rows[$0].publishedMs / rows[$0].scaledUnfittedMs) }.reduce(0, +) / Double(fit.count))
            for i in idx {
                out[i].scaledMs = rows[i].scaledUnfittedMs * factor
                out[i].scaledFactor = fit.isEmpty ? nil : factor
            }
        }
        return out
    }

    /// Statistics over the held-out rows (pure; tested on a hand-made table).
    public static func score(_ rows: [RowResult], hostProfile: String) -> Result {
        let tol = PublishedValidationResult.tolerance
        func pairs(_ rs: [RowResult], _ value: (RowResult) -> Double) -> [PredictionPair] {
            rs.compactMap { try? PredictionPair(label: "\($0.id) \($0.model) \($0.device) \($0.runtime)", predicted: value($0), measured: $0.publishedMs) }
        }
        let held = rows.filter(\.heldOut)
        var groups: [GroupResult] = []
        let byGroup = Dictionary(grouping: rows) { "\($0.device)|\($0.runtime)" }
        for key in byGroup.keys.sorted() {
            let rs = byGroup[key] ?? []
            let h = rs.filter(\.heldOut)
            let p = ValidationStatistics.summarize(pairs(h, \.predictedMs), tolerance: tol, worstCount: 3)
            let s = ValidationStatistics.summarize(pairs(h, \.scaledMs), tolerance: tol, worstCount: 3)
            let better = h.isEmpty ? "-" : s.medianAbsoluteError < p.medianAbsoluteError ? "scaled"
                : p.medianAbsoluteError < s.medianAbsoluteError ? "predicted" : "tie"
            groups.append(GroupResult(device: rs[0].device, runtime: rs[0].runtime, heldOutRows: h.count, scaledFactor: rs[0].scaledFactor,
                                      predicted: p, scaled: s, better: better))
        }
        return Result(hostProfile: hostProfile, method: method, rows: rows, groups: groups,
                      heldOutPredicted: ValidationStatistics.summarize(pairs(held, \.predictedMs), tolerance: tol, worstCount: 5),
                      heldOutScaled: ValidationStatistics.summarize(pairs(held, \.scaledMs), tolerance: tol, worstCount: 5))
    }
}
