"""Engine verbs: ``demo`` (the reference generator circuit on the compiled engine and on
SF's tf backend, agreement and timings) and ``bench`` (the engine benchmark)."""

from __future__ import annotations

import json
import sys
import time


def _demo(args) -> int:
    import numpy as np
    import tensorflow as tf

    from qgan.photonic import simulate
    from qgan.profiling.engine_bench import benchmark_program

    prog, encoding, trainable = benchmark_program(args.modes, args.layers)
    rng = np.random.default_rng(args.seed)
    weights = {n: rng.normal(0.0, 0.1) for n in trainable}
    z = {n: rng.normal(0.0, 0.5, args.batch_size) for n in encoding}
    print(
        f"reference generator circuit: {args.modes} modes, {args.layers} layers, cutoff "
        f"{args.cutoff}, batch {args.batch_size}, {len(trainable)} trainable arguments"
    )
    start = time.perf_counter()
    result = simulate(prog, args.cutoff, args={**z, **weights})
    first = time.perf_counter() - start
    start = time.perf_counter()
    result = simulate(prog, args.cutoff, args={**z, **weights})
    _ = result.ket().numpy()
    again = time.perf_counter() - start
    print(f"compiled engine: first call {first:.2f} s (tracing), next call {again * 1e3:.1f} ms")
    n_sf = min(args.sf_samples, args.batch_size)
    z_sf = {n: v[:n_sf] for n, v in z.items()}
    start = time.perf_counter()
    reference = simulate(prog, args.cutoff, args={**z_sf, **weights}, backend="sf")
    sf_time = time.perf_counter() - start
    diff = float(tf.reduce_max(tf.abs(reference.ket() - result.ket()[:n_sf])))
    print(f"SF tf backend on the first {n_sf} samples: {sf_time:.2f} s")
    print(f"max |amplitude difference| compiled vs SF: {diff:.1e}")
    for mode in range(args.modes):
        mean, _ = result.mean_photon(mode)
        x, _ = result.quad_expectation(mode)
        print(
            f"  mode {mode}: <n> = {float(tf.reduce_mean(mean)):.4f}, "
            f"<x> = {float(tf.reduce_mean(x)):+.4f} (batch means)"
        )
    leak = result.leakage()
    mean_leak, max_leak = float(tf.reduce_mean(leak)), float(tf.reduce_max(leak))
    print(f"norm leakage: mean {mean_leak:.2e}, max {max_leak:.2e}")
    return 0 if diff < 1e-4 else 1


def _bench(args) -> int:
    from qgan._io import write_text_atomic
    from qgan.profiling.engine_bench import bench_engine, format_table

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
    argv = sys.argv[1:] if args.argv is None else args.argv
    command = "python scripts/bench_engine.py " + " ".join(a for a in argv if a != "bench")
    result["command"] = command.strip()
    table = format_table(result)
    if args.out:
        machine = result["machine"]
        md = (
            f"# Compiled Fock engine vs Strawberry Fields\n\n`{result['command']}`\n\n"
            f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores; TensorFlow "
            f"{machine['tensorflow']}, Strawberry Fields {machine['strawberryfields']}.\n\n"
            f"Circuit: {result['circuit']['description']} ({result['circuit']['n_modes']} modes, "
            f"{result['circuit']['n_layers']} layers, cutoff {result['circuit']['cutoff']}).\n"
            f"Step: {result['step']}.\n\n{table}\n"
        )
        write_text_atomic(f"{args.out}.md", md)
        write_text_atomic(f"{args.out}.json", json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table)
    return 0


def _circuit_options(p, batch):
    p.add_argument("--cutoff", type=int, default=4, help="Fock cutoff per mode (default 4)")
    p.add_argument("--layers", type=int, default=2, help="circuit layers (default 2)")
    p.add_argument("--modes", type=int, default=4, help="modes (default 4)")
    p.add_argument("--batch-size", type=int, default=batch, help=f"batch (default {batch})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(verbs) -> None:
    """Add the ``demo`` and ``bench`` verbs to the ``qgan`` parser's subparsers."""
    demo = verbs.add_parser(
        "demo", help="engine demo: compiled engine vs SF on the reference circuit"
    )
    _circuit_options(demo, 256)
    demo.add_argument("--sf-samples", type=int, default=4, help="samples run on SF (default 4)")
    demo.set_defaults(run=_demo, positive=("cutoff", "layers", "modes", "batch_size", "sf_samples"))

    bench = verbs.add_parser("bench", help="benchmark forward+gradient: compiled engine vs SF tf")
    _circuit_options(bench, 256)
    bench.add_argument("--sf-batch-size", type=int, default=16, help="SF batch (default 16)")
    bench.add_argument("--repeats", type=int, default=30, help="timed repeats (default 30)")
    bench.add_argument("--sf-repeats", type=int, default=3, help="timed SF repeats (default 3)")
    bench.add_argument("--no-sf", action="store_true", help="skip the SF baseline")
    bench.add_argument("--no-piquasso", action="store_true", help="skip the Piquasso baseline")
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    bench.add_argument("--out", help="also write OUT.md and OUT.json (e.g. reports/bench_engine)")
    bench.set_defaults(
        run=_bench,
        positive=(
            "cutoff",
            "layers",
            "modes",
            "batch_size",
            "sf_batch_size",
            "repeats",
            "sf_repeats",
        ),
    )
