"""The ``>>>`` examples in the class docstrings of ``CVGenerator`` and ``SpatialDecoder``
run and print what they show (each is a closed-form case: a coherent state's mean photon
number, an affine decoder's bias at the data mean)."""

from __future__ import annotations

import doctest

import pytest

import qgan.decoder.spatial
import qgan.generator.cv


@pytest.mark.parametrize("module", [qgan.generator.cv, qgan.decoder.spatial])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__}: no examples found"
    assert result.failed == 0
