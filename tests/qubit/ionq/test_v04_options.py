"""IonQ API v0.4 options through ``IonQBackend`` against the loopback server: the cost
pre-flight and budget guard (``max_cost_usd``), sessions (created once, joined by every
job, re-attached after a crash, ended), debiasing (>= 500 shots, averaged aggregation),
per-circuit gatesets in one multi-circuit job, and the API key kept out of every log
record and file.

Oracles: what the loopback server RECEIVED (its request log: bodies and queries); dollar
figures recomputed here from the server's own rates or from the published price lists of
``qgan.qubit.ionq.estimate`` with gate counts from ``compile_with_report``; probabilities
from qgan's TF state-vector simulator in complex128 (checked against cirq in
``tests/qubit``) and the server's own histograms.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import tensorflow as tf

from qgan.cli import main
from qgan.qubit import QubitModel, probabilities
from qgan.qubit.ionq import IonQBackend, IonQJobError
from qgan.qubit.ionq.budget import IonQBudgetExceeded, worst_counts
from qgan.qubit.ionq.estimate import ARIA_BRAKET, ARIA_PRICE
from qgan.qubit.ionq.options import parse_options

QPU = "qpu.aria-1"


def rows(model: QubitModel, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, model.n_features))
    p = rng.uniform(-np.pi, np.pi, size=(n, model.n_params))
    return x, p


def posted_jobs(server) -> list[dict]:
    return [r.body for r in server.requests_to("POST", r"^/jobs$") if r.status == 200]


def aria_usd_per_circuit(one: int, two: int, shots: int) -> float:
    """The most expensive published Aria price of one circuit (gate-shot or Braket)."""
    gate_shot = max(ARIA_PRICE.minimum_per_circuit,
                    shots * (one * ARIA_PRICE.one_qubit + two * ARIA_PRICE.two_qubit))  # fmt: skip
    braket = ARIA_BRAKET.per_task + shots * ARIA_BRAKET.per_shot
    return max(gate_shot, braket)


# ------------------------------------------------------------------ 1. cost pre-flight


def test_budget_guard_refuses_a_run_over_the_limit_before_any_job(
    loopback, fast_options, itol, caplog
):
    """The server estimate (GET /jobs/estimate, one per shot phase) x circuits exceeds
    max_cost_usd: refused in one line giving the estimate and the limit, no POST /jobs."""
    model = QubitModel(3, 2, entangler="ms")
    phases = [(400, 500), (600, 1000)]  # (circuits, shots): a two-phase shot schedule
    one, two = worst_counts(model, "aria")
    r = loopback.rates
    want = sum(
        c * max(r["job_cost_minimum"], s * (one * r["cost_1q_gate"] + two * r["cost_2q_gate"]))
        for c, s in phases
    )
    backend = IonQBackend(target=QPU, max_cost_usd=want * 0.9, **fast_options)
    with pytest.raises(IonQBudgetExceeded) as err:
        backend.preflight(model, phases)
    message = str(err.value)
    assert "\n" not in message and message.startswith("max_cost_usd:")
    assert f"{want:,.2f} USD" in message and f"{want * 0.9:,.2f} USD" in message
    assert "server estimate" in message
    assert posted_jobs(loopback) == [] and loopback.requests_to("POST", r"^/jobs") == []
    queries = [q.query for q in loopback.requests_to("GET", r"^/jobs/estimate$")]
    assert len(queries) == 2
    for q, (_, shots) in zip(queries, phases):
        assert q["backend"] == [QPU] and q["type"] == ["ionq.circuit.v1"]
        assert q["shots"] == [str(shots)] and q["qubits"] == ["3"]
        assert q["1q_gates"] == [str(one)] and q["2q_gates"] == [str(two)]
        assert q["error_mitigation"] == ["false"]
    # under the limit the same workload passes, with the same figure
    ok = IonQBackend(target=QPU, max_cost_usd=want * 1.1, **fast_options).preflight(model, phases)
    assert ok.source == "server" and ok.usd == pytest.approx(want, rel=itol.cost_rel)
    assert ok.circuits == 1000 and ok.shots == 400 * 500 + 600 * 1000


def test_preflight_falls_back_to_the_local_price_lists_without_the_endpoint(
    make_loopback, fast_options, itol, caplog
):
    server = make_loopback(estimate_supported=False)
    options = {**fast_options, "remote_host": server.url}
    model = QubitModel(2, 2, entangler="cnot")
    one, two = worst_counts(model, "aria")
    want = 50 * aria_usd_per_circuit(one, two, 1000)
    caplog.set_level(logging.INFO, logger="qgan.qubit.ionq")
    backend = IonQBackend(target=QPU, max_cost_usd=want * 0.5, **options)
    with pytest.raises(IonQBudgetExceeded, match="local estimate"):
        backend.preflight(model, [(50, 1000)])
    assert [r.status for r in server.requests_to("GET", r"^/jobs/estimate$")] == [404]
    assert "using the local price lists" in caplog.text
    assert server.requests_to("POST", r"^/jobs") == []
    est = IonQBackend(target=QPU, **options).preflight(model, [(50, 1000)])
    assert est.source == "local" and est.usd == pytest.approx(want, rel=itol.cost_rel)


def test_every_run_call_is_guarded_by_the_cost_of_the_jobs_so_far(loopback, fast_options):
    """Without a pre-flight, a run call whose new circuits would take the run directory's
    estimated spend past the limit is refused before its POST."""
    model = QubitModel(2, 1, entangler="cnot")
    x, p = rows(model, 4)
    probe = IonQBackend(target=QPU, **fast_options)
    one_call = sum(
        aria_usd_per_circuit(i.one_qubit, i.two_qubit, 100)
        for i in (probe.prepare(model.to_cirq(a, b, measure=True), 100) for a, b in zip(x, p))
    )
    limit = 1.5 * one_call  # room for one call of 4 circuits, not for two
    backend = IonQBackend(target=QPU, max_cost_usd=limit, **fast_options)
    backend.expectations(model, x, p, 100)
    assert len(posted_jobs(loopback)) == 1
    with pytest.raises(IonQBudgetExceeded) as err:
        backend.expectations(model, x + 0.1, p, 100)
    message = str(err.value)
    assert "\n" not in message and f"over the limit of {limit:,.2f} USD" in message
    assert f"to {2 * one_call:,.2f} USD ({one_call:,.2f} USD submitted so far)" in message
    assert len(loopback.requests_to("POST", r"^/jobs")) == 1  # nothing more was sent


# ------------------------------------------------------------------ 2. sessions


def test_jobs_join_one_session_with_its_limits_and_close_ends_it(
    loopback, fast_options, tmp_path, capsys
):
    model = QubitModel(2, 1, entangler="cnot")
    session = {"max_cost_usd": 50.0, "max_jobs": 10, "max_minutes": 30}
    backend = IonQBackend(
        target=QPU, session=session, run_dir=str(tmp_path), max_circuits_per_job=3,
        **fast_options,
    )  # fmt: skip
    x, p = rows(model, 5)
    backend.expectations(model, x, p, 100)
    backend.expectations(model, x + 0.2, p, 100)
    (created,) = loopback.requests_to("POST", r"^/sessions$")
    assert created.body == {
        "backend": QPU,
        "settings": {
            "job_count_limit": 10,
            "duration_limit_min": 30,
            "cost_limit": {"unit": "usd", "value": 50.0},
        },
    }
    (sid,) = loopback.sessions
    bodies = posted_jobs(loopback)
    assert len(bodies) == 4 and all(b["session_id"] == sid for b in bodies)
    assert loopback.requests_to("POST", r"/end$") == []
    backend.close()
    assert [r.path for r in loopback.requests_to("POST", r"/end$")] == [f"/sessions/{sid}/end"]
    assert loopback.sessions[sid]["status"] == "ended"
    assert backend.store.session()["state"] == "ended" and backend.session_id() is None
    # qgan ionq status RUN_DIR shows the session and each job's session id
    assert main(["ionq", "status", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["session"]["id"] == sid and listed["session"]["state"] == "ended"
    assert {j["session_id"] for j in listed["jobs"]} == {sid}
    assert main(["ionq", "status", str(tmp_path)]) == 0
    assert f"IonQ session {sid} (ended" in capsys.readouterr().out


def test_a_run_resumed_after_a_crash_reattaches_to_its_session(loopback, fast_options, tmp_path):
    """First run: one job completes, the next fails (the exception ends the process: no
    close). The resumed run on the same run directory creates no second session: its jobs
    carry the first session's id."""
    model = QubitModel(2, 1, entangler="cnot")
    options = dict(target=QPU, session=True, run_dir=str(tmp_path), **fast_options)
    x, p = rows(model, 3)
    first = IonQBackend(**options)
    first.expectations(model, x, p, 100)
    loopback.plan_job(fail="ion lost")
    with pytest.raises(IonQJobError, match="ion lost"):
        first.expectations(model, x + 0.5, p, 100)
    del first  # the crash: nothing ends the session
    (sid,) = loopback.sessions
    assert loopback.sessions[sid]["status"] == "created"

    resumed = IonQBackend(**options)
    assert resumed.session_id() == sid
    resumed.expectations(model, x + 0.5, p, 100)  # the failed job's circuits, again
    resumed.expectations(model, x + 1.0, p, 100)
    assert len(loopback.requests_to("POST", r"^/sessions$")) == 1
    bodies = posted_jobs(loopback)
    assert len(bodies) == 4 and {b["session_id"] for b in bodies} == {sid}
    assert loopback.sessions[sid]["jobs"] == [j.id for j in loopback.created_jobs()]
    resumed.close()
    assert loopback.sessions[sid]["status"] == "ended"


def test_leaving_the_with_block_on_an_error_ends_the_session(loopback, fast_options, tmp_path):
    model = QubitModel(2, 1, entangler="cnot")
    x, p = rows(model, 2)
    loopback.plan_job(fail="trap fault")
    with pytest.raises(IonQJobError), IonQBackend(target=QPU, session=True, **fast_options) as b:
        b.expectations(model, x, p, 100)
    (sid,) = loopback.sessions
    assert loopback.sessions[sid]["status"] == "ended"
    assert len(loopback.requests_to("POST", rf"^/sessions/{sid}/end$")) == 1


# ------------------------------------------------------------------ 3. debiasing


def test_debiasing_with_fewer_than_500_shots_is_refused_in_one_line(loopback, fast_options):
    model = QubitModel(2, 1)
    x, p = rows(model, 2)
    backend = IonQBackend(target=QPU, error_mitigation={"debias": True}, **fast_options)
    with pytest.raises(ValueError) as err:
        backend.expectations(model, x, p, 499)
    assert str(err.value) == (
        "error_mitigation.debias: IonQ debiasing needs at least 500 shots per circuit, "
        "shots gives 499"
    )
    with pytest.raises(ValueError, match="error_mitigation.debias: .* phase of the workload"):
        backend.preflight(model, [(10, 1000), (10, 400)])
    assert loopback.requests == []  # refused before any request


def test_debiasing_on_the_simulator_is_refused_naming_the_key():
    with pytest.raises(ValueError, match=r"^config key ionq\.error_mitigation: IonQ debiases"):
        parse_options({"error_mitigation": {"debias": True}})


def test_debiased_job_sends_the_setting_and_reads_the_averaged_results(loopback, fast_options):
    """The body carries settings.error_mitigation.debiasing; the results request asks for
    the averaged aggregation; the stored counts are the server's averaged histogram (not
    its sharpened one), bit order converted."""
    model = QubitModel(3, 1, entangler="cnot")
    x, p = rows(model, 3)
    shots = 1000
    backend = IonQBackend(target=QPU, error_mitigation={"debias": True}, **fast_options)
    prepared = [backend.prepare(model.to_cirq(a, b, measure=True), shots) for a, b in zip(x, p)]
    results = backend.run(prepared, shots)
    (body,) = posted_jobs(loopback)
    assert body["settings"]["error_mitigation"] == {"debiasing": True}
    (read,) = loopback.requests_to("GET", r"/results/probabilities/aggregated$")
    assert read.query["sharpen"] == ["False"] and read.query["aggregation"] == ["average"]
    (job,) = loopback.created_jobs()
    assert job.served == ["average"]
    n = model.n_qubits
    differs = 0
    for item, averaged, sharpened in zip(prepared, job.histograms, job.sharpened):
        got = results[item.key].values
        want = {int(f"{int(k):0{n}b}"[::-1], 2): v * shots for k, v in averaged.items()}
        assert set(got) == set(want)
        for k in want:
            assert got[k] == pytest.approx(want[k], abs=1e-6)
        differs += averaged != sharpened
    assert differs > 0  # the two aggregations differ, so reading the wrong one would show


# ------------------------------------------------------------------ 4. per-circuit gatesets


def test_one_multi_circuit_job_carries_each_circuits_own_gateset(loopback, fast_options, itol):
    model = QubitModel(3, 2, entangler="cnot")
    x, p = rows(model, 4)
    backend = IonQBackend(gateset="aria", **fast_options)
    chosen = ["aria", "qis", None, "qis"]  # None: the options' gateset (aria)
    prepared = [
        backend.prepare(model.to_cirq(a, b, measure=True), 100, gateset=g)
        for a, b, g in zip(x, p, chosen)
    ]
    results = backend.run(prepared, 100)
    (body,) = posted_jobs(loopback)
    assert body["type"] == "ionq.multi-circuit.v1"
    circuits = body["input"]["circuits"]
    assert [c["gateset"] for c in circuits] == ["native", "qis", "native", "qis"]
    for c in circuits:
        names = {g["gate"] for g in c["circuit"]}
        allowed = {"gpi", "gpi2", "ms"} if c["gateset"] == "native" else {"ry", "rz", "cnot"}
        assert names <= allowed and names
    exact = probabilities(model, x, p, dtype=tf.complex128).numpy()
    for i, item in enumerate(prepared):
        got = np.zeros(2**model.n_qubits)
        for k, v in results[item.key].values.items():
            got[k] = v
        np.testing.assert_allclose(got, exact[i], atol=itol.probability)
    (record,) = backend.store.jobs.values()
    assert record.gateset == "native+qis"


def test_a_circuit_gateset_foreign_to_the_target_is_refused(fast_options):
    backend = IonQBackend(target="qpu.forte-1", **fast_options)
    model = QubitModel(2, 1)
    x, p = rows(model, 1)
    with pytest.raises(ValueError, match=r"^gateset: 'aria' gates do not run on target"):
        backend.prepare(model.to_cirq(x[0], p[0], measure=True), 10, gateset="aria")


# ------------------------------------------------------------------ 5. the API key


def test_the_api_key_is_in_no_log_record_and_no_written_file(
    loopback, fast_options, api_key, all_logs, tmp_path
):
    """Pre-flight, a session, debiased jobs, a failed job, the resume and the end, with
    every logger at DEBUG: the key is in no record (message or arguments), no error and
    no file of the run directory."""
    model = QubitModel(2, 1, entangler="cnot")
    x, p = rows(model, 3)
    options = dict(
        target=QPU, session={"max_jobs": 20}, error_mitigation={"debias": True},
        max_cost_usd=1e6, run_dir=str(tmp_path / "run"), **fast_options,
    )  # fmt: skip
    errors = []
    backend = IonQBackend(**options)
    backend.preflight(model, [(10, 600)])
    backend.expectations(model, x, p, 600)
    loopback.plan_job(fail="laser unlock")
    try:
        backend.expectations(model, x + 1, p, 600)
    except IonQJobError as err:
        errors.append(str(err))
    with IonQBackend(**options) as resumed:
        resumed.expectations(model, x + 1, p, 600)
    assert errors and loopback.requests_to("POST", r"/end$")
    assert all(r.authorized for r in loopback.requests)  # the key was sent, in the header
    records = all_logs.records
    assert len(records) > 5
    for record in records:
        assert api_key not in record.getMessage()
        assert api_key not in repr(record.args)
    assert all(api_key not in e for e in errors)
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert len(files) >= 4  # jobs, results, session
    for f in files:
        assert api_key.encode() not in f.read_bytes(), f
