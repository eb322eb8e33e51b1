"""The gate functions' docstrings are specifications too: each public gate or state of
``qgan.photonic.gates`` states its definition (a ``.. math::`` block, SF's conventions) and a
``>>>`` example, and every example runs and prints what it says (doctest)."""

from __future__ import annotations

import doctest

import pytest

from qgan.photonic import gates

EXAMPLES = {t.name.rsplit(".", 1)[-1]: t for t in doctest.DocTestFinder().find(gates)}


@pytest.mark.parametrize("name", gates.__all__)
def test_definition_and_example(name):
    doc = getattr(gates, name).__doc__
    assert ".. math::" in doc, f"{name}: no .. math:: definition"
    assert name in EXAMPLES and EXAMPLES[name].examples, f"{name}: no >>> example"


@pytest.mark.parametrize("name", gates.__all__)
def test_example_runs_as_written(name):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    result = runner.run(EXAMPLES[name])
    assert result.attempted > 0 and result.failed == 0, f"{name}: example output differs"
