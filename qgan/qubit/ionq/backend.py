"""``IonQBackend``: the ExpectationBackend of ``qgan.qubit`` that runs circuits on IonQ.

One ``expectations`` call = the model's circuits for every row, compiled to the target's
native gates, sent as one multi-circuit job (or several, ``max_circuits_per_job`` each;
single-circuit jobs ``max_concurrency`` at a time where the API refuses multi-circuit
jobs), results persisted as they arrive, readouts estimated from the shots.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import numbers
import threading
from collections.abc import Sequence

import cirq
import cirq_ionq
import numpy as np
from tqdm.auto import tqdm

from qgan.qubit.ionq.compilation import compile_with_report, gate_counts
from qgan.qubit.ionq.jobs import Backoff, IonQJobError, IonQRejected, JobClient, api_key
from qgan.qubit.ionq.options import IonQOptions, parse_options
from qgan.qubit.ionq.store import CircuitResult, JobRecord, RunStore

log = logging.getLogger(__name__)

MEASUREMENT_KEY = "z"
#: HTTP statuses with which an API that has no multi-circuit jobs refuses one.
_NO_BATCH_STATUSES = (400, 404, 405, 415, 422, 501)


class PreparedCircuit:
    """A bound model circuit ready to submit: compiled, serialized, keyed."""

    __slots__ = ("circuit", "key", "gateset", "one_qubit", "two_qubit")

    def __init__(self, circuit: cirq.Circuit, key: str, gateset: str, one: int, two: int):
        self.circuit = circuit
        self.key = key
        self.gateset = gateset
        self.one_qubit = one
        self.two_qubit = two


class IonQBackend:
    """Runs model circuits on an IonQ target through ``cirq_ionq`` (see :class:`IonQOptions`).

    ``expectations(model, features [N, n_features], params [N, n_params], shots)`` returns
    [N, model.n_outputs] float64 readouts estimated from ``shots`` measurements per circuit.
    The IonQ simulator returns exact probabilities; shots are drawn from them with a seed
    derived from ``seed`` and the circuit, so results are reproducible (and identical
    after a resume). QPU targets return counts, used as they are.
    """

    name = "ionq"
    supports_autodiff = False

    def __init__(self, **options):
        self.options: IonQOptions = parse_options(options)
        o = self.options
        self.target = o.target
        self.store = RunStore(o.run_dir)
        self.client = JobClient(
            target=o.target,
            remote_host=o.remote_host,
            noise=o.noise,
            error_mitigation=o.error_mitigation,
            retries=o.retries,
            retry=Backoff(o.retry_initial_s, o.retry_max_s, 2.0),
            poll=Backoff(o.poll_initial_s, o.poll_max_s, o.poll_multiplier),
            timeout_s=o.timeout_s,
            cancel_on_timeout=o.cancel_on_timeout,
        )
        self._batch = o.batch
        self._verified: set = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        o = self.options
        return (
            f"IonQBackend(target={o.target!r}, gateset={o.native_gateset or 'qis'!r}, "
            f"run_dir={o.run_dir!r})"
        )

    @property
    def cache_name(self) -> str:
        """What distinguishes this backend's results: target, gateset, noise model."""
        o = self.options
        return f"ionq:{o.target}:{o.native_gateset or 'qis'}:{o.noise_model or 'ideal'}"

    # ------------------------------------------------------------------ public
    def expectations(self, model, features, params, shots) -> np.ndarray:
        """Readouts of ``model`` for each (features, params) row; see the class docstring."""
        shots = _check_shots(shots)
        features = np.asarray(features, dtype=np.float64)
        params = np.asarray(params, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != model.n_features:
            raise ValueError(
                f"features must have shape [N, {model.n_features}], got {list(features.shape)}"
            )
        if params.ndim != 2 or params.shape != (features.shape[0], model.n_params):
            raise ValueError(
                f"params must have shape [{features.shape[0]}, {model.n_params}], "
                f"got {list(params.shape)}"
            )
        if features.shape[0] == 0:
            return np.zeros((0, model.n_outputs))
        prepared = [
            self.prepare(model.to_cirq(f, p, measure=True), shots, model.structure_key)
            for f, p in zip(features, params)
        ]
        results = self.run(prepared, shots)
        out = np.empty((len(prepared), model.n_outputs), dtype=np.float64)
        for i, item in enumerate(prepared):
            out[i] = model.outputs_from_samples(self.samples(results[item.key], shots))
        return out

    def prepare(self, circuit: cirq.Circuit, shots: int, structure=None) -> PreparedCircuit:
        """Compile (to the native gateset) and key one measured circuit."""
        o = self.options
        gateset = o.native_gateset
        if gateset is None:
            compiled = circuit
        else:
            check = o.verify and (structure, gateset) not in self._verified
            compiled, _ = compile_with_report(
                circuit, gateset, verify=check, partial_entanglers=o.partial_entanglers
            )
            if check:
                with self._lock:
                    self._verified.add((structure, gateset))
        try:
            serialized = cirq_ionq.Serializer().serialize_single_circuit(compiled)
        except ValueError as err:
            raise ValueError(f"circuit: cannot be serialized for IonQ ({err})") from None
        payload = {
            "input": serialized.input,
            "metadata": serialized.metadata,
            "target": o.target,
            "shots": shots,
            "noise": o.noise,
            "error_mitigation": o.error_mitigation,
        }
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        counts = gate_counts(compiled)
        return PreparedCircuit(
            compiled, key, serialized.input["gateset"], counts.one_qubit, counts.two_qubit
        )

    def run(self, prepared: Sequence[PreparedCircuit], shots: int) -> dict[str, CircuitResult]:
        """Results for every prepared circuit: from the run directory, from jobs already
        submitted (re-attached), or from new jobs; each circuit is submitted at most once."""
        unique: dict[str, PreparedCircuit] = {}
        for item in prepared:
            unique.setdefault(item.key, item)
        results: dict[str, CircuitResult] = {}
        reattach: dict[str, JobRecord] = {}
        new: list[PreparedCircuit] = []
        for key, item in unique.items():
            found = self.store.result(key)
            if found is not None:
                results[key] = found
                continue
            record = self.store.open_job_for(key)
            if record is not None:
                reattach[record.name] = record
            else:
                new.append(item)
        if reattach or new:
            api_key()  # fail early and clearly when the key is missing
            if reattach:
                log.info(
                    "IonQ: re-attaching %d job(s) from %s instead of resubmitting",
                    len(reattach),
                    self.store.root,
                )
            self._execute(list(reattach.values()), new, unique, shots)
            for key in unique:
                if key not in results:
                    results[key] = self.store.result(key)
        n_reused = len(unique) - len(new) - sum(r.n_circuits for r in reattach.values())
        if n_reused > 0:
            log.debug("IonQ: %d circuit result(s) reused from the run directory", n_reused)
        return results

    # ------------------------------------------------------------------ jobs
    def _records_for(self, items: list[PreparedCircuit], shots: int) -> list[JobRecord]:
        size = self.options.max_circuits_per_job if self._batch else 1
        records = []
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            records.append(self._new_record(chunk, shots))
        return records

    def _new_record(self, chunk: list[PreparedCircuit], shots: int) -> JobRecord:
        digest = hashlib.sha256("".join(i.key for i in chunk).encode()).hexdigest()[:20]
        base = f"{self.options.job_prefix}-{digest}"
        name = f"{base}-{self.store.attempts(base) + 1}"
        record = JobRecord(
            name=name,
            kind="batch" if len(chunk) > 1 else "single",
            target=self.options.target,
            shots=shots,
            gateset=chunk[0].gateset,
            circuit_keys=[i.key for i in chunk],
            noise=self.options.noise,
            native_gates={
                "1q": sum(i.one_qubit for i in chunk),
                "2q": sum(i.two_qubit for i in chunk),
            },
        )
        self.store.save_job(record)  # before the POST: a kill after it leaves a trace
        return record

    def _execute(self, reattach, new, unique, shots) -> None:
        records = list(reattach) + self._records_for(new, shots)
        errors: list[BaseException] = []
        workers = min(self.options.max_concurrency, len(records))
        total = sum(r.n_circuits for r in records)
        bar = tqdm(total=total, desc="IonQ circuits", unit="circuit", disable=None)
        with bar:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                futures = {pool.submit(self._job, r, unique, shots): r for r in records}
                while futures:
                    done, _ = concurrent.futures.wait(
                        futures, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    for future in done:
                        record = futures.pop(future)
                        err = future.exception()
                        if isinstance(err, _Split):
                            futures.update(
                                {pool.submit(self._job, r, unique, shots): r for r in err.records}
                            )
                        elif err is not None:
                            errors.append(err)
                        else:
                            bar.update(record.n_circuits)
        if errors:
            raise errors[0]

    def _job(self, record: JobRecord, unique: dict, shots: int) -> None:
        """Create (if needed), wait for and store one job."""
        if record.job_id is None:
            if record.state == "creating":
                record.job_id = self.client.find_by_name(record.name)
            if record.job_id is None:
                if not all(k in unique for k in record.circuit_keys):
                    # A job that was never created, for circuits this call does not ask for.
                    self._fail(record, "failed", "never created; replaced")
                    items = [unique[k] for k in record.circuit_keys if k in unique]
                    raise _Split(self._records_for(items, shots))
                circuits = [unique[k].circuit for k in record.circuit_keys]
                try:
                    record.job_id = self.client.create(record.name, circuits, shots)
                except IonQRejected as err:
                    if record.kind == "batch" and err.status_code in _NO_BATCH_STATUSES:
                        raise self._fall_back(record, unique, shots, err) from None
                    self._fail(record, "failed", str(err))
                    raise
            record.state = "submitted"
            self.store.save_job(record)
            log.info(
                "IonQ job %s submitted: id %s, %d circuit(s) x %d shots on %s (%s)",
                record.name,
                record.job_id,
                record.n_circuits,
                record.shots,
                record.target,
                record.kind,
            )
        try:
            outputs = self.client.wait(
                record.name, record.job_id, record.kind == "batch", record.n_circuits
            )
        except IonQJobError as err:
            state = err.status if err.status in ("timed_out", "canceled") else "failed"
            self._fail(record, state, str(err))
            raise
        results = [
            CircuitResult(
                key=key,
                job_name=record.name,
                job_id=record.job_id,
                index=index,
                kind=out.kind,
                num_qubits=out.num_qubits,
                measurements=out.measurements,
                values=out.values,
            )
            for index, (key, out) in enumerate(zip(record.circuit_keys, outputs))
        ]
        self.store.save_results(record, results)
        log.info("IonQ job %s completed: %d result(s) saved", record.name, len(results))

    def _fail(self, record: JobRecord, state: str, message: str) -> None:
        record.state = state
        record.error = message
        self.store.save_job(record)

    def _fall_back(self, record, unique, shots, err) -> _Split:
        with self._lock:
            if self._batch:
                log.warning(
                    "IonQ refused a multi-circuit job (%s); sending single-circuit jobs, "
                    "%d at a time, from now on",
                    err.status_code,
                    self.options.max_concurrency,
                )
            self._batch = False
        self._fail(record, "failed", f"multi-circuit job refused: {err}")
        items = [unique[k] for k in record.circuit_keys]
        return _Split([self._new_record([item], shots) for item in items])

    # ------------------------------------------------------------------ samples
    def samples(self, result: CircuitResult, shots: int) -> np.ndarray:
        """[S, n_measured] 0/1 bits of one circuit (column j: the j-th measured qubit)."""
        targets = result.measurements.get(MEASUREMENT_KEY)
        if targets is None:
            raise ValueError(
                f"IonQ result of job {result.job_name} has no measurement {MEASUREMENT_KEY!r}"
            )
        values = np.array(sorted(result.values), dtype=np.int64)
        weights = np.array([result.values[v] for v in values], dtype=np.float64)
        if result.kind == "counts":
            counts = np.rint(weights).astype(np.int64)
            drawn = np.repeat(values, counts)
        else:
            rng = np.random.default_rng([self.options.seed, int(result.key[:15], 16)])
            drawn = rng.choice(values, size=shots, p=weights / weights.sum())
        shifts = result.num_qubits - 1 - np.asarray(targets, dtype=np.int64)
        return ((drawn[:, None] >> shifts[None, :]) & 1).astype(np.int8)


class _Split(Exception):
    """A job to be replaced by these records (multi-circuit job refused)."""

    def __init__(self, records: list[JobRecord]):
        super().__init__("split")
        self.records = records


def _check_shots(shots) -> int:
    if shots is None:
        raise ValueError(
            "shots: the IonQ backend measures; expected an integer >= 1, got None (exact "
            "expectations need the simulator backend)"
        )
    if isinstance(shots, bool) or not isinstance(shots, numbers.Integral) or shots < 1:
        raise ValueError(f"shots: expected an integer >= 1, got {shots!r}")
    return int(shots)
