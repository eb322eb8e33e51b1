"""Anchors calibrated from real data: k-means centres and within-cluster spread."""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2


def kmeans_anchors(points: np.ndarray, n_clusters: int, seed: int = 0, restarts: int = 8):
    """k-means++ on ``points`` ``[n, d]``, best of ``restarts`` by inertia.

    Returns ``(centres [n_clusters, d], labels [n], within_std)`` with ``within_std`` the
    root-mean-square distance to the assigned centre per axis (a float), all float64.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < n_clusters:
        raise ValueError(
            f"calibration points must be [n >= {n_clusters}, d], got shape {points.shape}"
        )
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        centres, labels = kmeans2(points, n_clusters, minit="++", seed=rng, iter=50)
        inertia = float(np.sum((points - centres[labels]) ** 2))
        if best is None or inertia < best[0]:
            best = (inertia, centres, labels)
    inertia, centres, labels = best
    within_std = float(np.sqrt(inertia / points.size))
    return centres, labels, within_std


def balanced_assignment(outcome_mass, cluster_mass) -> np.ndarray:
    """Assign outcomes to clusters so each cluster's share of outcome mass matches its own.

    ``outcome_mass`` ``[n_outcomes]``: how often the generator produces each outcome (any
    non-negative scale); ``cluster_mass`` ``[k]``: the real data's share per cluster. Greedy
    (largest outcome first, to the cluster with the largest remaining deficit), which leaves
    every cluster within one outcome's mass of its target. Outcomes never produced are dealt
    round-robin, so every cluster still owns some. Returns ``[n_outcomes]`` int cluster ids.
    """
    mass = np.asarray(outcome_mass, dtype=np.float64)
    target = np.asarray(cluster_mass, dtype=np.float64)
    if mass.ndim != 1 or target.ndim != 1 or len(target) < 1:
        raise ValueError("outcome_mass and cluster_mass must be 1-D and non-empty")
    if np.any(mass < 0) or np.any(target < 0) or target.sum() <= 0:
        raise ValueError("outcome_mass and cluster_mass must be non-negative, cluster_mass > 0")
    total = mass.sum()
    share = mass / total if total > 0 else mass
    target = target / target.sum()
    labels = np.empty(len(mass), dtype=np.int64)
    filled = np.zeros(len(target))
    order = np.argsort(-share, kind="stable")
    unused = 0
    for j in order:
        if share[j] > 0:
            c = int(np.argmax(target - filled))
            labels[j] = c
            filled[c] += share[j]
        else:
            labels[j] = unused % len(target)
            unused += 1
    return labels
