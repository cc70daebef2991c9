#!/usr/bin/env bash
# Prints the edgeprof-vs-SCALE-Sim tables (cycles, buffer reads/writes per layer) for the
# resnet18 and mobilenet_v2 ONNX fixtures on the accelerator template's array, for the
# weight- and output-stationary dataflows (SCALE-Sim has no row-stationary).
#
#   scripts/compare-scalesim.sh [EDGEPROF_BINARY]    # default: .build/release/edgeprof
#
# Needs the fixtures and the fixtures venv with scalesim (scripts/make-fixtures.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/.build/release/edgeprof}"
VENV="${EDGEPROF_FIXTURES_VENV:-$ROOT/.venv-fixtures}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for model in resnet18 mobilenet_v2; do
    for df in ws os; do
        flow=$([ "$df" = ws ] && echo weight-stationary || echo output-stationary)
        # The SRAM template has the same array and no mlc_cell (no content pass needed here).
        "$BIN" accel "$ROOT/Tests/Fixtures/onnx/$model.onnx" --device "$ROOT/devices/sram-accelerator.yaml" \
            --dataflow "$flow" --encoding none --format json > "$TMP/$model-$df.json"
        "$VENV/bin/python" "$ROOT/scripts/compare_scalesim.py" "$TMP/$model-$df.json" "$df"
        echo
    done
done
