"""Specification of ``qgan.decoder.calibration.kmeans_anchors``: k-means++ with restarts.

Oracles: clusters with known generating centres (recovered up to relabelling), the k-means
fixed-point conditions (each point is labelled with its nearest centre, each centre is
the mean of its points) and the documented ``within_std`` (RMS distance to the assigned
centre per axis).
"""

from __future__ import annotations

import numpy as np
import pytest

from qgan.decoder.calibration import kmeans_anchors


def test_recovers_the_generating_centres(blobs, dec_tol):
    k = len(blobs.centres)
    centres, labels, within = kmeans_anchors(blobs.points, k, seed=0)
    assert centres.shape == (k, 2) and centres.dtype == np.float64
    assert labels.shape == (len(blobs.points),)
    d = np.linalg.norm(blobs.centres[:, None] - centres[None], axis=-1)
    nearest = d.argmin(axis=1)
    assert sorted(nearest) == list(range(k))
    bound = dec_tol.centre_sigmas * blobs.std / np.sqrt(blobs.n_per_cluster)
    assert np.all(np.abs(centres[nearest] - blobs.centres) < bound)
    # labels are the generating clusters, relabelled
    for c in range(k):
        assert set(labels[blobs.labels == c]) == {nearest[c]}
    assert abs(within - blobs.std) < dec_tol.spread_rel * blobs.std


def test_result_is_a_kmeans_fixed_point_with_the_documented_spread(dec_tol):
    points = np.random.default_rng(0).uniform(-1.0, 1.0, (400, 2))
    centres, labels, within = kmeans_anchors(points, 5, seed=3)
    d2 = ((points[:, None] - centres[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d2.argmin(axis=1))
    for j in range(5):
        np.testing.assert_allclose(
            centres[j], points[labels == j].mean(axis=0), rtol=dec_tol.rtol, atol=dec_tol.atol
        )
    rms = np.sqrt(np.mean((points - centres[labels]) ** 2))
    assert within == pytest.approx(rms, rel=dec_tol.rtol)


def test_restarts_keep_the_lowest_inertia():
    """The first restart draws from the same stream as a single run, so the best of eight
    is at least as good as that one."""
    points = np.random.default_rng(1).uniform(-1.0, 1.0, (300, 2))

    def inertia(centres, labels):
        return float(np.sum((points - centres[labels]) ** 2))

    one = inertia(*kmeans_anchors(points, 6, seed=5, restarts=1)[:2])
    best = inertia(*kmeans_anchors(points, 6, seed=5, restarts=8)[:2])
    assert best <= one


def test_seeded():
    points = np.random.default_rng(2).uniform(-1.0, 1.0, (200, 2))
    a = kmeans_anchors(points, 4, seed=9)
    b = kmeans_anchors(points, 4, seed=9)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("points", [np.zeros((2, 2)), np.zeros(10)])
def test_too_few_or_badly_shaped_points_name_the_points(points):
    with pytest.raises(ValueError, match="points"):
        kmeans_anchors(points, 3)
