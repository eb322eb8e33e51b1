"""Specification of ``qgan.gan.plots``: figures a researcher can paste into a paper.

The figures are inspected through their matplotlib objects before saving:

* samples: 1-D data as overlaid density histograms (the bars' heights against NumPy's own
  density histogram on the same bins), not x plotted against x; d > 2 as a scatter of axes 0
  and 1 (the offsets are exactly those columns) with the title saying so.
* metrics: fractions on a fixed [0, 1] range (a 0.9996 -> 1.0 change stays flat), counts on
  integer ticks with the true number of modes as a reference line, KL / MMD / energy
  distance / leakage on a log scale, R^2 on [0, 1] (lower only for negative values, never
  below -1) with the real data's R^2 as a dashed reference line, the kept weights' step
  marked on every panel (read by :func:`run_figures` from the run's ``metrics.json``).
* losses: adversarial losses and penalties in separate panels.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from qgan import _rundir as rundir
from qgan._plots import R2_FLOOR, pyplot
from qgan.gan.config import RunConfig
from qgan.gan.plots import (
    PANEL_SIZE,
    REFERENCE_GID,
    SELECTED_GID,
    loss_figure,
    metrics_figure,
    run_figures,
    samples_figure,
    write_run_plots,
)

LOG_KEYS = ("mode_kl", "energy_distance", "mmd", "leakage")
STEPS = [2, 4, 6, 8]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close("all")


def history(**changes) -> list[dict]:
    """metrics.jsonl records of a 8-step run of a 2-mode mixture, evaluated every 2 steps."""
    columns = {
        "modes_captured": [1, 2, 2, 2],
        "high_quality_fraction": [0.9996, 0.9998, 1.0, 0.9997],
        "mode_kl": [0.5, 0.05, 0.004, 0.002],
        "energy_distance": [0.3, 0.03, 0.01, 0.008],
        "mmd": [0.2, 0.02, 0.002, 0.001],
        "linear_r2_generated": [0.2, 0.5, 0.7, 0.8],
        "linear_r2_real": [0.9] * 4,
        "leakage": [1e-3, 1e-4, 1e-5, 1e-5],
        **changes,
    }
    return [{"step": s, **{k: v[i] for k, v in columns.items()}} for i, s in enumerate(STEPS)]


def panels(fig) -> dict:
    return {ax.get_title(): ax for ax in fig.axes}


def lines_with_gid(ax, gid) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


# --------------------------------------------------------------------------- samples


def test_one_dimensional_data_is_drawn_as_density_histograms():
    rng = np.random.default_rng(0)
    real, generated = rng.normal(size=(500, 1)), rng.normal(1.0, 0.5, size=(400, 1))
    fig = samples_figure(real, generated, centers=[[-1.0], [1.0]])
    (ax,) = fig.axes
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]  # no scatter
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "density"
    (bars,) = ax.containers  # the real histogram's bars (the generated one is an outline)
    heights = np.array([p.get_height() for p in bars])
    edges = np.array([p.get_x() for p in bars] + [bars[-1].get_x() + bars[-1].get_width()])
    expected, _ = np.histogram(real[:, 0], bins=edges, density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-12)
    # the generated histogram is an outline over the same bins; the centres are vertical lines
    assert any(p.get_label() == "generated" for p in ax.patches)
    centre_lines = [
        line for line in ax.get_lines() if list(line.get_xdata()) in ([-1.0] * 2, [1.0] * 2)
    ]
    assert len(centre_lines) == 2


def test_higher_dimensional_data_shows_axes_0_and_1_and_says_so():
    rng = np.random.default_rng(1)
    real, generated = rng.normal(size=(50, 3)), rng.normal(size=(40, 3))
    (ax,) = samples_figure(real, generated, title="run").axes
    assert "axes 0 and 1 of 3" in ax.get_title()
    offsets = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(offsets[0], real[:, :2])
    np.testing.assert_array_equal(offsets[1], generated[:, :2])


def test_two_dimensional_data_is_a_plain_scatter():
    rng = np.random.default_rng(2)
    (ax,) = samples_figure(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)), title="t").axes
    assert ax.get_title() == "t"


# --------------------------------------------------------------------------- metrics


def test_metric_axes_fractions_counts_log_scales_and_references():
    fig = metrics_figure(history(), n_modes=2, r2_real=0.9, selected_step=6)
    axes = panels(fig)
    assert set(axes) == {
        "modes_captured",
        "high_quality_fraction",
        "mode_kl",
        "energy_distance",
        "mmd",
        "linear_r2_generated",
        "leakage",
    }
    assert axes["high_quality_fraction"].get_ylim() == (0.0, 1.0)
    counts = axes["modes_captured"]
    low, high = counts.get_ylim()
    ticks = [t for t in counts.get_yticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks)
    (true_modes,) = lines_with_gid(counts, REFERENCE_GID)
    assert list(true_modes.get_ydata()) == [2, 2] and high > 2
    for key in LOG_KEYS:
        assert axes[key].get_yscale() == "log", key
    for key in ("high_quality_fraction", "modes_captured", "linear_r2_generated"):
        assert axes[key].get_yscale() == "linear", key
    r2 = axes["linear_r2_generated"]
    assert r2.get_ylim() == (0.0, 1.0)
    (real_r2,) = lines_with_gid(r2, REFERENCE_GID)
    assert list(real_r2.get_ydata()) == [0.9, 0.9] and real_r2.get_linestyle() == "--"
    for key, ax in axes.items():
        (marker,) = lines_with_gid(ax, SELECTED_GID)
        assert list(marker.get_xdata()) == [6, 6], key


@pytest.mark.parametrize(("worst", "floor"), [(-0.3, -0.3), (-5.0, R2_FLOOR)])
def test_negative_r2_extends_the_range_down_to_a_floor(worst, floor):
    fig = metrics_figure(history(linear_r2_generated=[worst, 0.1, 0.5, 0.6]))
    assert panels(fig)["linear_r2_generated"].get_ylim() == (floor, 1.0)


def test_metrics_panels_form_a_compact_grid_and_skip_unlogged_metrics():
    records = [{"step": s, "mode_kl": 0.1, "mmd": 0.01, "other": "text"} for s in STEPS]
    fig = metrics_figure(records)
    assert sorted(panels(fig)) == ["mmd", "mode_kl"]
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * PANEL_SIZE[0], PANEL_SIZE[1]))
    seven = metrics_figure(history())  # 2 rows of 4 columns, one cell empty
    assert len(seven.axes) == 7
    assert tuple(seven.get_size_inches()) == pytest.approx((4 * PANEL_SIZE[0], 2 * PANEL_SIZE[1]))


# --------------------------------------------------------------------------- losses


def test_adversarial_losses_and_penalties_have_separate_panels():
    records = [
        {
            "step": s,
            "d_loss": 1.3 + s,
            "g_loss": 50.7,
            "d_adversarial": 1.3,
            "g_adversarial": 0.7,
            "g_leakage_penalty": 50.0,
            "leakage": 5.0,
        }
        for s in STEPS
    ]
    adversarial, penalties = loss_figure(records).axes
    assert {line.get_label() for line in adversarial.get_lines()} == {
        "d_adversarial",
        "g_adversarial",
    }
    assert {line.get_label() for line in penalties.get_lines()} == {"g_leakage_penalty"}
    assert penalties.get_yscale() == "log"


def test_loss_logs_without_terms_plot_the_totals():
    records = [{"step": s, "d_loss": 1.0, "g_loss": 0.5} for s in STEPS]
    (ax,) = loss_figure(records).axes
    assert {line.get_label() for line in ax.get_lines()} == {"d_loss", "g_loss"}


# --------------------------------------------------------------------------- a run's plots


def finished_run(folder) -> tuple:
    """A run directory with loss and metric logs and ``metrics.json`` (weights kept from
    step 4); the arguments ``(reference, points, mixture, cfg)`` of the plot writers."""
    for record in history():
        rundir.append_jsonl(folder / "metrics.jsonl", record)
    for s in STEPS:
        rundir.append_jsonl(
            folder / "losses.jsonl", {"step": s, "d_adversarial": 1.0, "g_adversarial": 0.5}
        )
    final = {"weights_from_step": 4, "metrics": {"linear_r2_real": 0.85}}
    (folder / "metrics.json").write_text(json.dumps(final))
    mixture = SimpleNamespace(centers=np.array([[-1.0, 0.0], [1.0, 0.0]]))
    points = np.random.default_rng(3).normal(size=(30, 2))
    return points, points, mixture, RunConfig()


def test_run_figures_mark_the_kept_weights_of_metrics_json(tmp_path):
    figures = run_figures(tmp_path, *finished_run(tmp_path))
    assert set(figures) == {"samples.png", "losses.png", "metrics.png"}
    axes = panels(figures["metrics.png"])
    for ax in axes.values():
        assert list(lines_with_gid(ax, SELECTED_GID)[0].get_xdata()) == [4, 4]
    (true_modes,) = lines_with_gid(axes["modes_captured"], REFERENCE_GID)
    assert list(true_modes.get_ydata()) == [2, 2]
    (real_r2,) = lines_with_gid(axes["linear_r2_generated"], REFERENCE_GID)
    assert list(real_r2.get_ydata()) == [0.85, 0.85]


@pytest.mark.slow  # renders three PNGs
def test_write_run_plots_writes_the_pngs_and_closes_the_figures(tmp_path):
    write_run_plots(tmp_path, *finished_run(tmp_path))
    for name in ("samples.png", "losses.png", "metrics.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not pyplot().get_fignums()
