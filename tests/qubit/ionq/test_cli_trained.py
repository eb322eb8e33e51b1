"""``qgan ionq compile RUN_DIR [--input INDEX]``: a trained classifier's circuit, compiled;
``qgan ionq estimate`` on an ``autodiff`` config (counted as the hardware gradient it would
need); the structure options' defaults.

Oracles: the trained model reloaded on its own (``load_classifier``) and its validation
split recomputed (``load_images`` + ``split``); the compiled circuit read back from the
IonQ JSON the command wrote and multiplied out with IonQ's published gate definitions
(``native_oracle.py``, not ``cirq_ionq``'s matrices) against the trained layer's bound
circuit (``QubitModel.to_cirq`` with the checkpoint's angles); its measured readouts from
``cirq.Simulator`` against the trained layer's outputs (the head's inputs). Tolerances:
``ctol`` (``conftest.py``).
"""

from __future__ import annotations

import json

import cirq
import cirq_ionq
import numpy as np
import pytest
import yaml
from native_oracle import native_unitary, phase_distance, source_unitary

from qgan.cli import main
from qgan.qubit import QubitModel
from qgan.qubit.defaults import STRUCTURE_DEFAULTS

N_QUBITS = 3


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished 1-epoch classifier run on 60 digits (3 qubits, depth 2, MS ring)."""
    from qgan.classify.config import load_config
    from qgan.classify.training import classify

    root = tmp_path_factory.mktemp("trained")
    config = {
        "name": "tiny",
        "data": {"kind": "digits", "n_samples": 60, "validation_fraction": 0.25},
        "model": {"n_qubits": N_QUBITS, "depth": 2, "entangler": "ms"},
        "train": {"epochs": 1, "batch_size": 16},
        "output": {"dir": str(root / "runs"), "plots": False},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return classify(load_config(path), progress=False).run_dir


def _circuit_from_ionq_json(path) -> cirq.Circuit:
    """The native circuit of an IonQ JSON program (gate fields as cirq_ionq writes them)."""
    program = json.loads(path.read_text())["input"]
    qs = cirq.LineQubit.range(program["qubits"])
    ops = []
    for g in program["circuit"]:
        if g["gate"] == "gpi":
            ops.append(cirq_ionq.GPIGate(phi=g["phase"]).on(qs[g["target"]]))
        elif g["gate"] == "gpi2":
            ops.append(cirq_ionq.GPI2Gate(phi=g["phase"]).on(qs[g["target"]]))
        elif g["gate"] == "ms":
            gate = cirq_ionq.MSGate(phi0=g["phases"][0], phi1=g["phases"][1], theta=g["angle"])
            ops.append(gate.on(*(qs[t] for t in g["targets"])))
        elif g["gate"] == "zz":
            ops.append(cirq_ionq.ZZGate(theta=g["phase"]).on(*(qs[t] for t in g["targets"])))
        else:
            raise AssertionError(f"not a native gate: {g}")
    return cirq.Circuit(ops)


def _reference(run_dir, index):
    """The trained layer, its validation input ``index`` and that input's label."""
    from qgan.classify.data import load_images, split
    from qgan.classify.training import load_classifier

    clf = load_classifier(run_dir)
    cfg = clf.cfg
    data = load_images(cfg.data, cfg.seed)
    val = split(data, cfg.data.validation_fraction, cfg.seed, cfg.data.stratify).validation
    x = clf.features(val.images[index : index + 1])
    return clf, x, int(val.labels[index]), len(val)


@pytest.mark.slow
@pytest.mark.parametrize("gateset", ["aria", "forte"])
def test_compile_a_trained_run_for_one_input(capsys, tmp_path, trained_run, gateset, ctol):
    out_json, out_qasm = tmp_path / "circuit.json", tmp_path / "circuit.qasm"
    status, out, _ = run(
        capsys, "ionq", "compile", str(trained_run), "--input", "4", "--gateset", gateset,
        "-o", str(out_json), "--qasm", str(out_qasm), "--json",
    )  # fmt: skip
    assert status == 0
    data = json.loads(out)
    clf, x, label, n_val = _reference(trained_run, 4)
    assert data["run_dir"] == str(trained_run) and data["input"] == 4
    assert data["checkpoint"] == "checkpoints/final/ckpt"
    assert (trained_run / f"{data['checkpoint']}.index").is_file()
    assert data["n_validation"] == n_val and data["label"] == label
    assert data["predicted"] == int(np.argmax(clf.logits_of_features(x)[0]))
    assert data["model"] == clf.circuit.model.structure_key
    assert data["gateset"] == gateset

    # the compiled circuit (as written for IonQ) is the trained model's bound circuit
    qs = cirq.LineQubit.range(N_QUBITS)
    params = clf.circuit.params.numpy().astype(np.float64)
    bound = clf.circuit.model.to_cirq(x[0].astype(np.float64), params)
    compiled = _circuit_from_ionq_json(out_json)
    gap, elem = phase_distance(native_unitary(compiled, qs), source_unitary(bound, qs))
    assert gap <= ctol.trace_gap and elem <= ctol.unitary

    # its measured readouts are the trained layer's outputs for that input (the head's input)
    state = native_unitary(compiled, qs)[:, 0]  # from |0...0>, IonQ's gate definitions
    probs = np.abs(state) ** 2
    readout = probs @ clf.circuit.model.readout_signs
    layer_out = clf.circuit(x).numpy()[0]
    # the layer runs in float32 (complex64): its outputs carry float32 rounding
    assert np.max(np.abs(readout - layer_out)) <= 1e-5
    sim = cirq.Simulator(dtype=np.complex128).simulate(compiled, qubit_order=qs)
    assert np.max(np.abs(np.abs(sim.final_state_vector) ** 2 - probs)) <= ctol.state

    # the QASM file is the bound circuit before compilation
    from cirq.contrib.qasm_import import circuit_from_qasm

    named = [cirq.NamedQubit(f"q_{i}") for i in range(N_QUBITS)]
    parsed = circuit_from_qasm(out_qasm.read_text())
    _, elem = phase_distance(source_unitary(parsed, named), source_unitary(bound, qs))
    assert elem <= ctol.unitary


@pytest.mark.slow
def test_compile_a_trained_run_table_names_run_and_input(capsys, trained_run):
    status, out, _ = run(capsys, "ionq", "compile", str(trained_run))
    assert status == 0
    first = out.splitlines()[0]
    assert str(trained_run) in first and "checkpoints/final/ckpt" in first
    assert "validation input 0 of" in first
    assert "| 2-qubit gates |" in out and "unitary check" in out


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv, name",
    [
        (["--input", "15"], "--input"),  # 60 images, 25 %: 15 validation inputs (0..14)
        (["--input", "-1"], "--input"),
        (["--n-qubits", "4"], "--n-qubits"),
    ],
)
def test_compile_a_trained_run_bad_input(capsys, trained_run, argv, name):
    status, out, err = run(capsys, "ionq", "compile", str(trained_run), *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and name in err


def test_compile_a_run_directory_without_checkpoint(capsys, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cfg = {"name": "x", "data": {"kind": "digits"}, "model": {"n_qubits": 2, "depth": 1}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg))
    status, out, err = run(capsys, "ionq", "compile", str(run_dir))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "checkpoint" in err and str(run_dir) in err


def test_input_needs_a_run_directory(capsys, tmp_path):
    status, _, err = run(capsys, "ionq", "compile", "--n-qubits", "2", "--input", "0")
    assert status == 2 and err.count("\n") == 1 and "--input" in err


# ------------------------------------------------------------------ estimate of autodiff


def _autodiff_config(tmp_path) -> str:
    data = {
        "name": "autodiff",
        "data": {"kind": "digits", "n_samples": 100, "validation_fraction": 0.2},
        "model": {"n_qubits": 3, "depth": 1},
        "train": {"epochs": 2, "gradient": "autodiff", "shots": None},
    }
    path = tmp_path / "autodiff.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_estimate_of_autodiff_counts_the_parameter_shift_gradient(capsys, tmp_path):
    """autodiff differentiates the simulated state: no hardware circuits of its own. The
    estimate counts the shift rule's 2 n_params circuits per image and says so in a line
    naming train.gradient, autodiff, hardware and the alternative."""
    config = _autodiff_config(tmp_path)
    status, out, _ = run(capsys, "ionq", "estimate", config, "--shots", "9")
    assert status == 0
    (line,) = [x for x in out.splitlines() if "train.gradient" in x]
    for word in ("'autodiff'", "cannot run on hardware", "'parameter_shift'", "spsa"):
        assert word in line
    n_train, n_val, epochs, n_params = 80, 20, 2, 6
    assert f"{epochs * (n_train * (1 + 2 * n_params) + n_val):,} circuits x 9 shots" in out
    status, out, _ = run(capsys, "ionq", "estimate", config, "--shots", "9", "--json")
    data = json.loads(out)
    assert data["gradient"] == "parameter_shift"
    assert data["breakdown"]["train_gradient"] == epochs * n_train * 2 * n_params
    assert "cannot run on hardware" in data["gradient_note"]


@pytest.mark.parametrize("gradient, per_sample", [("parameter_shift", 2 * 6), ("spsa", 2)])
def test_estimate_autodiff_as_a_hardware_gradient(capsys, tmp_path, gradient, per_sample):
    config = _autodiff_config(tmp_path)
    status, out, _ = run(
        capsys, "ionq", "estimate", config, "--gradient", gradient, "--shots", "9", "--json"
    )
    assert status == 0
    data = json.loads(out)
    n_train, n_val, epochs = 80, 20, 2  # n_params = 2 * 3 qubits * depth 1 = 6
    assert data["gradient"] == gradient
    assert data["breakdown"]["train_gradient"] == epochs * n_train * per_sample
    assert data["targets"][0]["circuits"] == epochs * (n_train * (1 + per_sample) + n_val)
    status, out, _ = run(capsys, "ionq", "estimate", config, "--gradient", gradient, "--shots", "9")
    assert status == 0
    assert f"cannot run on hardware; counted as '{gradient}'" in out


def test_gradient_option_needs_a_config(capsys):
    status, _, err = run(
        capsys, "ionq", "estimate", "--circuits", "3", "--shots", "5", "--gradient", "spsa"
    )
    assert status == 2 and err.count("\n") == 1 and "--gradient" in err


# ------------------------------------------------------------------ structure defaults


def test_structure_options_default_to_the_shared_defaults(capsys):
    """No CONFIG, no options: the default circuit of qgan.qubit.defaults (as QubitModel())."""
    status, out, _ = run(capsys, "ionq", "compile", "--json")
    assert status == 0
    assert json.loads(out)["model"] == QubitModel(**STRUCTURE_DEFAULTS).structure_key
    status, out, _ = run(capsys, "ionq", "compile", "--n-qubits", "2", "--depth", "1", "--json")
    assert json.loads(out)["model"] == QubitModel(2, 1).structure_key
    assert "ring" in QubitModel(2, 1).structure_key and "reupload" in out
