"""Datasets shipped inside the package (package data), so that a fresh clone and a
``pip install`` run the classifier configs offline.

``fashion_mnist_800.npz``: 800 Fashion-MNIST images (arrays ``images`` [800, 28, 28] uint8,
0-255, and ``labels`` [800] in 0-9), from the test split of Fashion-MNIST by Zalando
Research (Xiao, Rasul, Vollgraf 2017), MIT licence, Copyright (c) 2017 Zalando SE; see
``README.md`` and ``LICENSE`` in this folder. The full dataset is
``tf.keras.datasets.fashion_mnist`` (``data.full: true`` in a classifier config).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FASHION_MNIST_800 = "fashion_mnist_800.npz"


def packaged(name: str) -> Path:
    """The file ``name`` of this folder as installed (a regular file: setuptools installs
    packages unzipped, editable installs point at the checkout)."""
    return Path(str(resources.files(__name__) / name))
