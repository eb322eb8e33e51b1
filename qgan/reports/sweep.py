"""The sweep report: configs x settings x seeds, aggregated per (config, setting).

Written by ``qgan sweep`` (and ``scripts/sweep.py``) as ``NAME.md``, ``NAME.json`` and
``NAME.png`` (the chosen metric against each swept ``--set`` key, every seed a dot, the
mean and standard deviation a line), plus ``NAME_samples.png`` for GAN sweeps whose run
directories are readable here (generated samples over the real data, one panel per trial).

The input is the trials' records (:mod:`qgan.sweep.store`): ``status`` ``ok`` with the
run's ``metrics``, or ``failed`` with the ``error``; failed trials are listed, never dropped.
Targets are data (:func:`load_targets`: the ``[gan.targets]`` and ``[gan.published]``
tables of ``qgan/reports/targets.toml``): ``{config name or data kind: [(metric key,
">=" or "<=", bound), ...]}`` (a config's own table, else its CV twin's for an
``X_classical`` ablation, else its data kind's) and
``{data kind: published figures (text)}``.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np

from qgan._io import write_bytes_atomic, write_text_atomic
from qgan._plots import png_bytes, pyplot
from qgan.reports.run import fmt

#: the package's targets file (``[gan.targets]``, ``[gan.published]``)
TARGETS_FILE = Path(__file__).resolve().parent / "targets.toml"
#: the Markdown columns of a GAN sweep, in order (other numeric metrics follow)
GAN_COLUMNS = (
    ("modes_captured", "modes"),
    ("high_quality_fraction", "high quality"),
    ("mode_kl", "mode KL"),
    ("mode_weight_error", "max \\|w - w_true\\|"),
    ("energy_distance", "energy dist."),
    ("mmd", "MMD"),
    ("linear_r2_generated", "R^2 gen"),
    ("linear_r2_real", "R^2 real"),
    ("linear_r2_gap", "R^2 gap"),
    ("gradient_flow", "grad flow"),
    ("leakage", "leakage"),
    ("untrained_mode_kl", "mode KL, untrained G"),
    ("untrained_energy_distance", "energy dist., untrained G"),
    ("wall_time_s", "wall s"),
)
#: the Markdown columns of a classifier sweep
CLASSIFY_COLUMNS = (
    ("accuracy", "accuracy, validation"),
    ("train_accuracy", "accuracy, training"),
    ("val_loss", "loss, validation"),
    ("n_params", "parameters"),
    ("circuits_executed", "circuits"),
    ("wall_time_s", "wall s"),
)
#: the default metric of the figure and progress display per workload, and whether larger
#: is better: the first of these a sweep's records hold
DEFAULT_METRICS = (
    ("high_quality_fraction", True),
    ("energy_distance", False),
    ("accuracy", True),
)
#: metrics where smaller is better (the rest: larger is better)
LOWER_IS_BETTER = {
    "mode_kl",
    "mode_weight_error",
    "energy_distance",
    "mmd",
    "linear_r2_gap",
    "leakage",
    "leakage_max",
    "untrained_mode_kl",
    "untrained_mode_weight_error",
    "untrained_energy_distance",
    "untrained_mmd",
    "untrained_leakage",
    "wall_time_s",
    "val_loss",
    "train_loss",
}


def load_targets(path=TARGETS_FILE) -> tuple[dict, dict]:
    """``(targets, published)`` from the ``[gan.targets]`` and ``[gan.published]`` tables
    of a TOML file (default: the package's); a one-line ``ValueError`` if it has none."""
    try:
        with open(path, "rb") as f:
            gan = tomllib.load(f).get("gan", {})
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"--targets {str(path)!r}: {err}") from None
    if "targets" not in gan:
        raise ValueError(f"--targets {str(path)!r}: no [gan.targets] table")
    return gan["targets"], gan.get("published", {})


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


def bounds_of(targets: dict, name: str | None, data: str | None) -> list:
    """The targets of a config: its own table (keyed by config name) if the file has one,
    else, for a classical ablation ``X_classical``, its CV twin ``X``'s, else its data
    kind's; ``[]`` when none has any."""
    for key in (name, None if name is None else name.removesuffix("_classical")):
        if key is not None and key in targets:
            return targets[key]
    return targets.get(data, [])


def check_targets(row: dict, targets: dict) -> dict:
    """``{target description: passed}`` for the ``targets`` of the row's config (by name)
    or else of its data kind."""
    result = {}
    for key, op, bound in bounds_of(targets, row.get("name"), row.get("data")):
        value = row.get(key)
        ok = value is not None and (value >= bound if op == ">=" else value <= bound)
        result[f"{key} {op} {bound}"] = bool(ok)
    return result


def row_of(record: dict) -> dict:
    """A finished trial's record as one flat row: its identity, data and model kinds,
    ``run_dir``, ``trial_wall_s`` and every metric."""
    keys = ("trial_id", "config", "name", "workload", "seed", "setting", "overrides")
    row = {k: record.get(k) for k in keys}
    for key in ("data", "generator", "model", "run_dir", "steps", "trial_wall_s"):
        if key in record:
            row[key] = record[key]
    row.update(record.get("metrics", {}))
    return row


def default_metric(records) -> tuple[str | None, bool]:
    """``(metric, larger is better)``: the first of :data:`DEFAULT_METRICS` the finished
    records hold (``(None, True)`` without any)."""
    for key, higher in DEFAULT_METRICS:
        if any(key in r.get("metrics", {}) for r in records if r.get("status") == "ok"):
            return key, higher
    return None, True


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _stats(values: list) -> dict:
    nums = [v for v in values if _numeric(v)]
    if not nums:
        return {"mean": None, "std": None, "values": values}
    std = float(np.std(nums, ddof=1)) if len(nums) > 1 else None
    return {"mean": float(np.mean(nums)), "std": std, "values": values}


def groups(records: list[dict], targets: dict | None = None) -> list[dict]:
    """One entry per (config, setting), in the records' order: ``config``, ``name``,
    ``setting``, ``overrides``, ``seeds`` (of finished trials), ``n_trials``, ``failed``
    (trial ids), ``metrics`` (``{key: {"mean", "std", "values"}}`` for every numeric
    metric, ``values`` per seed in ``seeds`` order; ``std`` is the sample standard
    deviation, None for one seed), ``trial_wall_s`` (per seed) and, with ``targets``,
    ``targets_met`` (seeds meeting every target of the data kind; None without any)."""
    out: dict[tuple, dict] = {}
    for record in records:
        key = (record["config"], record["setting"])
        g = out.setdefault(
            key,
            {
                "config": record["config"],
                "name": record["name"],
                "setting": record["setting"],
                "overrides": record.get("overrides", {}),
                "workload": record.get("workload"),
                "data": record.get("data"),
                "seeds": [],
                "n_trials": 0,
                "failed": [],
                "rows": [],
            },
        )
        g["n_trials"] += 1
        if record["status"] == "ok":
            g["seeds"].append(record["seed"])
            g["rows"].append(row_of(record))
            g["data"] = g["data"] or record.get("data")
        else:
            g["failed"].append(record["trial_id"])
    result = []
    for g in out.values():
        rows = g.pop("rows")
        keys = list(dict.fromkeys(k for r in rows for k, v in r.items() if _numeric(v)))
        keys = [k for k in keys if k not in ("seed", "steps", "trial_wall_s")]
        g["metrics"] = {k: _stats([r.get(k) for r in rows]) for k in keys}
        g["trial_wall_s"] = [r.get("trial_wall_s") for r in rows]
        if targets is not None:
            bounds = bounds_of(targets, g["name"], g["data"])
            g["targets_met"] = (
                sum(all(check_targets(r, targets).values()) for r in rows) if bounds else None
            )
        result.append(g)
    return result


def _columns(records) -> tuple:
    classify = any(r.get("workload") == "classify" for r in records)
    return CLASSIFY_COLUMNS if classify else GAN_COLUMNS


def _mean_std(stats: dict | None) -> str:
    if not stats or stats["mean"] is None:
        return "-"
    if stats["std"] is None:
        return fmt(stats["mean"])
    return f"{fmt(stats['mean'])} ± {fmt(stats['std'])}"


def render(
    records: list[dict],
    command: str,
    machine: dict,
    targets: dict | None = None,
    published: dict | None = None,
    metric: str | None = None,
    figure: str | None = None,
    samples: str | None = None,
) -> str:
    """Markdown of a sweep: the command and machine, one summary row per (config,
    setting) with the mean ± standard deviation of each metric and the seeds meeting the
    targets, one row per trial with its values and wall time, the failed trials, the
    targets section and the figures (file names ``figure``, ``samples``)."""
    published = published or {}
    columns = [(k, label) for k, label in _columns(records)]
    ok = [r for r in records if r["status"] == "ok"]
    present = {k for r in ok for k, v in r.get("metrics", {}).items() if _numeric(v)}
    columns = [(k, label) for k, label in columns if k in present]
    named = {k for k, _ in columns}
    extra = sorted(k for k in present if k not in named)
    grouped = groups(records, targets)
    failed = [r for r in records if r["status"] != "ok"]
    lines = [
        "# Sweep results: configs x settings x seeds",
        "",
        f"Produced by `{command}` on {machine.get('date')}: {machine.get('cpu')}, "
        f"{machine.get('cores')} cores; Python {machine.get('python')}, TensorFlow "
        f"{machine.get('tensorflow')}, Strawberry Fields {machine.get('strawberryfields')}.",
        "",
        f"{len(records)} trials: {len(ok)} finished, {len(failed)} failed. Each trial is the "
        "run `qgan train` / `qgan classify` makes for its config, setting (`--set`) and seed; "
        "its metrics are that run's final metrics (`wall s`: the run's own wall time; "
        "`trial s`: the whole trial, TensorFlow's start-up included). Means ± sample "
        "standard deviations over the finished seeds.",
        *(
            [
                "",
                "A GAN run's final metrics are measured on a draw of latents and real points "
                "apart from the one its checkpoint was selected on; `untrained G`: the same "
                "run's decoder on the same draw with the generator's weights put back to "
                "their untrained values (what training the generator, the circuit for a CV "
                "generator, adds).",
            ]
            if any(k.startswith("untrained_") for k in present)
            else []
        ),
        "",
        "## Summary",
        "",
    ]
    head = "| config | setting | seeds | " + " | ".join(label for _, label in columns)
    head += " | targets met |" if targets else " |"
    lines += [head, "|---|---|---:|" + "---:|" * len(columns) + ("---:|" if targets else "")]
    for g in grouped:
        cells = " | ".join(_mean_std(g["metrics"].get(k)) for k, _ in columns)
        seeds = f"{len(g['seeds'])}/{g['n_trials']}"
        row = f"| {g['name']} | {g['setting']} | {seeds} | {cells} |"
        if targets:
            met = g.get("targets_met")
            row += " - |" if met is None else f" {met}/{len(g['seeds'])} |"
        lines.append(row)
    if extra:
        lines += ["", "Other metrics (mean ± std): "]
        for g in grouped:
            parts = [f"{k} {_mean_std(g['metrics'].get(k))}" for k in extra if k in g["metrics"]]
            lines.append(f"- {g['name']} ({g['setting']}): " + "; ".join(parts) + ".")
    lines += [
        "",
        "## Trials",
        "",
        "| config | setting | seed | " + " | ".join(label for _, label in columns) + " | trial s |",
        "|---|---|---:|" + "---:|" * (len(columns) + 1),
    ]
    for r in ok:
        m = r["metrics"]
        cells = " | ".join(fmt(m.get(k)) for k, _ in columns)
        lines.append(
            f"| {r['name']} | {r['setting']} | {r['seed']} | {cells} | "
            f"{fmt(r.get('trial_wall_s'))} |"
        )
    lines += ["", "## Failed trials", ""]
    if failed:
        for r in failed:
            lines.append(
                f"- `{r['trial_id']}` ({r['name']}, {r['setting']}, seed {r['seed']}): failed "
                f"after {r.get('attempts', 1)} attempts: {r.get('error', 'unknown error')}"
            )
    else:
        lines.append("None.")
    if targets:
        lines += _targets_section(grouped, targets, published)
    if figure:
        lines += ["", "## Figure", "", f"![{metric} against each swept key]({figure})"]
    if samples:
        lines += ["", "## Samples", "", f"![generated samples over the real data]({samples})"]
    return "\n".join(lines) + "\n"


def _targets_section(grouped: list[dict], targets: dict, published: dict) -> list[str]:
    lines = ["", "## Targets", ""]
    for g in grouped:
        kind, n = g["data"], len(g["seeds"])
        where = f"`{g['name']}` ({g['setting']}, {kind})"
        bounds = bounds_of(targets, g["name"], kind)
        if not bounds:
            lines.append(f"- {where}: no numeric target; metrics reported above.")
            continue
        per = []
        for key, op, bound in bounds:
            values = g["metrics"].get(key, {}).get("values", [None] * n)
            k = sum(v is not None and (v >= bound if op == ">=" else v <= bound) for v in values)
            per.append(f"{key} {op} {bound}: {k}/{n}")
        lines.append(
            f"- {where}: all targets met in **{g['targets_met']} of {n}** seeds ({'; '.join(per)})."
        )
        if kind in published:
            lines.append(f"  Published classical figures for {kind}: {published[kind]}.")
    return lines


def _number(value) -> float | None:
    return float(value) if _numeric(value) else None


def metric_figure(records: list[dict], metric: str, swept: list[str]) -> bytes | None:
    """PNG: ``metric`` against each swept key (one panel per key; every finished seed a
    dot, each config's mean ± std a line), or per (config, setting) when nothing is swept;
    None when no finished trial has the metric."""
    ok = [r for r in records if r["status"] == "ok" and _numeric(r["metrics"].get(metric))]
    if not ok:
        return None
    plt = pyplot()
    panels = swept or [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    configs = list(dict.fromkeys(r["name"] for r in ok))
    for ax, key in zip(axes[0], panels):
        if key is None:
            labels = list(dict.fromkeys(f"{r['name']}\n{r['setting']}" for r in ok))
            xs_of = {lab: i for i, lab in enumerate(labels)}
            ax.set_xticks(range(len(labels)), labels, fontsize=7)
        else:
            raw = list(dict.fromkeys(json.dumps(r["overrides"].get(key)) for r in ok))
            numeric = all(_numeric(json.loads(v)) for v in raw)
            xs_of = (
                {v: float(json.loads(v)) for v in raw}
                if numeric
                else {v: i for i, v in enumerate(raw)}
            )
            if not numeric:
                ax.set_xticks(range(len(raw)), [json.loads(v) for v in raw], fontsize=7)
            ax.set_xlabel(key)
        for i, name in enumerate(configs):
            mine = [r for r in ok if r["name"] == name]
            points: dict[float, list[float]] = {}
            for r in mine:
                lab = (
                    f"{r['name']}\n{r['setting']}"
                    if key is None
                    else json.dumps(r["overrides"].get(key))
                )
                points.setdefault(xs_of[lab], []).append(float(r["metrics"][metric]))
            xs = sorted(points)
            for x in xs:
                ax.scatter([x] * len(points[x]), points[x], s=12, color=f"C{i}", alpha=0.6)
            means = [float(np.mean(points[x])) for x in xs]
            stds = [float(np.std(points[x], ddof=1)) if len(points[x]) > 1 else 0.0 for x in xs]
            ax.errorbar(xs, means, yerr=stds, color=f"C{i}", lw=1, capsize=3, label=name)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return png_bytes(fig, dpi=100, tight=False)


def samples_figure(records: list[dict], references: dict) -> bytes | None:
    """PNG: one panel per finished GAN trial whose ``generated.npy`` is readable here
    (rows: config and setting; columns: seeds), generated points over the reference
    points of its config (``references``: config name -> points); None if there is none."""
    rows = [
        r
        for r in records
        if r["status"] == "ok"
        and r.get("workload") == "gan"
        and (Path(r.get("run_dir", "")) / "generated.npy").is_file()
    ]
    if not rows:
        return None
    plt = pyplot()
    lines = list(dict.fromkeys((r["name"], r["setting"]) for r in rows))
    seeds = list(dict.fromkeys(r["seed"] for r in rows))
    fig, axes = plt.subplots(
        len(lines), len(seeds), figsize=(2.2 * len(seeds), 2.2 * len(lines)), squeeze=False
    )
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for r in rows:
        ax = axes[lines.index((r["name"], r["setting"])), seeds.index(r["seed"])]
        gen = np.load(Path(r["run_dir"]) / "generated.npy")
        real = references.get(r["name"])
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1 % real.shape[1]], s=1, c="0.65", alpha=0.4)
        ax.scatter(gen[:, 0], gen[:, 1 % gen.shape[1]], s=1, c="tab:red", alpha=0.4)
        title = r["name"] if r["setting"] == "-" else f"{r['name']} {r['setting']}"
        ax.set_title(f"{title} s{r['seed']}", fontsize=6)
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    return png_bytes(fig, dpi=100, tight=False)


def write_sweep_report(
    out,
    records: list[dict],
    command: str,
    machine: dict,
    *,
    swept: list[str] = (),
    metric: str | None = None,
    targets: dict | None = None,
    published: dict | None = None,
    references: dict | None = None,
) -> Path:
    """Write ``out.md``, ``out.json``, ``out.png`` (the ``metric`` figure, default
    :func:`default_metric`) and, for GAN trials with readable runs, ``out_samples.png``,
    atomically; returns the .md path. ``swept``: the ``--set`` keys; ``targets``,
    ``published``: as :func:`load_targets` returns them (None: no targets)."""
    out = Path(out)
    out = out.with_suffix("") if out.suffix == ".md" else out
    if metric is None:
        metric, _ = default_metric(records)
    figure = samples = None
    png = metric_figure(records, metric, list(swept)) if metric else None
    if png is not None:
        figure = out.name + ".png"
        write_bytes_atomic(out.parent / figure, png)
    pictures = samples_figure(records, references or {})
    if pictures is not None:
        samples = out.name + "_samples.png"
        write_bytes_atomic(out.parent / samples, pictures)
    text = render(records, command, machine, targets, published, metric, figure, samples)
    payload = {
        "kind": "sweep",
        "command": command,
        "machine": machine,
        "metric": metric,
        "swept": list(swept),
        "targets": targets or {},
        "groups": groups(records, targets),
        "trials": records,
    }
    write_text_atomic(out.parent / (out.name + ".json"), json.dumps(payload, indent=2) + "\n")
    return write_text_atomic(out.parent / (out.name + ".md"), text)
