"""Classical baselines on a classifier run's own features: logistic regression and an MLP.

A quantum classifier is only worth its circuits against classical models trained on the
IDENTICAL inputs (Bowles, Ahmed and Schuld, "Better than classical? The subtle art of
benchmarking quantum machine learning models", 2024). :func:`baselines` fits, on the exact
feature rows the run's model trains on (the same PCA features, train/validation split and
seed):

* ``logistic_regression``: scikit-learn's multinomial ``LogisticRegression`` (L2, C = 1,
  lbfgs), ``10 (F + 1)`` parameters for F features;
* ``mlp``: scikit-learn's ``MLPClassifier`` with one ReLU hidden layer of width ``h``
  chosen so that its parameter count ``h (F + 11) + 10`` is the closest to the run's
  trainable parameters (at least 1), Adam, ``random_state = seed``.

The ``gap`` is the run's validation accuracy minus the best baseline's (negative: the
classical model on the same features is better).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

log = logging.getLogger("qgan.classify")
MAX_ITER = 1000  # iterations of either solver (PCA features converge well within this)


def mlp_width(n_features: int, n_params: int, n_classes: int = 10) -> int:
    """Hidden width h of a one-hidden-layer MLP with about ``n_params`` parameters:
    ``h (n_features + 1) + (h + 1) n_classes``, rounded, at least 1."""
    per_unit = n_features + 1 + n_classes
    return max(1, int(round((n_params - n_classes) / per_unit)))


def baselines(x_train, y_train, x_val, y_val, n_params: int, accuracy: float, seed: int) -> dict:
    """Fit both baselines on ``x_train`` [N, ...] (flattened to [N, F]) and score them on
    ``x_val``; returns ``{"logistic_regression": {accuracy, train_accuracy, n_params},
    "mlp": {accuracy, train_accuracy, n_params, hidden}, "best": name, "gap": accuracy -
    best accuracy}`` (accuracies as fractions)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    xt = np.asarray(x_train, np.float64).reshape(len(x_train), -1)
    xv = np.asarray(x_val, np.float64).reshape(len(x_val), -1)
    n_features, n_classes = xt.shape[1], 10
    hidden = mlp_width(n_features, n_params, n_classes)
    models = {
        "logistic_regression": (
            LogisticRegression(max_iter=MAX_ITER),
            n_classes * (n_features + 1),
        ),
        "mlp": (
            MLPClassifier((hidden,), max_iter=MAX_ITER, random_state=seed),
            hidden * (n_features + 1) + (hidden + 1) * n_classes,
        ),
    }
    out: dict = {}
    for name, (model, params) in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(xt, y_train)
        out[name] = {
            "accuracy": float(model.score(xv, y_val)),
            "train_accuracy": float(model.score(xt, y_train)),
            "n_params": int(params),
        }
    out["mlp"]["hidden"] = hidden
    best = max(("logistic_regression", "mlp"), key=lambda k: out[k]["accuracy"])
    out["best"] = best
    out["gap"] = float(accuracy) - out[best]["accuracy"]
    log.info(
        "baselines on the same features: logistic regression %.3f, MLP(%d) %.3f; gap %+.3f",
        out["logistic_regression"]["accuracy"],
        hidden,
        out["mlp"]["accuracy"],
        out["gap"],
    )
    return out
