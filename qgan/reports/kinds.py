"""Kinds of run directory (GAN training, qubit classifier) and their per-kind report pieces.

A run directory holds ``config.yaml`` (the resolved config) and, once finished,
``metrics.json`` (the final record). The kind is read from those two files:

* ``gan`` (``qgan train``): the config has ``generator`` and ``discriminator`` sections;
  ``metrics.json`` keeps the metrics under ``metrics``, ``wall_time_s`` and ``n_params``
  (a mapping part -> count).
* ``classifier`` (``qgan classify``): ``metrics.json`` has ``accuracy`` (at the top level or
  under ``metrics``), with ``train_accuracy``, ``eval_accuracy``, ``n_params`` (a count or
  a mapping part -> count), ``wall_s``, ``circuits_executed`` and confusion matrices (keys
  containing ``confusion``, rows = true class); plots ``curves.png`` and ``confusion.png``.

Each kind is a :class:`RunKind`: how to render the run's own ``report.md`` and the few
facts a comparison needs (metrics, parameter counts, wall time, a one-line summary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from qgan._io import write_text_atomic
from qgan._rundir import read_finished_run
from qgan.reports.run import METRIC_ROWS, fmt, render_run_report

CLASSIFIER_METRIC_ROWS = (
    ("accuracy", "accuracy, validation"),
    ("train_accuracy", "accuracy, training split"),
    ("eval_accuracy", "accuracy, evaluation file"),
    ("val_loss", "loss, validation"),
    ("train_loss", "loss, training split"),
)


@dataclass(frozen=True)
class RunKind:
    """Report pieces of one kind of run.

    ``render(run_dir)`` is the Markdown of the run's ``report.md``; the other callables take
    ``(config mapping, metrics.json mapping)``: ``metrics`` gives ``{key: value}`` of the
    final metrics, ``params`` ``{part: count}``, ``timings`` ``{label: value}`` (wall time
    first, in seconds), ``summary`` one line describing the model.
    ``metric_rows`` are ``(key, label)`` pairs in display order (other keys follow).
    ``picture`` names the PNG that shows one run's result (GAN: its samples; classifier:
    its confusion matrix); ``curves`` are ``(JSON-lines file, x key, y keys)`` of the
    quantities a comparison overlays run against run; ``curve_fallbacks`` maps a y key to
    the key older runs logged in its place (plotted, labelled with its own name, for runs
    without the key).
    """

    name: str
    render: Callable[[Path], str]
    metrics: Callable[[dict, dict], dict]
    params: Callable[[dict, dict], dict]
    timings: Callable[[dict, dict], dict]
    summary: Callable[[dict, dict], str]
    metric_rows: tuple[tuple[str, str], ...]
    picture: str | None = None
    curves: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    curve_fallbacks: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------------------ GAN


def _gan_summary(cfg: dict, final: dict) -> str:
    g = cfg["generator"]
    if g["kind"] == "cv":
        gen = f"CV generator ({g['n_modes']} modes, {g['n_layers']} layers, cutoff {g['cutoff']})"
    else:
        gen = f"classical generator (MLP {g.get('hidden')})"
    return (
        f"GAN `{cfg['name']}`, seed {cfg['seed']}, data `{cfg['data']['kind']}`, {gen}, "
        f"{final['steps']} steps"
    )


def _gan_timings(cfg: dict, final: dict) -> dict:
    return {
        "wall time (s)": final.get("wall_time_s"),
        "first step, incl. tracing (s)": final.get("trace_time_s"),
        "median step (ms)": final.get("step_time_ms_median"),
        "steps": final.get("steps"),
    }


GAN = RunKind(
    name="gan",
    render=render_run_report,
    metrics=lambda cfg, final: dict(final["metrics"]),
    params=lambda cfg, final: dict(final.get("n_params", {})),
    timings=_gan_timings,
    summary=_gan_summary,
    metric_rows=METRIC_ROWS,
    picture="samples.png",
    # the adversarial losses, not the optimised totals: a penalty (the CV generator's
    # leakage penalty) must not make one run's loss look worse than another's
    curves=(
        ("losses.jsonl", "step", ("d_adversarial", "g_adversarial")),
        (
            "metrics.jsonl",
            "step",
            (
                "energy_distance",
                "high_quality_fraction",
                "mode_kl",
                "linear_r2_generated",
                "leakage",
            ),
        ),
    ),
    curve_fallbacks=(("d_adversarial", "d_loss"), ("g_adversarial", "g_loss")),
)


# ------------------------------------------------------------------------------ classifier

CLASSIFIER_FIGURES = ("curves.png", "confusion.png")
# record entries that describe the run rather than measure it, or are shown elsewhere
_CLASSIFIER_NOT_METRICS = {
    "name",
    "seed",
    "model",
    "data",
    "data_source",
    "eval_file",
    "checkpoint",
    "class_names",
    "n_params",
    "wall_s",
    "train_s",
    "circuits_executed",
    "shots_executed",
}


def _classifier_record(final: dict) -> dict:
    return {**final, **final.get("metrics", {})}


def _classifier_metrics(cfg: dict, final: dict) -> dict:
    """Scalar metrics of a classifier record (accuracies, losses, sizes)."""
    return {
        k: v
        for k, v in _classifier_record(final).items()
        if k not in _CLASSIFIER_NOT_METRICS
        and "confusion" not in k
        and (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))
    }


def _classifier_params(cfg: dict, final: dict) -> dict:
    n = _classifier_record(final).get("n_params")
    return dict(n) if isinstance(n, dict) else {"model": n}


def _classifier_timings(cfg: dict, final: dict) -> dict:
    record = _classifier_record(final)
    return {
        "wall time (s)": record.get("wall_s", record.get("wall_time_s")),
        "training (s)": record.get("train_s"),
        "circuits executed": record.get("circuits_executed"),
        "shots executed": record.get("shots_executed"),
    }


def _classifier_summary(cfg: dict, final: dict) -> str:
    data = cfg.get("data")
    data_kind = data.get("kind") if isinstance(data, dict) else final.get("data")
    model = cfg.get("model")
    what = ""
    if isinstance(model, dict):
        if model.get("kind") == "classical":
            keys = ("kind", "hidden")
        else:
            keys = ("kind", "n_qubits", "depth", "encoding", "entangler", "topology")
        parts = [f"{k} {model[k]}" for k in keys if model.get(k) is not None]
        what = f", model: {', '.join(parts)}" if parts else ""
    name, seed = cfg.get("name", final.get("name")), cfg.get("seed", final.get("seed"))
    epochs = final.get("epochs")
    trained = f", {epochs} epochs" if epochs is not None else ""
    return f"classifier `{name}`, seed {seed}, data `{data_kind}`{what}{trained}"


def _confusion_table(matrix, class_names) -> list[str]:
    n = len(matrix)
    names = list(class_names) if class_names and len(class_names) == n else list(range(n))
    lines = ["| true \\ predicted | " + " | ".join(str(c) for c in names) + " |"]
    lines.append("|---|" + "---:|" * n)
    lines += [
        f"| {names[i]} | " + " | ".join(fmt(v) for v in row) + " |" for i, row in enumerate(matrix)
    ]
    return lines


def render_classifier_report(run_dir) -> str:
    """Markdown for one classifier run: metrics, confusion matrices, time and size, plots."""
    run_dir = Path(run_dir)
    cfg, final = read_finished_run(run_dir)
    record = _classifier_record(final)
    metrics = _classifier_metrics(cfg, final)
    labels = dict(CLASSIFIER_METRIC_ROWS)
    ordered = [k for k, _ in CLASSIFIER_METRIC_ROWS if k in metrics]
    ordered += [k for k in metrics if k not in labels]
    lines = [
        f"# Run `{run_dir.name}`",
        "",
        _classifier_summary(cfg, final) + ".",
        "",
        "## Metrics",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {labels.get(k, k)} | {fmt(metrics[k])} |" for k in ordered]
    for key, matrix in record.items():
        if "confusion" in key and isinstance(matrix, list) and matrix:
            title = key.replace("_", " ")
            lines += [
                "",
                f"## {title.capitalize()}",
                "",
                "Rows: true class; columns: predicted.",
                "",
            ]
            lines += _confusion_table(matrix, record.get("class_names"))
    lines += ["", "## Time and size", "", "| quantity | value |", "|---|---|"]
    timings = _classifier_timings(cfg, final)
    lines += [f"| {k} | {fmt(v)} |" for k, v in timings.items() if v is not None]
    lines += [f"| parameters, {k} | {v} |" for k, v in _classifier_params(cfg, final).items()]
    for png in classifier_figures(run_dir):
        title = png.stem.replace("_", " ")
        lines += ["", f"## Plot: {title}", "", f"![{title}]({png.name})"]
    lines += ["", "## Config", "", "```yaml", yaml.safe_dump(cfg, sort_keys=False).strip(), "```"]
    return "\n".join(lines) + "\n"


def classifier_figures(run_dir) -> list[Path]:
    """The run's PNGs: training curves, confusion matrix, then any other, by name."""
    run_dir = Path(run_dir)
    known = [run_dir / n for n in CLASSIFIER_FIGURES if (run_dir / n).is_file()]
    return known + sorted(p for p in run_dir.glob("*.png") if p.name not in CLASSIFIER_FIGURES)


CLASSIFIER = RunKind(
    name="classifier",
    render=render_classifier_report,
    metrics=_classifier_metrics,
    params=_classifier_params,
    timings=_classifier_timings,
    summary=_classifier_summary,
    metric_rows=CLASSIFIER_METRIC_ROWS,
    picture="confusion.png",
    curves=(("metrics.jsonl", "epoch", ("loss", "val_loss", "train_accuracy", "accuracy")),),
)

KINDS = {kind.name: kind for kind in (GAN, CLASSIFIER)}


def detect_kind(cfg: dict, final: dict, run_dir) -> RunKind:
    """The :class:`RunKind` of a run from its config and final record (ValueError if none)."""
    if isinstance(cfg, dict) and "generator" in cfg and "discriminator" in cfg:
        return GAN
    if isinstance(final, dict) and "accuracy" in {**final, **final.get("metrics", {})}:
        return CLASSIFIER
    raise ValueError(
        f"{str(run_dir)!r}: unknown kind of run (neither a GAN config with generator and "
        "discriminator nor a classifier record with accuracy)"
    )


def read_run(run_dir) -> tuple[RunKind, dict, dict]:
    """``(kind, config mapping, metrics.json)`` of a finished run directory (for reports;
    the GAN's own loader restores the trained model instead).

    ValueError naming the directory if it is not a run, has not finished, its files do not
    parse, or its kind is unknown.
    """
    cfg, final = read_finished_run(run_dir)
    return detect_kind(cfg, final, run_dir), cfg, final


def write_report(run_dir) -> Path:
    """Render the run's ``report.md`` for its kind and write it atomically; returns the path."""
    kind, _, _ = read_run(run_dir)
    return write_text_atomic(Path(run_dir) / "report.md", kind.render(Path(run_dir)))
