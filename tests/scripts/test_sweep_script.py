"""``scripts/sweep.py`` is ``qgan sweep`` (a thin wrapper; it replaced scripts/seed_sweep.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_is_the_verb():
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "sweep.py", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: qgan sweep" in result.stdout and "--address" in result.stdout
    assert not (ROOT / "scripts" / "seed_sweep.py").exists()
