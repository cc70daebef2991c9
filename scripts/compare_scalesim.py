#!/usr/bin/env python3
"""Table of edgeprof's dataflow model vs SCALE-Sim for every conv/gemm layer of a model.

usage: compare_scalesim.py REPORT.json DATAFLOW(ws|os)
REPORT.json is `edgeprof accel MODEL --device D --dataflow ... --format json`. Grouped
(depthwise) layers are simulated for one group and multiplied by the group count, which is
what SCALE-Sim's own depthwise ('DP') expansion does.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    report = json.load(open(sys.argv[1]))
    df = sys.argv[2]
    rows, cols = (int(x) for x in report["array"].split(" x "))
    layers = []
    for l in report["layers"]:
        s = l["shape"]
        h = (s["outH"] - 1) * s["strideH"] + s["kernelH"]
        w = (s["outW"] - 1) * s["strideW"] + s["kernelW"]
        layers.append({"name": l["name"], "h": h, "w": w, "r": s["kernelH"], "s": s["kernelW"],
                       "c": s["inChannels"], "k": s["outChannels"], "stride": s["strideH"]})
    # Compute-only: SCALE-Sim's memory replay takes > 10 min per large layer on this machine.
    out = subprocess.run([sys.executable, os.path.join(HERE, "scalesim_layers.py"), "--compute-only"],
                         input=json.dumps({"rows": rows, "cols": cols, "dataflow": df, "layers": layers}),
                         capture_output=True, text=True, check=True)
    sim = json.loads(out.stdout)["layers"]
    print(f"{report['model']} — {rows} x {cols} array, {df}")
    print()
    print("| layer | groups | edgeprof cycles | SCALE-Sim cycles | Δ cycles | edgeprof ifmap/filter reads | SCALE-Sim ifmap/filter reads | edgeprof ofmap writes | SCALE-Sim ofmap writes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    tot_ours = tot_sim = 0
    for l, s in zip(report["layers"], sim):
        g = l["shape"]["groups"]
        acc = l["glbAccesses"]
        ours_cycles = l["cycles"]
        sim_cycles = s["compute_cycles"] * g
        d = (ours_cycles - sim_cycles) / sim_cycles * 100
        worst = max(worst, abs(d))
        tot_ours += ours_cycles
        tot_sim += sim_cycles
        ofmap = acc["outputs"]["writes"] + acc["partialSums"]["writes"]
        print(f"| {l['name']} | {g} | {ours_cycles} | {sim_cycles} | {d:+.2f}% | "
              f"{acc['inputs']['reads']}/{acc['weights']['reads']} | {s['ifmap_sram_reads'] * g}/{s['filter_sram_reads'] * g} | "
              f"{ofmap} | {s['ofmap_sram_writes'] * g} |")
    print()
    print(f"total cycles: edgeprof {tot_ours}, SCALE-Sim {tot_sim} ({(tot_ours - tot_sim) / tot_sim * 100:+.2f}%); "
          f"worst layer |Δ cycles| {worst:.2f}%")


if __name__ == "__main__":
    main()
