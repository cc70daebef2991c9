import Accelerator
import DeviceSpec
import Testing

/// The closed-form access counts against an enumeration of the conv loop nest: every MAC
/// (k, c, r, s, p, q) is placed on a fold and a PE by the dataflow's mapping rule, and an
/// operand costs a buffer access the first time a fold (pass) needs it.
@Suite("Dataflow model vs brute-force loop nest")
struct DataflowModelTests {
    struct Counts: Equatable, CustomStringConvertible {
        var weightReads = 0, inputReads = 0, outputWrites = 0, psumWrites = 0, psumReads = 0, macs = 0, cycles = 0
        var description: String {
            "w \(weightReads) in \(inputReads) out \(outputWrites) psumW \(psumWrites) psumR \(psumReads) macs \(macs) cycles \(cycles)"
        }
    }

    struct Key: Hashable { var a: Int, b: Int, c: Int, d: Int }

    /// Enumerates one group's loop nest. `place` returns (fold, pe) for a MAC given
    /// (k, c, r, s, p, q); operands are read once per fold, outputs leave once per fold.
    static func bruteForce(_ l: AcceleratorLayer, dataflow: Dataflow, rows: Int, cols: Int) -> Counts {
        var weights = Set<Key>(), inputs = Set<Key>(), outputs = Set<Key>()
        var pePasses: [Key: Int] = [:]  // (fold, pe) → MACs, for row-stationary cycles
        var foldsPerOutput: [Int: Set<Int>] = [:]
        var macs = 0
        let rsSetHeight = min(l.kernelH, rows), rsStrip = min(l.outH, cols)
        let rsSets = min(max(1, rows / rsSetHeight), l.outChannels)
        for k in 0..<l.outChannels {
            for c in 0..<l.inChannels {
                for r in 0..<l.kernelH {
                    for s in 0..<l.kernelW {
                        for p in 0..<l.outH {
                            for q in 0..<l.outW {
                                macs += 1
                                let t = (c * l.kernelH + r) * l.kernelW + s   // GEMM reduction index
                                let pixel = p * l.outW + q
                                let iy = p * l.strideH + r, ix = q * l.strideW + s
                                let input = (c * 100_000 + iy) * 10_000 + ix
                                let output = k * 1_000_000 + pixel
                                let fold: Int
                                switch dataflow {
                                case .weightStationary:
                                    // PE (t mod rows, k mod cols) holds weight (t, k) for the fold.
                                    fold = (t / rows) * 1_000 + k / cols
                                    inputs.insert(Key(a: fold, b: pixel, c: t, d: 0))  // enters at the row's left edge
                                case .outputStationary:
                                    // PE (pixel mod rows, k mod cols) accumulates output (pixel, k).
                                    fold = (pixel / rows) * 1_000 + k / cols
                                    inputs.insert(Key(a: fold, b: pixel, c: t, d: 0))
                                case .rowStationary:
                                    // Pass = (strip, filter-row group, channel, filter group); PE row = set·height + r, column = p in strip.
                                    fold = (((p / rsStrip) * 100 + r / rsSetHeight) * 10_000 + c) * 1_000 + k / rsSets
                                    let pe = ((k % rsSets) * rsSetHeight + r % rsSetHeight) * 1_000 + p % rsStrip
                                    pePasses[Key(a: fold, b: pe, c: 0, d: 0), default: 0] += 1
                                    inputs.insert(Key(a: fold, b: input, c: 0, d: 0))  // multicast to every PE of the pass
                                }
                                weights.insert(Key(a: fold, b: k, c: t, d: 0))
                                outputs.insert(Key(a: fold, b: output, c: 0, d: 0))
                                foldsPerOutput[output, default: []].insert(fold)
                            }
                        }
                    }
                }
            }
        }
        var counts = Counts(weightReads: weights.count, inputReads: inputs.count, macs: macs)
        // Every fold that touches an output emits it; all but the last emission are partial sums.
        let emissions = foldsPerOutput.values.reduce(0) { $0 + $1.count }
        counts.outputWrites = foldsPerOutput.count
        counts.psumWrites = emissions - foldsPerOutput.count
        counts.psumReads = dataflow == .outputStationary ? 0 : counts.psumWrites
        if dataflow == .rowStationary {
            // A pass takes as long as its busiest PE.
            var perPass: [Int: Int] = [:]
            for (key, n) in pePasses { perPass[key.a] = max(perPass[key.a] ?? 0, n) }
            counts.cycles = perPass.values.reduce(0, +)
        }
        return counts
    }

    static let layers: [AcceleratorLayer] = [
        AcceleratorLayer(name: "3x3", inChannels: 2, outChannels: 5, kernelH: 3, kernelW: 3, outH: 4, outW: 4),
        AcceleratorLayer(name: "1x1 stride 2", inChannels: 3, outChannels: 4, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2, outH: 4, outW: 4),
        AcceleratorLayer(name: "3x2 stride 2", inChannels: 5, outChannels: 9, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2, outH: 4, outW: 4),
        AcceleratorLayer(name: "7x7 stride 2", inChannels: 2, outChannels: 3, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2, outH: 5, outW: 3),
        AcceleratorLayer(name: "fc", inChannels: 13, outChannels: 6, kernelH: 1, kernelW: 1, outH: 1, outW: 1),
    ]

    @Test(arguments: [Dataflow.weightStationary, .outputStationary, .rowStationary])
    func accessCountsEqualTheLoopNest(_ dataflow: Dataflow) {
        for (rows, cols) in [(4, 4), (3, 5), (12, 14)] {
            let model = DataflowModel(rows: rows, cols: cols)
            for layer in Self.layers {
                let brute = Self.bruteForce(layer, dataflow: dataflow, rows: rows, cols: cols)
                let m = model.map(layer, dataflow: dataflow)
                let g = m.globalBuffer
                let got = Counts(weightReads: g.weights.reads, inputReads: g.inputs.reads, outputWrites: g.outputs.writes,
                                 psumWrites: g.partialSums.writes, psumReads: g.partialSums.reads, macs: layer.macs,
                                 cycles: dataflow == .rowStationary ? m.cycles : 0)
                #expect(got == brute, "\(dataflow.rawValue) \(rows)x\(cols) \(layer.name)")
                #expect(m.utilisation > 0 && m.utilisation <= 1, "\(dataflow.rawValue) \(layer.name) utilisation \(m.utilisation)")
            }
        }
    }

    @Test func groupsMultiplyPerGroupCounts() {
        let dw = AcceleratorLayer(name: "dw", groups: 6, inChannels: 1, outChannels: 1, kernelH: 3, kernelW: 3, outH: 5, outW: 5)
        var one = dw
        one.groups = 1
        let model = DataflowModel(rows: 4, cols: 4)
        for df in Dataflow.allCases {
            let a = model.map(dw, dataflow: df), b = model.map(one, dataflow: df)
            #expect(a.cycles == 6 * b.cycles)
            #expect(a.globalBuffer.reads == 6 * b.globalBuffer.reads)
            #expect(a.registerFile.weights.reads == dw.macs)
        }
    }
}
