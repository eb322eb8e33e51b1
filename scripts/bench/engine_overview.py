"""The photonic engine's figures in one run: training step, eager use, scale, baselines.

Usage:
    python scripts/bench/engine_overview.py [--config configs/bimodal.yaml]
        [--cutoffs 4,5,6] [--shapes 4x4x256,6x4x64,6x5x16,6x6x4,8x4x16] [--circuit 4x4x256]
        [--repeats 10] [--sf-repeats 2] [--targets scripts/bench/targets.toml]
        [--out reports/bench_engine_overview]

Drives the benchmarks that measure each part, in one process on one machine, and sets
each figure beside its target (the ``[engine]`` table of ``--targets``):

1. ``qgan profile`` of ``--config`` (:func:`qgan.profiling.performance.profile`, at the
   config's batch): the full training step and the generator's forward + backward per
   sample, the generator at each cutoff of ``--cutoffs`` (with its norm leakage), SF's
   ``tf`` backend on the generator's circuit at the same batch, and the share of the
   machine's matmul throughput the circuit step reaches;
2. ``scripts/bench/engine.py`` on its benchmark circuit (4 modes, cutoff 4, batch 256):
   compiled against the same code run eagerly (the README's pattern), and Piquasso's JAX
   simulator at the same cutoff number and at equal truncation error (the smallest
   total-photon cutoff whose mean norm leakage on the timed batch is at most the
   engine's; both leakages printed), when the ``[bench]`` extra is installed;
3. ``scripts/bench/engine_scaling.py``'s benchmark circuit at each ``MODESxCUTOFFxBATCH``
   of ``--shapes`` (both engine layouts in alternation), first call, peak memory, and
   the memory the engine states before it allocates; and the largest batch of the
   6-mode, cutoff-6 circuit whose stated memory fits 24 GiB;
4. the sustained flop rate each time target asks of the machine (:func:`arithmetic_bounds`:
   the engine's counted work over the time the target leaves, less the time measured to go
   elsewhere), beside the measured complex-matmul peak.

Writes OUT.md and OUT.json with ``--out``. Timings are medians of ``--repeats`` calls;
first calls (trace + graph optimisation + one run) are listed separately.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import _common  # noqa: E402
import engine  # noqa: E402
import engine_scaling  # noqa: E402
from _common import positive  # noqa: E402

from qgan import _resources  # noqa: E402
from qgan._machine import machine_info  # noqa: E402
from qgan.gan.config import load_config  # noqa: E402
from qgan.profiling.performance import profile  # noqa: E402
from qgan.profiling.reference import reference_program  # noqa: E402

log = logging.getLogger("bench.engine_overview")

MEMORY_BUDGET_BYTES = 24 * 2**30  # issue 15: "6 modes at cutoff 6 runs at a batch that fits 24 GB"
COMPLEX64_BYTES = 8


def largest_batch_within(
    n_modes: int, cutoff: int, budget: int, n_layers: int = 2
) -> tuple[int, int]:
    """The largest batch of the benchmark circuit whose stated memory
    (:func:`qgan._resources.state_bytes`, what ``simulate`` checks) is at most ``budget``,
    and that memory in bytes (1 and its memory when even one sample exceeds it)."""
    gates = len(reference_program(n_modes, n_layers)[0].circuit)

    def need(batch: int) -> int:
        return _resources.state_bytes(cutoff**n_modes, batch, COMPLEX64_BYTES, gates)

    batch = _resources.largest(lambda b: need(b) <= budget, 1, max(1, budget // need(1))) or 1
    return batch, need(batch)


REFERENCE = {"n_modes": 4, "cutoff": 4, "n_layers": 2, "batch": 256}


def eager_split(n_modes: int, cutoff: int, batch: int, repeats: int) -> dict:
    """Where eager use loses time, on the benchmark circuit with the ket as its only
    readout (loss ``sum |ket|^2``, gradient w.r.t. the 30 trainable arguments): ms per
    call of the forward alone, the forward under an eager ``GradientTape`` (TensorFlow
    runs a variant of the compiled function that also returns the intermediates the
    gradient needs), forward + backward eagerly, the same with the engine's replayed
    gradient off (``PlannerOptions.replay_gradient``: TensorFlow's autodiff of the whole
    compiled simulation, whose backward is fed every intermediate), and the same forward +
    backward inside one ``tf.function``; medians of ``repeats`` calls, taken in
    alternation."""
    import tensorflow as tf

    from qgan.photonic import plan as planner
    from qgan.photonic import simulate

    prog, encoding, trainable = reference_program(n_modes, 2)
    weights, z = _common.reference_arguments(trainable, encoding, batch)
    variables = list(weights.values())

    def forward():
        ket = simulate(prog, cutoff, args={**z, **weights}).ket()
        return tf.reduce_sum(tf.math.real(ket * tf.math.conj(ket)))

    def forward_under_tape():
        with tf.GradientTape():
            return forward()

    def forward_backward():
        with tf.GradientTape() as tape:
            loss = forward()
        return tape.gradient(loss, variables)

    def forward_backward_autodiff():
        default = planner.DEFAULT_OPTIONS  # simulate reads it at each call
        planner.DEFAULT_OPTIONS = dataclasses.replace(default, replay_gradient=False)
        try:
            return forward_backward()
        finally:
            planner.DEFAULT_OPTIONS = default

    calls = {
        "eager forward": forward,
        "eager forward under a tape": forward_under_tape,
        "eager forward + backward": forward_backward,
        "eager forward + backward, replayed gradient off": forward_backward_autodiff,
        "compiled forward + backward": tf.function(forward_backward, autograph=False),
    }
    medians = _common.alternating_medians(calls, repeats)
    return {name: seconds * 1e3 for name, seconds in medians.items()}


def figures(result: dict) -> dict:
    """The measured figure for each key of the ``[engine]`` targets; None where this run
    did not measure it (the targets are stated for the reference configuration
    :data:`REFERENCE` and the benchmark circuit at 4 modes, cutoff 4, batch 256)."""
    prof, bench = result["profile"], result["engine"]
    at_reference = all(prof["config"][k] == v for k, v in REFERENCE.items())
    sweep = {row["cutoff"]: row for row in prof["sweep"]}
    circuit = {(r["n_modes"], r["cutoff"], r["batch_size"]): r for r in result["circuit"]}
    bench_circuit = bench["circuit"]
    eager = next(v for k, v in bench["ratios"].items() if k.startswith("compiled-eager"))
    on_reference_circuit = (bench_circuit["n_modes"], bench_circuit["cutoff"]) == (4, 4) and any(
        r["batch_size"] == 256 for r in bench["runs"]
    )

    def reference(value):
        return value if at_reference else None

    return {
        "generator_us_per_sample": reference(prof["step"]["generator"]["us_per_sample"]),
        "training_step_us_per_sample": reference(prof["step"]["step"]["us_per_sample"]),
        "generator_cutoff6_us_per_sample": reference(
            sweep[6]["us_per_sample"] if 6 in sweep else None
        ),
        "eager_over_compiled": eager if on_reference_circuit else None,
        "sf_speedup": reference(prof["sf_baseline"]["ratio_batch"]),
        "circuit_8x4x16_us_per_sample": (
            circuit[8, 4, 16]["batch-last"]["us_per_sample"] if (8, 4, 16) in circuit else None
        ),
    }


def arithmetic_bounds(config: str, prof: dict, targets: dict, repeats: int) -> list[dict]:
    """For each time target: the floating-point work it leaves time for, as the sustained
    rate it asks of the machine.

    The work is the engine's own count for its plan
    (:func:`qgan.profiling.throughput.circuit_flops`, forward + gradient = 3x forward). The
    time is what the target leaves per step, less what this run measured the step to spend
    besides that work: the generator's forward + backward at batch 1 (gate matrices, block
    composition, calls: the part that does not grow with the batch; median of ``repeats``)
    and, for the training step, its time beyond the generator's forward + backward at its
    batch (discriminator, decoder, updates). The rate is set beside this run's measured
    complex-matmul peak (large square products) and the rate the generator circuit's
    forward + backward reached. The SF target leaves ``SF time / bound`` per
    sample for the generator's work."""
    from qgan.gan.model import build_generator
    from qgan.profiling.scaling import generator_step, profile_inputs
    from qgan.profiling.throughput import BACKWARD_FACTOR, circuit_flops

    eff, step = prof["efficiency"], prof["step"]
    peak, achieved = eff["matmul_gflops"]["peak"], eff["fwd_bwd"]["achieved_gflops"]
    batch, cutoff = prof["config"]["batch"], prof["config"]["cutoff"]

    @functools.cache
    def generator(at_cutoff: int) -> tuple[float, float]:
        """(GFLOP of the forward + backward at ``batch``, ms of it at batch 1)."""
        gen = build_generator(load_config(config, {"generator.cutoff": at_cutoff}))
        flops = circuit_flops(gen.program, at_cutoff, batch, gen.circuit.latent_names)
        one = functools.partial(generator_step(gen), *profile_inputs(gen, 1, 0))
        seconds = _common.alternating_medians({"one": lambda: one()[0].numpy()}, repeats)
        return flops.total * (1 + BACKWARD_FACTOR) / 1e9, seconds["one"] * 1e3

    beyond_generator_ms = step["step"]["median_ms"] - step["generator"]["median_ms"]
    sf_us = prof["sf_baseline"]["sf_batch_us_per_sample"]
    prog, encoding, _ = reference_program(8, 2)  # the 8 x 4 x 16 target: 8 modes, cutoff 4
    wide = circuit_flops(prog, 4, 16, encoding).total * (1 + BACKWARD_FACTOR) / 1e9

    def at(at_cutoff: int, us: float, extra_ms: float = 0.0):
        gflop, other_ms = generator(at_cutoff)
        return gflop, batch, us, other_ms + extra_ms

    # key -> bound -> (GFLOP per step, samples per step, us per sample left, other ms)
    work = {
        "generator_us_per_sample": lambda bound: at(cutoff, bound),
        "training_step_us_per_sample": lambda bound: at(cutoff, bound, beyond_generator_ms),
        "generator_cutoff6_us_per_sample": lambda bound: at(6, bound),
        "sf_speedup": lambda bound: at(cutoff, sf_us / bound),
        "circuit_8x4x16_us_per_sample": lambda bound: (wide, 16, bound, None),
    }
    rows = []
    for key, of in work.items():
        if key not in targets:
            continue
        gflop, samples, us, other_ms = of(float(targets[key]))
        budget_ms = us * samples / 1e3
        left_ms = budget_ms - (other_ms or 0.0)
        required = gflop / (left_ms / 1e3) if left_ms > 0 else None
        rows.append(
            {
                "target": key,
                "what": TARGET_ROWS[key][0],
                "gflop_per_step": gflop,
                "batch": samples,
                "us_per_sample_allowed": us,
                "budget_ms": budget_ms,
                "other_ms": other_ms,
                "required_gflops": required,
                "over_peak": None if required is None else required / peak,
                "over_achieved": None if required is None else required / achieved,
            }
        )
    return rows


# target key -> (what it measures, True when the bound is a minimum)
TARGET_ROWS = {
    "generator_us_per_sample": ("generator forward + backward, cutoff 4, us / sample", False),
    "training_step_us_per_sample": ("full training step, us / sample", False),
    "generator_cutoff6_us_per_sample": (
        "generator forward + backward, cutoff 6, us / sample",
        False,
    ),
    "eager_over_compiled": ("eager / compiled, benchmark circuit (x)", False),
    "sf_speedup": ("SF tf backend / engine at equal batch, generator circuit (x)", True),
    "circuit_8x4x16_us_per_sample": (
        "benchmark circuit, 8 modes, cutoff 4, batch 16, us / sample",
        False,
    ),
}


def check(measured: dict, targets: dict) -> list[dict]:
    """One row per target: bound, measured value, and whether it holds."""
    rows = []
    for key, (what, minimum) in TARGET_ROWS.items():
        if key not in targets:
            continue
        bound, value = float(targets[key]), measured.get(key)
        value = None if value is None else float(value)  # NumPy scalars: not JSON
        holds = None if value is None else bool(value >= bound if minimum else value <= bound)
        rows.append(
            {
                "target": key,
                "what": what,
                "bound": bound,
                "minimum": minimum,
                "measured": value,
                "holds": holds,
            }
        )
    return rows


def _number(value) -> str:
    if value is None:
        return "not measured"
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def format_report(result: dict) -> str:
    machine, prof = result["machine"], result["profile"]
    cfg = prof["config"]
    lines = [
        "# Photonic engine overview: training step, eager use, scale, baselines",
        f"`{result['command']}`",
        f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores; TensorFlow "
        f"{machine['tensorflow']}, Strawberry Fields {machine['strawberryfields']}; "
        f"complex64; whole run {result['wall_time_s']:.0f} s. Every figure below was measured "
        "in this run.",
        "",
        "## Targets",
        "",
        "| figure | target | measured | holds |",
        "|---|---:|---:|---|",
    ]
    for row in result["targets"]:
        sign = ">=" if row["minimum"] else "<="
        holds = {True: "yes", False: "**no**", None: "-"}[row["holds"]]
        lines.append(
            f"| {row['what']} | {sign} {_number(row['bound'])} | {_number(row['measured'])} | "
            f"{holds} |"
        )
    lines += [
        "",
        "Targets: issue 15's bounds (the `[engine]` table of the targets file), stated for "
        "the reference configuration (4 modes, cutoff 4, 2 layers, batch 256) and the "
        "benchmark circuit at 4 modes, cutoff 4, batch 256; a figure this run did not "
        'measure at those settings reads "not measured".',
    ]
    eff = prof["efficiency"]
    lines += [
        "",
        "What each time target asks of the arithmetic: the engine's counted work for its "
        "plan (forward + gradient = 3x forward; for the training step, the generator's "
        "part), over the time the target leaves per step less the other time this run "
        "measured (other ms: the generator's forward + backward at batch 1, which does not "
        "grow with the batch; for the training step also its time beyond the generator's "
        "forward + backward: discriminator, decoder, updates), against this run's "
        f"complex-matmul peak ({eff['matmul_gflops']['peak']:.0f} GFLOP/s, large square "
        "products) and the rate the generator circuit's forward + backward reached "
        f"({eff['fwd_bwd']['achieved_gflops']:.1f} GFLOP/s). Above 1x peak, no schedule "
        "of these products meets the target on this machine:",
        "",
        "| figure | GFLOP / step | batch | ms / step allowed | other ms | GFLOP/s needed | "
        "x peak | x reached |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["arithmetic"]:
        needed = row["required_gflops"]
        lines.append(
            f"| {row['what']} | {row['gflop_per_step']:.3f} | {row['batch']} | "
            f"{row['budget_ms']:,.2f} | {_number(row['other_ms'])} | "
            + (
                "no time left | - | - |"
                if needed is None
                else f"{needed:.1f} | {row['over_peak']:.2f} | {row['over_achieved']:.2f} |"
            )
        )
    step = prof["step"]
    sf = prof["sf_baseline"]
    lines += [
        "",
        f"## Generator and training step (`{result['config']}`: {cfg['n_modes']} modes, "
        f"cutoff {cfg['cutoff']}, {cfg['n_layers']} layers, batch {cfg['batch']})",
        "",
        "| what | us / sample | ms / step | first call s |",
        "|---|---:|---:|---:|",
        f"| full training step | {step['step']['us_per_sample']:,.1f} | "
        f"{step['step']['median_ms']:,.2f} | {step['step']['first_call_s']:.1f} |",
        f"| generator forward + backward | {step['generator']['us_per_sample']:,.1f} | "
        f"{step['generator']['median_ms']:,.2f} | {step['generator']['first_call_s']:.1f} |",
        f"| SF tf backend, same circuit and batch | {sf['sf_batch_us_per_sample']:,.0f} | "
        f"{sf['sf_batch_us_per_sample'] * sf['batch'] / 1e3:,.0f} | "
        f"{sf['sf_batch_first_call_s']:.1f} |",
        "",
        f"SF / engine at equal batch: **{sf['ratio_batch']:,.0f}x** (max state difference "
        f"{sf['max_state_difference']:.1e}); circuit step at "
        f"{eff['achieved_gflops']:.1f} GFLOP/s, {eff['share_of_peak']:.0%} of this machine's "
        f"measured complex-matmul peak ({eff['matmul_gflops']['peak']:.0f} GFLOP/s).",
        "",
        "| cutoff | generator f+b us / sample | first call s | mean leakage | peak MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in prof["sweep"]:
        peak = row["peak_memory_mb"]
        lines.append(
            f"| {row['cutoff']} | {row['us_per_sample']:,.1f} | {row['first_call_s']:.1f} | "
            f"{row['leakage']:.2e} | {'-' if not peak else f'{peak:,.1f}'} |"
        )
    lines += [
        "",
        "## Benchmark circuit: compiled, eager, Piquasso",
        "",
        engine.format_table(result["engine"]),
        "",
        "Where eager use loses time: the same circuit with the ket as its only readout "
        "(loss sum |ket|^2), ms per call, medians of calls taken in alternation:",
        "",
        "| call | ms |",
        "|---|---:|",
        *[f"| {name} | {ms:,.2f} |" for name, ms in result["eager_split_ms"].items()],
        "",
        "## Benchmark circuit at more modes and higher cutoffs",
        "",
        engine_scaling.format_table(result["circuit"]),
        "",
        f"Largest batch of the 6-mode, cutoff-6 circuit whose stated memory fits 24 GiB: "
        f"**{result['fits_24gib']['batch']:,}** "
        f"({result['fits_24gib']['stated_mb']:,.0f} MB stated).",
    ]
    return "\n\n".join(lines[:3]) + "\n" + "\n".join(lines[3:]) + "\n"


def run(
    config: str, cutoffs, shapes, repeats: int, sf_repeats: int, targets: dict, circuit=(4, 4, 256)
) -> dict:
    """Every part, measured in this process; returns the JSON-ready result. ``circuit``:
    the (modes, cutoff, batch) of the eager and Piquasso comparison."""
    start = time.perf_counter()
    cfg = load_config(config)
    log.info("qgan profile of %s", config)
    prof = profile(
        cfg,
        batch_sizes=[cfg.train.batch_size],
        cutoffs=cutoffs,
        layers=[cfg.generator.n_layers],
        repeats=repeats,
        sf_repeats=sf_repeats,
        sf_loop_samples=1,
        progress=False,
    )
    log.info("benchmark circuit: compiled, eager, Piquasso")
    n_modes, cutoff, batch = circuit
    bench = engine.bench_engine(
        cutoff=cutoff, n_modes=n_modes, batch_size=batch, repeats=repeats, include_sf=False
    )
    log.info("eager use, ket only: forward, under a tape, forward + backward")
    split = eager_split(n_modes, cutoff, batch, repeats)
    log.info("benchmark circuit at %s", shapes)
    scaled = engine_scaling.bench_circuit(shapes, repeats)
    batch, stated = largest_batch_within(6, 6, MEMORY_BUDGET_BYTES)
    result = {
        "machine": machine_info(),
        "config": config,
        "repeats": repeats,
        "profile": prof,
        "engine": bench,
        "eager_split_ms": split,
        "circuit": scaled,
        "fits_24gib": {"batch": batch, "stated_mb": stated / 2**20},
    }
    result["figures"] = figures(result)
    result["targets"] = check(result["figures"], targets)
    log.info("the flop rate each time target asks")
    result["arithmetic"] = arithmetic_bounds(config, prof, targets, repeats)
    result["wall_time_s"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/bimodal.yaml")
    parser.add_argument("--cutoffs", type=engine_scaling.parse_cutoffs, default=[4, 5, 6])
    parser.add_argument(
        "--shapes",
        type=engine_scaling.parse_shapes,
        default=engine_scaling.parse_shapes("4x4x256,6x4x64,6x5x16,6x6x4,8x4x16"),
    )
    parser.add_argument(
        "--circuit",
        type=lambda text: engine_scaling.parse_shapes(text)[0],
        default=(4, 4, 256),
        help="MODESxCUTOFFxBATCH of the eager and Piquasso comparison (default 4x4x256)",
    )
    parser.add_argument("--repeats", type=positive, default=10)
    parser.add_argument("--sf-repeats", type=positive, default=2)
    parser.add_argument("--targets", help="targets file (default scripts/bench/targets.toml)")
    parser.add_argument("--out", help="also write OUT.md and OUT.json")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.config):
        parser.error(f"--config: no such file: {args.config}")
    try:
        targets = _common.load_targets("engine", args.targets)
    except (OSError, ValueError) as err:
        parser.error(f"--targets: {err}")
    _common.setup_logging()
    result = run(
        args.config, args.cutoffs, args.shapes, args.repeats, args.sf_repeats, targets, args.circuit
    )
    result["command"] = _common.command_line("engine_overview.py", argv)
    return _common.publish(args.out, result, format_report(result))


if __name__ == "__main__":
    sys.exit(main())
