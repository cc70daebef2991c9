import Testing
import NNGraph

@Suite("Shape inference")
struct ShapeInferenceTests {
    // MARK: conv

    @Test func convStemStridePadding() throws {
        // ResNet stem: 224 + 2·3 − 7 = 223; ⌊223 / 2⌋ + 1 = 112.
        #expect(try infer(.conv(convAttrs(in: 3, out: 64, k: 7, s: 2, p: 3)), [[1, 3, 224, 224]]) == [[1, 64, 112, 112]])
    }

    @Test func convValidAndStrided() throws {
        // (7 − 3) / 2 + 1 = 3; (8 − 3) / 2 + 1 = 3 (floor).
        #expect(try infer(.conv(convAttrs(in: 2, out: 4, k: 3, s: 2)), [[1, 2, 7, 8]]) == [[1, 4, 3, 3]])
    }

    @Test func convDilation() throws {
        // Dilation 2 makes a 3×3 kernel span 5: (10 + 2·2 − 5) / 1 + 1 = 10 ("same"); without padding 10 − 5 + 1 = 6.
        #expect(try infer(.conv(convAttrs(in: 1, out: 1, k: 3, p: 2, d: 2)), [[1, 1, 10, 10]]) == [[1, 1, 10, 10]])
        #expect(try infer(.conv(convAttrs(in: 1, out: 1, k: 3, d: 2)), [[1, 1, 10, 10]]) == [[1, 1, 6, 6]])
        // Dilation 3, stride 2: span 7 → (15 − 7) / 2 + 1 = 5.
        #expect(try infer(.conv(convAttrs(in: 1, out: 1, k: 3, s: 2, d: 3)), [[1, 1, 15, 15]]) == [[1, 1, 5, 5]])
    }

    @Test func convAsymmetricPads() throws {
        // pads are [top, left, bottom, right]: H gets 0 + 1, W gets 1 + 0 → (4 + 1 − 2) / 2 + 1 = 2 on both axes;
        // with pads only on H the W axis is (5 − 2) / 2 + 1 = 2 and H (6 + 2 − 2) / 2 + 1 = 4.
        var a = convAttrs(in: 1, out: 1, k: 2, s: 2)
        a.pads = [0, 1, 1, 0]
        #expect(try infer(.conv(a), [[1, 1, 4, 4]]) == [[1, 1, 2, 2]])
        a.pads = [1, 0, 1, 0]
        #expect(try infer(.conv(a), [[1, 1, 6, 5]]) == [[1, 1, 4, 2]])
    }

    @Test func groupedConvAcceptsDivisibleChannels() throws {
        #expect(try infer(.conv(convAttrs(in: 8, out: 12, k: 1, g: 4)), [[1, 8, 5, 5]]) == [[1, 12, 5, 5]])
        let dw = convAttrs(in: 32, out: 32, k: 3, p: 1, g: 32)
        #expect(dw.isDepthwise)
        #expect(try infer(.conv(dw), [[1, 32, 9, 9]]) == [[1, 32, 9, 9]])
    }

    @Test func groupedConvRejectsIndivisibleChannels() {
        let e = graphError { _ = try infer(.conv(convAttrs(in: 6, out: 8, k: 1, g: 4)), [[1, 6, 4, 4]], name: "grp") }
        #expect(e?.node == "grp")
        #expect(e?.message.contains("not divisible by groups 4") == true)
        let out = graphError { _ = try infer(.conv(convAttrs(in: 8, out: 6, k: 1, g: 4)), [[1, 8, 4, 4]]) }
        #expect(out?.message.contains("not divisible by groups") == true)
    }

    @Test func convRejectsChannelMismatchAndOversizedKernel() {
        let channels = graphError { _ = try infer(.conv(convAttrs(in: 4, out: 8, k: 3)), [[1, 3, 8, 8]], name: "c1") }
        #expect(channels?.description == "node 'c1': input has 3 channels but the weights expect 4")
        let kernel = graphError { _ = try infer(.conv(convAttrs(in: 1, out: 1, k: 5)), [[1, 1, 4, 4]]) }
        #expect(kernel?.message.contains("larger than the padded input") == true)
        let rank = graphError { _ = try infer(.conv(convAttrs(in: 3, out: 1, k: 1)), [[3, 8, 8]]) }
        #expect(rank?.message.contains("rank-4") == true)
    }

    @Test func convTransposeOutputSize() throws {
        // stride·(in − 1) + outputPadding + kernel − pads = 2·3 + 1 + 3 − 2 = 8.
        var a = convAttrs(in: 4, out: 2, k: 3, s: 2, p: 1)
        a.outputPadding = [1, 1]
        #expect(try infer(.convTranspose(a), [[1, 4, 4, 4]]) == [[1, 2, 8, 8]])
    }

    // MARK: matmul / gemm

    @Test func matmulBroadcastsBatchDims() throws {
        #expect(try infer(.matmul, [[2, 1, 4, 5], [3, 5, 6]]) == [[2, 3, 4, 6]])
        #expect(try infer(.matmul, [[7, 4, 5], [5, 6]]) == [[7, 4, 6]])
    }

    @Test func matmulRejectsInnerAndBatchMismatch() {
        let inner = graphError { _ = try infer(.matmul, [[2, 4, 5], [4, 6]], name: "mm") }
        #expect(inner?.node == "mm")
        #expect(inner?.message.contains("inner dimensions differ") == true)
        let batch = graphError { _ = try infer(.matmul, [[2, 4, 5], [3, 5, 6]]) }
        #expect(batch?.message.contains("do not broadcast") == true)
    }

    @Test func gemmReplacesLastDim() throws {
        #expect(try infer(.gemm(GemmAttributes(inFeatures: 192, outFeatures: 576)), [[1, 197, 192]]) == [[1, 197, 576]])
        let e = graphError { _ = try infer(.gemm(GemmAttributes(inFeatures: 10, outFeatures: 5)), [[1, 9]]) }
        #expect(e?.message.contains("last input dim to be 10") == true)
    }

    // MARK: reshape / flatten

    @Test func reshapeCopiesZeroAndInfersMinusOne() throws {
        #expect(try infer(.reshape(shape: [0, -1]), [[2, 3, 4]]) == [[2, 12]])
        #expect(try infer(.reshape(shape: [-1, 4]), [[2, 3, 4]]) == [[6, 4]])
        #expect(try infer(.reshape(shape: [0, 0, 2, -1]), [[2, 3, 4]]) == [[2, 3, 2, 2]])
        #expect(try infer(.flatten(axis: 1), [[1, 512, 1, 1]]) == [[1, 512]])
    }

    @Test func reshapeRejectsBadTargets() {
        #expect(graphError { _ = try infer(.reshape(shape: [-1, -1]), [[2, 3]]) }?.message.contains("more than one -1") == true)
        #expect(graphError { _ = try infer(.reshape(shape: [5, -1]), [[2, 3]]) }?.message.contains("cannot reshape") == true)
        #expect(graphError { _ = try infer(.reshape(shape: [4, 2]), [[2, 3]]) }?.message.contains("6 elements") == true)
        #expect(graphError { _ = try infer(.reshape(shape: [0, 0, 0]), [[2, 3]]) }?.message.contains("rank 2") == true)
    }

    // MARK: concat / split / slice

    @Test func concatSumsTheAxis() throws {
        #expect(try infer(.concat(axis: 1), [[1, 64, 55, 55], [1, 64, 55, 55]]) == [[1, 128, 55, 55]])
        #expect(try infer(.concat(axis: -1), [[2, 3], [2, 5]]) == [[2, 8]])
    }

    @Test func concatMismatchErrorNamesTheNode() {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 8, 4, 4])
        let y = b.input("y", shape: [1, 8, 5, 4])
        let e = graphError { _ = try b.add1("fire2.cat", .concat(axis: 1), inputs: [x, y]) }
        #expect(e?.node == "fire2.cat")
        #expect(e?.description.hasPrefix("node 'fire2.cat': concat inputs differ on axis 2") == true)
    }

    @Test func splitSizes() throws {
        #expect(try infer(.split(axis: 1, sizes: [58, 58]), [[1, 116, 28, 28]]) == [[1, 58, 28, 28], [1, 58, 28, 28]])
        #expect(graphError { _ = try infer(.split(axis: 1, sizes: [50, 50]), [[1, 116, 28, 28]]) }?.message.contains("do not sum to 116") == true)
    }

    @Test func sliceStartsEndsSteps() throws {
        // tokens 0 ..< 1 of 197 (ViT class token)
        #expect(try infer(.slice(starts: [0], ends: [1], axes: [1], steps: [1]), [[1, 197, 192]]) == [[1, 1, 192]])
        // negative end: 2 ..< 9 → 7
        #expect(try infer(.slice(starts: [2], ends: [-1], axes: [1], steps: [1]), [[1, 10, 4]]) == [[1, 7, 4]])
        // step 3 over 0 ..< 10: 0, 3, 6, 9
        #expect(try infer(.slice(starts: [0], ends: [10], axes: [-1], steps: [3]), [[10]]) == [[4]])
        // end past the dim is clamped; empty slice has size 0
        #expect(try infer(.slice(starts: [5], ends: [Int.max], axes: [0], steps: [1]), [[8, 2]]) == [[3, 2]])
        #expect(try infer(.slice(starts: [6], ends: [2], axes: [0], steps: [1]), [[8, 2]]) == [[0, 2]])
        // reverse with step −2 from the last element to the start: 9, 7, 5, 3, 1
        #expect(try infer(.slice(starts: [-1], ends: [Int.min], axes: [0], steps: [-2]), [[10]]) == [[5]])
        #expect(graphError { _ = try infer(.slice(starts: [0], ends: [1], axes: [0], steps: [0]), [[4]]) }?.message.contains("step") == true)
    }

    // MARK: pooling

    @Test func poolFloorVersusCeil() throws {
        // (112 − 3) / 2 = 54.5: floor → 55 outputs, ceil → 56.
        let floor = PoolAttributes(kernel: [3, 3], strides: [2, 2])
        let ceil = PoolAttributes(kernel: [3, 3], strides: [2, 2], ceilMode: true)
        #expect(try infer(.maxPool(floor), [[1, 8, 112, 112]]) == [[1, 8, 55, 55]])
        #expect(try infer(.maxPool(ceil), [[1, 8, 112, 112]]) == [[1, 8, 56, 56]])
        // Exact division: both give (111 − 3) / 2 + 1 = 55 (SqueezeNet 1.1).
        #expect(try infer(.maxPool(ceil), [[1, 64, 111, 111]]) == [[1, 64, 55, 55]])
    }

    @Test func ceilModeDropsAWindowStartingInThePadding() throws {
        // PyTorch MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5: ceil((5 + 2 − 2) / 2) + 1 = 4, but the 4th
        // window would start at 6 ≥ 5 + 1 (inside the end padding), so 3.
        let a = PoolAttributes(kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)
        #expect(try infer(.maxPool(a), [[1, 1, 5, 5]]) == [[1, 1, 3, 3]])
        #expect(try infer(.avgPool(a), [[1, 1, 6, 6]]) == [[1, 1, 4, 4]])
    }

    @Test func globalPoolAndReduceMean() throws {
        #expect(try infer(.globalAvgPool, [[1, 1024, 7, 7]]) == [[1, 1024, 1, 1]])
        #expect(try infer(.reduceMean(axes: [2, 3], keepDims: false), [[1, 1024, 7, 7]]) == [[1, 1024]])
        #expect(try infer(.reduceMean(axes: [-1], keepDims: true), [[2, 3, 4]]) == [[2, 3, 1]])
    }

    // MARK: other ops

    @Test func binaryBroadcastsWithConstant() throws {
        let pos = ParamInfo(name: "pos", shape: [1, 197, 192])
        #expect(try infer(.binary(.add), [[1, 197, 192]], params: [pos]) == [[1, 197, 192]])
        #expect(try infer(.binary(.mul), [[1, 96, 56, 56], [1, 96, 1, 1]]) == [[1, 96, 56, 56]])
        #expect(graphError { _ = try infer(.binary(.add), [[1, 3, 4], [1, 2, 4]]) }?.message.contains("do not broadcast") == true)
        #expect(graphError { _ = try infer(.binary(.add), [[1, 3]]) }?.message.contains("second operand") == true)
    }

    @Test func attentionShapes() throws {
        #expect(try infer(.attention(heads: 3), [[1, 197, 192], [1, 197, 192], [1, 197, 192]]) == [[1, 197, 192]])
        #expect(graphError { _ = try infer(.attention(heads: 5), [[1, 4, 192], [1, 4, 192], [1, 4, 192]]) }?
            .message.contains("not divisible by 5 heads") == true)
    }

    @Test func transposePadSqueezeUnsqueeze() throws {
        #expect(try infer(.transpose(perm: [0, 2, 1]), [[1, 192, 196]]) == [[1, 196, 192]])
        #expect(try infer(.pad(pads: [0, 1, 0, 0, 0, 0]), [[1, 196, 192]]) == [[1, 197, 192]])
        #expect(try infer(.squeeze(axes: [1]), [[1, 1, 192]]) == [[1, 192]])
        #expect(try infer(.unsqueeze(axes: [0, -1]), [[3, 4]]) == [[1, 3, 4, 1]])
        #expect(graphError { _ = try infer(.squeeze(axes: [1]), [[1, 2, 3]]) }?.message.contains("size 2") == true)
        #expect(graphError { _ = try infer(.transpose(perm: [0, 0, 1]), [[1, 2, 3]]) }?.message.contains("not a permutation") == true)
    }

    @Test func sparseAggregateChecksNodeCount() throws {
        #expect(try infer(.sparseAggregate(nodes: 2708, edges: 13264), [[2708, 16]]) == [[2708, 16]])
        #expect(graphError { _ = try infer(.sparseAggregate(nodes: 2708, edges: 13264), [[2707, 16]]) }?.message.contains("2708 nodes") == true)
    }

    @Test func builderRejectsUnknownTensorIds() {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 4])
        let e = graphError { _ = try b.add1("relu", .activation(.relu), inputs: [x + 5]) }
        #expect(e?.node == "relu")
        #expect(e?.message.contains("does not exist") == true)
    }
}
