"""Measurement primitives of the profiler: step timings and peak memory of one call.

:func:`measure` is the one timing loop of qgan (the profiler, ``qgan demo`` and the
benchmarks in ``scripts/bench/`` use it): it times a step the way every table reports it:
the first call on its own (it includes tracing and graph optimisation of a
``tf.function``, or a JAX ``jit``), then untimed warm-up calls, then ``repeats`` timed
calls summarised by their median and quartiles. Each call is synchronised by reading its
outputs back to the host (TensorFlow tensors and variables, JAX or NumPy arrays), so
asynchronous execution cannot hide time. The clock is injectable, so tests can check that
every reported number is derived from what the clock measured.

:func:`peak_memory` measures the memory one call needs above what was live before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from qgan._validate import check_int

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class StepTiming:
    """Timings of one step, in seconds: the first call and the timed repeats (in order).

    ``outputs``: what the last timed call returned, read back to the host (the same
    structure with every tensor or array as a NumPy array), so a benchmark can check the
    numbers it timed.
    """

    first_call_s: float
    times_s: tuple[float, ...]
    outputs: object = field(default=None, repr=False, compare=False)

    @property
    def repeats(self) -> int:
        return len(self.times_s)

    @property
    def median_s(self) -> float:
        return float(np.median(self.times_s))

    @property
    def q25_s(self) -> float:
        return float(np.percentile(self.times_s, 25))

    @property
    def q75_s(self) -> float:
        return float(np.percentile(self.times_s, 75))

    def us_per_sample(self, batch: int) -> float:
        """Median step time divided by the batch size, in microseconds."""
        return self.median_s / batch * 1e6

    def row(self, batch: int) -> dict:
        """The standard table fields: ms per batch (median, quartiles), us per sample,
        samples per second, first-call seconds and the number of timed repeats."""
        return {
            "ms_per_batch": self.median_s * 1e3,
            "ms_q25": self.q25_s * 1e3,
            "ms_q75": self.q75_s * 1e3,
            "us_per_sample": self.us_per_sample(batch),
            "samples_per_s": batch / self.median_s,
            "first_call_s": self.first_call_s,
            "repeats": self.repeats,
        }


def to_host(outputs):
    """``outputs`` with every TF tensor or variable and every array (JAX, NumPy) read back to
    the host as a NumPy array; waits until they are computed. Other leaves pass unchanged."""

    def read(item):
        if isinstance(item, (tf.Tensor, tf.Variable)):
            return np.asarray(item.numpy())
        if hasattr(item, "__array__"):
            return np.asarray(item)
        return item

    return tf.nest.map_structure(read, outputs)


def measure(step: Callable[[], object], repeats: int, warmup: int, clock: Clock | None = None):
    """Time ``step()``: first call, ``warmup`` untimed calls, ``repeats`` timed calls.

    Returns a :class:`StepTiming` (with the last call's outputs on the host). ``clock``
    defaults to ``time.perf_counter`` (seconds).
    """
    repeats = check_int(repeats, "repeats", 1)
    warmup = check_int(warmup, "warmup", 0)
    clock = time.perf_counter if clock is None else clock
    outputs = None

    def timed() -> float:
        nonlocal outputs
        start = clock()
        outputs = to_host(step())
        return clock() - start

    first = timed()
    for _ in range(warmup):
        to_host(step())
    times = tuple(timed() for _ in range(repeats))
    return StepTiming(first_call_s=first, times_s=times, outputs=outputs)


# ----------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class MemoryPeak:
    """Peak memory of one call above the memory live before it (MiB), and how it was read.

    ``method``: ``"tf_allocator"`` (TensorFlow's own allocator statistics on the device
    the call ran on: tensors only, as the allocator rounds them; on CPU, TF 2.21 does not
    count small allocations (a 128 KiB temporary reads 0, a 256 KiB one 256 KiB), so a
    computation on small tensors reads low, down to 0), ``"rss_hwm"`` (Linux process
    peak resident set size, VmHWM, reset through /proc/self/clear_refs: everything the
    process touched, and it misses memory that an allocator reuses without returning it to
    the system) or
    ``"unavailable"`` (``mb`` is None).
    """

    mb: float | None
    method: str
    device: str | None = None


def compute_device() -> str:
    """The device TensorFlow places ops on by default: ``"GPU:0"`` if there is one, else CPU."""
    return "GPU:0" if tf.config.list_logical_devices("GPU") else "CPU:0"


def peak_memory(call: Callable[[], object], device: str | None = None) -> MemoryPeak:
    """Run ``call()`` once (synchronised) and measure the memory it needed at its peak."""
    device = compute_device() if device is None else device
    try:
        tf.config.experimental.reset_memory_stats(device)
        before = tf.config.experimental.get_memory_info(device)["current"]
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        log.info("TF allocator statistics unavailable on %s (%s); trying VmHWM", device, err)
    else:
        to_host(call())
        peak = tf.config.experimental.get_memory_info(device)["peak"]
        return MemoryPeak(max(peak - before, 0) / 2**20, "tf_allocator", device)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        before = _proc_status_kb("VmRSS")
    except OSError as err:
        log.info("process peak RSS unavailable (%s): memory not measured", err)
        to_host(call())
        return MemoryPeak(None, "unavailable", device)
    to_host(call())
    return MemoryPeak(max(_proc_status_kb("VmHWM") - before, 0) / 1024, "rss_hwm", device)


def _proc_status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {key}")


__all__ = [
    "StepTiming",
    "MemoryPeak",
    "measure",
    "to_host",
    "peak_memory",
    "compute_device",
]
