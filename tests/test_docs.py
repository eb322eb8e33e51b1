"""The documentation site (mkdocs.yml, docs/): CI builds it with ``mkdocs build --strict``
(.ci/run, the "docs" phase), which fails on a broken cross-reference. Here: the build
passes, a broken reference fails it, and the generated pages hold what they are generated
from (every config key, every CLI verb). The build tests need the ``docs`` extra
(``pip install -e ".[docs]"``) and are skipped without it; .ci/run installs it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["index", "engine", "generator", "decoder", "gan", "metrics", "qubit", "profiling"]
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
    pytest.importorskip("mkdocstrings")
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
    pytest.importorskip("mkdocstrings")
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
