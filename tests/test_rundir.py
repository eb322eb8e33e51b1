"""Specification of ``qgan._rundir``: run-directory names, JSON-lines logs that survive a
kill mid-write, and atomic checkpoints (written aside and renamed into place; ``latest.json``
always names a checkpoint that exists; only the newest ``keep`` are kept).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from qgan import _rundir as rundir

# --------------------------------------------------------------------------- run directories


def test_new_run_dir_is_name_dash_timestamp_and_unique(tmp_path):
    root = tmp_path / "runs" / "nested"
    first = rundir.new_run_dir(root, "bimodal")
    second = rundir.new_run_dir(root, "bimodal")
    assert first.is_dir() and second.is_dir() and first != second
    assert first.parent == root
    assert re.fullmatch(r"bimodal-\d{8}-\d{6}(-\d+)?", first.name)
    assert re.fullmatch(r"bimodal-\d{8}-\d{6}(-\d+)?", second.name)


# --------------------------------------------------------------------------- JSON lines


def test_append_then_read_round_trips(tmp_path):
    path = tmp_path / "log.jsonl"
    records = [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25, "list": [1, 2]}]
    for r in records:
        rundir.append_jsonl(path, r)
    assert rundir.read_jsonl(path) == records
    assert path.read_text().count("\n") == len(records)


def test_missing_file_reads_as_no_records(tmp_path):
    assert rundir.read_jsonl(tmp_path / "absent.jsonl") == []


def test_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "log.jsonl"
    rundir.append_jsonl(path, {"step": 1})
    rundir.append_jsonl(path, {"step": 2})
    full = json.dumps({"step": 3, "loss": 0.125})
    with open(path, "a") as handle:  # a kill in the middle of the third write
        handle.write(full[: len(full) // 2])
    assert rundir.read_jsonl(path) == [{"step": 1}, {"step": 2}]


def test_truncate_keeps_records_up_to_the_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    for step in (4, 8, 12, 16):
        rundir.append_jsonl(path, {"step": step, "value": step / 2})
    with open(path, "a") as handle:
        handle.write('{"step": 20, "val')
    rundir.truncate_jsonl(path, 12)
    assert rundir.read_jsonl(path) == [{"step": s, "value": s / 2} for s in (4, 8, 12)]
    assert path.read_text().endswith("\n")  # the torn line is gone, appends start clean
    rundir.append_jsonl(path, {"step": 13})
    assert [r["step"] for r in rundir.read_jsonl(path)] == [4, 8, 12, 13]


def test_truncate_of_a_missing_file_creates_nothing(tmp_path):
    rundir.truncate_jsonl(tmp_path / "absent.jsonl", 3)
    assert not (tmp_path / "absent.jsonl").exists()


# --------------------------------------------------------------------------- checkpoints


@pytest.fixture
def ckpt():
    var = tf.Variable(np.zeros(3, np.float32))
    return var, tf.train.Checkpoint(v=var)


def restored_value(path) -> np.ndarray:
    var = tf.Variable(np.full(3, -1.0, np.float32))
    tf.train.Checkpoint(v=var).read(str(path)).assert_consumed()
    return var.numpy()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_save_checkpoint_keeps_the_newest_and_points_latest_at_it(tmp_path, ckpt):
    var, checkpoint = ckpt
    for step in (5, 10, 15, 20):
        var.assign(np.full(3, step, np.float32))
        final = rundir.save_checkpoint(checkpoint, tmp_path, step, {"best_step": step - 5}, keep=2)
        assert final.is_dir()
        latest = rundir.latest_checkpoint(tmp_path)
        assert latest["step"] == step and latest["best_step"] == step - 5
        np.testing.assert_array_equal(
            restored_value(tmp_path / "checkpoints" / latest["path"]), np.full(3, step)
        )
    folder = tmp_path / "checkpoints"
    assert sorted(p.name for p in folder.glob("step-*")) == ["step-0000015", "step-0000020"]
    assert leftovers(folder) == []  # no .tmp-* (or other hidden) folders left behind


def test_pruning_leaves_named_checkpoints_alone(tmp_path, ckpt):
    var, checkpoint = ckpt
    rundir.save_named_checkpoint(checkpoint, tmp_path, "best")
    for step in range(1, 5):
        rundir.save_checkpoint(checkpoint, tmp_path, step, {}, keep=1)
    folder = tmp_path / "checkpoints"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["best", "step-0000004"]


def test_saving_a_step_again_replaces_it(tmp_path, ckpt):
    var, checkpoint = ckpt
    rundir.save_checkpoint(checkpoint, tmp_path, 3, {"pending": True})
    var.assign([7.0, 8.0, 9.0])
    rundir.save_checkpoint(checkpoint, tmp_path, 3, {"pending": False})
    latest = rundir.latest_checkpoint(tmp_path)
    assert latest["pending"] is False
    np.testing.assert_array_equal(
        restored_value(tmp_path / "checkpoints" / latest["path"]), [7.0, 8.0, 9.0]
    )
    assert leftovers(tmp_path / "checkpoints") == []


class FailingCheckpoint:
    """Writes part of a checkpoint, then dies (a kill or a full disk mid-write)."""

    def write(self, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path + ".index").write_bytes(b"partial")
        raise KeyboardInterrupt


@pytest.mark.parametrize("named", [False, True])
def test_a_failed_write_leaves_the_previous_checkpoint_usable(tmp_path, ckpt, named):
    var, checkpoint = ckpt
    var.assign([1.0, 2.0, 3.0])
    rundir.save_checkpoint(checkpoint, tmp_path, 1, {})
    good = rundir.save_named_checkpoint(checkpoint, tmp_path, "final")
    with pytest.raises(KeyboardInterrupt):
        if named:
            rundir.save_named_checkpoint(FailingCheckpoint(), tmp_path, "final")
        else:
            rundir.save_checkpoint(FailingCheckpoint(), tmp_path, 2, {})
    latest = rundir.latest_checkpoint(tmp_path)
    assert latest["step"] == 1
    np.testing.assert_array_equal(
        restored_value(tmp_path / "checkpoints" / latest["path"]), [1.0, 2.0, 3.0]
    )
    np.testing.assert_array_equal(restored_value(good), [1.0, 2.0, 3.0])
    assert leftovers(tmp_path / "checkpoints") == []
    assert not (tmp_path / "checkpoints" / "step-0000002").exists()


def test_named_checkpoint_is_replaced(tmp_path, ckpt):
    var, checkpoint = ckpt
    path = rundir.save_named_checkpoint(checkpoint, tmp_path, "final")
    var.assign([4.0, 5.0, 6.0])
    assert rundir.save_named_checkpoint(checkpoint, tmp_path, "final") == path
    np.testing.assert_array_equal(restored_value(path), [4.0, 5.0, 6.0])
    assert leftovers(tmp_path / "checkpoints") == []


def test_no_latest_checkpoint(tmp_path):
    assert rundir.latest_checkpoint(tmp_path) is None


def test_read_finished_run(tmp_path):
    """The two files every finished run holds, parsed; each way of not being one named."""
    with pytest.raises(ValueError, match=r"is not a run directory \(no config.yaml\)$"):
        rundir.read_finished_run(tmp_path)
    (tmp_path / "config.yaml").write_text("name: bimodal\nseed: 3\n")
    with pytest.raises(ValueError, match="has no metrics.json: the run has not finished$"):
        rundir.read_finished_run(tmp_path)
    (tmp_path / "metrics.json").write_text('{"steps": 10, "metrics": {"mmd": 0.5}}')
    assert rundir.read_finished_run(tmp_path) == (
        {"name": "bimodal", "seed": 3},
        {"steps": 10, "metrics": {"mmd": 0.5}},
    )
    (tmp_path / "metrics.json").write_text('{"steps": 1')  # killed mid-write
    with pytest.raises(ValueError, match=r"unreadable run files \(JSONDecodeError\)$"):
        rundir.read_finished_run(tmp_path)
    (tmp_path / "metrics.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="config.yaml and metrics.json must be mappings$"):
        rundir.read_finished_run(tmp_path)


# --------------------------------------------------------------------------- faults


def test_sweep_removes_what_a_killed_write_left_and_nothing_else(tmp_path, ckpt):
    var, checkpoint = ckpt
    rundir.save_checkpoint(checkpoint, tmp_path, 4, {})
    folder = tmp_path / "checkpoints"
    for name in (".tmp-step-0000008-123", ".old-final-123"):
        (folder / name).mkdir()
        (folder / name / "ckpt.index").write_bytes(b"partial")
    (tmp_path / ".metrics.json.x1.tmp").write_bytes(b"{")
    (folder / ".latest.json.x2.tmp").write_bytes(b"{")
    removed = rundir.sweep_temporary(tmp_path)
    assert len(removed) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints"]
    assert sorted(p.name for p in folder.iterdir()) == ["latest.json", "step-0000004"]
    assert rundir.sweep_temporary(tmp_path) == []


def test_each_step_folder_holds_its_record(tmp_path, ckpt):
    """``state.json`` in a step folder equals ``latest.json`` when it was the newest."""
    var, checkpoint = ckpt
    rundir.save_checkpoint(checkpoint, tmp_path, 4, {"window": [1.5]})
    folder = tmp_path / "checkpoints"
    assert json.loads((folder / "step-0000004" / "state.json").read_text()) == json.loads(
        (folder / "latest.json").read_text()
    )


def test_candidates_skip_a_garbled_or_missing_checkpoint_naming_it(tmp_path, ckpt, caplog):
    var, checkpoint = ckpt
    for step in (4, 8):
        rundir.save_checkpoint(checkpoint, tmp_path, step, {"pending": False})
    folder = tmp_path / "checkpoints"
    assert [r["step"] for r in rundir.checkpoint_candidates(tmp_path)] == [8, 4]
    (folder / "latest.json").write_bytes(b"\xff{garbage")
    with caplog.at_level(logging.WARNING):
        assert [r["step"] for r in rundir.checkpoint_candidates(tmp_path)] == [8, 4]
    assert "latest.json is unreadable" in caplog.text
    (folder / "step-0000008" / "ckpt.index").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert rundir.latest_checkpoint(tmp_path)["step"] == 4
    assert "step-0000008/ckpt.index is missing" in caplog.text


@pytest.mark.parametrize(
    ("text", "good"),
    [
        ('{"step": 4}\n{"step": 8}\n', None),
        ('{"step": 4}\n{"step": 8, "lo', 7),  # the torn line names its step
        ('{"step": 4}\n{"ste', 4),  # it does not: the last whole record's
        ('{"st\n{"step": 8}\n', 0),  # the first line
        ('{"step": 4}\n\xff\xfe\n{"step": 12}\n', 4),  # garbled bytes in the middle
    ],
)
def test_torn_after_is_the_last_step_known_good(tmp_path, text, good):
    path = tmp_path / "log.jsonl"
    path.write_bytes(text.encode("latin-1"))
    assert rundir.torn_after(path) == good
    assert all(isinstance(r, dict) for r in rundir.read_jsonl(path))
