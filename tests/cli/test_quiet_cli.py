"""Specification of the ``qgan`` command's start-up: ``--version`` and a quiet TensorFlow.

* ``qgan --version`` prints ``qgan <version>`` (the installed distribution's, from
  ``importlib.metadata``) and exits 0 without importing TensorFlow.
* Unless the user set ``TF_CPP_MIN_LOG_LEVEL``, the command sets it to 2 and drops the
  lines TensorFlow's C++ code prints while it loads (absl's "All log messages before
  absl::InitializeLog()" notice, ``cudart_stub`` and ``cuInit`` lines, printed before the
  variable is read): stderr holds our lines only. A user-set value is kept and nothing is
  dropped. Progress bars are drawn only on a terminal, so piped output has none.

The start-up runs in fresh interpreters (``qgan`` as installed, the variable unset or set).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from commands import ROOT, qgan_command

import qgan.cli
from qgan.cli import is_native_startup_line, main

# stderr lines of an unmodified ``qgan train`` on a CPU-only machine (TF 2.21), as printed
MEASURED_NATIVE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796585388.335712    4347 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796585388.465900    4347 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "E0000 00:00:1796585399.368491    4347 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "W1206 19:35:41.123456   10114 gpu_device.cc:2344] Cannot dlopen some GPU libraries.",
]
OUR_LINES = [
    "WARNING qgan.train: mean norm leakage 8.77e-02 exceeds train.leakage_threshold 1e-03",
    "INFO qgan.cli: config tiny.yaml OK: training tiny for 2 steps",
    "qgan train: error: config key seed: differs from the run's config.yaml (4 given vs 3)",
    "/x/y.py:3: UserWarning: I0000 is not a log line here",
]
NATIVE = re.compile(r"^[IWEF]\d{4} ", re.MULTILINE)


def fresh_env(**changes) -> dict:
    """This environment with this checkout first on the path, ``TF_CPP_MIN_LOG_LEVEL``
    removed, then ``changes`` applied."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, "PYTHONPATH": str(ROOT), **changes}


def test_version_is_the_distribution_version_and_imports_no_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from qgan.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit as exit:\n"
        "    print('status', exit.code)\n"
        "print('tensorflow imported:', 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=fresh_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"qgan {metadata.version('qgan')}",
        "status 0",
        "tensorflow imported: False",
    ]
    assert proc.stderr == ""


def test_version_of_the_installed_command(tmp_path):
    proc = subprocess.run(
        [*qgan_command(), "--version"],
        capture_output=True,
        text=True,
        env=fresh_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        f"qgan {metadata.version('qgan')}\n",
        "",
    )


@pytest.mark.parametrize("line", MEASURED_NATIVE_LINES)
def test_native_startup_lines_are_recognised(line):
    assert is_native_startup_line(line + "\n")


@pytest.mark.parametrize("line", OUR_LINES)
def test_our_lines_are_kept(line):
    assert not is_native_startup_line(line + "\n")


def run_main_for_version(monkeypatch) -> None:
    with pytest.raises(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        main(["--version"])


def test_unset_log_level_becomes_2_and_startup_lines_are_filtered(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(qgan.cli, "_filter_native_startup", False)
    run_main_for_version(monkeypatch)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert qgan.cli._filter_native_startup is True


@pytest.mark.parametrize("value", ["0", "3"])
def test_user_set_log_level_is_kept_and_nothing_filtered(monkeypatch, value):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", value)
    monkeypatch.setattr(qgan.cli, "_filter_native_startup", True)
    run_main_for_version(monkeypatch)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == value
    assert qgan.cli._filter_native_startup is False


def tiny_classical_config(folder: Path) -> Path:
    """The cheapest GAN config to train: the classical ablation, 2 steps."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from test_train_cli import tiny_config_file
    finally:
        sys.path.pop(0)

    return tiny_config_file(
        folder,
        "quiet",
        **{
            "train.steps": 2,
            "train.eval_every": 1,
            "train.checkpoint_every": 1,
            "generator.kind": "classical",
            "generator.n_outcomes": 2,
            "generator.hidden": [8],
        },
    )


@pytest.mark.slow  # a fresh interpreter imports TensorFlow and trains
def test_train_stderr_has_no_tensorflow_startup_lines_and_no_bar(tmp_path):
    """``qgan train`` with the variable unset, output piped: stderr holds no line of
    TensorFlow's C++ logger and no mention of cuda or absl, and no progress bar; stdout
    starts with the run directory."""
    config = tiny_classical_config(tmp_path)
    proc = subprocess.run(
        [*qgan_command(), "train", config, "--output-dir", tmp_path / "runs"],
        capture_output=True,
        text=True,
        env=fresh_env(),
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not NATIVE.search(proc.stderr), proc.stderr
    assert "cuda" not in proc.stderr.lower() and "absl" not in proc.stderr.lower()
    assert "%|" not in proc.stderr and "step/s" not in proc.stderr and "s/step" not in proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert proc.stdout.startswith(f"run directory: {run_dir}\n")


@pytest.mark.slow  # a fresh interpreter imports TensorFlow and trains
def test_user_log_level_0_shows_tensorflow_lines_and_quiet_prints_the_run_directory(tmp_path):
    """With ``TF_CPP_MIN_LOG_LEVEL=0`` set by the user the command does not override it:
    TensorFlow's own start-up lines reach stderr (at least its info lines, printed on any
    machine). ``--quiet``: stdout is the run directory alone."""
    config = tiny_classical_config(tmp_path)
    proc = subprocess.run(
        [*qgan_command(), "train", config, "--quiet", "--output-dir", tmp_path / "runs"],
        capture_output=True,
        text=True,
        env=fresh_env(TF_CPP_MIN_LOG_LEVEL="0"),
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert NATIVE.search(proc.stderr), proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert proc.stdout == f"{run_dir}\n"
