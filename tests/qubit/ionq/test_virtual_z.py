"""Tests of ``qgan.qubit.ionq.virtual_z``: Z rotations absorbed into the
phases of GPI, GPI2 and MS (ZZ commutes), ``drop_final_z``, and the gate counts this buys.

Oracles, independent of the module under test:

* gate matrices are ``cirq.unitary`` of ``cirq_ionq``'s own native gates, and
  ``Z(t) = diag(1, exp(2 pi i t))`` (a Z rotation by t turns, up to phase) is written here;
* the source's meaning is ``cirq.unitary`` of the source circuit;
* gate-count bounds are derived here from the circuit's structure (see
  :func:`one_qubit_bound`), and counts are recounted from the compiled circuit.
"""

from __future__ import annotations

import math

import cirq
import cirq_ionq
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qgan.qubit.ionq import compilation, virtual_z
from qgan.qubit.model import ENTANGLERS, TOPOLOGIES, QubitModel

GATESETS = ("aria", "forte")
ENTANGLER_OF = {"aria": cirq_ionq.MSGate, "forte": cirq_ionq.ZZGate}

phases = st.floats(-2.0, 2.0, allow_nan=False)
thetas = st.floats(-0.5, 0.5, allow_nan=False)


def z(turns: float) -> np.ndarray:
    return np.diag([1.0, np.exp(2j * math.pi * turns)])


def turns_apart(a: float, b: float) -> float:
    """Distance of two angles in turns, modulo 1."""
    return abs((a - b + 0.5) % 1.0 - 0.5)


def kron_all(mats) -> np.ndarray:
    out = np.eye(1, dtype=complex)
    for m in mats:
        out = np.kron(out, m)
    return out


def phase_error(u: np.ndarray, v: np.ndarray) -> float:
    """max |u - e^{i phi} v| for the best global phase phi."""
    overlap = np.vdot(v, u)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.max(np.abs(u - phase * v)))


def unitary_of(circuit: cirq.AbstractCircuit, qubits) -> np.ndarray:
    gates = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    return gates.unitary(qubit_order=qubits, qubits_that_should_be_present=qubits)


def one_qubit_counts(circuit: cirq.AbstractCircuit) -> dict:
    counts: dict = {}
    for op in circuit.all_operations():
        if len(op.qubits) == 1 and not cirq.is_measurement(op):
            counts[op.qubits[0]] = counts.get(op.qubits[0], 0) + 1
    return counts


# ------------------------------------------------------------------ phase absorption


@given(gate=st.sampled_from(["GPI", "GPI2"]), phi=phases, t=phases)
def test_z_rotations_pass_through_one_qubit_natives(gate, phi, t, ctol):
    """G Z(t) = Z(t) G' with G' = absorb_z(G, [t]): exactly, with cirq_ionq's matrices."""
    native = {"GPI": cirq_ionq.GPIGate, "GPI2": cirq_ionq.GPI2Gate}[gate](phi=phi)
    shifted = virtual_z.absorb_z(native, [t])
    assert type(shifted) is type(native) and 0.0 <= shifted.phi < 1.0
    left = cirq.unitary(native) @ z(t)
    right = z(t) @ cirq.unitary(shifted)
    assert np.max(np.abs(left - right)) <= ctol.unitary


@given(phi0=phases, phi1=phases, theta=thetas, t0=phases, t1=phases)
def test_z_rotations_pass_through_ms_and_zz(phi0, phi1, theta, t0, t1, ctol):
    """MS(phi0, phi1) (Z(t0) x Z(t1)) = (Z(t0) x Z(t1)) MS(phi0 - t0, phi1 - t1), with theta
    kept; ZZ commutes with Z x Z and is returned unchanged (cirq_ionq's own matrices)."""
    zz_frame = np.kron(z(t0), z(t1))
    ms = cirq_ionq.MSGate(phi0=phi0, phi1=phi1, theta=theta)
    shifted = virtual_z.absorb_z(ms, [t0, t1])
    assert type(shifted) is cirq_ionq.MSGate and shifted.theta == theta
    assert 0.0 <= shifted.phi0 < 1.0 and 0.0 <= shifted.phi1 < 1.0
    left = cirq.unitary(ms) @ zz_frame
    assert np.max(np.abs(left - zz_frame @ cirq.unitary(shifted))) <= ctol.unitary
    # the shift matters: MS commutes with Z(t0) x Z(t1) only for (t0, t1) = (0, 0) or
    # (1/2, 1/2) mod 1 (s_{phi0 - t0} x s_{phi1 - t1} = s_phi0 x s_phi1 only then)
    far = min(max(turns_apart(t0, k), turns_apart(t1, k)) for k in (0.0, 0.5))
    if far > 0.05 and abs(math.sin(math.pi * theta)) > 0.1:
        assert np.max(np.abs(left - zz_frame @ cirq.unitary(ms))) > ctol.nontrivial
    zz = cirq_ionq.ZZGate(theta=theta)
    assert virtual_z.absorb_z(zz, [t0, t1]) == zz
    commutator = cirq.unitary(zz) @ zz_frame - zz_frame @ cirq.unitary(zz)
    assert np.max(np.abs(commutator)) <= ctol.unitary


def test_absorb_z_rejects_bad_input(one_line_naming):
    with pytest.raises(ValueError) as err:
        virtual_z.absorb_z(cirq_ionq.MSGate(phi0=0.1, phi1=0.2), [0.3])
    one_line_naming(err, "turns")
    with pytest.raises(ValueError) as err:
        virtual_z.absorb_z(cirq.H, [0.3])
    one_line_naming(err, "gate")


@pytest.mark.parametrize("gateset", GATESETS)
def test_z_rotations_before_an_entangler_cost_nothing_before_measurement(gateset, ctol):
    """rz(a) x rz(b) then an in-range native entangler, then measurement: with drop_final_z
    only the entangler remains, its phases shifted by the frames (MS) or unchanged (ZZ),
    and the dropped frames are reported; by default the Z rotations are still paid for,
    at most two gates per qubit (Z rotations are not native)."""
    q = cirq.LineQubit.range(2)
    a, b = 0.8, -2.1
    native = {
        "aria": cirq_ionq.MSGate(phi0=0.3, phi1=0.55, theta=0.2),
        "forte": cirq_ionq.ZZGate(theta=0.15),
    }[gateset]
    source = cirq.Circuit(cirq.rz(a).on(q[0]), cirq.rz(b).on(q[1]), native.on(*q))
    source.append(cirq.measure(*q, key="m"))
    compiled, report = compilation.compile_with_report(source, gateset, drop_final_z=True)
    gates = [op for op in compiled.all_operations() if not cirq.is_measurement(op)]
    assert len(gates) == 1 and type(gates[0].gate) is ENTANGLER_OF[gateset]
    # rz(a) = Z(a / 2 pi) up to phase
    t = [a / (2 * math.pi), b / (2 * math.pi)]
    frame = np.kron(z(t[0]), z(t[1]))
    # compiled = Z(-t) source, i.e. source = Z(t) compiled
    err = phase_error(unitary_of(source, q), frame @ cirq.unitary(gates[0].gate))
    assert err <= ctol.unitary
    dropped = [report.dropped_z.get(i, 0.0) for i in range(2)]
    assert all(turns_apart(d, ti) <= ctol.angle for d, ti in zip(dropped, t))
    compiled = compilation.compile(source, gateset)
    assert phase_error(unitary_of(compiled, q), unitary_of(source, q)) <= ctol.unitary
    assert all(n <= 2 for n in one_qubit_counts(compiled).values())


# ------------------------------------------------------------------ drop_final_z


@given(
    n=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    gateset=st.sampled_from(GATESETS),
    measured=st.integers(0, 2**10 - 1),
)
def test_drop_final_z_keeps_measurement_statistics(n, seed, gateset, measured, ctol):
    """U_compiled = D U_source with D = (x)_q Z(-t_q) over the *measured* qubits only, t_q
    the reported dropped rotations: a diagonal D changes no Z-basis statistics."""
    rng = np.random.default_rng(seed)
    qubits = cirq.LineQubit.range(n)
    ops = []
    for _ in range(2 * n + 2):
        if n >= 2 and rng.random() < 0.4:
            i, j = rng.choice(n, size=2, replace=False)
            gate = [cirq.CNOT, cirq.ms(rng.uniform(-3, 3)), cirq.ZZ ** rng.uniform(-2, 2)]
            ops.append(gate[rng.integers(3)].on(qubits[i], qubits[j]))
        else:
            u = cirq.testing.random_unitary(2, random_state=int(rng.integers(2**31)))
            ops.append(cirq.MatrixGate(u).on(qubits[rng.integers(n)]))
    source = cirq.Circuit(ops)
    kept = [q for q in qubits if (measured >> q.x) & 1]
    if kept:
        source.append(cirq.measure(*kept, key="m"))
    compiled, report = compilation.compile_with_report(source, gateset, drop_final_z=True)
    assert set(report.dropped_z) <= {q.x for q in kept}
    d = unitary_of(compiled, qubits) @ unitary_of(source, qubits).conj().T
    off_diagonal = d - np.diag(np.diag(d))
    assert np.max(np.abs(off_diagonal)) <= ctol.unitary
    expected = kron_all(z(-report.dropped_z.get(q.x, 0.0)) for q in qubits)
    assert phase_error(d, expected) <= ctol.unitary
    assert report.unitary_error is not None and report.unitary_error <= ctol.unitary
    exact = compilation.compile(source, gateset)
    assert phase_error(unitary_of(exact, qubits), unitary_of(source, qubits)) <= ctol.unitary
    assert sum(one_qubit_counts(compiled).values()) <= sum(one_qubit_counts(exact).values())


def test_drop_final_z_is_off_by_default():
    q = cirq.LineQubit.range(2)
    source = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(*q), cirq.rz(0.4).on(q[1]))
    source.append(cirq.measure(*q, key="m"))
    _, report = compilation.compile_with_report(source, "aria")
    assert report.dropped_z == {} and report.as_dict()["dropped_z"] == {}
    _, report = compilation.compile_with_report(source, "aria", drop_final_z=True)
    assert set(report.dropped_z) <= {0, 1} and report.as_dict()["dropped_z"] == report.dropped_z


# ------------------------------------------------------------------ gate counts


def one_qubit_bound(model: QubitModel, gateset: str, oracle, droppable: bool) -> int:
    """Upper bound on the one-qubit natives of a compiled model circuit, from its structure.

    Each entangler of the model is one native entangler (MS or ZZ). On each qubit, the
    one-qubit gates between two entanglers are one run: re-emitted as Z(t) N with N at most
    two GPI2s (any single-qubit unitary is Z(t) GPI2 GPI2, and Z(t) passes through every
    native gate as a phase shift); on Aria a rotation about the MS axis commutes with the
    MS and can move on, which leaves at most one gate (|N_00| = 1/sqrt(2) is reachable). The
    run after a qubit's last entangler must end without a Z rotation: at most three gates
    (any unitary is GPI2 GPI GPI2), two when its final Z may be dropped.
    """
    per_run = 1 if gateset == "aria" else 2
    last = 2 if droppable else 3
    entanglers = {q: 0 for q in range(model.n_qubits)}
    for a, b in oracle.pairs(model.n_qubits, model.topology):
        entanglers[a] += model.depth
        entanglers[b] += model.depth
    return sum(per_run * m + last for m in entanglers.values())


@given(
    n=st.integers(1, 8),
    depth=st.integers(1, 3),
    encoding=st.sampled_from(["angle", "reupload"]),
    entangler=st.sampled_from(ENTANGLERS),
    topology=st.sampled_from(TOPOLOGIES),
    gateset=st.sampled_from(GATESETS),
    seed=st.integers(0, 2**32 - 1),
)
def test_model_circuit_counts_within_the_structural_bound(
    n, depth, encoding, entangler, topology, gateset, seed, ctol, oracle
):
    model = QubitModel(n, depth, encoding=encoding, entangler=entangler, topology=topology)
    rng = np.random.default_rng(seed)
    x, params = oracle.random_inputs(model, rng, rows=1, per_row=False)
    source = model.to_cirq(x[0], params, measure=True)
    for drop in (False, True):
        compiled = compilation.compile(source, gateset, drop_final_z=drop)
        ones = sum(one_qubit_counts(compiled).values())
        assert ones <= one_qubit_bound(model, gateset, oracle, droppable=drop)


@pytest.mark.parametrize("gateset", GATESETS)
def test_reference_classifier_circuit_counts(gateset, ctol, oracle):
    """The reference workload: 8 qubits, depth 4, re-uploaded RY encoding, RY+RZ per qubit
    and layer, CNOT ring. One native entangler per CNOT, the one-qubit natives within the
    structural bound (Aria: 8 x (8 + 3) = 88; Forte: 8 x (16 + 3) = 152), fewer than the
    source's own one-qubit gates on Aria, the unitary kept."""
    model = QubitModel(8, 4, encoding="reupload", entangler="cnot", topology="ring")
    rng = np.random.default_rng(0)
    x, params = oracle.random_inputs(model, rng, rows=1, per_row=False)
    source = model.to_cirq(x[0], params, measure=True)
    compiled, report = compilation.compile_with_report(source, gateset)
    qubits = cirq.LineQubit.range(8)
    assert phase_error(unitary_of(compiled, qubits), unitary_of(source, qubits)) <= ctol.unitary
    assert report.before.one_qubit == 8 * 4 * 3 and report.before.two_qubit == 8 * 4
    assert report.after.two_qubit == 8 * 4
    ones = sum(one_qubit_counts(compiled).values())
    assert report.after.one_qubit == ones
    assert ones <= one_qubit_bound(model, gateset, oracle, droppable=False)
    if gateset == "aria":
        assert ones < report.before.one_qubit
    dropped = compilation.compile(source, gateset, drop_final_z=True)
    assert sum(one_qubit_counts(dropped).values()) <= ones
