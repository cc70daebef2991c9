#!/usr/bin/env bash
# Split-computing benchmarks (release build; not a test): plan a 1,000-kernel DAG over three
# tiers (target < 50 ms), sweep resnet50 over 1,000 bandwidths (< 1 s), simulate 100,000
# frames (< 2 s). Prints measured times and the ratio to each target.
# Usage: scripts/bench-planner.sh [scenario] (default profiles/pi4-wifi-cloud.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
swift run -c release ${SCRATCH_PATH:+--scratch-path "$SCRATCH_PATH"} EdgeProfBench planner "${1:-profiles/pi4-wifi-cloud.yaml}"
