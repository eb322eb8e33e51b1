"""Decoders from generator features to data space."""

from qgan.decoder.spatial import KINDS, SpatialDecoder

__all__ = ["KINDS", "SpatialDecoder"]
