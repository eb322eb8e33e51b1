"""One sweep trial, as a Ray worker runs it: the run of ``qgan train`` / ``qgan classify``.

:func:`run_trial` pins TensorFlow's thread pools to the trial's CPUs before TensorFlow does
any work (concurrent trials then share a machine without oversubscribing it), makes the
run with the same function the CLI calls (:func:`qgan.gan.training.train` or
:func:`qgan.classify.training.classify`) on the trial's validated config, writes the run's
``report.md`` as the CLI does, and returns the trial's record (see :mod:`qgan.sweep.store`).
"""

from __future__ import annotations

import os
import socket
import time

from qgan.sweep.trials import TrialSpec, config_module


def pin_threads(cpus: int) -> dict:
    """Set TensorFlow's intra- and inter-op thread pools to ``cpus`` threads; returns the
    values TensorFlow reports back (``{"intra_op": n, "inter_op": n}``). Must run before
    TensorFlow executes anything in the process: a pool set later raises ``RuntimeError``,
    which is let through (a trial must not run unpinned silently)."""
    import tensorflow as tf

    threading = tf.config.threading
    if (
        threading.get_intra_op_parallelism_threads() != cpus
        or threading.get_inter_op_parallelism_threads() != cpus
    ):
        threading.set_intra_op_parallelism_threads(cpus)
        threading.set_inter_op_parallelism_threads(cpus)
    return {
        "intra_op": threading.get_intra_op_parallelism_threads(),
        "inter_op": threading.get_inter_op_parallelism_threads(),
    }


#: metrics of the untrained-generator ablation a GAN trial's record carries, as
#: ``untrained_<key>`` (what training the generator adds)
UNTRAINED_KEYS = (
    "modes_captured",
    "high_quality_fraction",
    "mode_kl",
    "mode_weight_error",
    "energy_distance",
    "mmd",
    "leakage",
)


def _gan_record(cfg) -> dict:
    from qgan.gan.training import load_data, train
    from qgan.reports.run import write_run_report
    from qgan.reports.sweep import derived

    result = train(cfg, progress=False)
    write_run_report(result.run_dir)
    final = result.metrics
    _, _, mixture = load_data(cfg)  # the true mode weights: the derived columns need them
    weights = None if mixture is None else list(map(float, mixture.weights))
    metrics = derived(dict(final["metrics"]), weights)
    untrained = derived(dict(final["untrained_generator"]), weights)
    metrics.update({f"untrained_{k}": untrained[k] for k in UNTRAINED_KEYS if k in untrained})
    metrics["wall_time_s"] = final["wall_time_s"]
    return {
        "run_dir": str(result.run_dir),
        "data": cfg.data.kind,
        "generator": cfg.generator.kind,
        "steps": final["steps"],
        "metrics": metrics,
    }


def _classify_record(cfg) -> dict:
    from qgan.classify.training import classify
    from qgan.reports.kinds import write_report

    result = classify(cfg, progress=False)
    write_report(result.run_dir)
    m = result.metrics
    keys = ("accuracy", "train_accuracy", "val_loss", "train_loss", "circuits_executed")
    metrics = {k: m[k] for k in keys if isinstance(m.get(k), (int, float))}
    metrics["wall_time_s"] = m["wall_s"]
    params = m.get("n_params")
    if isinstance(params, dict) and "total" in params:
        metrics["n_params"] = params["total"]
    return {
        "run_dir": str(result.run_dir),
        "data": cfg.data.kind,
        "model": cfg.model.kind,
        "metrics": metrics,
    }


def run_trial(spec: TrialSpec | dict, cpus: int = 1) -> dict:
    """Make the trial's run in this process with TensorFlow pinned to ``cpus`` threads;
    returns its record: the spec's identity (``trial_id``, ``config``, ``name``,
    ``workload``, ``seed``, ``overrides``, ``setting``), ``status: "ok"``, ``run_dir``,
    ``metrics`` (the run's final metrics, with ``wall_time_s``), ``trial_wall_s`` (the
    whole trial, TensorFlow's start-up included), ``threads`` (as TensorFlow reports them),
    ``host`` and ``pid``. Errors of the run propagate (the runner retries the trial)."""
    start = time.perf_counter()
    spec = TrialSpec.from_dict(spec) if isinstance(spec, dict) else spec
    threads = pin_threads(int(cpus))
    cfg = config_module(spec.workload).parse_config(spec.config)
    record = _gan_record(cfg) if spec.workload == "gan" else _classify_record(cfg)
    return {
        **identity(spec),
        "status": "ok",
        **record,
        "trial_wall_s": time.perf_counter() - start,
        "threads": threads,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def identity(spec: TrialSpec) -> dict:
    """The fields of a record that name its trial."""
    return {
        "trial_id": spec.trial_id,
        "config": spec.config_path,
        "name": spec.name,
        "workload": spec.workload,
        "seed": spec.seed,
        "overrides": spec.overrides,
        "setting": spec.setting,
    }
