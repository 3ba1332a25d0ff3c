"""Spyx 1.0 (JAX, Flax NNX): its LIF in the latency benchmark, jit-compiled, in fp32 and fp16.

Latency workload: ``flax.nnx.Linear`` + ``spyx.nn.LIF`` in a ``spyx.nn.Sequential``, run
over T by ``spyx.nn.run`` (``jax.lax.scan``), every call ``jax.jit``-compiled — Spyx is used
compiled, so its rows are the ``compiled`` variant and its first training step is their
``compile_time``. The training step is split as torch's is: the forward is ``jax.vjp`` of
the layer (outputs plus residuals), the backward applies the returned function to ones
(the gradient of the summed spikes), each its own compiled call. Every clock read waits on
``jax.block_until_ready``.

Spyx's LIF is ``S_t = H(V_{t−1} − θ)``, ``V_t = β·V_{t−1} + x_t − θ·S_t``: β = 1 − 1/τ (the
workload's decay 0.5) and θ = τ (it adds the input without the 1/τ gain, so its membrane
is the workload's scaled by τ, as in snnTorch's mapping). What cannot be matched: Spyx
resets by subtraction and tests the threshold on the membrane *before* the step's input,
so a spike comes one step after the crossing — the same operations per step, not the same
spikes. Surrogate: Spyx's default ``superspike``.

Precision: ``spyx`` runs in float32, ``spyx-fp16`` with parameters, input and membrane in
float16 (the published Spyx rows' ``jax-jit-fp16``). Threads: with one job thread XLA's
CPU backend is made single-threaded (``--xla_cpu_multi_thread_eigen=false``, set before JAX
is imported); XLA has no setting for another count. Device memory: JAX cannot reset its
high-water mark, so ``peak_cuda_memory`` rows are the process peak so far
(``memory_stats()['peak_bytes_in_use']``; sizes run in increasing order); JAX's GPU
pre-allocation is switched off so that peak is the layer's.

Where it runs: with JAX 0.10 (Python 3.11, our pins) on the CPU here; a JAX GPU where
JAX has one. Flax 0.12.8, the latest release, does not import with JAX 0.11 (the lent GPU
machine's), so there the cells are skipped saying so (:func:`import_unavailable`).

Deployment (``spiking_snn`` through NIR): ``spyx.nir.from_nir`` walks the graph from a node
named ``input`` and returns an empty network for SpikingJelly's graphs (their input node is
``input_1``); with the node renamed, it maps ``nir.LIF`` to the LIF above, dropping
``v_reset`` (hard reset) and the input gain dt/τ·r. Cells are skipped with that reason.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from spikemark.frameworks.library import BenchmarkedLibrary

if TYPE_CHECKING:
    from spikemark.frameworks.workload import LayerSpec

NIR_REASON = (
    "spyx 1.0.0's NIR import does not reproduce nir.LIF: it builds an empty network unless the input node is "
    "named 'input' (SpikingJelly writes 'input_1'), and maps nir.LIF to its subtractive-reset LIF, dropping "
    "v_reset and the dt/tau input gain"
)
DTYPES = {"float32": "fp32", "float16": "fp16"}


def import_jax():
    """JAX, configured before its first import: single-threaded XLA on the CPU where the job
    has one thread, and no GPU memory pre-allocation."""
    if "jax" not in sys.modules:
        if os.environ.get("OMP_NUM_THREADS") == "1":
            flags = os.environ.get("XLA_FLAGS", "")
            if "xla_cpu_multi_thread_eigen" not in flags:
                os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    import jax

    return jax


def jax_device(device: str):
    """The JAX device of a torch-style device string (``cpu``, ``cuda``, ``cuda:1``)."""
    jax = import_jax()
    kind, _, index = device.partition(":")
    return jax.devices("gpu" if kind == "cuda" else kind)[int(index or 0)]


def import_unavailable() -> str | None:
    """Why Spyx does not import here (None if it does). Flax is asked first: Flax 0.12.8, its
    latest release, does not import with JAX 0.11 (``jax.experimental.hijax`` lost
    ``HiPrimitive``), and ``spyx``'s own import would fail on whichever submodule comes first."""
    import_jax()
    for module in ("flax.nnx", "spyx"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is the reason
            from importlib.metadata import version

            text = str(exc).strip().splitlines()
            return (f"{module} does not import with JAX {version('jax')} here: {type(exc).__name__}: "
                    f"{text[0] if text else ''}")[:300]
    return None


def device_unavailable(device: str) -> str | None:
    try:
        jax_device(device)
    except RuntimeError as exc:  # jax: "Unknown backend gpu" / "Backend 'gpu' failed to initialize"
        return f"JAX {import_jax().__version__} has no {device} device here: {str(exc).splitlines()[0]}"
    return None


class SpyxWorkload:
    """:class:`~spikemark.frameworks.workload.Workload` of a jit-compiled Spyx layer."""

    variant = "compiled"

    def __init__(self, spec: LayerSpec, dtype: str):
        jax = import_jax()
        import jax.numpy as jnp
        import spyx
        from flax import nnx

        self.backend = f"jax-{DTYPES[dtype]}"
        self.device = jax_device(spec.device)
        dt = jnp.dtype(dtype)
        rngs = nnx.Rngs(spec.seed)
        linear = nnx.Linear(spec.size, spec.size, dtype=dt, param_dtype=dt, rngs=rngs)
        if spec.weight is not None:
            linear.kernel[...] = jnp.asarray(spec.weight.T, dt)  # nnx kernels are [in, out]
        if spec.bias is not None:
            linear.bias[...] = jnp.asarray(spec.bias, dt)
        lif = spyx.nn.LIF((spec.size,), beta=1.0 - 1.0 / spec.tau, threshold=spec.tau, rngs=rngs)
        lif.beta = nnx.Param(jnp.asarray(lif.beta[...], dt))  # else a float32 β promotes the membrane
        graph, params = nnx.split(spyx.nn.Sequential(linear, lif))
        state = jax.tree.map(lambda s: s.astype(dt), nnx.merge(graph, params).initial_state(spec.batch_size))

        def layer(params, x):
            out, _ = spyx.nn.run(nnx.merge(graph, params), x, state)
            return out

        self.params = jax.device_put(params, self.device)
        self.x = jax.device_put(jnp.asarray(spec.inputs, dt), self.device)
        self._inference = jax.jit(layer)
        self._forward = jax.jit(lambda params, x: jax.vjp(lambda p: layer(p, x), params))
        self._backward = jax.jit(lambda out, vjp: vjp(jnp.ones_like(out)))
        self._pending: Any = None
        #: Gradients of the last :meth:`backward` (a one-element tuple: those of the parameters).
        self.gradients: Any = None
        self._jax = jax

    def inference(self):
        self._pending = self._inference(self.params, self.x)
        return self._pending

    def forward(self):
        self._pending = self._forward(self.params, self.x)
        return self._pending

    def backward(self, forward_result) -> None:
        out, vjp = forward_result
        self._pending = self.gradients = self._backward(out, vjp)

    def synchronize(self) -> None:
        if self._pending is not None:
            self._jax.block_until_ready(self._pending)

    def reset_peak_memory(self) -> None:
        pass  # JAX keeps one process-wide high-water mark (see the module docstring)

    def peak_device_memory(self) -> tuple[int, str] | None:
        if self.device.platform == "cpu":
            return None
        stats = self.device.memory_stats() or {}
        if "peak_bytes_in_use" not in stats:
            return None
        return int(stats["peak_bytes_in_use"]), "jax memory_stats peak_bytes_in_use (process peak)"

    def compiled(self) -> SpyxWorkload:
        return self  # already compiled: its first training step compiles

    def as_numpy(self, spikes) -> np.ndarray:
        return np.asarray(spikes, dtype=np.float32)

    def close(self) -> None:
        self._jax.clear_caches()


class Spyx(BenchmarkedLibrary):
    packages = ("spyx", "jax", "jaxlib", "flax")
    module = "spyx"
    nir_reason = NIR_REASON
    latency_reset = "subtract"

    def __init__(self, dtype: str = "float32"):
        if dtype not in DTYPES:
            raise ValueError(f"unknown Spyx precision {dtype!r}; known: {sorted(DTYPES)}")
        self.dtype = dtype
        self.name = "spyx" if dtype == "float32" else f"spyx-{DTYPES[dtype]}"
        self.description = (
            f"Spyx 1.0 (JAX, jit, {dtype}): its LIF in the latency benchmark (subtractive reset, spike one "
            "step after the crossing); deployment skipped (its NIR import drops the hard reset)."
        )

    def unavailable_reason(self, device: str) -> str | None:
        return super().unavailable_reason(device) or import_unavailable() or device_unavailable(device)

    def latency_workload(self, spec: LayerSpec) -> SpyxWorkload:
        return SpyxWorkload(spec, self.dtype)
