"""The discriminators: a classical Keras MLP and a qubit circuit (``QubitLayer``), both
with optional PacGAN packing."""

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


QUBIT_DEFAULTS = {  # the circuit of a qubit discriminator when the config gives none
    "n_qubits": 4,
    "depth": 3,
    "entangler": "cnot",
    "topology": "ring",
    "measurement": "z",
    "input_scaling": "feature_layer",
}


@tf.keras.utils.register_keras_serializable(package="qgan")
class QubitDiscriminator(tf.keras.Model):
    """Points ``[B, d]`` -> one logit per packed group ``[B / pack]`` through a qubit circuit.

    The packed input row ``h`` (``d * pack`` coordinates) is tiled over the ``n_qubits``
    qubits (qubit q reads coordinate ``q mod (d * pack)``, so ``n_qubits >= d * pack``) and
    re-uploaded before every layer of a :class:`~qgan.qubit.layer.QubitLayer`
    (``reupload`` encoding, ``RY(w x)`` with trainable input weights ``w`` by default); the
    readouts (<Z_q> per qubit by default, in [-1, 1]) go to a ``Dense(1)`` logit::

        logit = v . <O>_psi(h) + c,   |psi(h)> = prod_l [E U_l(theta_l) RY(w_l * tile(h))] |0>

    The circuit runs where the layer runs it: ``backend="simulator"`` (in-graph TF, exact,
    ``gradient="autodiff"``) by default; ``"ionq"`` with ``parameter_shift`` / ``spsa`` and
    ``shots`` as for ``QubitLayer``. Weights: the layer's angles (``params``), its input
    weights (``input_scale``) and the head's kernel and bias. A registered Keras class
    (``"qgan>QubitDiscriminator"``) whose ``get_config`` holds every constructor argument.

    Example::

        disc = QubitDiscriminator(2, n_qubits=4, depth=3)
        logits = disc(tf.zeros([8, 2]))  # [8] float32
    """

    def __init__(
        self,
        input_dim: int,
        n_qubits: int = QUBIT_DEFAULTS["n_qubits"],
        depth: int = QUBIT_DEFAULTS["depth"],
        entangler: str = QUBIT_DEFAULTS["entangler"],
        topology: str = QUBIT_DEFAULTS["topology"],
        measurement: str = QUBIT_DEFAULTS["measurement"],
        input_scaling: str = QUBIT_DEFAULTS["input_scaling"],
        backend: str = "simulator",
        target: str | None = None,
        gradient: str = "autodiff",
        shots: int | None = None,
        pack: int = 1,
        seed: int = 0,
        name: str = "discriminator",
        **kwargs,
    ):
        from qgan.qubit.layer import QubitLayer

        super().__init__(name=name, **kwargs)
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.input_dim, self.pack, self.seed = int(input_dim), int(pack), int(seed)
        width = self.input_dim * self.pack
        if n_qubits < width:
            raise ValueError(
                f"n_qubits: a qubit discriminator reads one coordinate per qubit and needs "
                f">= input_dim * pack = {width} qubits, got {n_qubits}"
            )
        self.circuit_options = {
            "n_qubits": int(n_qubits),
            "depth": int(depth),
            "entangler": entangler,
            "topology": topology,
            "measurement": measurement,
            "input_scaling": input_scaling,
            "backend": backend,
            "target": target,
            "gradient": gradient,
            "shots": shots,
        }
        dtype = kwargs.get("dtype")  # the circuit and head compute in the model's dtype
        self.circuit = QubitLayer(
            encoding="reupload", seed=self.seed, name="circuit", dtype=dtype,
            **self.circuit_options,
        )  # fmt: skip
        self._tile = [q % width for q in range(int(n_qubits))]
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        self.head = tf.keras.layers.Dense(1, kernel_initializer=init, dtype=dtype)
        self.circuit.build((None, int(n_qubits)))
        self.head.build((None, self.circuit.model.n_outputs))
        self.built = True

    def get_config(self) -> dict:
        """Every constructor argument plus Keras' ``name``, ``trainable`` and ``dtype``."""
        config = super().get_config()
        config.update(
            input_dim=self.input_dim, pack=self.pack, seed=self.seed, **self.circuit_options
        )
        return config

    def call(self, points, training=None):
        h = tf.reshape(tf.cast(points, self.compute_dtype), [-1, self.input_dim * self.pack])
        readouts = self.circuit(tf.gather(h, self._tile, axis=1))
        return self.head(readouts)[:, 0]
