"""Fetching raw dataset files into a cache, with checksums and a configurable mirror.

Each downloadable dataset lists its raw files (:class:`RawFile`: file name, the publisher's
URL, the published MD5 or SHA-256). :func:`fetch` makes every file exist, verified, in
``<cache_dir>/<dataset>/``:

- a file already in the cache is verified and used (no network needed: compute nodes of a
  cluster find what ``snakemake download`` put there on the login node);
- otherwise it is downloaded from, in this order of preference, the dataset's ``url``
  option (``<url>/<file name>``), the global mirror (``<mirror>/<dataset>/<file name>``),
  or the publisher's URL; written to a ``.part`` file, verified, then renamed, so a killed
  download never leaves a file that looks complete.

A download that cannot reach its server raises :class:`DownloadUnavailable` (the cell is
then *skipped*: it can run where there is a network); a file whose checksum differs from
the published one raises :class:`ChecksumMismatch` (the cell *fails*: the data are wrong).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Where raw files are kept when the config does not say.
DEFAULT_CACHE_DIR = "~/.cache/spikemark"
CHUNK = 1 << 20


class DownloadUnavailable(OSError):
    """A raw file is not in the cache and its server cannot be reached from here."""


class ChecksumMismatch(ValueError):
    """A raw file's checksum differs from the published one."""


@dataclass(frozen=True)
class RawFile:
    """One raw file as published: its name in the cache, its URL and its checksum."""

    filename: str
    url: str
    checksum: str  # hex digest; 32 characters: MD5, 64: SHA-256

    def with_checksum(self, checksum: str | None) -> "RawFile":
        return self if not checksum else RawFile(self.filename, self.url, checksum)


def cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """The cache folder with ``~`` and environment variables expanded."""
    return Path(os.path.expandvars(os.path.expanduser(str(cache_dir or DEFAULT_CACHE_DIR))))


def digest(path: str | os.PathLike, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def algorithm_of(checksum: str) -> str:
    lengths = {32: "md5", 64: "sha256"}
    try:
        return lengths[len(checksum)]
    except KeyError:
        raise ValueError(f"checksum {checksum!r} is neither an MD5 (32 hex) nor a SHA-256 (64 hex)") from None


def verify(path: Path, raw: RawFile) -> None:
    """Raise :class:`ChecksumMismatch` unless ``path`` has ``raw``'s published checksum."""
    algorithm = algorithm_of(raw.checksum)
    actual = digest(path, algorithm)
    if actual.lower() != raw.checksum.lower():
        raise ChecksumMismatch(
            f"{raw.filename}: {algorithm} checksum {actual} does not match the published "
            f"{raw.checksum}; the file is corrupt or not the published version"
        )


def source_url(raw: RawFile, dataset: str, *, url: str | None = None, mirror: str | None = None) -> str:
    """Where to download ``raw`` from: dataset ``url`` option, global mirror, or publisher."""
    if url:
        return f"{url.rstrip('/')}/{raw.filename}"
    if mirror:
        return f"{mirror.rstrip('/')}/{dataset}/{raw.filename}"
    return raw.url


def _download(address: str, target: Path, timeout: float) -> None:
    part = target.with_name(target.name + ".part")
    request = urllib.request.Request(address, headers={"User-Agent": "spikemark"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as fh:
            shutil.copyfileobj(response, fh, CHUNK)
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DownloadUnavailable(
            f"cannot download {address}: {reason}. Run `snakemake download` where there is a "
            "network (e.g. a login node) so the file lands in the cache (data.cache_dir), or set "
            "data.mirror / dataset_options.<name>.url to a reachable mirror"
        ) from exc
    part.replace(target)


def fetch(
    dataset: str,
    files: list[RawFile],
    *,
    cache_dir: str | os.PathLike | None = None,
    mirror: str | None = None,
    url: str | None = None,
    checksums: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> dict[str, Path]:
    """Make every raw file of ``dataset`` present and verified in the cache; file name → path.

    ``checksums`` overrides published checksums by file name (a mirror that repackages the
    data, or a test's stand-in files).
    """
    folder = cache_root(cache_dir) / dataset
    folder.mkdir(parents=True, exist_ok=True)
    checksums = checksums or {}
    paths: dict[str, Path] = {}
    for raw in files:
        raw = raw.with_checksum(checksums.get(raw.filename))
        target = folder / raw.filename
        if target.exists():
            try:
                verify(target, raw)
                paths[raw.filename] = target
                log.info("%s: %s found in the cache (%s)", dataset, raw.filename, folder)
                continue
            except ChecksumMismatch as exc:
                log.warning("%s; downloading it again", exc)
                target.unlink()
        address = source_url(raw, dataset, url=url, mirror=mirror)
        log.info("%s: downloading %s", dataset, address)
        _download(address, target, timeout)
        try:
            verify(target, raw)
        except ChecksumMismatch:
            bad = target.with_name(target.name + ".corrupt")
            target.replace(bad)
            raise
        paths[raw.filename] = target
    return paths


def manifest(paths: dict[str, Path]) -> dict[str, dict[str, object]]:
    """A record of fetched files (path, size, SHA-256) for the download target's output."""
    return {
        name: {"path": str(path), "bytes": path.stat().st_size, "sha256": digest(path, "sha256")}
        for name, path in sorted(paths.items())
    }
