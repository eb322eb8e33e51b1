"""Validated run configuration for GAN training (YAML -> pydantic models).

Every section forbids unknown keys. :func:`load_config` turns any problem into one
``ValueError`` line naming the key, e.g. ``config key train.batch_size: must be a multiple
of discriminator.pack (3), got 256``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qgan import _config
from qgan._config import validate
from qgan.decoder.names import KINDS as DECODER_KINDS
from qgan.gan.names import LOSSES
from qgan.generator.names import READOUTS

PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
DATA_KINDS = ("gaussian_mixture", "bimodal", "ring8", "grid25", "moons", "file")
PATHS = ("data.path",)  # config keys holding file paths (resolved on loading)
METRIC_DIRECTION = {  # early-stopping metrics and whether larger is better
    "energy_distance": False,
    "mmd": False,
    "mode_kl": False,
    "high_quality_fraction": True,
    "modes_captured": True,
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DataConfig(_Section):
    """``data``: which real distribution to learn (DESIGN.md, "Data")."""

    kind: Literal[DATA_KINDS] = "bimodal"
    n_samples: PosInt = 10_000
    centers: list[list[float]] | None = None
    std: PosFloat | None = None
    weights: list[NonNegFloat] | None = None
    noise: NonNegFloat | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _kind_options(self):
        needs = {"gaussian_mixture": ("centers", "std"), "file": ("path",)}
        for key in needs.get(self.kind, ()):
            if getattr(self, key) is None:
                raise ValueError(f"{key}: required when data.kind is {self.kind!r}")
        allowed = {
            "gaussian_mixture": {"centers", "std", "weights"},
            "moons": {"noise"},
            "file": {"path"},
        }.get(self.kind, set())
        for key in ("centers", "std", "weights", "noise", "path"):
            if getattr(self, key) is not None and key not in allowed:
                raise ValueError(f"{key}: not an option of data.kind {self.kind!r}")
        return self


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

    @model_validator(mode="after")
    def _consistent(self):
        if len(set(self.readout)) < len(self.readout):
            raise ValueError(f"readout: names must be distinct, got {self.readout}")
        if self.sample_modes is not None:
            bad = [m for m in self.sample_modes if m >= self.n_modes]
            if bad or not self.sample_modes or len(set(self.sample_modes)) < len(self.sample_modes):
                raise ValueError(
                    f"sample_modes: expected distinct modes in [0, {self.n_modes}), "
                    f"got {self.sample_modes}"
                )
        if self.kind == "classical" and self.n_outcomes + self.n_continuous == 0:
            raise ValueError("n_outcomes: n_outcomes + n_continuous must be >= 1")
        return self


class DecoderConfig(_Section):
    """``decoder``: SpatialDecoder kind and its options."""

    kind: Literal[DECODER_KINDS] = "mode_assignment"
    n_clusters: PosInt | None = None
    hidden: list[PosInt] = Field(default_factory=lambda: [32, 32])


class DiscriminatorConfig(_Section):
    """``discriminator``: MLP widths, PacGAN packing, gradient-penalty weight."""

    hidden: list[PosInt] = Field(default_factory=lambda: [64, 64])
    pack: PosInt = 1
    gradient_penalty: NonNegFloat = 0.0


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
    eval_every: PosInt = 250
    eval_samples: PosInt = 2500
    checkpoint_every: PosInt = 250
    leakage_threshold: NonNegFloat = 1e-3
    # how the generator loss sees a sampled photon-number outcome: "marginal" averages the
    # loss over all outcomes with their exact Born probabilities (needs a mode_assignment
    # decoder and pack 1); "straight_through" back-propagates through the relaxed sample
    outcome_gradient: Literal["marginal", "straight_through"] = "straight_through"
    # weight of the mean norm leakage added to the generator loss (Killoran et al. 2019's
    # trace penalty): keeps the state inside the truncated space, where the simulation is exact
    leakage_penalty: NonNegFloat = 10.0
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)


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

    @model_validator(mode="after")
    def _cross_section(self):
        pack = self.discriminator.pack
        for key in ("batch_size", "eval_samples"):
            if getattr(self.train, key) % pack:
                raise ValueError(
                    f"train.{key}: must be a multiple of discriminator.pack ({pack}), "
                    f"got {getattr(self.train, key)}"
                )
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
        return self


def parse_config(data: dict) -> RunConfig:
    """Validate a config mapping; a ``ValueError`` naming the key on any problem."""
    return validate(RunConfig, data)


def load_config(path, overrides: dict | None = None) -> RunConfig:
    """Read and validate a YAML config file (``overrides``: dotted key -> value); a relative
    ``data.path`` resolves against the config file's folder (see :mod:`qgan._config`)."""
    return _config.load_config(RunConfig, path, overrides, paths=PATHS)


def dump_config(cfg: RunConfig) -> str:
    """The resolved config (every default filled in) as YAML."""
    return _config.dump_config(cfg, paths=PATHS)
