"""Re-render the report from existing results, without running any pipeline step.

    python -m spikemark.report --results results [other-machine/results ...] --out results/report

Each ``--results`` is a results directory (or its ``metrics.csv``) with ``provenance.csv``
beside it; several are combined into one set of tables, machines told apart by host, CPU
and GPU model (the cross-platform comparison).
"""

from __future__ import annotations

import argparse
import sys

from spikemark.report.render import render_site
from spikemark.report.load import reference_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikemark.report", description=__doc__.splitlines()[0])
    parser.add_argument("--results", nargs="+", default=["results"], help="results dirs or metrics.csv files")
    parser.add_argument("--out", default="results/report", help="report directory (default results/report)")
    parser.add_argument(
        "--reference", default=None, help="directory with pd14_published.csv and pd14_rates.csv"
    )
    parser.add_argument("--drive", default="", help="PD14 external drive of these runs (poisson or dc)")
    parser.add_argument(
        "--datasets", nargs="*", default=None, help="dataset pages (default: all in the results)"
    )
    args = parser.parse_args(argv)
    ref = reference_dir([args.reference] if args.reference else [])
    pages = render_site(args.results, args.out, reference_dir=ref, drive=args.drive, datasets=args.datasets)
    for page in pages:
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
