"""``QubitModel``: sizes, pairs, readouts from samples and validation (spec: its docstring)."""

from __future__ import annotations

import itertools

import cirq
import numpy as np
import pytest

from qgan.qubit.model import (
    ENCODINGS,
    ENTANGLERS,
    MAX_QUBITS,
    MEASUREMENTS,
    TOPOLOGIES,
    QubitModel,
)


class TestSizes:
    @pytest.mark.parametrize("n,depth", [(1, 1), (2, 3), (5, 2), (10, 4), (MAX_QUBITS, 1)])
    @pytest.mark.parametrize("encoding", ENCODINGS)
    def test_counts(self, n, depth, encoding):
        model = QubitModel(n, depth, encoding)
        assert model.n_params == 2 * n * depth
        assert model.n_features == (2**n if encoding == "amplitude" else n)
        assert model.n_uploads == {"angle": 1, "reupload": depth, "amplitude": 0}[encoding]

    @pytest.mark.parametrize("measurement", MEASUREMENTS)
    def test_outputs(self, measurement):
        model = QubitModel(4, 1, measurement=measurement)
        assert model.n_outputs == {"z": 4, "parity": 1, "z_parity": 5, "z_zz": 10}[measurement]
        assert model.readout_signs.shape == (16, model.n_outputs)

    @pytest.mark.parametrize(
        "n,topology,expected",
        [
            (1, "linear", []),
            (1, "ring", []),
            (1, "all_to_all", []),
            (2, "ring", [(0, 1)]),  # ring adds (n-1, 0) only for n >= 3
            (3, "ring", [(0, 1), (1, 2), (2, 0)]),
            (4, "linear", [(0, 1), (1, 2), (2, 3)]),
            (4, "ring", [(0, 1), (1, 2), (2, 3), (3, 0)]),
            (4, "all_to_all", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
        ],
    )
    def test_pairs(self, n, topology, expected):
        assert list(QubitModel(n, 1, topology=topology).pairs) == expected

    def test_pairs_oracle_agrees(self, oracle):
        for n, topology in itertools.product(range(1, 8), TOPOLOGIES):
            assert list(QubitModel(n, 1, topology=topology).pairs) == oracle.pairs(n, topology)

    def test_structure_key_and_hash(self):
        models = [
            QubitModel(n, d, enc, ent, top, meas)
            for n, d, enc, ent, top, meas in itertools.product(
                (2, 3), (1, 2), ENCODINGS, ENTANGLERS, TOPOLOGIES, MEASUREMENTS
            )
        ]
        keys = {m.structure_key for m in models}
        assert len(keys) == len(models)
        assert QubitModel(3, 2, "reupload") == QubitModel(3, 2, "reupload")
        assert hash(QubitModel(3, 2, "reupload")) == hash(QubitModel(3, 2, "reupload"))
        assert QubitModel(np.int64(3), 2).n_qubits == 3


class TestReadoutFromSamples:
    @pytest.mark.parametrize("measurement", MEASUREMENTS)
    def test_basis_states_exact(self, measurement):
        """Measuring X-flipped basis states in cirq gives +-1 readouts exactly."""
        model = QubitModel(3, 1, measurement=measurement)
        qs = cirq.LineQubit.range(3)
        for flips in itertools.product((0, 1), repeat=3):
            circuit = cirq.Circuit(
                [cirq.X(q) for q, f in zip(qs, flips) if f] + [cirq.I.on_each(*qs)]
            )
            circuit.append(cirq.measure(*qs, key="z"))
            bits = cirq.Simulator(seed=0).run(circuit, repetitions=4).measurements["z"]
            z = [1.0 - 2.0 * f for f in flips]
            zz = [z[a] * z[b] for a, b in itertools.combinations(range(3), 2)]
            expected = {
                "z": z,
                "parity": [np.prod(z)],
                "z_parity": z + [np.prod(z)],
                "z_zz": z + zz,  # pairs a < b in lexicographic order
            }
            np.testing.assert_array_equal(model.outputs_from_samples(bits), expected[measurement])

    def test_sampled_matches_exact(self, oracle, qtol):
        """Shots of the oracle circuit estimate the exact readouts within a few sigma."""
        model = QubitModel(3, 2, "angle", "cnot", "ring", "z_parity")
        rng = np.random.default_rng(8)
        x, p = oracle.random_inputs(model, rng, rows=1, per_row=False)
        qs = cirq.LineQubit.range(3)
        circuit = oracle.circuit(model, x[0], p) + cirq.Circuit(cirq.measure(*qs, key="z"))
        shots = 4000
        bits = cirq.Simulator(seed=1).run(circuit, repetitions=shots).measurements["z"]
        est = model.outputs_from_samples(bits)
        exact = oracle.readouts(model, oracle.state(model, x[0], p))
        sigma = np.maximum(np.sqrt(np.maximum(1.0 - exact**2, 0.0) / shots), 1.0 / shots)
        assert np.all(np.abs(est - exact) <= qtol.sampling_sigmas * sigma), (est, exact)

    @pytest.mark.parametrize("bits", [np.zeros((3, 2)), np.zeros((0, 3)), np.full((2, 3), 2)])
    def test_bad_bits(self, bits, one_line_naming):
        with pytest.raises(ValueError) as err:
            QubitModel(3, 1).outputs_from_samples(bits)
        one_line_naming(err, "bits")


class TestValidation:
    @pytest.mark.parametrize(
        "kwargs,name",
        [
            ({"encoding": "dense"}, "encoding"),
            ({"encoding": None}, "encoding"),
            ({"entangler": "cz"}, "entangler"),
            ({"topology": "star"}, "topology"),
            ({"measurement": "x"}, "measurement"),
            ({"n_qubits": MAX_QUBITS + 1}, "n_qubits"),
            ({"n_qubits": 0}, "n_qubits"),
            ({"n_qubits": 2.0}, "n_qubits"),
            ({"n_qubits": True}, "n_qubits"),
            ({"depth": 0}, "depth"),
            ({"depth": "2"}, "depth"),
        ],
    )
    def test_bad_structure(self, kwargs, name, one_line_naming):
        args = {"n_qubits": 2, "depth": 1, **kwargs}
        with pytest.raises(ValueError) as err:
            QubitModel(**args)
        one_line_naming(err, name)

    @pytest.mark.parametrize(
        "features",
        [
            np.zeros((2, 3)),
            np.zeros(2),
            np.array([[np.nan, 1.0]]),
            np.array([[1.0, -np.inf]]),
            np.array([[1j, 1.0]]),
            [["a", "b"]],
            [[1.0, 2.0], [3.0]],
        ],
        ids=["count", "rank", "nan", "inf", "complex", "str", "ragged"],
    )
    def test_bad_features(self, features, one_line_naming):
        with pytest.raises(ValueError) as err:
            QubitModel(2, 1).check_features(features, name="inputs")
        one_line_naming(err, "inputs")

    def test_amplitude_needs_nonzero_rows(self, one_line_naming):
        model = QubitModel(2, 1, "amplitude")
        x = np.ones((3, 4))
        x[1] = 0.0
        with pytest.raises(ValueError) as err:
            model.check_features(x)
        one_line_naming(err, "features")
        tiny = np.full((1, 4), 1e-170)  # |x|**2 underflows, x itself is not zero
        np.testing.assert_array_equal(model.check_features(tiny), tiny)

    @pytest.mark.parametrize(
        "params,rows",
        [
            (np.zeros(5), None),
            (np.zeros((2, 3)), None),
            (np.zeros((2, 4)), 3),
            (np.array([0.0, np.nan, 0.0, 0.0]), None),
            (np.zeros((1, 1, 4)), None),
        ],
    )
    def test_bad_params(self, params, rows, one_line_naming):
        with pytest.raises(ValueError) as err:
            QubitModel(2, 1).check_params(params, rows=rows)
        one_line_naming(err, "params")

    def test_good_inputs_pass_through(self):
        model = QubitModel(2, 1)
        x = model.check_features([[1, 2], [3, 4]])
        assert x.dtype == np.float64 and x.shape == (2, 2)
        assert model.check_params(np.zeros((2, 4), dtype=np.float32), rows=2).shape == (2, 4)
