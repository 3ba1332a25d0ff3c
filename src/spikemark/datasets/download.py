"""The cache around torchvision's and tonic's downloads: where files live, what a failure means.

The libraries download, verify the published MD5 and extract (``torchvision.datasets``,
``tonic.datasets``); this module keeps what is ours around them:

- the cache folder, ``<cache_dir>/<dataset>/``, inside which each library keeps its own
  layout (e.g. ``MNIST/raw/`` for torchvision, ``SHD/`` for tonic). Compute nodes of a
  cluster find there what ``snakemake download`` fetched on the login node;
- a cached archive is verified before the library sees it (the libraries trust files that
  merely exist): one whose MD5 differs is removed with what was extracted from it, so the
  library downloads it again;
- a download that cannot reach its server raises :class:`DownloadUnavailable` (the cell is
  then *skipped*: it can run where there is a network) and leaves no partial file; a file
  whose checksum differs from the published one raises :class:`ChecksumMismatch` (the cell
  *fails*: the data are wrong) and is kept as ``<file>.corrupt`` for inspection.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

#: Where raw files are kept when the config does not say.
DEFAULT_CACHE_DIR = "~/.cache/spikemark"
#: Seconds a connection may stall before the download counts as unavailable (the libraries
#: set none, and a black-holed mirror would otherwise hang the job for minutes).
DEFAULT_TIMEOUT_S = 60.0
CHUNK = 1 << 20


class DownloadUnavailable(OSError):
    """A raw file is not in the cache and its server cannot be reached from here."""


class ChecksumMismatch(ValueError):
    """A raw file's checksum differs from the published one."""


@dataclass(frozen=True)
class RawFile:
    """One file a library downloads: its name, URL and published MD5, where it lands in the
    cache (``path``), and what the library extracts from it (``extracted``)."""

    filename: str
    url: str
    checksum: str
    path: Path | None = None
    extracted: tuple[Path, ...] = field(default=())


def cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """The cache folder with ``~`` and environment variables expanded."""
    return Path(os.path.expandvars(os.path.expanduser(str(cache_dir or DEFAULT_CACHE_DIR))))


def source_base(dataset: str, *, url: str | None = None, mirror: str | None = None) -> str | None:
    """Base URL of a dataset's files: its ``url`` option, else ``<mirror>/<dataset>/``, else
    None (the publisher's URLs the library knows)."""
    if url:
        return f"{url.rstrip('/')}/"
    if mirror:
        return f"{mirror.rstrip('/')}/{dataset}/"
    return None


def digest(path: str | os.PathLike, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def discard_corrupt(files: list[RawFile]) -> None:
    """Remove every cached archive whose MD5 differs, and what was extracted from it."""
    for raw in files:
        if raw.path.is_file() and digest(raw.path, "md5") != raw.checksum:
            log.warning("%s in the cache does not match its published MD5; downloading it again", raw.filename)
            for stale in (raw.path, *raw.extracted):
                _remove(stale)


@contextmanager
def connection_timeout(seconds: float) -> Iterator[None]:
    """Let a stalled connection fail after ``seconds`` (the libraries' urlopen calls set none)."""
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _is_network_error(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, http.client.HTTPException)) and not isinstance(exc, FileNotFoundError)


def _reason(exc: BaseException) -> str:
    # torchvision's MNIST folds each mirror's error into one multi-line message; the last
    # line is the server's answer.
    text = str(getattr(exc, "reason", None) or exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def unavailable(dataset: str, raw: RawFile, exc: BaseException) -> DownloadUnavailable:
    return DownloadUnavailable(
        f"cannot download {raw.url}: {_reason(exc)}. Run `snakemake download` where there is a "
        "network (e.g. a login node) so the file lands in the cache (data.cache_dir), or set "
        f"data.mirror / dataset_options.{dataset}.url to a reachable mirror"
    )


def classify_failure(dataset: str, files: list[RawFile], exc: BaseException) -> Exception | None:
    """What a library's failure to open a split means, judged by its files in the cache.

    The first file (in the library's order) that is missing, or present with the wrong MD5,
    is the one whose download failed: missing, or cut off by a network error, means
    unavailable (a partial file is removed); present and complete but different means a
    checksum mismatch (the file is kept as ``.corrupt``). If every file is in place, the
    failure is the library's own (None: the caller re-raises it).
    """
    for raw in files:
        if not raw.path.is_file():
            return unavailable(dataset, raw, exc)
        actual = digest(raw.path, "md5")
        if actual == raw.checksum:
            continue
        if _is_network_error(exc):
            raw.path.unlink()
            return unavailable(dataset, raw, exc)
        bad = raw.path.with_name(raw.path.name + ".corrupt")
        raw.path.replace(bad)
        return ChecksumMismatch(
            f"{raw.filename}: md5 checksum {actual} does not match the published {raw.checksum}; "
            f"the file is corrupt or not the published version (kept as {bad.name})"
        )
    return None


def manifest(files: list[RawFile]) -> dict[str, dict[str, object]]:
    """A record of the fetched files (path, size, SHA-256) for the download target's output."""
    return {
        raw.filename: {"path": str(raw.path), "bytes": raw.path.stat().st_size, "sha256": digest(raw.path, "sha256")}
        for raw in sorted(files, key=lambda r: r.filename)
        if raw.path.is_file()
    }
