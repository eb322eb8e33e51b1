"""Specification: the compiled engine traces once per (program, cutoff, dtype, arg shapes).

``qgan.photonic.engine.trace_count()`` counts how often the compiled step function has
been traced. Repeated calls with new argument *values* of the same shapes reuse the
trace, whatever container the values come in, and a user's own ``tf.function`` around
``simulate`` does not retrace when its Variables change. Reused traces still compute
with the new values (no stale constants).
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops
from thewalrus import fock_gradients as tw

from qgan.photonic import engine, simulate

CUTOFF = 4


def _program():
    prog = sf.Program(2)
    r, theta, kappa = prog.params("r", "theta", "kappa")
    with prog.context as q:
        ops.Coherent(r, 0.3) | q[0]
        ops.Sgate(0.2, 0.1) | q[1]
        ops.BSgate(theta, 0.4) | (q[0], q[1])
        ops.Kgate(kappa) | q[1]
    return prog


def _expected_first_mode_vacuum_column(r):
    """<n|D(r e^{0.3 i})|0> for the Coherent preparation (before the beamsplitter)."""
    return tw.displacement(r, 0.3, CUTOFF)[:, 0]


@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
def test_scalar_args_do_not_retrace(dtype, tol, check):
    prog = _program()
    before = engine.trace_count()
    rng = np.random.default_rng(0)
    kets = []
    for i in range(5):
        values = rng.uniform(0.1, 0.9, size=3)
        # vary the container type too: float, NumPy scalar, tf constant
        wrap = [float, np.float64, lambda v: tf.constant(v, check.real_dtype(dtype))][i % 3]
        args = {"r": wrap(values[0]), "theta": wrap(values[1]), "kappa": wrap(values[2])}
        kets.append(simulate(prog, CUTOFF, args=args, dtype=dtype).ket().numpy())
    assert engine.trace_count() - before <= 1
    # the reused trace used the new values each time
    for i in range(1, 5):
        assert np.abs(kets[i] - kets[0]).max() > tol.nontrivial


@pytest.mark.parametrize("batch", [1, 3])
def test_per_sample_args_do_not_retrace(batch, tol, check):
    prog = _program()
    before = engine.trace_count()
    rng = np.random.default_rng(batch)
    for _ in range(5):
        r = rng.uniform(0.1, 0.9, size=batch)
        args = {"r": r, "theta": tf.constant(rng.uniform(0, 1)), "kappa": rng.uniform(0, 1)}
        res = simulate(prog, CUTOFF, args=args, dtype=tf.complex128)
        assert tuple(res.ket().shape) == (batch, CUTOFF, CUTOFF)
    assert engine.trace_count() - before <= 1


def test_variables_do_not_retrace(tol, check):
    prog = _program()
    r = tf.Variable(0.2, dtype=tf.float64)
    theta = tf.Variable(0.3, dtype=tf.float64)
    kappa = tf.Variable(0.4, dtype=tf.float64)
    args = {"r": r, "theta": theta, "kappa": kappa}
    before = engine.trace_count()
    vac1 = tw.squeezing(0.2, 0.1, CUTOFF)[0, 0]  # <0|K S|0> on mode 1
    for value in (0.2, 0.5, 0.8, 1.1, 0.0):
        r.assign(value)
        theta.assign(0.0)  # beamsplitter off: ket[:, 0] = coherent(r) * <0|S|0>
        res = simulate(prog, CUTOFF, args=args, dtype=tf.complex128)
        check.amplitudes(
            res.ket()[:, 0],
            _expected_first_mode_vacuum_column(value) * vac1,
            tol.amplitude[tf.complex128],
            f"r={value}",
        )
    assert engine.trace_count() - before <= 1


def test_user_tf_function_does_not_retrace(check, tol):
    """The user's tf.function around simulate traces once for new Variable values."""
    prog = _program()
    r = tf.Variable(0.2, dtype=tf.float32)
    theta = tf.Variable(0.3, dtype=tf.float32)
    kappa = tf.Variable(0.4, dtype=tf.float32)

    @tf.function
    def f():
        with tf.GradientTape() as tape:
            res = simulate(prog, CUTOFF, args={"r": r, "theta": theta, "kappa": kappa})
            mean, _ = res.mean_photon(1)
        return mean, tape.gradient(mean, [r, theta, kappa])

    outputs = []
    for value in (0.2, 0.6, 1.0):
        r.assign(value)
        theta.assign(value / 2)
        outputs.append(f()[0].numpy())
    assert f.experimental_get_tracing_count() == 1
    assert min(abs(outputs[i] - outputs[j]) for i, j in [(0, 1), (1, 2), (0, 2)]) > tol.nontrivial
    # and the traced values are the eager ones
    eager = simulate(prog, CUTOFF, args={"r": r, "theta": theta, "kappa": kappa})
    check.scaled(outputs[-1], eager.mean_photon(1)[0].numpy(), tol.graph[tf.complex64], "")


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_user_tf_function_with_per_sample_input_does_not_retrace():
    """A training-step-like function with a [B] encoding input and shared Variables."""
    prog = _program()
    theta = tf.Variable(0.3, dtype=tf.float32)
    kappa = tf.Variable(0.4, dtype=tf.float32)

    @tf.function
    def f(z):
        with tf.GradientTape() as tape:
            res = simulate(prog, CUTOFF, args={"r": z, "theta": theta, "kappa": kappa})
            loss = tf.reduce_sum(res.mean_photon(0)[0]) + tf.reduce_sum(res.leakage())
        return loss, tape.gradient(loss, [theta, kappa])

    rng = np.random.default_rng(1)
    for _ in range(3):
        z = tf.constant(rng.uniform(0, 1, size=4), tf.float32)
        theta.assign_add(0.1)
        loss, grads = f(z)
        assert all(g is not None for g in grads)
    assert f.experimental_get_tracing_count() == 1


def test_trace_counter_counts_new_signatures():
    """The counter is live: a program never simulated before is traced at least once."""
    prog = sf.Program(1)
    with prog.context as q:
        ops.Dgate(prog.params("unique_trace_probe"), 0.0) | q[0]
        ops.Kgate(0.123456) | q[0]
    before = engine.trace_count()
    simulate(prog, 9, args={"unique_trace_probe": 0.3}, dtype=tf.complex128)
    assert engine.trace_count() - before >= 1


@pytest.mark.parametrize("order", ["scalar-first", "batched-first"])
def test_changing_arg_shapes_on_one_program_stays_correct(order, sf_fock, tol, check):
    """Scalar, [B] and explicit-batch calls on the same program, in any order, are right.

    (A retrace for a new signature must not break: every result matches the oracle.)
    """
    prog = sf.Program(2)
    r, theta, kappa = prog.params("r", "theta", "kappa")
    with prog.context as q:
        ops.Coherent(r, 0.3) | q[0]
        ops.Dgate(r, 0.5) | q[1]
        ops.Sgate(0.2, r) | q[1]
        ops.Rgate(theta) | q[0]
        ops.BSgate(theta, 0.4) | (q[0], q[1])
        ops.MZgate(kappa, theta) | (q[1], q[0])
        ops.S2gate(0.1, kappa) | (q[0], q[1])
        ops.Kgate(kappa) | q[1]
        ops.CKgate(r) | (q[0], q[1])
    sequence = [
        ({"r": 0.3, "theta": 0.2, "kappa": 0.1}, None),
        ({"r": np.array([0.1, 0.5, 0.9]), "theta": 0.2, "kappa": 0.1}, None),
        ({"r": 0.7, "theta": 0.4, "kappa": 0.3}, None),
        ({"r": np.array([0.2, 0.6]), "theta": np.array([0.1, 0.3]), "kappa": 0.1}, None),
        ({"r": 0.5, "theta": 0.2, "kappa": 0.6}, 2),
        ({"r": np.array([0.4, 0.8, 0.3]), "theta": 0.5, "kappa": 0.2}, None),
        ({"r": 0.9, "theta": 0.1, "kappa": 0.3}, None),
    ]
    if order == "batched-first":
        sequence = sequence[1:] + sequence[:1]
    for args, batch_size in sequence:
        res = simulate(prog, CUTOFF, args=args, batch_size=batch_size, dtype=tf.complex128)
        ref = sf_fock(prog, CUTOFF, args, batch_size)
        check.amplitudes(res.ket(), ref.ket(), tol.amplitude[tf.complex128], repr(args))
