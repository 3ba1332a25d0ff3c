"""How often does tier-1 validation flag a healthy PD14 run? (a calibration, not a speed test)

Takes the per-seed statistics that the pipeline's ``pd14_validation_run`` jobs write
(``…/validation/<scale>/<framework>/seed<N>/stats.npz``), all from the same, healthy network
configuration, and replays :func:`spikemark.simulation.validate.judge` on every way of
choosing a reference ensemble of ``--reference-size`` seeds and one other seed as the test
run. Prints, per split, the verdict and the worst population (KS distance / tolerance), and
the fraction of splits flagged: the validation's false-alarm rate at the given settings.

    # 10 healthy runs at the default scale (any seeds), then:
    snakemake -c 2 --config results_dir=/tmp/cal -- \\
        /tmp/cal/simulation/validation/N0.2_K0.2/nest/seed{1,2,3,4,5,1001,1002,1003,1004,1005}/stats.npz
    PYTHONPATH=src python benchmarks/pd14_validation_false_alarms.py \\
        /tmp/cal/simulation/validation/N0.2_K0.2/*/seed*/stats.npz --reference-size 3

Files of several frameworks may be mixed: a PyNN run judged against NEST references is
exactly the pipeline's cross-framework check. ``--perturbed`` takes runs of a deliberately
wrong network (which validation must flag) and prints the detection rate over the same
reference ensembles, e.g. a 7 Hz instead of 8 Hz background:

    PYTHONPATH=src python -c "from spikemark.simulation.cells import validation_run as v; \
        v({'drive': 'dc', 'bg_rate': 7.0}, 'nest', 'N0.2_K0.2', 1, '/tmp/bg7/seed1/stats.npz', threads=2)"
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spikemark.simulation.validate import RunStats, judge  # noqa: E402


def label(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", nargs="+", type=Path, help="stats.npz files of healthy runs")
    parser.add_argument("--reference-size", type=int, default=3, help="seeds per reference ensemble")
    parser.add_argument("--reference-framework", default="nest", help="only these runs serve as references")
    parser.add_argument("--margin", type=float, default=0.5, help="validation.ks_margin")
    parser.add_argument("--alpha", type=float, default=0.01, help="validation.ks_alpha")
    parser.add_argument("--max-splits", type=int, default=2000)
    parser.add_argument("--perturbed", nargs="*", type=Path, default=[], help="stats.npz of wrong networks")
    args = parser.parse_args(argv)

    runs = {label(p): RunStats.load(p) for p in args.stats}
    references = [k for k in runs if k.startswith(args.reference_framework + "/")]
    flagged = total = 0
    for ref in itertools.combinations(references, args.reference_size):
        for test in runs:
            if test in ref or total >= args.max_splits:
                continue
            verdict = judge([runs[test]], [runs[r] for r in ref], margin=args.margin, alpha=args.alpha)
            worst = max(verdict.comparisons, key=lambda c: c["statistic"] / c["tolerance"])
            total += 1
            flagged += verdict.status != "ok"
            print(
                f"{verdict.status:8s} test {test:22s} ref {','.join(r.split('/')[1] for r in ref):28s} "
                f"worst {worst['population']:5s} {worst['statistic']:.4f}/{worst['tolerance']:.4f}"
            )
    if not total:
        print("no splits: need more than --reference-size reference runs", file=sys.stderr)
        return 2
    print(f"flagged {flagged} of {total} splits of healthy runs: false-alarm rate {flagged / total:.3f}")
    for path in args.perturbed:
        wrong = RunStats.load(path)
        verdicts = [
            judge([wrong], [runs[r] for r in ref], margin=args.margin, alpha=args.alpha).status
            for ref in itertools.combinations(references, args.reference_size)
        ]
        caught = sum(v != "ok" for v in verdicts)
        print(f"perturbed {path}: flagged against {caught} of {len(verdicts)} reference ensembles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
