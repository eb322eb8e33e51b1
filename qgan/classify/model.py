"""Classifier models: a qubit circuit with a linear head, and the classical baseline.

* ``qubit``: features [B, n_qubits] (PCA angles) -> :class:`qgan.qubit.QubitLayer`
  (readouts [B, n_outputs], e.g. <Z_q> per qubit) -> ``Dense(10)`` logits. The circuit
  runs on the in-graph TF simulator (``backend.kind: simulator``) or on IonQ
  (``backend.kind: ionq``: an :class:`~qgan.qubit.ionq.IonQBackend` with the config's
  options, gradients by parameter shift or SPSA from ``train.shots`` shots).
* ``classical``: the TensorFlow Keras classification tutorial's
  ``Flatten -> Dense(128, relu) -> Dense(10)`` on images [B, H, W] (``model.hidden`` sets
  the hidden widths).

Both output logits [B, 10] float32.
"""

from __future__ import annotations

import tensorflow as tf

from qgan.classify.data import N_CLASSES
from qgan.qubit.layer import QubitLayer
from qgan.qubit.model import structure_of


def check_backend(cfg) -> None:
    """Refuse a backend the classifier cannot run (one-line ``ValueError``), before anything
    is written: IonQ needs the API key in ``IONQ_API_KEY``. (That IonQ measures, so needs
    ``train.shots`` and a gradient other than 'autodiff', the validated config ensures.)"""
    if cfg.backend.kind != "ionq":
        return
    from qgan.qubit.ionq.jobs import api_key

    api_key()  # a ValueError naming IONQ_API_KEY when it is not set


def ionq_backend(cfg, run_dir=None):
    """The :class:`~qgan.qubit.ionq.IonQBackend` of ``cfg.backend`` (kind ``ionq``): its
    options (target, remote_host, ...), shots seeded by ``cfg.seed``, job ids and results
    saved under ``<run_dir>/ionq/`` (None: in memory). The API key is not part of it: the
    backend reads ``IONQ_API_KEY`` when it submits."""
    from qgan.qubit.ionq import IonQBackend

    where = None if run_dir is None else str(run_dir)
    return IonQBackend(**cfg.backend.options, run_dir=where, seed=cfg.seed)


def build_model(cfg, input_shape, run_dir=None) -> tuple[tf.keras.Model, QubitLayer | None]:
    """The Keras model of ``cfg.model`` (built for inputs ``[B, *input_shape]``) and its
    circuit layer (None for the classical model). Weights are seeded by ``cfg.seed``.

    With ``backend.kind: ionq`` the circuit layer runs on :func:`ionq_backend`
    (``run_dir``: where its jobs and results are saved; None keeps them in memory).
    """
    m = cfg.model
    tf.keras.utils.set_random_seed(cfg.seed)
    if m.kind == "classical":
        layers = [tf.keras.Input(tuple(input_shape)), tf.keras.layers.Flatten()]
        layers += [tf.keras.layers.Dense(h, activation="relu") for h in m.hidden]
        layers.append(tf.keras.layers.Dense(N_CLASSES, name="logits"))
        return tf.keras.Sequential(layers, name="classical_classifier"), None
    t = cfg.train
    spsa = None if t.spsa is None else t.spsa.model_dump()
    backend = "simulator" if cfg.backend.kind == "simulator" else ionq_backend(cfg, run_dir)
    circuit = QubitLayer(
        **structure_of(m),
        gradient=t.gradient,
        shots=t.shots,
        backend=backend,
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
