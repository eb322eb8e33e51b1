"""qgan._resources: the memory budget, the size arithmetic and the one-line refusal."""

from __future__ import annotations

import pytest

from qgan import _resources
from qgan._resources import available_memory, dense_bytes, human, largest, state_bytes


def test_memory_budget_comes_from_the_environment_override(monkeypatch):
    monkeypatch.setenv("QGAN_MEMORY_BYTES", "123456789")
    assert available_memory() == 123456789
    monkeypatch.setenv("QGAN_MEMORY_BYTES", "lots")
    with pytest.raises(ValueError, match="QGAN_MEMORY_BYTES must be an int >= 1"):
        available_memory()


def test_memory_budget_reads_memavailable(monkeypatch):
    """Without the override: /proc/meminfo's MemAvailable (kB), a positive byte count."""
    monkeypatch.delenv("QGAN_MEMORY_BYTES", raising=False)
    with open("/proc/meminfo") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    assert available_memory() == pytest.approx(kb * 1024, rel=0.5)  # it moves while we read


@pytest.mark.parametrize(
    ("n", "text"),
    [(512, "512 B"), (3_300_000_000_000, "3.3 TB"), (12 * 10**9, "12 GB"), (10**40, "1.0e+40 B")],
)
def test_human_sizes(n, text):
    assert human(n) == text


def test_largest_is_a_bisection_on_a_monotone_predicate():
    assert largest(lambda v: v * v <= 1000, 1, 10**12) == 31  # 31^2 = 961, 32^2 = 1024
    assert largest(lambda v: v <= 0, 1, 100) is None
    assert largest(lambda v: True, 3, 3) == 3


def test_sizes_are_exact_python_ints():
    """cutoff 4 on 40 modes: 4**40 amplitudes, no OverflowError and no float rounding."""
    assert state_bytes(4**40, 256, 8, 10) == 4**40 * 256 * 8 * 11
    # [2 -> 3 -> 1]: 2*3+3 + 3*1+1 = 13 weights, x4 (Adam), + 2 x batch 5 x (2+3+1) activations
    assert dense_bytes([2, 3, 1], 5) == 4 * (4 * 13 + 2 * 5 * 6)


def test_refusal_names_the_key_furthest_above_its_default(monkeypatch):
    """need = x * y = 300 bytes against 100: x (10x its default) is blamed; x = 33 is the
    largest with 33 * 3 <= 100, y = 1 the largest with 100 * y <= 100."""
    monkeypatch.setenv("QGAN_MEMORY_BYTES", "100")
    with pytest.raises(ValueError) as err:
        _resources.check_fits(
            "a thing",
            lambda s: s["a.x"] * s["a.y"],
            {"a.x": 100, "a.y": 3},
            {"a.x": 10, "a.y": 3},
            {"a.x": (1, 100), "a.y": (1, 3)},
        )
    assert str(err.value) == (
        "a.x: a thing needs 300 B, 100 B are available; the largest x that fits is 33 (or a.y 1)"
    )
