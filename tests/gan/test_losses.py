"""Specification of ``qgan.gan.losses``: the textbook GAN losses on logits, and the WGAN-GP
gradient penalty.

Oracles: each loss written out in float64 NumPy from its paper (non-saturating:
Goodfellow et al. 2014 with D = sigmoid(logit); WGAN: Arjovsky et al. 2017; hinge: Lim & Ye
2017), and critics whose input gradient is known in closed form: a linear critic
``x . w + b`` has gradient norm ``|w|`` everywhere, so its penalty is ``(|w| - 1)^2``; the
quadratic critic ``|x|^2 / 2`` has gradient ``x``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.discriminator import Discriminator
from qgan.gan.losses import (
    LOSSES,
    discriminator_loss,
    generator_loss,
    generator_loss_terms,
    gradient_penalty,
)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ORACLES = {
    # (discriminator loss, generator loss), both averaged over the batch
    "non_saturating": (
        lambda r, f: -np.mean(np.log(sigmoid(r))) - np.mean(np.log(1.0 - sigmoid(f))),
        lambda f: -np.mean(np.log(sigmoid(f))),
    ),
    "wgan_gp": (lambda r, f: np.mean(f) - np.mean(r), lambda f: -np.mean(f)),
    "hinge": (
        lambda r, f: np.mean(np.maximum(0.0, 1.0 - r)) + np.mean(np.maximum(0.0, 1.0 + f)),
        lambda f: -np.mean(f),
    ),
}


def logits(seed: int, n: int) -> np.ndarray:
    # spread over [-6, 6]: both hinge branches and both softplus regimes are exercised
    return np.random.default_rng(seed).uniform(-6.0, 6.0, n).astype(np.float32)


def test_every_documented_loss_is_available():
    assert set(LOSSES) == set(ORACLES)


@pytest.mark.parametrize("kind", sorted(ORACLES))
@pytest.mark.parametrize("seed", [0, 1])
def test_losses_are_the_textbook_formulas(kind, seed, gan_tol):
    real, fake = logits(seed, 64), logits(seed + 10, 48)
    d_oracle, g_oracle = ORACLES[kind]
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    d = discriminator_loss(kind, tf.constant(real), tf.constant(fake))
    g = generator_loss(kind, tf.constant(fake))
    assert d.shape == () and g.shape == ()
    assert float(d) == pytest.approx(d_oracle(r64, f64), rel=gan_tol.rtol, abs=gan_tol.atol)
    assert float(g) == pytest.approx(g_oracle(f64), rel=gan_tol.rtol, abs=gan_tol.atol)
    terms = generator_loss_terms(kind, tf.constant(fake)).numpy()
    assert terms.shape == fake.shape
    # per-sample terms average to the loss: each term is the oracle on that one sample
    expected = [g_oracle(f64[i : i + 1]) for i in range(len(f64))]
    np.testing.assert_allclose(terms, expected, rtol=gan_tol.rtol, atol=gan_tol.atol)


@pytest.mark.parametrize("fn", [discriminator_loss, generator_loss, generator_loss_terms])
def test_unknown_loss_names_the_choices(fn):
    args = (tf.zeros(2), tf.zeros(2)) if fn is discriminator_loss else (tf.zeros(2),)
    with pytest.raises(ValueError, match="non_saturating"):
        fn("least_squares", *args)


def _mixing_inputs(n, dim, seed):
    rng = np.random.default_rng(seed)
    real = tf.constant(rng.normal(0.0, 1.0, (n, dim)).astype(np.float32))
    fake = tf.constant(rng.normal(3.0, 1.0, (n, dim)).astype(np.float32))
    eps = tf.constant(rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32))
    return real, fake, eps


@pytest.mark.parametrize("w", [[0.3, -0.4], [2.0, 1.5], [0.6, 0.8]])
def test_penalty_of_a_linear_critic_is_norm_minus_one_squared(w, gan_tol):
    w_tf = tf.constant(np.array(w, np.float32)[:, None])

    def critic(x, training=None):
        return (x @ w_tf)[:, 0] + 0.7

    real, fake, eps = _mixing_inputs(16, 2, seed=0)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    got = float(gradient_penalty(critic, real, fake, eps))
    assert got == pytest.approx(expected, rel=gan_tol.rtol, abs=gan_tol.atol)


@pytest.mark.parametrize("pack", [1, 2])
def test_penalty_of_a_linear_discriminator_uses_the_norm_per_pack(pack, gan_tol):
    """A Discriminator without hidden layers is linear in its packed input; with packing the
    gradient of one logit spans the whole pack, so its norm is that of the full kernel."""
    disc = Discriminator(2, hidden=(), pack=pack, seed=3)
    kernel = disc.head.kernel.numpy().astype(np.float64)
    real, fake, eps = _mixing_inputs(8, 2, seed=1)
    expected = (np.linalg.norm(kernel) - 1.0) ** 2
    got = float(gradient_penalty(disc, real, fake, eps))
    assert got == pytest.approx(expected, rel=gan_tol.rtol, abs=gan_tol.atol)


def test_penalty_is_taken_at_the_interpolate_eps_real_plus_one_minus_eps_fake(gan_tol):
    def critic(x, training=None):  # gradient x: the norm is |x_hat|
        return 0.5 * tf.reduce_sum(x * x, axis=-1)

    real, fake, eps = _mixing_inputs(32, 3, seed=2)
    x_hat = eps.numpy() * real.numpy() + (1.0 - eps.numpy()) * fake.numpy()
    expected = np.mean((np.linalg.norm(x_hat.astype(np.float64), axis=1) - 1.0) ** 2)
    got = float(gradient_penalty(critic, real, fake, eps))
    assert got == pytest.approx(expected, rel=gan_tol.rtol, abs=gan_tol.atol)


def test_penalty_is_differentiable_in_the_critic_kernels():
    """The penalty trains the critic: every kernel gets a finite, non-zero gradient (biases
    need not: with piecewise-linear activations the input gradient does not depend on them)."""
    disc = Discriminator(2, hidden=(8,), seed=0)
    real, fake, eps = _mixing_inputs(8, 2, seed=3)
    kernels = [layer.kernel for layer in [*disc.hidden_layers, disc.head]]
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(disc, real, fake, eps)
    for kernel, grad in zip(kernels, tape.gradient(penalty, kernels), strict=True):
        assert grad is not None, kernel.name
        assert np.all(np.isfinite(grad.numpy())) and np.max(np.abs(grad.numpy())) > 0
