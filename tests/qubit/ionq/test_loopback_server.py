"""The loopback server speaks what ``cirq_ionq`` 1.7 sends and reads.

These tests drive the loopback server with ``cirq_ionq.Service`` itself (no qgan code but
the compiler where native gates are needed) and check every answer against
``cirq.Simulator`` on the source circuit: single-circuit and multi-circuit jobs, QIS and
native gates, the results endpoints, metadata round trips, failures, cancellation, listing,
authentication and fault injection. They also pin the cirq_ionq 1.7 hazard the backend
must avoid: the results endpoint follows the client's last created job.
"""

from __future__ import annotations

import cirq
import cirq_ionq
import numpy as np
import pytest

from qgan.qubit.ionq import compile as ionq_compile


def random_qis_circuit(n: int, depth: int, rng: np.random.Generator) -> cirq.Circuit:
    """Random circuit of gates cirq_ionq serializes as QIS gates, measured under key 'z'."""
    qs = cirq.LineQubit.range(n)
    ops = []
    singles = [cirq.H, cirq.X, cirq.Y, cirq.Z, cirq.S, cirq.S**-1, cirq.T, cirq.T**-1]
    for _ in range(depth):
        for q in qs:
            kind = rng.integers(4)
            angle = float(rng.uniform(-np.pi, np.pi))
            if kind == 0:
                ops.append(cirq.rx(angle).on(q))
            elif kind == 1:
                ops.append(cirq.ry(angle).on(q))
            elif kind == 2:
                ops.append(cirq.rz(angle).on(q))
            else:
                ops.append(singles[rng.integers(len(singles))].on(q))
        if n > 1:
            a, b = rng.choice(n, size=2, replace=False)
            t = float(rng.uniform(-1, 1))
            two = [
                cirq.CNOT,
                cirq.XXPowGate(exponent=t),
                cirq.YYPowGate(exponent=t),
                cirq.ZZPowGate(exponent=t),
                cirq.SWAP,
            ][rng.integers(5)]
            ops.append(two.on(qs[a], qs[b]))
    ops.append(cirq.measure(*qs, key="z"))
    return cirq.Circuit(ops)


def cirq_probabilities(circuit: cirq.Circuit) -> np.ndarray:
    """Big-endian outcome probabilities of ``circuit`` (measurements dropped)."""
    gates = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    qs = sorted(circuit.all_qubits())
    state = cirq.Simulator(dtype=np.complex128).simulate(gates, qubit_order=qs)
    return np.abs(state.final_state_vector) ** 2


def as_vector(probabilities: dict, n: int) -> np.ndarray:
    out = np.zeros(2**n)
    for k, v in probabilities.items():
        out[k] = v
    return out


@pytest.fixture
def service(loopback, api_key):
    """A cirq_ionq Service on the loopback server (cirq_ionq's own retries: 1 s)."""
    return cirq_ionq.Service(remote_host=loopback.url, api_key=api_key, max_retry_seconds=1)


@pytest.mark.parametrize("seed", range(3))
def test_single_circuit_job_matches_cirq(service, loopback, seed, itol):
    rng = np.random.default_rng(seed)
    n = 3 + seed
    circuit = random_qis_circuit(n, 4, rng)
    job = service.create_job(circuit, repetitions=100, target="simulator", name=f"single-{seed}")
    result = job.results(polling_seconds=0.01)
    assert isinstance(result, cirq_ionq.SimulatorResult)
    assert result.measurement_dict() == {"z": list(range(n))}
    assert result.repetitions() == 100
    got = as_vector(result.probabilities(), n)
    np.testing.assert_allclose(got, cirq_probabilities(circuit), atol=itol.probability)
    (body,) = [r.body for r in loopback.requests_to("POST", r"^/jobs$")]
    assert body["type"] == "ionq.circuit.v1" and body["input"]["gateset"] == "qis"
    assert body["name"] == f"single-{seed}"


@pytest.mark.parametrize("gateset", ["aria", "forte"])
def test_native_gate_job_matches_cirq(service, loopback, gateset, itol):
    rng = np.random.default_rng(7)
    source = random_qis_circuit(4, 5, rng)
    compiled = ionq_compile(source, gateset)
    result = service.create_job(compiled, repetitions=10, target="simulator").results(
        polling_seconds=0.01
    )
    got = as_vector(result.probabilities(), 4)
    np.testing.assert_allclose(got, cirq_probabilities(source), atol=itol.probability)
    (body,) = [r.body for r in loopback.requests_to("POST", r"^/jobs$")]
    assert body["input"]["gateset"] == "native"
    names = {g["gate"] for g in body["input"]["circuit"]}
    assert names <= {"gpi", "gpi2", "ms" if gateset == "aria" else "zz"}


def test_multi_circuit_job_results_in_circuit_order(service, loopback, itol):
    rng = np.random.default_rng(11)
    # different widths and measurement keys per circuit: metadata must round-trip per circuit
    circuits = []
    for i, n in enumerate([2, 4, 3, 4, 1]):
        c = random_qis_circuit(n, 3, rng)
        key = f"m{i}"
        circuits.append(
            cirq.Circuit(op for op in c.all_operations() if not cirq.is_measurement(op))
            + cirq.measure(*cirq.LineQubit.range(n), key=key)
        )
    job = service.create_batch_job(circuits, repetitions=50, target="simulator", name="batch")
    results = job.results(polling_seconds=0.01)
    assert isinstance(results, list) and len(results) == len(circuits)
    for i, (circuit, result) in enumerate(zip(circuits, results)):
        n = len(circuit.all_qubits())
        assert result.num_qubits() == n
        assert result.measurement_dict() == {f"m{i}": list(range(n))}
        np.testing.assert_allclose(
            as_vector(result.probabilities(), n),
            cirq_probabilities(circuit),
            atol=itol.probability,
        )
    (body,) = [r.body for r in loopback.requests_to("POST", r"^/jobs$")]
    assert body["type"] == "ionq.multi-circuit.v1"
    assert len(body["input"]["circuits"]) == len(circuits)
    (get,) = loopback.requests_to("GET", r"/results/probabilities/aggregated$")
    assert get.status == 200


def test_qpu_target_returns_counts(service):
    circuit = cirq.Circuit(cirq.H(cirq.LineQubit(0)), cirq.CNOT(*cirq.LineQubit.range(2)))
    circuit.append(cirq.measure(*cirq.LineQubit.range(2), key="z"))
    result = service.create_job(circuit, repetitions=400, target="qpu.aria-1").results(
        polling_seconds=0.01
    )
    assert isinstance(result, cirq_ionq.QPUResult)
    counts = result.counts()
    assert set(counts) <= {0b00, 0b11}  # a Bell pair: only 00 and 11
    assert sum(counts.values()) == 400


def test_results_endpoint_follows_the_last_created_job(service, loopback):
    """The cirq_ionq 1.7 hazard: one Service, a batch job then a single job; the batch
    job's results are then read from the single-circuit endpoint and the server refuses."""
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.measure(*q, key="z"))
    batch = service.create_batch_job([circuit, circuit], repetitions=10, target="simulator")
    single = service.create_job(circuit, repetitions=10, target="simulator")
    with pytest.raises(cirq_ionq.IonQException, match="400"):
        batch.results(polling_seconds=0.01)
    assert single.results(polling_seconds=0.01) is not None
    bad = loopback.requests_to("GET", rf"/jobs/{batch.job_id()}/results/probabilities$")
    assert [r.status for r in bad] == [400]
    # ... and the other way round, on a fresh Service
    other = cirq_ionq.Service(remote_host=loopback.url, max_retry_seconds=0)
    single = other.create_job(circuit, repetitions=10, target="simulator")
    other.create_batch_job([circuit, circuit], repetitions=10, target="simulator")
    with pytest.raises(cirq_ionq.IonQException, match="400"):
        single.results(polling_seconds=0.01)


def test_failed_job_reports_the_server_error(service, loopback):
    loopback.plan_job(fail="simulated hardware fault")
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    job = service.create_job(circuit, repetitions=10, target="simulator")
    assert job.status() == "failed"
    with pytest.raises(RuntimeError, match="simulated hardware fault"):
        job.results(polling_seconds=0.01)


def test_running_job_then_cancel(service, loopback):
    loopback.plan_job(hold=True)
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    job = service.create_job(circuit, repetitions=10, target="simulator")
    assert job.status() == "running"
    job.cancel()
    assert service.get_job(job.job_id()).status() == "canceled"


def test_slow_job_runs_then_completes(make_loopback, api_key):
    server = make_loopback(job_seconds=0.2)
    service = cirq_ionq.Service(remote_host=server.url, api_key=api_key, max_retry_seconds=0)
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    job = service.create_job(circuit, repetitions=10, target="simulator")
    assert job.status() in ("submitted", "running")
    assert job.results(polling_seconds=0.05).probabilities() == {1: pytest.approx(1.0)}


def test_list_jobs_newest_first_with_names(service):
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    for name in ("first", "second", "third"):
        service.create_job(circuit, repetitions=10, target="simulator", name=name)
    names = [job.name() for job in service.list_jobs()]
    assert names == ["third", "second", "first"]


def test_wrong_api_key_is_refused(loopback, api_key):
    service = cirq_ionq.Service(remote_host=loopback.url, api_key="not-the-key")
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    with pytest.raises(cirq_ionq.IonQException, match="Not authorized"):
        service.create_job(circuit, repetitions=10, target="simulator")
    assert loopback.created_jobs() == []
    assert [r.authorized for r in loopback.requests] == [False]


def test_gates_outside_the_declared_gateset_are_refused(service):
    # A QIS gate name inside a native-gateset job: the server must refuse it (400), as
    # IonQ does; cirq_ionq does not check this itself.
    program = cirq_ionq.Serializer().serialize_single_circuit(
        cirq.Circuit(cirq.H(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    )
    program.input["gateset"] = "native"
    with pytest.raises(cirq_ionq.IonQException, match="not in the native gateset"):
        service._client.create_job(program, repetitions=10, target="simulator")


@pytest.mark.parametrize("fault", [429, 500, 503, "drop"])
def test_injected_faults_are_retriable_for_cirq_ionq(service, loopback, fault):
    """cirq_ionq's own retry loop gets past one injected fault (they are what it retries)."""
    loopback.inject(fault, "POST", r"^/jobs$")
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    job = service.create_job(circuit, repetitions=10, target="simulator")
    assert job.results(polling_seconds=0.01).probabilities() == {1: pytest.approx(1.0)}
    posts = loopback.requests_to("POST", r"^/jobs$")
    assert [p.fault for p in posts] == [fault, None]
    assert len(loopback.created_jobs()) == 1


def test_drop_after_creates_the_job_but_loses_the_reply(service, loopback):
    """'drop_after': the job exists on the server although the client saw no answer."""
    quick = cirq_ionq.Service(remote_host=loopback.url, max_retry_seconds=0)
    loopback.inject("drop_after", "POST", r"^/jobs$")
    circuit = cirq.Circuit(cirq.X(cirq.LineQubit(0)), cirq.measure(cirq.LineQubit(0), key="z"))
    with pytest.raises(TimeoutError, match="Reached maximum number of retries"):
        quick.create_job(circuit, repetitions=10, target="simulator", name="lost")
    assert [j.body["name"] for j in loopback.created_jobs()] == ["lost"]
