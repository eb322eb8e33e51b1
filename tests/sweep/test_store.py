"""Specification of the sweep's persisted trials (``qgan.sweep.store``)."""

from __future__ import annotations

from qgan.sweep.store import TrialStore


def test_records_round_trip_and_only_ok_ones_count_as_finished(tmp_path):
    store = TrialStore(tmp_path / "rep.md")
    assert store.folder == tmp_path / "rep.trials" and not store.exists()
    store.write({"trial_id": "a", "status": "ok", "metrics": {"x": 1.0}})
    store.write({"trial_id": "b", "status": "failed", "error": "boom"})
    store.path("c").write_text("{torn")  # a damaged record: the trial runs again
    assert store.exists()
    assert list(store.finished(["a", "b", "c", "d"])) == ["a"]
    assert [r["trial_id"] for r in store.records(["b", "a", "c"])] == ["b", "a"]
    assert not list(store.folder.glob("*.tmp*"))
