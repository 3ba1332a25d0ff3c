"""One PD14 run at the largest scale this machine holds: phases, RTF, memory, and rates.

Memory first: the fitted model (``spikemark.simulation.resources``, from
``benchmarks/pd14_memory.py``) says whether N = K = ``--scale`` fits in ``--memory-gib``;
then one run through our own code (``run_pd14``; with ``--ranks`` > 1 through
``spikemark.simulation.mpi.run_pd14_mpi``, which needs NEST with MPI), printing
construction (create, connect), presimulation and simulation wall times, the real-time
factor, NEST's memory and the peak RSS, and — with ``--rates`` (spikes recorded, so not a
performance run) — each population's rate beside the full-scale reference rates of
``pd14_rates.csv``.

    PYTHONPATH=src python benchmarks/pd14_largest.py --scale 1 --threads 2 --t-sim 1000
    PYTHONPATH=src python benchmarks/pd14_largest.py --scale 1 --ranks 2 --threads 1 --t-sim 1000
    PYTHONPATH=src python benchmarks/pd14_largest.py --scale 1 --threads 2 --t-sim 1000 --rates

Run it on a quiet machine; it prints one block of figures and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="N = K scaling (default 1: full scale)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--t-presim", type=float, default=500.0, help="discarded model time (ms)")
    parser.add_argument("--t-sim", type=float, default=10000.0, help="timed model time (ms)")
    parser.add_argument("--drive", default="poisson", choices=["poisson", "dc"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--framework", default="nest")
    parser.add_argument("--rates", action="store_true", help="record spikes and compare population rates")
    parser.add_argument("--memory-gib", type=float, default=20.0, help="refuse a scale whose model needs more")
    args = parser.parse_args(argv)

    from spikemark.simulation.pd14_params import POPULATIONS, PD14Config
    from spikemark.simulation.resources import MEMORY_MODELS, network_size
    from spikemark.simulation.validate import published_rates

    connections, neurons = network_size(args.scale, args.scale)
    model = MEMORY_MODELS.get(args.framework, MEMORY_MODELS["pynn-nest"])
    need = model.peak_bytes(connections, neurons, ranks=args.ranks) / 2**30
    print(f"N = K = {args.scale:g}: {neurons} neurons, {connections:.3g} connections; "
          f"memory model (extrapolated where beyond its fit): {need:.1f} GiB peak RSS")  # fmt: skip
    if need > args.memory_gib:
        print(f"more than --memory-gib {args.memory_gib}: not run", file=sys.stderr)
        return 2
    cfg = PD14Config(
        N_scaling=args.scale, K_scaling=args.scale, drive=args.drive, t_presim_ms=args.t_presim,
        t_sim_ms=args.t_sim, seed=args.seed, threads=args.threads, record_spikes=args.rates,
    )  # fmt: skip
    start = time.perf_counter()
    if args.ranks > 1:
        from spikemark.simulation.mpi import mpi_unavailable_reason, run_pd14_mpi

        why = mpi_unavailable_reason()
        if why:
            print(why, file=sys.stderr)
            return 2
        rec = run_pd14_mpi(cfg, args.framework, args.ranks).record
    else:
        from spikemark.simulation.run import run_pd14

        rec = run_pd14(cfg, args.framework)
    total = time.perf_counter() - start
    figures = {
        "scale": args.scale, "ranks": args.ranks, "threads": args.threads, "drive": args.drive,
        "t_sim_s": args.t_sim / 1000, "neurons": rec.num_neurons, "connections": rec.num_connections,
        **{f"time_{p}_s": round(v, 2) for p, v in rec.wall.items()},
        "rtf": round(rec.rtf, 2), "spikes": rec.spike_count, "mean_rate_hz": round(rec.mean_rate_hz, 3),
        "memory_nest_mib": round(rec.memory_nest_kb / 1024, 1), "rss_peak_gib": round(rec.rss_peak_bytes / 2**30, 2),
        "job_wall_s": round(total, 1),
    }  # fmt: skip
    for key, value in figures.items():
        print(f"  {key}: {value}")
    if args.rates and rec.spikes is not None:
        reference = published_rates()
        t0, t1 = cfg.t_presim_ms, cfg.t_presim_ms + cfg.t_sim_ms
        print("  population  rate (Hz)  reference (Hz)  ratio")
        rates = {}
        for pop in POPULATIONS:
            senders, times = rec.spikes[pop]
            count = int(((times >= t0) & (times < t1)).sum())
            rates[pop] = count / rec.population_sizes[pop] / ((t1 - t0) / 1000)
            print(f"  {pop:10s}  {rates[pop]:9.2f}  {reference[pop]:14.2f}  {rates[pop] / reference[pop]:5.2f}")
        figures["rates_hz"] = {p: round(r, 3) for p, r in rates.items()}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
