"""Specification of the ``qgan train`` and ``qgan sample`` verbs (and ``scripts/train.py``).

``qgan train CONFIG [--resume RUN_DIR] [--quiet|--json] [--steps N] [--seed N]
[--output-dir D]`` trains and writes a run directory with ``report.md``; ``--json`` prints
the final record (with ``run_dir``) as JSON, ``--quiet`` prints nothing on stdout. A bad
config is one line ``qgan train: error: ...`` on stderr, exit status 2, no traceback and
nothing written. ``qgan sample RUN_DIR -n N -o out.npy`` writes ``N`` points.

The verbs are called in-process through ``qgan.cli.main`` (what the ``qgan`` entry point
runs); ``scripts/train.py`` runs in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from commands import run_script

from qgan.cli import build_parser, main
from qgan.reports.run import render_run_report

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "configs" / "bimodal.yaml"
STEPS = 6  # --steps override of the tiny config's 12


def tiny_config_file(folder: Path, name: str = "tiny", **changes) -> Path:
    """configs/bimodal.yaml shrunk to a few seconds of training, written as ``name``.yaml."""
    data = yaml.safe_load(REFERENCE.read_text())
    data["name"] = name
    data["generator"].update(n_modes=2, cutoff=3, n_layers=1, latent_dim=2, sample_modes=[0])
    data["train"].update(steps=12, batch_size=32, eval_every=3, checkpoint_every=3, eval_samples=64)
    data["data"]["n_samples"] = 500
    data["output"]["dir"] = str(folder / "unused-default-dir")
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(map(str, argv)))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    """``qgan train tiny.yaml --json --steps 6 --seed 3 --output-dir D``."""
    folder = tmp_path_factory.mktemp("cli")
    config = tiny_config_file(folder)
    out_dir = folder / "runs"
    code, out, err = run_cli(
        ["train", config, "--json", "--steps", STEPS, "--seed", 3, "--output-dir", out_dir]
    )
    return {
        "code": code,
        "stdout": out,
        "stderr": err,
        "out_dir": out_dir,
        "folder": folder,
        "config": config,
    }


# --------------------------------------------------------------------------- qgan train


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_json_mode_prints_the_final_record(json_run):
    assert json_run["code"] == 0, json_run["stderr"]
    record = json.loads(json_run["stdout"])  # stdout is exactly one JSON document
    run_dir = Path(record["run_dir"])
    assert run_dir.parent == json_run["out_dir"]
    assert record["steps"] == STEPS and record["seed"] == 3
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert {k: v for k, v in record.items() if k != "run_dir"} == saved


def test_options_override_the_config(json_run):
    run_dir = Path(json.loads(json_run["stdout"])["run_dir"])
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["train"]["steps"] == STEPS
    assert resolved["seed"] == 3
    assert resolved["output"]["dir"] == str(json_run["out_dir"])
    assert not (json_run["folder"] / "unused-default-dir").exists()


def test_train_writes_the_report(json_run):
    """``report.md`` is the run report of the finished run (its content is specified in
    tests/reports/test_run_report.py), with the metrics table."""
    run_dir = Path(json.loads(json_run["stdout"])["run_dir"])
    report = (run_dir / "report.md").read_text()
    assert report == render_run_report(run_dir)
    assert "| metric | value |" in report
    value = json.loads((run_dir / "metrics.json").read_text())["metrics"]["modes_captured"]
    assert f"| modes captured | {value} |" in report


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_resume_of_a_finished_run_reproduces_its_final_record(json_run, tmp_path):
    """``--resume`` continues from the run's last checkpoint; a finished run has nothing left
    to train, so its final evaluation is redone from the restored state and gives the same
    record. The run directory is given, so the config's own output.dir does not matter."""
    original = json.loads(json_run["stdout"])
    copy = tmp_path / Path(original["run_dir"]).name
    shutil.copytree(original["run_dir"], copy)
    code, out, err = run_cli(
        ["train", json_run["config"], "--json", "--steps", STEPS, "--seed", 3, "--resume", copy]
    )
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["run_dir"] == str(copy)
    for key in ("steps", "metrics", "weights_from_step", "checkpoint"):
        assert resumed[key] == original[key], key
    assert (copy / "metrics.jsonl").read_text() == (
        Path(original["run_dir"]) / "metrics.jsonl"
    ).read_text()
    assert not (json_run["folder"] / "unused-default-dir").exists()


def test_resume_with_another_seed_is_an_error_line(json_run, tmp_path):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    code, out, err = run_cli(["train", json_run["config"], "--resume", run_dir, "--seed", 4])
    assert code == 2 and out == ""
    assert err.startswith("qgan train: error: ") and err.count("\n") == 1 and run_dir in err


@pytest.mark.parametrize(
    ("argv", "quiet"),
    [
        (["--quiet", "train", "c.yaml"], True),
        (["train", "c.yaml", "--quiet"], True),
        (["train", "c.yaml"], False),
        (["--quiet", "sample", "run", "-o", "x.npy"], True),
        (["sample", "run", "-o", "x.npy", "--quiet"], True),
    ],
)
def test_quiet_before_or_after_the_verb(argv, quiet):
    assert build_parser().parse_args(argv).quiet is quiet


def test_sample_verb_writes_npy(json_run, tmp_path):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    out = tmp_path / "points.npy"
    code, stdout, stderr = run_cli(["sample", run_dir, "-n", 40, "-o", out])
    assert code == 0, stderr
    points = np.load(out)
    assert points.shape == (40, 2) and points.dtype == np.float32
    assert np.all(np.isfinite(points))
    assert "40" in stdout


def test_sample_verb_refuses_other_suffixes(json_run, tmp_path):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    out = tmp_path / "points.csv"
    code, _, stderr = run_cli(["sample", run_dir, "-n", 4, "-o", out])
    assert code == 2
    assert stderr.startswith("qgan sample: error:") and stderr.count("\n") == 1
    assert not out.exists()


# --------------------------------------------------------------------------- config errors

BAD = [
    ("unknown key", {"train.batch_sze": 64}, "train.batch_sze"),
    ("wrong type", {"train.steps": "many"}, "train.steps"),
    ("negative steps", {"train.steps": -3}, "train.steps"),
    ("batch not a multiple of pack", {"discriminator.pack": 3}, "train.batch_size"),
    (
        "mode_assignment without an outcome readout",
        {"generator.readout": ["quadratures"], "train.outcome_gradient": "straight_through"},
        "decoder.kind",
    ),
    ("sample mode out of range", {"generator.sample_modes": [2]}, "generator.sample_modes"),
    ("mixture without centers", {"data.kind": "gaussian_mixture", "data.std": 0.1}, "data.centers"),
]


@pytest.mark.parametrize(("changes", "key"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_is_one_error_line_and_status_2(changes, key, tmp_path):
    config = tiny_config_file(tmp_path, **changes)
    out_dir = tmp_path / "runs"
    code, stdout, stderr = run_cli(["train", config, "--quiet", "--output-dir", out_dir])
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("qgan train: error: ") and stderr.count("\n") == 1, stderr
    assert key in stderr
    assert "Traceback" not in stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_missing_config_file_is_an_error_line(tmp_path):
    code, _, stderr = run_cli(["train", tmp_path / "absent.yaml"])
    assert code == 2 and stderr.startswith("qgan train: error: ") and "absent.yaml" in stderr


def test_resume_of_a_non_run_directory_is_an_error_line(tmp_path):
    config = tiny_config_file(tmp_path)
    code, _, stderr = run_cli(["train", config, "--resume", tmp_path, "--quiet"])
    assert code == 2 and stderr.startswith("qgan train: error: ") and str(tmp_path) in stderr


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--quiet", "--json"]])
def test_bad_options_are_usage_errors(argv, tmp_path):
    config = tiny_config_file(tmp_path)
    with pytest.raises(SystemExit) as info, contextlib.redirect_stderr(io.StringIO()):
        main(["train", str(config), *argv])
    assert info.value.code == 2


# --------------------------------------------------------------------------- scripts/train.py


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_script_trains_quietly(tmp_path):
    """``scripts/train.py CONFIG --quiet --output-dir D`` in a fresh interpreter: nothing on
    stdout, a finished run directory with its report."""
    config = tiny_config_file(  # the classical ablation: the cheapest graph to trace
        tmp_path,
        "script",
        **{
            "train.steps": 3,
            "generator.kind": "classical",
            "generator.n_outcomes": 2,
            "generator.hidden": [8],
        },
    )
    out_dir = tmp_path / "runs"
    proc = run_script("train.py", config, "--quiet", "--output-dir", out_dir, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == ""
    (run_dir,) = out_dir.iterdir()
    assert run_dir.name.startswith("script-")
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 3
    assert (run_dir / "report.md").is_file()
