"""Figures: matplotlib on the Agg backend, PNGs rendered in memory and written atomically.

The one place figures are saved. Callers draw with :func:`pyplot` and hand the figure to
:func:`save_png` (a file, replaced in one step: a reader never sees half a PNG) or
:func:`png_bytes` (the bytes, for callers that write several files of one report).
matplotlib is imported on first use: it is slow to import and most commands draw nothing.
"""

from __future__ import annotations

import io
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
