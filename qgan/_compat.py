"""Compatibility shims for third-party packages, applied once: by ``import qgan._compat``,
or after ``import qgan`` just before Strawberry Fields is first imported (qgan/__init__.py).

Strawberry Fields 0.23 (frozen upstream) does ``from scipy.integrate import simps``
in ``strawberryfields/backends/states.py``. SciPy 1.14 removed ``simps`` in favour of
``simpson``. Pinning an old SciPy conflicts with cirq-core and thewalrus, so we
restore the old name as a thin wrapper over ``simpson`` before SF is imported.

This is the only shim applied on ``import qgan``. The only other workarounds of a
dependency's internals, cirq_ionq's (request time-outs, the results endpoint), live in
``qgan/qubit/ionq/_cirq_ionq_compat.py``: applied only when the IonQ backend makes a
request, and only on the cirq-ionq versions they were tested on (the bound in
``pyproject.toml``).
"""

import scipy.integrate


def _simps(y, x=None, dx=1.0, axis=-1):
    """``scipy.integrate.simps`` signature (x positional) on top of ``simpson``."""
    return scipy.integrate.simpson(y, x=x, dx=dx, axis=axis)


def apply() -> None:
    """Install the shims; idempotent."""
    if not hasattr(scipy.integrate, "simps"):
        scipy.integrate.simps = _simps


apply()
