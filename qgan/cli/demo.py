"""Engine demo verb: ``demo`` (the engine benchmark circuit on the compiled engine and on
SF's tf backend, agreement and timings). The benchmark against other libraries is a script,
``python scripts/bench/engine.py``, not part of the package."""

from __future__ import annotations

from qgan.cli import import_tensorflow


def _demo(args) -> int:
    import numpy as np

    tf = import_tensorflow()

    from qgan.photonic import simulate
    from qgan.profiling.reference import reference_program
    from qgan.profiling.timing import measure

    prog, encoding, trainable = reference_program(args.modes, args.layers)
    rng = np.random.default_rng(args.seed)
    weights = {n: rng.normal(0.0, 0.1) for n in trainable}
    z = {n: rng.normal(0.0, 0.5, args.batch_size) for n in encoding}
    print(
        f"engine benchmark circuit: {args.modes} modes, {args.layers} layers, cutoff "
        f"{args.cutoff}, batch {args.batch_size}, {len(trainable)} trainable arguments"
    )
    timing = measure(lambda: simulate(prog, args.cutoff, args={**z, **weights}).ket(), 1, 0)
    first, again = timing.first_call_s, timing.median_s
    result = simulate(prog, args.cutoff, args={**z, **weights})
    print(f"compiled engine: first call {first:.2f} s (tracing), next call {again * 1e3:.1f} ms")
    n_sf = min(args.sf_samples, args.batch_size)
    z_sf = {n: v[:n_sf] for n, v in z.items()}
    sf_run = measure(
        lambda: simulate(prog, args.cutoff, args={**z_sf, **weights}, backend="sf").ket(), 1, 0
    )
    sf_time = sf_run.first_call_s
    reference_ket = sf_run.outputs
    diff = float(np.max(np.abs(reference_ket - result.ket()[:n_sf].numpy())))
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


def _circuit_options(p, batch):
    p.add_argument("--cutoff", type=int, default=4, help="Fock cutoff per mode (default 4)")
    p.add_argument("--layers", type=int, default=2, help="circuit layers (default 2)")
    p.add_argument("--modes", type=int, default=4, help="modes (default 4)")
    p.add_argument("--batch-size", type=int, default=batch, help=f"batch (default {batch})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(verbs) -> None:
    """Add the ``demo`` verb to the ``qgan`` parser's subparsers."""
    demo = verbs.add_parser(
        "demo", help="engine demo: compiled engine vs SF on the engine benchmark circuit"
    )
    _circuit_options(demo, 256)
    demo.add_argument("--sf-samples", type=int, default=4, help="samples run on SF (default 4)")
    demo.set_defaults(run=_demo, positive=("cutoff", "layers", "modes", "batch_size", "sf_samples"))
