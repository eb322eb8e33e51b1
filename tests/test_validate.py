"""Specification of ``qgan._validate``: what each check accepts, what it returns, and its one
message format ``<name> must be <what>, got <value!r>`` (the whole message, anchored)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qgan._validate import check_choice, check_int, check_int_list, check_number


@pytest.mark.parametrize("value", [0, 7, np.int32(7), np.int64(-3), 2**70])
def test_check_int_returns_a_python_int(value):
    out = check_int(value, "n")
    assert type(out) is int and out == int(value)


@pytest.mark.parametrize("value", [True, False, 1.0, 2.5, "3", None, np.float64(4.0), [1]])
def test_check_int_refuses_non_integers(value):
    with pytest.raises(ValueError, match=rf"^n must be an int, got {re.escape(repr(value))}$"):
        check_int(value, "n")


def test_check_int_bounds_and_messages():
    assert check_int(1, "shots", minimum=1) == 1
    with pytest.raises(ValueError, match=r"^shots must be an int >= 1, got 0$"):
        check_int(0, "shots", minimum=1)
    with pytest.raises(ValueError, match=r"^shots must be an int >= 1, got 'x'$"):
        check_int("x", "shots", minimum=1)
    assert check_int(2, "mode", minimum=0, maximum=2) == 2
    assert check_int(0, "mode", minimum=0, maximum=2) == 0
    for bad in (-1, 3):
        with pytest.raises(ValueError, match=rf"^mode must be an int in \[0, 2\], got {bad}$"):
            check_int(bad, "mode", minimum=0, maximum=2)
    assert check_int(-5, "k", maximum=1) == -5
    with pytest.raises(ValueError, match=r"^k must be an int <= 1, got 5$"):
        check_int(5, "k", maximum=1)


def test_check_int_list():
    assert check_int_list([3, np.int64(5), 3], "cutoffs", 2) == [3, 5, 3]
    assert check_int_list(range(2), "layers", 0) == [0, 1]
    bad = [((1, 3), "(1, 3)"), ([], "()"), ([2, True], "(2, True)"), ("23", "'23'"), (5, "5")]
    for values, shown in bad:
        with pytest.raises(
            ValueError,
            match=rf"^cutoffs must be a non-empty list of ints >= 2, got {re.escape(shown)}$",
        ):
            check_int_list(values, "cutoffs", 2)


def test_check_choice():
    assert check_choice("hinge", "loss", ("hinge", "wgan_gp")) == "hinge"
    with pytest.raises(
        ValueError, match=r"^loss must be one of \['hinge', 'wgan_gp'\], got 'gan'$"
    ):
        check_choice("gan", "loss", ("hinge", "wgan_gp"))
    with pytest.raises(ValueError, match=r"^kind must be one of \[\], got 'a'$"):
        check_choice("a", "kind", iter(()))


@pytest.mark.parametrize("value", [1e-300, 0.3, 2, np.float32(0.5), np.int64(3)])
def test_check_number_positive(value):
    out = check_number(value, "std")
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value", [0, 0.0, -1.0, float("nan"), float("inf"), True, "0.1", None])
def test_check_number_refuses(value):
    with pytest.raises(
        ValueError, match=rf"^std must be a number > 0, got {re.escape(repr(value))}$"
    ):
        check_number(value, "std")


def test_check_number_non_strict_allows_the_bound():
    assert check_number(0.0, "noise", strict=False) == 0.0
    assert check_number(2, "x", minimum=2, strict=False) == 2.0
    with pytest.raises(ValueError, match=r"^noise must be a number >= 0, got -0.1$"):
        check_number(-0.1, "noise", strict=False)
    with pytest.raises(ValueError, match=r"^lr must be a number > 0.5, got 0.5$"):
        check_number(0.5, "lr", minimum=0.5)
