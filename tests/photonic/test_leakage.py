"""Specification: truncation leakage 1 - <psi|psi> is reported exactly, per sample.

Coherent and squeezed states have closed-form photon-number distributions, so the norm
lost to the cutoff is known analytically.
"""

from __future__ import annotations

import math

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan.photonic import simulate

DTYPES = (tf.complex64, tf.complex128)
DTYPE_IDS = ("c64", "c128")


def poisson_tail(alpha_abs, cutoff):
    """1 - sum_{n < cutoff} e^{-|a|^2} |a|^{2n} / n!  (coherent-state leakage)."""
    lam = alpha_abs**2
    return 1.0 - sum(math.exp(-lam) * lam**n / math.factorial(n) for n in range(cutoff))


def squeezed_tail(r, cutoff):
    """1 - sum_{2k < cutoff} (2k)! / (4^k k!^2) tanh^{2k}(r) / cosh(r)."""
    kept = sum(
        math.factorial(2 * k)
        / (4**k * math.factorial(k) ** 2)
        * math.tanh(r) ** (2 * k)
        / math.cosh(r)
        for k in range((cutoff + 1) // 2)
    )
    return 1.0 - kept


def _coherent_program(r, phi=0.0, n_modes=1):
    prog = sf.Program(n_modes)
    with prog.context as q:
        ops.Coherent(r, phi) | q[0]
    return prog


def test_coherent_alpha_2_cutoff_4(tol):
    """The worked example: |alpha| = 2 at cutoff 4 loses 1 - sum_{n<4} e^-4 4^n/n!."""
    res = simulate(_coherent_program(2.0), 4, dtype=tf.complex128)
    expected = 1.0 - sum(math.exp(-4.0) * 4.0**n / math.factorial(n) for n in range(4))
    assert expected > 0.5  # a lot of weight really is outside the cutoff
    assert abs(float(res.leakage()) - expected) < tol.leakage
    assert abs(float(res.norm()) - (1.0 - expected)) < tol.leakage


@pytest.mark.parametrize("cutoff", [2, 4, 7])
@pytest.mark.parametrize("phi", [0.0, 1.3])
def test_coherent_leakage_any_cutoff_and_phase(cutoff, phi, tol):
    for r in (0.3, 1.0, 2.0):
        res = simulate(_coherent_program(r, phi), cutoff, dtype=tf.complex128)
        assert abs(float(res.leakage()) - poisson_tail(r, cutoff)) < tol.leakage
    # the same through a displacement gate, and on a 2-mode circuit (vacuum elsewhere)
    prog = sf.Program(2)
    with prog.context as q:
        ops.Dgate(1.5, phi) | q[1]
    res = simulate(prog, cutoff, dtype=tf.complex128)
    assert abs(float(res.leakage()) - poisson_tail(1.5, cutoff)) < tol.leakage


def test_product_state_leakage(tol):
    """Independent modes: norms multiply."""
    prog = sf.Program(2)
    with prog.context as q:
        ops.Coherent(1.2, 0.1) | q[0]
        ops.Squeezed(0.8, 0.4) | q[1]
    cutoff = 5
    res = simulate(prog, cutoff, dtype=tf.complex128)
    norm = (1 - poisson_tail(1.2, cutoff)) * (1 - squeezed_tail(0.8, cutoff))
    assert abs(float(res.norm()) - norm) < tol.leakage
    assert abs(float(res.leakage()) - (1 - norm)) < tol.leakage


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_norm_plus_leakage_is_one(dtype, tol, check):
    prog = sf.Program(2)
    a = prog.params("a")
    with prog.context as q:
        ops.Squeezed(0.5, 0.2) | q[0]
        ops.Dgate(a, 0.3) | q[1]
        ops.BSgate(0.7, 0.1) | (q[0], q[1])
        ops.S2gate(0.4, 0.0) | (q[0], q[1])
    for args in ({"a": 0.9}, {"a": np.array([0.1, 0.8, 1.7])}):
        res = simulate(prog, 4, args=args, dtype=dtype)
        total = check.to_numpy(res.norm()) + check.to_numpy(res.leakage())
        check.scaled(total, np.ones_like(total), tol.graph[dtype], "norm + leakage")
        # and the norm is the sum of all Fock probabilities
        probs = check.to_numpy(res.all_fock_probs())
        summed = probs.reshape(probs.shape[0], -1).sum(-1) if res.batched else probs.sum()
        check.scaled(res.norm(), summed, tol.observable[dtype], "norm vs probs")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_leakage_is_per_sample(dtype, tol, check):
    prog = sf.Program(1)
    r = prog.params("r")
    with prog.context as q:
        ops.Coherent(r, 0.5) | q[0]
    amplitudes = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    res = simulate(prog, 4, args={"r": amplitudes}, dtype=dtype)
    leak = check.to_numpy(res.leakage())
    assert leak.shape == (len(amplitudes),)
    expected = np.array([poisson_tail(a, 4) for a in amplitudes])
    check.scaled(leak, expected, tol.observable[dtype], "per-sample leakage")
    if dtype == tf.complex128:
        assert np.max(np.abs(leak - expected)) < tol.leakage
    assert tuple(res.norm().shape) == (len(amplitudes),)


def test_squeezed_leakage(tol):
    for r in (0.2, 0.7, 1.4):
        for cutoff in (2, 3, 6):
            prog = sf.Program(1)
            with prog.context as q:
                ops.Squeezed(r, 0.9) | q[0]
            res = simulate(prog, cutoff, dtype=tf.complex128)
            assert abs(float(res.leakage()) - squeezed_tail(r, cutoff)) < tol.leakage


def test_leakage_is_differentiable(tol):
    """d leakage / d r = 2 r e^{-r^2} r^{2(D-1)} / (D-1)!  (the Poisson CDF derivative)."""
    cutoff = 4
    prog = sf.Program(1)
    r = prog.params("r")
    with prog.context as q:
        ops.Coherent(r, 0.0) | q[0]
    for value in (0.5, 1.3, 2.0):
        var = tf.Variable(value, dtype=tf.float64)
        with tf.GradientTape() as tape:
            leak = simulate(prog, cutoff, args={"r": var}, dtype=tf.complex128).leakage()
        grad = float(tape.gradient(leak, var))
        k = cutoff - 1
        expected = 2 * value * math.exp(-(value**2)) * value ** (2 * k) / math.factorial(k)
        assert abs(grad - expected) < tol.leakage * max(1.0, abs(expected))
