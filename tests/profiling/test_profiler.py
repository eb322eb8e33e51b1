"""Specification of ``qgan.profiling.profiler.Profiler``: named stages in eager code and
inside ``tf.function``.

Eager stages are timed with the profiler's clock; a fake clock makes every duration a
known number. Inside ``tf.function`` the durations come from ``tf.timestamp()``; they are
checked against work of a known minimum duration (a ``numpy_function`` that sleeps), which
can only make a stage longer, never shorter, so no assertion depends on machine speed.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

from qgan.profiling.profiler import BETWEEN, Profiler, format_stage_table

SLEEP_S = 0.03  # known minimum duration of the sleeping op


class FakeClock:
    """Returns the listed readings in order (seconds)."""

    def __init__(self, readings):
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def sleepy(seconds: float, stateful: bool = False):
    """A graph op that sleeps ``seconds`` and returns its input; stateless by default, so
    only the consumers of its output wait for it (nothing orders it otherwise)."""

    def sleep_and_return(x):
        time.sleep(seconds)
        return x

    def op(x):
        out = tf.numpy_function(sleep_and_return, [x], x.dtype, stateful=stateful)
        out.set_shape(x.shape)
        return out

    return op


# --------------------------------------------------------------------------- eager


def test_eager_stages_are_clock_differences_with_nested_names():
    clock = FakeClock([1.0, 1.5, 2.0, 2.25, 3.0, 10.0, 10.125])
    prof = Profiler(clock=clock)
    with prof.stage("outer"):  # enters at 1.0, exits at 10.0
        with prof.stage("inner"):  # 1.5 .. 2.0
            pass
        with prof.stage("inner"):  # 2.25 .. 3.0
            pass
    totals = prof.totals()
    assert list(totals) == ["outer", "outer/inner"]
    assert totals["outer/inner"] == {"seconds": 0.5 + 0.75, "calls": 2}
    assert totals["outer"] == {"seconds": 10.0 - 1.0, "calls": 1}
    assert clock.readings == [10.125]


def test_decorator_form_records_each_call_and_passes_values_through():
    clock = FakeClock([0.0, 0.25, 1.0, 1.75])
    prof = Profiler(clock=clock)

    @prof.stage("square")
    def square(x):
        """Docstring kept."""
        return x * x

    assert square(3) == 9 and square(4) == 16
    assert square.__doc__ == "Docstring kept."
    assert prof.totals() == {"square": {"seconds": 0.25 + 0.75, "calls": 2}}


def test_laps_give_per_lap_times_and_the_table_their_median_and_spread():
    readings = []
    t = 0.0
    durations = [0.010, 0.030, 0.020, 0.040]  # seconds of stage "a" in laps 1..4
    for d in durations:
        readings += [t, t + d]
        t += 1.0
    prof = Profiler(clock=FakeClock(readings))
    for _ in durations:
        with prof.stage("a"):
            pass
        prof.lap()
    laps = [lap["a"] for lap in prof.laps]
    np.testing.assert_allclose(laps, durations, rtol=1e-9)
    row = prof.as_dict()["a"]
    q25, med, q75 = np.percentile(np.array(durations) * 1e3, [25, 50, 75])
    assert row["calls"] == len(durations)
    np.testing.assert_allclose(
        [row["median_ms"], row["q25_ms"], row["q75_ms"], row["total_ms"], row["mean_ms"]],
        [med, q25, q75, sum(durations) * 1e3, np.mean(durations) * 1e3],
        rtol=1e-9,
    )
    table = prof.table()
    assert table == format_stage_table(
        [{"stage": "a", "median_ms": med, "q25_ms": q25, "q75_ms": q75, "calls": 4}], per="lap"
    )
    prof.reset()
    assert prof.totals() == {} and prof.laps == []


def test_a_failing_stage_is_not_recorded_and_leaves_no_open_stage():
    prof = Profiler(clock=FakeClock([0.0, 1.0, 2.0, 2.5]))
    with pytest.raises(RuntimeError, match="boom"):
        with prof.stage("bad"):
            raise RuntimeError("boom")
    with prof.stage("good"):
        pass
    assert prof.totals() == {"good": {"seconds": 0.5, "calls": 1}}


@pytest.mark.parametrize("name", ["", "a/b", 3, None])
def test_bad_stage_names_are_refused(name):
    with pytest.raises(ValueError, match="stage name"):
        Profiler().stage(name)


def test_capacity_is_enforced_with_a_one_line_error():
    prof = Profiler(capacity=2, clock=FakeClock(np.arange(10.0)))
    for name in ("a", "b"):
        with prof.stage(name):
            pass
    with pytest.raises(ValueError, match="capacity"):
        with prof.stage("c"):
            pass
    with pytest.raises(ValueError, match="capacity"):
        Profiler(capacity=1)


# --------------------------------------------------------------------------- tf.function


def test_graph_stages_time_their_own_work_and_nothing_retraces():
    """A slow op inside a nested tf.function belongs to the stage that calls it, not to
    the stage that consumes its output; a stage's ops wait for the stage to start."""
    prof = Profiler()
    traces = []
    slow = tf.function(sleepy(SLEEP_S))

    @tf.function
    def step(x):
        traces.append(1)
        with prof.stage("slow"):
            y = slow(x)  # the call op is the only op of the stage
        with prof.stage("consume"):
            z = 2.0 * (y + 1.0)
        with prof.stage("independent"):  # depends only on x: would run early if not held
            w = sleepy(SLEEP_S)(x)
        return z + w

    x = tf.constant([1.0, 2.0])
    calls = 3
    for _ in range(calls):
        np.testing.assert_allclose(step(x).numpy(), 2.0 * (x.numpy() + 1.0) + x.numpy())
        prof.lap()
    assert len(traces) == 1
    totals = prof.totals()
    assert set(totals) == {"slow", "consume", "independent", BETWEEN}
    assert all(totals[name]["calls"] == calls for name in ("slow", "consume", "independent"))
    assert totals[BETWEEN]["calls"] == 2 * calls  # before the 2nd and 3rd stage of a call
    for lap in prof.laps:
        assert lap["slow"] >= SLEEP_S
        assert lap["independent"] >= SLEEP_S
        assert all(v >= 0.0 for v in lap.values())


def test_graph_nested_and_decorated_stages():
    prof = Profiler()

    @prof.stage("decoded")
    def decode(x):
        return tf.tanh(x)

    @tf.function
    def step(x):
        with prof.stage("outer"):
            with prof.stage("inner"):
                y = sleepy(SLEEP_S)(x)
            y = decode(y)
        return y

    x = tf.constant([0.5])
    for _ in range(2):
        np.testing.assert_allclose(step(x).numpy(), np.tanh(0.5), rtol=1e-6)
    totals = prof.totals()
    assert list(totals) == ["outer", "outer/inner", "outer/decoded"]
    assert all(v["calls"] == 2 for v in totals.values())
    assert totals["outer/inner"]["seconds"] >= 2 * SLEEP_S
    assert totals["outer"]["seconds"] >= totals["outer/inner"]["seconds"]


def test_eager_and_graph_records_add_up_and_gradients_flow_through_stages():
    prof = Profiler(clock=FakeClock([0.0, 0.5]))
    v = tf.Variable(3.0)

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            with prof.stage("forward"):
                loss = v * v
        with prof.stage("backward"):
            return tape.gradient(loss, v)

    with prof.stage("forward"):  # eager: 0.5 s from the fake clock
        pass
    assert float(grad()) == pytest.approx(6.0)
    totals = prof.totals()
    assert totals["forward"]["calls"] == 2 and totals["backward"]["calls"] == 1
    assert totals["forward"]["seconds"] >= 0.5


def test_variables_are_created_once_not_per_trace():
    prof = Profiler()

    @tf.function
    def f(x):
        with prof.stage("s"):
            return x + 1.0

    f(tf.constant(1.0))
    f(tf.constant([1.0, 2.0]))  # a second trace (new shape) reuses the accumulators
    assert prof.totals()["s"]["calls"] == 2
