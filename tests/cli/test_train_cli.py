"""Specification of the ``qgan train`` and ``qgan sample`` verbs (and ``scripts/train.py``).

``qgan train CONFIG [--quiet|--json] [--steps N] [--seed N] [--output-dir D]`` trains and
writes a run directory with ``report.md``; ``--json`` prints the final record (with
``run_dir``) as JSON, ``--quiet`` prints only the run directory (one line); a progress bar
is drawn only when stderr is a terminal. A bad config is one line ``qgan train: error:
...`` on stderr, exit status 2, no traceback and nothing written.

``qgan train --resume RUN_DIR [--steps N]`` continues a run from its last checkpoint with
the run's own config.yaml (a config given beside it, and ``--seed``/``--output-dir``, must
agree with it: a difference is one error line naming the key), to the run's own
``train.steps`` or to ``--steps`` (then recorded in its config.yaml).

``qgan sample RUN_DIR -n N -o FILE [--checkpoint best|final|latest|STEP]`` writes ``N``
points as ``.npy`` or ``.csv`` (header ``x0,x1,...``).

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

from qgan._rundir import read_jsonl
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
    assert "| metric | trained | untrained generator |" in report
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
    assert "config key seed: differs from the run's config.yaml (4 given vs 3)" in err


@pytest.mark.parametrize(
    ("argv", "key", "values"),
    [
        (["--seed", "4"], "seed", "(4 given vs 3)"),
        (["--output-dir", "elsewhere"], "output.dir", "('elsewhere' given vs "),
    ],
)
def test_resume_with_a_differing_override_names_the_key(json_run, argv, key, values):
    """Without a config, the run's config.yaml is the config: an override that differs
    from it is refused before anything is trained or written."""
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    before = sorted(p.name for p in Path(run_dir).rglob("*"))
    code, out, err = run_cli(["train", "--resume", run_dir, *argv])
    assert code == 2 and out == ""
    assert err.startswith("qgan train: error: ") and err.count("\n") == 1
    assert f"config key {key}: differs from the run's config.yaml {values}" in err
    assert "a resumed run keeps its config" in err
    assert sorted(p.name for p in Path(run_dir).rglob("*")) == before


def test_resume_with_a_differing_config_names_the_key(json_run, tmp_path):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    changed = tiny_config_file(tmp_path, **{"train.lr_generator": 0.5})
    code, out, err = run_cli(["train", changed, "--resume", run_dir, "--seed", 3])
    lr = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())["train"]["lr_generator"]
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert (
        f"config key train.lr_generator: differs from the run's config.yaml (0.5 given vs {lr})"
        in err
    )


def test_resume_with_fewer_steps_than_done_is_an_error_line(json_run):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    code, out, err = run_cli(["train", "--resume", run_dir, "--steps", STEPS - 1])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"train.steps {STEPS - 1} is below the step the run has reached ({STEPS})" in err


def test_train_without_config_or_resume_is_an_error_line():
    code, out, err = run_cli(["train"])
    assert code == 2 and out == ""
    assert err.startswith("qgan train: error: ") and "--resume" in err


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
    out = tmp_path / "points.txt"
    code, _, stderr = run_cli(["sample", run_dir, "-n", 4, "-o", out])
    assert code == 2
    assert stderr.startswith("qgan sample: error:") and stderr.count("\n") == 1
    assert "-o/--output" in stderr and ".npy" in stderr and ".csv" in stderr
    assert not out.exists()


def test_sample_csv_holds_the_npy_points(json_run, tmp_path):
    """The same draw as .csv (header ``x0,x1``, one row per point) and as .npy: the CSV's
    values read back as float32 equal the .npy's exactly (9 significant digits)."""
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    for suffix in ("npy", "csv"):
        code, _, stderr = run_cli(["sample", run_dir, "-n", 25, "-o", tmp_path / f"p.{suffix}"])
        assert code == 0, stderr
    text = (tmp_path / "p.csv").read_text()
    assert text.splitlines()[0] == "x0,x1" and len(text.splitlines()) == 26
    from_csv = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, dtype=np.float64)
    np.testing.assert_array_equal(from_csv.astype(np.float32), np.load(tmp_path / "p.npy"))


def points_of_checkpoint(run_dir: Path, path: Path, full: bool, n: int, seed: int):
    """The oracle: a model built from the run's config with the checkpoint at ``path`` read
    directly (``full``: a step checkpoint, the whole training state), ``n`` points."""
    from qgan.gan.config import load_config
    from qgan.gan.training import build

    model, _, _, _ = build(load_config(run_dir / "config.yaml"))
    (model.checkpoint if full else model.weights_checkpoint).read(str(path)).expect_partial()
    return model.generate(n, seed)[0]


@pytest.mark.slow  # several model builds
def test_sample_checkpoint_option_picks_the_weights(json_run, tmp_path):
    """``--checkpoint 3`` samples the step-3 checkpoint, ``best`` checkpoints/best,
    ``final`` checkpoints/final (the default); each equals the points of a model with that
    checkpoint read directly. Steps 3 and 6 hold different weights, so their points
    differ; the run keeps its best weights (``keep_best``), so ``best`` equals ``final``."""
    run_dir = Path(json.loads(json_run["stdout"])["run_dir"])
    folder = run_dir / "checkpoints"
    drawn = {}
    for choice in ("3", "6", "best", "final", None):
        out = tmp_path / f"{choice}.npy"
        extra = [] if choice is None else ["--checkpoint", choice]
        code, _, stderr = run_cli(["sample", run_dir, "-n", 30, "-o", out, "--seed", 5, *extra])
        assert code == 0, stderr
        drawn[choice] = np.load(out)
    oracle = {
        "3": points_of_checkpoint(run_dir, folder / "step-0000003" / "ckpt", True, 30, 5),
        "best": points_of_checkpoint(run_dir, folder / "best" / "ckpt", False, 30, 5),
        "final": points_of_checkpoint(run_dir, folder / "final" / "ckpt", False, 30, 5),
    }
    for choice, points in oracle.items():
        np.testing.assert_array_equal(drawn[choice], points, err_msg=choice)
    np.testing.assert_array_equal(drawn[None], drawn["final"])
    assert not np.array_equal(drawn["3"], drawn["6"])
    np.testing.assert_array_equal(drawn["best"], drawn["final"])


def test_sample_of_a_missing_checkpoint_names_those_that_exist(json_run, tmp_path):
    run_dir = json.loads(json_run["stdout"])["run_dir"]
    out = tmp_path / "p.npy"
    code, _, stderr = run_cli(["sample", run_dir, "-o", out, "--checkpoint", "1"])
    assert code == 2 and stderr.count("\n") == 1
    assert "no '1' checkpoint (checkpoints: final, best, 3, 6)" in stderr
    assert not out.exists()


# --------------------------------------------------------------------------- --resume RUN_DIR

INTERRUPT_AFTER = 4  # past the step-3 checkpoint, before the step-6 one


@pytest.fixture(scope="module")
def interrupted_and_resumed(json_run):
    """``json_run``'s config and overrides trained in-process and interrupted after step 4
    (the on_step pattern of tests/gan/test_training.py), then ``qgan train --resume RUN_DIR
    --quiet``, nothing else."""
    from qgan.gan.config import load_config
    from qgan.gan.training import train

    out_dir = json_run["folder"] / "interrupted"
    overrides = {"train.steps": STEPS, "seed": 3, "output.dir": str(out_dir)}
    cfg = load_config(json_run["config"], overrides)

    def interrupt(step, losses):
        if step == INTERRUPT_AFTER:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, on_step=interrupt)
    (run_dir,) = out_dir.iterdir()
    elapsed = json.loads((run_dir / "checkpoints" / "latest.json").read_text())["elapsed_s"]
    code, out, err = run_cli(["train", "--resume", run_dir, "--quiet"])
    return {"run_dir": run_dir, "code": code, "stdout": out, "stderr": err, "elapsed": elapsed}


@pytest.mark.slow  # over 2 s on 2 cores
def test_resume_needs_only_the_run_directory(json_run, interrupted_and_resumed):
    """The resumed run ends at the run's own step count with the uninterrupted run's
    metrics; ``--quiet`` prints the run directory and nothing else."""
    r = interrupted_and_resumed
    assert r["code"] == 0, r["stderr"]
    assert r["stdout"] == f"{r['run_dir']}\n"
    resumed = json.loads((r["run_dir"] / "metrics.json").read_text())
    original = json.loads(json_run["stdout"])
    for key in ("steps", "metrics", "weights_from_step", "stopped_early", "nonfinite_steps"):
        assert resumed[key] == original[key], key
    assert resumed["wall_time_s"] >= r["elapsed"] > 0.0


@pytest.mark.slow  # trains three more steps
def test_resume_with_steps_trains_on_and_records_them(json_run, tmp_path):
    """``--resume RUN_DIR --steps 9`` on a finished 6-step run trains to step 9 and the
    run's config.yaml says 9; stderr (a StringIO, not a terminal) holds no progress bar."""
    original = json.loads(json_run["stdout"])
    copy = tmp_path / Path(original["run_dir"]).name
    shutil.copytree(original["run_dir"], copy)
    code, out, err = run_cli(["train", "--resume", copy, "--steps", 9])
    assert code == 0, err
    assert out.startswith(f"run directory: {copy}\n")
    assert "step/s" not in err and "s/step" not in err and "%|" not in err, err
    assert json.loads((copy / "metrics.json").read_text())["steps"] == 9
    assert yaml.safe_load((copy / "config.yaml").read_text())["train"]["steps"] == 9
    assert [r["step"] for r in read_jsonl(copy / "metrics.jsonl")] == [3, 6, 9]


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
    """``scripts/train.py CONFIG --quiet --output-dir D`` in a fresh interpreter: only the
    run directory on stdout, a finished run directory with its report."""
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
    (run_dir,) = out_dir.iterdir()
    assert proc.stdout == f"{run_dir}\n"
    assert run_dir.name.startswith("script-")
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 3
    assert (run_dir / "report.md").is_file()
