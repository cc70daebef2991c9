import Accelerator
import DeviceSpec
import Foundation
import KernelRunner
import NNGraph

/// `edgeprof accel`: the accelerator dataflow model, MLC buffer energy per encoding and
/// bit-error injection on a real model (README "Accelerator model").
public enum AccelWorkflow {
    public struct Request: Sendable {
        public var model: String
        public var deviceFile: String
        public var dataflow: Dataflow?
        public var encodings: [BufferEncoding]
        public var baselineFiles: [String]
        public var injectErrors: Bool
        public var scales: [Double]
        public var samples: Int
        public var seed: UInt64
        public var threads: Int?

        public init(model: String, deviceFile: String, dataflow: Dataflow? = nil, encodings: [BufferEncoding] = BufferEncoding.allCases,
                    baselineFiles: [String] = [], injectErrors: Bool = false, scales: [Double] = [1e-4, 1e-3, 1e-2, 1e-1],
                    samples: Int = 64, seed: UInt64 = 0, threads: Int? = nil) {
            self.model = model
            self.deviceFile = deviceFile
            self.dataflow = dataflow
            self.encodings = encodings
            self.baselineFiles = baselineFiles
            self.injectErrors = injectErrors
            self.scales = scales
            self.samples = samples
            self.seed = seed
            self.threads = threads
        }
    }

    struct Accelerator {
        var device: DeviceProfile
        var unit: ComputeUnit
        var array: PEArray
        var registers: MemoryLevel?
        var buffer: MemoryLevel
        var dram: MemoryLevel?
    }

    static func loadAccelerator(_ file: String) throws(EdgeProfError) -> Accelerator {
        let device: DeviceProfile
        do { device = try DeviceLoader.load(file: file) } catch { throw .spec(error) }
        guard let unit = device.unit(named: nil), unit.kind == .accelerator, let array = unit.peArray else {
            throw .usage("\(file): '\(device.id)' is not an accelerator device (its default unit needs kind: accelerator and a pe_array section); "
                         + "use one of devices/sram-accelerator.yaml, devices/slc-stt-ram-accelerator.yaml, devices/mlc-stt-ram-accelerator.yaml")
        }
        let levels = device.levels(for: unit)
        guard let buffer = levels.first(where: { $0.technology != .registers && $0.technology != .dram }) else {
            throw .usage("\(file): the accelerator's memory_path has no buffer level (sram, stt-ram or mlc-stt-ram) between registers and DRAM")
        }
        return Accelerator(device: device, unit: unit, array: array, registers: levels.first { $0.technology == .registers },
                           buffer: buffer, dram: levels.first { $0.technology == .dram })
    }

    public static func run(_ request: Request) throws(EdgeProfError) -> AccelReport {
        guard request.samples > 0 else { throw .usage("--samples must be positive") }
        if let bad = request.scales.first(where: { !($0 >= 0 && $0 <= 1) }) { throw .usage("--scale must be in [0, 1], got \(bad)") }
        let acc = try loadAccelerator(request.deviceFile)
        if request.injectErrors && acc.buffer.mlcCell == nil {
            throw .usage("--inject-errors needs a buffer level with an mlc_cell section (\(request.deviceFile): \(acc.buffer.name) has none)")
        }
        let baselines = try request.baselineFiles.map { f throws(EdgeProfError) in try loadAccelerator(f) }
        let dataflow = request.dataflow ?? acc.array.dataflow
        let runnable = try RunnableModel.load(request.model, seed: request.seed)
        let compiled = try runnable.compile(threads: request.threads, seed: request.seed)
        let graph = compiled.graph
        let layers = AcceleratorLayer.layers(of: graph)
        guard !layers.isEmpty else { throw .usage("\(runnable.model.name) has no conv or gemm layers for the accelerator") }

        let model = DataflowModel(rows: acc.array.rows.value, cols: acc.array.cols.value, macsPerPEPerCycle: acc.array.macsPerPEPerCycle.value,
                                  bufferElements: Int(acc.buffer.size.value.value) / 2)
        let mappings = layers.map { model.map($0, dataflow: dataflow) }
        let frequency = acc.unit.frequency?.value.value ?? 1
        let rows = mappings.map { layerRow($0, acc: acc, frequency: frequency) }
        let totalCycles = mappings.reduce(0) { $0 + $1.cycles }

        var notes = [
            "All energies and cycles are modelled (analytical dataflow model priced with the device file), not measured.",
            "Weights are normalised per layer to [-1, 1] and stored as FP16; activations are stored as raw FP16 and never encoded.",
        ]
        var bufferRows: [AccelReport.BufferEnergy] = []
        var sensitivity: [AccelReport.Sensitivity] = []
        // Group tail output per layer: the fused result the array writes to the buffer.
        let outputOf = layerOutputs(graph: graph, layers: layers)
        let shapes = compiled.inputShapes
        let inputs = (0..<request.samples).map { i in shapes.enumerated().map { j, s in HostTensor.random(shape: s, seed: request.seed &+ UInt64(i * 16 + j)) } }
        let inputsNote = "\(request.samples) seeded standard-normal input(s) (seed \(request.seed)); no labelled images, so top-1 agreement is with the error-free run, not accuracy"

        if let cell = acc.buffer.mlcCell {
            let captured: [Int: HostTensor]
            do { captured = try compiled.runCapturing(inputs[0], tensors: Set(layers.map(\.inputTensor) + outputOf)).captured } catch {
                throw .importFailed("cannot run \(runnable.model.name): \(error.description)")
            }
            let activations = try activationCounts(mappings: mappings, outputs: outputOf, captured: captured)
            var perEncoding: [BufferEncoding: (weights: ContentCounts, intermediate: Double)] = [:]
            for enc in Set(request.encodings + [.none, .both]) {
                perEncoding[enc] = try weightCounts(mappings: mappings, weights: runnable.weights, encoding: enc)
            }
            for enc in request.encodings {
                guard let w = perEncoding[enc] else { continue }
                bufferRows.append(AccelReport.BufferEnergy(label: "mlc-stt-ram, \(enc.rawValue)", weightRead: w.weights.readEnergy(cell).value,
                                                           weightWrite: w.weights.writeEnergy(cell).value,
                                                           activationRead: activations.readEnergy(cell).value,
                                                           activationWrite: activations.writeEnergy(cell).value,
                                                           weightIntermediateFraction: w.intermediate))
            }
            if let none = perEncoding[.none]?.weights, let both = perEncoding[.both]?.weights {
                for p in CellParameter.all {
                    for k in [0.5, 2.0] {
                        var c = cell
                        p.apply(&c, k)
                        func change(_ a: ContentCounts, _ b: ContentCounts) -> (read: Double, write: Double) {
                            let r0 = a.readEnergy(c).value, r1 = b.readEnergy(c).value
                            let w0 = a.writeEnergy(c).value, w1 = b.writeEnergy(c).value
                            return (100 * (r1 - r0) / r0, 100 * (w1 - w0) / w0)
                        }
                        let total = change(none + activations, both + activations), weights = change(none, both)
                        sensitivity.append(.init(parameter: p.name, factor: k, readChangePercent: total.read, writeChangePercent: total.write,
                                                 weightReadChangePercent: weights.read, weightWriteChangePercent: weights.write))
                    }
                }
            }
            notes.append("Activation content: the kernel runner's tensors for input 0 of: \(inputsNote).")
        } else {
            notes.append("\(acc.buffer.name) (\(acc.buffer.technology.rawValue)) has no mlc_cell section: buffer energy is priced flat per byte.")
        }
        for b in [acc] + baselines {
            bufferRows.append(flatBufferEnergy(mappings, level: b.buffer, label: "\(b.buffer.technology.rawValue) flat (\(b.device.id))"))
        }

        var errorRows: [AccelReport.ErrorRow] = []
        var fp16Agreement: Double?
        if request.injectErrors {
            guard let cell = acc.buffer.mlcCell else { throw .usage("--inject-errors needs an mlc_cell section") }
            let result = try injectErrors(runnable: runnable, graph: graph, layers: layers, cell: cell, inputs: inputs, request: request)
            errorRows = result.rows
            fp16Agreement = result.fp16Agreement
            notes.append("Errors: \(inputsNote).")
        }

        return AccelReport(model: runnable.model.name, device: acc.device.id, dataflow: dataflow.rawValue,
                           array: "\(acc.array.rows.value) x \(acc.array.cols.value)", frequencyHz: frequency, layers: rows,
                           totalCycles: totalCycles, totalSeconds: Double(totalCycles) / frequency, bufferLevel: acc.buffer.name,
                           bufferEnergy: bufferRows, sensitivity: sensitivity, fp16Top1Agreement: fp16Agreement, errors: errorRows,
                           inputs: inputsNote, notes: notes)
    }

    static func layerRow(_ m: LayerMapping, acc: Accelerator, frequency: Double) -> AccelReport.Layer {
        let g = m.globalBuffer, d = m.dram, rf = m.registerFile
        // Buffer traffic: the array's reads and writes plus fills from and drains to DRAM.
        let glbReads = g.reads + d.writes, glbWrites = g.writes + d.reads
        func energy(_ level: MemoryLevel?, reads: Int, writes: Int) -> Double {
            guard let level else { return 0 }
            return (Bytes(Double(2 * reads)) * level.readEnergy.value + Bytes(Double(2 * writes)) * level.writeEnergy.value).value
        }
        let opEnergy = acc.unit.energyPerOp[acc.unit.precision]?.value.value ?? 0
        return AccelReport.Layer(name: m.layer.name, kind: m.layer.groups > 1 ? "conv g\(m.layer.groups)" : (m.layer.kernelH * m.layer.kernelW > 1 ? "conv" : "1x1/gemm"),
                                 shape: m.layer, cycles: m.cycles, utilisation: m.utilisation, seconds: Double(m.cycles) / frequency,
                                 rfReads: rf.reads, rfWrites: rf.writes, glbReads: glbReads, glbWrites: glbWrites,
                                 dramReads: d.reads, dramWrites: d.writes, glbAccesses: g,
                                 macEnergy: Double(2 * m.layer.macs) * opEnergy, rfEnergy: energy(acc.registers, reads: rf.reads, writes: rf.writes),
                                 glbEnergy: energy(acc.buffer, reads: glbReads, writes: glbWrites),
                                 dramEnergy: energy(acc.dram, reads: d.reads, writes: d.writes))
    }

    static func flatBufferEnergy(_ mappings: [LayerMapping], level: MemoryLevel, label: String) -> AccelReport.BufferEnergy {
        var wr = 0, ww = 0, ar = 0, aw = 0
        for m in mappings {
            let g = m.globalBuffer, d = m.dram
            wr += g.weights.reads
            ww += d.weights.reads
            ar += g.inputs.reads + g.partialSums.reads + d.outputs.writes
            aw += d.inputs.reads + g.outputs.writes + g.partialSums.writes
        }
        func e(_ n: Int, _ price: JoulesPerByte) -> Double { (Bytes(Double(2 * n)) * price).value }
        return AccelReport.BufferEnergy(label: label, weightRead: e(wr, level.readEnergy.value), weightWrite: e(ww, level.writeEnergy.value),
                                        activationRead: e(ar, level.readEnergy.value), activationWrite: e(aw, level.writeEnergy.value),
                                        weightIntermediateFraction: nil)
    }

    static func layerOutputs(graph: Graph, layers: [AcceleratorLayer]) -> [Int] {
        var groupOf: [Int: FusionGroup] = [:]
        for g in graph.fusionGroups { for n in g.nodes { groupOf[n] = g } }
        return layers.map { l in
            guard let g = groupOf[l.node], let tail = g.nodes.last, let out = graph.nodes[tail].outputs.first else { return l.outputTensor }
            return out
        }
    }

    static func fp16Words(_ values: [Float]) -> [UInt16] {
        values.map { Float16(Swift.max(-65504, Swift.min(65504, $0))).bitPattern }
    }

    /// Activation traffic (same for every encoding): inputs filled from DRAM and read by the
    /// array, outputs and partial sums written by the array, partial sums read back and outputs
    /// drained to DRAM. Each region is overwritten layer after layer: the old content of a
    /// write is the previous layer's tensor of the same role at the same index.
    static func activationCounts(mappings: [LayerMapping], outputs: [Int], captured: [Int: HostTensor]) throws(EdgeProfError) -> ContentCounts {
        var counts = ContentCounts()
        var previousIn: [UInt16] = [], previousOut: [UInt16] = []
        for (m, outID) in zip(mappings, outputs) {
            guard let inT = captured[m.layer.inputTensor], let outT = captured[outID] else {
                throw .importFailed("layer \(m.layer.name): its input or output tensor was not materialised by the kernel runner")
            }
            let inWords = fp16Words(inT.values), outWords = fp16Words(outT.values)
            let nIn = Double(inWords.count), nOut = Double(outWords.count)
            let g = m.globalBuffer, d = m.dram
            let inPatterns = PatternCounts.count(inWords), outPatterns = PatternCounts.count(outWords)
            counts.addReads(inPatterns, words: inWords.count, times: Double(g.inputs.reads) / nIn)
            counts.addWrites(TransitionCounts.count(old: previousIn, new: inWords), words: inWords.count, times: Double(d.inputs.reads) / nIn)
            // Partial sums are priced with the final outputs' content (their values are not materialised).
            counts.addReads(outPatterns, words: outWords.count, times: Double(g.partialSums.reads + d.outputs.writes) / nOut)
            counts.addWrites(TransitionCounts.count(old: previousOut, new: outWords), words: outWords.count,
                             times: Double(g.outputs.writes + g.partialSums.writes) / nOut)
            previousIn = inWords
            previousOut = outWords
        }
        return counts
    }

    /// Weight traffic for one encoding: each layer's encoded weights are written once over the
    /// previous layer's (same region) and read as often as the dataflow reads them.
    static func weightCounts(mappings: [LayerMapping], weights: WeightStore, encoding: BufferEncoding) throws(EdgeProfError)
        -> (weights: ContentCounts, intermediate: Double) {
        var counts = ContentCounts()
        var previous = StoredWords(words: [], flags: [])
        var all = PatternCounts()
        for m in mappings {
            let stored = try encodedWeights(m.layer, weights: weights, encoding: encoding).stored
            var patterns = PatternCounts.count(stored.words)
            patterns.addFlags(stored.flags)
            all.cells = zip(all.cells, patterns.cells).map { $0 + $1 }
            let n = Double(stored.words.count)
            counts.addReads(patterns, words: stored.words.count, times: Double(m.globalBuffer.weights.reads) / n)
            var t = TransitionCounts.count(old: previous.words, new: stored.words)
            t.addFlags(old: previous.flags, new: stored.flags)
            counts.addWrites(t, words: stored.words.count, times: Double(m.dram.weights.reads) / n)
            previous = stored
        }
        return (counts, all.intermediateFraction)
    }

    static func encodedWeights(_ layer: AcceleratorLayer, weights: WeightStore, encoding: BufferEncoding) throws(EdgeProfError)
        -> (scale: Float, stored: StoredWords) {
        guard let values = weights[layer.weightName], !values.isEmpty else {
            throw .importFailed("layer \(layer.name): no weights '\(layer.weightName)'")
        }
        let (scale, words) = FP16Weights.normalise(values)
        do { return (scale, try MLCCodec.encode(words, encoding)) } catch {
            throw .importFailed("layer \(layer.name): weight not normalised to [-1, 1] (\(error))")
        }
    }
}
