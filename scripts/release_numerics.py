#!/usr/bin/env python3
"""Release-build numerics check: `edgeprof run` on every ONNX fixture's reference inputs vs the
ONNX Runtime outputs stored next to it (Tests/Fixtures/onnx/*.ref.npz).

    python scripts/release_numerics.py [.build/release/edgeprof] [--kernels avx2|generic]

The test suite checks the same agreement in a debug build; this runs the optimised build, whose
C kernels are specialised per activation (see CK_WITH_CONST_ACT) and so are not the code the
debug tests execute. Exit 1 if any output's max |diff| / max |ref| exceeds 1e-4 (5e-2 for the
QDQ fixture, which we execute in float: agreement at quantization level, as in
ONNXRuntimeAgreementTests).
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

args = [a for a in sys.argv[1:]]
kernels = []
if "--kernels" in args:
    i = args.index("--kernels")
    kernels = ["--kernels", args[i + 1]]
    del args[i:i + 2]
exe = args[0] if args else ".build/release/edgeprof"
worst = 0.0
failed = []
with tempfile.TemporaryDirectory() as tmp:
    for ref_path in sorted(glob.glob("Tests/Fixtures/onnx/*.ref.npz")):
        model = ref_path.replace(".ref.npz", ".onnx")
        ref = np.load(ref_path)
        i = 0
        while f"input_{i}" in ref.files:
            x = os.path.join(tmp, "x.npy")
            y = os.path.join(tmp, "y.npy")
            np.save(x, ref[f"input_{i}"].astype(np.float32))
            r = subprocess.run([exe, "run", model, "--input", x, "--output", y, *kernels], capture_output=True, text=True)
            if r.returncode != 0:
                failed.append(f"{model} input {i}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
                break
            out, want = np.load(y), ref[f"output_{i}"]
            rel = float(np.max(np.abs(out - want)) / max(float(np.max(np.abs(want))), 1e-12))
            worst = max(worst, rel)
            tol = 5e-2 if model.endswith("_qdq.onnx") else 1e-4
            status = "ok" if rel <= tol else "FAIL"
            if status == "FAIL":
                failed.append(f"{model} input {i}: rel {rel:.2e}")
            print(f"{os.path.basename(model):28s} input {i}: max|diff|/max|ref| = {rel:.2e} {status}")
            i += 1
print(f"worst {worst:.2e}; {len(failed)} failure(s)")
for f in failed:
    print("  " + f)
sys.exit(1 if failed else 0)
