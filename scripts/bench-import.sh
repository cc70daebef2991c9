#!/usr/bin/env bash
# Benchmark (not a test): ONNX import speed on large real exports (issue 4's target: a 100 MB
# file imports in under 1 s, release build). Exports torchvision resnet50 (~102 MB) and vit_b_16
# (~346 MB) with seeded random weights into .build/bench-onnx/ (once; needs the fixtures venv from
# scripts/make-fixtures.sh), then times `EdgeProfBench import` on them and on the resnet18 fixture.
# Environment: PYTHON (default .venv-fixtures/bin/python), SCRATCH_PATH (build directory).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-fixtures/bin/python}
OUT=.build/bench-onnx
if [ ! -x "$PYTHON" ]; then
  echo "no Python with torch at $PYTHON; run scripts/make-fixtures.sh first (or set PYTHON=...)" >&2
  exit 1
fi
mkdir -p "$OUT"
for m in resnet50 vit_b_16; do
  if [ ! -f "$OUT/$m.onnx" ]; then
    echo "exporting $m ..." >&2
    "$PYTHON" - "$m" "$OUT/$m.onnx" <<'PY'
import sys, torch
sys.path.insert(0, "Tests/Fixtures")
from export_models import import_torchvision  # CPU-torch workaround for torchvision's C++ ops
torchvision = import_torchvision()
name, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = getattr(torchvision.models, name)(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
tmp = out + ".tmp"
torch.onnx.export(model, (x,), tmp, opset_version=17, dynamo=False, input_names=["input"], output_names=["logits"])
import os; os.replace(tmp, out)
PY
  fi
done
files=("$OUT/resnet50.onnx" "$OUT/vit_b_16.onnx")
[ -f Tests/Fixtures/onnx/resnet18.onnx ] && files=(Tests/Fixtures/onnx/resnet18.onnx "${files[@]}")
swift run -c release ${SCRATCH_PATH:+--scratch-path "$SCRATCH_PATH"} EdgeProfBench import "${files[@]}"
