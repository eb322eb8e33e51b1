"""GAN run plots: samples against the real data, loss and metric curves.

Each plot is built by a ``*_figure`` function that returns the matplotlib ``Figure`` (so it
can be inspected or edited before saving) and written by a function that saves it as one PNG
atomically (:func:`qgan._plots.save_png`) and returns its path. :func:`run_figures` builds
all of a finished run's figures, :func:`write_run_plots` writes them.

Conventions: 1-D data is shown as overlaid histograms (densities), 2-D data as a scatter
plot, higher dimensions as a scatter plot of axes 0 and 1 (the title says so). Metric panels
use :func:`qgan._plots.style_axis` (fractions on [0, 1], counts on integers, KL, MMD, energy
distance and leakage on a log scale) with reference lines where known (the number of modes,
the real data's R^2) and the step whose weights the run kept marked on every panel.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qgan import _rundir as rundir
from qgan._plots import grid_shape, pyplot, save_png, style_axis

# metrics.png's panels, in order (those a run logged)
METRIC_KEYS = (
    "modes_captured",
    "high_quality_fraction",
    "mode_kl",
    "energy_distance",
    "mmd",
    "linear_r2_generated",
    "leakage",
)
ADVERSARIAL_KEYS = ("d_adversarial", "g_adversarial")
LEGACY_LOSS_KEYS = ("d_loss", "g_loss")  # logs written before the terms were logged
PENALTY_KEYS = ("g_leakage_penalty", "d_gradient_penalty")
HISTOGRAM_BINS = 60
PANEL_SIZE = (3.4, 2.8)  # inches per metric panel
MAX_COLUMNS = 4
REFERENCE_GID = "reference"  # gid of the horizontal reference lines
SELECTED_GID = "selected_step"  # gid of the vertical line at the kept weights' step


def samples_figure(real, generated, centers=None, title: str = ""):
    """Generated points ``[n, d]`` against the real ones ``[m, d]``, mixture ``centers``
    ``[k, d]`` marked: overlaid density histograms (shared bins) for ``d == 1``, else a
    scatter plot of axes 0 and 1 (noted in the title when ``d > 2``). Returns the Figure."""
    plt = pyplot()
    real, generated = np.asarray(real, float), np.asarray(generated, float)
    if real.ndim != 2 or generated.ndim != 2 or real.shape[1] != generated.shape[1]:
        raise ValueError(
            f"real and generated: expected [n, d] arrays of one d, got {real.shape} and "
            f"{generated.shape}"
        )
    d = real.shape[1]
    c = None if centers is None else np.asarray(centers, float).reshape(-1, d)
    if d == 1:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        both = np.concatenate([real[:, 0], generated[:, 0]])
        bins = np.histogram_bin_edges(both[np.isfinite(both)], bins=HISTOGRAM_BINS)
        ax.hist(real[:, 0], bins, density=True, color="0.6", alpha=0.6, label="real")
        ax.hist(
            generated[:, 0],
            bins,
            density=True,
            histtype="step",
            lw=1.5,
            color="tab:red",
            label="generated",
        )
        for i, x in enumerate([] if c is None else c[:, 0]):
            ax.axvline(x, color="k", ls=":", lw=0.8, label="centres" if i == 0 else None)
        ax.set_xlabel("x")
        ax.set_ylabel("density")
    else:
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(real[:, 0], real[:, 1], s=3, c="0.6", alpha=0.5, label="real")
        ax.scatter(generated[:, 0], generated[:, 1], s=3, c="tab:red", alpha=0.5, label="generated")
        if c is not None:
            ax.scatter(c[:, 0], c[:, 1], marker="x", c="k", s=40, label="centres")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("axis 0")
        ax.set_ylabel("axis 1")
        if d > 2:
            title = f"{title} (axes 0 and 1 of {d})".strip()
    ax.legend(loc="upper left", markerscale=3, fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig


def scatter_samples(path, real, generated, centers=None, title: str = "") -> Path:
    """Write :func:`samples_figure` to ``path``; returns the path."""
    return save_png(samples_figure(real, generated, centers, title), path)


def _series(records: list[dict], key: str) -> tuple[list, list]:
    """``(steps, values)`` of the records with a number at ``key``."""
    points = [
        (r["step"], r[key])
        for r in records
        if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)
    ]
    return [s for s, _ in points], [v for _, v in points]


def _logged(records: list[dict], keys) -> list[str]:
    return [k for k in keys if _series(records, k)[0]]


def loss_figure(records: list[dict]):
    """Loss curves of ``losses.jsonl`` records against the step: the adversarial losses
    (``d_adversarial``, ``g_adversarial``; ``d_loss``, ``g_loss`` for logs that predate the
    terms) in one panel and, when logged, the penalties (``g_leakage_penalty``,
    ``d_gradient_penalty``, weighted as added to the totals) in their own panel, so that a
    penalty's scale does not hide the adversarial game. Returns the Figure."""
    plt = pyplot()
    adversarial = _logged(records, ADVERSARIAL_KEYS) or _logged(records, LEGACY_LOSS_KEYS)
    penalties = _logged(records, PENALTY_KEYS)
    panels = [("adversarial losses", adversarial)]
    if penalties:
        panels.append(("penalties (weighted, as added to the loss)", penalties))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.5), squeeze=False)
    for ax, (title, keys) in zip(axes[0], panels, strict=True):
        values = []
        for key in keys:
            steps, ys = _series(records, key)
            ax.plot(steps, ys, label=key)
            values += ys
        if keys is penalties:
            style_axis(ax, "g_leakage_penalty", values)  # log scale where positive
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loss_curves(path, records: list[dict]) -> Path:
    """Write :func:`loss_figure` to ``path``; returns the path."""
    return save_png(loss_figure(records), path)


def metrics_figure(
    records: list[dict],
    keys=METRIC_KEYS,
    *,
    n_modes: int | None = None,
    r2_real: float | None = None,
    selected_step: int | None = None,
):
    """One panel per metric of ``keys`` that the ``metrics.jsonl`` records hold, against the
    step, in a balanced grid (:func:`qgan._plots.grid_shape`) of at most
    :data:`MAX_COLUMNS` columns. Axes as
    :func:`qgan._plots.style_axis` draws them; dashed reference lines (gid
    :data:`REFERENCE_GID`): ``n_modes`` (the true number of modes) on ``modes_captured``,
    ``r2_real`` (the real data's linear R^2) on ``linear_r2_generated``; a dotted vertical
    line (gid :data:`SELECTED_GID`) at ``selected_step`` (the step whose weights the run
    kept) on every panel. Returns the Figure."""
    plt = pyplot()
    keys = _logged(records, keys)
    rows, cols = grid_shape(len(keys), MAX_COLUMNS)
    fig = plt.figure(figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows))
    references = {
        "modes_captured": (n_modes, "true modes"),
        "linear_r2_generated": (r2_real, "real data"),
    }
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        steps, values = _series(records, key)
        ax.plot(steps, values, marker=".", color="C0", clip_on=False)
        shown = list(values)
        reference, label = references.get(key, (None, None))
        if reference is not None:
            ax.axhline(reference, ls="--", lw=1, color="0.35", label=label, gid=REFERENCE_GID)
            shown.append(reference)
        if selected_step is not None:
            ax.axvline(
                selected_step,
                ls=":",
                lw=1.2,
                color="tab:green",
                label="kept weights",
                gid=SELECTED_GID,
            )
        style_axis(ax, key, shown)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step")
        ax.tick_params(labelsize=7)
        if reference is not None or (selected_step is not None and i == 0):
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def metric_curves(path, records: list[dict], keys=METRIC_KEYS, **references) -> Path:
    """Write :func:`metrics_figure` (``references``: its keyword arguments) to ``path``."""
    return save_png(metrics_figure(records, keys, **references), path)


def _final_record(run_dir: Path) -> dict:
    """``run_dir/metrics.json`` (the finished run's record), or {} if absent or unreadable."""
    try:
        final = json.loads((run_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}
    return final if isinstance(final, dict) else {}


def run_figures(run_dir: Path, reference, points, mixture, cfg) -> dict:
    """The figures of a finished run, ``{file name: Figure}``: ``samples.png`` (``points``
    against the ``reference`` sample, ``mixture`` centres marked), ``losses.png`` (from
    ``losses.jsonl``) and ``metrics.png`` (from ``metrics.jsonl``, with the true number of
    modes of ``mixture``, the real data's R^2 and ``weights_from_step`` of
    ``metrics.json`` when present); the last two only when their logs have records.
    ``cfg`` is the run's :class:`RunConfig`."""
    run_dir = Path(run_dir)
    centers = None if mixture is None else mixture.centers
    title = f"{cfg.name} (seed {cfg.seed}): generated vs real"
    figures = {"samples.png": samples_figure(reference, points, centers, title=title)}
    losses = rundir.read_jsonl(run_dir / "losses.jsonl")
    if losses:
        figures["losses.png"] = loss_figure(losses)
    history = rundir.read_jsonl(run_dir / "metrics.jsonl")
    if history:
        final = _final_record(run_dir)
        r2 = _series(history, "linear_r2_real")[1]
        r2_final = final.get("metrics", {}).get("linear_r2_real")
        figures["metrics.png"] = metrics_figure(
            history,
            n_modes=None if centers is None else len(centers),
            r2_real=r2_final if r2_final is not None else (r2[-1] if r2 else None),
            selected_step=final.get("weights_from_step"),
        )
    return figures


def write_run_plots(run_dir: Path, reference, points, mixture, cfg) -> None:
    """Write :func:`run_figures` into ``run_dir`` (called after ``metrics.json`` is written,
    so that the kept weights' step is marked)."""
    for name, fig in run_figures(run_dir, reference, points, mixture, cfg).items():
        save_png(fig, Path(run_dir) / name)
