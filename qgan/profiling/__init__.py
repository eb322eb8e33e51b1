"""Timing and benchmarking: the stage profiler (``Profiler``), ``qgan profile``'s
measurements (training-step stages, batch scaling, cutoff x layers, SF's tf backend side by
side, efficiency against measured matmul throughput) and the one timing loop
(:func:`qgan.profiling.timing.measure`). Benchmarks against other libraries are scripts in
``scripts/bench/``, outside the package."""

__all__ = ["Profiler"]


def __getattr__(name: str):
    # lazy: importing a measurement module should not pull in TensorFlow through here
    if name == "Profiler":
        from qgan.profiling.profiler import Profiler

        return Profiler
    raise AttributeError(f"module 'qgan.profiling' has no attribute {name!r}")
