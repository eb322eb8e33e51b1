"""Sweeps: configs x ``--set`` values x seeds as Ray Tune trials (``qgan sweep``).

* :mod:`qgan.sweep.trials`: the trials of a sweep, each validated before anything runs.
* :mod:`qgan.sweep.trial`: one trial as a worker runs it (TensorFlow pinned to its CPUs).
* :mod:`qgan.sweep.store`: the trials' records, persisted as each finishes (resume).
* :mod:`qgan.sweep.runner`: Ray Tune on a local cluster or an existing one.

The report is :mod:`qgan.reports.sweep`. Importing this package imports neither Ray nor
TensorFlow.
"""

from qgan.sweep.store import TrialStore
from qgan.sweep.trials import TrialSpec, expand_trials, parse_set, workload

__all__ = ["TrialSpec", "TrialStore", "expand_trials", "parse_set", "run_sweep", "workload"]


def run_sweep(*args, **kwargs):
    """:func:`qgan.sweep.runner.run_sweep` (imported on use: it imports Ray)."""
    from qgan.sweep.runner import run_sweep as run

    return run(*args, **kwargs)
