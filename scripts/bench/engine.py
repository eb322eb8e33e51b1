"""Benchmark the compiled Fock engine against Strawberry Fields' own ``tf`` backend and
Piquasso (forward + gradient on the engine benchmark circuit).

Usage:
    python scripts/bench/engine.py [--batch-size 256] [--cutoff 4] [--layers 2] [--modes 4]
        [--sf-batch-size 16] [--repeats 30] [--sf-repeats 3] [--no-sf] [--no-piquasso]
        [--seed 0] [--json] [--out reports/bench_engine]

The circuit is :func:`qgan.profiling.reference.reference_program`: ``n_modes`` modes, a
per-sample ``Dgate`` encoding on every mode, then per layer ``BSgate(theta, 0)`` on
neighbouring modes and ``Sgate``, ``Dgate``, ``Kgate`` on every mode (trainable,
batch-independent). One timed step is the forward pass plus the gradient of a scalar
loss (sum over samples and modes of mean photon number and mean x quadrature) w.r.t.
every trainable argument, on ``qgan.photonic.simulate`` (``backend="compiled"`` and
``"sf"``); the compiled step is also timed as eager code (``compiled-eager``: the README's
pattern, no ``tf.function`` of the caller's own), with its cost ratio to the compiled one.
Every number in the result is measured in the same run, with
:func:`qgan.profiling.timing.measure`. Writes OUT.md and OUT.json with ``--out``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

import _common  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import positive  # noqa: E402

from qgan._machine import machine_info  # noqa: E402
from qgan.photonic import simulate  # noqa: E402
from qgan.profiling.reference import reference_program  # noqa: E402
from qgan.profiling.timing import measure  # noqa: E402

log = logging.getLogger("bench.engine")

CIRCUIT = (
    "per-sample Dgate encoding on every mode; per layer BSgate(theta,0) on neighbours, then "
    "Sgate, Dgate, Kgate on every mode"
)
STEP = (
    "forward + gradient of sum(mean_photon + mean x) w.r.t. all trainable args, inside "
    "tf.function (compiled) and as eager code (compiled-eager)"
)


def bench_engine(
    cutoff: int = 4,
    n_layers: int = 2,
    n_modes: int = 4,
    batch_size: int = 256,
    sf_batch_size: int = 16,
    repeats: int = 30,
    sf_repeats: int = 3,
    include_sf: bool = True,
    include_piquasso: bool = True,
    seed: int = 0,
) -> dict:
    """Time forward + gradient on the compiled engine and SF's ``tf`` backend.

    Returns a JSON-ready dict: configuration, machine, one run per backend and batch
    (compiled at ``batch_size`` and at ``sf_batch_size``; SF at ``sf_batch_size``;
    Piquasso if installed), the agreement of the two backends' kets, and the speed-up
    ratios (per sample).
    """
    prog, encoding, trainable = reference_program(n_modes, n_layers)
    rng = np.random.default_rng(seed)
    weights = {n: tf.Variable(rng.normal(0.0, 0.1), dtype=tf.float32) for n in trainable}
    variables = list(weights.values())

    def latent(batch):
        return {n: tf.constant(rng.normal(0.0, 0.5, batch), tf.float32) for n in encoding}

    def step(z, backend):
        with tf.GradientTape() as tape:
            state = simulate(prog, cutoff, args={**z, **weights}, backend=backend)
            loss = _common.readout_loss(state)
        return loss, tape.gradient(loss, variables)

    compiled_step = tf.function(lambda z: step(z, "compiled"))
    runs = []
    for batch in dict.fromkeys([batch_size, sf_batch_size]):
        z = latent(batch)
        log.info("compiled engine, batch %d", batch)
        timing = measure(lambda z=z: compiled_step(z), repeats, warmup=3)
        runs.append({"backend": "compiled", **_common.timing_fields(timing, batch)})
    # the same step as eager code (the README's pattern: no tf.function of the user's own)
    z = latent(batch_size)
    log.info("compiled engine called eagerly, batch %d", batch_size)
    timing = measure(lambda: step(z, "compiled"), repeats, warmup=3)
    runs.append({"backend": "compiled-eager", **_common.timing_fields(timing, batch_size)})

    result = {
        "circuit": {
            "n_modes": n_modes,
            "n_layers": n_layers,
            "cutoff": cutoff,
            "trainable_parameters": len(trainable),
            "description": CIRCUIT,
        },
        "step": STEP,
        "machine": machine_info(),
        "runs": runs,
        "notes": [],
    }

    if include_sf:
        z = latent(sf_batch_size)
        log.info("Strawberry Fields tf backend, batch %d", sf_batch_size)
        timing = measure(lambda: step(z, "sf"), sf_repeats, warmup=0)
        runs.append({"backend": "sf-tf", **_common.timing_fields(timing, sf_batch_size)})
        ket_sf = simulate(prog, cutoff, args={**z, **weights}, backend="sf").ket()
        ket_ours = simulate(prog, cutoff, args={**z, **weights}).ket()
        result["max_abs_ket_difference"] = float(tf.reduce_max(tf.abs(ket_sf - ket_ours)))

    if include_piquasso:
        import piquasso_baseline

        values = [float(weights[n].numpy()) for n in trainable]
        z = latent(batch_size)
        z_array = np.stack([z[n].numpy() for n in encoding], axis=1)  # [B, modes]
        run, note = piquasso_baseline.run(
            n_modes, n_layers, cutoff, batch_size, repeats, rng, values, z=z_array
        )
        if run is not None:
            runs.append(run)
            # at equal truncation error: the smallest total-photon cutoff whose mean
            # leakage on these samples is at most the engine's (per-mode cutoff)
            ours = float(tf.reduce_mean(simulate(prog, cutoff, args={**z, **weights}).leakage()))
            matched, theirs = piquasso_baseline.equal_leakage_cutoff(
                n_modes, n_layers, values, z_array, ours, cutoff
            )
            result["leakage"] = {"compiled": ours, "piquasso_cutoff": matched, "piquasso": theirs}
            if matched != cutoff:
                run, _ = piquasso_baseline.run(
                    n_modes, n_layers, matched, batch_size, repeats, rng, values, z=z_array
                )
                if run is not None:
                    backend = run["backend"].replace(")", ", equal leakage)")
                    runs.append({**run, "backend": backend, "equal_leakage": True})
        result["notes"].append(note)

    by_key = {(r["backend"], r["batch_size"]): r for r in runs}
    ratios = {
        f"compiled-eager@{batch_size} / compiled@{batch_size}": (
            by_key["compiled-eager", batch_size]["us_per_sample"]
            / by_key["compiled", batch_size]["us_per_sample"]
        )
    }
    for run in runs:
        if run.get("equal_leakage"):
            ratios[f"{run['backend']}@{batch_size} / compiled@{batch_size}"] = (
                run["us_per_sample"] / by_key["compiled", batch_size]["us_per_sample"]
            )
    sf_run = by_key.get(("sf-tf", sf_batch_size))
    if sf_run is not None:
        for batch in dict.fromkeys([batch_size, sf_batch_size]):
            ours = by_key[("compiled", batch)]
            ratios[f"sf-tf@{sf_batch_size} / compiled@{batch}"] = (
                sf_run["us_per_sample"] / ours["us_per_sample"]
            )
    result["ratios"] = ratios
    return result


def format_table(result: dict) -> str:
    """A Markdown table of the runs and the ratios."""
    lines = [
        "| backend | batch | us / sample (median) | step ms (median) | IQR ms | "
        "first call s (trace/compile) | repeats |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['backend']} | {r['batch_size']} | {r['us_per_sample']:,.1f} | "
            f"{r['median_s'] * 1e3:,.2f} | {(r['q75_s'] - r['q25_s']) * 1e3:,.2f} | "
            f"{r['first_call_s']:.2f} | {r['repeats']} |"
        )
    for name, value in result["ratios"].items():
        if name.startswith("compiled-eager"):  # a cost ratio (target: near 1), not a speed-up
            lines.append(f"\neager / compiled per sample, {name}: **{value:.2f}x**")
        else:
            shown = f"{value:,.0f}" if value >= 10 else f"{value:.2f}"
            lines.append(f"\nspeed-up per sample, {name}: **{shown}x**")
    if "max_abs_ket_difference" in result:
        lines.append(
            f"\nmax |ket_sf - ket_compiled| on the SF batch: {result['max_abs_ket_difference']:.1e}"
        )
    if "leakage" in result:
        leak = result["leakage"]
        lines.append(
            f"\nmean norm leakage on the timed batch: compiled (cutoff "
            f"{result['circuit']['cutoff']} per mode) {leak['compiled']:.2e}; piquasso at "
            f"total-photon cutoff {leak['piquasso_cutoff']} (the smallest whose leakage is at "
            f"most the engine's, timed above as the equal-truncation-error row) "
            f"{leak['piquasso']:.2e}"
        )
    for note in result["notes"]:
        lines.append(f"\nnote: {note}")
    return "\n".join(lines)


def format_report(result: dict) -> str:
    """The Markdown report: command, machine, circuit, step, then :func:`format_table`."""
    machine, circuit = result["machine"], result["circuit"]
    return (
        f"# Compiled Fock engine vs Strawberry Fields\n\n`{result['command']}`\n\n"
        f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores; TensorFlow "
        f"{machine['tensorflow']}, Strawberry Fields {machine['strawberryfields']}.\n\n"
        f"Circuit: {circuit['description']} ({circuit['n_modes']} modes, "
        f"{circuit['n_layers']} layers, cutoff {circuit['cutoff']}).\n"
        f"Step: {result['step']}.\n\n{format_table(result)}\n"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoff", type=positive, default=4, help="cutoff per mode (default 4)")
    parser.add_argument("--layers", type=positive, default=2, help="circuit layers (default 2)")
    parser.add_argument("--modes", type=positive, default=4, help="modes (default 4)")
    parser.add_argument("--batch-size", type=positive, default=256, help="batch (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--sf-batch-size", type=positive, default=16, help="SF batch (16)")
    parser.add_argument("--repeats", type=positive, default=30, help="timed repeats (30)")
    parser.add_argument("--sf-repeats", type=positive, default=3, help="timed SF repeats (3)")
    parser.add_argument("--no-sf", action="store_true", help="skip the SF baseline")
    parser.add_argument("--no-piquasso", action="store_true", help="skip the Piquasso baseline")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--out", help="also write OUT.md and OUT.json (e.g. reports/bench_engine)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.cutoff < 2:
        parser.error(f"--cutoff must be >= 2, got {args.cutoff}")
    _common.setup_logging()
    result = bench_engine(
        cutoff=args.cutoff,
        n_layers=args.layers,
        n_modes=args.modes,
        batch_size=args.batch_size,
        sf_batch_size=args.sf_batch_size,
        repeats=args.repeats,
        sf_repeats=args.sf_repeats,
        include_sf=not args.no_sf,
        include_piquasso=not args.no_piquasso,
        seed=args.seed,
    )
    result["command"] = _common.command_line("engine.py", argv)
    if args.out:
        _common.write_report(args.out, result, format_report(result))
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
