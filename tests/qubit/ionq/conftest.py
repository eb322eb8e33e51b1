"""Fixtures for the ``qgan.qubit.ionq`` tests: tolerances, an API key, the loopback server.

Every numerical tolerance of the IonQ tests lives in :class:`CompileTolerances` (fixture
``ctol``, compilation) or :class:`IonQTolerances` (fixture ``itol``, jobs and results);
the tests never hard-code one.

The loopback server (``ionq_loopback.py``, loaded here by path because pytest runs in
importlib mode) speaks the part of IonQ's REST API that ``cirq_ionq`` 1.7 uses; fixture
``loopback`` starts one per test, ``make_loopback(**kwargs)`` starts more with options.
The compilation tests' oracle (``native_oracle.py``) is loaded the same way, at import, so
that they can ``import native_oracle``.
"""

from __future__ import annotations

import importlib.util
import logging
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# --------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class CompileTolerances:
    """Tolerances of the compilation tests (``test_compilation.py``, ``test_entanglers.py``,
    ``test_virtual_z.py``, ``test_single_qubit.py``).

    ``unitary``: max |U_compiled - e^{i phi} U_source| per matrix element after removing the
        best global phase (phi = arg tr(U_source^dagger U_compiled)). Both unitaries are
        complex128 products of at most ~1500 gates on <= 1024 x 1024 matrices; the
        rounding error observed is ~1e-13, so 1e-9 leaves four orders of magnitude of
        margin while any wrong gate (an error of order 1) is caught. It is also stricter
        than the module's own acceptance bound (``compilation.UNITARY_ATOL`` = 1e-6).
    ``trace_gap``: 1 - |tr(U_source^dagger U_compiled)| / 2**n, the phase-invariant
        overlap gap. For an elementwise error e it is O(e**2) and never above
        O(e), so the ``unitary`` argument applies.
    ``state``: max |psi_compiled - e^{i phi} psi_source| per amplitude of the complex128
        ``cirq.Simulator`` states used above the unitary check's qubit limit (4096
        amplitudes, a few hundred gates); same argument as ``unitary``.
    ``angle``: how far (in turns) a native gate parameter may lie outside its documented
        range ([0, 1) for phases, |theta| <= 1/4 for MS/ZZ) through float rounding
        of sums of a few angles (~1e-16 each).
    ``nontrivial``: a difference a test needs to be *visible* (a deliberately wrong
        circuit must differ from the source by more than this), so the oracle can fail.
    """

    unitary: float = 1e-9
    trace_gap: float = 1e-9
    state: float = 1e-9
    angle: float = 1e-12
    nontrivial: float = 1e-3


CTOL = CompileTolerances()


@pytest.fixture(scope="session")
def ctol() -> CompileTolerances:
    return CTOL


@dataclass(frozen=True)
class IonQTolerances:
    """Tolerances of the job, backend and estimator tests.

    ``probability``: |p_server - p_reference| per outcome. The loopback server simulates
        the serialized circuit in complex128 numpy from IonQ's gate definitions; the
        references (``cirq.Simulator(dtype=complex128)``, qgan's TF simulator in
        complex128) are double precision too, on <= 256 amplitudes and a few hundred
        gates: rounding ~1e-14, so 1e-9 is loose for rounding and tight for any wrong
        gate, angle or bit order (errors of order 0.1). Gate parameters travel as JSON
        floats (repr round-trips exactly).
    ``sampling_sigmas``: a readout estimated from S shots must lie within this many
        standard errors sqrt((1 - <O>^2) / S) (floored at 1/S) of the exact value; over
        the ~200 readouts of a test, a 5-sigma excursion has probability ~1e-4 and the
        draws are seeded anyway.
    ``cost_rel``: relative difference of two dollar figures computed by different
        summation orders (float rounding, ~1e-15).
    """

    probability: float = 1e-9
    sampling_sigmas: float = 5.0
    cost_rel: float = 1e-12


ITOL = IonQTolerances()


@pytest.fixture(scope="session")
def itol() -> IonQTolerances:
    return ITOL


def within_shot_noise(estimate, exact, shots: int, sigmas: float) -> bool:
    """Whether every readout estimate lies within ``sigmas`` standard errors of exact."""
    import numpy as np

    exact = np.asarray(exact, dtype=np.float64)
    sigma = np.maximum(np.sqrt(np.clip(1.0 - exact**2, 0.0, None) / shots), 1.0 / shots)
    return bool(np.all(np.abs(np.asarray(estimate) - exact) <= sigmas * sigma))


@pytest.fixture(scope="session")
def shot_noise():
    """``shot_noise(estimate, exact, shots)``: True if within ``ITOL.sampling_sigmas``."""
    return lambda estimate, exact, shots: within_shot_noise(
        estimate, exact, shots, ITOL.sampling_sigmas
    )


# --------------------------------------------------------------------------- loopback


def _load(name: str):
    """The helper module ``<name>.py`` of this folder, loaded by path once (as ``name``)."""
    if name not in sys.modules:
        path = Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# the compilation tests' oracle, imported by them as ``native_oracle``
_load("native_oracle")


@pytest.fixture(scope="session")
def loopback_module():
    """The ``ionq_loopback`` module (``LoopbackIonQ``, ``simulate``, ...)."""
    return _load("ionq_loopback")


@pytest.fixture
def api_key(monkeypatch) -> str:
    """A fresh random API key, set as ``IONQ_API_KEY`` (and nothing else) for the test."""
    key = "ionq-test-" + secrets.token_hex(16)
    monkeypatch.setenv("IONQ_API_KEY", key)
    for other in ("CIRQ_IONQ_API_KEY", "IONQ_REMOTE_HOST", "CIRQ_IONQ_REMOTE_HOST"):
        monkeypatch.delenv(other, raising=False)
    return key


@pytest.fixture
def make_loopback(api_key, loopback_module):
    """``make_loopback(**kwargs)``: a started ``LoopbackIonQ`` taking ``api_key``; stopped
    after the test."""
    servers = []

    def make(**kwargs):
        server = loopback_module.LoopbackIonQ(api_key, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def loopback(make_loopback):
    """A started loopback server (jobs complete at once)."""
    return make_loopback()


@pytest.fixture
def fast_options(loopback):
    """IonQBackend options for tests: the loopback server, short polls, retries and
    time-outs (so faults cost milliseconds)."""
    return dict(
        remote_host=loopback.url,
        poll_initial_s=0.005,
        poll_max_s=0.02,
        retry_initial_s=0.005,
        retry_max_s=0.02,
        retries=3,
        timeout_s=10.0,
        request_timeout_s=5.0,
    )


@pytest.fixture
def all_logs(caplog):
    """Capture every log record of every logger at DEBUG (for the API-key checks)."""
    caplog.set_level(logging.DEBUG)
    return caplog
