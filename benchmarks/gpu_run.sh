#!/usr/bin/env bash
# The GPU run in one shot (benchmarks/gpu_run.py says what it runs). A lent GPU machine has
# Python 3.12, torch, JAX and CuPy, no package registry, and only what is carried with the
# working tree (64 MiB in all); so:
#
#   benchmarks/gpu_run.sh --prepare [CPU_RESULTS]  on a CPU machine with the project's venv and
#       PyPI: the pure-Python dependencies the GPU jobs import, as Python 3.12 wheels, and the
#       CPU run's datasets and pruned models (CPU_RESULTS, default results) into
#       results-gpu-carry/ (carry that folder); says what it carries and its size.
#   benchmarks/gpu_run.sh                          on the GPU machine: install the carried wheels
#       offline (--no-index --no-deps) into a venv over the machine's own Python (its torch,
#       JAX, numpy and scipy), then run; results in $OUT/results-gpu (or ./results-gpu).
#   benchmarks/gpu_run.sh --dry-run [BASE_PYTHON]  here: the same install into a fresh venv over
#       BASE_PYTHON (a Python 3.12 with torch and JAX, standing in for the GPU machine's), then
#       the same jobs, tiny, on the CPU (benchmarks/gpu_smoke.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."

CARRY=results-gpu-carry
# Distributions the GPU jobs import that a GPU machine does not bring (torch, JAX, jaxlib,
# numpy, scipy, ml_dtypes, opt_einsum, jinja2, typing_extensions, sympy, networkx, fsspec,
# filelock and triton come with its torch and JAX). Versions: those of the project's venv.
DISTRIBUTIONS=(
  spikingjelly snntorch norse nir nirtorch neurobench h5py
  pandas python-dateutil tzdata pyyaml psutil nvidia-ml-py tabulate packaging loguru
  jsonschema jsonschema-specifications referencing rpds-py attrs
  xarray h5netcdf requests urllib3 idna certifi charset-normalizer
  rockpool sinabs pbr
  spyx flax optax chex toolz absl-py msgpack rich markdown-it-py mdurl pygments treescope jax-tqdm tqdm
)

say() { echo "gpu_run.sh: $*"; }

prepare() {
  local cpu_results=${1:-results} venv_python=${VENV_PYTHON:-.venv/bin/python}
  [ -x "$venv_python" ] || venv_python=/work/main/.venv/bin/python
  rm -rf "$CARRY" && mkdir -p "$CARRY/wheels" "$CARRY/inputs"
  local pins=()
  for dist in "${DISTRIBUTIONS[@]}"; do
    pins+=("$dist==$("$venv_python" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$dist")")
  done
  # Binary wheels for CPython 3.12 on x86_64 Linux; a distribution published as an sdist only
  # (rockpool) is built into a wheel here.
  for pin in "${pins[@]}"; do
    "$venv_python" -m pip download -q --no-deps --only-binary :all: --python-version 3.12 --implementation cp \
      --abi cp312 --abi abi3 --abi none --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform any -d "$CARRY/wheels" "$pin" 2>/dev/null \
      || "$venv_python" -m pip wheel -q --no-deps -w "$CARRY/wheels" "$pin"
  done
  "$venv_python" benchmarks/gpu_run.py --prepare "$cpu_results" --carry "$CARRY/inputs"
  say "carries $(ls "$CARRY/wheels" | wc -l) wheels ($(du -sh "$CARRY/wheels" | cut -f1)) and" \
      "$(find "$CARRY/inputs" -type f | wc -l) inputs ($(du -sh "$CARRY/inputs" | cut -f1)): $(du -sh "$CARRY" | cut -f1) in all"
}

install() {  # install PYTHON ENV [BASE_SITE]: the carried wheels, offline, over PYTHON's own
  # packages (and BASE_SITE's, after the venv's own, as a system site would be); sets RUN (the
  # interpreter to run with). A venv where PYTHON can make one, else a target folder on
  # PYTHONPATH (a system Python without the venv module).
  local python=$1 env=$2 base_site=${3:-}
  rm -rf "$env"
  if "$python" -m venv --system-site-packages "$env" 2>/dev/null; then
    RUN=$env/bin/python
    [ -z "$base_site" ] || echo "$base_site" > "$("$RUN" -c 'import site; print(site.getsitepackages()[0])')/_gpu_base.pth"
    "$RUN" -m pip install -q --no-index --no-deps "$CARRY"/wheels/*.whl
  else
    RUN=$python
    "$python" -m pip install -q --no-index --no-deps --target "$env/site" "$CARRY"/wheels/*.whl
    export PYTHONPATH=$env/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  # Spyx is not among them: with JAX 0.11 its Flax does not import (its cells say so).
  "$RUN" -c "import spikingjelly, snntorch, norse, nir, nirtorch, neurobench, pandas, xarray, rockpool, sinabs"
}

case "${1:-}" in
  --prepare)
    prepare "${2:-results}"
    ;;
  --dry-run)
    base=${2:-${BASE_PYTHON:-$HOME/.cache/spikemark-gpu-standin/base312/bin/python}}
    "$base" -c "import sys, torch, jax; assert sys.version_info[:2] == (3, 12), sys.version" \
      || { say "BASE_PYTHON must be a Python 3.12 with torch and JAX (the GPU machine's stand-in)"; exit 2; }
    env=${TMPDIR:-/tmp}/spikemark-gpu-dry-run
    # BASE_PYTHON may itself be a venv: the fresh one is made from its interpreter, and sees
    # BASE_PYTHON's packages as a GPU machine's venv sees the system's.
    install "$("$base" -c 'import sys; print(sys._base_executable)')" "$env" \
      "$("$base" -c 'import site; print(site.getsitepackages()[0])')"
    say "installed from $CARRY/wheels only (--no-index) over $("$base" -c 'import torch, jax; print(f"torch {torch.__version__}, JAX {jax.__version__}")')"
    rm -rf results-gpu-smoke
    OMP_NUM_THREADS=1 "$RUN" benchmarks/gpu_run.py --inputs "$CARRY/inputs" \
      --overlay benchmarks/gpu_smoke.yaml --budget-s 600
    ;;
  "")
    out=${OUT:-.}/results-gpu
    env=${TMPDIR:-/tmp}/spikemark-gpu
    install "${PYTHON:-python3}" "$env"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$RUN" benchmarks/gpu_run.py --inputs "$CARRY/inputs" --results "$out" --budget-s "${BUDGET_S:-420}"
    ;;
  *)
    sed -n '2,17p' "$0"
    exit 2
    ;;
esac
