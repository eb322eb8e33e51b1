"""Loading the benchmark scripts of ``scripts/bench/`` (they are not a package).

The scripts import their sibling helpers (``_common``, ``qubit_baselines``, ...) by plain
name, as a script run from that folder does, so the folder goes on ``sys.path`` for these
tests and :func:`load_bench` imports a script the same way: ``load_bench("qubit")`` is the
module ``qubit`` that ``qubit_diagnostics`` and the others see too (one module object each).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench"


@pytest.fixture(scope="session")
def load_bench():
    """``load_bench("qubit")`` -> the module ``scripts/bench/qubit.py``."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))

    def load(name: str):
        module = importlib.import_module(name)
        assert Path(module.__file__).parent == BENCH, f"{name} is not scripts/bench/{name}.py"
        return module

    return load
