"""Specification: the profiler's measurement primitives (``qgan.profiling.timing``).

``measure`` reports the first call apart (it includes tracing), runs untimed warm-up
calls, and derives every statistic from what the clock measured for the timed calls.
``peak_memory`` sees the memory a call needs above what was live before it.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from qgan.profiling.timing import MemoryPeak, StepTiming, measure, peak_memory


def test_first_call_is_reported_apart_and_warmup_is_untimed(scripted_clock):
    calls = []
    clock = scripted_clock([2.5, 0.30, 0.10, 0.20])
    timing = measure(lambda: calls.append(1), repeats=3, warmup=2, clock=clock)
    assert len(calls) == 1 + 2 + 3
    assert clock.used == 4  # first call + 3 repeats; the 2 warm-up calls were not timed
    assert timing.first_call_s == pytest.approx(2.5)
    assert timing.times_s == pytest.approx((0.30, 0.10, 0.20))
    assert timing.repeats == 3


def test_statistics_and_table_row_derive_from_the_timed_calls(scripted_clock):
    durations = [1.0, 0.004, 0.010, 0.006, 0.008]
    timing = measure(lambda: None, repeats=4, warmup=0, clock=scripted_clock(durations))
    times = np.array(durations[1:])
    median, q25, q75 = np.median(times), np.percentile(times, 25), np.percentile(times, 75)
    assert timing.median_s == pytest.approx(median)
    row = timing.row(batch=8)
    assert row == pytest.approx(
        {
            "ms_per_batch": median * 1e3,
            "ms_q25": q25 * 1e3,
            "ms_q75": q75 * 1e3,
            "us_per_sample": median / 8 * 1e6,
            "samples_per_s": 8 / median,
            "first_call_s": 1.0,
            "repeats": 4,
        }
    )


def test_outputs_are_read_back_before_the_clock_stops():
    """A step returning tensors, variables and None is synchronised without error."""
    v = tf.Variable(1.0)
    timing = measure(lambda: (tf.constant([1.0, 2.0]), {"v": v, "none": None}), 2, 1)
    assert isinstance(timing, StepTiming) and timing.repeats == 2
    assert all(t >= 0 for t in timing.times_s) and timing.first_call_s >= 0


def test_outputs_of_the_last_timed_call_come_back_as_numpy():
    """Tensors, variables and array-likes (JAX arrays expose ``__array__``) come back as
    NumPy arrays with their values; other leaves unchanged; the structure is kept."""

    class ArrayLike:  # what a JAX array looks like to measure()
        def __array__(self, dtype=None, copy=None):
            return np.array([7.0, 8.0])

    counter = iter(range(100))

    def step():
        n = next(counter)
        return {"t": tf.constant([float(n)]), "v": tf.Variable(2.0), "a": ArrayLike(), "n": n}

    timing = measure(step, repeats=3, warmup=2)
    out = timing.outputs
    assert set(out) == {"t", "v", "a", "n"}
    assert isinstance(out["t"], np.ndarray) and out["t"].tolist() == [5.0]  # call 6 of 6
    assert isinstance(out["v"], np.ndarray) and float(out["v"]) == 2.0
    assert isinstance(out["a"], np.ndarray) and out["a"].tolist() == [7.0, 8.0]
    assert out["n"] == 5


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"repeats": 0, "warmup": 0}, "repeats"),
        ({"repeats": True, "warmup": 0}, "repeats"),
        ({"repeats": 1, "warmup": -1}, "warmup"),
        ({"repeats": 1, "warmup": 1.5}, "warmup"),
    ],
)
def test_bad_counts_are_one_line_errors(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be an int"):
        measure(lambda: None, **kwargs)


def test_peak_memory_sees_a_temporary_allocation():
    """A compiled call that builds and reduces a 16 MiB temporary needs at least 16 MiB
    above what was live before it (TF's allocator statistics); other methods report what
    they can and say which they used."""
    n = 4 * 2**20  # float32 elements: 16 MiB

    @tf.function(autograph=False)
    def temporary(x):
        return tf.reduce_sum(tf.fill([n], x) * 2.0)

    temporary(tf.constant(1.0))
    peak = peak_memory(lambda: temporary(tf.constant(1.0)))
    assert isinstance(peak, MemoryPeak)
    assert peak.method in ("tf_allocator", "rss_hwm", "unavailable")
    if peak.method == "tf_allocator":
        assert peak.mb >= n * 4 / 2**20
    elif peak.method == "rss_hwm":
        assert peak.mb >= 0
    else:
        assert peak.mb is None
