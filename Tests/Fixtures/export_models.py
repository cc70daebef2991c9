#!/usr/bin/env python3
"""Exports the ONNX fixtures the importer (and later the kernel runner) is tested against.

Run through scripts/make-fixtures.sh, which creates the virtual environment. Writes into
Tests/Fixtures/onnx/ (not committed):

  NAME.onnx        torch.onnx.export(opset_version=17, dynamo=False), seeded random weights, eval mode
  NAME.json        reference counts: params (see reference()), torch's own parameter count, MACs
                   computed from the ONNX graph with shapes measured by ONNX Runtime, and every
                   node's output shapes (ONNX Runtime, all graph optimisations off)
  NAME.ref.npz     ONNX Runtime outputs for 3 seeded inputs (input_K / output_K arrays, float32);
                   not written for the dynamic-batch export

Models: torchvision mobilenet_v2, resnet18, shufflenet_v2_x1_0, squeezenet1_1, efficientnet_b0,
mobilenet_v3_small, ViT-Tiny/16 (torchvision VisionTransformer); a dynamic-batch shufflenet export
(NAME_dynbatch, reference counts at batch 2); mobilenet_v2 with BatchNormalization kept (NAME_bn,
exported with TrainingMode.PRESERVE); a QDQ int8 mobilenet_v2 (onnxruntime quantize_static).

Counting conventions match NNGraph (README): MAC = one multiply-add. Conv MACs =
out_elems * C_in/groups * kH * kW; ConvTranspose = in_elems * C_out/groups * kH * kW;
Gemm/MatMul = out_elems * K. Params: see reference().

Exports are deterministic: the same package versions give byte-identical files.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch


def import_torchvision():
    """Imports torchvision, working around the CPU-only torch wheel.

    The PyPI torchvision wheel's C++ ops library links the CUDA build of torch; with the CPU
    torch wheel it cannot load, and torchvision then fails on import while registering fake
    kernels for `torchvision::nms`/`qnms`. The classification models are pure Python, so
    declaring the two op schemas is enough (the ops themselves are never called here).
    """
    try:
        import torchvision
        return torchvision
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import_torchvision._keepalive = lib
    import torchvision
    return torchvision


torchvision = import_torchvision()
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper, shape_inference  # noqa: E402

OPSET = 17
SEED = 0
IMAGE = (1, 3, 224, 224)


def vit_tiny():
    """ViT-Tiny/16 (dim 192, 12 layers, 3 heads, MLP 768) in torchvision's VisionTransformer: the zoo's vit_tiny."""
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=3,
                             hidden_dim=192, mlp_dim=768, num_classes=1000)


def build(name):
    torch.manual_seed(SEED)
    if name == "vit_tiny":
        model = vit_tiny()
    else:
        model = getattr(torchvision.models, name)(weights=None)
    model.eval()
    # Parameters torchvision initialises to zero (ViT's class token and classifier head, biases)
    # would make outputs input-independent and hide folding errors: give them small random values.
    g0 = torch.Generator().manual_seed(SEED + 2)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=g0) * 0.02)
    # Randomise BN statistics so folded biases are non-trivial (the default is mean 0, var 1).
    g = torch.Generator().manual_seed(SEED + 1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


MODELS = ["mobilenet_v2", "resnet18", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0",
          "mobilenet_v3_small", "vit_tiny"]


def export(name, out_path, dynamic_batch=False, keep_batchnorm=False):
    model = build(name)
    x = torch.randn(*IMAGE, generator=torch.Generator().manual_seed(SEED))
    kwargs = {}
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    if keep_batchnorm:
        # Default exports fold BatchNorm into the conv weights; PRESERVE keeps BatchNormalization nodes.
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    tmp = out_path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (x,), tmp, opset_version=OPSET, dynamo=False,
                          input_names=["input"], output_names=["output"], do_constant_folding=True, **kwargs)
    os.replace(tmp, out_path)
    torch_params = sum(p.numel() for p in model.parameters())
    torch_buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return torch_params, torch_buffers


def tensor_shape_map_from_ort(model, feeds):
    """Runs ORT with every node output exposed; returns name -> shape (the shapes ORT really produced)."""
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    known = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for o in node.output:
            if o and o not in existing:
                if o in known:
                    m.graph.output.append(known[o])
                else:
                    m.graph.output.append(onnx.helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None))
                existing.add(o)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    values = sess.run(names, feeds)
    return {n: list(np.asarray(v).shape) for n, v in zip(names, values)}


# Inputs of these ops that are shapes, axes, pads, clip bounds or quantization parameters:
# folded into IR attributes, never counted as parameters.
NON_WEIGHT_INPUTS = {
    "QuantizeLinear": {1, 2}, "DequantizeLinear": {1, 2}, "Reshape": {1}, "Slice": {1, 2, 3, 4}, "Unsqueeze": {1},
    "Squeeze": {1}, "Expand": {1}, "Pad": {1, 2, 3}, "Split": {1}, "Clip": {1, 2}, "ReduceMean": {1}, "ReduceSum": {1},
    "Gather": {1}, "Tile": {1}, "Resize": {1, 2, 3}, "ConstantOfShape": {0}, "TopK": {1},
}


def reference(model_path, torch_params, torch_buffers, input_shape, zoo_name):
    """Reference counts computed from the ONNX graph and ONNX Runtime's real tensor shapes.

    Params (the importer's convention, NNGraph README): every constant operand of a node that
    works on activations is a parameter, counted once per use -- initializers, Identity aliases
    of initializers (PyTorch shares identical initial values), Constant scalars (GELU's 0.5) and
    values folded from shape arithmetic (attention's 1/sqrt(d)); shapes/axes/pads/clip bounds and
    quantization scales are not. A constant concatenated to an activation and then offset by a
    constant (ViT's class token + positional embedding) is folded into the offset, as in the zoo.
    """
    model = onnx.load(model_path)
    feeds = {"input": np.zeros(input_shape, dtype=np.float32)}
    shapes = tensor_shape_map_from_ort(model, feeds)
    inits = {i.name: i for i in model.graph.initializer}
    const = set(inits)
    const_nodes = set()
    for idx, n in enumerate(model.graph.node):
        ins = [i for i in n.input if i]
        if n.op_type in ("Constant", "Shape", "Size") or all(i in const for i in ins):
            const.update(o for o in n.output if o)
            const_nodes.add(idx)

    def numel(name):
        if name in shapes and shapes[name] is not None:
            return int(np.prod(shapes[name], dtype=np.int64))
        return int(np.prod(inits[name].dims, dtype=np.int64))

    def dims(name):
        if name in shapes and shapes[name] is not None:
            return list(shapes[name])
        return list(inits[name].dims)

    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    params = 0
    for idx, n in enumerate(model.graph.node):
        if idx in const_nodes:
            continue
        skip = NON_WEIGHT_INPUTS.get(n.op_type, set())
        folded_into_offset = False
        if n.op_type == "Concat":
            users = consumers.get(n.output[0], [])
            folded_into_offset = (len(users) == 1 and users[0].op_type == "Add"
                                  and any(i in const for i in users[0].input if i != n.output[0]))
        for k, inp in enumerate(n.input):
            if not inp or k in skip or inp not in const:
                continue
            if folded_into_offset:
                continue
            params += numel(inp)

    macs = 0
    nodes = []
    for idx, n in enumerate(model.graph.node):
        outs = [{"name": o, "shape": shapes.get(o)} for o in n.output if o]
        nodes.append({"name": n.name, "op_type": n.op_type, "const": idx in const_nodes, "outputs": outs})
        if idx in const_nodes:
            continue
        if n.op_type == "Conv":
            w = dims(n.input[1])
            macs += numel(n.output[0]) * w[1] * int(np.prod(w[2:]))
        elif n.op_type == "ConvTranspose":
            w = dims(n.input[1])
            group = next((a.i for a in n.attribute if a.name == "group"), 1)
            macs += numel(n.input[0]) * w[1] * int(np.prod(w[2:]))
        elif n.op_type in ("Gemm", "MatMul"):
            trans_a = next((a.i for a in n.attribute if a.name == "transA"), 0)
            a_shape = dims(n.input[0])
            k = a_shape[-2] if trans_a else a_shape[-1]
            macs += numel(n.output[0]) * k
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return {
        "model": os.path.basename(model_path),
        "zoo": zoo_name,
        "producer": model.producer_name,
        "opset": opset,
        "input_name": "input",
        "input_shape": list(input_shape),
        "params": params,
        "params_torch": torch_params,
        "buffers_torch": torch_buffers,
        "initializer_elements": sum(int(np.prod(i.dims, dtype=np.int64)) for i in model.graph.initializer),
        "macs": macs,
        "op_types": sorted({n.op_type for n in model.graph.node}),
        "node_count": len(model.graph.node),
        "nodes": nodes,
    }


def ort_reference(model_path, ref_path, input_shape, runs=3):
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    arrays = {}
    for k in range(runs):
        x = np.random.default_rng(1000 + k).standard_normal(input_shape).astype(np.float32)
        (y,) = sess.run(None, {"input": x})
        arrays[f"input_{k}"] = x
        arrays[f"output_{k}"] = y
    tmp = ref_path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, ref_path)


class CalibrationReader:
    def __init__(self, samples=4):
        rng = np.random.default_rng(7)
        self.data = iter([{"input": rng.standard_normal(IMAGE).astype(np.float32)} for _ in range(samples)])

    def get_next(self):
        return next(self.data, None)


def quantize_qdq(src, dst):
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    pre = dst + ".pre.onnx"
    quant_pre_process(src, pre, skip_symbolic_shape=True)
    tmp = dst + ".tmp"
    quantize_static(pre, tmp, CalibrationReader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=False)
    os.remove(pre)
    os.replace(tmp, dst)


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx"))
    ap.add_argument("--only", nargs="*", help="subset of fixture names")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, "
          f"onnxruntime {ort.__version__}", flush=True)

    jobs = [(n, n, False, False) for n in MODELS] + [
        ("shufflenet_v2_x1_0_dynbatch", "shufflenet_v2_x1_0", True, False),
        ("mobilenet_v2_bn", "mobilenet_v2", False, True),
    ]
    for fixture, arch, dynamic, keep_bn in jobs:
        if args.only and fixture not in args.only:
            continue
        t0 = time.time()
        path = os.path.join(args.out, fixture + ".onnx")
        tp, tb = export(arch, path, dynamic_batch=dynamic, keep_batchnorm=keep_bn)
        # The dynamic-batch export is checked at batch 2 (--input-shape input=2x3x224x224).
        shape = (2,) + IMAGE[1:] if dynamic else IMAGE
        ref = reference(path, tp, tb, shape, arch)
        if dynamic:
            ref["dynamic_batch"] = True
        else:
            ort_reference(path, os.path.join(args.out, fixture + ".ref.npz"), IMAGE)
        write_json(os.path.join(args.out, fixture + ".json"), ref)
        print(f"  {fixture}: {os.path.getsize(path) / 1e6:.1f} MB, {ref['macs'] / 1e6:.1f} M MACs, "
              f"{ref['params'] / 1e6:.3f} M params ({time.time() - t0:.1f} s)", flush=True)

    if not args.only or "mobilenet_v2_qdq" in args.only:
        t0 = time.time()
        src = os.path.join(args.out, "mobilenet_v2.onnx")
        dst = os.path.join(args.out, "mobilenet_v2_qdq.onnx")
        try:
            quantize_qdq(src, dst)
            ref = reference(dst, None, None, IMAGE, "mobilenet_v2")
            ref["quantized"] = "qdq-int8"
            ort_reference(dst, os.path.join(args.out, "mobilenet_v2_qdq.ref.npz"), IMAGE)
            write_json(os.path.join(args.out, "mobilenet_v2_qdq.json"), ref)
            print(f"  mobilenet_v2_qdq: {os.path.getsize(dst) / 1e6:.1f} MB ({time.time() - t0:.1f} s)", flush=True)
        except Exception as e:  # the QDQ fixture is optional; say so loudly
            print(f"  mobilenet_v2_qdq: FAILED ({e}); QDQ tests will fail", flush=True)
            raise


if __name__ == "__main__":
    main()
