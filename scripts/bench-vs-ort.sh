#!/usr/bin/env bash
# Benchmark (not a test): edgeprof's kernel runner vs ONNX Runtime, same machine, same run.
#
#   scripts/bench-vs-ort.sh                 # default release build
#   BENCH_NATIVE=1 scripts/bench-vs-ort.sh  # also a build with -target-cpu native (FMA/AVX2 codegen)
#
# For each model (ONNX fixtures from scripts/make-fixtures.sh) and thread count, ORT and
# edgeprof run back to back; medians are compared as ratio = edgeprof / ORT (≤ 1.0: as fast or faster).
# ORT: intra_op_num_threads = threads, sequential execution, all graph optimisations.
# Environment: MODELS, THREADS, ITERATIONS (default 200), WARMUP (20), PYTHON (default .venv-fixtures/bin/python),
# SCRATCH (build directory, default .build-bench), ROUNDS (default 5: each pair is measured ROUNDS times,
# interleaved, the order alternating ORT-first / ours-first between rounds).
# Two ratios are printed per row: "paired", the median over rounds of (our median / ORT's median in
# the same round), which cancels slow phases of a shared VM that last longer than one pair; and
# "best", our best median over ORT's best median.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${MODELS:-"mobilenet_v2 resnet18 shufflenet_v2_x1_0 efficientnet_b0"}
THREADS=${THREADS:-"1 2"}
ITERATIONS=${ITERATIONS:-200}
WARMUP=${WARMUP:-20}
ROUNDS=${ROUNDS:-5}
PYTHON=${PYTHON:-.venv-fixtures/bin/python}
FIXTURES=Tests/Fixtures/onnx

if [ ! -x "$PYTHON" ]; then
  echo "no Python with onnxruntime at $PYTHON; run scripts/make-fixtures.sh first (or set PYTHON=...)" >&2
  exit 1
fi
if ! "$PYTHON" -c "import onnxruntime, numpy" >/dev/null 2>&1; then
  # make-fixtures.sh installs onnxruntime only when it exports; a cached fixture copy leaves it out.
  echo "$PYTHON has no onnxruntime; install it with:" >&2
  echo "  $PYTHON -m pip install onnx==1.23.2 onnxruntime==1.32.0 \"numpy<3\"" >&2
  exit 1
fi
for m in $MODELS; do
  if [ ! -f "$FIXTURES/$m.onnx" ]; then
    if [ -x scripts/make-fixtures.sh ]; then scripts/make-fixtures.sh; break; fi
    echo "missing $FIXTURES/$m.onnx; run scripts/make-fixtures.sh" >&2
    exit 1
  fi
done

builds=("default:${SCRATCH:-.build-bench}")
[ "${BENCH_NATIVE:-0}" = "1" ] && builds+=("native:${SCRATCH:-.build-bench}-native")
for b in "${builds[@]}"; do
  name=${b%%:*}; scratch=${b#*:}
  flags=()
  [ "$name" = "native" ] && flags=(-Xswiftc -target-cpu -Xswiftc native)
  echo "building edgeprof (release, $name) ..." >&2
  swift build -c release --scratch-path "$scratch" --product edgeprof "${flags[@]}" >&2
  # A fast wrong answer is no result: the optimised build must match ORT before it is timed.
  echo "checking release numerics ($name) against the fixtures' ORT outputs ..." >&2
  "$PYTHON" scripts/release_numerics.py "$scratch/release/edgeprof" >&2 || { echo "release numerics check failed" >&2; exit 1; }
done

MEMDIR=$(mktemp -d)
trap 'rm -rf "$MEMDIR"' EXIT
median_ours() {  # binary model threads -> seconds (p50 of the end-to-end runs), with a trailing * when the threads ran on
  # cores far apart (the placement probe before or after the timed runs; see README "Thread placement"); keeps the JSON
  "$1" measure "$FIXTURES/$2.onnx" --threads "$3" --iterations "$ITERATIONS" --warmup "$WARMUP" --format json 2>/dev/null \
    | tee "$MEMDIR/ours-$2-$3.json" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin); s = d["settings"]
far = any((s.get(k) or {}).get("round_trip_ns", 0) > 200 for k in ("placement_before", "placement_after"))
print(str(d["totals"]["measured_latency_s"]["p50"]) + ("*" if far else ""))'
}
median_ort() {
  "$PYTHON" scripts/bench_ort.py "$FIXTURES/$1.onnx" "$2" "$ITERATIONS" "$WARMUP" \
    | tee "$MEMDIR/ort-$1-$2.json" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["p50"])'
}
best() { "$PYTHON" -c 'import sys; print(min(float(x.rstrip("*")) for x in sys.argv[1:]))' "$@"; }
# paired_ratio "ours1 ours2 ..." "ort1 ort2 ..." [close] -> median over rounds of ours_r / ort_r; with "close", only over
# the rounds whose threads ran on nearby cores (no *), "-" when there is none
paired_ratio() {
  "$PYTHON" -c '
import sys, statistics as st
pairs = [(x, float(y)) for x, y in zip(sys.argv[1].split(), sys.argv[2].split())]
if len(sys.argv) > 3: pairs = [(x, y) for x, y in pairs if not x.endswith("*")]
r = [float(x.rstrip("*")) / y for x, y in pairs]
print(f"{st.median(r):.2f} ({len(r)})" if len(sys.argv) > 3 and r else f"{st.median(r):.2f}" if r else "-")' "$@"
}
ms() { "$PYTHON" -c "print(f'{$1*1e3:.2f}')"; }

echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ORT $("$PYTHON" -c 'import onnxruntime; print(onnxruntime.__version__)'); $ITERATIONS iterations after $WARMUP warm-up; $ROUNDS interleaved rounds per row"
echo "paired ratio = median over rounds of (ours / ORT) in the same round; best = best median of each side"
echo "* = a round whose threads ran on cores far apart (our placement probe before or after our run: cache-line round trip > 200 ns,"
echo "    the host placed the vCPUs on different dies; ORT, run next to it, is not probed); 'close rounds' = ratio over the other rounds (count)"
header="| model | threads | ORT best ms"
for b in "${builds[@]}"; do header+=" | ours (${b%%:*}) best ms | ratio paired (${b%%:*}) | ratio paired, close rounds (${b%%:*}) | ratio best (${b%%:*}) | rounds ours/ORT (${b%%:*})"; done
echo
sep="|---|---:|---:"
for b in "${builds[@]}"; do sep+="|---:|---:|---:|---:|---|"; done
echo "$header |"
echo "$sep"
for m in $MODELS; do
  for t in $THREADS; do
    ort_runs=""; declare -A ours_runs=()
    for r in $(seq "$ROUNDS"); do
      if [ $((r % 2)) -eq 1 ]; then ort_runs+=" $(median_ort "$m" "$t")"; fi
      for b in "${builds[@]}"; do
        bin="${b#*:}/release/edgeprof"
        ours_runs[${b%%:*}]+=" $(median_ours "$bin" "$m" "$t")"
      done
      if [ $((r % 2)) -eq 0 ]; then ort_runs+=" $(median_ort "$m" "$t")"; fi
    done
    # shellcheck disable=SC2086
    ort_s=$(best $ort_runs)
    row="| $m | $t | $(ms "$ort_s")"
    for b in "${builds[@]}"; do
      # shellcheck disable=SC2086
      s=$(best ${ours_runs[${b%%:*}]})
      rounds=$("$PYTHON" -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print(" ".join(f"{float(x.rstrip(chr(42)))*1e3:.2f}{chr(42) if x.endswith(chr(42)) else chr(32)}/{float(y)*1e3:.2f}".replace(" /", "/") for x, y in zip(a, b)))' "${ours_runs[${b%%:*}]}" "$ort_runs")
      row+=" | $(ms "$s") | $(paired_ratio "${ours_runs[${b%%:*}]}" "$ort_runs") | $(paired_ratio "${ours_runs[${b%%:*}]}" "$ort_runs" close) | $("$PYTHON" -c "print(f'{$s/$ort_s:.2f}')") | $rounds"
    done
    echo "$row |"
    unset ours_runs
  done
done
echo
echo "peak memory (last run of each side, threads $(echo $THREADS | cut -d' ' -f1)); ours: measured arena/scratch sizes and process peak RSS; predicted: cost model; ORT: process peak RSS growth from session creation to the end of the runs (measured)"
echo
echo "| model | arena MiB | scratch MiB | model weights MiB | our peak RSS MiB | predicted act. + weights MiB | ORT peak RSS growth MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
t1=$(echo $THREADS | cut -d' ' -f1)
for m in $MODELS; do
  "$PYTHON" - "$MEMDIR/ours-$m-$t1.json" "$MEMDIR/ort-$m-$t1.json" "$m" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["totals"]["memory"]
ort = json.load(open(sys.argv[2]))
mib = lambda b: f"{b / 2**20:.1f}" if b is not None else "n/a"
pred = None
if ours.get("predicted_peak_activation_bytes") is not None and ours.get("predicted_weight_bytes") is not None:
    pred = f"{ours['predicted_peak_activation_bytes'] / 2**20:.1f} + {ours['predicted_weight_bytes'] / 2**20:.1f}"
growth = ort["peak_rss_bytes"] - ort["peak_rss_before_session_bytes"]
print(f"| {sys.argv[3]} | {mib(ours['arena_bytes'])} | {mib(ours['scratch_bytes'])} | {mib(ours['packed_weight_bytes'])} | "
      f"{mib(ours.get('peak_rss_bytes'))} | {pred or 'n/a'} | {mib(growth)} |")
PY
done
