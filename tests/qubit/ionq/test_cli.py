"""The ``qgan ionq`` verbs: ``compile``, ``estimate`` (from a classifier config or from
structure options) and ``status RUN_DIR``, called in-process through ``qgan.cli.main``.

Oracles: ``compile_with_report`` / ``estimate_model`` called directly, the classifier
run's circuit count written out by hand, and the loopback server's jobs.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from qgan.cli import main
from qgan.qubit import QubitModel
from qgan.qubit.ionq import IonQBackend
from qgan.qubit.ionq.compilation import compile_with_report
from qgan.qubit.ionq.estimate import estimate_model, sample_circuit


def classifier_config(tmp_path, **sections) -> str:
    data = {
        "name": "ionq-test",
        "data": {"kind": "digits", "n_samples": 200, "validation_fraction": 0.2},
        "model": {"n_qubits": 4, "depth": 2, "entangler": "ms", "measurement": "z"},
        "train": {"epochs": 3, "batch_size": 16, "gradient": "parameter_shift", "shots": 300},
        "backend": {"kind": "ionq", "target": "qpu.forte-1"},
    }
    for name, values in sections.items():
        data[name].update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_compile_from_options(capsys, tmp_path):
    out_file = tmp_path / "circuit.json"
    status, out, _ = run(
        capsys, "ionq", "compile", "--n-qubits", "3", "--depth", "2", "--entangler", "cnot",
        "--gateset", "aria", "-o", str(out_file), "--seed", "4",
    )  # fmt: skip
    assert status == 0
    model = QubitModel(3, 2, entangler="cnot")
    _, report = compile_with_report(sample_circuit(model, np.random.default_rng(4)), "aria")
    assert report.table() in out
    assert "unitary check" in out
    program = json.loads(out_file.read_text())
    assert program["input"]["gateset"] == "native"
    assert {g["gate"] for g in program["input"]["circuit"]} <= {"gpi", "gpi2", "ms"}


def test_compile_from_a_classifier_config_uses_its_target(capsys, tmp_path):
    status, out, _ = run(capsys, "ionq", "compile", classifier_config(tmp_path), "--json")
    assert status == 0
    data = json.loads(out)
    assert data["gateset"] == "forte" and "ZZ" in data["native_gates"]
    assert (
        data["model"]
        == QubitModel(4, 2, encoding="reupload", entangler="ms", topology="ring").structure_key
    )


def test_estimate_of_a_classifier_run(capsys, tmp_path, itol):
    status, out, _ = run(capsys, "ionq", "estimate", classifier_config(tmp_path), "--json")
    assert status == 0
    data = json.loads(out)
    n, epochs, n_params = 200, 3, 2 * 4 * 2
    n_val = math.ceil(0.2 * n)
    n_train = n - n_val
    # per epoch: forward + 2 n_params shifted circuits per training image, validation once
    circuits = epochs * (n_train * (1 + 2 * n_params) + n_val)
    assert data["breakdown"] == {
        "epochs": epochs,
        "train_forward": epochs * n_train,
        "train_gradient": epochs * n_train * 2 * n_params,
        "validation": epochs * n_val,
    }
    model = QubitModel(4, 2, encoding="reupload", entangler="ms", topology="ring")
    want = estimate_model(model, circuits, 300)
    for got, row in zip(data["targets"], want.targets):
        assert got["circuits"] == circuits and got["shots"] == 300
        assert (got["one_qubit"], got["two_qubit"]) == (row.one_qubit, row.two_qubit)
        for market, cost in row.costs.items():
            assert got["costs"][market] == pytest.approx(cost, rel=itol.cost_rel)


def test_estimate_of_a_shot_schedule_prices_each_phase_at_its_shots(capsys, tmp_path, itol):
    """train.shots {start: 100, end: 700, growth: step, steps: 2} over 4 epochs: epochs
    1-2 at 100 shots, 3-4 at 700; each phase's circuits are its epochs' circuits, priced
    at its shots, and the totals are the phases' sums."""
    schedule = {"start": 100, "end": 700, "growth": "step", "steps": 2}
    config = classifier_config(tmp_path, train={"epochs": 4, "shots": schedule})
    status, out, _ = run(capsys, "ionq", "estimate", config, "--json")
    assert status == 0
    data = json.loads(out)
    n, n_params = 200, 2 * 4 * 2
    n_val = math.ceil(0.2 * n)
    per_epoch = (n - n_val) * (1 + 2 * n_params) + n_val
    model = QubitModel(4, 2, encoding="reupload", entangler="ms", topology="ring")
    assert [(p["epochs"], p["shots"]) for p in data["phases"]] == [(2, 100), (2, 700)]
    totals: dict = {}
    for phase in data["phases"]:
        want = estimate_model(model, 2 * per_epoch, phase["shots"])
        for got, row in zip(phase["targets"], want.targets):
            assert got["circuits"] == 2 * per_epoch and got["shots"] == phase["shots"]
            for market, cost in row.costs.items():
                assert got["costs"][market] == pytest.approx(cost, rel=itol.cost_rel)
                totals[(row.target, market)] = totals.get((row.target, market), 0.0) + cost
    for (target, market), usd in totals.items():
        assert data["total_usd"][target][market] == pytest.approx(usd, rel=itol.cost_rel)
    status, out, _ = run(capsys, "ionq", "estimate", config, "--targets", "qpu.aria-1")
    assert status == 0 and "2 epoch(s) at 700 shots per circuit:" in out
    assert "Total (USD): qpu.aria-1 gate-shot" in out


def test_estimate_table_with_spsa_and_overrides(capsys, tmp_path):
    config = classifier_config(tmp_path, train={"gradient": "spsa"})
    status, out, _ = run(
        capsys, "ionq", "estimate", config, "--shots", "50", "--targets", "qpu.aria-1"
    )
    assert status == 0
    # spsa: 2 circuits per image per gradient
    circuits = 3 * (160 * 3 + 40)
    assert f"{circuits:,} circuits x 50 shots" in out
    assert "| qpu.aria-1 | aria |" in out and "qpu.forte-1" not in out.split("figures")[0]
    assert "learn.microsoft.com" in out


@pytest.mark.parametrize(
    "argv, name",
    [
        (["ionq", "estimate", "--n-qubits", "2", "--depth", "1", "--shots", "10"], "circuits"),
        (["ionq", "estimate", "--n-qubits", "2", "--depth", "1", "--circuits", "3"], "shots"),
        (["ionq", "compile", "missing.yaml"], "missing.yaml"),
        (["ionq", "compile", "--n-qubits", "2", "--depth", "1", "--gateset", "x"], "gateset"),
        (
            [
                "ionq",
                "estimate",
                "--n-qubits",
                "2",
                "--depth",
                "1",
                "--circuits",
                "3",
                "--shots",
                "5",
                "--targets",
                "qpu.nope",
            ],
            "targets",
        ),
        (["ionq", "status", "no-such-dir"], "run_dir"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, argv, name):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qgan ionq: error:") and name in err


def test_status_of_a_run_directory(capsys, tmp_path, loopback, fast_options, api_key):
    model = QubitModel(2, 1)
    rng = np.random.default_rng(0)
    x, p = rng.uniform(-1, 1, (5, 2)), rng.uniform(-1, 1, (5, 4))
    run_dir = tmp_path / "run"
    options = dict(fast_options, run_dir=run_dir, max_circuits_per_job=3)
    IonQBackend(**options).expectations(model, x, p, 100)
    loopback.plan_job(hold=True)
    with pytest.raises(Exception, match="did not finish"):
        IonQBackend(**dict(options, timeout_s=0.1, max_concurrency=1)).expectations(
            model, x + 1, p, 100
        )

    status, out, _ = run(capsys, "ionq", "status", str(run_dir))
    assert status == 0
    assert "4 IonQ jobs (3 completed, 1 timed_out)" in out
    for job in loopback.created_jobs():
        assert job.id in out
    status, out, _ = run(
        capsys, "ionq", "status", str(run_dir), "--refresh", "--remote-host", loopback.url,
        "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["summary"]["results"] == 5 + 2  # the second run: its completed job of 2
    live = {j["state"]: j["server_status"] for j in data["jobs"]}
    assert live == {"completed": None, "timed_out": "running"}
    assert api_key not in out


def test_estimate_counts_the_images_of_a_data_file(capsys, tmp_path):
    images = np.zeros((50, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "images.npz", images=images, labels=np.arange(50) % 10)
    config = classifier_config(
        tmp_path,
        data={"kind": "fashion_mnist", "path": str(tmp_path / "images.npz"), "n_samples": 1000},
        train={"epochs": 1, "gradient": "spsa"},
    )
    status, out, _ = run(capsys, "ionq", "estimate", config, "--json")
    assert status == 0
    # 50 images (not n_samples 1000): 10 validation, 40 training x (1 forward + 2 SPSA)
    assert json.loads(out)["targets"][0]["circuits"] == 40 * 3 + 10
