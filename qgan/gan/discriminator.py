"""The classical discriminator: a Keras MLP with optional PacGAN packing."""

from __future__ import annotations

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="qgan")
class Discriminator(tf.keras.Model):
    """Points ``[B, d]`` -> one logit per packed group ``[B / pack]`` (float32).

    ``pack`` > 1 is PacGAN (Lin et al. 2018): ``pack`` samples of the same source are
    concatenated and judged jointly, which penalises mode collapse. Hidden layers use
    LeakyReLU(0.2). ``B`` must be a multiple of ``pack``. Other keyword arguments
    (``name``, ``trainable``, ``dtype``) go to ``tf.keras.Model``; a registered Keras class
    (``"qgan>Discriminator"``) whose ``get_config`` holds every constructor argument.
    """

    def __init__(
        self,
        input_dim: int,
        hidden=(64, 64),
        pack: int = 1,
        seed: int = 0,
        name: str = "discriminator",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.input_dim, self.pack = int(input_dim), int(pack)
        self.hidden, self.seed = tuple(int(w) for w in hidden), int(seed)
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        self.hidden_layers = [tf.keras.layers.Dense(w, kernel_initializer=init) for w in hidden]
        for i, layer in enumerate(self.hidden_layers):  # Keras' lists are not in checkpoints
            setattr(self, f"hidden{i}", layer)
        self.head = tf.keras.layers.Dense(1, kernel_initializer=init)
        width = self.input_dim * self.pack
        for layer in self.hidden_layers:
            layer.build((None, width))
            width = layer.units
        self.head.build((None, width))
        self.built = True  # every weight exists: no build step (and none on reloading)

    def get_config(self) -> dict:
        """Every constructor argument plus Keras' ``name``, ``trainable`` and ``dtype``."""
        config = super().get_config()
        config.update(
            input_dim=self.input_dim, hidden=list(self.hidden), pack=self.pack, seed=self.seed
        )
        return config

    def call(self, points, training=None):
        h = tf.reshape(tf.cast(points, tf.float32), [-1, self.input_dim * self.pack])
        for layer in self.hidden_layers:
            h = tf.nn.leaky_relu(layer(h), alpha=0.2)
        return self.head(h)[:, 0]
