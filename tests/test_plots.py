"""Specification of ``qgan._plots``: Agg backend, PNGs of the requested size, figures closed,
files written atomically. Oracle: the PNG header (IHDR width and height, big-endian) against
the figure's size in inches times the dots per inch. ``style_axis``: fractions on [0, 1],
counts on integer ticks, log scale where a value is positive, R^2 on [0, 1] extended down
for negative values but not below ``R2_FLOOR``; the axis read back from matplotlib."""

from __future__ import annotations

import struct

import pytest

from qgan._plots import R2_FLOOR, grid_shape, png_bytes, pyplot, save_png, style_axis

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk (the first, at byte 16)."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_backend_is_agg():
    plt = pyplot()
    assert plt.get_backend().lower() == "agg"


@pytest.mark.parametrize(("inches", "dpi"), [((2.0, 1.5), 100), ((3.0, 2.0), 110)])
def test_untrimmed_png_has_the_figure_size_times_dpi(inches, dpi):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=inches)
    ax.plot([0, 1], [0, 1])
    data = png_bytes(fig, dpi=dpi, tight=False)
    assert png_size(data) == (round(inches[0] * dpi), round(inches[1] * dpi))
    assert fig.number not in plt.get_fignums()  # closed: a long sweep must not leak figures


def test_tight_png_is_cropped_to_the_content():
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.0, 4.0))
    ax.set_axis_off()
    ax.text(0.5, 0.5, "x", fontsize=10)
    width, height = png_size(png_bytes(fig, dpi=100))
    assert width < 400 and height < 400


def test_save_png_replaces_the_file_atomically(tmp_path):
    plt = pyplot()
    path = tmp_path / "sub" / "a.png"
    for size in ((1.0, 1.0), (2.0, 1.0)):
        fig = plt.figure(figsize=size)
        assert save_png(fig, path, dpi=50, tight=False) == path
    assert png_size(path.read_bytes()) == (100, 50)
    assert [p.name for p in path.parent.iterdir()] == ["a.png"]  # no temporary left behind


def test_a_failing_render_closes_the_figure_and_writes_nothing(tmp_path):
    plt = pyplot()
    fig = plt.figure()
    with pytest.raises(ValueError):
        save_png(fig, tmp_path / "b.png", dpi=-1)
    assert fig.number not in plt.get_fignums()
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- style_axis


def styled(key, values):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot(range(len(values)), values)
    style_axis(ax, key, values)
    return fig, ax


def test_fractions_have_the_fixed_unit_range_whatever_the_values():
    fig, ax = styled("high_quality_fraction", [0.9996, 1.0])
    assert ax.get_ylim() == (0.0, 1.0)
    pyplot().close(fig)


def test_counts_have_integer_ticks_from_zero():
    fig, ax = styled("modes_captured", [3, 7, 8])
    low, high = ax.get_ylim()
    assert low == 0.0 and high >= 8
    assert all(float(t).is_integer() for t in ax.get_yticks() if low <= t <= high)
    pyplot().close(fig)


def test_log_scale_needs_a_positive_value():
    fig, ax = styled("mmd", [0.1, 0.001, -1e-5])  # an unbiased MMD estimate can dip below 0
    assert ax.get_yscale() == "log"
    pyplot().close(fig)
    fig, ax = styled("mmd", [0.0, -1e-5])
    assert ax.get_yscale() == "linear"
    pyplot().close(fig)


def test_r2_range_is_unit_unless_negative_and_floored():
    for values, low in (([0.2, 0.9], 0.0), ([-0.4, 0.9], -0.4), ([-30.0, 0.5], R2_FLOOR)):
        fig, ax = styled("linear_r2_generated", values)
        assert ax.get_ylim() == (low, 1.0), values
        pyplot().close(fig)


def test_unknown_quantities_autoscale():
    fig, ax = styled("g_adversarial", [0.5, 0.7])
    assert ax.get_yscale() == "linear" and ax.get_autoscaley_on()
    pyplot().close(fig)


@pytest.mark.parametrize(
    ("panels", "shape"),
    [(1, (1, 1)), (3, (1, 3)), (4, (1, 4)), (5, (2, 3)), (7, (2, 4)), (9, (3, 3)), (13, (4, 4))],
)
def test_grid_shape_is_balanced(panels, shape):
    """As few rows as 4 columns allow, then as few columns as fill them: fewer than ``rows``
    empty cells."""
    rows, columns = grid_shape(panels, 4)
    assert (rows, columns) == shape
    assert columns <= 4 and 0 <= rows * columns - panels < rows
