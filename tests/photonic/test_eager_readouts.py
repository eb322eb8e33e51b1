"""Specification: a ``FockResult`` read eagerly gives what the same reads give inside a
``tf.function``, values and gradients, and its compiled readouts do not retrace per call.

Eagerly, each readout of ``FockResult`` is one compiled call (``qgan.photonic.result``);
inside a ``tf.function`` the same arithmetic is inlined. Both must agree to ``tol.graph``
(eager vs graph of the same computation), for a batched and an unbatched state, and the
eager path (which computes every mode's reduced density matrix in one call) must give each
mode's own. A ``tf.Variable`` passed to ``simulate`` as it is (not read eagerly) must still
receive its gradient.
"""

from __future__ import annotations

import logging

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan.photonic import result as result_module
from qgan.photonic import simulate

CUTOFF = 5
PHIS = (0.0, 0.7, np.pi / 2)


def _program():
    prog = sf.Program(3)
    alpha, r, theta = prog.params("alpha", "r", "theta")
    with prog.context as q:
        ops.Dgate(alpha, 0.2) | q[0]
        ops.Sgate(r, 0.4) | q[1]
        ops.Dgate(0.3, 0.0) | q[2]
        ops.BSgate(theta, 0.3) | (q[0], q[1])
        ops.BSgate(0.5, 0.1) | (q[1], q[2])
        ops.Kgate(0.2) | q[2]
    return prog


def _reads(res) -> list[tf.Tensor]:
    """Every readout of every mode, in a fixed order (all real tensors)."""
    out = [res.norm(), res.leakage(), res.all_fock_probs()]
    for mode in range(res.n_modes):
        rho = res.reduced_dm(mode)
        out += [tf.math.real(rho), tf.math.imag(rho), res.fock_probs(mode)]
        out += list(res.mean_photon(mode))
        for phi in PHIS:
            out += list(res.quad_expectation(mode, phi))
    return out


def _loss(res) -> tf.Tensor:
    return tf.add_n([tf.reduce_sum(t) for t in _reads(res)])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "single"])
def test_eager_readouts_equal_compiled_readouts(dtype, batched, tol, check):
    prog = _program()
    real = check.real_dtype(dtype)
    alpha = tf.constant([0.3, -0.5, 0.8], real) if batched else tf.constant(0.4, real)
    args = {"alpha": alpha, "r": tf.constant(0.25, real), "theta": tf.constant(0.6, real)}

    eager = _reads(simulate(prog, CUTOFF, args=args, dtype=dtype))
    compiled = tf.function(lambda: _reads(simulate(prog, CUTOFF, args=args, dtype=dtype)))()
    assert len(eager) == len(compiled)
    for e, c in zip(eager, compiled, strict=True):
        assert e.shape == c.shape
        check.scaled(e.numpy(), c.numpy(), tol.graph[dtype], "eager vs tf.function")


def test_eager_reduced_dm_of_each_mode_is_its_own(tol, check):
    """The eager path computes all modes at once; each must equal a one-mode computation."""
    prog = _program()
    args = {"alpha": [0.3, -0.2], "r": 0.25, "theta": 0.6}
    res = simulate(prog, CUTOFF, args=args, dtype=tf.complex128)
    ket = res.ket().numpy()
    for mode in range(3):
        moved = np.moveaxis(ket, 1 + mode, 1).reshape(2, CUTOFF, -1)
        expected = np.einsum("bik,bjk->bij", moved, moved.conj())
        rho = res.reduced_dm(mode).numpy()
        check.scaled(rho.real, expected.real, tol.graph[tf.complex128], f"mode {mode} real")
        check.scaled(rho.imag, expected.imag, tol.graph[tf.complex128], f"mode {mode} imag")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
def test_eager_gradients_equal_compiled_gradients(dtype, tol, check):
    prog = _program()
    real = check.real_dtype(dtype)
    variables = {
        "alpha": tf.Variable([0.3, -0.5, 0.8], dtype=real),
        "r": tf.Variable(0.25, dtype=real),
        "theta": tf.Variable(0.6, dtype=real),
    }

    def gradients():
        with tf.GradientTape() as tape:
            loss = _loss(simulate(prog, CUTOFF, args=variables, dtype=dtype))
        return tape.gradient(loss, list(variables.values()))

    eager = gradients()
    compiled = tf.function(gradients)()
    for e, c in zip(eager, compiled, strict=True):
        assert e is not None, "a Variable passed to simulate as it is lost its gradient"
        check.scaled(
            e.numpy(), c.numpy(), tol.graph_gradient[dtype], "gradient eager vs tf.function"
        )
        assert np.abs(e.numpy()).max() > tol.nontrivial  # the loss depends on every argument


@pytest.mark.slow
def test_new_angles_and_batches_do_not_retrace_the_eager_readouts():
    prog = _program()
    compiled = result_module._quadrature_moments.compiled
    res = simulate(prog, CUTOFF, args={"alpha": [0.1, 0.2], "r": 0.2, "theta": 0.3})
    res.quad_expectation(0, 0.1)
    before = compiled.experimental_get_tracing_count()
    for phi in np.linspace(0.0, 3.0, 7):
        res.quad_expectation(0, float(phi))
    assert compiled.experimental_get_tracing_count() == before
    for batch in (3, 4, 5, 6):  # after two sizes the batch axis is generalised
        res = simulate(
            prog, CUTOFF, args={"alpha": np.linspace(0, 1, batch), "r": 0.2, "theta": 0.3}
        )
        res.quad_expectation(0, 0.5)
    assert compiled.experimental_get_tracing_count() <= before + 2


@pytest.mark.slow
def test_readouts_at_many_cutoffs_log_no_tensorflow_retracing_warning(caplog):
    """Each new cutoff traces the compiled readouts anew, by design; TensorFlow's warning
    about it would name qgan's internals, so it does not reach the user."""
    caplog.set_level(logging.DEBUG)
    tf.get_logger().addHandler(caplog.handler)  # TensorFlow's logger does not propagate
    try:
        prog = _program()
        for cutoff in range(2, 10):
            res = simulate(prog, cutoff, args={"alpha": [0.1, 0.2], "r": 0.1, "theta": 0.2})
            for mode in range(3):
                res.mean_photon(mode)
                res.quad_expectation(mode)
    finally:
        tf.get_logger().removeHandler(caplog.handler)
    assert [m for m in caplog.messages if "retracing" in m] == []


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "single"])
def test_eager_moments_of_every_mode_come_from_one_compiled_call(batched, monkeypatch, tol, check):
    """Eagerly, the first single-mode readout of a ket computes every mode's reduced density
    matrix and its photon-number and x-quadrature moments in one compiled call; the
    ``mean_photon`` and ``quad_expectation`` (phi = 0) reads after it make no call, and give
    what the per-readout functions give on the same reduced density matrix. A nonzero
    angle still makes its own call."""
    calls = []
    original = result_module._PerRankFunctions.__call__

    def counting(self, *args):
        calls.append(self._fn.__name__)
        return original(self, *args)

    monkeypatch.setattr(result_module._PerRankFunctions, "__call__", counting)
    alpha = [0.3, -0.5] if batched else 0.4
    res = simulate(_program(), CUTOFF, args={"alpha": alpha, "r": 0.25, "theta": 0.6})
    reads = [(res.mean_photon(m), res.quad_expectation(m)) for m in range(3)]
    assert calls == ["_reduced_dms_and_moments"]
    for mode, (photons, quadrature) in enumerate(reads):
        rho = res.reduced_dm(mode)
        expected = (
            *result_module._photon_moments(rho, CUTOFF),
            *result_module._quadrature_moments(rho, tf.constant(0.0), CUTOFF),
        )
        for got, want in zip((*photons, *quadrature), expected, strict=True):
            check.scaled(got.numpy(), want.numpy(), tol.graph[tf.complex64], f"mode {mode}")
    calls.clear()
    res.quad_expectation(1, 0.7)
    assert calls == ["_quadrature_moments"]
