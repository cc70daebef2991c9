#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, ONNX fixtures (exported with
# PyTorch into a private venv, cached), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-venv chromium
scripts/make-fixtures.sh
swift test "$@"
