"""Profiler verb: ``profile`` (the performance report of a GAN config)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from qgan.cli import import_tensorflow

# the library's defaults (qgan.profiling.performance), spelled out here so that building the
# parser does not import TensorFlow; tests/cli/test_profile_cli.py keeps them equal
DEFAULTS = {"batch_sizes": "1,4,16,64,256,1024", "cutoffs": "3,4,5,6", "layers": "1,2,3"}


def _int_list(text: str) -> list[int]:
    """``"1,4,16"`` -> ``[1, 4, 16]`` (argparse type)."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    return values


def _command(args) -> str:
    """The command line that produced the report, as a user would type it."""
    argv = list(sys.argv[1:] if args.argv is None else args.argv)
    if Path(sys.argv[0]).name == "profile.py":  # scripts/profile.py
        if argv and argv[0] == "profile":
            argv = argv[1:]
        return shlex.join(["python", "scripts/profile.py", *argv])
    return shlex.join(["qgan", *argv])


def _profile(args) -> int:
    from qgan.gan.config import load_config

    cfg = load_config(args.config)  # before TensorFlow is imported: a bad config is quick

    import_tensorflow()
    from qgan.profiling.performance import load_targets, profile
    from qgan.reports.performance import write_profile_report

    targets = None if args.targets is None else load_targets(args.targets)  # fail before timing
    out = args.out or f"reports/profile_{cfg.name}"
    result = profile(
        cfg,
        batch_sizes=args.batch_sizes,
        cutoffs=args.cutoffs,
        layers=args.layers,
        repeats=args.repeats,
        quality=args.quality,
        warmup=args.warmup,
        quality_steps=args.quality_steps,
        sf_repeats=args.sf_repeats,
        sf_loop_samples=args.sf_loop_samples,
        progress=not args.quiet,
        targets=targets,
    )
    path = write_profile_report(out, result, _command(args))
    if not args.quiet:
        step = result["step"]
        print(f"report: {path}")
        print(
            f"  training step {step['step']['median_ms']:.2f} ms, stage sum "
            f"{step['stage_sum_ms']:.2f} ms (overhead {100 * step['overhead']['share']:+.1f} %)"
        )
        for t in result["targets"]:
            verdict = {True: "pass", False: "miss", None: "n/a"}[t["passed"]]
            print(
                f"  {t['name']}: {t['measured']:.4g} {t['unit']} ({t['op']} {t['bound']:g}) "
                f"{verdict}"
            )
        print(f"  wall time {result['wall_time_s']:.1f} s")
    return 0


def register(verbs) -> None:
    """Add the ``profile`` verb."""
    p = verbs.add_parser(
        "profile",
        help="performance report of a GAN config: stages, batch scaling, cutoff x layers, "
        "SF baseline, efficiency",
    )
    p.add_argument("config", help="YAML config, e.g. configs/bimodal.yaml")
    p.add_argument(
        "--batch-sizes",
        type=_int_list,
        default=_int_list(DEFAULTS["batch_sizes"]),
        help=f"batch-scaling sizes (default {DEFAULTS['batch_sizes']})",
    )
    p.add_argument(
        "--cutoffs",
        type=_int_list,
        default=_int_list(DEFAULTS["cutoffs"]),
        help=f"sweep cutoffs (default {DEFAULTS['cutoffs']})",
    )
    p.add_argument(
        "--layers",
        type=_int_list,
        default=_int_list(DEFAULTS["layers"]),
        help=f"sweep layer counts (default {DEFAULTS['layers']})",
    )
    p.add_argument("--repeats", type=int, default=30, help="timed repeats (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up calls (default 3)")
    p.add_argument("--quality", action="store_true", help="also train briefly at each sweep point")
    p.add_argument(
        "--quality-steps", type=int, default=200, help="steps of those runs (default 200)"
    )
    p.add_argument("--sf-repeats", type=int, default=3, help="timed SF calls (default 3)")
    p.add_argument(
        "--sf-loop-samples",
        type=int,
        default=8,
        help="samples of the SF per-sample loop (default 8)",
    )
    p.add_argument("--out", help="report path without suffix (default reports/profile_NAME)")
    p.add_argument(
        "--targets",
        metavar="FILE",
        help="TOML file whose [profile] table holds target bounds to check, e.g. "
        "scripts/bench/targets.toml (default: no targets section)",
    )
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress or summary"
    )
    p.set_defaults(
        run=_profile,
        positive=("repeats", "quality_steps", "sf_repeats", "sf_loop_samples"),
    )
