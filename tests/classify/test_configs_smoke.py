"""Every shipped classifier config in configs/ trains: a smoke run of each, shrunken (few
images and epochs; same model kind, circuit structure, gradient method and data kind),
with the DESIGN keys in its final record.

Classifier configs are those whose ``data.kind`` is a classifier dataset; the GAN
configs beside them are covered by tests/gan/test_configs_smoke.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qgan.classify.config import DATA_KINDS, load_config
from qgan.classify.training import classify

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    p
    for p in (ROOT / "configs").glob("*.yaml")
    if (yaml.safe_load(p.read_text()) or {}).get("data", {}).get("kind") in DATA_KINDS
)


def test_there_are_classifier_configs():
    names = {p.stem for p in CONFIGS}
    assert {"fashion_mnist_qubit", "digits_qubit", "fashion_mnist_classical"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_trains_an_epoch(path, tmp_path, request, classify_metrics):
    raw = yaml.safe_load(path.read_text())
    shrink = {
        "train.epochs": 1,
        "data.n_samples": 120,
        "output.dir": str(tmp_path),
        "output.plots": False,
    }
    if raw["data"].get("path") is not None:  # the shared file, wherever this checkout is
        shrink["data.path"] = str(request.getfixturevalue("shared_fashion"))
    if raw.get("model", {}).get("kind", "qubit") == "qubit":
        shrink["model.depth"] = 1
        shrink["model.feature_groups"] = 1
    cfg = load_config(path, overrides=shrink)
    result = classify(cfg, progress=False)
    m = result.metrics
    assert set(classify_metrics) <= set(m)
    assert m["n_train"] + m["n_validation"] == 120
    assert m["epochs"] == 1 and (result.run_dir / "metrics.json").is_file()
    circuits = cfg.model.kind == "qubit" or (
        cfg.model.kind == "hybrid" and cfg.model.stack == "qubit"
    )
    assert (m["circuits_executed"] > 0) == circuits
    assert {"logistic_regression", "mlp", "gap"} <= set(m["baselines"])  # identical features
    if cfg.model.kind == "hybrid":  # a time per layer, every layer of the model
        assert [t["layer"] for t in m["layer_times"]] == [
            x.name for x in result.classifier.model.layers
        ]
