"""Real data for GAN training: Gaussian mixtures (with the GAN literature's presets), moons, files.

Points are NumPy ``float32`` arrays of shape ``[n, d]``. Mixtures keep their centres
(:class:`Mixture`), so that :mod:`qgan.metrics` can count modes and high-quality samples.

Presets (``data.kind``):

* ``bimodal`` -- the reference task of the project this package grew out of: centres
  (-1.5, -1.5) and (1.5, 1.5), std 0.3, equal weights.
* ``ring8`` -- 8 centres on the unit circle at angles 2*pi*k/8, k = 0..7, std 0.01, equal
  weights; PacGAN's 2D-ring (Lin et al. 2018, "PacGAN: the power of two samples in generative
  adversarial networks", NeurIPS; code github.com/fjxmlzn/PacGAN,
  ``synthetic_data_experiments/2DRing_GAN&PacGAN/config.py``: ``MEANS = [(cos(2 pi k/8),
  sin(2 pi k/8))]``, ``VARIANCES = 0.01**2 * I``, priors uniform).
* ``grid25`` -- 25 centres on {-4, -2, 0, 2, 4}^2, std 0.05, equal weights; PacGAN's 2D-grid
  (same code, ``2DGrid_GAN&PacGAN/config.py``: ``itertools.product(range(-4, 5, 2),
  range(-4, 5, 2))``, ``VARIANCES = 0.05**2 * I``). Centre k is (x_i, y_j) with k = 5 i + j,
  the order of ``itertools.product``.

Config errors are one-line ``ValueError``s naming the key, e.g.
``config key data.std: expected a number > 0, got -1.0``.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qgan._arrays import WORKING_ITEMSIZE, check_values, load_npy
from qgan._resources import available_memory, human
from qgan._validate import check_choice, check_int, check_number
from qgan.gan.names import DATA_KINDS

logger = logging.getLogger(__name__)

_MIXTURE_PRESETS = ("bimodal", "ring8", "grid25")
_OPTIONS = {  # config keys (besides kind and n) that each kind accepts
    "gaussian_mixture": ("centers", "std", "weights"),
    "bimodal": (),
    "ring8": (),
    "grid25": (),
    "moons": ("noise",),
    "file": ("path",),
}
MOONS_DEFAULT_NOISE = 0.1


def _key(name: str, prefix: str) -> str:
    return f"config key {prefix}{name}" if prefix else name


def _checked_mixture(
    centers: Any, std: Any, weights: Any, prefix: str = ""
) -> tuple[np.ndarray, float, np.ndarray]:
    """Validated ``(centers [K, d] float64, std, weights [K] summing to 1)``.

    ``prefix`` ("data.") turns argument names into config keys in the error messages.
    """
    try:
        c = np.array(centers, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{_key('centers', prefix)}: expected a list of points [[x, y, ...], ...] of equal "
            f"length, got {centers!r}"
        ) from None
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(
            f"{_key('centers', prefix)}: expected a non-empty list of points [K, d] "
            f"(e.g. [[-1.5, -1.5], [1.5, 1.5]]), got shape {c.shape}"
        )
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{_key('centers', prefix)}: expected finite numbers, got {centers!r}")
    s = check_number(std, _key("std", prefix))
    k = c.shape[0]
    if weights is None:
        w = np.full(k, 1.0 / k)
    else:
        try:
            w = np.array(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{_key('weights', prefix)}: expected {k} positive numbers, got {weights!r}"
            ) from None
        if w.shape != (k,):
            raise ValueError(
                f"{_key('weights', prefix)}: expected {k} numbers (one per centre), "
                f"got shape {w.shape}"
            )
        if not (np.all(np.isfinite(w)) and np.all(w > 0)):
            raise ValueError(
                f"{_key('weights', prefix)}: expected positive finite numbers "
                f"(drop a centre instead of giving it weight 0), got {weights!r}"
            )
        w = w / w.sum()
    return c, s, w


@dataclass(frozen=True, eq=False)
class Mixture:
    """A Gaussian mixture with isotropic components: ``sum_k w_k N(centers[k], std^2 I)``.

    ``centers``: ``[K, d]`` float64; ``std``: the per-axis standard deviation of every
    component; ``weights``: ``[K]`` float64, positive, summing to 1. Validated on
    construction (weights are normalised); the arrays are read-only.
    """

    centers: np.ndarray
    std: float
    weights: np.ndarray

    def __post_init__(self):
        c, s, w = _checked_mixture(self.centers, self.std, self.weights)
        c.setflags(write=False)
        w.setflags(write=False)
        object.__setattr__(self, "centers", c)
        object.__setattr__(self, "std", s)
        object.__setattr__(self, "weights", w)

    @property
    def n_components(self) -> int:
        """Number of centres K."""
        return int(self.centers.shape[0])

    @property
    def dim(self) -> int:
        """Dimension d of the points."""
        return int(self.centers.shape[1])

    def sample_with_labels(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points ``[n, d]`` float32 and the centre ``[n]`` int64 each was drawn from."""
        n = check_int(n, "n", minimum=1)
        labels = rng.choice(self.n_components, size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        points = self.centers[labels] + self.std * noise
        return points.astype(np.float32), labels.astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` i.i.d. points ``[n, d]`` float32: a centre by ``weights``, plus Gaussian noise."""
        return self.sample_with_labels(n, rng)[0]

    def __repr__(self) -> str:
        return (
            f"Mixture(K={self.n_components}, d={self.dim}, std={self.std}, "
            f"centers={self.centers.tolist()}, weights={self.weights.tolist()})"
        )


def gaussian_mixture(centers, std, weights=None) -> Mixture:
    """An isotropic Gaussian mixture; ``weights`` default to equal and are normalised.

    Raises a one-line ``ValueError`` naming ``centers``, ``std`` or ``weights``.
    """
    return Mixture(centers, std, weights)


def _ring8() -> Mixture:
    angles = 2.0 * np.pi * np.arange(8) / 8
    return Mixture(np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01, None)


def _grid25() -> Mixture:
    axis = range(-4, 5, 2)
    return Mixture(np.array(list(itertools.product(axis, axis)), dtype=np.float64), 0.05, None)


PRESETS: dict[str, Mixture] = {
    "bimodal": Mixture([[-1.5, -1.5], [1.5, 1.5]], 0.3, None),
    "ring8": _ring8(),
    "grid25": _grid25(),
}


def moons(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Two interleaving half circles, ``[n, 2]`` float32: scikit-learn's ``make_moons``.

    Exactly ``sklearn.datasets.make_moons(n, shuffle=True, noise=noise, random_state=s)``
    with ``s`` drawn from ``rng``: ``n // 2`` points evenly spaced on the outer arc
    (cos t, sin t), the rest on the inner arc (1 - cos t, 1/2 - sin t), t in [0, pi], then
    shuffled, plus isotropic Gaussian noise of std ``noise``.
    """
    n = check_int(n, "n", minimum=1)
    noise = check_number(noise, "noise", strict=False)
    from sklearn.datasets import make_moons  # lazy: scikit-learn is slow to import

    seed = int(rng.integers(0, 2**31 - 1))
    points, _ = make_moons(n_samples=n, shuffle=True, noise=float(noise), random_state=seed)
    return points.astype(np.float32)


def load_points(path, max_bytes: int | None = None) -> np.ndarray:
    """Points from a ``.npy`` file (a 2-D numeric array) or a ``.csv`` file, as ``[n, d]`` float32.

    A CSV has one point per row, comma-separated, with an optional header line (blank lines
    and ``#`` comments are skipped); a single column is d = 1. Nothing is allocated before
    the size is known: a ``.npy`` header is read first (:func:`qgan._arrays.load_npy`), a CSV
    is scanned once (UTF-8, row and column count) before it is parsed; the points and
    their float64 copy must fit ``max_bytes`` (default: the available memory). Values are
    checked as float32, the dtype training uses (:func:`qgan._arrays.check_values`).
    Raises a one-line ``ValueError`` starting ``path 'FILE':`` (or ``path: no such file``)
    for a missing file, another extension, a non-numeric or object dtype, a rank other
    than 2, a truncated file, too large a file, undecodable text or a non-numeric cell
    (naming line and column), an empty array, NaN/inf entries or float32 overflow.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"path: no such file {str(p)!r}")
    label = f"path {str(p)!r}"
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = load_npy(p, label, ndim=2, max_bytes=max_bytes)
    elif suffix == ".csv":
        arr = _read_csv(p, label, max_bytes)
    else:
        raise ValueError(f"path: expected a .npy or .csv file, got {str(p)!r}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{label}: holds no points (shape {arr.shape})")
    check_values(arr, label, np.float32)
    return arr.astype(np.float32)


#: longest CSV line read (bytes): a point of thousands of coordinates fits
CSV_MAX_LINE = 1 << 20


def _csv_lines(f, label: str):
    """``(number, bytes)`` of each line of the binary stream ``f`` (1-based), refusing a
    line longer than :data:`CSV_MAX_LINE` before reading it whole."""
    number = 0
    while raw := f.readline(CSV_MAX_LINE + 1):
        number += 1
        if len(raw) > CSV_MAX_LINE:
            raise ValueError(
                f"{label}: line {number} is longer than {human(CSV_MAX_LINE)}, "
                "expected one point per line"
            )
        yield number, raw


def _csv_cells(raw: bytes, label: str, number: int) -> list[str]:
    """The comma-separated cells of line ``number`` (1-based) of a CSV file, ``[]`` for a
    blank or comment line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{label}: not UTF-8 text at line {number} (byte 0x{raw[err.start]:02x})"
        ) from None
    text = text.split("#", 1)[0].strip()
    return text.split(",") if text else []


def _read_csv(p: Path, label: str, max_bytes: int | None) -> np.ndarray:
    """``[rows, columns]`` float64 of a CSV file, in two streaming passes: the first checks
    the text and counts rows (stopping at the memory bound), the second parses into a
    preallocated array."""
    bound = available_memory() if max_bytes is None else max_bytes
    header_line, columns, rows = None, 0, 0
    with open(p, "rb") as f:
        for number, raw in _csv_lines(f, label):
            cells = _csv_cells(raw, label, number)
            if not cells:
                continue
            if header_line is None and columns == 0:
                try:  # a first line that is not all numbers is a header
                    [float(v) for v in cells]
                except ValueError:
                    header_line = number
                    continue
            if columns == 0:
                columns = len(cells)
            elif len(cells) != columns:
                raise ValueError(
                    f"{label}: cannot read as comma-separated numbers: line {number} has "
                    f"{len(cells)} columns, expected {columns}"
                )
            rows += 1
            need = rows * columns * 2 * WORKING_ITEMSIZE  # the float64 array and a copy
            if bound is not None and need > bound:
                raise ValueError(
                    f"{label}: more than {rows - 1} rows of {columns} numbers, which need "
                    f"more than the {human(bound)} of memory available"
                )
    out = np.empty((rows, columns), np.float64)
    row = 0
    with open(p, "rb") as f:
        for number, raw in _csv_lines(f, label):
            cells = _csv_cells(raw, label, number)
            if not cells or number == header_line:
                continue
            if row >= rows or len(cells) != columns:
                raise ValueError(f"{label}: the file changed while it was read")
            for column, cell in enumerate(cells):
                try:
                    out[row, column] = float(cell)
                except ValueError:
                    raise ValueError(
                        f"{label}: cannot read as comma-separated numbers: line {number}, "
                        f"column {column + 1} is {cell.strip()[:20]!r}, not a number"
                    ) from None
            row += 1
    return out


def read_data_file(path) -> np.ndarray:
    """:func:`load_points` of the config's ``data.path``, errors prefixed ``config key data.``
    (``config key data.path 'FILE': ...``). What :func:`make_dataset` reads for
    ``data.kind: file``; ``qgan train`` also calls it before TensorFlow is imported, so that
    a bad file is one line at once."""
    try:
        return load_points(path)
    except ValueError as exc:
        raise ValueError(f"config key data.{exc}") from None


def make_dataset(kind: str, n: int, seed: int, **options) -> tuple[np.ndarray, Mixture | None]:
    """``n`` real points ``[n, d]`` float32 of ``data.kind`` and, for mixtures, their Mixture.

    ``kind``: one of ``DATA_KINDS``. ``options`` are the ``data`` config keys for that
    kind: ``centers``, ``std``, ``weights`` (``gaussian_mixture``), ``noise``
    (``moons``, default 0.1), ``path`` (``file``); an option set to ``None`` counts as absent.
    ``seed`` fixes the draw (``np.random.default_rng(seed)``). For ``file`` the points are
    the file's rows in a seeded random order, ``n`` of them if the file has more (all of
    them, with a warning, if it has fewer). Errors are one-line ``ValueError``s naming
    ``config key data.<key>``.
    """
    check_choice(kind, "config key data.kind", DATA_KINDS)
    given = {k: v for k, v in options.items() if v is not None}
    for key in given:
        if key not in _OPTIONS[kind]:
            allowed = ", ".join(_OPTIONS[kind]) or "none"
            raise ValueError(
                f"config key data.{key}: not an option of data.kind {kind!r} (options: {allowed})"
            )
    rng = np.random.default_rng(check_int(seed, "seed"))
    n = check_int(n, "config key data.n_samples", minimum=1)

    if kind in _MIXTURE_PRESETS or kind == "gaussian_mixture":
        if kind == "gaussian_mixture":
            for key in ("centers", "std"):
                if key not in given:
                    raise ValueError(
                        f"config key data.{key}: required when data.kind is 'gaussian_mixture'"
                    )
            c, s, w = _checked_mixture(
                given["centers"], given["std"], given.get("weights"), prefix="data."
            )
            mixture = Mixture(c, s, w)
        else:
            mixture = PRESETS[kind]
        return mixture.sample(n, rng), mixture

    if kind == "moons":
        noise = given.get("noise", MOONS_DEFAULT_NOISE)
        try:
            return moons(n, noise, rng), None
        except ValueError as exc:
            raise ValueError(f"config key data.{exc}") from None

    if "path" not in given:
        raise ValueError("config key data.path: required when data.kind is 'file'")
    points = read_data_file(given["path"])
    order = rng.permutation(points.shape[0])
    if points.shape[0] < n:
        logger.warning(
            "data.path %s holds %d points, fewer than data.n_samples=%d: using all of them",
            given["path"],
            points.shape[0],
            n,
        )
    return points[order[:n]], None
