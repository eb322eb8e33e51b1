"""Classifier models: a qubit circuit with a linear head, and the classical baseline.

* ``qubit``: features [B, n_qubits] (PCA angles) -> :class:`qgan.qubit.QubitLayer`
  (readouts [B, n_outputs], e.g. <Z_q> per qubit) -> ``Dense(10)`` logits.
* ``classical``: the TensorFlow Keras classification tutorial's
  ``Flatten -> Dense(128, relu) -> Dense(10)`` on images [B, H, W] (``model.hidden`` sets
  the hidden widths).

Both output logits [B, 10] float32.
"""

from __future__ import annotations

import tensorflow as tf

from qgan.classify.data import N_CLASSES
from qgan.qubit.layer import QubitLayer


def check_backend(cfg) -> None:
    """Refuse a backend the classifier cannot run yet (one-line ``ValueError``)."""
    if cfg.backend.kind == "ionq":
        raise ValueError(
            "backend.kind: 'ionq' is not available in qgan classify yet (IonQ jobs are not "
            "wired into the classifier); use backend.kind 'simulator'"
        )


def build_model(cfg, input_shape) -> tuple[tf.keras.Model, QubitLayer | None]:
    """The Keras model of ``cfg.model`` (built for inputs ``[B, *input_shape]``) and its
    circuit layer (None for the classical model). Weights are seeded by ``cfg.seed``."""
    check_backend(cfg)
    m = cfg.model
    tf.keras.utils.set_random_seed(cfg.seed)
    if m.kind == "classical":
        layers = [tf.keras.Input(tuple(input_shape)), tf.keras.layers.Flatten()]
        layers += [tf.keras.layers.Dense(h, activation="relu") for h in m.hidden]
        layers.append(tf.keras.layers.Dense(N_CLASSES, name="logits"))
        return tf.keras.Sequential(layers, name="classical_classifier"), None
    t = cfg.train
    spsa = None if t.spsa is None else t.spsa.model_dump()
    circuit = QubitLayer(
        n_qubits=m.n_qubits,
        depth=m.depth,
        encoding=m.encoding,
        entangler=m.entangler,
        topology=m.topology,
        measurement=m.measurement,
        gradient=t.gradient,
        shots=t.shots,
        spsa=spsa,
        seed=cfg.seed,
        name="circuit",
    )
    model = tf.keras.Sequential(
        [
            tf.keras.Input(tuple(input_shape)),
            circuit,
            tf.keras.layers.Dense(N_CLASSES, name="head"),
        ],
        name="qubit_classifier",
    )
    return model, circuit


def parameter_counts(model: tf.keras.Model, circuit: QubitLayer | None) -> dict:
    """Trainable parameters: ``quantum`` (circuit angles), ``classical`` and ``total``."""
    total = int(sum(int(tf.size(v)) for v in model.trainable_variables))
    quantum = (
        0 if circuit is None else int(sum(int(tf.size(v)) for v in circuit.trainable_variables))
    )
    return {"quantum": quantum, "classical": total - quantum, "total": total}
