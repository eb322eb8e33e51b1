"""``ClassicalGenerator``: the classical ablation of :class:`CVGenerator`.

An MLP from the same latent space to features with the same layout as a CV readout: an
optional leading block of relaxed categorical samples (``n_outcomes``, drawn with the same
Gumbel-softmax / straight-through estimator from the MLP's softmax) followed by
``n_continuous`` real features. On the same decoder, discriminator and schedule it isolates
what the quantum circuit contributes.
"""

from __future__ import annotations

import tensorflow as tf

from qgan._validate import check_choice, check_int
from qgan.generator.inputs import NoiseStreamSaving
from qgan.generator.readout import gumbel_softmax


@tf.keras.utils.register_keras_serializable(package="qgan")
class ClassicalGenerator(NoiseStreamSaving, tf.keras.Model):
    """Latent ``z`` ``[B, latent_dim]`` -> MLP -> features ``[B, n_outcomes + n_continuous]``.

    ``hidden`` tanh layers then a linear head (Glorot-uniform kernels seeded ``seed``); the
    first ``n_outcomes`` head outputs are logits of a relaxed categorical sample (Gumbel
    noise ``[B, n_outcomes]`` from ``(z, noise)`` or from the model's stream seeded
    ``seed + 1``). Features are float32. Other keyword arguments (``name``, ``trainable``,
    ``dtype``) go to ``tf.keras.Model``.

    **Serialisation.** A registered Keras class (``"qgan>ClassicalGenerator"``) whose
    ``get_config`` holds every constructor argument: ``.keras`` save/load restores the
    weights and the noise stream's state, so the reloaded model gives identical features.

    **Mixed precision.** The MLP follows the dtype policy like ``Dense`` (under
    ``mixed_float16`` it computes in float16 with float32 weights); the softmax, the
    Gumbel-softmax sample and the features are float32.
    """

    def __init__(
        self,
        latent_dim: int,
        hidden=(16,),
        n_outcomes: int = 0,
        n_continuous: int = 2,
        *,
        temperature: float = 0.5,
        straight_through: bool = True,
        latent: str = "normal",
        seed: int = 0,
        name: str = "classical_generator",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        hidden = tuple(hidden)
        check_int(latent_dim, "latent_dim", 1)
        for width in hidden:
            check_int(width, "hidden", 1)
        check_int(n_outcomes, "n_outcomes", 0)
        check_int(n_continuous, "n_continuous", 0)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        check_choice(latent, "latent", ("normal", "uniform"))
        if n_outcomes < 0 or n_continuous < 0 or n_outcomes + n_continuous == 0:
            raise ValueError(
                f"n_outcomes and n_continuous must be >= 0 with a positive sum, got "
                f"{n_outcomes}, {n_continuous}"
            )
        self.latent_dim, self.latent = latent_dim, latent
        self.n_outcomes, self.n_continuous = n_outcomes, n_continuous
        self.temperature, self.straight_through = float(temperature), bool(straight_through)
        self.hidden, self.seed = hidden, int(seed)
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        policy = self.dtype_policy
        self.hidden_layers = [
            tf.keras.layers.Dense(w, activation="tanh", kernel_initializer=init, dtype=policy)
            for w in hidden
        ]
        for i, layer in enumerate(self.hidden_layers):  # Keras' lists are not in checkpoints
            setattr(self, f"hidden{i}", layer)
        self.head = tf.keras.layers.Dense(
            n_outcomes + n_continuous, kernel_initializer=init, dtype=policy
        )
        self.noise_rng = tf.random.Generator.from_seed(seed + 1)
        self.build((None, latent_dim))

    def build(self, input_shape):
        width = input_shape[-1]
        for layer in self.hidden_layers:
            layer.build((None, width))
            width = layer.units
        self.head.build((None, width))
        super().build(input_shape)

    def get_config(self) -> dict:
        """Every constructor argument (JSON types) plus Keras' ``name``, ``trainable`` and
        ``dtype`` (policy)."""
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            hidden=list(self.hidden),
            n_outcomes=self.n_outcomes,
            n_continuous=self.n_continuous,
            temperature=self.temperature,
            straight_through=self.straight_through,
            latent=self.latent,
            seed=self.seed,
        )
        return config

    @property
    def n_features(self) -> int:
        return self.n_outcomes + self.n_continuous

    @property
    def n_noise(self) -> int:
        return self.n_outcomes

    @property
    def samples_outcomes(self) -> bool:
        """Whether the features start with a sampled outcome (``n_outcomes >= 1``), whose
        exact distribution :meth:`outcome_distribution` gives."""
        return self.n_outcomes > 0

    @property
    def stochastic(self) -> bool:
        return self.n_outcomes > 0

    def sample_latent(self, batch_size: int, rng: tf.random.Generator) -> tf.Tensor:
        shape = [batch_size, self.latent_dim]
        if self.latent == "normal":
            return rng.normal(shape)
        return rng.uniform(shape, -1.0, 1.0)

    def features_and_leakage(self, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        z, noise = inputs if isinstance(inputs, (tuple, list)) else (inputs, None)
        h = self._latent(z)
        out = self._head(h)
        leakage = tf.zeros([tf.shape(out)[0]], out.dtype)  # no truncation in a classical model
        if not self.n_outcomes:
            return out, leakage
        if noise is None:
            noise = self.noise_rng.uniform([tf.shape(out)[0], self.n_outcomes])
        probs = tf.nn.softmax(out[:, : self.n_outcomes], axis=-1)
        onehot = gumbel_softmax(probs, noise, self.temperature, self.straight_through)
        return tf.concat([onehot, out[:, self.n_outcomes :]], axis=-1), leakage

    def outcome_distribution(self, inputs) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(softmax probs [B, n_outcomes], continuous [B, n_continuous], zeros [B])``."""
        if not self.n_outcomes:
            raise ValueError("outcome_distribution needs n_outcomes >= 1")
        z = inputs[0] if isinstance(inputs, (tuple, list)) else inputs
        out = self._head(self._latent(z))
        probs = tf.nn.softmax(out[:, : self.n_outcomes], axis=-1)
        return probs, out[:, self.n_outcomes :], tf.zeros([tf.shape(out)[0]], out.dtype)

    def call(self, inputs, training=None):
        return self.features_and_leakage(inputs)[0]

    def _head(self, h: tf.Tensor) -> tf.Tensor:
        """The MLP's output ``[B, n_outcomes + n_continuous]`` in float32."""
        for layer in self.hidden_layers:
            h = layer(h)
        return tf.cast(self.head(h), tf.float32)

    def _latent(self, z) -> tf.Tensor:
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or (z.shape[1] is not None and z.shape[1] != self.latent_dim):
            raise ValueError(f"z must have shape [batch, {self.latent_dim}], got {z.shape}")
        return z
