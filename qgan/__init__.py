"""qgan: photonic continuous-variable quantum GANs, a qubit-model module and a profiler.

Layers, lowest first: ``qgan.photonic`` (compiled Fock-space simulation of Strawberry
Fields programs) -> generator -> decoder -> gan; ``qgan.qubit``; ``qgan.profiling``;
``qgan.reports``; ``qgan.cli``. Lower layers never import higher ones.
"""

from qgan import _compat  # noqa: F401  (must run before strawberryfields is imported)

__version__ = "0.1.0"
