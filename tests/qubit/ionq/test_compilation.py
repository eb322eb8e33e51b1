"""Tests of ``qgan.qubit.ionq.compilation``: Cirq circuits to IonQ native gates.

Oracles, independent of the module under test:

* the source's meaning is ``cirq.unitary`` (or, for model circuits, the matrix-built
  reference circuit and state of ``tests/qubit/conftest.py``);
* the compiled circuit's meaning, its comparison with the source up to a global phase and
  the gate counts come from ``native_oracle.py`` (IonQ's published gate definitions in
  numpy, not ``cirq_ionq``'s matrices; depth as ASAP layering, not ``cirq.Circuit``).

The passes have their own test modules: ``test_entanglers.py`` (two-qubit interactions),
``test_virtual_z.py`` (phase absorption, ``drop_final_z``, count bounds) and
``test_single_qubit.py`` (one-qubit decompositions).
"""

from __future__ import annotations

import cirq
import cirq_ionq
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from native_oracle import (
    assert_equivalent,
    assert_native,
    assert_runs_merged,
    native_matrix,
    native_names,
    native_unitary,
    own_counts,
    phase_distance,
    source_unitary,
    state_distance,
)

from qgan.qubit.ionq import compilation, virtual_z
from qgan.qubit.model import ENTANGLERS, TOPOLOGIES, QubitModel

GATESETS = ("aria", "forte")


# ------------------------------------------------------------------ random circuits


def _angle(rng) -> float:
    return float(rng.uniform(-2 * np.pi, 2 * np.pi))


def _seed(rng) -> int:
    return int(rng.integers(2**31))


def _exponent(rng) -> float:
    return float(rng.uniform(-2.5, 2.5))


ONE_QUBIT = [
    lambda r: cirq.rx(_angle(r)),
    lambda r: cirq.ry(_angle(r)),
    lambda r: cirq.rz(_angle(r)),
    lambda r: cirq.H,
    lambda r: cirq.X,
    lambda r: cirq.Y,
    lambda r: cirq.Z,
    lambda r: cirq.S,
    lambda r: cirq.T**-1,
    lambda r: cirq.PhasedXZGate(
        x_exponent=_exponent(r), z_exponent=_exponent(r), axis_phase_exponent=_exponent(r)
    ),
    lambda r: cirq.MatrixGate(cirq.testing.random_unitary(2, random_state=_seed(r))),
    lambda r: cirq_ionq.GPIGate(phi=float(r.uniform(-1, 2))),
    lambda r: cirq_ionq.GPI2Gate(phi=float(r.uniform(-1, 2))),
]
TWO_QUBIT = [
    lambda r: cirq.CNOT,
    lambda r: cirq.CZ,
    lambda r: cirq.CNOT ** _exponent(r),
    lambda r: cirq.CZ ** _exponent(r),
    lambda r: cirq.XX ** _exponent(r),
    lambda r: cirq.YY ** _exponent(r),
    lambda r: cirq.ZZPowGate(exponent=_exponent(r), global_shift=float(r.uniform(-1, 1))),
    lambda r: cirq.ms(_angle(r)),
    lambda r: cirq.SWAP,
    lambda r: cirq.ISWAP ** _exponent(r),
    lambda r: cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=_seed(r))),
    # native gates as input, parameters also outside the ranges the hardware accepts
    lambda r: cirq_ionq.MSGate(
        phi0=float(r.uniform(-1, 2)), phi1=float(r.uniform(-1, 2)), theta=float(r.uniform(-1, 1))
    ),
    lambda r: cirq_ionq.ZZGate(theta=float(r.uniform(-1, 1))),
]
THREE_QUBIT = [lambda r: cirq.CCZ, lambda r: cirq.CCX, lambda r: cirq.CSWAP]


def random_circuit(rng: np.random.Generator, n: int, n_ops: int) -> cirq.Circuit:
    """``n_ops`` gates drawn from the pools above on random (ordered) qubits of n."""
    qubits = cirq.LineQubit.range(n)
    pools = [ONE_QUBIT] + ([TWO_QUBIT] if n >= 2 else []) + ([THREE_QUBIT] if n >= 3 else [])
    weights = np.array([3.0, 2.0, 0.3][: len(pools)])
    ops = []
    for _ in range(n_ops):
        k = int(rng.choice(len(pools), p=weights / weights.sum()))
        gate = pools[k][int(rng.integers(len(pools[k])))](rng)
        where = rng.choice(n, size=k + 1, replace=False)
        ops.append(gate.on(*[qubits[i] for i in where]))
    return cirq.Circuit(ops)


# ------------------------------------------------------------------ the oracle itself


def test_oracle_native_matrices_match_ionq_conventions(ctol):
    """The definitions above agree with cirq_ionq's matrices (same conventions), and the
    comparison is phase-invariant yet sees a wrong gate."""
    rng = np.random.default_rng(7)
    for _ in range(5):
        phi0, phi1, theta = rng.uniform(-1, 2, size=3)
        gates = [
            cirq_ionq.GPIGate(phi=phi0),
            cirq_ionq.GPI2Gate(phi=phi0),
            cirq_ionq.MSGate(phi0=phi0, phi1=phi1, theta=theta),
            cirq_ionq.ZZGate(theta=theta),
        ]
        for gate in gates:
            err = np.max(np.abs(native_matrix(gate) - cirq.unitary(gate)))
            assert err <= ctol.unitary, gate
    u = cirq.testing.random_unitary(8, random_state=3)
    gap, elem = phase_distance(np.exp(0.7j) * u, u)
    assert gap <= ctol.trace_gap and elem <= ctol.unitary
    wrong = np.kron(cirq.unitary(cirq.Z), np.eye(4)) @ u  # a Z too many on qubit 0
    gap, elem = phase_distance(wrong, u)
    assert gap > ctol.nontrivial and elem > ctol.nontrivial


def test_target_gatesets_in_cirq_ionq():
    """MS is Aria's entangler and ZZ Forte's (the premise of NATIVE_TYPES)."""
    a, b = cirq.LineQubit.range(2)
    ms = cirq_ionq.MSGate(phi0=0, phi1=0).on(a, b)
    zz = cirq_ionq.ZZGate(theta=0.1).on(a, b)
    assert ms in cirq_ionq.AriaNativeGateset() and zz not in cirq_ionq.AriaNativeGateset()
    assert zz in cirq_ionq.ForteNativeGateset() and ms not in cirq_ionq.ForteNativeGateset()
    assert compilation.native_gateset("aria") == cirq_ionq.AriaNativeGateset()
    assert compilation.native_gateset("forte") == cirq_ionq.ForteNativeGateset()


# ------------------------------------------------------------------ random circuits


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("seed", range(12))
def test_random_circuits_are_unitarily_equal(gateset, seed, ctol):
    rng = np.random.default_rng(1000 + seed)
    n = 1 + seed % 6
    source = random_circuit(rng, n, n_ops=4 + 5 * n)
    original = source.copy()
    compiled, report = compilation.compile_with_report(source, gateset)
    assert isinstance(compiled, cirq.Circuit)
    assert source == original, "compile must not change its input"
    qubits = cirq.LineQubit.range(n)
    assert_equivalent(source, compiled, qubits, ctol)
    assert_native(compiled, gateset, ctol)
    assert_runs_merged(compiled)
    assert report.gateset == gateset and report.n_qubits == len(source.all_qubits())
    assert report.unitary_error is not None and report.unitary_error <= ctol.unitary


@given(
    n=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    gateset=st.sampled_from(GATESETS),
    measure=st.booleans(),
)
def test_random_circuits_of_1_to_10_qubits(n, seed, gateset, measure, ctol):
    """Any circuit of the pools above (all qubit counts the unitary check covers) compiles
    to native gates with the source's unitary, whatever the frames left on the qubits."""
    rng = np.random.default_rng(seed)
    qubits = cirq.LineQubit.range(n)
    source = random_circuit(rng, n, n_ops=2 + 2 * n)
    if measure:
        source.append(cirq.measure(*qubits, key="m"))
    compiled, report = compilation.compile_with_report(source, gateset)
    assert_equivalent(source, compiled, qubits, ctol)
    assert_native(compiled, gateset, ctol)
    assert_runs_merged(compiled)
    assert report.after.as_dict() == own_counts(compiled) and report.dropped_z == {}


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("seed", range(3))
def test_random_circuits_without_partial_entanglers(gateset, seed, ctol):
    rng = np.random.default_rng(2000 + seed)
    n = 2 + seed
    source = random_circuit(rng, n, n_ops=6 * n)
    compiled = compilation.compile(source, gateset, partial_entanglers=False)
    assert_equivalent(source, compiled, cirq.LineQubit.range(n), ctol)
    assert_native(compiled, gateset, ctol)


@pytest.mark.parametrize("gateset", GATESETS)
def test_public_compile_matches_compile_with_report(gateset, ctol):
    source = random_circuit(np.random.default_rng(5), 3, 15)
    compiled = compilation.compile(source, gateset=gateset)
    with_report, _ = compilation.compile_with_report(source, gateset=gateset)
    assert compiled == with_report
    frozen = compilation.compile(source.freeze(), gateset=gateset)
    assert isinstance(frozen, cirq.Circuit) and frozen == compiled


def test_package_exports_compile():
    import qgan.qubit.ionq as ionq

    assert ionq.compile is compilation.compile


# ------------------------------------------------------------------ gate counts


@pytest.mark.parametrize("gateset", GATESETS)
def test_counts_of_a_hand_made_circuit(gateset, ctol):
    q = cirq.LineQubit.range(3)
    source = cirq.Circuit(
        cirq.H(q[0]),
        cirq.H(q[2]),
        cirq.CNOT(q[0], q[1]),
        cirq.CCZ(*q),
        cirq.global_phase_operation(1j),
        cirq.measure(*q, key="m"),
    )
    compiled, report = compilation.compile_with_report(source, gateset)
    # by hand: H, H | CNOT | CCZ (global phase is not a gate), one 3-qubit measurement
    assert report.before.as_dict() == dict(
        one_qubit=2, two_qubit=1, multi_qubit=1, measurements=1, depth=3
    )
    assert report.before.total == 4
    assert report.after.as_dict() == own_counts(compiled)
    assert report.after.multi_qubit == 0 and report.after.measurements == 1
    assert report.native_gates == native_names(compiled)
    assert_equivalent(source, compiled, q, ctol)


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("seed", range(4))
def test_reported_counts_match_own_count(gateset, seed, ctol):
    rng = np.random.default_rng(3000 + seed)
    n = 2 + seed
    qubits = cirq.LineQubit.range(n)
    source = random_circuit(rng, n, 5 * n) + cirq.Circuit(cirq.measure(*qubits, key="out"))
    compiled, report = compilation.compile_with_report(source, gateset)
    assert report.before.as_dict() == own_counts(source)
    assert report.after.as_dict() == own_counts(compiled)
    assert report.native_gates == native_names(compiled)
    names = native_names(compiled)
    entangler = {"aria": "MS", "forte": "ZZ"}[gateset]
    assert report.after.one_qubit == names.get("GPI", 0) + names.get("GPI2", 0)
    assert report.after.two_qubit == names.get(entangler, 0)
    table = report.table()
    for label, key in [("1-qubit gates", "one_qubit"), ("2-qubit gates", "two_qubit")]:
        row = f"| {label} | {own_counts(source)[key]} | {own_counts(compiled)[key]} |"
        assert row in table
    data = report.as_dict()
    assert data["before"] == own_counts(source) and data["after"] == own_counts(compiled)
    assert data["gateset"] == gateset and data["n_qubits"] == n


# ------------------------------------------------------------------ measurements


@pytest.mark.parametrize("gateset", GATESETS)
def test_terminal_measurements_are_kept(gateset, ctol):
    q = cirq.LineQubit.range(3)
    source = cirq.Circuit(
        cirq.H(q[0]),
        cirq.CNOT(q[0], q[1]),
        cirq.measure(q[0], q[1], key="ab", invert_mask=(True,)),
        cirq.ry(0.4).on(q[2]),
        cirq.measure(q[2], key="c"),
    )
    compiled = compilation.compile(source, gateset)
    assert compiled.are_all_measurements_terminal()

    def measurements(circuit):
        return sorted(
            (repr(op.gate), op.qubits) for op in circuit.all_operations() if cirq.is_measurement(op)
        )

    assert measurements(compiled) == measurements(source)
    assert_equivalent(source, compiled, q, ctol)
    assert_native(compiled, gateset, ctol)


# ------------------------------------------------------------------ the model's circuits


def _entanglers_in_spec(entangler: str, depth: int, n: int, topology: str, oracle) -> int:
    """Two-qubit gates the structure asks for: one per pair and layer; none for the
    no-entanglement ablation (``entangler="none"``)."""
    return 0 if entangler == "none" else depth * len(oracle.pairs(n, topology))


def _model_case(model: QubitModel, seed: int, oracle):
    rng = np.random.default_rng(seed)
    x, params = oracle.random_inputs(model, rng, rows=1, per_row=False)
    return x[0], params


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("entangler", ENTANGLERS)
def test_model_circuits(gateset, entangler, topology, ctol, oracle):
    encoding = "reupload" if topology == "ring" else "angle"
    model = QubitModel(4, 2, encoding=encoding, entangler=entangler, topology=topology)
    x, params = _model_case(model, 17, oracle)
    source = model.to_cirq(x, params, measure=True)
    compiled, report = compilation.compile_with_report(source, gateset)
    qubits = cirq.LineQubit.range(4)
    # against the matrix-built reference circuit of tests/qubit/conftest.py
    reference = oracle.circuit(model, x, params)
    assert_equivalent(reference, compiled, qubits, ctol)
    state = native_unitary(compiled, qubits)[:, 0]
    assert state_distance(state, oracle.state(model, x, params)) <= ctol.state
    assert_native(compiled, gateset, ctol)
    assert_runs_merged(compiled)
    # one native entangler per entangled pair and layer (from the spec, not the model)
    expected_two = _entanglers_in_spec(entangler, model.depth, 4, topology, oracle)
    assert own_counts(compiled)["two_qubit"] == expected_two
    assert report.before.two_qubit == expected_two
    assert report.after.as_dict() == own_counts(compiled)
    assert report.after.measurements == 1


@given(
    n=st.integers(1, 10),
    depth=st.integers(1, 2),
    encoding=st.sampled_from(["angle", "reupload"]),
    entangler=st.sampled_from(ENTANGLERS),
    topology=st.sampled_from(TOPOLOGIES),
    gateset=st.sampled_from(GATESETS),
    seed=st.integers(0, 2**32 - 1),
)
def test_model_circuits_any_structure(
    n, depth, encoding, entangler, topology, gateset, seed, ctol, oracle
):
    model = QubitModel(n, depth, encoding=encoding, entangler=entangler, topology=topology)
    x, params = _model_case(model, seed, oracle)
    compiled = compilation.compile(model.to_cirq(x, params, measure=True), gateset)
    qubits = cirq.LineQubit.range(n)
    assert_equivalent(oracle.circuit(model, x, params), compiled, qubits, ctol)
    assert_native(compiled, gateset, ctol)
    expected_two = _entanglers_in_spec(entangler, depth, n, topology, oracle)
    assert own_counts(compiled)["two_qubit"] == expected_two


@pytest.mark.parametrize("gateset", GATESETS)
def test_amplitude_encoded_model(gateset, ctol, oracle):
    model = QubitModel(3, 1, encoding="amplitude", entangler="ms", topology="ring")
    x, params = _model_case(model, 23, oracle)
    source = model.to_cirq(x, params)
    compiled = compilation.compile(source, gateset)
    qubits = cirq.LineQubit.range(3)
    assert_equivalent(source, compiled, qubits, ctol)
    state = native_unitary(compiled, qubits)[:, 0]
    assert state_distance(state, oracle.state(model, x, params)) <= ctol.state
    assert_native(compiled, gateset, ctol)


@pytest.mark.parametrize(
    ("gateset", "entangler", "topology"),
    [("aria", "cnot", "ring"), ("forte", "ms", "linear")],
)
def test_ten_qubit_model(gateset, entangler, topology, ctol, oracle):
    model = QubitModel(10, 1, encoding="angle", entangler=entangler, topology=topology)
    x, params = _model_case(model, 29, oracle)
    source = model.to_cirq(x, params)
    compiled, report = compilation.compile_with_report(source, gateset)
    assert report.unitary_error is not None and report.unitary_error <= ctol.unitary
    assert_equivalent(source, compiled, cirq.LineQubit.range(10), ctol)
    assert_native(compiled, gateset, ctol)


@pytest.mark.parametrize("gateset", GATESETS)
def test_beyond_the_unitary_check(gateset, ctol, oracle):
    """12 qubits: no unitary check (reported as None), but the state from |0...0> agrees."""
    model = QubitModel(12, 1, encoding="angle", entangler="zz", topology="linear")
    x, params = _model_case(model, 31, oracle)
    source = model.to_cirq(x, params)
    compiled, report = compilation.compile_with_report(source, gateset)
    assert report.unitary_error is None and report.n_qubits == 12
    assert_native(compiled, gateset, ctol)
    sim = cirq.Simulator(dtype=np.complex128)
    qubits = cirq.LineQubit.range(12)
    a = sim.simulate(compiled, qubit_order=qubits).final_state_vector
    b = oracle.state(model, x, params)
    assert state_distance(np.asarray(a), b) <= ctol.state


def test_verify_max_qubits_skips_the_check():
    source = random_circuit(np.random.default_rng(41), 3, 12)
    _, report = compilation.compile_with_report(source, "aria", verify_max_qubits=2)
    assert report.unitary_error is None
    _, report = compilation.compile_with_report(source, "aria", verify=False)
    assert report.unitary_error is None


# ------------------------------------------------------------------ the module's own check


@pytest.mark.parametrize("gateset", GATESETS)
def test_a_wrong_compilation_is_caught(gateset, monkeypatch, ctol):
    """If the one-qubit lowering were wrong, compile would raise, not return it."""
    q = cirq.LineQubit.range(2)
    source = cirq.Circuit(cirq.ry(0.8).on(q[0]), cirq.CNOT(*q), cirq.rx(0.3).on(q[1]))
    monkeypatch.setattr(virtual_z, "single_qubit_natives", lambda mat: [cirq_ionq.GPIGate(phi=0.0)])
    with pytest.raises(compilation.CompilationError):
        compilation.compile(source, gateset)
    wrong = compilation.compile(source, gateset, verify=False)
    gap, elem = phase_distance(native_unitary(wrong, q), source_unitary(source, q))
    assert elem > ctol.nontrivial  # the oracle of these tests sees it too


# ------------------------------------------------------------------ bad input


def _one_line_value_error(call, name: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    assert name in message, message


@pytest.mark.parametrize("bad", ["sapphire", "Aria", "harmony", "", None, 2])
def test_unknown_gateset(bad):
    source = cirq.Circuit(cirq.H(cirq.LineQubit(0)))
    _one_line_value_error(lambda: compilation.compile(source, bad), "gateset")
    _one_line_value_error(lambda: compilation.native_gateset(bad), "gateset")


def _bad_circuits():
    q = cirq.LineQubit.range(3)
    return {
        "not a circuit": [cirq.H(q[0])],
        "a moment": cirq.Moment([cirq.H(q[0])]),
        "empty": cirq.Circuit(),
        "only a global phase": cirq.Circuit(cirq.global_phase_operation(1j)),
        "mid-circuit measurement": cirq.Circuit(cirq.measure(q[0]), cirq.H(q[0])),
        "unresolved parameter": cirq.Circuit(cirq.rz(sympy.Symbol("t")).on(q[0])),
        "grid qubits": cirq.Circuit(cirq.H(cirq.GridQubit(0, 0))),
        "named qubits": cirq.Circuit(cirq.CNOT(cirq.NamedQubit("a"), cirq.NamedQubit("b"))),
        "reset": cirq.Circuit(cirq.H(q[0]), cirq.reset(q[0]), cirq.H(q[0])),
        "1-qubit channel": cirq.Circuit(cirq.H(q[0]), cirq.depolarize(0.1).on(q[0])),
        "2-qubit channel": cirq.Circuit(
            cirq.CNOT(q[0], q[1]), cirq.depolarize(0.1, n_qubits=2).on(q[0], q[1])
        ),
        "3-qubit channel": cirq.Circuit(cirq.depolarize(0.1, n_qubits=3).on(*q)),
    }


@pytest.mark.parametrize("case", sorted(_bad_circuits()))
@pytest.mark.parametrize("gateset", GATESETS)
def test_bad_circuit(case, gateset):
    source = _bad_circuits()[case]
    _one_line_value_error(lambda: compilation.compile(source, gateset), "circuit")
