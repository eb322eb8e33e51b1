"""IonQ jobs through ``cirq_ionq.Service``: create (single or multi-circuit), poll, results.

Design points:

* **One Service per job.** cirq_ionq 1.7's client picks the results endpoint
  (``/results/probabilities`` or ``.../aggregated``) from ``_IonQClient.batch_mode``, a
  flag that the *last* ``create_job`` on that client sets. A Service shared between a
  batch job and a single job, or between threads, or used to re-attach a job it did not
  create, reads the wrong endpoint. Here every job operation gets a fresh Service whose
  flag is set from the job's own kind (known from the record) right before the results
  are read, so no state is shared.
* **Retries here, not in cirq_ionq.** The Service is built with ``max_retry_seconds=0``,
  so a 429, 5xx or dropped connection surfaces at once as cirq_ionq's ``TimeoutError``;
  :class:`JobClient` retries it with its own exponential backoff (logged, bounded). A
  retried *create* first looks the job up by its unique name, so a POST whose response
  was lost never creates a second job.
* **Polling with backoff and a deadline**; a failed or canceled job raises
  :class:`IonQJobError` naming the job, a job past its deadline
  :class:`IonQJobTimeout` (optionally canceling it).
* The API key comes only from the ``IONQ_API_KEY`` environment variable and goes only
  into cirq_ionq's request headers: never into logs, messages or files.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence

import cirq
import cirq_ionq

log = logging.getLogger(__name__)

API_KEY_ENV = "IONQ_API_KEY"
_RETRIABLE_PREFIX = "Reached maximum number of retries"


class IonQJobError(RuntimeError):
    """An IonQ job failed, was canceled, or could not be created or read."""

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
    """An IonQ job did not finish within its time-out."""


class IonQRejected(IonQJobError):
    """The API refused a request (a 4xx other than 429); ``status_code`` says which."""

    def __init__(self, message: str, status_code: int | None, job_name: str | None = None):
        super().__init__(message, job_name)
        self.status_code = status_code


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``initial_s``, times ``multiplier`` each step, capped at ``max_s``."""

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
    """One circuit's result as cirq_ionq returns it (big-endian keys)."""

    kind: str  # "probabilities" or "counts"
    num_qubits: int
    measurements: dict
    values: dict


def api_key() -> str:
    """The API key from ``IONQ_API_KEY``; a clear error when it is not set."""
    key = os.environ.get(API_KEY_ENV, "")
    if not key.strip():
        raise ValueError(
            f"{API_KEY_ENV}: environment variable not set; the IonQ backend reads the API "
            "key only from it"
        )
    return key


class JobClient:
    """Creates, polls and reads IonQ jobs with retries, one ``cirq_ionq.Service`` per call."""

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
        sleep: Callable[[float], None] = time.sleep,
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
        self.sleep = sleep

    # ------------------------------------------------------------------ plumbing
    def service(self, batch_mode: bool | None = None) -> cirq_ionq.Service:
        """A fresh Service (own client, no shared flag); cirq_ionq does not retry."""
        service = cirq_ionq.Service(
            remote_host=self.remote_host,
            api_key=api_key(),
            default_target=None,
            max_retry_seconds=0,
        )
        if batch_mode is not None:
            # cirq_ionq 1.7 reads the results endpoint from this flag (see module docstring).
            service._client.batch_mode = batch_mode
        return service

    def _call(
        self, what: str, name: str, fn: Callable, job_id: str | None = None, retry: bool = True
    ):
        """Run ``fn`` with retries of 429/5xx/dropped connections; map API errors.

        With ``retry=False`` a retriable failure raises :class:`_Retriable` at once.
        """
        delays = self.retry.delays()
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except TimeoutError as err:
                if not str(err).startswith(_RETRIABLE_PREFIX):
                    raise
                reason = str(err).split("Last error:", 1)[-1].strip()
                if not retry:
                    raise _Retriable(reason) from None
                if attempt == self.retries:
                    raise IonQJobError(
                        f"IonQ {what} for job {name}{_id(job_id)}: gave up after "
                        f"{self.retries + 1} attempts (last error: {reason})",
                        name,
                        job_id,
                    ) from None
                delay = next(delays)
                log.warning(
                    "IonQ %s for job %s: %s; retry %d/%d in %.2f s",
                    what,
                    name,
                    reason,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                self.sleep(delay)
            except cirq_ionq.IonQNotFoundException:
                raise IonQJobError(
                    f"IonQ {what} for job {name}{_id(job_id)}: not found on the server",
                    name,
                    job_id,
                ) from None
            except cirq_ionq.IonQUnsuccessfulJobException as err:
                raise IonQJobError(f"IonQ job {name}{_id(job_id)}: {err}", name, job_id) from None
            except cirq_ionq.IonQException as err:
                text = str(err)
                text = text if len(text) < 400 else text[:400] + " ..."
                raise IonQRejected(
                    f"IonQ {what} for job {name}{_id(job_id)} was rejected: {text}",
                    err.status_code,
                    name,
                ) from None

    # ------------------------------------------------------------------ operations
    def find_by_name(self, name: str) -> str | None:
        """The id of a job named ``name`` among the account's recent jobs, if any."""

        def lookup():
            for job in self.service().list_jobs(limit=200):
                try:
                    if job.name() == name:
                        return job.job_id()
                except cirq_ionq.IonQUnsuccessfulJobException:
                    continue
            return None

        return self._call("job lookup", name, lookup)

    def create(self, name: str, circuits: Sequence[cirq.Circuit], shots: int) -> str:
        """Create one job for ``circuits`` (multi-circuit when more than one); its id.

        A create whose response is lost (429/5xx/dropped connection) is not simply
        repeated: the job is first looked up by ``name``.
        """
        batch = len(circuits) > 1
        options = dict(
            repetitions=shots,
            name=name,
            target=self.target,
            noise=self.noise,
            error_mitigation=self.error_mitigation,
        )

        def once():
            service = self.service()
            if batch:
                return service.create_batch_job(list(circuits), **options).job_id()
            return service.create_job(circuits[0], **options).job_id()

        delays = self.retry.delays()
        for attempt in range(self.retries + 1):
            try:
                # One attempt per loop turn: the lookup below decides whether to repeat.
                return self._call("job creation", name, once, retry=False)
            except _Retriable as err:
                found = self.find_by_name(name)
                if found is not None:
                    log.info(
                        "IonQ job %s was created (id %s) although its reply was lost", name, found
                    )
                    return found
                if attempt == self.retries:
                    raise IonQJobError(
                        f"IonQ job creation for job {name}: gave up after {self.retries + 1} "
                        f"attempts (last error: {err})",
                        name,
                    ) from None
                delay = next(delays)
                log.warning(
                    "IonQ job creation for job %s: %s; retry %d/%d in %.2f s",
                    name,
                    err,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                self.sleep(delay)
        raise AssertionError("unreachable")

    def wait(self, name: str, job_id: str, batch: bool, n_circuits: int) -> list[JobOutput]:
        """Poll job ``job_id`` until it ends; its results, one per circuit, in order."""
        service = self.service(batch_mode=batch)
        job = self._call("status", name, lambda: service.get_job(job_id), job_id)
        deadline = time.monotonic() + self.timeout_s
        delays = self.poll.delays()
        status = None
        while True:
            status = self._call("status", name, job.status, job_id)
            if status in cirq_ionq.Job.TERMINAL_STATES:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(service, name, job_id, status)
            self.sleep(min(next(delays), remaining))
        if status != "completed":
            try:
                job.results(timeout_seconds=1, polling_seconds=0)
                detail = f"ended with status {status}"
            except RuntimeError as err:  # cirq_ionq reports the server's failure message
                detail = str(err)
            raise IonQJobError(
                f"IonQ job {name} (id {job_id}) {status}: {detail}", name, job_id, status
            )
        # A fresh client per job, its endpoint flag set from this job's own kind:
        service._client.batch_mode = batch
        raw = self._call(
            "results", name, lambda: job.results(timeout_seconds=1, polling_seconds=0), job_id
        )
        results = raw if isinstance(raw, list) else [raw]
        if len(results) != n_circuits:
            raise IonQJobError(
                f"IonQ job {name} (id {job_id}) returned {len(results)} results for "
                f"{n_circuits} circuits",
                name,
                job_id,
            )
        return [_output(r) for r in results]

    def _timed_out(self, service, name: str, job_id: str, status: str):
        action = "left running (a rerun with the same run directory collects it)"
        if self.cancel_on_timeout:
            try:
                self._call("cancel", name, lambda: service.get_job(job_id).cancel(), job_id)
                action = "canceled"
            except IonQJobError as err:
                action = f"could not be canceled ({err})"
        raise IonQJobTimeout(
            f"IonQ job {name} (id {job_id}) did not finish within {self.timeout_s:g} s "
            f"(status {status}); {action}",
            name,
            job_id,
            "timed_out",
        )

    def cancel(self, name: str, job_id: str) -> None:
        """Cancel a job (used by ``qgan ionq status --cancel``)."""
        service = self.service()
        self._call("cancel", name, lambda: service.get_job(job_id).cancel(), job_id)


class _Retriable(Exception):
    pass


def _output(result) -> JobOutput:
    if isinstance(result, cirq_ionq.QPUResult):
        return JobOutput(
            "counts",
            result.num_qubits(),
            {k: list(v) for k, v in result.measurement_dict().items()},
            {int(k): float(v) for k, v in result.counts().items()},
        )
    return JobOutput(
        "probabilities",
        result.num_qubits(),
        {k: list(v) for k, v in result.measurement_dict().items()},
        {int(k): float(v) for k, v in result.probabilities().items()},
    )


def _id(job_id: str | None) -> str:
    return f" (id {job_id})" if job_id else ""
