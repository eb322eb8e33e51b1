"""Timing and benchmarking: the stage profiler (``Profiler``), ``qgan profile``'s
measurements (training-step stages, batch scaling, cutoff x layers, SF's tf backend side by
side, efficiency against measured matmul throughput) and the one timing loop
(:func:`qgan.profiling.timing.measure`). Benchmarks against other libraries are scripts in
``scripts/bench/``, outside the package."""

from qgan._lazy import lazy_exports

__all__ = ["Profiler"]
# lazy: importing a measurement module should not pull in TensorFlow through here
__getattr__ = lazy_exports(__name__, {"Profiler": "qgan.profiling.profiler"})
