"""``qgan.qubit.ionq.jobs.JobClient`` against the loopback server: creation, polling,
results, retries, time-outs, failures, and the results-endpoint flag of cirq_ionq 1.7.

Oracle for results: ``cirq.Simulator`` on the submitted circuit. Faults are injected at
the server; delays are milliseconds so the tests stay fast.
"""

from __future__ import annotations

import logging
import threading
import time

import cirq
import numpy as np
import pytest

from qgan.qubit.ionq.jobs import (
    NOT_CREATED,
    Backoff,
    IonQInterrupted,
    IonQJobError,
    IonQJobTimeout,
    IonQRejected,
    JobClient,
    api_key,
)

FAST = Backoff(0.005, 0.02)


def client_for(server, **kwargs) -> JobClient:
    options = dict(
        target="simulator",
        remote_host=server.url,
        retries=3,
        retry=FAST,
        poll=FAST,
        timeout_s=5.0,
        request_timeout_s=5.0,
    )
    options.update(kwargs)
    return JobClient(**options)


def bell(n: int = 2, flip: int = 0) -> cirq.Circuit:
    q = cirq.LineQubit.range(n)
    ops = [cirq.H(q[0])] + [cirq.CNOT(q[0], q[i]) for i in range(1, n)]
    ops += [cirq.X(q[i]) for i in range(flip)]
    return cirq.Circuit(ops + [cirq.measure(*q, key="z")])


def exact(circuit: cirq.Circuit) -> dict:
    gates = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    state = cirq.Simulator(dtype=np.complex128).simulate(
        gates, qubit_order=sorted(circuit.all_qubits())
    )
    probs = np.abs(state.final_state_vector) ** 2
    return {i: p for i, p in enumerate(probs) if p > 1e-12}


def assert_matches(output, circuit, itol):
    want = exact(circuit)
    assert output.kind == "probabilities"
    assert set(output.values) == set(want)
    for k, p in want.items():
        assert abs(output.values[k] - p) <= itol.probability


def test_single_and_batch_jobs(loopback, api_key, itol):
    client = client_for(loopback)
    single = bell(2, flip=1)
    job_id = client.create("one", [single], 100)
    (out,) = client.wait("one", job_id, batch=False, n_circuits=1)
    assert_matches(out, single, itol)
    assert out.measurements == {"z": [0, 1]}
    circuits = [bell(2, flip=f) for f in range(3)] + [bell(3)]
    job_id = client.create("many", circuits, 100)
    outs = client.wait("many", job_id, batch=True, n_circuits=4)
    for out, circuit in zip(outs, circuits):
        assert_matches(out, circuit, itol)
    kinds = [r.body["type"] for r in loopback.requests_to("POST", r"^/jobs$")]
    assert kinds == ["ionq.circuit.v1", "ionq.multi-circuit.v1"]


def test_interleaved_single_and_batch_jobs_read_their_own_endpoints(loopback, api_key, itol):
    """Jobs created in an order that makes cirq_ionq's shared flag wrong for each of them,
    then read concurrently: every job reads its own endpoint (the server refuses others)."""
    client = client_for(loopback)
    loopback.plan_job(seconds=0.1)
    loopback.plan_job(seconds=0.1)
    loopback.plan_job(seconds=0.1)
    batch_a = [bell(2), bell(2, 1)]
    batch_b = [bell(3), bell(3, 2)]
    single = bell(2, 2)
    ids = {
        "a": (client.create("a", batch_a, 10), True, batch_a),
        "s": (client.create("s", [single], 10), False, [single]),
        "b": (client.create("b", batch_b, 10), True, batch_b),
    }
    outputs, errors = {}, []

    def read(name):
        job_id, batch, circuits = ids[name]
        try:
            outputs[name] = client.wait(name, job_id, batch, len(circuits))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=read, args=(n,)) for n in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name, (_, _, circuits) in ids.items():
        for out, circuit in zip(outputs[name], circuits):
            assert_matches(out, circuit, itol)
    results = loopback.requests_to("GET", r"/results/")
    assert [r.status for r in results] == [200, 200, 200]


@pytest.mark.parametrize("fault", [429, 500, 502, 503, 504, "drop"])
def test_status_polls_are_retried(loopback, api_key, fault, all_logs, itol):
    client = client_for(loopback)
    job_id = client.create("job-r", [bell()], 10)
    loopback.inject(fault, "GET", r"^/jobs/[^/]+$", times=2)
    (out,) = client.wait("job-r", job_id, batch=False, n_circuits=1)
    assert_matches(out, bell(), itol)
    retries = [r.getMessage() for r in all_logs.records if "retry" in r.getMessage()]
    assert len(retries) == 2
    assert "job-r" in retries[0] and "retry 1/3" in retries[0] and "retry 2/3" in retries[1]


def test_results_request_is_retried(loopback, api_key, itol):
    client = client_for(loopback)
    job_id = client.create("job-res", [bell()], 10)
    loopback.inject(500, "GET", r"/results/", times=1)
    (out,) = client.wait("job-res", job_id, batch=False, n_circuits=1)
    assert_matches(out, bell(), itol)


def test_backoff_grows_and_is_capped():
    delays = Backoff(0.1, 0.5, 2.0).delays()
    assert [next(delays) for _ in range(5)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_gives_up_after_the_retries_naming_the_job(loopback, api_key):
    client = client_for(loopback, retries=2)
    job_id = client.create("job-x", [bell()], 10)
    loopback.inject(503, "GET", r"^/jobs/[^/]+$", times=10)
    with pytest.raises(IonQJobError, match=r"job-x .*gave up after 3 attempts") as err:
        client.wait("job-x", job_id, batch=False, n_circuits=1)
    assert err.value.job_name == "job-x" and err.value.job_id == job_id


@pytest.mark.parametrize("fault", [429, 500, "drop"])
def test_create_is_retried(loopback, api_key, fault):
    client = client_for(loopback)
    loopback.inject(fault, "POST", r"^/jobs$", times=2)
    job_id = client.create("job-c", [bell()], 10)
    assert [j.id for j in loopback.created_jobs()] == [job_id]


@pytest.mark.parametrize("where", ["post", "get_after_post", "hang"])
def test_a_lost_create_reply_does_not_create_a_second_job(loopback, api_key, where):
    """The job reached the server but the reply did not reach the client: it is found by
    name, not created again."""
    client = client_for(loopback, request_timeout_s=0.3)
    if where == "post":
        loopback.inject("drop_after", "POST", r"^/jobs$")
    elif where == "get_after_post":  # cirq_ionq reads the job right after creating it
        loopback.inject(500, "GET", r"^/jobs/[^/]+$", times=1)
    else:  # the server answers after the client's request time-out
        loopback.inject("hang", "POST", r"^/jobs$", seconds=1.0)
    job_id = client.create("job-lost", [bell()], 10)
    (job,) = loopback.created_jobs()
    assert job.id == job_id and job.body["name"] == "job-lost"


def test_a_create_that_keeps_failing_says_whether_the_job_exists(loopback, api_key):
    client = client_for(loopback, retries=1)
    loopback.inject(500, "POST", r"^/jobs$", times=2)
    with pytest.raises(IonQJobError, match="gave up after 2 attempts") as err:
        client.create("job-0", [bell()], 10)
    assert err.value.status == NOT_CREATED  # the lookups ran and found no such job
    assert loopback.created_jobs() == []
    loopback.inject("drop_after", "POST", r"^/jobs$")  # created, reply lost
    loopback.inject(500, "GET", r"^/jobs$", times=2)  # and the lookup fails
    with pytest.raises(IonQJobError, match="job lookup") as err:
        client.create("job-1", [bell()], 10)
    assert err.value.status is None  # unknown: the job may exist (it does)
    assert [j.body["name"] for j in loopback.created_jobs()] == ["job-1"]


def test_a_hung_status_request_times_out_and_is_retried(loopback, api_key, itol):
    client = client_for(loopback, request_timeout_s=0.2)
    job_id = client.create("job-h", [bell()], 10)
    loopback.inject("hang", "GET", r"^/jobs/[^/]+$", seconds=1.0)
    start = time.monotonic()
    (out,) = client.wait("job-h", job_id, batch=False, n_circuits=1)
    assert_matches(out, bell(), itol)
    assert time.monotonic() - start < 5.0  # not blocked until the server answered


def test_a_rejected_request_is_reported_not_retried(loopback, api_key):
    client = client_for(loopback)
    loopback.inject(422, "POST", r"^/jobs$")
    with pytest.raises(IonQRejected, match="job-bad") as err:
        client.create("job-bad", [bell()], 10)
    assert err.value.status_code == 422
    assert len(loopback.requests_to("POST", r"^/jobs$")) == 1
    assert api_key not in str(err.value)


def test_failed_job_raises_naming_the_job_and_the_reason(loopback, api_key):
    client = client_for(loopback)
    loopback.plan_job(fail="ion chain lost")
    job_id = client.create("job-f", [bell()], 10)
    with pytest.raises(IonQJobError) as err:
        client.wait("job-f", job_id, batch=False, n_circuits=1)
    message = str(err.value)
    assert "job-f" in message and job_id in message and "ion chain lost" in message
    assert err.value.status == "failed"


def test_canceled_job_raises(loopback, api_key):
    client = client_for(loopback)
    loopback.plan_job(hold=True)
    job_id = client.create("job-k", [bell()], 10)
    client.cancel("job-k", job_id)
    with pytest.raises(IonQJobError, match="job-k .*canceled") as err:
        client.wait("job-k", job_id, batch=False, n_circuits=1)
    assert err.value.status == "canceled"


@pytest.mark.parametrize("cancel", [False, True])
def test_slow_job_times_out(loopback, api_key, cancel):
    client = client_for(loopback, timeout_s=0.2, cancel_on_timeout=cancel)
    loopback.plan_job(hold=True)
    job_id = client.create("job-t", [bell()], 10)
    with pytest.raises(IonQJobTimeout, match=r"job-t .*did not finish within 0.2 s") as err:
        client.wait("job-t", job_id, batch=False, n_circuits=1)
    assert err.value.status == ("canceled" if cancel else "timed_out")
    (job,) = loopback.created_jobs()
    assert loopback.status(job) == ("canceled" if cancel else "running")
    assert ("canceled" in str(err.value)) == cancel


def test_interrupt_stops_waiting(loopback, api_key):
    client = client_for(loopback, timeout_s=60.0, poll=Backoff(0.05, 0.05))
    loopback.plan_job(hold=True)
    job_id = client.create("job-i", [bell()], 10)
    threading.Timer(0.2, client.interrupt).start()
    start = time.monotonic()
    with pytest.raises(IonQInterrupted, match="job-i"):
        client.wait("job-i", job_id, batch=False, n_circuits=1)
    assert time.monotonic() - start < 5.0


def test_missing_api_key_is_a_clear_error(monkeypatch, loopback):
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    with pytest.raises(ValueError, match="IONQ_API_KEY"):
        api_key()
    with pytest.raises(ValueError, match="IONQ_API_KEY"):
        client_for(loopback).create("job-n", [bell()], 10)


def test_api_key_never_in_logs_or_errors(loopback, api_key, all_logs):
    """Retries, a rejection, a failed job and a give-up: the key is in no message or log."""
    client = client_for(loopback, retries=1)
    messages = []
    loopback.inject(500, "POST", r"^/jobs$", times=1)  # retried (logged)
    loopback.plan_job(fail="boom")
    job_id = client.create("job-a", [bell()], 10)
    loopback.inject(422, "POST", r"^/jobs$")  # rejected
    loopback.inject(503, "GET", r"^/jobs/[^/]+$", times=2)  # given up (2 attempts)
    for run in (
        lambda: client.create("job-b", [bell()], 10),
        lambda: client.status("job-a", job_id),
        lambda: client.wait("job-a", job_id, False, 1),
    ):
        with pytest.raises(IonQJobError) as err:
            run()
        messages.append(str(err.value))
    assert [m.split(":")[0] for m in messages] == [
        "IonQ job creation for job job-b was rejected (HTTP 422)",
        f"IonQ status for job job-a (id {job_id})",
        f"IonQ job job-a (id {job_id}) failed",
    ]
    logging.getLogger("qgan").debug("marker")  # the capture works at DEBUG
    assert "marker" in all_logs.text and "retry" in all_logs.text
    assert all(api_key not in m for m in messages)
    assert api_key not in all_logs.text
    assert all(r.authorized for r in loopback.requests)  # the key travelled in the header
