"""Specification of the ``qgan classify`` verb (and ``scripts/classify.py``).

``qgan classify CONFIG [--evaluate FILE.npz] [--seed N] [--epochs N] [--output-dir D]
[--data-path P] [--quiet|--json]`` trains a classifier and writes its run directory;
``--evaluate`` also scores the trained model on an .npz (arrays ``images``, ``labels``)
and records ``eval_accuracy`` in ``metrics.json``; ``--json`` prints the final record
(with ``run_dir``) as JSON, ``--quiet`` prints only the run directory (one line); a
progress bar is drawn only when stderr is a terminal. Bad input (a bad config,
a wrong feature count, NaN in the data, a gradient method the backend cannot run) is one
line ``qgan classify: error: ...`` on stderr, exit status 2, no traceback, nothing written.

The verb is called in-process through ``qgan.cli.main``; ``scripts/classify.py`` runs in a
subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from commands import run_script

from qgan.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "configs" / "digits_qubit.yaml"
FASHION = ROOT / "configs" / "fashion_mnist_qubit.yaml"


def config_file(folder: Path, source: Path = DIGITS, name: str = "tiny", **changes) -> Path:
    """``source`` shrunk to a run of a second or two, with dotted ``changes``
    (``a__b=value`` sets ``a.b``), written as ``folder/name.yaml``."""
    data = yaml.safe_load(source.read_text())
    data["name"] = name
    data["data"]["n_samples"] = 120
    data["model"].update(n_qubits=4, depth=1)
    data["train"].update(epochs=2, batch_size=32)
    data["output"] = {"dir": str(folder / "unused-default-dir"), "plots": False}
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def fashion_npz(path: Path, n: int = 60, nan: bool = False, size: int = 28) -> Path:
    """``n`` random Fashion-MNIST-shaped images (uint8 0-255 unless ``nan``), labels 0-9."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size)).astype(np.float64 if nan else np.uint8)
    if nan:
        images[1, 2, 3] = np.nan
    np.savez(path, images=images, labels=np.arange(n) % 10)
    return path


def run_cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(map(str, argv)))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    """``qgan classify tiny.yaml --json --epochs 1 --seed 3 --output-dir D --evaluate E``,
    with E the digits file of 30 images."""
    from sklearn.datasets import load_digits

    folder = tmp_path_factory.mktemp("classify-cli")
    config = config_file(folder)
    digits = load_digits()
    eval_path = folder / "eval.npz"
    np.savez(eval_path, images=digits.images[-30:], labels=digits.target[-30:])
    out_dir = folder / "runs"
    argv = ["classify", config, "--json", "--epochs", 1, "--seed", 3, "--output-dir", out_dir]
    code, out, err = run_cli([*argv, "--evaluate", eval_path])
    return {"code": code, "stdout": out, "stderr": err, "out_dir": out_dir, "folder": folder}


def test_json_mode_prints_the_final_record(json_run):
    assert json_run["code"] == 0, json_run["stderr"]
    record = json.loads(json_run["stdout"])  # stdout is exactly one JSON document
    run_dir = Path(record["run_dir"])
    assert run_dir.parent == json_run["out_dir"]
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert {k: v for k, v in record.items() if k != "run_dir"} == saved
    # the verb renders the run's report.md (as qgan train does), from those same metrics
    report = (run_dir / "report.md").read_text()
    assert f"{saved['accuracy']:.4g}" in report
    assert record["n_eval"] == 30 and 0 <= record["eval_accuracy"] <= 1


def test_options_override_the_config(json_run):
    record = json.loads(json_run["stdout"])
    resolved = yaml.safe_load((Path(record["run_dir"]) / "config.yaml").read_text())
    assert resolved["seed"] == 3 and record["seed"] == 3
    assert resolved["train"]["epochs"] == 1 and record["epochs"] == 1
    assert resolved["output"]["dir"] == str(json_run["out_dir"])
    assert not (json_run["folder"] / "unused-default-dir").exists()


def test_summary_mode_prints_the_results(tmp_path):
    """... and, stderr not being a terminal (a StringIO here), no progress bar."""
    config = config_file(tmp_path, **{"train__epochs": 1})
    code, out, err = run_cli(["classify", config, "--output-dir", tmp_path / "runs"])
    assert code == 0, err
    assert "batch/s" not in err and "s/batch" not in err and "%|" not in err, err
    assert "run directory: " in out
    for words in ("validation accuracy", "train accuracy", "parameters", "circuits executed"):
        assert words in out
    assert "quantum 8, classical 50" in out  # 2 * 4 qubits * depth 1; Dense(10) on 4 readouts


def test_data_path_option_replaces_the_file(tmp_path):
    data = fashion_npz(tmp_path / "sixty.npz")
    config = config_file(tmp_path, FASHION, **{"train__epochs": 1})
    code, out, err = run_cli(
        ["classify", config, "--data-path", data, "--json", "--output-dir", tmp_path / "runs"]
    )
    assert code == 0, err
    record = json.loads(out)
    assert record["data_source"] == str(data)
    assert record["n_train"] + record["n_validation"] == 60


@pytest.mark.parametrize(
    ("argv", "quiet"),
    [
        (["--quiet", "classify", "c.yaml"], True),
        (["classify", "c.yaml", "--quiet"], True),
        (["classify", "c.yaml"], False),
    ],
)
def test_quiet_before_or_after_the_verb(argv, quiet):
    assert build_parser().parse_args(argv).quiet is quiet


def test_quiet_prints_only_the_run_directory(tmp_path):
    config = config_file(tmp_path, **{"train__epochs": 1})
    code, out, err = run_cli(["classify", config, "--quiet", "--output-dir", tmp_path / "runs"])
    assert code == 0, err
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert out == f"{run_dir}\n"


# --------------------------------------------------------------------------- bad input

BAD_CONFIGS = [
    ("unknown key", {"train__epoch": 3}, "train.epoch"),
    ("wrong type", {"train__batch_size": "big"}, "train.batch_size"),
    ("autodiff with shots", {"train__shots": 100}, "train.gradient"),
    ("autodiff on ionq", {"backend__kind": "ionq"}, "train.gradient"),
    ("amplitude encoding", {"model__encoding": "amplitude"}, "model.encoding"),
    (
        "ionq without an API key",
        {"backend__kind": "ionq", "train__gradient": "parameter_shift", "train__shots": 100},
        "IONQ_API_KEY",
    ),
]


def _assert_error_line(code, stdout, stderr, key, out_dir):
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("qgan classify: error: ") and stderr.count("\n") == 1, stderr
    assert key in stderr
    assert "Traceback" not in stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


@pytest.mark.parametrize(
    ("changes", "key"), [b[1:] for b in BAD_CONFIGS], ids=[b[0] for b in BAD_CONFIGS]
)
def test_bad_config_is_one_error_line_and_status_2(changes, key, tmp_path, monkeypatch):
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    config = config_file(tmp_path, **changes)
    out_dir = tmp_path / "runs"
    code, out, err = run_cli(["classify", config, "--quiet", "--output-dir", out_dir])
    _assert_error_line(code, out, err, key, out_dir)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: fashion_npz(p / "small.npz", size=27), "784 pixels per image"),
        (lambda p: fashion_npz(p / "nan.npz", nan=True), "NaN"),
        (lambda p: p / "absent.npz", "does not exist"),
    ],
    ids=["wrong feature count", "NaN", "missing file"],
)
def test_bad_data_is_one_error_line(make, expected, tmp_path):
    data = make(tmp_path)
    config = config_file(tmp_path, FASHION)
    out_dir = tmp_path / "runs"
    code, out, err = run_cli(
        ["classify", config, "--data-path", data, "--quiet", "--output-dir", out_dir]
    )
    _assert_error_line(code, out, err, expected, out_dir)
    assert "data.path" in err


def test_bad_evaluation_file_is_one_error_line(tmp_path):
    config = config_file(tmp_path)  # digits: 8x8 images
    bad = fashion_npz(tmp_path / "fashion.npz")
    out_dir = tmp_path / "runs"
    code, out, err = run_cli(
        ["classify", config, "--evaluate", bad, "--quiet", "--output-dir", out_dir]
    )
    _assert_error_line(code, out, err, "64 pixels per image", out_dir)


def test_data_path_with_the_digits_names_the_key(tmp_path):
    config = config_file(tmp_path)
    code, out, err = run_cli(["classify", config, "--data-path", "x.npz", "--quiet"])
    _assert_error_line(code, out, err, "data.path", tmp_path / "runs")


def test_missing_config_file_is_an_error_line(tmp_path):
    code, _, err = run_cli(["classify", tmp_path / "absent.yaml"])
    assert code == 2 and err.startswith("qgan classify: error: ") and "absent.yaml" in err


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--quiet", "--json"]])
def test_bad_options_are_usage_errors(argv, tmp_path):
    config = config_file(tmp_path)
    with pytest.raises(SystemExit) as info, contextlib.redirect_stderr(io.StringIO()):
        main(["classify", str(config), *argv])
    assert info.value.code == 2


# --------------------------------------------------------------------------- script


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_script_classifies_quietly(tmp_path):
    """``scripts/classify.py CONFIG --quiet --output-dir D`` in a fresh interpreter: only
    the run directory on stdout, a finished run directory."""
    config = config_file(tmp_path, name="script", **{"train__epochs": 1})
    out_dir = tmp_path / "runs"
    proc = run_script("classify.py", config, "--quiet", "--output-dir", out_dir, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = out_dir.iterdir()
    assert proc.stdout == f"{run_dir}\n"
    assert run_dir.name.startswith("script-")
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 1
