#!/usr/bin/env bash
# Regenerates the committed example reports under reports/ from the committed scenarios,
# reproducibly (fixed timestamp and build id, not stored). Tests
# (EdgeProfKitTests.ScenarioTests) fail when they drift from what the code renders.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product edgeprof
export EDGEPROF_FIXED_TIME=2026-01-01T00:00:00Z
for s in profiles/*.yaml; do
  grep -q "_report:" "$s" || continue
  echo "== $s"
  .build/debug/edgeprof scenario "$s" --no-store >/dev/null
done
# Split computing: a plan, a bandwidth sweep and a simulation (the argument lists are repeated
# verbatim in ScenarioTests.splitComputingExamplesMatchCommittedReports).
echo "== plan / sweep / simulate examples"
.build/debug/edgeprof plan profiles/pi4-wifi-cloud.yaml -o /dev/null --no-store \
  --report reports/pi4-wifi-cloud-plan.html --report reports/pi4-wifi-cloud-plan.md
.build/debug/edgeprof plan profiles/pi4-wifi-cloud.yaml --sweep-bandwidth 0.5..1000 Mbit/s -o /dev/null --no-store \
  --report reports/pi4-wifi-cloud-sweep.html --report reports/pi4-wifi-cloud-sweep.md
.build/debug/edgeprof simulate profiles/pi4-wifi-cloud.yaml -o /dev/null --no-store \
  --report reports/pi4-wifi-cloud-simulate.html --report reports/pi4-wifi-cloud-simulate.md
git status --short reports/ || true
