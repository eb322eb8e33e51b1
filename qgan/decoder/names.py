"""Names of the ``SpatialDecoder`` kinds, importable without TensorFlow (config validation
uses them; :mod:`qgan.decoder.spatial` implements them)."""

KINDS = ("affine", "mode_assignment", "mlp")
