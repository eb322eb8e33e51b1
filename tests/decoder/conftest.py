"""Fixtures for the decoder tests: tolerances and well-separated clusters with known centres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class DecoderTolerances:
    """Tolerances of ``tests/decoder``, in one place.

    ``float32``: the decoder computes in float32; a float64 NumPy re-implementation of its
        formula from the same weights, or the same rows decoded one at a time instead of
        as a batch, agree to float32 rounding of sums of a few dozen products
        (``rtol``/``atol`` of ``assert_allclose``).
    ``moments``: after ``calibrate`` with a feature sample, the decoded sample's mean and
        standard deviation equal the data's up to float32 rounding of the rescaled weights
        (relative to the data's standard deviation).
    ``centre_sigmas``: a k-means centre of a cluster of ``n`` points with spread ``std``
        lies within ``centre_sigmas * std / sqrt(n)`` of the generating centre per axis
        (a 6-sigma bound: the draws are seeded, so the check is deterministic; a correct
        estimator fails it with probability ~1e-9 per fresh seed).
    ``spread_rel``: the within-cluster RMS distance per axis of ``n`` Gaussian points
        estimates ``std`` to a relative standard error of about ``1 / sqrt(2 n)``; with
        n >= 600 points, 10% is a > 4-sigma bound.
    """

    rtol: float = 1e-5
    atol: float = 1e-5
    moments: float = 1e-4
    centre_sigmas: float = 6.0
    spread_rel: float = 0.10


@pytest.fixture(scope="session")
def dec_tol() -> DecoderTolerances:
    return DecoderTolerances()


@dataclass(frozen=True)
class Blobs:
    """Isotropic Gaussian clusters: ``points`` ``[n, 2]`` drawn around ``centres`` with
    spread ``std`` per axis, ``labels`` the generating cluster of each point."""

    points: np.ndarray
    labels: np.ndarray
    centres: np.ndarray
    std: float
    n_per_cluster: int


@pytest.fixture(scope="session")
def blobs() -> Blobs:
    """Three clusters 10 apart with std 0.2 (50 standard deviations apart)."""
    centres = np.array([[-5.0, 0.0], [5.0, 0.0], [0.0, 8.0]])
    std, n = 0.2, 300
    rng = np.random.default_rng(1234)
    labels = np.repeat(np.arange(len(centres)), n)
    points = centres[labels] + rng.normal(0.0, std, (len(labels), 2))
    order = rng.permutation(len(labels))
    return Blobs(points[order], labels[order], centres, std, n)
