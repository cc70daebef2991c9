#!/usr/bin/env bash
# Regenerates the committed example reports under reports/ from the committed scenarios.
# A test (EdgeProfKitTests.ScenarioTests) fails when they drift from what the code produces.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product edgeprof
for s in profiles/*.yaml; do
  echo "== $s"
  .build/debug/edgeprof scenario "$s" >/dev/null
done
git status --short reports/ || true
