"""Fixtures for the ``qgan.qubit.ionq`` tests: numerical tolerances.

Every numerical tolerance of the IonQ compilation tests lives in :class:`CompileTolerances`
(fixture ``ctol``); the tests never hard-code one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class CompileTolerances:
    """Tolerances of ``tests/qubit/ionq/test_compilation.py``.

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
