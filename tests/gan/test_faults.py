"""Specification of a GAN run's behaviour under faults: interrupts, kills, damaged run
directories, concurrent resumes and numerical blow-up.

Every run is the shrunken reference config (``tiny_config``: 12 steps, evaluations and
checkpoints every 4 steps, loss lines every 10 steps and at the end). The oracle of every
recovery is the uninterrupted run of the same seed (``reference``): a recovered run ends
with equal ``metrics.jsonl`` records (wall-clock ``time_s`` aside), equal ``losses.jsonl``
records, equal final metrics and equal ``generated.npy``, exactly -- the same ops run in the
same order on the same data and random streams.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import tensorflow as tf

from qgan import _rundir as rundir
from qgan.gan import training
from qgan.gan.config import dump_config
from qgan.gan.training import train

pytestmark = pytest.mark.slow  # every test here trains (seconds each on 2 cores)


def without_times(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time_s"} for r in records]


def assert_equals_reference(run_dir, reference_dir) -> None:
    """The recovered run's logs, final metrics and samples equal the reference's."""
    for name in ("metrics.jsonl", "losses.jsonl"):
        assert without_times(rundir.read_jsonl(run_dir / name)) == without_times(
            rundir.read_jsonl(reference_dir / name)
        ), name
        assert rundir.torn_after(run_dir / name) is None, name
    mine, theirs = (json.loads((d / "metrics.json").read_text()) for d in (run_dir, reference_dir))
    for key in ("metrics", "steps", "weights_from_step", "nonfinite_steps"):
        assert mine[key] == theirs[key], key
    np.testing.assert_array_equal(
        np.load(run_dir / "generated.npy"), np.load(reference_dir / "generated.npy")
    )


def temporary_leftovers(run_dir) -> list[str]:
    return sorted(
        p.name
        for d in (run_dir, run_dir / "checkpoints")
        for p in d.iterdir()
        if p.name.startswith((".tmp-", ".old-")) or p.name.endswith(".tmp")
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def reference(root, tiny_config):
    return train(tiny_config(root / "reference"), progress=False).run_dir


def only_run(folder):
    (run_dir,) = folder.iterdir()
    return run_dir


def with_step_hook(monkeypatch, hook):
    """Make every model that ``training.build`` returns call ``hook(model, losses)`` right
    after each compiled training step, before the loop has seen the step's losses (where a
    signal arriving during the step is delivered); its return value (if not None) replaces
    the step's losses."""
    build = training.build

    def hooked_build(cfg):
        model, *rest = build(cfg)
        step = model.train_step

        def train_step():
            out = step()
            replaced = hook(model, out)
            return out if replaced is None else replaced

        model.train_step = train_step
        return (model, *rest)

    monkeypatch.setattr(training, "build", hooked_build)


# --------------------------------------------------------------------------- SIGINT


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal.signal works only in the main thread; this test runs in another",
)
@pytest.mark.parametrize("at", [6, 8])  # 6: no bookkeeping due; 8: evaluation + checkpoint
def test_sigint_during_a_step_resumes_equal_to_the_uninterrupted_run(
    root, tiny_config, reference, monkeypatch, at
):
    """A SIGINT delivered while step ``at`` runs: the run stops with ``KeyboardInterrupt``
    after finishing that step, with a checkpoint at it, and the resumed run equals the
    reference. (Before: the interrupt landed between the update and the loop's record of
    its losses, and the resumed run's ``losses.jsonl`` differed.)"""
    out = root / f"sigint-{at}"

    def hook(model, _):
        if int(model.step.numpy()) == at:
            os.kill(os.getpid(), signal.SIGINT)

    with_step_hook(monkeypatch, hook)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out), progress=False)
    monkeypatch.undo()
    run_dir = only_run(out)
    assert rundir.latest_checkpoint(run_dir)["step"] == at
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    train(resume=run_dir, progress=False)
    assert_equals_reference(run_dir, reference)


@pytest.mark.parametrize("at", [6, 8])
def test_keyboard_interrupt_from_on_step_resumes_equal(root, tiny_config, reference, at):
    out = root / f"on-step-{at}"

    def interrupt(step, _):
        if step == at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out), progress=False, on_step=interrupt)
    run_dir = only_run(out)
    train(resume=run_dir, progress=False)
    assert_equals_reference(run_dir, reference)


# --------------------------------------------------------------------------- damage


@pytest.fixture(scope="module")
def interrupted(root, tiny_config):
    """A run interrupted after step 10: step checkpoints 8 and 10 (the run keeps two), a
    ``losses.jsonl`` line at 10, evaluations at 4 and 8. Tests copy it before damaging."""
    out = root / "interrupted"

    def interrupt(step, _):
        if step == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(out), progress=False, on_step=interrupt)
    run_dir = only_run(out)
    steps = sorted(p.name for p in (run_dir / "checkpoints").glob("step-*"))
    assert steps == ["step-0000008", "step-0000010"]
    return run_dir


def damaged_copy(interrupted, root, name):
    copy = root / "damaged" / name
    shutil.copytree(interrupted, copy)
    return copy


def garble(path, keep: float = 0.5) -> None:
    """Truncate ``path`` to ``keep`` of its bytes and append garbage."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)] + b"\xff\x00garbage")


def scribble(path) -> None:
    """Overwrite 16 bytes in the middle of ``path`` (its length unchanged)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(255 - b for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def data_file(step_dir):
    (path,) = step_dir.glob("ckpt.data-*")
    return path


DAMAGE = {
    # name: (damage to do, file the warning names, step the resume starts from)
    "latest.json garbled": (
        lambda d: garble(d / "checkpoints" / "latest.json"),
        "latest.json",
        10,
    ),
    "data file garbled": (
        lambda d: scribble(data_file(d / "checkpoints" / "step-0000010")),
        "step-0000010/ckpt",
        8,
    ),
    "data file truncated": (
        lambda d: data_file(d / "checkpoints" / "step-0000010").write_bytes(b"\x00" * 7),
        "step-0000010/ckpt",
        8,
    ),
    "index garbled": (
        lambda d: garble(d / "checkpoints" / "step-0000010" / "ckpt.index"),
        "step-0000010/ckpt",
        8,
    ),
    "step folder missing": (
        lambda d: shutil.rmtree(d / "checkpoints" / "step-0000010"),
        "step-0000010",
        8,
    ),
    "metrics.jsonl first line torn": (
        lambda d: garble(d / "metrics.jsonl", keep=0.02),
        "metrics.jsonl",
        0,
    ),
    "losses.jsonl last line torn": (  # killed while writing step 10's line
        lambda d: (d / "losses.jsonl").write_text('{"step": 10, "d_lo'),
        "losses.jsonl",
        10,  # the checkpoint of step 10 is pending: its loss line is written again
    ),
    "metrics.jsonl last line torn": (
        lambda d: garble(d / "metrics.jsonl", keep=0.9),
        "metrics.jsonl",
        0,  # step 8's record is torn, and the run keeps no checkpoint before it
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_run_resumes_from_the_previous_good_checkpoint(
    interrupted, root, reference, caplog, case
):
    """Each damage falls back to the newest checkpoint that reads and whose logs are whole
    up to its step (a torn log line: one from before it, the initial state if none), with a
    warning naming the damaged file; the finished run equals the reference, and the
    temporary folders a kill left behind are gone."""
    damage, named, start = DAMAGE[case]
    run_dir = damaged_copy(interrupted, root, case.replace(" ", "-"))
    damage(run_dir)
    (run_dir / "checkpoints" / ".tmp-step-0000012-99999").mkdir()  # a kill mid-write
    (run_dir / "checkpoints" / ".tmp-step-0000012-99999" / "ckpt.index").write_bytes(b"x")
    (run_dir / ".metrics.json.abc.tmp").write_bytes(b"{")
    with caplog.at_level(logging.INFO):
        run = training.open_run(None, resume=run_dir)
        run.lock.release()
    assert int(run.model.step.numpy()) == start
    if case.endswith("torn"):
        assert any(named in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    else:
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any(named in w for w in warnings), warnings
    train(resume=run_dir, progress=False)
    assert_equals_reference(run_dir, reference)
    assert temporary_leftovers(run_dir) == []


def test_no_usable_checkpoint_is_one_line_naming_the_file(interrupted, root):
    run_dir = damaged_copy(interrupted, root, "all-damaged")
    for step in (8, 10):
        scribble(data_file(run_dir / "checkpoints" / f"step-{step:07d}"))
    with pytest.raises(ValueError, match=r"no usable checkpoint \(.*step-0000008/ckpt is") as err:
        training.open_run(None, resume=run_dir)
    assert "\n" not in str(err.value)


def test_a_garbled_config_yaml_is_one_line_naming_it(interrupted, root):
    run_dir = damaged_copy(interrupted, root, "config-garbled")
    garble(run_dir / "config.yaml", keep=0.0)
    with pytest.raises(ValueError, match="config.yaml") as err:
        train(resume=run_dir, progress=False)
    assert "\n" not in str(err.value)


# --------------------------------------------------------------------------- lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from qgan._lock import RunLock
    lock = RunLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    time.sleep(600)
    """
)


def test_a_second_resume_of_a_live_run_is_refused_naming_the_holder(interrupted, root):
    """While another process holds the run's lock, a resume is refused in one line naming
    its pid, before anything is built or written; once that process is killed (its lock
    is then stale), the resume goes ahead."""
    run_dir = damaged_copy(interrupted, root, "locked")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*"))
        with pytest.raises(ValueError, match=rf"in use by process {holder.pid} on ") as err:
            train(resume=run_dir, progress=False)
        assert "\n" not in str(err.value)
        assert sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*")) == before
    finally:
        holder.kill()
        holder.wait()
    run = training.open_run(None, resume=run_dir)  # the stale lock is taken over
    run.lock.release()


# --------------------------------------------------------------------------- non-finite


def all_finite(path) -> bool:
    reader = tf.train.load_checkpoint(str(path))
    names = [n for n in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in n]
    return all(
        np.all(np.isfinite(reader.get_tensor(n)))
        for n in names
        if np.issubdtype(np.asarray(reader.get_tensor(n)).dtype, np.floating)
    )


def test_non_finite_weights_stop_the_run_before_anything_is_saved(root, tiny_config, monkeypatch):
    """A weight turned NaN right after the update of step 6 (between the checkpoints of
    steps 4 and 8): step 7's losses are NaN, and the run stops there with one line that
    says how to go on; every checkpoint on disk (``best``, step 4) is finite and loads;
    there is no ``final``."""
    out = root / "nan"

    def hook(model, _):
        if int(model.step.numpy()) == 6:
            var = model.generator.trainable_variables[0]
            var.assign(tf.fill(var.shape, np.nan))

    with_step_hook(monkeypatch, hook)
    with pytest.raises(ValueError, match="diverged at step 7: weight ") as err:
        train(tiny_config(out), progress=False)
    message = str(err.value)
    assert "\n" not in message and "lower train.lr_generator" in message
    run_dir = only_run(out)
    folder = run_dir / "checkpoints"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["best", "step-0000004"]
    for path in (folder / "best" / "ckpt", folder / "step-0000004" / "ckpt"):
        assert all_finite(path), path
    assert rundir.latest_checkpoint(run_dir)["step"] == 4
    training.load_trained_run(run_dir, "best")


def test_data_scaled_to_1e30_stops_the_run_before_any_checkpoint(root, tiny_config):
    """Two clusters at +-1e30 (finite in float32, but their squares are not): the first
    step's weights are not finite, and the run stops in one line before any checkpoint is
    written (so none holds non-finite weights)."""
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(-1, 0.1, (250, 2)), rng.normal(1, 0.1, (250, 2))])
    path = root / "huge.npy"
    np.save(path, (points * 1e30).astype(np.float32))
    out = root / "huge"
    cfg = tiny_config(out, **{"data.kind": "file", "data.path": str(path)})
    with pytest.raises(ValueError, match="diverged at step 1: .* is not finite") as err:
        train(cfg, progress=False)
    assert "\n" not in str(err.value) and "smaller scale" in str(err.value)
    assert not (only_run(out) / "checkpoints").exists()


def test_a_streak_of_skipped_steps_stops_the_run(root, tiny_config, monkeypatch):
    """Steps whose update the model's guard skips (non-finite gradient) with the weights
    still finite: the run goes on through up to ``MAX_NONFINITE_STREAK`` in a row, then
    stops with one line; nothing after the last finite step's checkpoint is saved."""
    monkeypatch.setattr(training, "MAX_NONFINITE_STREAK", 2)
    out = root / "streak"

    def hook(model, losses):
        if int(model.step.numpy()) >= 5:  # steps 5.. report a skipped update
            return {**losses, "nonfinite": tf.constant(1)}
        return None

    with_step_hook(monkeypatch, hook)
    with pytest.raises(ValueError, match="diverged at step 7: the loss or gradient of 3 steps"):
        train(tiny_config(out), progress=False)
    assert rundir.latest_checkpoint(only_run(out))["step"] == 4


# --------------------------------------------------------------------------- kill -9

CHILD = textwrap.dedent(
    """
    import sys
    from qgan.gan.config import load_config
    from qgan.gan.training import train
    cfg = load_config(sys.argv[1])
    def report(step, _):
        print(step, flush=True)
    if len(sys.argv) > 2:
        train(resume=sys.argv[2], progress=False, on_step=report)
    else:
        train(cfg, progress=False, on_step=report)
    """
)


def run_and_kill(config_file, kill_after: int, resume=None) -> None:
    """Train in a child process (a fresh run into ``out``, or ``resume``) and SIGKILL it
    as soon as it reports step ``kill_after``: it dies in that step's bookkeeping or the
    next step, wherever the signal finds it."""
    args = [sys.executable, "-c", CHILD, str(config_file)]
    args += [str(resume)] if resume is not None else []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        for line in child.stdout:
            if int(line) >= kill_after:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL


def test_kill_9_twice_then_resume_equals_the_uninterrupted_run(root, tiny_config, reference):
    """SIGKILL after step 6 (before its next checkpoint), resume, SIGKILL again after step 9,
    then resume to the end: the finished run equals the reference, no temporary folder is
    left, and the lock of the killed processes did not block the resumes."""
    out = root / "kill9"
    config_file = root / "kill9.yaml"
    config_file.write_text(dump_config(tiny_config(out)))
    run_and_kill(config_file, 6)
    run_dir = only_run(out)
    run_and_kill(config_file, 9, resume=run_dir)
    train(resume=run_dir, progress=False)
    assert_equals_reference(run_dir, reference)
    assert temporary_leftovers(run_dir) == []
