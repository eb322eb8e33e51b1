"""Where the qubit simulator's step time goes, for ``scripts/bench/qubit.py``: stage
timings (forward alone, with each gradient, batch 1) interleaved so that machine load shifts
every stage alike, and TensorFlow's op profile by op type and phase."""

from __future__ import annotations

import collections
import glob
import os
import tempfile
import time

import numpy as np
import tensorflow as tf
from qubit_baselines import QUANTITIES, qgan_step

from qgan.profiling.timing import measure, to_host
from qgan.qubit.simulator import real_dtype

STAGE_ROUND = 5  # calls per stage per round of the interleaved stage timings


def stage_timings(model, features, params, repeats, warmup, dtype=tf.complex64) -> list[dict]:
    """Where the step's time goes, by what it computes: forward alone, with the parameter
    gradient, with both gradients, and the whole step at batch 1 (the per-call floor).

    The stages are timed in interleaved rounds of :data:`STAGE_ROUND` calls each (about
    ``repeats`` calls per stage in all), so that a change of machine load during the
    measurement shifts every stage alike instead of biasing their ratios.
    """
    rdt = real_dtype(dtype)
    x, p = tf.constant(features, rdt), tf.constant(params, rdt)
    stages = [
        ("forward (expectation values)", ("expectations",), x),
        ("forward + gradient w.r.t. params", ("grad_params",), x),
        ("forward + gradient w.r.t. params and features", QUANTITIES, x),
        ("forward + both gradients, batch 1 (per-call floor)", QUANTITIES, x[:1]),
    ]
    calls = []
    for _, wrt, inputs in stages:
        step = qgan_step(model, dtype, wrt=wrt)
        calls.append(lambda s=step, i=inputs: s(i, p))
        measure(calls[-1], repeats=1, warmup=warmup)  # compile and warm up
    times: list[list[float]] = [[] for _ in stages]
    for _ in range(-(-repeats // STAGE_ROUND)):
        for call, record in zip(calls, times):
            # the first call of a round is timed too: every call is warm by now
            timing = measure(call, repeats=STAGE_ROUND - 1, warmup=0)
            record += [timing.first_call_s, *timing.times_s]
    rows = []
    for (name, _, inputs), record in zip(stages, times):
        median = float(np.median(record))
        batch = int(inputs.shape[0])
        rows.append(
            {
                "stage": name,
                "batch_size": batch,
                "ms_per_call": median * 1e3,
                "us_per_sample": median / batch * 1e6,
                "repeats": len(record),
            }
        )
    return rows


def op_profile(call, steps: int = 20, top: int = 12) -> dict:
    """TensorFlow op time of ``call()`` by op type, forward vs gradient, from the profiler.

    Returns ``{"wall_us_per_step", "op_us_per_step", "ops": [{"phase", "op_type",
    "us_per_step", "share", "count_per_step"}]}`` (``share``: of the summed op time, which
    counts both CPU threads and so may exceed the wall time). Raises RuntimeError if the
    profiler is unavailable.
    """
    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as err:
        raise RuntimeError(f"TensorFlow profiler protobufs not importable: {err}") from None
    to_host(call())
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        try:
            for _ in range(steps):
                to_host(call())
        finally:
            wall = time.perf_counter() - start
            tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        if not paths:
            raise RuntimeError("the profiler wrote no trace")
        space = xplane_pb2.XSpace()
        with open(paths[0], "rb") as handle:
            space.ParseFromString(handle.read())
    total, count = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                # op events are "scope/name:OpType"; executor and runtime events are not
                if ":" not in name or "::" in name or " " in name:
                    continue
                op_name, op_type = name.rsplit(":", 1)
                key = ("gradient" if "gradients/" in op_name else "forward", op_type)
                total[key] += event.duration_ps
                count[key] += 1
    op_total = sum(total.values())
    ops = [
        {
            "phase": phase,
            "op_type": op_type,
            "us_per_step": ps / 1e6 / steps,
            "share": ps / op_total if op_total else 0.0,
            "count_per_step": count[(phase, op_type)] / steps,
        }
        for (phase, op_type), ps in total.most_common(top)
    ]
    return {
        "wall_us_per_step": wall / steps * 1e6,
        "op_us_per_step": op_total / 1e6 / steps,
        "ops": ops,
    }
