"""Specification of the classifier config (``qgan.classify.config``).

Every section forbids unknown keys; any problem is one ``ValueError`` line
``config key <dotted key>: <what was expected>``. Combinations a backend cannot run are
refused at load time: autodiff on sampled readouts, autodiff on IonQ, IonQ without shots,
SPSA gains without SPSA, quantum training options on the classical model.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from qgan.classify.config import (
    ClassifyConfig,
    dump_config,
    load_config,
    parse_config,
)

COMMITTED = ("fashion_mnist_qubit", "digits_qubit", "fashion_mnist_classical")


def with_values(data: dict, changes: dict) -> dict:
    data = copy.deepcopy(data)
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data


@pytest.fixture
def reference(configs_dir) -> dict:
    return yaml.safe_load((configs_dir / "fashion_mnist_qubit.yaml").read_text())


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_configs_are_valid(name, configs_dir):
    cfg = load_config(configs_dir / f"{name}.yaml")
    assert cfg.name == name
    assert cfg.model.kind == ("classical" if name.endswith("classical") else "qubit")


def test_committed_fashion_configs_use_the_packaged_file_offline(configs_dir):
    """The offline default: the 800-image file shipped in the package (no path, not the
    full Keras dataset), so a fresh clone or a pip install runs them with no sibling data."""
    shipped = configs_dir.parent / "qgan" / "classify" / "datasets" / "fashion_mnist_800.npz"
    for name in ("fashion_mnist_qubit", "fashion_mnist_classical"):
        cfg = load_config(configs_dir / f"{name}.yaml")
        assert cfg.data.kind == "fashion_mnist"
        assert cfg.data.path is None and cfg.data.full is False
        assert cfg.data.npz.resolve() == shipped.resolve()
        assert "shared" not in (configs_dir / f"{name}.yaml").read_text()


def test_data_path_resolves_against_the_config_files_folder(tmp_path, monkeypatch):
    """DESIGN.md: config paths resolve relative to the config file; a path given as an
    override (the command line) resolves against the working directory."""
    folder = tmp_path / "experiment"
    folder.mkdir()
    (folder / "run.yaml").write_text("data:\n  kind: fashion_mnist\n  path: images/x.npz\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(folder / "run.yaml")
    assert cfg.data.path == str(folder / "images" / "x.npz")
    cfg = load_config("../experiment/run.yaml")
    assert cfg.data.path == str(folder / "images" / "x.npz")
    cfg = load_config(folder / "run.yaml", {"data.path": "mine.npz"})
    assert cfg.data.path == "mine.npz"  # as the working directory reads it
    absolute = tmp_path / "abs.npz"
    (folder / "abs.yaml").write_text(f"data:\n  path: {absolute}\n")
    assert load_config(folder / "abs.yaml").data.path == str(absolute)


def test_resolved_config_reads_back_the_same_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = parse_config({"data": {"path": "images.npz"}})  # relative to the working directory
    saved = tmp_path / "run" / "config.yaml"
    saved.parent.mkdir()
    saved.write_text(dump_config(cfg))
    assert load_config(saved).data.path == str(tmp_path / "images.npz")


def test_classical_baseline_is_the_keras_tutorial_model(configs_dir):
    cfg = load_config(configs_dir / "fashion_mnist_classical.yaml")
    qubit = load_config(configs_dir / "fashion_mnist_qubit.yaml")
    assert cfg.model.hidden == [128]
    assert cfg.train.epochs == 10
    # the same seeded split as the qubit classifier
    assert cfg.data == qubit.data and cfg.seed == qubit.seed


def test_dump_and_load_round_trip(tmp_path, configs_dir):
    cfg = load_config(configs_dir / "fashion_mnist_qubit.yaml")
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


def test_overrides_use_dotted_keys(configs_dir):
    cfg = load_config(
        configs_dir / "fashion_mnist_qubit.yaml",
        {"train.epochs": 3, "seed": 5, "data.path": "x.npz"},
    )
    assert (cfg.train.epochs, cfg.seed, cfg.data.path) == (3, 5, "x.npz")


def test_ionq_config_with_a_shot_based_gradient_is_valid(reference):
    data = with_values(
        reference,
        {
            "backend": {"kind": "ionq", "target": "qpu.aria-1"},
            "train.gradient": "parameter_shift",
            "train.shots": 100,
        },
    )
    cfg = parse_config(data)
    assert cfg.backend.kind == "ionq" and cfg.backend.options == {"target": "qpu.aria-1"}


def test_spsa_gains_default_to_the_qubit_module(reference):
    from qgan.qubit.gradients import SPSA_DEFAULTS

    cfg = parse_config(with_values(reference, {"train.gradient": "spsa", "train.spsa": {"a": 0.2}}))
    assert cfg.train.spsa.model_dump() == {**SPSA_DEFAULTS, "a": 0.2}


BAD = [
    ("unknown key", {"train.epoch": 3}, "train.epoch"),
    ("unknown section", {"trainer": {}}, "trainer"),
    ("wrong type", {"train.epochs": "many"}, "train.epochs"),
    ("float epochs", {"train.epochs": 2.5}, "train.epochs"),
    ("zero batch", {"train.batch_size": 0}, "train.batch_size"),
    ("negative learning rate", {"train.learning_rate": -0.1}, "train.learning_rate"),
    ("unknown data kind", {"data.kind": "mnist"}, "data.kind"),
    ("path with digits", {"data.kind": "digits", "data.path": "x.npz"}, "data.path"),
    ("full with digits", {"data.kind": "digits", "data.full": True}, "data.full"),
    ("full with a path", {"data.full": True, "data.path": "x.npz"}, "data.full"),
    ("full not a bool", {"data.full": "yes please"}, "data.full"),
    ("validation fraction 1", {"data.validation_fraction": 1.0}, "data.validation_fraction"),
    ("no qubits", {"model.n_qubits": 0}, "model.n_qubits"),
    ("too many qubits", {"model.n_qubits": 21}, "model.n_qubits"),
    ("amplitude encoding", {"model.encoding": "amplitude"}, "model.encoding"),
    ("unknown entangler", {"model.entangler": "cz"}, "model.entangler"),
    ("negative feature scale", {"model.feature_scale": -1.0}, "model.feature_scale"),
    ("unknown gradient", {"train.gradient": "finite_difference"}, "train.gradient"),
    ("autodiff with shots", {"train.shots": 100}, "train.gradient"),
    ("zero shots", {"train.gradient": "spsa", "train.shots": 0}, "train.shots"),
    ("spsa gains without spsa", {"train.spsa": {"a": 0.1}}, "train.spsa"),
    (
        "unknown spsa gain",
        {"train.gradient": "spsa", "train.spsa": {"b": 0.1}},
        "train.spsa.b",
    ),
    (
        "autodiff on ionq",
        {"backend": {"kind": "ionq"}},
        "train.gradient",
    ),
    (
        "ionq without shots",
        {"backend": {"kind": "ionq"}, "train.gradient": "spsa"},
        "train.shots",
    ),
    (
        "bad ionq target",
        {"backend": {"kind": "ionq", "target": "qpu.nowhere"}, "train.shots": None},
        "backend.target",
    ),
    (
        "unknown ionq option",
        {"backend": {"kind": "ionq", "tagret": "simulator"}},
        "backend.tagret",
    ),
    ("ionq option on the simulator", {"backend.target": "simulator"}, "backend.target"),
    (
        "classical model with spsa",
        {"model.kind": "classical", "train.gradient": "spsa"},
        "train.gradient",
    ),
    (
        "classical model on ionq",
        {"model.kind": "classical", "backend.kind": "ionq"},
        "backend.kind",
    ),
    ("bad name", {"name": "a b"}, "name"),
    ("negative seed", {"seed": -1}, "seed"),
]


@pytest.mark.parametrize(("changes", "key"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_is_one_line_naming_the_key(changes, key, reference):
    with pytest.raises(ValueError) as info:
        parse_config(with_values(reference, changes))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"config key {key}:"), message


def test_not_a_mapping_is_an_error():
    with pytest.raises(ValueError, match="mapping"):
        parse_config([1, 2])


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ValueError, match="absent.yaml"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(bad)


def test_defaults_are_a_valid_qubit_run():
    cfg = ClassifyConfig()
    assert cfg.model.kind == "qubit" and cfg.backend.kind == "simulator"
    assert cfg.train.gradient == "autodiff" and cfg.train.shots is None
