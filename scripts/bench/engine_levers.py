"""Levers for the engine's speed, each measured against what the engine does now.

Usage:
    python scripts/bench/engine_levers.py [--config configs/bimodal.yaml] [--cutoffs 4,6]
        [--gemm-shapes 16x4096,16x16384,36x9216] [--repeats 15]
        [--out reports/bench_engine_levers]

Two levers, each timed in alternation with its baseline in this run:

- ``real arithmetic``: a block ``A`` (complex ``[m, m]``) applied to a state slice ``X``
  (complex ``[m, n]``) as one complex64 matmul (the engine now) against one float32 matmul
  of the real block matrix ``[[Re A, -Im A], [Im A, Re A]]`` with ``[Re X; Im X]``
  (``[2m, n]``), the product a real-arithmetic state layout would compute; the two
  results are checked equal (to 1e-3 of complex64 rounding) before timing;
- ``XLA``: the generator's forward + backward (:func:`qgan.profiling.scaling.
  generator_step`) compiled with ``jit_compile=True`` against the plain ``tf.function``,
  at each cutoff of ``--cutoffs``, at the config's batch.

Writes OUT.md and OUT.json with ``--out``. A lever is worth building where its ratio
(baseline / lever) is well above the run-to-run spread (about 1.1x on this machine).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import functools  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import _common  # noqa: E402
import engine_scaling  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import positive  # noqa: E402

from qgan._machine import machine_info  # noqa: E402
from qgan.gan.config import load_config  # noqa: E402
from qgan.gan.model import build_generator  # noqa: E402
from qgan.profiling.scaling import generator_step, profile_inputs  # noqa: E402

log = logging.getLogger("bench.engine_levers")


def _fetched(function):
    """``function()``'s first output (the scalar loss), fetched to the host."""
    return function()[0].numpy()


def real_arithmetic(shapes, repeats: int, seed: int = 0) -> list[dict]:
    """complex64 ``A @ X`` against the float32 real-block product, per ``(m, n)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, n in shapes:
        a = (rng.normal(size=(m, m)) + 1j * rng.normal(size=(m, m))).astype(np.complex64)
        x = (rng.normal(size=(m, n)) + 1j * rng.normal(size=(m, n))).astype(np.complex64)
        a_real = np.block([[a.real, -a.imag], [a.imag, a.real]]).astype(np.float32)
        x_real = np.concatenate([x.real, x.imag]).astype(np.float32)
        complex_args = (tf.constant(a), tf.constant(x))
        real_args = (tf.constant(a_real), tf.constant(x_real))
        product = tf.function(tf.linalg.matmul, autograph=False)
        expected = product(*complex_args).numpy()
        got = product(*real_args).numpy()
        error = float(np.max(np.abs(expected - (got[:m] + 1j * got[m:]))))
        scale = float(np.max(np.abs(expected)))
        if error > 1e-3 * scale:
            raise AssertionError(f"real-block product differs from the complex one by {error}")
        median = _common.alternating_medians(
            {
                # no fetch of the [m, n] product: on the CPU an eager call returns when
                # its result is computed, and copying it out would add to both times
                "complex64": functools.partial(product, *complex_args),
                "real": functools.partial(product, *real_args),
            },
            repeats,
        )
        rows.append(
            {
                "m": m,
                "n": n,
                "complex64_ms": median["complex64"] * 1e3,
                "real_ms": median["real"] * 1e3,
                "ratio": median["complex64"] / median["real"],
                "max_abs_difference": error,
            }
        )
    return rows


def xla(config: str, cutoffs, repeats: int) -> list[dict]:
    """The generator's forward + backward, plain ``tf.function`` against XLA."""
    return [_xla_row(config, cutoff, repeats) for cutoff in cutoffs]


def _xla_row(config: str, cutoff: int, repeats: int) -> dict:
    cfg = load_config(config, {"generator.cutoff": cutoff})
    gen = build_generator(cfg)
    batch = cfg.train.batch_size
    z, noise = profile_inputs(gen, batch, 0)
    plain = functools.partial(generator_step(gen), z, noise)
    compiled = functools.partial(generator_step(gen, jit_compile=True), z, noise)
    log.info("generator, cutoff %d: XLA compile", cutoff)
    start = time.perf_counter()
    loss_xla = float(compiled()[0])
    first_xla = time.perf_counter() - start
    start = time.perf_counter()
    loss_plain = float(plain()[0])
    first_plain = time.perf_counter() - start
    median = _common.alternating_medians(
        {"plain": functools.partial(_fetched, plain), "xla": functools.partial(_fetched, compiled)},
        repeats,
    )
    return {
        "cutoff": cutoff,
        "batch_size": batch,
        "plain_us_per_sample": median["plain"] / batch * 1e6,
        "xla_us_per_sample": median["xla"] / batch * 1e6,
        "ratio": median["plain"] / median["xla"],
        "first_call_s": {"plain": first_plain, "xla": first_xla},
        "loss_difference": abs(loss_plain - loss_xla),
    }


def format_report(result: dict) -> str:
    machine = result["machine"]
    lines = [
        "# Engine speed levers, each against the engine now",
        "",
        f"`{result['command']}`",
        "",
        f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores; TensorFlow "
        f"{machine['tensorflow']}. Medians of {result['repeats']} calls per variant, taken "
        "in alternation. Ratio: baseline time / lever time (above 1: the lever is faster).",
        "",
        "## Real arithmetic: one block product",
        "",
        "| m | n | complex64 ms | float32 real block ms | ratio | max abs difference |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["real_arithmetic"]:
        lines.append(
            f"| {r['m']} | {r['n']:,} | {r['complex64_ms']:.3f} | {r['real_ms']:.3f} | "
            f"{r['ratio']:.2f}x | {r['max_abs_difference']:.1e} |"
        )
    lines += [
        "",
        f"## XLA: the generator's forward + backward (`{result['config']}`)",
        "",
        "| cutoff | batch | plain us / sample | XLA us / sample | ratio | first call s "
        "(plain / XLA) | loss difference |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["xla"]:
        first = r["first_call_s"]
        lines.append(
            f"| {r['cutoff']} | {r['batch_size']} | {r['plain_us_per_sample']:,.1f} | "
            f"{r['xla_us_per_sample']:,.1f} | {r['ratio']:.2f}x | {first['plain']:.1f} / "
            f"{first['xla']:.1f} | {r['loss_difference']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def _gemm_shapes(text: str) -> list[tuple[int, int]]:
    shapes = []
    for item in _common.names(text):
        try:
            m, n = (int(v) for v in item.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"shape must be MxN (e.g. 16x4096), got {item!r}"
            ) from None
        if m < 1 or n < 1:
            raise argparse.ArgumentTypeError(f"shape needs m, n >= 1, got {item!r}")
        shapes.append((m, n))
    return shapes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/bimodal.yaml")
    parser.add_argument("--cutoffs", type=engine_scaling.parse_cutoffs, default=[4, 6])
    parser.add_argument(
        "--gemm-shapes", type=_gemm_shapes, default=_gemm_shapes("16x4096,16x16384,36x9216")
    )
    parser.add_argument("--repeats", type=positive, default=15)
    parser.add_argument("--out", help="also write OUT.md and OUT.json")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.config):
        parser.error(f"--config: no such file: {args.config}")
    _common.setup_logging()
    result = {
        "machine": machine_info(),
        "config": args.config,
        "repeats": args.repeats,
        "real_arithmetic": real_arithmetic(args.gemm_shapes, args.repeats),
        "xla": xla(args.config, args.cutoffs, args.repeats),
        "command": _common.command_line("engine_levers.py", argv),
    }
    return _common.publish(args.out, result, format_report(result))


if __name__ == "__main__":
    sys.exit(main())
