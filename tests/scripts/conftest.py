"""Loading the benchmark scripts of ``scripts/bench/`` by path (they are not a package).

The scripts import their sibling helpers (``_common``, ``qubit_baselines``, ...) as a script
run from that folder does, so the folder goes on ``sys.path`` for these tests;
:func:`load_bench` loads one script under the module name ``bench_<name>``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench"


@pytest.fixture(scope="session")
def load_bench():
    """``load_bench("qubit")`` -> the module ``scripts/bench/qubit.py`` (loaded once)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))

    def load(name: str):
        module_name = f"bench_{name}"
        if module_name not in sys.modules:
            spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        return sys.modules[module_name]

    return load
