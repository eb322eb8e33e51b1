"""qgan: photonic continuous-variable quantum GANs, a qubit-model module and a profiler.

Layers, lowest first: ``qgan.photonic`` (compiled Fock-space simulation of Strawberry
Fields programs) -> generator -> decoder -> gan; ``qgan.qubit``; ``qgan.profiling``;
``qgan.reports``; ``qgan.cli``. Lower layers never import higher ones.
"""

from qgan import _compat  # noqa: F401  (must run before strawberryfields is imported)

__version__ = "0.1.0"

# Public classes, imported on first use so that ``import qgan`` (which scripts do before
# importing strawberryfields) stays light.
_EXPORTS = {
    "CVGenerator": "qgan.generator",
    "ClassicalGenerator": "qgan.generator",
    "SpatialDecoder": "qgan.decoder",
    "simulate": "qgan.photonic",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qgan' has no attribute {name!r}")
