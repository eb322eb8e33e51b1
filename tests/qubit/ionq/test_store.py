"""``qgan.qubit.ionq.store.RunStore``: job records and results in a run directory.

What must hold: a record and a result survive a reload exactly; every file is written
atomically (a write that fails half-way leaves the previous file, never a partial one, and
no temporary file); an unreadable file is skipped with a warning, not a crash; only jobs
that may still deliver results are offered for re-attachment.
"""

from __future__ import annotations

import json
import os

import pytest

from qgan.qubit.ionq.store import CircuitResult, JobRecord, RunStore


def record(name="qgan-abc-1", keys=("k1", "k2"), state="creating", **kw) -> JobRecord:
    return JobRecord(
        name=name,
        kind="batch" if len(keys) > 1 else "single",
        target="simulator",
        shots=100,
        gateset="native",
        circuit_keys=list(keys),
        state=state,
        **kw,
    )


def results_for(rec: JobRecord) -> list[CircuitResult]:
    return [
        CircuitResult(
            key=key,
            job_name=rec.name,
            job_id=rec.job_id,
            index=i,
            kind="probabilities",
            num_qubits=2,
            measurements={"z": [0, 1]},
            values={0: 0.25 * (i + 1), 3: 1 - 0.25 * (i + 1)},
        )
        for i, key in enumerate(rec.circuit_keys)
    ]


def files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_records_and_results_survive_a_reload(tmp_path):
    store = RunStore(tmp_path)
    rec = record(noise={"model": "aria-1"}, native_gates={"1q": 10, "2q": 3})
    store.save_job(rec)
    rec.job_id, rec.state = "id-1", "submitted"
    store.save_job(rec)
    store.save_results(rec, results_for(rec))
    assert files(tmp_path) == ["ionq/jobs/qgan-abc-1.json", "ionq/results/qgan-abc-1.json"]

    again = RunStore(tmp_path)
    (loaded,) = again.jobs.values()
    assert loaded == rec and loaded.state == "completed"
    for want in results_for(rec):
        got = again.result(want.key)
        assert got == want and all(isinstance(k, int) for k in got.values)


def test_files_are_plain_json_and_no_temporary_file_is_left(tmp_path):
    store = RunStore(tmp_path)
    rec = record()
    store.save_job(rec)
    store.save_results(rec, results_for(rec))
    for path in (tmp_path / "ionq").rglob("*"):
        if path.is_file():
            assert not path.name.startswith(".")
            json.loads(path.read_text())


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    rec = record()
    store.save_job(rec)
    before = (tmp_path / "ionq" / "jobs" / "qgan-abc-1.json").read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    rec.state, rec.job_id = "submitted", "id-9"
    with pytest.raises(OSError, match="disk full"):
        store.save_job(rec)
    with pytest.raises(OSError, match="disk full"):
        store.save_results(rec, results_for(rec))
    monkeypatch.undo()
    assert (tmp_path / "ionq" / "jobs" / "qgan-abc-1.json").read_text() == before
    assert files(tmp_path) == ["ionq/jobs/qgan-abc-1.json"]  # no partial or temp file
    assert RunStore(tmp_path).jobs["qgan-abc-1"].state == "creating"


def test_unreadable_files_are_skipped_with_a_warning(tmp_path, caplog):
    store = RunStore(tmp_path)
    good = record(name="good-1", keys=("g",))
    store.save_job(good)
    store.save_results(good, results_for(good))
    (tmp_path / "ionq" / "jobs" / "bad-1.json").write_text("{not json")
    (tmp_path / "ionq" / "results" / "bad-1.json").write_text('{"results": [{"key": 1}]}')
    again = RunStore(tmp_path)
    assert list(again.jobs) == ["good-1"] and again.result("g") is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and all("bad-1.json" in w for w in warnings)


def test_open_jobs_and_attempts(tmp_path):
    store = RunStore(tmp_path)
    states = ["creating", "submitted", "timed_out", "completed", "failed", "canceled"]
    for i, state in enumerate(states):
        store.save_job(record(name=f"qgan-abc-{i + 1}", keys=(f"k{i}",), state=state))
    assert [r.state for r in store.open_jobs()] == ["creating", "submitted", "timed_out"]
    assert store.attempts("qgan-abc") == 6 and store.attempts("qgan-xyz") == 0
    summary = RunStore(tmp_path).summary()
    assert summary["jobs"] == 6 and summary["circuits_submitted"] == 6
    assert summary["shots"] == 600 and summary["results"] == 0
    assert summary["states"] == {s: 1 for s in states}


def test_memory_store_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = RunStore(None)
    rec = record()
    store.save_job(rec)
    store.save_results(rec, results_for(rec))
    assert store.result("k1") is not None and store.jobs[rec.name].state == "completed"
    assert list(tmp_path.iterdir()) == []


def test_reading_creates_nothing(tmp_path):
    RunStore(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
