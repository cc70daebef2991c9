import Testing
import NNGraph

@Suite("Fusion")
struct FusionTests {
    /// x → conv → bn → relu, optionally with extra consumers of the conv output.
    private func convBNReLU(extraConvConsumer: Bool = false, convIsOutput: Bool = false,
                            activation: Activation = .relu) throws -> Graph {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 3, 8, 8])
        let a = convAttrs(in: 3, out: 4, k: 3, p: 1)
        let c = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        let n = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [c], params: bnParams("bn", 4))
        let r = try b.add1("act", .activation(activation), inputs: [n])
        if extraConvConsumer {
            let s = try b.add1("side", .activation(.sigmoid), inputs: [c])
            b.markOutput(s)
        }
        if convIsOutput { b.markOutput(c) }
        b.markOutput(r)
        return try b.finish()
    }

    private func kinds(_ g: Graph) -> [String] { g.fusionGroups.map(\.kind) }

    @Test func convBNReLUFuses() throws {
        let g = try convBNReLU()
        #expect(kinds(g) == ["conv-bn-relu"])
        #expect(g.fusionGroups[0].nodes == [0, 1, 2])
    }

    @Test func notFusedWhenConvOutputHasTwoConsumers() throws {
        let g = try convBNReLU(extraConvConsumer: true)
        #expect(kinds(g) == ["conv", "bn-relu", "sigmoid"])
    }

    @Test func notFusedWhenConvOutputIsAGraphOutput() throws {
        let g = try convBNReLU(convIsOutput: true)
        #expect(kinds(g) == ["conv", "bn-relu"])
    }

    @Test func depthwiseReLU6Name() throws {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 8, 4, 4])
        let a = convAttrs(in: 8, out: 8, k: 3, p: 1, g: 8)
        var y = try b.add1("dw", .conv(a), inputs: [x], params: convParams("dw", a))
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn", 8))
        _ = try b.add1("relu6", .activation(.relu6), inputs: [y])
        #expect(kinds(try b.finish()) == ["dwconv-bn-relu6"])
    }

    @Test func residualAddJoinsTheConvThenOneActivation() throws {
        // conv → bn → add(·, x) → relu → relu: the add joins the conv (its shortcut x is ready),
        // then one relu; the second relu is alone.
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 4, 4, 4])
        let a = convAttrs(in: 4, out: 4, k: 3, p: 1)
        var y = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn", 4))
        y = try b.add1("add", .binary(.add), inputs: [y, x])
        y = try b.add1("relu", .activation(.relu), inputs: [y])
        _ = try b.add1("relu2", .activation(.relu), inputs: [y])
        let g = try b.finish()
        #expect(kinds(g) == ["conv-bn-add-relu", "relu"])
    }

    /// Two branches from x (conv1; conv2 → bn2) meet in an add.
    private func twoBranches(depthwiseSecond: Bool = false, broadcastShortcut: Bool = false, activationBeforeAdd: Bool = false,
                             bnAfterAdd: Bool = false) throws -> Graph {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 4, 4, 4])
        let a1 = convAttrs(in: 4, out: 4, k: 1)
        var left = try b.add1("conv1", .conv(a1), inputs: [x], params: convParams("conv1", a1))
        if broadcastShortcut { left = try b.add1("pool", .globalAvgPool, inputs: [left]) }
        let a2 = depthwiseSecond ? convAttrs(in: 4, out: 4, k: 3, p: 1, g: 4) : convAttrs(in: 4, out: 4, k: 3, p: 1)
        var right = try b.add1("conv2", .conv(a2), inputs: [x], params: convParams("conv2", a2))
        right = try b.add1("bn2", .batchNorm(epsilon: 1e-5), inputs: [right], params: bnParams("bn2", 4))
        if activationBeforeAdd { right = try b.add1("relu", .activation(.relu), inputs: [right]) }
        var y = try b.add1("add", .binary(.add), inputs: [left, right])
        if bnAfterAdd { y = try b.add1("bn3", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn3", 4)) }
        b.markOutput(y)
        return try b.finish()
    }

    @Test func residualAddJoinsTheLaterConvNotTheEarlierOne() throws {
        // conv1's group would run before conv2 has produced the add's other operand.
        #expect(kinds(try twoBranches()) == ["conv", "conv-bn-add"])
    }

    @Test func residualAddStaysAloneWhereAFusedKernelCouldNotRunIt() throws {
        #expect(kinds(try twoBranches(depthwiseSecond: true)) == ["conv", "dwconv-bn", "add"])
        #expect(kinds(try twoBranches(broadcastShortcut: true)) == ["conv", "globalavgpool", "conv-bn", "add"])
        #expect(kinds(try twoBranches(activationBeforeAdd: true)) == ["conv", "conv-bn-relu", "add"])
    }

    @Test func residualAddsStayAloneWhenTheRuntimeDoesNotFuseThem() throws {
        var g = try twoBranches()
        g.fuse(residualAdds: false)
        #expect(kinds(g) == ["conv", "conv-bn", "add"])
        g.fuse()
        #expect(kinds(g) == ["conv", "conv-bn-add"])
    }

    /// A transformer block's residual add after a fully connected layer joins it (`gemm-add`) in the
    /// runner's style, also through layout views (ONNX's `Gemm → Reshape → Transpose of a size-1 axis
    /// → Add`, which join the group unnamed); not with `linearResidualAdds: false` (the published
    /// runtimes' styles, except TensorRT's), not through a transpose that moves data, and never into a
    /// MatMul of two activations (attention scores).
    @Test func residualAddJoinsAGemmWhereTheRuntimeFusesIt() throws {
        func block(views: Bool = false, movingTranspose: Bool = false, matmul: Bool = false) throws -> Graph {
            var b = GraphBuilder(name: "t")
            let x = b.input("x", shape: [1, 197, 192])
            let k = b.input("k", shape: [1, 192, 192])
            let xt = b.input("xt", shape: [1, 192, 197])
            var y = matmul
                ? try b.add1("mm", .matmul, inputs: [x, k])
                : try b.add1("proj", .gemm(GemmAttributes(inFeatures: 192, outFeatures: 192)), inputs: [x],
                             params: [ParamInfo(name: "w", shape: [192, 192]), ParamInfo(name: "b", shape: [192])])
            if views {
                y = try b.add1("view", .reshape(shape: [197, 1, 192]), inputs: [y])
                y = try b.add1("swap", .transpose(perm: [1, 0, 2]), inputs: [y])
            }
            if movingTranspose { y = try b.add1("t", .transpose(perm: [0, 2, 1]), inputs: [y]) }
            _ = try b.add1("add", .binary(.add), inputs: [y, movingTranspose ? xt : x])
            return try b.finish()
        }
        var g = try block()
        #expect(kinds(g) == ["gemm-add"])
        g.fuse(linearResidualAdds: false)
        #expect(kinds(g) == ["gemm", "add"])
        var viewed = try block(views: true)
        #expect(kinds(viewed) == ["gemm-add"])
        #expect(viewed.fusionGroups[0].nodes.map { viewed.nodes[$0].name } == ["proj", "view", "swap", "add"])
        viewed.fuse(linearResidualAdds: false)
        #expect(kinds(viewed) == ["gemm", "reshape", "transpose", "add"])
        #expect(kinds(try block(movingTranspose: true)) == ["gemm", "transpose", "add"])
        #expect(kinds(try block(matmul: true)) == ["matmul", "add"])
        #expect(ExecutionStyle.edgeprof.fusesLinearResidualAdds && ExecutionStyle.forRuntime("tensorrt_gpu").fusesLinearResidualAdds)
        for runtime in ["onnxruntime_cpu", "ncnn_cpu", "tflite_cpu", "pytorch_cpu"] {
            #expect(!ExecutionStyle.forRuntime(runtime).fusesLinearResidualAdds, "\(runtime)")
        }
    }

    @Test func batchNormAfterAResidualAddDoesNotFold() throws {
        #expect(kinds(try twoBranches(bnAfterAdd: true)) == ["conv", "conv-bn-add", "bn"])
    }

    @Test func bnDoesNotFollowAnActivationOrAPool() throws {
        var b = GraphBuilder(name: "g")
        let x = b.input("x", shape: [1, 4, 4, 4])
        let a = convAttrs(in: 4, out: 4, k: 1)
        var y = try b.add1("conv", .conv(a), inputs: [x], params: convParams("conv", a))
        y = try b.add1("relu", .activation(.relu), inputs: [y])
        y = try b.add1("bn", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn", 4))
        y = try b.add1("pool", .maxPool(PoolAttributes(kernel: [2, 2], strides: [2, 2])), inputs: [y])
        _ = try b.add1("bn2", .batchNorm(epsilon: 1e-5), inputs: [y], params: bnParams("bn2", 4))
        #expect(kinds(try b.finish()) == ["conv-relu", "bn", "maxpool", "bn"])
    }

    @Test func everyNodeInExactlyOneGroup() throws {
        let g = try convBNReLU(extraConvConsumer: true)
        #expect(g.fusionGroups.flatMap(\.nodes).sorted() == Array(g.nodes.indices))
    }
}
