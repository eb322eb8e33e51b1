"""Quantum natural gradient (qgan.qubit.qng).

Oracles: the Fubini-Study metric Re<d_i psi|d_j psi> - Re(<d_i psi|psi><psi|d_j psi>) from
TensorFlow's derivatives of the TF simulator's state (complex128), on the block diagonal,
to 1e-8; the metric measured by the backends' prefix circuits (simulator and noisy
simulator without noise, float64, exact expectations) against the NumPy state-vector
reference (``reference_metric``) to 1e-8; and, on a reference problem in the style of
Stokes et al. (2020), the steps plain gradient descent and QNG need (same learning rate,
exact parameter-shift gradients) to reach a fixed loss.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit.backends import SimulatorBackend
from qgan.qubit.gradients import CircuitAccount, parameter_shift
from qgan.qubit.model import QubitModel
from qgan.qubit.noise import NoisyBackend
from qgan.qubit.qng import block_gates, metric, qng_step, reference_metric
from qgan.qubit.simulator import simulate_state


def jacobian_metric(model, x, p) -> np.ndarray:
    """Full quantum geometric tensor (real part) from TF's Jacobian of the state."""
    theta = tf.Variable(p, dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        psi = simulate_state(model, x[None, :], theta, dtype=tf.complex128)[0]
        re, im = tf.math.real(psi), tf.math.imag(psi)
    d = (tape.jacobian(re, theta).numpy() + 1j * tape.jacobian(im, theta).numpy()).T  # [P, D]
    psi = psi.numpy()
    overlap = d.conj() @ psi  # <d_i psi|psi>
    return np.real(d.conj() @ d.T - np.outer(overlap, overlap.conj()))


@pytest.mark.slow
@pytest.mark.parametrize(
    "structure",
    [
        dict(n_qubits=3, depth=2, encoding="reupload", entangler="cnot", topology="ring"),
        dict(n_qubits=2, depth=3, encoding="angle", entangler="ms", topology="linear"),
        dict(n_qubits=3, depth=2, encoding="reupload", entangler="zz", topology="all_to_all"),
    ],
)
def test_metric_equals_the_state_vector_fubini_study_blocks(structure):
    model = QubitModel(**structure)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, model.n_features)
    p = rng.uniform(-np.pi, np.pi, model.n_params)
    ours = metric(model, x[None, :], p)
    ref = jacobian_metric(model, x, p)
    n = model.n_qubits
    block = (np.arange(model.n_params) // 2 // n) * 2 + np.arange(model.n_params) % 2
    same = block[:, None] == block[None, :]
    np.testing.assert_allclose(ours[same], ref[same], atol=1e-8)
    assert np.all(ours[~same] == 0.0)


STRUCTURES = [
    dict(n_qubits=3, depth=2, encoding="reupload", entangler="cnot", topology="ring"),
    dict(n_qubits=2, depth=3, encoding="angle", entangler="ms", topology="linear"),
    dict(n_qubits=3, depth=2, encoding="angle", entangler="zz", topology="all_to_all"),
]


@pytest.mark.parametrize("structure", STRUCTURES)
def test_backend_circuits_measure_the_state_vector_metric(structure):
    """The prefix circuits run by the simulator backend (TF state vector, complex128, exact
    expectations) and by the noisy backend with zero noise (density matrices) give the
    state-vector reference metric to 1e-8; per-row angles too."""
    model = QubitModel(**structure)
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (3, model.n_features))
    p = rng.uniform(-np.pi, np.pi, (3, model.n_params))
    ref = reference_metric(model, x, p)
    assert np.trace(ref) > 0.1  # a metric with something in it
    for backend in (SimulatorBackend(), NoisyBackend({"p1": 0.0, "p2": 0.0, "readout": 0.0})):
        np.testing.assert_allclose(metric(model, x, p, backend=backend), ref, atol=1e-8)


class _Spy:
    """A backend that counts its calls and rows (and runs them on the simulator)."""

    def __init__(self):
        self.inner, self.calls, self.rows = SimulatorBackend(), 0, 0

    def prefix_expectations(self, model, features, params, layers, unitaries, shots=None):
        self.calls += 1
        self.rows += len(features)
        return self.inner.prefix_expectations(model, features, params, layers, unitaries, shots)


def test_metric_runs_all_its_circuits_in_one_backend_call_and_counts_them():
    model = QubitModel(n_qubits=2, depth=2)
    x = np.array([[0.3, -0.2], [0.1, 0.5]])
    p = np.linspace(-1, 1, model.n_params)
    spy, account = _Spy(), CircuitAccount()
    metric(model, x, p, backend=spy, account=account)
    assert (spy.calls, spy.rows) == (1, 2 * model.depth * 2)
    assert account.circuits("metric", "qng") == 2 * model.depth * 2
    assert account.circuits("gradient") == 0  # apart from the gradient's circuits
    layers, gates = block_gates(model, x, p)
    assert list(layers) == [0, 0, 0, 0, 1, 1, 1, 1] and gates.shape == (8, 2, 2, 2)


def test_sampled_metric_converges_and_counts_its_shots():
    model = QubitModel(n_qubits=2, depth=2)
    x = np.array([[0.3, -0.2], [0.1, 0.5]])
    p = np.linspace(-1, 1, model.n_params)
    account = CircuitAccount()
    exact = metric(model, x, p, account=account)
    sampled = metric(model, x, p, shots=20000, backend=SimulatorBackend(seed=1), account=account)
    assert account.shots("metric", "qng") == 8 * 20000
    assert 0 < np.max(np.abs(sampled - exact)) < 0.02  # ~ 0.25 / sqrt(20000) per entry
    again = metric(model, x, p, shots=20000, backend=SimulatorBackend(seed=1))
    np.testing.assert_array_equal(again, sampled)  # seeded by the circuits


def test_noisy_metric_runs_with_shots_and_is_counted():
    """At Aria's figures the metric's circuits run through the noisy backend with shots and
    are counted; depolarising and readout errors shrink the measured Pauli expectations, so
    the metric's entries move (a little) away from the noiseless one."""
    model = QubitModel(n_qubits=3, depth=2)
    x = np.array([[0.3, -0.2, 0.4]])
    p = np.linspace(-1, 1, model.n_params)
    account = CircuitAccount()
    noisy = metric(model, x, p, backend=NoisyBackend("aria-1"), account=account)
    sampled = metric(model, x, p, 500, backend=NoisyBackend("aria-1"), account=account)
    assert account.circuits("metric", "qng") == 2 * (2 * model.depth)
    assert account.shots("metric", "qng") == 500 * 2 * model.depth
    ref = reference_metric(model, x, p)
    assert 1e-6 < np.max(np.abs(noisy - ref)) < 0.02
    assert np.max(np.abs(sampled - noisy)) < 0.1


def test_metric_refuses_a_backend_without_prefix_circuits():
    model = QubitModel(n_qubits=2, depth=1)

    class Plain:
        def expectations(self, *args):
            raise AssertionError("not called")

    with pytest.raises(ValueError, match="prefix_expectations"):
        metric(model, np.zeros((1, 2)), np.zeros(model.n_params), backend=Plain())


def _loss_and_grad(backend, model, x, p):
    y = backend.expectations(model, x, p)
    loss = float(y.sum())  # <Z_0> + <Z_1>: minimum -2
    g = parameter_shift(backend, model, x, p, np.ones_like(y)).params
    return loss, g


@pytest.mark.slow
def test_qng_reaches_a_fixed_loss_in_fewer_steps_than_gradient_descent():
    """2 qubits, depth 2, CNOT: minimise <Z_0> + <Z_1> (minimum -2) from near its maximum
    (+2, small gradients: the flat start where Stokes et al. show QNG's advantage); measured
    9 QNG steps against 30 of gradient descent at the same learning rate."""
    model = QubitModel(n_qubits=2, depth=2, encoding="angle", topology="linear")
    backend = SimulatorBackend()
    x = np.zeros((1, 2))
    start = np.array([0.1, 0.1, 0.05, -0.1, 0.1, 0.2, -0.05, 0.1])  # loss 1.98
    target, lr = -1.9, 0.1

    def steps(natural: bool) -> int:
        p = start.copy()
        for k in range(400):
            loss, g = _loss_and_grad(backend, model, x, p)
            if loss <= target:
                return k
            if natural:
                p = qng_step(p, g, metric(model, x, p), lr, reg=1e-2)
            else:
                p = p - lr * g
        return 400

    gd, qng = steps(False), steps(True)
    assert 2 * qng < gd, (qng, gd)


def test_qng_step_is_a_regularised_solve():
    g = np.array([[0.25, 0.0], [0.0, 0.01]])
    out = qng_step(np.zeros(2), np.array([1.0, 1.0]), g, 0.5, reg=0.0)
    np.testing.assert_allclose(out, -0.5 * np.array([4.0, 100.0]))
    with pytest.raises(ValueError, match="learning_rate"):
        qng_step(np.zeros(2), np.ones(2), g, 0.0)
