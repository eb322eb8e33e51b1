"""GAN run plots: samples against the real data, loss and metric curves.

Each function writes one PNG atomically (:func:`qgan._plots.save_png`) and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qgan import _rundir as rundir
from qgan._plots import pyplot, save_png


def scatter_samples(path, real, generated, centers=None, title: str = "") -> Path:
    """Generated points over the real data (first two axes), mixture centres marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    real, generated = np.asarray(real), np.asarray(generated)
    ax.scatter(real[:, 0], real[:, 1 % real.shape[1]], s=3, c="0.6", alpha=0.5, label="real")
    ax.scatter(
        generated[:, 0],
        generated[:, 1 % generated.shape[1]],
        s=3,
        c="tab:red",
        alpha=0.5,
        label="generated",
    )
    if centers is not None:
        c = np.asarray(centers)
        ax.scatter(c[:, 0], c[:, 1 % c.shape[1]], marker="x", c="k", s=40, label="centres")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper left", markerscale=3, fontsize=8)
    ax.set_title(title, fontsize=9)
    return save_png(fig, path)


def loss_curves(path, records: list[dict]) -> Path:
    """Discriminator and generator losses against the step."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [r["step"] for r in records]
    for key in ("d_loss", "g_loss"):
        ax.plot(steps, [r[key] for r in records], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    return save_png(fig, path)


def metric_curves(path, records: list[dict], keys) -> Path:
    """One panel per metric against the step."""
    plt = pyplot()
    keys = [k for k in keys if records and isinstance(records[0].get(k), (int, float))]
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(3.2 * max(len(keys), 1), 3))
    axes = np.atleast_1d(axes)
    steps = [r["step"] for r in records]
    for ax, key in zip(axes, keys, strict=False):
        ax.plot(steps, [r.get(key, np.nan) for r in records], marker=".")
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step")
    fig.tight_layout()
    return save_png(fig, path)


def write_run_plots(run_dir: Path, reference, points, mixture, cfg) -> None:
    """The plots of a finished run: ``samples.png``, ``losses.png`` (from ``losses.jsonl``)
    and ``metrics.png`` (from ``metrics.jsonl``); ``cfg`` is its :class:`RunConfig`."""
    centers = None if mixture is None else mixture.centers
    scatter_samples(
        run_dir / "samples.png",
        reference,
        points,
        centers,
        title=f"{cfg.name} (seed {cfg.seed}): generated vs real",
    )
    losses = rundir.read_jsonl(run_dir / "losses.jsonl")
    if losses:
        loss_curves(run_dir / "losses.png", losses)
    history = rundir.read_jsonl(run_dir / "metrics.jsonl")
    if history:
        keys = (
            "modes_captured",
            "high_quality_fraction",
            "mode_kl",
            "energy_distance",
            "linear_r2_generated",
            "leakage",
        )
        metric_curves(run_dir / "metrics.png", history, keys)
