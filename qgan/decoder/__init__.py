"""Decoders from generator features to data space.

``SpatialDecoder`` is imported on first use (module ``__getattr__``), so that the kind
names (:mod:`qgan.decoder.names`, re-exported as ``KINDS``) come without TensorFlow.
"""

from qgan.decoder.names import KINDS

__all__ = ["KINDS", "SpatialDecoder"]


def __getattr__(name: str):
    if name == "SpatialDecoder":
        from qgan.decoder.spatial import SpatialDecoder

        return SpatialDecoder
    raise AttributeError(f"module 'qgan.decoder' has no attribute {name!r}")
