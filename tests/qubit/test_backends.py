"""``qgan.qubit.backends``: the ExpectationBackend protocol, ``SimulatorBackend`` (NumPy side)
and the in-graph ``simulated_readouts``.

Oracles: ``cirq.Simulator`` (conftest) for exact readouts; the binomial standard error
sqrt(1 - <O>^2) / sqrt(S) of an S-shot mean of +-1 outcomes for sampled ones (a readout
is a mean of S values in {-1, +1} with mean <O>).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit.backends import (
    ExpectationBackend,
    SimulatorBackend,
    sampled_readouts,
    simulated_readouts,
)
from qgan.qubit.model import QubitModel
from qgan.qubit.simulator import probabilities

MODELS = [
    QubitModel(3, 2, "reupload", "cnot", "ring", "z_parity"),
    QubitModel(2, 2, "amplitude", "ms", "linear", "z_parity"),
    QubitModel(4, 1, "angle", "zz", "all_to_all", "z_parity"),
]


def _exact(model, oracle, x, p):
    """Oracle readouts [N, n_outputs]: one cirq.Simulator run per row."""
    return np.stack([oracle.readouts(model, s) for s in oracle.states(model, x, p)])


def _assert_within_shot_noise(estimate, exact, shots, sigmas):
    """|estimate - exact| <= sigmas * max(sqrt(1 - exact^2) / sqrt(S), 1 / S), elementwise."""
    sigma = np.maximum(np.sqrt(np.clip(1.0 - exact**2, 0.0, None) / shots), 1.0 / shots)
    z = np.abs(estimate - exact) / sigma
    assert np.all(z <= sigmas), f"max deviation {z.max():.1f} sigma > {sigmas}"


class TestSimulatorBackend:
    def test_is_an_expectation_backend(self):
        backend = SimulatorBackend()
        assert isinstance(backend, ExpectationBackend)
        assert backend.name == "simulator" and backend.supports_autodiff
        assert SimulatorBackend(seed=1).cache_name != SimulatorBackend(seed=2).cache_name
        assert SimulatorBackend(dtype=tf.complex64).cache_name != backend.cache_name

    @pytest.mark.parametrize("model", MODELS, ids=lambda m: m.structure_key)
    def test_exact_vs_cirq(self, model, oracle, qtol):
        x, p = oracle.random_inputs(model, np.random.default_rng(1), rows=3, per_row=True)
        out = SimulatorBackend().expectations(model, x, p, None)
        assert out.dtype == np.float64 and out.shape == (3, model.n_outputs)
        assert np.max(np.abs(out - _exact(model, oracle, x, p))) <= qtol.expectation

    @pytest.mark.parametrize("model", MODELS, ids=lambda m: m.structure_key)
    @pytest.mark.parametrize("shots", [1, 50, 2000])
    def test_sampled_within_binomial_error(self, model, shots, oracle, qtol):
        x, p = oracle.random_inputs(model, np.random.default_rng(2), rows=8, per_row=True)
        out = SimulatorBackend(seed=3).expectations(model, x, p, shots)
        exact = _exact(model, oracle, x, p)
        _assert_within_shot_noise(out, exact, shots, qtol.sampling_sigmas)
        # S shots of +-1 values: every estimate is a multiple of 2 / S in [-1, 1]
        steps = (out + 1.0) * shots / 2.0
        assert np.allclose(steps, np.round(steps), atol=1e-9) and np.all(np.abs(out) <= 1.0)
        if shots >= 50:  # the estimates are not the exact values (sampling happened)
            assert np.max(np.abs(out - exact)) > qtol.nontrivial

    def test_sampling_spread_is_binomial(self, oracle, qtol):
        """Across seeds the estimates scatter with variance (1 - <Z>^2) / S: S shots, no more.

        The sample variance of M estimates lies within 5 sigma of its expectation
        (std of a sample variance of M values ~ var * sqrt(2 / (M - 1)))."""
        model = QubitModel(2, 1, "angle", "cnot", "linear", "z")
        x, p = oracle.random_inputs(model, np.random.default_rng(4), rows=1, per_row=True)
        exact = _exact(model, oracle, x, p)[0]
        shots, m = 40, 300
        draws = np.stack(
            [SimulatorBackend(seed=s).expectations(model, x, p, shots)[0] for s in range(m)]
        )
        var = (1.0 - exact**2) / shots
        assert np.min(var) > qtol.nontrivial, "pick inputs with <Z> away from +-1"
        spread = np.abs(draws.var(axis=0, ddof=1) - var) / (var * np.sqrt(2.0 / (m - 1)))
        assert np.all(spread <= qtol.sampling_sigmas), spread
        _assert_within_shot_noise(draws.mean(axis=0), exact, shots * m, qtol.sampling_sigmas)

    def test_reproducible_and_per_circuit(self, oracle):
        """Same seed: same result; a circuit's estimate does not depend on its batch."""
        model = MODELS[0]
        x, p = oracle.random_inputs(model, np.random.default_rng(5), rows=4, per_row=True)
        a = SimulatorBackend(seed=7).expectations(model, x, p, 100)
        b = SimulatorBackend(seed=7).expectations(model, x, p, 100)
        np.testing.assert_array_equal(a, b)
        alone = SimulatorBackend(seed=7).expectations(model, x[2:3], p[2:3], 100)
        np.testing.assert_array_equal(alone[0], a[2])
        other = SimulatorBackend(seed=8).expectations(model, x, p, 100)
        assert not np.array_equal(a, other)

    def test_shared_params_and_empty(self, oracle, qtol):
        model = MODELS[0]
        x, p = oracle.random_inputs(model, np.random.default_rng(6), rows=2, per_row=False)
        backend = SimulatorBackend()
        shared = backend.expectations(model, x, p, None)
        assert np.max(np.abs(shared - _exact(model, oracle, x, p))) <= qtol.expectation
        empty = backend.expectations(model, np.zeros((0, 3)), np.zeros((0, model.n_params)), 5)
        assert empty.shape == (0, model.n_outputs)

    @pytest.mark.parametrize("shots", [0, -3, 2.5, True, "100"])
    def test_bad_shots(self, shots, one_line_naming):
        model = QubitModel(2, 1)
        with pytest.raises(ValueError) as err:
            SimulatorBackend().expectations(model, np.zeros((1, 2)), np.zeros((1, 4)), shots)
        one_line_naming(err, "shots")

    def test_bad_rows(self, one_line_naming):
        model = QubitModel(2, 1)
        backend = SimulatorBackend()
        with pytest.raises(ValueError) as err:
            backend.expectations(model, np.zeros((2, 3)), np.zeros((2, 4)), None)
        one_line_naming(err, "features")
        with pytest.raises(ValueError) as err:
            backend.expectations(model, np.zeros((2, 2)), np.zeros((3, 4)), None)
        one_line_naming(err, "params")
        with pytest.raises(ValueError) as err:
            backend.expectations("model", np.zeros((2, 2)), np.zeros((2, 4)), None)
        one_line_naming(err, "model")

    def test_bad_construction(self, one_line_naming):
        with pytest.raises(ValueError) as err:
            SimulatorBackend(seed=-1)
        one_line_naming(err, "seed")
        with pytest.raises(ValueError) as err:
            SimulatorBackend(dtype=tf.float64)
        one_line_naming(err, "dtype")


class TestInGraph:
    @pytest.mark.parametrize("model", MODELS[:2], ids=lambda m: m.structure_key)
    def test_sampled_readouts_within_binomial_error(self, model, oracle, qtol):
        x, p = oracle.random_inputs(model, np.random.default_rng(8), rows=6, per_row=True)
        shots = 500
        out = simulated_readouts(model, x, p, shots, seed=[1, 2], dtype=tf.complex128)
        exact = _exact(model, oracle, x, p)
        _assert_within_shot_noise(out.numpy(), exact, shots, qtol.sampling_sigmas)
        assert np.max(np.abs(out.numpy() - exact)) > qtol.nontrivial

    def test_counts_are_shots(self, oracle):
        """Each readout is a mean of S values +-1 (a multiple of 2 / S); a basis state
        (a certain outcome) gives the exact readouts from any draw."""
        model = QubitModel(3, 1, "angle", "cnot", "linear", "z")
        x, p = oracle.random_inputs(model, np.random.default_rng(9), rows=4, per_row=True)
        probs = probabilities(model, x, p, dtype=tf.complex128)
        out = sampled_readouts(model, probs, 64, seed=[3, 4]).numpy()
        steps = (out + 1.0) * 64 / 2.0
        assert np.allclose(steps, np.round(steps), atol=1e-9)
        # a deterministic circuit (a basis state) gives exact readouts from any draw
        basis = np.zeros((1, 8))
        basis[0, 5] = 1.0  # |101>: <Z> = (-1, +1, -1)
        z = sampled_readouts(model, tf.constant(basis), 3, seed=[0, 0]).numpy()
        np.testing.assert_array_equal(z, [[-1.0, 1.0, -1.0]])

    def test_stateless_and_graph_equals_eager(self, oracle):
        model = MODELS[0]
        x, p = oracle.random_inputs(model, np.random.default_rng(10), rows=3, per_row=False)
        x, p = tf.constant(x), tf.constant(p)

        def run(seed):
            return simulated_readouts(model, x, p, 100, seed, dtype=tf.complex128)

        eager = run(tf.constant([5, 6]))
        graph = tf.function(run)(tf.constant([5, 6]))
        np.testing.assert_array_equal(eager.numpy(), graph.numpy())
        assert not np.array_equal(eager.numpy(), run(tf.constant([5, 7])).numpy())

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_exact_is_differentiable_sampled_is_not(self, oracle):
        model = MODELS[0]
        x, p = oracle.random_inputs(model, np.random.default_rng(11), rows=2, per_row=False)
        pv = tf.Variable(p)
        with tf.GradientTape(persistent=True) as tape:
            exact = tf.reduce_sum(simulated_readouts(model, x, pv, None, [0, 0], tf.complex128))
            sampled = tf.reduce_sum(simulated_readouts(model, x, pv, 10, [0, 0], tf.complex128))
        assert tape.gradient(exact, pv) is not None
        assert tape.gradient(sampled, pv) is None
