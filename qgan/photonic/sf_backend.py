"""The reference path: the same program on Strawberry Fields' own ``tf`` backend.

Slow by design (SF builds gate matrices in NumPy and re-runs its Python engine on every
call); it exists as the baseline that benchmarks compare against and as a cross-check.
"""

from __future__ import annotations

import strawberryfields as sf
import tensorflow as tf

from qgan.photonic.program import parse_program


def run(prog, cutoff: int, values: dict, batch_size: int | None, dtype: tf.DType):
    """Run ``prog`` on SF's ``tf`` backend; returns ``(ket, "pure")`` (``[B, D, ...]`` or
    ``[D, ...]``) or, for a program with channels or a ``Thermal`` preparation,
    ``(density matrix, "dm")`` in SF's layout."""
    if batch_size == 1:
        # SF's tf backend refuses batch_size=1 ("batch_size must be at least 2"): run the one
        # sample unbatched and restore the batch axis, so the reference path takes any batch.
        single = {k: _first(v) for k, v in values.items()}
        state, kind = run(prog, cutoff, single, None, dtype)
        return state[None], kind
    options = {"cutoff_dim": cutoff, "dtype": dtype}
    if batch_size is not None:
        options["batch_size"] = batch_size
    eng = sf.Engine("tf", backend_options=options)
    state = eng.run(prog, args=dict(values)).state
    if parse_program(prog).is_mixed:
        return state.dm(), "dm"
    if not state.is_pure:
        raise ValueError(
            "backend='sf': Strawberry Fields returned a mixed state (its backends trace out a "
            "mode when it is prepared in a multi-mode program); use backend='compiled'"
        )
    return state.ket(), "pure"


def _first(value):
    """The one sample of a per-sample argument of shape ``[1]``; shared scalars unchanged."""
    value = tf.convert_to_tensor(value)
    return value[0] if value.shape.rank == 1 else value
