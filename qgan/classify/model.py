"""Classifier models: a qubit circuit with a linear head, and the classical baseline.

* ``qubit``: features [B, n_qubits] (PCA angles) -> :class:`qgan.qubit.QubitLayer`
  (readouts [B, n_outputs], e.g. <Z_q> per qubit) -> ``Dense(10)`` logits. The circuit
  runs on the in-graph TF simulator (``backend.kind: simulator``) or on IonQ
  (``backend.kind: ionq``: an :class:`~qgan.qubit.ionq.IonQBackend` with the config's
  options, gradients by parameter shift or SPSA from ``train.shots`` shots).
* ``classical``: the TensorFlow Keras classification tutorial's
  ``Flatten -> Dense(128, relu) -> Dense(10)`` on images [B, H, W] (``model.hidden`` sets
  the hidden widths).
* ``hybrid``: images [B, H, W] -> ``Conv2D(f, 3x3, relu) -> MaxPool(2)`` per f in
  ``model.conv_filters`` -> Flatten -> for each width w of ``model.widths`` (8, 6, 4):
  ``Dense(w, tanh)`` times pi (angles in (-pi, pi)) and a w-qubit ``QubitLayer``
  (``stack: qubit``) or, in the classical twin (``stack: dense``), ``Dense(w, tanh)`` ->
  ``Dense(10)``. Its circuits are one :class:`CircuitStack` for the run's accounting.

Both output logits [B, 10] float32.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from qgan.classify.data import N_CLASSES
from qgan.qubit.gradients import CircuitAccount
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
    if m.kind == "hybrid":
        return _hybrid(cfg, input_shape)
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
        feature_groups=m.feature_groups,
        input_scaling=m.input_scaling,
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


class CircuitStack:
    """The ``QubitLayer`` s of a hybrid model, seen by the run's accounting as one circuit
    layer: ``account`` sums theirs (one circuit per layer per row), ``model.n_params`` is
    their angles' total; they run on the simulator by autodiff (the config ensures it)."""

    def __init__(self, layers):
        self.layers = list(layers)
        self.shots = None
        self.gradient = "autodiff"
        self.model = SimpleNamespace(n_params=sum(layer.model.n_params for layer in self.layers))

    @property
    def account(self) -> CircuitAccount:
        total = CircuitAccount()
        for layer in self.layers:
            for key, row in layer.account.as_dict().items():
                phase, method = key.split("/")
                total.add(
                    phase, method, [row[f] for f in ("evaluations", "samples", "circuits", "shots")]
                )
        return total

    def reset_account(self) -> None:
        for layer in self.layers:
            layer.reset_account()

    @property
    def params(self) -> list:
        return [layer.params for layer in self.layers]

    @property
    def trainable_variables(self) -> list:
        return [v for layer in self.layers for v in layer.trainable_variables]


def _hybrid(cfg, input_shape):
    """The hybrid image model of ``cfg.model`` (see the module docstring)."""
    m = cfg.model
    layers = [tf.keras.Input(tuple(input_shape)), tf.keras.layers.Reshape((*input_shape, 1))]
    for i, filters in enumerate(m.conv_filters):
        layers.append(
            tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{i}")
        )
        layers.append(tf.keras.layers.MaxPool2D(2, name=f"pool_{i}"))
    layers.append(tf.keras.layers.Flatten(name="flatten"))
    circuits = []
    for i, width in enumerate(m.widths):
        layers.append(tf.keras.layers.Dense(width, activation="tanh", name=f"angles_{i}"))
        layers.append(tf.keras.layers.Rescaling(np.pi, name=f"times_pi_{i}"))
        if m.stack == "qubit":
            circuit = QubitLayer(
                n_qubits=width,
                depth=m.depth,
                encoding="reupload",
                entangler=m.entangler,
                topology=m.topology,
                measurement="z",
                input_scaling=m.input_scaling,
                seed=cfg.seed + i,
                name=f"qubit_{i}",
            )
            circuits.append(circuit)
            layers.append(circuit)
        else:
            layers.append(tf.keras.layers.Dense(width, activation="tanh", name=f"dense_{i}"))
    layers.append(tf.keras.layers.Dense(N_CLASSES, name="head"))
    name = "hybrid_qubit_classifier" if circuits else "hybrid_classical_twin"
    model = tf.keras.Sequential(layers, name=name)
    return model, (CircuitStack(circuits) if circuits else None)


def layer_times(model: tf.keras.Model, x, repeats: int = 5) -> list[dict]:
    """Per-layer cost of ``model`` on the batch ``x``: for each layer (in order, fed the
    previous layer's output) the median wall time in milliseconds of its compiled forward
    pass (``forward_ms``) and of forward plus the gradient w.r.t. its input and weights
    (``forward_gradient_ms``), and its trainable parameters. Timed after one warm-up call
    each; medians of ``repeats`` calls."""
    h = tf.constant(x)
    out = []
    for layer in model.layers:

        def forward(t, layer=layer):
            return layer(t, training=False)

        def gradient(t, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(t)
                total = tf.reduce_sum(layer(t, training=True))
            return tape.gradient(
                total,
                [t, *layer.trainable_variables],
                unconnected_gradients=tf.UnconnectedGradients.ZERO,
            )

        timings = {}
        for key, fn in (("forward_ms", forward), ("forward_gradient_ms", gradient)):
            fn = tf.function(fn)
            tf.nest.map_structure(lambda v: v.numpy(), fn(h))  # trace and warm up
            runs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                tf.nest.map_structure(lambda v: v.numpy(), fn(h))
                runs.append(1e3 * (time.perf_counter() - t0))
            timings[key] = float(np.median(runs))
        params = int(sum(int(tf.size(v)) for v in layer.trainable_variables))
        out.append({"layer": layer.name, "params": params, **timings})
        h = layer(h, training=False)
    return out


def parameter_counts(model: tf.keras.Model, circuit: QubitLayer | None) -> dict:
    """Trainable parameters: ``quantum`` (circuit angles), ``classical`` (the rest, input
    scales of the circuit layer included) and ``total``."""
    total = int(sum(int(tf.size(v)) for v in model.trainable_variables))
    if circuit is None:
        quantum = 0
    elif isinstance(circuit, CircuitStack):
        quantum = int(sum(int(tf.size(p)) for p in circuit.params))
    else:
        quantum = int(tf.size(circuit.params))
    return {"quantum": quantum, "classical": total - quantum, "total": total}
