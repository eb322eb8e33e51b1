"""Fixtures for the GAN-layer tests: statistical tolerances of the data tests."""

from __future__ import annotations

from dataclasses import dataclass

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
