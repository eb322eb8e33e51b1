"""Compiled, batched, differentiable Fock-space simulation of Strawberry Fields programs.

``simulate(prog, cutoff, args, batch_size, backend, dtype) -> FockResult``; see
``qgan.photonic.simulation.simulate``. Conventions: SF's (hbar = 2), kets in SF's layout.
"""

from qgan.photonic import gates
from qgan.photonic.program import SUPPORTED_OPERATIONS, UNSUPPORTED_OPERATIONS
from qgan.photonic.result import FockResult, hermite_functions
from qgan.photonic.simulation import simulate

__all__ = [
    "simulate",
    "FockResult",
    "SUPPORTED_OPERATIONS",
    "UNSUPPORTED_OPERATIONS",
    "hermite_functions",
    "gates",
]
