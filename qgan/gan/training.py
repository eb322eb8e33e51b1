"""``train(cfg)``: a GAN training run with evaluation, checkpoints and a run directory."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from qgan import _rundir as rundir
from qgan import metrics as qmetrics
from qgan._io import npy_bytes, write_bytes_atomic, write_text_atomic
from qgan.gan import plots
from qgan.gan.config import METRIC_DIRECTION, RunConfig, dump_config, load_config
from qgan.gan.data import make_dataset
from qgan.gan.model import GANModel

log = logging.getLogger("qgan.train")
EVAL_SEED_OFFSET = 7919  # evaluation latents: a fixed stream apart from the training stream
LOG_EVERY = 10
CALIBRATION_SAMPLES = 2048  # latents whose generator features calibrate the decoder


@dataclass
class RunResult:
    """What :func:`train` returns: the run directory and the final metrics record."""

    run_dir: Path
    metrics: dict
    history: list[dict] = field(default_factory=list)


def _data_options(cfg: RunConfig) -> dict:
    d = cfg.data
    keys = ("centers", "std", "weights", "noise", "path")
    return {k: getattr(d, k) for k in keys if getattr(d, k) is not None}


def load_data(cfg: RunConfig):
    """``(train points, reference points, mixture or None)`` for a config.

    The reference set (``train.eval_samples`` points, another seed) is what generated
    samples are compared with; for ``file`` data it is a seeded subsample of the file.
    """
    real, mixture = make_dataset(cfg.data.kind, cfg.data.n_samples, cfg.seed, **_data_options(cfg))
    n_ref = cfg.train.eval_samples
    if mixture is not None:
        reference = mixture.sample(n_ref, np.random.default_rng(cfg.seed + EVAL_SEED_OFFSET))
    elif cfg.data.kind == "moons":
        reference, _ = make_dataset(
            "moons", n_ref, cfg.seed + EVAL_SEED_OFFSET, **_data_options(cfg)
        )
    else:
        pick = np.random.default_rng(cfg.seed).permutation(len(real))[:n_ref]
        reference = real[pick]
    return np.asarray(real, np.float32), np.asarray(reference, np.float32), mixture


def build(cfg: RunConfig):
    """Seeded data and a calibrated :class:`GANModel` for ``cfg``: ``(model, reference,
    mixture, calibration info)``."""
    tf.keras.utils.set_random_seed(cfg.seed)
    real, reference, mixture = load_data(cfg)
    model = GANModel(cfg, real)
    probe_rng = tf.random.Generator.from_seed(cfg.seed + 1)
    z, noise = model.latent_and_noise(CALIBRATION_SAMPLES, probe_rng)
    if cfg.decoder.kind == "mode_assignment" and cfg.generator.samples_outcomes:
        # exact outcome probabilities instead of one sampled outcome per latent: the
        # decoder deals outcomes to clusters by their mass, so give it the mass itself
        probs, rest, _ = model.generator.outcome_distribution((z, noise))
        features = tf.concat([tf.cast(probs, rest.dtype), rest], axis=-1)
    else:
        features, _ = model.generator.features_and_leakage((z, noise))
    info = model.decoder.calibrate(real, features.numpy(), seed=cfg.seed)
    return model, reference, mixture, info


def evaluate(model: GANModel, reference, mixture, cfg: RunConfig) -> tuple[dict, np.ndarray]:
    """Metrics of ``train.eval_samples`` generated points (fixed latent stream)."""
    points, leak = model.generate(cfg.train.eval_samples, cfg.seed + EVAL_SEED_OFFSET)
    result = qmetrics.evaluate(
        points, reference, mixture, max_points=cfg.train.eval_samples, seed=cfg.seed
    )
    grads, _ = model.gradient_entries(cfg.seed + EVAL_SEED_OFFSET)
    result["gradient_flow"] = qmetrics.gradient_flow(grads, grads)
    result["leakage"] = float(np.mean(leak))
    result["leakage_max"] = float(np.max(leak))
    return result, points


def _is_better(metric: str, value: float, best: float | None, min_delta: float) -> bool:
    if best is None or not np.isfinite(best):
        return bool(np.isfinite(value))
    if METRIC_DIRECTION[metric]:
        return value > best + min_delta
    return value < best - min_delta


def train(
    cfg: RunConfig,
    *,
    resume: str | Path | None = None,
    progress: bool = True,
    on_step=None,
) -> RunResult:
    """Train the GAN of ``cfg`` and write its run directory.

    ``resume``: an existing run directory; its own ``config.yaml`` is used (``cfg`` may
    raise ``train.steps`` to train longer and name another ``output.dir``, nothing else may
    differ) and training goes on from its last checkpoint, ending as the uninterrupted run
    would have. ``on_step(step, losses)`` is called after every step (tests use it to
    interrupt a run). Returns a :class:`RunResult`.
    """
    start = time.perf_counter()
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise ValueError(f"--resume {str(run_dir)!r}: not a run directory (no config.yaml)")
        saved = load_config(run_dir / "config.yaml")
        if cfg is not None:
            mine = cfg.model_dump()
            theirs = saved.model_dump()
            mine["train"]["steps"] = theirs["train"]["steps"]
            mine["output"]["dir"] = theirs["output"]["dir"]  # the run directory is given
            if mine != theirs:
                raise ValueError(
                    f"--resume {str(run_dir)!r}: the config differs from the run's config.yaml "
                    "(only train.steps and output.dir may differ)"
                )
            saved = saved.model_copy(
                update={"train": saved.train.model_copy(update={"steps": cfg.train.steps})}
            )
        cfg = saved
    model, reference, mixture, calibration = build(cfg)
    t = cfg.train
    metric = t.early_stopping.metric
    state = {"best_value": None, "best_step": None, "nonfinite_steps": 0, "evals_since_best": 0}
    if resume is None:
        run_dir = rundir.new_run_dir(cfg.output.dir, cfg.name)
        write_text_atomic(run_dir / "config.yaml", dump_config(cfg))
        write_text_atomic(run_dir / "calibration.json", json.dumps(calibration, indent=2))
    else:
        latest = rundir.latest_checkpoint(run_dir) or {}
        if latest:
            model.checkpoint.read(str(run_dir / "checkpoints" / latest["path"])).assert_consumed()
            state.update({k: latest[k] for k in state if k in latest})
            log.info("resumed %s at step %d", run_dir, latest["step"])
        done = int(model.step.numpy())
        # an interrupted step's logging, evaluation and checkpoint are redone on resume
        kept = done - 1 if latest.get("pending") else done
        rundir.truncate_jsonl(run_dir / "metrics.jsonl", kept)
        rundir.truncate_jsonl(run_dir / "losses.jsonl", kept)
    writer = (
        tf.summary.create_file_writer(str(run_dir / "tensorboard"))
        if cfg.output.tensorboard
        else None
    )
    best_path = run_dir / "checkpoints" / "best"
    # losses of the steps since the last losses.jsonl line (checkpointed, so that a resumed
    # run logs the same means as an uninterrupted one)
    window: list[dict] = [] if resume is None else list(latest.get("window", []))

    def save(step, pending=False):
        extra = {**state, "window": window, "pending": pending}
        rundir.save_checkpoint(model.checkpoint, run_dir, step, extra)

    step = int(model.step.numpy())
    step_times: list[float] = []
    trace_time = None
    warned_leakage = False
    bar = tqdm(
        total=t.steps,
        initial=step,
        disable=not progress,
        desc=cfg.name,
        unit="step",
        dynamic_ncols=True,
    )

    def after_step(step) -> bool:
        """Loss log, evaluation and checkpoint due after ``step``; True to stop early."""
        nonlocal window, warned_leakage
        if window and (step % LOG_EVERY == 0 or step == t.steps):
            mean = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
            rundir.append_jsonl(run_dir / "losses.jsonl", {"step": step, **mean})
            if writer is not None:
                with writer.as_default(step=step):
                    for k, v in mean.items():
                        tf.summary.scalar(f"train/{k}", v)
            bar.set_postfix(d=f"{mean['d_loss']:.3f}", g=f"{mean['g_loss']:.3f}")
            window = []
        if step % t.eval_every == 0 or step == t.steps:
            result, _ = evaluate(model, reference, mixture, cfg)
            record = {"step": step, "time_s": time.perf_counter() - start, **result}
            rundir.append_jsonl(run_dir / "metrics.jsonl", record)
            if writer is not None:
                with writer.as_default(step=step):
                    for k, v in result.items():
                        if isinstance(v, (int, float)):
                            tf.summary.scalar(f"eval/{k}", v)
            if result["leakage"] > t.leakage_threshold and not warned_leakage:
                log.warning(
                    "mean norm leakage %.2e exceeds train.leakage_threshold %.0e at step %d: "
                    "raise generator.cutoff",
                    result["leakage"],
                    t.leakage_threshold,
                    step,
                )
                warned_leakage = True
            value = float(result[metric])
            if _is_better(metric, value, state["best_value"], t.early_stopping.min_delta):
                state.update(best_value=value, best_step=step, evals_since_best=0)
                if t.early_stopping.keep_best:
                    rundir.save_named_checkpoint(model.weights_checkpoint, run_dir, "best")
            else:
                state["evals_since_best"] += 1
            bar.set_postfix_str(f"{metric}={value:.4g} best={state['best_value']:.4g}")
            patience = t.early_stopping.patience
            if patience is not None and state["evals_since_best"] >= patience:
                log.info(
                    "early stopping at step %d (%s did not improve for %d evaluations)",
                    step,
                    metric,
                    patience,
                )
                save(step)
                return True
        if step % t.checkpoint_every == 0 or step == t.steps:
            save(step)
        return False

    # While the step's bookkeeping is pending, an interrupt checkpoints the state right after
    # the update (``snapshot``: training RNG, counters, loss window), marked ``pending``:
    # evaluation draws from the training RNG, so a half-done evaluation must not be kept.
    pending, snapshot = False, None

    def take_snapshot():
        return model.rng.state.numpy().copy(), dict(state), list(window)

    try:
        stop = False
        if resume is not None and latest.get("pending"):
            pending, snapshot = True, take_snapshot()
            stop = after_step(step)
            pending = False
        while step < t.steps and not stop:
            tick = time.perf_counter()
            out = model.train_step()
            out = {k: float(v) for k, v in out.items()}
            elapsed = time.perf_counter() - tick
            if trace_time is None:
                trace_time = elapsed
            else:
                step_times.append(elapsed)
            step += 1
            state["nonfinite_steps"] += int(out.pop("nonfinite"))
            window.append(out)
            pending, snapshot = True, take_snapshot()
            if on_step is not None:
                on_step(step, out)
            bar.update(1)
            stop = after_step(step)
            pending = False
    except KeyboardInterrupt:
        landed = int(model.step.numpy())
        if pending:
            rng_state, saved_state, saved_window = snapshot
            model.rng.state.assign(rng_state)
            state.clear()
            state.update(saved_state)
            window = saved_window
        elif landed > step:  # the update ran, its bookkeeping had not started
            step, pending = landed, True
        save(step, pending=pending)
        log.warning(
            "interrupted at step %d; checkpoint saved, resume with --resume %s", step, run_dir
        )
        raise
    finally:
        bar.close()
        if writer is not None:
            writer.close()

    if t.early_stopping.keep_best and best_path.exists():
        model.weights_checkpoint.read(str(best_path / "ckpt")).expect_partial()
    final_ckpt = rundir.save_named_checkpoint(model.weights_checkpoint, run_dir, "final")
    result, points = evaluate(model, reference, mixture, cfg)
    write_bytes_atomic(run_dir / "generated.npy", npy_bytes(points))
    history = rundir.read_jsonl(run_dir / "metrics.jsonl")
    final = {
        "name": cfg.name,
        "seed": cfg.seed,
        "steps": step,
        "weights_from_step": state["best_step"] if t.early_stopping.keep_best else step,
        "selection_metric": metric,
        "stopped_early": step < t.steps,
        "metrics": result,
        "wall_time_s": time.perf_counter() - start,
        "trace_time_s": trace_time,
        "step_time_ms_median": float(np.median(step_times) * 1e3) if step_times else None,
        "nonfinite_steps": state["nonfinite_steps"],
        "n_params": model.n_params,
        "checkpoint": str(final_ckpt.relative_to(run_dir)),
    }
    write_text_atomic(run_dir / "metrics.json", json.dumps(final, indent=2) + "\n")
    if cfg.output.plots:
        write_plots(run_dir, reference, points, mixture, cfg)
    return RunResult(run_dir=run_dir, metrics=final, history=history)


def write_plots(run_dir: Path, reference, points, mixture, cfg: RunConfig) -> None:
    centers = None if mixture is None else mixture.centers
    plots.scatter_samples(
        run_dir / "samples.png",
        reference,
        points,
        centers,
        title=f"{cfg.name} (seed {cfg.seed}): generated vs real",
    )
    losses = rundir.read_jsonl(run_dir / "losses.jsonl")
    if losses:
        plots.loss_curves(run_dir / "losses.png", losses)
    history = rundir.read_jsonl(run_dir / "metrics.jsonl")
    if history:
        keys = (
            "modes_captured",
            "high_quality_fraction",
            "mode_kl",
            "energy_distance",
            "linear_r2_generated",
            "leakage",
        )
        plots.metric_curves(run_dir / "metrics.png", history, keys)


def load_run(run_dir) -> tuple[RunConfig, GANModel]:
    """The config and model of a finished (or checkpointed) run, weights restored."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise ValueError(f"{str(run_dir)!r} is not a run directory (no config.yaml)")
    cfg = load_config(run_dir / "config.yaml")
    model, _, _, _ = build(cfg)
    final = run_dir / "checkpoints" / "final" / "ckpt"
    if final.with_suffix(".index").exists():
        model.weights_checkpoint.read(str(final)).expect_partial()
    else:
        latest = rundir.latest_checkpoint(run_dir)
        if latest is None:
            raise ValueError(f"{str(run_dir)!r} has no checkpoint to sample from")
        model.checkpoint.read(str(run_dir / "checkpoints" / latest["path"])).expect_partial()
    return cfg, model


def sample(run_dir, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points ``[n, d]`` float32 from a trained run's generator."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _, model = load_run(run_dir)
    points, _ = model.generate(n, seed)
    return points
