#!/usr/bin/env bash
# Quick start: install system packages, build in release mode, run the default scenario
# (profiles/default.yaml), which prints per-layer tables and a device comparison and writes
# the reports under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "building edgeprof (release)…"
swift build -c release --product edgeprof
.build/release/edgeprof scenario profiles/default.yaml "$@"
