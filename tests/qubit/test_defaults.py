"""One set of qubit circuit structure defaults (``qgan.qubit.defaults``).

``QubitModel``, ``QubitLayer`` and the classifier config's ``model`` section must default
to the same circuit: read from their signatures / pydantic fields, not from the module.
The ``qgan ionq`` structure options default to it too (no CONFIG, no options).
"""

from __future__ import annotations

import dataclasses
import inspect

from qgan.classify.config import ModelConfig
from qgan.qubit import QubitLayer, QubitModel
from qgan.qubit.defaults import STRUCTURE_DEFAULTS

KEYS = ("n_qubits", "depth", "encoding", "entangler", "topology", "measurement")


def test_the_defaults_are_the_shipped_classifier_circuit():
    assert tuple(STRUCTURE_DEFAULTS) == KEYS
    assert STRUCTURE_DEFAULTS == {
        "n_qubits": 8,
        "depth": 4,
        "encoding": "reupload",
        "entangler": "cnot",
        "topology": "ring",
        "measurement": "z",
    }


def test_model_layer_and_config_defaults_agree():
    model = {f.name: f.default for f in dataclasses.fields(QubitModel)}
    params = inspect.signature(QubitLayer.__init__).parameters
    layer = {k: params[k].default for k in KEYS}
    config = {k: ModelConfig.model_fields[k].default for k in KEYS}
    assert {k: model[k] for k in KEYS} == STRUCTURE_DEFAULTS
    assert layer == STRUCTURE_DEFAULTS
    assert config == STRUCTURE_DEFAULTS


def test_default_instances_are_one_circuit():
    """What each builds with no arguments: one structure."""
    assert QubitModel() == QubitLayer().model
    cfg = ModelConfig()
    assert QubitModel(**{k: getattr(cfg, k) for k in KEYS}) == QubitModel()


def test_layer_keywords_at_their_default_do_not_conflict_with_a_model():
    """A model given with the keywords at their defaults is taken as is; a keyword that
    differs from both is refused."""
    model = QubitModel(3, 2, "angle", "ms", "linear", "parity")
    assert QubitLayer(model).model == model
    assert QubitLayer(model, n_qubits=3).model == model


def test_shipped_qubit_configs_set_their_structure_explicitly():
    """A change of the defaults cannot change a shipped config's circuit: each names every
    structure key in its YAML."""
    from pathlib import Path

    import yaml

    configs = Path(__file__).resolve().parents[2] / "configs"
    shipped = sorted(configs.glob("*qubit*.yaml"))
    assert shipped
    for path in shipped:
        data = yaml.safe_load(path.read_text())
        if "model" in data:
            model, keys = data["model"], set(KEYS)
        else:  # a GAN config with a qubit discriminator (always re-uploading)
            model, keys = data["discriminator"], set(KEYS) - {"encoding"}
        assert keys <= set(model), f"{path.name} leaves {keys - set(model)} default"
