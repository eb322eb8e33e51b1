"""Trained GAN runs evaluated under photon loss: reading (b) of the loss report.

Each finished lossless trial of a ``qgan sweep`` (its record in ``OUT.trials/``, setting
``generator.loss=0`` or no ``generator.loss`` override) is reloaded from its run directory with
``generator.loss`` overridden, its ``final`` weights restored (the circuit's gate arguments
do not depend on the loss when it acts at measurement), and evaluated exactly as training's
final evaluation does (:func:`qgan.gan.training.final_evaluation`: the same final draw of
latents and reference sample). The records are written as a sweep report (one group per config x
evaluated loss), so the tables and targets read as those of ``qgan sweep``.

Usage:
    python scripts/loss_eval.py reports/gan_loss.trials --loss 0,0.05,0.1,0.2 \
        --out reports/gan_loss_eval [--loss-at measurement]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from qgan.cli import import_tensorflow


def lossless_records(trials: Path) -> list[dict]:
    """The finished GAN trials of a sweep's record folder trained without loss."""
    records = [json.loads(p.read_text()) for p in sorted(trials.glob("*.json"))]
    return [
        r
        for r in records
        if r.get("status") == "ok"
        and r.get("workload") == "gan"
        and r.get("generator") == "cv"
        and float(r.get("overrides", {}).get("generator.loss", 0.0)) == 0.0
    ]


def evaluate_under_loss(record: dict, loss: float, loss_at: str) -> dict:
    """A sweep-style record of ``record``'s run evaluated with ``generator.loss = loss``."""
    from qgan.gan.config import load_config
    from qgan.gan.training import build, final_evaluation
    from qgan.reports.sweep import derived

    run_dir = Path(record["run_dir"])
    overrides = {"generator.loss": loss, "generator.loss_at": loss_at}
    cfg = load_config(run_dir / "config.yaml", overrides)
    model, _, mixture, _ = build(cfg)
    model.weights_checkpoint.read(str(run_dir / "checkpoints" / "final" / "ckpt")).expect_partial()
    metrics = final_evaluation(model, mixture, cfg)["metrics"]
    # the derived columns of a sweep trial (mode_weight_error, linear_r2_gap); no wall time:
    # nothing is trained here
    weights = None if mixture is None else list(map(float, mixture.weights))
    metrics = derived(metrics, weights)
    setting = f"generator.loss={loss:g} (trained at 0)"
    return {
        **{k: record[k] for k in ("config", "name", "workload", "seed", "data", "generator")},
        "trial_id": f"{record['trial_id']}-eval-loss{loss:g}",
        "overrides": {"generator.loss": loss},
        "setting": setting,
        "status": "ok",
        "run_dir": str(run_dir),
        "steps": record.get("steps"),
        "metrics": metrics,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trials", type=Path, help="a sweep's record folder (OUT.trials)")
    parser.add_argument("--loss", default="0,0.05,0.1,0.2", help="comma-separated losses")
    parser.add_argument("--loss-at", default="measurement", choices=("measurement",))
    parser.add_argument("--out", type=Path, required=True, help="report path without suffix")
    args = parser.parse_args(argv)
    try:
        losses = [float(v) for v in args.loss.split(",")]
    except ValueError:
        parser.error(f"--loss: expected comma-separated numbers, got {args.loss!r}")
    records = lossless_records(args.trials)
    if not records:
        parser.error(f"{args.trials}: no finished lossless GAN trial records")
    import_tensorflow()
    from qgan._machine import machine_info
    from qgan.reports.sweep import load_targets, write_sweep_report

    out = [evaluate_under_loss(r, loss, args.loss_at) for r in records for loss in losses]
    targets, published = load_targets()
    # a re-evaluation trains nothing: the training-time target does not apply
    targets = {data: [t for t in rows if t[0] != "wall_time_s"] for data, rows in targets.items()}
    command = "python scripts/loss_eval.py " + shlex.join(argv or sys.argv[1:])
    report = write_sweep_report(
        args.out,
        out,
        command,
        machine_info(),
        swept=["generator.loss"],
        targets=targets,
        published=published,
    )
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
