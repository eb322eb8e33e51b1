"""Image data of the classifier workloads: loading, checks, the seeded split and features.

Datasets (``data.kind``):

* ``fashion_mnist``: 28 x 28 images, pixels 0-255, 10 classes; by default the 800 images
  shipped with qgan (:mod:`qgan.classify.datasets`), with ``data.full`` the full dataset
  from ``tf.keras.datasets.fashion_mnist`` (its 60,000 training images are the pool), or,
  with ``data.path``, an ``.npz`` with arrays ``images`` [N, 28, 28] and ``labels`` [N].
* ``digits``: scikit-learn's bundled 8 x 8 handwritten digits (1,797 images, pixels 0-16).

Pixels are scaled to [0, 1] by the dataset's maximum pixel value. The features a model
sees come from :class:`Features`: ``pixels`` (the scaled images, for the classical
baseline) or ``pca`` (principal components fitted on the training split only,
standardised with the training split's statistics, times an angle scale).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qgan._arrays import load_npz

N_CLASSES = 10
log = logging.getLogger("qgan.classify")


@dataclass(frozen=True)
class DatasetSpec:
    """Image size, pixel range and class names of a dataset kind."""

    image_shape: tuple[int, int]
    max_pixel: float
    class_names: tuple[str, ...]

    @property
    def n_pixels(self) -> int:
        return int(np.prod(self.image_shape))


SPECS = {
    "fashion_mnist": DatasetSpec(
        (28, 28),
        255.0,
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "digits": DatasetSpec((8, 8), 16.0, tuple(str(d) for d in range(10))),
}


@dataclass
class ImageData:
    """Images ``[N, H, W]`` float32 in [0, 1] and labels ``[N]`` int32 in [0, 10)."""

    images: np.ndarray
    labels: np.ndarray
    kind: str
    source: str

    @property
    def spec(self) -> DatasetSpec:
        return SPECS[self.kind]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Split:
    """The seeded train/validation split of an :class:`ImageData`."""

    train: ImageData
    validation: ImageData


# ------------------------------------------------------------------------------ checks


def check_images(images, labels, kind: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate raw images and labels of dataset ``kind``; ``name`` prefixes the errors.

    Accepts images ``[N, H, W]`` or ``[N, H * W]`` (any real dtype, 0..max pixel) and
    integer labels ``[N]`` in [0, 10). Returns images ``[N, H, W]`` float32 scaled to [0, 1]
    and labels int32.
    """
    spec = SPECS[kind]
    h, w = spec.image_shape
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype.kind not in "fiub":
        raise ValueError(f"{name}: images must be real numbers, got dtype {images.dtype}")
    shape_ok = images.ndim == 3 and images.shape[1:] == (h, w)
    shape_ok = shape_ok or (images.ndim == 2 and images.shape[1] == h * w)
    if not shape_ok or len(images) == 0:
        got = images.shape[1:] if images.ndim >= 2 else images.shape
        raise ValueError(
            f"{name}: images must have shape [N, {h}, {w}] ({h * w} pixels per image, as "
            f"{kind}), got {list(images.shape)} ({int(np.prod(got))} pixels per image)"
        )
    x = images.astype(np.float64).reshape(len(images), h, w)
    if not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.all(np.isfinite(x.reshape(len(x), -1)), axis=1)))
        raise ValueError(f"{name}: images contain NaN or infinite values ({bad} images)")
    if x.min() < 0 or x.max() > spec.max_pixel:
        raise ValueError(
            f"{name}: pixel values must lie in [0, {spec.max_pixel:g}] ({kind}), got "
            f"[{x.min():g}, {x.max():g}]"
        )
    if labels.shape != (len(images),):
        raise ValueError(
            f"{name}: labels must have shape [{len(images)}] (one per image), got "
            f"{list(labels.shape)}"
        )
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError(f"{name}: labels must be integers in [0, {N_CLASSES})")
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"{name}: labels must be integers, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise ValueError(
            f"{name}: labels must lie in [0, {N_CLASSES}), got [{labels.min()}, {labels.max()}]"
        )
    return (x / spec.max_pixel).astype(np.float32), labels.astype(np.int32)


def read_npz(path, kind: str, name: str, max_bytes: int | None = None) -> ImageData:
    """An ``.npz`` with arrays ``images`` and ``labels`` as :class:`ImageData` (checked).

    The arrays' headers are read first (:func:`qgan._arrays.load_npz`): object or
    non-numeric dtypes, ranks other than images ``[N, H, W]`` / ``[N, H * W]`` and labels
    ``[N]``, truncated members, and arrays that with their float64 copies exceed
    ``max_bytes`` (default: the available memory) are refused before anything is
    allocated. Errors are one line starting ``<name> 'PATH':``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name}: file {str(path)!r} does not exist")
    label = f"{name} {str(path)!r}"
    arrays = load_npz(
        path,
        label,
        ("images", "labels"),
        ndim={"images": (2, 3), "labels": 1},
        max_bytes=max_bytes,
    )
    x, y = check_images(arrays["images"], arrays["labels"], kind, label)
    return ImageData(x, y, kind, str(path))


# ------------------------------------------------------------------------------ loading


def _keras_fashion_mnist():
    import tensorflow as tf

    (x, y), _ = tf.keras.datasets.fashion_mnist.load_data()
    return x, y


def data_file(data_cfg) -> str | None:
    """The ``.npz`` that :func:`load_images` reads for ``data_cfg`` (``data.path``, or the
    packaged Fashion-MNIST file), or None where the images come from elsewhere (scikit-learn's
    digits, ``tf.keras`` with ``data.full``)."""
    return None if data_cfg.kind == "digits" else data_cfg.npz


def check_files(data_cfg, evaluate=None) -> None:
    """Read and check the ``.npz`` files a run will read (:func:`data_file` of ``data_cfg``,
    and the ``evaluate`` file if given) and discard them: ``qgan classify`` calls this before
    TensorFlow is imported, so that a bad file is one line at once (:func:`read_npz`)."""
    if data_file(data_cfg) is not None:
        read_npz(data_file(data_cfg), data_cfg.kind, "data.path")
    if evaluate is not None:
        read_npz(evaluate, data_cfg.kind, "evaluation file")


def load_images(data_cfg, seed: int) -> ImageData:
    """The images of a ``data`` config section, at most ``n_samples`` (seeded subset).

    ``data_cfg``: :class:`qgan.classify.config.DataConfig`. Without ``path``, Fashion-MNIST
    is the 800-image file shipped with qgan, or with ``full`` the full dataset from
    ``tf.keras.datasets.fashion_mnist`` (downloads on first use).
    """
    kind = data_cfg.kind
    if kind == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = check_images(d.images, d.target, kind, "digits")
        data = ImageData(x, y, kind, "sklearn.datasets.load_digits")
    elif data_file(data_cfg) is not None:
        data = read_npz(data_file(data_cfg), kind, "data.path")
    else:
        try:
            images, labels = _keras_fashion_mnist()
        except Exception as err:  # noqa: BLE001 - download or cache failures of any kind
            reason = (str(err).splitlines() or [""])[0]
            raise ValueError(
                "data.full: true, so Fashion-MNIST comes from tf.keras.datasets.fashion_mnist, "
                f"which failed ({type(err).__name__}: {reason}); set data.full: false for the "
                "800 images shipped with qgan (fashion_mnist_800.npz), or data.path to an .npz "
                "with arrays images and labels"
            ) from None
        x, y = check_images(images, labels, kind, "tf.keras.datasets.fashion_mnist")
        data = ImageData(x, y, kind, "tf.keras.datasets.fashion_mnist")
    n = data_cfg.n_samples
    if n is not None and n > len(data):
        log.info("data.n_samples is %d, %s has %d images: using all", n, data.source, len(data))
    if n is not None and n < len(data):
        pick = np.sort(np.random.default_rng(seed).permutation(len(data))[:n])
        data = ImageData(data.images[pick], data.labels[pick], kind, data.source)
    return data


def split(data: ImageData, validation_fraction: float, seed: int, stratify: bool = True) -> Split:
    """Seeded train/validation split (stratified by label if ``stratify``)."""
    from sklearn.model_selection import train_test_split

    n = len(data)
    n_val = int(np.ceil(validation_fraction * n))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(
            f"data.validation_fraction: {validation_fraction} of {n} images leaves an empty "
            "split; use more images or another fraction"
        )
    if stratify:
        counts = np.bincount(data.labels, minlength=N_CLASSES)
        present = counts[counts > 0]
        if present.min() < 2 or n_val < len(present) or n - n_val < len(present):
            raise ValueError(
                f"data.stratify: a stratified split of {n} images into {n - n_val} + {n_val} "
                f"needs >= 2 images of each class and >= {len(present)} in each split; "
                "use more images or set data.stratify false"
            )
    idx = np.arange(n)
    train_idx, val_idx = train_test_split(
        idx, test_size=n_val, random_state=seed, stratify=data.labels if stratify else None
    )
    train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)

    def part(i):
        return ImageData(data.images[i], data.labels[i], data.kind, data.source)

    return Split(part(train_idx), part(val_idx))


# ------------------------------------------------------------------------------ features


@dataclass
class Features:
    """The map from images ``[N, H, W]`` (in [0, 1]) to model inputs.

    ``kind="pixels"``: the images themselves (float32 ``[N, H, W]``).
    ``kind="pca"``: float32 ``[N, k]`` angles ``scale * ((x - mean) @ components.T) / std``
    with ``components`` [k, H * W] the training split's leading principal axes and ``std``
    [k] the training split's standard deviation along them (radians per std: ``scale``).
    """

    kind: str
    image_shape: tuple[int, int]
    mean: np.ndarray | None = None
    components: np.ndarray | None = None
    std: np.ndarray | None = None
    scale: float = 1.0

    @classmethod
    def pixels(cls, image_shape) -> Features:
        return cls("pixels", tuple(image_shape))

    @classmethod
    def fit_pca(cls, train_images, n_components: int, scale: float, seed: int = 0) -> Features:
        """PCA fitted on ``train_images`` only (deterministic full SVD)."""
        from sklearn.decomposition import PCA

        x = np.asarray(train_images, np.float64)
        flat = x.reshape(len(x), -1)
        most = min(flat.shape)
        if n_components > most:
            raise ValueError(
                f"model.n_qubits: PCA of {flat.shape[0]} training images of {flat.shape[1]} "
                f"pixels gives at most {most} features, got {n_components}"
            )
        pca = PCA(n_components=n_components, svd_solver="full", random_state=seed).fit(flat)
        z = pca.transform(flat)
        std = z.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # a constant direction stays at angle 0
        return cls("pca", tuple(x.shape[1:]), pca.mean_, pca.components_, std, float(scale))

    @property
    def n_features(self) -> int:
        """Length of one feature row (pca) or pixels per image (pixels)."""
        if self.kind == "pca":
            return int(self.components.shape[0])
        return int(np.prod(self.image_shape))

    def __call__(self, images) -> np.ndarray:
        x = np.asarray(images, np.float64)
        if self.kind == "pixels":
            return x.astype(np.float32)
        flat = x.reshape(len(x), -1)
        z = (flat - self.mean) @ self.components.T / self.std
        return (self.scale * z).astype(np.float32)

    def to_bytes(self) -> bytes:
        """The fitted map as ``.npz`` bytes (what a run directory stores)."""
        buffer = io.BytesIO()
        arrays = {"kind": np.array(self.kind), "image_shape": np.array(self.image_shape)}
        if self.kind == "pca":
            arrays.update(
                mean=self.mean, components=self.components, std=self.std, scale=self.scale
            )
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_file(cls, path) -> Features:
        with np.load(path, allow_pickle=False) as a:
            kind, shape = str(a["kind"]), tuple(int(s) for s in a["image_shape"])
            if kind == "pixels":
                return cls.pixels(shape)
            return cls(kind, shape, a["mean"], a["components"], a["std"], float(a["scale"]))
