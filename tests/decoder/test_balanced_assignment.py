"""Specification of ``qgan.decoder.calibration.balanced_assignment`` and its use by
``SpatialDecoder.calibrate``: outcomes are dealt to clusters so that each cluster starts
with the share of the generator's outcome mass that its cluster has of the real data.

Oracle: the greedy bound (every cluster within one outcome's mass of its target, as long
as no single outcome outweighs a cluster) and exhaustive search on small cases.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qgan.decoder import SpatialDecoder
from qgan.decoder.calibration import balanced_assignment

masses = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12)


@given(mass=masses, k=st.integers(1, 5))
def test_every_cluster_is_within_one_outcome_of_its_target(mass, k):
    mass = np.asarray(mass)
    target = np.full(k, 1.0 / k)
    labels = balanced_assignment(mass, target)
    assert labels.shape == mass.shape and labels.min() >= 0 and labels.max() < k
    if mass.sum() == 0:
        return
    share = mass / mass.sum()
    filled = np.bincount(labels, weights=share, minlength=k)
    assert np.all(filled <= target + share.max() + 1e-12)
    assert np.isclose(filled.sum(), 1.0)


def test_unproduced_outcomes_go_round_robin():
    labels = balanced_assignment([0.5, 0.0, 0.5, 0.0, 0.0], [0.5, 0.5])
    assert sorted(labels[[0, 2]]) == [0, 1]
    assert list(labels[[1, 3, 4]]) == [0, 1, 0]


def test_small_case_reaches_the_best_partition():
    mass = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
    target = np.array([0.5, 0.5])
    labels = balanced_assignment(mass, target)
    got = np.abs(np.bincount(labels, weights=mass, minlength=2) - target).max()
    best = min(
        np.abs(np.bincount(np.array(c), weights=mass, minlength=2) - target).max()
        for c in itertools.product(range(2), repeat=len(mass))
    )
    assert got == pytest.approx(best)


@pytest.mark.parametrize(
    "mass, target", [([[0.5, 0.5]], [1.0]), ([0.5], [[1.0]]), ([-0.1, 1.0], [1.0]), ([1.0], [])]
)
def test_bad_masses_raise(mass, target):
    with pytest.raises(ValueError, match="outcome_mass and cluster_mass"):
        balanced_assignment(mass, target)


def test_calibrate_balances_the_clusters_by_generator_mass():
    """Two clusters of equal data mass; the generator puts 0.4, 0.3, 0.2, 0.1 on four
    outcomes: calibration deals {0.4, 0.1} and {0.3, 0.2} (0.5 each), not j mod 2
    ({0.4, 0.2} against {0.3, 0.1})."""
    rng = np.random.default_rng(0)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0]])
    real = np.concatenate([c + 0.1 * rng.standard_normal((500, 2)) for c in centres])
    probs = np.array([0.4, 0.3, 0.2, 0.1])
    onehot = np.eye(4)[rng.choice(4, size=4000, p=probs)]
    features = np.concatenate([onehot, rng.standard_normal((4000, 2))], axis=1)
    dec = SpatialDecoder("mode_assignment", output_dim=2, n_features=6, n_outcomes=4, n_clusters=2)
    info = dec.calibrate(real, features)
    owner = np.asarray(info["outcome_owner"])
    assert owner[0] == owner[3] and owner[1] == owner[2] and owner[0] != owner[1]
    anchors = dec.anchors.numpy()
    for j in range(4):
        assert np.allclose(anchors[j], np.asarray(info["centres"])[owner[j]])
    mass = np.bincount(owner, weights=onehot.mean(0), minlength=2)
    assert np.abs(mass - 0.5).max() < np.abs(probs[[0, 2]].sum() - 0.5)
