"""Every ```python block of README.md and of the documentation pages (docs/*.md) runs, as
it is written, in a fresh interpreter whose working directory is a temporary folder outside
the repository (as a user who read the page would run it). A block preceded by the line
``<!-- continues the previous example -->`` runs after the block before it, in the same
interpreter (it uses that block's names). The oracle is the interpreter's exit status: a
snippet that raises, or asserts a wrong number, fails here and names its page and line.
"""

from __future__ import annotations

import re
import sys

import pytest
from commands import ROOT, run_command

CONTINUES = "<!-- continues the previous example -->"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def snippets(text: str) -> list[tuple[int, str]]:
    """``(line number, code)`` for each runnable example of a Markdown page: its ```python
    blocks, a continued block joined to the one before it."""
    out: list[tuple[int, str]] = []
    for match in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        if before == CONTINUES:
            assert out, f"line {line}: {CONTINUES} before the first example"
            out[-1] = (out[-1][0], out[-1][1] + "\n" + match.group(1))
        else:
            out.append((line, match.group(1)))
    return out


EXAMPLES = [(page, line, code) for page in PAGES for line, code in snippets(page.read_text())]


def test_the_pages_have_the_examples_this_test_runs():
    names = [f"{p.relative_to(ROOT)}:{line}" for p, line, _ in EXAMPLES]
    readme = [n for n in names if n.startswith("README.md")]
    engine = [n for n in names if n.startswith("docs/engine.md")]
    # README: the engine, the loop pattern, CVGenerator (+ Profiler), QubitLayer
    assert len(readme) >= 4 and len(engine) >= 2, names
    joined = [code for p, _, code in EXAMPLES if p.name == "README.md"]
    assert any("prof = Profiler()" in c and "CVGenerator(" in c for c in joined)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "line", "code"),
    EXAMPLES,
    ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, _ in EXAMPLES],
)
def test_example_runs_from_a_folder_outside_the_repository(page, line, code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code)
    assert not tmp_path.resolve().is_relative_to(ROOT)
    result = run_command([sys.executable, script], tmp_path, timeout=300, MPLBACKEND="Agg")
    assert result.returncode == 0, (
        f"{page.relative_to(ROOT)}, the example at line {line}:\n{result.stderr[-3000:]}"
    )
