"""The SciPy shim in ``qgan._compat`` that lets Strawberry Fields 0.23 import.

SF 0.23 does ``from scipy.integrate import simps`` at import time; SciPy 1.14 removed
``simps``. ``import qgan`` restores it. Import checks run in a fresh interpreter so that
test order (another test having imported qgan already) cannot hide a failure.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy

REPO_ROOT = Path(__file__).resolve().parents[1]


def _scipy_version() -> tuple[int, int]:
    major, minor = scipy.__version__.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter (repo root as cwd, quiet TF logs)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_import_qgan_then_strawberryfields_in_fresh_interpreter():
    proc = _fresh_python(
        "import qgan, strawberryfields\n"
        "from strawberryfields.backends.states import BaseFockState\n"
        "print('ok')\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


@pytest.mark.skipif(
    _scipy_version() < (1, 14),
    reason="scipy<1.14 still has scipy.integrate.simps; SF imports without the shim",
)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_strawberryfields_without_qgan_fails_on_new_scipy():
    """Documents why the shim exists: on SciPy >= 1.14, SF 0.23 alone does not import.

    If this starts failing, SF (or SciPy) fixed the problem upstream and
    qgan/_compat.py may be retired.
    """
    proc = _fresh_python("import strawberryfields")
    assert proc.returncode != 0, "strawberryfields imported without qgan's shim"
    assert "simps" in proc.stderr, proc.stderr


def test_simps_shim_matches_simpson():
    import qgan._compat  # noqa: F401  (applies the shim)

    import scipy.integrate

    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3.0, 3.0, size=101))
    y = np.exp(-(x**2)) * np.cos(3 * x)
    # positional x, as strawberryfields/backends/states.py calls it: simps(W[...], xvec)
    np.testing.assert_allclose(
        scipy.integrate.simps(y, x), scipy.integrate.simpson(y, x=x), rtol=0, atol=1e-14
    )
    # dx form and axis argument
    Y = rng.normal(size=(4, 33))
    np.testing.assert_allclose(
        scipy.integrate.simps(Y, dx=0.1, axis=1),
        scipy.integrate.simpson(Y, dx=0.1, axis=1),
        rtol=0,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        scipy.integrate.simps(Y.T, axis=0), scipy.integrate.simpson(Y.T, axis=0), atol=1e-14
    )


def test_apply_is_idempotent():
    import scipy.integrate

    from qgan import _compat

    before = scipy.integrate.simps
    _compat.apply()
    assert scipy.integrate.simps is before


def test_sf_quadrature_marginal_uses_shim_correctly():
    """SF's own caller of ``simps``: x-marginal of a coherent state (hbar=2).

    Dgate(r=0.5) on vacuum gives <x> = 2 r = 1 and Var(x) = hbar/2 = 1.
    """
    import qgan._compat  # noqa: F401  (must precede strawberryfields)

    import strawberryfields as sf
    from strawberryfields import ops

    prog = sf.Program(1)
    with prog.context as q:
        ops.Dgate(0.5) | q[0]
    state = sf.Engine("gaussian").run(prog).state
    xvec = np.linspace(-4.0, 6.0, 81)
    pvec = np.linspace(-7.0, 7.0, 281)
    px = state.x_quad_values(0, xvec, pvec)
    expected = np.exp(-((xvec - 1.0) ** 2) / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(px, expected, atol=1e-6)
