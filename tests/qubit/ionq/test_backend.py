"""``IonQBackend`` against the loopback server: batch jobs, native gates on the wire,
results equal to the local simulator, faults, time-outs, persistence and resume.

Oracles: qgan's TF state-vector simulator in complex128 (itself checked against
``cirq.Simulator`` in ``tests/qubit``) for exact probabilities and readouts; the loopback
server simulates what it received from IonQ's gate definitions, independently of cirq and
of qgan; its request log says what was sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit import QubitModel, expectation_values, probabilities
from qgan.qubit.ionq import IonQBackend, IonQJobError, IonQJobTimeout

NATIVE = {"aria": {"gpi", "gpi2", "ms"}, "forte": {"gpi", "gpi2", "zz"}}


def rows(model: QubitModel, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, model.n_features))
    p = rng.uniform(-np.pi, np.pi, size=(n, model.n_params))
    return x, p


def exact_readouts(model, x, p) -> np.ndarray:
    return expectation_values(model, x, p, dtype=tf.complex128).numpy()


def exact_probabilities(model, x, p) -> np.ndarray:
    return probabilities(model, x, p, dtype=tf.complex128).numpy()


def posted_jobs(server) -> list[dict]:
    return [r.body for r in server.requests_to("POST", r"^/jobs$") if r.status == 200]


def circuits_of(body: dict) -> list[list[dict]]:
    inp = body["input"]
    if body["type"] == "ionq.multi-circuit.v1":
        return [c["circuit"] for c in inp["circuits"]]
    return [inp["circuit"]]


def assert_no_circuit_sent_twice(server):
    counts = Counter(server.submitted_circuits())
    assert max(counts.values()) == 1, "a circuit was submitted twice"


# ------------------------------------------------------------------ batch jobs and results


@pytest.mark.parametrize(
    "gateset, entangler, measurement",
    [("aria", "cnot", "z"), ("aria", "ms", "z_parity"), ("forte", "zz", "parity")],
)
def test_evaluation_is_one_batch_job_equal_to_the_local_simulator(
    loopback, fast_options, gateset, entangler, measurement, itol, shot_noise
):
    model = QubitModel(4, 2, entangler=entangler, topology="ring", measurement=measurement)
    x, p = rows(model, 24)
    shots = 2000
    backend = IonQBackend(gateset=gateset, **fast_options)
    out = backend.expectations(model, x, p, shots)
    assert out.shape == (24, model.n_outputs) and out.dtype == np.float64
    assert shot_noise(out, exact_readouts(model, x, p), shots)
    # one multi-circuit job of 24 circuits, one results request
    (body,) = posted_jobs(loopback)
    assert body["type"] == "ionq.multi-circuit.v1" and len(body["input"]["circuits"]) == 24
    assert int(body["shots"]) == shots and body["backend"] == "simulator"
    assert len(loopback.requests_to("GET", r"/results/probabilities/aggregated$")) == 1
    # the server's exact probabilities (before the shots are drawn) are the simulator's
    prepared = [backend.prepare(model.to_cirq(a, b, measure=True), shots) for a, b in zip(x, p)]
    results = backend.run(prepared, shots)
    want = exact_probabilities(model, x, p)
    for i, item in enumerate(prepared):
        got = np.zeros(2**model.n_qubits)
        for k, v in results[item.key].values.items():
            got[k] = v
        np.testing.assert_allclose(got, want[i], atol=itol.probability)
    assert len(posted_jobs(loopback)) == 1  # run() reused the saved results


def test_eight_qubit_depth_four_classifier_batch(loopback, fast_options, shot_noise):
    model = QubitModel(8, 4, entangler="ms", topology="linear", measurement="z_parity")
    x, p = rows(model, 20, seed=3)
    shots = 1000
    out = IonQBackend(**fast_options).expectations(model, x, p, shots)
    assert shot_noise(out, exact_readouts(model, x, p), shots)
    (body,) = posted_jobs(loopback)
    assert len(body["input"]["circuits"]) == 20 and body["input"]["qubits"] == 8


@pytest.mark.parametrize("gateset", ["aria", "forte"])
def test_native_gates_are_what_the_server_receives(loopback, fast_options, gateset):
    model = QubitModel(3, 2, entangler="cnot", measurement="z")
    x, p = rows(model, 5)
    IonQBackend(gateset=gateset, **fast_options).expectations(model, x, p, 100)
    (body,) = posted_jobs(loopback)
    assert body["input"]["gateset"] == "native"
    names = {g["gate"] for c in circuits_of(body) for g in c}
    assert names == NATIVE[gateset]  # every native gate kind used, nothing else


def test_qis_gateset_sends_cirq_gates(loopback, fast_options, shot_noise):
    model = QubitModel(3, 2, entangler="cnot", measurement="z")
    x, p = rows(model, 5)
    out = IonQBackend(gateset="qis", **fast_options).expectations(model, x, p, 4000)
    assert shot_noise(out, exact_readouts(model, x, p), 4000)
    (body,) = posted_jobs(loopback)
    assert body["input"]["gateset"] == "qis"
    assert {g["gate"] for c in circuits_of(body) for g in c} == {"ry", "rz", "cnot"}


def test_target_gateset_follows_the_noise_model(loopback, fast_options):
    model = QubitModel(2, 1, entangler="cnot")
    x, p = rows(model, 2)
    backend = IonQBackend(noise_model="forte-1", noise_seed=5, **fast_options)
    backend.expectations(model, x, p, 100)
    (body,) = posted_jobs(loopback)
    assert body["noise"] == {"model": "forte-1", "seed": 5}
    assert {g["gate"] for c in circuits_of(body) for g in c} <= NATIVE["forte"]


def test_error_mitigation_setting_is_sent(loopback, fast_options):
    model = QubitModel(2, 1)
    x, p = rows(model, 2)
    IonQBackend(
        target="qpu.aria-1", error_mitigation={"debiasing": False}, **fast_options
    ).expectations(model, x, p, 100)
    (body,) = posted_jobs(loopback)
    assert body["backend"] == "qpu.aria-1"
    assert body["settings"]["error_mitigation"] == {"debiasing": False}


def test_qpu_target_uses_the_counts(loopback, fast_options, shot_noise):
    model = QubitModel(3, 2, entangler="ms", measurement="z_parity")
    x, p = rows(model, 6)
    shots = 3000
    backend = IonQBackend(target="qpu.aria-1", **fast_options)
    out = backend.expectations(model, x, p, shots)
    assert shot_noise(out, exact_readouts(model, x, p), shots)
    prepared = [backend.prepare(model.to_cirq(a, b, measure=True), shots) for a, b in zip(x, p)]
    results = backend.run(prepared, shots)
    for item in prepared:
        result = results[item.key]
        assert result.kind == "counts"
        assert sum(result.values.values()) == pytest.approx(shots, abs=len(result.values))


def test_shots_are_reproducible_and_seeded(loopback, fast_options):
    model = QubitModel(3, 1)
    x, p = rows(model, 4)
    a = IonQBackend(seed=1, **fast_options).expectations(model, x, p, 50)
    b = IonQBackend(seed=1, **fast_options).expectations(model, x, p, 50)
    c = IonQBackend(seed=2, **fast_options).expectations(model, x, p, 50)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_identical_rows_and_repeated_calls_share_results(loopback, fast_options):
    model = QubitModel(2, 1)
    x, p = rows(model, 3)
    x = np.concatenate([x, x[:1]])
    p = np.concatenate([p, p[:1]])
    backend = IonQBackend(**fast_options)
    first = backend.expectations(model, x, p, 100)
    np.testing.assert_array_equal(first[0], first[3])
    (body,) = posted_jobs(loopback)
    assert len(body["input"]["circuits"]) == 3
    again = backend.expectations(model, x, p, 100)
    np.testing.assert_array_equal(first, again)
    assert len(posted_jobs(loopback)) == 1
    # shared params [n_params] broadcast over the rows
    shared = backend.expectations(model, x[:2], p[0], 100)
    np.testing.assert_array_equal(shared[0], first[0])


def test_mixed_batch_and_single_jobs_in_one_call(loopback, fast_options, shot_noise):
    """7 circuits, 3 per job: two multi-circuit jobs and one single-circuit job run
    concurrently on one backend; each reads its own results endpoint."""
    loopback.job_seconds = 0.05
    model = QubitModel(3, 2, entangler="zz", measurement="z")
    x, p = rows(model, 7)
    options = dict(fast_options, max_circuits_per_job=3, max_concurrency=3)
    out = IonQBackend(**options).expectations(model, x, p, 3000)
    assert shot_noise(out, exact_readouts(model, x, p), 3000)
    kinds = sorted(b["type"] for b in posted_jobs(loopback))
    assert kinds == ["ionq.circuit.v1", "ionq.multi-circuit.v1", "ionq.multi-circuit.v1"]
    reads = loopback.requests_to("GET", r"/results/")
    assert sorted(r.status for r in reads) == [200, 200, 200]
    assert_no_circuit_sent_twice(loopback)


@pytest.mark.parametrize("refused", [True, False])
def test_single_circuit_jobs_with_bounded_concurrency(
    make_loopback, fast_options, refused, all_logs, shot_noise
):
    """An API that refuses multi-circuit jobs (or ``batch: false``): one job per circuit,
    at most ``max_concurrency`` in flight."""
    server = make_loopback(batch_supported=False, job_seconds=0.05)
    model = QubitModel(2, 1, measurement="z_parity")
    x, p = rows(model, 6)
    options = dict(fast_options, remote_host=server.url, max_concurrency=2, batch=refused)
    out = IonQBackend(**options).expectations(model, x, p, 3000)
    assert shot_noise(out, exact_readouts(model, x, p), 3000)
    jobs = server.created_jobs()
    assert len(jobs) == 6 and all(not j.batch for j in jobs)
    assert max(server.in_flight_at_create) <= 1  # <= 2 jobs in flight at any time
    assert ("refused a multi-circuit job" in all_logs.text) == refused
    assert_no_circuit_sent_twice(server)


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize("fault", [429, 500, "drop", "drop_after"])
def test_faults_on_create_are_retried_without_duplicates(loopback, fast_options, fault):
    model = QubitModel(2, 1)
    x, p = rows(model, 4)
    loopback.inject(fault, "POST", r"^/jobs$")
    IonQBackend(**fast_options).expectations(model, x, p, 100)
    assert len(loopback.created_jobs()) == 1
    assert_no_circuit_sent_twice(loopback)


@pytest.mark.parametrize("fault", [429, 502, "drop"])
def test_faults_on_polls_and_results_are_retried(loopback, fast_options, fault, shot_noise):
    model = QubitModel(2, 1, measurement="parity")
    x, p = rows(model, 4)
    loopback.inject(fault, "GET", r"^/jobs/[^/]+$", times=2)
    loopback.inject(fault, "GET", r"/results/", times=1)
    out = IonQBackend(**fast_options).expectations(model, x, p, 4000)
    assert shot_noise(out, exact_readouts(model, x, p), 4000)


def test_failed_job_raises_naming_it_and_a_rerun_resubmits(loopback, fast_options, tmp_path):
    model = QubitModel(2, 1)
    x, p = rows(model, 4)
    loopback.plan_job(fail="calibration failed")
    backend = IonQBackend(run_dir=tmp_path, **fast_options)
    with pytest.raises(IonQJobError) as err:
        backend.expectations(model, x, p, 100)
    (job,) = loopback.created_jobs()
    name = job.body["name"]
    assert name in str(err.value) and job.id in str(err.value)
    assert "calibration failed" in str(err.value)
    record = json.loads((tmp_path / "ionq" / "jobs" / f"{name}.json").read_text())
    assert record["state"] == "failed" and "calibration failed" in record["error"]
    # a failed job's circuits are sent again, as a new job (attempt 2)
    IonQBackend(run_dir=tmp_path, **fast_options).expectations(model, x, p, 100)
    names = [j.body["name"] for j in loopback.created_jobs()]
    assert names == [name, name[:-1] + "2"]


def test_timed_out_job_is_collected_by_a_rerun_not_resubmitted(loopback, fast_options, tmp_path):
    model = QubitModel(3, 1, measurement="z")
    x, p = rows(model, 5)
    loopback.plan_job(hold=True)
    options = dict(fast_options, run_dir=str(tmp_path), timeout_s=0.2)
    with pytest.raises(IonQJobTimeout, match="did not finish within 0.2 s"):
        IonQBackend(**options).expectations(model, x, p, 100)
    (job,) = loopback.created_jobs()
    loopback.release()
    out = IonQBackend(**options).expectations(model, x, p, 100)
    assert out.shape == (5, 3)
    assert len(loopback.created_jobs()) == 1  # collected, not resubmitted


def test_an_uncertain_create_is_looked_up_by_the_rerun(loopback, fast_options, tmp_path):
    """The POST reached the server, its reply was lost, and so was the lookup: the record
    stays 'creating'; the next run finds the job by name instead of creating another."""
    model = QubitModel(2, 1)
    x, p = rows(model, 3)
    options = dict(fast_options, run_dir=str(tmp_path), retries=1)
    loopback.inject("drop_after", "POST", r"^/jobs$")
    loopback.inject(500, "GET", r"^/jobs$", times=2)  # the lookup by name fails too
    with pytest.raises(IonQJobError, match="job lookup"):
        IonQBackend(**options).expectations(model, x, p, 100)
    (record,) = [json.loads(f.read_text()) for f in (tmp_path / "ionq" / "jobs").iterdir()]
    assert record["state"] == "creating" and record["job_id"] is None
    IonQBackend(**options).expectations(model, x, p, 100)
    assert len(loopback.created_jobs()) == 1
    assert_no_circuit_sent_twice(loopback)


def test_missing_api_key_fails_before_any_request(loopback, fast_options, monkeypatch):
    monkeypatch.delenv("IONQ_API_KEY")
    model = QubitModel(2, 1)
    x, p = rows(model, 2)
    with pytest.raises(ValueError, match="IONQ_API_KEY"):
        IonQBackend(**fast_options).expectations(model, x, p, 100)
    assert loopback.requests == []


def test_api_key_is_in_no_file_and_no_log(loopback, fast_options, tmp_path, api_key, all_logs):
    model = QubitModel(2, 1)
    x, p = rows(model, 3)
    loopback.inject(500, "POST", r"^/jobs$")
    loopback.plan_job(fail="boom")
    backend = IonQBackend(run_dir=tmp_path, **fast_options)
    with pytest.raises(IonQJobError):
        backend.expectations(model, x, p, 100)
    backend.expectations(model, x, p, 100)
    assert "retry" in all_logs.text and "submitted" in all_logs.text
    assert api_key not in all_logs.text
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert len(files) >= 3
    assert all(api_key not in f.read_text() for f in files)
    assert api_key not in repr(backend) and api_key not in repr(backend.options)


@pytest.mark.parametrize("shots", [None, 0, 2.5, True])
def test_bad_shots(fast_options, shots, one_line_naming):
    model = QubitModel(2, 1)
    x, p = rows(model, 2)
    with pytest.raises(ValueError) as err:
        IonQBackend(**fast_options).expectations(model, x, p, shots)
    one_line_naming(err, "shots")


def test_bad_rows(fast_options, one_line_naming):
    model = QubitModel(2, 1)
    x, p = rows(model, 2)
    with pytest.raises(ValueError) as err:
        IonQBackend(**fast_options).expectations(model, x[:, :1], p, 10)
    one_line_naming(err, "features")
    with pytest.raises(ValueError) as err:
        IonQBackend(**fast_options).expectations(model, x, p[:1], 10)
    one_line_naming(err, "params")


def test_backend_contract(fast_options):
    backend = IonQBackend(target="qpu.forte-1", **fast_options)
    assert backend.name == "ionq" and backend.supports_autodiff is False
    assert backend.cache_name == "ionq:qpu.forte-1:forte:ideal:seed=0"
    assert IonQBackend(gateset="qis", **fast_options).cache_name.startswith("ionq:simulator:qis")
    model = QubitModel(2, 1)
    assert backend.expectations(model, np.zeros((0, 2)), np.zeros((0, 4)), 10).shape == (0, 2)


# ------------------------------------------------------------------ killed and resumed

CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys, types
    import numpy as np
    import qgan
    # Only the IonQ modules are needed: skip qgan/qubit/__init__.py (TensorFlow) to start fast.
    spec = importlib.util.find_spec("qgan.qubit")
    package = types.ModuleType("qgan.qubit")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["qgan.qubit"] = package
    from qgan.qubit.ionq.backend import IonQBackend
    from qgan.qubit.model import QubitModel

    args = json.loads(sys.argv[1])
    model = QubitModel(**args["model"])
    x, p = np.array(args["x"]), np.array(args["p"])
    IonQBackend(**args["options"]).expectations(model, x, p, args["shots"])
    """
)


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_a_killed_run_resumes_without_loss_or_resubmission(loopback, fast_options, tmp_path):
    """A run of 3 jobs is SIGKILLed while job 2 runs (job 1 done, job 3 not created); the
    rerun reads job 1 from disk, collects job 2, creates only job 3, and its readouts are
    those of an uninterrupted run."""
    model = QubitModel(3, 2, entangler="ms", measurement="z_parity")
    x, p = rows(model, 21)
    shots = 500
    options = dict(
        fast_options, run_dir=str(tmp_path / "run"), max_circuits_per_job=7, max_concurrency=1
    )
    loopback.plan_job()  # job 1 completes at once
    loopback.plan_job(hold=True)  # job 2 runs until released
    args = dict(
        model=dict(n_qubits=3, depth=2, entangler="ms", measurement="z_parity"),
        x=x.tolist(),
        p=p.tolist(),
        shots=shots,
        options=options,
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        jobs = loopback.wait_for_jobs(2, timeout=120)
        deadline = time.monotonic() + 30
        # cirq_ionq reads a job once right after creating it; a second read is the child
        # waiting for job 2, after it saved job 2 as submitted
        while len(loopback.requests_to("GET", rf"^/jobs/{jobs[1].id}$")) < 2:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    store = tmp_path / "run" / "ionq"
    states = sorted(json.loads(f.read_text())["state"] for f in (store / "jobs").iterdir())
    assert states == ["completed", "creating", "submitted"]  # job 3: recorded, not sent
    assert len(list((store / "results").iterdir())) == 1

    loopback.release()
    resumed = IonQBackend(**options).expectations(model, x, p, shots)
    created = loopback.created_jobs()
    assert len(created) == 3  # only job 3 is new, under its recorded name
    names = sorted(json.loads(f.read_text())["name"] for f in (store / "jobs").iterdir())
    assert sorted(j.body["name"] for j in created) == names
    assert_no_circuit_sent_twice(loopback)
    job1_reads = loopback.requests_to("GET", rf"^/jobs/{jobs[0].id}/results")
    assert len(job1_reads) == 1  # job 1's results came from the run directory
    # the same readouts as an uninterrupted run (same seed, same circuits)
    fresh = IonQBackend(**fast_options).expectations(model, x, p, shots)
    np.testing.assert_array_equal(resumed, fresh)


def test_progress_log_names_jobs(loopback, fast_options, all_logs):
    model = QubitModel(2, 1)
    x, p = rows(model, 3)
    IonQBackend(**fast_options).expectations(model, x, p, 10)
    (job,) = loopback.created_jobs()
    lines = [r.getMessage() for r in all_logs.records if r.name.startswith("qgan")]
    assert any(job.id in line and "3 circuit(s) x 10 shots" in line for line in lines)


# ------------------------------------------------------------------ QubitLayer on IonQ


@pytest.mark.parametrize("gradient", ["parameter_shift", "spsa"])
def test_layer_gradient_circuits_go_out_in_one_batch_job(loopback, fast_options, gradient, itol):
    """``QubitLayer(backend=IonQBackend(...))``: the forward pass is one job of N circuits,
    the gradient one multi-circuit job of all shifted circuits (2 n_params N for the
    parameter shift, 2 N for SPSA); the parameter-shift gradient equals the simulator's
    exact (autodiff) gradient within shot noise."""
    from qgan.qubit import QubitLayer

    model = QubitModel(2, 1, encoding="angle", measurement="z")
    x = tf.constant(rows(model, 3, seed=5)[0])
    shots = 20000
    layer = QubitLayer(
        model, backend=IonQBackend(**fast_options), gradient=gradient, shots=shots,
        seed=1, dtype="float64",
    )  # fmt: skip
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.params).numpy()
    jobs = posted_jobs(loopback)
    per_row = 2 * model.n_params if gradient == "parameter_shift" else 2
    assert [len(circuits_of(b)) for b in jobs] == [3, 3 * per_row]
    assert jobs[1]["type"] == "ionq.multi-circuit.v1"
    if gradient == "parameter_shift":
        exact_layer = QubitLayer(model, gradient="autodiff", seed=1, dtype="float64")
        with tf.GradientTape() as tape:
            exact_loss = tf.reduce_sum(exact_layer(x))
        exact = tape.gradient(exact_loss, exact_layer.params).numpy()
        # each component sums 3 rows x 2 outputs of (f+ - f-) / 2: variance <= 6 / (2 S)
        sigma = np.sqrt(3 * model.n_outputs / (2 * shots))
        np.testing.assert_array_less(np.abs(grad - exact), itol.sampling_sigmas * sigma)
