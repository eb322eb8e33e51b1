"""The random inputs of a generator: a latent batch and its readout noise."""

from __future__ import annotations

import tensorflow as tf


def latent_and_noise(generator, batch: int, rng: tf.random.Generator):
    """Latent ``[batch, latent_dim]`` (``generator.sample_latent``) and readout noise
    ``[batch, n_noise]`` (float32 uniform variates on [0, 1), or None when the generator
    reads no stochastic feature), drawn from ``rng`` in that order."""
    z = generator.sample_latent(batch, rng)
    noise = rng.uniform([batch, generator.n_noise]) if generator.n_noise else None
    return z, noise
