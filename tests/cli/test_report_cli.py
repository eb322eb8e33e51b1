"""Specification of the ``qgan report`` verb (and ``scripts/report.py``).

``qgan report RUN_DIR...`` re-renders each finished run's ``report.md`` from its files and
prints the paths; ``qgan report --compare RUN_DIR RUN_DIR... [--out PATH]`` writes one
comparison (Markdown, PNG, JSON; default ``reports/compare_<names>.md``) and prints its path.
A folder that is not a run, or an unfinished run, is one line ``qgan report: error: ...``
naming it on stderr, exit status 2, and nothing is written. The verb runs in-process
through ``qgan.cli.main``; the script through ``runpy`` (a fresh ``__main__``).
"""

from __future__ import annotations

import contextlib
import io
import runpy
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from qgan.cli import main
from qgan.reports.compare import read_runs, render_comparison
from qgan.reports.run import render_run_report

ROOT = Path(__file__).resolve().parents[2]
# the classical ablation of configs/bimodal.yaml for a few steps: the cheapest real GAN run
TINY = {
    "name": "tiny",
    "generator.kind": "classical",
    "generator.n_outcomes": 2,
    "generator.hidden": [8],
    "train.steps": 3,
    "train.batch_size": 32,
    "train.eval_every": 3,
    "train.checkpoint_every": 3,
    "train.eval_samples": 64,
    "data.n_samples": 300,
}


def run_cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(map(str, argv)))
    return code, out.getvalue(), err.getvalue()


def assert_error_line(code, out, err, *named):
    assert code == 2 and out == ""
    assert err.startswith("qgan report: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for text in named:
        assert str(text) in err, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """A finished tiny GAN run and a copy whose config says batch size + 32 and seed + 5 (a
    second run of the same kind for --compare; the report reads only the files). The run
    is the classical ablation: its resolved config has no circuit keys such as cutoff."""
    from qgan.gan.config import load_config
    from qgan.gan.training import train

    out = tmp_path_factory.mktemp("runs")
    cfg = load_config(ROOT / "configs" / "bimodal.yaml", overrides={**TINY, "output.dir": str(out)})
    first = train(cfg, progress=False).run_dir
    second = out / "tiny-copy"
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("checkpoints", "tensorboard"))
    data = yaml.safe_load((second / "config.yaml").read_text())
    data["seed"] += 5
    data["train"]["batch_size"] += 32
    (second / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return [first, second]


@pytest.fixture
def fresh(runs, tmp_path) -> Path:
    """A copy of the first run without its report.md."""
    copy = tmp_path / runs[0].name
    shutil.copytree(runs[0], copy, ignore=shutil.ignore_patterns("checkpoints", "tensorboard"))
    (copy / "report.md").unlink(missing_ok=True)
    return copy


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_report_renders_report_md_of_a_finished_run(fresh):
    code, out, err = run_cli(["report", fresh])
    assert code == 0, err
    assert out.strip() == str(fresh / "report.md")
    assert (fresh / "report.md").read_text() == render_run_report(fresh)


def test_report_of_several_runs(fresh, runs):
    code, out, _ = run_cli(["report", fresh, runs[1]])
    assert code == 0
    assert out.split() == [str(fresh / "report.md"), str(runs[1] / "report.md")]


def test_report_of_a_folder_that_is_not_a_run(tmp_path):
    code, out, err = run_cli(["report", tmp_path])
    assert_error_line(code, out, err, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_report_of_an_unfinished_run(runs, tmp_path):
    shutil.copy(runs[0] / "config.yaml", tmp_path / "config.yaml")
    code, out, err = run_cli(["report", tmp_path])
    assert_error_line(code, out, err, tmp_path, "metrics.json")
    assert not (tmp_path / "report.md").exists()


def test_one_bad_directory_means_no_report_is_written(fresh, tmp_path):
    bad = tmp_path / "absent"
    code, out, err = run_cli(["report", fresh, bad])
    assert_error_line(code, out, err, bad)
    assert not (fresh / "report.md").exists()


def test_compare_writes_the_comparison_to_out(runs, tmp_path):
    target = tmp_path / "cmp" / "batch.md"
    code, out, err = run_cli(["report", "--compare", *runs, "--out", target])
    assert code == 0, err
    assert out.strip() == str(target)
    text = target.read_text()
    assert text == render_comparison(
        read_runs(runs),
        target,
        "batch.png",
        command="qgan report --compare " + " ".join(map(str, runs)) + f" --out {target}",
    )
    a, b = (yaml.safe_load((r / "config.yaml").read_text()) for r in runs)
    sizes = (a["train"]["batch_size"], b["train"]["batch_size"])
    assert "| `train.batch_size` | {} | {} |".format(*sizes) in text
    assert f"| `seed` | {a['seed']} | {b['seed']} |" in text
    assert target.with_suffix(".png").is_file() and target.with_suffix(".json").is_file()


def test_compare_default_out_is_under_reports(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["--quiet", "report", "--compare", *runs])
    assert code == 0 and out == "", err
    (written,) = (tmp_path / "reports").glob("compare_*.md")
    assert written.name == f"compare_{runs[0].name}_vs_{runs[1].name}.md"  # same config name


def test_compare_with_a_bad_directory_writes_nothing(runs, tmp_path):
    target = tmp_path / "out" / "cmp.md"
    code, out, err = run_cli(["report", "--compare", runs[0], tmp_path, "--out", target])
    assert_error_line(code, out, err, tmp_path)
    assert not target.parent.exists()


def test_compare_needs_two_runs(runs, tmp_path):
    code, out, err = run_cli(["report", "--compare", runs[0], "--out", tmp_path / "c.md"])
    assert_error_line(code, out, err, "at least two")


def test_out_without_compare_is_an_error(runs, tmp_path):
    code, out, err = run_cli(["report", runs[0], "--out", tmp_path / "c.md"])
    assert_error_line(code, out, err, "--out")


def test_quiet_prints_nothing(fresh):
    code, out, _ = run_cli(["report", fresh, "--quiet"])
    assert code == 0 and out == "" and (fresh / "report.md").is_file()


def test_script_compares(runs, tmp_path, monkeypatch):
    target = tmp_path / "script.md"
    monkeypatch.setattr(
        sys, "argv", ["scripts/report.py", "--compare", *map(str, runs), "--out", str(target)]
    )
    with pytest.raises(SystemExit) as info, contextlib.redirect_stdout(io.StringIO()) as out:
        runpy.run_path(str(ROOT / "scripts" / "report.py"), run_name="__main__")
    assert info.value.code == 0
    assert out.getvalue().strip() == str(target) and target.is_file()
