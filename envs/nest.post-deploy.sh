#!/usr/bin/env bash
# Snakemake runs this once in the new envs/nest.yaml env (--sdm conda): build NEST 3.10.0 with
# MPI from PyPI's sdist against the env's Open MPI (conda-forge has no MPI build of NEST 3).
# Outside Snakemake the same is `python -m spikemark.simulation.nest_build --mpicxx mpicxx`.
set -euo pipefail
export CMAKE_ARGS="-Dwith-mpi=ON -DMPI_CXX_COMPILER=$CONDA_PREFIX/bin/mpicxx -DMPI_C_COMPILER=$CONDA_PREFIX/bin/mpicc"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
python -m pip install --no-cache-dir --no-binary nest-simulator nest-simulator==3.10.0
python -c "import nest, sys; sys.exit(0 if nest.build_info['have_mpi'] else 'NEST built without MPI')"
