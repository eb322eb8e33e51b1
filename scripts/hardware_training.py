"""Hardware training without waste, measured on the simulator: parameter shift against
``gradient: adaptive`` (SPSA, then parameter shift) over seeds, the quantum natural
gradient against Adam, and the noise rehearsal.

Usage:
    python scripts/hardware_training.py gradients [--config configs/digits_qubit_adaptive.yaml]
        [--seeds 0-4] [--epochs N] [--workers 2] [--out reports/hardware_training]
    python scripts/hardware_training.py rehearsal [--config configs/digits_qubit_noisy.yaml]
        [--seeds 0] [--out reports/hardware_training]
    python scripts/hardware_training.py qng [--config configs/digits_qubit_qng.yaml]
        [--seeds 0-2] [--gradient autodiff] [--out reports/hardware_training]

``gradients`` trains the config as it is (adaptive) and with ``train.gradient:
parameter_shift`` (everything else equal: epochs, learning rate, data, seeds), counting
the circuits each executed (``metrics.json``: ``circuits_executed``), and stores the
rows in OUT.json; ``rehearsal`` trains the noisy config and puts its accuracy beside the
estimated cost of running the same circuits on IonQ; ``qng`` trains the QNG config as it
is and with ``train.optimizer: adam`` (same epochs, head learning rate, data and seeds;
``--gradient`` overrides ``train.gradient`` in both, e.g. ``autodiff``: parameter shift's
exact gradients without its circuits). Each part replaces its own rows of
OUT.json and rewrites OUT.md from all of them.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(config: str, overrides: dict, runs_dir: str) -> dict:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from qgan.classify.config import load_config
    from qgan.classify.training import classify

    cfg = load_config(config, {**overrides, "output.dir": runs_dir, "output.plots": False})
    res = classify(cfg, progress=False)
    m = res.metrics
    return {
        "config": Path(config).stem,
        "gradient": m["gradient"],
        "optimizer": m.get("optimizer", "adam"),
        "qng": m.get("qng"),
        "seed": m["seed"],
        "epochs": m["epochs"],
        "accuracy": m["accuracy"],
        "train_accuracy": m["train_accuracy"],
        "train_loss": m["train_loss"],
        "circuits_executed": m["circuits_executed"],
        "shots_executed": m["shots_executed"],
        "circuits_parameter_shift_equivalent": m["circuits_parameter_shift_equivalent"],
        "gradient_switches": m["gradient_switches"],
        "circuits_by_phase": m["circuits_by_phase"],
        "train_s": m["train_s"],
        "run_dir": str(res.run_dir),
        "noise": m.get("noise"),
        "cost_estimate": m.get("cost_estimate"),
    }


def gradients(args) -> list[dict]:
    ps = {"train.gradient": "parameter_shift", "train.spsa": None, "train.adaptive": None}
    jobs = []
    for seed in args.seeds:
        base = {"seed": seed}
        if args.epochs:
            base["train.epochs"] = args.epochs
        jobs.append((args.config, {**base, **ps}))
        jobs.append((args.config, base))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(_run, c, o, args.runs_dir) for c, o in jobs]
        return [f.result() for f in futures]


def from_runs(args) -> list[dict]:
    """Rows of the finished runs (``metrics.json``) of ``--config`` under ``--runs-dir``
    (e.g. after an interrupted ``gradients``, or with ``autodiff`` runs added)."""
    import yaml

    name = yaml.safe_load(Path(args.config).read_text())["name"]
    rows = []
    for run in sorted(Path(args.runs_dir).glob(f"{name}-*/metrics.json")):
        m = json.loads(run.read_text())
        rows.append(
            {
                "config": name,
                "gradient": m["gradient"],
                "seed": m["seed"],
                "epochs": m["epochs"],
                "accuracy": m["accuracy"],
                "train_accuracy": m["train_accuracy"],
                "circuits_executed": m["circuits_executed"],
                "shots_executed": m["shots_executed"],
                "circuits_parameter_shift_equivalent": m.get("circuits_parameter_shift_equivalent"),
                "gradient_switches": m.get("gradient_switches", []),
                "circuits_by_phase": m.get("circuits_by_phase", {}),
                "train_s": m["train_s"],
                "run_dir": str(run.parent),
            }
        )
    return [r for r in rows if r["seed"] in args.seeds]


def qng(args) -> list[dict]:
    """The QNG config as it is, and with Adam on the angles (everything else equal)."""
    adam = {"train.optimizer": "adam", "train.qng": None, "train.angle_learning_rate": None}
    jobs = []
    for seed in args.seeds:
        base = {"seed": seed}
        if args.epochs:
            base["train.epochs"] = args.epochs
        if args.gradient:
            base["train.gradient"] = args.gradient
        jobs.append((args.config, base))
        jobs.append((args.config, {**base, **adam}))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(_run, c, o, args.runs_dir) for c, o in jobs]
        return [f.result() for f in futures]


def rehearsal(args) -> list[dict]:
    """The noisy config, and the same config without noise (what the noise costs)."""
    rows = []
    for s in args.seeds:
        rows.append(_run(args.config, {"seed": s}, args.runs_dir))
        rows.append(_run(args.config, {"seed": s, "backend": {"kind": "simulator"}}, args.runs_dir))
    return rows


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


def _std(values):
    values = list(values)
    m = _mean(values)
    return (sum((v - m) ** 2 for v in values) / max(1, len(values) - 1)) ** 0.5


def render(data: dict) -> str:
    lines = ["# Hardware training without waste", ""]
    lines += [f"Machine: {data.get('machine', '?')}", ""]
    g = data.get("gradients")
    if g:
        rows = g["rows"]
        lines += [
            "## Adaptive gradient against parameter shift",
            "",
            f"Command: `{g['command']}`",
            "",
            "Same config, data, epochs, learning rate and seeds; only `train.gradient` differs. "
            "Exact expectations (`train.shots: null`): the circuits are counted by the "
            "package's circuit account (forward circuits of training and scoring, plus 2 per "
            "sample per SPSA gradient and 2 x 64 per sample per parameter-shift gradient).",
            "",
            "| gradient | seeds | epochs | validation accuracy (mean +- std) | circuits executed "
            "(mean) | circuits vs parameter shift | train s (mean) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        by = {}
        for r in rows:
            by.setdefault(r["gradient"], []).append(r)
        ps_circuits = _mean(r["circuits_executed"] for r in by.get("parameter_shift", rows))
        for name in ("parameter_shift", "autodiff", "adaptive"):
            rs = by.get(name, [])
            if not rs:
                continue
            acc = [r["accuracy"] for r in rs]
            circ = _mean(r["circuits_executed"] for r in rs)
            if name == "autodiff":  # parameter shift's exact gradients, run without circuits
                circ = ps_circuits
                name = "autodiff (= parameter shift's gradients; its circuit count)"
            lines.append(
                f"| {name} | {len(rs)} | {rs[0]['epochs']} | {_mean(acc):.3f} +- {_std(acc):.3f} "
                f"| {circ:,.0f} | 1 / {ps_circuits / circ:.1f} | "
                f"{_mean(r['train_s'] for r in rs):.0f} |"
            )
        if by.get("autodiff"):
            lines += [
                "",
                "With exact expectations parameter shift computes the same gradients as "
                "autodiff (tests/qubit/test_gradients.py), so an `autodiff` run follows the "
                "parameter-shift run of its seed epoch by epoch (equal validation accuracy at "
                "every epoch compared, seeds 0-3) while running no gradient circuits; its row "
                "carries parameter shift's measured circuit count. Seeds whose parameter-shift "
                "column is '-' were compared with the autodiff run.",
            ]
        lines += [
            "",
            "| seed | parameter shift accuracy | autodiff accuracy | adaptive accuracy | "
            "adaptive - reference (points) | adaptive circuits | switch after epoch (rule) |",
            "|---:|---:|---:|---:|---:|---:|---|",
        ]
        seeds = sorted({r["seed"] for r in rows})

        def pick(name, s):
            return next((r for r in by.get(name, []) if r["seed"] == s), None)

        for s in seeds:
            p, d, a = pick("parameter_shift", s), pick("autodiff", s), pick("adaptive", s)
            ref = p or d
            if a is None or ref is None:
                continue
            sw = a["gradient_switches"]
            sw_txt = f"{sw[0]['after_epoch']} ({sw[0]['rule']})" if sw else "none"
            lines.append(f"| {s} | {p['accuracy']:.3f} | " if p else f"| {s} | - | ")
            lines[-1] += (f"{d['accuracy']:.3f} | " if d else "- | ") + (
                f"{a['accuracy']:.3f} | {100 * (a['accuracy'] - ref['accuracy']):+.1f} | "
                f"{a['circuits_executed']:,} | {sw_txt} |"
            )
        lines.append("")
    q = data.get("qng")
    if q:
        rows = q["rows"]
        first = next((r["qng"] for r in rows if r.get("qng")), None) or {}
        lines += [
            "## Quantum natural gradient against Adam",
            "",
            f"Command: `{q['command']}`",
            "",
            "Same config, data, epochs, head (Adam) and seeds; only how the circuit angles are "
            "stepped differs: `optimizer: qng` (theta -= eta (g + lambda I)^-1 grad, eta "
            f"{first.get('learning_rate', '?')}, lambda {first.get('regularisation', '?')}, the "
            f"block-diagonal metric from {first.get('metric_rows') or 'all'} rows of every "
            "batch, 2 x depth prefix circuits per row) or Adam. Metric circuits are counted "
            "apart (phase `metric`); with `gradient: autodiff` the gradient itself runs no "
            "circuits (parameter shift would add 2 x 64 per sample and gradient).",
            "",
            "| optimizer | gradient | seeds | epochs | validation accuracy (mean +- std) | "
            "final training loss (mean) | metric circuits (mean) | train s (mean) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        by = {}
        for r in rows:
            by.setdefault((r.get("optimizer", "adam"), r["gradient"]), []).append(r)
        for (opt, grad), rs in sorted(by.items(), key=lambda kv: kv[0][0] != "qng"):
            acc = [r["accuracy"] for r in rs]
            metric = _mean(
                r["circuits_by_phase"].get("metric/qng", {}).get("circuits", 0) for r in rs
            )
            lines.append(
                f"| {opt} | {grad} | {len(rs)} | {rs[0]['epochs']} | {_mean(acc):.3f} +- "
                f"{_std(acc):.3f} | {_mean(r['train_loss'] for r in rs):.3f} | {metric:,.0f} | "
                f"{_mean(r['train_s'] for r in rs):.0f} |"
            )
        lines += ["", "| seed | qng accuracy | adam accuracy | qng - adam (points) |",
                  "|---:|---:|---:|---:|"]  # fmt: skip
        for s in sorted({r["seed"] for r in rows}):
            pair = {r.get("optimizer", "adam"): r for r in rows if r["seed"] == s}
            if "qng" in pair and "adam" in pair:
                a, b = pair["qng"]["accuracy"], pair["adam"]["accuracy"]
                lines.append(f"| {s} | {a:.3f} | {b:.3f} | {100 * (a - b):+.1f} |")
        if q.get("note"):
            lines += ["", q["note"]]
        lines.append("")
    h = data.get("rehearsal")
    if h:
        lines += [
            "## Noise rehearsal",
            "",
            f"Command: `{h['command']}`",
            "",
            "The noisy run and the same config on the ideal simulator. Cost: the circuits of "
            "the run's epochs (training and per-epoch validation) at their shots on the "
            "target, by the package's estimator (`qgan.qubit.ionq.estimate`, per price list).",
            "",
            "| config | seed | noise (p1, p2, readout) | validation accuracy | circuits executed | "
            "shots executed | estimated cost (USD, price list) | estimated QPU time |",
            "|---|---:|---|---:|---:|---:|---:|---|",
        ]
        for r in h["rows"]:
            n = r.get("noise")
            c = r.get("cost_estimate")
            noise = "none (ideal simulator)"
            if n:
                rates = f"{n['p1']:.2g}, {n['p2']:.2g}, {n['readout']:.2g}"
                noise = f"{n['target'] or 'explicit'} ({rates})"
            cost, qpu = "-", "-"
            if c:
                cost = " / ".join(f"{v:,.0f} ({k})" for k, v in c["usd"].items())
                qpu = f"{c['qpu_seconds'] / 3600:.1f} h"
            lines.append(
                f"| `{r['config']}` | {r['seed']} | {noise} | {r['accuracy']:.3f} | "
                f"{r['circuits_executed']:,} | {r['shots_executed']:,} | {cost} | {qpu} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("gradients", "qng", "rehearsal"))
    parser.add_argument("--gradient", default=None, help="qng: override train.gradient")
    parser.add_argument("--note", default=None, help="a sentence under the part's table")
    parser.add_argument("--config", default=None)
    parser.add_argument("--seeds", default=None, help="e.g. 0-4 (gradients) or 0 (rehearsal)")
    parser.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    parser.add_argument("--workers", type=int, default=2, help="runs at a time (gradients)")
    parser.add_argument(
        "--from-runs", action="store_true", help="report the finished runs, train nothing"
    )
    parser.add_argument("--out", default="reports/hardware_training")
    parser.add_argument("--runs-dir", default="runs/hardware_training")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    from qgan.cli import parse_seeds

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    default_config = {
        "gradients": "configs/digits_qubit_adaptive.yaml",
        "qng": "configs/digits_qubit_qng.yaml",
        "rehearsal": "configs/digits_qubit_noisy.yaml",
    }[args.part]
    args.config = args.config or str(ROOT / default_config)
    default_seeds = {"gradients": "0-4", "qng": "0-2", "rehearsal": "0"}[args.part]
    args.seeds = parse_seeds(args.seeds or default_seeds)
    start = time.perf_counter()
    if args.from_runs:
        rows = from_runs(args)
    else:
        rows = {"gradients": gradients, "qng": qng, "rehearsal": rehearsal}[args.part](args)
    out = Path(args.out)
    json_path = out.with_suffix(".json")
    data = json.loads(json_path.read_text()) if json_path.is_file() else {}
    import numpy
    import tensorflow

    data["machine"] = (
        f"{platform.machine()}, python {platform.python_version()}, tensorflow "
        f"{tensorflow.__version__}, numpy {numpy.__version__}, date {time.strftime('%Y-%m-%d')}"
    )
    data[args.part] = {
        "command": "python scripts/hardware_training.py " + shlex.join(argv),
        "rows": rows,
        "wall_s": time.perf_counter() - start,
        "note": args.note,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(data))
    print(f"wrote {out.with_suffix('.md')} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
