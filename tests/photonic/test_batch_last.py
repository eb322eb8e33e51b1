"""Batch-independent blocks applied batch-last give the batch-first state and gradients.

The engine picks batch-last only where it pays (``engine._batch_last_pays``), which small
random programs with small batches rarely reach; here it is forced on for every block
and compared with the batch-first path (checked against SF's fock backend in
``test_agreement.py``) on random programs: reversed and non-adjacent pairs, per-sample
blocks between batch-independent ones, joins of batch-last factors.
Tolerances: ``tol.amplitude`` for kets, ``tol.graph_gradient`` for gradients (the same
terms summed in another order), both relative to max(1, |value|).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import qgan.photonic.plan as planner_module
from qgan.photonic import engine, simulate
from qgan.photonic.plan import PlannerOptions

CASES = [  # seed, modes, cutoff, gates, batch
    (0, 3, 3, 10, 3),
    (1, 4, 3, 14, 2),
    (2, 4, 2, 16, None),
]


def _run(rp, dtype, forced: bool, monkeypatch):
    options = PlannerOptions(batch_last=forced)
    monkeypatch.setattr(planner_module, "DEFAULT_OPTIONS", options)
    monkeypatch.setattr(engine, "_batch_last_pays", lambda *_: True)
    variables = {
        k: tf.Variable(v, dtype=rp.args[k].dtype if hasattr(v, "dtype") else None)
        for k, v in rp.args.items()
    }
    with tf.GradientTape() as tape:
        res = simulate(rp.prog, rp.cutoff, args=variables, batch_size=rp.batch_size, dtype=dtype)
        loss = tf.add_n(
            [tf.reduce_sum(res.quad_expectation(m)[0]) for m in range(rp.n_modes)]
            + [tf.reduce_sum(res.norm())]
        )
    grads = tape.gradient(loss, list(variables.values()))
    return res.ket().numpy(), [np.zeros(1) if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("case", CASES, ids=[f"seed{c[0]}-{c[1]}modes-D{c[2]}" for c in CASES])
@pytest.mark.parametrize("dtype", [tf.complex64, tf.complex128], ids=["c64", "c128"])
def test_batch_last_blocks_give_the_batch_first_state_and_gradients(
    case, dtype, make_random_program, tol, check, monkeypatch
):
    seed, n_modes, cutoff, n_gates, batch = case
    rp = make_random_program(seed, n_modes, cutoff, n_gates, batch=batch, dtype=dtype)
    rp.args = {k: tf.constant(v, check.real_dtype(dtype)) for k, v in rp.args.items()}
    ket_first, grads_first = _run(rp, dtype, False, monkeypatch)
    ket_last, grads_last = _run(rp, dtype, True, monkeypatch)
    check.amplitudes(ket_last, ket_first, tol.amplitude[dtype], "batch-last ket")
    assert max(np.abs(g).max() for g in grads_first) > tol.nontrivial
    for name, g_last, g_first in zip(rp.args, grads_last, grads_first, strict=True):
        check.scaled(g_last, g_first, tol.graph_gradient[dtype], f"gradient of {name}")
