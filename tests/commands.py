"""Test helper: run qgan's commands and scripts as a user does, in a fresh interpreter
(``TF_CPP_MIN_LOG_LEVEL=2``, this checkout first on ``PYTHONPATH``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_command(argv, cwd, timeout: float = 600, **env) -> subprocess.CompletedProcess:
    """``argv`` run in ``cwd`` with text output captured; ``env`` adds variables."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


def run_script(name: str, *args, cwd, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python scripts/<name> ARGS...`` (this interpreter) run in ``cwd``."""
    return run_command([sys.executable, ROOT / "scripts" / name, *args], cwd, timeout)


def qgan_command() -> list[str]:
    """The installed ``qgan`` entry point of this interpreter's environment (or the same
    ``main`` through ``python -c`` where no script is installed)."""
    script = Path(sys.executable).with_name("qgan")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from qgan.cli import main; sys.exit(main())"]
