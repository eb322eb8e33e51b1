"""Shared helpers of the classifier tests: shrunken configs and small .npz files.

Runs here use scikit-learn's bundled digits (always available, no download) or the
800-image Fashion-MNIST file shipped in the package (``qgan/classify/datasets``), shrunk to
a few seconds: few images, 4 qubits, depth 1, one or two epochs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SHARED_FASHION = ROOT / "qgan" / "classify" / "datasets" / "fashion_mnist_800.npz"


def _tiny(tmp_path, **changes) -> dict:
    out = {
        "data.n_samples": 200,
        "model.n_qubits": 4,
        "model.depth": 1,
        "train.epochs": 2,
        "train.batch_size": 32,
        "output.dir": str(tmp_path / "runs"),
        "output.plots": False,
    }
    out.update(changes)
    return out


@pytest.fixture
def tiny(tmp_path):
    """``tiny({dotted key: value})``: overrides that shrink configs/digits_qubit.yaml to a
    run of a few seconds (writing under ``tmp_path/runs``), updated by the given ones."""
    return lambda changes=None: _tiny(tmp_path, **(changes or {}))


@pytest.fixture(scope="session")
def write_npz():
    """``write_npz(path, images, labels)``: an .npz in the shared data's format."""

    def write(path: Path, images, labels) -> Path:
        np.savez(path, images=np.asarray(images), labels=np.asarray(labels))
        return path

    return write


@pytest.fixture(scope="session")
def configs_dir() -> Path:
    return CONFIGS


@pytest.fixture(scope="session")
def shared_fashion() -> Path:
    """The 800-image Fashion-MNIST file shipped in the package."""
    if not SHARED_FASHION.is_file():
        pytest.skip(f"shared data {SHARED_FASHION} not present")
    return SHARED_FASHION


# metrics.json keys every classifier run records (issue 5); eval_accuracy only with a file
CLASSIFY_METRICS = (
    "accuracy",
    "train_accuracy",
    "n_params",
    "wall_s",
    "circuits_executed",
    "shots_executed",
    "n_train",
    "n_validation",
    "seed",
    "confusion_matrix",
)


@pytest.fixture(scope="session")
def classify_metrics() -> tuple[str, ...]:
    return CLASSIFY_METRICS
