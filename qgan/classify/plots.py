"""Classifier run plots: confusion matrix and training curves.

``*_figure`` functions build a matplotlib ``Figure`` (inspectable before saving); the
writers save one as a PNG atomically (:func:`qgan._plots.save_png`) and return its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qgan._plots import pyplot, save_png, style_axis


def confusion_matrix(path, matrix, class_names, title: str = "") -> Path:
    """Write :func:`confusion_figure` to ``path``; returns the path."""
    return save_png(confusion_figure(matrix, class_names, title), path)


def training_curves(path, history: list[dict], title: str = "") -> Path:
    """Write :func:`curves_figure` to ``path``; returns the path."""
    return save_png(curves_figure(history, title), path)


def confusion_figure(matrix, class_names, title: str = ""):
    """Counts ``matrix[true, predicted]`` as a heat map with the counts written in."""
    plt = pyplot()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(m, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = m.max() / 2 if m.size else 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                color = "white" if m[i, j] > threshold else "black"
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_title(title, fontsize=9)
    return fig


def curves_figure(history: list[dict], title: str = ""):
    """Loss and accuracy per epoch of ``metrics.jsonl`` records, training (running mean
    over the epoch's batches) and validation; accuracy on a fixed [0, 1] range."""
    plt = pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [r["loss"] for r in history], label="train")
    ax_loss.plot(epochs, [r["val_loss"] for r in history], label="validation")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.legend(fontsize=8)
    ax_acc.plot(epochs, [r["train_accuracy"] for r in history], label="train")
    ax_acc.plot(epochs, [r["accuracy"] for r in history], label="validation")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    style_axis(ax_acc, "accuracy")
    ax_acc.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig
