"""The engine at larger cutoffs and more modes: batch-last against batch-first, side by side.

Usage:
    python scripts/bench/engine_scaling.py [--shapes 4x4x256,4x6x256,6x5x16,8x4x16]
        [--generator-cutoffs 4,5,6] [--config configs/bimodal.yaml] [--repeats 10]
        [--out reports/bench_engine_scaling]

Two tables, every figure measured in this run, the two engine layouts timed in
alternation (call A, call B, call A, ...) so that the machine's drift hits both alike:

- ``generator``: the generator's forward + backward (``qgan.profiling.scaling.
  generator_step``: features and leakage, gradient w.r.t. every trainable variable) of
  ``--config`` at each cutoff of ``--generator-cutoffs``, at the config's batch size;
- ``circuit``: the engine benchmark circuit (:func:`qgan.profiling.reference.
  reference_program`, 2 layers) at each ``MODESxCUTOFFxBATCH`` of ``--shapes``: forward +
  gradient of the summed mean photon numbers and x quadratures of every mode.

``batch-first`` is the engine with ``PlannerOptions(batch_last=False)`` (the layout of
every release before this one), ``batch-last`` the default. Per row: medians (us per
sample), their ratio, the first call (trace + graph optimisation + one run), the peak
memory of one warm call (TensorFlow's allocator statistics, see
:class:`qgan.profiling.timing.MemoryPeak`) and the memory the engine states in advance
for that batch (:func:`qgan._resources.state_bytes`, what ``simulate`` checks before it
allocates). Writes OUT.md and OUT.json with ``--out``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import _common  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import positive  # noqa: E402

import qgan.photonic.plan as planner  # noqa: E402
from qgan import _resources  # noqa: E402
from qgan._machine import machine_info  # noqa: E402
from qgan.gan.config import load_config  # noqa: E402
from qgan.gan.model import build_generator  # noqa: E402
from qgan.photonic import simulate  # noqa: E402
from qgan.profiling.reference import reference_program  # noqa: E402
from qgan.profiling.scaling import generator_step, profile_inputs  # noqa: E402
from qgan.profiling.timing import peak_memory, to_host  # noqa: E402

log = logging.getLogger("bench.engine_scaling")

LAYOUTS = {
    "batch-first": planner.PlannerOptions(batch_last=False),
    "batch-last": planner.PlannerOptions(),
}


def _with_layout(options, build):
    """``build()`` with the engine's default planner options switched to ``options``
    (read when a program is first compiled, so the built step keeps them)."""
    saved = planner.DEFAULT_OPTIONS
    planner.DEFAULT_OPTIONS = options
    try:
        return build()
    finally:
        planner.DEFAULT_OPTIONS = saved


def _timed_pair(make_step, repeats: int, batch: int, stated_bytes: int) -> dict:
    """Build one step per layout (``make_step()`` returns a zero-argument callable), time
    the first calls, then ``repeats`` alternating timed calls after two warm-ups each."""
    steps, first = {}, {}
    for name, options in LAYOUTS.items():

        def build_and_call(options=options, name=name):
            step = make_step()
            start = time.perf_counter()
            to_host(step())
            first[name] = time.perf_counter() - start
            return step

        steps[name] = _with_layout(options, build_and_call)
    for step in steps.values():
        for _ in range(2):
            to_host(step())
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            to_host(step())
            times[name].append(time.perf_counter() - start)
    row = {"batch_size": batch, "stated_mb": stated_bytes / 2**20, "repeats": repeats}
    for name, series in times.items():
        q25, median, q75 = np.percentile(series, [25, 50, 75])
        row[name] = {
            "us_per_sample": median / batch * 1e6,
            "median_ms": median * 1e3,
            "iqr_ms": (q75 - q25) * 1e3,
            "first_call_s": first[name],
        }
    peak = peak_memory(steps["batch-last"])
    row["peak_mb"], row["peak_method"] = peak.mb, peak.method
    row["speed_up"] = row["batch-first"]["us_per_sample"] / row["batch-last"]["us_per_sample"]
    return row


def bench_generator(config: str, cutoffs, repeats: int) -> list[dict]:
    """The generator's forward + backward at each cutoff, both layouts (one row each)."""
    rows = []
    for cutoff in cutoffs:
        cfg = load_config(config, {"generator.cutoff": cutoff})
        batch = cfg.train.batch_size
        log.info("generator of %s, cutoff %d, batch %d", config, cutoff, batch)

        def make_step(cfg=cfg, batch=batch):
            gen = build_generator(cfg)
            z, noise = profile_inputs(gen, batch, 0)
            step = generator_step(gen)
            return lambda: step(z, noise)[0]

        gen = build_generator(cfg)
        stated = _resources.state_bytes(
            cutoff**gen.circuit.n_modes, batch, 8, len(gen.program.circuit)
        )
        row = _timed_pair(make_step, repeats, batch, stated)
        rows.append(
            {
                "n_modes": gen.circuit.n_modes,
                "cutoff": cutoff,
                "n_layers": gen.circuit.n_layers,
                **row,
            }
        )
    return rows


def bench_circuit(shapes, repeats: int, n_layers: int = 2) -> list[dict]:
    """The engine benchmark circuit at each (modes, cutoff, batch), both layouts."""
    rows = []
    for n_modes, cutoff, batch in shapes:
        log.info("benchmark circuit, %d modes, cutoff %d, batch %d", n_modes, cutoff, batch)

        def make_step(n_modes=n_modes, cutoff=cutoff, batch=batch):
            prog, encoding, trainable = reference_program(n_modes, n_layers)
            weights, z = _common.reference_arguments(trainable, encoding, batch)

            @tf.function(autograph=False)
            def step():
                with tf.GradientTape() as tape:
                    res = simulate(prog, cutoff, args={**z, **weights})
                    loss = _common.readout_loss(res)
                return loss, tape.gradient(loss, list(weights.values()))

            return lambda: step()[0]

        prog, _, _ = reference_program(n_modes, n_layers)
        stated = _resources.state_bytes(cutoff**n_modes, batch, 8, len(prog.circuit))
        row = _timed_pair(make_step, repeats, batch, stated)
        rows.append({"n_modes": n_modes, "cutoff": cutoff, "n_layers": n_layers, **row})
    return rows


def _methods(result: dict) -> str:
    rows = result["generator"] + result["circuit"]
    return ", ".join(sorted({r["peak_method"] for r in rows})) or "-"


def _mb(value) -> str:
    return "-" if value is None else f"{value:,.1f}"


def format_table(rows: list[dict]) -> str:
    lines = [
        "| modes | cutoff | batch | batch-first us / sample | batch-last us / sample | "
        "speed-up | IQR ms (first / last) | first call s (first / last) | peak MB | "
        "stated MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        bf, bl = r["batch-first"], r["batch-last"]
        lines.append(
            f"| {r['n_modes']} | {r['cutoff']} | {r['batch_size']} | "
            f"{bf['us_per_sample']:,.1f} | {bl['us_per_sample']:,.1f} | "
            f"{r['speed_up']:.2f}x | {bf['iqr_ms']:,.2f} / {bl['iqr_ms']:,.2f} | "
            f"{bf['first_call_s']:.1f} / {bl['first_call_s']:.1f} | {_mb(r['peak_mb'])} | "
            f"{r['stated_mb']:,.1f} |"
        )
    return "\n".join(lines)


def format_report(result: dict) -> str:
    machine = result["machine"]
    parts = [
        "# Photonic engine: larger cutoffs and more modes, batch-last against batch-first",
        f"`{result['command']}`",
        f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores; TensorFlow "
        f"{machine['tensorflow']}. Medians of {result['repeats']} alternating timed calls "
        "per layout (after two warm-ups each); peak memory of one warm batch-last call "
        f"above what was live before it (read from: {_methods(result)}; see "
        "`qgan.profiling.timing.MemoryPeak` for what each method misses); stated memory: "
        "what the engine computes, and checks against the memory available, before it "
        "allocates (the states kept for the gradient included).",
    ]
    if result["generator"]:
        parts += [
            f"## Generator forward + backward (`{result['config']}`)",
            format_table(result["generator"]),
        ]
    if result["circuit"]:
        parts += [
            "## Engine benchmark circuit (2 layers), forward + gradient",
            format_table(result["circuit"]),
        ]
    return "\n\n".join(parts) + "\n"


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    shapes = []
    for item in _common.names(text):
        try:
            modes, cutoff, batch = (int(x) for x in item.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"shape must be MODESxCUTOFFxBATCH (e.g. 8x4x16), got {item!r}"
            ) from None
        if modes < 1 or cutoff < 2 or batch < 1:
            raise argparse.ArgumentTypeError(
                f"shape needs modes >= 1, cutoff >= 2, batch >= 1, got {item!r}"
            )
        shapes.append((modes, cutoff, batch))
    return shapes


def parse_cutoffs(text: str) -> list[int]:
    values = [int(x) for x in _common.names(text)] if text else []
    if any(v < 2 for v in values):
        raise argparse.ArgumentTypeError(f"cutoffs must be >= 2, got {text!r}")
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", type=parse_shapes, default=parse_shapes("4x4x256,4x6x256,6x5x16,8x4x16")
    )
    parser.add_argument("--generator-cutoffs", type=parse_cutoffs, default=[4, 5, 6])
    parser.add_argument("--config", default="configs/bimodal.yaml")
    parser.add_argument("--repeats", type=positive, default=10)
    parser.add_argument("--out", help="also write OUT.md and OUT.json")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    _common.setup_logging()
    result = {
        "machine": machine_info(),
        "config": args.config,
        "repeats": args.repeats,
        "generator": bench_generator(args.config, args.generator_cutoffs, args.repeats),
        "circuit": bench_circuit(args.shapes, args.repeats),
        "command": _common.command_line("engine_scaling.py", argv),
    }
    return _common.publish(args.out, result, format_report(result))


if __name__ == "__main__":
    sys.exit(main())
