"""Bytes per synapse and per neuron of PD14 on NEST (and PyNN), and the full-scale extrapolation.

Each (framework, scale) runs in a fresh process (peak RSS is per process): the process's
RSS after importing the simulator (``base``), then ``spikemark.simulation.run.run_pd14``
with a very short model time; it reports NEST's ``memory_size``, the RSS after the run and
the peak RSS. ``spikemark.simulation.resources.fit_memory_model`` fits peak RSS - base
against (connections, neurons); the script prints the fit and its value at N = K = 1,
labelled as an extrapolation. Memory does not depend on machine load, so this may run on a
busy machine (it times nothing).

    PYTHONPATH=src python benchmarks/pd14_memory.py --scales 0.1 0.2 --frameworks nest pynn-nest

The constants of ``resources.MEMORY_MODELS`` come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def parse_point(text: str) -> tuple[float, float]:
    """``0.2`` is N = K = 0.2; ``0.2:0.1`` is N = 0.2, K = 0.1."""
    n, _, k = text.partition(":")
    return float(n), float(k or n)


def measure_one(framework: str, n_scaling: float, k_scaling: float, threads: int) -> dict:
    """One run in this process: base RSS, NEST's memory_size, RSS and peak RSS."""
    import psutil

    from spikemark.simulation.pd14_nest import import_nest
    from spikemark.simulation.pd14_params import PD14Config
    from spikemark.simulation.run import run_pd14
    from spikemark.simulation.simulators import network_class

    import_nest()
    if framework == "pynn-nest":
        import pyNN.nest  # noqa: F401 - part of the base, as in a pipeline job
    network_class(framework)
    base = psutil.Process().memory_info()
    cfg = PD14Config(N_scaling=n_scaling, K_scaling=k_scaling, t_presim_ms=0.0, t_sim_ms=10.0, threads=threads, seed=1)
    rec = run_pd14(cfg, framework)
    return {
        "framework": framework,
        "scale": f"{n_scaling:g}:{k_scaling:g}",
        "threads": threads,
        "neurons": rec.num_neurons,
        "connections": rec.num_connections,
        "base_rss": float(base.rss),
        "base_vms": float(base.vms),
        "memory_size": rec.memory_nest_kb * 1024.0,  # NEST reads VmSize (virtual) of /proc/self/status
        "rss": rec.rss_bytes,
        "peak_rss": rec.rss_peak_bytes,  # VmHWM: a child's ru_maxrss starts at its parent's size
        "time_construction": rec.wall["create"] + rec.wall["connect"],
    }


def child(framework: str, point: str, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--one", framework, point, str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(SRC)})
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales", nargs="+", default=["0.1", "0.2"], help="each point: N (= K), or N:K (e.g. 0.2:0.1 to check the fit)"
    )
    parser.add_argument("--frameworks", nargs="+", default=["nest"], choices=["nest", "pynn-nest"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one", nargs=3, metavar=("FRAMEWORK", "SCALE", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        framework, point, threads = args.one
        print(json.dumps(measure_one(framework, *parse_point(point), int(threads))))
        return

    sys.path.insert(0, str(SRC))
    from spikemark.simulation.resources import HEADROOM, fit_memory_model, network_size

    mib = 2**20
    full_connections, full_neurons = network_size(1.0, 1.0)
    for framework in args.frameworks:
        points = [child(framework, s, args.threads) for s in args.scales]
        print(f"\n{framework}, {args.threads} thread(s)")
        print(f"{'N:K':>9} {'neurons':>8} {'connections':>12} {'base MiB':>9} {'memory_size MiB':>16} "
              f"{'RSS MiB':>8} {'peak RSS MiB':>13} {'construct s':>12}")  # fmt: skip
        for p in points:
            print(
                f"{p['scale']:>9} {p['neurons']:>8d} {p['connections']:>12d} {p['base_rss'] / mib:>9.0f} "
                f"{p['memory_size'] / mib:>16.0f} {p['rss'] / mib:>8.0f} {p['peak_rss'] / mib:>13.0f} "
                f"{p['time_construction']:>12.1f}"
            )
        model = fit_memory_model(points)
        virtual = fit_memory_model([dict(p, peak_rss=p["memory_size"], base_rss=p["base_vms"]) for p in points])
        full = model.peak_bytes(full_connections, full_neurons)
        for p in points:
            predicted = model.peak_bytes(p["connections"], p["neurons"])
            print(f"  N:K {p['scale']}: peak RSS {p['peak_rss'] / mib:.0f} MiB measured, {predicted / mib:.0f} MiB fitted")
        print(
            f"fit (peak RSS - base): {model.bytes_per_synapse:.1f} B per connection, "
            f"{model.bytes_per_neuron:.0f} B per neuron, base {model.base_bytes / mib:.0f} MiB"
        )
        print(
            f"fit (NEST memory_size, i.e. VmSize - base): {virtual.bytes_per_synapse:.1f} B per connection, "
            f"{virtual.bytes_per_neuron:.0f} B per neuron, base {virtual.base_bytes / mib:.0f} MiB"
        )
        print(
            f"EXTRAPOLATION to N = K = 1 ({full_neurons} neurons, {full_connections} connections): "
            f"peak RSS ~ {full / 2**30:.1f} GiB ({full / 1e6 * HEADROOM:.0f} MB requested with headroom {HEADROOM}); "
            f"NEST memory_size ~ {virtual.peak_bytes(full_connections, full_neurons) / 2**30:.1f} GiB"
        )
        print(
            f"MemoryModel(base_bytes={model.base_bytes:.4g}, bytes_per_synapse={model.bytes_per_synapse:.4g}, "
            f"bytes_per_neuron={model.bytes_per_neuron:.4g})"
        )


if __name__ == "__main__":
    main()
