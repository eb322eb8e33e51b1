"""The random inputs of a generator: a latent batch and its readout noise."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def latent_and_noise(generator, batch: int, rng: tf.random.Generator):
    """Latent ``[batch, latent_dim]`` (``generator.sample_latent``) and readout noise
    ``[batch, n_noise]`` (float32 uniform variates on [0, 1), or None when the generator
    reads no stochastic feature), drawn from ``rng`` in that order."""
    z = generator.sample_latent(batch, rng)
    noise = rng.uniform([batch, generator.n_noise]) if generator.n_noise else None
    return z, noise


class NoiseStreamSaving:
    """Keras saving of a generator's readout-noise stream (``self.noise_rng``, a
    ``tf.random.Generator``) beside its variables, so a reloaded generator draws the same
    noise: mixed in before ``tf.keras.Model``."""

    def save_own_variables(self, store) -> None:
        """Keras saving: the variables, then the noise stream's state."""
        super().save_own_variables(store)
        store[str(self._n_own_variables)] = self.noise_rng.state.numpy()

    def load_own_variables(self, store) -> None:
        """Keras loading: inverse of :meth:`save_own_variables`."""
        n = self._n_own_variables
        self.noise_rng.state.assign(np.asarray(store[str(n)]))
        super().load_own_variables({str(i): store[str(i)] for i in range(n)})

    @property
    def _n_own_variables(self) -> int:
        """How many variables Keras' own ``save_own_variables`` stores here."""
        return len(self._trainable_variables) + len(self._non_trainable_variables)
