"""Specification of ``qgan.gan.data``: mixtures and presets as the literature defines them,
moons as scikit-learn defines them, point files, and ``make_dataset``'s config errors.

Oracles: the PacGAN reference configs (ring: ``(cos 2 pi k/8, sin 2 pi k/8)``, std 0.01;
grid: ``itertools.product(range(-4, 5, 2), repeat=2)``, std 0.05), goodness-of-fit tests
of the samples against the mixture definition, the analytic arcs of the moons, and
``sklearn.datasets.make_moons`` itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from qgan.gan.data import (
    DATA_KINDS,
    PRESETS,
    Mixture,
    gaussian_mixture,
    load_points,
    make_dataset,
    moons,
)


def one_line_value_error(match: str, fn, *args, **kwargs) -> str:
    with pytest.raises(ValueError, match=match) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg, f"error message is not one line: {msg!r}"
    return msg


# --------------------------------------------------------------------------- presets


class TestPresets:
    def test_bimodal_is_the_reference_task(self, data_tol):
        m = PRESETS["bimodal"]
        np.testing.assert_array_equal(m.centers, [[-1.5, -1.5], [1.5, 1.5]])
        assert m.std == 0.3
        np.testing.assert_allclose(m.weights, [0.5, 0.5], atol=data_tol.exact)

    def test_ring8_is_pacgans_2d_ring(self, data_tol):
        m = PRESETS["ring8"]
        expected = [(np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)) for k in range(8)]
        np.testing.assert_allclose(m.centers, expected, atol=data_tol.exact)
        np.testing.assert_allclose(np.linalg.norm(m.centers, axis=1), 1.0, atol=data_tol.exact)
        assert m.std == 0.01
        np.testing.assert_allclose(m.weights, np.full(8, 1 / 8), atol=data_tol.exact)

    def test_grid25_is_pacgans_2d_grid(self, data_tol):
        m = PRESETS["grid25"]
        expected = list(itertools.product(range(-4, 5, 2), range(-4, 5, 2)))
        np.testing.assert_array_equal(m.centers, expected)
        assert m.std == 0.05
        np.testing.assert_allclose(m.weights, np.full(25, 1 / 25), atol=data_tol.exact)

    def test_presets_are_immutable(self):
        m = PRESETS["ring8"]
        with pytest.raises(dataclasses.FrozenInstanceError):
            m.std = 1.0
        with pytest.raises(ValueError):
            m.centers[0, 0] = 5.0
        with pytest.raises(ValueError):
            m.weights[0] = 1.0


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_samples_follow_the_mixture(name, data_tol):
    """Component counts match the weights (chi-square) and the offsets from the drawn centre,
    divided by std, are standard normal on every axis (Kolmogorov-Smirnov)."""
    m = PRESETS[name]
    rng = np.random.default_rng(1234)
    points, labels = m.sample_with_labels(20_000, rng)
    assert points.shape == (20_000, 2) and points.dtype == np.float32
    counts = np.bincount(labels, minlength=m.n_components)
    assert stats.chisquare(counts, m.weights * len(labels)).pvalue > data_tol.alpha
    z = (points.astype(np.float64) - m.centers[labels]) / m.std
    for axis in range(m.dim):
        assert stats.kstest(z[:, axis], "norm").pvalue > data_tol.alpha


def test_unequal_weights_are_respected(data_tol):
    m = gaussian_mixture([[0.0], [10.0], [20.0]], 0.5, [1.0, 2.0, 5.0])
    np.testing.assert_allclose(m.weights, [1 / 8, 2 / 8, 5 / 8], atol=data_tol.exact)
    _, labels = m.sample_with_labels(16_000, np.random.default_rng(7))
    counts = np.bincount(labels, minlength=3)
    assert stats.chisquare(counts, m.weights * len(labels)).pvalue > data_tol.alpha


def test_sample_is_seeded():
    m = PRESETS["grid25"]
    a = m.sample(100, np.random.default_rng(3))
    b = m.sample(100, np.random.default_rng(3))
    c = m.sample(100, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_rejects_a_bad_count():
    for n in (0, -3, 2.5, True):
        one_line_value_error(
            "^n must be an int >= 1, got", PRESETS["bimodal"].sample, n, np.random.default_rng(0)
        )


@given(
    k=st.integers(1, 6),
    d=st.integers(1, 4),
    std=st.floats(1e-3, 10.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_mixture_samples_its_shape(k, d, std, seed):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 5
    weights = rng.uniform(0.1, 1.0, size=k)
    m = gaussian_mixture(centers.tolist(), std, weights.tolist())
    assert m.n_components == k and m.dim == d
    assert abs(float(m.weights.sum()) - 1.0) < 1e-12
    x = m.sample(17, rng)
    assert x.shape == (17, d) and x.dtype == np.float32 and np.all(np.isfinite(x))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("centers", "std", "weights", "key"),
    [
        ([1.0, 2.0], 0.1, None, "centers"),
        ([], 0.1, None, "centers"),
        ([[0.0, 1.0], [2.0]], 0.1, None, "centers"),
        ([[0.0, float("nan")]], 0.1, None, "centers"),
        ("abc", 0.1, None, "centers"),
        ([[0.0, 0.0]], 0.0, None, "std"),
        ([[0.0, 0.0]], -1.0, None, "std"),
        ([[0.0, 0.0]], float("nan"), None, "std"),
        ([[0.0, 0.0]], "0.1", None, "std"),
        ([[0.0, 0.0]], True, None, "std"),
        ([[0.0, 0.0], [1.0, 1.0]], 0.1, [1.0], "weights"),
        ([[0.0, 0.0], [1.0, 1.0]], 0.1, [1.0, -1.0], "weights"),
        ([[0.0, 0.0], [1.0, 1.0]], 0.1, [1.0, 0.0], "weights"),
        ([[0.0, 0.0], [1.0, 1.0]], 0.1, [1.0, float("inf")], "weights"),
        ([[0.0, 0.0], [1.0, 1.0]], 0.1, ["a", "b"], "weights"),
    ],
)
def test_gaussian_mixture_names_the_bad_argument(centers, std, weights, key):
    # std is a plain positive number (qgan._validate's message); the arrays say what they lack
    problem = " must be a number > 0, got" if key == "std" else ": expected"
    one_line_value_error(f"^{key}{problem}", gaussian_mixture, centers, std, weights)
    # the same check through make_dataset names the config key
    one_line_value_error(
        f"^config key data.{key}{problem}",
        make_dataset,
        "gaussian_mixture",
        10,
        0,
        centers=centers,
        std=std,
        weights=weights,
    )


# --------------------------------------------------------------------------- moons


def test_noiseless_moons_lie_on_the_two_arcs(data_tol):
    x = moons(501, 0.0, np.random.default_rng(0)).astype(np.float64)
    assert x.shape == (501, 2) and x.dtype == np.float64
    outer = np.abs(np.hypot(x[:, 0], x[:, 1]) - 1.0) < data_tol.float32
    inner = np.abs(np.hypot(x[:, 0] - 1.0, x[:, 1] - 0.5) - 1.0) < data_tol.float32
    assert np.all(outer | inner)
    assert np.all(x[outer, 1] >= -data_tol.float32)  # upper half circle
    assert np.all(x[inner, 1] <= 0.5 + data_tol.float32)  # lower half circle, shifted
    assert outer.sum() == 501 // 2 and inner.sum() == 501 - 501 // 2


def test_moons_are_sklearn_make_moons_seeded_from_rng():
    from sklearn.datasets import make_moons

    ours = moons(300, 0.1, np.random.default_rng(42))
    seed = int(np.random.default_rng(42).integers(0, 2**31 - 1))
    ref, _ = make_moons(n_samples=300, shuffle=True, noise=0.1, random_state=seed)
    np.testing.assert_array_equal(ours, ref.astype(np.float32))
    assert ours.dtype == np.float32
    again = moons(300, 0.1, np.random.default_rng(42))
    np.testing.assert_array_equal(ours, again)


def test_moons_reject_bad_noise():
    for noise in (-0.1, float("nan"), "x"):
        one_line_value_error(
            "^noise must be a number >= 0, got", moons, 10, noise, np.random.default_rng(0)
        )


# --------------------------------------------------------------------------- files


class TestLoadPoints:
    def test_npy_round_trip(self, tmp_path):
        x = np.random.default_rng(0).normal(size=(50, 3))
        np.save(tmp_path / "p.npy", x)
        got = load_points(tmp_path / "p.npy")
        assert got.dtype == np.float32 and got.shape == (50, 3)
        np.testing.assert_array_equal(got, x.astype(np.float32))

    def test_csv_with_and_without_header(self, tmp_path):
        x = np.random.default_rng(1).normal(size=(20, 2))
        np.savetxt(tmp_path / "a.csv", x, delimiter=",")
        np.savetxt(tmp_path / "b.csv", x, delimiter=",", header="x,y", comments="")
        for name in ("a.csv", "b.csv"):
            got = load_points(str(tmp_path / name))
            np.testing.assert_allclose(got, x.astype(np.float32), rtol=1e-6)

    def test_single_column_csv_is_one_dimensional_data(self, tmp_path):
        (tmp_path / "c.csv").write_text("1.0\n2.0\n3.5\n")
        got = load_points(tmp_path / "c.csv")
        np.testing.assert_array_equal(got, [[1.0], [2.0], [3.5]])

    @pytest.mark.parametrize(
        ("name", "content", "match"),
        [
            ("missing.npy", None, "no such file"),
            ("p.txt", "1,2\n", "expected a .npy or .csv file"),
            ("one_d.npy", np.arange(5.0), r"shape \(5,\), expected 2-D .*\(n, 1\)"),
            ("three_d.npy", np.zeros((2, 2, 2)), r"shape \(2, 2, 2\), expected 2-D"),
            ("nan.npy", np.array([[0.0, np.nan]]), "1 NaN/inf entries .*row 0, column 1"),
            ("empty.npy", np.zeros((0, 2)), "holds no points"),
            ("text.npy", np.array([["a", "b"]]), "expected real numbers"),
            ("objects.npy", np.array([[1, None]], dtype=object), "Python objects .*never loaded"),
            ("nan.csv", "1,2\n3,nan\n", "NaN/inf entries .*row 1, column 1"),
            ("words.csv", "x,y\na,b\n", "numbers: line 2, column 1 is 'a', not a number"),
            ("ragged.csv", "1,2\n3\n", "comma-separated numbers: line 2 has 1 columns, expected 2"),
            ("empty.csv", "", "holds no points"),
        ],
    )
    def test_clear_errors(self, tmp_path, name, content, match):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, np.ndarray):
            np.save(path, content, allow_pickle=content.dtype == object)
        prefix = "path: " if content is None or name.endswith(".txt") else f"path {str(path)!r}: "
        one_line_value_error(f"^{re.escape(prefix)}.*{match}", load_points, path)


# --------------------------------------------------------------------------- make_dataset


@pytest.mark.parametrize("kind", ["bimodal", "ring8", "grid25"])
def test_make_dataset_presets(kind):
    x, mixture = make_dataset(kind, 64, seed=5)
    assert mixture is PRESETS[kind]
    assert x.shape == (64, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, PRESETS[kind].sample(64, np.random.default_rng(5)))
    x2, _ = make_dataset(kind, 64, seed=5, centers=None, noise=None)  # None means "not set"
    np.testing.assert_array_equal(x, x2)


def test_make_dataset_gaussian_mixture():
    x, m = make_dataset(
        "gaussian_mixture", 30, 1, centers=[[0, 0, 0], [5, 5, 5]], std=0.2, weights=[1, 3]
    )
    assert x.shape == (30, 3) and isinstance(m, Mixture)
    np.testing.assert_allclose(m.weights, [0.25, 0.75])
    assert m.std == 0.2


def test_make_dataset_moons_default_noise():
    x, m = make_dataset("moons", 40, 2)
    assert m is None and x.shape == (40, 2)
    np.testing.assert_array_equal(x, moons(40, 0.1, np.random.default_rng(2)))


def test_make_dataset_file(tmp_path, caplog):
    rows = np.arange(20.0).reshape(10, 2)
    np.save(tmp_path / "p.npy", rows)
    x, m = make_dataset("file", 4, 0, path=str(tmp_path / "p.npy"))
    assert m is None and x.shape == (4, 2)
    assert len({tuple(r) for r in x}) == 4 and all(tuple(r) in set(map(tuple, rows)) for r in x)
    with caplog.at_level(logging.WARNING, logger="qgan.gan.data"):
        x, _ = make_dataset("file", 25, 0, path=str(tmp_path / "p.npy"))
    assert x.shape == (10, 2) and "fewer than data.n_samples" in caplog.text
    np.testing.assert_array_equal(np.sort(x[:, 0]), rows[:, 0])


@pytest.mark.parametrize(
    ("kind", "options", "match"),
    [
        ("spiral", {}, r"^config key data.kind must be one of \['gaussian_mixture'"),
        ("bimodal", {"std": 0.5}, "^config key data.std: not an option of data.kind 'bimodal'"),
        ("ring8", {"depth": 3}, "^config key data.depth: not an option"),
        ("moons", {"path": "x.npy"}, "^config key data.path: not an option of data.kind 'moons'"),
        ("gaussian_mixture", {"std": 0.1}, "^config key data.centers: required"),
        ("gaussian_mixture", {"centers": [[0, 0]]}, "^config key data.std: required"),
        ("file", {}, "^config key data.path: required"),
        ("file", {"path": "/nonexistent/p.npy"}, "^config key data.path: no such file"),
        ("moons", {"noise": -1.0}, "^config key data.noise must be a number >= 0, got -1.0"),
    ],
)
def test_make_dataset_config_errors(kind, options, match):
    one_line_value_error(match, make_dataset, kind, 10, 0, **options)


def test_make_dataset_rejects_bad_n_and_seed():
    one_line_value_error(
        "^config key data.n_samples must be an int >= 1, got 0", make_dataset, "bimodal", 0, 0
    )
    one_line_value_error("^seed must be an int, got 1.5", make_dataset, "bimodal", 5, 1.5)


def test_every_kind_is_buildable(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((3, 4)))
    options = {
        "gaussian_mixture": {"centers": [[0.0], [1.0]], "std": 0.1},
        "file": {"path": str(tmp_path / "p.npy")},
    }
    for kind in DATA_KINDS:
        x, _ = make_dataset(kind, 3, 0, **options.get(kind, {}))
        assert x.ndim == 2 and x.shape[0] == 3 and x.dtype == np.float32


# --------------------------------------------------------------------------- hostile files
# Each refusal is one line naming the config key and the file, raised before the points
# are allocated (headers and a streaming scan first; see tests/test_arrays.py for the
# traced-memory oracle of the header checks).


def _npy_header(shape, descr="<f8") -> bytes:
    import io

    from numpy.lib import format as npformat

    buffer = io.BytesIO()
    npformat.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    )
    return buffer.getvalue()


def _file_error(path, **kwargs) -> str:
    """make_dataset's one-line error for ``data.kind: file`` with ``data.path: path``."""
    msg = one_line_value_error(
        f"^config key data.path {re.escape(repr(str(path)))}: ",
        make_dataset,
        "file",
        10,
        0,
        path=str(path),
        **kwargs,
    )
    return msg


def test_npy_header_claiming_1e12_rows_is_refused_before_allocation(tmp_path):
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy_header((10**12, 2)) + b"\0" * 32)
    assert "more than the" in _file_error(path)


def test_truncated_npy_names_the_file(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((50, 2)))
    data = (tmp_path / "p.npy").read_bytes()
    (tmp_path / "p.npy").write_bytes(data[:-16])
    assert "truncated" in _file_error(tmp_path / "p.npy")


def test_float64_that_overflows_float32_names_the_file(tmp_path):
    np.save(tmp_path / "big.npy", np.array([[1e300, 0.0], [1.0, 2.0]]))
    msg = _file_error(tmp_path / "big.npy")
    assert "1 value overflows float32 (max |x| 1e+300" in msg


def test_nan_names_the_file(tmp_path):
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    assert "1 NaN/inf entries (first at row 0, column 1)" in _file_error(tmp_path / "nan.npy")


def test_csv_bad_bytes_name_file_and_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"x,y\n1,2\n3,\xba4\n5,6\n")
    assert "not UTF-8 text at line 3 (byte 0xba)" in _file_error(path)


def test_csv_non_numeric_cell_names_line_and_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("x,y\n1,2\n\n3,four\n")
    assert "line 4, column 2 is 'four', not a number" in _file_error(path)


def test_csv_rows_are_bounded_before_parsing(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("x,y\n" + "1,2\n" * 1000)
    # 1000 rows x 2 columns x (8 + 8) bytes = 32 kB: refused under 16 kB, read at 32 kB
    msg = one_line_value_error(
        f"^path {re.escape(repr(str(path)))}: more than 500 rows of 2 numbers",
        load_points,
        path,
        max_bytes=16_000,
    )
    assert "16 kB" in msg
    assert load_points(path, max_bytes=32_000).shape == (1000, 2)


def test_csv_overlong_line_is_refused_without_reading_it_whole(tmp_path):
    from qgan.gan.data import CSV_MAX_LINE

    path = tmp_path / "x.csv"
    path.write_text("1," * (CSV_MAX_LINE // 2 + 1) + "1\n")
    assert "line 1 is longer than" in _file_error(path)


def test_csv_comments_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("# x,y\n\n1,2 # first\n\n3,4\n")
    np.testing.assert_array_equal(load_points(path), [[1, 2], [3, 4]])
