"""Generators: the CV quantum circuit model and its classical ablation.

The classes are imported on first use (module ``__getattr__``), so that importing a
TensorFlow-free submodule such as :mod:`qgan.generator.names` does not import TensorFlow.
"""

from qgan._lazy import lazy_exports

_EXPORTS = {
    "CVGenerator": "qgan.generator.cv",
    "ClassicalGenerator": "qgan.generator.classical",
}
__all__ = ["CVGenerator", "ClassicalGenerator"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
