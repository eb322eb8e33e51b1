"""Specification of ``qgan.classify.plots``: figures inspected before saving. The confusion
heat map shows the matrix itself (its image data) with each non-zero count written in; the
training curves plot each logged series against the epoch, accuracy on a fixed [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from qgan._plots import pyplot
from qgan.classify.plots import confusion_figure, curves_figure, training_curves


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close("all")


def test_confusion_figure_shows_the_matrix_and_its_counts():
    matrix = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    ax = confusion_figure(matrix, ["a", "b", "c"], title="t").axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), matrix)
    written = sorted(int(t.get_text()) for t in ax.texts)
    assert written == sorted(int(v) for v in matrix.ravel() if v)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


HISTORY = [
    {"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "train_accuracy": a, "accuracy": a - 0.01}
    for e, a in ((1, 0.9991), (2, 0.9995), (3, 0.9998))
]


def test_curves_figure_plots_each_series_with_accuracy_on_the_unit_range():
    ax_loss, ax_acc = curves_figure(HISTORY).axes
    assert ax_acc.get_ylim() == (0.0, 1.0)
    by_label = {line.get_label(): line for line in ax_acc.get_lines()}
    np.testing.assert_array_equal(
        by_label["validation"].get_ydata(), [r["accuracy"] for r in HISTORY]
    )
    np.testing.assert_array_equal(by_label["train"].get_xdata(), [1, 2, 3])
    assert len(ax_loss.get_lines()) == 2


def test_training_curves_writes_a_png(tmp_path):
    path = training_curves(tmp_path / "curves.png", HISTORY)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
