"""PD14 through PyNN on Brian 2 (``pyNN.brian2``): skipped with the reason where Brian 2 does
not import.

No Brian 2 release works beside our pins on Python 3.11: 2.10 requires Python ≥ 3.12 and
2.11 ≥ 3.13, and 2.9.0, the last release for 3.11, fails to import with numpy 2.4 (it
calls ``np.ndarray.ptp``, which numpy 2.4 no longer has). Where Brian 2 does
import, the network is the PyNN-NEURON one (:mod:`spikemark.simulation.pd14_pynn_neuron`:
NumPy-drawn synapses through ``FromListConnector``, one Poisson source per neuron) on
``pyNN.brian2``, without NEURON's charge correction (Brian 2 integrates the linear
synaptic current exactly). That path has run once, outside our pins: on Python 3.12 with
Brian 2.10.1, PyNN 0.13.0 and NEST 3.10.0 (N = K = 0.05, Poisson drive, 0.2 s + 0.5 s), the
run passed validation against three NEST seeds; construction took 251 s (PyNN's
``FromListConnector`` on Brian 2 is ~0.3 ms per synapse), the simulate phase RTF 8.9 on the
loaded development machine.
"""

from __future__ import annotations

import sys

from spikemark.errors import StageFailed
from spikemark.simulation.pd14_pynn import PyNNPD14
from spikemark.simulation.pd14_pynn_neuron import PyNNNeuronPD14


def brian2_unavailable() -> str | None:
    """Why Brian 2 cannot be used here (None if it imports)."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        import brian2  # noqa: F401
    except ModuleNotFoundError:
        return (
            f"brian2 is not installed: brian2 >= 2.10 requires Python >= 3.12 and 2.9.0, the last release for "
            f"Python 3.11, fails to import with numpy 2.4 (np.ndarray.ptp); this is Python {python}"
        )
    except Exception as exc:  # noqa: BLE001 - e.g. brian2 2.9.0's AttributeError under numpy 2.4
        text = str(exc).strip().splitlines()
        return f"brian2 fails to import on Python {python}: {type(exc).__name__}: {text[0] if text else ''}"
    return None


class PyNNBrian2PD14(PyNNNeuronPD14):
    framework = "pynn-brian2"
    backend = "pyNN.brian2"
    charge_preserving = False

    def close(self) -> None:
        PyNNPD14.close(self)  # none of NEURON's clean-up applies

    def import_backend(self):
        why = brian2_unavailable()
        if why:
            raise StageFailed("skipped", why)
        import pyNN.brian2 as sim

        return sim
