"""``QubitModel.to_cirq`` / ``qgan.qubit.cirq_export`` vs the TF simulator and the definitions."""

from __future__ import annotations

import itertools

import cirq
import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit.cirq_export import amplitude_preparation, entangler_gate
from qgan.qubit.model import ENCODINGS, ENTANGLERS, TOPOLOGIES, QubitModel
from qgan.qubit.simulator import simulate_state


def _final_state(circuit: cirq.Circuit, n: int) -> np.ndarray:
    qs = cirq.LineQubit.range(n)
    result = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=qs)
    return np.asarray(result.final_state_vector)


def _max_err(actual, expected) -> float:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    return float(np.max(np.abs(actual - expected)))


class TestGates:
    @pytest.mark.parametrize("entangler", [e for e in ENTANGLERS if e != "none"])
    def test_entangler_unitary(self, entangler, oracle, qtol):
        """Exact matrices (global phase included) of CNOT, exp(-i pi/4 XX), exp(-i pi/4 ZZ)."""
        unitary = cirq.unitary(entangler_gate(entangler))
        assert _max_err(unitary, oracle.entangler_matrices[entangler]) <= qtol.unitary

    def test_no_entanglement_has_no_two_qubit_gate(self):
        """entangler none: the exported circuit is a product of one-qubit gates."""
        model = QubitModel(4, 3, "reupload", "none", "all_to_all")
        circuit = model.to_cirq(np.full(4, 0.3), np.linspace(-1, 1, model.n_params))
        assert model.pairs == ()
        assert all(len(op.qubits) == 1 for op in circuit.all_operations())
        with pytest.raises(ValueError, match="entangler"):
            entangler_gate("none")

    def test_unknown_entangler(self):
        with pytest.raises(ValueError, match="entangler"):
            entangler_gate("cz")

    def test_rotation_conventions(self, oracle, qtol):
        """The exported one-qubit rotations are RY(a) = exp(-i a Y/2), RZ(b) = exp(-i b Z/2)."""
        model = QubitModel(1, 1, "angle")
        x, a, b = 0.3, -1.1, 2.4
        circuit = model.to_cirq([x], [a, b])
        expected = oracle.rz(b) @ oracle.ry(a) @ oracle.ry(x)
        assert _max_err(cirq.unitary(circuit), expected) <= qtol.unitary


class TestAmplitudePreparation:
    @pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
    @pytest.mark.parametrize("kind", ["dense", "sparse", "basis", "tiny"])
    def test_prepares_normalised_vector(self, n, kind, qtol):
        rng = np.random.default_rng(17 * n + len(kind))
        a = rng.normal(size=2**n)
        if kind == "sparse":
            a[rng.random(2**n) < 0.5] = 0.0
            a[0], a[-1] = 0.0, -1.0
        elif kind == "basis":
            a = np.zeros(2**n)
            a[int(rng.integers(2**n))] = -2.0
        elif kind == "tiny":
            a = a * 1e-170  # |a|**2 underflows in float64
        qs = cirq.LineQubit.range(n)
        ops = amplitude_preparation(qs, a)
        state = _final_state(cirq.Circuit(ops, cirq.I.on_each(*qs)), n)
        ref = a * 1e170 if kind == "tiny" else a  # same direction, normalisable
        expected = ref / np.linalg.norm(ref)
        assert _max_err(state, expected) <= qtol.amplitude
        assert all(set(op.qubits) <= set(qs) for op in ops)


def _export_cases():
    rng = np.random.default_rng(99)
    cases = [
        QubitModel(3, 2, enc, ent, top, "z")
        for enc, ent, top in itertools.product(ENCODINGS, ENTANGLERS, TOPOLOGIES)
        if (ENCODINGS.index(enc) + ENTANGLERS.index(ent) + TOPOLOGIES.index(top)) % 3 == 0
    ]
    cases += [QubitModel(1, 3, "amplitude"), QubitModel(6, 1, "amplitude", "ms", "ring")]
    cases.append(QubitModel(10, 1, "reupload", "zz", "all_to_all"))
    return [(m, int(rng.integers(2**16))) for m in cases]


class TestExport:
    @pytest.mark.parametrize("model,seed", _export_cases(), ids=lambda v: str(v))
    def test_matches_tf_simulator(self, model, seed, oracle, qtol):
        """The exported circuit with bound numbers has the TF simulator's state."""
        rng = np.random.default_rng(seed)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=False)
        tf_states = simulate_state(model, x, p, dtype=tf.complex128).numpy()
        for row in range(2):
            circuit = model.to_cirq(x[row], p)
            assert sorted(circuit.all_qubits()) == cirq.LineQubit.range(model.n_qubits)
            state = _final_state(circuit, model.n_qubits)
            err = _max_err(state, tf_states[row])
            assert err <= qtol.state, f"{model.structure_key} row {row}: err {err:.2e}"

    def test_gate_content(self):
        """Per layer: n RY + n RZ and one entangler per pair; encoding gates as specified."""
        for encoding, n_ry in (("angle", 3 + 3 * 2), ("reupload", 2 * (3 + 3))):
            model = QubitModel(3, 2, encoding, "cnot", "ring")
            circuit = model.to_cirq(np.full(3, 0.4), np.full(model.n_params, 0.7))
            ops = list(circuit.all_operations())
            assert sum(isinstance(op.gate, cirq.Ry) for op in ops) == n_ry
            assert sum(isinstance(op.gate, cirq.Rz) for op in ops) == 3 * 2
            cnots = [op for op in ops if op.gate == cirq.CNOT]
            assert [tuple(q.x for q in op.qubits) for op in cnots] == list(model.pairs) * 2

    def test_measure(self):
        model = QubitModel(3, 1, "angle", "cnot", "linear", "z_parity")
        # features pi on qubit 0 and zero angles: |100> -> CNOTs -> |111>
        circuit = model.to_cirq([np.pi, 0.0, 0.0], np.zeros(model.n_params), measure=True)
        assert cirq.is_measurement(circuit[-1].operations[0])
        assert circuit[-1].operations[0].qubits == tuple(cirq.LineQubit.range(3))
        bits = cirq.Simulator(seed=3).run(circuit, repetitions=5).measurements["z"]
        np.testing.assert_array_equal(bits, np.ones((5, 3), dtype=bits.dtype))
        np.testing.assert_array_equal(model.outputs_from_samples(bits), [-1, -1, -1, -1])
        assert not cirq.is_measurement(model.to_cirq([0.1, 0.2, 0.3], np.zeros(6)))


class TestBadInput:
    model = QubitModel(2, 1)

    @pytest.mark.parametrize(
        "features",
        [np.zeros(3), np.zeros((1, 2)), np.array([np.nan, 0.0]), ["a", "b"], [1j, 0.0]],
        ids=["count", "rank", "nan", "str", "complex"],
    )
    def test_features(self, features, one_line_naming):
        with pytest.raises(ValueError) as err:
            self.model.to_cirq(features, np.zeros(4))
        one_line_naming(err, "features")

    @pytest.mark.parametrize(
        "params",
        [np.zeros(5), np.zeros((1, 4)), np.array([0.0, np.inf, 0.0, 0.0])],
        ids=["count", "rank", "inf"],
    )
    def test_params(self, params, one_line_naming):
        with pytest.raises(ValueError) as err:
            self.model.to_cirq(np.zeros(2), params)
        one_line_naming(err, "params")
