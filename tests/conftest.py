"""Fixtures shared by the whole suite: tolerances, DESIGN.md's metric keys, the oracles.

The oracles themselves live in importable helper modules beside this file (``tests/`` is
on pytest's ``pythonpath``), so a test may import them or take them as fixtures:

* ``tolerances.py``: :class:`Tolerances`, every numerical tolerance (fixture ``tol``).
* ``oracles.py``: Strawberry Fields' ``fock`` backend as the reference (``sf_fock``), its
  ``tf`` backend (``sf_tf``) and elementwise comparisons (``check``).
* ``random_programs.py``: random supported programs (``make_random_program``).

Hypothesis profiles: ``ci`` (default, derandomized) and ``dev`` (``HYPOTHESIS_PROFILE``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # allow running the suite from a checkout without install
    sys.path.insert(0, str(_ROOT))

import qgan._compat  # noqa: E402,F401  (SciPy shim SF 0.23 needs; must precede SF)

import oracles  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from random_programs import random_program  # noqa: E402
from tolerances import TOL, Tolerances  # noqa: E402

# --------------------------------------------------------------------------- hypothesis

settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def tol() -> Tolerances:
    return TOL


@pytest.fixture(scope="session")
def design_metrics():
    """``(mixture-only keys, keys for any data)`` of DESIGN.md's metrics ("Metrics")."""
    mixture = ("modes_captured", "high_quality_fraction", "mode_kl")
    any_data = (
        "mmd",
        "energy_distance",
        "wasserstein_1d",
        "linear_r2_generated",
        "linear_r2_real",
        "gradient_flow",
        "leakage",
    )
    return mixture, any_data


@pytest.fixture(scope="session")
def check():
    """The comparison helpers of ``oracles.py`` as one namespace."""
    return SimpleNamespace(
        amplitudes=oracles.assert_amplitudes_close,
        scaled=oracles.assert_scaled_close,
        gradients=oracles.assert_gradients_close,
        to_numpy=oracles.to_numpy,
        real_dtype=oracles.real_dtype,
    )


@pytest.fixture(scope="session")
def sf_fock():
    """The fock-backend oracle, ``sf_fock(prog, cutoff, args, batch_size)``."""
    return oracles.fock_reference


@pytest.fixture(scope="session")
def sf_tf():
    """SF's tf backend, ``sf_tf(prog, cutoff, args, batch_size, dtype)`` -> SF state."""
    return oracles.sf_tf_state


@pytest.fixture(scope="session")
def make_random_program():
    return random_program
