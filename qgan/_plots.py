"""Figures: matplotlib on the Agg backend, PNGs rendered in memory and written atomically.

The one place figures are saved. Callers draw with :func:`pyplot` and hand the figure to
:func:`save_png` (a file, replaced in one step: a reader never sees half a PNG) or
:func:`png_bytes` (the bytes, for callers that write several files of one report). Plotting
modules build a figure in one function and save it in another, so that tests can inspect
the figure's axes. :func:`style_axis` draws the y-axis of a logged quantity the same way in
every figure (fractions on [0, 1], counts on integers, divergences on a log scale).
matplotlib is imported on first use: it is slow to import and most commands draw nothing.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from qgan._io import write_bytes_atomic


def pyplot():
    """``matplotlib.pyplot``, with the non-interactive Agg backend selected (no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = 110, tight: bool = True) -> bytes:
    """Render ``fig`` as PNG bytes at ``dpi`` dots per inch and close it.

    ``tight``: crop to the drawn content (``bbox_inches="tight"``); False keeps the
    figure's own size in inches.
    """
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    finally:
        pyplot().close(fig)
    return buffer.getvalue()


def save_png(fig, path: str | os.PathLike, dpi: int = 110, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` as a PNG atomically (see :func:`png_bytes`); returns the path."""
    return write_bytes_atomic(path, png_bytes(fig, dpi=dpi, tight=tight))


# ------------------------------------------------------------------ axes of logged quantities

# How each logged quantity's axis is drawn, by name (GAN metrics, classifier accuracies):
# "fraction" a fixed [0, 1] range, "count" integer ticks from 0, "log" a log scale (positive
# values spanning decades: divergences, distances, leakage), "r2" [floor, 1] with the floor
# at 0 unless values are negative (clipped at R2_FLOOR). Other names autoscale.
AXIS_KINDS = {
    "high_quality_fraction": "fraction",
    "accuracy": "fraction",
    "train_accuracy": "fraction",
    "eval_accuracy": "fraction",
    "modes_captured": "count",
    "mode_kl": "log",
    "mmd": "log",
    "energy_distance": "log",
    "leakage": "log",
    "leakage_max": "log",
    "g_leakage_penalty": "log",
    "linear_r2_generated": "r2",
    "linear_r2_real": "r2",
}
R2_FLOOR = -1.0  # an R^2 axis reaches no lower: worse fits are off the chart


def _finite(values) -> list[float]:
    """The finite numbers among ``values`` (None, NaN, infinities and non-numbers dropped)."""
    return [
        float(v)
        for v in values
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ]


def grid_shape(n_panels: int, max_columns: int) -> tuple[int, int]:
    """``(rows, columns)`` of a balanced grid for ``n_panels`` panels: as few rows as
    ``max_columns`` allow, then as few columns as fill them, so fewer than ``rows`` cells
    stay empty (7 panels, at most 4 columns: 2 x 4; 5 panels: 2 x 3)."""
    n = max(int(n_panels), 1)
    rows = -(-n // max(int(max_columns), 1))
    return rows, -(-n // rows)


def style_axis(ax, key: str, values=()) -> None:
    """Draw the y-axis of ``ax``, which plots quantity ``key``, as :data:`AXIS_KINDS` says;
    ``values``: every y value the panel shows (data and reference lines), for the ranges
    that depend on them (a count's top, an R^2's floor; a log scale needs one positive
    value, else the axis stays linear)."""
    from matplotlib.ticker import MaxNLocator

    kind = AXIS_KINDS.get(key)
    finite = _finite(values)
    if kind == "fraction":
        ax.set_ylim(0.0, 1.0)
    elif kind == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0.0, max([1.0, *finite]) + 0.5)
    elif kind == "log" and any(v > 0 for v in finite):
        ax.set_yscale("log")
    elif kind == "r2":
        ax.set_ylim(max(R2_FLOOR, min([0.0, *finite])), 1.0)
