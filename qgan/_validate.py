"""Argument checks with one message format: ``<name> must be <what>, got <value!r>``.

Each check returns the value in its plain Python type (``int``, ``float``) or raises a
one-line ``ValueError`` naming the argument, e.g. ``shots must be an int >= 1, got 0``.
Callers pass the name users know (an argument, or a config key such as ``data.n_samples``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int``, required to be ``>= minimum`` and ``<= maximum`` where given.

    Accepts Python and NumPy integers; refuses ``bool`` (``True`` is not a count) and
    integral floats such as ``2.0`` (a float where a count belongs is a bug upstream).
    Messages: ``n must be an int >= 1, got 0``; with ``maximum``:
    ``mode must be an int in [0, 2], got 5``; without bounds: ``seed must be an int, got 1.5``.
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        if maximum is not None and minimum is not None:
            what = f"an int in [{minimum}, {maximum}]"
        elif maximum is not None:
            what = f"an int <= {maximum}"
        elif minimum is not None:
            what = f"an int >= {minimum}"
        else:
            what = "an int"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_int_list(values: Any, name: str, minimum: int) -> list[int]:
    """A non-empty sequence of ints ``>= minimum`` as a list of Python ints (order kept).

    One message for any fault, showing the whole sequence (a command-line list is easier to
    fix seen whole): ``cutoffs must be a non-empty list of ints >= 2, got (1, 3)``.
    """
    seq = None
    if not isinstance(values, str | bytes) and hasattr(values, "__iter__"):
        seq = tuple(values)
    try:
        if not seq:
            raise ValueError
        return [check_int(v, name, minimum) for v in seq]
    except ValueError:
        shown = values if seq is None else seq
        raise ValueError(
            f"{name} must be a non-empty list of ints >= {minimum}, got {shown!r}"
        ) from None


def check_choice(value: Any, name: str, choices: Iterable) -> Any:
    """``value`` if it is one of ``choices``; else ``kind must be one of ['a', 'b'], got 'c'``."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_number(value: Any, name: str, minimum: float = 0.0, strict: bool = True) -> float:
    """``value`` as a finite ``float`` ``> minimum`` (``strict``) or ``>= minimum``.

    Accepts Python and NumPy real numbers, refuses ``bool``, NaN and infinities.
    Messages: ``std must be a number > 0, got -1.0``, ``noise must be a number >= 0, got 'x'``.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        x = float(value)
        ok = math.isfinite(x) and (x > minimum if strict else x >= minimum)
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name} must be a number {bound}, got {value!r}")
    return x
