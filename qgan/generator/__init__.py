"""Generators: the CV quantum circuit model and its classical ablation."""

from qgan.generator.classical import ClassicalGenerator
from qgan.generator.cv import CVGenerator

__all__ = ["CVGenerator", "ClassicalGenerator"]
