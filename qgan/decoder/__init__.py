"""Decoders from generator features to data space.

``SpatialDecoder`` is imported on first use (module ``__getattr__``), so that the kind
names (:mod:`qgan.decoder.names`, re-exported as ``KINDS``) come without TensorFlow.
"""

from qgan._lazy import lazy_exports
from qgan.decoder.names import KINDS

__all__ = ["KINDS", "SpatialDecoder"]
__getattr__ = lazy_exports(__name__, {"SpatialDecoder": "qgan.decoder.spatial"})
