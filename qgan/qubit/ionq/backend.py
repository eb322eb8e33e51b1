"""``IonQBackend``: the expectation backend of ``qgan.qubit`` that runs circuits on IonQ.

One ``expectations`` call = the model's circuit for every row, compiled to the target's
native gates, sent as one multi-circuit job (several if there are more than
``max_circuits_per_job``; single-circuit jobs, ``max_concurrency`` at a time, where the
API refuses multi-circuit jobs or ``batch`` is off), every job id and result saved in the
run directory as it arrives, readouts estimated from the shots.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import threading
from collections.abc import Sequence

import cirq
import cirq_ionq
import numpy as np
from tqdm.auto import tqdm

from qgan._validate import check_int
from qgan.qubit.backends import check_prefix, prefix_model
from qgan.qubit.ionq.budget import (
    CostEstimate,
    IonQBudgetExceeded,
    check_budget,
    estimate_workload,
    local_usd_per_circuit,
)
from qgan.qubit.ionq.compilation import compile_with_report, gate_counts
from qgan.qubit.ionq.jobs import (
    NOT_CREATED,
    Backoff,
    IonQJobError,
    IonQRejected,
    JobClient,
    api_key,
)
from qgan.qubit.ionq.options import IonQOptions, check_debias_shots, parse_options
from qgan.qubit.ionq.store import CircuitResult, JobRecord, RunStore
from qgan.qubit.model import QubitModel

log = logging.getLogger(__name__)

MEASUREMENT_KEY = "z"
#: HTTP statuses with which an API without multi-circuit jobs may refuse one.
NO_BATCH_STATUSES = (400, 404, 405, 415, 422, 501)


class PreparedCircuit:
    """A bound, measured circuit ready to submit: compiled, keyed, its native gate counts.

    ``key`` is a SHA-256 of exactly what is sent for it (serialized circuit and
    measurement metadata, target, shots, noise, error mitigation): equal keys are the same
    request, so a stored result can stand in for it.
    """

    __slots__ = ("circuit", "key", "gateset", "one_qubit", "two_qubit")

    def __init__(self, circuit: cirq.Circuit, key: str, gateset: str, one: int, two: int):
        self.circuit = circuit
        self.key = key
        self.gateset = gateset
        self.one_qubit = one
        self.two_qubit = two


class IonQBackend:
    """Runs ``QubitModel`` circuits on an IonQ target through ``cirq_ionq``.

    Keyword options are those of :class:`~qgan.qubit.ionq.options.IonQOptions` (``target``,
    ``gateset``, ``noise_model``, ``remote_host``, ``run_dir``, ``timeout_s``, ``batch``,
    ...). The API key is read from the ``IONQ_API_KEY`` environment variable when the first
    job is submitted.

    ``expectations(model, features [N, n_features], params [N, n_params] or [n_params],
    shots)`` returns [N, model.n_outputs] float64 readouts estimated from ``shots``
    measurements of each circuit. The IonQ simulator returns exact outcome probabilities;
    the shots are drawn from them here with a seed made of ``seed`` and the circuit's key,
    so a result depends only on what was run (identical after a resume). QPU targets
    return counts, used as they are.

    With ``run_dir`` set, every job and result is saved under ``<run_dir>/ionq/`` as it
    arrives and a circuit whose key has a saved result is never sent again: a rerun
    resumes, re-attaching jobs that were submitted but not collected. Identical circuits
    (equal keys), within a call or across calls, share one result.

    ``max_cost_usd``: :meth:`preflight` refuses a whole workload whose estimate exceeds it
    (before anything is submitted), and every :meth:`run` refuses new jobs whose local
    price-list estimate, added to that of the jobs already submitted from this run
    directory, would exceed it. ``session``: the first job creates an IonQ session (its id
    saved in ``<run_dir>/ionq/session.json``), every job joins it, a restarted backend on
    the same run directory re-attaches to it, and :meth:`close` (or leaving a ``with``
    block, also on an error) ends it. A process that dies without :meth:`close` leaves the
    session open for the next run on the same run directory (IonQ ends it at its limits).
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
            error_mitigation=o.error_mitigation_body,
            retries=o.retries,
            retry=Backoff(o.retry_initial_s, o.retry_max_s, 2.0),
            poll=Backoff(o.poll_initial_s, o.poll_max_s, o.poll_multiplier),
            timeout_s=o.timeout_s,
            cancel_on_timeout=o.cancel_on_timeout,
            request_timeout_s=o.request_timeout_s,
        )
        self._batch = o.batch
        self._verified: set = set()
        self._lock = threading.Lock()
        self._session_lock = threading.Lock()
        self.last_preflight: CostEstimate | None = None

    def __repr__(self) -> str:
        o = self.options
        return (
            f"IonQBackend(target={o.target!r}, gateset={o.native_gateset or 'qis'!r}, "
            f"run_dir={o.run_dir!r})"
        )

    @property
    def cache_name(self) -> str:
        """``ionq:<target>:<gateset>:<noise model>:seed=<seed>``: what decides the results."""
        o = self.options
        return (
            f"ionq:{o.target}:{o.native_gateset or 'qis'}:{o.noise_model or 'ideal'}:seed={o.seed}"
        )

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> IonQBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the run's IonQ session, if one is open (``POST /sessions/{id}/end``); the
        run directory records it as ended. A failure to end it is logged, not raised."""
        with self._session_lock:
            record = self.store.session()
            if record is None or record.get("state") != "open":
                return
            try:
                self.client.end_session(record["id"])
            except (IonQJobError, ValueError) as err:
                log.error("IonQ session %s could not be ended: %s", record["id"], err)
                return
            self.store.save_session({**record, "state": "ended"})
            self.client.session_id = None
            log.info("IonQ session %s ended", record["id"])

    def session_id(self) -> str | None:
        """The id of the run's open IonQ session (None: no session, or not created yet)."""
        record = self.store.session()
        return record["id"] if record and record.get("state") == "open" else None

    def _ensure_session(self) -> None:
        """Join the run's open session, or create one (``session`` set, jobs to create)."""
        settings = self.options.session_options
        if settings is None:
            return
        with self._session_lock:
            record = self.store.session()
            if record and record.get("state") == "open" and record.get("target") == self.target:
                if self.client.session_id != record["id"]:
                    log.info("IonQ: re-attaching to session %s of the run", record["id"])
                self.client.session_id = record["id"]
                return
            body = settings.settings()
            session_id = self.client.create_session(body)
            self.store.save_session(
                {"id": session_id, "target": self.target, "settings": body, "state": "open"}
            )
            self.client.session_id = session_id
            log.info("IonQ session %s created on %s (limits %s)", session_id, self.target, body)

    # ------------------------------------------------------------------ cost
    def preflight(self, model, phases, what: str = "the run") -> CostEstimate:
        """Estimate the cost of a whole workload and apply the budget guard, before
        anything is submitted.

        Args:
            model: the ``QubitModel`` whose circuits run.
            phases: [(circuits, shots), ...]: every shot setting of the workload with the
                circuits it runs (a training run: the circuits of all epochs at those
                shots, as the run's accounting counts them).
            what: how the refusal names the workload.

        Returns:
            The :class:`~qgan.qubit.ionq.budget.CostEstimate` (server ``GET /jobs/estimate``
            where offered, else the local price lists; also kept as ``last_preflight``).

        Raises:
            IonQBudgetExceeded: one line with the estimate and ``max_cost_usd``.
            ValueError: debiasing with a phase of fewer than 500 shots.
        """
        o = self.options
        phases = [(int(c), int(s)) for c, s in phases]
        for _, shots in phases:
            check_debias_shots(o, shots, "a phase of the workload")
        client = self.client if o.target != "simulator" else None
        if client is not None:
            api_key()
        gateset = o.native_gateset or o.system or "aria"
        estimate = estimate_workload(client, o.target, model, phases, gateset, o.debias)
        self.last_preflight = estimate
        log.info(
            "IonQ cost pre-flight of %s: %.2f USD (%s estimate; %d circuits, %d shots on %s)%s",
            what,
            estimate.usd,
            estimate.source,
            estimate.circuits,
            estimate.shots,
            estimate.target,
            "" if o.max_cost_usd is None else f"; limit {o.max_cost_usd:.2f} USD",
        )
        check_budget(estimate, o.max_cost_usd, what)
        return estimate

    def _circuit_usd(self, item: PreparedCircuit, shots: int) -> float | None:
        """Local price-list USD of one prepared circuit (None where not priced)."""
        if self.target == "simulator":
            return 0.0
        try:
            return local_usd_per_circuit(self.target, item.one_qubit, item.two_qubit, shots)
        except ValueError:
            return None

    def _guard(self, new: list[PreparedCircuit], shots: int) -> None:
        """Refuse ``new`` circuits whose estimate would take the run past ``max_cost_usd``."""
        limit = self.options.max_cost_usd
        if limit is None or not new:
            return
        costs = [self._circuit_usd(i, shots) for i in new]
        if any(c is None for c in costs):
            raise IonQBudgetExceeded(
                f"max_cost_usd: no local price list for target {self.target!r} to guard "
                "the jobs with; nothing was submitted"
            )
        committed = self.store.committed_usd()
        total = committed + sum(costs)
        if total > limit:
            raise IonQBudgetExceeded(
                f"max_cost_usd: {len(new):,} more circuits x {shots:,} shots would take the "
                f"run's estimated cost to {total:,.2f} USD ({committed:,.2f} USD submitted "
                f"so far), over the limit of {limit:,.2f} USD; nothing more was submitted"
            )

    # ------------------------------------------------------------------ public
    def expectations(self, model, features, params, shots) -> np.ndarray:
        """Readouts [N, model.n_outputs] float64 of each (features, params) row.

        Args:
            model: a ``QubitModel``.
            features: [N, n_features] float.
            params: [N, n_params] (one parameter set per row) or [n_params] (shared).
            shots: measurements per circuit, an integer >= 1.
        """
        shots = _check_shots(shots)
        x = model.check_features(features)
        p = model.check_params(params, rows=x.shape[0])
        if p.ndim == 1:
            p = np.broadcast_to(p, (x.shape[0], model.n_params))
        if x.shape[0] == 0:
            return np.zeros((0, model.n_outputs))
        prepared = [
            self.prepare(model.to_cirq(f, q, measure=True), shots, model.structure_key)
            for f, q in zip(x, p)
        ]
        results = self.run(prepared, shots)
        out = np.empty((len(prepared), model.n_outputs), dtype=np.float64)
        for i, item in enumerate(prepared):
            out[i] = model.outputs_from_samples(self.samples(results[item.key], shots))
        return out

    def prefix_expectations(self, model, features, params, layers, unitaries, shots) -> np.ndarray:
        """Readouts [N, n + n (n - 1) / 2] float64 of N **prefix circuits** (the quantum
        natural gradient's metric circuits, :mod:`qgan.qubit.qng`), measured on IonQ.

        Row i: the first ``layers[i]`` complete layers of ``model`` (its own cirq export,
        :meth:`QubitModel.to_cirq` of a ``depth=layers[i]`` model), then the single-qubit
        gate ``unitaries[i, q]`` on each qubit q (as Pauli rotations, so the ``qis``
        gateset can send it too), then all qubits measured in Z; read out as ``z_zz``
        (<Z_q> per qubit, then <Z_a Z_b> for a < b). The semantics are those of
        :meth:`qgan.qubit.backends.SimulatorBackend.prefix_expectations`.

        All N circuits go through :meth:`run` like those of :meth:`expectations`: one
        multi-circuit job (more past ``max_circuits_per_job``), compiled to the
        configured gateset, saved in the run directory, priced by the ``max_cost_usd``
        guard, inside the session.

        Args:
            model: a ``QubitModel`` with a gate encoding.
            features: [N, n_features]; params: [N, n_params] or [n_params].
            layers: an int in 0 .. depth or [N] of them.
            unitaries: [N, n_qubits, 2, 2] complex.
            shots: measurements per circuit, an integer >= 1 (exact readouts need the
                simulator backend).
        """
        shots = _check_shots(shots)
        x, p, depth, u = check_prefix(model, features, params, layers, unitaries)
        n = model.n_qubits
        if x.shape[0] == 0:
            return np.zeros((0, n + n * (n - 1) // 2))
        qubits = cirq.LineQubit.range(n)
        prepared = []
        for i in range(x.shape[0]):
            if depth[i] > 0:
                sub = prefix_model(model, int(depth[i]))
                circuit = sub.to_cirq(x[i], p[i, : sub.n_params])
                structure = f"prefix:{depth[i]}:{sub.structure_key}"
            else:
                circuit, structure = cirq.Circuit(), None
            circuit.append(
                [_pauli_rotations(u[i, q], qubit) for q, qubit in enumerate(qubits)],
                strategy=cirq.InsertStrategy.NEW_THEN_INLINE,
            )
            circuit.append(cirq.measure(*qubits, key=MEASUREMENT_KEY))
            prepared.append(self.prepare(circuit, shots, structure))
        results = self.run(prepared, shots)
        readout = QubitModel(n_qubits=n, depth=1, measurement="z_zz")  # what zz_signs reads
        out = np.empty((len(prepared), readout.n_outputs), dtype=np.float64)
        for i, item in enumerate(prepared):
            out[i] = readout.outputs_from_samples(self.samples(results[item.key], shots))
        return out

    def prepare(
        self, circuit: cirq.Circuit, shots: int, structure=None, gateset: str | None = None
    ) -> PreparedCircuit:
        """Compile one measured circuit to the native gateset (unless ``qis``) and key it.

        ``structure`` names the circuit's structure: with ``verify`` on, the first circuit
        of each structure has its compiled unitary checked against the source.
        ``gateset`` (``aria``, ``forte`` or ``qis``; default: the options') sets this
        circuit's own gateset: circuits of different gatesets still share one multi-circuit
        job, each with its own ``gateset`` in the job body.
        """
        o = self.options
        if gateset is not None and gateset not in ("aria", "forte", "qis"):
            raise ValueError(f"gateset: expected 'aria', 'forte' or 'qis', got {gateset!r}")
        if gateset in ("aria", "forte") and o.system not in (None, gateset):
            raise ValueError(
                f"gateset: {gateset!r} gates do not run on target {o.target!r} "
                f"(use {o.system!r} or 'qis')"
            )
        gateset = o.native_gateset if gateset is None else (None if gateset == "qis" else gateset)
        if gateset is None:
            compiled = circuit
        else:
            check = o.verify and (structure is None or (structure, gateset) not in self._verified)
            compiled, _ = compile_with_report(
                circuit, gateset, verify=check, partial_entanglers=o.partial_entanglers
            )
            if check and structure is not None:
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
            "error_mitigation": o.error_mitigation_body,
        }
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        counts = gate_counts(compiled)
        return PreparedCircuit(
            compiled, key, serialized.input["gateset"], counts.one_qubit, counts.two_qubit
        )

    def run(self, prepared: Sequence[PreparedCircuit], shots: int) -> dict[str, CircuitResult]:
        """Results of the prepared circuits, by key: saved ones, those of jobs submitted
        earlier (re-attached), and new jobs for the rest; no circuit is sent twice."""
        unique: dict[str, PreparedCircuit] = {}
        for item in prepared:
            unique.setdefault(item.key, item)
        missing = {key for key in unique if self.store.result(key) is None}
        if missing:
            check_debias_shots(self.options, shots)
            api_key()  # fail early and clearly when the key is missing
            records = self._reattach(missing, unique)
            claimed = {k for r in records for k in r.circuit_keys}
            new = [unique[k] for k in unique if k in missing and k not in claimed]
            self._guard(new, shots)
            if new or any(r.job_id is None for r in records):
                self._ensure_session()
            records += self._new_records(new, shots)
            self._execute(records, unique)
        return {key: self.store.result(key) for key in unique}

    # ------------------------------------------------------------------ jobs
    def _reattach(self, missing: set, unique: dict) -> list[JobRecord]:
        """Open jobs of the run directory that hold circuits of ``missing``."""
        records = []
        for record in self.store.open_jobs():
            if not missing.intersection(record.circuit_keys):
                continue
            if record.job_id is None:  # interrupted while creating: did the POST get through?
                record.job_id = self.client.find_by_name(record.name)
                if record.job_id is not None:
                    record.state = "submitted"
                    self.store.save_job(record)
                elif not missing.issuperset(record.circuit_keys):
                    # never created, and this call does not need all of it: replace it
                    self._fail(record, "failed", "never created (run interrupted); replaced")
                    continue
                # else: never created; _job creates it under its recorded name
            records.append(record)
        if records:
            log.info(
                "IonQ: re-attaching %d job(s) of %s instead of resubmitting their circuits",
                len(records),
                self.store.root,
            )
        return records

    def _new_records(self, items: list[PreparedCircuit], shots: int) -> list[JobRecord]:
        size = self.options.max_circuits_per_job if self._batch else 1
        return [self._new_record(items[i : i + size], shots) for i in range(0, len(items), size)]

    def _new_record(self, chunk: list[PreparedCircuit], shots: int) -> JobRecord:
        digest = hashlib.sha256("".join(i.key for i in chunk).encode()).hexdigest()[:20]
        base = f"{self.options.job_prefix}-{digest}"
        gatesets = sorted({i.gateset for i in chunk})
        costs = [self._circuit_usd(i, shots) for i in chunk]
        record = JobRecord(
            name=f"{base}-{self.store.attempts(base) + 1}",
            kind="batch" if len(chunk) > 1 else "single",
            target=self.options.target,
            shots=shots,
            gateset=gatesets[0] if len(gatesets) == 1 else "+".join(gatesets),
            circuit_keys=[i.key for i in chunk],
            noise=self.options.noise,
            native_gates={
                "1q": sum(i.one_qubit for i in chunk),
                "2q": sum(i.two_qubit for i in chunk),
            },
            estimated_usd=None if None in costs else float(sum(costs)),
            session_id=self.client.session_id,
        )
        self.store.save_job(record)  # before the POST: a kill after it leaves a trace
        return record

    def _execute(self, records: list[JobRecord], unique: dict) -> None:
        """Run ``records`` ``max_concurrency`` at a time; raise the first error at the end
        (the other jobs still finish and are saved)."""
        errors: list[BaseException] = []
        total = sum(r.n_circuits for r in records)
        self.client.reset_interrupt()
        bar = tqdm(total=total, desc="IonQ circuits", unit="circuit", disable=None, leave=False)
        # max_concurrency workers even for one job: its fall-back jobs share the pool
        pool = concurrent.futures.ThreadPoolExecutor(
            self.options.max_concurrency, thread_name_prefix="ionq"
        )
        try:
            futures = {pool.submit(self._job, r, unique): r for r in records}
            while futures:
                done, _ = concurrent.futures.wait(
                    futures, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in done:
                    record = futures.pop(future)
                    if future.exception() is not None:
                        errors.append(future.exception())
                        continue
                    follow_up = future.result()
                    futures.update({pool.submit(self._job, r, unique): r for r in follow_up})
                    if not follow_up:
                        bar.update(record.n_circuits)
        except BaseException:
            self.client.interrupt()  # e.g. Ctrl-C: the workers stop waiting at once
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
        if errors:
            for err in errors[1:]:
                log.error("IonQ: %s", err)
            raise errors[0]

    def _job(self, record: JobRecord, unique: dict) -> list[JobRecord]:
        """Create (if needed), wait for and save one job; follow-up jobs (if it was split)."""
        if record.job_id is None:
            circuits = [unique[k].circuit for k in record.circuit_keys]
            try:
                record.job_id = self.client.create(record.name, circuits, record.shots)
            except IonQRejected as err:
                if record.kind == "batch" and err.status_code in NO_BATCH_STATUSES:
                    return self._fall_back(record, unique, err)
                self._fail(record, "failed", str(err))
                raise
            except IonQJobError as err:
                if err.status == NOT_CREATED:
                    self._fail(record, "failed", str(err))
                else:  # the POST may have got through: "creating", a rerun looks it up
                    record.error = str(err)
                    self.store.save_job(record)
                raise
            record.state = "submitted"
            self.store.save_job(record)
            log.info(
                "IonQ job %s submitted: id %s, %d circuit(s) x %d shots on %s",
                record.name,
                record.job_id,
                record.n_circuits,
                record.shots,
                record.target,
            )
        try:
            outputs = self.client.wait(
                record.name, record.job_id, record.kind == "batch", record.n_circuits
            )
        except IonQJobError as err:
            if err.status in ("timed_out", "failed", "canceled"):
                self._fail(record, err.status, str(err))
            raise  # anything else (interrupted, requests failing): the job stays open
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
        return []

    def _fail(self, record: JobRecord, state: str, message: str) -> None:
        record.state = state
        record.error = message
        self.store.save_job(record)

    def _fall_back(self, record: JobRecord, unique: dict, err: IonQRejected) -> list[JobRecord]:
        with self._lock:
            if self._batch:
                log.warning(
                    "IonQ refused a multi-circuit job (HTTP %s); sending single-circuit jobs, "
                    "%d at a time, from now on",
                    err.status_code,
                    self.options.max_concurrency,
                )
            self._batch = False
        self._fail(record, "failed", f"multi-circuit job refused: {err}")
        return [self._new_record([unique[k]], record.shots) for k in record.circuit_keys]

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
            drawn = np.repeat(values, np.rint(weights).astype(np.int64))
        else:
            rng = np.random.default_rng([self.options.seed, int(result.key[:15], 16)])
            drawn = rng.choice(values, size=shots, p=weights / weights.sum())
        shifts = result.num_qubits - 1 - np.asarray(targets, dtype=np.int64)
        return ((drawn[:, None] >> shifts[None, :]) & 1).astype(np.int8)


def _pauli_rotations(mat: np.ndarray, qubit: cirq.Qid) -> list[cirq.Operation]:
    """The 2x2 unitary ``mat`` on ``qubit`` as X/Y/Z rotations (equal up to a global
    phase), gates every IonQ gateset (``qis`` included) serializes or compiles."""
    return [
        (pauli**half_turns).on(qubit)
        for pauli, half_turns in cirq.single_qubit_matrix_to_pauli_rotations(mat, 1e-12)
    ]


def _check_shots(shots) -> int:
    if shots is None:
        raise ValueError(
            "shots: the IonQ backend measures; expected an integer >= 1, got None (exact "
            "expectations need the simulator backend)"
        )
    return check_int(shots, "shots", 1)
