"""``QubitLayer.to_cirq`` / ``QubitLayer.to_qasm``: the layer's circuit, bound with its
current angles, as Cirq circuits and OpenQASM 2.0 text.

Oracles: ``cirq.Simulator`` (complex128) on the exported circuit vs the layer's own state
(``simulate_state`` with the layer's weight) and readouts (the layer's call, float64), the
readouts recomputed from the Cirq state with Cirq's Pauli-string expectations; the QASM
text parsed back by ``cirq.contrib.qasm_import.circuit_from_qasm`` (Cirq's own parser,
not the exporter) to a unitary equal to the exported circuit's up to a global phase (QASM
carries none). Tolerances: ``qtol`` (``tests/qubit/conftest.py``).
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit import QubitLayer, QubitModel, simulate_state

MODELS = [
    QubitModel(3, 2, "reupload", "cnot", "ring", "z_parity"),
    QubitModel(4, 1, "angle", "ms", "all_to_all", "z"),
    QubitModel(3, 2, "angle", "zz", "linear", "parity"),
    QubitModel(2, 2, "amplitude", "ms", "linear", "z"),
]
IDS = [f"{m.encoding}-{m.entangler}-{m.topology}-{m.measurement}" for m in MODELS]


def _features(model, rows, seed):
    rng = np.random.default_rng(seed)
    if model.encoding == "amplitude":
        return rng.normal(size=(rows, model.n_features))
    return rng.uniform(-np.pi, np.pi, size=(rows, model.n_features))


def _state(circuit: cirq.Circuit, n: int) -> np.ndarray:
    qs = cirq.LineQubit.range(n)
    result = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=qs)
    return np.asarray(result.final_state_vector)


def _unitary(circuit: cirq.Circuit, qubits) -> np.ndarray:
    gates = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    return gates.unitary(qubit_order=qubits, qubits_that_should_be_present=qubits)


def _phase_free_distance(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - e^{i phi} b|, phi = arg <b, a> (the best global phase)."""
    overlap = np.vdot(b, a)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.max(np.abs(a - phase * b)))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_to_cirq_state_and_readouts_match_the_layer(model, oracle, qtol):
    """Each row's exported circuit has the layer's state (global phase included) and the
    layer's readouts, for the layer's current weights (also after they change)."""
    layer = QubitLayer(model, dtype="float64", seed=3)
    x = _features(model, 3, 0)
    first = []
    for _ in range(2):
        circuits = layer.to_cirq(x)
        assert isinstance(circuits, list) and len(circuits) == len(x)
        states = simulate_state(model, x, layer.params, dtype=tf.complex128).numpy()
        readouts = layer(tf.constant(x)).numpy()
        for row, circuit in enumerate(circuits):
            assert sorted(circuit.all_qubits()) == cirq.LineQubit.range(model.n_qubits)
            state = _state(circuit, model.n_qubits)
            assert np.max(np.abs(state - states[row])) <= qtol.state
            got = oracle.readouts(model, state)
            assert np.max(np.abs(got - readouts[row])) <= qtol.expectation
        one = layer.to_cirq(x[1])  # one row -> one circuit, the same as row 1 of the batch
        assert isinstance(one, cirq.Circuit) and one == circuits[1]
        first.append(one)
        layer.params.assign(layer.params + 0.7)  # to_cirq binds the *current* weights
    # the check above could not pass with stale angles: the two weights' states differ
    assert np.max(np.abs(_state(first[0], model.n_qubits) - states[1])) > qtol.nontrivial


def test_to_cirq_measure_appends_the_terminal_measurement():
    model = MODELS[0]
    layer = QubitLayer(model)
    circuit = layer.to_cirq(_features(model, 1, 1)[0], measure=True)
    ops = list(circuit.all_operations())
    assert cirq.is_measurement(ops[-1]) and cirq.measurement_key_name(ops[-1]) == "z"
    assert ops[-1].qubits == tuple(cirq.LineQubit.range(model.n_qubits))
    assert sum(cirq.is_measurement(op) for op in ops) == 1


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_qasm_parses_back_to_the_same_unitary(model, qtol):
    from cirq.contrib.qasm_import import circuit_from_qasm

    layer = QubitLayer(model, seed=5)
    x = _features(model, 2, 2)
    texts = layer.to_qasm(x)
    circuits = layer.to_cirq(x)
    assert isinstance(texts, list) and len(texts) == 2
    for text, circuit in zip(texts, circuits):
        assert text.lstrip().startswith("// Generated from Cirq") or "OPENQASM 2.0;" in text
        parsed = circuit_from_qasm(text)
        named = [cirq.NamedQubit(f"q_{i}") for i in range(model.n_qubits)]
        assert sum(cirq.is_measurement(op) for op in parsed.all_operations()) >= 1
        u_parsed = _unitary(parsed, named)
        u_source = _unitary(circuit, cirq.LineQubit.range(model.n_qubits))
        assert _phase_free_distance(u_parsed, u_source) <= qtol.unitary
    assert isinstance(layer.to_qasm(x[0]), str)
    assert "measure" not in layer.to_qasm(x[0], measure=False)


@pytest.mark.parametrize(
    "features",
    [np.zeros((2, 4)), np.zeros(4), np.full((1, 3), np.nan), np.zeros((1, 1, 3))],
    ids=["rows-too-wide", "row-too-long", "nan", "rank-3"],
)
def test_bad_features_are_one_line(features, one_line_naming):
    layer = QubitLayer(MODELS[0])
    with pytest.raises(ValueError) as err:
        layer.to_cirq(features)
    one_line_naming(err, "features")
