import NNGraph

/// MobileNet-SSD 300×300 as ncnn's benchmark runs it (Tencent/ncnn benchmark/mobilenet_ssd.param,
/// the Caffe model of chuanqi305/MobileNet-SSD, 21 VOC classes): the published ncnn rows of the
/// Raspberry Pi 4 / 5 and the Snapdragon 855+ measure it.
///
/// - Backbone: MobileNet v1 (`MobileNetV1.blocks`) at 300×300 with the batch norms folded into the
///   convs (every conv has a bias, each followed by a ReLU): conv0 3×3/2, conv1…conv13 depthwise
///   3×3 + pointwise 1×1 pairs (`convN/dw`, `convN`); maps 150, 75, 38, 19, 10.
/// - Extra stages conv14…conv17: 1×1 (`_1`) then 3×3/2 (`_2`) convs, maps 5, 3, 2, 1.
/// - Heads on conv11 (19², 3 priors per cell), conv13 (10²), conv14_2 (5²), conv15_2 (3²),
///   conv16_2 (2²), conv17_2 (1², 6 priors each): 1×1 convs with 4 box offsets and 21 class
///   scores per prior, each permuted to NHWC and flattened, then concatenated over the 1917
///   priors (`mbox_loc` [1, 7668]; `mbox_conf` reshaped to [1, 1917, 21], softmax over the classes).
///
/// Left out: `PriorBox` (box coordinates computed from the map sizes alone) and `DetectionOutput`
/// (box decoding and per-class non-maximum suppression, whose cost depends on how many scores pass
/// its 0.25 threshold: few on ncnn's constant benchmark input). Parameters: 5,769,920 weights and
/// 13,497 biases, as the `.param` file's weight sizes sum.
enum MobileNetSSD {
    static let model = ZooModel(
        name: "mobilenet_ssd",
        summary: "MobileNet-SSD 300×300 as in ncnn's benchmark (Caffe): MobileNet v1 backbone, 4 extra stages, 6 heads over 1917 priors, 21 classes; no PriorBox / NMS",
        inputShape: [1, 3, 300, 300],
        published: nil,
        build: { () throws(GraphError) -> Graph in try build() })

    /// Extra stages: (stage number, 1×1 channels, 3×3/2 channels).
    static let extras: [(stage: Int, squeeze: Int, out: Int)] = [(14, 256, 512), (15, 128, 256), (16, 128, 256), (17, 64, 128)]
    static let classes = 21

    static func build() throws(GraphError) -> Graph {
        var b = LayerBuilder(name: "mobilenet_ssd")
        var x = b.input(shape: [1, 3, 300, 300])
        x = try convReLU(&b, "conv0", x, out: 32, kernel: 3, stride: 2)
        var sources: [(name: String, tensor: Int, priors: Int)] = []
        for (i, (out, stride)) in MobileNetV1.blocks.enumerated() {
            let c = b.channels(x)
            x = try convReLU(&b, "conv\(i + 1)/dw", x, out: c, kernel: 3, stride: stride, groups: c)
            x = try convReLU(&b, "conv\(i + 1)", x, out: out, kernel: 1)
            if i + 1 == 11 { sources.append(("conv11", x, 3)) }
        }
        sources.append(("conv13", x, 6))
        for e in extras {
            x = try convReLU(&b, "conv\(e.stage)_1", x, out: e.squeeze, kernel: 1)
            x = try convReLU(&b, "conv\(e.stage)_2", x, out: e.out, kernel: 3, stride: 2)
            sources.append(("conv\(e.stage)_2", x, 6))
        }
        var locs: [Int] = [], confs: [Int] = []
        for s in sources {
            locs.append(try head(&b, "\(s.name)_mbox_loc", s.tensor, out: 4 * s.priors))
            confs.append(try head(&b, "\(s.name)_mbox_conf", s.tensor, out: classes * s.priors))
        }
        let loc = try b.graph.add1("mbox_loc", .concat(axis: 1), inputs: locs)
        var conf = try b.graph.add1("mbox_conf", .concat(axis: 1), inputs: confs)
        conf = try b.graph.add1("mbox_conf_reshape", .reshape(shape: [1, -1, classes]), inputs: [conf])
        conf = try b.graph.add1("mbox_conf_softmax", .softmax(axis: 2), inputs: [conf])
        conf = try b.graph.add1("mbox_conf_flatten", .flatten(axis: 1), inputs: [conf])
        b.graph.markOutput(loc)
        b.graph.markOutput(conf)
        return try b.finish()
    }

    /// A conv with its bias (the folded batch norm) and its ReLU.
    private static func convReLU(_ b: inout LayerBuilder, _ name: String, _ x: Int, out: Int, kernel: Int, stride: Int = 1,
                                 groups: Int = 1) throws(GraphError) -> Int {
        let y = try b.conv(name, x, out: out, kernel: kernel, stride: stride, groups: groups, bias: true)
        return try b.activation("\(name)/relu", y, .relu)
    }

    /// A box head: 1×1 conv, NCHW → NHWC (`_perm`), flattened per image (`_flat`).
    private static func head(_ b: inout LayerBuilder, _ name: String, _ x: Int, out: Int) throws(GraphError) -> Int {
        let y = try b.conv(name, x, out: out, kernel: 1, bias: true)
        let p = try b.graph.add1("\(name)_perm", .transpose(perm: [0, 2, 3, 1]), inputs: [y])
        return try b.graph.add1("\(name)_flat", .flatten(axis: 1), inputs: [p])
    }
}
