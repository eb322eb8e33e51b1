"""What the benchmark scripts share: comma lists on the command line, the command line as
recorded in a report, the acceptance targets (``targets.toml`` beside these scripts), the
JSON fields of one timed configuration, writing ``OUT.md`` + ``OUT.json``, the arguments
of the engine benchmark circuit, and timing variants in alternation.

The benchmarks drive the real qgan objects (nanoGPT's ``bench.py`` is the model): nothing
here re-implements the engine or the simulator; one configuration is timed by
:func:`qgan.profiling.timing.measure`, variants compared in one run by
:func:`alternating_medians`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import time
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGETS = HERE / "targets.toml"


def names(text: str) -> list[str]:
    """``"a,b,,c"`` -> ``["a", "b", "c"]`` (argparse type)."""
    return [t for t in text.split(",") if t]


def positive(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def command_line(script: str, argv: list[str]) -> str:
    """The command that produced a report, as typed: ``python scripts/bench/NAME.py ARGS``."""
    return " ".join(["python", f"scripts/bench/{script}", *map(shlex.quote, argv)])


def load_targets(section: str, path: str | Path | None = None) -> dict:
    """The ``[section]`` table of the targets file (default ``scripts/bench/targets.toml``)."""
    path = TARGETS if path is None else Path(path)
    with open(path, "rb") as f:
        data = tomllib.load(f)
    if section not in data:
        raise ValueError(f"{path}: no [{section}] table of targets")
    return data[section]


def timing_fields(timing, batch_size: int) -> dict:
    """The JSON fields of one timed configuration from a
    :class:`qgan.profiling.timing.StepTiming` (seconds unless named)."""
    return {
        "batch_size": batch_size,
        "first_call_s": timing.first_call_s,
        "median_s": timing.median_s,
        "q25_s": timing.q25_s,
        "q75_s": timing.q75_s,
        "repeats": timing.repeats,
        "us_per_sample": timing.us_per_sample(batch_size),
    }


def write_report(out: str, result: dict, markdown: str) -> None:
    """Write ``out.md`` (``markdown``) and ``out.json`` (``result``) atomically."""
    from qgan._io import write_text_atomic

    write_text_atomic(f"{out}.json", json.dumps(result, indent=2) + "\n")
    write_text_atomic(f"{out}.md", markdown)


def publish(out: str | None, result: dict, markdown: str) -> int:
    """Write ``out.md`` and ``out.json`` when ``out`` is given, print ``markdown``; a
    script's exit status (0)."""
    if out:
        write_report(out, result, markdown)
    print(markdown)
    return 0


def alternating_medians(calls: dict, repeats: int, warmup: int = 3) -> dict:
    """Median seconds of each zero-argument call of ``calls`` (name -> callable): ``warmup``
    untimed calls each, then ``repeats`` timed rounds calling each once in turn, so that the
    machine's drift hits every variant alike."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(series)) for name, series in times.items()}


def reference_arguments(trainable, encoding, batch: int, seed: int = 0):
    """Arguments of the engine benchmark circuit (:func:`qgan.profiling.reference.
    reference_program`): ``(weights, z)``, the trainable ones as float32 ``tf.Variable``
    drawn from N(0, 0.1), then the per-sample encoding ``[batch]`` from N(0, 0.5), both from
    one generator seeded with ``seed``."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    weights = {n: tf.Variable(rng.normal(0.0, 0.1), dtype=tf.float32) for n in trainable}
    z = {n: tf.constant(rng.normal(0.0, 0.5, batch), tf.float32) for n in encoding}
    return weights, z


def readout_loss(result):
    """The engine benchmark circuit's loss: the sum over modes and samples of the mean
    photon number and the x-quadrature mean (``FockResult.mean_photon`` and
    ``quad_expectation``, 2 readouts per mode), a scalar tensor."""
    import tensorflow as tf

    total = 0.0
    for mode in range(result.n_modes):
        total += tf.reduce_sum(result.mean_photon(mode)[0] + result.quad_expectation(mode)[0])
    return total


def setup_logging() -> None:
    """INFO progress lines on stderr; TensorFlow's checkpoint chatter silenced."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)
