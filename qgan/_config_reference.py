"""The config reference: every key of a workload's pydantic config model, with its type,
default and meaning, as Markdown (``qgan config reference``; the documentation site's
"Config reference" page is generated from it at build time, so it cannot drift).

Types and defaults come from the models themselves; meanings from :data:`MEANINGS` (one
entry per dotted key and workload). ``tests/test_config_reference.py`` fails when a model
has a key without a meaning here, or a meaning names a key the model no longer has.
Imports neither TensorFlow nor Strawberry Fields; the models are passed in (this base
module does not import the workloads).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

_GAN = {
    "name": "Run name: the run directory is `<output.dir>/<name>-<timestamp>/`.",
    "seed": "Seeds the data, the initial weights, the latent stream and the evaluation samples.",
    "data.kind": "The real distribution: a Gaussian-mixture preset (`bimodal`, `ring8`, "
    "`grid25`), `gaussian_mixture` (give `centers`, `std`, optionally `weights`), "
    "scikit-learn's `moons`, or `file` (points from `path`).",
    "data.n_samples": "Number of real points drawn (or at most read from `path`).",
    "data.centers": "`gaussian_mixture` only: the K centres, a list of d-dimensional points.",
    "data.std": "`gaussian_mixture` only: the standard deviation of every component.",
    "data.weights": "`gaussian_mixture` only: K component weights (normalised; null: equal).",
    "data.noise": "`moons` only: scikit-learn's `noise` (null: 0.1).",
    "data.path": "`file` only: a `.npy` (2-D array) or `.csv` of points; a relative path "
    "resolves against the config file's folder.",
    "generator.kind": "`cv`: the CV circuit (`CVGenerator`); `classical`: its classical "
    "ablation (`ClassicalGenerator`, an MLP with the same feature layout).",
    "generator.latent_dim": "Dimension of the latent vector z.",
    "generator.latent": "Latent distribution: `normal` N(0, 1) or `uniform` U(-1, 1).",
    "generator.n_modes": "`cv`: number of optical modes.",
    "generator.n_layers": "`cv`: number of Killoran layers (interferometer, squeezing, "
    "interferometer, displacement, Kerr).",
    "generator.cutoff": "`cv`: Fock cutoff D per mode (photon numbers 0 .. D-1).",
    "generator.encoding": "`cv`: how z enters the circuit: displacement, squeezing or phase "
    "gates on the vacuum.",
    "generator.encoding_scale": "`cv`: gate argument per unit of z in the encoding.",
    "generator.readout": "`cv`: the measured features, in order (`quadratures`, `mean_photon`, "
    "`photon_marginals`, `fock_probs`, `photon_samples`, `homodyne`).",
    "generator.sample_modes": "`cv`: the modes whose joint photon-number outcome "
    "`photon_samples` samples (null: every mode).",
    "generator.temperature": "Temperature of the relaxed (Gumbel-softmax) photon-number sample.",
    "generator.straight_through": "One-hot samples forward, relaxed gradients backward.",
    "generator.backend": "`cv`: `compiled` (qgan's engine) or `sf` (Strawberry Fields' `tf` "
    "backend, the slow reference).",
    "generator.dtype": "`cv`: complex dtype of the simulation.",
    "generator.init_std": "`cv`: standard deviation of the initial gate arguments.",
    "generator.loss": "`cv`: photon loss per mode, a fraction in [0, 1) for every mode or a "
    "list of one per mode: `LossChannel(1 - loss)` (a mixed state; 0: no channel, the "
    "lossless circuit).",
    "generator.loss_at": "`cv`: where the loss acts: `measurement` (after the last layer, "
    "before the readout), `layers` (after every layer) or `both`.",
    "generator.quadrature_angles": "`cv`: one angle phi per mode (radians; null: 0): "
    "`homodyne` samples x_phi = x cos(phi) + p sin(phi) and `quadratures` reads <x_phi> and "
    "<x_(phi + pi/2)>.",
    "generator.hidden": "`classical`: hidden-layer widths of the MLP.",
    "generator.n_outcomes": "`classical`: size of the sampled categorical outcome (the stand-in "
    "for the photon-number measurement; 0: none).",
    "generator.n_continuous": "`classical`: number of continuous features (the stand-in for "
    "the quadrature means).",
    "decoder.kind": "`SpatialDecoder` kind: `affine`, `mode_assignment` (outcomes pick k-means "
    "anchors of the real data) or a classical `mlp`.",
    "decoder.n_clusters": "`mode_assignment`: number of k-means anchors (null: one per outcome).",
    "decoder.hidden": "`mlp`: hidden-layer widths.",
    "decoder.calibrate": "true (anchored track): the decoder starts from the real data "
    "(k-means anchors, the data's spread); false (anchor-free track): from a seeded draw, so "
    "nothing about the real data reaches the generator or decoder but the discriminator's "
    "gradients.",
    "discriminator.kind": "`mlp`: a classical MLP (`hidden`); `qubit`: a `QubitLayer`-based "
    "discriminator (`QubitDiscriminator`): the packed point tiled over the qubits and "
    "re-uploaded before every layer, the readouts -> Dense(1) logit.",
    "discriminator.hidden": "`mlp`: hidden-layer widths of the discriminator MLP.",
    "discriminator.n_qubits": "`qubit`: qubits of the circuit (qubit q reads coordinate "
    "q mod (2 * pack); at least 2 * `pack`).",
    "discriminator.depth": "`qubit`: ansatz layers (RY+RZ per qubit, then the entangler), "
    "each preceded by the re-uploaded point.",
    "discriminator.entangler": "`qubit`: two-qubit gate: `cnot`, `ms`, `zz` or `none` (no "
    "entanglement).",
    "discriminator.topology": "`qubit`: entangled pairs: `linear`, `ring` or `all_to_all`.",
    "discriminator.measurement": "`qubit`: readouts fed to the logit: `z` (<Z_q>), `parity`, "
    "`z_parity` or `z_zz` (<Z_q> and <Z_a Z_b>).",
    "discriminator.input_scaling": "`qubit`: trainable input weights: `none`, `feature` (one "
    "per qubit's coordinate) or `feature_layer` (one per coordinate and layer).",
    "discriminator.backend": "`qubit`: where the circuit runs: `simulator` (in-graph TF) or "
    "`ionq` (needs `shots` and a `parameter_shift` / `spsa` gradient).",
    "discriminator.target": "`qubit`, `ionq` only: IonQ target (null: the IonQ simulator).",
    "discriminator.gradient": "`qubit`: `autodiff` (simulator, exact), `parameter_shift` or "
    "`spsa` (what hardware computes).",
    "discriminator.shots": "`qubit`: measurements per circuit (null: exact expectations).",
    "discriminator.pack": "PacGAN packing: the discriminator sees this many points at once.",
    "discriminator.gradient_penalty": "Weight of the gradient penalty on the discriminator "
    "(0: none).",
    "train.steps": "Number of training steps (generator updates).",
    "train.batch_size": "Points per batch (a multiple of `discriminator.pack`).",
    "train.d_steps": "Discriminator updates per generator update.",
    "train.loss": "Adversarial loss: `non_saturating`, `wgan_gp` or `hinge`.",
    "train.lr_generator": "Adam learning rate of the generator.",
    "train.lr_decoder": "Adam learning rate of the decoder.",
    "train.lr_discriminator": "Adam learning rate of the discriminator.",
    "train.beta1": "Adam's beta1 (every optimiser).",
    "train.beta2": "Adam's beta2 (every optimiser).",
    "train.lr_schedule": "`constant`, or `cosine` decay over `steps`.",
    "train.grad_clip": "Clip each gradient to this global norm (null: no clipping).",
    "train.eval_every": "Evaluate the metrics every this many steps (and after the last); "
    "null: `steps // 6`, at least 1 (resolved on loading, so `--steps` changes it).",
    "train.eval_samples": "Generated points per evaluation (a multiple of `discriminator.pack`).",
    "train.checkpoint_every": "Write a checkpoint every this many steps (and after the last); "
    "null: `steps // 6`, at least 1 (resolved on loading, so `--steps` changes it).",
    "train.leakage_threshold": "Warn once when the mean norm leakage exceeds this.",
    "train.outcome_gradient": "How the generator loss sees a sampled photon-number outcome: "
    "`marginal` averages the loss over all outcomes with their exact Born probabilities "
    "(needs a `mode_assignment` decoder and pack 1); `straight_through` back-propagates "
    "through the relaxed sample; `auto` (the default): `marginal` where it applies (a "
    "`mode_assignment` decoder, sampled outcomes, `discriminator.pack` 1), else "
    "`straight_through`; the resolved config names the one in use.",
    "train.leakage_penalty": "Weight of the mean norm leakage added to the generator loss "
    "(Killoran et al. 2019's trace penalty): keeps the state inside the truncated space.",
    "train.early_stopping.metric": "The evaluation metric that selects the best checkpoint "
    "and stops early.",
    "train.early_stopping.patience": "Evaluations without improvement before stopping (null: "
    "never stop early).",
    "train.early_stopping.min_delta": "Smallest change of `metric` that counts as an improvement.",
    "train.early_stopping.keep_best": "Restore the best evaluated weights at the end.",
    "output.dir": "Folder the run directory is created in.",
    "output.tensorboard": "Write TensorBoard logs (`tensorboard --logdir runs/`).",
    "output.plots": "Write the sample and metric plots.",
}

_CLASSIFY = {
    "name": "Run name: the run directory is `<output.dir>/<name>-<timestamp>/`.",
    "seed": "Seeds the split, the subset, the shuffling, the initial weights and the shots.",
    "data.kind": "`fashion_mnist` (28x28 clothing images) or scikit-learn's 8x8 `digits`.",
    "data.path": "`fashion_mnist` only: an `.npz` with `images` [N, 28, 28] (0-255) and "
    "`labels` [N] (null: the 800-image subset shipped with qgan); a relative path resolves "
    "against the config file's folder.",
    "data.full": "`fashion_mnist` only: load the full dataset through "
    "`tf.keras.datasets.fashion_mnist` (downloads it once).",
    "data.n_samples": "At most this many images, a seeded random subset (null: all).",
    "data.validation_fraction": "Fraction of the images held out for validation.",
    "data.stratify": "Keep the class proportions in both splits.",
    "model.kind": "`qubit`: PCA features -> `QubitLayer` -> Dense(10); `classical`: the "
    "Keras tutorial's MLP on the pixels; `hybrid`: Conv2D -> circuit stack -> Dense(10).",
    "model.n_qubits": "`qubit`: number of qubits (and of PCA features).",
    "model.depth": "`qubit`: number of ansatz layers.",
    "model.encoding": "`qubit`: `angle` (features encoded once) or `reupload` (before every "
    "layer).",
    "model.entangler": "`qubit`: two-qubit gate of the ansatz: `cnot`, `ms`, `zz` or `none` "
    "(the no-entanglement ablation).",
    "model.topology": "`qubit`: which qubit pairs the entanglers couple.",
    "model.measurement": "`qubit`: the measured observables (`z`, `parity`, `z_parity` or "
    "`z_zz`: <Z_q> and <Z_a Z_b> of every pair, from the same bitstrings).",
    "model.measurement_bases": "`qubit`: the basis each qubit is measured in, one of X, Y, Z "
    "per qubit (a basis change, H or S^dagger H, before the measurement; null: Z on every "
    "qubit). One circuit per sample.",
    "model.readout_bases": "`qubit`: multi-basis readout: several basis settings, each a "
    "letter for every qubit (`[Z, X]`) or one letter per qubit (`ZXYZ...`), the readouts "
    "concatenated; hardware runs one circuit per setting and the run's account counts them "
    "(null: one setting, see `measurement_bases`).",
    "model.feature_groups": "`qubit`: layer l re-uploads PCA feature group l mod g "
    "(n_qubits x g features; 1: the same features in every layer).",
    "model.input_scaling": "`qubit`/`hybrid`: trainable input weights: `none`, `feature` or "
    "`feature_layer` (per feature and layer).",
    "model.conv_filters": "`hybrid`: Conv2D(f, 3x3, relu) -> MaxPool(2) per entry.",
    "model.widths": "`hybrid`: widths (qubits) of the circuit stack, in order.",
    "model.stack": "`hybrid`: `qubit` (QubitLayer blocks) or `dense` (the classical twin).",
    "model.feature_scale": "`qubit`: radians per standard deviation of a PCA feature.",
    "model.hidden": "`classical`: hidden-layer widths of the MLP.",
    "train.epochs": "Number of passes over the training split.",
    "train.batch_size": "Images per batch.",
    "train.learning_rate": "Adam's learning rate.",
    "train.gradient": "How the circuit is differentiated: `autodiff` (simulator only, exact), "
    "`parameter_shift`, `spsa` or `adaptive` (SPSA, then parameter shift by the rule of "
    "`train.adaptive`) (what hardware can run).",
    "train.optimizer": "How the circuit angles are stepped: `adam` (Adam at `learning_rate`; "
    "with `spsa` Spall's plain steps), `gd` (plain gradient descent) or `qng` (quantum "
    "natural gradient, `train.qng`); the head always takes Adam's steps.",
    "train.angle_learning_rate": "`gd` / `qng`: the angles' step size eta (theta -= eta grad, "
    "resp. eta (g + lambda I)^-1 grad; null: `learning_rate`).",
    "train.qng.regularisation": "`qng`: lambda added to the metric's diagonal before the "
    "solve (Stokes et al.'s regulariser of a singular metric).",
    "train.qng.metric_every": "`qng`: measure the block-diagonal metric every this many steps "
    "(2 x depth circuits per row, on the training backend; reused in between).",
    "train.qng.metric_rows": "`qng`: the metric averages the first this many rows of the "
    "batch (null: all of them).",
    "train.spsa.a": "`spsa`: learning-rate gain a of a_k = a / (k + 1 + A)**alpha.",
    "train.spsa.A": "`spsa`: stability constant A of the learning-rate gain.",
    "train.spsa.alpha": "`spsa`: decay exponent alpha of the learning-rate gain.",
    "train.spsa.c": "`spsa`: perturbation c of c_k = c / (k + 1)**gamma.",
    "train.spsa.gamma": "`spsa`: decay exponent gamma of the perturbation.",
    "train.shots.start": "`train.shots` is the shots per circuit: null (exact expectations), "
    "an integer, or a schedule `{start, end, growth, steps}`; `start`: shots in the first "
    "epoch.",
    "train.shots.end": "Shot schedule: shots per circuit in the last epoch.",
    "train.shots.growth": "Shot schedule: `linear` (every epoch) or `step` (`steps` equal phases).",
    "train.shots.steps": "Shot schedule, `step` growth: number of phases (at least 2).",
    "train.adaptive.window": "`adaptive`: epochs the training-loss improvement is measured over.",
    "train.adaptive.min_improvement": "`adaptive`: switch to parameter shift when the relative "
    "loss improvement per epoch falls below this.",
    "train.adaptive.max_spsa_fraction": "`adaptive`: switch at the latest after this share of "
    "the epochs.",
    "backend.kind": "`simulator` (the in-graph TF simulator; `noise: aria-1 | forte-1 | "
    "{p1, p2, readout}` makes it the exact noisy rehearsal of `qgan.qubit.noise`) or `ionq`; "
    "with `ionq`, the "
    "other keys of `backend` are options of `qgan.qubit.ionq.IonQOptions` (`target`, "
    "`noise_model`, `remote_host`, ...) except `run_dir` and `seed`; the API key is read "
    "only from `IONQ_API_KEY`. IonQ API v0.4 options: `max_cost_usd` (budget guard: a run "
    "whose estimated cost, from `GET /jobs/estimate` or the local price lists, exceeds it is "
    "refused before any job), `session: true | {max_cost_usd, max_jobs, max_minutes}` (every "
    "job in one IonQ session with those limits, re-attached when the run resumes), "
    "`error_mitigation: {debias: true}` (IonQ debiasing on a QPU target, needs `train.shots` "
    ">= 500 in every epoch; the averaged aggregation is read).",
    "output.dir": "Folder the run directory is created in.",
    "output.plots": "Write the plots.",
}

MEANINGS = {"gan": _GAN, "classify": _CLASSIFY}
"""Workload -> dotted key -> its meaning (Markdown)."""


@dataclass(frozen=True)
class Row:
    """One key of a config model: dotted ``key``, ``type`` and ``default`` as text."""

    key: str
    type: str
    default: str


def _section(annotation) -> type[BaseModel] | None:
    """The config section (a pydantic model) ``annotation`` holds, if any."""
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


_BOUNDS = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
)


def _bounds(metadata) -> str:
    parts = []
    for item in metadata:
        for cls, attr, sign in _BOUNDS:
            if isinstance(item, cls):
                parts.append(f"{sign} {getattr(item, attr)}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            parts.append("non-empty" if item.min_length == 1 else f"length >= {item.min_length}")
    return (" " + ", ".join(parts)) if parts else ""


def type_text(annotation, metadata=()) -> str:
    """A readable type: ``int >= 1``, ``one of: 'a', 'b'``, ``list of float``, ``... or null``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        extra = [m for a in args[1:] for m in (a.metadata if isinstance(a, FieldInfo) else [a])]
        return type_text(args[0], [*extra, *metadata])
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        text = " or ".join(type_text(a) for a in rest)
        return f"{text}{_bounds(metadata)} or null" if len(rest) < len(args) else text
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_text(args[0])}{_bounds(metadata)}"
    name = getattr(annotation, "__name__", str(annotation))
    return f"{name}{_bounds(metadata)}"


def _default_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, list):
        return "[" + ", ".join(_default_text(v).strip("`") for v in value) + "]"
    return str(value)


def rows(model: type[BaseModel], prefix: str = "") -> list[Row]:
    """Every leaf key of the config model ``model`` (sections recursed), in model order."""
    out = []
    for name, field in model.model_fields.items():
        section = _section(field.annotation)
        if section is not None:
            out += rows(section, f"{prefix}{name}.")
            continue
        default = field.get_default(call_default_factory=True)
        out.append(Row(prefix + name, type_text(field.annotation, field.metadata),
                       _default_text(default)))  # fmt: skip
    return out


def missing_meanings(workload: str, model: type[BaseModel]) -> tuple[list[str], list[str]]:
    """``(keys of model without a meaning, meanings of keys model does not have)``."""
    keys = [r.key for r in rows(model)]
    meanings = MEANINGS.get(workload, {})
    return [k for k in keys if k not in meanings], [k for k in meanings if k not in keys]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference_markdown(models: dict[str, tuple[str, type[BaseModel]]]) -> str:
    """The config reference as Markdown: for each workload (name -> (title, model)), a
    table of every key with its type, default and meaning. Raises ``ValueError`` naming
    the first key without a meaning."""
    lines = []
    for workload, (title, model) in models.items():
        missing, _ = missing_meanings(workload, model)
        if missing:
            raise ValueError(f"config key {missing[0]}: no meaning in qgan/_config_reference.py")
        meanings = MEANINGS[workload]
        lines += [f"## {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for row in rows(model):
            cells = (f"`{row.key}`", row.type, row.default, meanings[row.key])
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)
