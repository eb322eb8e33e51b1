"""Validated run configuration for GAN training (YAML -> pydantic models).

Every section forbids unknown keys. :func:`load_config` turns any problem into one
``ValueError`` line naming the key, e.g. ``config key train.batch_size: must be a multiple
of discriminator.pack (3), got 256``.

Validation resolves the defaults that depend on other keys, so a validated config holds
concrete values only: ``train.outcome_gradient: auto`` becomes ``marginal`` where the config
allows it, else ``straight_through``; ``train.eval_every`` and ``train.checkpoint_every``
left unset become ``train.steps // 6`` (at least 1). Keys that do not apply to the chosen
kind (``generator.hidden`` of a CV generator, ``generator.cutoff`` of a classical one,
``decoder.hidden`` of a decoder other than ``mlp``, ...) are ignored: validation resets
them to their defaults and :func:`dump_config` leaves them out.
"""

from __future__ import annotations

from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from qgan import _config, _resources
from qgan._config import validate
from qgan.decoder.names import KINDS as DECODER_KINDS
from qgan.gan.names import DATA_KINDS, LOSSES
from qgan.generator.names import LOSS_AT, READOUTS

PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
PATHS = ("data.path",)  # config keys holding file paths (resolved on loading)
EVALUATIONS_PER_RUN = 6  # train.eval_every / checkpoint_every default: steps // this
METRIC_DIRECTION = {  # early-stopping metrics and whether larger is better
    "energy_distance": False,
    "mmd": False,
    "mode_kl": False,
    "high_quality_fraction": True,
    "modes_captured": True,
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    def not_applicable(self) -> tuple[str, ...]:
        """The keys of this section that its chosen kind does not use (none by default)."""
        return ()

    def _reset_not_applicable(self) -> None:
        """Set the keys of :meth:`not_applicable` to their defaults: they are ignored, and a
        config that leaves them out (:func:`dump_config`) reads back equal."""
        for key in self.not_applicable():
            setattr(self, key, type(self).model_fields[key].get_default(call_default_factory=True))


class DataConfig(_Section):
    """``data``: which real distribution to learn (the presets of :mod:`qgan.gan.data`)."""

    kind: Literal[DATA_KINDS] = "bimodal"
    n_samples: PosInt = 10_000
    centers: list[list[float]] | None = None
    std: PosFloat | None = None
    weights: list[NonNegFloat] | None = None
    noise: NonNegFloat | None = None
    path: str | None = None

    def not_applicable(self) -> tuple[str, ...]:
        """The kind-specific options (``centers``, ``std``, ...) that ``kind`` does not take."""
        allowed = {
            "gaussian_mixture": {"centers", "std", "weights"},
            "moons": {"noise"},
            "file": {"path"},
        }.get(self.kind, set())
        return tuple(k for k in ("centers", "std", "weights", "noise", "path") if k not in allowed)

    @model_validator(mode="after")
    def _kind_options(self):
        needs = {"gaussian_mixture": ("centers", "std"), "file": ("path",)}
        for key in needs.get(self.kind, ()):
            if getattr(self, key) is None:
                raise ValueError(f"{key}: required when data.kind is {self.kind!r}")
        for key in self.not_applicable():  # an option of another kind is a mistake here
            if getattr(self, key) is not None:
                raise ValueError(f"{key}: not an option of data.kind {self.kind!r}")
        return self


GENERATOR_KIND_KEYS = {  # the generator keys only one kind uses
    "cv": (
        "n_modes",
        "n_layers",
        "cutoff",
        "encoding",
        "encoding_scale",
        "readout",
        "sample_modes",
        "backend",
        "dtype",
        "init_std",
        "loss",
        "loss_at",
        "quadrature_angles",
    ),
    "classical": ("hidden", "n_outcomes", "n_continuous"),
}


class GeneratorConfig(_Section):
    """``generator``: the CV circuit (``kind: cv``) or its classical ablation."""

    kind: Literal["cv", "classical"] = "cv"
    latent_dim: PosInt = 4
    latent: Literal["normal", "uniform"] = "normal"
    # cv
    n_modes: PosInt = 4
    n_layers: NonNegInt = 2
    cutoff: Annotated[int, Field(ge=2, strict=True)] = 4
    encoding: Literal["displacement", "squeezing", "phase"] = "displacement"
    encoding_scale: PosFloat = 0.5
    readout: list[Literal[READOUTS]] = Field(
        default_factory=lambda: ["photon_samples", "quadratures"], min_length=1
    )
    sample_modes: list[NonNegInt] | None = None
    temperature: PosFloat = 0.5
    straight_through: bool = True
    backend: Literal["compiled", "sf"] = "compiled"
    dtype: Literal["complex64", "complex128"] = "complex64"
    init_std: NonNegFloat = 0.1
    loss: float | list[float] = 0.0
    loss_at: Literal[LOSS_AT] = "measurement"
    quadrature_angles: list[float] | None = None
    # classical
    hidden: list[PosInt] = Field(default_factory=lambda: [16])
    n_outcomes: NonNegInt = 0
    n_continuous: NonNegInt = 2

    @property
    def samples_outcomes(self) -> bool:
        """Whether the features start with a sampled outcome block: a CV readout that starts
        with ``photon_samples``, or a classical generator with ``n_outcomes >= 1``."""
        if self.kind == "cv":
            return self.readout[0] == "photon_samples"
        return self.n_outcomes > 0

    def not_applicable(self) -> tuple[str, ...]:
        """The keys of the other kind: the circuit's for a classical generator, the MLP's
        for a CV one."""
        return GENERATOR_KIND_KEYS["classical" if self.kind == "cv" else "cv"]

    @field_validator("loss", mode="before")
    @classmethod
    def _loss_fractions(cls, value):
        """One number in [0, 1) or a list of them (the length is checked against n_modes)."""
        values = value if isinstance(value, list) else [value]
        if not values or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1 for v in values
        ):
            raise ValueError(
                f"expected a photon-loss fraction in [0, 1) or a list of them (one per mode), "
                f"got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self):
        self._reset_not_applicable()
        if len(set(self.readout)) < len(self.readout):
            raise ValueError(f"readout: names must be distinct, got {self.readout}")
        if self.sample_modes is not None:
            bad = [m for m in self.sample_modes if m >= self.n_modes]
            if bad or not self.sample_modes or len(set(self.sample_modes)) < len(self.sample_modes):
                raise ValueError(
                    f"sample_modes: expected distinct modes in [0, {self.n_modes}), "
                    f"got {self.sample_modes}"
                )
        for key in ("loss", "quadrature_angles"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != self.n_modes:
                raise ValueError(
                    f"{key}: expected one value per mode ({self.n_modes}), got {value}"
                )
        if self.kind == "classical" and self.n_outcomes + self.n_continuous == 0:
            raise ValueError("n_outcomes: n_outcomes + n_continuous must be >= 1")
        return self


class DecoderConfig(_Section):
    """``decoder``: SpatialDecoder kind and its options (``n_clusters``: mode_assignment's
    k-means centres; ``hidden``: the mlp's widths; ``calibrate``: start from the real data
    (anchored track) or from a seeded draw that knows nothing of it (anchor-free track))."""

    kind: Literal[DECODER_KINDS] = "mode_assignment"
    n_clusters: PosInt | None = None
    hidden: list[PosInt] = Field(default_factory=lambda: [32, 32])
    calibrate: bool = True

    def not_applicable(self) -> tuple[str, ...]:
        """``n_clusters`` unless ``mode_assignment`` calibrated from the data, ``hidden``
        unless ``mlp``."""
        uses = {"mode_assignment": ("n_clusters",), "mlp": ("hidden",)}.get(self.kind, ())
        if not self.calibrate:
            uses = tuple(k for k in uses if k != "n_clusters")
        return tuple(k for k in ("n_clusters", "hidden") if k not in uses)

    @model_validator(mode="after")
    def _kind_options(self):
        self._reset_not_applicable()
        return self


class DiscriminatorConfig(_Section):
    """``discriminator``: ``kind`` (``mlp``: a classical MLP of widths ``hidden``;
    ``qubit``: a ``QubitLayer`` circuit -> Dense(1), keys ``n_qubits`` .. ``shots``),
    PacGAN packing, gradient-penalty weight."""

    kind: Literal["mlp", "qubit"] = "mlp"
    hidden: list[PosInt] = Field(default_factory=lambda: [64, 64])
    pack: PosInt = 1
    gradient_penalty: NonNegFloat = 0.0
    n_qubits: Annotated[int, Field(ge=1, le=20, strict=True)] = 4
    depth: PosInt = 3
    entangler: Literal["cnot", "ms", "zz", "none"] = "cnot"
    topology: Literal["linear", "ring", "all_to_all"] = "ring"
    measurement: Literal["z", "parity", "z_parity", "z_zz"] = "z"
    input_scaling: Literal["none", "feature", "feature_layer"] = "feature_layer"
    backend: Literal["simulator", "ionq"] = "simulator"
    target: str | None = None
    gradient: Literal["autodiff", "parameter_shift", "spsa"] = "autodiff"
    shots: PosInt | None = None

    def not_applicable(self) -> tuple[str, ...]:
        if self.kind == "qubit":
            return ("hidden",)
        return QUBIT_KEYS

    @model_validator(mode="after")
    def _kind_options(self):
        self._reset_not_applicable()
        if self.kind != "qubit":
            return self
        if self.backend == "ionq" and self.gradient == "autodiff":
            raise ValueError(
                "discriminator.gradient: backend 'ionq' runs hardware circuits: use "
                "'parameter_shift' or 'spsa', not 'autodiff'"
            )
        if self.backend == "ionq" and self.shots is None:
            raise ValueError("discriminator.shots: backend 'ionq' measures; give shots (>= 1)")
        if self.gradient == "autodiff" and self.shots is not None:
            raise ValueError(
                "discriminator.shots: gradient 'autodiff' needs exact expectations (null); "
                "use 'parameter_shift' or 'spsa' with shots"
            )
        if self.target is not None and self.backend != "ionq":
            raise ValueError("discriminator.target: only used with backend 'ionq'")
        if self.gradient_penalty > 0:
            raise ValueError(
                "discriminator.gradient_penalty: the qubit discriminator has no second "
                "derivative through its circuit; use 0"
            )
        return self


_SHARED_KEYS = ("kind", "hidden", "pack", "gradient_penalty")
QUBIT_KEYS = tuple(k for k in DiscriminatorConfig.model_fields if k not in _SHARED_KEYS)


class EarlyStoppingConfig(_Section):
    metric: Literal[tuple(METRIC_DIRECTION)] = "energy_distance"
    patience: PosInt | None = None  # evaluations without improvement; None: never stop early
    min_delta: NonNegFloat = 0.0
    keep_best: bool = True  # restore the best evaluated weights at the end


class TrainConfig(_Section):
    """``train``: schedule and optimisation."""

    steps: PosInt = 1500
    batch_size: PosInt = 256
    d_steps: PosInt = 1
    loss: Literal[LOSSES] = "non_saturating"
    lr_generator: PosFloat = 0.01
    lr_decoder: PosFloat = 0.005
    lr_discriminator: PosFloat = 0.002
    beta1: Annotated[float, Field(ge=0, lt=1)] = 0.5
    beta2: Annotated[float, Field(ge=0, lt=1)] = 0.999
    lr_schedule: Literal["constant", "cosine"] = "constant"
    grad_clip: PosFloat | None = 10.0
    # evaluation / checkpoint every this many steps (and after the last); None (unset):
    # steps // EVALUATIONS_PER_RUN, at least 1, resolved on validation
    eval_every: PosInt | None = None
    eval_samples: PosInt = 2500
    checkpoint_every: PosInt | None = None
    leakage_threshold: NonNegFloat = 1e-3
    # how the generator loss sees a sampled photon-number outcome: "marginal" averages the
    # loss over all outcomes with their exact Born probabilities (needs a mode_assignment
    # decoder, sampled outcomes and pack 1); "straight_through" back-propagates through the
    # relaxed sample; "auto" (resolved on validation): marginal where allowed, else
    # straight_through
    outcome_gradient: Literal["auto", "marginal", "straight_through"] = "auto"
    # weight of the mean norm leakage added to the generator loss (Killoran et al. 2019's
    # trace penalty): keeps the state inside the truncated space, where the simulation is exact
    leakage_penalty: NonNegFloat = 10.0
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)

    @model_validator(mode="after")
    def _cadence(self):
        default = max(1, self.steps // EVALUATIONS_PER_RUN)
        if self.eval_every is None:
            self.eval_every = default
        if self.checkpoint_every is None:
            self.checkpoint_every = default
        return self


class OutputConfig(_Section):
    dir: str = "runs"
    tensorboard: bool = True
    plots: bool = True


class RunConfig(_Section):
    """A whole training run: ``name``, ``seed`` and the sections above."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] = "run"
    seed: NonNegInt = 0
    data: DataConfig = Field(default_factory=DataConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    decoder: DecoderConfig = Field(default_factory=DecoderConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @property
    def allows_marginal(self) -> bool:
        """Whether ``train.outcome_gradient: marginal`` applies: a ``mode_assignment``
        decoder, sampled outcomes (:attr:`GeneratorConfig.samples_outcomes`) and
        ``discriminator.pack`` 1."""
        return (
            self.decoder.kind == "mode_assignment"
            and self.generator.samples_outcomes
            and self.discriminator.pack == 1
        )

    @model_validator(mode="after")
    def _cross_section(self):
        pack = self.discriminator.pack
        if self.discriminator.kind == "qubit" and self.discriminator.n_qubits < DATA_DIM * pack:
            raise ValueError(
                f"discriminator.n_qubits: a qubit discriminator reads one coordinate per qubit: "
                f"needs >= {DATA_DIM} * discriminator.pack = {DATA_DIM * pack}, got "
                f"{self.discriminator.n_qubits}"
            )
        for key in ("batch_size", "eval_samples"):
            if getattr(self.train, key) % pack:
                raise ValueError(
                    f"train.{key}: must be a multiple of discriminator.pack ({pack}), "
                    f"got {getattr(self.train, key)}"
                )
        if self.train.outcome_gradient == "auto":
            self.train.outcome_gradient = "marginal" if self.allows_marginal else "straight_through"
        if self.train.outcome_gradient == "marginal":
            if self.decoder.kind != "mode_assignment" or not self.generator.samples_outcomes:
                raise ValueError(
                    "train.outcome_gradient: 'marginal' needs decoder.kind 'mode_assignment' "
                    "and sampled outcomes (generator.readout starting with photon_samples, or "
                    "a classical generator with n_outcomes >= 1)"
                )
            if pack != 1:
                raise ValueError("train.outcome_gradient: 'marginal' needs discriminator.pack 1")
        if self.decoder.kind == "mode_assignment":
            g = self.generator
            first = g.readout[0]
            if g.kind == "cv" and first not in ("photon_samples", "mean_photon"):
                raise ValueError(
                    "decoder.kind: 'mode_assignment' needs generator.readout to start with "
                    f"photon_samples or mean_photon, got {first!r}"
                )
            if g.kind == "classical" and g.n_outcomes == 0:
                raise ValueError("decoder.kind: 'mode_assignment' needs generator.n_outcomes >= 1")
            n_clusters = self.decoder.n_clusters
            if n_clusters is not None and n_clusters > self.data.n_samples:
                raise ValueError(
                    f"decoder.n_clusters: k-means needs at least as many data points as "
                    f"clusters; data.n_samples is {self.data.n_samples}, got {n_clusters}"
                )
        check_resources(self)
        return self


def _defaults(*keys: str) -> dict[str, int]:
    """The default values of dotted keys (``generator.cutoff`` -> 4) of :class:`RunConfig`."""
    out = {}
    for key in keys:
        model, parts = RunConfig, key.split(".")
        for part in parts[:-1]:
            model = model.model_fields[part].default_factory
        out[key] = model.model_fields[parts[-1]].get_default(call_default_factory=True)
    return out


def cv_gates(n_modes: int, n_layers: int, latent_dim: int) -> int:
    """Gates of the CV generator's circuit: ``latent_dim`` encoding gates and ``n_layers``
    layers of two interferometers (``n (n - 1) / 2`` beamsplitters and ``n`` rotations
    each), ``n`` squeezers, displacements and Kerr gates: ``n**2 + 4 n`` per layer."""
    return latent_dim + n_layers * (n_modes**2 + 4 * n_modes)


DATA_DIM = 2  # the presets' points are 2-D (a file's dimension is checked when it is read)


def check_resources(cfg: RunConfig) -> None:
    """Refuse a config whose traced step, simulated state, dense layers, data or
    evaluation arrays cannot fit (:mod:`qgan._resources`): one ``ValueError`` line naming
    the key, the size needed, the memory available and the largest setting that fits."""
    g, t, d = cfg.generator, cfg.train, cfg.discriminator
    cv = g.kind == "cv"
    gen_ops = cv_gates(g.n_modes, g.n_layers, g.latent_dim) if cv else len(g.hidden) + 1
    net_ops = len(d.hidden) + 1 + (len(cfg.decoder.hidden) + 1 if cfg.decoder.kind == "mlp" else 1)

    def ops(s):  # every discriminator update and the generator update run the generator
        per_pass = (
            cv_gates(s["generator.n_modes"], s["generator.n_layers"], s["generator.latent_dim"])
            if cv
            else gen_ops
        )
        return (s["train.d_steps"] + 1) * (per_pass + net_ops)

    graph = {
        "generator.n_modes": g.n_modes,
        "generator.n_layers": g.n_layers,
        "generator.latent_dim": g.latent_dim,
        "train.d_steps": t.d_steps,
    }
    bounds = {"train.d_steps": (1, t.d_steps)}
    if cv:
        bounds |= {"generator.n_layers": (0, g.n_layers), "generator.latent_dim": (1, g.latent_dim)}
    _resources.check_graph(ops, graph, _defaults(*graph), bounds)

    if cv:
        itemsize = 16 if g.dtype == "complex128" else 8
        gates = cv_gates(g.n_modes, g.n_layers, g.latent_dim)

        def state(s):
            n_gates = cv_gates(s["generator.n_modes"], g.n_layers, g.latent_dim)
            amplitudes = s["generator.cutoff"] ** s["generator.n_modes"]
            return _resources.state_bytes(amplitudes, s["train.batch_size"], itemsize, n_gates)

        settings = {
            "generator.cutoff": g.cutoff,
            "generator.n_modes": g.n_modes,
            "train.batch_size": t.batch_size,
        }
        _resources.check_fits(
            f"a state of {g.cutoff}^{g.n_modes} x {t.batch_size:,} {g.dtype} amplitudes "
            f"(with the gradient through {gates} gates)",
            state,
            settings,
            _defaults(*settings),
            {"generator.cutoff": (2, g.cutoff), "generator.n_modes": (1, g.n_modes)}
            | {"train.batch_size": (1, t.batch_size)},
        )

    def mlp(key, first, widths, last, with_first=None):
        def need(s):
            layer0 = s[with_first] if with_first else first
            hidden = [min(w, s[key]) for w in widths]
            return _resources.dense_bytes([layer0, *hidden, last], s["train.batch_size"])

        settings = {key: max(widths), "train.batch_size": t.batch_size}
        bounds = {key: (1, max(widths)), "train.batch_size": (1, t.batch_size)}
        if with_first:
            settings[with_first] = first
            bounds[with_first] = (1, first)
        _resources.check_fits(
            f"an MLP of widths {[first, *widths, last]} trained by Adam on batches of "
            f"{t.batch_size}",
            need,
            settings,
            _defaults(*settings) | {key: max(_defaults(key)[key])},
            bounds,
        )

    if d.kind == "mlp":
        mlp("discriminator.hidden", DATA_DIM * d.pack, d.hidden, 1)
    if not cv:
        outputs = g.n_outcomes + g.n_continuous
        mlp("generator.hidden", g.latent_dim, g.hidden, outputs, with_first="generator.latent_dim")
    if cfg.decoder.kind == "mlp":
        mlp("decoder.hidden", DATA_DIM, cfg.decoder.hidden, DATA_DIM)

    _resources.check_fits(
        f"an array of {cfg.data.n_samples:,} data points",
        lambda s: _resources.points_bytes(s["data.n_samples"], DATA_DIM),
        {"data.n_samples": cfg.data.n_samples},
        _defaults("data.n_samples"),
        {"data.n_samples": (1, cfg.data.n_samples)},
    )
    _resources.check_fits(
        f"an evaluation of {t.eval_samples:,} points (energy distance: pairwise distances)",
        lambda s: (
            _resources.points_bytes(s["train.eval_samples"], DATA_DIM)
            + _resources.energy_distance_bytes(s["train.eval_samples"])
        ),
        {"train.eval_samples": t.eval_samples},
        _defaults("train.eval_samples"),
        {"train.eval_samples": (1, t.eval_samples)},
    )


def parse_config(data: dict) -> RunConfig:
    """Validate a config mapping; a ``ValueError`` naming the key on any problem."""
    return validate(RunConfig, data)


def load_config(path, overrides: dict | None = None) -> RunConfig:
    """Read and validate a YAML config file (``overrides``: dotted key -> value); a relative
    ``data.path`` resolves against the config file's folder (see :mod:`qgan._config`)."""
    return _config.load_config(RunConfig, path, overrides, paths=PATHS)


def dump_config(cfg: RunConfig) -> str:
    """The resolved config (every default filled in, every value concrete) as YAML,
    without the keys that do not apply to the chosen kinds (``not_applicable`` of the
    ``data``, ``generator`` and ``decoder`` sections): it loads back equal to ``cfg``."""
    data = yaml.safe_load(_config.dump_config(cfg, paths=PATHS))
    for section in ("data", "generator", "decoder", "discriminator"):
        for key in getattr(cfg, section).not_applicable():
            data[section].pop(key, None)
    return yaml.safe_dump(data, sort_keys=False)
