"""Qubit classifier workloads (Fashion-MNIST, scikit-learn digits) and their classical
baseline: config, data and features, models, training with a run directory, plots."""

from qgan.classify.config import ClassifyConfig, load_config, parse_config
from qgan.classify.training import (
    Classifier,
    ClassifyResult,
    classify,
    evaluate_file,
    load_classifier,
)

__all__ = [
    "ClassifyConfig",
    "Classifier",
    "ClassifyResult",
    "classify",
    "evaluate_file",
    "load_classifier",
    "load_config",
    "parse_config",
]
