"""SF programs built in a loop: one program per value is compiled and traced anew each time.
``simulate`` logs ONE warning of its own naming the fix (free parameters + arguments, with
the docs anchor), and TensorFlow's retracing warning about the engine's internal method
(``CompiledCircuit._simulate``) does not reach the user.

Oracle for the values: a coherent state |alpha> has mean photon number |alpha|^2 (exact;
the cutoff-12 truncation error at alpha <= 0.6 is below 1e-9, tolerance 1e-5 in complex64).
"""

from __future__ import annotations

import logging

import qgan._compat  # noqa: F401  (the SciPy shim SF 0.23 needs)

import numpy as np
import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

from qgan.photonic import simulate

VALUES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _displaced(value, modes=1):
    prog = sf.Program(modes)
    with prog.context as q:
        ops.Dgate(value, 0.0) | q[0]
        if modes > 1:
            ops.BSgate(0.3, 0.0) | (q[0], q[1])
    return prog


def test_a_loop_of_programs_logs_one_warning_of_ours_and_no_tensorflow_retracing(caplog):
    tf_records = _Records()
    tf.get_logger().addHandler(tf_records)
    caplog.set_level(logging.WARNING)
    try:
        means = []
        for value in VALUES:  # the pattern the warning is about (cutoff 12: this test's own)
            n_mean, _ = simulate(_displaced(value), cutoff=12).mean_photon(0)
            means.append(float(n_mean))
    finally:
        tf.get_logger().removeHandler(tf_records)
    np.testing.assert_allclose(means, np.square(VALUES), atol=1e-5)
    ours = [r for r in caplog.records if r.name == "qgan.photonic.simulation"]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    message = ours[0].getMessage()
    assert "prog.params" in message and "docs/engine.md#programs-built-in-a-loop" in message
    assert "Dgate" in message
    retracing = [m for m in tf_records.messages + caplog.messages if "retracing" in m]
    assert retracing == []


def test_one_program_with_a_free_parameter_warns_nothing(caplog):
    caplog.set_level(logging.WARNING)
    prog = sf.Program(1)
    alpha = prog.params("alpha")
    with prog.context as q:
        ops.Dgate(alpha, 0.0) | q[0]
    batched = simulate(prog, cutoff=11, args={"alpha": np.array(VALUES)})
    np.testing.assert_allclose(batched.mean_photon(0)[0].numpy(), np.square(VALUES), atol=1e-5)
    for value in VALUES:
        simulate(prog, cutoff=11, args={"alpha": value})
    assert [r for r in caplog.records if r.name == "qgan.photonic.simulation"] == []


def test_programs_of_different_structures_warn_nothing(caplog):
    caplog.set_level(logging.WARNING)
    simulate(_displaced(0.2, modes=1), cutoff=10)
    simulate(_displaced(0.2, modes=2), cutoff=10)
    assert [r for r in caplog.records if r.name == "qgan.photonic.simulation"] == []
