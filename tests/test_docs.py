"""The documentation site (mkdocs.yml, docs/): CI builds it with ``mkdocs build --strict``
(.ci/run, the "docs" phase), which fails on a broken cross-reference. Here: the build
passes, a broken reference fails it, and the generated pages hold what they are generated
from (every config key, every CLI verb). The build tests need the ``docs`` extra
(``pip install -e ".[docs]"``) and are skipped without it; .ci/run installs it.

The docstrings' Sphinx roles (``:func:`qgan.x.y```, ``:meth:`calibrate```) are shown as code
by the site (docs/griffe_roles.py), not linked; their targets are checked here instead, by
static analysis of the source (no imports): each names an existing qgan module, class,
function, attribute or method, resolved as Sphinx would (qualified, in the module, in a
class of the module, through the module's imports, or a name defined elsewhere in qgan).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["index", "engine", "generator", "decoder", "gan", "metrics", "qubit", "profiling"]
PAGES += ["sweep"]
PAGES += ["cli", "config"]


def _build(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


def test_every_page_is_in_the_nav_and_ci_builds_the_site_strictly():
    nav = (ROOT / "mkdocs.yml").read_text()
    assert "strict: true" in nav
    for page in PAGES:
        assert (ROOT / "docs" / f"{page}.md").is_file()
        assert f": {page}.md" in nav, page
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r'pip install -e "\.\[docs\]"', ci)
    assert re.search(r"mkdocs build --strict --site-dir", ci)


@pytest.mark.slow
def test_site_builds_strictly_with_generated_references(tmp_path):
    pytest.importorskip(
        "mkdocstrings", reason='the docs extra is not installed: pip install -e ".[docs]"'
    )
    result = _build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    config = (tmp_path / "site" / "config" / "index.html").read_text()
    for key in ("train.leakage_penalty", "train.outcome_gradient", "model.n_qubits"):
        assert f"<code>{key}</code>" in config, key
    cli = (tmp_path / "site" / "cli" / "index.html").read_text()
    for verb in ("qgan train", "qgan config show", "qgan ionq compile"):
        assert verb in cli, verb
    engine = (tmp_path / "site" / "engine" / "index.html").read_text()
    assert 'id="programs-built-in-a-loop"' in engine  # the anchor simulate's warning names
    assert "Simulate a Strawberry Fields program" in engine  # simulate's docstring


@pytest.mark.slow
def test_a_broken_cross_reference_fails_the_build(tmp_path):
    pytest.importorskip(
        "mkdocstrings", reason='the docs extra is not installed: pip install -e ".[docs]"'
    )
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy)
    shutil.copytree(ROOT / "docs", copy / "docs")
    for page in PAGES:  # only the page under test: the build stays short
        if page != "metrics":
            (copy / "docs" / f"{page}.md").write_text(f"# {page}\n")
    metrics = copy / "docs" / "metrics.md"
    metrics.write_text(metrics.read_text() + "\nSee [it][qgan.metrics.no_such_function].\n")
    result = _build(copy, tmp_path / "site")
    assert result.returncode != 0
    assert "qgan.metrics.no_such_function" in result.stderr


# ------------------------------------------------------------ docstring references
ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):`~?([^`<>]+)`")
PACKAGE_FILES = sorted((ROOT / "qgan").rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


MODULES = [_module_name(f) for f in PACKAGE_FILES]


def _module_file(dotted: str) -> Path | None:
    base = ROOT / Path(*dotted.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _members(cls: ast.ClassDef) -> set[str]:
    names = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "self":
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


_DEFINITIONS: dict[str, dict] = {}


def _definitions(module: str) -> dict[str, tuple[set | None, str | None]]:
    """Top-level name -> (class members or None, the dotted path it is imported from)."""
    if module not in _DEFINITIONS:
        text = _module_file(module).read_text()
        out: dict[str, tuple[set | None, str | None]] = {}
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out[node.name] = (None, None)
            elif isinstance(node, ast.ClassDef):
                out[node.name] = (_members(node), None)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                out |= {t.id: (None, None) for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.ImportFrom) and node.module:
                out |= {a.asname or a.name: (None, f"{node.module}.{a.name}") for a in node.names}
            elif isinstance(node, ast.Import):
                out |= {(a.asname or a.name).split(".")[0]: (None, a.name) for a in node.names}
        for key, where in re.findall(r'"(\w+)"\s*:\s*"(qgan[\w.]*)"', text):  # lazy exports
            out.setdefault(key, (None, f"{where}.{key}"))
        _DEFINITIONS[module] = out
    return _DEFINITIONS[module]


def _resolves(parts: list[str], depth: int = 0) -> bool | None:
    """Whether the dotted path names a qgan object; None outside qgan."""
    if parts[0] != "qgan":
        return None
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if _module_file(module) is None:
            continue
        rest = parts[i:]
        if not rest:
            return True
        definitions = _definitions(module)
        if rest[0] not in definitions:
            return False
        members, imported = definitions[rest[0]]
        if imported:
            return depth < 5 and _resolves(imported.split(".") + rest[1:], depth + 1) is not False
        if len(rest) == 1:
            return True
        return members is not None and len(rest) == 2 and rest[1] in members
    return False


def reference_resolves(target: str, module: str) -> bool:
    """Whether a role's ``target`` in the docstrings of ``module`` names an object."""
    parts = target.strip().split(".")
    if parts[0] == "qgan":
        return bool(_resolves(parts))
    definitions = _definitions(module)
    if parts[0] in definitions:
        members, imported = definitions[parts[0]]
        where = imported.split(".") + parts[1:] if imported else module.split(".") + parts
        return _resolves(where) is not False
    if len(parts) == 1 and any(m and parts[0] in m for m, _ in definitions.values()):
        return True  # a member of a class of this module
    return any(_resolves(m.split(".") + parts) for m in MODULES if parts[0] in _definitions(m))


def test_every_docstring_reference_names_an_existing_object():
    broken = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in PACKAGE_FILES
        for match in ROLE.finditer(path.read_text())
        if not reference_resolves(match.group(1), _module_name(path))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("target", "module"),
    [
        ("qgan.photonic.simulation.no_such_function", "qgan.metrics"),
        ("qgan.nowhere.simulate", "qgan.metrics"),
        ("SpatialDecoder.no_such_method", "qgan.gan.model"),
        ("no_such_name_anywhere", "qgan.metrics"),
    ],
)
def test_a_broken_docstring_reference_is_caught(target, module):
    assert not reference_resolves(target, module)
    good = {"qgan.photonic.simulation.simulate", "SpatialDecoder.calibrate", "mmd"}
    assert all(reference_resolves(t, m) for t in good for m in ("qgan.gan.model", "qgan.metrics"))


def test_roles_render_as_code_spans():
    pytest.importorskip(
        "griffe", reason='griffe (the docs extra) is not installed: pip install -e ".[docs]"'
    )
    spec = importlib.util.spec_from_file_location("griffe_roles", ROOT / "docs/griffe_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "See :func:`qgan.metrics.mmd` and :class:`~qgan.decoder.spatial.SpatialDecoder`."
    assert module.plain(text) == "See `qgan.metrics.mmd` and `SpatialDecoder`."
