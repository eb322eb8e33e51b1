"""``qgan classify`` with ``backend.kind: ionq``: the qubit classifier trained through
``IonQBackend`` against the loopback IonQ server (the real ``cirq_ionq`` client on the
wire), called in-process through ``qgan.cli.main``.

A tiny run: digits, 30 images (24 training, 6 validation), 4 qubits, depth 1 (8 angles),
batches of 8, one epoch, 200 shots. Oracles: the circuit counts each gradient method must
run (per step one forward job of B circuits and one multi-circuit gradient job of
``2 n_params B`` (parameter shift) or ``2 B`` (SPSA) circuits, then one validation job and
one training-split scoring job; the final validation pass asks for circuits already
saved), the server's log of what it received, the same run on ``backend.kind: simulator``
(same circuit and shot counts), and qgan's TF simulator in complex128 for the readouts of
the trained angles (within shot noise).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml

from qgan.classify.config import load_config
from qgan.classify.training import load_classifier, prepare
from qgan.cli import main
from qgan.qubit import expectation_values


def _ionq_fixtures():
    """The fixtures module of ``tests/qubit/ionq`` (loaded by path: importlib mode)."""
    name = "qgan_tests_qubit_ionq_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "qubit" / "ionq" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixtures = _ionq_fixtures()
# the loopback server, its options, a random IONQ_API_KEY, log capture and shot-noise check
api_key = _fixtures.api_key
loopback_module = _fixtures.loopback_module
make_loopback = _fixtures.make_loopback
loopback = _fixtures.loopback
fast_options = _fixtures.fast_options
all_logs = _fixtures.all_logs
shot_noise = _fixtures.shot_noise

N_IMAGES, VALIDATION_FRACTION, BATCH, SHOTS = 30, 0.2, 8, 200
N_QUBITS, DEPTH = 4, 1


def config_data(tmp_path, gradient: str, backend: dict) -> dict:
    return {
        "name": f"ionq-{gradient}",
        "seed": 3,
        "data": {
            "kind": "digits",
            "n_samples": N_IMAGES,
            "validation_fraction": VALIDATION_FRACTION,
            "stratify": False,
        },
        "model": {"kind": "qubit", "n_qubits": N_QUBITS, "depth": DEPTH, "encoding": "angle"},
        "train": {
            "epochs": 1,
            "batch_size": BATCH,
            "learning_rate": 0.05,
            "gradient": gradient,
            "shots": SHOTS,
        },
        "backend": backend,
        "output": {"dir": str(tmp_path / "runs"), "plots": False},
    }


def write_config(tmp_path, data: dict) -> str:
    path = tmp_path / f"{data['name']}-{data['backend']['kind']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def cli(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def posted_jobs(server) -> list[dict]:
    return [r.body for r in server.requests_to("POST", r"^/jobs$") if r.status == 200]


def n_circuits(body: dict) -> int:
    if body["type"] == "ionq.multi-circuit.v1":
        return len(body["input"]["circuits"])
    return 1


def expected_jobs(gradient: str, n_params: int) -> list[tuple[str, int]]:
    """(kind, circuits) of every job of the run, in order."""
    n_val = math.ceil(VALIDATION_FRACTION * N_IMAGES)
    n_train = N_IMAGES - n_val
    per_row = 2 * n_params if gradient == "parameter_shift" else 2
    jobs = []
    for start in range(0, n_train, BATCH):
        rows = min(BATCH, n_train - start)
        jobs += [("forward", rows), ("gradient", rows * per_row)]
    # validation after the epoch; the final validation pass is the same circuits (saved)
    return jobs + [("validation", n_val), ("train scoring", n_train)]


@pytest.mark.parametrize(
    "gradient, host", [("parameter_shift", "config"), ("spsa", "IONQ_REMOTE_HOST")]
)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_classifier_trains_through_ionq_batch_jobs(
    gradient, host, loopback, fast_options, api_key, all_logs, shot_noise, tmp_path, capsys,
    monkeypatch,
):  # fmt: skip
    options = dict(fast_options)
    if host == "IONQ_REMOTE_HOST":
        monkeypatch.setenv("IONQ_REMOTE_HOST", options.pop("remote_host"))
    backend = {"kind": "ionq", "target": "simulator", "gateset": "aria", **options}
    data = config_data(tmp_path, gradient, backend)
    status, out, err = cli(capsys, "classify", write_config(tmp_path, data), "--json")
    assert status == 0, err
    result = json.loads(out)
    run_dir = Path(result["run_dir"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    n_params = 2 * N_QUBITS * DEPTH  # RY and RZ per qubit per layer
    assert metrics["n_params"]["quantum"] == n_params

    # every job the server received, in order: per step a forward job and ONE multi-circuit
    # job holding all gradient circuits of the step, then validation and scoring
    want = expected_jobs(gradient, n_params)
    bodies = posted_jobs(loopback)
    assert [n_circuits(b) for b in bodies] == [n for _, n in want]
    for (kind, _), body in zip(want, bodies):
        if kind == "gradient":
            assert body["type"] == "ionq.multi-circuit.v1"
        assert int(body["shots"]) == SHOTS and body["backend"] == "simulator"
        assert body["input"]["gateset"] == "native" and body["input"]["qubits"] == N_QUBITS
    assert len(set(loopback.submitted_circuits())) == len(loopback.submitted_circuits())

    # metrics: what the layer asked for (the final validation pass included) and what IonQ ran
    n_val = metrics["n_validation"]
    submitted = sum(n for _, n in want)
    assert metrics["circuits_executed"] == submitted + n_val
    assert metrics["shots_executed"] == (submitted + n_val) * SHOTS
    assert metrics["ionq"] == {
        "target": "simulator",
        "jobs": len(want),
        "job_states": {"completed": len(want)},
        "circuits_submitted": submitted,
        "shots_submitted": submitted * SHOTS,
        "results": submitted,
    }
    assert 0.0 <= metrics["accuracy"] <= 1.0 and len(metrics["confusion_matrix"]) == 10

    # the same run on the TF simulator asks for the same circuits and shots
    sim = dict(data, backend={"kind": "simulator"})
    status, out, err = cli(capsys, "classify", write_config(tmp_path, sim), "--json")
    assert status == 0, err
    sim_metrics = json.loads(out)
    for key in ("circuits_executed", "shots_executed", "n_train", "n_validation"):
        assert sim_metrics[key] == metrics[key]

    # the trained classifier, reloaded, reads its results from <run_dir>/ionq/ (no new job);
    # its readouts are the exact ones of the trained angles within shot noise, and they
    # reproduce the run's validation accuracy
    n_jobs = len(bodies)
    parts, _ = prepare(load_config(run_dir / "config.yaml"))
    clf = load_classifier(run_dir)
    x_val = clf.features(parts.validation.images)
    readouts = clf.circuit(tf.constant(x_val)).numpy()
    params = clf.circuit.params.numpy()
    exact = expectation_values(clf.circuit.model, x_val, params, dtype=tf.complex128).numpy()
    assert shot_noise(readouts, exact, SHOTS)
    assert clf.score(parts.validation)["accuracy"] == metrics["accuracy"]
    assert len(posted_jobs(loopback)) == n_jobs
    assert not np.allclose(params, np.random.default_rng(3).uniform(-np.pi, np.pi, n_params))

    # the API key is in no file of the run directory, no log line and no CLI output
    files = [f for f in run_dir.rglob("*") if f.is_file()]
    assert len(list((run_dir / "ionq" / "jobs").iterdir())) == len(want)
    assert all(api_key.encode() not in f.read_bytes() for f in files)
    assert api_key not in all_logs.text and api_key not in out + err

    # qgan ionq status RUN_DIR lists the run's jobs
    status, out, err = cli(capsys, "ionq", "status", str(run_dir), "--json")
    assert status == 0, err
    listed = json.loads(out)
    created = loopback.created_jobs()
    assert sorted(j["job_id"] for j in listed["jobs"]) == sorted(j.id for j in created)
    assert sorted(j["circuits"] for j in listed["jobs"]) == sorted(n for _, n in want)
    assert {j["state"] for j in listed["jobs"]} == {"completed"}
    status, out, _ = cli(capsys, "ionq", "status", str(run_dir))
    assert status == 0 and all(j.id in out for j in created)


def test_missing_api_key_fails_before_anything_is_written(
    loopback, fast_options, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("IONQ_API_KEY")
    backend = {"kind": "ionq", **fast_options}
    data = config_data(tmp_path, "spsa", backend)
    status, _, err = cli(capsys, "classify", write_config(tmp_path, data), "--quiet")
    assert status == 2
    assert err.count("\n") == 1 and "IONQ_API_KEY" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert loopback.requests == []


@pytest.mark.parametrize(
    "change, key",
    [
        ({"train": {"gradient": "autodiff", "shots": None}}, "train.gradient"),
        ({"backend": {"kind": "ionq", "run_dir": "elsewhere"}}, "backend.run_dir"),
        ({"backend": {"kind": "ionq", "seed": 1}}, "backend.seed"),
        (
            {"backend": {"kind": "ionq", "target": "qpu.aria-1",
                         "error_mitigation": {"debias": True}}},
            "backend.error_mitigation.debias",
        ),
        (
            {"train": {"epochs": 4, "shots": {"start": 1000, "end": 200, "growth": "step"}},
             "backend": {"kind": "ionq", "target": "qpu.aria-1",
                         "error_mitigation": {"debias": True}}},
            "backend.error_mitigation.debias",
        ),
        ({"backend": {"kind": "ionq", "session": {"max_job": 3}}}, "backend.session.max_job"),
        ({"backend": {"kind": "ionq", "max_cost_usd": 0}}, "backend.max_cost_usd"),
    ],
    ids=["autodiff", "run_dir", "seed", "debias_shots", "debias_schedule", "session", "cost"],
)  # fmt: skip
def test_refused_ionq_settings_are_one_line_naming_the_key(change, key, api_key, tmp_path, capsys):
    data = config_data(tmp_path, "parameter_shift", {"kind": "ionq"})
    for section, values in change.items():
        data[section] = {**data[section], **values}
    status, _, err = cli(capsys, "classify", write_config(tmp_path, data), "--quiet")
    assert status == 2
    assert err.count("\n") == 1 and f"config key {key}:" in err, err
    assert not (tmp_path / "runs").exists()
    if key.endswith("debias"):
        low = 200
        assert f"needs at least 500 shots per circuit, train.shots gives {low}" in err, err


def test_debiased_config_with_500_shots_in_every_epoch_is_accepted(tmp_path):
    data = config_data(
        tmp_path,
        "parameter_shift",
        {"kind": "ionq", "target": "qpu.aria-1", "error_mitigation": {"debias": True}},
    )
    data["train"] |= {"epochs": 3, "shots": {"start": 500, "end": 2000}}
    cfg = load_config(write_config(tmp_path, data))
    assert cfg.backend.options["error_mitigation"] == {"debias": True}  # fmt: skip


@pytest.mark.parametrize("gradient", ["parameter_shift", "spsa", "adaptive"])
def test_run_phases_count_every_circuit_of_the_run_by_shot_phase(gradient, tmp_path):
    """Per epoch: forward + gradient circuits per training row and one per validation row
    (adaptive: parameter shift throughout); after the run the final scores (train + val);
    epochs grouped by the schedule's shots."""
    from qgan.classify.ionq_run import run_phases
    from qgan.qubit import QubitModel

    data = config_data(tmp_path, gradient, {"kind": "ionq"})
    data["train"] |= {"epochs": 4, "shots": {"start": 100, "end": 300, "growth": "step"}}
    cfg = load_config(write_config(tmp_path, data))
    model = QubitModel(N_QUBITS, DEPTH, encoding="angle")
    n_train, n_val = 24, 6
    per_row = 1 + (2 * model.n_params if gradient != "spsa" else 2)
    epoch = n_train * per_row + n_val
    # step growth, 2 phases over 4 epochs: epochs 1-2 at 100 shots, 3-4 at 300
    assert run_phases(cfg, n_train, n_val, model) == [
        (2 * epoch, 100),
        (2 * epoch + n_train + n_val, 300),
    ]


def test_a_classifier_run_over_its_budget_is_refused_before_any_job(
    loopback, fast_options, api_key, tmp_path
):
    """The whole run's estimate (server GET /jobs/estimate per shot phase x the run's
    circuits) exceeds backend.max_cost_usd: one line with estimate and limit, no job."""
    from qgan.classify.ionq_run import preflight_run, run_phases
    from qgan.classify.model import ionq_backend
    from qgan.qubit import QubitModel
    from qgan.qubit.ionq import IonQBudgetExceeded
    from qgan.qubit.ionq.budget import worst_counts

    backend_cfg = {"kind": "ionq", "target": "qpu.aria-1", "max_cost_usd": 25.0,
                   **fast_options}  # fmt: skip
    data = config_data(tmp_path, "parameter_shift", backend_cfg)
    cfg = load_config(write_config(tmp_path, data))
    model = QubitModel(N_QUBITS, DEPTH, encoding="angle")
    n_val = math.ceil(VALIDATION_FRACTION * N_IMAGES)
    n_train = N_IMAGES - n_val
    ((circuits, shots),) = run_phases(cfg, n_train, n_val, model)
    one, two = worst_counts(model, "aria")
    r = loopback.rates
    per = max(r["job_cost_minimum"], shots * (one * r["cost_1q_gate"] + two * r["cost_2q_gate"]))
    with pytest.raises(IonQBudgetExceeded) as err:
        preflight_run(cfg, ionq_backend(cfg, tmp_path / "run"), model, n_train, n_val)
    message = str(err.value)
    assert "\n" not in message and f"run {cfg.name!r} is estimated at" in message
    assert f"{circuits * per:,.2f} USD" in message and "limit of 25.00 USD" in message
    assert loopback.requests_to("POST", r"^/jobs") == []
    assert len(loopback.requests_to("GET", r"^/jobs/estimate$")) == 1


def test_a_failed_job_is_one_line_naming_the_job(
    loopback, fast_options, api_key, tmp_path, capsys
):  # fmt: skip
    """A job the server fails mid-training: one line naming the job (no TF traceback),
    exit status 1, and the job records stay in the run directory for ``qgan ionq status``."""
    loopback.plan_job(fail="calibration failed")
    backend = {"kind": "ionq", "target": "simulator", "gateset": "aria", **fast_options}
    data = config_data(tmp_path, "spsa", backend)
    status, out, err = cli(capsys, "classify", write_config(tmp_path, data), "--quiet")
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    job = loopback.created_jobs()[0]
    assert lines[0].startswith("qgan classify: error: IonQJobError: ")
    assert job.body["name"] in lines[0] and "calibration failed" in lines[0]
    assert list((tmp_path / "runs").glob("*/ionq/jobs/*"))


def test_qgan_classify_over_its_budget_stops_before_any_job_or_run_directory(
    loopback, fast_options, api_key, tmp_path, capsys
):  # fmt: skip
    """`qgan classify` prices the whole run first: over backend.max_cost_usd it exits with one
    line giving the estimate and the limit, the server saw no job, and no run directory exists."""
    backend_cfg = {"kind": "ionq", "target": "qpu.aria-1", "max_cost_usd": 25.0,
                   **fast_options}  # fmt: skip
    data = config_data(tmp_path, "parameter_shift", backend_cfg)
    status, out, err = cli(capsys, "classify", write_config(tmp_path, data), "--quiet")
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "is estimated at" in lines[0] and "limit of 25.00 USD" in lines[0]
    assert loopback.requests_to("POST", r"^/jobs") == []
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_qng_classifier_measures_its_metric_on_ionq_in_one_job_per_step(
    loopback, fast_options, api_key, tmp_path, capsys
):
    """``train.optimizer: qng`` on ``backend.kind: ionq``: per step ONE multi-circuit job of
    the metric's 2 * depth * metric_rows prefix circuits, counted as ``metric/qng`` in
    metrics.json and in the IonQ job totals, at the run's shots."""
    backend = {"kind": "ionq", "target": "simulator", "gateset": "aria", **fast_options}
    data = config_data(tmp_path, "spsa", backend)
    data["train"] |= {"optimizer": "qng", "angle_learning_rate": 0.05, "qng": {"metric_rows": 2}}
    status, out, err = cli(capsys, "classify", write_config(tmp_path, data), "--json")
    assert status == 0, err
    metrics = json.loads((Path(json.loads(out)["run_dir"]) / "metrics.json").read_text())
    n_train = metrics["n_train"]
    steps = math.ceil(n_train / BATCH)
    per_step = 2 * DEPTH * 2  # 2 depth blocks x 2 metric rows
    metric = metrics["circuits_by_phase"]["metric/qng"]
    assert (metric["circuits"], metric["shots"]) == (steps * per_step, steps * per_step * SHOTS)
    # the server received one job of per_step circuits per step (no forward, gradient,
    # validation or scoring job has that size here: 8, 16, 6 and 24 circuits)
    sizes = [n_circuits(b) for b in posted_jobs(loopback)]
    assert sorted({n_train % BATCH or BATCH, 2 * BATCH, metrics["n_validation"]}) == [6, 8, 16]
    assert sizes.count(per_step) == steps
    assert all(int(b["shots"]) == SHOTS for b in posted_jobs(loopback))
    assert metrics["ionq"]["circuits_submitted"] == sum(sizes)
    assert sum(sizes) == sum(n for _, n in expected_jobs("spsa", 0)) + steps * per_step
