"""The published SNN library benchmark beside ours, in the latency table.

``src/spikemark/reference/snn_library_benchmark.csv`` holds the Open Neuromorphic rows (one
Linear + LIF layer, 16,384 neurons, T = 500, batch 16, forward + backward of a training
step, on their GPU). Their GPU is not ours and their sizes are not this run's, so the
comparison is of orderings and ratios: every latency row gets our forward + backward time
and its ratio to the fastest library at the same hardware and size, and the published
time of the same library and backend with its ratio to the fastest published one.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from spikemark.report.cells import fmt_num
from spikemark.report.load import numeric

#: Published (framework, backend) → our registry name and variant ("" matches a skipped
#: cell, which has no variant). SpikingJelly 2.0's CUDA kernels replaced the CuPy backend.
PUBLISHED_AS = {
    ("spyx", "jax-jit-fp16"): ("spyx-fp16", "compiled"),
    ("spyx", "jax-jit-fp32"): ("spyx", "compiled"),
    ("norse", "torch.compile"): ("norse", "compiled"),
    ("spikingjelly", "cupy"): ("spikingjelly-cuda", "eager"),
    ("lava-dl", "slayer-cuda"): ("lava-dl", ""),
    ("sinabs", "exodus-cuda"): ("sinabs-exodus", ""),
    ("rockpool", "exodus-cuda"): ("rockpool-exodus", ""),
    ("spikingjelly", "torch"): ("spikingjelly", "eager"),
    ("sinabs", "torch"): ("sinabs", "eager"),
    ("rockpool", "torch"): ("rockpool", "eager"),
    ("snntorch", "torch"): ("snntorch", "eager"),
}
OURS = "fwd + bwd (ms)"
OURS_RATIO = "× fastest here"
PUBLISHED = "published fwd + bwd, 16k (ms)"
PUBLISHED_RATIO = "published × fastest"


def published_rows() -> pd.DataFrame:
    """The published rows, as shipped with the package (with their ``source`` column)."""
    path = resources.files("spikemark") / "reference" / "snn_library_benchmark.csv"
    with path.open() as fh:
        return pd.read_csv(fh, dtype={"version": str})


def _published_times() -> dict[tuple[str, str], tuple[float, float]]:
    """(our framework, variant) → (published seconds, ratio to the fastest published)."""
    rows = published_rows()
    seconds = rows["forward_backward_s"].astype(float)
    fastest = seconds.min()
    return {
        PUBLISHED_AS[(fw, backend)]: (s, s / fastest)
        for fw, backend, s in zip(rows["framework"], rows["backend"], seconds)
        if (fw, backend) in PUBLISHED_AS
    }


def _our_times(latency: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Forward + backward seconds (sum of the two medians) per ``keys``, ok rows only."""
    ok = latency[latency["metric"].isin(("forward_time", "backward_time")) & (latency["status"] == "ok")]
    ok = ok.assign(value=numeric(ok["value"]))
    both = ok.groupby(keys)["metric"].nunique() == 2
    return ok.groupby(keys)["value"].sum()[both]


def beside_published(table: pd.DataFrame, latency: pd.DataFrame) -> pd.DataFrame:
    """``table`` (one row per framework × hardware × size × variant, as the latency table
    has) with our forward + backward time and its ratio to the fastest at the same hardware
    and size (and platform), and the same library's published time and ratio."""
    if table.empty:
        return table
    keys = [k for k in ("platform", "framework", "hardware", "size", "variant") if k in table]
    ours = _our_times(latency, keys)
    group = [k for k in keys if k not in ("framework", "variant")]
    fastest = ours.groupby(level=group).transform("min") if len(ours) else ours
    published = _published_times()
    out = table.copy()
    index = list(map(tuple, out[keys].astype(str).to_numpy()))
    ours.index = ours.index.map(lambda k: tuple(map(str, k)))
    fastest.index = ours.index
    out[OURS] = [fmt_num(ours[k] * 1e3) if k in ours.index else "" for k in index]
    out[OURS_RATIO] = [fmt_num(ours[k] / fastest[k]) if k in ours.index else "" for k in index]
    hits = [published.get((fw, variant)) for fw, variant in zip(out["framework"], out["variant"])]
    out[PUBLISHED] = [fmt_num(hit[0] * 1e3) if hit else "" for hit in hits]
    out[PUBLISHED_RATIO] = [fmt_num(hit[1]) if hit else "" for hit in hits]
    return out
