"""``classify(cfg)``: train a classifier, score it, and write its run directory.

Run directory ``<output.dir>/<name>-<timestamp>/``::

    config.yaml        the resolved config (every default filled in)
    features.npz       the fitted feature map (PCA on the training split, or pixels)
    metrics.jsonl      one line per epoch: loss, accuracies, circuits so far, time
    metrics.json       final record (keys: see :func:`classify`)
    checkpoints/final/ the trained weights (TF checkpoint)
    confusion.png      validation confusion matrix
    curves.png         training curves (loss and accuracy per epoch)
    ionq/              backend.kind ionq: every IonQ job and result as it arrives
                       (``qgan ionq status RUN_DIR`` lists them)

Divergence. A training step whose loss, gradient or updated weights hold a NaN or inf is
undone inside the compiled step (weights and optimizer state go back to their values
before it) and ends the training there. A run whose training loss at its final weights,
on its whole training split, is above ``2 ln(n_classes)`` (twice the cross-entropy of a
uniform guess, 4.61 for ten classes; an untrained model scores about ``ln(n_classes)``)
has diverged too: its weights are finite but the steps have thrown it far from any fit
(e.g. Adam at a learning rate of 1e4). Only the training split decides (no validation or
evaluation data). A diverged run still writes its run directory, with the last finite
weights in ``checkpoints/final`` and ``"diverged": true`` in ``metrics.json``, then raises
:class:`TrainingDiverged` (a one-line ``ValueError``: ``qgan classify`` prints it and exits
non-zero).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from qgan import _rundir as rundir
from qgan._io import write_bytes_atomic, write_text_atomic
from qgan._paths import check_output_dir
from qgan.classify import plots
from qgan.classify.baselines import baselines
from qgan.classify.config import (
    AdaptiveConfig,
    ClassifyConfig,
    ShotSchedule,
    dump_config,
    load_config,
)
from qgan.classify.data import (
    N_CLASSES,
    SPECS,
    Features,
    ImageData,
    load_images,
    read_npz,
    split,
)
from qgan.classify.model import (
    build_model,
    check_backend,
    ionq_backend,
    layer_times,
    parameter_counts,
)
from qgan.qubit.gradients import CircuitAccount

log = logging.getLogger("qgan.classify")
EVAL_BATCH = 1024  # rows per forward pass when scoring
#: a run has diverged when its final training loss exceeds this many times ln(n_classes)
DIVERGED_LOSS_FACTOR = 2.0


class TrainingDiverged(ValueError):
    """Training diverged (see the module docstring): a non-finite loss, gradient or weight,
    or a final training loss above ``DIVERGED_LOSS_FACTOR * ln(n_classes)``. The message is
    one line naming the epoch, the loss and a lower ``train.learning_rate`` to try;
    ``run_dir`` and ``metrics`` are the run's (written, with the last finite weights)."""

    def __init__(self, message: str, run_dir: Path, metrics: dict):
        super().__init__(message)
        self.run_dir = run_dir
        self.metrics = metrics


def diverged_loss(n_classes: int = N_CLASSES) -> float:
    """The training loss above which a finished run counts as diverged:
    ``DIVERGED_LOSS_FACTOR * ln(n_classes)`` (4.61 for ten classes)."""
    return DIVERGED_LOSS_FACTOR * float(np.log(n_classes))


def _lower_learning_rate(cfg: ClassifyConfig) -> float:
    """A learning rate to suggest after a divergence: a tenth of the run's, at most the
    config's default."""
    default = type(cfg.train).model_fields["learning_rate"].default
    return min(cfg.train.learning_rate / 10, default)


def confusion_matrix(labels, predicted, n_classes: int = N_CLASSES) -> np.ndarray:
    """Counts ``[n_classes, n_classes]`` int64: row = true label, column = predicted."""
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
    return m


@dataclass
class Classifier:
    """A trained (or freshly built) classifier: feature map, Keras model, circuit layer."""

    cfg: ClassifyConfig
    features: Features
    model: tf.keras.Model
    circuit: object | None = None
    _forward: object = field(default=None, repr=False)

    def __post_init__(self):
        shape = [None, self.features.n_features]
        if self.features.kind == "pixels":
            shape = [None, *self.features.image_shape]
        model = self.model
        self._forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(shape, tf.float32)],
        )

    def logits_of_features(self, x: np.ndarray) -> np.ndarray:
        """Logits [N, 10] float32 of model inputs ``x`` (rows of the feature map)."""
        parts = [
            self._forward(tf.constant(x[i : i + EVAL_BATCH])).numpy()
            for i in range(0, len(x), EVAL_BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, N_CLASSES), np.float32)

    def logits(self, images) -> np.ndarray:
        """Logits [N, 10] float32 of images [N, H, W] scaled to [0, 1]."""
        return self.logits_of_features(self.features(images))

    def predict(self, images) -> np.ndarray:
        """Predicted labels [N] int64 of images [N, H, W] scaled to [0, 1]."""
        return np.argmax(self.logits(images), axis=1)

    def score(self, data: ImageData) -> dict:
        """``accuracy``, ``loss`` (mean cross-entropy) and ``confusion_matrix`` on ``data``."""
        logits = self.logits(data.images)
        return _scores(logits, data.labels)


def _scores(logits: np.ndarray, labels: np.ndarray) -> dict:
    predicted = np.argmax(logits, axis=1)
    loss = tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "loss": float(np.mean(loss)),
        "confusion_matrix": confusion_matrix(labels, predicted).tolist(),
    }


@dataclass
class ClassifyResult:
    """What :func:`classify` returns: run directory, final record, per-epoch history and
    the trained classifier."""

    run_dir: Path
    metrics: dict
    history: list[dict]
    classifier: Classifier


def prepare(cfg: ClassifyConfig):
    """Seeded data split, fitted feature map and built model: ``(split, Classifier)``.

    Every check that can fail on input (data, feature count, backend) runs here, before a
    run directory exists.
    """
    check_backend(cfg)
    data = load_images(cfg.data, cfg.seed)
    parts = split(data, cfg.data.validation_fraction, cfg.seed, cfg.data.stratify)
    if cfg.model.kind == "qubit":
        features = Features.fit_pca(
            parts.train.images, cfg.model.n_features, cfg.model.feature_scale, cfg.seed
        )
        input_shape = (features.n_features,)
    else:
        features = Features.pixels(data.spec.image_shape)
        input_shape = data.spec.image_shape
    model, circuit = build_model(_layer_cfg(cfg), input_shape)
    _attach_noise(cfg, circuit)
    return parts, Classifier(cfg, features, model, circuit)


def _attach_noise(cfg: ClassifyConfig, circuit) -> None:
    """With ``backend.noise`` the circuit layer runs on the exact noisy simulator
    (:class:`qgan.qubit.noise.NoisyBackend`, Python side, seeded by the run's seed)."""
    noise = cfg.backend.noise
    if noise is None or circuit is None:
        return
    from qgan.qubit.noise import NoisyBackend

    circuit.backend = NoisyBackend(noise, seed=cfg.seed)
    circuit.in_graph = False
    circuit.supports_jit = False


def _noise_cost(cfg: ClassifyConfig, clf: Classifier, phases: list[dict]) -> dict | None:
    """What the rehearsed run's circuits would cost on the target its noise stands for
    (:func:`qgan.qubit.ionq.estimate.estimate_model`, every shot phase at its shots):
    USD per price list and QPU seconds; None without noise or without shots."""
    noise = cfg.backend.noise
    if noise is None or clf.circuit is None or not phases:
        return None
    if any(ph["shots_per_circuit"] is None for ph in phases):
        return None
    from qgan.qubit.ionq.estimate import TARGETS, estimate_model

    target = f"qpu.{noise.target}" if noise.target else "qpu.aria-1"
    target = target if target in TARGETS else "qpu.aria-1"
    usd: dict[str, float] = {}
    seconds = 0.0
    for ph in phases:
        if not ph["circuits"]:
            continue
        est = estimate_model(clf.circuit.model, ph["circuits"], ph["shots_per_circuit"], (target,))
        t = est.targets[0]
        for market, cost in t.costs.items():
            usd[market] = usd.get(market, 0.0) + cost
        seconds += t.seconds or 0.0
    return {
        "target": target,
        "usd": usd,
        "usd_low": min(usd.values(), default=0.0),
        "usd_high": max(usd.values(), default=0.0),
        "qpu_seconds": seconds,
        "circuits": sum(ph["circuits"] for ph in phases),
        "shots": sum(ph["shots_executed"] for ph in phases),
    }


def _layer_cfg(cfg: ClassifyConfig, epoch: int = 1) -> ClassifyConfig:
    """``cfg`` as the circuit layer is built from it: ``gradient: adaptive`` starts as
    ``spsa``, and a shot schedule gives the shots of ``epoch``."""
    t = cfg.train
    gradient = "spsa" if t.gradient == "adaptive" else t.gradient
    if gradient == t.gradient and not isinstance(t.shots, ShotSchedule):
        return cfg
    train = t.model_copy(
        update={"gradient": gradient, "shots": t.shots_at(epoch), "adaptive": None}
    )
    return cfg.model_copy(update={"train": train})


def _optimizers(cfg: ClassifyConfig, clf: Classifier, gradient: str | None = None, head=None):
    """[(optimizer, variables)]: Adam on everything; with SPSA the circuit angles take
    plain SPSA steps theta -= a_k g_k (Spall's gain schedule) and the head Adam. With
    ``train.optimizer`` ``gd`` or ``qng`` the angles (the layer's ``params`` only) take
    plain steps ``-train.angle_learning_rate * grad`` (for ``qng`` on the preconditioned
    gradient, see :func:`_train_step_fn`) whatever the gradient method, everything else
    Adam at ``train.learning_rate``.

    ``gradient``: the method in use (default ``cfg.train.gradient``; ``adaptive`` starts
    as ``spsa``). ``head``: an Adam already stepping the head's weights, kept (with its
    moments) when ``adaptive`` switches to parameter shift; the angles get a new Adam.
    """
    variables = clf.model.trainable_variables
    gradient = gradient or cfg.train.gradient
    gradient = "spsa" if gradient == "adaptive" else gradient
    plain = cfg.train.optimizer in ("gd", "qng")
    if clf.circuit is not None and (gradient == "spsa" or head is not None or plain):
        angles = [clf.circuit.params] if plain else clf.circuit.trainable_variables
        ids = {id(v) for v in angles}
        rest = [v for v in variables if id(v) not in ids]
        if plain:
            angle_opt = tf.keras.optimizers.SGD(cfg.train.angle_rate)
        elif gradient == "spsa":
            angle_opt = tf.keras.optimizers.SGD(clf.circuit.learning_rate_schedule())
        else:
            angle_opt = tf.keras.optimizers.Adam(cfg.train.learning_rate)
        head = head or tf.keras.optimizers.Adam(cfg.train.learning_rate)
        groups = [(angle_opt, angles), (head, rest)]
    else:
        groups = [(tf.keras.optimizers.Adam(cfg.train.learning_rate), variables)]
    for opt, group in groups:
        if not opt.built:
            opt.build(group)
    return groups


def _retrace_forward(clf: Classifier) -> None:
    """A new compiled forward for scoring: the layer's shots and method are read when a
    function is traced, so after they change the old trace is stale."""
    model = clf.model
    clf._forward = tf.function(
        lambda x: model(x, training=False),
        input_signature=clf._forward.input_signature,
    )


def _json_safe(value):
    """``value`` (nested dicts, lists, numbers) with every NaN or inf float replaced by its
    text ('nan', 'inf', '-inf'): JSON has no such numbers."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def _all_finite(tensors) -> tf.Tensor:
    """Scalar bool: every element of every tensor (None entries skipped) is finite."""
    checks = [tf.reduce_all(tf.math.is_finite(t)) for t in tensors if t is not None]
    return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def _train_step_fn(clf: Classifier, groups, input_shape, precondition=None):
    """The compiled step ``(x [B, *input_shape] float32, y [B] int32) -> (mean loss,
    correct predictions, finite)``. ``finite`` is False when the loss, a gradient or an
    updated weight is NaN or inf; the step is then undone (every weight and optimizer slot
    back to its value before the step, from a copy taken at its start), so the model always
    holds the last finite weights and training could go on as if the batch had been
    skipped. ``precondition``: a variable [n_params, n_params] (QNG's ``(g + lam I)^-1``)
    the gradient of the first group's one variable (the circuit angles) is multiplied by
    before its optimizer steps."""
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = clf.model
    variables = [v for _, group in groups for v in group]
    # the step's whole state: weights and optimizer slots (Adam's moments, iteration counts)
    state = variables + [s for opt, _ in groups for s in opt.variables]
    before = [tf.Variable(tf.identity(v), trainable=False, name="before_step") for v in state]

    def undo():
        for b, v in zip(before, state):
            v.assign(b)
        return tf.constant(False)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, *input_shape], tf.float32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def train_step(x, y):
        for b, v in zip(before, state):
            b.assign(v)
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, variables)
        if precondition is not None:  # the natural gradient (g + lam I)^-1 grad
            grads[0] = tf.linalg.matvec(tf.cast(precondition, grads[0].dtype), grads[0])
        start = 0
        for opt, group in groups:
            opt.apply_gradients(zip(grads[start : start + len(group)], group))
            start += len(group)
        finite = _all_finite([loss, *grads, *variables])
        finite = tf.cond(finite, lambda: tf.constant(True), undo)
        correct = tf.reduce_sum(
            tf.cast(tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y), tf.int32)
        )
        return loss, correct, finite

    return train_step


def _account(clf: Classifier) -> tuple[int, int]:
    """(circuits, shots) the circuit layer executed so far (0, 0 for the classical model)."""
    if clf.circuit is None:
        return 0, 0
    account = clf.circuit.account
    return account.circuits(), account.shots()


class _Ledger:
    """The run's circuit account across gradient switches and shot changes.

    The layer attributes its in-graph tally to the method it holds now, so before the
    method or the shots change (and after every epoch) its account is moved here and
    reset. ``parameter_shift_equivalent``: the circuits parameter shift would have run
    for the same evaluations (every forward circuit, plus 2 n_params per gradient row)."""

    def __init__(self, clf: Classifier):
        self.clf = clf
        self.total = CircuitAccount()
        self.metric = CircuitAccount()  # the QNG metric's prefix circuits (phase metric)

    def collect(self) -> CircuitAccount:
        """Move the layer's account (and the QNG metric's, ``metric``) into the total;
        returns what was moved."""
        moved = CircuitAccount()
        for key, row in self.metric.as_dict().items():
            phase, method = key.split("/")
            values = [row[f] for f in ("evaluations", "samples", "circuits", "shots")]
            moved.add(phase, method, values)
            self.total.add(phase, method, values)
        self.metric.reset()
        if self.clf.circuit is None:
            return moved
        for key, row in self.clf.circuit.account.as_dict().items():
            phase, method = key.split("/")
            values = [row[f] for f in ("evaluations", "samples", "circuits", "shots")]
            moved.add(phase, method, values)
            self.total.add(phase, method, values)
        self.clf.circuit.reset_account()
        return moved

    def parameter_shift_equivalent(self, account: CircuitAccount | None = None) -> int:
        account = account or self.total
        if self.clf.circuit is None:
            return 0
        model = self.clf.circuit.model
        # parameter shift runs 2 circuits per angle for every basis setting of a row
        per_row = 2 * model.n_params * getattr(model, "n_settings", 1)
        return account.circuits("forward") + account.samples("gradient") * per_row


class _Qng:
    """``train.optimizer: qng``: the circuit angles' preconditioner ``(g + lam I)^-1``,
    ``g`` the block-diagonal Fubini-Study metric (:func:`qgan.qubit.qng.layer_metric`)
    measured on the training backend (the exact or noisy simulator, at the layer's shots)
    from the first ``metric_rows`` rows of a batch every ``metric_every`` steps; its
    circuits are recorded in ``ledger.metric``. ``inverse`` is the variable the compiled
    step multiplies the angles' gradient by."""

    def __init__(self, cfg: ClassifyConfig, clf: Classifier, ledger: _Ledger):
        self.q = cfg.train.qng_config
        self.layer, self.ledger = clf.circuit, ledger
        n = self.layer.model.n_params
        self.inverse = tf.Variable(tf.eye(n), trainable=False, name="qng_inverse_metric")
        self.steps = 0
        self.evaluations = 0
        self.last_trace = float("nan")

    def before_step(self, x_batch: np.ndarray) -> None:
        """Re-measure the metric on this batch when it is due; count the step."""
        from qgan.qubit.qng import layer_metric

        if self.steps % self.q.metric_every == 0:
            rows = x_batch if self.q.metric_rows is None else x_batch[: self.q.metric_rows]
            g = layer_metric(self.layer, rows, account=self.ledger.metric)
            reg = self.q.regularisation * np.eye(g.shape[0])
            self.inverse.assign(np.linalg.inv(g + reg).astype(np.float32))
            self.evaluations += 1
            self.last_trace = float(np.trace(g))
        self.steps += 1


def _adaptive_switch(adaptive, losses: list[float], epoch: int, epochs: int):
    """The reason to leave SPSA after ``epoch`` (1-based; ``losses`` its mean training
    losses so far), or None to go on; see :class:`qgan.classify.config.AdaptiveConfig`."""
    last_spsa = max(1, int(adaptive.max_spsa_fraction * epochs))
    w = adaptive.window
    if len(losses) > w:
        before, now = losses[-1 - w], losses[-1]
        improvement = (before - now) / (w * abs(before)) if before else 0.0
        if improvement < adaptive.min_improvement:
            return {
                "rule": "min_improvement",
                "improvement_per_epoch": improvement,
                "min_improvement": adaptive.min_improvement,
            }
    if epoch >= last_spsa:
        return {"rule": "max_spsa_fraction", "max_spsa_fraction": adaptive.max_spsa_fraction}
    return None


def _shot_phases(history: list[dict]) -> list[dict]:
    """Runs of consecutive epochs at equal shots: shots, first/last epoch, circuits and
    shots executed in them (per-epoch deltas summed)."""
    phases: list[dict] = []
    for rec in history:
        if phases and phases[-1]["shots_per_circuit"] == rec["shots"]:
            ph = phases[-1]
            ph["last_epoch"] = rec["epoch"]
        else:
            ph = {
                "shots_per_circuit": rec["shots"],
                "first_epoch": rec["epoch"],
                "last_epoch": rec["epoch"],
                "circuits": 0,
                "shots_executed": 0,
            }
            phases.append(ph)
        ph["circuits"] += rec["epoch_circuits"]
        ph["shots_executed"] += rec["epoch_shots"]
    return phases


def _ionq_summary(backend) -> dict:
    """What went to IonQ: target, jobs (and by state), circuits and shots submitted, circuit
    results saved (circuits asked for twice with the same angles are sent once)."""
    summary = backend.store.summary()
    return {
        "target": backend.target,
        "jobs": summary["jobs"],
        "job_states": summary["states"],
        "circuits_submitted": summary["circuits_submitted"],
        "shots_submitted": summary["shots"],
        "results": summary["results"],
    }


def classify(
    cfg: ClassifyConfig,
    *,
    evaluate: str | Path | None = None,
    progress: bool = True,
) -> ClassifyResult:
    """Train the classifier of ``cfg`` on its training split and write its run directory.

    ``evaluate``: an ``.npz`` (arrays ``images``, ``labels``, as the shared data) that the
    trained model is also scored on (``eval_accuracy``); it is checked before training.

    ``metrics.json`` keys: ``accuracy`` (validation), ``train_accuracy`` (training split,
    final weights), ``eval_accuracy`` and ``n_eval`` (only with ``evaluate``), ``n_params``
    (``quantum``, ``classical``, ``total``), ``wall_s`` (the whole call), ``train_s``,
    ``circuits_executed`` and ``shots_executed`` (circuit executions of training and
    scoring; 0 for the classical model and shots 0 for exact expectations), ``ionq``
    (backend ``ionq`` only: ``target``, ``jobs``, ``job_states``, ``circuits_submitted``,
    ``shots_submitted``, ``results``; fewer circuits than ``circuits_executed`` where a
    circuit was asked for again with the same angles and its saved result reused),
    ``n_train``, ``n_validation``, ``seed``, ``confusion_matrix`` (validation, row = true
    label), ``class_names``, ``baselines`` (logistic regression and an MLP of about the same
    parameter count fitted on the identical feature rows, split and seed, and the ``gap``:
    :mod:`qgan.classify.baselines`) and the run's description (model, data, epochs).
    """
    start = time.perf_counter()
    check_output_dir(cfg.output.dir)  # before anything is read, built or written
    parts, clf = prepare(cfg)
    eval_data = None
    if evaluate is not None:
        eval_data = read_npz(evaluate, cfg.data.kind, "evaluation file")
    t = cfg.train
    x_train = clf.features(parts.train.images)
    x_val = clf.features(parts.validation.images)
    y_train, y_val = parts.train.labels, parts.validation.labels
    input_shape = x_train.shape[1:]
    groups = _optimizers(cfg, clf)
    ledger = _Ledger(clf)
    qng = _Qng(cfg, clf, ledger) if t.optimizer == "qng" and clf.circuit is not None else None
    precondition = None if qng is None else qng.inverse

    def make_step():
        return _train_step_fn(clf, groups, input_shape, precondition)

    train_step = make_step()
    if qng is not None:
        log.info(
            "%s: QNG on the circuit angles (learning rate %g, regularisation %g, metric "
            "every %d steps from %s rows, %d circuits per row)", cfg.name,
            t.angle_rate, qng.q.regularisation, qng.q.metric_every,
            qng.q.metric_rows or "all", 2 * clf.circuit.model.depth,
        )  # fmt: skip
    gradient = "spsa" if t.gradient == "adaptive" else t.gradient
    adaptive = t.adaptive or AdaptiveConfig() if t.gradient == "adaptive" else None
    switches: list[dict] = []

    if cfg.backend.kind == "ionq":  # price the whole run before anything is created or sent
        from qgan.classify.ionq_run import preflight_run

        preflight_run(cfg, ionq_backend(cfg), clf.circuit.model, len(y_train), len(y_val))
    run_dir = rundir.new_run_dir(cfg.output.dir, cfg.name)
    if cfg.backend.kind == "ionq":
        # the run directory exists only now: from here on jobs and results are saved in it
        clf.circuit.backend = ionq_backend(cfg, run_dir)
    write_text_atomic(run_dir / "config.yaml", dump_config(cfg))
    write_bytes_atomic(run_dir / "features.npz", clf.features.to_bytes())

    n = len(y_train)
    steps_per_epoch = -(-n // t.batch_size)
    rng = np.random.default_rng(cfg.seed)
    history: list[dict] = []
    bar = tqdm(
        total=t.epochs * steps_per_epoch,
        disable=None if progress else True,  # None: only on a terminal
        desc=cfg.name,
        unit="batch",
        dynamic_ncols=True,
    )
    train_start = time.perf_counter()
    diverged = None  # (epoch, loss) of a step that went non-finite
    try:
        for epoch in range(1, t.epochs + 1):
            shots_now = t.shots_at(epoch)
            if clf.circuit is not None and shots_now != clf.circuit.shots:
                ledger.collect()  # the layer counts shots at the value it was traced with
                clf.circuit.shots = shots_now
                train_step = make_step()
                _retrace_forward(clf)
                log.info("%s: epoch %d runs %s shots per circuit", cfg.name, epoch, shots_now)
            order = rng.permutation(n)
            losses, correct = [], 0
            for i in range(0, n, t.batch_size):
                batch = order[i : i + t.batch_size]
                if qng is not None:
                    qng.before_step(x_train[batch])
                loss, hits, finite = train_step(
                    tf.constant(x_train[batch]), tf.constant(y_train[batch])
                )
                if not bool(finite):  # undone in the step: the weights are the last finite
                    diverged = (epoch, float(loss))
                    break
                losses.append(float(loss) * len(batch))
                correct += int(hits)
                bar.update(1)
            if diverged is not None:
                break
            mean_loss = sum(losses) / n
            val = _scores(clf.logits_of_features(x_val), y_val)
            moved = ledger.collect()
            record = {
                "epoch": epoch,
                "loss": mean_loss,
                "train_accuracy": correct / n,
                "val_loss": val["loss"],
                "accuracy": val["accuracy"],
                "gradient": gradient,
                "shots": clf.circuit.shots if clf.circuit is not None else None,
                "circuits_executed": ledger.total.circuits(),
                "shots_executed": ledger.total.shots(),
                "epoch_circuits": moved.circuits(),
                "epoch_shots": moved.shots(),
                "circuits_parameter_shift_equivalent": ledger.parameter_shift_equivalent(),
                "time_s": time.perf_counter() - start,
            }
            if qng is not None:
                record.update(
                    metric_circuits=moved.circuits("metric"),
                    metric_evaluations=qng.evaluations,
                    metric_trace=qng.last_trace,
                )
                log.info(
                    "%s: epoch %d: loss %.4f, %d QNG metric evaluations so far (%d metric "
                    "circuits this epoch), trace of the last metric %.4g", cfg.name, epoch,
                    mean_loss, qng.evaluations, record["metric_circuits"], qng.last_trace,
                )  # fmt: skip
            if adaptive is not None and gradient == "spsa" and epoch < t.epochs:
                why = _adaptive_switch(adaptive, [h["loss"] for h in history] + [mean_loss],
                                       epoch, t.epochs)  # fmt: skip
                if why is not None:
                    gradient = "parameter_shift"
                    clf.circuit.gradient = gradient
                    groups = _optimizers(cfg, clf, gradient, head=groups[1][0])
                    train_step = make_step()
                    _retrace_forward(clf)
                    switch = {"after_epoch": epoch, "from": "spsa", "to": gradient, **why,
                              "circuits_so_far": ledger.total.circuits()}  # fmt: skip
                    switches.append(switch)
                    record["switch"] = switch
                    log.info(
                        "%s: gradient spsa -> parameter_shift after epoch %d (%s; %d circuits "
                        "so far)", cfg.name, epoch, why["rule"], switch["circuits_so_far"],
                    )  # fmt: skip
            rundir.append_jsonl(run_dir / "metrics.jsonl", _json_safe(record))
            history.append(record)
            bar.set_postfix(loss=f"{mean_loss:.3f}", acc=f"{val['accuracy']:.3f}")
    except BaseException:
        _end_ionq_session(cfg, clf)
        raise
    finally:
        bar.close()
    train_s = time.perf_counter() - train_start

    checkpoint = tf.train.Checkpoint(model=clf.model)
    final_ckpt = rundir.save_named_checkpoint(checkpoint, run_dir, "final")
    try:  # the run's last circuits: then its IonQ session (if any) ends
        val = _scores(clf.logits_of_features(x_val), y_val)
        train_scores = _scores(clf.logits_of_features(x_train), y_train)
        scores = None if eval_data is None else clf.score(eval_data)
    finally:
        _end_ionq_session(cfg, clf)
    record = {
        "name": cfg.name,
        "seed": cfg.seed,
        "model": cfg.model.kind,
        "data": cfg.data.kind,
        "data_source": parts.train.source,
        "accuracy": val["accuracy"],
        "val_loss": val["loss"],
        "train_accuracy": train_scores["accuracy"],
        "train_loss": train_scores["loss"],
    }
    if eval_data is not None:
        record.update(
            eval_accuracy=scores["accuracy"],
            n_eval=len(eval_data),
            eval_file=str(evaluate),
            eval_confusion_matrix=scores["confusion_matrix"],
        )
    ledger.collect()
    circuits, shots = ledger.total.circuits(), ledger.total.shots()
    record.update(
        n_params=parameter_counts(clf.model, clf.circuit),
        n_train=len(y_train),
        n_validation=len(y_val),
        n_features=int(np.prod(input_shape)),
        epochs=t.epochs,
        circuits_executed=circuits,
        shots_executed=shots,
        circuits_by_phase=ledger.total.as_dict(),
        circuits_parameter_shift_equivalent=ledger.parameter_shift_equivalent(),
        gradient=t.gradient,
        optimizer=t.optimizer,
        gradient_switches=switches,
        shot_phases=_shot_phases(history) if clf.circuit is not None else [],
        confusion_matrix=val["confusion_matrix"],
        class_names=list(SPECS[cfg.data.kind].class_names),
        checkpoint=str(final_ckpt.relative_to(run_dir)),
        train_s=train_s,
    )
    if qng is not None:
        record["qng"] = {
            "learning_rate": t.angle_rate,
            **qng.q.model_dump(),
            "metric_evaluations": qng.evaluations,
            "metric_circuits": ledger.total.circuits("metric"),
            "metric_shots": ledger.total.shots("metric"),
        }
    if cfg.model.kind == "hybrid":  # where a step's time goes, layer by layer
        record["layer_times"] = layer_times(clf.model, x_train[: t.batch_size])
    # classical models on the identical feature rows, split and seed (qgan.classify.baselines)
    record["baselines"] = baselines(
        x_train, y_train, x_val, y_val, record["n_params"]["total"], val["accuracy"], cfg.seed
    )
    if diverged is None and not train_scores["loss"] <= diverged_loss():
        diverged = (t.epochs, train_scores["loss"])
    if diverged is not None:
        epoch, loss = diverged
        record.update(diverged=True, diverged_epoch=epoch, diverged_loss=loss)
    if cfg.backend.kind == "ionq":
        record["ionq"] = _ionq_summary(clf.circuit.backend)
    if cfg.backend.noise is not None:
        record["noise"] = cfg.backend.noise.as_dict()
        record["cost_estimate"] = _noise_cost(cfg, clf, record["shot_phases"])
    if cfg.output.plots:
        title = f"{cfg.name} (seed {cfg.seed}): validation accuracy {val['accuracy']:.3f}"
        plots.confusion_matrix(
            run_dir / "confusion.png", val["confusion_matrix"], record["class_names"], title
        )
        plots.training_curves(run_dir / "curves.png", history, cfg.name)
    record["wall_s"] = time.perf_counter() - start
    write_text_atomic(run_dir / "metrics.json", json.dumps(_json_safe(record), indent=2) + "\n")
    if diverged is not None:
        epoch, loss = diverged
        raise TrainingDiverged(
            f"training diverged at epoch {epoch} (loss {loss:.4g}): lower "
            f"train.learning_rate, e.g. {_lower_learning_rate(cfg):g} (run directory "
            f"{run_dir}, last finite weights in checkpoints/final)",
            run_dir,
            record,
        )
    log.info(
        "%s: validation accuracy %.3f after %d epochs (%.1f s)",
        cfg.name,
        val["accuracy"],
        t.epochs,
        record["wall_s"],
    )
    return ClassifyResult(run_dir, record, history, clf)


def _end_ionq_session(cfg, clf) -> None:
    """End the run's IonQ session (``backend.session``) once its last circuits ran, or when
    training stops on an exception (a process killed outright leaves the session open, and
    the resumed run re-attaches to it)."""
    if cfg.backend.kind == "ionq" and clf.circuit is not None:
        clf.circuit.backend.close()


def evaluate_file(classifier: Classifier, path) -> dict:
    """Score ``classifier`` on an ``.npz`` with arrays ``images``, ``labels`` (the shared
    data's format): ``eval_accuracy``, ``n_eval`` and ``eval_confusion_matrix``."""
    data = read_npz(path, classifier.cfg.data.kind, "evaluation file")
    scores = classifier.score(data)
    return {
        "eval_accuracy": scores["accuracy"],
        "n_eval": len(data),
        "eval_confusion_matrix": scores["confusion_matrix"],
    }


def load_classifier(run_dir) -> Classifier:
    """The trained classifier of a finished run directory (config, feature map, weights)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise ValueError(f"{str(run_dir)!r} is not a classifier run directory (no config.yaml)")
    cfg = load_config(run_dir / "config.yaml")
    final = run_dir / "checkpoints" / "final" / "ckpt"
    if not (run_dir / "features.npz").is_file() or not final.with_suffix(".index").exists():
        raise ValueError(f"{str(run_dir)!r} has no trained model (features.npz, checkpoint)")
    features = Features.from_file(run_dir / "features.npz")
    shape = (features.n_features,) if features.kind == "pca" else features.image_shape
    # IonQ: reuses its saved results; the layer as it ended (last shots of a schedule)
    model, circuit = build_model(_layer_cfg(cfg, cfg.train.epochs), shape, run_dir=run_dir)
    _attach_noise(cfg, circuit)
    tf.train.Checkpoint(model=model).read(str(final)).expect_partial()
    return Classifier(cfg, features, model, circuit)
