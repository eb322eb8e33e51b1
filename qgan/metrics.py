"""Sample-quality metrics for generative models, under the keys every run records
(:func:`evaluate`).

All functions take NumPy-compatible point arrays ``[n, d]`` and return plain Python
floats, ints and lists (JSON-ready); :func:`evaluate` gathers them into one dict.

Mixture metrics follow the GAN literature's mode-collapse benchmarks, VEEGAN (Srivastava et
al. 2017, "VEEGAN: reducing mode collapse in GANs using implicit variational learning",
NeurIPS) and PacGAN (Lin et al. 2018, "PacGAN: the power of two samples in generative
adversarial networks", NeurIPS), whose reference code (github.com/fjxmlzn/PacGAN,
``synthetic_data_experiments/PacGAN/pacgan/extensions.py``, ``MetricLogger``) assigns every
generated point to the centre with the smallest standardised distance
``|x - mu_k| / sigma`` and calls it high quality if that distance is below 3
(``dis_thre=3``). The definitions here are the package's own; the differences from the
PacGAN code are stated on :func:`mode_statistics`.

Distribution distances (any data): :func:`mmd` (Gretton et al. 2012, "A kernel two-sample
test", JMLR 13, eq. 3, unbiased), :func:`energy_distance` (Szekely & Rizzo 2013, "Energy
statistics: a class of statistics based on distances", J. Stat. Plan. Inference 143),
:func:`wasserstein_1d` (per axis). Training diagnostics: :func:`linear_r2`,
:func:`gradient_flow`, :func:`leakage`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from qgan._validate import check_int

HIGH_QUALITY_STDS = 3.0  # "within 3 std of a centre" (VEEGAN, PacGAN)
MODE_CAPTURE_SHARE = 0.25  # a captured mode holds >= 1/4 of its expected samples
MMD_BANDWIDTH_FACTORS = (2.0, 1.0, 0.5, 0.25, 0.125, 0.0625)  # times the median heuristic


class IsotropicMixture(Protocol):
    """What the mixture metrics read of a Gaussian mixture ``sum_k w_k N(centers[k], std^2 I)``.

    Any object with these attributes will do (e.g. :class:`qgan.gan.data.Mixture`, which
    validates them); metrics depend on this shape, not on where the data comes from.
    """

    @property
    def centers(self) -> np.ndarray:
        """Component centres, ``[K, d]`` real."""

    @property
    def std(self) -> float:
        """Per-axis standard deviation shared by every component (> 0)."""

    @property
    def weights(self) -> np.ndarray:
        """Component weights ``[K]``, positive, summing to 1."""


def _points(x: Any, name: str, dim: int | None = None) -> np.ndarray:
    """``x`` as a finite float64 ``[n, d]`` array, or a one-line ValueError naming ``name``."""
    arr = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name}: expected a non-empty array of points [n, d], got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) and not np.iscomplexobj(arr)):
        raise ValueError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: {int(np.sum(~np.isfinite(arr)))} entries are NaN or inf")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name}: expected points of dimension {dim}, got {arr.shape[1]}")
    return arr


def _sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``[n, m]`` (one matrix product; clipped at 0)."""
    d2 = np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None, :]
    d2 -= 2.0 * (x @ y.T)
    np.maximum(d2, 0.0, out=d2)
    return d2


def _self_sq_distances(x: np.ndarray) -> np.ndarray:
    d2 = _sq_distances(x, x)
    np.fill_diagonal(d2, 0.0)
    return d2


# ---------------------------------------------------------------------- mixtures


def mode_statistics(samples, mixture: IsotropicMixture) -> dict:
    """Mode coverage of ``samples`` ``[n, d]`` against a mixture with known centres.

    Each sample is assigned to its nearest centre (Euclidean; the components are isotropic
    with one ``std``, so this is PacGAN's smallest standardised distance). Returns

    * ``mode_weights``: ``[K]`` list, the share of all samples assigned to each centre.
    * ``high_quality_fraction``: share of samples within ``3 * std`` of their nearest centre
      (= of some centre). For exact samples of a d-dimensional isotropic component this is
      ``P(chi2_d <= 9)``: ``1 - exp(-9/2) = 0.98889`` in 2-D (PacGAN's 2D-ring/grid).
    * ``modes_captured``: number of centres k whose high-quality samples number at least
      ``MODE_CAPTURE_SHARE * weights[k] * n`` (at least a quarter of the samples
      their weight predicts).
    * ``mode_kl``: reverse KL, ``KL(mode_weights || weights) = sum_k q_k log(q_k / w_k)``
      in nats (0 log 0 = 0), as PacGAN reports it. All samples on one centre of K equal ones
      give ``log K``; it is finite whenever the weights are positive (which
      :class:`qgan.gan.data.Mixture` enforces).

    Differences from the PacGAN code (``MetricLogger``): there a mode counts as captured
    if it holds at least one high-quality sample (the quarter rule here is stricter and
    does not count a handful of stray points as a mode), and its mode histogram counts only
    high-quality samples, whereas ``mode_kl`` and ``mode_weights`` here use all samples,
    nearest-centre assignment. PacGAN uses ``< 3`` std, this uses
    ``<= 3`` (a null set apart). Its reverse KL is computed offline from those histograms
    against the uniform mode distribution; here against the mixture's weights.
    """
    centers = np.asarray(mixture.centers, dtype=np.float64)
    weights = np.asarray(mixture.weights, dtype=np.float64)
    x = _points(samples, "samples", dim=centers.shape[1])
    n, k = x.shape[0], centers.shape[0]
    d2 = _sq_distances(x, centers)
    nearest = np.argmin(d2, axis=1)
    nearest_d2 = d2[np.arange(n), nearest]
    good = nearest_d2 <= (HIGH_QUALITY_STDS * float(mixture.std)) ** 2

    counts = np.bincount(nearest, minlength=k).astype(np.float64)
    good_counts = np.bincount(nearest[good], minlength=k).astype(np.float64)
    q = counts / n
    nz = q > 0
    kl = float(np.sum(q[nz] * np.log(q[nz] / weights[nz])))
    # ceil(.. - 1e-9): "at least a quarter" must not fail on a rounding of 0.25 * w * n
    needed = np.ceil(MODE_CAPTURE_SHARE * weights * n - 1e-9)
    captured = int(np.sum(good_counts >= needed))
    return {
        "modes_captured": captured,
        "high_quality_fraction": float(good.mean()),
        "mode_kl": max(kl, 0.0),  # >= 0 mathematically; clip rounding at 1e-16
        "mode_weights": [float(v) for v in q],
    }


# ---------------------------------------------------------------------- distances


def median_heuristic(x, y) -> float:
    """Median of the cross distances ``|x_i - y_j|`` (all n*m pairs): the RBF length scale
    of Gretton et al. (2012, Sec. 8), symmetric in ``x, y`` and permutation invariant."""
    x = _points(x, "x")
    y = _points(y, "y", dim=x.shape[1])
    return float(np.sqrt(np.median(_sq_distances(x, y))))


def _rbf_means(d2: np.ndarray, bandwidths: list[float], exclude_diagonal: bool) -> np.ndarray:
    """Mean of ``exp(-d2 / (2 s^2))`` over the entries of ``d2`` for each ``s`` in ``bandwidths``.

    With ``exclude_diagonal`` the (unit) diagonal is left out: the U-statistic's within-sample
    mean over i != j. Bandwidths in descending order that halve reuse the previous kernel
    (``exp(-4a) = exp(-a)^4``), so the default ladder costs one ``exp`` per matrix.
    """
    n_entries = d2.size - (d2.shape[0] if exclude_diagonal else 0)
    buf = np.empty_like(d2)
    means = np.empty(len(bandwidths))
    order = np.argsort(bandwidths)[::-1]
    prev = None
    for i in order:
        s = bandwidths[i]
        if prev is not None and prev == 2.0 * s:
            np.multiply(buf, buf, out=buf)
            np.multiply(buf, buf, out=buf)
        else:
            np.multiply(d2, -0.5 / s**2, out=buf)
            np.exp(buf, out=buf)
        prev = s
        total = float(buf.sum())
        means[i] = (total - d2.shape[0] if exclude_diagonal else total) / n_entries
    return means


def _mmd_from_sq(dxx: np.ndarray, dyy: np.ndarray, dxy: np.ndarray, bandwidths) -> float:
    n, m = dxx.shape[0], dyy.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"x, y: the unbiased MMD needs at least 2 points each, got {n} and {m}")
    kxx = _rbf_means(dxx, bandwidths, exclude_diagonal=True)
    kyy = _rbf_means(dyy, bandwidths, exclude_diagonal=True)
    kxy = _rbf_means(dxy, bandwidths, exclude_diagonal=False)
    return float(np.mean(kxx + kyy - 2.0 * kxy))


def _check_bandwidths(bandwidths) -> list[float]:
    bw = np.atleast_1d(np.asarray(bandwidths, dtype=np.float64))
    if bw.ndim != 1 or bw.size < 1 or not np.all(np.isfinite(bw)) or np.any(bw <= 0):
        raise ValueError(f"bandwidths: expected positive numbers, got {bandwidths!r}")
    return [float(b) for b in bw]


def mmd(x, y, bandwidths: Sequence[float] | None = None) -> float:
    """Unbiased squared maximum mean discrepancy MMD^2_u between samples ``x`` [n, d], ``y`` [m, d].

    Gretton et al. (2012), eq. 3 (a U-statistic, so it can be slightly negative when the
    two distributions agree; its mean is the population MMD^2). The kernel is the average
    of RBF kernels ``exp(-|a - b|^2 / (2 s^2))`` over ``bandwidths``; by default
    ``s = f * median_heuristic(x, y)`` for ``f`` in ``MMD_BANDWIDTH_FACTORS``
    (2, 1, 1/2, ..., 1/16 times the median cross distance), which spans the mixture's global
    scale down to its mode spacing. The result lies in [-2, 2].
    """
    x = _points(x, "x")
    y = _points(y, "y", dim=x.shape[1])
    dxy = _sq_distances(x, y)
    if bandwidths is None:
        med = math.sqrt(float(np.median(dxy)))
        if med == 0.0:  # both samples on one point: any length scale gives the same answer
            med = 1.0
        bw = [f * med for f in MMD_BANDWIDTH_FACTORS]
    else:
        bw = _check_bandwidths(bandwidths)
    return _mmd_from_sq(_self_sq_distances(x), _self_sq_distances(y), dxy, bw)


def _energy_from_sq(dxx: np.ndarray, dyy: np.ndarray, dxy: np.ndarray) -> float:
    """V-statistic energy distance from squared distances (overwritten with distances)."""
    exy, exx, eyy = (float(np.sqrt(d, out=d).mean()) for d in (dxy, dxx, dyy))
    return float(max(2.0 * exy - exx - eyy, 0.0))


def energy_distance(x, y) -> float:
    """Energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` of samples ``x`` [n, d], ``y`` [m, d].

    Szekely & Rizzo (2013), the squared form (no square root), estimated by the
    V-statistic, i.e. the energy distance between the two empirical distributions: it is
    >= 0, zero iff the samples coincide as multisets, and in 1-D equals
    ``2 * integral (F_n - G_m)^2`` = ``scipy.stats.energy_distance(x, y) ** 2`` (SciPy
    returns the square root). Two point masses a distance ``s`` apart give ``2 s``.
    """
    x = _points(x, "x")
    y = _points(y, "y", dim=x.shape[1])
    return _energy_from_sq(_self_sq_distances(x), _self_sq_distances(y), _sq_distances(x, y))


def wasserstein_1d(x, y) -> list[float]:
    """Per-axis Wasserstein-1 distance of the marginals of ``x`` [n, d] and ``y`` [m, d]: [d] list.

    ``W1 = integral |F(t) - G(t)| dt`` between the empirical CDFs of each coordinate,
    the quantity ``scipy.stats.wasserstein_distance`` computes (vectorised over the
    merged sorted values; the loop runs over the d axes only).
    """
    x = _points(x, "x")
    y = _points(y, "y", dim=x.shape[1])
    xs, ys = np.sort(x, axis=0), np.sort(y, axis=0)
    out = []
    for a, b in zip(xs.T, ys.T):
        grid = np.sort(np.concatenate([a, b]))
        widths = np.diff(grid)
        fa = np.searchsorted(a, grid[:-1], side="right") / a.size
        fb = np.searchsorted(b, grid[:-1], side="right") / b.size
        out.append(float(np.sum(np.abs(fa - fb) * widths)))
    return out


# ---------------------------------------------------------------------- diagnostics


def linear_r2(points) -> float:
    """R^2 of the least-squares straight line ``y = a + b x`` through 2-D ``points`` [n, 2].

    The original project's "linear interpolation" diagnostic: generated points strung
    along the segment between two modes have R^2 near 1. It equals the squared Pearson
    correlation of the two coordinates (so it is symmetric in x and y). The target is
    the real data's value, not 0: the ``bimodal`` preset has R^2 = 2.25^2 / 2.34^2 =
    0.9246 (covariance 1.5^2 off the diagonal, 1.5^2 + 0.3^2 on it).

    Returns ``nan`` where no straight line of y on x is defined: for d != 2 (the
    diagnostic is 2-D only, and :func:`evaluate` leaves it out), fewer than 2 points, or
    a coordinate with zero variance.
    """
    p = _points(points, "points")
    if p.shape[1] != 2 or p.shape[0] < 2:
        return float("nan")
    c = p - p.mean(axis=0)
    sxx, syy, sxy = float(c[:, 0] @ c[:, 0]), float(c[:, 1] @ c[:, 1]), float(c[:, 0] @ c[:, 1])
    if sxx <= 0.0 or syy <= 0.0:
        return float("nan")
    return float(min(sxy * sxy / (sxx * syy), 1.0))


def _as_numpy(g: Any) -> np.ndarray:
    if hasattr(g, "values") and hasattr(g, "indices"):  # tf.IndexedSlices
        g = g.values
    return np.asarray(g.numpy() if hasattr(g, "numpy") else g)


def gradient_flow(grads: Sequence[Any], variables: Sequence[Any]) -> float:
    """Share of ``variables`` whose gradient is not None, entirely finite and not all zero.

    ``grads`` is aligned with ``variables`` as ``tape.gradient(loss, variables)`` returns
    it (tensors, arrays, ``tf.IndexedSlices`` or ``None``). 1.0 means every trainable
    variable receives a usable gradient.
    """
    grads, variables = list(grads), list(variables)
    if not variables:
        raise ValueError("variables: expected at least one variable, got none")
    if len(grads) != len(variables):
        raise ValueError(
            f"grads: expected one gradient per variable ({len(variables)}), got {len(grads)}"
        )
    flowing = 0
    for g in grads:
        if g is None:
            continue
        a = _as_numpy(g)
        if a.size and np.all(np.isfinite(a)) and np.any(a != 0):
            flowing += 1
    return flowing / len(variables)


def leakage(values: Any) -> float:
    """Mean norm leakage ``1 - <psi|psi>`` of a batch, as a float.

    ``values``: per-sample leakages (``[B]`` or a scalar; TF tensor or NumPy), or any
    object with a ``leakage()`` method such as :class:`qgan.photonic.FockResult`.
    """
    if hasattr(values, "leakage") and callable(values.leakage):
        values = values.leakage()
    arr = np.asarray(values.numpy() if hasattr(values, "numpy") else values)
    if arr.size == 0:
        raise ValueError("values: expected at least one leakage value, got an empty array")
    if np.iscomplexobj(arr):
        arr = arr.real
    return float(np.mean(arr.astype(np.float64)))


# ---------------------------------------------------------------------- all together


def _subsample(x: np.ndarray, max_points: int, rng: np.random.Generator) -> np.ndarray:
    if x.shape[0] <= max_points:
        return x
    return x[rng.choice(x.shape[0], size=max_points, replace=False)]


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None


def evaluate(
    generated, real, mixture: IsotropicMixture | None = None, *, max_points=2500, seed=0
) -> dict:
    """Every metric of this module that applies, for ``generated`` [n, d] against ``real`` [m, d].

    Keys: ``mmd``, ``energy_distance`` (on at most ``max_points`` points of each set, a
    seeded random subset: these are O(n^2)), ``wasserstein_1d`` (per axis, all points);
    for 2-D data ``linear_r2_generated`` and ``linear_r2_real`` (``None`` where undefined,
    e.g. all points on one spot); with a ``mixture``, ``modes_captured``,
    ``high_quality_fraction``, ``mode_kl`` and ``mode_weights`` of the generated points
    (all of them). Values are Python floats, ints and lists: JSON-ready.
    """
    max_points = check_int(max_points, "max_points", minimum=2)
    g = _points(generated, "generated")
    r = _points(real, "real", dim=g.shape[1])
    if mixture is not None and np.shape(mixture.centers)[1] != g.shape[1]:
        raise ValueError(
            f"mixture: centres have dimension {np.shape(mixture.centers)[1]}, "
            f"the points {g.shape[1]}"
        )
    out: dict[str, Any] = {}
    if mixture is not None:
        out.update(mode_statistics(g, mixture))

    rng = np.random.default_rng(seed)
    gs, rs = _subsample(g, max_points, rng), _subsample(r, max_points, rng)
    dgg, drr, dgr = _self_sq_distances(gs), _self_sq_distances(rs), _sq_distances(gs, rs)
    med = math.sqrt(float(np.median(dgr))) or 1.0
    out["mmd"] = _mmd_from_sq(dgg, drr, dgr, [f * med for f in MMD_BANDWIDTH_FACTORS])
    out["energy_distance"] = _energy_from_sq(dgg, drr, dgr)
    out["wasserstein_1d"] = wasserstein_1d(g, r)
    if g.shape[1] == 2:
        out["linear_r2_generated"] = _json_float(linear_r2(g))
        out["linear_r2_real"] = _json_float(linear_r2(r))
    return out
