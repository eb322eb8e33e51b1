"""Fixtures for the GAN-layer tests: tolerances (data, losses, training) and a shrunken
reference config for quick training runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class DataTolerances:
    """Tolerances of ``tests/gan/test_data.py``, in one place.

    ``alpha``: significance level of the goodness-of-fit tests (chi-square on component
        counts, Kolmogorov-Smirnov on standardised offsets) that check a sampler against
        its definition. The draws are seeded, so a test is deterministic; a correct
        sampler fails one such check with probability ``alpha`` per fresh seed.
    ``exact``: float64 rounding (weights normalisation, centres built from cos/sin).
    ``float32``: points are returned in float32; values that round-trip through it.
    """

    alpha: float = 1e-4
    exact: float = 1e-12
    float32: float = 1e-6


@pytest.fixture(scope="session")
def data_tol() -> DataTolerances:
    return DataTolerances()


@dataclass(frozen=True)
class GanTolerances:
    """Tolerances of the discriminator, loss, training and report tests, in one place.

    ``rtol`` / ``atol``: float32 computations (Dense layers, losses on float32 logits,
        gradients of a float32 critic) against a float64 NumPy oracle with the same weights.
    ``report_rel``: the run report prints floats with 4 significant digits, so a printed
        value is within 5e-4 relative (plus ``atol`` for values near 0) of the stored one.
    Reproducibility (same seed, resumed run) is exact: the same ops run in the same order
    on the same CPU, so metrics and weights are compared for equality, with no tolerance.
    """

    rtol: float = 1e-5
    atol: float = 1e-6
    report_rel: float = 5e-4


@pytest.fixture(scope="session")
def gan_tol() -> GanTolerances:
    return GanTolerances()


ROOT = Path(__file__).resolve().parents[2]
REFERENCE_CONFIG = ROOT / "configs" / "bimodal.yaml"


def tiny_overrides(output_dir, **extra) -> dict:
    """Dotted-key overrides that shrink the reference config (configs/bimodal.yaml) to a run
    of a few seconds: 2 modes, cutoff 3, one layer, 12 steps of batch 32, evaluations and
    checkpoints every 4 steps on 64 samples."""
    return {
        "generator.n_modes": 2,
        "generator.cutoff": 3,
        "generator.n_layers": 1,
        "generator.latent_dim": 2,
        "generator.sample_modes": [0],
        "train.steps": 12,
        "train.batch_size": 32,
        "train.eval_every": 4,
        "train.checkpoint_every": 4,
        "train.eval_samples": 64,
        "data.n_samples": 500,
        "output.dir": str(output_dir),
        **extra,
    }


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(output_dir, **overrides)``: the shrunken reference config (RunConfig)."""
    from qgan.gan.config import load_config

    def make(output_dir, **extra):
        return load_config(REFERENCE_CONFIG, overrides=tiny_overrides(output_dir, **extra))

    return make
