import CKernels
import Foundation
@testable import KernelRunner
import NNGraph
import Testing

/// Every kernel implementation this CPU can run (the portable one always; the AVX2 C kernels where CPUID allows).
let testedKernelSets: [KernelISA] = KernelISA.allCases.filter { $0 == .generic || $0 == KernelISA.supported }

/// Runner configurations the kernel tests cover: 1 and 2 threads × every kernel set this CPU runs.
let runnerConfigurations: [RunnerOptions] = testedKernelSets.flatMap { k in [1, 2].map { RunnerOptions(threads: $0, kernels: k) } }

/// Runs a graph on the runner in every `runnerConfigurations` entry (same order).
func runBoth(_ g: Graph, _ w: WeightStore, _ inputs: [HostTensor]) throws -> [[HostTensor]] {
    try runnerConfigurations.map { o in try CompiledModel(graph: g, weights: w, options: o).run(inputs) }
}

/// max |got − want| ≤ tolerance · max(1, max |want|).
func expectClose(_ got: [Float], _ want: [Float], tolerance: Float = 1e-4, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(label): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
    guard got.count == want.count else { return }
    var worst: Float = 0, at = 0
    for i in got.indices where !(abs(got[i] - want[i]) <= worst) { worst = abs(got[i] - want[i]); at = i }
    let scale = Swift.max(1, want.map(abs).max() ?? 0)
    #expect(worst <= tolerance * scale, "\(label): max error \(worst) at \(at) (got \(got.isEmpty ? 0 : got[at]), want \(want.isEmpty ? 0 : want[at]))",
            sourceLocation: sourceLocation)
}

func randomInput(_ shape: TensorShape, seed: UInt64 = 7) -> HostTensor { HostTensor.random(shape: shape, seed: seed) }

@Suite("Kernels against naive references")
struct KernelTests {
    struct ConvCase: CustomTestStringConvertible, Sendable {
        var batch: Int = 1
        var cin: Int
        var cout: Int
        var h: Int
        var w: Int
        var k: Int
        var stride: Int = 1
        var pads: [Int] = [0, 0, 0, 0]
        var dilation: Int = 1
        var groups: Int = 1
        var bias: Bool = true
        var activation: Activation? = nil
        var testDescription: String {
            "n\(batch) \(cin)->\(cout) \(h)x\(w) k\(k) s\(stride) p\(pads) d\(dilation) g\(groups)\(activation.map { " +\($0)" } ?? "")"
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(cin: 3, cout: 8, h: 9, w: 11, k: 3, pads: [1, 1, 1, 1]),
        ConvCase(cin: 4, cout: 6, h: 10, w: 7, k: 3, stride: 2, pads: [1, 1, 1, 1], bias: false),
        ConvCase(cin: 4, cout: 6, h: 8, w: 8, k: 1),
        ConvCase(cin: 4, cout: 6, h: 9, w: 9, k: 1, stride: 2),
        ConvCase(cin: 6, cout: 4, h: 9, w: 10, k: 3, pads: [2, 2, 2, 2], dilation: 2),
        ConvCase(cin: 4, cout: 6, h: 7, w: 9, k: 3, pads: [1, 0, 2, 1], groups: 2),
        ConvCase(cin: 8, cout: 8, h: 9, w: 13, k: 3, pads: [1, 1, 1, 1], groups: 8, activation: .relu6),
        ConvCase(cin: 8, cout: 8, h: 10, w: 17, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 8),
        ConvCase(cin: 6, cout: 6, h: 11, w: 11, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 6, activation: .silu),
        ConvCase(cin: 4, cout: 8, h: 9, w: 9, k: 3, pads: [1, 1, 1, 1], groups: 4),
        ConvCase(cin: 5, cout: 5, h: 12, w: 12, k: 3, pads: [2, 2, 2, 2], dilation: 2, groups: 5),
        ConvCase(cin: 4, cout: 4, h: 9, w: 9, k: 3, stride: 3, pads: [1, 1, 1, 1], groups: 4, activation: .hardswish),
        ConvCase(batch: 2, cin: 3, cout: 16, h: 20, w: 20, k: 7, stride: 2, pads: [3, 3, 3, 3], activation: .relu),
        // Stride-2 im2col with 8-column vector gathers (rows of 45: vectors while a 16-float load fits the row, then scalar).
        ConvCase(cin: 3, cout: 8, h: 9, w: 45, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .relu6),
        // `ck_im2col_avx512` (AVX-512F): stride 2 on 47-wide rows with 5×5 taps (two 16-pixel chunks per row segment,
        // both edges padded), stride 1 with asymmetric pads on 37-wide rows, a dense stride 3 (lane by lane), dilation 2 at stride 2.
        ConvCase(cin: 8, cout: 16, h: 45, w: 47, k: 5, stride: 2, pads: [2, 2, 2, 2], activation: .relu),
        ConvCase(cin: 8, cout: 24, h: 20, w: 37, k: 5, pads: [2, 1, 2, 3]),
        ConvCase(cin: 5, cout: 8, h: 11, w: 13, k: 3, stride: 3, pads: [1, 1, 1, 1]),
        ConvCase(cin: 6, cout: 16, h: 15, w: 33, k: 3, stride: 2, pads: [2, 2, 2, 2], dilation: 2),
        ConvCase(cin: 32, cout: 8, h: 40, w: 40, k: 3, pads: [1, 1, 1, 1], activation: .sigmoid),
        ConvCase(cin: 16, cout: 96, h: 5, w: 5, k: 3, pads: [1, 1, 1, 1], activation: .gelu),
        ConvCase(cin: 16, cout: 96, h: 6, w: 6, k: 1, activation: .tanh),
        ConvCase(cin: 24, cout: 80, h: 30, w: 30, k: 1, activation: .hardsigmoid),
        // 1×1 with a last 16-row panel 13/16 and 15/16 full (the AVX-512 16-row kernel, masked rows) and
        // 12 rows (6-row strips reading B in place), both over ≥ 3 column panels: the first panel's
        // prefetch of the next one.
        ConvCase(cin: 40, cout: 29, h: 12, w: 12, k: 1, activation: .relu),
        ConvCase(cin: 70, cout: 63, h: 19, w: 19, k: 1),
        ConvCase(cin: 33, cout: 12, h: 9, w: 9, k: 1, activation: .silu),
        // Depthwise fast paths: 16-pixel and 8-pixel tails, stride-2 phase split with even and odd left padding.
        ConvCase(cin: 3, cout: 3, h: 9, w: 37, k: 5, pads: [2, 2, 2, 2], groups: 3, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 11, w: 35, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 3),
        ConvCase(cin: 3, cout: 3, h: 12, w: 40, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 3, activation: .relu6),
        ConvCase(cin: 2, cout: 2, h: 10, w: 34, k: 3, stride: 2, pads: [0, 0, 1, 1], groups: 2),
        ConvCase(cin: 2, cout: 4, h: 7, w: 7, k: 5, stride: 2, pads: [1, 2, 2, 1], groups: 2),
        ConvCase(cin: 2, cout: 2, h: 6, w: 19, k: 3, groups: 2),
        // Winograd F(2x2,3x3): odd output sizes (partial tiles), >8 tiles per row, asymmetric and no padding, batch 2.
        ConvCase(cin: 8, cout: 12, h: 15, w: 17, k: 3, pads: [1, 1, 1, 1], activation: .relu),
        ConvCase(cin: 9, cout: 8, h: 18, w: 21, k: 3),
        ConvCase(batch: 2, cin: 8, cout: 8, h: 16, w: 40, k: 3, pads: [0, 1, 2, 1], activation: .silu),
        // Winograd with fewer tile rows than a block budget: two threads get blocks of 1 and 2 tile rows.
        ConvCase(cin: 8, cout: 8, h: 6, w: 40, k: 3, pads: [1, 1, 1, 1], activation: .sigmoid),
        // Winograd with at least as many output channels as tiles, on 2 threads: one block, each thread
        // transforming the whole input and splitting the output channels — cblas path (shallow), packed
        // path (≥ 192 input channels; 50 rows: the last part ends off the 6-row panel), partial tiles on
        // a 7×8 map with batch 2, and 49 tiles (13×13) under 56 channels.
        ConvCase(cin: 16, cout: 40, h: 7, w: 7, k: 3, pads: [1, 1, 1, 1], activation: .relu),
        ConvCase(cin: 200, cout: 50, h: 7, w: 7, k: 3, pads: [1, 1, 1, 1]),
        ConvCase(batch: 2, cin: 8, cout: 36, h: 7, w: 8, k: 3, pads: [1, 1, 1, 1], activation: .silu),
        ConvCase(cin: 24, cout: 56, h: 13, w: 13, k: 3, pads: [1, 1, 1, 1], activation: .relu6),
        // Short rows with an exponential activation run it as one span over several rows: 1×1 on a 7×7 map
        // (pixel tile = whole plane with 1 thread, output-channel split with 2), a serial squeeze-excitation FC
        // on a 1×1 map, balanced 1×1 pixel tiles (784 pixels), depthwise on 7×7 and on 13-wide rows (5-row chunks
        // over 9 rows), and stride-2 depthwise on narrow rows (14 and 13 columns: the 8-wide and pair copies).
        ConvCase(cin: 64, cout: 96, h: 7, w: 7, k: 1, activation: .silu),
        ConvCase(cin: 48, cout: 96, h: 1, w: 1, k: 1, activation: .sigmoid),
        // One output column (matrix-vector path on both packed layouts): rows not a multiple of the
        // panel height, odd and deep (> 2048, several K blocks) depths.
        ConvCase(cin: 7, cout: 13, h: 1, w: 1, k: 1, activation: .relu),
        ConvCase(cin: 1153, cout: 50, h: 1, w: 1, k: 1, activation: .silu),
        ConvCase(cin: 2305, cout: 21, h: 1, w: 1, k: 1),
        ConvCase(cin: 30, cout: 1163, h: 1, w: 1, k: 1, activation: .sigmoid),
        ConvCase(cin: 8, cout: 240, h: 28, w: 28, k: 1, activation: .silu),
        // Few output channels with a deep product (m ≤ 64, k > 64: B read in place, not packed): two K blocks
        // (depth 300 > 256) accumulating in C, a partial last 16-column panel (130 pixels), deferred SiLU
        // on the last block only.
        ConvCase(cin: 300, cout: 40, h: 10, w: 13, k: 1, activation: .silu),
        // The transposed product (≤ 64 pixels, depth ≥ 128): 70 channels (a partial 16-channel panel),
        // 49 pixels (a partial 6-pixel panel, vector-packed), and depth 2100 (> 2048: K blocks in a tile buffer).
        ConvCase(cin: 160, cout: 70, h: 7, w: 7, k: 1, activation: .relu),
        ConvCase(cin: 2100, cout: 20, h: 5, w: 5, k: 1),
        // Pixel panels of up to 16 (the AVX-512 transposed kernel where the CPU has AVX-512F): 14 pixels
        // with deferred SiLU and a partial channel panel (33), 63 pixels with hardswish in registers,
        // 49 pixels without bias, batch 2.
        ConvCase(cin: 130, cout: 33, h: 2, w: 7, k: 1, activation: .silu),
        ConvCase(cin: 144, cout: 48, h: 7, w: 9, k: 1, activation: .hardswish),
        ConvCase(batch: 2, cin: 200, cout: 17, h: 7, w: 7, k: 1, bias: false),
        // SSD's tail shapes: 3×3 stride 2 to 5×5 at depth 2304 (> 2048: K blocks accumulated in registers),
        // to 3×3 and 2×2 (9 and 4 pixels: one panel), 1×1 heads with 126 channels; 10×10 maps at depth
        // ≥ 384 (transposed with AVX-512F: 100 pixels in 7 panels when output channels split, 50-pixel
        // tiles when pixels split), and 14×14 in two 98-pixel tiles.
        ConvCase(cin: 256, cout: 40, h: 10, w: 10, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .relu),
        ConvCase(cin: 128, cout: 36, h: 5, w: 5, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .relu),
        ConvCase(cin: 128, cout: 24, h: 3, w: 3, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .silu),
        ConvCase(cin: 160, cout: 126, h: 3, w: 3, k: 1),
        ConvCase(cin: 400, cout: 200, h: 10, w: 10, k: 1, activation: .relu6),
        ConvCase(cin: 384, cout: 40, h: 10, w: 10, k: 1, activation: .silu),
        ConvCase(cin: 384, cout: 24, h: 14, w: 14, k: 1, bias: false),
        // 13–16 output channels with one K block (the AVX-512 16-row kernel where the CPU has AVX-512F):
        // 16 channels with ReLU6 on 460 pixels (a partial 16-column tile), 14 with deferred SiLU on 279
        // pixels (the SiLU pass over 8-tile groups and a partial last group), 13 at depth 256 (the K-block
        // limit) without bias.
        ConvCase(cin: 32, cout: 16, h: 20, w: 23, k: 1, activation: .relu6),
        ConvCase(cin: 40, cout: 14, h: 9, w: 31, k: 1, activation: .silu),
        ConvCase(cin: 256, cout: 13, h: 6, w: 11, k: 1, bias: false),
        // 196-pixel maps (14×14: 12 full 16-column tiles + a 4-column tail computed transposed on the
        // 16-row panels): an odd depth (the tail's two accumulator sets leave one depth over) with ReLU6,
        // and 96 channels (six 16-row panels, split over threads) without activation.
        ConvCase(cin: 33, cout: 16, h: 14, w: 14, k: 1, activation: .relu6),
        ConvCase(cin: 64, cout: 96, h: 14, w: 14, k: 1),
        // 16-row panels over several K blocks (depth 2100 > 2048: later blocks accumulate in C, the activation
        // only after the last), 81 pixels (not the transposed path).
        ConvCase(cin: 2100, cout: 32, h: 9, w: 9, k: 1, activation: .relu),
        ConvCase(cin: 4, cout: 4, h: 7, w: 7, k: 3, pads: [1, 1, 1, 1], groups: 4, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 9, w: 13, k: 5, pads: [2, 2, 2, 2], groups: 3, activation: .sigmoid),
        ConvCase(cin: 3, cout: 3, h: 14, w: 14, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 3, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 13, w: 13, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 3),
        // Narrow depthwise (≤ 8 output columns, masked loads from the input, no bordered copy):
        // exactly 8 columns (full-vector stores, last row too), tall and thin, no left padding at
        // stride 2 (TF-style "same"), 5×5 with a channel multiplier, one column.
        ConvCase(cin: 3, cout: 3, h: 8, w: 8, k: 3, pads: [1, 1, 1, 1], groups: 3, activation: .relu6),
        ConvCase(cin: 2, cout: 2, h: 16, w: 16, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 2),
        ConvCase(cin: 2, cout: 2, h: 20, w: 5, k: 5, pads: [2, 2, 2, 2], groups: 2, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 15, w: 15, k: 3, stride: 2, pads: [0, 0, 1, 1], groups: 3),
        ConvCase(cin: 2, cout: 6, h: 7, w: 7, k: 5, pads: [2, 2, 2, 2], groups: 2, activation: .relu),
        // 5×5 narrow maps run in blocks of up to 8 output rows: stride 2 from 14² to 7² (one block), and
        // stride 2 on a tall odd map (19×9 → 10×5: a block of 8 rows and one of 2).
        ConvCase(cin: 3, cout: 3, h: 14, w: 14, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 3, activation: .hardswish),
        ConvCase(cin: 2, cout: 2, h: 19, w: 9, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 2, activation: .silu),
        ConvCase(cin: 2, cout: 2, h: 5, w: 1, k: 3, pads: [1, 1, 1, 1], groups: 2),
    ] + directDepthwiseCases

    /// Depthwise on rows of more than 8 outputs (the AVX-512 direct kernel where the CPU has AVX-512F,
    /// else the bordered / phase-split copy). Stride 2: 9–10 and 33–35 output columns (one vector with a masked
    /// tail, three plus a tail), odd and even input widths, left padding 0, 1 and 2, 3×3 and 5×5,
    /// channel multiplier 2, fused ReLU6 and deferred SiLU, a 4-row block plus 1–3 leftover rows.
    static let directDepthwiseCases: [ConvCase] = [
        ConvCase(cin: 2, cout: 2, h: 9, w: 19, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 2, activation: .relu6),
        ConvCase(cin: 2, cout: 4, h: 11, w: 70, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 2, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 13, w: 67, k: 3, stride: 2, pads: [0, 0, 1, 1], groups: 3),
        ConvCase(cin: 2, cout: 2, h: 10, w: 18, k: 5, stride: 2, pads: [1, 1, 2, 2], groups: 2, activation: .silu),
        ConvCase(cin: 2, cout: 4, h: 12, w: 40, k: 3, stride: 2, pads: [1, 2, 1, 0], groups: 2, activation: .relu6),
        ConvCase(batch: 2, cin: 3, cout: 3, h: 16, w: 21, k: 5, stride: 2, pads: [2, 0, 2, 2], groups: 3, activation: .relu),
        // Stride 1 (the direct kernel's shifted taps): 9, 16, 17 and 37 output columns, padding 0–2 per side
        // (asymmetric too), 3×3 and 5×5, multiplier 2, ReLU6, deferred SiLU, 1–3 leftover rows, batch 2.
        ConvCase(cin: 2, cout: 2, h: 9, w: 9, k: 3, pads: [1, 1, 1, 1], groups: 2, activation: .relu6),
        ConvCase(cin: 2, cout: 4, h: 14, w: 16, k: 5, pads: [2, 2, 2, 2], groups: 2, activation: .silu),
        ConvCase(cin: 3, cout: 3, h: 11, w: 19, k: 3, pads: [0, 0, 0, 0], groups: 3),
        ConvCase(cin: 2, cout: 2, h: 10, w: 37, k: 5, pads: [1, 2, 1, 2], groups: 2, activation: .relu),
        ConvCase(batch: 2, cin: 3, cout: 3, h: 7, w: 17, k: 3, pads: [1, 0, 0, 1], groups: 3, activation: .silu),
        // Narrow maps (≤ 8 output columns) at stride 2 with the input row in one 16-lane load (the AVX-512
        // narrow kernel, else the AVX2 masked halves): 14² → 7² 3×3 with ReLU6 and multiplier 2, 13² → 7² 5×5
        // with deferred SiLU, 15 columns without left padding, a tall map in two 8-row blocks (21 → 11 rows).
        ConvCase(cin: 2, cout: 4, h: 14, w: 14, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 2, activation: .relu6),
        ConvCase(cin: 3, cout: 3, h: 13, w: 13, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 3, activation: .silu),
        ConvCase(cin: 2, cout: 2, h: 15, w: 15, k: 3, stride: 2, pads: [0, 0, 1, 1], groups: 2, activation: .hardswish),
        ConvCase(batch: 2, cin: 2, cout: 2, h: 21, w: 11, k: 5, stride: 2, pads: [2, 2, 2, 2], groups: 2),
    ]

    /// The same depthwise cases on the C kernels' step with the AVX-512 direct kernels allowed and not
    /// (the AVX2 bordered / phase-split copy or narrow masked loads they replace), so both paths stay
    /// tested on an AVX-512 CPU.
    @Test(arguments: directDepthwiseCases)
    func depthwiseDirectAndCopyPaths(_ c: ConvCase) throws {
        guard KernelISA.supported == .avx2 else { return }
        try Self.directAndFallback(c, groups: c.groups, weightShape: [c.cout, 1, c.k, c.k], seed: 11) { geometry, x, y, w, b, act, threads, allow in
            let step = DepthwiseConvolutionStep(geometry: geometry, x: x, y: y, weights: w, bias: b, activation: act, threads: threads,
                                                kernels: .avx2, allowDirect: allow)
            return (step, step.direct || step.narrowDirect)
        }
    }

    /// Runs case `c` on a C-kernel step built by `make` with its direct AVX-512 kernel allowed and not, at 1 and
    /// 2 threads, against the naive reference; the step must report the direct kernel exactly when allowed on
    /// an AVX-512F CPU (`make` returns the step and whether it took the direct kernel).
    static func directAndFallback(
        _ c: ConvCase, groups: Int, weightShape: TensorShape, seed: UInt64,
        make: (ConvGeometry, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, [Float], [Float], FusedActivation, Int, Bool) -> (any Step, Bool)
    ) throws {
        let attrs = ConvAttributes(inChannels: c.cin, outChannels: c.cout, kernel: [c.k, c.k], strides: [c.stride, c.stride], pads: c.pads,
                                   dilations: [1, 1], groups: groups, hasBias: true)
        let outH = (c.h + c.pads[0] + c.pads[2] - c.k) / c.stride + 1, outW = (c.w + c.pads[1] + c.pads[3] - c.k) / c.stride + 1
        let inShape: TensorShape = [c.batch, c.cin, c.h, c.w], outShape: TensorShape = [c.batch, c.cout, outH, outW]
        let w = randomInput(weightShape, seed: seed).values, b = randomInput([c.cout], seed: seed + 1).values
        let input = randomInput(inShape)
        var want = Reference.conv(input.values, inShape, w, b, attrs, out: outShape)
        if let a = c.activation { want = want.map { Reference.activation($0, a) } }
        let fused = c.activation.flatMap { FusedActivation(.activation($0)) } ?? FusedActivation.none
        let x = UnsafeMutablePointer<Float>.allocate(capacity: input.values.count)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: want.count)
        defer { x.deallocate(); y.deallocate() }
        x.initialize(from: input.values, count: input.values.count)
        for allowDirect in [true, false] {
            for threads in [1, 2] {
                let (step, direct) = make(ConvGeometry(attrs, input: inShape, output: outShape), x, y, w, b, fused, threads, allowDirect)
                #expect(direct == (allowDirect && ck_isa() >= Int32(CK_ISA_AVX512)), "\(step.algorithm)")
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, step.scratchFloats))
                defer { scratch.deallocate() }
                y.update(repeating: .nan, count: want.count)
                step.run(pool: WorkerPool(threads: threads), scratch: scratch)
                expectClose(Array(UnsafeBufferPointer(start: y, count: want.count)), want,
                            "\(c.testDescription) \(step.algorithm) threads \(threads)")
            }
        }
    }

    /// Stem-shaped convolutions (≤ 4 input channels, 3×3, stride 2) for the AVX-512F direct kernel:
    /// 8-channel blocks with 1–8 live channels (5, 8, 20, 24), output widths that are a multiple of
    /// 16 and not (tails of 1–15 columns), even and odd input sizes, padding 0–1 per side (asymmetric
    /// too), fused ReLU6, deferred SiLU, batch 2.
    static let stemCases: [ConvCase] = [
        ConvCase(cin: 3, cout: 24, h: 64, w: 64, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .relu6),
        ConvCase(cin: 3, cout: 20, h: 37, w: 75, k: 3, stride: 2, pads: [1, 1, 1, 1], activation: .silu),
        ConvCase(cin: 4, cout: 8, h: 36, w: 74, k: 3, stride: 2),
        ConvCase(cin: 1, cout: 5, h: 9, w: 40, k: 3, stride: 2, pads: [0, 1, 0, 1], activation: .relu),
        ConvCase(batch: 2, cin: 2, cout: 13, h: 17, w: 33, k: 3, stride: 2, pads: [1, 0, 0, 1]),
    ]

    /// The stem cases on the convolution step with the direct kernel allowed and not (im2col + the C
    /// GEMM), at 1 and 2 threads, against the naive reference.
    @Test(arguments: stemCases)
    func stemDirectAndIm2colPaths(_ c: ConvCase) throws {
        guard KernelISA.supported == .avx2 else { return }
        try Self.directAndFallback(c, groups: 1, weightShape: [c.cout, c.cin, c.k, c.k], seed: 13) { geometry, x, y, w, b, act, threads, allow in
            let step = ConvolutionStep(geometry: geometry, x: x, y: y, weights: w, bias: b, activation: act, threads: threads,
                                       kernels: .avx2, allowDirect: allow)
            return (step, step.stem)
        }
    }

    /// act(A·B + bias) in double precision for rows [row0, m) of an m × k by k × n product, zero in the
    /// rows before; `act` is ReLU, none or (any other) SiLU, as the packed-GEMM tests use them.
    static func referenceProduct(_ a: [Float], _ b: [Float], bias: [Float]?, m: Int, k: Int, n: Int, rows row0: Int,
                                 _ act: FusedActivation) -> [Float] {
        var want = [Float](repeating: 0, count: m * n)
        for i in row0..<m {
            for j in 0..<n {
                var sum = bias.map { Double($0[i]) } ?? 0
                for d in 0..<k { sum += Double(a[i * k + d]) * Double(b[d * n + j]) }
                let v = Float(sum)
                want[i * n + j] = switch act {
                case .relu: Swift.max(0, v)
                case .none: v
                default: Reference.activation(v, .silu)
                }
            }
        }
        return want
    }

    /// The transposed product on its own: `ck_gemm_packed_t` (pixel panels of ≤ 16 with one accumulator
    /// per pixel on an AVX-512F CPU, else 6-pixel AVX2 panels) and `ck_gemm_packed_t6` (always the
    /// AVX2 panels), against a double-precision reference: every panel width (2–17 pixels) and the
    /// map sizes that occur (25, 49, 64, 100, 128, 200), depths 1, 130 and 2100 (> 2048: K blocks),
    /// 15 and 33 rows (partial 16-channel panels), a row range starting at the second panel (a
    /// thread's share of an output-channel split), ReLU, deferred SiLU, no bias.
    @Test func transposedProductOnEveryPanelWidth() throws {
        guard KernelISA.supported == .avx2 else { return }
        let acts: [FusedActivation] = [.relu, FusedActivation(.activation(.silu)) ?? .none, .none]
        for k in [1, 130, 2100] {
            for m in [15, 33] {
                for n in Array(2...17) + [25, 49, 64, 100, 128, 200] {
                    let a = randomInput([m, k], seed: UInt64(k + m)).values, b = randomInput([k, n], seed: UInt64(n)).values
                    let bias = randomInput([m], seed: 5).values
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: Int(ck_gemm_packed_wt_floats(m, k)))
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Int(ck_gemm_t_scratch_floats(m, k, n)) + 16)
                    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                    defer { packed.deallocate(); scratch.deallocate(); c.deallocate() }
                    ck_gemm_pack_wt(a, m, k, k, packed)
                    let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) + 31) & ~31)!
                    let act = acts[(k + m + n) % acts.count], withBias = n % 5 != 0
                    let row0 = m > 16 && n % 2 == 1 ? 16 : 0
                    let want = Self.referenceProduct(a, b, bias: withBias ? bias : nil, m: m, k: k, n: n, rows: row0, act)
                    for sixPixel in [false, true] {
                        c.update(repeating: 0, count: m * n)
                        bias.withUnsafeBufferPointer { bp in
                            let bptr = withBias ? bp.baseAddress : nil
                            if sixPixel { ck_gemm_packed_t6(packed, m, row0, m, k, b, n, n, c, n, bptr, act.ck, aligned) }
                            else { ck_gemm_packed_t(packed, m, row0, m, k, b, n, n, c, n, bptr, act.ck, aligned) }
                        }
                        let kernel = sixPixel || ck_gemm_tn_eligible(n) == 0 ? "6-pixel AVX2" : "pixel-panel AVX-512"
                        expectClose(Array(UnsafeBufferPointer(start: c, count: m * n)), want,
                                    "m \(m) k \(k) n \(n) rows \(row0)..<\(m) \(act) \(kernel)")
                    }
                }
            }
        }
    }

    /// `ck_gemm_rows16` (16-row weight panels, B read in place) against a double-precision reference at
    /// row counts with every kind of last panel — since session 31 the kernel takes any row count on
    /// Intel CPUs (`ck_avx512_full_width`): 1, 5, 12, 17, 29, shufflenet's 58 and 116 rows — depths 1,
    /// 58 and 130, column counts with and without a transposed tail (1, 4, 16, 17, 98, 200), a row
    /// range starting at the second panel, ReLU, deferred SiLU, no bias.
    @Test func sixteenRowProductOnEveryLastPanel() throws {
        guard KernelISA.supported == .avx2, KernelISA.hasAVX512 else { return }
        let acts: [FusedActivation] = [.relu, FusedActivation(.activation(.silu)) ?? .none, .none]
        for m in [1, 5, 12, 17, 29, 58, 116] {
            for k in [1, 58, 130] {
                for n in [1, 4, 16, 17, 98, 200] {
                    let a = randomInput([m, k], seed: UInt64(k + m)).values, b = randomInput([k, n], seed: UInt64(n + 3)).values
                    let bias = randomInput([m], seed: 9).values
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: Int(ck_gemm_packed_wt_floats(m, k)))
                    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                    defer { packed.deallocate(); c.deallocate() }
                    ck_gemm_pack_wt(a, m, k, k, packed)
                    let act = acts[(k + m + n) % acts.count], withBias = n % 5 != 0
                    let row0 = m > 16 && n % 2 == 0 ? 16 : 0
                    let want = Self.referenceProduct(a, b, bias: withBias ? bias : nil, m: m, k: k, n: n, rows: row0, act)
                    c.update(repeating: 0, count: m * n)
                    bias.withUnsafeBufferPointer { bp in ck_gemm_rows16(packed, m, row0, m, k, b, n, n, c, n, withBias ? bp.baseAddress : nil, act.ck) }
                    expectClose(Array(UnsafeBufferPointer(start: c, count: m * n)), want, "m \(m) k \(k) n \(n) rows \(row0)..<\(m) \(act)")
                }
            }
        }
        if ck_avx512_full_width() != 0 {
            #expect(ck_gemm_rows16_eligible(58) != 0 && ck_gemm_rows16_eligible(116) != 0 && ck_gemm_rows16_eligible(1) != 0)
        } else {
            #expect(ck_gemm_rows16_eligible(58) == 0 && ck_gemm_rows16_eligible(63) != 0 && ck_gemm_rows16_eligible(64) != 0)
        }
    }

    /// `ck_gemm_rowmajor_avx512` (a fully connected layer, MatMul or attention product over several
    /// rows on an AVX-512F CPU) against a double-precision reference: every row-panel size (1–17
    /// rows) and 31 and 197 (vit_tiny's tokens: 13 panels of 15–16), depths 1, 19, 130 and 2100
    /// (> 2048: K blocks), 1, 15, 16, 33 and 200 outputs, row and output ranges that start inside
    /// (a thread's share), strides wider than the rows, ReLU, GELU, deferred SiLU, no bias.
    /// `ck_gemm_pack_b` of a k × n matrix must equal `ck_gemm_pack_wt` of its transpose.
    @Test func rowMajorProductOnEveryRowPanel() throws {
        guard ck_isa() >= Int32(CK_ISA_AVX512) else { return }
        let acts: [FusedActivation] = [.relu, .gelu, FusedActivation(.activation(.silu)) ?? .none, .none]
        var cases = 0
        for k in [1, 19, 130, 2100] {
            for n in [1, 15, 16, 33, 200] {
                for m in Array(1...17) + [31, 197] where k < 2100 || m % 4 == 1 {
                    let ldx = k + (m % 3 == 0 ? 5 : 0), ldy = n + (m % 2 == 0 ? 3 : 0)
                    let x = randomInput([m, ldx], seed: UInt64(m + k)).values, w = randomInput([n, k], seed: UInt64(n)).values
                    let bias = randomInput([n], seed: 5).values
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: Int(ck_gemm_packed_wt_floats(n, k)))
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: RowMajorGemm.scratchFloats(depth: k))
                    let y = UnsafeMutablePointer<Float>.allocate(capacity: m * ldy)
                    defer { packed.deallocate(); scratch.deallocate(); y.deallocate() }
                    ck_gemm_pack_wt(w, n, k, k, packed)
                    let act = acts[(k + m + n) % acts.count], withBias = (m + n) % 5 != 0
                    let j0 = m > 3 && n % 2 == 1 ? 2 : 0, o0 = n > 16 && m % 2 == 1 ? 16 : 0
                    let sentinel: Float = 1234.5
                    y.update(repeating: sentinel, count: m * ldy)
                    bias.withUnsafeBufferPointer { bp in
                        ck_gemm_rowmajor_avx512(packed, n, o0, n, k, x, ldx, j0, m, y, ldy, withBias ? bp.baseAddress : nil, act.ck, scratch)
                    }
                    var got: [Float] = [], want: [Float] = []
                    var untouched = true
                    for j in 0..<m {
                        for o in 0..<ldy {
                            let inside = j >= j0 && o >= o0 && o < n
                            guard inside else {
                                if y[j * ldy + o] != sentinel { untouched = false }
                                continue
                            }
                            var sum = withBias ? Double(bias[o]) : 0
                            for d in 0..<k { sum += Double(x[j * ldx + d]) * Double(w[o * k + d]) }
                            let v = Float(sum)
                            let expected: Float = switch act {
                            case .relu: Swift.max(0, v)
                            case .none: v
                            case .gelu: Reference.activation(v, .gelu)
                            default: Reference.activation(v, .silu)
                            }
                            want.append(expected)
                            got.append(y[j * ldy + o])
                        }
                    }
                    let label = "m \(m) k \(k) n \(n) rows \(j0)..<\(m) outputs \(o0)..<\(n) ldx \(ldx) ldy \(ldy) \(act)"
                    expectClose(got, want, label)
                    #expect(untouched, "\(label): wrote outside its rows and outputs")
                    // The same weights given as the k × n right operand of a MatMul.
                    var wt = [Float](repeating: 0, count: k * n)
                    for o in 0..<n { for d in 0..<k { wt[d * n + o] = w[o * k + d] } }
                    let fromB = UnsafeMutablePointer<Float>.allocate(capacity: Int(ck_gemm_packed_wt_floats(n, k)))
                    defer { fromB.deallocate() }
                    ck_gemm_pack_b(wt, k, n, n, fromB)
                    let count = Int(ck_gemm_packed_wt_floats(n, k))
                    #expect(Array(UnsafeBufferPointer(start: fromB, count: count)) == Array(UnsafeBufferPointer(start: packed, count: count)),
                            "pack_b(k \(k), n \(n)) differs from pack_wt of the transpose")
                    cases += 1
                }
            }
        }
        #expect(cases > 300)
    }

    @Test(arguments: convCases)
    func convolutionWithFoldedBatchNormAndActivation(_ c: ConvCase) throws {
        var b = GraphBuilder(name: "conv")
        let x = b.input("x", shape: [c.batch, c.cin, c.h, c.w])
        let attrs = ConvAttributes(inChannels: c.cin, outChannels: c.cout, kernel: [c.k, c.k], strides: [c.stride, c.stride], pads: c.pads,
                                   dilations: [c.dilation, c.dilation], groups: c.groups, hasBias: c.bias)
        var params = [ParamInfo(name: "w", shape: [c.cout, c.cin / c.groups, c.k, c.k])]
        if c.bias { params.append(ParamInfo(name: "b", shape: [c.cout])) }
        var y = try b.add1("conv", .conv(attrs), inputs: [x], params: params)
        let bnParams = ["g", "beta", "mean", "var"].map { ParamInfo(name: $0, shape: [c.cout]) }
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams)
        if let a = c.activation { y = try b.add1("act", .activation(a), inputs: [y]) }
        let g = try b.finish()
        #expect(g.fusionGroups.count == 1, "conv, BN and activation form one kernel")
        let w = SeededWeights.generate(for: g, seed: 3)
        let input = randomInput(g.tensors[x].shape)
        let outShape = g.tensors[g.outputs[0]].shape
        var want = Reference.conv(input.values, input.shape, w["w"]!, c.bias ? w["b"]! : nil, attrs, out: outShape)
        want = Reference.batchNorm(want, channels: c.cout, inner: outShape[2] * outShape[3], bnParams.map { w[$0.name]! }, eps: 1e-5)
        if let a = c.activation { want = want.map { Reference.activation($0, a) } }
        for (o, got) in zip(runnerConfigurations, try runBoth(g, w, [input])) {
            #expect(got[0].shape == outShape)
            expectClose(got[0].values, want, "\(c.testDescription) threads \(o.threads ?? 0) kernels \(o.kernels)")
        }
    }

    /// Residual adds fused into the conv (`conv-bn-add[-act]`), over every conv path that can
    /// carry one: 1×1 pixel tiles on the 6-row, 16-row and transposed pixel-panel GEMMs, the
    /// output-channel split of small maps, im2col 3×3 (stride 2, grouped), Winograd by tile
    /// rows and by channels (7×7 maps), batches; SiLU takes the deferred AVX-512 pass.
    static let residualCases: [ConvCase] = [
        ConvCase(cin: 16, cout: 24, h: 20, w: 30, k: 1),
        ConvCase(cin: 24, cout: 32, h: 17, w: 19, k: 1, activation: .relu),
        ConvCase(cin: 96, cout: 32, h: 7, w: 7, k: 1, activation: .silu),
        ConvCase(cin: 32, cout: 96, h: 6, w: 6, k: 1, activation: .relu6),
        ConvCase(batch: 2, cin: 8, cout: 12, h: 13, w: 11, k: 3, stride: 2, pads: [1, 1, 1, 1], groups: 2, activation: .relu),
        ConvCase(cin: 16, cout: 16, h: 14, w: 15, k: 3, pads: [1, 1, 1, 1], activation: .relu),
        ConvCase(cin: 32, cout: 32, h: 7, w: 7, k: 3, pads: [1, 1, 1, 1]),
        ConvCase(batch: 2, cin: 8, cout: 16, h: 9, w: 9, k: 3, pads: [1, 1, 1, 1], activation: .silu),
    ]

    @Test(arguments: residualCases)
    func convolutionWithFusedResidualAdd(_ c: ConvCase) throws {
        var b = GraphBuilder(name: "residual")
        let x = b.input("x", shape: [c.batch, c.cin, c.h, c.w])
        let oh = (c.h + c.pads[0] + c.pads[2] - c.k) / c.stride + 1, ow = (c.w + c.pads[1] + c.pads[3] - c.k) / c.stride + 1
        let shortcut = b.input("shortcut", shape: [c.batch, c.cout, oh, ow])
        let attrs = ConvAttributes(inChannels: c.cin, outChannels: c.cout, kernel: [c.k, c.k], strides: [c.stride, c.stride], pads: c.pads,
                                   dilations: [1, 1], groups: c.groups, hasBias: true)
        var y = try b.add1("conv", .conv(attrs), inputs: [x],
                           params: [ParamInfo(name: "w", shape: [c.cout, c.cin / c.groups, c.k, c.k]), ParamInfo(name: "b", shape: [c.cout])])
        let bnParams = ["g", "beta", "mean", "var"].map { ParamInfo(name: $0, shape: [c.cout]) }
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams)
        y = try b.add1("add", .binary(.add), inputs: [shortcut, y])
        if let a = c.activation { y = try b.add1("act", .activation(a), inputs: [y]) }
        let g = try b.finish()
        #expect(g.fusionGroups.map(\.kind) == ["conv-bn-add" + (c.activation.map { "-\($0.rawValue)" } ?? "")])
        let w = SeededWeights.generate(for: g, seed: 5)
        let input = randomInput(g.tensors[x].shape), s = randomInput(g.tensors[shortcut].shape, seed: 11)
        let outShape = g.tensors[g.outputs[0]].shape
        var want = Reference.conv(input.values, input.shape, w["w"]!, w["b"]!, attrs, out: outShape)
        want = Reference.batchNorm(want, channels: c.cout, inner: outShape[2] * outShape[3], bnParams.map { w[$0.name]! }, eps: 1e-5)
        want = zip(want, s.values).map { $0 + $1 }
        if let a = c.activation { want = want.map { Reference.activation($0, a) } }
        for o in runnerConfigurations {
            let model = try CompiledModel(graph: g, weights: w, options: o)
            #expect(model.layers[0].algorithm.hasSuffix("+residual"), "\(model.layers[0].algorithm)")
            let got = try model.run([input, s])
            expectClose(got[0].values, want, "\(c.testDescription) threads \(o.threads ?? 0) kernels \(o.kernels)")
        }
    }

    /// Winograd splits output channels (each thread transforming the whole input) exactly when
    /// there are at least as many output channels as tiles, and gives the same result as one
    /// thread at 2 and 3 threads, with a fused residual add and without.
    @Test func winogradSplitsChannelsWhenTheyOutnumberTiles() throws {
        // (cin, cout, map, split at 2 / 3 threads): 49 tiles under 56 and 48 channels; 16 tiles under 32
        // channels, too few for 3 threads (each needs 16 rows).
        for (cin, cout, hw, split) in [(24, 56, 13, [true, true]), (24, 48, 13, [false, false]), (8, 32, 8, [true, false])] {
            for residual in [false, true] {
                var b = GraphBuilder(name: "winograd-split")
                let x = b.input("x", shape: [1, cin, hw, hw])
                let attrs = ConvAttributes(inChannels: cin, outChannels: cout, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], hasBias: true)
                var y = try b.add1("conv", .conv(attrs), inputs: [x],
                                   params: [ParamInfo(name: "w", shape: [cout, cin, 3, 3]), ParamInfo(name: "b", shape: [cout])])
                var inputs = [randomInput([1, cin, hw, hw])]
                if residual {
                    let shortcut = b.input("shortcut", shape: [1, cout, hw, hw])
                    y = try b.add1("add", .binary(.add), inputs: [shortcut, y])
                    inputs.append(randomInput([1, cout, hw, hw], seed: 9))
                }
                y = try b.add1("relu", .activation(.relu), inputs: [y])
                let g = try b.finish()
                let w = SeededWeights.generate(for: g, seed: 2)
                let one = try CompiledModel(graph: g, weights: w, options: RunnerOptions(threads: 1)).run(inputs)
                for threads in [2, 3] {
                    let model = try CompiledModel(graph: g, weights: w, options: RunnerOptions(threads: threads))
                    let algorithm = model.layers[0].algorithm
                    #expect(algorithm.contains("winograd") && algorithm.contains("split-cout") == split[threads - 2],
                            "\(cin)→\(cout) on \(hw)², \(threads) threads: \(algorithm)")
                    expectClose(try model.run(inputs)[0].values, one[0].values, tolerance: 1e-5,
                                "\(cin)→\(cout) on \(hw)², residual \(residual), \(threads) threads vs 1")
                }
            }
        }
    }

    @Test func convTranspose() throws {
        var b = GraphBuilder(name: "convT")
        let x = b.input("x", shape: [2, 4, 5, 6])
        let a = ConvAttributes(inChannels: 4, outChannels: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], groups: 2, hasBias: true,
                               outputPadding: [1, 1])
        _ = try b.add1("ct", .convTranspose(a), inputs: [x], params: [ParamInfo(name: "w", shape: [4, 3, 3, 3]), ParamInfo(name: "b", shape: [6])])
        let g = try b.finish()
        let w = SeededWeights.generate(for: g, seed: 1)
        let input = randomInput(g.tensors[x].shape)
        let want = Reference.convTranspose(input.values, input.shape, w["w"]!, w["b"]!, a, out: g.tensors[g.outputs[0]].shape)
        for got in try runBoth(g, w, [input]) { expectClose(got[0].values, want, "conv transpose") }
        // A decoder's 2×2 stride-2 upsampling, 32 → 16 channels (64 GEMM rows: 16-row panels on AVX-512F CPUs).
        var b2 = GraphBuilder(name: "convT2")
        let x2 = b2.input("x", shape: [1, 32, 7, 9])
        let a2 = ConvAttributes(inChannels: 32, outChannels: 16, kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], groups: 1, hasBias: true)
        _ = try b2.add1("up", .convTranspose(a2), inputs: [x2],
                        params: [ParamInfo(name: "w", shape: [32, 16, 2, 2]), ParamInfo(name: "b", shape: [16])])
        let g2 = try b2.finish()
        let w2 = SeededWeights.generate(for: g2, seed: 2)
        let input2 = randomInput(g2.tensors[x2].shape, seed: 3)
        let want2 = Reference.convTranspose(input2.values, input2.shape, w2["w"]!, w2["b"]!, a2, out: g2.tensors[g2.outputs[0]].shape)
        for got in try runBoth(g2, w2, [input2]) { expectClose(got[0].values, want2, "conv transpose 2×2 s2") }
        if ck_isa() >= Int32(CK_ISA_AVX512) {
            let model = try CompiledModel(graph: g2, weights: w2, options: RunnerOptions(threads: 2, kernels: .avx2))
            #expect(model.layers[0].algorithm == "gemm16x16 avx512+col2im", "\(model.layers[0].algorithm)")
        }
    }

    /// Batch 1 takes the matrix-vector kernel (AVX-512F: 16-row panels, 4 at a time): 40 and 301
    /// inputs (an even depth and an odd one), 150 outputs (9 full panels and one of 6 rows: 2 groups of 4 and
    /// 2 single panels), 1000 outputs split over 2 threads; 1152 → 48 and 673 → 20 (3 and 2 panels, an odd
    /// depth) split their inputs over the threads (`gemv16p k-split`).
    /// More rows take `RowMajorGemm` on AVX-512F CPUs: 7 and 33 rows (10 output panels: split by
    /// outputs on 2 and 3 threads), 197 rows into 24 outputs (2 output panels: split by rows).
    @Test(arguments: [(1, 40, 150), (7, 40, 150), (33, 40, 150), (197, 24, 40), (1, 301, 1000), (1, 1152, 48), (1, 673, 20)])
    func gemmWithBiasBatchNormAndActivation(rows: Int, inFeatures fin: Int, outFeatures fout: Int) throws {
        var b = GraphBuilder(name: "fc")
        let x = b.input("x", shape: [rows, fin])
        var y = try b.add1("fc", .gemm(GemmAttributes(inFeatures: fin, outFeatures: fout)), inputs: [x],
                           params: [ParamInfo(name: "w", shape: [fout, fin]), ParamInfo(name: "b", shape: [fout])])
        let bn = ["g", "beta", "mean", "var"].map { ParamInfo(name: $0, shape: [fout]) }
        y = try b.add1("bn", .batchNorm(epsilon: 1e-3), inputs: [y], params: bn)
        _ = try b.add1("relu", .activation(.relu), inputs: [y])
        let g = try b.finish()
        let w = SeededWeights.generate(for: g, seed: 5)
        let input = randomInput([rows, fin])
        var want = Reference.matmul(input.values, [rows, fin], transpose(w["w"]!, rows: fout, cols: fin), [fin, fout], out: [rows, fout])
        want = Reference.binary(want, [rows, fout], w["b"]!, [fout], out: [rows, fout], +)
        want = Reference.batchNorm(want, channels: fout, inner: 1, bn.map { w[$0.name]! }, eps: 1e-3).map { Swift.max($0, 0) }
        for got in try runBoth(g, w, [input]) { expectClose(got[0].values, want, "gemm rows \(rows) in \(fin) out \(fout)") }
        // Three threads: a K split into three slices (and, where a thread takes two, two partials in its scratch).
        let three = try CompiledModel(graph: g, weights: w, options: RunnerOptions(threads: 3, kernels: KernelISA.supported))
        for _ in 0..<3 { expectClose(try three.run([input])[0].values, want, "gemm rows \(rows) in \(fin) out \(fout), 3 threads") }
        if rows == 1, fin >= 600, fout <= 48, ck_isa() >= Int32(CK_ISA_AVX512) {
            #expect(three.layers[0].algorithm == "gemv16p k-split avx512", "\(three.layers[0].algorithm)")
            let one = try CompiledModel(graph: g, weights: w, options: RunnerOptions(threads: 1, kernels: KernelISA.supported))
            #expect(one.layers[0].algorithm == "gemv16p avx512")
        }
        if rows > 1, ck_isa() >= Int32(CK_ISA_AVX512) { #expect(three.layers[0].algorithm == "gemmNx16 avx512", "\(three.layers[0].algorithm)") }
    }

    /// A residual add fused into a fully connected layer (`gemm-add`, a transformer block's residual;
    /// with a ReLU after it once, as `gemm-add-relu`), over the same paths as above: the matrix-vector
    /// panels and their K split, `RowMajorGemm` split by outputs and by rows, and OpenBLAS's sgemv and
    /// sgemm split by rows (33 rows) and by columns (7 rows on 2 threads) with the portable kernel set;
    /// 1, 2 and 3 threads. The sum is checked against the reference product plus bias plus shortcut.
    @Test(arguments: [(1, 40, 150), (7, 40, 150), (33, 40, 150), (197, 24, 40), (1, 301, 1000), (1, 1152, 48), (1, 673, 20)])
    func gemmWithFusedResidualAdd(rows: Int, inFeatures fin: Int, outFeatures fout: Int) throws {
        let relu = rows == 33
        var b = GraphBuilder(name: "fc-residual")
        let x = b.input("x", shape: [rows, fin])
        let shortcut = b.input("shortcut", shape: [rows, fout])
        var y = try b.add1("fc", .gemm(GemmAttributes(inFeatures: fin, outFeatures: fout)), inputs: [x],
                           params: [ParamInfo(name: "w", shape: [fout, fin]), ParamInfo(name: "b", shape: [fout])])
        y = try b.add1("add", .binary(.add), inputs: [y, shortcut])
        if relu { _ = try b.add1("relu", .activation(.relu), inputs: [y]) }
        let g = try b.finish()
        #expect(g.fusionGroups.map(\.kind) == [relu ? "gemm-add-relu" : "gemm-add"])
        let w = SeededWeights.generate(for: g, seed: 5)
        let input = randomInput([rows, fin]), s = randomInput([rows, fout], seed: 13)
        var want = Reference.matmul(input.values, [rows, fin], transpose(w["w"]!, rows: fout, cols: fin), [fin, fout], out: [rows, fout])
        want = Reference.binary(want, [rows, fout], w["b"]!, [fout], out: [rows, fout], +)
        want = zip(want, s.values).map { $0 + $1 }
        if relu { want = want.map { Swift.max($0, 0) } }
        let options = runnerConfigurations + [RunnerOptions(threads: 3, kernels: KernelISA.supported)]
        for o in options {
            let model = try CompiledModel(graph: g, weights: w, options: o)
            #expect(model.layers.count == 1 && model.layers[0].algorithm.hasSuffix(" +residual"), "\(model.layers.map(\.algorithm))")
            expectClose(try model.run([input, s])[0].values, want, "gemm-add rows \(rows) in \(fin) out \(fout), threads \(o.threads ?? 0) kernels \(o.kernels)")
        }
    }

    /// A residual add reached through layout views (ONNX's attention block: Gemm → Reshape →
    /// Transpose of a size-1 axis → Add) fuses into the GEMM: the product is written straight into
    /// the add's output, and the sum matches the reference on every configuration.
    @Test func gemmWithFusedResidualAddBehindViews() throws {
        let (rows, fin, fout) = (197, 48, 64)
        var b = GraphBuilder(name: "fc-views")
        let x = b.input("x", shape: [rows, fin])
        let shortcut = b.input("shortcut", shape: [1, rows, fout])
        var y = try b.add1("fc", .gemm(GemmAttributes(inFeatures: fin, outFeatures: fout)), inputs: [x],
                           params: [ParamInfo(name: "w", shape: [fout, fin]), ParamInfo(name: "b", shape: [fout])])
        y = try b.add1("view", .reshape(shape: [rows, 1, fout]), inputs: [y])
        y = try b.add1("swap", .transpose(perm: [1, 0, 2]), inputs: [y])
        _ = try b.add1("add", .binary(.add), inputs: [y, shortcut])
        let g = try b.finish()
        #expect(g.fusionGroups.map(\.kind) == ["gemm-add"])
        let w = SeededWeights.generate(for: g, seed: 7)
        let input = randomInput([rows, fin]), s = randomInput([1, rows, fout], seed: 17)
        var want = Reference.matmul(input.values, [rows, fin], transpose(w["w"]!, rows: fout, cols: fin), [fin, fout], out: [rows, fout])
        want = Reference.binary(want, [rows, fout], w["b"]!, [fout], out: [rows, fout], +)
        want = zip(want, s.values).map { $0 + $1 }
        for o in runnerConfigurations {
            let model = try CompiledModel(graph: g, weights: w, options: o)
            #expect(model.layers.count == 1 && model.layers[0].algorithm.hasSuffix(" +residual"), "\(model.layers.map(\.algorithm))")
            let got = try model.run([input, s])[0]
            #expect(got.shape == TensorShape([1, rows, fout]))
            expectClose(got.values, want, "gemm-views-add threads \(o.threads ?? 0) kernels \(o.kernels)")
        }
    }

    /// Rows 4: one sgemm per batch entry; rows 40 on 2 threads: 6 batch entries split evenly,
    /// and a 3-entry batch (below) is cut into row blocks.
    @Test(arguments: [4, 40])
    func batchedMatMulWithBroadcast(rows: Int) throws {
        var b = GraphBuilder(name: "mm")
        let a = b.input("a", shape: [2, 1, rows, 5])
        let c = b.input("c", shape: [3, 5, 6])
        _ = try b.add1("mm", .matmul, inputs: [a, c])
        let g = try b.finish()
        let w = SeededWeights.generate(for: g, seed: 2)
        let ia = randomInput([2, 1, rows, 5], seed: 1), ic = randomInput([3, 5, 6], seed: 2)
        let want = Reference.matmul(ia.values, [2, 1, rows, 5], ic.values, [3, 5, 6], out: [2, 3, rows, 6])
        for got in try runBoth(g, w, [ia, ic]) {
            expectClose(got[0].values, want, "matmul broadcast rows \(rows)")
        }
    }

    /// Three heads (vit_tiny's count) do not split over 2 threads: each product is cut into row
    /// blocks; batch 1 (a plain matrix product) is cut too.
    @Test(arguments: [[3], [1]])
    func matMulRowBlocksMatchTheReference(batch: [Int]) throws {
        var b = GraphBuilder(name: "mm3")
        let a = b.input("a", shape: TensorShape(batch + [97, 16]))
        let c = b.input("c", shape: TensorShape(batch + [16, 33]))
        _ = try b.add1("mm", .matmul, inputs: [a, c])
        let g = try b.finish()
        let ia = randomInput(TensorShape(batch + [97, 16]), seed: 3), ic = randomInput(TensorShape(batch + [16, 33]), seed: 4)
        let want = Reference.matmul(ia.values, batch + [97, 16], ic.values, batch + [16, 33], out: batch + [97, 33])
        for got in try runBoth(g, WeightStore(), [ia, ic]) { expectClose(got[0].values, want, "matmul \(batch) row blocks") }
        if ck_isa() >= Int32(CK_ISA_AVX512) {
            let model = try CompiledModel(graph: g, weights: WeightStore(), options: RunnerOptions(threads: 2, kernels: .avx2))
            #expect(model.layers[0].algorithm.contains("gemmNx16 avx512"), "\(model.layers[0].algorithm)")
        }
    }

    /// 5 queries: one task per (batch, head); 41 queries with batch 1 and 3 heads on 2 threads:
    /// each head's queries are cut into row blocks.
    @Test(arguments: [(2, 5), (1, 41)])
    func attention(batch nb: Int, queries sq: Int) throws {
        var b = GraphBuilder(name: "attn")
        let q = b.input("q", shape: [nb, sq, 12]), k = b.input("k", shape: [nb, 7, 12]), v = b.input("v", shape: [nb, 7, 9])
        _ = try b.add1("attn", .attention(heads: 3), inputs: [q, k, v])
        let g = try b.finish()
        let iq = randomInput([nb, sq, 12], seed: 1), ik = randomInput([nb, 7, 12], seed: 2), iv = randomInput([nb, 7, 9], seed: 3)
        var want = [Float](repeating: 0, count: nb * sq * 9)
        let qv = iq.values.map(Double.init), kv = ik.values.map(Double.init), vv = iv.values.map(Double.init)
        for bb in 0..<nb {
            for h in 0..<3 {
                for i in 0..<sq {
                    var s = [Double](repeating: 0, count: 7)
                    for j in 0..<7 {
                        var dot = 0.0
                        for t in 0..<4 { dot += qv[bb * sq * 12 + i * 12 + h * 4 + t] * kv[bb * 84 + j * 12 + h * 4 + t] }
                        s[j] = dot / 2.0
                    }
                    let m = s.max() ?? 0
                    var sum = 0.0
                    for j in 0..<7 { s[j] = Foundation.exp(s[j] - m); sum += s[j] }
                    for d in 0..<3 {
                        var acc = 0.0
                        for j in 0..<7 { acc += s[j] / sum * vv[bb * 63 + j * 9 + h * 3 + d] }
                        want[bb * sq * 9 + i * 9 + h * 3 + d] = Float(acc)
                    }
                }
            }
        }
        for got in try runBoth(g, WeightStore(), [iq, ik, iv]) { expectClose(got[0].values, want, "attention") }
    }

    static let poolCases: [(PoolAttributes, Bool)] = [
        (PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]), true),
        (PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true), false),
        (PoolAttributes(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: false), false),
        (PoolAttributes(kernel: [3, 3], strides: [2, 2], ceilMode: true), true),
        (PoolAttributes(kernel: [2, 3], strides: [2, 1], pads: [0, 1, 1, 1], ceilMode: true, countIncludePad: true), false),
        // SIMD max path: stride 1, mixed strides with asymmetric pads and ceil mode, even left pad with stride 2.
        (PoolAttributes(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1]), true),
        (PoolAttributes(kernel: [2, 3], strides: [1, 2], pads: [0, 1, 1, 0], ceilMode: true), true),
        (PoolAttributes(kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2]), true),
    ]

    @Test func pooling() throws {
        for (i, (attrs, isMax)) in Self.poolCases.enumerated() {
            var b = GraphBuilder(name: "pool")
            let x = b.input("x", shape: [2, 3, 10, 11])
            _ = try b.add1("p", isMax ? .maxPool(attrs) : .avgPool(attrs), inputs: [x])
            let g = try b.finish()
            let input = randomInput([2, 3, 10, 11])
            let want = Reference.pool(input.values, input.shape, attrs, out: g.tensors[g.outputs[0]].shape, max: isMax)
            for got in try runBoth(g, WeightStore(), [input]) { expectClose(got[0].values, want, "pool case \(i)") }
            // Three threads, each with its own bordered plane.
            let three = try CompiledModel(graph: g, weights: WeightStore(), options: RunnerOptions(threads: 3)).run([input])
            expectClose(three[0].values, want, "pool case \(i), 3 threads")
        }
    }

    @Test func reductions() throws {
        var b = GraphBuilder(name: "reduce")
        let x = b.input("x", shape: [2, 3, 4, 5])
        let gap = try b.add1("gap", .globalAvgPool, inputs: [x])
        let gmp = try b.add1("gmp", .globalMaxPool, inputs: [x])
        let rm = try b.add1("rm", .reduceMean(axes: [1], keepDims: false), inputs: [x])
        let rm2 = try b.add1("rm2", .reduceMean(axes: [2, 3], keepDims: false), inputs: [x])
        for t in [gap, gmp, rm, rm2] { b.markOutput(t) }
        let g = try b.finish()
        let input = randomInput([2, 3, 4, 5])
        let v = input.values
        var mean23 = [Float](repeating: 0, count: 6), max23 = [Float](repeating: -.infinity, count: 6)
        var mean1 = [Float](repeating: 0, count: 40)
        for p in 0..<6 {
            for i in 0..<20 {
                mean23[p] += v[p * 20 + i] / 20
                max23[p] = Swift.max(max23[p], v[p * 20 + i])
                mean1[(p / 3) * 20 + i] += v[p * 20 + i] / 3
            }
        }
        for got in try runBoth(g, WeightStore(), [input]) {
            expectClose(got[0].values, mean23, "global average pool")
            expectClose(got[1].values, max23, "global max pool")
            expectClose(got[2].values, mean1, "reduce mean axis 1")
            expectClose(got[3].values, mean23, "reduce mean axes 2,3")
        }
        // Rows long enough for every part of the C kernel (4 × 8-lane blocks, single vectors, a
        // masked tail: 13 × 17 = 221 = 6 × 32 + 3 × 8 + 5), negative values so a tail read as 0
        // would show in the max.
        var b2 = GraphBuilder(name: "reduce-long")
        let x2 = b2.input("x", shape: [1, 3, 13, 17])
        b2.markOutput(try b2.add1("gap", .globalAvgPool, inputs: [x2]))
        b2.markOutput(try b2.add1("gmp", .globalMaxPool, inputs: [x2]))
        let g2 = try b2.finish()
        let long = HostTensor(shape: [1, 3, 13, 17], values: randomInput([1, 3, 13, 17]).values.map { $0 - 10 })
        let lv = long.values
        let means = (0..<3).map { p in lv[p * 221..<(p + 1) * 221].reduce(0, +) / 221 }
        let maxes = (0..<3).map { p in lv[p * 221..<(p + 1) * 221].max()! }
        for got in try runBoth(g2, WeightStore(), [long]) {
            expectClose(got[0].values, means, "global average pool, 221-float rows")
            expectClose(got[1].values, maxes, "global max pool, 221-float rows")
        }
    }

    @Test(arguments: BinaryOp.allCases)
    func broadcastingBinary(_ op: BinaryOp) throws {
        let shapes: [([Int], [Int])] = [([2, 3, 4, 5], [3, 1, 5]), ([1, 6, 4, 4], [1, 6, 1, 1]), ([2, 1, 5], [1, 4, 1]), ([3, 17], [3, 17]), ([4, 1], [1, 9]),
                                         // One long same-shape row split into pieces and blocks (27 300 = 16 384 + 10 916).
                                         ([1, 3, 130, 70], [1, 3, 130, 70]), ([2, 3, 9000], [3, 1])]
        func f(_ a: Double, _ b: Double) -> Double {
            switch op {
            case .add: a + b
            case .sub: a - b
            case .mul: a * b
            case .div: a / b
            case .pow: Foundation.pow(a, b)
            }
        }
        for (sa, sb) in shapes {
            var b = GraphBuilder(name: "bin")
            let x = b.input("a", shape: TensorShape(sa)), y = b.input("b", shape: TensorShape(sb))
            let out = try b.add1("op", .binary(op), inputs: [x, y])
            let cst = try b.add1("const", .binary(op), inputs: [x], params: [ParamInfo(name: "c", shape: TensorShape(sb))])
            b.markOutput(out)
            b.markOutput(cst)
            let g = try b.finish()
            var ia = randomInput(TensorShape(sa), seed: 1), ib = randomInput(TensorShape(sb), seed: 2)
            if op == .pow || op == .div {
                ia.values = ia.values.map { abs($0) + 0.5 }
                ib.values = ib.values.map { abs($0) + 0.5 }
            }
            var w = WeightStore()
            w["c"] = ib.values
            let outShape = g.tensors[out].shape.dims
            let want = Reference.binary(ia.values, sa, ib.values, sb, out: outShape, f)
            for got in try runBoth(g, w, [ia, ib]) {
                expectClose(got[0].values, want, "\(op) \(sa) \(sb)")
                expectClose(got[1].values, want, "\(op) constant \(sa) \(sb)")
            }
        }
    }

    /// Division by a constant multiplies by its reciprocal (`ModelCompiler`): within one rounding of
    /// x / z (relative 2⁻²³ per element), and exactly x / z when a reciprocal is not a normal number
    /// (a divisor of 2⁻¹³⁰ has an infinite one and gave ±inf for finite quotients; one of 3·10³⁸ a
    /// subnormal one, which lost digits).
    @Test func divisionByOneValue() throws {
        let shape = TensorShape([1, 4, 9, 11])
        var input = randomInput(shape, seed: 3)
        input.values = input.values.map { $0 * 100 }
        for z: Float in [1.4142135, 3, -7.5, Float.leastNormalMagnitude / 4, 3e38] {
            var b = GraphBuilder(name: "div")
            let x = b.input("x", shape: shape)
            b.markOutput(try b.add1("div", .binary(.div), inputs: [x], params: [ParamInfo(name: "z", shape: [])]))
            let g = try b.finish()
            var w = WeightStore()
            w["z"] = [z]
            let exact = (1 / z).isNormal == false
            for got in try runBoth(g, w, [input]) {
                for (v, x) in zip(got[0].values, input.values) {
                    let want = x / z
                    if exact || !want.isFinite {
                        #expect(v == want || (v.isNaN && want.isNaN), "\(x) / \(z): \(v) vs \(want)")
                    } else {
                        #expect(abs(v - want) <= abs(want) * 2.4e-7, "\(x) / \(z): \(v) vs \(want)")
                    }
                }
            }
        }
    }

    @Test func addWithFusedActivationAndScalarConstant() throws {
        var b = GraphBuilder(name: "add-relu")
        let x = b.input("a", shape: [1, 8, 60, 60]), y = b.input("b", shape: [1, 8, 60, 60])
        let s = try b.add1("add", .binary(.add), inputs: [x, y])
        let r = try b.add1("relu", .activation(.relu), inputs: [s])
        _ = try b.add1("scale", .binary(.mul), inputs: [r], params: [ParamInfo(name: "k", shape: [])])
        let g = try b.finish()
        #expect(g.fusionGroups[0].kind == "add-relu")
        var w = WeightStore()
        w["k"] = [0.25]
        let ia = randomInput([1, 8, 60, 60], seed: 1), ib = randomInput([1, 8, 60, 60], seed: 2)
        let want = zip(ia.values, ib.values).map { Swift.max($0 + $1, 0) * 0.25 }
        for got in try runBoth(g, w, [ia, ib]) { expectClose(got[0].values, want, "add-relu-mul") }
    }

    @Test(arguments: Activation.allCases)
    func standaloneActivations(_ a: Activation) throws {
        // A short row, and a map of several copy-and-activate blocks (`UnaryStep.block`) with a
        // ragged tail, split across two threads.
        for shape in [TensorShape([3, 37]), TensorShape([2, 40_003])] {
            var b = GraphBuilder(name: "act")
            let x = b.input("x", shape: shape)
            _ = try b.add1("act", .activation(a), inputs: [x])
            let g = try b.finish()
            var input = randomInput(shape)
            input.values = input.values.map { $0 * 5 }  // cover the saturated ranges
            let want = input.values.map { Reference.activation($0, a) }
            for got in try runBoth(g, WeightStore(), [input]) { expectClose(got[0].values, want, tolerance: 2e-6, "\(a) \(shape)") }
        }
    }

    /// The logistic activations use their own short exp (`logisticExp`): relative error over a dense
    /// sweep of [−100, 100], including the clamped tails.
    @Test(arguments: [Activation.sigmoid, .silu])
    func logisticActivationsAcrossTheRange(_ a: Activation) throws {
        var b = GraphBuilder(name: "act-sweep")
        let x = b.input("x", shape: [1, 4001])
        _ = try b.add1("act", .activation(a), inputs: [x])
        let g = try b.finish()
        let input = HostTensor(shape: [1, 4001], values: (0..<4001).map { Float($0) * 0.05 - 100 })
        let got = try CompiledModel(graph: g, weights: WeightStore(), threads: 1).run([input])[0].values
        for (i, v) in input.values.enumerated() {
            let want = Reference.activation(v, a)
            #expect(abs(got[i] - want) <= 2e-6 * Swift.max(abs(want), 1e-6), "\(a)(\(v)) = \(got[i]), want \(want)")
        }
    }

    @Test func unaryAndClip() throws {
        var b = GraphBuilder(name: "unary")
        let x = b.input("x", shape: [2, 19])
        var outs: [Int] = []
        for u in UnaryOp.allCases { outs.append(try b.add1(u.rawValue, .unary(u), inputs: [x])) }
        outs.append(try b.add1("clip", .clip(min: -0.5, max: 0.75), inputs: [x]))
        for o in outs { b.markOutput(o) }
        let g = try b.finish()
        var input = randomInput([2, 19])
        input.values = input.values.map { abs($0) + 0.1 }
        let fs: [(Double) -> Double] = UnaryOp.allCases.map { u in
            switch u {
            case .sqrt: { $0.squareRoot() }
            case .exp: { Foundation.exp($0) }
            case .erf: { Foundation.erf($0) }
            case .neg: { -$0 }
            case .reciprocal: { 1 / $0 }
            case .abs: { Swift.abs($0) }
            case .log: { Foundation.log($0) }
            }
        } + [{ Swift.min(Swift.max($0, -0.5), 0.75) }]
        for got in try runBoth(g, WeightStore(), [input]) {
            for (i, f) in fs.enumerated() {
                expectClose(got[i].values, input.values.map { Float(f(Double($0))) }, tolerance: 2e-6, "unary \(i)")
            }
        }
    }

    /// Row softmax over lengths around the 16-lane width (the AVX-512 kernel's full vectors and masked
    /// tails) and vit's 197, on inputs spread over ±40 (exp's range reduction and the max shift), in
    /// every runner configuration; the rows sum to 1.
    @Test(arguments: [1, 5, 15, 16, 17, 32, 197])
    func softmaxRowsOfEveryLength(n: Int) throws {
        var b = GraphBuilder(name: "sm")
        let x = b.input("x", shape: [3, n])
        b.markOutput(try b.add1("sm", .softmax(axis: -1), inputs: [x]))
        let g = try b.finish()
        var input = randomInput([3, n], seed: UInt64(n))
        input.values = input.values.map { $0 * 40 }
        var want = [Float](repeating: 0, count: 3 * n)
        for row in 0..<3 {
            let xs = (0..<n).map { Double(input.values[row * n + $0]) }
            let m = xs.max()!
            let e = xs.map { Foundation.exp($0 - m) }
            let sum = e.reduce(0, +)
            for i in 0..<n { want[row * n + i] = Float(e[i] / sum) }
        }
        for got in try runBoth(g, WeightStore(), [input]) {
            expectClose(got[0].values, want, tolerance: 2e-6, "softmax rows of \(n)")
            for row in 0..<3 { #expect(abs(got[0].values[row * n..<(row + 1) * n].reduce(0, +) - 1) < 1e-5) }
        }
    }

    @Test func softmaxLayerNormAndBatchNorm() throws {
        var b = GraphBuilder(name: "norm")
        let x = b.input("x", shape: [2, 6, 13])
        let s1 = try b.add1("sm-last", .softmax(axis: -1), inputs: [x])
        let s2 = try b.add1("sm-mid", .softmax(axis: 1), inputs: [x])
        let ln = try b.add1("ln", .layerNorm(axis: -1, epsilon: 1e-6), inputs: [x],
                            params: [ParamInfo(name: "ln.w", shape: [13]), ParamInfo(name: "ln.b", shape: [13])])
        let bn = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [x], params: ["g", "be", "m", "v"].map { ParamInfo(name: $0, shape: [6]) })
        let r = try b.add1("relu", .activation(.relu), inputs: [bn])
        for t in [s1, s2, ln, r] { b.markOutput(t) }
        let g = try b.finish()
        let w = SeededWeights.generate(for: g, seed: 9)
        let input = randomInput([2, 6, 13])
        let v = input.values.map(Double.init)
        var sm1 = [Float](repeating: 0, count: v.count), sm2 = sm1, lnw = sm1
        for row in 0..<12 {
            let xs = (0..<13).map { v[row * 13 + $0] }
            let m = xs.max()!
            let e = xs.map { Foundation.exp($0 - m) }
            let sum = e.reduce(0, +)
            for i in 0..<13 { sm1[row * 13 + i] = Float(e[i] / sum) }
            let mean = xs.reduce(0, +) / 13
            let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 13
            for i in 0..<13 {
                lnw[row * 13 + i] = Float((xs[i] - mean) / (variance + 1e-6).squareRoot() * Double(w["ln.w"]![i]) + Double(w["ln.b"]![i]))
            }
        }
        for n in 0..<2 {
            for j in 0..<13 {
                let xs = (0..<6).map { v[n * 78 + $0 * 13 + j] }
                let m = xs.max()!
                let e = xs.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for c in 0..<6 { sm2[n * 78 + c * 13 + j] = Float(e[c] / sum) }
            }
        }
        let bnw = Reference.batchNorm(input.values, channels: 6, inner: 13, ["g", "be", "m", "v"].map { w[$0]! }, eps: 1e-5).map { Swift.max($0, 0) }
        for got in try runBoth(g, w, [input]) {
            expectClose(got[0].values, sm1, "softmax last axis")
            expectClose(got[1].values, sm2, "softmax axis 1")
            expectClose(got[2].values, lnw, "layernorm")
            expectClose(got[3].values, bnw, "batchnorm + relu")
        }
    }

    @Test func dataMovement() throws {
        var b = GraphBuilder(name: "move")
        let x = b.input("x", shape: [1, 6, 4, 5])
        let y = b.input("y", shape: [1, 2, 4, 5])
        let cat1 = try b.add1("cat1", .concat(axis: 1), inputs: [x, y])
        let cat3 = try b.add1("cat3", .concat(axis: 3), inputs: [x, x])
        let parts = try b.add("split1", .split(axis: 1, sizes: [2, 4]), inputs: [x])      // zero-copy view
        let parts2 = try b.add("split3", .split(axis: 3, sizes: [3, 2]), inputs: [x])     // copy
        let sl = try b.add1("slice", .slice(starts: [1, 4], ends: [4, -6], axes: [2, 3], steps: [2, -2]), inputs: [x])
        let tr = try b.add1("transpose", .transpose(perm: [0, 2, 3, 1]), inputs: [x])
        let pd = try b.add1("pad", .pad(pads: [0, 1, 2, 0, 0, 2, 1, 1]), inputs: [x])
        let sh = try b.add1("shuffle", .channelShuffle(groups: 3), inputs: [x])
        let rs = try b.add1("reshape", .reshape(shape: [0, -1]), inputs: [parts[1]])
        let relu = try b.add1("relu", .activation(.relu), inputs: [rs])
        for t in [cat1, cat3, parts[0], parts2[1], sl, tr, pd, sh, relu] { b.markOutput(t) }
        let g = try b.finish()
        let ix = randomInput([1, 6, 4, 5], seed: 1), iy = randomInput([1, 2, 4, 5], seed: 2)
        let v = ix.values
        func at(_ c: Int, _ h: Int, _ w: Int) -> Float { v[(c * 4 + h) * 5 + w] }
        let wantCat1 = v + iy.values
        var wantCat3: [Float] = [], wantSplit3: [Float] = [], wantTr: [Float] = [], wantShuffle: [Float] = []
        for c in 0..<6 { for h in 0..<4 { for w in 0..<10 { wantCat3.append(at(c, h, w % 5)) } } }
        for c in 0..<6 { for h in 0..<4 { for w in 3..<5 { wantSplit3.append(at(c, h, w)) } } }
        var wantSlice: [Float] = []
        for c in 0..<6 { for h in [1, 3] { for w in [4, 2, 0] { wantSlice.append(at(c, h, w)) } } }
        for h in 0..<4 { for w in 0..<5 { for c in 0..<6 { wantTr.append(at(c, h, w)) } } }
        var wantPad = [Float](repeating: 0, count: 1 * 9 * 7 * 6)
        for c in 0..<6 { for h in 0..<4 { for w in 0..<5 { wantPad[((c + 1) * 7 + h + 2) * 6 + w] = at(c, h, w) } } }
        for c in 0..<6 { let src = (c % 3) * 2 + c / 3; for h in 0..<4 { for w in 0..<5 { wantShuffle.append(at(src, h, w)) } } }
        for got in try runBoth(g, WeightStore(), [ix, iy]) {
            expectClose(got[0].values, wantCat1, "concat axis 1")
            expectClose(got[1].values, wantCat3, "concat axis 3")
            expectClose(got[2].values, Array(v[0..<40]), "split view")
            expectClose(got[3].values, wantSplit3, "split copy")
            expectClose(got[4].values, wantSlice, "slice with negative step")
            expectClose(got[5].values, wantTr, "transpose")
            expectClose(got[6].values, wantPad, "pad")
            expectClose(got[7].values, wantShuffle, "channel shuffle")
            expectClose(got[8].values, Array(v[40...]).map { Swift.max($0, 0) }, "reshape of a split view")
        }
    }

    /// Copies larger than one task (`CopyStep.piece` elements): a channel concat whose inputs
    /// collapse to single rows of 32 000 and 19 200 floats (split into pieces across threads), a
    /// width concat of many short rows, and a transpose.
    @Test func largeCopiesSplitIntoTasks() throws {
        var b = GraphBuilder(name: "move-large")
        let x = b.input("x", shape: [1, 5, 80, 80])
        let y = b.input("y", shape: [1, 3, 80, 80])
        let cat1 = try b.add1("cat1", .concat(axis: 1), inputs: [x, y])
        let cat3 = try b.add1("cat3", .concat(axis: 3), inputs: [y, y])
        let tr = try b.add1("transpose", .transpose(perm: [0, 2, 3, 1]), inputs: [x])
        for t in [cat1, cat3, tr] { b.markOutput(t) }
        let g = try b.finish()
        let ix = randomInput([1, 5, 80, 80], seed: 5), iy = randomInput([1, 3, 80, 80], seed: 6)
        var wantCat3: [Float] = [], wantTr: [Float] = []
        for c in 0..<3 { for h in 0..<80 { for w in 0..<160 { wantCat3.append(iy.values[(c * 80 + h) * 80 + w % 80]) } } }
        for h in 0..<80 { for w in 0..<80 { for c in 0..<5 { wantTr.append(ix.values[(c * 80 + h) * 80 + w]) } } }
        for got in try runBoth(g, WeightStore(), [ix, iy]) {
            #expect(got[0].values == ix.values + iy.values, "channel concat")
            #expect(got[1].values == wantCat3, "width concat")
            #expect(got[2].values == wantTr, "transpose")
        }
    }

    /// A copy's tasks cover every element once. At 2 and 3 threads a copy of ≥ `splitFrom` elements
    /// is cut into one part per thread, ordered part-major for the affine dispatch (block i = part i
    /// of every copy, near-equal sizes): a channel shuffle of 232 planes of 14², a head transpose of
    /// 591 rows of 64, a concat of two inputs, one long row (pieces of the row). A small copy stays
    /// one task; a concat of 20 inputs (more tasks than an affine dispatch takes) runs as pieces.
    @Test func copyTasksArePartsPerThread() throws {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { buffer.deallocate() }
        func copy(_ dims: [Int]) -> StridedCopy {
            StridedCopy(source: buffer, destination: buffer, dims: dims, sourceStrides: contiguousStrides(dims), destinationStrides: contiguousStrides(dims))
        }
        let shuffle = StridedCopy(source: buffer, destination: buffer, dims: [1, 116, 2, 196],
                                  sourceStrides: [232 * 196, 196, 116 * 196, 1], destinationStrides: [232 * 196, 392, 196, 1])
        let head = StridedCopy(source: buffer, destination: buffer, dims: [3, 197, 64], sourceStrides: [64, 192, 1], destinationStrides: [197 * 64, 64, 1])
        let cases: [(String, [StridedCopy], Bool)] = [
            ("shuffle", [shuffle], true), ("head transpose", [head], true), ("concat", [copy([1, 116, 14, 14]), copy([1, 116, 14, 14])], true),
            ("one row", [copy([1, 120_000])], true), ("small", [copy([8, 100])], false),
            ("20-input concat", Array(repeating: copy([1, 64, 14, 14]), count: 20), false),
        ]
        for threads in [1, 2, 3] {
            for (label, copies, splits) in cases {
                let step = CopyStep(label, copies: copies, threads: threads)
                var seen = step.copies.map { [Int](repeating: 0, count: $0.count) }
                for t in step.tasks {
                    let inner = step.copies[t.copy].dims[step.copies[t.copy].dims.count - 1]
                    for r in t.rows { for k in t.part { seen[t.copy][r * inner + k] += 1 } }
                }
                #expect(seen.allSatisfy { $0.allSatisfy { $0 == 1 } }, "\(label), \(threads) threads: every element once")
                #expect(step.affine == (splits && threads > 1), "\(label), \(threads) threads")
                if label == "small" { #expect(step.tasks.count == 1) }
                guard step.affine else { continue }
                #expect(step.tasks.count % threads == 0)
                let block = step.tasks.count / threads
                let sizes = (0..<threads).map { i in step.tasks[i * block..<(i + 1) * block].reduce(0) { $0 + $1.rows.count * $1.part.count } }
                let rowLength = step.copies.map { $0.dims[$0.dims.count - 1] }.max()!
                #expect(sizes.max()! - sizes.min()! <= rowLength * copies.count, "\(label), \(threads) threads: \(sizes)")
                // Block i holds the same part of every copy: each copy appears in every block.
                for i in 0..<threads {
                    #expect(Set(step.tasks[i * block..<(i + 1) * block].map(\.copy)) == Set(copies.indices), "\(label): block \(i)")
                }
            }
        }
    }

    @Test func sparseAggregation() throws {
        var b = GraphBuilder(name: "spmm")
        let x = b.input("x", shape: [50, 8])
        _ = try b.add1("agg", .sparseAggregate(nodes: 50, edges: 120), inputs: [x])
        let g = try b.finish()
        let input = randomInput([50, 8])
        let adj = SparseAdjacency.synthetic(nodes: 50, nonZeros: 120, seed: 0)
        #expect(adj.columns.count == 120)
        var want = [Float](repeating: 0, count: 400)
        for i in 0..<50 {
            for e in Int(adj.rowStart[i])..<Int(adj.rowStart[i + 1]) {
                for f in 0..<8 { want[i * 8 + f] += adj.values[e] * input.values[Int(adj.columns[e]) * 8 + f] }
            }
        }
        for got in try runBoth(g, WeightStore(), [input]) { expectClose(got[0].values, want, "spmm") }
    }

    @Test func reportsMissingWeightsAndUnsupportedOps() throws {
        var b = GraphBuilder(name: "bad")
        let x = b.input("x", shape: [1, 4])
        _ = try b.add1("fc", .gemm(GemmAttributes(inFeatures: 4, outFeatures: 2)), inputs: [x],
                       params: [ParamInfo(name: "w", shape: [2, 4]), ParamInfo(name: "b", shape: [2])])
        let g = try b.finish()
        #expect(throws: RunnerError.self) { try CompiledModel(graph: g, weights: WeightStore(), threads: 1) }
        var b2 = GraphBuilder(name: "unsupported")
        let y = b2.input("x", shape: [1, 4])
        _ = try b2.add1("weird", .unsupported(opType: "Weird", outputShapes: [[1, 4]]), inputs: [y])
        let g2 = try b2.finish()
        do {
            _ = try CompiledModel(graph: g2, weights: WeightStore(), threads: 1)
            Issue.record("an unsupported op must not compile")
        } catch {
            #expect(error.kind == .unsupportedOp)
            #expect(error.description.contains("Weird"))
        }
    }
}

func transpose(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    (0..<(rows * cols)).map { i in m[(i % rows) * cols + i / rows] }
}
