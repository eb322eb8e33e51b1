"""Train configs over several seeds and write the results report (configs x seeds).

Usage:
    python scripts/seed_sweep.py configs/bimodal.yaml configs/bimodal_classical.yaml \
        [--seeds 0-4] [--out reports/gan_bimodal] [--runs-dir runs/sweeps]

Writes OUT.md (command, machine, one row per run, targets met), OUT.json and OUT.png. The
targets are the ``[gan.targets]`` table of ``--targets`` (default scripts/bench/targets.toml),
with the published figures of ``[gan.published]``; ``--no-targets`` reports none.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tomllib
from pathlib import Path

import qgan  # noqa: F401
from qgan._machine import machine_info
from qgan.cli import parse_seeds
from qgan.gan.config import load_config
from qgan.gan.sweep import seed_sweep
from qgan.gan.training import load_data
from qgan.reports.sweep import derived, write_sweep_report

TARGETS = Path(__file__).resolve().parent / "bench" / "targets.toml"


def load_gan_targets(path) -> tuple[dict, dict]:
    """``(targets, published)`` from the ``[gan.targets]`` and ``[gan.published]`` tables."""
    with open(path, "rb") as f:
        gan = tomllib.load(f).get("gan", {})
    if "targets" not in gan:
        raise ValueError(f"{path}: no [gan.targets] table")
    return gan["targets"], gan.get("published", {})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="YAML configs")
    parser.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4 or 0,1,2 (default 0-4)")
    parser.add_argument("--out", default="reports/gan_seeds", help="report path without suffix")
    parser.add_argument("--runs-dir", default="runs/sweeps", help="where the runs are written")
    parser.add_argument(
        "--targets", default=str(TARGETS), help="TOML file with [gan.targets] (default: ours)"
    )
    parser.add_argument("--no-targets", action="store_true", help="report no targets")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    seeds = parse_seeds(args.seeds)
    try:
        targets, published = (None, None) if args.no_targets else load_gan_targets(args.targets)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
        print(f"seed_sweep: error: --targets: {err}", file=sys.stderr)
        return 2
    rows, references = [], {}
    for path in args.configs:
        try:
            cfg = load_config(path)
        except ValueError as err:
            print(f"seed_sweep: error: {path}: {err}", file=sys.stderr)
            return 2
        _, reference, mixture = load_data(cfg)
        references[cfg.name] = reference
        weights = None if mixture is None else mixture.weights
        for row in seed_sweep(cfg, seeds, output_dir=args.runs_dir):
            rows.append(derived(row, weights))
    command = "python scripts/seed_sweep.py " + " ".join(shlex.quote(a) for a in argv)
    report = write_sweep_report(
        args.out, rows, command, machine_info(), references, targets, published
    )
    print(f"wrote {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
