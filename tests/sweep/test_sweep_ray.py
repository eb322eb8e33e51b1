"""Sweeps on real Ray clusters (issue 16): a local cluster started by the sweep, and an
existing head node on 127.0.0.1 reached with ``--address``. Nothing of Ray or TensorFlow
is mocked; trials are tiny (3 training steps), run in Ray worker processes.

* a trial's metrics EQUAL those of the single run ``qgan train CONFIG --seed S`` (with the
  overrides) makes, and its run directory holds the same config, also for a trial made in
  a worker that has already run another trial (workers are reused);
* TensorFlow's thread pools in the worker are the ``--cpus-per-trial``;
* a sweep killed with SIGKILL after a trial finished resumes without re-running it, and
  its report equals an uninterrupted sweep's; Ctrl-C stops it with exit status 130 and one
  line saying how to resume, the finished trial kept;
* a trial whose run fails (data at +-1e30: training diverges at once) is retried, then
  reported failed, on a cluster reached with ``--address``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from commands import qgan_command, run_command

from qgan.sweep.store import TrialStore
from qgan.sweep.trial import UNTRAINED_KEYS
from qgan.sweep.trials import expand_trials

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _comparable(record: dict) -> dict:
    """A record's metrics without the wall times (the only numbers two runs may differ in)."""
    return {k: v for k, v in record["metrics"].items() if k != "wall_time_s"}


def _sweep_argv(path, out, *extra) -> list[str]:
    return [*qgan_command(), "sweep", str(path), "--seeds", "0-1", "--out", str(out), *extra]


def _env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}


def test_trials_equal_single_runs_and_a_killed_sweep_resumes_without_reruns(tmp_path, configs):
    """One test for three requirements, so that CI starts fewer clusters: (1) a two-trial
    sweep on the local cluster whose trials equal the single runs, with TensorFlow pinned
    in the workers; (2) the same sweep through the CLI killed with SIGKILL once a trial
    finished, then resumed: the finished trial is not re-run; (3) the resumed report
    equals the uninterrupted one (1)."""
    from qgan.gan.config import load_config
    from qgan.gan.training import train
    from qgan.sweep import run_sweep

    path = configs.gan(tmp_path)
    specs = expand_trials([path], [0, 1], ["train.steps=3"])
    # one at a time: the second trial runs in the worker the first one used
    summary = run_sweep(specs, tmp_path / "whole", cpus_per_trial=1, max_concurrent=1)
    assert (summary["ran"], summary["skipped"], summary["failed"]) == (2, 0, 0)
    whole = TrialStore(tmp_path / "whole").records([s.trial_id for s in specs])
    assert [r["status"] for r in whole] == ["ok", "ok"]
    assert whole[0]["pid"] == whole[1]["pid"]  # the worker was reused
    for record in whole:
        # thread pinning, observed in the worker process itself (the default here is 2)
        assert record["threads"] == {"intra_op": 1, "inter_op": 1}
        assert record["pid"] != os.getpid()
        # the same run made here, as `qgan train CONFIG --seed S --steps 3` makes it
        cfg = load_config(path, {"train.steps": 3, "seed": record["seed"]})
        single = train(cfg, progress=False)
        expected = single.metrics["metrics"]
        assert {k: record["metrics"][k] for k in expected} == expected
        untrained = single.metrics["untrained_generator"]  # the ablation, as untrained_<key>
        for key in UNTRAINED_KEYS:
            if key in untrained:
                assert record["metrics"][f"untrained_{key}"] == untrained[key], key
        run_dir = Path(record["run_dir"])
        assert (run_dir / "report.md").is_file()
        assert (run_dir / "config.yaml").read_text() == (single.run_dir / "config.yaml").read_text()

    out = tmp_path / "rep"
    store = TrialStore(out)
    argv = _sweep_argv(path, out, "--set", "train.steps=3", "--max-concurrent", "1")
    with open(tmp_path / "log", "w") as log:
        # its own session: SIGKILL reaches the sweep and the local cluster it started
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=_env(), stdout=log, stderr=log, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 300
            while not store.exists() or not list(store.folder.glob("tiny-*.json")):
                assert proc.poll() is None, (tmp_path / "log").read_text()
                assert time.monotonic() < deadline, "no trial finished in 300 s"
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    kept = {p.name: p.read_text() for p in store.folder.glob("tiny-*.json")}
    assert len(kept) == 1, kept

    resumed = run_command(argv, tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "2 trials: 2 finished (1 from an earlier run), 0 failed" in resumed.stdout
    for name, text in kept.items():  # 0 re-runs: the finished trial's record is untouched
        assert (store.folder / name).read_text() == text
    report = json.loads(out.with_suffix(".json").read_text())
    assert [_comparable(r) for r in report["trials"]] == [_comparable(r) for r in whole]


def test_ctrl_c_stops_the_sweep_keeping_finished_trials(tmp_path, configs):
    path = configs.gan(tmp_path)
    out = tmp_path / "rep"
    store = TrialStore(out)
    argv = _sweep_argv(path, out, "--max-concurrent", "1", "--no-targets")
    proc = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a background process may inherit SIGINT ignored; a terminal's Ctrl-C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 300
        while not store.exists() or not list(store.folder.glob("tiny-*.json")):
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no trial finished in 300 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: 1 of 2 trials finished and kept in ")
    assert last.endswith(" --resume") and "Traceback" not in stderr
    assert [r["status"] for r in store.records([p.stem for p in store.folder.glob("*.json")])] == [
        "ok"
    ]
    assert not out.with_suffix(".md").exists()  # no report of a partial sweep


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_address_runs_on_an_existing_cluster_and_a_failing_trial_is_retried(tmp_path, configs):
    good, bad = configs.gan(tmp_path), configs.diverging(tmp_path)
    port = _free_port()
    # a short folder: Ray's socket paths must fit in 107 characters
    temp = tempfile.mkdtemp(prefix="qr", dir="/tmp")
    # the cluster and the sweep share a token, as a user's cluster and shell would
    env = {**_env(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "qgan-test-token"}
    ray = Path(sys.executable).with_name("ray")
    head = [
        str(ray), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
        "--num-cpus", "2", "--temp-dir", temp, "--include-dashboard=false",
        "--disable-usage-stats",
    ]  # fmt: skip
    started = subprocess.Popen(
        head, env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output, _ = started.communicate(timeout=120)
        assert started.returncode == 0, output
        out = tmp_path / "rep"
        argv = [
            *qgan_command(), "sweep", str(good), str(bad), "--seeds", "0", "--out", str(out),
            "--address", f"127.0.0.1:{port}", "--retries", "1", "--cpus-per-trial", "1",
        ]  # fmt: skip
        result = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400
        )
        assert result.returncode == 1, result.stderr[-3000:]
        assert "2 trials: 1 finished (0 from an earlier run), 1 failed (diverges-" in result.stdout
        records = {r["name"]: r for r in json.loads(out.with_suffix(".json").read_text())["trials"]}
        assert records["tiny"]["status"] == "ok"
        assert records["tiny"]["threads"] == {"intra_op": 1, "inter_op": 1}
        failed = records["diverges"]
        assert failed["status"] == "failed" and failed["attempts"] == 2
        assert "training diverged" in failed["error"]
        text = out.with_suffix(".md").read_text()
        assert "failed after 2 attempts: ValueError: training diverged" in text
        assert "retrying" in result.stderr  # the retry is shown
        assert not list(Path.home().glob("ray_results"))
    finally:
        # the head's processes share the session `ray start` opened: only they are stopped
        os.killpg(started.pid, signal.SIGKILL)
        started.wait()
