"""Benchmark of the compiled Fock engine against Strawberry Fields' own ``tf`` backend.

The circuit is the reference generator circuit of the issue tracker: ``n_modes`` modes,
a per-sample ``Dgate`` encoding on every mode, then per layer ``BSgate(theta, 0)`` on
neighbouring modes and ``Sgate``, ``Dgate``, ``Kgate`` on every mode (trainable,
batch-independent). One timed step is the forward pass plus the gradient of a scalar
loss (sum over samples and modes of mean photon number and mean x quadrature) w.r.t.
every trainable argument. Every number in the result is measured in the same call.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan._machine import machine_info
from qgan.photonic import simulate

log = logging.getLogger(__name__)


@dataclass
class Timing:
    """Step-time statistics of one backend/batch configuration (seconds unless named)."""

    backend: str
    batch_size: int
    first_call_s: float
    median_s: float
    q25_s: float
    q75_s: float
    repeats: int
    us_per_sample: float = field(init=False)

    def __post_init__(self):
        self.us_per_sample = self.median_s / self.batch_size * 1e6


def benchmark_program(n_modes: int = 4, n_layers: int = 2):
    """The reference generator circuit as an SF Program.

    Returns ``(prog, encoding_names, trainable_names)``: free parameters ``z{i}`` take the
    per-sample encoding; ``bs{l}_{i}``, ``s{l}_{i}``, ``d{l}_{i}``, ``k{l}_{i}`` are trainable.
    """
    prog = sf.Program(n_modes)
    encoding = [f"z{i}" for i in range(n_modes)]
    trainable: list[str] = []
    with prog.context as q:
        for i, name in enumerate(encoding):
            ops.Dgate(prog.params(name)) | q[i]
        for layer in range(n_layers):
            for i in range(n_modes - 1):
                theta = prog.params(f"bs{layer}_{i}")
                trainable.append(theta.name)
                ops.BSgate(theta, 0) | (q[i], q[i + 1])
            for i in range(n_modes):
                s, d, k = prog.params(f"s{layer}_{i}", f"d{layer}_{i}", f"k{layer}_{i}")
                trainable += [s.name, d.name, k.name]
                ops.Sgate(s) | q[i]
                ops.Dgate(d) | q[i]
                ops.Kgate(k) | q[i]
    return prog, encoding, trainable


def _loss(result) -> tf.Tensor:
    total = 0.0
    for mode in range(result.n_modes):
        total += tf.reduce_sum(result.mean_photon(mode)[0] + result.quad_expectation(mode)[0])
    return total


def _time(step, repeats: int, warmup: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), step())
    first = time.perf_counter() - start
    for _ in range(warmup):
        tf.nest.map_structure(lambda t: t.numpy(), step())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), step())
        times.append(time.perf_counter() - start)
    return first, times


def _timing(backend, batch, first, times) -> Timing:
    q25, med, q75 = np.percentile(times, [25, 50, 75])
    return Timing(backend, batch, first, float(med), float(q25), float(q75), len(times))


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

    Returns a JSON-ready dict: configuration, machine, one :class:`Timing` per run
    (compiled at ``batch_size`` and at ``sf_batch_size``; SF at ``sf_batch_size``;
    Piquasso if installed), the agreement of the two backends' kets, and the speed-up
    ratios (per sample).
    """
    prog, encoding, trainable = benchmark_program(n_modes, n_layers)
    rng = np.random.default_rng(seed)
    weights = {n: tf.Variable(rng.normal(0.0, 0.1), dtype=tf.float32) for n in trainable}
    variables = list(weights.values())

    def latent(batch):
        return {n: tf.constant(rng.normal(0.0, 0.5, batch), tf.float32) for n in encoding}

    @tf.function
    def compiled_step(z):
        with tf.GradientTape() as tape:
            loss = _loss(simulate(prog, cutoff, args={**z, **weights}))
        return loss, tape.gradient(loss, variables)

    runs = []
    for batch in dict.fromkeys([batch_size, sf_batch_size]):
        z = latent(batch)
        log.info("compiled engine, batch %d", batch)
        first, times = _time(lambda z=z: compiled_step(z), repeats, warmup=3)
        runs.append(_timing("compiled", batch, first, times))

    result = {
        "circuit": {
            "n_modes": n_modes,
            "n_layers": n_layers,
            "cutoff": cutoff,
            "trainable_parameters": len(trainable),
            "description": "per-sample Dgate encoding on every mode; per layer BSgate(theta,0) "
            "on neighbours, then Sgate, Dgate, Kgate on every mode",
        },
        "step": "forward + gradient of sum(mean_photon + mean x) w.r.t. all trainable args",
        "machine": machine_info(),
        "runs": runs,
        "notes": [],
    }

    if include_sf:
        z = latent(sf_batch_size)

        def sf_step():
            with tf.GradientTape() as tape:
                loss = _loss(simulate(prog, cutoff, args={**z, **weights}, backend="sf"))
            return loss, tape.gradient(loss, variables)

        log.info("Strawberry Fields tf backend, batch %d", sf_batch_size)
        first, times = _time(sf_step, sf_repeats, warmup=0)
        runs.append(_timing("sf-tf", sf_batch_size, first, times))
        ket_sf = simulate(prog, cutoff, args={**z, **weights}, backend="sf").ket()
        ket_ours = simulate(prog, cutoff, args={**z, **weights}).ket()
        result["max_abs_ket_difference"] = float(tf.reduce_max(tf.abs(ket_sf - ket_ours)))

    if include_piquasso:
        from qgan.profiling import piquasso_bench

        pq_timing, note = piquasso_bench.run(
            n_modes, n_layers, cutoff, batch_size, repeats, rng, encoding, trainable, weights
        )
        if pq_timing is not None:
            runs.append(pq_timing)
        result["notes"].append(note)

    by_key = {(r.backend, r.batch_size): r for r in runs}
    ratios = {}
    sf_run = by_key.get(("sf-tf", sf_batch_size))
    if sf_run is not None:
        ours = by_key[("compiled", batch_size)]
        ratios[f"sf-tf@{sf_batch_size} / compiled@{batch_size}"] = (
            sf_run.us_per_sample / ours.us_per_sample
        )
        same = by_key[("compiled", sf_batch_size)]
        ratios[f"sf-tf@{sf_batch_size} / compiled@{sf_batch_size}"] = (
            sf_run.us_per_sample / same.us_per_sample
        )
    result["ratios"] = ratios
    result["runs"] = [asdict(r) for r in runs]
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
        lines.append(f"\nspeed-up per sample, {name}: **{value:,.0f}x**")
    if "max_abs_ket_difference" in result:
        lines.append(
            f"\nmax |ket_sf - ket_compiled| on the SF batch: {result['max_abs_ket_difference']:.1e}"
        )
    for note in result["notes"]:
        lines.append(f"\nnote: {note}")
    return "\n".join(lines)
