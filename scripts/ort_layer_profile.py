#!/usr/bin/env python3
"""Per-layer comparison of edgeprof's kernel runner with ONNX Runtime's node profile.

    edgeprof measure model.onnx --threads 1 --format json > ours.json
    python scripts/ort_layer_profile.py model.onnx 1 ours.json [--top N] [--stat p50|min]

Runs ORT (intra_op_num_threads = threads, sequential, all graph optimisations, profiling on),
takes the median (or with --stat min, the minimum: steadier on a noisy machine) of each node's
kernel time over the runs, and attributes every ORT node to one
of our layers: by name (ORT names a rewritten conv after its output tensor, "<node>_output_0_nchwc"),
otherwise to the layer of the previous attributed node (ORT's separate activation, reorder and
fused nodes follow their producer). Prints both times per layer and the largest gaps first.
Both sides are measured in this process pair on the same machine; node-level times from ORT's
profiler exclude its session overhead, ours are the per-layer-timed runs' p50.
"""
import collections
import json
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def ort_node_times(path, threads, runs=50, skip=10, stat="p50"):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = np.random.default_rng(0).standard_normal([d if isinstance(d, int) else 1 for d in inp.shape]).astype(np.float32)
    for _ in range(runs):
        sess.run(None, {inp.name: x})
    f = sess.end_profiling()
    events = json.load(open(f))
    os.remove(f)
    order, times = [], collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            key = (e["name"][: -len("_kernel_time")], e["args"].get("op_name", "?"))
            if key not in times:
                order.append(key)
            times[key].append(e["dur"])
    reduce = np.min if stat == "min" else np.median
    return [(name, op, float(reduce(times[(name, op)][skip:] or times[(name, op)]))) for name, op in order]


def main():
    args = sys.argv[1:]
    top = None
    if "--top" in args:
        i = args.index("--top")
        top = int(args[i + 1])
        del args[i : i + 2]
    stat = "p50"
    if "--stat" in args:
        i = args.index("--stat")
        stat = args[i + 1]
        if stat not in ("p50", "min"):
            sys.exit(f"--stat must be p50 or min, not {stat}")
        del args[i : i + 2]
    path, threads, ours_path = args[0], int(args[1]), args[2]
    ours = json.load(open(ours_path))
    layers = ours["layers"]
    by_node = {}
    for idx, layer in enumerate(layers):
        for n in layer["nodes"]:
            by_node[n] = idx
    ort_us = collections.defaultdict(float)
    ort_ops = collections.defaultdict(list)
    current = None
    for name, op, us in ort_node_times(path, threads, stat=stat):
        key = name
        for suffix in ("_nchwc", "_output_0"):
            if key.endswith(suffix):
                key = key[: -len(suffix)]
        idx = by_node.get(key, by_node.get(name))
        if idx is None:
            idx = current
        if idx is None:
            idx = 0
        current = idx
        ort_us[idx] += us
        ort_ops[idx].append(op)
    rows = []
    for idx, layer in enumerate(layers):
        ours_us = layer["measured_latency_s"][stat] * 1e6
        rows.append((ours_us - ort_us[idx], idx, layer, ours_us, ort_us[idx]))
    tot_ours = sum(r[3] for r in rows)
    tot_ort = sum(ort_us.values())
    print(f"{os.path.basename(path)} threads {threads} ({stat} per layer): sum of layers ours {tot_ours / 1e3:.2f} ms, ORT nodes {tot_ort / 1e3:.2f} ms")
    print(f"{'#':>4} {'ours us':>9} {'ORT us':>9} {'gap us':>9}  {'algorithm':<22} {'ORT ops':<28} layer")
    rows.sort(key=lambda r: -r[0])
    for gap, idx, layer, o, r in rows[:top] if top else rows:
        ops = "+".join(dict.fromkeys(ort_ops[idx])) or "-"
        print(f"{idx:>4} {o:>9.0f} {r:>9.0f} {gap:>9.0f}  {layer['algorithm'][:22]:<22} {ops[:28]:<28} {layer['name']}")


if __name__ == "__main__":
    main()
