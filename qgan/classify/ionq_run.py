"""The IonQ cost pre-flight of a whole classifier run (``backend.kind: ionq`` with
``backend.max_cost_usd``): what the run will submit, priced before its first job.

The circuits are counted as the run's circuit accounting counts them
(:class:`qgan.qubit.gradients.CircuitAccount`), per epoch: one forward circuit per
training row, the gradient's circuits per training row (parameter shift ``2 n_params``,
SPSA 2; ``adaptive`` is counted as parameter shift in every epoch, its most expensive
case, since its switch is decided while it runs), the quantum natural gradient's metric
circuits (``train.optimizer: qng``: ``2 depth`` per metric row, :mod:`qgan.qubit.qng`)
and one forward circuit per validation row; after the last epoch one forward circuit per
training and validation row (the final scores). Epochs are grouped by their shots (a shot
schedule's phases). Circuits the backend finds already run (equal keys) are not sent
again, so the count is an upper bound.
"""

from __future__ import annotations

import math

from qgan.qubit.gradients import gradient_circuits_per_sample


def run_phases(cfg, n_train: int, n_val: int, model) -> list[tuple[int, int]]:
    """[(circuits, shots), ...] of a classifier run, one entry per shot setting.

    Args:
        cfg: the run's :class:`qgan.classify.config.ClassifyConfig` (``train.shots`` set).
        n_train / n_val: rows of the training and validation splits.
        model: the run's ``QubitModel`` (its ``n_params`` and ``depth``).
    """
    t = cfg.train
    method = "parameter_shift" if t.gradient == "adaptive" else t.gradient
    per_row = 1 + gradient_circuits_per_sample(method, model.n_params)
    metric = 0
    if getattr(t, "optimizer", "adam") == "qng":
        qng = t.qng_config
        steps = math.ceil(n_train / t.batch_size)
        rows = min(qng.metric_rows or t.batch_size, t.batch_size, n_train)
        metric = math.ceil(steps / qng.metric_every) * rows * 2 * model.depth
    by_shots: dict[int, int] = {}
    for epoch in range(1, t.epochs + 1):
        shots = t.shots_at(epoch)
        by_shots[shots] = by_shots.get(shots, 0) + n_train * per_row + metric + n_val
    last = t.shots_at(t.epochs)
    by_shots[last] += n_train + n_val
    return [(circuits, shots) for shots, circuits in by_shots.items()]


def preflight_run(cfg, backend, model, n_train: int, n_val: int):
    """Price the whole run on ``backend`` (an ``IonQBackend``) and apply its
    ``max_cost_usd`` before anything is submitted: returns the
    :class:`~qgan.qubit.ionq.CostEstimate`, raises
    :class:`~qgan.qubit.ionq.IonQBudgetExceeded` (one line: estimate and limit)."""
    phases = run_phases(cfg, n_train, n_val, model)
    return backend.preflight(model, phases, what=f"run {cfg.name!r}")
