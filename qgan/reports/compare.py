"""Finished runs side by side: ``NAME.md`` (config differences, metrics, parameter counts,
timings), ``NAME.png`` (the runs' sample plots side by side, their logged curves overlaid)
and ``NAME.json``.

Written by ``qgan report --compare RUN_DIR...`` (default ``reports/compare_<names>.md``).
Every number comes from the runs' own files (``config.yaml``, ``metrics.json``, PNGs); the
runs must be of one kind (see :mod:`qgan.reports.kinds`).

``qgan report --compare A.json B.json`` compares sweeps instead (the ``.json`` of
``qgan sweep``'s reports, :mod:`qgan.reports.sweep`): one row per sweep, config and setting,
the mean ± standard deviation of each metric over its seeds (:func:`write_sweep_comparison`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qgan._io import write_bytes_atomic, write_text_atomic
from qgan._plots import grid_shape, png_bytes, pyplot, style_axis
from qgan._rundir import read_jsonl
from qgan.reports.kinds import RunKind, read_run
from qgan.reports.run import fmt

DEFAULT_DIR = Path("reports")
MAX_NAME_CHARS = 120  # of a default file name's <names> part
MAX_COLUMNS = 4  # of the comparison figure's grid
PANEL_SIZE = (3.2, 3.0)  # inches per panel of the comparison figure
_ABSENT = object()


@dataclass(frozen=True)
class ComparedRun:
    """One run of a comparison: its directory, column name, kind and files' contents."""

    path: Path
    name: str
    kind: RunKind
    config: dict
    final: dict


def read_runs(run_dirs) -> list[ComparedRun]:
    """Read two or more finished runs of one kind (ValueError naming the offending path)."""
    paths = [Path(p) for p in run_dirs]
    if len(paths) < 2:
        raise ValueError(f"--compare needs at least two run directories, got {len(paths)}")
    loaded = [(path, *read_run(path)) for path in paths]
    kinds = {kind.name for _, kind, _, _ in loaded}
    if len(kinds) > 1:
        which = ", ".join(f"{p} ({kind.name})" for p, kind, _, _ in loaded)
        raise ValueError(f"--compare: the runs are of different kinds: {which}")
    names = column_names(paths)
    return [
        ComparedRun(path, name, kind, cfg, final)
        for (path, kind, cfg, final), name in zip(loaded, names)
    ]


def column_names(paths) -> list[str]:
    """Distinct column names: the run directories' names, with the parent folder (and then
    a counter) added where names repeat."""
    paths = [Path(p) for p in paths]
    names = [p.name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{p.parent.name}/{n}" if names.count(n) > 1 else n for p, n in zip(paths, names)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


def flatten(mapping, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists and scalars are leaves)."""
    out = {}
    for key, value in (mapping or {}).items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def config_differences(configs) -> dict[str, list]:
    """``{dotted key: [value per config]}`` for the keys whose values are not all equal;
    a key a config lacks is reported as absent there."""
    flat = [flatten(c) for c in configs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    diffs = {}
    for key in keys:
        values = [f.get(key, _ABSENT) for f in flat]
        if any(v != values[0] for v in values[1:]):
            diffs[key] = values
    return diffs


def default_output(runs: list[ComparedRun], folder=DEFAULT_DIR) -> Path:
    """``folder/compare_<names>.md``: the config names joined by ``_vs_`` (the run
    directories' names where config names repeat), shortened to ``<first>_and_<k>_more``
    when long."""
    names = [str(r.config.get("name", r.path.name)) for r in runs]
    if len(set(names)) < len(names):
        names = [r.path.name for r in runs]
    names = [re.sub(r"[^A-Za-z0-9._-]+", "_", n) for n in names]
    joined = "_vs_".join(names)
    if len(joined) > MAX_NAME_CHARS:
        joined = f"{names[0][: MAX_NAME_CHARS // 2]}_and_{len(names) - 1}_more"
    return Path(folder) / f"compare_{joined}.md"


def _cell(value) -> str:
    """A config value for a Markdown table cell."""
    if value is _ABSENT:
        text = "(absent)"
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, (list, dict)):
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("|", "\\|")


def _table(header: str, names: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    lines = [f"| {header} | " + " | ".join(f"`{n}`" for n in names) + " |"]
    lines.append("|---|" + "---|" * len(names))
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return lines


def metric_rows(runs: list[ComparedRun]) -> list[tuple[str, str, list]]:
    """``(key, label, [value per run])`` in the kind's order, then every other key."""
    kind = runs[0].kind
    values = [kind.metrics(r.config, r.final) for r in runs]
    labels = dict(kind.metric_rows)
    keys = [k for k, _ in kind.metric_rows if any(k in v for v in values)]
    keys += [k for k in dict.fromkeys(k for v in values for k in v) if k not in labels]
    return [(k, labels.get(k, k), [v.get(k) for v in values]) for k in keys]


def size_rows(runs: list[ComparedRun]) -> list[tuple[str, list]]:
    """``(label, [value per run])``: timings, then parameter counts per part (and in total,
    unless the runs report a ``total`` part themselves)."""
    kind = runs[0].kind
    timings = [kind.timings(r.config, r.final) for r in runs]
    params = [kind.params(r.config, r.final) for r in runs]
    rows = [
        (label, [t.get(label) for t in timings])
        for label in dict.fromkeys(label for t in timings for label in t)
    ]
    parts = list(dict.fromkeys(p for ps in params for p in ps))
    rows += [(f"parameters, {part}", [ps.get(part) for ps in params]) for part in parts]
    if len(parts) > 1 and "total" not in parts:
        totals = [sum(v for v in ps.values() if isinstance(v, int)) for ps in params]
        rows.append(("parameters, total", totals))
    return rows


def render_comparison(
    runs: list[ComparedRun], out: Path, figure: str | None = None, command: str | None = None
) -> str:
    """Markdown of the comparison written to ``out`` (run links are relative to it)."""
    names = [r.name for r in runs]
    lines = [f"# Comparison: {' vs '.join(f'`{n}`' for n in names)}", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    for r in runs:
        link = os.path.relpath(r.path.resolve(), out.parent.resolve())
        lines.append(
            f"- `{r.name}` ([run directory]({link})): {r.kind.summary(r.config, r.final)}."
        )
    diffs = config_differences([r.config for r in runs])
    lines += ["", "## Config differences", ""]
    if diffs:
        rows = [(f"`{k}`", [_cell(v) for v in vs]) for k, vs in diffs.items()]
        lines += _table("config key", names, rows)
    else:
        lines.append("The resolved configs are identical.")
    lines += ["", "## Metrics", ""]
    rows = [(label, [fmt(v) for v in vs]) for _, label, vs in metric_rows(runs)]
    lines += _table("metric", names, rows)
    lines += ["", "## Time and size", ""]
    lines += _table("quantity", names, [(k, [fmt(v) for v in vs]) for k, vs in size_rows(runs)])
    if figure:
        lines += ["", "## Plots", ""]
        lines.append(f"![the runs' plots, curves overlaid]({figure})")
    return "\n".join(lines) + "\n"


def _series(records: list[dict], x_key: str, key: str) -> tuple[list, list]:
    """``(x values, y values)`` of the records with numbers at both keys."""
    points = [
        (r[x_key], r[key])
        for r in records
        if isinstance(r.get(key), (int, float)) and isinstance(r.get(x_key), (int, float))
    ]
    return [x for x, _ in points], [y for _, y in points]


def curves(run: ComparedRun) -> dict[str, tuple[list, list, str]]:
    """``{quantity: (x values, y values, logged key)}`` of the run's logged curves (numeric
    points only); the logged key is the quantity's, or its ``curve_fallbacks`` entry for a
    run that predates the quantity."""
    fallbacks = dict(run.kind.curve_fallbacks)
    out = {}
    for filename, x_key, keys in run.kind.curves:
        records = read_jsonl(run.path / filename)
        for key in keys:
            for logged in (key, fallbacks.get(key)):
                xs, ys = _series(records, x_key, logged) if logged else ([], [])
                if xs:
                    out[key] = (xs, ys, logged)
                    break
    return out


def comparison_figure(runs: list[ComparedRun]):
    """The comparison's Figure, or None if the runs have neither pictures nor curves: each
    run's picture (GAN samples, classifier confusion matrix), then one panel per logged
    quantity with every run's curve overlaid (axes as :func:`qgan._plots.style_axis` draws
    them), all in one compact grid (:func:`qgan._plots.grid_shape` with at most
    :data:`MAX_COLUMNS` columns, :data:`PANEL_SIZE` inches a panel).
    A curve read from a fallback key is labelled ``run (key)``."""
    pictures = [
        r.path / r.kind.picture if r.kind.picture and (r.path / r.kind.picture).is_file() else None
        for r in runs
    ]
    logged = [curves(r) for r in runs]
    keys = list(dict.fromkeys(k for c in logged for k in c))
    if not keys and not any(pictures):
        return None
    plt = pyplot()
    import matplotlib.image as mpimg

    n_pictures = len(runs) if any(pictures) else 0
    rows, columns = grid_shape(n_pictures + len(keys), MAX_COLUMNS)
    fig = plt.figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows))
    panel = iter(range(1, rows * columns + 1))
    for run, picture in zip(runs, pictures[:n_pictures]):
        ax = fig.add_subplot(rows, columns, next(panel))
        ax.axis("off")
        ax.set_title(run.name, fontsize=8)
        if picture is None:
            ax.text(0.5, 0.5, f"no {run.kind.picture}", ha="center", va="center", color="0.5")
        else:
            ax.imshow(mpimg.imread(picture))
    for j, key in enumerate(keys):
        ax = fig.add_subplot(rows, columns, next(panel))
        values, substituted = [], False
        for i, (run, c) in enumerate(zip(runs, logged)):
            if key in c:
                xs, ys, source = c[key]
                marker = "." if len(xs) <= 60 else None  # dots hide dense curves
                label = run.name if source == key else f"{run.name} ({source})"
                ax.plot(xs, ys, marker=marker, ms=4, lw=1, color=f"C{i}", label=label)
                values += ys
                substituted |= source != key
        style_axis(ax, key, values)
        ax.set_title(key, fontsize=9)
        ax.tick_params(labelsize=7)
        if j == 0 or substituted:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _markdown_path(out) -> Path:
    out = Path(out)
    if out.suffix == "":
        return out.with_suffix(".md")
    if out.suffix != ".md":
        raise ValueError(f"--out must be a .md path (or have no suffix), got {str(out)!r}")
    return out


def write_comparison(run_dirs, out=None, command: str | None = None) -> Path:
    """Compare finished runs; write ``out`` (.md), its ``.png`` (if any run has plots) and
    ``.json`` atomically. ``out`` defaults to :func:`default_output`. Returns the .md path.

    Nothing is written if any directory is not a finished run or the kinds differ. Sweep
    reports (``.json`` files) are compared by :func:`write_sweep_comparison`.
    """
    if any(Path(p).suffix == ".json" and Path(p).is_file() for p in run_dirs):
        return write_sweep_comparison(run_dirs, out, command)
    runs = read_runs(run_dirs)
    md = _markdown_path(out) if out is not None else default_output(runs)
    fig = comparison_figure(runs)
    png = None if fig is None else png_bytes(fig, dpi=100)
    if png is not None:
        write_bytes_atomic(md.with_suffix(".png"), png)
    payload = {
        "command": command,
        "kind": runs[0].kind.name,
        "runs": [
            {
                "name": r.name,
                "path": str(r.path),
                "summary": r.kind.summary(r.config, r.final),
                "metrics": r.kind.metrics(r.config, r.final),
                "params": r.kind.params(r.config, r.final),
                "timings": r.kind.timings(r.config, r.final),
            }
            for r in runs
        ],
        "config_differences": {
            k: [None if v is _ABSENT else v for v in vs]
            for k, vs in config_differences([r.config for r in runs]).items()
        },
    }
    write_text_atomic(md.with_suffix(".json"), json.dumps(payload, indent=2) + "\n")
    figure = md.with_suffix(".png").name if png is not None else None
    return write_text_atomic(md, render_comparison(runs, md, figure, command))


def read_sweeps(paths) -> list[tuple[str, dict]]:
    """``(name, payload)`` of two or more sweep reports (the ``.json`` of ``qgan sweep``);
    a one-line ``ValueError`` naming a path that is not one."""
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise ValueError(f"--compare needs at least two sweep reports, got {len(paths)}")
    out = []
    for path, name in zip(paths, column_names([p.with_suffix("") for p in paths])):
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f"--compare {str(path)!r}: not a readable JSON file ({err})") from None
        if (
            path.suffix != ".json"
            or not isinstance(payload, dict)
            or payload.get("kind") != "sweep"
        ):
            raise ValueError(
                f"--compare {str(path)!r}: not a sweep report (the .json qgan sweep writes); "
                "compare run directories or sweep reports, not both"
            )
        out.append((name, payload))
    return out


def _mean_std(stats) -> str:
    if not stats or stats.get("mean") is None:
        return "-"
    if stats.get("std") is None:
        return fmt(stats["mean"])
    return f"{fmt(stats['mean'])} ± {fmt(stats['std'])}"


def write_sweep_comparison(paths, out=None, command: str | None = None) -> Path:
    """Compare sweep reports: ``out`` (.md; default ``reports/compare_<names>.md``) with one
    row per (sweep, config, setting) and the mean ± std of every metric the sweeps share
    (the swept metric first), and its ``.json`` twin; returns the .md path."""
    sweeps = read_sweeps(paths)
    names = [re.sub(r"[^A-Za-z0-9._-]+", "_", n) for n, _ in sweeps]
    md = (
        _markdown_path(out) if out is not None else DEFAULT_DIR / f"compare_{'_vs_'.join(names)}.md"
    )
    rows = [(name, g) for name, payload in sweeps for g in payload.get("groups", [])]
    first = [p.get("metric") for _, p in sweeps if p.get("metric")]
    keys = list(dict.fromkeys(first + [k for _, g in rows for k in g.get("metrics", {})]))
    shared = [k for k in keys if all(k in g.get("metrics", {}) for _, g in rows)]
    lines = [f"# Comparison of sweeps: {' vs '.join(f'`{n}`' for n, _ in sweeps)}", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    for (name, payload), path in zip(sweeps, paths):
        lines.append(f"- `{name}` ({path}): `{payload.get('command')}`.")
    lines += [
        "",
        "Mean ± sample standard deviation over each setting's finished seeds.",
        "",
        "| sweep | config | setting | seeds | " + " | ".join(shared) + " |",
        "|---|---|---|---:|" + "---:|" * len(shared),
    ]
    for name, g in rows:
        cells = " | ".join(_mean_std(g["metrics"].get(k)) for k in shared)
        seeds = f"{len(g.get('seeds', []))}/{g.get('n_trials')}"
        lines.append(f"| {name} | {g.get('name')} | {g.get('setting')} | {seeds} | {cells} |")
    payload = {
        "command": command,
        "kind": "sweep_comparison",
        "sweeps": [{"name": n, "path": str(p)} for (n, _), p in zip(sweeps, paths)],
        "rows": [
            {
                "sweep": n,
                "config": g.get("name"),
                "setting": g.get("setting"),
                "metrics": {k: g["metrics"][k] for k in shared},
            }
            for n, g in rows
        ],
    }
    write_text_atomic(md.with_suffix(".json"), json.dumps(payload, indent=2) + "\n")
    return write_text_atomic(md, "\n".join(lines) + "\n")
