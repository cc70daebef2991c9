import DeviceSpec

/// Element accesses of one tensor at one memory level (elements, not bytes).
public struct TensorAccesses: Sendable, Hashable, Codable {
    public var reads: Int = 0
    public var writes: Int = 0
    public init(reads: Int = 0, writes: Int = 0) {
        self.reads = reads
        self.writes = writes
    }
    public static func + (a: Self, b: Self) -> Self { Self(reads: a.reads + b.reads, writes: a.writes + b.writes) }
    public var total: Int { reads + writes }
}

/// Accesses per tensor at one level. `outputs` are final results; `partialSums` are
/// intermediate accumulations spilled to the level and read back.
public struct LevelAccesses: Sendable, Hashable, Codable {
    public var weights = TensorAccesses()
    public var inputs = TensorAccesses()
    public var outputs = TensorAccesses()
    public var partialSums = TensorAccesses()
    public init() {}
    public static func + (a: Self, b: Self) -> Self {
        var r = LevelAccesses()
        r.weights = a.weights + b.weights
        r.inputs = a.inputs + b.inputs
        r.outputs = a.outputs + b.outputs
        r.partialSums = a.partialSums + b.partialSums
        return r
    }
    public var reads: Int { weights.reads + inputs.reads + outputs.reads + partialSums.reads }
    public var writes: Int { weights.writes + inputs.writes + outputs.writes + partialSums.writes }
}

/// The mapping of one layer onto the PE array for one dataflow.
public struct LayerMapping: Sendable, Hashable, Codable {
    public var layer: AcceleratorLayer
    public var dataflow: Dataflow
    /// Stall-free compute cycles (array fill and drain included).
    public var cycles: Int
    /// MACs / (cycles × PEs × MACs per PE per cycle).
    public var utilisation: Double
    /// Folds (array passes) the layer needs.
    public var folds: Int
    /// Register-file (inside the PEs), global-buffer and DRAM accesses, in elements.
    public var registerFile: LevelAccesses
    public var globalBuffer: LevelAccesses
    public var dram: LevelAccesses
}

/// Analytical dataflow model of a rows × cols array (README "Accelerator model").
///
/// The conv of each group is viewed as a GEMM: pixels P·Q × window R·S·C times window ×
/// filters K. Weight- and output-stationary follow SCALE-Sim's systolic conventions
/// (WS: array rows ↔ window, columns ↔ filters, weights preloaded for `rows` cycles, inputs
/// streamed; OS: rows ↔ pixels, columns ↔ filters, window streamed); row-stationary follows
/// Eyeriss' 1-D-convolution primitive (PE row ↔ filter row, PE column ↔ output row).
public struct DataflowModel: Sendable {
    public var rows: Int
    public var cols: Int
    public var macsPerPEPerCycle: Int
    /// Global-buffer capacity in elements (decides DRAM re-fetches).
    public var bufferElements: Int

    public init(rows: Int, cols: Int, macsPerPEPerCycle: Int = 1, bufferElements: Int = .max) {
        self.rows = rows
        self.cols = cols
        self.macsPerPEPerCycle = macsPerPEPerCycle
        self.bufferElements = bufferElements
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    public func map(_ layer: AcceleratorLayer, dataflow: Dataflow) -> LayerMapping {
        var perGroup: (cycles: Int, folds: Int, glb: LevelAccesses)
        switch dataflow {
        case .weightStationary: perGroup = weightStationary(layer)
        case .outputStationary: perGroup = outputStationary(layer)
        case .rowStationary: perGroup = rowStationary(layer)
        }
        let g = layer.groups
        var glb = LevelAccesses()
        for _ in 0..<g { glb = glb + perGroup.glb }
        // Each MAC reads its weight, input and partial sum from the PE's registers and
        // writes the partial sum back; operands arrive from the buffer into the registers.
        var rf = LevelAccesses()
        rf.weights = TensorAccesses(reads: layer.macs, writes: glb.weights.reads)
        rf.inputs = TensorAccesses(reads: layer.macs, writes: glb.inputs.reads)
        rf.partialSums = TensorAccesses(reads: layer.macs, writes: layer.macs)
        let cycles = Self.ceilDiv(perGroup.cycles * g, macsPerPEPerCycle)
        return LayerMapping(layer: layer, dataflow: dataflow, cycles: cycles,
                            utilisation: Double(layer.macs) / (Double(cycles) * Double(rows * cols * macsPerPEPerCycle)),
                            folds: perGroup.folds * g, registerFile: rf, globalBuffer: glb, dram: dramTraffic(layer, glb: glb))
    }

    /// Compulsory DRAM traffic (weights and inputs read once, outputs written once) when the
    /// layer's weights, inputs and outputs fit in the buffer together; otherwise the inputs
    /// are re-read ⌈footprint / capacity⌉ times (a coarse streaming model).
    func dramTraffic(_ layer: AcceleratorLayer, glb: LevelAccesses) -> LevelAccesses {
        let inputs = layer.groups * layer.inChannels * layer.usedInH * layer.usedInW
        let footprint = layer.weightCount + inputs + layer.outputCount
        let refetch = footprint <= bufferElements ? 1 : Self.ceilDiv(footprint, Swift.max(1, bufferElements))
        var d = LevelAccesses()
        d.weights = TensorAccesses(reads: layer.weightCount)
        d.inputs = TensorAccesses(reads: inputs * refetch)
        d.outputs = TensorAccesses(writes: layer.outputCount)
        return d
    }

    func weightStationary(_ l: AcceleratorLayer) -> (Int, Int, LevelAccesses) {
        let sr = l.pixels, t = l.window, k = l.outChannels
        let rowFolds = Self.ceilDiv(t, rows), colFolds = Self.ceilDiv(k, cols)
        let folds = rowFolds * colFolds
        var a = LevelAccesses()
        a.weights.reads = t * k
        a.inputs.reads = sr * t * colFolds
        a.outputs.writes = sr * k
        a.partialSums = TensorAccesses(reads: sr * k * (rowFolds - 1), writes: sr * k * (rowFolds - 1))
        return (folds * (2 * rows + cols + sr - 2), folds, a)
    }

    func outputStationary(_ l: AcceleratorLayer) -> (Int, Int, LevelAccesses) {
        let sr = l.pixels, t = l.window, k = l.outChannels
        let rowFolds = Self.ceilDiv(sr, rows), colFolds = Self.ceilDiv(k, cols)
        let folds = rowFolds * colFolds
        var a = LevelAccesses()
        a.weights.reads = t * k * rowFolds
        a.inputs.reads = sr * t * colFolds
        a.outputs.writes = sr * k
        return (folds * (t + rows + cols - 2), folds, a)
    }

    /// Row-stationary geometry: a PE set is `setHeight` filter rows × `stripWidth` output
    /// rows; `setsPerPass` sets stacked vertically work on different filters of one channel.
    struct RowStationaryGeometry {
        var setHeight: Int, rowGroups: Int, stripWidth: Int, strips: Int, setsPerPass: Int, filterGroups: Int
    }

    func rowStationaryGeometry(_ l: AcceleratorLayer) -> RowStationaryGeometry {
        let setHeight = Swift.min(l.kernelH, rows)
        let stripWidth = Swift.min(l.outH, cols)
        let sets = Swift.max(1, rows / setHeight)
        let setsPerPass = Swift.min(sets, l.outChannels)
        return RowStationaryGeometry(setHeight: setHeight, rowGroups: Self.ceilDiv(l.kernelH, setHeight), stripWidth: stripWidth,
                                     strips: Self.ceilDiv(l.outH, stripWidth), setsPerPass: setsPerPass,
                                     filterGroups: Self.ceilDiv(l.outChannels, setsPerPass))
    }

    /// One pass = one (strip, filter-row group, channel, filter group); every PE runs a 1-D
    /// convolution of Q outputs × S taps (Q·S MACs). Partial sums accumulate in the buffer
    /// across channels and row groups (no multi-channel accumulation in the registers).
    func rowStationary(_ l: AcceleratorLayer) -> (Int, Int, LevelAccesses) {
        let geo = rowStationaryGeometry(l)
        let passesPerStrip = geo.rowGroups * l.inChannels * geo.filterGroups
        var a = LevelAccesses()
        a.weights.reads = geo.strips * l.outChannels * l.window
        var inputRows = 0
        for strip in 0..<geo.strips {
            let p0 = strip * geo.stripWidth, p1 = Swift.min(l.outH, p0 + geo.stripWidth)
            for group in 0..<geo.rowGroups {
                let r0 = group * geo.setHeight, r1 = Swift.min(l.kernelH, r0 + geo.setHeight)
                // Input rows p·stride + r for p in the strip and r in the group (contiguous when stride ≤ rows in the group).
                var seen = Set<Int>()
                for p in p0..<p1 { for r in r0..<r1 { seen.insert(p * l.strideH + r) } }
                inputRows += seen.count
            }
        }
        // Input columns q·stride + s the 1-D convolutions touch (a stride larger than the kernel skips some).
        var columns = Set<Int>()
        for q in 0..<l.outW { for s in 0..<l.kernelW { columns.insert(q * l.strideW + s) } }
        a.inputs.reads = inputRows * columns.count * l.inChannels * geo.filterGroups
        let accumulations = l.inChannels * geo.rowGroups
        a.outputs.writes = l.outChannels * l.pixels
        a.partialSums = TensorAccesses(reads: l.outChannels * l.pixels * (accumulations - 1),
                                       writes: l.outChannels * l.pixels * (accumulations - 1))
        let passes = geo.strips * passesPerStrip
        return (passes * l.outW * l.kernelW, passes, a)
    }
}
