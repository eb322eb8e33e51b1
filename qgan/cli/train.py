"""GAN verbs: ``train`` (a training run from a YAML config) and ``sample`` (draw points
from a trained run)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args) -> int:
    from qgan.gan.config import load_config
    from qgan.gan.training import train
    from qgan.reports.run import write_run_report

    cfg = load_config(args.config)
    if args.steps is not None:
        cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": args.steps})})
    if args.seed is not None:
        cfg = cfg.model_copy(update={"seed": args.seed})
    if args.output_dir is not None:
        cfg = cfg.model_copy(
            update={"output": cfg.output.model_copy(update={"dir": args.output_dir})}
        )
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
    import numpy as np

    from qgan._io import write_bytes_atomic
    from qgan.gan.training import sample

    out = Path(args.output)
    if out.suffix != ".npy":
        raise ValueError(f"-o/--output must end in .npy, got {str(out)!r}")
    points = sample(args.run_dir, args.n, seed=args.seed)
    import io

    buffer = io.BytesIO()
    np.save(buffer, points)
    write_bytes_atomic(out, buffer.getvalue())
    if not args.quiet:
        print(f"wrote {len(points)} points of dimension {points.shape[1]} to {out}")
    return 0


def register(verbs) -> None:
    """Add ``train`` and ``sample``."""
    train = verbs.add_parser("train", help="train a GAN from a YAML config")
    train.add_argument("config", help="YAML config, e.g. configs/bimodal.yaml")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its checkpoint")
    mode = train.add_mutually_exclusive_group()
    # default SUPPRESS: without the flag here, the top-level ``qgan --quiet`` still counts
    mode.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar or summary"
    )
    mode.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    train.add_argument("--steps", type=int, help="override train.steps")
    train.add_argument("--seed", type=int, help="override seed")
    train.add_argument("--output-dir", help="override output.dir")
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
