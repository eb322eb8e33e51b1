"""Specification: ``simulate`` refuses states that cannot fit in memory before allocating.

The need is ``cutoff ** n_modes`` amplitudes x batch x the dtype's size x the gradient's
working set (one kept state per gate, plus the state: ``qgan._resources.state_bytes``),
against the memory available (fixed here with ``QGAN_MEMORY_BYTES``). The refusal is one
line naming ``batch_size``, the size needed and the largest batch that fits; that batch
must really fit and one more must not.
"""

from __future__ import annotations

import re
import time

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import pytest
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan import _resources
from qgan.photonic import simulate


def _program(n_modes: int):
    prog = sf.Program(n_modes)
    alpha = prog.params("alpha")
    with prog.context as q:
        for i in range(n_modes):
            ops.Dgate(alpha) | q[i]
        for i in range(n_modes - 1):
            ops.BSgate(0.3, 0.1) | (q[i], q[i + 1])
    return prog


def test_a_state_too_large_for_memory_is_one_line_with_the_largest_batch(monkeypatch):
    n_modes, cutoff, batch = 8, 6, 256  # 1.7e6 amplitudes per sample: 55 GB in all
    gates = 2 * n_modes - 1
    monkeypatch.setenv(_resources.MEMORY_ENV, str(4 * 10**9))
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        simulate(_program(n_modes), cutoff, args={"alpha": tf.zeros([batch])})
    assert time.perf_counter() - start < 5.0  # refused, not attempted
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("batch_size: a state of 6^8 x 256 complex64 amplitudes")
    assert "4.0 GB are available" in message
    largest = int(re.search(r"the largest batch_size that fits is (\d+)", message).group(1))
    need = lambda b: _resources.state_bytes(cutoff**n_modes, b, 8, gates)  # noqa: E731
    assert need(largest) <= 4 * 10**9 < need(largest + 1)


def test_a_single_state_too_large_names_the_largest_cutoff(monkeypatch):
    monkeypatch.setenv(_resources.MEMORY_ENV, str(10**6))
    with pytest.raises(ValueError) as info:
        simulate(_program(6), 12, args={"alpha": 0.1}, dtype=tf.complex128)
    message = str(info.value)
    assert message.startswith("cutoff: a state of 12^6 x 1 complex128 amplitudes")
    largest = int(re.search(r"the largest cutoff that fits is (\d+)", message).group(1))
    need = lambda d: _resources.state_bytes(d**6, 1, 16, 11)  # noqa: E731
    assert need(largest) <= 10**6 < need(largest + 1)


def test_a_state_that_fits_runs(monkeypatch, tol):
    monkeypatch.setenv(_resources.MEMORY_ENV, str(10**8))
    res = simulate(_program(3), 4, args={"alpha": tf.fill([5], 0.1)})
    assert res.ket().shape == (5, 4, 4, 4)
    assert float(tf.reduce_max(tf.abs(res.leakage()))) < 1e-3
