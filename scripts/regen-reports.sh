#!/usr/bin/env bash
# Regenerates the committed example reports under reports/ from the committed scenarios,
# reproducibly (fixed timestamp and build id, not stored). A test
# (EdgeProfKitTests.ScenarioTests) fails when they drift from what the code renders.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product edgeprof
for s in profiles/*.yaml; do
  grep -q "_report:" "$s" || continue
  echo "== $s"
  EDGEPROF_FIXED_TIME=2026-01-01T00:00:00Z .build/debug/edgeprof scenario "$s" --no-store >/dev/null
done
git status --short reports/ || true
