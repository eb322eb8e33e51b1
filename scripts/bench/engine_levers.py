"""Levers for the engine's speed, each measured against what the engine does now.

Usage:
    python scripts/bench/engine_levers.py [--config configs/bimodal.yaml] [--cutoffs 4,6]
        [--gemm-shapes 16x4096,16x16384,36x9216] [--sector-shapes 4x4096,6x9216]
        [--repeats 15]
        [--out reports/bench_engine_levers]

Three levers, each timed in alternation with its baseline in this run:

- ``real arithmetic``: a block ``A`` (complex ``[m, m]``) applied to a state slice ``X``
  (complex ``[m, n]``) as one complex64 matmul (the engine now) against one float32 matmul
  of the real block matrix ``[[Re A, -Im A], [Im A, Re A]]`` with ``[Re X; Im X]``
  (``[2m, n]``), the product a real-arithmetic state layout would compute; the two
  results are checked equal (to 1e-3 of complex64 rounding) before timing;
- ``photon-number sectors``: a beamsplitter (which conserves the photon number of its
  two modes, so most entries of its ``[D^2, D^2]`` matrix are zero) applied as one dense
  product (the engine now) against one ``[D, D]`` product per photon-number sector, the
  state's rows gathered into sectors and back (``--sector-shapes``: ``CUTOFFxN``, the
  pair's cutoff and the columns of the state slice, ``D^(M-2) * batch``); checked equal
  before timing, timed forward and forward + gradient;
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


def _sector_slots(cutoff: int) -> tuple[np.ndarray, np.ndarray]:
    """The two-mode basis ``|m, n>`` (row ``m * D + n``) sorted into photon-number sectors
    ``N = m + n``: ``slots[N, s]`` is the row in slot ``s`` of sector ``N`` (``D^2``, a zero
    row, where the sector has fewer than ``D`` states) and ``position[row]`` the slot of
    each row in the flattened ``[2D - 1, D]`` layout."""
    d = cutoff
    slots = np.full((2 * d - 1, d), d * d, dtype=np.int64)
    position = np.zeros(d * d, dtype=np.int64)
    for total in range(2 * d - 1):
        for s, m in enumerate(range(max(0, total - d + 1), min(total, d - 1) + 1)):
            slots[total, s] = m * d + (total - m)
            position[m * d + (total - m)] = total * d + s
    return slots, position


def _sector_pass(slots: np.ndarray, position: np.ndarray):
    """``(prepare, apply)``: ``prepare(a)`` takes a photon-number conserving ``a``
    ``[D^2, D^2]`` to its sector blocks ``[2D - 1, D, D]`` (once per matrix, as the engine
    builds a block's matrix once per call), and ``apply(blocks, x)`` computes ``a @ x``
    per sector: the state's rows gathered into ``[2D - 1, D, n]``, one batched ``[D, D]``
    product per sector, and the rows gathered back."""
    flat = slots.reshape(-1)
    sectors, width = slots.shape

    def prepare(a):
        padded = tf.pad(a, [[0, 1], [0, 1]])  # row and column D^2: the padding slot
        pairs = tf.gather(tf.gather(padded, flat), flat, axis=1)
        pairs = tf.reshape(pairs, [sectors, width, sectors, width])
        # sector N's block: the [width, width] slice at (N, N)
        return tf.transpose(tf.linalg.diag_part(tf.transpose(pairs, [1, 3, 0, 2])), [2, 0, 1])

    def apply(blocks, x):
        zero_row = tf.zeros_like(x[:1])
        gathered = tf.reshape(tf.gather(tf.concat([x, zero_row], 0), flat), [sectors, width, -1])
        out = tf.reshape(tf.linalg.matmul(blocks, gathered), [sectors * width, -1])
        return tf.gather(out, position)

    return prepare, apply


def _chained(prepare, apply, chain: int, gradient: bool):
    """``(a, x) ->`` ``apply(prepare(a), .)`` chained ``chain`` times on the state; with
    ``gradient``, also the gradient of ``sum |state|^2`` with respect to ``a`` and ``x``.
    Returns one element, so that a call waits for the work without copying the state
    out."""

    def forward(a, x):
        operator = prepare(a)
        for _ in range(chain):
            x = apply(operator, x)
        return x

    def run(a, x):
        if not gradient:
            return forward(a, x)[:1, :1]
        with tf.GradientTape() as tape:
            tape.watch([a, x])
            out = forward(a, x)
            loss = tf.reduce_sum(tf.math.real(out * tf.math.conj(out)))
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, [a, x])]
        return grads[0][:1, :1] + grads[1][:1, :1]

    return tf.function(run, autograph=False)


def number_sectors(shapes, repeats: int, chain: int = 8, seed: int = 0) -> list[dict]:
    """A beamsplitter applied to a two-mode slice of the state (``[D^2, n]``): one dense
    complex64 ``[D^2, D^2]`` product (the engine now) against the photon-number-sector
    form (:func:`_sector_pass`: ``(2D - 1)`` products of ``[D, D]`` blocks, built once per
    call from the matrix, the state's rows gathered in and out; ``sum_N size_N^2`` of the
    ``D^4`` entries are nonzero), per ``(D, n)``, ``chain`` passes per compiled call,
    forward and forward + gradient."""
    from qgan.photonic.gates import beamsplitter

    rng = np.random.default_rng(seed)
    rows = []
    for d, n in shapes:
        a = tf.reshape(beamsplitter(0.7, 0.3, d), [d * d, d * d])
        x = tf.constant(
            (rng.normal(size=(d * d, n)) + 1j * rng.normal(size=(d * d, n))).astype(np.complex64)
        )
        slots, position = _sector_slots(d)
        prepare, sector = _sector_pass(slots, position)
        expected = tf.linalg.matmul(a, x).numpy()
        error = float(np.max(np.abs(expected - sector(prepare(a), x).numpy())))
        if error > 1e-5 * float(np.max(np.abs(expected))):
            raise AssertionError(f"the sector product differs from the dense one by {error}")
        calls = {}
        for label, gradient in (("forward", False), ("forward_backward", True)):
            dense = _chained(tf.identity, tf.linalg.matmul, chain, gradient)
            calls[f"dense_{label}"] = functools.partial(dense, a, x)
            sectors = _chained(prepare, sector, chain, gradient)
            calls[f"sector_{label}"] = functools.partial(sectors, a, x)
        median = _common.alternating_medians(calls, repeats)
        sizes = np.sum(slots < d * d, axis=1)
        row = {
            "cutoff": d,
            "n": n,
            "chain": chain,
            "nonzero_share": float(np.sum(sizes**2)) / d**4,
            "max_abs_difference": error,
        }
        for label in ("forward", "forward_backward"):
            dense, sector_s = median[f"dense_{label}"], median[f"sector_{label}"]
            row[label] = {
                "dense_ms": dense / chain * 1e3,
                "sector_ms": sector_s / chain * 1e3,
                "ratio": dense / sector_s,
            }
        rows.append(row)
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
        "## Photon-number sectors: one beamsplitter pass",
        "",
        "A beamsplitter conserves the pair's photon number, so only the share of its "
        "`D^4` entries listed below is nonzero. Dense: the engine's one complex64 product; "
        "sectors: the state's rows gathered into sectors, one small product per sector, "
        "gathered back (ms per pass, "
        f"{result['number_sectors'][0]['chain'] if result['number_sectors'] else '-'} passes "
        "per compiled call).",
        "",
        "| cutoff | n | nonzero share | forward dense / sectors ms | ratio | "
        "forward + gradient dense / sectors ms | ratio | max abs difference |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["number_sectors"]:
        f, fb = r["forward"], r["forward_backward"]
        lines.append(
            f"| {r['cutoff']} | {r['n']:,} | {r['nonzero_share']:.1%} | "
            f"{f['dense_ms']:.3f} / {f['sector_ms']:.3f} | {f['ratio']:.2f}x | "
            f"{fb['dense_ms']:.3f} / {fb['sector_ms']:.3f} | {fb['ratio']:.2f}x | "
            f"{r['max_abs_difference']:.1e} |"
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
    parser.add_argument(
        "--sector-shapes",
        type=_gemm_shapes,
        default=_gemm_shapes("4x4096,6x9216"),
        help="CUTOFFxN: beamsplitter passes on a [CUTOFF^2, N] slice of the state",
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
        "number_sectors": number_sectors(args.sector_shapes, args.repeats),
        "xla": xla(args.config, args.cutoffs, args.repeats),
        "command": _common.command_line("engine_levers.py", argv),
    }
    return _common.publish(args.out, result, format_report(result))


if __name__ == "__main__":
    sys.exit(main())
