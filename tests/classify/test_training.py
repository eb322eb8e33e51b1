"""Specification of ``qgan.classify.classify`` and its run directory.

A run trains on the training split, scores the validation split every epoch and at the
end, and writes ``config.yaml``, ``features.npz``, ``metrics.jsonl`` (one line per epoch),
``metrics.json``, ``checkpoints/final/`` and (with plots) ``confusion.png`` and
``curves.png``. Oracles: scikit-learn's confusion matrix and accuracy, the circuit counts
each gradient method must run (one circuit per row forward, ``2 n_params`` per row for the
parameter shift, 2 per row for SPSA), parameter counts from the architectures, and the
validation split itself written as an evaluation file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from qgan.classify.config import load_config
from qgan.classify.data import SPECS
from qgan.classify.model import build_model, parameter_counts
from qgan.classify.training import (
    classify,
    confusion_matrix,
    evaluate_file,
    load_classifier,
    prepare,
)
from qgan.qubit import QubitLayer


@pytest.fixture
def digits_config(configs_dir, tiny):
    def make(changes=None):
        return load_config(configs_dir / "digits_qubit.yaml", tiny(changes))

    return make


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=60))
def test_confusion_matrix_is_scikit_learns(pairs):
    labels, predicted = np.array(pairs).T
    expected = sk_confusion_matrix(labels, predicted, labels=list(range(10)))
    np.testing.assert_array_equal(confusion_matrix(labels, predicted), expected)


def test_parameter_counts(configs_dir):
    cfg = load_config(configs_dir / "fashion_mnist_qubit.yaml")
    model, circuit = build_model(cfg, (cfg.model.n_qubits,))
    assert isinstance(circuit, QubitLayer)
    n = cfg.model.n_qubits
    quantum = 2 * n * cfg.model.depth  # RY and RZ per qubit per layer
    head = n * 10 + 10  # Dense(10) on the n <Z_q> readouts
    assert parameter_counts(model, circuit) == {
        "quantum": quantum,
        "classical": head,
        "total": quantum + head,
    }
    classical = load_config(configs_dir / "fashion_mnist_classical.yaml")
    model, circuit = build_model(classical, (28, 28))
    assert circuit is None
    tutorial = 784 * 128 + 128 + 128 * 10 + 10
    assert parameter_counts(model, None) == {"quantum": 0, "classical": tutorial, "total": tutorial}


def test_models_map_inputs_to_ten_logits(configs_dir):
    for name, shape in (("digits_qubit", (8,)), ("fashion_mnist_classical", (28, 28))):
        cfg = load_config(configs_dir / f"{name}.yaml")
        model, _ = build_model(cfg, shape)
        x = np.random.default_rng(0).random((5, *shape)).astype(np.float32)
        eager = model(x).numpy()
        graph = tf.function(lambda t, m=model: m(t))(tf.constant(x)).numpy()
        assert eager.shape == (5, 10) and eager.dtype == np.float32
        np.testing.assert_allclose(graph, eager, atol=1e-5)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory, configs_dir):
    """One tiny qubit run on the digits, with the validation split as evaluation file."""
    folder = tmp_path_factory.mktemp("classify")
    overrides = {
        "data.n_samples": 200,
        "model.n_qubits": 4,
        "model.depth": 1,
        "train.epochs": 2,
        "train.batch_size": 32,
        "output.dir": str(folder / "runs"),
    }
    cfg = load_config(configs_dir / "digits_qubit.yaml", overrides)
    parts, _ = prepare(cfg)
    eval_path = folder / "validation.npz"
    # the validation split, back in the dataset's pixel units (digits: 0-16)
    np.savez(
        eval_path,
        images=np.round(parts.validation.images * SPECS["digits"].max_pixel),
        labels=parts.validation.labels,
    )
    result = classify(cfg, evaluate=eval_path, progress=False)
    return {"cfg": cfg, "result": result, "parts": parts, "eval_path": eval_path}


def test_run_directory_layout(digits_run):
    run_dir = digits_run["result"].run_dir
    for name in ("config.yaml", "features.npz", "metrics.jsonl", "metrics.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "checkpoints" / "final" / "ckpt.index").is_file()
    assert (run_dir / "confusion.png").stat().st_size > 0
    assert (run_dir / "curves.png").stat().st_size > 0
    assert load_config(run_dir / "config.yaml") == digits_run["cfg"]
    assert run_dir.name.startswith("digits_qubit-")


def test_metrics_json_holds_the_design_keys(digits_run, classify_metrics):
    result = digits_run["result"]
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert saved == result.metrics
    assert {*classify_metrics, "eval_accuracy"} <= set(saved)
    assert saved["seed"] == 0
    assert saved["n_params"] == {"quantum": 8, "classical": 50, "total": 58}
    parts = digits_run["parts"]
    assert saved["n_train"] == len(parts.train) and saved["n_validation"] == len(parts.validation)
    assert saved["n_train"] + saved["n_validation"] == 200


def test_accuracy_and_confusion_matrix_agree_with_scikit_learn(digits_run):
    """The reported validation accuracy is scikit-learn's accuracy of the trained model's
    predictions, and the confusion matrix is scikit-learn's of the same predictions."""
    result, parts = digits_run["result"], digits_run["parts"]
    predicted = result.classifier.predict(parts.validation.images)
    labels = parts.validation.labels
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    np.testing.assert_array_equal(
        result.metrics["confusion_matrix"],
        sk_confusion_matrix(labels, predicted, labels=list(range(10))),
    )
    train_pred = result.classifier.predict(parts.train.images)
    assert result.metrics["train_accuracy"] == pytest.approx(
        accuracy_score(parts.train.labels, train_pred)
    )


def test_eval_accuracy_of_the_validation_split_is_the_validation_accuracy(digits_run):
    m = digits_run["result"].metrics
    assert m["n_eval"] == m["n_validation"]
    assert m["eval_accuracy"] == pytest.approx(m["accuracy"])
    assert m["eval_confusion_matrix"] == m["confusion_matrix"]
    again = evaluate_file(digits_run["result"].classifier, digits_run["eval_path"])
    assert again["eval_accuracy"] == pytest.approx(m["accuracy"])


def test_history_has_one_line_per_epoch(digits_run):
    result = digits_run["result"]
    lines = (result.run_dir / "metrics.jsonl").read_text().splitlines()
    history = [json.loads(line) for line in lines]
    assert history == result.history
    assert [r["epoch"] for r in history] == [1, 2]
    for r in history:
        assert {"loss", "val_loss", "accuracy", "train_accuracy", "circuits_executed"} <= set(r)
        assert np.isfinite(r["loss"]) and 0 <= r["accuracy"] <= 1


def test_autodiff_runs_one_circuit_per_row(digits_run):
    """Exact autodiff runs no gradient circuits: every circuit is a forward row (each epoch
    the training rows and the validation rows, then both splits once more at the end, then
    the evaluation file)."""
    m = digits_run["result"].metrics
    epochs = digits_run["cfg"].train.epochs
    rows = m["n_train"] + m["n_validation"]
    assert m["circuits_executed"] == epochs * rows + rows + m["n_eval"]
    assert m["shots_executed"] == 0


@pytest.mark.parametrize(
    ("gradient", "shots", "per_row"),
    [("parameter_shift", 20, lambda n_params: 2 * n_params), ("spsa", None, lambda _: 2)],
)
def test_hardware_gradients_count_their_circuits(digits_config, gradient, shots, per_row):
    cfg = digits_config({"train.epochs": 1, "train.gradient": gradient, "train.shots": shots})
    m = classify(cfg, progress=False).metrics
    n_params = m["n_params"]["quantum"]
    forward = 2 * (m["n_train"] + m["n_validation"])  # one epoch, then the final scores
    grad = m["n_train"] * per_row(n_params)
    assert m["circuits_executed"] == forward + grad
    assert m["shots_executed"] == (shots or 0) * (forward + grad)
    assert np.isfinite(m["train_loss"])


def test_spsa_moves_the_angles_by_spalls_gain(digits_config):
    """With SPSA the circuit angles take Spall's plain steps ``-a_k g_k`` (SGD on the
    layer's gain schedule, a_0 = a / (1 + A)**alpha), the head Adam steps."""
    from qgan.classify.training import _optimizers

    cfg = digits_config({"train.gradient": "spsa", "train.spsa": {"a": 0.5, "A": 0.0}})
    _, clf = prepare(cfg)
    groups = _optimizers(cfg, clf)
    (sgd, angles), (adam, head) = groups
    assert isinstance(sgd, tf.keras.optimizers.SGD) and angles == clf.circuit.trainable_variables
    assert isinstance(adam, tf.keras.optimizers.Adam) and len(head) == 2
    assert float(sgd.learning_rate) == pytest.approx(0.5)  # a / (0 + 1 + A)**alpha
    grad = tf.constant(np.full(angles[0].shape, 0.2, np.float32))
    before = angles[0].numpy().copy()
    sgd.apply_gradients([(grad, angles[0])])
    np.testing.assert_allclose(angles[0].numpy() - before, -0.5 * 0.2, atol=1e-6)


def test_same_seed_same_run(digits_config):
    a = classify(digits_config(), progress=False)
    b = classify(digits_config(), progress=False)

    def untimed(history):
        return [{k: v for k, v in r.items() if k != "time_s"} for r in history]

    assert untimed(a.history) == untimed(b.history)
    for key in ("accuracy", "train_accuracy", "confusion_matrix", "circuits_executed"):
        assert a.metrics[key] == b.metrics[key], key


def test_qubit_classifier_learns_the_digits(digits_config):
    """Three times chance after a few epochs on 4 qubits (validation accuracy)."""
    cfg = digits_config({"data.n_samples": 300, "model.depth": 2, "train.epochs": 8})
    m = classify(cfg, progress=False).metrics
    assert m["accuracy"] > 0.3
    assert m["train_loss"] < np.log(10)  # below the loss of a uniform guess


def test_classical_baseline_learns_the_digits(configs_dir, tiny):
    cfg = load_config(
        configs_dir / "fashion_mnist_classical.yaml",
        tiny({"data.kind": "digits", "data.path": None, "data.n_samples": 300, "train.epochs": 3}),
    )
    m = classify(cfg, progress=False).metrics
    assert m["accuracy"] > 0.3
    assert m["circuits_executed"] == 0 and m["shots_executed"] == 0
    assert m["n_params"]["quantum"] == 0 and m["n_params"]["total"] == 64 * 128 + 128 + 1290


def test_pca_of_a_run_is_fitted_on_its_training_split(digits_config):
    cfg = digits_config()
    parts, clf = prepare(cfg)
    flat = parts.train.images.reshape(len(parts.train), -1)
    np.testing.assert_allclose(clf.features.mean, flat.mean(axis=0), atol=1e-6)
    everything = np.concatenate([parts.train.images, parts.validation.images])
    assert not np.allclose(clf.features.mean, everything.reshape(len(everything), -1).mean(0))


def test_load_classifier_restores_the_trained_model(digits_run):
    result, parts = digits_run["result"], digits_run["parts"]
    loaded = load_classifier(result.run_dir)
    np.testing.assert_allclose(
        loaded.logits(parts.validation.images),
        result.classifier.logits(parts.validation.images),
        atol=1e-5,
    )


def _nothing_written(cfg) -> bool:
    from pathlib import Path

    out = Path(cfg.output.dir)
    return not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("images", "labels", "expected"),
    [
        (np.zeros((4, 28, 28)), np.arange(4), "64 pixels per image"),
        (np.full((4, 8, 8), np.nan), np.arange(4), "NaN"),
        (np.zeros((4, 8, 8)), np.arange(3), "labels"),
    ],
    ids=["wrong feature count", "NaN", "label count"],
)
def test_bad_evaluation_file_fails_before_training(
    digits_config, tmp_path, write_npz, images, labels, expected
):
    cfg = digits_config()
    path = write_npz(tmp_path / "bad.npz", images, labels)
    with pytest.raises(ValueError) as info:
        classify(cfg, evaluate=path, progress=False)
    message = str(info.value)
    assert "\n" not in message and message.startswith("evaluation file ")
    assert expected in message
    assert _nothing_written(cfg)


def test_nan_in_the_training_data_fails_before_anything_is_written(
    configs_dir, tiny, tmp_path, write_npz
):
    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28)).astype(np.float64)
    images[7, 3, 3] = np.nan
    path = write_npz(tmp_path / "nan.npz", images, np.arange(40) % 10)
    cfg = load_config(
        configs_dir / "fashion_mnist_qubit.yaml",
        tiny({"data.kind": "fashion_mnist", "data.path": str(path)}),
    )
    with pytest.raises(ValueError, match=r"^data\.path .*NaN") as info:
        classify(cfg, progress=False)
    assert "\n" not in str(info.value)
    assert _nothing_written(cfg)


def test_shared_fashion_file_trains(shared_fashion, configs_dir, tiny):
    """The committed config's offline data: the shared 800-image file."""
    cfg = load_config(
        configs_dir / "fashion_mnist_qubit.yaml",
        tiny(
            {"data.kind": "fashion_mnist", "data.path": str(shared_fashion), "data.n_samples": None}
        ),
    )
    m = classify(cfg, progress=False).metrics
    assert m["n_train"] + m["n_validation"] == 800
    assert m["data_source"] == str(shared_fashion)


def test_output_dir_under_a_file_is_refused_before_anything_is_read(tiny, configs_dir, tmp_path):
    """``classify`` from Python checks ``output.dir`` first (as the CLI does before importing
    TensorFlow): under a regular file it is one ValueError naming the key, and nothing is
    created."""
    from qgan.classify.training import classify

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    cfg = load_config(
        configs_dir / "digits_qubit.yaml", tiny({"output.dir": str(blocker / "runs")})
    )
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=r"output\.dir"):
        classify(cfg, progress=False)
    assert sorted(tmp_path.rglob("*")) == before


# ------------------------------------------------------------------ quantum natural gradient


def _steps_to(history, target: float) -> int:
    """Optimizer steps (full batches: epochs) until the epoch's mean training loss is at or
    below ``target``; one more than the epochs run when it never is."""
    for rec in history:
        if rec["loss"] <= target:
            return rec["epoch"]
    return len(history) + 1


@pytest.mark.slow
def test_qng_takes_fewer_steps_than_gradient_descent_to_a_fixed_loss(digits_config):
    """Stokes et al.'s comparison through the training loop: the same start, the same step
    size 0.5 for the circuit angles (plain gradient descent vs the natural gradient), the
    head all but frozen (Adam at 1e-3) so the angles decide; full batches of 160 digits,
    4 qubits, depth 2, exact expectations. Measured: training loss 2.30 (from 2.319) after
    4 QNG steps against 12 of gradient descent."""
    common = {
        "model.depth": 2,
        "train.batch_size": 200,  # > n_train: one full-batch step per epoch
        "train.epochs": 14,
        "train.learning_rate": 0.001,
        "train.angle_learning_rate": 0.5,
    }
    runs = {
        opt: classify(digits_config({**common, "train.optimizer": opt}), progress=False)
        for opt in ("gd", "qng")
    }
    gd, qng = (runs[k].history for k in ("gd", "qng"))
    assert gd[0]["loss"] == pytest.approx(qng[0]["loss"], abs=1e-6)  # the same first step
    steps = {k: _steps_to(h, 2.30) for k, h in (("gd", gd), ("qng", qng))}
    assert 2 * steps["qng"] < steps["gd"], steps
    assert runs["gd"].metrics["circuits_by_phase"].get("metric/qng") is None
    assert runs["qng"].metrics["qng"]["metric_evaluations"] == 14


@pytest.mark.slow
def test_qng_step_is_the_preconditioned_gradient_step(digits_config):
    """One compiled step with ``optimizer: qng`` moves the angles by exactly
    ``-eta (g + lam I)^-1 grad`` (g measured by the backend's prefix circuits on the batch,
    grad TF's gradient of the batch loss), the head by Adam."""
    from qgan.classify.training import _Ledger, _optimizers, _Qng, _train_step_fn
    from qgan.qubit.qng import reference_metric

    cfg = digits_config({"train.optimizer": "qng", "train.angle_learning_rate": 0.3,
                         "train.qng": {"regularisation": 0.05}})  # fmt: skip
    parts, clf = prepare(cfg)
    x = clf.features(parts.train.images)[:32]
    y = parts.train.labels[:32]
    qng = _Qng(cfg, clf, _Ledger(clf))
    groups = _optimizers(cfg, clf)
    assert isinstance(groups[0][0], tf.keras.optimizers.SGD) and groups[0][1] == [
        clf.circuit.params
    ]
    step = _train_step_fn(clf, groups, x.shape[1:], qng.inverse)
    theta = clf.circuit.params.numpy().astype(np.float64)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, clf.model(tf.constant(x), training=True))
    grad = tape.gradient(loss, clf.circuit.params).numpy().astype(np.float64)
    g = reference_metric(clf.circuit.model, x, theta)
    qng.before_step(x)
    step(tf.constant(x), tf.constant(y, tf.int32))
    expected = theta - 0.3 * np.linalg.solve(g + 0.05 * np.eye(len(theta)), grad)
    np.testing.assert_allclose(clf.circuit.params.numpy(), expected, atol=2e-5)


@pytest.mark.slow
def test_qng_config_trains_and_counts_its_metric_circuits_apart(configs_dir, tiny):
    """configs/digits_qubit_qng.yaml shrunk (4 qubits, depth 1, 2 epochs of 5 batches of
    32): every step measures the metric from the batch's first 16 rows, 2 depth circuits
    each, recorded as ``metric/qng`` beside the parameter shift's circuits."""
    cfg = load_config(configs_dir / "digits_qubit_qng.yaml", tiny())
    assert (cfg.train.optimizer, cfg.train.gradient) == ("qng", "parameter_shift")
    result = classify(cfg, progress=False)
    m = result.metrics
    depth, n_params, rows = 1, m["n_params"]["quantum"], 16
    steps = 2 * -(-m["n_train"] // 32)
    metric = steps * 2 * depth * rows
    assert m["circuits_by_phase"]["metric/qng"]["circuits"] == metric
    assert m["qng"]["metric_circuits"] == metric and m["qng"]["metric_evaluations"] == steps
    forward = 3 * (m["n_train"] + m["n_validation"])  # 2 epochs (train, validate), final scores
    grad = 2 * m["n_train"] * 2 * n_params
    by_phase = m["circuits_by_phase"]
    assert by_phase["forward/parameter_shift"]["circuits"] == forward
    assert by_phase["gradient/parameter_shift"]["circuits"] == grad
    assert m["circuits_executed"] == forward + grad + metric
    assert [h["metric_circuits"] for h in result.history] == [metric // 2] * 2
    assert m["optimizer"] == "qng" and np.isfinite(m["train_loss"])


@pytest.mark.slow
def test_qng_on_the_noisy_rehearsal_counts_metric_shots(configs_dir, tiny):
    cfg = load_config(
        configs_dir / "digits_qubit_qng.yaml",
        tiny({"train.epochs": 1, "train.shots": 100, "train.gradient": "spsa",
              "backend.noise": "aria-1", "train.qng": {"metric_rows": 4}}),
    )  # fmt: skip
    result = classify(cfg, progress=False)
    m, (epoch,) = result.metrics, result.history
    steps = -(-m["n_train"] // 32)
    metric = m["circuits_by_phase"]["metric/qng"]
    assert metric["circuits"] == steps * 2 * 4 and metric["shots"] == 100 * metric["circuits"]
    assert epoch["metric_circuits"] == metric["circuits"]
    forward = m["n_train"] + m["n_validation"]  # the epoch's training and validation rows
    assert epoch["epoch_circuits"] == forward + 2 * m["n_train"] + metric["circuits"]
    assert m["cost_estimate"]["circuits"] == epoch["epoch_circuits"]  # metric circuits priced


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"train.qng": {"metric_every": 2}}, "train.qng"),
        ({"train.angle_learning_rate": 0.1}, "train.angle_learning_rate"),
        ({"train.optimizer": "qng", "train.qng": {"regularisation": -1.0}}, "regularisation"),
        ({"train.optimizer": "qng", "train.qng": {"metric_rows": 0}}, "metric_rows"),
        ({"train.optimizer": "qng", "model.kind": "classical"}, "train.optimizer"),
        # QNG runs on IonQ (its metric's prefix circuits are measured), never exactly
        (
            {"train.optimizer": "qng", "backend.kind": "ionq", "train.gradient": "spsa"},
            "train.shots",
        ),
    ],
)
def test_bad_qng_settings_are_refused_naming_the_key(configs_dir, changes, key):
    with pytest.raises(ValueError, match=key) as err:
        load_config(configs_dir / "digits_qubit.yaml", changes)
    assert "\n" not in str(err.value)
