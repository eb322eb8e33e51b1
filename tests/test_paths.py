"""Specification of ``qgan._paths.check_output_dir``: an output folder that cannot hold a run
directory is refused in one line naming the key, before anything is created.

Oracle: the filesystem itself (what exists before and after the check), and
``qgan._rundir.new_run_dir`` succeeding wherever the check passes.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import pytest
import yaml

from qgan._paths import check_output_dir
from qgan._rundir import new_run_dir

ROOT = Path(__file__).resolve().parents[1]


def tree(folder: Path) -> list[str]:
    """Every path under ``folder`` (relative), sorted: what a check must leave unchanged."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line_error(path, key="output.dir") -> str:
    with pytest.raises(ValueError) as info:
        check_output_dir(path, key)
    message = str(info.value)
    assert "\n" not in message and message.startswith(key), message
    return message


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_creatable_folders_pass_and_nothing_is_created(tmp_path, depth):
    target = tmp_path.joinpath(*(f"d{i}" for i in range(depth)))
    assert check_output_dir(target) == target
    assert tree(tmp_path) == []  # nothing made, not even parents
    assert new_run_dir(target, "x").is_dir()  # and creating the run directory works


def test_relative_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_output_dir("runs/a") == tmp_path / "runs" / "a"
    assert tree(tmp_path) == []


def test_under_a_regular_file(tmp_path):
    (tmp_path / "f").write_text("x")
    message = one_line_error(tmp_path / "f" / "runs" / "deeper")
    assert f"{str(tmp_path / 'f')!r} is a file, not a directory" in message
    assert tree(tmp_path) == ["f"]


def test_an_existing_file(tmp_path):
    (tmp_path / "runs").write_text("x")
    message = one_line_error(tmp_path / "runs", key="--output-dir")
    assert message.endswith(": is a file, not a directory")
    assert tree(tmp_path) == ["runs"]


def test_under_a_broken_link(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    message = one_line_error(tmp_path / "link" / "runs")
    assert "is a broken link, not a directory" in message
    assert tree(tmp_path) == ["link"]


def test_empty_path_is_refused():
    one_line_error("")


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="as root (or on Windows) os.access reports every folder writable: "
    "no read-only folder to test",
)
def test_read_only_parent_and_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert "is not writable" in one_line_error(locked / "runs")
        assert "the directory is not writable" in one_line_error(locked)
        assert tree(tmp_path) == ["locked"]
    finally:
        locked.chmod(0o755)


# --------------------------------------------------------------------------- through the CLI


def run_cli(argv) -> tuple[int, str, str]:
    from qgan.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(map(str, argv)))
    return code, out.getvalue(), err.getvalue()


def shipped_config(tmp_path: Path, name: str) -> Path:
    """A copy of ``configs/<name>.yaml`` in ``tmp_path`` (valid as shipped)."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())))
    return path


@pytest.mark.parametrize(("verb", "config"), [("train", "bimodal"), ("classify", "digits_qubit")])
@pytest.mark.parametrize("where", ["under a file", "an existing file"])
def test_cli_refuses_before_importing_anything_heavy(tmp_path, verb, config, where):
    cfg = shipped_config(tmp_path, config)
    (tmp_path / "blocker").write_text("x")
    out_dir = tmp_path / "blocker" / "runs" if where == "under a file" else tmp_path / "blocker"
    before = tree(tmp_path)
    code, out, err = run_cli([verb, cfg, "--output-dir", out_dir])
    assert code == 2 and out == ""
    assert err.startswith(f"qgan {verb}: error: output.dir ") and err.count("\n") == 1, err
    assert "is a file, not a directory" in err and "Traceback" not in err
    assert tree(tmp_path) == before


@pytest.mark.parametrize("where", ["under a file", "a directory"])
def test_sample_output_is_checked_before_the_run_is_read(tmp_path, where):
    (tmp_path / "blocker").write_text("x")
    (tmp_path / "folder.npy").mkdir()
    out = tmp_path / "blocker" / "p.npy" if where == "under a file" else tmp_path / "folder.npy"
    before = tree(tmp_path)
    code, stdout, err = run_cli(["sample", tmp_path / "no-run", "-o", out])
    assert code == 2 and stdout == "" and err.count("\n") == 1, err
    assert err.startswith("qgan sample: error: -o/--output ") and "Traceback" not in err
    assert ("is a file, not a directory" if where == "under a file" else "is a directory") in err
    assert tree(tmp_path) == before
