"""What photon loss costs, and that programs without channels kept their speed.

Usage:
    python scripts/bench/channels.py [--baseline-rev db96c57] [--rounds 6] [--repeats 30]
        [--config configs/bimodal.yaml] [--mixed-batch 64] [--out reports/bench_channels]

Two measurements, every number taken in the same run:

1. **Pure path, before and after** (``--baseline-rev``; skipped with ``--rounds 0``). The
   package at the baseline revision (default ``db96c57``: main before channels and mixed
   states entered the engine) is extracted to a temporary folder with ``git archive``, and
   the same child measurement runs alternately on it and on this working tree, in fresh
   processes, ``--rounds`` times (order ABBA... so that drift of the machine falls on both
   sides). A child times, with :func:`qgan.profiling.timing.measure`: the engine benchmark
   step of ``scripts/bench/engine.py`` (compiled at batch 256 and 16, and eager at 256) and
   the config's generator forward + backward (:func:`qgan.profiling.scaling.generator_step`,
   batch ``train.batch_size``). Reported: each side's median over rounds and the
   after / before ratio (1.00 = same speed), with the spread of the per-round ratios.
2. **Cost of the mixed-state path** (this tree): the config's generator forward + backward
   at ``--mixed-batch`` without loss, with ``generator.loss: 0.05`` at ``measurement`` (a
   terminal channel: the engine keeps the pure ket and applies the loss to what the readout
   needs) and at ``layers`` / ``both`` (loss between gates: the density matrix evolves as
   a 2n-mode state, D^(2n) amplitudes per sample instead of D^n).

The children drive the real package (``qgan.photonic.simulate``, the generator): nothing
here re-implements the engine or the timing loop.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import _common  # noqa: E402
from _common import positive  # noqa: E402

log = logging.getLogger("bench.channels")

ROOT = Path(__file__).resolve().parents[2]
LOSS_PLACEMENTS = ("none", "measurement", "layers", "both")


def _generator_timing(config: str, overrides: dict, batch: int | None, repeats: int) -> dict:
    """The config's generator forward + backward (compiled), as timing fields."""
    import functools

    from qgan.gan.config import load_config
    from qgan.gan.model import build_generator
    from qgan.profiling.scaling import generator_step, profile_inputs
    from qgan.profiling.timing import measure

    cfg = load_config(config, overrides)
    batch = cfg.train.batch_size if batch is None else batch
    gen = build_generator(cfg)
    z, noise = profile_inputs(gen, batch, cfg.seed)
    timing = measure(functools.partial(generator_step(gen), z, noise), repeats, warmup=3)
    return _common.timing_fields(timing, batch)


def child_measurement(config: str, repeats: int) -> dict:
    """One side of the before/after comparison, in this process's ``qgan`` (whichever
    ``sys.path`` finds): us per sample of each timed step, and the package's location."""
    import engine

    import qgan

    result = engine.bench_engine(repeats=repeats, include_sf=False, include_piquasso=False)
    runs = {(r["backend"], r["batch_size"]): r["us_per_sample"] for r in result["runs"]}
    generator = _generator_timing(config, {}, None, repeats)
    return {
        "qgan": str(Path(qgan.__file__).resolve().parent),
        "us_per_sample": {
            "engine compiled @256": runs["compiled", 256],
            "engine compiled @16": runs["compiled", 16],
            "engine eager @256": runs["compiled-eager", 256],
            f"generator fwd+bwd @{generator['batch_size']}": generator["us_per_sample"],
        },
    }


def _run_child(package_root: Path, config: str, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_root), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, __file__, "--child", "--config", config, "--repeats", str(repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"child measurement failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["qgan"]) != (package_root / "qgan").resolve():
        raise RuntimeError(f"child imported qgan from {result['qgan']}, not {package_root}")
    return result["us_per_sample"]


def pure_path_before_after(rev: str, rounds: int, config: str, repeats: int) -> dict:
    """Alternate the child measurement between ``rev``'s package and this tree's."""
    from tqdm.auto import tqdm

    sides = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="qgan_baseline_") as tmp:
        archive = subprocess.run(
            ["git", "archive", rev, "qgan"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        roots = {"before": Path(tmp), "after": ROOT}
        order = []
        for r in range(rounds):  # ABBA: a drift of the machine falls on both sides alike
            order += ["before", "after"] if r % 2 == 0 else ["after", "before"]
        for side in tqdm(order, desc="pure path before/after"):
            sides[side].append(_run_child(roots[side], config, repeats))
    names = list(sides["after"][0])
    table = {}
    for name in names:
        before = [m[name] for m in sides["before"]]
        after = [m[name] for m in sides["after"]]
        paired = [a / b for a, b in zip(after, before, strict=True)]
        table[name] = {
            "before_us": statistics.median(before),
            "after_us": statistics.median(after),
            "after_over_before": statistics.median(after) / statistics.median(before),
            "paired_ratio_min": min(paired),
            "paired_ratio_max": max(paired),
            "before_all_us": before,
            "after_all_us": after,
        }
    return {"baseline_rev": rev, "rounds": rounds, "steps": table}


def mixed_state_cost(config: str, batch: int, repeats: int) -> list[dict]:
    """The generator's forward + backward with ``generator.loss: 0.05`` at each placement."""
    rows = []
    for placement in LOSS_PLACEMENTS:
        overrides = (
            {} if placement == "none" else {"generator.loss": 0.05, "generator.loss_at": placement}
        )
        log.info("generator with loss at %s, batch %d", placement, batch)
        rows.append({"loss_at": placement, **_generator_timing(config, overrides, batch, repeats)})
    pure = rows[0]["us_per_sample"]
    for row in rows:
        row["over_pure"] = row["us_per_sample"] / pure
    return rows


def format_report(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Photon loss: the cost of the mixed-state path, and the pure path before/after",
        "",
        f"`{result['command']}`",
        "",
        f"{m['date']}, {m['cpu']}, {m['cores']} cores; TensorFlow {m['tensorflow']}. "
        f"Generator: `{result['config']}` (complex64).",
    ]
    pure = result.get("pure_path")
    if pure:
        lines += [
            "",
            f"## Programs without channels: this tree against `{pure['baseline_rev']}` "
            f"(before channels entered the engine)",
            "",
            f"{pure['rounds']} rounds, each a fresh process per side, alternating ABBA; "
            f"medians over rounds of each step's median of {result['repeats']} timed calls.",
            "",
            "| step | before us/sample | after us/sample | after / before | per-round ratios |",
            "|---|---:|---:|---:|---|",
        ]
        for name, row in pure["steps"].items():
            lines.append(
                f"| {name} | {row['before_us']:,.1f} | {row['after_us']:,.1f} | "
                f"**{row['after_over_before']:.2f}** | "
                f"{row['paired_ratio_min']:.2f} - {row['paired_ratio_max']:.2f} |"
            )
    lines += [
        "",
        f"## Cost of photon loss in the generator (batch {result['mixed_batch']}, "
        "`generator.loss: 0.05`)",
        "",
        "`measurement`: terminal channels, the ket stays pure and the loss acts on what the "
        "readout needs; `layers` / `both`: loss between gates, the density matrix evolves "
        "as a 2n-mode state.",
        "",
        "| generator.loss_at | us / sample (median) | IQR ms | first call s | x lossless |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["mixed_state"]:
        lines.append(
            f"| {row['loss_at']} | {row['us_per_sample']:,.1f} | "
            f"{(row['q75_s'] - row['q25_s']) * 1e3:,.2f} | {row['first_call_s']:.2f} | "
            f"{row['over_pure']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rev", default="db96c57", help="revision before channels")
    parser.add_argument(
        "--rounds",
        type=_non_negative,
        default=6,
        help="before/after rounds (0: skip the comparison; default 6)",
    )
    parser.add_argument("--repeats", type=positive, default=30, help="timed calls (30)")
    parser.add_argument("--config", default="configs/bimodal.yaml", help="generator config")
    parser.add_argument(
        "--mixed-batch", type=positive, default=64, help="batch of the mixed-state cost table (64)"
    )
    parser.add_argument("--out", help="write OUT.md and OUT.json (e.g. reports/bench_channels)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one side of the before/after comparison: JSON on the last stdout line
        print(json.dumps(child_measurement(args.config, args.repeats)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from qgan._machine import machine_info
    from qgan.gan.config import load_config

    try:
        load_config(args.config)
        if args.rounds:
            subprocess.run(
                ["git", "rev-parse", "--verify", f"{args.baseline_rev}^{{commit}}"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except subprocess.CalledProcessError:
        parser.exit(2, f"error: --baseline-rev: no commit {args.baseline_rev!r} in {ROOT}\n")
    result = {
        "command": _common.command_line("channels.py", sys.argv[1:] if argv is None else argv),
        "machine": machine_info(),
        "config": args.config,
        "repeats": args.repeats,
        "mixed_batch": args.mixed_batch,
    }
    if args.rounds:
        result["pure_path"] = pure_path_before_after(
            args.baseline_rev, args.rounds, args.config, args.repeats
        )
    result["mixed_state"] = mixed_state_cost(args.config, args.mixed_batch, args.repeats)
    report = format_report(result)
    if args.out:
        _common.write_report(args.out, result, report)
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
