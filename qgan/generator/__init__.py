"""Generators: the CV quantum circuit model and its classical ablation.

The classes are imported on first use (module ``__getattr__``), so that importing a
TensorFlow-free submodule such as :mod:`qgan.generator.names` does not import TensorFlow.
"""

_EXPORTS = {
    "CVGenerator": "qgan.generator.cv",
    "ClassicalGenerator": "qgan.generator.classical",
}
__all__ = ["CVGenerator", "ClassicalGenerator"]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qgan.generator' has no attribute {name!r}")
