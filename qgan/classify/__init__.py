"""Qubit classifier workloads (Fashion-MNIST, scikit-learn digits) and their classical
baseline: config, data and features, models, training with a run directory, plots.

The training names are imported on first use (module ``__getattr__``), so that config
validation (:mod:`qgan.classify.config`) runs without importing TensorFlow.
"""

from qgan._lazy import lazy_exports

_EXPORTS = {
    "ClassifyConfig": "qgan.classify.config",
    "load_config": "qgan.classify.config",
    "parse_config": "qgan.classify.config",
    "Classifier": "qgan.classify.training",
    "ClassifyResult": "qgan.classify.training",
    "classify": "qgan.classify.training",
    "evaluate_file": "qgan.classify.training",
    "load_classifier": "qgan.classify.training",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
