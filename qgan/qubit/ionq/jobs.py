"""IonQ jobs through ``cirq_ionq.Service``: create (one circuit or many), poll, read results.

Design points:

* **A fresh Service for every job operation.** cirq_ionq 1.7's client chooses the results
  endpoint (``/results/probabilities`` or ``.../aggregated``) from
  ``_IonQClient.batch_mode``, a flag that the *last* ``create_job`` on that client sets. A
  Service shared by a batch job and a single-circuit job, by two threads, or used to
  re-attach a job that it did not create (after a restart) reads the wrong endpoint. Here
  no Service outlives one operation on one job, and :meth:`JobClient.wait` sets the flag
  from the job's own kind before it reads the results.
* **Retries here, not in cirq_ionq.** Services are built with ``max_retry_seconds=0``, so
  a 429, a 5xx or a dropped connection surfaces at once; :class:`JobClient` retries it
  with its own bounded exponential backoff and logs each retry (cirq_ionq retries 429,
  500, 502, 503 and 520-529 only, and prints instead of logging). A create whose reply
  was lost is not blindly repeated: the job is first looked up by its unique name, so a
  POST that reached the server never makes a second job.
* **Request time-outs.** cirq_ionq 1.7 calls ``requests`` without a timeout, so a server
  that accepts a connection and never answers would block forever (and no job time-out
  would fire). Every Service this module builds first gives cirq_ionq's requests a
  time-out; an expired request is a dropped connection (retried).
* **cirq_ionq internals** (the time-out, the results-endpoint flag, the job list, the
  failure reason) are reached only through :mod:`qgan.qubit.ionq._cirq_ionq_compat`, which
  checks that the installed cirq-ionq is a version they were tested on.
* **Polling with backoff and a deadline.** A failed or canceled job raises
  :class:`IonQJobError` naming the job (name and id) and the server's reason; a job past
  its deadline raises :class:`IonQJobTimeout` (and is canceled if asked).
* **IonQ API v0.4 beyond cirq_ionq 1.7** (:meth:`JobClient.estimate`,
  :meth:`JobClient.create_session`, :meth:`JobClient.end_session`, the ``session_id`` of a
  job, per-circuit gatesets, the aggregation of debiased results): requests go through the
  cirq_ionq client's URL, headers and error handling (see
  :mod:`qgan.qubit.ionq._cirq_ionq_compat`).
* **The API key** comes only from the ``IONQ_API_KEY`` environment variable and goes only
  into cirq_ionq's request headers: never into a log line, an error message or a file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

import cirq
import cirq_ionq

from qgan.qubit.ionq import _cirq_ionq_compat as compat

log = logging.getLogger(__name__)

API_KEY_ENV = "IONQ_API_KEY"
#: How many of the account's newest jobs a lookup by name searches.
LOOKUP_LIMIT = 1000
#: ``IonQJobError.status`` of a creation that failed for sure (no job of that name exists).
NOT_CREATED = "not_created"
_RETRIABLE_PREFIX = "Reached maximum number of retries"


class IonQJobError(RuntimeError):
    """An IonQ job failed, was canceled, or could not be created or read.

    Attributes: ``job_name``, ``job_id`` and ``status`` (the job's final status, if known).
    """

    def __init__(
        self,
        message: str,
        job_name: str | None = None,
        job_id: str | None = None,
        status: str | None = None,
    ):
        super().__init__(message)
        self.job_name = job_name
        self.job_id = job_id
        self.status = status


class IonQJobTimeout(IonQJobError):
    """An IonQ job did not finish within its time-out (``status``: ``"timed_out"``, or
    ``"canceled"`` when it was canceled for it)."""


class IonQRejected(IonQJobError):
    """The API refused a request with a 4xx other than 429; ``status_code`` says which."""

    def __init__(self, message: str, status_code: int | None, job_name: str | None = None):
        super().__init__(message, job_name)
        self.status_code = status_code


class IonQInterrupted(IonQJobError):
    """Waiting was interrupted (:meth:`JobClient.interrupt`); the job itself goes on."""


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Delays ``initial_s``, then times ``multiplier`` per step, capped at ``max_s`` (seconds)."""

    initial_s: float
    max_s: float
    multiplier: float = 2.0

    def delays(self):
        delay = self.initial_s
        while True:
            yield delay
            delay = min(delay * self.multiplier, self.max_s)


@dataclasses.dataclass
class JobOutput:
    """One circuit's result as cirq_ionq returns it.

    ``kind``: ``"probabilities"`` (simulator) or ``"counts"`` (QPU); ``values`` maps the
    big-endian integer of all ``num_qubits`` bits (qubit 0 most significant, cirq's
    convention) to a probability or a count; ``measurements`` maps a measurement key to
    its qubit indices.
    """

    kind: str
    num_qubits: int
    measurements: dict
    values: dict


def api_key() -> str:
    """The API key from ``IONQ_API_KEY``; a one-line ValueError when it is not set."""
    key = os.environ.get(API_KEY_ENV, "")
    if not key.strip():
        raise ValueError(
            f"{API_KEY_ENV}: environment variable not set (the IonQ backend reads the API key "
            "only from it)"
        )
    return key


class _Retriable(Exception):
    """A 429, a 5xx or a dropped connection (the message says which)."""


class JobClient:
    """Creates, polls and reads IonQ jobs with retries, a fresh ``cirq_ionq.Service`` per call.

    Args:
        target: ``simulator`` or ``qpu.<system>``.
        remote_host: API URL (None: cirq_ionq's default or ``IONQ_REMOTE_HOST``).
        noise: the simulator's ``noise`` field (``{"model": ..., "seed": ...}``) or None.
        error_mitigation: IonQ's ``error_mitigation`` settings or None.
        retries: retries of one request after a 429, a 5xx or a dropped connection.
        retry: backoff between retries.
        poll: backoff between status polls.
        timeout_s: how long :meth:`wait` waits for a job.
        cancel_on_timeout: cancel a job that timed out.
        request_timeout_s: time-out of one HTTP request (process-wide: see
            :func:`qgan.qubit.ionq._cirq_ionq_compat.set_request_timeout`).

    ``session_id`` (attribute, default None): the IonQ session every created job joins
    (sent as the job's top-level ``session_id``, the field qiskit-ionq's
    ``helpers.qiskit_to_ionq`` sends; IonQ's v0.4 "Create job" page, as stored here, did not
    show the field). ``debias`` (attribute): results are read with the averaged aggregation
    (``sharpen=false``, ``aggregation=average``; see
    :class:`qgan.qubit.ionq.options.ErrorMitigation`).
    """

    def __init__(
        self,
        *,
        target: str,
        remote_host: str | None = None,
        noise: dict | None = None,
        error_mitigation: dict | None = None,
        retries: int = 6,
        retry: Backoff = Backoff(1.0, 60.0),
        poll: Backoff = Backoff(1.0, 30.0, 1.5),
        timeout_s: float = 3600.0,
        cancel_on_timeout: bool = False,
        request_timeout_s: float = 60.0,
    ):
        self.target = target
        self.remote_host = remote_host
        self.noise = noise
        self.error_mitigation = error_mitigation
        self.retries = retries
        self.retry = retry
        self.poll = poll
        self.timeout_s = timeout_s
        self.cancel_on_timeout = cancel_on_timeout
        self.request_timeout_s = request_timeout_s
        self._interrupt = threading.Event()
        self.session_id: str | None = None
        self.debias = bool(error_mitigation and error_mitigation.get("debiasing"))

    # ------------------------------------------------------------------ plumbing
    def service(self) -> cirq_ionq.Service:
        """A fresh Service: its own client (own endpoint flag), no retries inside cirq_ionq."""
        compat.set_request_timeout(self.request_timeout_s)
        return cirq_ionq.Service(
            remote_host=self.remote_host,
            api_key=api_key(),
            default_target=None,
            max_retry_seconds=0,
        )

    def interrupt(self) -> None:
        """Make every wait and backoff of this client raise :class:`IonQInterrupted` now."""
        self._interrupt.set()

    def reset_interrupt(self) -> None:
        self._interrupt.clear()

    def _pause(self, seconds: float, name: str, job_id: str | None) -> None:
        if self._interrupt.wait(max(seconds, 0.0)):
            raise IonQInterrupted(
                f"IonQ job {name}{_id(job_id)}: waiting interrupted (the job goes on; a "
                "rerun with the same run directory collects it)",
                name,
                job_id,
            )

    def _retry_pause(self, what, name, job_id, err, attempt: int, delays) -> None:
        """Log retry ``attempt + 1`` of ``what`` after ``err`` and wait the next delay."""
        delay = next(delays)
        log.warning(
            "IonQ %s for job %s: %s; retry %d/%d in %.3g s",
            what,
            name,
            err,
            attempt + 1,
            self.retries,
            delay,
        )
        self._pause(delay, name, job_id)

    def _once(self, what: str, name: str, fn: Callable, job_id: str | None):
        """One call of ``fn``; retriable failures raise :class:`_Retriable`, others map to
        :class:`IonQJobError` / :class:`IonQRejected` naming the job."""
        try:
            return fn()
        except TimeoutError as err:  # cirq_ionq gave up at once (max_retry_seconds=0)
            if not str(err).startswith(_RETRIABLE_PREFIX):
                raise
            raise _Retriable(str(err).split("Last error:", 1)[-1].strip()) from None
        except cirq_ionq.IonQNotFoundException:
            raise IonQJobError(
                f"IonQ {what} for job {name}{_id(job_id)}: not found on the server",
                name,
                job_id,
            ) from None
        except cirq_ionq.IonQException as err:
            if err.status_code is not None and err.status_code >= 500:
                raise _Retriable(f"HTTP {err.status_code}") from None
            # cirq_ionq's message holds the request body (circuits): keep the start only.
            text = str(err)
            text = text if len(text) < 300 else text[:300] + " ..."
            raise IonQRejected(
                f"IonQ {what} for job {name}{_id(job_id)} was rejected "
                f"(HTTP {err.status_code}): {text}",
                err.status_code,
                name,
            ) from None

    def _call(self, what: str, name: str, fn: Callable, job_id: str | None = None):
        """``fn`` with up to ``retries`` retries of 429/5xx/dropped connections."""
        delays = self.retry.delays()
        for attempt in range(self.retries + 1):
            try:
                return self._once(what, name, fn, job_id)
            except _Retriable as err:
                if attempt == self.retries:
                    raise IonQJobError(
                        f"IonQ {what} for job {name}{_id(job_id)}: gave up after "
                        f"{self.retries + 1} attempts (last error: {err})",
                        name,
                        job_id,
                    ) from None
                self._retry_pause(what, name, job_id, err, attempt, delays)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ operations
    def find_by_name(self, name: str) -> str | None:
        """The id of the newest job named ``name`` among the account's recent jobs, or None."""

        def lookup():
            # The client's list gives the job dicts; cirq_ionq's Job.name() would refresh
            # every unfinished job with one more request.
            for job in compat.client(self.service()).list_jobs(limit=LOOKUP_LIMIT):
                if job.get("name") == name:
                    return job["id"]
            return None

        return self._call("job lookup", name, lookup)

    def create(self, name: str, circuits: Sequence[cirq.Circuit], shots: int) -> str:
        """Create one job for ``circuits`` (a multi-circuit job when more than one); its id.

        After a 429, a 5xx or a dropped connection the job is looked up by ``name`` before
        the POST is repeated, so a job whose reply was lost is not created twice.

        Raises:
            IonQJobError: with ``status`` ``"not_created"`` when every attempt failed and
                the server has no job of that name; with ``status`` None when that is
                unknown (the lookup failed too: the job may exist).
            IonQRejected: the API refused the job (4xx).
        """
        batch = len(circuits) > 1
        options = dict(
            repetitions=shots,
            name=name,
            target=self.target,
            noise=self.noise,
            error_mitigation=self.error_mitigation,
            extra_query_params={"session_id": self.session_id} if self.session_id else None,
        )
        mixed = batch and len({_gateset(c) for c in circuits}) > 1

        def post():
            service = self.service()
            if mixed:
                return self._create_mixed(service, list(circuits), options)
            if batch:
                return service.create_batch_job(list(circuits), **options).job_id()
            return service.create_job(circuits[0], **options).job_id()

        delays = self.retry.delays()
        for attempt in range(self.retries + 1):
            try:
                return self._once("job creation", name, post, None)
            except _Retriable as err:
                found = self.find_by_name(name)
                if found is not None:
                    log.info("IonQ job %s exists (id %s) although its reply was lost", name, found)
                    return found
                if attempt == self.retries:  # and the lookup says: no such job
                    raise IonQJobError(
                        f"IonQ job creation for job {name}: gave up after {self.retries + 1} "
                        f"attempts (last error: {err})",
                        name,
                        status=NOT_CREATED,
                    ) from None
                self._retry_pause("job creation", name, None, err, attempt, delays)
        raise AssertionError("unreachable")

    def _create_mixed(self, service, circuits: list[cirq.Circuit], options: dict) -> str:
        """A multi-circuit job whose circuits carry their own ``gateset`` (cirq_ionq 1.7's
        ``create_batch_job`` refuses circuits of different gatesets).

        Body: ``input.gateset`` is the first circuit's, and every ``input.circuits[i]`` has
        its own ``gateset`` (``native`` or ``qis``), the per-circuit override IonQ documents
        for multi-circuit payloads ("each entry in input.circuits inherits the parent gateset
        unless the circuit provides its own override", API v0.3 "Create a Job",
        https://docs.ionq.com/api-reference/v0.3/jobs/create-a-job; the stored v0.4 page
        did not state it). Measurement metadata as cirq_ionq's ``serialize_many_circuits``
        writes it, so cirq_ionq reads the results as for any multi-circuit job.
        """
        serializer = cirq_ionq.Serializer()
        singles = [
            serializer.serialize_single_circuit(c, error_mitigation=options["error_mitigation"])
            for c in circuits
        ]
        measurements = [dict(s.metadata) for s in singles]  # {"measurement0": ...} each
        first = singles[0]
        program = cirq_ionq.SerializedProgram(
            input={
                "gateset": first.input["gateset"],
                "qubits": max(s.input["qubits"] for s in singles),
                "circuits": [
                    {"circuit": s.input["circuit"], "gateset": s.input["gateset"]} for s in singles
                ],
            },
            settings=first.settings,
            metadata={
                "measurements": json.dumps(measurements),
                "qubit_numbers": json.dumps([s.input["qubits"] for s in singles]),
            },
            compilation=first.compilation,
            error_mitigation=first.error_mitigation,
            noise=options["noise"],
            dry_run=False,
        )
        reply = compat.client(service).create_job(
            serialized_program=program,
            repetitions=options["repetitions"],
            target=options["target"],
            name=options["name"],
            extra_query_params=options["extra_query_params"],
            batch_mode=True,
        )
        return reply["id"]

    def estimate(self, params: dict, name: str = "estimate") -> dict | None:
        """``GET /jobs/estimate`` with ``params`` (IonQ API v0.4 "Get job estimate",
        https://docs.ionq.com/api-reference/v0.4/jobs/get-job-estimate: query ``backend``,
        ``type``, ``qubits``, ``shots``, ``1q_gates``, ``2q_gates``, ``error_mitigation``;
        reply ``estimated_cost``, ``cost_unit``, ``estimated_execution_time``,
        ``rate_information``). None when the server has no such endpoint (404)."""
        try:
            return self._call(
                "cost estimate",
                name,
                lambda: compat.request(self.service(), "GET", "jobs/estimate", params=params),
            )
        except IonQJobError as err:
            if "not found on the server" in str(err):
                return None
            raise

    def create_session(self, settings: dict, name: str = "session") -> str:
        """``POST /sessions`` for this client's target with ``settings`` (IonQ API v0.4
        "Create session": ``job_count_limit``, ``duration_limit_min``, ``cost_limit``);
        the new session's id."""
        body = {"backend": self.target, "settings": settings}
        reply = self._call(
            "session creation",
            name,
            lambda: compat.request(self.service(), "POST", "sessions", body=body),
        )
        return reply["id"]

    def end_session(self, session_id: str, name: str = "session") -> dict:
        """``POST /sessions/{id}/end`` (IonQ API v0.4 "End session"); the session as the
        server returns it."""
        return self._call(
            "session end",
            name,
            lambda: compat.request(self.service(), "POST", f"sessions/{session_id}/end"),
            session_id,
        )

    def wait(self, name: str, job_id: str, batch: bool, n_circuits: int) -> list[JobOutput]:
        """Poll job ``job_id`` until it ends; its results, one per circuit, in circuit order.

        Args:
            name: the job's name (for messages).
            job_id: the id IonQ gave it.
            batch: whether it is a multi-circuit job (decides the results endpoint).
            n_circuits: how many circuits it holds (checked against the results).

        Raises:
            IonQJobError: the job failed or was canceled (``status`` says which), or a
                request kept failing.
            IonQJobTimeout: the job did not end within ``timeout_s``.
        """
        service = self.service()
        # This Service is private to this job: its endpoint flag is this job's kind.
        compat.set_results_endpoint(service, batch)
        job = self._call("status", name, lambda: service.get_job(job_id), job_id)
        deadline = time.monotonic() + self.timeout_s
        delays = self.poll.delays()
        while True:
            status = self._call("status", name, job.status, job_id)
            if status in cirq_ionq.Job.TERMINAL_STATES:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(name, job_id, status)
            self._pause(min(next(delays), remaining), name, job_id)
        if status != "completed":
            reason = compat.failure_reason(job)
            detail = f": {reason}" if reason else ""
            raise IonQJobError(
                f"IonQ job {name} (id {job_id}) {status}{detail}", name, job_id, status
            )
        read = {"timeout_seconds": 1, "polling_seconds": 0}
        if self.debias:  # the averaged aggregation of the debiased variants
            read |= {"sharpen": False, "extra_query_params": {"aggregation": "average"}}
        raw = self._call("results", name, lambda: job.results(**read), job_id)
        results = raw if isinstance(raw, list) else [raw]
        if len(results) != n_circuits:
            raise IonQJobError(
                f"IonQ job {name} (id {job_id}) returned {len(results)} results for "
                f"{n_circuits} circuits",
                name,
                job_id,
            )
        return [_output(r) for r in results]

    def _timed_out(self, name: str, job_id: str, status: str):
        action = "left running (a rerun with the same run directory collects it)"
        final = "timed_out"
        if self.cancel_on_timeout:
            try:
                self.cancel(name, job_id)
                action, final = "canceled", "canceled"
            except IonQJobError as err:
                action = f"could not be canceled ({err})"
        raise IonQJobTimeout(
            f"IonQ job {name} (id {job_id}) did not finish within {self.timeout_s:g} s "
            f"(status {status}); {action}",
            name,
            job_id,
            final,
        )

    def cancel(self, name: str, job_id: str) -> None:
        """Cancel job ``job_id``."""
        self._call("cancel", name, lambda: compat.client(self.service()).cancel_job(job_id), job_id)

    def status(self, name: str, job_id: str) -> str:
        """The job's current status on the server (one request, with retries)."""
        return self._call(
            "status", name, lambda: compat.client(self.service()).get_job(job_id)["status"], job_id
        )


def _output(result) -> JobOutput:
    if isinstance(result, cirq_ionq.QPUResult):
        kind, values = "counts", result.counts()
    else:
        kind, values = "probabilities", result.probabilities()
    return JobOutput(
        kind,
        result.num_qubits(),
        {k: [int(q) for q in v] for k, v in result.measurement_dict().items()},
        {int(k): float(v) for k, v in values.items()},
    )


def _gateset(circuit: cirq.Circuit) -> str:
    """``native`` when every gate of ``circuit`` is an IonQ native gate, else ``qis``."""
    native = (cirq_ionq.GPIGate, cirq_ionq.GPI2Gate, cirq_ionq.MSGate, cirq_ionq.ZZGate)
    for op in circuit.all_operations():
        if not cirq.is_measurement(op) and not isinstance(op.gate, native):
            return "qis"
    return "native"


def _id(job_id: str | None) -> str:
    return f" (id {job_id})" if job_id else ""
