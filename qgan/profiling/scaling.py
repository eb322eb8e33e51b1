"""Batch scaling and the cutoff x layers sweep of a run config's generator.

Two timed stages (every number measured in the call that returns it, see
:mod:`qgan.profiling.timing`):

* ``generator_fwd_bwd``: the generator alone, compiled with ``tf.function``: latent batch
  -> circuit -> readout features and per-sample leakage, then the gradient of
  ``sum(features) + sum(leakage)`` w.r.t. the generator's weights.
* ``train_step``: one whole compiled GAN training step of :class:`qgan.gan.model.GANModel`
  (``d_steps`` discriminator updates and one generator + decoder update) at that batch.

The sweep times ``generator_fwd_bwd`` per (cutoff, layers) on the compiled engine, with
peak memory, the engine's norm leakage and, optionally, the metrics of a short training
run.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import time

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from qgan._validate import check_int, check_int_list
from qgan.gan.config import RunConfig, parse_config
from qgan.gan.model import build_generator
from qgan.gan.training import build, train
from qgan.profiling.timing import Clock, measure, peak_memory

log = logging.getLogger(__name__)

STAGES = ("generator_fwd_bwd", "train_step")
LATENT_SEED_OFFSET = 104729  # profiling latents: a stream apart from training and evaluation


def with_overrides(cfg: RunConfig, overrides: dict) -> RunConfig:
    """``cfg`` with dotted keys replaced (``{"generator.cutoff": 5}``), validated again."""
    data = cfg.model_dump(mode="json")
    for key, value in overrides.items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return parse_config(data)


def circuit_settings(cfg: RunConfig, what: str, batch, repeats, warmup) -> tuple[int, int, int]:
    """Refuse a config without a CV generator (``what`` names the measurement) and check a
    circuit measurement's counts: ``(batch, repeats, warmup)``, ``batch`` defaulting to
    ``train.batch_size``. One-line ``ValueError`` naming the bad value."""
    if cfg.generator.kind != "cv":
        raise ValueError(
            f"generator.kind: {what} needs a 'cv' generator, got {cfg.generator.kind!r}"
        )
    batch = cfg.train.batch_size if batch is None else check_int(batch, "batch", 1)
    return batch, check_int(repeats, "repeats", 1), check_int(warmup, "warmup", 0)


def profile_inputs(gen, batch: int, seed: int) -> tuple[tf.Tensor, tf.Tensor | None]:
    """The seeded latent batch ``[batch, latent_dim]`` and readout noise ``[batch, n_noise]``
    (None without a stochastic readout) that every profiler measurement feeds ``gen``."""
    rng = tf.random.Generator.from_seed(seed + LATENT_SEED_OFFSET)
    z = gen.sample_latent(batch, rng)
    noise = rng.uniform([batch, gen.n_noise], dtype=z.dtype) if gen.n_noise else None
    return z, noise


def generator_step(gen, jit_compile: bool = False):
    """The compiled ``generator_fwd_bwd`` step: ``(z, noise) -> (loss, gradients, leakage)``.

    ``loss = sum(features) + sum(leakage)``; gradients w.r.t. ``gen.trainable_variables``;
    ``leakage`` ``[B]`` is the engine's per-sample norm leakage ``1 - <psi|psi>``.
    ``jit_compile``: compile the step with XLA (scripts/bench/engine_levers.py measures it).
    """
    variables = gen.trainable_variables

    @tf.function(autograph=False, jit_compile=jit_compile)
    def step(z, noise):
        with tf.GradientTape() as tape:
            features, leakage = gen.features_and_leakage(z if noise is None else (z, noise))
            loss = tf.reduce_sum(features) + tf.cast(tf.reduce_sum(leakage), features.dtype)
        return loss, tape.gradient(loss, variables), leakage

    return step


def batch_scaling(
    cfg: RunConfig,
    batch_sizes,
    repeats: int = 10,
    warmup: int = 2,
    *,
    stages=STAGES,
    clock: Clock | None = None,
    progress: bool = True,
) -> list[dict]:
    """Time each stage of ``cfg``'s model at each batch size.

    Returns one row per (batch, stage), batch sizes in the order given: ``batch``,
    ``stage``, ``ms_per_batch`` (median), ``ms_q25``, ``ms_q75``, ``us_per_sample``,
    ``samples_per_s``, ``first_call_s`` (includes tracing) and ``repeats``.
    The ``train_step`` stage builds the model (data, calibrated decoder) with
    ``train.batch_size`` set to each batch size; its optimiser steps change the weights.
    """
    batches = _batch_sizes(batch_sizes)
    repeats = check_int(repeats, "repeats", 1)
    warmup = check_int(warmup, "warmup", 0)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise ValueError(f"stages must be a non-empty subset of {STAGES}, got {list(stages)}")
    for batch in batches:  # validate every batch size before measuring anything
        with_overrides(cfg, {"train.batch_size": batch})
    gen = build_generator(cfg) if "generator_fwd_bwd" in stages else None
    step = generator_step(gen) if gen is not None else None
    rows = []
    work = [(b, s) for b in batches for s in STAGES if s in stages]
    for batch, stage in tqdm(work, desc="batch scaling", disable=not progress):
        log.info("batch scaling: %s at batch %d", stage, batch)
        if stage == "generator_fwd_bwd":
            z, noise = profile_inputs(gen, batch, cfg.seed)
            timing = measure(functools.partial(step, z, noise), repeats, warmup, clock)
        else:
            model, *_ = build(with_overrides(cfg, {"train.batch_size": batch}))
            timing = measure(model.train_step, repeats, warmup, clock)
        rows.append({"batch": batch, "stage": stage, **timing.row(batch)})
    return rows


def cutoff_layer_sweep(
    cfg: RunConfig,
    cutoffs,
    layers,
    repeats: int = 10,
    quality: bool = False,
    quality_steps: int = 200,
    *,
    warmup: int = 2,
    clock: Clock | None = None,
    progress: bool = True,
) -> list[dict]:
    """Generator cost, memory, leakage and (optionally) quality per (cutoff, layers).

    For every pair, ``cfg`` with ``generator.cutoff`` and ``generator.n_layers`` replaced:
    ``generator_fwd_bwd`` on the compiled engine at ``train.batch_size`` (``us_per_sample``
    median, ``ms_per_batch``, ``first_call_s``), ``peak_memory_mb`` of one warm step above
    the memory live before it (``memory_method`` says how it was read, see
    :class:`qgan.profiling.timing.MemoryPeak`), the engine's norm leakage ``1 - <psi|psi>``
    of the untrained generator on the profiling latent batch (``leakage``: mean per sample;
    ``leakage_max``), and ``quality``: the final metrics of a ``quality_steps``-step
    training run (:func:`qgan.gan.training.train`, run directory in a temporary folder,
    removed afterwards; its wall time in ``quality_wall_s``) or None.
    """
    if cfg.generator.kind != "cv":
        raise ValueError(
            f"generator.kind: the cutoff x layers sweep needs a 'cv' generator, "
            f"got {cfg.generator.kind!r}"
        )
    cutoffs = check_int_list(cutoffs, "cutoffs", 2)
    layers = check_int_list(layers, "layers", 0)
    repeats = check_int(repeats, "repeats", 1)
    warmup = check_int(warmup, "warmup", 0)
    quality_steps = check_int(quality_steps, "quality_steps", 1)
    cells = [(c, n) for c in cutoffs for n in layers]
    configs = {
        cell: with_overrides(cfg, {"generator.cutoff": cell[0], "generator.n_layers": cell[1]})
        for cell in cells
    }
    batch = cfg.train.batch_size
    rows = []
    for cutoff, n_layers in tqdm(cells, desc="cutoff x layers", disable=not progress):
        log.info("sweep: cutoff %d, %d layers, batch %d", cutoff, n_layers, batch)
        cell_cfg = configs[cutoff, n_layers]
        gen = build_generator(cell_cfg)
        step = generator_step(gen)
        z, noise = profile_inputs(gen, batch, cfg.seed)
        call = functools.partial(step, z, noise)
        timing = measure(call, repeats, warmup, clock)
        memory = peak_memory(call)
        leakage = call()[2].numpy()
        row = {
            "cutoff": cutoff,
            "layers": n_layers,
            "batch": batch,
            "us_per_sample": timing.us_per_sample(batch),
            "ms_per_batch": timing.median_s * 1e3,
            "first_call_s": timing.first_call_s,
            "repeats": timing.repeats,
            "peak_memory_mb": memory.mb,
            "memory_method": memory.method,
            "leakage": float(np.mean(leakage)),
            "leakage_max": float(np.max(leakage)),
            "quality": None,
            "quality_wall_s": None,
        }
        if quality:
            row["quality"], row["quality_wall_s"] = _quality(cell_cfg, quality_steps)
        rows.append(row)
    return rows


def _quality(cfg: RunConfig, steps: int) -> tuple[dict, float]:
    """Final metrics and wall seconds of a ``steps``-step training run of ``cfg``."""
    with tempfile.TemporaryDirectory(prefix="qgan-profile-") as tmp:
        short = with_overrides(
            cfg,
            {
                "train.steps": steps,
                "output.dir": tmp,
                "output.plots": False,
                "output.tensorboard": False,
            },
        )
        start = time.perf_counter()
        result = train(short, progress=False)
        return dict(result.metrics["metrics"]), time.perf_counter() - start


def _batch_sizes(values) -> list[int]:
    return check_int_list(values, "batch_sizes", 1)


__all__ = [
    "STAGES",
    "batch_scaling",
    "cutoff_layer_sweep",
    "generator_step",
    "profile_inputs",
    "with_overrides",
]
