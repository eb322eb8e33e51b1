"""Specification of ``qgan.gan.discriminator.Discriminator``: a Keras MLP (LeakyReLU 0.2
hidden layers, one logit) over PacGAN packs of ``pack`` consecutive samples.

Oracle: the packs built by hand in NumPy (``pack`` consecutive rows concatenated) pushed
through the discriminator's own Dense weights in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.discriminator import Discriminator


def numpy_logits(disc: Discriminator, points: np.ndarray) -> np.ndarray:
    """PacGAN by hand: group g is rows g*pack .. g*pack+pack-1 side by side."""
    pack, n = disc.pack, len(points)
    groups = np.stack(
        [np.concatenate([points[g * pack + i] for i in range(pack)]) for g in range(n // pack)]
    ).astype(np.float64)
    h = groups
    for layer in disc.hidden_layers:
        kernel, bias = (w.numpy() for w in layer.weights)
        h = h @ kernel + bias
        h = np.where(h > 0, h, 0.2 * h)
    kernel, bias = (w.numpy() for w in disc.head.weights)
    return (h @ kernel + bias)[:, 0]


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_packs_consecutive_samples(pack, gan_tol):
    disc = Discriminator(3, hidden=(8, 5), pack=pack, seed=1)
    rng = np.random.default_rng(pack)
    for layer in [*disc.hidden_layers, disc.head]:  # non-zero biases, so they are tested too
        layer.bias.assign(rng.normal(0.0, 0.5, layer.bias.shape).astype(np.float32))
    points = rng.normal(0.0, 1.0, (8 * pack, 3)).astype(np.float32)
    logits = disc(points)
    assert logits.dtype == tf.float32
    assert logits.shape == (8,)
    np.testing.assert_allclose(
        logits.numpy(), numpy_logits(disc, points), rtol=gan_tol.rtol, atol=gan_tol.atol
    )


def test_pack_order_matters():
    """Packing judges samples jointly: swapping two samples between packs changes logits
    (a per-sample discriminator averaged over the pack would not notice)."""
    disc = Discriminator(2, hidden=(16,), pack=2, seed=0)
    points = np.random.default_rng(0).normal(0.0, 1.0, (4, 2)).astype(np.float32)
    swapped = points[[0, 2, 1, 3]]
    assert not np.allclose(disc(points).numpy(), disc(swapped).numpy())


def test_hidden_widths_and_input_width():
    disc = Discriminator(2, hidden=(7, 3), pack=3)
    shapes = [tuple(w.shape) for w in disc.trainable_variables]
    assert shapes == [(6, 7), (7,), (7, 3), (3,), (3, 1), (1,)]


def test_seeded():
    a, b = Discriminator(2, seed=4), Discriminator(2, seed=4)
    for va, vb in zip(a.trainable_variables, b.trainable_variables, strict=True):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    c = Discriminator(2, seed=5)
    assert not np.array_equal(a.trainable_variables[0].numpy(), c.trainable_variables[0].numpy())


@pytest.mark.parametrize("pack", [0, -1])
def test_bad_pack_names_pack(pack):
    with pytest.raises(ValueError, match="pack"):
        Discriminator(2, pack=pack)


def test_batch_not_a_multiple_of_pack_raises():
    disc = Discriminator(2, pack=3)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        disc(np.zeros((4, 2), np.float32))
