import Calibration
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// `edgeprof calibrate`: micro-benchmarks with the real kernels → fitted host device file.
public enum CalibrateWorkflow {
    public struct Request: Sendable {
        /// Device file whose structure, sizes, peaks, energies and sources are kept (default devices/host.yaml).
        public var template: String
        public var output: String
        public var quick: Bool
        public var threads: Int?
        /// Passes over the benchmark suite (nil: 3, `quick`: 1); each benchmark keeps its fastest
        /// pass (see HostValidateWorkflow.roundsNote: the VM's speed jumps between states).
        public var passes: Int?
        /// Wait up to this many seconds for a quiet machine before measuring (`QuietWait`, drift read
        /// against the template); nil: start at once.
        public var waitQuiet: Double?
        /// The drift (measured / predicted by the template) at or under which the machine counts as quiet.
        public var maxDrift: Double
        /// Write what was measured (`CalibrationRecord`: every benchmark's sample, the latency sweep, the
        /// cold stream start-up) to this JSON file, so it can be refitted later without measuring.
        public var saveMeasurements: String? = nil
        /// Fit from a file `saveMeasurements` wrote instead of measuring (`--refit`).
        public var refit: String? = nil
        public var progress: @Sendable (String) -> Void
        public init(template: String = MeasureWorkflow.defaultDeviceFile, output: String = MeasureWorkflow.defaultDeviceFile, quick: Bool = false,
                    threads: Int? = nil, passes: Int? = nil, waitQuiet: Double? = nil, maxDrift: Double = QuietWait.defaultMaxDrift,
                    progress: @escaping @Sendable (String) -> Void = { _ in }) {
            self.template = template
            self.output = output
            self.quick = quick
            self.threads = threads
            self.passes = passes
            self.waitQuiet = waitQuiet
            self.maxDrift = maxDrift
            self.progress = progress
        }
    }

    public struct FittedValue: Sendable, Hashable, Codable {
        public var parameter: String
        public var before: String
        public var after: String
        public var source: String
    }

    public struct SampleRow: Sendable, Hashable, Codable {
        public var name: String
        public var opClass: String
        public var role: String
        public var measuredS: Double
        /// With the fitted parameters (the fit's residual).
        public var fittedS: Double
    }

    /// Everything `calibrate` measured, before fitting (`--save-measurements`, `--refit`).
    public struct CalibrationRecord: Sendable, Codable {
        public var schemaVersion = 1
        /// When it was measured (UTC, ISO 8601); the fitted values' `source: measured <date>`.
        public var date: String
        public var quick: Bool
        public var threads: Int
        public var passes: Int
        public var loadAverage: String
        public var loadOneMinute: Double?
        public var coldRepeats: Int
        public var coldStartup: Double?
        public var samples: [CalibrationSample]
        public var latencySweep: [PointerChase.Point]
        public var farApartRerun: Int
        public var farApartKept: [String]

        public init(date: String, quick: Bool, threads: Int, passes: Int, loadAverage: String, loadOneMinute: Double?, coldRepeats: Int,
                    coldStartup: Double?, samples: [CalibrationSample], latencySweep: [PointerChase.Point], farApartRerun: Int, farApartKept: [String]) {
            self.date = date
            self.quick = quick
            self.threads = threads
            self.passes = passes
            self.loadAverage = loadAverage
            self.loadOneMinute = loadOneMinute
            self.coldRepeats = coldRepeats
            self.coldStartup = coldStartup
            self.samples = samples
            self.latencySweep = latencySweep
            self.farApartRerun = farApartRerun
            self.farApartKept = farApartKept
        }
    }

    static func loadRecord(_ path: String) throws(EdgeProfError) -> CalibrationRecord {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .io("\(path): \(error.localizedDescription)") }
        do {
            let record = try JSONDecoder().decode(CalibrationRecord.self, from: data)
            guard record.schemaVersion == 1, !record.samples.isEmpty else {
                throw EdgeProfError.usage("\(path): not a calibration record of schema 1 with samples (write one with `calibrate --save-measurements`)")
            }
            return record
        } catch let e as EdgeProfError {
            throw e
        } catch {
            throw .usage("\(path): not a calibration record (write one with `calibrate --save-measurements`): \(error)")
        }
    }

    public struct Result: Sendable, Hashable, Codable {
        public var output: String
        public var date: String
        public var threads: Int
        public var seconds: Double
        public var passes: Int?
        public var loadAverage: String
        public var values: [FittedValue]
        public var samples: [SampleRow]
        /// Pointer-chase latency per working set, and the sizes where latency jumps (cache edges).
        public var latencySweep: [PointerChase.Point] = []
        public var latencyEdges: [Int] = []
        /// How many benchmarks were timed only with the threads' cores far apart and re-run, and which
        /// still were after the re-runs (`ThreadPlacement`).
        public var farApartRerun: Int? = nil
        public var farApartKept: [String]? = nil
    }

    static func loadAverage() -> (text: String, oneMinute: Double?) {
        let fields = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).map(String.init) ?? []
        return (fields.isEmpty ? "unknown" : fields.joined(separator: " "), fields.first.flatMap { Double($0) })
    }

    /// Whether sample `a` should replace `b`: a close placement beats a far one, then the faster wins.
    static func preferred(_ a: CalibrationSample, over b: CalibrationSample) -> Bool {
        a.farApart != b.farApart ? !a.farApart : a.measured < b.measured
    }

    public static func run(_ r: Request) throws(EdgeProfError) -> Result {
        let started = Date()
        let template = try ProfileWorkflow.loadDevices([r.template])[0]
        let templateText: String
        do { templateText = try String(contentsOfFile: r.template, encoding: .utf8) } catch { throw .io("\(r.template): \(error.localizedDescription)") }
        guard let unit = template.unit(named: nil), let ui = template.computeUnits.firstIndex(where: { $0.name == unit.name }),
              let peak = unit.peakThroughput(unit.precision) else {
            throw .usage("\(r.template): the default unit needs a peak for its precision")
        }
        let levels = template.levels(for: unit)
        var record: CalibrationRecord
        if let path = r.refit {
            record = try loadRecord(path)
            if let odd = record.samples.first(where: { $0.levelBytes.count != levels.count }) {
                throw .usage("\(path): measured through \(odd.levelBytes.count) memory levels (\(odd.name)), but \(r.template)'s unit '\(unit.name)' "
                    + "has \(levels.count) (\(levels.map(\.name).joined(separator: ", "))): refit with the template it was measured with")
            }
            r.progress("refitting \(record.samples.count) benchmarks measured \(record.date) (\(path)); nothing is measured")
            record = try recount(record, template: template, unit: unit, levels: levels, progress: r.progress)
        } else {
            record = try measure(r, template: template, unit: unit, levels: levels, started: started)
            if let path = r.saveMeasurements {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                do { try writeAtomically(String(decoding: try encoder.encode(record), as: UTF8.self), to: path) } catch {
                    throw .io("\(path): \(error)")
                }
            }
        }
        let samples = record.samples, chase = record.latencySweep, coldStartup = record.coldStartup, coldRepeats = record.coldRepeats
        let passes = record.passes, rerun = record.farApartRerun, stillFar = record.farApartKept
        let mainMemory = levels.last.flatMap { last in template.memory.firstIndex { $0.name == last.name } }
        let fit = CalibrationFitter.fit(samples, peak: peak.value, fallbackBandwidths: levels.map(\.bandwidth.value.value),
                                        fallbackEfficiency: unit.efficiency.mapValues(\.value), bulkCopyAfter: unit.bulkCopy?.after.value.value)
        let levelSizes = levels.map(\.size.value.value)
        let levelLatency = PointerChase.levelLatencies(chase, levelSizes: levelSizes)
        let threads = record.threads
        let date = record.date
        let load = (text: record.loadAverage, oneMinute: record.loadOneMinute)
        let mode = (record.quick ? "calibrate --quick" : "calibrate") + (r.refit != nil ? ", refitted by calibrate --refit" : "")

        var editor = DeviceFileEditor(text: templateText, file: r.output)
        var values: [FittedValue] = []
        let unitPath: [DeviceFileEditor.PathStep] = [.key("compute_units"), .index(ui)]
        func set(_ path: [DeviceFileEditor.PathStep], _ name: String, before: String, value: String, source: String) throws(EdgeProfError) {
            do { try editor.set(path, value: value, source: source) } catch { throw .spec(error) }
            values.append(FittedValue(parameter: name, before: before, after: value, source: source))
        }
        /// One entry of a per-class mapping of the unit (`class_overhead`, `memory_efficiency`, …).
        func setInMap(_ mapKey: String, _ cls: OpClass, before: String, value: String, source: String) throws(EdgeProfError) {
            do {
                try editor.setInMapping(unitPath, mapKey: mapKey, key: cls.rawValue, after: "layer_overhead", value: value, source: source)
            } catch { throw .spec(error) }
            values.append(FittedValue(parameter: "\(unit.name).\(mapKey).\(cls.rawValue)", before: before, after: value, source: source))
        }
        let overheadCount = samples.filter { $0.role == .overhead && $0.opClass == .elementwise }.count
        try set(unitPath + [.key("layer_overhead")], "\(unit.name).layer_overhead", before: "\(formatFixed(unit.layerOverhead.value.value * 1e6, decimals: 2)) us",
                value: "\"\(formatFixed(fit.overhead * 1e6, decimals: 2)) us\"",
                source: "measured \(date) (\(mode): \(fit.overheadBenchmarks.joined(separator: ", ")), median per-kernel time of \(overheadCount) run(s) of 14 tiny relu kernels)")
        for cls in fit.classOverheads.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let o = fit.classOverheads[cls] else { continue }
            let names = samples.filter { $0.role == .overhead && $0.opClass == cls }.map(\.name)
            let value = "\"\(formatFixed(o * 1e6, decimals: 2)) us\""
            let units = CalibrationFitter.perChannelClasses.contains(cls) ? "output rows" : "output channels"
            // Only the classes whose fit nets the row term off their tiny kernels (`CalibrationFitter.netOverhead`).
            let netted = CalibrationFitter.perRowStreamingClasses.contains(cls) || CalibrationFitter.perChannelClasses.contains(cls)
            let perChannel = fit.channelOverheads[cls].map { o in o > 0 && netted ? " less \(formatFixed(o * 1e9, decimals: 1)) ns × its \(units) (channel_overhead)" : "" } ?? ""
            // A class whose streams fitted an intercept beyond the chain (`CalibrationFit.streamIntercepts`).
            let intercept = fit.streamIntercepts[cls].map { d in
                let streams = samples.filter { $0.role == .streaming && $0.opClass == cls }.map(\.name)
                return ", plus \(formatFixed(d * 1e6, decimals: 2)) us per kernel fitted on the streaming grid \(streams.joined(separator: ", ")) (split over the threads) "
                    + "jointly with memory_efficiency and channel_overhead: t = overhead + o·rows + bytes/(bandwidth·share)"
            } ?? ""
            let source = "measured \(date) (\(mode): tiny-kernel chain \(names.joined(separator: ", ")), median per-kernel time\(perChannel)\(intercept))"
            try setInMap("class_overhead", cls, before: unit.classOverhead[cls].map { "\(formatFixed($0.value.value * 1e6, decimals: 2)) us" } ?? "(layer_overhead)",
                         value: value, source: source)
        }
        /// A unit scalar fitted on the probe kernels of `role`; the source names their benchmarks and how.
        func setProbed(_ key: String, role: CalibrationSample.Role, before: String, value: String, benchmarks: [String], how: String) throws(EdgeProfError) {
            let names = samples.filter { $0.role == role }.map(\.name)
            try set(unitPath + [.key(key)], "\(unit.name).\(key)", before: before, value: value,
                    source: "measured \(date) (\(mode): \(benchmarks.joined(separator: ", ")) \(names.joined(separator: ", ")); \(how))")
        }
        if let tau = fit.parallelOverhead {
            try setProbed("parallel_overhead", role: .parallelOverhead,
                          before: unit.parallelOverhead.map { "\(formatFixed($0.value.value * 1e6, decimals: 2)) us" } ?? "(0)",
                          value: "\"\(formatFixed(tau * 1e6, decimals: 2)) us\"", benchmarks: fit.parallelOverheadBenchmarks,
                          how: "median time beyond the one-thread prediction (class overhead + access latency + bytes/(bandwidth·share)) of kernels "
                            + "the runner splits over \(threads) threads, refitted with the other values")
        }
        if let r = fit.crossCoreBandwidth {
            try setProbed("cross_core_bandwidth", role: .crossCore,
                          before: unit.crossCoreBandwidth.map { "\(formatFixed($0.value.value / 1e9, decimals: 1)) GB/s" } ?? "(none)",
                          value: "\"\(formatFixed(r / 1e9, decimals: 2)) GB/s\"", benchmarks: fit.crossCoreBenchmarks,
                          how: "median of the bytes the busiest of \(threads) threads reads from another core's cache (a 1×1 conv split by pixels "
                            + "before a pool split by channels) / the time beyond the prediction of twins that read only their own core's bytes, "
                            + "refitted with the other values")
        }
        for cls in fit.memoryEfficiency.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let e = fit.memoryEfficiency[cls] else { continue }
            let names = samples.filter { $0.role == .streaming && $0.opClass == cls }.map(\.name)
            let value = formatFixed(e, decimals: 4)
            let joint = CalibrationFitter.perRowStreamingClasses.contains(cls) && fit.channelOverheads[cls] != nil
            let source = "measured \(date) (\(mode): streaming grid \(names.joined(separator: ", ")); "
                + (joint ? "least squares on log time of t = overhead + o·rows + bytes/(bandwidth·share), fitted jointly with channel_overhead.\(cls.rawValue), "
                         : cls == .dataMovement && fit.channelOverheads[.dataMovement] != nil
                         ? "median of bytes/bandwidth over (time − class overhead − channel_overhead.data_movement × runs) "
                         : "median of bytes/bandwidth over (time − class overhead) ")
                + "with the fitted bandwidths, \(threads) thread(s))"
            try setInMap("memory_efficiency", cls, before: unit.memoryEfficiency[cls].map { formatFixed($0.value, decimals: 3) } ?? "(1)",
                         value: value, source: source)
        }
        // The bulk share of data movement beyond the template's `bulk_copy.after`, or no split (a
        // template's bulk_copy removed) when it did not fit the copies better than one share.
        if let b = fit.bulkCopy {
            let source = "measured \(date) (\(mode): streaming grid \(b.benchmarks.joined(separator: ", ")); t = overhead + first \(formatBytes(b.after)) "
                + "/(bandwidth·class share) + the rest/(bandwidth·bulk share); median over the copies moving ≥ 1.5 × after (\(b.largeBenchmarks.joined(separator: ", "))), "
                + "alternating with the class shares, with the fitted bandwidths, \(threads) thread(s))"
            do {
                try editor.set(unitPath + [.key("bulk_copy"), .key("efficiency")], value: formatFixed(b.efficiency, decimals: 4), source: source)
            } catch { throw .spec(error) }
            values.append(FittedValue(parameter: "\(unit.name).bulk_copy.efficiency", before: unit.bulkCopy.map { formatFixed($0.efficiency.value, decimals: 3) } ?? "-",
                                      after: formatFixed(b.efficiency, decimals: 4), source: source))
        } else if fit.bulkCopyTested, let old = unit.bulkCopy {
            do { try editor.removeBlock(unitPath, mapKey: "bulk_copy") } catch { throw .spec(error) }
            values.append(FittedValue(parameter: "\(unit.name).bulk_copy", before: "after \(formatBytes(old.after.value.value))", after: "removed",
                                      source: "measured \(date) (\(mode): the split did not fit the copies ≥ 1 % better than one share per class)"))
        }
        for cls in fit.efficiency.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let e = fit.efficiency[cls] else { continue }
            let direct = samples.filter { $0.role == .compute && $0.opClass == cls }.count
            let n = direct > 0 ? direct : samples.filter { $0.role == .compute && $0.opClass.coarse == cls }.count
            try set(unitPath + [.key("efficiency"), .key(cls.rawValue)], "\(unit.name).efficiency.\(cls.rawValue)",
                    before: unit.efficiency[cls].map { formatFixed($0.value, decimals: 3) } ?? "(fallback)", value: formatFixed(Swift.min(cls.maxEfficiency, e), decimals: 4),
                    source: "measured \(date) (\(mode): \((fit.efficiencyBenchmarks[cls] ?? []).joined(separator: ", ")), \(n) shape(s); "
                        + "least squares on log time of t = overhead + max(FLOPs/(peak·e), bytes/bandwidth) with the fitted overhead and bandwidths)")
        }
        // Terms fitted jointly with a class's efficiency (per-output MACs, per-channel overhead); a listed
        // class whose efficiency was fitted without the term (shapes not spread enough) gets 0, so no
        // stale value survives.
        func jointSource(_ cls: OpClass, fitted: Bool, with: String, formula: String, spreadIn: String) -> String {
            let n = samples.filter { $0.role == .compute && $0.opClass == cls }.count
            return fitted
                ? "measured \(date) (\(mode): \((fit.efficiencyBenchmarks[cls] ?? []).joined(separator: ", ")), \(n) shape(s); fitted jointly with "
                    + "\(with): t = \(formula))"
                : "measured \(date) (\(mode): not fitted: \(n) shape(s), too few or differing less than 2× in \(spreadIn))"
        }
        /// A finer class's term taken from its coarse class when its own shapes did not fit it
        /// (`CalibrationFitter.inheritsTerms`): the value its efficiency was fitted with.
        func inherited(_ term: String, _ values: [OpClass: Double], _ cls: OpClass) -> (value: Double, source: String)? {
            guard values[cls] == nil, CalibrationFitter.inheritsTerms(cls), let v = values[cls.coarse] else { return nil }
            return (v, "measured \(date) (\(mode): \(term).\(cls.coarse.rawValue), with which efficiency.\(cls.rawValue) was fitted; too few shapes to fit its own)")
        }
        for cls in CalibrationFitter.perOutputClasses.sorted(by: { $0.rawValue < $1.rawValue }) where fit.efficiency[cls] != nil {
            let c = fit.perOutputMACs[cls]
            let inheritedMACs = inherited("per_output_macs", fit.perOutputMACs, cls)
            let source = inheritedMACs?.source
                ?? jointSource(cls, fitted: c != nil, with: "efficiency.\(cls.rawValue)",
                              formula: "overhead + max((FLOPs + 2·c·outputs)/(peak·e), bytes/bandwidth), least squares on log time", spreadIn: "MACs per output")
            try setInMap("per_output_macs", cls, before: unit.perOutputMACs[cls].map { formatFixed($0.value, decimals: 1) } ?? "(0)",
                         value: formatFixed(c ?? inheritedMACs?.value ?? 0, decimals: 1), source: source)
        }
        func setChannelOverhead(_ cls: OpClass, value: Double? = nil, source: String) throws(EdgeProfError) {
            try setInMap("channel_overhead", cls, before: unit.channelOverhead[cls].map { "\(formatFixed($0.value.value * 1e9, decimals: 1)) ns" } ?? "(0)",
                         value: "\"\(formatFixed((value ?? fit.channelOverheads[cls] ?? 0) * 1e9, decimals: 1)) ns\"", source: source)
        }
        for cls in CalibrationFitter.perChannelClasses.sorted(by: { $0.rawValue < $1.rawValue }) where fit.efficiency[cls] != nil {
            if let o = inherited("channel_overhead", fit.channelOverheads, cls) {
                try setChannelOverhead(cls, value: o.value, source: o.source)
                continue
            }
            try setChannelOverhead(cls, source: jointSource(cls, fitted: fit.channelOverheads[cls] != nil,
                                                            with: "efficiency.\(cls.rawValue) and per_output_macs.\(cls.rawValue)",
                                                            formula: "overhead + o·rows + max((FLOPs + 2·c·outputs)/(peak·e), bytes/bandwidth), "
                                                                + "rows = output channels × output height",
                                                            spreadIn: "outputs per row"))
        }
        // Per-row overhead of the streaming classes (binary ops' broadcast rows), fitted with their share;
        // 0 when the streaming shapes did not differ enough in rows, so no stale value survives.
        for cls in CalibrationFitter.perRowStreamingClasses.sorted(by: { $0.rawValue < $1.rawValue }) where fit.memoryEfficiency[cls] != nil {
            let n = samples.filter { $0.role == .streaming && $0.opClass == cls }.count
            try setChannelOverhead(cls, source: fit.channelOverheads[cls] != nil
                ? "measured \(date) (\(mode): streaming grid, \(n) shape(s); fitted jointly with memory_efficiency.\(cls.rawValue): "
                    + "t = overhead + o·rows + bytes/(bandwidth·share), rows = "
                    + (cls == .pooling ? "output channels (one reduction per channel))" : "a binary op's contiguous rows (per-channel broadcast: one per channel; same-shape: 1))")
                : "measured \(date) (\(mode): not fitted: \(n) shape(s), too few or differing less than 2× in rows)")
        }
        // Per-run overhead of the copies (data movement), fitted with their shares and the bulk split when
        // their run counts differ enough; a template's value is zeroed when it was not fitted.
        if fit.channelOverheads[.dataMovement] != nil || (unit.channelOverhead[.dataMovement] != nil && fit.memoryEfficiency[.dataMovement] != nil) {
            let names = samples.filter { $0.role == .streaming && $0.opClass == .dataMovement }.map(\.name)
            try setChannelOverhead(.dataMovement, source: fit.channelOverheads[.dataMovement] != nil
                ? "measured \(date) (\(mode): streaming grid \(names.joined(separator: ", ")); fitted jointly with memory_efficiency.data_movement and "
                    + "bulk_copy: t = overhead + o·runs + bytes/(bandwidth·share), runs = the contiguous runs a copy moves (a transpose's runs of the "
                    + "inner axes it keeps, a concat's blocks, a shuffle's planes), least squares on log time, \(threads) thread(s))"
                : "measured \(date) (\(mode): not fitted: the copies' run counts differ less than 4×)")
        }
        for (li, level) in levels.enumerated() {
            guard let bw = fit.bandwidths[li], let mi = template.memory.firstIndex(where: { $0.name == level.name }) else { continue }
            let n = samples.filter { $0.role == .bandwidth(level: li) }.count
            try set([.key("memory"), .index(mi), .key("bandwidth")], "\(level.name).bandwidth", before: "\(formatFixed(level.bandwidth.value.value / 1e9, decimals: 1)) GB/s",
                    value: "\"\(formatFixed(bw / 1e9, decimals: 2)) GB/s\"",
                    source: "measured \(date) (\(mode): \(fit.bandwidthBenchmarks[li].joined(separator: ", ")); median of \(n) working set(s) resident in \(level.name) "
                        + "by the cost model's residence rule, bytes / (time − overhead), \(threads) thread(s))")
        }
        for (li, level) in levels.enumerated() {
            guard let lat = levelLatency[li], let mi = template.memory.firstIndex(where: { $0.name == level.name }) else { continue }
            let sets = PointerChase.points(chase, inLevel: li, levelSizes: levelSizes)
            try set([.key("memory"), .index(mi), .key("latency")], "\(level.name).latency",
                    before: level.latency.map { "\(formatFixed($0.value.value * 1e9, decimals: 1)) ns" } ?? "-",
                    value: "\"\(formatFixed(lat * 1e9, decimals: 2)) ns\"",
                    source: "measured \(date) (\(mode): pointer chase over random cache lines, median of \(sets.count) working set(s) "
                        + "\(sets.map { formatBytes(Double($0.workingSetBytes)) }.joined(separator: ", ")) that fit \(level.name) at most half full, 1 thread)")
        }
        if let last = levels.last, let mi = mainMemory, let t = coldStartup {
            try set([.key("memory"), .index(mi), .key("stream_startup")], "\(last.name).stream_startup",
                    before: last.streamStartup.map { "\(formatFixed($0.value.value * 1e9, decimals: 0)) ns" } ?? "-",
                    value: "\"\(formatFixed(t * 1e9, decimals: 0)) ns\"",
                    source: "measured \(date) (\(mode): median of \(coldRepeats) reads of \(ColdStream.bytes) B, each from its own page-aligned buffer "
                        + "right after streaming \(formatBytes(Double(ColdStream.evictBytes))) through the caches (no line, page or page-table entry cached), 1 thread; "
                        + "the cost model's access latency of kernels whose outermost level is \(last.name))")
        }
        let busy = (load.oneMinute ?? 0) > 0.5 * Double(ProcessInfo.processInfo.activeProcessorCount)
        let header = [
            beginHeader,
            "# Fitted \(date) by `edgeprof \(mode)` from micro-benchmarks with KernelRunner's \(KernelISA.default.rawValue) kernels (\(threads) thread(s), \(samples.count) benchmarks,",
            "# \(ScoredLatencyNote.statistic) in each of \(passes) pass(es), the fastest pass kept). Load average when fitting: \(load.text)\(busy ? " — the machine was BUSY (other jobs running): timings are noisy" : "").",
            "# Thread placement: \(placementNote(rerun: rerun, stillFar: stillFar)).",
            "# Fitted values carry `source: measured \(date) (...)`; every other value is the template's.",
            endHeader,
        ].joined(separator: "\n")
        let body = MarkedBlock.removing(from: editor.text, begin: beginHeader, end: endHeader)
        let text = header + "\n" + body
        do { _ = try DeviceLoader.load(yaml: text, file: r.output) } catch { throw .spec(error) }
        try writeAtomically(text, to: r.output)

        let usable = levels.indices.map { fit.bandwidths[$0] ?? levels[$0].bandwidth.value.value }
        let rows = samples.map { s in
            // A streaming kernel's fit has no compute term (its FLOPs are priced at other classes in the
            // cost model: a global pool sums at the element-wise efficiency), so neither has its residual.
            SampleRow(name: s.name, opClass: s.opClass.rawValue, role: "\(s.role)", measuredS: s.measured,
                      fittedS: CalibrationFitter.predict(s, peak: peak.value, overhead: fit.overhead(for: s.opClass), bandwidths: usable,
                                                         efficiency: s.role == .streaming || s.role == .crossCore ? .infinity : fit.efficiency[s.opClass] ?? unit.efficiency(for: s.opClass),
                                                         memoryEfficiency: fit.memoryEfficiency[s.opClass] ?? fit.memoryEfficiency[s.opClass.coarse] ?? 1,
                                                         perOutputMACs: fit.perOutputMACs[s.opClass] ?? 0,
                                                         channelOverhead: fit.channelOverheads[s.opClass] ?? 0,
                                                         otherEfficiency: { fit.efficiency[$0] ?? unit.efficiency(for: $0) },
                                                         otherPerOutputMACs: { fit.perOutputMACs[$0] ?? unit.perOutputMACs(for: $0) }, bulkCopy: fit.bulkCopy,
                                                         parallelOverhead: fit.parallelOverhead ?? unit.parallelOverhead?.value.value ?? 0,
                                                         crossCoreBandwidth: fit.crossCoreBandwidth ?? unit.crossCoreBandwidth?.value.value))
        }
        return Result(output: r.output, date: date, threads: threads, seconds: Date().timeIntervalSince(started), passes: passes, loadAverage: load.text,
                      values: values, samples: rows, latencySweep: chase, latencyEdges: PointerChase.edges(chase),
                      farApartRerun: rerun, farApartKept: stillFar)
    }

    /// A record's samples with the cost model's side counted again by this build
    /// (`MicroBenchmarkRunner.recount`): the measured times stay, the FLOPs, bytes, rows, splits and
    /// cross-core bytes are what the current model counts for each benchmark, so a record kept from
    /// before a change to the model refits as if it had been measured with it. A sample whose
    /// benchmark the suite no longer has keeps its recorded counts (said in the progress output).
    static func recount(_ record: CalibrationRecord, template: DeviceProfile, unit: ComputeUnit, levels: [MemoryLevel],
                        progress: (String) -> Void) throws(EdgeProfError) -> CalibrationRecord {
        let template = withColdStartup(record.coldStartup, template: template, levels: levels)
        let suite: [MicroBenchmark]
        do { suite = try MicroBenchmarkSuite.suite(quick: record.quick) } catch { throw .graph(model: "micro-benchmarks", error) }
        let byName = Dictionary(suite.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out = record
        var kept: [String] = []
        for (i, s) in record.samples.enumerated() {
            guard let bench = byName[s.name] else { kept.append(s.name); continue }
            do { out.samples[i] = try MicroBenchmarkRunner.recount(s, bench: bench, template: template, unit: unit.name, threads: record.threads) } catch {
                throw .importFailed("micro-benchmark \(s.name): counting it again failed: \(error)")
            }
        }
        if !kept.isEmpty {
            progress("warning: \(kept.count) recorded benchmark(s) are no longer in the suite and keep their recorded counts: "
                + kept.prefix(5).joined(separator: ", ") + (kept.count > 5 ? ", …" : ""))
        }
        return out
    }

    /// `template` with main memory's (the unit's outermost level's) `stream_startup` set to a measured
    /// cold start-up, so the benchmarks' predictions — the fit's fixed terms — use it.
    static func withColdStartup(_ seconds: Double?, template: DeviceProfile, levels: [MemoryLevel]) -> DeviceProfile {
        var template = template
        if let t = seconds, let last = levels.last, let mi = template.memory.firstIndex(where: { $0.name == last.name }) {
            template.memory[mi].streamStartup = Sourced(Seconds(t), source: "measured")
        }
        return template
    }

    /// Runs the micro-benchmarks, the latency sweep and the cold-stream probe: what `run` fits.
    static func measure(_ r: Request, template: DeviceProfile, unit: ComputeUnit, levels: [MemoryLevel], started: Date) throws(EdgeProfError) -> CalibrationRecord {
        // Only when the benchmarks' kernel set calls OpenBLAS on this CPU.
        if !KernelISA.default.runsEveryGEMMInC, let warning = MachineInfo.current().blasCoreWarning {
            r.progress("warning: " + warning)
        }
        for warning in cacheSizeWarnings(levels.dropLast().map { ($0.name, $0.size.value.value) }, template: r.template,
                                         sysfs: MachineCaches.bytes(level:)) {
            r.progress("warning: " + warning)
        }
        if let limit = r.waitQuiet {
            try QuietWait.require(device: template, reference: r.template, unit: unit.name, threads: r.threads, timeout: limit,
                                  maxDrift: r.maxDrift, progress: r.progress)
        }
        // Main memory's stream start-up first (cold 1 KiB reads: lines, pages and page-table entries evicted),
        // so the benchmarks' predictions — the fit's fixed terms — already use it.
        let coldRepeats = r.quick ? 15 : 41
        r.progress("cold stream start-up: \(coldRepeats) reads of \(ColdStream.bytes) B, each after streaming \(formatBytes(Double(ColdStream.evictBytes)))")
        let coldStartup = ColdStream.measure(repeats: coldRepeats)
        let template = withColdStartup(coldStartup, template: template, levels: levels)
        let suite: [MicroBenchmark]
        do { suite = try MicroBenchmarkSuite.suite(quick: r.quick) } catch { throw .graph(model: "micro-benchmarks", error) }
        let passes = Swift.max(1, r.passes ?? (r.quick ? 1 : 3))
        // Only the per-layer phase is fitted (session 31: 280–300 s with both phases, against the 5-minute budget).
        let timing = TimingOptions(warmup: 2, iterations: nil, timeBudget: r.quick ? 0.08 : 0.3, minIterations: 3, endToEndPhase: false)
        let options = MicroBenchmarkRunner.Options(threads: r.threads, timing: timing)
        var samples: [CalibrationSample] = []
        for pass in 0..<passes {
            for (i, b) in suite.enumerated() {
                r.progress("[pass \(pass + 1)/\(passes)] [\(i + 1)/\(suite.count)] \(b.name)")
                let sample: CalibrationSample
                do { sample = try MicroBenchmarkRunner.run(b, template: template, unit: unit.name, options: options) } catch {
                    throw .importFailed("micro-benchmark \(b.name) failed: \(error)")
                }
                // The fastest pass of each benchmark (the uncontended machine), preferring passes timed
                // with the threads' cores close together.
                if pass == 0 { samples.append(sample) } else if preferred(sample, over: samples[i]) { samples[i] = sample }
            }
        }
        // Benchmarks timed only with the threads on cores far apart (every pass inside one of the
        // host's cross-die spells, which can last minutes): wait for a close placement, run again.
        var rerun = 0
        for i in samples.indices where samples[i].farApart {
            rerun += 1
            for attempt in 1...ThreadPlacement.farApartRetries where samples[i].farApart {
                r.progress("[re-run \(attempt)/\(ThreadPlacement.farApartRetries)] \(suite[i].name): every pass ran with the threads on cores far apart")
                ThreadPlacement.waitForNearbyCores(threads: r.threads ?? ProcessInfo.processInfo.activeProcessorCount)
                do {
                    let again = try MicroBenchmarkRunner.run(suite[i], template: template, unit: unit.name, options: options)
                    if preferred(again, over: samples[i]) { samples[i] = again }
                } catch {
                    throw .importFailed("micro-benchmark \(suite[i].name) failed: \(error)")
                }
            }
        }
        let stillFar = samples.filter(\.farApart).map(\.name)
        let chase = PointerChase.sweep(quick: r.quick) { r.progress($0) }
        let date = ISO8601DateFormatter.string(from: started, timeZone: TimeZone(identifier: "UTC") ?? .current, formatOptions: [.withFullDate])
        let load = loadAverage()
        return CalibrationRecord(date: date, quick: r.quick, threads: r.threads ?? ProcessInfo.processInfo.activeProcessorCount, passes: passes,
                                 loadAverage: load.text, loadOneMinute: load.oneMinute, coldRepeats: coldRepeats, coldStartup: coldStartup,
                                 samples: samples, latencySweep: chase, farApartRerun: rerun, farApartKept: stillFar)
    }

    /// The header's account of benchmarks timed with the threads' cores far apart.
    static func placementNote(rerun: Int, stillFar: [String]) -> String {
        if rerun == 0 { return "every benchmark kept a pass timed with the threads' cores close together (core-to-core round trip ≤ \(formatFixed(ThreadPlacement.farApartNs, decimals: 0)) ns)" }
        let kept = stillFar.isEmpty ? "all got a close-placement run"
            : "\(stillFar.count) still had none and keep their far-apart timing (\(stillFar.prefix(5).joined(separator: ", "))\(stillFar.count > 5 ? ", …" : ""))"
        return "\(rerun) benchmark(s) had every pass timed with the threads' cores far apart (different dies) and were re-run; \(kept)"
    }

    static let beginHeader = "# BEGIN calibration header (edgeprof calibrate)"
    static let endHeader = "# END calibration header"

    public static func render(_ r: Result, style: ProfileRenderer.Style) -> String {
        var values = TextTable(headers: ["parameter", "before", "fitted", "source"], aligns: [.left, .right, .right, .left])
        for v in r.values { values.add([v.parameter, v.before, v.after.replacingOccurrences(of: "\"", with: ""), v.source]) }
        var samples = TextTable(headers: ["benchmark", "class", "role", "measured µs", "fitted model µs", "error"], aligns: [.left, .left, .left, .right, .right, .right])
        for s in r.samples {
            samples.add([s.name, s.opClass, s.role, formatFixed(s.measuredS * 1e6, decimals: 1), formatFixed(s.fittedS * 1e6, decimals: 1),
                         formatPercent((s.fittedS - s.measuredS) / s.measuredS)])
        }
        var chase = TextTable(headers: ["working set", "latency / load"], aligns: [.right, .right])
        for p in r.latencySweep { chase.add([formatBytes(Double(p.workingSetBytes)), "\(formatFixed(p.secondsPerLoad * 1e9, decimals: 2)) ns"]) }
        let edges = r.latencyEdges.isEmpty ? "none" : r.latencyEdges.map { formatBytes(Double($0)) }.joined(separator: ", ")
        let t = { (x: TextTable) in style == .markdown ? x.markdown() : x.plain() }
        return "Calibrated \(r.output) on \(r.date) in \(formatFixed(r.seconds, decimals: 1)) s (\(r.threads) thread(s); fastest of \(r.passes ?? 1) pass(es) per benchmark; "
            + "load average \(r.loadAverage))\n"
            + "Thread placement: \(placementNote(rerun: r.farApartRerun ?? 0, stillFar: r.farApartKept ?? []))\n\n"
            + t(values) + "\n" + t(samples) + "\nMemory latency (pointer chase; latency jumps by > 1.4× after: \(edges))\n" + t(chase)
    }
}

extension QuietWait {
    /// Default `--max-drift`: the machine counts as quiet when the probe runs at most 20% slower than
    /// the device file predicts (this project's host read 1.0–1.16 in its quiet spells, 1.3–5 in busy ones).
    public static let defaultMaxDrift = 1.2

    /// Waits (`wait`) with the drift probe read against `device`; throws `.usage` with the readings
    /// when the machine did not settle within `timeout` seconds.
    /// `benches`: the probe's benchmarks when the caller built them already.
    static func require(device: DeviceProfile, reference: String, unit: String?, threads: Int?, timeout: Double, maxDrift: Double,
                        benches built: [MicroBenchmark] = [], progress: (String) -> Void) throws(EdgeProfError) {
        var benches = built
        if benches.isEmpty {
            do { benches = try DriftProbe.benchmarks() } catch { throw .graph(model: "drift probe", error) }
        }
        let outcome = try wait(maxDrift: maxDrift, timeout: timeout, read: { () throws(EdgeProfError) -> Double in
            do { return try DriftProbe.read(benches, device: device, unit: unit, threads: threads).drift } catch {
                throw .importFailed("drift probe failed: \(error)")
            }
        }, progress: progress)
        guard outcome.quiet else { throw .usage(timeoutMessage(outcome, maxDrift: maxDrift, reference: reference)) }
    }
}

extension CalibrateWorkflow {
    /// Cache levels (all memory levels but main memory, innermost first: cache level i + 1) whose size in the
    /// template differs from what this CPU reports (`sysfs(level)`) by more than 1.5× either way. `calibrate`
    /// fits bandwidths and latencies, not sizes, and the cost model's residence rule (which level holds a
    /// tensor or the weights) uses the file's sizes: session 29 calibrated an Intel VM (2 MiB L2, 300 MiB L3)
    /// with the AMD guest's file as template (512 KiB, 32 MiB) and scored 18.6% per layer; with the sizes
    /// set to sysfs's, 16.7%.
    static func cacheSizeWarnings(_ caches: [(name: String, bytes: Double)], template: String, sysfs: (Int) -> Int?) -> [String] {
        caches.enumerated().compactMap { i, c in
            guard let actual = sysfs(i + 1).map(Double.init), actual > 0, c.bytes > 0,
                  Swift.max(actual, c.bytes) / Swift.min(actual, c.bytes) > 1.5 else { return nil }
            return "\(template): level '\(c.name)' is \(formatBytes(c.bytes)) but this CPU reports a level-\(i + 1) cache of \(formatBytes(actual)) "
                + "(sysfs); calibrate fits bandwidths and latencies, not sizes, and the cost model decides where tensors live by the file's "
                + "sizes: set them for this machine in the template unless the difference is deliberate"
        }
    }
}
