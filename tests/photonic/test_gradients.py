"""Specification: ``simulate`` is differentiable w.r.t. every gate and preparation argument.

For every supported gate kind (and the Coherent/Squeezed preparation arguments), a scalar
loss built from ``simulate`` with ``tf.Variable`` arguments is differentiated with
``tf.GradientTape`` (complex128) and compared with

* central finite differences of the same loss (relative ``tol.fd_rtol``), and
* the gradient of the same loss computed on SF's own ``tf`` backend (``tol.sf_tf_grad``),

both eagerly and with ``simulate`` called inside the user's own ``tf.function``; eagerly,
the finite-difference check runs with the engine's replayed gradient and with TensorFlow's
autodiff of the whole compiled simulation (``PlannerOptions.replay_gradient``). The loss
touches every output of ``FockResult``: ``all_fock_probs``, ``mean_photon`` (mean and
variance), ``quad_expectation`` (mean and variance, two angles) and, for the finite
difference check, the complex amplitudes of ``ket`` themselves.
"""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan.photonic import plan as planner_module
from qgan.photonic import simulate
from qgan.photonic.plan import PlannerOptions

DTYPE = tf.complex128
CUTOFF = 5
N_MODES = 2


# --------------------------------------------------------------------------- programs
# Each case: gate name -> (values of the differentiated arguments, program builder).
# The builder receives the free parameters and places them in the gate under test,
# surrounded by fixed gates so that every argument (phases included) reaches the loss.


def _context_before(q):
    ops.Dgate(0.35, 0.4) | q[0]
    ops.Sgate(0.2, -0.3) | q[1]


def _context_after(q):
    ops.Dgate(0.25, 1.1) | q[0]
    ops.BSgate(0.6, 0.35) | (q[0], q[1])
    ops.Dgate(0.15, -0.7) | q[1]


def _single(gate):
    def build(q, p):
        _context_before(q)
        gate(*p) | q[0]
        _context_after(q)

    return build


def _two(gate):
    def build(q, p):
        _context_before(q)
        ops.Dgate(0.3, 0.2) | q[1]
        gate(*p) | (q[0], q[1])
        _context_after(q)

    return build


def _prep(prep):
    def build(q, p):
        prep(*p) | q[0]
        ops.Coherent(0.3, -0.5) | q[1]
        _context_after(q)
        ops.Kgate(0.3) | q[0]

    return build


CASES = {
    "Dgate": ([0.4, 0.7], _single(ops.Dgate)),
    "Sgate": ([0.3, -0.6], _single(ops.Sgate)),
    "Rgate": ([0.9], _single(ops.Rgate)),
    "Kgate": ([0.45], _single(ops.Kgate)),
    "BSgate": ([0.8, 0.5], _two(ops.BSgate)),
    "MZgate": ([0.7, -1.2], _two(ops.MZgate)),
    "S2gate": ([0.25, 0.9], _two(ops.S2gate)),
    "CKgate": ([0.6], _two(ops.CKgate)),
    "Coherent": ([0.5, 0.8], _prep(ops.Coherent)),
    "Squeezed": ([0.35, -0.4], _prep(ops.Squeezed)),
}


def make_program(case):
    values, build = CASES[case]
    prog = sf.Program(N_MODES)
    names = [f"x{i}" for i in range(len(values))]
    params = prog.params(*names)
    params = params if isinstance(params, list) else [params]
    with prog.context as q:
        build(q, params)
    return prog, names, values


# --------------------------------------------------------------------------- losses


class Loss:
    """A fixed random linear functional of everything a FockResult (or SF state) offers."""

    def __init__(self, seed, shape, batch=None, with_ket=True):
        rng = np.random.default_rng(seed)
        lead = () if batch is None else (batch,)
        self.w_probs = tf.constant(rng.normal(size=lead + shape), tf.float64)
        self.w_ket = tf.constant(
            rng.normal(size=lead + shape) + 1j * rng.normal(size=lead + shape), tf.complex128
        )
        self.c = tf.constant(rng.normal(size=(len(shape), 6) + lead), tf.float64)
        self.with_ket = with_ket

    def __call__(self, state):
        total = tf.reduce_sum(tf.cast(state.all_fock_probs(), tf.float64) * self.w_probs)
        for m in range(len(self.c)):
            c = self.c[m]
            mean, var = state.mean_photon(m)
            total += tf.reduce_sum(c[0] * tf.cast(mean, tf.float64))
            total += tf.reduce_sum(c[1] * tf.cast(var, tf.float64))
            for k, phi in enumerate((0.0, 0.4 + m)):
                qm, qv = state.quad_expectation(m, phi)
                total += tf.reduce_sum(c[2 + 2 * k] * tf.cast(qm, tf.float64))
                total += tf.reduce_sum(c[3 + 2 * k] * tf.cast(qv, tf.float64))
        if self.with_ket:
            ket = tf.cast(state.ket(), tf.complex128)
            total += tf.reduce_sum(tf.math.real(tf.math.conj(self.w_ket) * ket))
        return total


def loss_value(prog, names, values, loss, batch_size=None):
    """The loss at plain NumPy values (no tape): what finite differences perturb."""
    args = {n: np.asarray(v, dtype=np.float64) for n, v in zip(names, values)}
    res = simulate(prog, CUTOFF, args=args, batch_size=batch_size, dtype=DTYPE)
    return float(loss(res).numpy())


def finite_difference(prog, names, values, loss, step, batch_size=None):
    """Central differences, one component at a time (values: list of scalars or [B])."""
    grads = []
    for i, v in enumerate(values):
        v = np.asarray(v, dtype=np.float64)
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            plus = [np.array(x, dtype=np.float64) for x in values]
            minus = [np.array(x, dtype=np.float64) for x in values]
            plus[i][idx] += step
            minus[i][idx] -= step
            f_plus = loss_value(prog, names, plus, loss, batch_size)
            f_minus = loss_value(prog, names, minus, loss, batch_size)
            g[idx] = (f_plus - f_minus) / (2 * step)
        grads.append(g)
    return grads


def tape_gradient(prog, names, variables, loss, batch_size=None, backend="compiled"):
    with tf.GradientTape() as tape:
        res = simulate(
            prog,
            CUTOFF,
            args=dict(zip(names, variables)),
            batch_size=batch_size,
            dtype=DTYPE,
            backend=backend,
        )
        value = loss(res)
    grads = tape.gradient(value, variables)
    assert all(g is not None for g in grads), "no gradient flows to some argument"
    return float(value.numpy()), [g.numpy() for g in grads]


def sf_tf_gradient(sf_tf, prog, names, variables, loss, batch_size=None):
    """The same loss on SF's own tf backend, differentiated by SF's gradients."""
    with tf.GradientTape() as tape:
        state = sf_tf(prog, CUTOFF, dict(zip(names, variables)), batch_size, DTYPE)
        value = loss(state)
    grads = tape.gradient(value, variables)
    assert all(g is not None for g in grads), "SF tf backend gave no gradient"
    return float(value.numpy()), [g.numpy() for g in grads]


def _variables(values):
    return [tf.Variable(np.asarray(v, dtype=np.float64)) for v in values]


# --------------------------------------------------------------------------- tests


@pytest.fixture(params=[True, False], ids=["replayed", "autodiff"])
def eager_gradient(request, monkeypatch):
    """How an eager call's gradient is taken: replaying the state schedule from the saved
    states (the default), or TensorFlow's autodiff of the whole compiled simulation."""
    options = PlannerOptions(replay_gradient=request.param)
    monkeypatch.setattr(planner_module, "DEFAULT_OPTIONS", options)
    return options


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_finite_differences(case, eager_gradient, tol, check):
    prog, names, values = make_program(case)
    loss = Loss(seed=len(case), shape=(CUTOFF,) * N_MODES)
    value, grads = tape_gradient(prog, names, _variables(values), loss)
    assert value == pytest.approx(loss_value(prog, names, values, loss), rel=tol.fd_rtol)
    fd = finite_difference(prog, names, values, loss, tol.fd_step)
    check.gradients(np.stack(grads), np.stack(fd), tol.fd_rtol, f"{case} tape vs FD")
    assert np.max(np.abs(np.stack(fd))) > tol.nontrivial, "loss does not depend on the args"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_gradient_matches_sf_tf_backend(case, sf_tf, tol, check):
    prog, names, values = make_program(case)
    loss = Loss(seed=len(case), shape=(CUTOFF,) * N_MODES, with_ket=False)
    value, grads = tape_gradient(prog, names, _variables(values), loss)
    sf_value, sf_grads = sf_tf_gradient(sf_tf, prog, names, _variables(values), loss)
    check.scaled(value, sf_value, tol.sf_tf_grad, f"{case} loss vs SF tf")
    check.gradients(np.stack(grads), np.stack(sf_grads), tol.sf_tf_grad, f"{case} vs SF tf")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_gradient_inside_user_tf_function(case, tol, check):
    """simulate inside the user's tf.function: same loss and gradient as eagerly."""
    prog, names, values = make_program(case)
    loss = Loss(seed=len(case), shape=(CUTOFF,) * N_MODES)
    variables = _variables(values)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            res = simulate(prog, CUTOFF, args=dict(zip(names, variables)), dtype=DTYPE)
            value = loss(res)
        return value, tape.gradient(value, variables)

    g_value, g_grads = step()
    e_value, e_grads = tape_gradient(prog, names, variables, loss)
    check.scaled(g_value, e_value, tol.graph[DTYPE], f"{case} graph loss")
    check.gradients(
        np.stack([g.numpy() for g in g_grads]), np.stack(e_grads), tol.graph[DTYPE], case
    )
    fd = finite_difference(prog, names, values, loss, tol.fd_step)
    check.gradients(np.stack([g.numpy() for g in g_grads]), np.stack(fd), tol.fd_rtol, case)


def _batched_program():
    """Every gate kind, with a per-sample encoding argument and shared trainable ones."""
    prog = sf.Program(3)
    z, t0, t1, t2, t3 = prog.params("z", "t0", "t1", "t2", "t3")
    with prog.context as q:
        ops.Coherent(0.2, t3) | q[2]
        ops.Dgate(z, 0.3) | q[0]
        ops.Sgate(0.2, z) | q[1]
        ops.BSgate(t0, 0.2) | (q[0], q[1])
        ops.MZgate(t1, 0.5) | (q[2], q[1])
        ops.S2gate(0.1, t2) | (q[0], q[2])
        ops.Kgate(t0) | q[1]
        ops.CKgate(0.3) | (q[1], q[0])
        ops.Rgate(t1) | q[0]
        ops.BSgate(0.4, t2) | (q[1], q[2])
    return prog, ["z", "t0", "t1", "t2", "t3"]


BATCH = 3
BATCH_CUTOFF = 4


def _batched_values():
    return [np.array([0.1, 0.45, -0.3]), 0.7, -0.4, 0.9, 0.2]


def _batched_grad(prog, names, variables, loss, fn=None):
    def compute():
        with tf.GradientTape() as tape:
            res = simulate(prog, BATCH_CUTOFF, args=dict(zip(names, variables)), dtype=DTYPE)
            value = loss(res)
        return value, tape.gradient(value, variables)

    value, grads = (fn(compute) if fn else compute)()
    return float(value.numpy()), [g.numpy() for g in grads]


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_per_sample_argument_gradient(sf_tf, tol, check):
    """A [B] argument gets a [B] gradient; shared args sum over the batch; all vs FD/SF."""
    prog, names = _batched_program()
    values = _batched_values()
    shape = (BATCH_CUTOFF,) * 3
    loss = Loss(seed=3, shape=shape, batch=BATCH)
    variables = _variables(values)
    value, grads = _batched_grad(prog, names, variables, loss)
    assert grads[0].shape == (BATCH,)
    assert all(g.shape == () for g in grads[1:])

    def f(vals):
        args = {n: np.asarray(v, dtype=np.float64) for n, v in zip(names, vals)}
        return float(loss(simulate(prog, BATCH_CUTOFF, args=args, dtype=DTYPE)).numpy())

    fd = []
    for i, v in enumerate(values):
        v = np.asarray(v, dtype=np.float64)
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            plus = [np.array(x, dtype=np.float64) for x in values]
            minus = [np.array(x, dtype=np.float64) for x in values]
            plus[i][idx] += tol.fd_step
            minus[i][idx] -= tol.fd_step
            g[idx] = (f(plus) - f(minus)) / (2 * tol.fd_step)
        fd.append(g)
    flat = np.concatenate([np.ravel(g) for g in grads])
    flat_fd = np.concatenate([np.ravel(g) for g in fd])
    check.gradients(flat, flat_fd, tol.fd_rtol, "batched tape vs FD")

    # the same inside the user's tf.function
    graph_value, graph_grads = _batched_grad(prog, names, variables, loss, fn=tf.function)
    check.scaled(graph_value, value, tol.graph[DTYPE], "batched graph loss")
    check.gradients(
        np.concatenate([np.ravel(g) for g in graph_grads]), flat, tol.graph[DTYPE], "graph"
    )

    sf_loss = Loss(seed=3, shape=shape, batch=BATCH, with_ket=False)
    _, grads_nk = _batched_grad(prog, names, _variables(values), sf_loss)
    with tf.GradientTape() as tape:
        sf_vars = _variables(values)
        state = sf_tf(prog, BATCH_CUTOFF, dict(zip(names, sf_vars)), BATCH, DTYPE)
        sf_value = sf_loss(state)
    sf_grads = tape.gradient(sf_value, sf_vars)
    check.gradients(
        np.concatenate([np.ravel(g) for g in grads_nk]),
        np.concatenate([np.ravel(g.numpy()) for g in sf_grads]),
        tol.sf_tf_grad,
        "batched vs SF tf",
    )


def test_per_sample_gradient_is_per_sample(tol, check):
    """Changing sample b's argument changes only sample b (gradient of one sample's loss)."""
    prog, names = _batched_program()
    values = _batched_values()
    variables = _variables(values)
    with tf.GradientTape() as tape:
        res = simulate(prog, BATCH_CUTOFF, args=dict(zip(names, variables)), dtype=DTYPE)
        mean, _ = res.mean_photon(0)
        only_first = mean[0]
    g = tape.gradient(only_first, variables[0]).numpy()
    assert abs(g[0]) > tol.nontrivial
    check.gradients(g[1:], np.zeros(BATCH - 1), tol.graph[DTYPE], "cross-sample gradient")


def test_gradient_complex64_is_close_to_complex128(tol, check):
    """The default dtype is differentiable too (checked against complex128 at the
    complex64 observable tolerance)."""
    prog, names, values = make_program("BSgate")
    loss = Loss(seed=9, shape=(CUTOFF,) * N_MODES, with_ket=False)

    def grad(dtype):
        rdt = tf.float32 if dtype == tf.complex64 else tf.float64
        variables = [tf.Variable(v, dtype=rdt) for v in values]
        with tf.GradientTape() as tape:
            res = simulate(prog, CUTOFF, args=dict(zip(names, variables)), dtype=dtype)
            value = loss(res)
        return np.array([g.numpy() for g in tape.gradient(value, variables)], np.float64)

    check.gradients(
        grad(tf.complex64), grad(tf.complex128), tol.observable[tf.complex64], "c64 vs c128"
    )
