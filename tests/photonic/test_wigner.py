"""FockResult.wigner against SF's state.wigner (hbar = 2, same normalisation and layout)."""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from oracles import mixed_fock_reference
from strawberryfields import ops
from strawberryfields.backends.states import BaseFockState

from qgan.photonic import simulate

XVEC = np.linspace(-4, 4, 41)
PVEC = np.linspace(-3, 3, 31)
WIGNER_ATOL = 1e-6  # issue 20's bound


def _programs():
    cat = sf.Program(1)
    with cat.context as q:
        ops.Catstate(1.0, 0.3, 1) | q[0]
    lossy_cat = sf.Program(1)
    with lossy_cat.context as q:
        ops.Catstate(1.0, 0.3, 0) | q[0]
        ops.LossChannel(0.7) | q[0]
    two = sf.Program(2)
    with two.context as q:
        ops.Fock(1) | q[0]
        ops.Squeezed(0.3, 0.4) | q[1]
        ops.BSgate(0.6, 0.2) | (q[0], q[1])
        ops.LossChannel(0.8) | q[1]
        ops.Dgate(0.3, 0.1) | q[1]
    return [("odd cat", cat), ("lossy even cat", lossy_cat), ("two-mode lossy", two)]


@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize("name, prog", _programs(), ids=lambda x: x if isinstance(x, str) else "")
def test_wigner_matches_sf(name, prog, dtype):
    cutoff = 8
    res = simulate(prog, cutoff, dtype=dtype)
    dm = mixed_fock_reference(prog, cutoff)
    ref = BaseFockState(dm, prog.num_subsystems, False, cutoff)
    for mode in range(prog.num_subsystems):
        expected = ref.wigner(mode, XVEC, PVEC)
        got = res.wigner(mode, XVEC, PVEC).numpy()
        assert got.shape == expected.shape == (len(PVEC), len(XVEC))
        np.testing.assert_allclose(got, expected, atol=WIGNER_ATOL, err_msg=f"{name} mode {mode}")


def test_wigner_batched_and_negative_for_a_fock_state():
    """One Wigner function per sample; |1> has W(0, 0) = -1 / (pi hbar) (a visible
    negativity, so the check can fail), the vacuum +1 / (pi hbar)."""
    prog = sf.Program(1)
    r = prog.params("r")
    with prog.context as q:
        ops.Fock(1) | q[0]
        ops.LossChannel(r) | q[0]
    res = simulate(prog, 4, args={"r": np.array([1.0, 0.0])}, dtype=tf.complex128)
    w = res.wigner(0, [0.0], [0.0]).numpy()
    assert w.shape == (2, 1, 1)
    np.testing.assert_allclose(w[:, 0, 0], [-1 / (2 * np.pi), 1 / (2 * np.pi)], atol=1e-12)
