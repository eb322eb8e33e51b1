"""A loopback IonQ REST server for the tests: the part of IonQ's API v0.4 that
``cirq_ionq.Service`` (1.7) uses, on 127.0.0.1, with fault injection.

Endpoints (all under ``/v0.4``, all require ``Authorization: apiKey <key>``):

* ``POST /jobs``: create a job, ``type`` ``ionq.circuit.v1`` (``input.circuit``) or
  ``ionq.multi-circuit.v1`` (``input.circuits[i].circuit``); ``input.gateset`` is ``qis``
  or ``native`` and every gate must belong to it. Returns ``{"id", "status"}``.
* ``GET /jobs/{id}``: the job (status, backend, type, name, metadata echoed as sent,
  ``stats.qubits``, ``children`` for batch jobs, ``failure`` for failed jobs).
* ``GET /jobs/{id}/results/probabilities``: a single-circuit job's histogram.
* ``GET /jobs/{id}/results/probabilities/aggregated``: a batch job's histograms, one per
  child job in circuit order. Asking a batch job for the single endpoint (or the other way
  round) is a 400, as it is the mistake cirq_ionq 1.7's client flag can make.
* ``PUT /jobs/{id}/status/cancel``, ``DELETE /jobs/{id}``, ``GET /jobs`` (newest first).
* ``GET /jobs/estimate`` (v0.4 "Get job estimate"; 404 with ``estimate_supported=False``):
  query ``backend``, ``type``, ``qubits``, ``shots``, ``1q_gates``, ``2q_gates``,
  ``error_mitigation``; reply ``estimated_cost`` = max(``job_cost_minimum``, shots x
  (1q_gates x ``cost_1q_gate`` + 2q_gates x ``cost_2q_gate``)) from :attr:`rates`, with
  ``cost_unit``, ``rate_information``, ``input_values``.
* ``POST /sessions`` (``backend``, ``settings`` with ``job_count_limit``,
  ``duration_limit_min``, ``cost_limit``), ``GET /sessions/{id}``,
  ``POST /sessions/{id}/end`` (404 with ``sessions_supported=False``). A job body's
  ``session_id`` must name an open session of the same backend, and a session refuses
  jobs past its ``job_count_limit``.

Jobs may carry ``settings.error_mitigation.debiasing``: true needs a ``qpu.*`` backend and
at least 500 shots (else 400). A debiased job runs ``DEBIAS_VARIANTS`` variants of
``shots / DEBIAS_VARIANTS`` shots each; its results come in two aggregations: averaged
(the mean of the variant histograms; the default, and for ``sharpen=false`` or
``aggregation=average``) and sharpened (plurality voting: each variant's most frequent
outcome, for ``sharpen=true`` or ``aggregation=voting``); :attr:`Job.served` records
which one each results request got. In a multi-circuit job a circuit's own ``gateset``
overrides ``input.gateset``.

Histograms are IonQ's: keys are little-endian integers (bit j is qubit j), values
probabilities. ``simulator`` returns the exact probabilities of an ideal state-vector
simulation (the ``noise`` model is recorded, not applied); ``qpu.*`` returns the
frequencies of ``shots`` samples. Gates follow IonQ's definitions (QIS: rx(t) =
exp(-i t X/2), xx(t) = exp(-i t/2 X x X), ...; native: GPI, GPI2, MS(phases, angle) =
exp(-i pi angle s_phi0 x s_phi1), ZZ(angle) = exp(-i pi angle Z x Z), phases in turns),
written here from those definitions, independent of cirq.

Faults: :meth:`LoopbackIonQ.inject` makes the next matching requests answer with an HTTP
status (429, 500, ...), drop the connection before handling (``"drop"``) or after handling
without answering (``"drop_after"``), or answer only after ``seconds`` (``"hang"``, for
request time-outs). :meth:`LoopbackIonQ.plan_job` sets how long the next
created job runs, whether it fails, or holds it until :meth:`release`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np

API = "/v0.4"
DEBIAS_MIN_SHOTS = 500
DEBIAS_VARIANTS = 4

# ------------------------------------------------------------------ gate definitions

_I2 = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)
_FIXED = {
    "x": _X,
    "y": _Y,
    "z": _Z,
    "h": np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2),
    "s": np.diag([1, 1j]),
    "si": np.diag([1, -1j]),
    "t": np.diag([1, np.exp(1j * np.pi / 4)]),
    "ti": np.diag([1, np.exp(-1j * np.pi / 4)]),
    "v": 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]),
    "vi": 0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]),
}
_PAULI = {"x": _X, "y": _Y, "z": _Z}
QIS_GATES = {*_FIXED, "rx", "ry", "rz", "cnot", "swap", "xx", "yy", "zz"}
NATIVE_GATES = {"gpi", "gpi2", "ms", "zz"}


def _rotation(pauli: np.ndarray, angle: float) -> np.ndarray:
    """exp(-i angle/2 P) for a Pauli (or Pauli product) P with P^2 = 1."""
    dim = pauli.shape[0]
    return np.cos(angle / 2) * np.eye(dim) - 1j * np.sin(angle / 2) * pauli


def _sigma(phase_turns: float) -> np.ndarray:
    """cos(2 pi phi) X + sin(2 pi phi) Y."""
    e = np.exp(2j * np.pi * phase_turns)
    return np.array([[0, np.conj(e)], [e, 0]], dtype=complex)


class BadRequest(Exception):
    pass


def gate_op(gate: dict, gateset: str) -> tuple[np.ndarray, list[int]]:
    """(matrix, qubits) of one serialized gate; qubits in the matrix's big-endian order."""
    name = gate.get("gate")
    allowed = NATIVE_GATES if gateset == "native" else QIS_GATES
    if name not in allowed:
        raise BadRequest(f"gate {name!r} is not in the {gateset} gateset")
    if gateset == "native":
        if name in ("gpi", "gpi2"):
            phi = float(gate["phase"])
            if name == "gpi":
                return _sigma(phi), [int(gate["target"])]
            return (_I2 - 1j * _sigma(phi)) / np.sqrt(2), [int(gate["target"])]
        targets = [int(t) for t in gate["targets"]]
        if name == "ms":
            phi0, phi1 = (float(p) for p in gate["phases"])
            angle = float(gate.get("angle", 0.25))
            if not 0.0 <= angle <= 0.25 + 1e-12:
                raise BadRequest(f"ms angle must be in [0, 0.25], got {angle}")
            pp = np.kron(_sigma(phi0), _sigma(phi1))
            return _rotation(pp, 2 * np.pi * angle), targets
        angle = float(gate["phase"])
        if abs(angle) > 0.25 + 1e-12:
            raise BadRequest(f"zz angle must be in [-0.25, 0.25], got {angle}")
        return _rotation(np.kron(_Z, _Z), 2 * np.pi * angle), targets
    if name == "cnot":
        cnot = np.eye(4, dtype=complex)[[0, 1, 3, 2]]
        return cnot, [int(gate["control"]), int(gate["target"])]
    targets = [int(t) for t in gate["targets"]]
    if name in _FIXED:
        return _FIXED[name], targets
    if name in ("rx", "ry", "rz"):
        return _rotation(_PAULI[name[1]], float(gate["rotation"])), targets
    if name == "swap":
        return np.eye(4, dtype=complex)[[0, 2, 1, 3]], targets
    pauli = _PAULI[name[0]]
    return _rotation(np.kron(pauli, pauli), float(gate["rotation"])), targets


def simulate(circuit: list[dict], n_qubits: int, gateset: str) -> np.ndarray:
    """Probabilities indexed by IonQ's little-endian integer (bit j = qubit j)."""
    state = np.zeros([2] * n_qubits, dtype=complex)
    state[(0,) * n_qubits] = 1.0
    for gate in circuit:
        mat, qubits = gate_op(gate, gateset)
        if len(set(qubits)) != len(qubits) or not all(0 <= q < n_qubits for q in qubits):
            raise BadRequest(f"bad qubits {qubits} for a {n_qubits}-qubit circuit")
        k = len(qubits)
        tensor = mat.reshape([2] * (2 * k))
        state = np.tensordot(tensor, state, axes=(list(range(k, 2 * k)), qubits))
        state = np.moveaxis(state, list(range(k)), qubits)
    # state axes: qubit j is axis j; C order flattening is big-endian (qubit 0 most
    # significant). Transposing the axes makes qubit 0 the least significant bit.
    probs = np.abs(state.transpose(list(range(n_qubits))[::-1]).reshape(-1)) ** 2
    return probs


# ---------------------------------------------------------------------------- state


@dataclasses.dataclass
class JobPlan:
    """How the next created job behaves: run ``seconds``, ``fail`` with that message,
    or stay ``running`` until released (``hold``)."""

    seconds: float | None = None
    fail: str | None = None
    hold: bool = False


@dataclasses.dataclass
class Job:
    id: str
    body: dict
    created: float
    plan: JobPlan
    histograms: list[dict] | None
    children: list[str]
    error: str | None = None
    canceled: bool = False
    released: bool = False
    results_read: bool = False
    #: debiased jobs: the sharpened histograms (``histograms`` holds the averaged ones)
    sharpened: list[dict] | None = None
    #: the aggregation served by each results request ("average" / "voting")
    served: list[str] = dataclasses.field(default_factory=list)

    @property
    def batch(self) -> bool:
        return self.body["type"] == "ionq.multi-circuit.v1"


@dataclasses.dataclass
class Fault:
    kind: int | str  # HTTP status, "drop", "drop_after" or "hang"
    method: str
    path: re.Pattern
    times: int
    seconds: float = 0.0


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict
    body: dict | None
    authorized: bool
    status: int | None
    fault: int | str | None
    time: float


class LoopbackIonQ:
    """The loopback server; use as a context manager (starts on a free port)."""

    def __init__(
        self,
        api_key: str,
        *,
        seed: int = 0,
        job_seconds: float = 0.0,
        batch_supported: bool = True,
        estimate_supported: bool = True,
        sessions_supported: bool = True,
        rates: dict | None = None,
    ):
        self.api_key = api_key
        self.job_seconds = job_seconds
        self.batch_supported = batch_supported
        self.estimate_supported = estimate_supported
        self.sessions_supported = sessions_supported
        #: the estimate's prices (USD): minimum per job, per 1q / 2q gate-shot
        self.rates = rates or {"job_cost_minimum": 1.0, "cost_1q_gate": 0.0003,
                               "cost_2q_gate": 0.001}  # fmt: skip
        self.sessions: dict[str, dict] = {}
        self.rng = np.random.default_rng(seed)
        self.jobs: dict[str, Job] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.plans: list[JobPlan] = []
        #: per created job: how many earlier jobs were still in flight (results not read)
        self.in_flight_at_create: list[int] = []
        self.lock = threading.RLock()
        self.created = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LoopbackIonQ:
        handler = type("Handler", (_Handler,), {"app": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackIonQ:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------ test controls
    def inject(
        self,
        kind,
        method: str = "POST",
        path: str = r"/jobs$",
        times: int = 1,
        seconds: float = 0.0,
    ) -> None:
        """Make the next ``times`` requests matching ``method`` and ``path`` (a regex on
        the path after ``/v0.4``) fail with ``kind``: an HTTP status, ``"drop"``,
        ``"drop_after"`` or ``"hang"`` (handled normally, answered after ``seconds``)."""
        with self.lock:
            self.faults.append(Fault(kind, method, re.compile(path), times, seconds))

    def plan_job(self, seconds=None, fail=None, hold=False) -> None:
        """Behaviour of the next created job (plans are used in order)."""
        with self.lock:
            self.plans.append(JobPlan(seconds, fail, hold))

    def release(self, job_id: str | None = None) -> None:
        """Let held jobs (one, or all) finish."""
        with self.lock:
            for job in self.jobs.values():
                if job_id is None or job.id == job_id:
                    job.released = True

    def wait_for_jobs(self, n: int, timeout: float = 10.0) -> list[Job]:
        """Block until at least ``n`` jobs were created; returns them in creation order."""
        with self.created:
            ok = self.created.wait_for(lambda: len(self.jobs) >= n, timeout)
            assert ok, f"expected {n} jobs, server has {len(self.jobs)}"
            return sorted(self.jobs.values(), key=lambda j: j.created)

    def created_jobs(self) -> list[Job]:
        with self.lock:
            return sorted(self.jobs.values(), key=lambda j: j.created)

    def submitted_circuits(self) -> list[str]:
        """Canonical JSON of every circuit in every created job (for duplicate checks)."""
        out = []
        for job in self.created_jobs():
            inp = job.body["input"]
            circuits = inp["circuits"] if job.batch else [inp]
            out += [json.dumps(c["circuit"], sort_keys=True) for c in circuits]
        return out

    def requests_to(self, method: str, pattern: str) -> list[Request]:
        with self.lock:
            rx = re.compile(pattern)
            return [r for r in self.requests if r.method == method and rx.search(r.path)]

    # ------------------------------------------------------------ job state
    def status(self, job: Job) -> str:
        if job.canceled:
            return "canceled"
        if job.plan.hold and not job.released:
            return "running"
        seconds = self.job_seconds if job.plan.seconds is None else job.plan.seconds
        if time.monotonic() - job.created < seconds:
            return "running" if time.monotonic() - job.created > seconds / 2 else "submitted"
        return "failed" if (job.plan.fail or job.error) else "completed"

    def job_dict(self, job: Job) -> dict:
        body = job.body
        inp = body["input"]
        status = self.status(job)
        out = {
            "id": job.id,
            "name": body.get("name"),
            "status": status,
            "backend": body["backend"],
            "type": body["type"],
            "metadata": body.get("metadata", {}),
            "shots": int(body.get("shots", 0)),
            "noise": body.get("noise", {"model": "ideal"}),
            "settings": body.get("settings", {}),
            "stats": {
                "qubits": int(inp["qubits"]),
                "circuits": len(inp["circuits"]) if job.batch else 1,
            },
            "submitted_at": job.created,
        }
        if body.get("session_id") is not None:
            out["session_id"] = body["session_id"]
        if job.batch:
            out["children"] = list(job.children)
        if status == "failed":
            out["failure"] = {"error": job.plan.fail or job.error, "code": "SimulationError"}
        return out

    def create(self, body: dict) -> Job:
        kind = body.get("type")
        if kind not in ("ionq.circuit.v1", "ionq.multi-circuit.v1"):
            raise BadRequest(f"unknown job type {kind!r}")
        if kind == "ionq.multi-circuit.v1" and not self.batch_supported:
            raise BadRequest("multi-circuit jobs are not supported")
        backend = body.get("backend")
        if backend != "simulator" and not str(backend).startswith("qpu."):
            raise BadRequest(f"unknown backend {backend!r}")
        inp = body.get("input") or {}
        gateset = inp.get("gateset")
        if gateset not in ("qis", "native"):
            raise BadRequest(f"unknown gateset {gateset!r}")
        session_id = body.get("session_id")
        if session_id is not None:
            with self.lock:
                session = self.sessions.get(session_id)
                if session is None or session["status"] == "ended":
                    raise BadRequest(f"session {session_id!r} does not exist or has ended")
                if session["backend"] != body.get("backend"):
                    raise BadRequest(f"session {session_id} is for {session['backend']}")
                limit = session["settings"].get("job_count_limit")
                if limit is not None and len(session["jobs"]) >= limit:
                    raise BadRequest(f"session {session_id} reached its job_count_limit")
        n = int(inp.get("qubits", 0))
        if not 1 <= n <= 16:
            raise BadRequest(f"qubits must be in 1..16, got {n}")
        batch = kind == "ionq.multi-circuit.v1"
        circuits = inp["circuits"] if batch else [inp]
        shots = int(body.get("shots", 0))
        if shots < 1:
            raise BadRequest(f"shots must be >= 1, got {shots}")
        mitigation = (body.get("settings") or {}).get("error_mitigation") or {}
        debias = bool(mitigation.get("debiasing"))
        if debias and not backend.startswith("qpu."):
            raise BadRequest("debiasing is not available on the simulator")
        if debias and shots < DEBIAS_MIN_SHOTS:
            raise BadRequest(f"debiasing needs at least {DEBIAS_MIN_SHOTS} shots, got {shots}")
        histograms, sharpened = [], []
        for c in circuits:
            own = c.get("gateset", gateset) if batch else gateset
            if own not in ("qis", "native"):
                raise BadRequest(f"unknown gateset {own!r}")
            probs = simulate(c["circuit"], n, own)
            if debias:
                variants = [
                    self.rng.multinomial(shots // DEBIAS_VARIANTS, probs / probs.sum())
                    / (shots // DEBIAS_VARIANTS)
                    for _ in range(DEBIAS_VARIANTS)
                ]
                votes = np.bincount([int(np.argmax(v)) for v in variants], minlength=probs.size)
                sharpened.append(_histogram(votes / DEBIAS_VARIANTS))
                probs = np.mean(variants, axis=0)
            elif backend.startswith("qpu."):
                counts = self.rng.multinomial(shots, probs / probs.sum())
                probs = counts / shots
            histograms.append(_histogram(probs))
        with self.lock:
            plan = self.plans.pop(0) if self.plans else JobPlan()
            self.in_flight_at_create.append(
                sum(
                    1
                    for j in self.jobs.values()
                    if not j.results_read and self.status(j) not in ("failed", "canceled")
                )
            )
            job = Job(
                id=str(uuid.uuid4()),
                body=body,
                created=time.monotonic(),
                plan=plan,
                histograms=histograms,
                children=[str(uuid.uuid4()) for _ in circuits] if batch else [],
                sharpened=sharpened if debias else None,
            )
            self.jobs[job.id] = job
            if session_id is not None:
                self.sessions[session_id]["jobs"].append(job.id)
            self.created.notify_all()
        return job

    # ------------------------------------------------------------ estimate, sessions
    def estimate(self, query: dict) -> dict:
        def value(name, default):
            return query.get(name, [default])[0]

        backend = value("backend", None)
        if backend is None:
            raise BadRequest("backend is required")
        shots = int(value("shots", 1000))
        one, two = int(value("1q_gates", 0)), int(value("2q_gates", 0))
        r = self.rates
        cost = 0.0
        if backend != "simulator":
            gate_shots = shots * (one * r["cost_1q_gate"] + two * r["cost_2q_gate"])
            cost = max(r["job_cost_minimum"], gate_shots)
        return {
            "input_values": {
                "backend": backend,
                "type": value("type", "ionq.circuit.v1"),
                "qubits": int(value("qubits", 25)),
                "shots": shots,
                "1q_gates": one,
                "2q_gates": two,
                "error_mitigation": value("error_mitigation", "false") == "true",
            },
            "estimated_at": "2026-01-01T00:00:00Z",
            "cost_unit": "usd",
            "rate_information": {**r, "organization": "loopback"},
            "estimated_cost": cost,
            "estimated_execution_time": 0,
            "current_predicted_queue_time": 0,
        }

    def create_session(self, body: dict) -> dict:
        backend = body.get("backend")
        if backend != "simulator" and not str(backend).startswith("qpu."):
            raise BadRequest(f"unknown backend {backend!r}")
        settings = body.get("settings") or {}
        unknown = set(settings) - {"job_count_limit", "duration_limit_min", "cost_limit"}
        if unknown:
            raise BadRequest(f"unknown session settings {sorted(unknown)}")
        cost = settings.get("cost_limit")
        if cost is not None and (cost.get("unit") != "usd" or float(cost["value"]) < 0):
            raise BadRequest(f"bad cost_limit {cost!r}")
        with self.lock:
            session = {
                "id": str(uuid.uuid4()),
                "backend": backend,
                "status": "created",
                "active": True,
                "settings": settings,
                "jobs": [],
            }
            self.sessions[session["id"]] = session
            return dict(session)


def _histogram(probs) -> dict:
    return {str(i): float(p) for i, p in enumerate(probs) if p > 1e-12}


class _Handler(BaseHTTPRequestHandler):
    app: LoopbackIonQ
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _reply(self, status: int, payload) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        app = self.app
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        path = url.path[len(API) :] if url.path.startswith(API) else url.path
        authorized = self.headers.get("Authorization") == f"apiKey {app.api_key}"
        record = Request(method, path, parse_qs(url.query), body, authorized, None, None, 0.0)
        self._query = record.query
        record.time = time.monotonic()
        with app.lock:
            app.requests.append(record)
            fault = None
            delay = 0.0
            for f in app.faults:
                if f.times > 0 and f.method == method and f.path.search(path):
                    f.times -= 1
                    fault, delay = f.kind, f.seconds
                    break
        record.fault = fault
        if fault == "drop":
            self.close_connection = True
            return
        if isinstance(fault, int):
            record.status = fault
            self._reply(fault, {"error": {"type": "InjectedFault", "message": str(fault)}})
            return
        status, payload = self._route(method, path, body, authorized)
        record.status = status
        if fault == "drop_after":
            self.close_connection = True
            return
        if fault == "hang":
            time.sleep(delay)
        self._reply(status, payload)

    def _route(self, method: str, path: str, body, authorized: bool):
        app = self.app
        if not url_is_api(self.path):
            return 404, {"error": "not found"}
        if not authorized:
            return 401, {"error": "unauthorized"}
        parts = [p for p in path.split("/") if p]
        try:
            if parts == ["jobs", "estimate"] and method == "GET":
                if not app.estimate_supported:
                    return 404, {"error": "not found"}
                return 200, app.estimate(self._query)
            if parts[:1] == ["sessions"]:
                if not app.sessions_supported:
                    return 404, {"error": "not found"}
                if parts == ["sessions"] and method == "POST":
                    return 201, app.create_session(body or {})
                with app.lock:
                    session = app.sessions.get(parts[1]) if len(parts) > 1 else None
                    if session is None:
                        return 404, {"error": "session not found"}
                    if method == "GET" and len(parts) == 2:
                        return 200, dict(session)
                    if method == "POST" and parts[2:] == ["end"]:
                        session["status"], session["active"] = "ended", False
                        return 200, dict(session)
                return 404, {"error": "not found"}
            if parts == ["jobs"] and method == "POST":
                job = app.create(body or {})
                return 200, {"id": job.id, "status": "submitted"}
            if parts == ["jobs"] and method == "GET":
                # cirq_ionq sends the page size as a JSON body {"limit": n}
                limit = int((body or {}).get("limit", 100))
                with app.lock:
                    jobs = sorted(app.jobs.values(), key=lambda j: -j.created)[:limit]
                    return 200, {"jobs": [app.job_dict(j) for j in jobs]}
            if len(parts) < 2 or parts[0] != "jobs":
                return 404, {"error": "not found"}
            with app.lock:
                job = app.jobs.get(parts[1])
            if job is None:
                return 404, {"error": f"job {parts[1]} not found"}
            rest = parts[2:]
            if method == "GET" and not rest:
                with app.lock:
                    return 200, app.job_dict(job)
            if method == "DELETE" and not rest:
                with app.lock:
                    del app.jobs[job.id]
                return 200, {"id": job.id, "status": "deleted"}
            if method == "PUT" and rest == ["status", "cancel"]:
                with app.lock:
                    job.canceled = True
                return 200, {"id": job.id, "status": "canceled"}
            if method == "GET" and rest[:2] == ["results", "probabilities"]:
                aggregated = rest[2:] == ["aggregated"]
                if app.status(job) != "completed":
                    return 400, {"error": f"job {job.id} has no results (status {app.status(job)})"}
                if aggregated != job.batch:
                    kind = "multi-circuit" if job.batch else "single-circuit"
                    return 400, {"error": f"wrong results endpoint for {kind} job {job.id}"}
                job.results_read = True
                query = self._query
                voting = query.get("aggregation", [""])[0] == "voting" or query.get(
                    "sharpen", [""]
                )[0].lower() in ("true", "1")
                histograms = job.histograms
                if job.sharpened is not None:
                    job.served.append("voting" if voting else "average")
                    histograms = job.sharpened if voting else job.histograms
                if aggregated:
                    return 200, dict(zip(job.children, histograms))
                return 200, histograms[0]
            return 404, {"error": "not found"}
        except BadRequest as err:
            return 400, {"error": str(err)}
        except (KeyError, TypeError, ValueError) as err:
            return 400, {"error": f"malformed request: {err!r}"}


def url_is_api(path: str) -> bool:
    return urlparse(path).path.startswith(API + "/")
