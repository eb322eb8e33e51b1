"""Measurement in X, Y or Z per qubit and multi-basis readouts (``QubitModel.bases``).

Oracles, independent of the code under test:

* the pre-measurement state of the matrix-built reference circuit (``oracle.state``,
  ``tests/qubit/conftest.py``: ignores the bases) and Cirq's Pauli-string expectations
  ``<P_0 P_1 ..>`` with P_q the measured basis of qubit q (X, Y or Z): what a measurement in
  that basis reads, by definition;
* ``cirq.Simulator`` on the exported circuit (``to_cirq``, basis change included);
* the autodiff gradient for parameter shift (float64, to ``qtol.param_shift`` = 1e-10);
* the IonQ native-gate compilation's own unitary check and the native-gate oracle of
  ``tests/qubit/ionq/native_oracle.py`` (basis-change gates compile to GPI/GPI2/virtual Z).
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from qgan.qubit.backends import SimulatorBackend
from qgan.qubit.layer import QubitLayer
from qgan.qubit.model import QubitModel, normalize_bases
from qgan.qubit.simulator import expectation_values, probabilities, simulate_state

PAULI = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def pauli_readouts(model: QubitModel, state: np.ndarray) -> np.ndarray:
    """Readouts of every setting from Cirq's Pauli-string expectations of ``state``."""
    n = model.n_qubits
    qs = cirq.LineQubit.range(n)
    qmap = {q: i for i, q in enumerate(qs)}

    def ev(setting, qubits):
        pauli = cirq.PauliString({qs[q]: PAULI[setting[q]] for q in qubits})
        return pauli.expectation_from_state_vector(state, qmap).real

    out = []
    for s in model.bases:
        single = [ev(s, [q]) for q in range(n)]
        parity = [ev(s, range(n))]
        pairs = [ev(s, [a, b]) for a in range(n) for b in range(a + 1, n)]
        out += {"z": single, "parity": parity, "z_parity": single + parity}.get(
            model.measurement, single + pairs
        )
    return np.asarray(out)


settings_strategy = st.lists(st.text("XYZ", min_size=3, max_size=3), min_size=1, max_size=3)


@pytest.mark.slow  # over 2 s on 2 cores
@settings(max_examples=25, deadline=None)
@given(
    bases=settings_strategy,
    measurement=st.sampled_from(["z", "parity", "z_parity", "z_zz"]),
    entangler=st.sampled_from(["cnot", "ms", "zz", "none"]),
    seed=st.integers(0, 2**31),
)
def test_readouts_are_the_pauli_expectations_of_the_measured_bases(
    bases, measurement, entangler, seed, oracle, qtol
):
    model = QubitModel(3, 2, entangler=entangler, measurement=measurement, bases=tuple(bases))
    x, p = oracle.random_inputs(model, np.random.default_rng(seed), rows=3, per_row=False)
    y = expectation_values(model, x, p, dtype=tf.complex128).numpy()
    assert y.shape == (3, len(bases) * model.outputs_per_setting)
    for i in range(3):
        ref = pauli_readouts(model, oracle.state(model, x[i], p))
        assert np.max(np.abs(y[i] - ref)) <= qtol.expectation


@pytest.mark.slow  # over 2 s on 2 cores
def test_complex64_readouts_in_every_basis(oracle, qtol):
    model = QubitModel(4, 2, measurement="z_zz", bases=("XYZX", "Y", "Z"))
    x, p = oracle.random_inputs(model, np.random.default_rng(3), rows=4, per_row=False)
    y = expectation_values(model, x, p, dtype=tf.complex64).numpy()
    ref = np.stack([pauli_readouts(model, oracle.state(model, x[i], p)) for i in range(4)])
    assert np.max(np.abs(y - ref)) <= qtol.expectation_c64


@pytest.mark.slow  # over 2 s on 2 cores
@pytest.mark.parametrize("bases", [("X",), ("Y",), ("ZXYX",), ("Z", "X", "Y")])
@pytest.mark.parametrize("encoding", ["angle", "reupload", "amplitude"])
def test_cirq_export_of_each_setting_agrees_with_cirq_simulator(bases, encoding, oracle, qtol):
    """Per setting: the exported circuit's final state (cirq.Simulator) equals the TF
    simulator's state of that setting, and its Z-basis probabilities give the readouts."""
    model = QubitModel(4, 2, encoding=encoding, entangler="ms", measurement="z_zz", bases=bases)
    x, p = oracle.random_inputs(model, np.random.default_rng(7), rows=2, per_row=False)
    y = expectation_values(model, x, p, dtype=tf.complex128).numpy()
    m = model.outputs_per_setting
    qs = cirq.LineQubit.range(4)
    for k, one in enumerate(model.settings()):
        tf_state = simulate_state(one, x, p, dtype=tf.complex128).numpy()
        tf_probs = probabilities(one, x, p, dtype=tf.complex128).numpy()
        for i in range(2):
            circuit = model.to_cirq(x[i], p, setting=k)
            state = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=qs)
            state = state.final_state_vector
            assert np.max(np.abs(tf_state[i] - state)) <= qtol.state
            probs = np.abs(state) ** 2
            assert np.max(np.abs(tf_probs[i] - probs)) <= qtol.expectation
            readouts = probs @ one.readout_signs
            assert np.max(np.abs(y[i, k * m : (k + 1) * m] - readouts)) <= qtol.expectation


def test_basis_change_gates_map_the_eigenstates_to_the_computational_basis():
    """H: |+>, |-> -> |0>, |1>; S^dagger then H: |+i>, |-i> -> |0>, |1> (definitions)."""
    eig = {
        "X": [np.array([1, 1]) / np.sqrt(2), np.array([1, -1]) / np.sqrt(2)],
        "Y": [np.array([1, 1j]) / np.sqrt(2), np.array([1, -1j]) / np.sqrt(2)],
        "Z": [np.array([1, 0]), np.array([0, 1])],
    }
    for basis, (plus, minus) in eig.items():
        model = QubitModel(1, 1, "angle", bases=(basis,))
        circuit = model.to_cirq([0.0], [0.0, 0.0])  # identity rotations, then the change
        u = cirq.unitary(circuit) if len(list(circuit.all_operations())) else np.eye(2)
        assert np.allclose(np.abs(u @ plus), [1, 0], atol=1e-12), basis
        assert np.allclose(np.abs(u @ minus), [0, 1], atol=1e-12), basis
    ops = list(QubitModel(1, 1, "angle", bases=("Y",)).to_cirq([0.0], [0, 0]).all_operations())
    assert [op.gate for op in ops][-2:] == [cirq.S**-1, cirq.H]


def _layer_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.sin(y) * np.arange(1.0, y.shape[1] + 1.0))
    variables = [x, *layer.trainable_variables]
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, variables)]


@pytest.mark.slow  # over 2 s on 2 cores
@pytest.mark.parametrize(
    "bases,measurement", [(("ZXY",), "z"), (("X",), "parity"), (("Z", "X", "Y"), "z_zz")]
)
@pytest.mark.parametrize("options", [{}, {"feature_groups": 2, "input_scaling": "feature_layer"}])
@pytest.mark.parametrize("where", ["in_graph", "python"])
def test_parameter_shift_equals_autodiff_in_every_basis(bases, measurement, options, where, qtol):
    """Parameter shift (per setting, summed) == autodiff to 1e-10 in float64, w.r.t. the
    features, the angles and the input weights."""
    kw = dict(n_qubits=3, depth=2, bases=bases, measurement=measurement, seed=4, **options)
    backend = SimulatorBackend() if where == "python" else "simulator"
    exact = QubitLayer(dtype="float64", **kw)
    shifted = QubitLayer(dtype="float64", gradient="parameter_shift", backend=backend, **kw)
    width = exact.n_inputs
    x = tf.constant(np.random.default_rng(1).uniform(-2, 2, (5, width)))
    y_exact, g_exact = _layer_gradients(exact, x)
    y_shift, g_shift = _layer_gradients(shifted, x)
    assert np.max(np.abs(y_exact - y_shift)) <= qtol.expectation
    for a, b in zip(g_exact, g_shift):
        assert np.max(np.abs(a - b)) <= qtol.param_shift


@pytest.mark.slow  # over 2 s on 2 cores
def test_spsa_of_a_multi_basis_readout_uses_one_perturbation_for_every_setting():
    """SPSA through the Python path (settings run separately, summed) equals the in-graph
    SPSA of the whole readout (one simulation): the same Delta for every setting."""
    kw = dict(n_qubits=3, depth=2, bases=("Z", "Y"), gradient="spsa", seed=2, dtype="float64")
    graph, python = QubitLayer(**kw), QubitLayer(backend=SimulatorBackend(), **kw)
    x = tf.constant(np.random.default_rng(5).uniform(-2, 2, (4, 3)))
    for _ in range(2):  # steps k = 0, 1
        _, g_graph = _layer_gradients(graph, x)
        _, g_python = _layer_gradients(python, x)
        for a, b in zip(g_graph[1:], g_python[1:]):
            np.testing.assert_allclose(b, a, atol=1e-10)


@pytest.mark.slow  # over 2 s on 2 cores
@pytest.mark.parametrize("where", ["in_graph", "python"])
@pytest.mark.parametrize(
    "gradient,per_sample", [("parameter_shift", lambda p: 2 * p), ("spsa", lambda p: 2)]
)
def test_account_counts_one_circuit_per_basis_setting(where, gradient, per_sample):
    """Hardware runs one circuit per setting: forward = rows x settings, gradient = rows x
    (2 n_params or 2) x settings, with exact and with sampled readouts."""
    backend = SimulatorBackend() if where == "python" else "simulator"
    for shots in (None, 100):
        layer = QubitLayer(
            n_qubits=3, depth=2, bases=("Z", "X", "Y"), gradient=gradient, shots=shots,
            backend=backend, seed=1,
        )  # fmt: skip
        x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 3)), tf.float32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        tape.gradient(loss, layer.params)
        account = layer.account
        assert account.circuits("forward") == 4 * 3
        assert account.circuits("gradient") == 4 * per_sample(layer.model.n_params) * 3
        if shots:
            assert account.shots("forward") == 4 * 3 * shots


@pytest.mark.slow  # over 2 s on 2 cores
def test_sampled_multi_basis_readouts_estimate_the_exact_ones(qtol):
    """Shots drawn per setting: each readout within ``sampling_sigmas`` standard errors."""
    model = QubitModel(3, 2, bases=("Z", "X", "Y"))
    rng = np.random.default_rng(2)
    x, p = rng.uniform(-2, 2, (3, 3)), rng.uniform(-3, 3, model.n_params)
    exact = expectation_values(model, x, p, dtype=tf.complex128).numpy()
    shots = 4000
    for layer in (
        QubitLayer(model, gradient="parameter_shift", shots=shots, seed=3, dtype="float64"),
        QubitLayer(model, gradient="parameter_shift", shots=shots, seed=3, dtype="float64",
                   backend=SimulatorBackend(seed=3)),
    ):  # fmt: skip
        layer.params.assign(p)
        est = layer(x).numpy()
        sigma = np.sqrt(np.maximum(1 - exact**2, 1e-12) / shots)
        assert np.all(np.abs(est - exact) <= qtol.sampling_sigmas * sigma + 1e-12)
        assert not np.allclose(est, exact)  # it did sample


def test_bases_are_normalised_and_bad_ones_refused(one_line_naming):
    assert QubitModel(3, 1).bases == ("ZZZ",) and QubitModel(3, 1).plain_z
    assert QubitModel(3, 1, bases="zxy").bases == ("ZXY",)
    assert QubitModel(3, 1, bases=["Z", "X"]).bases == ("ZZZ", "XXX")
    assert QubitModel(3, 1, bases=(["Z", "X", "Y"],)).bases == ("ZXY",)
    assert QubitModel(3, 1, bases=("Z",)) == QubitModel(3, 1)
    assert normalize_bases(("x", "YZY"), 3) == ("XXX", "YZY")
    for bad in ("ZX", ("Q",), (), ("ZZZZ",), (3,)):
        with pytest.raises(ValueError) as err:
            QubitModel(3, 1, bases=bad)
        one_line_naming(err, "bases")


def test_structure_key_names_the_bases_only_when_they_are_not_plain_z():
    plain = QubitModel(3, 1)
    assert "bases" not in plain.structure_key  # the caches of plain Z runs keep their keys
    assert QubitModel(3, 1, bases="ZXY").structure_key.endswith(",bases=ZXY")
    assert QubitModel(3, 1, bases=["Z", "X"]).structure_key.endswith(",bases=ZZZ|XXX")


def test_one_distribution_per_setting_is_required_where_one_is_read(oracle):
    model = QubitModel(2, 1, bases=["Z", "X"])
    assert model.n_outputs == 4 and model.n_settings == 2
    x, p = oracle.random_inputs(model, np.random.default_rng(0), rows=1, per_row=False)
    for call in (
        lambda: model.readout_signs,
        lambda: model.outputs_from_samples(np.zeros((3, 2), int)),
        lambda: probabilities(model, x, p),
        lambda: simulate_state(model, x, p),
    ):
        with pytest.raises(ValueError, match="basis settings"):
            call()
    with pytest.raises(ValueError, match="setting"):
        model.to_cirq(x[0], p, setting=2)


def test_layer_round_trip_and_export_keep_the_bases(tmp_path):
    layer = QubitLayer(n_qubits=3, depth=1, bases=("ZXY", "Y"), seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3)).astype(np.float32)
    again = QubitLayer.from_config(layer.get_config())
    again.build((None, 3))
    again.params.assign(layer.params)
    assert again.model == layer.model
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())
    qasm = layer.to_qasm(x[0], setting=1)
    assert qasm.count("h q[") == 3 and qasm.count("sdg q[") == 3
    with pytest.raises(ValueError, match="bases"):
        QubitLayer(QubitModel(3, 1), bases="XXX")


@pytest.mark.slow  # over 2 s on 2 cores
@pytest.mark.parametrize("gateset", ["aria", "forte"])
def test_ionq_compilation_accepts_the_basis_change_gates(gateset):
    """The measured circuit of each setting compiles to IonQ native gates (the compiler
    checks unitary equivalence itself) with the terminal measurement kept."""
    from qgan.qubit.ionq import compilation

    model = QubitModel(4, 2, entangler="ms", bases=("XYZY", "Y"))
    rng = np.random.default_rng(9)
    x, p = rng.uniform(-2, 2, 4), rng.uniform(-3, 3, model.n_params)
    for k in range(model.n_settings):
        source = model.to_cirq(x, p, measure=True, setting=k)
        compiled, report = compilation.compile_with_report(source, gateset)
        assert report.after.measurements == 1
        names = {type(op.gate).__name__ for op in compiled.all_operations()}
        assert names <= {"GPIGate", "GPI2Gate", "MSGate", "ZZGate", "ZPowGate",
                         "MeasurementGate"}, names  # fmt: skip
        qs = cirq.LineQubit.range(4)
        body = cirq.Circuit(op for op in source.all_operations() if not cirq.is_measurement(op))
        state = cirq.Simulator(dtype=np.complex128).simulate(body, qubit_order=qs)
        probs_source = np.abs(state.final_state_vector) ** 2
        cbody = cirq.Circuit(op for op in compiled.all_operations() if not cirq.is_measurement(op))
        cstate = cirq.final_state_vector(cbody, qubit_order=qs, dtype=np.complex128)
        assert np.max(np.abs(np.abs(cstate) ** 2 - probs_source)) <= 1e-8


@pytest.mark.parametrize(
    "overrides,bases,n_outputs",
    [
        ({"model.measurement_bases": list("ZXYZXYZX")}, ("ZXYZXYZX",), 8),
        ({"model.readout_bases": ["Z", "X"]}, ("Z" * 8, "X" * 8), 16),
        ({"model.readout_bases": ["ZZZZXXXX", "Y"]}, ("ZZZZXXXX", "Y" * 8), 16),
    ],
)
def test_classifier_config_keys_build_the_measured_circuit(overrides, bases, n_outputs):
    """``model.measurement_bases`` / ``model.readout_bases`` reach the classifier's
    QubitLayer (configs/fashion_mnist_qubit.yaml with the key set)."""
    from pathlib import Path

    from qgan.classify.config import load_config
    from qgan.classify.model import build_model

    path = Path(__file__).resolve().parents[2] / "configs" / "fashion_mnist_qubit.yaml"
    cfg = load_config(path, overrides=overrides)
    assert cfg.model.bases == bases
    circuit_inputs = cfg.model.n_qubits * cfg.model.feature_groups
    model, circuit = build_model(cfg, (circuit_inputs,))
    assert circuit.model.bases == bases and circuit.model.n_outputs == n_outputs
    assert model(np.zeros((2, circuit_inputs), np.float32)).shape == (2, 10)


@pytest.mark.parametrize(
    "overrides,key",
    [
        ({"model.measurement_bases": ["Z", "X"]}, "measurement_bases"),
        ({"model.readout_bases": ["ZX"]}, "readout_bases"),
        ({"model.readout_bases": ["Q"]}, "readout_bases"),
        ({"model.readout_bases": ["Z"], "model.measurement_bases": list("Z" * 8)}, "bases"),
    ],
)
def test_bad_bases_config_keys_are_refused_naming_the_key(overrides, key):
    from pathlib import Path

    from qgan.classify.config import load_config

    path = Path(__file__).resolve().parents[2] / "configs" / "fashion_mnist_qubit.yaml"
    with pytest.raises(ValueError, match=key) as err:
        load_config(path, overrides=overrides)
    assert "\n" not in str(err.value).strip()
