"""Specification of the classifier data (``qgan.classify.data``).

* Images come in as ``[N, H, W]`` or ``[N, H * W]`` pixels (0-255 for Fashion-MNIST, 0-16
  for the digits) with integer labels 0-9 and leave as float32 ``[N, H, W]`` in [0, 1];
  a wrong pixel count, NaN, out-of-range pixels or bad labels are one-line errors.
* The digits are scikit-learn's ``load_digits``; Fashion-MNIST comes from an .npz
  (``data.path``) or ``tf.keras.datasets.fashion_mnist`` (not downloaded here: the loader
  is replaced by a stand-in).
* The split is seeded and stratified; PCA is fitted on the training split only and its
  features are standardised on it (oracle: NumPy's eigen-decomposition of the training
  covariance).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from qgan.classify import data as cdata
from qgan.classify.config import DataConfig
from qgan.classify.data import Features, check_images, load_images, read_npz, split

ATOL = 1e-6  # float32 features vs float64 NumPy oracles of unit-scale numbers


def test_images_are_scaled_to_the_unit_interval():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5)
    x, y = check_images(images, labels, "fashion_mnist", "test")
    assert x.dtype == np.float32 and x.shape == (5, 28, 28)
    np.testing.assert_allclose(x, images / 255.0, atol=ATOL)
    assert y.dtype == np.int32 and list(y) == list(labels)
    flat, _ = check_images(images.reshape(5, 784), labels, "fashion_mnist", "test")
    np.testing.assert_array_equal(flat, x)


BAD_IMAGES = [
    ("wrong pixel count", np.zeros((4, 27, 27)), np.zeros(4, int), "784 pixels per image"),
    ("flat wrong count", np.zeros((4, 100)), np.zeros(4, int), "784 pixels per image"),
    ("one image unbatched", np.zeros((28, 28)), np.zeros(28, int), "[N, 28, 28]"),
    ("empty", np.zeros((0, 28, 28)), np.zeros(0, int), "[N, 28, 28]"),
    ("NaN", np.where(np.eye(28) > 0, np.nan, 0.0)[None], np.zeros(1, int), "NaN"),
    ("infinite", np.full((1, 28, 28), np.inf), np.zeros(1, int), "NaN or infinite"),
    ("pixels above 255", np.full((2, 28, 28), 300.0), np.zeros(2, int), "[0, 255]"),
    ("negative pixels", np.full((2, 28, 28), -1.0), np.zeros(2, int), "[0, 255]"),
    ("strings", np.full((2, 28, 28), "a"), np.zeros(2, int), "real numbers"),
    ("labels too short", np.zeros((3, 28, 28)), np.zeros(2, int), "labels must have shape [3]"),
    ("label 10", np.zeros((2, 28, 28)), np.array([0, 10]), "[0, 10)"),
    ("negative label", np.zeros((2, 28, 28)), np.array([-1, 0]), "[0, 10)"),
    ("fractional label", np.zeros((2, 28, 28)), np.array([0.5, 1.0]), "integers"),
]


@pytest.mark.parametrize(
    ("images", "labels", "expected"), [b[1:] for b in BAD_IMAGES], ids=[b[0] for b in BAD_IMAGES]
)
def test_bad_images_are_one_line_errors(images, labels, expected):
    with pytest.raises(ValueError) as info:
        check_images(images, labels, "fashion_mnist", "data.path 'x.npz'")
    message = str(info.value)
    assert "\n" not in message and message.startswith("data.path 'x.npz': ")
    assert expected in message, message


def test_digit_pixels_are_0_to_16():
    check_images(np.full((1, 8, 8), 16.0), [3], "digits", "test")
    with pytest.raises(ValueError, match=r"\[0, 16\]"):
        check_images(np.full((1, 8, 8), 17.0), [3], "digits", "test")


def test_read_npz(tmp_path, write_npz):
    images = np.random.default_rng(1).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    path = write_npz(tmp_path / "six.npz", images, np.arange(6))
    data = read_npz(path, "fashion_mnist", "data.path")
    assert len(data) == 6 and data.source == str(path)
    np.testing.assert_allclose(data.images, images / 255.0, atol=ATOL)


def test_read_npz_errors(tmp_path, write_npz):
    with pytest.raises(ValueError, match="does not exist"):
        read_npz(tmp_path / "absent.npz", "fashion_mnist", "data.path")
    no_labels = tmp_path / "no_labels.npz"
    np.savez(no_labels, images=np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="no array 'labels'"):
        read_npz(no_labels, "fashion_mnist", "data.path")
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        read_npz(text, "fashion_mnist", "data.path")
    wrong = write_npz(tmp_path / "wrong.npz", np.zeros((2, 8, 8)), [0, 1])
    with pytest.raises(ValueError, match="784 pixels per image") as info:
        read_npz(wrong, "fashion_mnist", "evaluation file")
    assert str(info.value).startswith(f"evaluation file {str(wrong)!r}: ")


def test_digits_are_scikit_learns():
    data = load_images(DataConfig(kind="digits", n_samples=None), seed=0)
    d = load_digits()
    assert len(data) == len(d.target) == 1797
    np.testing.assert_allclose(data.images, d.images / 16.0, atol=ATOL)
    np.testing.assert_array_equal(data.labels, d.target)


def test_n_samples_is_a_seeded_subset():
    full = load_images(DataConfig(kind="digits", n_samples=None), seed=0)
    a = load_images(DataConfig(kind="digits", n_samples=100), seed=3)
    b = load_images(DataConfig(kind="digits", n_samples=100), seed=3)
    c = load_images(DataConfig(kind="digits", n_samples=100), seed=4)
    assert len(a) == 100
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.labels, c.labels) or not np.array_equal(a.images, c.images)
    # every drawn image is one of the pool's, with its own label
    flat = {(img.tobytes(), int(lab)) for img, lab in zip(full.images, full.labels)}
    assert all((img.tobytes(), int(lab)) in flat for img, lab in zip(a.images, a.labels))


def test_n_samples_above_the_pool_takes_all(tmp_path, write_npz):
    path = write_npz(tmp_path / "d.npz", np.zeros((30, 28, 28), np.uint8), np.arange(30) % 10)
    data = load_images(DataConfig(path=str(path), n_samples=1000), seed=0)
    assert len(data) == 30


def test_packaged_fashion_mnist_is_the_default_without_a_path(monkeypatch):
    """Without ``path`` (and without ``full``), Fashion-MNIST is the 800-image file shipped
    in the package, read offline: the Keras loader is never called."""

    def no_download():
        raise AssertionError("the Keras loader must not run without data.full")

    monkeypatch.setattr(cdata, "_keras_fashion_mnist", no_download)
    shipped = Path(__file__).resolve().parents[2] / "qgan/classify/datasets/fashion_mnist_800.npz"
    with np.load(shipped) as archive:
        images, labels = archive["images"], archive["labels"]
    assert images.shape == (800, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == list(range(10))
    data = load_images(DataConfig(n_samples=None), seed=0)
    assert Path(data.source).resolve() == shipped
    np.testing.assert_allclose(data.images, images / 255.0, atol=ATOL)
    np.testing.assert_array_equal(data.labels, labels)


def test_keras_loader_is_used_for_the_full_dataset(monkeypatch):
    """``data.full: true`` loads ``tf.keras.datasets.fashion_mnist`` (its training images
    are the pool); a stand-in replaces the download here."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = np.arange(50) % 10
    monkeypatch.setattr(cdata, "_keras_fashion_mnist", lambda: (images, labels))
    data = load_images(DataConfig(full=True, n_samples=None), seed=0)
    assert data.source == "tf.keras.datasets.fashion_mnist"
    np.testing.assert_allclose(data.images, images / 255.0, atol=ATOL)


def test_keras_loader_failure_is_one_line_naming_data_full(monkeypatch):
    def offline():
        raise OSError("URL fetch failure on https://storage.googleapis.com/...\nmore")

    monkeypatch.setattr(cdata, "_keras_fashion_mnist", offline)
    with pytest.raises(ValueError) as info:
        load_images(DataConfig(full=True), seed=0)
    message = str(info.value)
    assert "\n" not in message and message.startswith("data.full: ")
    assert "fashion_mnist_800.npz" in message


# ------------------------------------------------------------------------------ split


@pytest.fixture(scope="module")
def digits():
    return load_images(DataConfig(kind="digits", n_samples=500), seed=0)


def test_split_is_a_seeded_stratified_partition(digits):
    # distinct images, so that rows can be told apart
    unique = np.random.default_rng(5).random(digits.images.shape).astype(np.float32)
    data = cdata.ImageData(unique, digits.labels, "digits", "test")
    parts = split(data, 0.2, seed=1)
    n_val = int(np.ceil(0.2 * len(data)))
    assert len(parts.validation) == n_val and len(parts.train) == len(data) - n_val
    label_of = {img.tobytes(): int(lab) for img, lab in zip(data.images, data.labels)}
    train = [img.tobytes() for img in parts.train.images]
    val = [img.tobytes() for img in parts.validation.images]
    assert sorted(train + val) == sorted(label_of)  # a partition of the images
    assert [label_of[r] for r in val] == list(parts.validation.labels)  # labels kept
    # stratified: each class's share in the validation split is within one image of its share
    for c in range(10):
        expected = np.mean(data.labels == c) * n_val
        assert abs(np.sum(parts.validation.labels == c) - expected) <= 1
    again = split(data, 0.2, seed=1)
    np.testing.assert_array_equal(again.validation.images, parts.validation.images)
    other = split(data, 0.2, seed=2)
    assert not np.array_equal(other.validation.images, parts.validation.images)


def test_split_errors(digits):
    one = cdata.ImageData(digits.images[:1], digits.labels[:1], "digits", "test")
    with pytest.raises(ValueError, match="data.validation_fraction"):
        split(one, 0.2, seed=0, stratify=False)
    lonely = cdata.ImageData(
        digits.images[:20], np.array([0] * 19 + [1], np.int32), "digits", "test"
    )
    with pytest.raises(ValueError, match="data.stratify"):
        split(lonely, 0.2, seed=0)
    parts = split(lonely, 0.2, seed=0, stratify=False)
    assert len(parts.train) == 16


# ------------------------------------------------------------------------------ features


def _pca_oracle(train_images, k):
    """Leading principal axes and variances from NumPy's eigh of the training covariance."""
    flat = np.asarray(train_images, np.float64).reshape(len(train_images), -1)
    mean = flat.mean(axis=0)
    cov = np.cov(flat - mean, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    return mean, vectors[:, order].T, values[order]


def test_pca_features_match_the_eigen_decomposition_of_the_training_split(digits):
    parts = split(digits, 0.2, seed=0)
    k, scale = 6, 0.35
    features = Features.fit_pca(parts.train.images, k, scale)
    mean, axes, variances = _pca_oracle(parts.train.images, k)
    np.testing.assert_allclose(features.mean, mean, atol=1e-10)
    # the same axes up to sign
    overlap = np.abs(np.sum(features.components * axes, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)
    np.testing.assert_allclose(features.std**2, variances, rtol=1e-8)
    # expected features: projections on the oracle's axes (signs aligned), standardised
    signs = np.sign(np.sum(features.components * axes, axis=1))
    flat = parts.validation.images.reshape(len(parts.validation), -1).astype(np.float64)
    expected = scale * ((flat - mean) @ (axes.T * signs)) / np.sqrt(variances)
    got = features(parts.validation.images)
    assert got.dtype == np.float32 and got.shape == (len(parts.validation), k)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_pca_is_fitted_on_the_training_split_only(digits):
    """Features of the training split have mean 0 and standard deviation ``scale``; the
    validation split's do not (it took no part in the fit)."""
    parts = split(digits, 0.2, seed=0)
    features = Features.fit_pca(parts.train.images, 8, 0.5)
    train = features(parts.train.images).astype(np.float64)
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 0.5, atol=1e-5)
    val = features(parts.validation.images).astype(np.float64)
    assert np.max(np.abs(val.mean(axis=0))) > 1e-3
    on_all = Features.fit_pca(digits.images, 8, 0.5)
    assert not np.allclose(on_all.mean, features.mean)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(12, 40),
    k=st.integers(1, 5),
    scale=st.floats(0.05, 3.0),
    seed=st.integers(0, 2**16),
)
def test_pca_features_are_standardised_on_any_training_set(n, k, scale, seed):
    images = np.random.default_rng(seed).random((n, 8, 8))
    features = Features.fit_pca(images, k, scale)
    z = features(images).astype(np.float64)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5 * max(1.0, scale))
    np.testing.assert_allclose(z.std(axis=0), scale, rtol=1e-5)


def test_too_many_components_names_n_qubits():
    with pytest.raises(ValueError, match="model.n_qubits"):
        Features.fit_pca(np.random.default_rng(0).random((5, 8, 8)), 6, 1.0)


def test_feature_map_round_trips_through_its_file(tmp_path, digits):
    features = Features.fit_pca(digits.images, 4, 0.35)
    path = tmp_path / "features.npz"
    path.write_bytes(features.to_bytes())
    again = Features.from_file(path)
    np.testing.assert_array_equal(again(digits.images), features(digits.images))
    pixels = Features.pixels((8, 8))
    path.write_bytes(pixels.to_bytes())
    again = Features.from_file(path)
    assert again.kind == "pixels" and again.image_shape == (8, 8)
    np.testing.assert_array_equal(again(digits.images), digits.images)


# --------------------------------------------------------------------------- hostile files


def _npz_members(path, members: dict[str, bytes]):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data)
    return path


def _npy(array=None, *, header_shape=None, descr="|u1") -> bytes:
    """The bytes of ``np.save(array)``, or a bare header claiming ``header_shape``."""
    from numpy.lib import format as npformat

    buffer = io.BytesIO()
    if header_shape is None:
        np.save(buffer, array)
    else:
        npformat.write_array_header_1_0(
            buffer, {"descr": descr, "fortran_order": False, "shape": header_shape}
        )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("images", "labels", "expected"),
    [
        (_npy(header_shape=(10**12, 28, 28)), _npy(np.arange(3)), "array 'images': shape"),
        (_npy(np.zeros((60, 28, 28), np.uint8))[:-100], _npy(np.arange(60)), "truncated"),
        (_npy(np.zeros((2, 28, 28), np.uint8)), _npy(np.zeros((2, 1))), "'labels': holds an"),
        (_npy(np.zeros((2, 28, 28), np.uint8)), _npy(np.array(["a", "b"])), "expected real"),
        (_npy(header_shape=(2, 28, 28), descr="|O"), _npy(np.arange(2)), "Python objects"),
    ],
    ids=["1e12 images", "truncated member", "2-D labels", "text labels", "object images"],
)
def test_hostile_npz_is_refused_from_the_headers(tmp_path, images, labels, expected):
    path = _npz_members(tmp_path / "x.npz", {"images": images, "labels": labels})
    with pytest.raises(ValueError) as info:
        read_npz(path, "fashion_mnist", "data.path")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"data.path {str(path)!r}"), message
    assert expected in message, message
