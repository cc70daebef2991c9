import NNGraph

/// ViT-Tiny/16 at 224×224 (the DeiT-Ti / timm `vit_tiny_patch16_224` shape) laid out like
/// torchvision's `VisionTransformer`: patch conv → tokens → class token → + positional
/// embedding → 12 pre-norm encoder layers → final LayerNorm → class-token head.
///
/// Attention uses the fused `.attention(heads:)` op on q, k, v split from one `in_proj` gemm,
/// so the counts include QKᵀ and AV.
///
/// Class token: the IR's `concat` takes activations only, so `cat(class_token, x) + pos` is
/// written as `pad(x, one zero token in front) + pos′` with `pos′[0] = pos[0] + class_token`
/// — exact at inference, one node fewer, and 192 parameters fewer than the unfolded model.
enum VisionTransformer {
    static let tiny = ZooModel(
        name: "vit_tiny",
        summary: "ViT-Tiny/16 (patch 16, 224×224, dim 192, depth 12, 3 heads, MLP 768, class token), 1000 classes",
        inputShape: [1, 3, 224, 224],
        published: nil,
        build: { () throws(GraphError) -> Graph in
            try build(name: "vit_tiny", image: 224, patch: 16, dim: 192, depth: 12, heads: 3, mlp: 768, classes: 1000)
        })

    static func build(name: String, image: Int, patch: Int, dim: Int, depth: Int, heads: Int, mlp: Int,
                      classes: Int) throws(GraphError) -> Graph {
        var b = LayerBuilder(name: name)
        let grid = image / patch
        let tokens = grid * grid + 1
        var x = b.input(shape: [1, 3, image, image])
        x = try b.conv("conv_proj", x, out: dim, kernel: patch, stride: patch, padding: 0, bias: true)
        x = try b.graph.add1("reshape", .reshape(shape: [0, dim, grid * grid]), inputs: [x])
        x = try b.graph.add1("permute", .transpose(perm: [0, 2, 1]), inputs: [x])
        x = try b.graph.add1("class_token", .pad(pads: [0, 1, 0, 0, 0, 0]), inputs: [x])
        x = try b.graph.add1("encoder.pos_embedding", .binary(.add), inputs: [x],
                             params: [ParamInfo(name: "encoder.pos_embedding", shape: [1, tokens, dim])])
        for i in 0..<depth {
            x = try encoderLayer(&b, "encoder.layers.encoder_layer_\(i)", x, heads: heads, mlp: mlp)
        }
        x = try layerNorm(&b, "encoder.ln", x)
        x = try b.graph.add1("class_token_select", .slice(starts: [0], ends: [1], axes: [1], steps: [1]), inputs: [x])
        x = try b.graph.add1("squeeze", .squeeze(axes: [1]), inputs: [x])
        x = try b.linear("heads.head", x, out: classes)
        return try b.finish()
    }

    private static func encoderLayer(_ b: inout LayerBuilder, _ p: String, _ x: Int, heads: Int, mlp: Int) throws(GraphError) -> Int {
        let dim = b.graph.shape(x).dims.last ?? 0
        var y = try layerNorm(&b, "\(p).ln_1", x)
        // nn.MultiheadAttention: one packed in-projection (in_proj_weight [3E, E]) and out_proj.
        y = try b.graph.add1("\(p).self_attention.in_proj", .gemm(GemmAttributes(inFeatures: dim, outFeatures: 3 * dim)), inputs: [y],
                             params: [ParamInfo(name: "\(p).self_attention.in_proj_weight", shape: [3 * dim, dim]),
                                      ParamInfo(name: "\(p).self_attention.in_proj_bias", shape: [3 * dim])])
        let qkv = try b.graph.add("\(p).self_attention.split", .split(axis: 2, sizes: [dim, dim, dim]), inputs: [y])
        y = try b.graph.add1("\(p).self_attention.attention", .attention(heads: heads), inputs: qkv)
        y = try b.linear("\(p).self_attention.out_proj", y, out: dim)
        let residual = try b.add("\(p).add", y, x)
        y = try layerNorm(&b, "\(p).ln_2", residual)
        y = try b.linear("\(p).mlp.0", y, out: mlp)
        y = try b.activation("\(p).mlp.1", y, .gelu)
        y = try b.linear("\(p).mlp.3", y, out: dim)
        return try b.add("\(p).add", y, residual)
    }

    private static func layerNorm(_ b: inout LayerBuilder, _ name: String, _ x: Int) throws(GraphError) -> Int {
        let dim = b.graph.shape(x).dims.last ?? 0
        return try b.graph.add1(name, .layerNorm(axis: -1, epsilon: 1e-6), inputs: [x],
                                params: [ParamInfo(name: "\(name).weight", shape: [dim]), ParamInfo(name: "\(name).bias", shape: [dim])])
    }
}
