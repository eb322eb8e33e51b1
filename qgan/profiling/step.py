"""Per-stage timings of one GAN training step, against the real compiled step.

:func:`instrumented_train_step` is :meth:`GANModel.train_step` itself (``d_steps``
discriminator updates, then one generator + decoder update), built by
:meth:`GANModel.make_train_step` with a :class:`~qgan.profiling.profiler.Profiler`'s
stage hook, so every piece lies inside a stage. :func:`profile_step` times it and the
bare ``model.train_step`` in the same loop (alternating, after warm-up), plus the
generator's own forward + backward pass, and says where the difference went.

Stages, in the order they run:

* ``latent sampling``: every draw of the step from the model's RNG: real-data batches,
  latents, readout noise (and a gradient penalty's mixing weights);
* ``encoding``: latents to encoding-gate arguments (scale, split) and the trainable gate
  arguments unstacked; the encoding gates' matrices are built inside the compiled circuit;
* ``circuit simulation``: the compiled Fock engine (all gate matrices, state evolution);
* ``readout``: features (or exact outcome probabilities) and norm leakage from the ket;
* ``decoder``: features to points (``outcome_points`` for the marginal generator loss);
* ``discriminator forward``: discriminator on real and generated points and the losses
  (including a gradient penalty and the leakage penalty where configured);
* ``backward pass``: ``tape.gradient`` of the losses;
* ``optimizer update``: the gradient guard (finite check, clipping) and the Adam updates.

The generator's forward passes for the discriminator updates (the fake batches) and for
its own update depend only on weights that no discriminator update changes, so
the step leaves the runtime free to run them side by side; to keep that freedom, the
first five stages each hold all of them (one entry per step), and the last three run once
per discriminator update and once for the generator update.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import tensorflow as tf

from qgan._validate import check_int
from qgan.gan.model import GANModel
from qgan.generator import CVGenerator
from qgan.profiling import scaling
from qgan.profiling.profiler import BETWEEN, Profiler

log = logging.getLogger(__name__)

STAGES = (
    "latent sampling",
    "encoding",
    "circuit simulation",
    "readout",
    "decoder",
    "discriminator forward",
    "backward pass",
    "optimizer update",
)
OVERHEAD = "overhead"
TOLERANCE = 0.10  # stage sum within 10 % of the measured step (the requirement)


def check_model(model: GANModel) -> None:
    """ValueError unless ``model`` has a CV generator on the compiled engine."""
    if not isinstance(model.generator, CVGenerator):
        raise ValueError("generator.kind: the step profiler needs a cv generator")
    if model.generator.backend != "compiled":
        raise ValueError(
            "generator.backend: the step profiler times the compiled engine, "
            f"got {model.generator.backend!r}"
        )


def instrumented_train_step(model: GANModel, prof: Profiler):
    """``model``'s own training step (:meth:`GANModel.make_train_step`) with each piece in a
    ``prof`` stage of :data:`STAGES`: a ``tf.function`` that updates the model (weights,
    optimiser slots, RNG, step counter) as ``model.train_step`` does and returns the same
    dict of scalar tensors."""
    check_model(model)
    return model.make_train_step(prof.stage)


CALLS = ("step", "instrumented", "generator")


def call_order(repeat: int) -> tuple[str, ...]:
    """The order of the timed calls in repeat ``repeat`` (0-based): :data:`CALLS` rotated by
    one each repeat, so that no call always follows the same one."""
    k = repeat % len(CALLS)
    return CALLS[k:] + CALLS[:k]


def _run(fn, *args, clock=time.perf_counter) -> float:
    """Seconds for one call of ``fn`` including fetching its outputs to the host."""
    start = clock()
    out = fn(*args)
    tf.nest.map_structure(lambda v: v.numpy() if hasattr(v, "numpy") else v, out)
    return clock() - start


def _stats(values_ms) -> dict:
    q25, med, q75 = np.percentile(np.asarray(values_ms, float), [25, 50, 75])
    return {"median_ms": float(med), "q25_ms": float(q25), "q75_ms": float(q75)}


def profile_step(
    model: GANModel,
    repeats: int = 30,
    warmup: int = 5,
    clock=time.perf_counter,
    on_repeat=None,
    *,
    staged=None,
    profiler: Profiler | None = None,
) -> dict:
    """Time one training step of ``model`` per stage, the bare step, and the generator.

    The three callables (bare ``model.train_step``, the instrumented step, the generator's
    forward + backward at the training batch size) are first called once each in that order
    (tracing, reported as ``first_call_s``), then ``warmup`` times, then ``repeats`` times
    in turn (in :func:`call_order`), so that machine load drifts hit all three alike.
    Both steps train the model. ``on_repeat()`` is called after each timed repeat
    (progress bars). ``clock``: the wall clock in seconds. ``staged`` and ``profiler``:
    an instrumented step of ``model`` already built by :func:`instrumented_train_step`
    with that profiler, to reuse its trace (both or neither; its recorded time so far is
    discarded).

    Returns a JSON-ready dict: ``stages`` (one row per :data:`STAGES` entry: ``stage``,
    ``median_ms``, ``q25_ms``, ``q75_ms`` per step, ``calls`` per step, ``share`` of the
    step), ``overhead`` (the step minus the stage sum and its measured parts), ``step``
    and ``instrumented_step`` (wall time per call), ``generator`` (forward + backward,
    :func:`qgan.profiling.scaling.generator_step`),
    ``stage_sum_ms``, ``within_tolerance``, ``step_over_generator`` and the settings.
    """
    check_int(repeats, "repeats", 1)
    check_int(warmup, "warmup", 0)
    check_model(model)
    if (staged is None) != (profiler is None):
        raise ValueError(
            "staged and profiler: pass both (a step built with that profiler) or neither"
        )
    prof = Profiler() if profiler is None else profiler
    staged = instrumented_train_step(model, prof) if staged is None else staged
    batch = model.settings.batch_size
    # the generator's own forward + backward, exactly as the batch scaling times it
    gen_fb = scaling.generator_step(model.generator)
    z, noise = scaling.profile_inputs(model.generator, batch, model.settings.seed)
    calls = {
        "step": lambda: model.train_step(),
        "instrumented": staged,
        "generator": lambda: gen_fb(z, noise),
    }
    first = {}
    for name, fn in calls.items():
        first[name] = _run(fn, clock=clock)
    for _ in range(warmup):
        for fn in calls.values():
            _run(fn, clock=clock)
    prof.reset()
    wall = {name: [] for name in calls}
    for i in range(repeats):
        for name in call_order(i):
            wall[name].append(_run(calls[name], clock=clock) * 1e3)
            if name == "instrumented":
                prof.lap()
        if on_repeat is not None:
            on_repeat()
    return summarise_step(prof, wall, first, batch, repeats, warmup, model.settings.d_steps)


def summarise_step(
    prof: Profiler, wall: dict, first: dict, batch: int, repeats: int, warmup: int, d_steps: int
) -> dict:
    """The result of :func:`profile_step` from its measurements: ``prof`` with one lap per
    instrumented step, ``wall`` (``step``, ``instrumented``, ``generator``: wall ms per
    timed call) and ``first`` (the same keys: seconds of the first call)."""
    laps = prof.laps
    calls = {name: v["calls"] for name, v in prof.totals().items()}
    step = _stats(wall["step"])
    stages = []
    for name in STAGES:
        per_lap = [lap.get(name, 0.0) * 1e3 for lap in laps]
        row = {"stage": name, **_stats(per_lap), "calls": calls.get(name, 0) // len(laps)}
        row["share"] = row["median_ms"] / step["median_ms"]
        stages.append(row)
    stage_sum = float(sum(r["median_ms"] for r in stages))
    between = [lap.get(BETWEEN, 0.0) * 1e3 for lap in laps]
    in_graph = [sum(lap.values()) * 1e3 for lap in laps]
    dispatch = [w - g for w, g in zip(wall["instrumented"], in_graph, strict=True)]
    instrumented = _stats(wall["instrumented"])
    overhead_ms = step["median_ms"] - stage_sum
    parts = {
        "between_stages_ms": _stats(between)["median_ms"],
        "call_and_dispatch_ms": _stats(dispatch)["median_ms"],
        "instrumentation_ms": instrumented["median_ms"] - step["median_ms"],
    }
    # the parts are medians of different series, so they need not add up exactly
    parts["median_arithmetic_ms"] = (
        overhead_ms
        - parts["between_stages_ms"]
        - parts["call_and_dispatch_ms"]
        + parts["instrumentation_ms"]
    )
    generator = _stats(wall["generator"])
    generator["us_per_sample"] = generator["median_ms"] * 1e3 / batch
    generator["first_call_s"] = first["generator"]
    return {
        "batch": batch,
        "d_steps": d_steps,
        "repeats": repeats,
        "warmup": warmup,
        "stages": stages,
        "stage_sum_ms": stage_sum,
        "overhead": {
            "stage": OVERHEAD,
            "median_ms": overhead_ms,
            "share": overhead_ms / step["median_ms"],
            **parts,
        },
        "within_tolerance": abs(overhead_ms) <= TOLERANCE * step["median_ms"],
        "tolerance": TOLERANCE,
        "step": {
            **step,
            "first_call_s": first["step"],
            "us_per_sample": step["median_ms"] * 1e3 / batch,
        },
        "instrumented_step": {**instrumented, "first_call_s": first["instrumented"]},
        "generator": generator,
        "step_over_generator": step["median_ms"] / generator["median_ms"],
    }
