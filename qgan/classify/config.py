"""Validated configuration of a classifier run (YAML -> pydantic models).

Every section forbids unknown keys; :func:`load_config` turns any problem into one
``ValueError`` line naming the key, e.g. ``config key train.gradient: 'autodiff' needs
exact expectations (train.shots null), got shots=100``. The committed configs in
``configs/*_qubit.yaml`` and ``configs/fashion_mnist_classical.yaml`` document every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qgan import _config, _resources
from qgan._config import validate
from qgan.classify.datasets import FASHION_MNIST_800, packaged
from qgan.qubit import defaults
from qgan.qubit.model import ENTANGLERS, MAX_QUBITS, MEASUREMENTS, TOPOLOGIES, normalize_bases
from qgan.qubit.spsa_gains import SPSA_DEFAULTS

PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
PosFloat = Annotated[float, Field(gt=0)]
DATA_KINDS = ("fashion_mnist", "digits")
PATHS = ("data.path",)  # config keys holding file paths (resolved on loading)
GRADIENTS = ("autodiff", "parameter_shift", "spsa", "adaptive")
OPTIMIZERS = ("adam", "gd", "qng")
SHOT_GROWTHS = ("linear", "step")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class DataConfig(_Section):
    """``data``: which images, how many, and the seeded train/validation split.

    Fashion-MNIST comes, by default, from the 800-image subset shipped with qgan
    (``qgan/classify/datasets/fashion_mnist_800.npz``: offline, no download); ``full: true``
    loads the full dataset through ``tf.keras.datasets.fashion_mnist`` instead (downloads
    it once; its 60,000 training images are the pool). ``path``: any ``.npz`` with arrays
    ``images`` [N, 28, 28] (0-255) and ``labels`` [N] (fashion_mnist only; a relative path
    resolves against the config file's folder). ``n_samples``: at most this many images, a
    seeded random subset (None: all). ``stratify``: keep the class proportions in both
    splits.
    """

    kind: Literal[DATA_KINDS] = "fashion_mnist"
    path: str | None = None
    full: bool = False
    n_samples: PosInt | None = 1000
    validation_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    stratify: bool = True

    @model_validator(mode="after")
    def _kind_options(self):
        for key, default in (("path", None), ("full", False)):
            if getattr(self, key) != default and self.kind != "fashion_mnist":
                raise ValueError(f"{key}: not an option of data.kind {self.kind!r}")
        if self.full and self.path is not None:
            raise ValueError(
                "full: the full dataset comes from tf.keras.datasets.fashion_mnist, not from "
                f"data.path ({self.path!r}); give one of them"
            )
        return self

    @property
    def npz(self) -> Path | None:
        """The ``.npz`` the images are read from: ``path``, or for Fashion-MNIST without
        ``full`` the 800-image file shipped with qgan; None when a loader provides them
        (scikit-learn's digits, Keras' full Fashion-MNIST)."""
        if self.path is not None:
            return Path(self.path)
        if self.kind == "fashion_mnist" and not self.full:
            return packaged(FASHION_MNIST_800)
        return None


class ModelConfig(_Section):
    """``model``: a qubit circuit with a linear head, or the classical baseline MLP.

    qubit: PCA to ``n_qubits * feature_groups`` features, standardised on the training
    split, times ``feature_scale`` (radians per standard deviation) -> ``QubitLayer`` ->
    Dense(10). ``feature_groups`` g (``reupload`` only for g > 1): layer l re-uploads PCA
    components ``(l mod g) * n_qubits .. (l mod g + 1) * n_qubits - 1`` (g = depth: every
    layer its own components); ``input_scaling``: ``none``, ``feature``
    (a trainable weight per feature) or ``feature_layer`` (``reupload``: per feature and
    layer); ``entangler: none`` is the no-entanglement ablation.
    ``measurement_bases``: X, Y or Z per qubit (one circuit per sample); ``readout_bases``:
    several basis settings, each a letter for every qubit or one letter per qubit, the
    readouts concatenated (one circuit per setting and sample: the run's account counts
    them). At most one of the two; :attr:`bases` is the circuit's ``QubitModel.bases``.
    hybrid: the images through ``Conv2D(f, 3x3, relu) -> MaxPool(2)`` for f in
    ``conv_filters``, then for each w in ``widths`` ``Dense(w, tanh) * pi`` and a block of
    width w (``stack: qubit``: a w-qubit ``QubitLayer`` of ``depth`` re-uploading layers with
    the model's entangler, topology and input scaling, <Z_q> readouts; ``stack: dense``, the
    classical twin: ``Dense(w, tanh)``), then Dense(10).
    classical: the Keras tutorial's Flatten -> Dense(h, relu) for h in ``hidden`` ->
    Dense(10) on the pixels (scaled to [0, 1]). The circuit's structure defaults are
    :mod:`qgan.qubit.defaults` (those of ``QubitModel`` and ``QubitLayer``).
    """

    kind: Literal["qubit", "classical", "hybrid"] = "qubit"
    n_qubits: Annotated[int, Field(ge=1, le=MAX_QUBITS, strict=True)] = defaults.N_QUBITS
    depth: PosInt = defaults.DEPTH
    # amplitude encoding is not offered: the classifier feeds n_qubits PCA features
    encoding: Literal["angle", "reupload"] = defaults.ENCODING
    entangler: Literal[ENTANGLERS] = defaults.ENTANGLER
    topology: Literal[TOPOLOGIES] = defaults.TOPOLOGY
    measurement: Literal[MEASUREMENTS] = defaults.MEASUREMENT
    measurement_bases: list[Literal["X", "Y", "Z"]] | None = None
    readout_bases: list[Annotated[str, Field(pattern=r"^[XYZ]+$")]] | None = None
    feature_scale: PosFloat = 0.35
    feature_groups: PosInt = 1
    input_scaling: Literal["none", "feature", "feature_layer"] = "none"
    hidden: list[PosInt] = Field(default_factory=lambda: [128])
    conv_filters: list[PosInt] = Field(default_factory=lambda: [8, 16])
    widths: list[Annotated[int, Field(ge=1, le=MAX_QUBITS, strict=True)]] = Field(
        default_factory=lambda: [8, 6, 4]
    )
    stack: Literal["qubit", "dense"] = "qubit"

    @property
    def bases(self) -> tuple[str, ...]:
        """The basis settings of the circuit (``QubitModel.bases``, normalised)."""
        if self.readout_bases is not None:
            return normalize_bases(tuple(self.readout_bases), self.n_qubits)
        if self.measurement_bases is not None:
            return normalize_bases(("".join(self.measurement_bases),), self.n_qubits)
        return normalize_bases(defaults.BASES, self.n_qubits)

    @model_validator(mode="after")
    def _bases(self):
        if self.measurement_bases is not None and self.readout_bases is not None:
            raise ValueError(
                "measurement_bases: give measurement_bases (one setting) or readout_bases "
                "(several), not both"
            )
        if self.measurement_bases is not None and len(self.measurement_bases) != self.n_qubits:
            raise ValueError(
                f"measurement_bases: one basis per qubit ({self.n_qubits}), got "
                f"{len(self.measurement_bases)}"
            )
        if self.readout_bases is not None:
            normalize_bases(tuple(self.readout_bases), self.n_qubits, "readout_bases")
        if self.kind == "hybrid" and (self.measurement_bases or self.readout_bases):
            raise ValueError("measurement_bases: the hybrid model's circuits read <Z_q> (Z)")
        return self

    @model_validator(mode="after")
    def _reupload_options(self):
        if self.kind == "hybrid" and self.feature_groups != 1:
            raise ValueError("feature_groups: the hybrid model's circuits read one group (1)")
        if self.feature_groups > self.depth:
            raise ValueError(
                f"feature_groups: at most depth ({self.depth}) groups of features, one per "
                f"layer, got {self.feature_groups}"
            )
        for key, plain in (("feature_groups", 1), ("input_scaling", "none")):
            value = getattr(self, key)
            if value not in (plain, "feature") and self.encoding != "reupload":
                raise ValueError(
                    f"{key}: {value!r} needs encoding 'reupload' (the features enter every "
                    f"layer), got encoding {self.encoding!r}"
                )
        return self

    @property
    def n_features(self) -> int:
        """PCA features the circuit reads: n_qubits times feature_groups."""
        return self.n_qubits * self.feature_groups


class SpsaConfig(_Section):
    """``train.spsa``: Spall's gains; c, gamma the perturbation c_k = c / (k + 1)**gamma,
    a, A, alpha the circuit angles' learning rate a_k = a / (k + 1 + A)**alpha."""

    a: PosFloat = SPSA_DEFAULTS["a"]
    A: Annotated[float, Field(ge=0)] = SPSA_DEFAULTS["A"]  # noqa: N815 - Spall's name
    alpha: PosFloat = SPSA_DEFAULTS["alpha"]
    c: PosFloat = SPSA_DEFAULTS["c"]
    gamma: PosFloat = SPSA_DEFAULTS["gamma"]


class ShotSchedule(_Section):
    """``train.shots`` as a schedule: shots per circuit grow from ``start`` (first epoch) to
    ``end`` (last epoch). ``growth: linear``: epoch e of E runs
    ``round(start + (end - start) * (e - 1) / (E - 1))`` shots; ``growth: step``: the epochs
    are cut into ``steps`` equal phases whose shots are ``start .. end`` linearly spaced
    (rounded), constant inside a phase. Every epoch's shots and the circuits and shots of
    each phase (a run of epochs at equal shots) are in the run's metrics."""

    start: PosInt
    end: PosInt
    growth: Literal[SHOT_GROWTHS] = "linear"
    steps: Annotated[int, Field(ge=2, strict=True)] = 2

    def at(self, epoch: int, epochs: int) -> int:
        """Shots per circuit in ``epoch`` (1-based) of ``epochs``."""
        if epochs <= 1:
            return int(self.start)
        if self.growth == "linear":
            return int(round(self.start + (self.end - self.start) * (epoch - 1) / (epochs - 1)))
        phase = min(self.steps - 1, (epoch - 1) * self.steps // epochs)
        return int(round(self.start + (self.end - self.start) * phase / (self.steps - 1)))


class AdaptiveConfig(_Section):
    """``train.adaptive``: when ``gradient: adaptive`` leaves SPSA for parameter shift.

    After every SPSA epoch e >= ``window`` the relative improvement of the mean training loss
    over the last ``window`` epochs, per epoch, ``(L[e - window] - L[e]) / (window *
    L[e - window])``, is compared with ``min_improvement``: below it, SPSA has stopped paying
    for its circuits (an SPSA epoch costs the same circuits whatever it gains) and the
    remaining epochs run parameter shift. At the latest the switch happens after
    ``max_spsa_fraction`` of the epochs (rounded down, at least one SPSA epoch)."""

    window: PosInt = 2
    min_improvement: Annotated[float, Field(ge=0)] = 0.01
    max_spsa_fraction: Annotated[float, Field(gt=0, le=1)] = 0.9


class QngConfig(_Section):
    """``train.qng``: the quantum natural gradient step of the circuit angles
    (``train.optimizer: qng``; Stokes et al., Quantum 4, 269 (2020)):
    ``theta <- theta - eta (g + regularisation I)^-1 grad`` (eta: ``train.angle_learning_rate``),
    g the block-diagonal
    Fubini-Study metric measured by ``2 depth`` prefix circuits per row on the training
    backend (:mod:`qgan.qubit.qng`), averaged over the first ``metric_rows`` rows of the
    batch (None: all), re-measured every ``metric_every`` steps; grad from
    ``train.gradient``."""

    regularisation: Annotated[float, Field(ge=0)] = 0.01
    metric_every: PosInt = 1
    metric_rows: PosInt | None = None


class TrainConfig(_Section):
    """``train``: epochs, batches, Adam's learning rate, and how the circuit is
    differentiated (``gradient``) from how many ``shots`` per circuit (None: exact; an
    integer; or a :class:`ShotSchedule`). ``adaptive`` starts with SPSA and switches to
    parameter shift by the rule of :class:`AdaptiveConfig`. ``optimizer`` steps the circuit
    angles: ``adam`` (Adam at ``learning_rate``, or with SPSA Spall's plain steps), ``gd``
    (plain gradient descent at ``angle_learning_rate``) or ``qng`` (the quantum natural
    gradient of :class:`QngConfig` at ``angle_learning_rate``); every other weight (head,
    input scales) takes Adam's steps at ``learning_rate``."""

    epochs: PosInt = 60
    batch_size: PosInt = 32
    learning_rate: PosFloat = 0.02
    gradient: Literal[GRADIENTS] = "autodiff"
    shots: PosInt | ShotSchedule | None = None
    spsa: SpsaConfig | None = None
    adaptive: AdaptiveConfig | None = None
    optimizer: Literal[OPTIMIZERS] = "adam"
    angle_learning_rate: PosFloat | None = None
    qng: QngConfig | None = None

    @field_validator("shots", mode="before")
    @classmethod
    def _shots(cls, value):
        # a plain count is checked here: inside the union pydantic's error would name
        # 'train.shots.constrained-int' instead of the key
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"shots per circuit must be >= 1 (or null: exact), got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.gradient == "autodiff" and self.shots is not None:
            raise ValueError(
                f"gradient: 'autodiff' needs exact expectations (train.shots null), got "
                f"shots={self.shots}; use 'parameter_shift' or 'spsa' with shots"
            )
        if self.spsa is not None and self.gradient not in ("spsa", "adaptive"):
            raise ValueError(
                f"spsa: only used with train.gradient 'spsa' or 'adaptive', got {self.gradient!r}"
            )
        if self.adaptive is not None and self.gradient != "adaptive":
            raise ValueError(
                f"adaptive: only used with train.gradient 'adaptive', got {self.gradient!r}"
            )
        if self.angle_learning_rate is not None and self.optimizer == "adam":
            raise ValueError(
                "angle_learning_rate: only used with train.optimizer 'gd' or 'qng' (Adam steps "
                "the angles at train.learning_rate)"
            )
        if self.qng is not None and self.optimizer != "qng":
            raise ValueError(f"qng: only used with train.optimizer 'qng', got {self.optimizer!r}")
        return self

    @property
    def angle_rate(self) -> float:
        """The circuit angles' step size under ``gd`` / ``qng``: ``angle_learning_rate``,
        or ``learning_rate`` when that is None."""
        return self.angle_learning_rate or self.learning_rate

    @property
    def qng_config(self) -> QngConfig:
        """``qng`` with its defaults filled in (meaningful with ``optimizer: qng``)."""
        return self.qng or QngConfig()

    def shots_at(self, epoch: int) -> int | None:
        """Shots per circuit in ``epoch`` (1-based): None (exact), the fixed count, or the
        schedule's."""
        if isinstance(self.shots, ShotSchedule):
            return self.shots.at(epoch, self.epochs)
        return self.shots


class BackendConfig(BaseModel):
    """``backend``: ``kind: simulator`` (the in-graph TF simulator; with ``noise: aria-1 |
    forte-1 | {p1, p2, readout}`` the exact density-matrix rehearsal of
    :mod:`qgan.qubit.noise` instead) or ``kind: ionq`` with
    the options of :class:`qgan.qubit.ionq.IonQOptions` (``target``, ``noise_model``,
    ``remote_host``, ...) except ``run_dir`` and ``seed``, which the run sets (its run
    directory, its ``seed``). The API key is read only from ``IONQ_API_KEY``."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    kind: Literal["simulator", "ionq"] = "simulator"

    @property
    def noise(self):
        """``noise`` of the simulator (an offline rehearsal of a target's errors: a
        :class:`qgan.qubit.noise.NoiseModel`), or None."""
        if self.kind != "simulator" or "noise" not in self.options:
            return None
        from qgan.qubit.noise import NoiseModel

        return NoiseModel.parse(self.options["noise"], "backend.noise")

    @property
    def options(self) -> dict:
        """The keys besides ``kind`` (IonQ options)."""
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _options(self):
        extra = self.options
        if self.kind == "simulator":
            unknown = sorted(set(extra) - {"noise"})
            if unknown:
                raise ValueError(f"{unknown[0]}: not an option of backend.kind 'simulator'")
            if "noise" in extra:
                # imported here: the noisy simulator imports TensorFlow
                from qgan.qubit.noise import NoiseModel

                NoiseModel.parse(extra["noise"], "noise")
        if self.kind == "ionq":
            for key, why in (
                ("run_dir", "qgan classify saves IonQ jobs under <run directory>/ionq/"),
                ("seed", "the run's top-level seed seeds the shots"),
            ):
                if key in extra:
                    raise ValueError(f"{key}: not a classifier backend option ({why})")
            # imported here: the IonQ client stack (cirq, cirq_ionq) is slow to import
            from qgan.qubit.ionq.options import parse_options

            try:
                parse_options(extra, prefix="backend")
            except ValueError as err:
                # parse_options' line is "config key backend.<key>: ..."; raised from this
                # validator as "backend.<key>: ...", qgan._config.validate words it the same
                raise ValueError(str(err).removeprefix("config key ")) from None
        return self


class OutputConfig(_Section):
    dir: str = "runs"
    plots: bool = True


class ClassifyConfig(_Section):
    """A whole classifier run: ``name``, ``seed`` and the sections above."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] = "classify"
    seed: NonNegInt = 0
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @model_validator(mode="after")
    def _cross_section(self):
        t = self.train
        if self.model.kind == "classical":
            if t.gradient != "autodiff" or t.shots is not None:
                raise ValueError(
                    "train.gradient: the classical model trains by autodiff on exact "
                    f"outputs (gradient 'autodiff', shots null), got {t.gradient!r}"
                )
            if self.backend.kind != "simulator":
                raise ValueError("backend.kind: the classical model runs on no quantum backend")
        if self.backend.kind == "simulator" and "noise" in self.backend.options:
            if t.gradient == "autodiff":
                raise ValueError(
                    "train.gradient: backend.noise simulates density matrices, which "
                    "'autodiff' does not differentiate; use 'parameter_shift', 'spsa' or "
                    "'adaptive'"
                )
        if self.model.kind == "hybrid" and (
            t.gradient != "autodiff" or t.shots is not None or self.backend.kind != "simulator"
        ):
            raise ValueError(
                "model.kind: the hybrid model trains its circuit stack on the simulator by "
                "autodiff (train.gradient 'autodiff', train.shots null, backend.kind simulator)"
            )
        if t.optimizer != "adam" and self.model.kind != "qubit":
            raise ValueError(
                f"train.optimizer: {t.optimizer!r} steps the angles of the qubit model's "
                f"circuit, got model.kind {self.model.kind!r}; use 'adam'"
            )
        if self.backend.kind == "ionq":
            if t.gradient == "autodiff":
                raise ValueError(
                    "train.gradient: backend.kind 'ionq' returns measured counts, which "
                    "'autodiff' cannot differentiate; use 'parameter_shift' or 'spsa'"
                )
            if t.shots is None:
                raise ValueError("train.shots: backend.kind 'ionq' measures; give shots >= 1")
            _check_debias_shots(self.backend, t)
        check_resources(self)
        return self


def _check_debias_shots(backend: BackendConfig, t: TrainConfig) -> None:
    """``backend.error_mitigation.debias: true`` needs >= 500 shots per circuit in every
    epoch (IonQ debiases no job of fewer shots; a shot schedule's every phase counts)."""
    from qgan.qubit.ionq.options import DEBIAS_MIN_SHOTS

    mitigation = backend.options.get("error_mitigation") or {}
    if not isinstance(mitigation, dict) or not (
        mitigation.get("debias") or mitigation.get("debiasing")
    ):
        return
    shots = [t.shots_at(e) for e in range(1, t.epochs + 1)]
    low = min(shots)
    if low < DEBIAS_MIN_SHOTS:
        epoch = shots.index(low) + 1
        where = "" if isinstance(t.shots, int) else f" in epoch {epoch} of its schedule"
        raise ValueError(
            f"backend.error_mitigation.debias: IonQ debiasing needs at least "
            f"{DEBIAS_MIN_SHOTS} shots per circuit, train.shots gives {low}{where}"
        )


#: pixels per image of each data kind (the classical model's input width)
PIXELS = {"fashion_mnist": 28 * 28, "digits": 8 * 8}


def _pairs(n_qubits: int, topology: str) -> int:
    """Entangled pairs per layer (:attr:`qgan.qubit.model.QubitModel.pairs`)."""
    if topology == "none":
        return 0
    if topology == "all_to_all":
        return n_qubits * (n_qubits - 1) // 2
    return n_qubits if topology == "ring" and n_qubits >= 3 else n_qubits - 1


def _topology(m) -> str:
    """The topology whose pairs get gates: ``none`` for ``entangler: none``."""
    return "none" if m.entangler == "none" else m.topology


def qubit_gates(n_qubits: int, depth: int, topology: str) -> int:
    """Gates of the classifier's circuit: per layer an encoding gate and RY, RZ rotations
    on each qubit, and one entangler per pair (an upper bound for ``angle`` encoding,
    which encodes once)."""
    return depth * (3 * n_qubits + _pairs(n_qubits, topology))


def check_resources(cfg: ClassifyConfig) -> None:
    """Refuse a config whose traced circuit, simulated state (the simulator backend; IonQ
    runs the circuits remotely) or MLP cannot fit (:mod:`qgan._resources`): one
    ``ValueError`` line naming the key, the size needed, the memory available and the
    largest setting that fits."""
    m, t = cfg.model, cfg.train
    defaults = {
        "model.n_qubits": ModelConfig.model_fields["n_qubits"].default,
        "model.depth": ModelConfig.model_fields["depth"].default,
        "model.hidden": max(
            ModelConfig.model_fields["hidden"].get_default(call_default_factory=True)
        ),
        "train.batch_size": TrainConfig.model_fields["batch_size"].default,
    }
    if m.kind == "hybrid":  # circuits of <= MAX_QUBITS qubits on small batches of images
        return
    if m.kind == "qubit":
        settings = {"model.n_qubits": m.n_qubits, "model.depth": m.depth}
        _resources.check_graph(
            lambda s: qubit_gates(s["model.n_qubits"], s["model.depth"], _topology(m)),
            settings,
            defaults,
            {"model.depth": (1, m.depth), "model.n_qubits": (1, m.n_qubits)},
        )
        gates = qubit_gates(m.n_qubits, m.depth, _topology(m))

        def state(s):
            n, depth, batch = s["model.n_qubits"], s["model.depth"], s["train.batch_size"]
            n_gates = qubit_gates(n, depth, _topology(m))
            if t.gradient in ("parameter_shift", "adaptive"):  # 2 shifted circuits per angle
                return _resources.state_bytes(2**n, batch * 2 * 2 * n * depth, 8, 0)
            kept = n_gates if t.gradient == "autodiff" else 0
            return _resources.state_bytes(2**n, batch, 8, kept)

        if cfg.backend.kind == "ionq":  # the circuits run at IonQ, not in local memory
            return
        settings |= {"train.batch_size": t.batch_size}
        _resources.check_fits(
            f"a state of 2^{m.n_qubits} x {t.batch_size:,} complex64 amplitudes "
            f"({t.gradient} gradient, {gates} gates)",
            state,
            settings,
            defaults,
            {
                "model.n_qubits": (1, m.n_qubits),
                "model.depth": (1, m.depth),
                "train.batch_size": (1, t.batch_size),
            },
        )
    else:
        pixels = PIXELS[cfg.data.kind]

        def mlp(s):
            hidden = [min(w, s["model.hidden"]) for w in m.hidden]
            return _resources.dense_bytes([pixels, *hidden, 10], s["train.batch_size"])

        _resources.check_fits(
            f"an MLP of widths {[pixels, *m.hidden, 10]} trained by Adam on batches of "
            f"{t.batch_size:,}",
            mlp,
            {"model.hidden": max(m.hidden), "train.batch_size": t.batch_size},
            defaults,
            {"model.hidden": (1, max(m.hidden)), "train.batch_size": (1, t.batch_size)},
        )


def parse_config(data: dict) -> ClassifyConfig:
    """Validate a config mapping; a ``ValueError`` naming the key on any problem."""
    return validate(ClassifyConfig, data)


def load_config(path, overrides: dict | None = None) -> ClassifyConfig:
    """Read and validate a YAML config file (``overrides``: dotted key -> value); a relative
    ``data.path`` resolves against the config file's folder (see :mod:`qgan._config`)."""
    return _config.load_config(ClassifyConfig, path, overrides, paths=PATHS)


def dump_config(cfg: ClassifyConfig) -> str:
    """The resolved config (every default filled in) as YAML."""
    return _config.dump_config(cfg, paths=PATHS)
