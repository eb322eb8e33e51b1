"""Fixtures for the profiler tests: tolerances and a shrunken reference config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_CONFIG = ROOT / "configs" / "bimodal.yaml"


@dataclass(frozen=True)
class ProfilingTolerances:
    """Tolerances of the profiler tests, in one place.

    ``same_work``: the instrumented training step against ``GANModel.train_step`` from the
        same state (losses, and every weight after the update). Both are float32/complex64
        graphs of the same ops on the same inputs; only the scheduling differs, so results
        agree to float32 rounding of sums whose order may change (relative to max(1, |x|)).
    """

    same_work: float = 1e-5


@pytest.fixture(scope="session")
def prof_tol() -> ProfilingTolerances:
    return ProfilingTolerances()


def tiny_overrides(**extra) -> dict:
    """Dotted-key overrides that shrink configs/bimodal.yaml to a circuit that traces and
    runs in a few seconds: 2 modes, cutoff 3, one layer, batch 16."""
    return {
        "generator.n_modes": 2,
        "generator.cutoff": 3,
        "generator.n_layers": 1,
        "generator.latent_dim": 2,
        "generator.sample_modes": [0],
        "train.batch_size": 16,
        "train.eval_samples": 64,
        "data.n_samples": 300,
        **extra,
    }


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(**overrides)``: the shrunken reference config (a RunConfig)."""
    from qgan.gan.config import load_config

    def make(**extra):
        return load_config(REFERENCE_CONFIG, overrides=tiny_overrides(**extra))

    return make


class ScriptedClock:
    """A clock for ``qgan.profiling.timing.measure``: the timed calls last, in order, the
    given durations (seconds). ``measure`` reads the clock once before and once after each
    timed call; ``used`` counts the durations consumed, so a test knows how many calls
    were timed."""

    def __init__(self, durations):
        self.durations = list(durations)
        self.now = 1000.0
        self.used = 0
        self._running = False

    def __call__(self) -> float:
        if self._running:
            self.now += self.durations[self.used]
            self.used += 1
        self._running = not self._running
        return self.now


@pytest.fixture(scope="session")
def scripted_clock():
    """``scripted_clock(durations)``: a :class:`ScriptedClock` to inject as ``clock=``."""
    return ScriptedClock
