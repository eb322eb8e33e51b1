"""Every place the IonQ backend reaches into ``cirq_ionq`` beyond its public API, in one module.

cirq_ionq's public API (``cirq_ionq.Service``, ``Job``) lacks three things the backend
needs; each is worked around here, against cirq_ionq's internals as they are in the
versions named by :data:`TESTED_RANGE` (the bound in ``pyproject.toml``):

* **Request time-outs** (:func:`set_request_timeout`). ``cirq_ionq/ionq_client.py`` (1.7.0,
  lines 186-316 and 479) calls ``requests.post`` / ``get`` / ``put`` / ``delete`` without
  ``timeout=`` in every request it makes (``create_job``, ``get_job``, ``get_results``,
  ``cancel_job``, ``delete_job``, the job and calibration lists), so a server that
  accepts a connection and never answers blocks forever and no job time-out fires. The
  patch replaces the module global ``cirq_ionq.ionq_client.requests`` with a proxy whose
  calls default to a time-out; an expired request raises ``requests.Timeout``, which
  cirq_ionq reports as a dropped connection (and the backend retries).
* **The results endpoint** (:func:`set_results_endpoint`). ``_IonQClient.get_results``
  (lines 239-251) reads ``/results/probabilities`` or ``.../probabilities/aggregated``
  depending on ``_IonQClient.batch_mode``, a flag that only the client's last
  ``create_job`` sets (line 189). A client that re-attaches a job it did not create (after
  a restart) would read the wrong one, so the backend sets the flag from the job's own
  kind before it reads results.
* **Reads the public API does not offer** (:func:`client`, :func:`failure_reason`,
  :func:`request`): the job list without one request per unfinished job
  (``Service._client.list_jobs``), one status request and a cancel by id
  (``_client.get_job``, ``_client.cancel_job``), the server's failure reason
  (``Job._job["failure"]``), and the API v0.4 endpoints cirq_ionq 1.7 does not call
  (``GET /jobs/estimate``, ``POST /sessions``, ``POST /sessions/{id}/end``) through the
  client's own request handling (``_client._make_request``, ``url``, ``headers``).

Each of these checks the installed version first (:func:`check_version`): outside
:data:`TESTED_RANGE` they raise a ``RuntimeError`` naming the installed version and the
tested range, rather than patch internals that may have changed.
"""

from __future__ import annotations

import functools
import importlib.metadata

import cirq_ionq
import cirq_ionq.ionq_client
import requests

#: The cirq-ionq versions these workarounds were tested on (pip specifier).
TESTED_RANGE = ">=1.7,<1.8"
_TESTED_MINOR = (1, 7)


def installed_version() -> str:
    """The installed cirq-ionq version (its distribution metadata)."""
    return importlib.metadata.version("cirq-ionq")


def check_version(version: str | None = None) -> str:
    """``version`` (default: the installed cirq-ionq) if it is in :data:`TESTED_RANGE`.

    Raises:
        RuntimeError: one line naming the version and the tested range, when it is outside.
    """
    version = installed_version() if version is None else version
    try:
        minor = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        minor = None
    if minor != _TESTED_MINOR:
        raise RuntimeError(
            f"cirq-ionq {version} is installed, but qgan's IonQ backend works around "
            f"cirq_ionq internals tested only with cirq-ionq{TESTED_RANGE}; install "
            f"'cirq-ionq{TESTED_RANGE}'"
        )
    return version


@functools.cache
def _check_installed() -> str:
    # The metadata lookup reads the file system (about 1 ms); the installed version does
    # not change while the process runs.
    return check_version()


class _TimedRequests:
    """The ``requests`` module with a default ``timeout`` on get/post/put/delete."""

    def __init__(self, timeout: tuple[float, float]):
        self.timeout = timeout

    def __getattr__(self, name):
        return getattr(requests, name)

    def _call(self, method: str, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return getattr(requests, method)(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def post(self, *args, **kwargs):
        return self._call("post", *args, **kwargs)

    def put(self, *args, **kwargs):
        return self._call("put", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)


def set_request_timeout(seconds: float) -> None:
    """Give every HTTP request of cirq_ionq a ``seconds`` time-out (connect and read).

    Process-wide (cirq_ionq's module holds one ``requests``); the last value set wins.
    """
    _check_installed()
    module = cirq_ionq.ionq_client
    if not isinstance(module.requests, _TimedRequests):
        module.requests = _TimedRequests((seconds, seconds))
    module.requests.timeout = (seconds, seconds)


def client(service: cirq_ionq.Service):
    """The ``_IonQClient`` of ``service`` (``list_jobs``, ``get_job``, ``cancel_job``)."""
    _check_installed()
    return service._client


def set_results_endpoint(service: cirq_ionq.Service, batch: bool) -> None:
    """Make ``service`` read results of multi-circuit jobs (``batch``) or of one circuit."""
    client(service).batch_mode = batch


def failure_reason(job: cirq_ionq.Job) -> str | None:
    """The server's reason for a failed job (its ``failure`` error or message), if any."""
    _check_installed()
    failure = job._job.get("failure") or {}  # the job dict as the server last sent it
    return failure.get("error") or failure.get("message")


def request(service: cirq_ionq.Service, method: str, path: str, *, params=None, body=None):
    """One request to an API endpoint cirq_ionq 1.7 has no method for (``/jobs/estimate``,
    ``/sessions``), made as cirq_ionq makes its own: the client's URL and headers (the API
    key stays in the ``Authorization`` header), its time-out (:func:`set_request_timeout`)
    and its error handling (``_IonQClient._make_request``: ``IonQNotFoundException`` for a
    404, ``IonQException`` with the status for other refusals, ``TimeoutError`` for a 429, a
    5xx or a dropped connection once ``max_retry_seconds`` is spent). Returns the decoded
    JSON body.
    """
    api = client(service)
    http = cirq_ionq.ionq_client.requests  # the timed proxy once set_request_timeout ran
    url = f"{api.url}/{path.lstrip('/')}"

    def send():
        return getattr(http, method.lower())(url, params=params, json=body, headers=api.headers)

    return api._make_request(send, body or {}).json()
