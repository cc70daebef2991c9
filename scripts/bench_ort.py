#!/usr/bin/env python3
"""Times one ONNX model with ONNX Runtime (CPU): prints JSON {p50, mean, min, samples} in seconds,
plus the process peak RSS (bytes) before the session was created and after the runs.

Used by scripts/bench-vs-ort.sh. Settings follow the benchmark rules of issue 5: intra-op threads
= the thread count under test, sequential execution, all graph optimisations on.
"""
import json
import resource
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    path, threads, iterations, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    feeds = {inp.name: x}
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    t = np.array(times)
    print(json.dumps({"p50": float(np.median(t)), "mean": float(t.mean()), "min": float(t.min()), "samples": len(times),
                      "ort": ort.__version__, "peak_rss_before_session_bytes": rss_before,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
