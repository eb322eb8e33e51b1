"""The GAN results report: configs x seeds, final metrics against targets.

Written by ``scripts/seed_sweep.py`` as ``NAME.md``, ``NAME.json`` and ``NAME.png`` (generated
samples over the real data, one panel per config and seed). Targets are data, given by the
caller (the script reads the ``[gan.targets]`` and ``[gan.published]`` tables of
``scripts/bench/targets.toml``): ``{data kind: [(metric key, ">=" or "<=", bound), ...]}``
and ``{data kind: published figures (text)}``. Without targets the report has no targets
column or section.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qgan._io import write_bytes_atomic, write_text_atomic
from qgan._plots import png_bytes, pyplot
from qgan.reports.run import fmt

COLUMNS = (
    ("modes_captured", "modes"),
    ("high_quality_fraction", "high quality"),
    ("mode_kl", "mode KL"),
    ("mode_weight_error", "max |w - w_true|"),
    ("energy_distance", "energy dist."),
    ("mmd", "MMD"),
    ("linear_r2_generated", "R^2 gen"),
    ("linear_r2_real", "R^2 real"),
    ("gradient_flow", "grad flow"),
    ("leakage", "leakage"),
    ("wall_time_s", "wall s"),
)


def derived(row: dict, true_weights=None) -> dict:
    """``row`` plus ``mode_weight_error`` (max |generated - true| mode weight, if the data
    has known modes) and ``linear_r2_gap`` (|R^2 generated - R^2 real|)."""
    out = dict(row)
    if true_weights is not None and "mode_weights" in row:
        w = np.asarray(row["mode_weights"]) - np.asarray(true_weights)
        out["mode_weight_error"] = float(np.max(np.abs(w)))
    if row.get("linear_r2_generated") is not None and row.get("linear_r2_real") is not None:
        out["linear_r2_gap"] = abs(row["linear_r2_generated"] - row["linear_r2_real"])
    return out


def check_targets(row: dict, targets: dict) -> dict:
    """``{target description: passed}`` for the ``targets`` of the row's data kind."""
    result = {}
    for key, op, bound in targets.get(row.get("data"), ()):
        value = row.get(key)
        ok = value is not None and (value >= bound if op == ">=" else value <= bound)
        result[f"{key} {op} {bound}"] = bool(ok)
    return result


def render(
    rows: list[dict],
    command: str,
    machine: dict,
    targets: dict | None = None,
    published: dict | None = None,
) -> str:
    """Markdown: the command, machine, one table row per run, pass counts per config (with
    ``targets``; ``published``: figures from the literature quoted beside them)."""
    published = published or {}
    lines = [
        "# GAN results: configs x seeds",
        "",
        f"Produced by `{command}` on {machine.get('date')}: {machine.get('cpu')}, "
        f"{machine.get('cores')} cores; Python {machine.get('python')}, TensorFlow "
        f"{machine.get('tensorflow')}, Strawberry Fields {machine.get('strawberryfields')}.",
        "",
        "Metrics (the keys of `qgan.metrics.evaluate`) of the final generator of each run on "
        "`train.eval_samples` generated points against a fresh sample of the real "
        "distribution; `wall s` is the whole `train` call (data, tracing, training, "
        "evaluations, checkpoints, plots). Samples: [the figure](#samples).",
        "",
        "| config | seed | "
        + " | ".join(label for _, label in COLUMNS)
        + (" | targets met |" if targets else " |"),
        "|---|---:|" + "---:|" * len(COLUMNS) + ("---|" if targets else ""),
    ]
    for row in rows:
        cells = " | ".join(fmt(row.get(key)) for key, _ in COLUMNS)
        if targets:
            checks = check_targets(row, targets)
            cells += " | " + (f"{sum(checks.values())}/{len(checks)}" if checks else "-")
        lines.append(f"| {row['config']} | {row['seed']} | {cells} |")
    if targets:
        lines += _targets_section(rows, targets, published)
    lines += ["", "## Samples", "", "![generated samples over the real data](%s)"]
    return "\n".join(lines) + "\n"


def _targets_section(rows: list[dict], targets: dict, published: dict) -> list[str]:
    lines = ["", "## Targets", ""]
    for config in dict.fromkeys(r["config"] for r in rows):
        mine = [r for r in rows if r["config"] == config]
        kind = mine[0].get("data")
        bounds = targets.get(kind)
        if not bounds:
            lines.append(f"- `{config}` ({kind}): no numeric target; metrics reported above.")
            continue
        passed = sum(all(check_targets(r, targets).values()) for r in mine)
        per = []
        for key, op, bound in bounds:
            n = sum(check_targets(r, targets)[f"{key} {op} {bound}"] for r in mine)
            per.append(f"{key} {op} {bound}: {n}/{len(mine)}")
        lines.append(
            f"- `{config}` ({kind}): all targets met in **{passed} of {len(mine)}** seeds "
            f"({'; '.join(per)})."
        )
        if kind in published:
            lines.append(f"  Published classical figures for {kind}: {published[kind]}.")
    return lines


def samples_figure(rows: list[dict], references: dict) -> bytes:
    """PNG: one panel per run (configs down, seeds across), generated over real points."""
    plt = pyplot()
    configs = list(dict.fromkeys(r["config"] for r in rows))
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    fig, axes = plt.subplots(
        len(configs), len(seeds), figsize=(2.2 * len(seeds), 2.2 * len(configs)), squeeze=False
    )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for row in rows:
        ax = axes[configs.index(row["config"]), seeds.index(row["seed"])]
        real = references[row["config"]]
        gen = np.load(Path(row["run_dir"]) / "generated.npy")
        ax.scatter(real[:, 0], real[:, 1 % real.shape[1]], s=1, c="0.65", alpha=0.4)
        ax.scatter(gen[:, 0], gen[:, 1 % gen.shape[1]], s=1, c="tab:red", alpha=0.4)
        ax.set_title(f"{row['config']} s{row['seed']}", fontsize=7)
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    return png_bytes(fig, dpi=100, tight=False)


def write_sweep_report(
    out,
    rows,
    command: str,
    machine: dict,
    references: dict,
    targets: dict | None = None,
    published: dict | None = None,
) -> Path:
    """Write ``out.md``, ``out.json`` and ``out.png`` atomically; returns the .md path.
    ``targets``, ``published``: as :func:`render`."""
    out = Path(out)
    png = out.with_suffix(".png")
    write_bytes_atomic(png, samples_figure(rows, references))
    text = render(rows, command, machine, targets, published).replace("(%s)", f"({png.name})")
    payload = {"command": command, "machine": machine, "targets": targets or {}, "runs": rows}
    write_text_atomic(out.with_suffix(".json"), json.dumps(payload, indent=2) + "\n")
    return write_text_atomic(out.with_suffix(".md"), text)
