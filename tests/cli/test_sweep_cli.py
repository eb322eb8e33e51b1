"""Specification of the ``qgan sweep`` verb's input handling (and ``scripts/sweep.py``).

Everything is validated before Ray starts: a bad ``--set`` key or value, a bad seed list,
a config of no workload, ``--resume`` without an earlier sweep, a bad ``--address`` is one
line ``qgan sweep: error: ...`` naming it on stderr, exit status 2, and nothing written
under ``--out``'s folder or the runs' folder. (Sweeps that run: tests/sweep/.)
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from qgan.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _config(folder: Path) -> Path:
    data = yaml.safe_load((ROOT / "configs" / "bimodal.yaml").read_text())
    data["output"] = {"dir": str(folder / "runs")}
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _sweep(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["sweep", *map(str, argv)])
        except SystemExit as stop:  # argparse's own refusals
            code = stop.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--set", "train.stepz=5,10"],
            "qgan sweep: error: --set train.stepz=5: config key train.stepz: unknown key\n",
        ),
        (
            ["--set", "train.steps=5,ten"],
            "qgan sweep: error: --set train.steps=ten: config key train.steps: ",
        ),
        (["--set", "train.steps"], "qgan sweep: error: --set 'train.steps': expected KEY=V1,V2"),
        (["--set", "seed=1,2"], "qgan sweep: error: --set seed: set by the sweep; use --seeds\n"),
        (["--seeds", "0-x"], "qgan sweep: error: --seeds: expected e.g. 0-4 or 0,1,2"),
        (["--resume"], "qgan sweep: error: --resume: no finished trials under "),
        (["--retries", "-1"], "qgan sweep: error: --retries must be >= 0, got -1\n"),
        (["--cpus-per-trial", "0"], "qgan sweep: error: --cpus-per-trial must be >= 1, got 0\n"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, options, expected):
    path = _config(tmp_path)
    out = tmp_path / "reports" / "sw"
    before = sorted(tmp_path.rglob("*"))
    code, stdout, stderr = _sweep(path, "--seeds", "0-1", "--out", out, *options)
    assert code == 2, stderr
    assert stderr.startswith(expected) and stderr.count("\n") == 1, stderr
    assert stdout == ""
    assert sorted(tmp_path.rglob("*")) == before  # no report, no trials folder, no runs


def test_a_bad_address_is_refused_by_argparse(tmp_path):
    code, _, stderr = _sweep(_config(tmp_path), "--address", "nohost")
    assert code == 2 and "--address: expected auto or HOST:PORT, got 'nohost'" in stderr


def test_a_config_of_no_workload_is_one_line(tmp_path):
    (tmp_path / "x.yaml").write_text("name: x\n")
    code, _, stderr = _sweep(tmp_path / "x.yaml", "--out", tmp_path / "o")
    assert code == 2 and "cannot tell the config's workload" in stderr
    assert stderr.count("\n") == 1
