"""qgan: photonic continuous-variable quantum GANs, a qubit-model module and a profiler.

Layers, lowest first: ``qgan.photonic`` (compiled Fock-space simulation of Strawberry
Fields programs) -> generator -> decoder -> gan; ``qgan.qubit``; ``qgan.profiling``;
``qgan.reports``; ``qgan.cli``. Lower layers never import higher ones.
"""

import sys

from qgan._lazy import lazy_exports

__version__ = "0.1.0"


class _CompatBeforeStrawberryFields:
    """Import hook (``sys.meta_path``): applies :mod:`qgan._compat`'s SciPy shim when
    ``strawberryfields`` is first imported, not on ``import qgan``, because the shim needs
    ``scipy.integrate`` (about 0.5 s to import) and most commands (a config check, the qubit
    classifiers) never load SF. It finds nothing itself: the usual finders import SF."""

    def find_spec(self, name, path=None, target=None):
        if name == "strawberryfields":
            from qgan import _compat  # noqa: F401  (applies the shim)

            if self in sys.meta_path:
                sys.meta_path.remove(self)
        return None


if "strawberryfields" in sys.modules or "scipy.integrate" in sys.modules:
    from qgan import _compat  # noqa: F401  (nothing to gain by waiting)
elif not any(isinstance(f, _CompatBeforeStrawberryFields) for f in sys.meta_path):
    sys.meta_path.insert(0, _CompatBeforeStrawberryFields())

# Public classes, imported on first use so that ``import qgan`` (which scripts do before
# importing strawberryfields) stays light.
_EXPORTS = {
    "CVGenerator": "qgan.generator",
    "ClassicalGenerator": "qgan.generator",
    "SpatialDecoder": "qgan.decoder",
    "simulate": "qgan.photonic",
}
__all__ = [*_EXPORTS, "__version__"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
