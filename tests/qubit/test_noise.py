"""The noise rehearsal (qgan.qubit.noise) against cirq's density-matrix simulator.

Oracle: the circuit is built here gate by gate from cirq's own gates and channels
(cirq.ry, cirq.rz, CNOT / ms / ZZPowGate, cirq.depolarize, cirq.bit_flip) and simulated
by cirq.DensityMatrixSimulator in complex128; tolerance 1e-6 on every readout.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qgan.qubit.backends import SimulatorBackend
from qgan.qubit.model import QubitModel
from qgan.qubit.noise import NOISE_PRESETS, NoiseModel, NoisyBackend

ENTANGLER_GATES = {
    "cnot": cirq.CNOT,
    "ms": cirq.ms(np.pi / 4),
    "zz": cirq.ZZPowGate(exponent=0.5, global_shift=-0.5),
}


def cirq_noisy_readouts(model: QubitModel, x, params, noise: NoiseModel) -> np.ndarray:
    """<readouts> of one row from cirq's density-matrix simulation of the same channels."""
    n = model.n_qubits
    qs = cirq.LineQubit.range(n)
    ang = np.asarray(params).reshape(model.depth, n, 2)
    c = cirq.Circuit()
    for layer in range(model.depth):
        for q in range(n):
            if model.encoding == "reupload" or (model.encoding == "angle" and layer == 0):
                c.append(cirq.ry(x[q]).on(qs[q]))
            c.append(cirq.ry(ang[layer, q, 0]).on(qs[q]))
            c.append(cirq.rz(ang[layer, q, 1]).on(qs[q]))
            c.append(cirq.depolarize(noise.p1).on(qs[q]))
        for a, b in model.pairs:
            c.append(ENTANGLER_GATES[model.entangler].on(qs[a], qs[b]))
            c.append(cirq.depolarize(noise.p2, n_qubits=2).on(qs[a], qs[b]))
    c.append(cirq.bit_flip(noise.readout).on_each(*qs))
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    rho = sim.simulate(c, qubit_order=qs).final_density_matrix
    probs = np.real(np.diag(rho))
    return probs @ model.readout_signs


@pytest.mark.slow
@pytest.mark.parametrize(
    "structure",
    [
        dict(n_qubits=3, depth=2, encoding="reupload", entangler="cnot", topology="ring"),
        dict(
            n_qubits=4,
            depth=2,
            encoding="angle",
            entangler="ms",
            topology="linear",
            measurement="z_parity",
        ),  # fmt: skip
        dict(
            n_qubits=3,
            depth=1,
            encoding="reupload",
            entangler="zz",
            topology="all_to_all",
            measurement="parity",
        ),  # fmt: skip
    ],
)
def test_noisy_expectations_equal_cirq_density_matrix_simulator(structure):
    model = QubitModel(**structure)
    rng = np.random.default_rng(7)
    x = rng.uniform(-np.pi, np.pi, (3, model.n_features))
    p = rng.uniform(-np.pi, np.pi, (3, model.n_params))
    noise = NoiseModel(p1=0.02, p2=0.05, readout=0.03)
    ours = NoisyBackend(noise).expectations(model, x, p)
    for i in range(3):
        np.testing.assert_allclose(
            ours[i], cirq_noisy_readouts(model, x[i], p[i], noise), atol=1e-6
        )


@pytest.mark.slow
def test_aria_preset_on_the_shipped_eight_qubit_structure_equals_cirq():
    """8 qubits, depth 4, CNOT ring, re-uploading (configs/digits_qubit.yaml) at Aria's rates."""
    model = QubitModel(n_qubits=8, depth=4)
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.35, (1, 8))
    p = rng.uniform(-np.pi, np.pi, (1, model.n_params))
    noise = NoiseModel.parse("aria-1")
    ours = NoisyBackend(noise).expectations(model, x, p)[0]
    np.testing.assert_allclose(ours, cirq_noisy_readouts(model, x[0], p[0], noise), atol=1e-6)


@pytest.mark.slow
def test_zero_noise_equals_the_state_vector_simulator():
    model = QubitModel(n_qubits=4, depth=2, measurement="z_parity")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (5, 4))
    p = rng.uniform(-np.pi, np.pi, model.n_params)
    exact = SimulatorBackend().expectations(model, x, p)
    noiseless = NoisyBackend({"p1": 0.0, "p2": 0.0, "readout": 0.0}).expectations(model, x, p)
    np.testing.assert_allclose(noiseless, exact, atol=1e-10)


@pytest.mark.slow
def test_readout_error_alone_scales_z_by_one_minus_two_r():
    """A symmetric bit flip before measurement maps <Z_q> -> (1 - 2 r) <Z_q> exactly."""
    model = QubitModel(n_qubits=3, depth=2)
    rng = np.random.default_rng(1)
    x, p = rng.uniform(-1, 1, (4, 3)), rng.uniform(-np.pi, np.pi, model.n_params)
    exact = SimulatorBackend().expectations(model, x, p)
    noisy = NoisyBackend({"p1": 0.0, "p2": 0.0, "readout": 0.1}).expectations(model, x, p)
    np.testing.assert_allclose(noisy, 0.8 * exact, atol=1e-12)


def test_presets_follow_the_fidelity_conversion():
    aria = NoiseModel.parse("aria-1")
    f = NOISE_PRESETS["aria-1"]
    assert aria.p1 == pytest.approx(1.5 * (1 - f["f1"]))
    assert aria.p2 == pytest.approx(1.25 * (1 - f["f2"]))
    assert aria.readout == pytest.approx(1 - f["spam"])
    # the average fidelity of cirq's channel at that p is the published figure
    for p, gate_f, k in ((aria.p1, f["f1"], 1), (aria.p2, f["f2"], 2)):
        channel = cirq.depolarize(p, n_qubits=k)
        d = 2**k
        kraus = cirq.kraus(channel)
        process = sum(abs(np.trace(m)) ** 2 for m in kraus) / d**2
        assert (d * process + 1) / (d + 1) == pytest.approx(gate_f, abs=1e-12)


def test_shots_estimate_converges_and_is_seeded():
    model = QubitModel(n_qubits=3, depth=1)
    x, p = np.full((2, 3), 0.3), np.full(model.n_params, 0.2)
    b = NoisyBackend("aria-1", seed=5)
    a1, a2 = b.expectations(model, x, p, 4000), b.expectations(model, x, p, 4000)
    np.testing.assert_array_equal(a1, a2)
    exact = b.expectations(model, x, p)
    assert np.max(np.abs(a1 - exact)) < 5 / np.sqrt(4000)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("aria-9", "unknown target"),
        ({"p1": 0.1, "p3": 0.2}, "unknown keys"),
        ({"p1": -0.1}, "noise.p1"),
        ({"readout": 0.7}, "noise.readout"),
        (3, "must be a target name"),
    ],
)
def test_bad_noise_specs_are_refused_in_one_line(spec, match):
    with pytest.raises(ValueError, match=match) as err:
        NoiseModel.parse(spec)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bases", [("X" * 3,), ("ZZZ", "XYZ")])
def test_x_and_y_measurement_bases_are_refused_not_read_as_z(bases):
    # the noisy density-matrix circuits end in a Z measurement; an X/Y setting read as Z would
    # be a silently wrong readout
    model = QubitModel(n_qubits=3, depth=1, bases=bases)
    x, p = np.zeros((1, 3)), np.zeros(model.n_params)
    refused = r"^noise: measurement bases .* are not simulated with noise \(only Z"
    with pytest.raises(ValueError, match=refused):
        NoisyBackend("aria-1").expectations(model, x, p)
