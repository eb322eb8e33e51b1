"""Specification of ``qgan.generator.ClassicalGenerator``, the classical ablation.

An MLP from the latent space to features laid out like a CV readout: a leading block of
``n_outcomes`` straight-through Gumbel-softmax samples of the MLP's softmax (exactly
one-hot, Gumbel-max draws) followed by ``n_continuous`` real features. Oracles: the
documented widths, Gumbel-max sampling in NumPy, and ``qgan.metrics.gradient_flow``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from qgan.generator import ClassicalGenerator
from qgan.metrics import gradient_flow

SHAPES = [(0, 2), (3, 2), (4, 0), (1, 1)]


def latent(batch: int, dim: int, seed: int) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, dim)), tf.float32)


class TestFeatures:
    @pytest.mark.parametrize("n_outcomes, n_continuous", SHAPES)
    def test_width_and_one_hot_leading_block(self, n_outcomes, n_continuous):
        gen = ClassicalGenerator(3, hidden=(8, 8), n_outcomes=n_outcomes, n_continuous=n_continuous)
        assert gen.n_features == n_outcomes + n_continuous
        assert gen.n_noise == n_outcomes and gen.stochastic == (n_outcomes > 0)
        features, leakage = gen.features_and_leakage(latent(64, 3, seed=0))
        assert features.shape == (64, n_outcomes + n_continuous)
        np.testing.assert_array_equal(leakage, np.zeros(64))  # no truncation
        if n_outcomes:
            block = features.numpy()[:, :n_outcomes]
            np.testing.assert_array_equal(block.sum(axis=1), 1.0)
            assert set(np.unique(block)) <= {0.0, 1.0}

    @given(seed=st.integers(0, 2**31 - 1))
    def test_samples_are_gumbel_max_draws_of_outcome_distribution(self, seed):
        gen = ClassicalGenerator(2, hidden=(8,), n_outcomes=5, n_continuous=2, seed=3)
        z = latent(16, 2, seed)
        u = tf.constant(np.random.default_rng(seed).uniform(size=(16, 5)), tf.float32)
        features, _ = gen.features_and_leakage((z, u))
        probs, continuous, leakage = gen.outcome_distribution(z)
        expected = np.argmax(np.log(probs.numpy()) - np.log(-np.log(u.numpy())), axis=1)
        np.testing.assert_array_equal(features.numpy()[:, :5], np.eye(5)[expected])
        np.testing.assert_array_equal(features.numpy()[:, 5:], continuous)
        np.testing.assert_array_equal(leakage, np.zeros(16))

    def test_outcome_distribution_is_normalised(self, gen_tol):
        gen = ClassicalGenerator(4, n_outcomes=6, n_continuous=0)
        probs, continuous, _ = gen.outcome_distribution(latent(32, 4, seed=1))
        assert probs.shape == (32, 6) and continuous.shape == (32, 0)
        assert np.all(probs.numpy() > 0)
        np.testing.assert_allclose(probs.numpy().sum(axis=1), 1.0, rtol=0, atol=gen_tol.float32)
        with pytest.raises(ValueError, match="n_outcomes"):
            ClassicalGenerator(4, n_outcomes=0).outcome_distribution(latent(2, 4, seed=1))

    def test_relaxed_samples_without_straight_through(self, gen_tol):
        gen = ClassicalGenerator(2, n_outcomes=4, n_continuous=1, straight_through=False)
        block = gen(latent(32, 2, seed=2)).numpy()[:, :4]
        assert np.all((block > 0) & (block < 1))
        np.testing.assert_allclose(block.sum(axis=1), 1.0, rtol=0, atol=gen_tol.float32)

    def test_noise_from_the_seeded_generator(self):
        z = latent(8, 2, seed=0)
        a = ClassicalGenerator(2, n_outcomes=6, seed=4)
        b = ClassicalGenerator(2, n_outcomes=6, seed=4)
        first = a(z).numpy()
        np.testing.assert_array_equal(first, b(z).numpy())
        draws = np.stack([a(z).numpy() for _ in range(5)])
        assert np.any(draws != first), "fresh noise on every call"

    @pytest.mark.parametrize("kind", ["normal", "uniform"])
    def test_sample_latent(self, kind):
        gen = ClassicalGenerator(3, latent=kind)
        z = gen.sample_latent(2000, tf.random.Generator.from_seed(1)).numpy()
        assert z.shape == (2000, 3)
        if kind == "uniform":
            assert z.min() >= -1 and z.max() <= 1
        else:
            assert np.abs(z).max() > 2.5  # a U(-1, 1) latent could not get here


class TestGradients:
    @pytest.mark.parametrize("n_outcomes, n_continuous", SHAPES)
    @pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
    def test_gradient_reaches_every_variable(self, n_outcomes, n_continuous, graph):
        gen = ClassicalGenerator(
            3, hidden=(8, 8), n_outcomes=n_outcomes, n_continuous=n_continuous, seed=2
        )
        z = latent(16, 3, seed=5)
        weights = tf.constant(np.random.default_rng(6).normal(size=gen.n_features), tf.float32)

        def grads():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(gen(z) * weights)
            return tape.gradient(loss, gen.trainable_variables)

        result = (tf.function(grads) if graph else grads)()
        assert len(gen.trainable_variables) == 2 * 3  # kernel + bias of 2 hidden + head
        assert gradient_flow(result, gen.trainable_variables) == 1.0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(latent_dim=2.5), "latent_dim"),
        (dict(hidden=(8, 0)), "hidden"),
        (dict(n_outcomes=-1), "n_outcomes"),
        (dict(n_continuous=-2), "n_continuous"),
        (dict(n_outcomes=0, n_continuous=0), "n_outcomes and n_continuous"),
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=-0.5), "temperature"),
        (dict(latent="cauchy"), "latent"),
    ],
)
def test_constructor_errors_name_the_argument(kwargs, argument):
    base = dict(latent_dim=2, n_outcomes=2, n_continuous=2)
    with pytest.raises(ValueError, match=argument):
        ClassicalGenerator(**{**base, **kwargs})


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 2, 1)])
def test_wrong_z_shape_names_z(shape):
    gen = ClassicalGenerator(2, n_outcomes=2)
    with pytest.raises(ValueError, match=r"z must have shape \[batch, 2\]"):
        gen(tf.zeros(shape))
    with pytest.raises(ValueError, match=r"z must have shape \[batch, 2\]"):
        gen.outcome_distribution(tf.zeros(shape))
