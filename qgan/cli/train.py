"""GAN verbs: ``train`` (a training run from a YAML config) and ``sample`` (draw points
from a trained run)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qgan.cli import add_run_options, config_overrides, import_tensorflow

log = logging.getLogger("qgan.cli")

#: ``qgan train`` options -> the config keys they override
OVERRIDES = {"steps": "train.steps", "seed": "seed", "output_dir": "output.dir"}


def _train(args) -> int:
    from qgan._paths import check_output_dir
    from qgan.gan.config import load_config

    # validated before TensorFlow is imported: a bad config is one line, at once
    overrides = config_overrides(args, OVERRIDES)
    if args.resume is not None:
        from qgan.gan.resume import resumed_config

        resumed = resumed_config(args.resume, args.config, overrides)
        cfg = None  # the run's own config.yaml, as resumed_config checked
        log.info("resuming %s: %s to step %d", args.resume, resumed.name, resumed.train.steps)
    elif args.config is None:
        raise ValueError("a config is needed (or --resume RUN_DIR to continue a run)")
    else:
        cfg = load_config(args.config, overrides)
        check_output_dir(cfg.output.dir)  # before anything is created or imported
        if cfg.data.kind == "file":  # read and checked before TensorFlow, as training will
            from qgan.gan.data import read_data_file

            read_data_file(cfg.data.path)
        log.info("config %s OK: training %s for %d steps", args.config, cfg.name, cfg.train.steps)

    import_tensorflow()
    from qgan.gan.training import train
    from qgan.reports.run import write_run_report

    quiet = args.quiet or args.json
    try:
        result = train(cfg, resume=args.resume, overrides=overrides, progress=not quiet)
    except KeyboardInterrupt:
        print(
            "interrupted: the last checkpoint is saved; resume with --resume RUN_DIR",
            file=sys.stderr,
        )
        return 130
    report = write_run_report(result.run_dir)
    if args.json:
        print(json.dumps({"run_dir": str(result.run_dir), **result.metrics}, indent=2))
    elif args.quiet:
        print(result.run_dir)
    else:
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


#: ``qgan sample`` output suffixes
SAMPLE_SUFFIXES = (".npy", ".csv")


def sample_file_bytes(points, suffix: str) -> bytes:
    """``points [n, d]`` as the bytes of a ``.npy`` file, or of a ``.csv`` file with a
    header row ``x0,x1,...`` and one row per point (float32 values written with 9
    significant digits, so they read back exactly)."""
    from qgan._io import npy_bytes

    if suffix == ".npy":
        return npy_bytes(points)
    header = ",".join(f"x{i}" for i in range(points.shape[1]))
    rows = [",".join(f"{float(v):.9g}" for v in row) for row in points]
    return ("\n".join([header, *rows]) + "\n").encode()


def _sample(args) -> int:
    from qgan._io import write_bytes_atomic
    from qgan._paths import check_output_dir
    from qgan._rundir import CONFIG_FILE

    out = Path(args.output)
    if out.suffix not in SAMPLE_SUFFIXES:
        raise ValueError(
            f"-o/--output must end in {' or '.join(SAMPLE_SUFFIXES)}, got {str(out)!r}"
        )
    if out.is_dir():
        raise ValueError(f"-o/--output {str(out)!r}: is a directory, expected a file name")
    check_output_dir(out.parent, key="-o/--output folder")  # before anything is computed
    if not (Path(args.run_dir) / CONFIG_FILE).is_file():  # at once, before TensorFlow
        raise ValueError(f"{args.run_dir!r} is not a run directory (no {CONFIG_FILE})")
    import_tensorflow()
    from qgan.gan.training import sample

    points = sample(args.run_dir, args.n, seed=args.seed, checkpoint=args.checkpoint)
    write_bytes_atomic(out, sample_file_bytes(points, out.suffix))
    if not args.quiet:
        print(f"wrote {len(points)} points of dimension {points.shape[1]} to {out}")
    return 0


def _checkpoint(text: str) -> str:
    """argparse type of ``--checkpoint``: best, final, latest or a step number."""
    if text in ("best", "final", "latest") or text.isdigit():
        return text
    raise argparse.ArgumentTypeError(f"expected best, final, latest or a step number, got {text!r}")


def register(verbs) -> None:
    """Add ``train`` and ``sample``."""
    train = verbs.add_parser(
        "train",
        help="train a GAN from a YAML config, or resume a run",
        description="Train a GAN from a YAML config and write a run directory (config.yaml, "
        "metrics, checkpoints, plots, report.md). With --resume RUN_DIR, continue that run "
        "from its last checkpoint: no config is needed (the run directory holds it); it "
        "trains to the run's own train.steps unless --steps is given; a config or --seed/"
        "--output-dir that differ from the run's are refused, naming the key.",
    )
    train.add_argument(
        "config",
        nargs="?",
        help="YAML config file or a shipped config's name (qgan config list), e.g. "
        "configs/bimodal.yaml or bimodal; optional with --resume",
    )
    train.add_argument(
        "--resume", metavar="RUN_DIR", help="continue this run from its last checkpoint"
    )
    add_run_options(train, OVERRIDES)
    train.set_defaults(run=_train, positive=("steps",))

    sample = verbs.add_parser(
        "sample",
        help="draw points from a trained run's generator (.npy or .csv)",
        description="Draw N points from a trained run's generator and write them as .npy "
        "(float32 [N, d]) or .csv (header x0,x1,...), chosen by the suffix of -o.",
    )
    sample.add_argument("run_dir", help="a run directory written by qgan train")
    sample.add_argument("-n", type=int, default=1000, help="number of points (default 1000)")
    sample.add_argument("-o", "--output", required=True, help="output file, .npy or .csv")
    sample.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    sample.add_argument(
        "--checkpoint",
        type=_checkpoint,
        metavar="best|final|latest|STEP",
        help="weights to sample: final (the run's final weights), best (the best evaluated), "
        "latest (the newest step checkpoint) or a step number (default: final if the run "
        "finished, else latest)",
    )
    sample.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no summary line"
    )
    sample.set_defaults(run=_sample, positive=("n",))
