"""Specification: batch scaling and the cutoff x layers sweep (``qgan.profiling.scaling``).

Every reported time is derived from the injected clock (so nothing is a constant or an
estimate); the leakage is the engine's, checked against ``1 - <psi|psi>`` computed from
the generator's ket; the sweep's quality is a real short training run's metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from qgan.gan.config import load_config
from qgan.gan.model import build_generator
from qgan.profiling.scaling import (
    batch_scaling,
    cutoff_layer_sweep,
    generator_step,
    profile_inputs,
    with_overrides,
)

ROOT = Path(__file__).resolve().parents[2]
ROW_KEYS = {
    "batch",
    "stage",
    "ms_per_batch",
    "ms_q25",
    "ms_q75",
    "us_per_sample",
    "samples_per_s",
    "first_call_s",
    "repeats",
}
SWEEP_KEYS = {
    "cutoff",
    "layers",
    "batch",
    "us_per_sample",
    "ms_per_batch",
    "first_call_s",
    "repeats",
    "peak_memory_mb",
    "memory_method",
    "leakage",
    "leakage_max",
    "quality",
    "quality_wall_s",
}


@pytest.fixture(scope="module")
def cfg(tiny_config):
    return tiny_config(**{"train.batch_size": 4})


def _expected_row(durations, batch):
    first, times = durations[0], np.array(durations[1:])
    median = np.median(times)
    return {
        "ms_per_batch": median * 1e3,
        "ms_q25": np.percentile(times, 25) * 1e3,
        "ms_q75": np.percentile(times, 75) * 1e3,
        "us_per_sample": median / batch * 1e6,
        "samples_per_s": batch / median,
        "first_call_s": first,
        "repeats": len(times),
    }


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_batch_scaling_rows_are_derived_from_the_clock(cfg, scripted_clock):
    durations = [[3.0, 0.004, 0.006, 0.005], [2.0, 0.002, 0.001, 0.003]]
    clock = scripted_clock(durations[0] + durations[1])
    rows = batch_scaling(
        cfg,
        [8, 2],
        repeats=3,
        warmup=1,
        stages=("generator_fwd_bwd",),
        clock=clock,
        progress=False,
    )
    assert clock.used == 8
    assert [(r["batch"], r["stage"]) for r in rows] == [
        (8, "generator_fwd_bwd"),
        (2, "generator_fwd_bwd"),
    ]
    for row, measured in zip(rows, durations, strict=True):
        assert set(row) == ROW_KEYS
        expected = _expected_row(measured, row["batch"])
        assert {k: row[k] for k in expected} == pytest.approx(expected)


@pytest.fixture(scope="module")
def quick_cfg(cfg):
    """``cfg`` with the straight-through outcome gradient: a smaller GAN step to trace."""
    return with_overrides(cfg, {"train.outcome_gradient": "straight_through"})


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_train_step_stage_times_the_compiled_gan_step(quick_cfg, scripted_clock):
    clock = scripted_clock([4.0, 0.02, 0.03])
    (row,) = batch_scaling(
        quick_cfg, [4], repeats=2, warmup=0, stages=("train_step",), clock=clock, progress=False
    )
    assert clock.used == 3 and set(row) == ROW_KEYS
    assert row["stage"] == "train_step" and row["batch"] == 4
    assert row == pytest.approx({**row, **_expected_row([4.0, 0.02, 0.03], 4)})


def test_real_timings_are_positive_and_consistent(cfg):
    (row,) = batch_scaling(
        cfg, [4], repeats=3, warmup=1, stages=("generator_fwd_bwd",), progress=False
    )
    assert 0 < row["ms_q25"] <= row["ms_per_batch"] <= row["ms_q75"]
    assert row["us_per_sample"] == pytest.approx(row["ms_per_batch"] * 1e3 / 4)
    assert row["samples_per_s"] == pytest.approx(4 / (row["ms_per_batch"] / 1e3))


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_generator_step_matches_the_eager_gradient(cfg, tol, check):
    """The compiled ``generator_fwd_bwd`` step computes the gradient an eager tape does."""
    gen = build_generator(cfg)
    z, noise = profile_inputs(gen, 4, cfg.seed)
    loss, grads, leakage = generator_step(gen)(z, noise)
    with tf.GradientTape() as tape:
        features, eager_leakage = gen.features_and_leakage((z, noise))
        eager_loss = tf.reduce_sum(features) + tf.reduce_sum(eager_leakage)
    eager_grads = tape.gradient(eager_loss, gen.trainable_variables)
    check.scaled(loss, eager_loss.numpy(), tol.graph[tf.complex64], "loss")
    check.scaled(leakage, eager_leakage.numpy(), tol.graph[tf.complex64], "leakage")
    for g, e in zip(grads, eager_grads, strict=True):
        check.gradients(g.numpy(), e.numpy(), tol.observable[tf.complex64])


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_sweep_over_tiny_settings(cfg, scripted_clock, tol):
    durations = [[1.5, 0.003, 0.001], [1.7, 0.005, 0.007]]
    clock = scripted_clock(durations[0] + durations[1])
    rows = cutoff_layer_sweep(cfg, [2, 3], [1], repeats=2, warmup=0, clock=clock, progress=False)
    assert clock.used == 6
    assert [(r["cutoff"], r["layers"]) for r in rows] == [(2, 1), (3, 1)]
    for row, measured in zip(rows, durations, strict=True):
        assert set(row) == SWEEP_KEYS
        assert row["batch"] == 4 and row["repeats"] == 2
        expected = _expected_row(measured, 4)
        assert row["us_per_sample"] == pytest.approx(expected["us_per_sample"])
        assert row["ms_per_batch"] == pytest.approx(expected["ms_per_batch"])
        assert row["first_call_s"] == pytest.approx(measured[0])
        assert row["memory_method"] in ("tf_allocator", "rss_hwm", "unavailable")
        assert (row["peak_memory_mb"] is None) == (row["memory_method"] == "unavailable")
        # leakage: the engine's, against 1 - <psi|psi> of the same circuit and arguments
        cell = with_overrides(
            cfg, {"generator.cutoff": row["cutoff"], "generator.n_layers": row["layers"]}
        )
        gen = build_generator(cell)
        z, _ = profile_inputs(gen, 4, cfg.seed)
        ket = gen.state(z).ket().numpy().astype(np.complex128).reshape(4, -1)
        leak = 1.0 - np.sum(np.abs(ket) ** 2, axis=1)
        assert leak.min() > tol.nontrivial  # a truncation this small must leak
        assert row["leakage"] == pytest.approx(leak.mean(), abs=tol.observable[tf.complex64])
        assert row["leakage_max"] == pytest.approx(leak.max(), abs=tol.observable[tf.complex64])
        assert row["quality"] is None and row["quality_wall_s"] is None


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_sweep_quality_is_a_short_training_run(quick_cfg, design_metrics):
    (row,) = cutoff_layer_sweep(
        quick_cfg, [3], [1], repeats=1, quality=True, quality_steps=1, warmup=0, progress=False
    )
    mixture_keys, any_keys = design_metrics
    assert set(mixture_keys) | set(any_keys) <= set(row["quality"])
    assert 0 <= row["quality"]["high_quality_fraction"] <= 1
    assert row["quality_wall_s"] > 0 and row["us_per_sample"] > 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: batch_scaling(c, [0]), r"^batch_sizes must be a .* ints >= 1, got \(0,\)$"),
        (lambda c: batch_scaling(c, []), r"^batch_sizes must be a non-empty list .*, got \(\)$"),
        (lambda c: batch_scaling(c, [4], stages=("bogus",)), "^stages must be"),
        (lambda c: batch_scaling(c, [4], repeats=0), "^repeats must be"),
        (lambda c: cutoff_layer_sweep(c, [1], [1]), r"^cutoffs must be a .* >= 2, got \(1,\)$"),
        (lambda c: cutoff_layer_sweep(c, [3], [-1]), r"^layers must be a .* >= 0, got \(-1,\)$"),
        (lambda c: cutoff_layer_sweep(c, [3], "1"), "^layers must be a non-empty .*, got '1'$"),
    ],
)
def test_bad_arguments_are_one_line_errors(cfg, call, message):
    with pytest.raises(ValueError, match=message):
        call(cfg)


def test_batch_sizes_are_validated_against_the_config(tiny_config):
    packed = tiny_config(
        **{
            "train.outcome_gradient": "straight_through",
            "discriminator.pack": 2,
            "train.batch_size": 4,
        }
    )
    with pytest.raises(ValueError, match="^config key train.batch_size: must be a multiple"):
        batch_scaling(packed, [4, 3], progress=False)


def test_sweep_needs_a_cv_generator():
    classical = load_config(ROOT / "configs" / "bimodal_classical.yaml")
    with pytest.raises(ValueError, match="^generator.kind: "):
        cutoff_layer_sweep(classical, [3], [1])
