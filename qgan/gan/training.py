"""``train(cfg)``: a GAN training run with evaluation, checkpoints and a run directory."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from qgan import _rundir as rundir
from qgan import metrics as qmetrics
from qgan._io import npy_bytes, write_bytes_atomic, write_text_atomic
from qgan._lock import RunLock
from qgan._paths import check_output_dir
from qgan.gan import plots
from qgan.gan.config import METRIC_DIRECTION, RunConfig, dump_config, load_config
from qgan.gan.data import make_dataset
from qgan.gan.model import GANModel, build_model
from qgan.gan.resume import resumed_config

log = logging.getLogger("qgan.train")
#: the selection draw: latents and reference sample of the evaluations during training (the
#: draw on which checkpoints are selected), a fixed stream apart from the training stream
EVAL_SEED_OFFSET = 7919
#: the final draw: latents and reference sample of the final metrics, apart from the
#: selection draw (metrics on the draw that picked the checkpoint would be biased upward)
FINAL_SEED_OFFSET = 104729
LOG_EVERY = 10
#: consecutive steps with a non-finite loss or a skipped (non-finite) update tolerated
#: before the run stops; non-finite weights stop it at once. Nothing non-finite is saved.
MAX_NONFINITE_STREAK = 10
NOT_INSTALLED = object()  # no SIGINT handler was installed (not the main thread)


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

    The reference set is the selection draw's (:func:`reference_sample` seeded
    ``seed + EVAL_SEED_OFFSET``): what generated samples are compared with while training.
    """
    real, mixture = make_dataset(cfg.data.kind, cfg.data.n_samples, cfg.seed, **_data_options(cfg))
    real = np.asarray(real, np.float32)
    return real, reference_sample(cfg, real, mixture, cfg.seed + EVAL_SEED_OFFSET), mixture


def reference_sample(cfg: RunConfig, real: np.ndarray, mixture, seed: int) -> np.ndarray:
    """``train.eval_samples`` real points ``[n, d]`` float32 drawn with ``seed``: fresh draws
    of the mixture (or of the moons), apart from the training points; for ``file`` data
    (nothing to draw from but the file) a seeded subsample of the training points."""
    n_ref = cfg.train.eval_samples
    if mixture is not None:
        reference = mixture.sample(n_ref, np.random.default_rng(seed))
    elif cfg.data.kind == "moons":
        reference, _ = make_dataset("moons", n_ref, seed, **_data_options(cfg))
    else:
        reference = real[np.random.default_rng(seed).permutation(len(real))[:n_ref]]
    return np.asarray(reference, np.float32)


def build(cfg: RunConfig):
    """Seeded data and a calibrated :class:`GANModel` for ``cfg``: ``(model, reference,
    mixture, calibration info)``."""
    tf.keras.utils.set_random_seed(cfg.seed)
    real, reference, mixture = load_data(cfg)
    model = build_model(cfg, real)
    if cfg.decoder.calibrate:
        info = model.decoder.calibrate_to(model.generator, real, seed=cfg.seed)
    else:  # anchor-free: the decoder as built from its seed, nothing read from the data
        info = {"calibrated": False}
    return model, reference, mixture, info


def evaluate_generator(
    model: GANModel, reference, mixture, cfg: RunConfig, seed: int | None = None
) -> tuple[dict, np.ndarray]:
    """Metrics of ``train.eval_samples`` generated points (latent stream seeded ``seed``,
    default the selection draw's ``cfg.seed + EVAL_SEED_OFFSET``) against ``reference``,
    with the generator's gradient flow and norm leakage; and the points ``[n, d]``."""
    points, result = _generated_metrics(model, reference, mixture, cfg, seed)
    grads, entries = model.gradient_entries(_draw_seeds(cfg, seed)[0])
    result["gradient_flow"] = qmetrics.gradient_flow(grads, entries)
    return result, points


def _draw_seeds(cfg: RunConfig, seed: int | None) -> tuple[int, int]:
    """``(latent seed, metric subsampling seed)`` of a draw: ``seed`` for both, or for
    ``None`` the selection draw with the subsampling seed it has always had (``cfg.seed``)."""
    return (cfg.seed + EVAL_SEED_OFFSET, cfg.seed) if seed is None else (seed, seed)


def _generated_metrics(model, reference, mixture, cfg, seed) -> tuple[np.ndarray, dict]:
    """Points of the draw ``seed`` (see :func:`_draw_seeds`) and their sample metrics with
    the leakage."""
    latent_seed, subsample_seed = _draw_seeds(cfg, seed)
    points, leak = model.generate(cfg.train.eval_samples, latent_seed)
    result = qmetrics.evaluate(
        points, reference, mixture, max_points=cfg.train.eval_samples, seed=subsample_seed
    )
    result["leakage"] = float(np.mean(leak))
    result["leakage_max"] = float(np.max(leak))
    return points, result


def final_evaluation(model: GANModel, mixture, cfg: RunConfig) -> dict:
    """The final metrics of a trained model, on the final draw (latents and a reference
    sample seeded ``cfg.seed + FINAL_SEED_OFFSET``, apart from the selection draw; the
    reference is drawn from ``mixture``, or from the model's real data where there is
    none): ``{"metrics", "untrained_generator", "points", "reference"}``.

    ``untrained_generator``: the same metrics (gradient flow aside) of the same decoder and
    latents with the generator's weights put back to their untrained values -- what
    training the generator (the circuit, for a CV generator) adds to the result.
    """
    seed = cfg.seed + FINAL_SEED_OFFSET
    reference = reference_sample(cfg, model.real.numpy(), mixture, seed)
    metrics, points = evaluate_generator(model, reference, mixture, cfg, seed)
    with model.untrained_generator():
        _, untrained = _generated_metrics(model, reference, mixture, cfg, seed)
    return {
        "metrics": metrics,
        "untrained_generator": untrained,
        "points": points,
        "reference": reference,
    }


def _finite(variable) -> bool:
    return bool(np.all(np.isfinite(variable.numpy())))


def _is_better(metric: str, value: float, best: float | None, min_delta: float) -> bool:
    if best is None or not np.isfinite(best):
        return bool(np.isfinite(value))
    if METRIC_DIRECTION[metric]:
        return value > best + min_delta
    return value < best - min_delta


@dataclass
class OpenedRun:
    """A run ready to train (:func:`open_run`): its config, directory, calibrated model,
    evaluation data and the latest checkpoint's record (empty for a new run)."""

    cfg: RunConfig
    run_dir: Path
    model: GANModel
    reference: np.ndarray
    mixture: object
    latest: dict = field(default_factory=dict)
    lock: RunLock | None = None


def open_run(
    cfg: RunConfig | None, resume: str | Path | None = None, overrides: dict | None = None
) -> OpenedRun:
    """A new run directory for ``cfg`` (config and calibration written), or the run
    ``resume`` restored from its latest checkpoint, its logs cut back to that step, with
    the config :func:`qgan.gan.resume.resumed_config` gives (``cfg`` optional, checked
    against the run's; ``overrides`` may set ``train.steps``, which ``config.yaml`` then
    records)."""
    if resume is None and cfg is None:
        raise ValueError("a config is required to start a run (or resume=RUN_DIR)")
    if resume is not None:
        cfg = resumed_config(resume, cfg, overrides)
        lock = RunLock(resume).acquire()  # a live run is refused before anything is built
    else:
        check_output_dir(cfg.output.dir)  # before anything is read, built or written
    model, reference, mixture, calibration = build(cfg) if resume is None else (None,) * 4
    if resume is None:
        run_dir = rundir.new_run_dir(cfg.output.dir, cfg.name)
        lock = RunLock(run_dir).acquire()
        write_text_atomic(run_dir / "config.yaml", dump_config(cfg))
        write_text_atomic(run_dir / "calibration.json", json.dumps(calibration, indent=2))
        return OpenedRun(cfg, run_dir, model, reference, mixture, lock=lock)
    run_dir = Path(resume)
    try:
        model, reference, mixture, _ = build(cfg)
        if overrides and "train.steps" in overrides:
            write_text_atomic(run_dir / rundir.CONFIG_FILE, dump_config(cfg))
        rundir.sweep_temporary(run_dir)
        latest = restore_latest(model, run_dir)
        if latest:
            log.info("resumed %s at step %d", run_dir, latest["step"])
        done = int(model.step.numpy())
        # an interrupted step's logging, evaluation and checkpoint are redone on resume
        kept = done - 1 if latest.get("pending") else done
        rundir.truncate_jsonl(run_dir / "metrics.jsonl", kept)
        rundir.truncate_jsonl(run_dir / "losses.jsonl", kept)
    except BaseException:
        lock.release()
        raise
    return OpenedRun(cfg, run_dir, model, reference, mixture, latest, lock)


def restore_latest(model: GANModel, run_dir: Path) -> dict:
    """Restore ``model`` from the newest usable step checkpoint of ``run_dir``; its record
    (``{}``: none, the run starts again from step 0 -- the model as built).

    A checkpoint is usable if its files read (TensorFlow's checksums catch garbled or
    truncated data) and the run's logs are whole up to its step: a torn line in
    ``metrics.jsonl`` or ``losses.jsonl`` (:func:`qgan._rundir.torn_after`) sends the resume
    back to a checkpoint from before it, so the lost record is made again. A damaged
    checkpoint is skipped with a warning naming the file; if checkpoints exist and none is
    usable, a one-line ``ValueError`` names the last damaged one. Step checkpoints newer
    than the one chosen are removed (and ``latest.json`` points at it), so that a later
    resume cannot pick them again.
    """
    folder = run_dir / "checkpoints"
    limit = None
    for name in ("metrics.jsonl", "losses.jsonl"):
        good = rundir.torn_after(run_dir / name)
        if good is not None:
            log.warning(
                "%s has a torn line (records known good up to step %d); the steps after "
                "that are trained again",
                run_dir / name,
                good,
            )
            limit = good if limit is None else min(limit, good)
    chosen, damaged = {}, None
    for record in rundir.checkpoint_candidates(run_dir):
        kept = record["step"] - 1 if record.get("pending") else record["step"]
        if limit is not None and kept > limit:
            continue
        path = folder / record["path"]
        try:
            model.checkpoint.read(str(path)).assert_consumed()
        except Exception as err:  # noqa: BLE001 -- any failure to read: damaged
            damaged = path
            log.warning(
                "checkpoint %s is unreadable (%s); falling back to the previous one",
                path,
                type(err).__name__,
            )
            continue
        chosen = record
        break
    if not chosen and damaged is not None:
        raise ValueError(
            f"--resume {str(run_dir)!r}: no usable checkpoint ({damaged} is damaged, and no "
            "earlier one reads)"
        )
    step = chosen.get("step", -1)
    for step_dir in folder.glob("step-*") if folder.is_dir() else []:
        if step_dir.is_dir() and step_dir.name > f"step-{step:07d}":
            shutil.rmtree(step_dir, ignore_errors=True)
    if chosen:
        write_text_atomic(folder / rundir.LATEST_FILE, json.dumps(chosen))
    elif (folder / rundir.LATEST_FILE).exists():
        (folder / rundir.LATEST_FILE).unlink()
    return chosen


class TrainingLoop:
    """The training loop of an opened run and the state it checkpoints.

    ``state``: best value and step of the selection metric, evaluations since the best,
    non-finite steps; ``window``: losses of the steps since the last ``losses.jsonl`` line.
    Both are saved with every checkpoint, so a resumed run logs and selects as an
    uninterrupted one. The wall time of earlier segments (``elapsed_s`` of the checkpoint)
    is carried on, so ``time_s`` and ``wall_time_s`` count every segment of a run.

    ``progress``: a tqdm bar on stderr, shown only when stderr is a terminal.
    """

    def __init__(self, run: OpenedRun, *, progress: bool = True, start: float | None = None):
        self.run, self.cfg, self.model = run, run.cfg, run.model
        self.start = time.perf_counter() if start is None else start
        latest = run.latest
        self.elapsed_before = float(latest.get("elapsed_s", 0.0))  # earlier segments
        self.state = {"best_value": None, "best_step": None, "nonfinite_steps": 0}
        self.state["evals_since_best"] = 0
        self.nonfinite_streak = 0  # consecutive non-finite steps (MAX_NONFINITE_STREAK)
        self.interrupt_requested = False  # a SIGINT arrived; stop after this step
        self.state.update({k: latest[k] for k in self.state if k in latest})
        self.window: list[dict] = list(latest.get("window", []))
        self.step = int(self.model.step.numpy())
        self.step_times: list[float] = []
        self.trace_time: float | None = None
        self.warned_leakage = False
        self.writer = (
            tf.summary.create_file_writer(str(run.run_dir / "tensorboard"))
            if self.cfg.output.tensorboard
            else None
        )
        self.bar = tqdm(
            total=self.cfg.train.steps,
            initial=self.step,
            disable=None if progress else True,  # None: only on a terminal
            desc=self.cfg.name,
            unit="step",
            dynamic_ncols=True,
        )

    def elapsed(self) -> float:
        """Seconds of wall time of the run so far, earlier segments included."""
        return self.elapsed_before + time.perf_counter() - self.start

    def check_finite(self, step: int, what: str | None = None) -> None:
        """A one-line ``ValueError`` if any weight of the model (or ``what``, a description
        of something already found non-finite) is not finite: the run stops before anything
        is saved, so every checkpoint on disk holds finite weights."""
        if what is None:
            m = self.model
            parts = (m.generator, m.decoder, m.discriminator, m.g_opt, m.dec_opt, m.d_opt)
            bad = [v.name for part in parts for v in part.variables if not _finite(v)]
            if not bad:
                return
            what = f"weight {bad[0]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
        t = self.cfg.train
        raise ValueError(
            f"training diverged at step {step}: {what} is not finite; nothing of this step "
            f"was saved (checkpoints/ holds the last finite weights); start a new run with a "
            f"lower train.lr_generator / train.lr_discriminator (now {t.lr_generator:g} / "
            f"{t.lr_discriminator:g}), or data of a smaller scale"
        )

    def save(self, step: int, pending: bool = False) -> None:
        """Checkpoint the model and the loop state after ``step`` (finite weights only)."""
        self.check_finite(step)
        extra = {**self.state, "window": self.window, "pending": pending}
        extra["elapsed_s"] = self.elapsed()
        rundir.save_checkpoint(self.model.checkpoint, self.run.run_dir, step, extra)

    def log_losses(self, step: int) -> None:
        """Mean losses of the window to ``losses.jsonl`` (and TensorBoard); empties it."""
        mean = {k: float(np.mean([w[k] for w in self.window])) for k in self.window[0]}
        rundir.append_jsonl(self.run.run_dir / "losses.jsonl", {"step": step, **mean})
        if self.writer is not None:
            with self.writer.as_default(step=step):
                for k, v in mean.items():
                    tf.summary.scalar(f"train/{k}", v)
        self.bar.set_postfix(d=f"{mean['d_loss']:.3f}", g=f"{mean['g_loss']:.3f}")
        self.window = []

    def evaluate(self, step: int) -> bool:
        """Evaluation after ``step``: ``metrics.jsonl``, best weights; True to stop early."""
        t, run, state = self.cfg.train, self.run, self.state
        metric = t.early_stopping.metric
        result, _ = evaluate_generator(self.model, run.reference, run.mixture, self.cfg)
        record = {"step": step, "time_s": self.elapsed(), **result}
        rundir.append_jsonl(run.run_dir / "metrics.jsonl", record)
        if self.writer is not None:
            with self.writer.as_default(step=step):
                for k, v in result.items():
                    if isinstance(v, (int, float)):
                        tf.summary.scalar(f"eval/{k}", v)
        if result["leakage"] > t.leakage_threshold and not self.warned_leakage:
            log.warning(
                "mean norm leakage %.2e exceeds train.leakage_threshold %.0e at step %d: "
                "raise generator.cutoff",
                result["leakage"],
                t.leakage_threshold,
                step,
            )
            self.warned_leakage = True
        value = float(result[metric])
        if _is_better(metric, value, state["best_value"], t.early_stopping.min_delta):
            state.update(best_value=value, best_step=step, evals_since_best=0)
            if t.early_stopping.keep_best:
                self.check_finite(step)
                rundir.save_named_checkpoint(self.model.weights_checkpoint, run.run_dir, "best")
        else:
            state["evals_since_best"] += 1
        self.bar.set_postfix_str(f"{metric}={value:.4g} best={state['best_value']:.4g}")
        patience = t.early_stopping.patience
        if patience is not None and state["evals_since_best"] >= patience:
            log.info(
                "early stopping at step %d (%s did not improve for %d evaluations)",
                step,
                metric,
                patience,
            )
            return True
        return False

    def after_step(self, step: int) -> bool:
        """Loss log, evaluation and checkpoint due after ``step``; True to stop early."""
        t = self.cfg.train
        if self.window and (step % LOG_EVERY == 0 or step == t.steps):
            self.log_losses(step)
        if step % t.eval_every == 0 or step == t.steps:
            if self.evaluate(step):
                self.save(step)
                return True
        if step % t.checkpoint_every == 0 or step == t.steps:
            self.save(step)
        return False

    def snapshot(self):
        """What an interrupt restores while a step's bookkeeping is pending: training RNG,
        loop state and loss window right after the update."""
        return self.model.rng.state.numpy().copy(), dict(self.state), list(self.window)

    def restore(self, snapshot) -> None:
        rng_state, state, window = snapshot
        self.model.rng.state.assign(rng_state)
        self.state.clear()
        self.state.update(state)
        self.window = window

    def train_one(self) -> dict:
        """One training step: its losses (floats), timed, added to the window."""
        tick = time.perf_counter()
        out = {k: float(v) for k, v in self.model.train_step().items()}
        elapsed = time.perf_counter() - tick
        if self.trace_time is None:
            self.trace_time = elapsed
        else:
            self.step_times.append(elapsed)
        self.step += 1
        skipped = int(out.pop("nonfinite"))
        self.state["nonfinite_steps"] += skipped
        self.window.append(out)
        if skipped or not all(np.isfinite(v) for v in out.values()):
            self.nonfinite_streak += 1
            self.check_finite(self.step)
            if self.nonfinite_streak > MAX_NONFINITE_STREAK:
                self.check_finite(
                    self.step, f"the loss or gradient of {self.nonfinite_streak} steps in a row"
                )
        else:
            self.nonfinite_streak = 0
        return out

    def loop(self, on_step=None) -> None:
        """Train to ``train.steps`` (or an early stop). ``on_step(step, losses)`` after each
        step. On ``KeyboardInterrupt``, checkpoint the state right after the last update,
        marked ``pending`` while its bookkeeping had not finished (evaluation draws from
        the training RNG, so a half-done evaluation must not be kept), and re-raise.

        A SIGINT (Ctrl-C) in the main thread does not interrupt a step: the step and its
        bookkeeping finish, then the run checkpoints and raises ``KeyboardInterrupt`` (a
        second SIGINT interrupts at once, as above). An interrupt landing inside a step
        could lose the step's losses after its update, and the resumed run's logs would
        differ from an uninterrupted run's."""
        pending, snapshot = False, None
        previous = self._defer_sigint()
        try:
            stop = False
            if self.run.latest.get("pending"):
                pending, snapshot = True, self.snapshot()
                stop = self.after_step(self.step)
                pending = False
            while self.step < self.cfg.train.steps and not stop:
                out = self.train_one()
                pending, snapshot = True, self.snapshot()
                if on_step is not None:
                    on_step(self.step, out)
                self.bar.update(1)
                stop = self.after_step(self.step)
                pending = False
                if self.interrupt_requested:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            landed = int(self.model.step.numpy())
            if pending:
                self.restore(snapshot)
            elif landed > self.step:  # the update ran, its bookkeeping had not started
                self.step, pending = landed, True
            self.save(self.step, pending=pending)
            log.warning(
                "interrupted at step %d; checkpoint saved, resume with --resume %s",
                self.step,
                self.run.run_dir,
            )
            raise
        finally:
            if previous is not NOT_INSTALLED:
                # None: the handler was not Python's; the default one is the best guess
                signal.signal(signal.SIGINT, previous or signal.default_int_handler)
            self.close()

    def _defer_sigint(self):
        """Install the SIGINT handler that asks the loop to stop after the current step
        (main thread only); the handler it replaced, or ``NOT_INSTALLED``."""
        if threading.current_thread() is not threading.main_thread():
            return NOT_INSTALLED

        def request_stop(signum, frame):
            self.interrupt_requested = True
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second one: at once

        return signal.signal(signal.SIGINT, request_stop)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()


def finish_run(loop: TrainingLoop) -> RunResult:
    """Final weights (the best evaluated ones with ``keep_best``) as the ``final``
    checkpoint, final evaluation, ``generated.npy``, ``metrics.json`` and plots."""
    run, cfg, model, state = loop.run, loop.cfg, loop.model, loop.state
    t, run_dir = cfg.train, run.run_dir
    loop.check_finite(loop.step)
    best_path = run_dir / "checkpoints" / "best"
    if t.early_stopping.keep_best and best_path.exists():
        model.weights_checkpoint.read(str(best_path / "ckpt")).expect_partial()
    final_ckpt = rundir.save_named_checkpoint(model.weights_checkpoint, run_dir, "final")
    evaluation = final_evaluation(model, run.mixture, cfg)
    points = evaluation["points"]
    write_bytes_atomic(run_dir / "generated.npy", npy_bytes(points))
    history = rundir.read_jsonl(run_dir / "metrics.jsonl")
    step, times = loop.step, loop.step_times
    final = {
        "name": cfg.name,
        "seed": cfg.seed,
        "steps": step,
        "weights_from_step": state["best_step"] if t.early_stopping.keep_best else step,
        "selection_metric": t.early_stopping.metric,
        "stopped_early": step < t.steps,
        "metrics": evaluation["metrics"],
        "untrained_generator": evaluation["untrained_generator"],
        "evaluation": {
            "selection_seed": cfg.seed + EVAL_SEED_OFFSET,
            "final_seed": cfg.seed + FINAL_SEED_OFFSET,
        },
        "wall_time_s": loop.elapsed(),
        "trace_time_s": loop.trace_time,
        "step_time_ms_median": float(np.median(times) * 1e3) if times else None,
        "nonfinite_steps": state["nonfinite_steps"],
        "n_params": model.n_params,
        "checkpoint": str(final_ckpt.relative_to(run_dir)),
    }
    write_text_atomic(run_dir / "metrics.json", json.dumps(final, indent=2) + "\n")
    if cfg.output.plots:
        plots.write_run_plots(run_dir, evaluation["reference"], points, run.mixture, cfg)
    rundir.sweep_temporary(run_dir)
    return RunResult(run_dir=run_dir, metrics=final, history=history)


def train(
    cfg: RunConfig | None = None,
    *,
    resume: str | Path | None = None,
    overrides: dict | None = None,
    progress: bool = True,
    on_step=None,
) -> RunResult:
    """Train the GAN of ``cfg`` and write its run directory.

    ``resume``: an existing run directory, trained on from its last checkpoint with its own
    ``config.yaml`` (``cfg`` is then optional), ending as the uninterrupted run would have:
    to the run's own ``train.steps``, or to ``overrides["train.steps"]`` (recorded in the
    run's ``config.yaml``). A given ``cfg`` and any other override must agree with the
    run's config (:func:`qgan.gan.resume.resumed_config`; ``cfg``'s ``output.dir`` and
    ``train.steps`` are not compared). ``progress``: a progress bar on a terminal.
    ``on_step(step, losses)`` is called after every step (tests use it to interrupt a
    run). Returns a :class:`RunResult`; its ``wall_time_s`` counts every segment.
    """
    start = time.perf_counter()
    run = open_run(cfg, resume, overrides)
    try:
        loop = TrainingLoop(run, progress=progress, start=start)
        loop.loop(on_step)
        return finish_run(loop)
    finally:
        if run.lock is not None:
            run.lock.release()


#: ``checkpoint`` choices of :func:`load_trained_run` besides a step number
CHECKPOINT_NAMES = ("final", "best", "latest")


def _checkpoints_on_disk(run_dir: Path) -> list[str]:
    """The checkpoints a run holds, as ``--checkpoint`` names them (``final``, ``best``,
    step numbers)."""
    folder = run_dir / "checkpoints"
    names = [n for n in ("final", "best") if (folder / n / "ckpt.index").is_file()]
    steps = sorted(folder.glob("step-*/ckpt.index")) if folder.is_dir() else []
    return names + [str(int(p.parent.name.removeprefix("step-"))) for p in steps]


def load_trained_run(run_dir, checkpoint: str | int | None = None) -> tuple[RunConfig, GANModel]:
    """The config and model of a finished (or checkpointed) run, weights restored.

    ``checkpoint``: ``"final"`` (the final weights, the best evaluated ones with
    ``keep_best``), ``"best"`` (``checkpoints/best``: the best evaluated weights so far),
    ``"latest"`` (the newest step checkpoint), or a step number (``checkpoints/step-N``;
    the run keeps the newest two); ``None``: ``final`` if it exists, else ``latest``. A
    missing checkpoint is a one-line ``ValueError`` naming those that exist.
    """
    run_dir = Path(run_dir)
    if not (run_dir / rundir.CONFIG_FILE).is_file():
        raise ValueError(f"{str(run_dir)!r} is not a run directory (no {rundir.CONFIG_FILE})")
    folder = run_dir / "checkpoints"
    if checkpoint is None:
        checkpoint = "final" if (folder / "final" / "ckpt.index").is_file() else "latest"
    checkpoint = str(checkpoint)
    full = False  # step checkpoints hold the whole training state, named ones the weights
    if checkpoint in ("final", "best"):
        path = folder / checkpoint / "ckpt"
    elif checkpoint == "latest":
        latest = rundir.latest_checkpoint(run_dir)
        path, full = (None, True) if latest is None else (folder / latest["path"], True)
    elif checkpoint.isdigit():
        path, full = folder / f"step-{int(checkpoint):07d}" / "ckpt", True
    else:
        raise ValueError(
            f"checkpoint must be one of {', '.join(CHECKPOINT_NAMES)} or a step number, "
            f"got {checkpoint!r}"
        )
    if path is None or not path.with_suffix(".index").is_file():
        found = ", ".join(_checkpoints_on_disk(run_dir)) or "none"
        raise ValueError(
            f"{str(run_dir)!r} has no {checkpoint!r} checkpoint (checkpoints: {found})"
        )
    cfg = load_config(run_dir / rundir.CONFIG_FILE)
    model, _, _, _ = build(cfg)
    (model.checkpoint if full else model.weights_checkpoint).read(str(path)).expect_partial()
    return cfg, model


def sample(run_dir, n: int, seed: int = 0, checkpoint: str | int | None = None) -> np.ndarray:
    """``n`` points ``[n, d]`` float32 from a trained run's generator, with the weights of
    ``checkpoint`` (see :func:`load_trained_run`; default ``final``, else ``latest``) and
    latents drawn from ``seed``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _, model = load_trained_run(run_dir, checkpoint)
    points, _ = model.generate(n, seed)
    return points
