#!/usr/bin/env bash
# Creates the ONNX test fixtures in Tests/Fixtures/onnx (not committed): real torchvision exports,
# reference counts/shapes (JSON) and ONNX Runtime reference outputs (.ref.npz). The importer tests
# fail with "run scripts/make-fixtures.sh" while they are missing; CI runs this before `swift test`.
#
#   scripts/make-fixtures.sh            # export only if missing or if the exporter changed
#   scripts/make-fixtures.sh --force    # re-export
#
# Environment:
#   EDGEPROF_FIXTURES_VENV   virtual environment (default: .venv-fixtures in the repo)
#   EDGEPROF_FIXTURES_CACHE  directory keeping finished exports by exporter hash, reused by later
#                            clones on the same machine (default: ~/.cache/edgeprof/onnx-fixtures;
#                            "off" disables)
#
# Python packages: the CPU-only torch wheel when pip can find it (much smaller than PyPI's CUDA
# build, which is the fallback), torchvision, onnx and onnxruntime, pinned so exports are
# reproducible; scalesim, the oracle of the accelerator dataflow tests (AcceleratorTests).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/Tests/Fixtures/onnx"
EXPORTER="$ROOT/Tests/Fixtures/export_models.py"
VENV="${EDGEPROF_FIXTURES_VENV:-$ROOT/.venv-fixtures}"
CACHE_ROOT="${EDGEPROF_FIXTURES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeprof/onnx-fixtures}"
PYTHON="${PYTHON:-python3}"

TORCH_CPU="torch==2.13.0+cpu"
TORCH_PYPI="torch==2.13.0"
TORCHVISION="torchvision==0.28.0"
OTHERS=(onnx==1.23.2 onnxruntime==1.32.0 "numpy<3")
SCALESIM="scalesim==3.0.0"

FIXTURES=(mobilenet_v2 resnet18 shufflenet_v2_x1_0 squeezenet1_1 efficientnet_b0 mobilenet_v3_small vit_tiny
          mobilenet_v2_bn mobilenet_v2_qdq shufflenet_v2_x1_0_dynbatch)

log() { printf '[make-fixtures] %s\n' "$*"; }
start=$(date +%s)

# The stamp names everything that determines the exports.
HASH="$(cat "$EXPORTER" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

complete() {  # complete DIR: every fixture file present and stamped with HASH
    local dir="$1"
    [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$HASH" ] || return 1
    for f in "${FIXTURES[@]}"; do
        [ -s "$dir/$f.onnx" ] && [ -s "$dir/$f.json" ] || return 1
    done
}

# SCALE-Sim is used at test time (not for the exports): the venv must exist and have it even when
# the fixtures themselves come from the cache (a fresh clone on a machine that exported them before).
if ! [ -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV (test-time tools)"
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import scalesim" >/dev/null 2>&1; then
    log "installing $SCALESIM into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SCALESIM"
fi

if [ "${1:-}" != "--force" ] && complete "$OUT"; then
    log "fixtures are up to date ($OUT, exporter $HASH)"
    exit 0
fi

CACHE=""
if [ "$CACHE_ROOT" != "off" ]; then
    CACHE="$CACHE_ROOT/$HASH"
    if [ "${1:-}" != "--force" ] && complete "$CACHE"; then
        log "copying cached fixtures from $CACHE"
        mkdir -p "$OUT"
        cp -f "$CACHE"/*.onnx "$CACHE"/*.json "$OUT"/
        cp -f "$CACHE"/*.npz "$OUT"/ 2>/dev/null || true
        cp -f "$CACHE/.stamp" "$OUT/.stamp"
        log "done in $(( $(date +%s) - start )) s"
        exit 0
    fi
fi

# Python environment.
if ! "$VENV/bin/python" -c "import onnx, onnxruntime, torch, onnxruntime.quantization, scalesim" >/dev/null 2>&1; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
    PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
    log "installing $TORCH_CPU $TORCHVISION ${OTHERS[*]} $SCALESIM"
    if ! "${PIP[@]}" "$TORCH_CPU" "$TORCHVISION" "${OTHERS[@]}" "$SCALESIM"; then
        log "CPU torch wheel not available; installing $TORCH_PYPI from PyPI (CUDA build, ~3 GB, runs on CPU)"
        PIP_FIND_LINKS="" "${PIP[@]}" "$TORCH_PYPI" "$TORCHVISION" "${OTHERS[@]}" "$SCALESIM"
    fi
    log "python packages ready after $(( $(date +%s) - start )) s"
fi

log "exporting fixtures into $OUT"
mkdir -p "$OUT"
rm -f "$OUT/.stamp"
# Warnings from the TorchScript exporter are expected; keep the log readable.
PYTHONWARNINGS="ignore" "$VENV/bin/python" "$EXPORTER" --out "$OUT"
for f in "${FIXTURES[@]}"; do
    [ -s "$OUT/$f.onnx" ] && [ -s "$OUT/$f.json" ] || { log "missing $f after export"; exit 1; }
done
echo "$HASH" > "$OUT/.stamp"

if [ -n "$CACHE" ]; then
    if mkdir -p "$CACHE.tmp.$$" 2>/dev/null && cp -f "$OUT"/*.onnx "$OUT"/*.json "$OUT"/*.npz "$OUT/.stamp" "$CACHE.tmp.$$"/ 2>/dev/null; then
        rm -rf "$CACHE" && mv "$CACHE.tmp.$$" "$CACHE" && log "cached in $CACHE"
    else
        rm -rf "$CACHE.tmp.$$"
    fi
fi
log "done in $(( $(date +%s) - start )) s"
