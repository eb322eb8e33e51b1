"""Specification of ``qgan._lock.RunLock``: one writer per run directory, a live holder
named in the refusal, a killed holder's lock taken over. The holders are child processes
(the lock is ``flock``, per open file: a second lock in the same process would be another
holder too, but only a separate process shows what the operating system does on a kill)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from qgan._lock import LOCK_FILE, RunLock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from qgan._lock import RunLock
    RunLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def holder(tmp_path):
    """A child process holding the lock of ``tmp_path`` (killed at the end)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "locked"
    yield child
    child.kill()
    child.wait()


def test_a_live_holder_is_refused_in_one_line_naming_its_pid(tmp_path, holder):
    with pytest.raises(ValueError, match=rf"is in use by process {holder.pid} on ") as err:
        RunLock(tmp_path).acquire()
    assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)


def test_the_lock_of_a_killed_holder_is_taken_over(tmp_path, holder, caplog):
    """SIGKILL gives the holder no chance to clean up; the kernel drops its ``flock``, and
    its record left in the file is reported as taken over."""
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with caplog.at_level(logging.INFO, logger="qgan.lock"):
        lock = RunLock(tmp_path).acquire()
    assert f"process {holder.pid}" in caplog.text and "no longer running" in caplog.text
    record = json.loads((tmp_path / LOCK_FILE).read_text())
    assert record["pid"] == os.getpid()
    lock.release()


def test_release_empties_the_file_and_frees_the_lock(tmp_path, caplog):
    with RunLock(tmp_path) as lock:
        assert lock.held
    assert (tmp_path / LOCK_FILE).read_text() == ""
    with caplog.at_level(logging.INFO, logger="qgan.lock"):
        RunLock(tmp_path).acquire().release()
    assert "took over" not in caplog.text  # a clean release leaves no stale record
