"""Our metric evaluation against NeuroBench's ``Benchmark.run``: same values, less time.

Converted 64-128-64-10 digits network at T = 32, the digits test set (397 samples) in
batches of 64. The two evaluations alternate in one process (``--pairs`` pairs, after one
warm-up pair); the script prints both median times, their ratio (target ≤ 0.5) and a bare
inference pass for scale, and fails if any value differs under the neurobench convention.

    PYTHONPATH=src python benchmarks/metrics_vs_neurobench.py [--pairs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import measure_fixtures as F  # noqa: E402

from spikemark.measure.neuro import static_metrics, workload_metrics  # noqa: E402

TIMESTEPS = 32


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    train, test = F.digits()
    snn = F.converted(F.ann(train), train)
    forward = F.converted_forward(snn, TIMESTEPS)
    data = F.loader(test, args.batch_size)

    def ours() -> dict:
        return {**static_metrics(snn), **workload_metrics(snn, forward, data)}

    def neurobench() -> dict:
        return F.as_ours(F.neurobench_run(snn, forward, data))

    def bare() -> None:
        for x, _ in data:
            forward(x)

    times: dict[str, list[float]] = {"ours": [], "neurobench": [], "bare": []}
    values: dict[str, dict] = {}
    for pair in range(args.pairs + 1):  # pair 0 warms up caches and allocators
        for name, fn in (("ours", ours), ("neurobench", neurobench), ("bare", bare)):
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
            if pair:
                times[name].append(elapsed)
            if result is not None:
                values[name] = result

    theirs = values["neurobench"]
    mine = {k: values["ours"][k] for k in theirs}
    median = {name: statistics.median(ts) for name, ts in times.items()}
    ratio = median["ours"] / median["neurobench"]
    print(
        f"converted digits SNN, T = {TIMESTEPS}, {len(test)} samples, batch {args.batch_size}, {args.pairs} pairs"
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in ("ours", "neurobench", "bare"):
        spread = f"[{min(times[name]):.3f}, {max(times[name]):.3f}]"
        print(f"  {name:<11} median {median[name]:.3f} s  range {spread}")
    print(f"  ratio ours / neurobench = {ratio:.3f}  (target <= 0.5)")
    print(f"  identical values: {mine == theirs}")
    for key in sorted(theirs):
        print(f"    {key:<20} {theirs[key]!r:<24} {mine[key]!r}")
    if mine != theirs:
        print("FAIL: values differ under the neurobench convention")
        return 1
    if ratio > 0.5:
        print("FAIL: ratio above 0.5")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
