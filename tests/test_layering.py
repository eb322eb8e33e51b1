"""Import direction of the package layers (docs: DESIGN.md, "Layout"; README, "Development").

Static analysis (``ast``) of every ``.py`` file under ``qgan/``: nothing is imported, so
this runs without TensorFlow or Strawberry Fields. It sees ``import x``, ``from x import y``
(absolute and relative), imports inside functions or ``if TYPE_CHECKING:`` blocks, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.

Layers, lowest first (a layer may import its own and any lower ranked layer):

    base  <  metrics  <  photonic  <  generator  <  decoder  <  gan, classify
          <  profiling  <  reports  <  sweep  <  cli

* ``base`` is every private top-level module ``qgan/_name.py`` (``_compat``: third-party
  shims, ``_io``: atomic writes, ``_rundir``: run directories, ...): leaf utilities that
  anyone may import and that import nothing of qgan but each other.
* ``qgan.metrics`` needs only NumPy/SciPy (it reads a mixture by protocol), so it ranks
  just above base: any layer may use it, and it imports nothing of qgan but base.
* ``gan`` and ``classify`` are two workloads of the same rank, side by side: neither may
  import the other (they share code through lower layers).
* ``qgan.qubit`` stands apart: it imports only ``base``; of the physics/ML layers only
  the workloads ``gan`` and ``classify`` may import it (a GAN may use a qubit circuit where
  a config asks; the classifiers are built on it); profiling, reports and cli may too.
* ``qgan.sweep`` (``qgan sweep``'s library: trials, Ray Tune runner, store) sits between
  reports and cli: it runs the workloads (gan, classify) and writes their reports.
* ``qgan.cli`` is the top: nothing in the package imports it (``qgan = "qgan.cli:main"``
  is the console script).
* The root package ``qgan`` (``qgan/__init__.py``) may import any layer but cli. Since it
  re-exports upper layers, only profiling / reports / cli may import names from the bare
  ``qgan`` package; lower layers import from the defining module.

Every other top-level module or subpackage of ``qgan`` must be listed in ``LAYER_OF``
below: a new one fails ``test_every_module_is_classified`` until it is given a layer, and
``test_layer_of_lists_only_real_modules`` fails on an entry that does not exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "qgan"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

# top-level name under qgan -> layer
# (private ``_name`` modules are base without being listed)
LAYER_OF: dict[str, str] = {
    "metrics": "metrics",
    "photonic": "photonic",
    "generator": "generator",
    "decoder": "decoder",
    "gan": "gan",
    "classify": "classify",
    "qubit": "qubit",
    "profiling": "profiling",
    "reports": "reports",
    "sweep": "sweep",
    "cli": "cli",
}

RANK: dict[str, int] = {
    "base": 0,
    "metrics": 1,
    "photonic": 2,
    "generator": 3,
    "decoder": 4,
    "gan": 5,
    "classify": 5,  # a workload beside gan: same rank, neither imports the other
    "profiling": 6,
    "reports": 7,
    "sweep": 8,
    "cli": 9,
}

ROOT = "<root>"  # the bare package, qgan/__init__.py
UNCLASSIFIED = "<unclassified>"
MAY_IMPORT_ROOT = {"profiling", "reports", "sweep", "cli", ROOT}
MAY_IMPORT_QUBIT = {"gan", "classify", "profiling", "reports", "sweep", "cli"}


def layer(module: str) -> str:
    """Layer of a dotted module name inside the package."""
    parts = module.split(".")
    assert parts[0] == PACKAGE, module
    if len(parts) == 1:
        return ROOT
    top = parts[1]
    if top in LAYER_OF:
        return LAYER_OF[top]
    if top.startswith("_") and not top.startswith("__"):
        return "base"  # private top-level helpers: qgan/_compat.py, qgan/_io.py, ...
    return UNCLASSIFIED


def allowed(src: str, dst: str) -> bool:
    """May a module in layer ``src`` import one in layer ``dst``?"""
    if UNCLASSIFIED in (src, dst):
        return True  # reported by test_every_module_is_classified instead
    if src == dst:
        return True
    if dst == "cli":
        return False
    if dst == "base":
        return True
    if src == "base":
        return False
    if src == ROOT:
        return True
    if dst == ROOT:
        return src in MAY_IMPORT_ROOT
    if src == "qubit":
        return False  # only base, handled above
    if dst == "qubit":
        return src in MAY_IMPORT_QUBIT
    if RANK[src] == RANK[dst]:
        return False  # siblings of one rank (gan, classify) stay independent
    return RANK[src] > RANK[dst]


@dataclass(frozen=True)
class Violation:
    path: str
    lineno: int
    src_module: str
    target: str
    src_layer: str
    dst_layer: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.lineno}: {self.src_module} ({self.src_layer}) imports "
            f"{self.target} ({self.dst_layer})"
        )


def module_name(path: Path, root: Path = PACKAGE_DIR) -> tuple[str, bool]:
    """Dotted name of ``path`` and whether it is a package ``__init__``."""
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def iter_package_files(root: Path = PACKAGE_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def known_modules(root: Path = PACKAGE_DIR) -> set[str]:
    return {module_name(p, root)[0] for p in iter_package_files(root)}


def _resolve_from(
    node: ast.ImportFrom, module: str, is_pkg: bool, known: set[str]
) -> Iterable[str]:
    if node.level:
        package = module.split(".") if is_pkg else module.split(".")[:-1]
        if node.level - 1 > len(package) - 1:
            raise ValueError(f"relative import beyond top-level package in {module}")
        base_parts = package[: len(package) - (node.level - 1)]
        base = ".".join(base_parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base != PACKAGE and not base.startswith(PACKAGE + "."):
        return
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        # `from qgan import gan` imports the module qgan.gan; `from qgan.gan import train`
        # imports a name from qgan.gan. Unknown submodules (not written yet) are judged by
        # their parent, which is what the import executes anyway.
        if alias.name != "*" and (sub in known or base == PACKAGE and alias.name in LAYER_OF):
            yield sub
        else:
            yield base


def imported_modules(
    source: str, module: str, is_pkg: bool = False, known: set[str] | None = None
) -> list[tuple[int, str]]:
    """(line, dotted target) for every import of a ``qgan`` module in ``source``."""
    known = known or set()
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom):
            found.extend((node.lineno, t) for t in _resolve_from(node, module, is_pkg, known))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else None
            )
            arg = node.args[0]
            if (
                name in {"import_module", "__import__"}
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and (arg.value == PACKAGE or arg.value.startswith(PACKAGE + "."))
            ):
                found.append((node.lineno, arg.value))
    return found


def check_source(
    source: str, module: str, is_pkg: bool = False, path: str = "<string>", known=None
) -> list[Violation]:
    src_layer = layer(module)
    out = []
    for lineno, target in imported_modules(source, module, is_pkg, known):
        dst_layer = layer(target)
        if not allowed(src_layer, dst_layer):
            out.append(Violation(path, lineno, module, target, src_layer, dst_layer))
    return out


def check_package(root: Path = PACKAGE_DIR) -> list[Violation]:
    known = known_modules(root)
    violations = []
    for path in iter_package_files(root):
        module, is_pkg = module_name(path, root)
        rel = str(path.relative_to(root.parent))
        violations += check_source(path.read_text(encoding="utf-8"), module, is_pkg, rel, known)
    return violations


# ------------------------------------------------------------------------------ tests


def test_package_is_found():
    files = iter_package_files()
    names = {module_name(p)[0] for p in files}
    assert "qgan" in names and "qgan._compat" in names, names


def test_import_direction():
    violations = check_package()
    assert not violations, "upward or forbidden imports (see tests/test_layering.py):\n" + (
        "\n".join(map(str, violations))
    )


def top_level_modules(root: Path = PACKAGE_DIR) -> set[str]:
    """Names of the modules and subpackages directly under ``qgan/``."""
    return {
        p.stem if p.is_file() else p.name
        for p in root.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }


def test_layer_of_lists_only_real_modules():
    """No phantom entries: a listed name that is not a module would hide nothing but mislead."""
    phantoms = sorted(set(LAYER_OF) - top_level_modules())
    assert not phantoms, f"LAYER_OF lists modules that do not exist under qgan/: {phantoms}"


def test_every_layer_has_a_rank():
    assert set(LAYER_OF.values()) - {"qubit"} <= set(RANK), LAYER_OF


def test_every_module_is_classified():
    unclassified = sorted({m for m in known_modules() if m != PACKAGE and layer(m) == UNCLASSIFIED})
    assert not unclassified, (
        f"modules without a layer: {unclassified}; add their top-level name to LAYER_OF "
        "in tests/test_layering.py (and to README/DESIGN if it is a new layer)"
    )


# ---- self-tests: the checker must be able to fail

KNOWN = {
    "qgan",
    "qgan._compat",
    "qgan._io",
    "qgan.photonic",
    "qgan.photonic.engine",
    "qgan.photonic.gates",
    "qgan.generator",
    "qgan.decoder",
    "qgan.gan",
    "qgan.gan.train",
    "qgan.gan.data",
    "qgan.metrics",
    "qgan.classify",
    "qgan.classify.training",
    "qgan.qubit",
    "qgan.profiling",
    "qgan.reports",
    "qgan.sweep",
    "qgan.sweep.trial",
    "qgan.sweep.trials",
    "qgan.cli",
}


@pytest.mark.parametrize(
    ("source", "module", "is_pkg"),
    [
        ("import qgan.gan", "qgan.photonic.engine", False),
        ("from qgan.gan import train", "qgan.photonic.engine", False),
        ("from qgan import gan", "qgan.photonic.engine", False),
        ("from ..gan import train", "qgan.photonic.engine", False),
        ("from .. import generator", "qgan.photonic.engine", False),
        ("from ..generator import CVGenerator", "qgan.photonic", True),
        ("def f():\n    from qgan.decoder import SpatialDecoder\n", "qgan.generator", False),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import qgan.gan\n",
            "qgan.decoder",
            False,
        ),
        ("import importlib\nimportlib.import_module('qgan.gan.train')", "qgan.photonic", True),
        ("import qgan.photonic", "qgan.qubit", True),
        ("from qgan.generator import CVGenerator", "qgan.qubit.sim", False),
        ("import qgan.qubit", "qgan.generator", False),
        ("from ..qubit import circuits", "qgan.photonic.engine", False),
        ("from qgan.reports import write", "qgan.profiling", True),
        ("from qgan.cli import main", "qgan.reports", True),
        ("import qgan.cli", "qgan", True),
        ("from qgan import CVGenerator", "qgan.decoder", False),
        ("import qgan", "qgan.photonic.gates", False),
        ("import qgan.photonic", "qgan._compat", False),
        ("from qgan.gan import train", "qgan._io", False),
        ("from qgan import cli", "qgan._io", False),
        # metrics ranks below gan: the upward import it had (qgan.gan.data.Mixture)
        ("from qgan.gan.data import Mixture", "qgan.metrics", False),
        ("from .gan.data import Mixture", "qgan.metrics", False),
        ("from qgan.photonic import simulate", "qgan.metrics", False),
        ("import qgan.metrics", "qgan._io", False),
        ("import qgan.metrics", "qgan.qubit.model", False),
        ("from qgan.qubit import QubitLayer", "qgan.metrics", False),
        # gan and classify are siblings of one rank
        ("from qgan.gan import rundir", "qgan.classify.training", False),
        ("from qgan.classify import training", "qgan.gan.model", False),
        ("from qgan.classify.training import classify", "qgan.decoder", False),
        ("from qgan.cli import main", "qgan.profiling", True),
        # sweep ranks between reports and cli
        ("from qgan.sweep import run_sweep", "qgan.reports.sweep", False),
        ("from qgan.cli import parse_seeds", "qgan.sweep.trials", False),
    ],
)
def test_checker_flags_violations(source, module, is_pkg):
    assert check_source(source, module, is_pkg, known=KNOWN), f"{module}: {source!r}"


@pytest.mark.parametrize(
    ("source", "module", "is_pkg"),
    [
        ("import numpy as np\nimport tensorflow as tf", "qgan.photonic.engine", False),
        ("from qgan import _compat", "qgan", True),
        ("from qgan._compat import apply", "qgan.photonic.engine", False),
        ("from . import gates\nfrom .gates import displacement", "qgan.photonic.engine", False),
        ("from .engine import simulate", "qgan.photonic", True),
        ("from qgan.photonic import simulate", "qgan.generator", False),
        ("from ..photonic import simulate", "qgan.gan.train", False),
        ("from qgan.generator import CVGenerator", "qgan.decoder", False),
        ("import qgan.qubit", "qgan.gan.train", False),
        ("from qgan.qubit import circuits", "qgan.profiling", True),
        ("from qgan.profiling import profile", "qgan.reports", True),
        ("from qgan import gan, qubit, reports, profiling", "qgan.cli", False),
        ("from qgan.metrics import evaluate", "qgan.gan.train", False),
        ("from qgan import metrics", "qgan.gan.train", False),
        ("from qgan.metrics import gradient_flow", "qgan.generator", True),
        ("from qgan._io import write_text_atomic", "qgan.metrics", False),
        ("from qgan.qubit.layer import QubitLayer", "qgan.classify.model", False),
        ("from qgan._rundir import read_jsonl", "qgan.classify.training", False),
        ("from qgan.classify.training import classify", "qgan.cli", True),
        ("from qgan.classify import training", "qgan.reports", True),
        ("from qgan.generator import CVGenerator", "qgan", True),
        ("from qgan import __version__", "qgan.reports", True),
        ("from qgan._compat import apply", "qgan.qubit.sim", False),
        ("from qgan._io import write_text_atomic", "qgan.photonic.engine", False),
        ("from qgan._io import write_text_atomic", "qgan.qubit.jobs", False),
        ("from qgan import _compat", "qgan._io", False),
        ("from ._compat import apply", "qgan._io", False),
        ("from qgan.gan.training import train", "qgan.sweep.trial", False),
        ("from qgan.reports.sweep import derived", "qgan.sweep.trial", False),
        ("from qgan.sweep.trials import workload", "qgan.cli.config", False),
    ],
)
def test_checker_allows_permitted_imports(source, module, is_pkg):
    assert not check_source(source, module, is_pkg, known=KNOWN), f"{module}: {source!r}"


def test_relative_import_resolution():
    src = "from ..gan.train import fit\nfrom . import gates\nfrom .gates import d\n"
    got = [t for _, t in imported_modules(src, "qgan.photonic.engine", False, KNOWN)]
    assert got == ["qgan.gan.train", "qgan.photonic.gates", "qgan.photonic.gates"]
    got = [t for _, t in imported_modules("from . import engine", "qgan.photonic", True, KNOWN)]
    assert got == ["qgan.photonic.engine"]


def test_checker_on_a_synthetic_package(tmp_path):
    """End to end through the file walk: a photonic module importing the GAN is flagged."""
    pkg = tmp_path / "qgan"
    (pkg / "photonic").mkdir(parents=True)
    (pkg / "gan").mkdir()
    (pkg / "__init__.py").write_text("from qgan import _compat\n")
    (pkg / "_compat.py").write_text("import scipy\n")
    (pkg / "photonic" / "__init__.py").write_text("from .engine import simulate\n")
    (pkg / "photonic" / "engine.py").write_text("from ..gan import train\n")
    (pkg / "gan" / "__init__.py").write_text("")
    (pkg / "gan" / "train.py").write_text("from qgan.photonic import simulate\n")
    violations = check_package(pkg)
    assert [(v.src_module, v.target) for v in violations] == [
        ("qgan.photonic.engine", "qgan.gan.train")
    ]


def test_checker_flags_metrics_importing_the_gan(tmp_path):
    """End to end: the import direction the old layering (metrics filed under gan) missed."""
    pkg = tmp_path / "qgan"
    (pkg / "gan").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "metrics.py").write_text("import numpy as np\n\nfrom qgan.gan.data import Mixture\n")
    (pkg / "gan" / "__init__.py").write_text("")
    (pkg / "gan" / "data.py").write_text("import numpy as np\n")
    (pkg / "gan" / "train.py").write_text("from qgan import metrics\n")
    violations = check_package(pkg)
    assert [(v.src_module, v.target, v.lineno) for v in violations] == [
        ("qgan.metrics", "qgan.gan.data", 3)
    ]
