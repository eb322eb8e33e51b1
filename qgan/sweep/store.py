"""The sweep's persisted trials: one JSON record per trial, written as it finishes.

``OUT.trials/<trial_id>.json`` beside the report ``OUT.md`` (atomic writes, so a killed
sweep leaves whole records or none). A record has ``status`` ``"ok"`` (the run's metrics)
or ``"failed"`` (``error``: the last line of the error, ``attempts``). A re-run of the same
sweep on the same ``--out`` reads them back: trials with an ``ok`` record are not run again,
failed ones are.
"""

from __future__ import annotations

import json
from pathlib import Path

from qgan._io import write_text_atomic

SUFFIX = ".trials"


class TrialStore:
    """The records of the sweep whose report is ``out`` (``.md`` or no suffix)."""

    def __init__(self, out):
        out = Path(out)
        self.out = out.with_suffix("") if out.suffix == ".md" else out
        self.folder = self.out.parent / (self.out.name + SUFFIX)

    def path(self, trial_id: str) -> Path:
        """The record file of a trial."""
        return self.folder / f"{trial_id}.json"

    def exists(self) -> bool:
        """Whether any record was written."""
        return self.folder.is_dir() and any(self.folder.glob("*.json"))

    def write(self, record: dict) -> Path:
        """Persist a trial's record (atomically); returns its path."""
        return write_text_atomic(self.path(record["trial_id"]), json.dumps(record, indent=2) + "\n")

    def read(self, trial_id: str) -> dict | None:
        """A trial's record, or None if there is none (or it cannot be read: it reruns)."""
        try:
            return json.loads(self.path(trial_id).read_text())
        except (OSError, ValueError):
            return None

    def finished(self, trial_ids) -> dict[str, dict]:
        """``{trial_id: record}`` of the given trials that finished (status ``ok``)."""
        out = {}
        for tid in trial_ids:
            record = self.read(tid)
            if record is not None and record.get("status") == "ok":
                out[tid] = record
        return out

    def records(self, trial_ids) -> list[dict]:
        """The records of the given trials, in their order (trials without one left out)."""
        return [r for r in (self.read(t) for t in trial_ids) if r is not None]
