"""Persistence of IonQ jobs and results in a run directory, so a killed run resumes.

Layout under ``<run_dir>/ionq/`` (every file written atomically, temp file then rename):

* ``jobs/<name>.json``: one :class:`JobRecord` per job, written *before* the job is
  created (state ``creating``), again as soon as IonQ returns its id (``submitted``) and
  when it ends (``completed``, ``failed``, ``canceled``, ``timed_out``).
* ``session.json``: the IonQ session of the run (``id``, ``target``, ``settings``,
  ``state`` ``open`` or ``ended``), written as soon as IonQ returns its id, so that a
  restarted run re-attaches to it instead of creating another.
* ``results/<name>.json``: the results of a completed job, one :class:`CircuitResult` per
  circuit, written as they arrive (before anything is computed from them).

A circuit is known by its key: a hash of exactly what is sent for it (serialized circuit,
target, shots, noise, error mitigation). A rerun finds a circuit's result by its key, or
the job it is in, and never submits a circuit whose job may still deliver it (``creating``:
looked up by name first; ``submitted``, ``timed_out``: re-attached). The circuits of a
``failed`` or ``canceled`` job are submitted again, as a new job. The API key is never part
of a record.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import threading
from pathlib import Path

from qgan._io import write_text_atomic

log = logging.getLogger(__name__)

#: States whose job may still deliver results (re-attached on resume).
OPEN = ("creating", "submitted", "timed_out")


def now() -> str:
    """UTC time, ISO 8601, to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@dataclasses.dataclass
class JobRecord:
    """One IonQ job as this package submitted it."""

    name: str
    kind: str  # "batch" (ionq.multi-circuit.v1) or "single" (ionq.circuit.v1)
    target: str
    shots: int
    gateset: str  # "native" or "qis", as serialized ("native+qis": per-circuit gatesets)
    circuit_keys: list[str]
    state: str = "creating"
    job_id: str | None = None
    noise: dict | None = None
    native_gates: dict | None = None  # totals over the job's circuits: {"1q": n, "2q": n}
    estimated_usd: float | None = None  # local price-list estimate (None: not priced)
    session_id: str | None = None  # the IonQ session the job joined
    error: str | None = None
    created_at: str = dataclasses.field(default_factory=now)
    updated_at: str = dataclasses.field(default_factory=now)

    @property
    def n_circuits(self) -> int:
        return len(self.circuit_keys)


@dataclasses.dataclass
class CircuitResult:
    """The result of one circuit: IonQ's histogram in cirq's big-endian convention.

    ``kind``: "probabilities" (simulator: exact probabilities; shots are sampled from them
    with a seed) or "counts" (QPU: shot counts). ``values`` maps the big-endian integer of
    the measured bits (qubit 0 most significant) to the probability or count.
    """

    key: str
    job_name: str
    job_id: str
    index: int
    kind: str
    num_qubits: int
    measurements: dict  # measurement key -> qubit indices
    values: dict  # int -> float


class RunStore:
    """Job records and results of one run directory (or in memory when ``run_dir`` is None)."""

    def __init__(self, run_dir: str | Path | None):
        self.root = None if run_dir is None else Path(run_dir) / "ionq"
        self._lock = threading.RLock()
        self.jobs: dict[str, JobRecord] = {}
        self.results: dict[str, CircuitResult] = {}
        self._session: dict | None = None
        if self.root is not None:
            self._load()

    # ------------------------------------------------------------------ reading
    def _load(self) -> None:
        for path in sorted((self.root / "jobs").glob("*.json")):
            try:
                data = json.loads(path.read_text())
                record = JobRecord(**data)
            except (OSError, ValueError, TypeError) as err:
                log.warning("ignoring unreadable IonQ job record %s: %s", path, err)
                continue
            self.jobs[record.name] = record
        for path in sorted((self.root / "results").glob("*.json")):
            try:
                data = json.loads(path.read_text())
                for item in data["results"]:
                    item["values"] = {int(k): v for k, v in item["values"].items()}
                    result = CircuitResult(**item)
                    self.results[result.key] = result
            except (OSError, ValueError, TypeError, KeyError) as err:
                log.warning("ignoring unreadable IonQ results %s: %s", path, err)
        if self.jobs:
            log.info(
                "IonQ run store %s: %d jobs, %d circuit results on disk",
                self.root,
                len(self.jobs),
                len(self.results),
            )

    def session(self) -> dict | None:
        """The run's IonQ session record (``id``, ``target``, ``settings``, ``state``), or
        None."""
        with self._lock:
            if self._session is None and self.root is not None:
                path = self.root / "session.json"
                if path.exists():
                    try:
                        self._session = json.loads(path.read_text())
                    except (OSError, ValueError) as err:
                        log.warning("ignoring unreadable IonQ session record %s: %s", path, err)
            return None if self._session is None else dict(self._session)

    def save_session(self, record: dict) -> None:
        """Write the run's IonQ session record (atomically)."""
        with self._lock:
            self._session = {**record, "updated_at": now()}
            if self.root is not None:
                text = json.dumps(self._session, indent=1) + "\n"
                write_text_atomic(self.root / "session.json", text)

    def committed_usd(self) -> float:
        """Estimated USD of the jobs that may be charged: every job not ``failed`` or
        ``canceled`` (IonQ releases reserved credit of failed and canceled jobs)."""
        with self._lock:
            return float(
                sum(
                    r.estimated_usd or 0.0
                    for r in self.jobs.values()
                    if r.state not in ("failed", "canceled")
                )
            )

    def result(self, key: str) -> CircuitResult | None:
        with self._lock:
            return self.results.get(key)

    def open_jobs(self) -> list[JobRecord]:
        """Jobs that may still deliver results (``creating``, ``submitted``, ``timed_out``),
        oldest first."""
        with self._lock:
            return sorted(
                (r for r in self.jobs.values() if r.state in OPEN), key=lambda r: r.created_at
            )

    def attempts(self, base: str) -> int:
        """How many jobs were named ``<base>-<n>`` so far."""
        with self._lock:
            return sum(1 for name in self.jobs if name.rsplit("-", 1)[0] == base)

    # ------------------------------------------------------------------ writing
    def save_job(self, record: JobRecord) -> None:
        with self._lock:
            record.updated_at = now()
            self.jobs[record.name] = record
            if self.root is not None:
                text = json.dumps(dataclasses.asdict(record), indent=1) + "\n"
                write_text_atomic(self.root / "jobs" / f"{record.name}.json", text)

    def save_results(self, record: JobRecord, results: list[CircuitResult]) -> None:
        """Write a completed job's results, then mark the job completed."""
        with self._lock:
            if self.root is not None:
                payload = {
                    "job_name": record.name,
                    "job_id": record.job_id,
                    "results": [
                        {
                            **dataclasses.asdict(r),
                            "values": {str(k): v for k, v in r.values.items()},
                        }
                        for r in results
                    ],
                }
                write_text_atomic(
                    self.root / "results" / f"{record.name}.json", json.dumps(payload) + "\n"
                )
            for r in results:
                self.results[r.key] = r
            record.state = "completed"
            record.error = None
            self.save_job(record)

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict:
        """Counts of jobs by state, circuits, shots and stored results."""
        with self._lock:
            states: dict[str, int] = {}
            for r in self.jobs.values():
                states[r.state] = states.get(r.state, 0) + 1
            return {
                "jobs": len(self.jobs),
                "states": states,
                "circuits_submitted": sum(r.n_circuits for r in self.jobs.values()),
                "shots": sum(r.n_circuits * r.shots for r in self.jobs.values()),
                "results": len(self.results),
            }
