#!/usr/bin/env python3
"""Runs SCALE-Sim (PyPI `scalesim`, test-time oracle) on conv layers and prints JSON.

stdin:  {"rows": 12, "cols": 14, "dataflow": "ws"|"os"|"is",
         "layers": [{"name": "c1", "h": 10, "w": 10, "r": 3, "s": 3, "c": 4, "k": 8, "stride": 1}]}
        h, w are the PADDED input height/width (SCALE-Sim models no padding).
stdout: {"layers": [{"name", "compute_cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"}]}

SRAMs are sized at 100 MB each so no layer stalls on capacity (the edgeprof model also
reports stall-free compute cycles); the interface bandwidth is SCALE-Sim's CALC mode.
"""
import contextlib
import csv
import io
import json
import os
import sys
import tempfile

import inspect
import textwrap

import numpy as np
from scalesim.memory import double_buffered_scratchpad_mem as _dbsp
from scalesim.scale_sim import scalesim


def _patch_numpy24():
    # scalesim 3.0.0 ends service_memory_requests with int(max(<list of 1-element arrays>)),
    # which numpy >= 2.4 rejects. Recompile that one method with np.max; nothing else changes.
    src = textwrap.dedent(inspect.getsource(_dbsp.double_buffered_scratchpad.service_memory_requests))
    fixed = src.replace("int(max(ofmap_serviced_cycles))", "int(np.max(ofmap_serviced_cycles))")
    assert fixed != src, "scalesim changed: the numpy 2.4 patch no longer applies"
    namespace = {}
    exec(compile(fixed, _dbsp.__file__, "exec"), vars(_dbsp), namespace)
    _dbsp.double_buffered_scratchpad.service_memory_requests = namespace["service_memory_requests"]


_patch_numpy24()

CONFIG = """[general]
run_name = edgeprof

[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : 102400
FilterSramSzkB : 102400
OfmapSramSzkB : 102400
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 10
Dataflow : {dataflow}
ReadRequestBuffer : 32
WriteRequestBuffer : 32

[layout]
IfmapCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterCustomLayout : False
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : CALC
UseRamulatorTrace : False
"""


def main():
    spec = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "edgeprof.cfg")
        topo = os.path.join(tmp, "layers.csv")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(rows=spec["rows"], cols=spec["cols"], dataflow=spec["dataflow"]))
        with open(topo, "w") as f:
            f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n")
            for i, l in enumerate(spec["layers"]):
                # Names must not contain 'DP' (SCALE-Sim's depthwise marker) or commas.
                f.write(f"L{i},{l['h']},{l['w']},{l['r']},{l['s']},{l['c']},{l['k']},{l['stride']},\n")
        # SCALE-Sim 3 reads a layout file even when custom layouts are off; the values are unused.
        layout = os.path.join(tmp, "layout.csv")
        with open(layout, "w") as f:
            f.write("Layer name," + ",".join(f"x{i}" for i in range(19)) + ",\n")
            for i in range(len(spec["layers"])):
                f.write(f"L{i}," + ",".join(["1"] * 19) + ",\n")
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout)
            sim.run_scale(top_path=tmp)
        out = os.path.join(tmp, "edgeprof")
        with open(os.path.join(out, "COMPUTE_REPORT.csv")) as f:
            compute = [dict((k.strip(), v.strip()) for k, v in row.items() if k) for row in csv.DictReader(f)]
        with open(os.path.join(out, "DETAILED_ACCESS_REPORT.csv")) as f:
            access = [dict((k.strip(), v.strip()) for k, v in row.items() if k) for row in csv.DictReader(f)]
    layers = []
    for l, c, a in zip(spec["layers"], compute, access):
        layers.append({
            "name": l["name"],
            "compute_cycles": int(float(c["Total Cycles"])),
            "ifmap_sram_reads": int(float(a["SRAM IFMAP Reads"])),
            "filter_sram_reads": int(float(a["SRAM Filter Reads"])),
            "ofmap_sram_writes": int(float(a["SRAM OFMAP Writes"])),
        })
    json.dump({"layers": layers}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
