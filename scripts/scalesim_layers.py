#!/usr/bin/env python3
"""Runs SCALE-Sim (PyPI `scalesim`, test-time oracle) on conv layers and prints JSON.

stdin:  {"rows": 12, "cols": 14, "dataflow": "ws"|"os"|"is",
         "layers": [{"name": "c1", "h": 10, "w": 10, "r": 3, "s": 3, "c": 4, "k": 8, "stride": 1}]}
        h, w are the PADDED input height/width (SCALE-Sim models no padding).
stdout: {"layers": [{"name", "compute_cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"}]}

SRAMs are sized at 100 MB each so no layer stalls on capacity (the edgeprof model also
reports stall-free compute cycles); the interface bandwidth is SCALE-Sim's CALC mode.

--compute-only: skip SCALE-Sim's cycle-by-cycle memory-system replay (pure Python, minutes per
large layer) and count from SCALE-Sim's own demand matrices instead: compute cycles = rows of
the ofmap demand matrix, SRAM reads/writes = valid (>= 0) entries of the ifmap/filter/ofmap
demand matrices. Without stalls this is what the memory system reports minus its final cycle
(checked against the full mode in AcceleratorTests on small layers).
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


def compute_only(sim, n):
    from scalesim.single_layer_sim import single_layer_sim
    layers = []
    for i in range(n):
        layer = single_layer_sim()
        layer.set_params(layer_id=i, config_obj=sim.config, topology_obj=sim.topo, layout_obj=sim.layout, verbose=False)
        _, ifmap = layer.op_mat_obj.get_ifmap_matrix()
        _, filt = layer.op_mat_obj.get_filter_matrix()
        _, ofmap = layer.op_mat_obj.get_ofmap_matrix()
        if layer.dataflow == "ws":
            layer.compute_system.set_params(config_obj=sim.config, ifmap_op_mat=ifmap, filter_op_mat=filt, ofmap_op_mat=ofmap,
                                            sparsity_ratio_N=layer.sparsity_ratio_N, sparsity_ratio_M=layer.sparsity_ratio_M,
                                            ifmap_op_mat_original=layer.op_mat_obj.ifmap_addr_matrix_original,
                                            sparsity_filter_array=layer.op_mat_obj.sparse_filter_array)
        else:
            layer.compute_system.set_params(config_obj=sim.config, ifmap_op_mat=ifmap, filter_op_mat=filt, ofmap_op_mat=ofmap)
        i_d, f_d, o_d = layer.compute_system.get_demand_matrices()
        layers.append({"compute_cycles": int(o_d.shape[0]), "ifmap_sram_reads": int(np.count_nonzero(i_d >= 0)),
                       "filter_sram_reads": int(np.count_nonzero(f_d >= 0)), "ofmap_sram_writes": int(np.count_nonzero(o_d >= 0))})
    return layers


def main():
    spec = json.load(sys.stdin)
    fast = "--compute-only" in sys.argv[1:]
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
            if fast:
                results = compute_only(sim, len(spec["layers"]))
            else:
                sim.run_scale(top_path=tmp)
        if fast:
            json.dump({"layers": [dict(name=l["name"], **r) for l, r in zip(spec["layers"], results)]}, sys.stdout)
            print()
            return
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
