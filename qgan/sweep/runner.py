"""Sweep trials as Ray Tune trials, on a local Ray cluster or an existing one.

:func:`run_sweep` runs the trials that have no finished record in the sweep's
:class:`~qgan.sweep.store.TrialStore` as a grid of Ray Tune trials (``tune.Tuner`` over
``tune.grid_search`` of the trial ids; ``tune.with_resources`` gives each trial its CPUs,
``TuneConfig.max_concurrent_trials`` caps the concurrency, ``FailureConfig.max_failures``
retries a trial that raised). Tune schedules; nothing here does. A Tune callback in the
driver (``SweepCallback``) writes each trial's record to the store as it finishes (the
workers need not share a filesystem with the driver) and shows the progress.

:func:`ray_cluster` starts a local cluster for the sweep and stops it afterwards (no
``address``), or connects to an existing one (``address="auto"`` or ``"HOST:PORT"``).
From Ray 2.59 a local cluster has token authentication on and would write a generated
token to ``~/.ray/auth_token``; the local cluster gets a fresh random token through the
environment instead (``RAY_AUTH_TOKEN``, inherited by its processes), so nothing needs
setting up and nothing is written outside the sweep's temporary folder. Against an existing
cluster, Ray's own variables apply as set by the user (``RAY_AUTH_MODE``,
``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``, as the cluster was started with).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from qgan.sweep.store import TrialStore
from qgan.sweep.trial import identity, run_trial
from qgan.sweep.trials import TrialSpec

log = logging.getLogger("qgan.sweep")

#: the key under which a trial reports its record to Tune (a JSON text: Tune flattens
#: nested results)
RECORD_KEY = "qgan_record"
#: environment variables set for the sweep (and inherited by a local cluster's workers):
#: trials keep the driver's working directory; Tune writes no result files of its own
#: and leaves SIGINT to Python (a KeyboardInterrupt stops the sweep at once)
SWEEP_ENV = {
    "RAY_CHDIR_TO_TRIAL_DIR": "0",
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
}
#: Ray's loggers, kept to errors on the user's console
RAY_LOGGERS = ("ray", "ray.tune", "ray.train", "ray.air", "ray.data")


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished trials are kept (``finished`` of ``total``)."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} trials finished")
        self.finished, self.total = finished, total


@contextlib.contextmanager
def _environ(values: dict):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def ray_cluster(address: str | None = None, num_cpus: int | None = None, log_file=None):
    """Ray initialised for the block: a new local cluster (``address`` None; ``num_cpus``:
    its CPUs, default all), stopped afterwards, or the existing cluster at ``address``
    (``"auto"`` or ``"HOST:PORT"``), left running. Ray's console output goes to
    ``log_file`` (and Ray's loggers show only errors); the local cluster's files live in a
    temporary folder removed afterwards. Yields the cluster's CPU count."""
    import ray

    env = dict(SWEEP_ENV)
    temp = None
    if address is None:
        temp = tempfile.mkdtemp(prefix="qgan-ray-")
        if "RAY_AUTH_MODE" not in os.environ and not os.environ.get("RAY_AUTH_TOKEN"):
            # token auth stays on, with a token that lives only in this process tree
            env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    levels = {name: logging.getLogger(name).level for name in RAY_LOGGERS}
    for name in RAY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    with _environ(env), _console_to(log_file):
        _refresh_ray_config()
        try:
            kwargs = dict(
                logging_level=logging.ERROR,
                log_to_driver=False,  # the workers' output stays in their log files
                configure_logging=True,
                include_dashboard=False,
            )
            if address is None:
                ray.init(num_cpus=num_cpus, _temp_dir=temp, **kwargs)
            else:
                kwargs.pop("include_dashboard")
                try:
                    ray.init(address=address, **kwargs)
                except (ConnectionError, RuntimeError) as err:
                    line = str(err).strip().splitlines()[0] if str(err).strip() else type(err)
                    raise ValueError(f"--address {address}: cannot connect: {line}") from None
            yield int(ray.cluster_resources().get("CPU", 0))
        finally:
            ray.shutdown()
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
    _refresh_ray_config()


def _refresh_ray_config() -> None:
    """Make this process's Ray read the authentication variables again: Ray caches its
    configuration when imported (Ray refreshes it the same way when it turns token
    authentication on itself, ``ray._private.authentication``)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # a Ray without token authentication: nothing cached
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@contextlib.contextmanager
def _console_to(log_file):
    """File descriptors 1 and 2 of this process go to ``log_file`` for the block (Ray's
    start-up and Tune's reporter print there, not on the user's console); progress goes
    through a duplicate of the original stderr (:data:`PROGRESS_STREAM`)."""
    global PROGRESS_STREAM
    if log_file is None:
        yield
        return
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    progress = os.fdopen(os.dup(2), "w", buffering=1)
    previous, PROGRESS_STREAM = PROGRESS_STREAM, progress
    handlers = _reroute_log_handlers(progress)
    try:
        with open(log_file, "a") as f:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        for handler, stream in handlers:
            handler.setStream(stream)
        PROGRESS_STREAM = previous
        progress.close()


#: where progress is shown while the console is redirected (None: sys.stderr)
PROGRESS_STREAM = None


def _reroute_log_handlers(stream) -> list:
    """Point the root logger's stderr handlers at ``stream`` (qgan's own log lines stay on
    the user's console while Ray's output goes to the log); returns what to restore."""
    out = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (
            sys.stderr,
            sys.__stderr__,
        ):
            out.append((handler, handler.setStream(stream)))
    return out


class Progress:
    """Trials done / running / failed and the best so far: a tqdm bar on a terminal, else
    one log line per finished trial."""

    def __init__(self, total: int, done: int, metric: str | None, higher_is_better: bool):
        from tqdm.auto import tqdm

        self.metric, self.higher = metric, higher_is_better
        self.done, self.failed, self.running, self.best = done, 0, 0, None
        self.total = total
        stream = PROGRESS_STREAM or sys.stderr
        self.bar = None
        if stream.isatty():
            self.bar = tqdm(total=total, initial=done, unit="trial", file=stream, desc="sweep")

    def _postfix(self) -> str:
        best = "-" if self.best is None else f"{self.best[0]:.4g} ({self.best[1]})"
        return f"running {self.running}, failed {self.failed}, best {self.metric} {best}"

    def started(self) -> None:
        """A trial started."""
        self.running += 1
        if self.bar is not None:
            self.bar.set_postfix_str(self._postfix())

    def finished(self, record: dict) -> None:
        """A trial finished (``status`` ok or failed)."""
        self.running = max(0, self.running - 1)
        if record["status"] == "ok":
            self.done += 1
            value = record.get("metrics", {}).get(self.metric)
            if isinstance(value, (int, float)) and (
                self.best is None or (value > self.best[0]) == self.higher and value != self.best[0]
            ):
                self.best = (value, record["trial_id"])
        else:
            self.failed += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(self._postfix())
        else:
            what = (
                f"{self.metric} {record['metrics'].get(self.metric)}"
                if record["status"] == "ok"
                else f"FAILED after {record.get('attempts')} attempts: {record.get('error')}"
            )
            log.info(
                "trial %s: %s; done %d/%d, running %d, failed %d, best %s",
                record["trial_id"],
                what,
                self.done,
                self.total,
                self.running,
                self.failed,
                "-" if self.best is None else f"{self.best[0]:.4g} ({self.best[1]})",
            )

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def _callback_class():
    from ray.tune import Callback

    class SweepCallback(Callback):
        """Persists each trial's record in the driver as the trial finishes or fails for
        good, and feeds the progress display."""

        def __init__(self, specs: dict, store: TrialStore, progress: Progress):
            self.specs, self.store, self.progress = specs, store, progress
            self.written: dict[str, dict] = {}
            self.recoveries: dict[str, int] = {}

        @staticmethod
        def _id(trial) -> str:
            return trial.config["trial"]

        def on_trial_start(self, iteration, trials, trial, **info):
            self.progress.started()

        def on_trial_recover(self, iteration, trials, trial, **info):
            tid = self._id(trial)
            self.recoveries[tid] = self.recoveries.get(tid, 0) + 1
            log.warning("trial %s failed (attempt %d); retrying", tid, self.recoveries[tid])
            self.progress.running = max(0, self.progress.running - 1)

        def on_trial_complete(self, iteration, trials, trial, **info):
            result = trial.last_result or {}
            if RECORD_KEY not in result:
                return  # stopped without a result (an interrupted sweep)
            record = json.loads(result[RECORD_KEY])
            record["attempts"] = self.recoveries.get(self._id(trial), 0) + 1
            self.store.write(record)
            self.written[record["trial_id"]] = record
            self.progress.finished(record)

        def on_trial_error(self, iteration, trials, trial, **info):
            tid = self._id(trial)
            record = {
                **identity(self.specs[tid]),
                "status": "failed",
                "error": _error_line(trial),
                "attempts": self.recoveries.get(tid, 0) + 1,
            }
            self.store.write(record)
            self.written[tid] = record
            self.progress.finished(record)

    return SweepCallback


def _error_line(trial) -> str:
    """The last line of a trial's error (the exception the run raised)."""
    try:
        error = trial.get_error()
    except Exception:  # reading the error back must not stop the sweep, nor hide why
        log.warning("could not read back the error of a failed trial", exc_info=True)
        error = None
    text = str(error or "unknown error").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _trainable(cpus: int):
    from ray import tune

    def sweep_trial(config, specs=None):
        try:
            record = run_trial(specs[config["trial"]], cpus=cpus)
        except Exception:  # in the worker's log (Ray's logs/worker-*.err) with its traceback
            logging.getLogger("qgan.sweep").exception("trial %s failed", config["trial"])
            raise
        tune.report({RECORD_KEY: json.dumps(record)})

    return sweep_trial


def run_sweep(
    specs: list[TrialSpec],
    out,
    *,
    address: str | None = None,
    cpus_per_trial: int = 1,
    max_concurrent: int | None = None,
    retries: int = 1,
    metric: str | None = None,
    higher_is_better: bool = True,
    num_cpus: int | None = None,
) -> dict:
    """Run the trials of ``specs`` that have no finished record under ``out`` (see
    :class:`~qgan.sweep.store.TrialStore`) as Ray Tune trials; returns ``{"ran": n,
    "skipped": n, "failed": n, "wall_s": s, "log": path}``. Each record is written as its
    trial finishes; a trial that raises is retried ``retries`` times, then recorded as
    failed. ``address``: see :func:`ray_cluster`; ``cpus_per_trial``: the CPUs Tune
    reserves for a trial and TensorFlow's thread count in it; ``max_concurrent``: at most
    this many trials at once (default: as many as the CPUs allow); ``metric``,
    ``higher_is_better``: the progress display's "best so far". Ctrl-C raises
    :class:`SweepInterrupted` once Ray is stopped, the finished records kept.
    """
    store = TrialStore(out)
    by_id = {s.trial_id: s for s in specs}
    finished = store.finished(by_id)
    todo = [s for s in specs if s.trial_id not in finished]
    start = time.perf_counter()
    log_file = store.folder / "ray.log"
    summary = {"ran": len(todo), "skipped": len(finished), "failed": 0, "log": str(log_file)}
    if finished:
        log.info("%d of %d trials already finished in %s", len(finished), len(specs), store.folder)
    if not todo:
        return {**summary, "wall_s": 0.0}
    store.folder.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(specs), len(finished), metric, higher_is_better)
    callback = None
    try:
        with ray_cluster(address, num_cpus, log_file) as cpus:
            from ray import tune

            if cpus < cpus_per_trial:
                raise ValueError(f"--cpus-per-trial {cpus_per_trial}: the cluster has {cpus} CPUs")
            callback = _callback_class()(by_id, store, progress)
            trainable = tune.with_resources(
                tune.with_parameters(
                    _trainable(cpus_per_trial), specs={s.trial_id: s.to_dict() for s in todo}
                ),
                {"cpu": cpus_per_trial},
            )
            storage = tempfile.mkdtemp(prefix="qgan-tune-")
            try:
                tuner = tune.Tuner(
                    trainable,
                    param_space={"trial": tune.grid_search([s.trial_id for s in todo])},
                    # a worker runs one trial after another: TensorFlow and qgan are
                    # imported once per concurrency slot, not once per trial (every trial
                    # sets its own seeds and thread pools, so results do not depend on it)
                    tune_config=tune.TuneConfig(
                        max_concurrent_trials=max_concurrent, reuse_actors=True
                    ),
                    run_config=tune.RunConfig(
                        name="sweep",
                        storage_path=storage,
                        failure_config=tune.FailureConfig(max_failures=retries),
                        callbacks=[callback],
                        verbose=0,
                        log_to_file=False,
                    ),
                )
                tuner.fit()
            finally:
                shutil.rmtree(storage, ignore_errors=True)
    except KeyboardInterrupt:
        done = len(store.finished(by_id))
        raise SweepInterrupted(done, len(specs)) from None
    finally:
        progress.close()
    written = callback.written if callback is not None else {}
    summary["failed"] = sum(r["status"] != "ok" for r in written.values())
    missing = [s.trial_id for s in todo if s.trial_id not in written]
    if missing:  # Tune stopped without finishing them (its own interrupt handling)
        raise SweepInterrupted(len(store.finished(by_id)), len(specs))
    return {**summary, "wall_s": time.perf_counter() - start}
