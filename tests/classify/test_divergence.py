"""Specification of a classifier run that diverges (issue 14, item 6).

* A training step whose loss, gradient or updated weights hold a NaN or inf is undone in
  the compiled step: the weights are exactly those before it (oracle: a copy taken before
  the step), and the run stops there.
* A run whose final training loss (whole training split, final weights) is above
  ``2 ln 10`` = 4.61, twice the cross-entropy of a uniform guess, has diverged although its
  weights are finite (Adam at a learning rate of 1e4).
* A diverged run writes its run directory with the last finite weights in
  ``checkpoints/final`` (oracle: the checkpoint files read back with
  ``tf.train.load_checkpoint``) and ``"diverged": true`` in a strict-JSON ``metrics.json``,
  then raises one line, ``training diverged at epoch E (loss L): lower
  train.learning_rate, e.g. X ...``; ``qgan classify`` prints it as its only stderr line
  and exits non-zero.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow as tf
import yaml

from qgan.classify.config import load_config
from qgan.classify.training import (
    TrainingDiverged,
    _optimizers,
    _train_step_fn,
    classify,
    diverged_loss,
    load_classifier,
    prepare,
)

MESSAGE = r"^training diverged at epoch \d+ \(loss [^)]+\): lower train\.learning_rate, e\.g\. "


def _config(configs_dir, tiny, model: str, changes=None):
    """A tiny digits run of the qubit or the classical model."""
    name = "digits_qubit" if model == "qubit" else "fashion_mnist_classical"
    extra = {} if model == "qubit" else {"data.kind": "digits", "data.path": None}
    return load_config(configs_dir / f"{name}.yaml", tiny({**extra, **(changes or {})}))


def _with_learning_rate(cfg, rate: float):
    """``cfg`` with ``train.learning_rate`` set past the validation (which may bound it)."""
    return cfg.model_copy(update={"train": cfg.train.model_copy(update={"learning_rate": rate})})


def _strict_json(path):
    """The JSON file at ``path``; NaN and Infinity (not JSON) fail."""

    def refuse(name):
        raise ValueError(f"{path}: {name} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def _checkpoint_is_finite(run_dir) -> bool:
    """Every float tensor of ``checkpoints/final`` is finite (read from the files)."""
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "final" / "ckpt"))
    values = [
        reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        if key.startswith("model/")
    ]
    floats = [v for v in values if np.issubdtype(np.asarray(v).dtype, np.floating)]
    assert floats, "no weights in the checkpoint"
    return all(np.all(np.isfinite(v)) for v in floats)


def test_the_divergence_threshold_is_twice_a_uniform_guess():
    assert diverged_loss(10) == pytest.approx(2 * math.log(10), rel=1e-12)
    assert diverged_loss() == pytest.approx(4.6052, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_a_non_finite_step_is_undone(configs_dir, tiny, bad):
    """A batch holding NaN (or inf) gives a non-finite loss: the step reports it and every
    weight (circuit angles and head) is bit-for-bit the one before the step."""
    cfg = _config(configs_dir, tiny, "qubit")
    parts, clf = prepare(cfg)
    groups = _optimizers(cfg, clf)
    x = clf.features(parts.train.images[:8])
    y = parts.train.labels[:8].astype(np.int32)
    step = _train_step_fn(clf, groups, x.shape[1:])
    loss, _, finite = step(tf.constant(x), tf.constant(y))  # a good step moves the weights
    assert bool(finite) and np.isfinite(float(loss))
    before = [v.numpy().copy() for v in clf.model.trainable_variables]
    x_bad = x.copy()
    x_bad[3, 0] = float(bad)
    loss, _, finite = step(tf.constant(x_bad), tf.constant(y))
    assert not bool(finite) and not np.isfinite(float(loss))
    for old, v in zip(before, clf.model.trainable_variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), old, err_msg=v.name)
    loss, _, finite = step(tf.constant(x), tf.constant(y))  # and training can go on
    assert bool(finite)


@pytest.mark.slow
def test_a_run_that_overflows_keeps_the_last_finite_weights(configs_dir, tiny):
    """Adam at 1e30 moves every weight by about 1e30 in the first step; the next step's
    logits overflow float32: the run stops in epoch 1 with finite weights saved."""
    cfg = _with_learning_rate(_config(configs_dir, tiny, "classical"), 1e30)
    with pytest.raises(TrainingDiverged, match=MESSAGE) as info:
        classify(cfg, progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("training diverged at epoch 1 (loss ")
    assert "e.g. 0.02 " in message  # a tenth of the rate, at most the default 0.02
    run_dir = info.value.run_dir
    assert str(run_dir) in message
    metrics = _strict_json(run_dir / "metrics.json")
    assert metrics["diverged"] is True and metrics["diverged_epoch"] == 1
    assert _checkpoint_is_finite(run_dir)
    # finite weights of about 1e30: readable, though their logits overflow
    loaded = load_classifier(run_dir)
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "final" / "ckpt"))
    kernel = loaded.model.trainable_variables[0].numpy()  # Dense(128) on the 64 pixels
    saved = [
        reader.get_tensor(key)
        for key, shape in reader.get_variable_to_shape_map().items()
        if key.startswith("model/") and tuple(shape) == kernel.shape
    ]
    assert len(saved) == 1
    np.testing.assert_array_equal(kernel, saved[0])
    assert 1e29 < np.abs(kernel).max() < 1e31


@pytest.mark.slow
@pytest.mark.parametrize("model", ["qubit", "classical"])
def test_learning_rate_1e4_is_reported_as_diverged(configs_dir, tiny, model):
    """Today's 'finishes at chance': Adam at 1e4 for two epochs. Qubit: the loss is about
    3e4 (finite, the angles are periodic); classical: about 5e8 or non-finite."""
    cfg = _config(configs_dir, tiny, model, {"train.learning_rate": 1e4})
    with pytest.raises(TrainingDiverged, match=MESSAGE) as info:
        classify(cfg, progress=False)
    assert "\n" not in str(info.value) and "e.g. 0.02 " in str(info.value)
    run_dir = info.value.run_dir
    metrics = _strict_json(run_dir / "metrics.json")
    assert metrics["diverged"] is True
    loss = metrics["diverged_loss"]
    assert loss in ("nan", "inf") or loss > diverged_loss()
    assert _checkpoint_is_finite(run_dir)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["qubit", "classical"])
def test_a_normal_run_does_not_diverge(configs_dir, tiny, model):
    m = classify(_config(configs_dir, tiny, model), progress=False).metrics
    assert "diverged" not in m
    assert m["train_loss"] <= diverged_loss()


@pytest.mark.slow
def test_cli_prints_one_line_and_fails(configs_dir, tmp_path, capsys):
    from qgan.cli import main

    raw = yaml.safe_load((configs_dir / "digits_qubit.yaml").read_text())
    raw["data"]["n_samples"] = 200
    raw["model"].update(n_qubits=4, depth=1)
    raw["train"].update(epochs=2, batch_size=32, learning_rate=1e4)
    raw["output"] = {"dir": str(tmp_path / "runs"), "plots": False}
    path = tmp_path / "lr1e4.yaml"
    path.write_text(yaml.safe_dump(raw))
    code = main(["classify", str(path)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("qgan classify: error: training diverged at epoch 2 (loss ")
    assert "lower train.learning_rate, e.g. 0.02" in lines[0]
