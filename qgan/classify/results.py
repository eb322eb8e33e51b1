"""Classifier results over configs and seeds: run them, tabulate them, and fill the README.

:func:`run_results` trains each config once per seed (:func:`qgan.classify.training.classify`)
and returns one row per run; :func:`write_results` writes ``OUT.md`` and ``OUT.json``;
:func:`readme_block` is the short table that :func:`replace_block` puts between a README's
``<!-- classify-results:start -->`` and ``<!-- classify-results:end -->`` markers, and
:func:`update_readme` writes it in place atomically. ``scripts/classify_results.py`` is the
command over them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from qgan._io import write_text_atomic

log = logging.getLogger("qgan.classify")

START = "<!-- classify-results:start -->"
END = "<!-- classify-results:end -->"
#: the shipped classifier configs, in the README's order
SHIPPED = (
    "configs/fashion_mnist_qubit_scaled.yaml",
    "configs/fashion_mnist_qubit_scaled_no_entanglement.yaml",
    "configs/fashion_mnist_classical.yaml",
    "configs/fashion_mnist_qubit.yaml",
    "configs/digits_qubit.yaml",
)
ROW_KEYS = (
    "config",
    "name",
    "seed",
    "model",
    "data",
    "accuracy",
    "train_accuracy",
    "n_params",
    "wall_s",
    "circuits_executed",
    "shots_executed",
    "n_train",
    "n_validation",
    "epochs",
    "baselines",
    "run_dir",
)


def run_results(configs, seeds, output_dir=None, progress: bool = False) -> list[dict]:
    """Train every config (YAML paths) once per seed; one row per run (keys ``ROW_KEYS``:
    validation and training accuracy, parameters, wall seconds, circuits and shots executed,
    the run directory). ``output_dir`` overrides the configs' ``output.dir``. Every config
    is validated before the first run starts (one-line ``ValueError`` naming the file)."""
    from qgan.classify.config import load_config
    from qgan.classify.training import classify

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds: give at least one seed")
    plans = []
    for path in configs:
        for seed in seeds:
            overrides = {"seed": seed}
            if output_dir is not None:
                overrides["output.dir"] = str(output_dir)
            try:
                plans.append((str(path), load_config(path, overrides)))
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from None
    rows = []
    for path, cfg in plans:
        result = classify(cfg, progress=progress)
        m = result.metrics
        row = {k: m[k] for k in ROW_KEYS if k in m}
        row.setdefault("baselines", None)
        row.update(config=path, name=cfg.name, run_dir=str(result.run_dir))
        rows.append({k: row[k] for k in ROW_KEYS})
        log.info("%s seed %d: validation accuracy %.3f", cfg.name, cfg.seed, m["accuracy"])
    return rows


def _span(values, fmt: str) -> str:
    lo, hi = min(values), max(values)
    return format(lo, fmt) if format(lo, fmt) == format(hi, fmt) else f"{lo:{fmt}}-{hi:{fmt}}"


def _mean(values) -> float:
    return float(sum(values) / len(values))


def summary_rows(rows: list[dict]) -> list[dict]:
    """One row per config (in first-seen order): its seeds and, over them, the range
    (min-max) of each measured number."""
    by_config: dict[str, list[dict]] = {}
    for row in rows:
        by_config.setdefault(row["config"], []).append(row)
    out = []
    for config, runs in by_config.items():
        p = runs[0]["n_params"]
        base = [r.get("baselines") for r in runs]
        have = all(b is not None for b in base)
        out.append(
            {
                "config": config,
                "name": runs[0]["name"],
                "model": runs[0]["model"],
                "seeds": [r["seed"] for r in runs],
                "accuracy": _span([r["accuracy"] for r in runs], ".3f"),
                "mean_accuracy": sum(r["accuracy"] for r in runs) / len(runs),
                "logistic_regression": _mean([b["logistic_regression"]["accuracy"] for b in base])
                if have
                else None,
                "mlp": _mean([b["mlp"]["accuracy"] for b in base]) if have else None,
                "mlp_params": base[0]["mlp"]["n_params"] if have else None,
                "gap": _mean([b["gap"] for b in base]) if have else None,
                "train_accuracy": _span([r["train_accuracy"] for r in runs], ".3f"),
                "params": f"{p['total']:,}"
                + (f" ({p['quantum']} circuit)" if p["quantum"] else ""),
                "circuits": _span([r["circuits_executed"] for r in runs], ",d"),
                "shots": _span([r["shots_executed"] for r in runs], ",d"),
                "wall_s": _span([r["wall_s"] for r in runs], ".0f"),
                "n_validation": runs[0]["n_validation"],
                "epochs": runs[0]["epochs"],
            }
        )
    return out


def _table(summary: list[dict]) -> list[str]:
    lines = [
        "| config | validation accuracy: mean (range; images) | logistic regression | MLP "
        "(parameters) | gap to best | train accuracy | parameters | circuits executed (shots) "
        "| wall s / run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        shots = "exact" if s["shots"] == "0" else f"{s['shots']} shots"
        circuits = "-" if s["model"] == "classical" else f"{s['circuits']} ({shots})"
        if s.get("gap") is None:
            lr = mlp = gap = "-"
        else:
            lr, gap = f"{s['logistic_regression']:.3f}", f"{100 * s['gap']:+.1f} points"
            mlp = f"{s['mlp']:.3f} ({s['mlp_params']:,})"
        lines.append(
            f"| `{s['name']}` ({s['epochs']} epochs) | {s['mean_accuracy']:.3f} "
            f"({s['accuracy']}; {s['n_validation']}) | {lr} | {mlp} | {gap} "
            f"| {s['train_accuracy']} | {s['params']} | {circuits} | {s['wall_s']} |"
        )
    return lines


def seed_table(rows: list[dict]) -> list[str]:
    """Validation accuracy per config (rows, first-seen order) and seed (columns, sorted),
    ``-`` where a config has no run of that seed."""
    seeds = sorted({r["seed"] for r in rows})
    by_config: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    for row in rows:
        by_config.setdefault(row["config"], {})[row["seed"]] = row["accuracy"]
        names[row["config"]] = row["name"]
    lines = [
        "| config | " + " | ".join(f"seed {s}" for s in seeds) + " |",
        "|---|" + "---:|" * len(seeds),
    ]
    for config, accs in by_config.items():
        cells = [f"{accs[s]:.3f}" if s in accs else "-" for s in seeds]
        lines.append(f"| `{names[config]}` | " + " | ".join(cells) + " |")
    return lines


def _seeds_text(rows: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in rows})
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def readme_block(rows: list[dict], command: str, report: str) -> str:
    """The README's results: a line naming the command and report, then the table (no
    markers). ``report``: the path of the ``.md`` report, as the README links it."""
    lines = [
        f"The shipped classifier configs, {_seeds_text(rows)}, each run in full (accuracy on "
        "the held-out",
        "validation images of its seeded split; every number is in the linked report, which "
        "the command",
        "regenerates):",
        "",
        f"`{command}`",
        f"([{report}]({report}))",
        "",
        *_table(summary_rows(rows)),
        "",
        "Validation accuracy per seed:",
        "",
        *seed_table(rows),
    ]
    return "\n".join(lines) + "\n"


def report_markdown(rows: list[dict], command: str, machine: dict | None = None) -> str:
    """The ``OUT.md`` report: command, machine, the summary table and one row per run."""
    lines = ["# Classifier results", "", f"Command: `{command}`", ""]
    if machine:
        lines += ["Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), ""]
    lines += ["## Per config", "", *_table(summary_rows(rows)), "", "## Per run", ""]
    lines += [
        "| config | seed | validation accuracy | logistic regression | MLP | gap | train "
        "accuracy | parameters (circuit) | circuits | shots | wall s | run directory |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        p, b = r["n_params"], r.get("baselines")
        if b is None:
            base = "- | - | -"
        else:
            base = (
                f"{b['logistic_regression']['accuracy']:.4f} | {b['mlp']['accuracy']:.4f} | "
                f"{100 * b['gap']:+.1f}"
            )
        lines.append(
            f"| `{r['name']}` | {r['seed']} | {r['accuracy']:.4f} | {base} "
            f"| {r['train_accuracy']:.4f} "
            f"| {p['total']:,} ({p['quantum']}) | {r['circuits_executed']:,} "
            f"| {r['shots_executed']:,} | {r['wall_s']:.1f} | `{r['run_dir']}` |"
        )
    return "\n".join(lines) + "\n"


def write_results(out, rows: list[dict], command: str, machine: dict | None = None):
    """Write ``OUT.md`` (:func:`report_markdown`) and ``OUT.json`` (command, machine, rows,
    per-config summary), each atomically; returns their paths ``(md, json)``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    md = write_text_atomic(out.with_name(out.name + ".md"), report_markdown(rows, command, machine))
    payload = {
        "command": command,
        "machine": machine,
        "runs": rows,
        "summary": summary_rows(rows),
    }
    js = write_text_atomic(out.with_name(out.name + ".json"), json.dumps(payload, indent=2) + "\n")
    return md, js


def replace_block(text: str, block: str, name: str = "README") -> str:
    """``text`` with everything between the classify-results markers replaced by ``block``
    (markers kept, each on its own line); a one-line ``ValueError`` naming ``name`` unless
    each marker occurs exactly once, start before end."""
    starts, ends = text.count(START), text.count(END)
    if starts != 1 or ends != 1:
        raise ValueError(
            f"{name}: needs one {START} and one {END} marker, found {starts} and {ends}"
        )
    if text.index(END) < text.index(START):
        raise ValueError(f"{name}: {END} comes before {START}")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block.rstrip()}\n{END}{tail}"


def update_readme(path, block: str) -> Path:
    """Replace the classify-results block of the README at ``path`` in place (the whole
    file written atomically: a reader sees the old or the new file, never a partial one)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"--readme: cannot read {str(path)!r} ({err.strerror})") from None
    new = replace_block(text, block, name=str(path))
    return write_text_atomic(path, new)
