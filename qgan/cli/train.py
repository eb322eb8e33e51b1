"""GAN verbs: ``train`` (a training run from a YAML config) and ``sample`` (draw points
from a trained run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qgan.cli import add_run_options, config_overrides

#: ``qgan train`` options -> the config keys they override
OVERRIDES = {"steps": "train.steps", "seed": "seed", "output_dir": "output.dir"}


def _train(args) -> int:
    from qgan.gan.config import load_config

    # validated before TensorFlow is imported: a bad config is one line, at once
    cfg = load_config(args.config, config_overrides(args, OVERRIDES))

    from qgan.gan.training import train
    from qgan.reports.run import write_run_report

    quiet = args.quiet or args.json
    try:
        result = train(cfg, resume=args.resume, progress=not quiet)
    except KeyboardInterrupt:
        print(
            "interrupted: the last checkpoint is saved; resume with --resume RUN_DIR",
            file=sys.stderr,
        )
        return 130
    report = write_run_report(result.run_dir)
    if args.json:
        print(json.dumps({"run_dir": str(result.run_dir), **result.metrics}, indent=2))
    elif not args.quiet:
        m = result.metrics["metrics"]
        keys = (
            "modes_captured",
            "high_quality_fraction",
            "mode_kl",
            "mode_weights",
            "energy_distance",
            "linear_r2_generated",
            "linear_r2_real",
            "leakage",
        )
        print(f"run directory: {result.run_dir}")
        for key in keys:
            if key in m:
                value = m[key]
                if isinstance(value, float):
                    value = f"{value:.4g}"
                elif isinstance(value, list):
                    value = "[" + ", ".join(f"{v:.3f}" for v in value) + "]"
                print(f"  {key:22s} {value}")
        print(f"  wall time {result.metrics['wall_time_s']:.1f} s; report: {report}")
    return 0


def _sample(args) -> int:
    from qgan._io import npy_bytes, write_bytes_atomic
    from qgan.gan.training import sample

    out = Path(args.output)
    if out.suffix != ".npy":
        raise ValueError(f"-o/--output must end in .npy, got {str(out)!r}")
    points = sample(args.run_dir, args.n, seed=args.seed)
    write_bytes_atomic(out, npy_bytes(points))
    if not args.quiet:
        print(f"wrote {len(points)} points of dimension {points.shape[1]} to {out}")
    return 0


def register(verbs) -> None:
    """Add ``train`` and ``sample``."""
    train = verbs.add_parser("train", help="train a GAN from a YAML config")
    train.add_argument("config", help="YAML config, e.g. configs/bimodal.yaml")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its checkpoint")
    add_run_options(train, OVERRIDES)
    train.set_defaults(run=_train, positive=("steps",))

    sample = verbs.add_parser("sample", help="draw points from a trained run's generator")
    sample.add_argument("run_dir", help="a run directory written by qgan train")
    sample.add_argument("-n", type=int, default=1000, help="number of points (default 1000)")
    sample.add_argument("-o", "--output", required=True, help="output .npy file")
    sample.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    sample.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no summary line"
    )
    sample.set_defaults(run=_sample, positive=("n",))
