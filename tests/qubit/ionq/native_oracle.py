"""The independent oracle of the IonQ compilation tests (an importable test helper, as
Cirq's ``cirq/testing/circuit_compare.py``): IonQ's native gates written with numpy from
IonQ's published definitions, not from ``cirq_ionq``'s matrices, and gate counts recounted
without ``cirq.Circuit``.

Native gates are rotations ``exp(-i a P) = cos(a) I - i sin(a) P`` (``P**2 = I``) with
``s(phi) = cos(2 pi phi) X + sin(2 pi phi) Y``: ``GPI(phi) = s(phi)``,
``GPI2(phi) = exp(-i pi/4 s(phi))``, ``MS(phi0, phi1, theta) = exp(-i pi theta s(phi0) x
s(phi1))``, ``ZZ(theta) = exp(-i pi theta Z x Z)``. Unitaries are compared up to a global
phase with :func:`phase_distance`; depth is ASAP layering.

``tests/qubit/ionq/conftest.py`` loads this module by path (pytest runs in importlib
mode), so the test modules import it as ``native_oracle``.
"""

from __future__ import annotations

import math
from collections import Counter

import cirq
import cirq_ionq
import numpy as np

#: Native gate types per target (IonQ: Aria runs GPI, GPI2, MS; Forte runs GPI, GPI2, ZZ).
NATIVE_TYPES = {
    "aria": (cirq_ionq.GPIGate, cirq_ionq.GPI2Gate, cirq_ionq.MSGate),
    "forte": (cirq_ionq.GPIGate, cirq_ionq.GPI2Gate, cirq_ionq.ZZGate),
}
NATIVE_NAMES = {
    cirq_ionq.GPIGate: "GPI",
    cirq_ionq.GPI2Gate: "GPI2",
    cirq_ionq.MSGate: "MS",
    cirq_ionq.ZZGate: "ZZ",
}

_I = np.eye(2, dtype=np.complex128)
_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
_Z = np.diag([1.0, -1.0]).astype(np.complex128)


def _s(phi: float) -> np.ndarray:
    return math.cos(2 * math.pi * phi) * _X + math.sin(2 * math.pi * phi) * _Y


def _rotation(angle: float, pauli: np.ndarray) -> np.ndarray:
    """exp(-i angle P) for P with P**2 = I."""
    eye = np.eye(pauli.shape[0], dtype=np.complex128)
    return math.cos(angle) * eye - 1j * math.sin(angle) * pauli


def native_matrix(gate) -> np.ndarray:
    """IonQ's definition of a native gate (see the module docstring)."""
    if type(gate) is cirq_ionq.GPIGate:
        return _s(gate.phi)
    if type(gate) is cirq_ionq.GPI2Gate:
        return _rotation(math.pi / 4, _s(gate.phi))
    if type(gate) is cirq_ionq.MSGate:
        return _rotation(math.pi * gate.theta, np.kron(_s(gate.phi0), _s(gate.phi1)))
    if type(gate) is cirq_ionq.ZZGate:
        return _rotation(math.pi * gate.theta, np.kron(_Z, _Z))
    raise AssertionError(f"not an IonQ native gate: {gate!r}")


def native_unitary(circuit: cirq.AbstractCircuit, qubits) -> np.ndarray:
    """Unitary of a circuit of native gates (measurements skipped), qubit 0 most significant."""
    n = len(qubits)
    index = {q: i for i, q in enumerate(qubits)}
    u = np.eye(2**n, dtype=np.complex128).reshape((2,) * n + (2**n,))
    for op in circuit.all_operations():
        if cirq.is_measurement(op):
            continue
        k = len(op.qubits)
        mat = native_matrix(op.gate).reshape((2,) * (2 * k))
        axes = [index[q] for q in op.qubits]
        u = np.tensordot(mat, u, axes=(list(range(k, 2 * k)), axes))
        u = np.moveaxis(u, list(range(k)), axes)
    return u.reshape(2**n, 2**n)


def source_unitary(circuit: cirq.AbstractCircuit, qubits) -> np.ndarray:
    gates = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    return gates.unitary(qubit_order=qubits, qubits_that_should_be_present=qubits)


def phase_distance(u: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """(1 - |tr(v^dagger u)| / dim, max |u - e^{i phi} v|) with e^{i phi} = phase of the trace."""
    overlap = np.trace(v.conj().T @ u)
    gap = 1.0 - abs(overlap) / u.shape[0]
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(gap), float(np.max(np.abs(u - phase * v)))


def state_distance(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - e^{i phi} b| for the best phase phi of two state vectors."""
    overlap = np.vdot(b, a)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.max(np.abs(a - phase * b)))


def assert_equivalent(source, compiled, qubits, ctol) -> None:
    gap, elem = phase_distance(native_unitary(compiled, qubits), source_unitary(source, qubits))
    assert gap <= ctol.trace_gap, f"1 - |tr(U^+ V)|/2^n = {gap:.3e}"
    assert elem <= ctol.unitary, f"max |U - e^(i phi) V| = {elem:.3e}"


def assert_native(compiled: cirq.Circuit, gateset: str, ctol) -> None:
    """Every gate native to ``gateset``, with parameters in their documented ranges."""
    target = {
        "aria": cirq_ionq.AriaNativeGateset(),
        "forte": cirq_ionq.ForteNativeGateset(),
    }[gateset]
    for op in compiled.all_operations():
        assert op in target, f"{op!r} is not in cirq_ionq's {gateset} gateset"
        if cirq.is_measurement(op):
            continue
        gate = op.gate
        assert type(gate) in NATIVE_TYPES[gateset], f"{op!r} on {gateset}"
        phases = {
            cirq_ionq.GPIGate: lambda g: [g.phi],
            cirq_ionq.GPI2Gate: lambda g: [g.phi],
            cirq_ionq.MSGate: lambda g: [g.phi0, g.phi1],
            cirq_ionq.ZZGate: lambda g: [],
        }[type(gate)](gate)
        for phi in phases:
            assert 0.0 <= phi < 1.0, f"phase {phi} of {op!r} not reduced to [0, 1) turns"
        if type(gate) is cirq_ionq.MSGate:
            assert 0.0 < gate.theta <= 0.25 + ctol.angle, f"MS theta {gate.theta}"
        if type(gate) is cirq_ionq.ZZGate:
            assert 0.0 < abs(gate.theta) <= 0.25 + ctol.angle, f"ZZ theta {gate.theta}"


def assert_runs_merged(compiled: cirq.Circuit) -> None:
    """At most 3 one-qubit gates in a row on a qubit (the module merges each run)."""
    run: Counter = Counter()
    for op in compiled.all_operations():
        if len(op.qubits) == 1 and not cirq.is_measurement(op):
            run[op.qubits[0]] += 1
            assert run[op.qubits[0]] <= 3, f"unmerged run of one-qubit gates on {op.qubits[0]}"
        else:
            for q in op.qubits:
                run[q] = 0


def own_counts(circuit: cirq.AbstractCircuit) -> dict:
    """One-/two-/multi-qubit gates, measurements, ASAP depth of the non-measurement gates."""
    counts = dict(one_qubit=0, two_qubit=0, multi_qubit=0, measurements=0, depth=0)
    level: dict = {}
    for op in circuit.all_operations():
        if cirq.is_measurement(op):
            counts["measurements"] += 1
            continue
        n = len(op.qubits)
        if n == 0:
            continue
        counts[{1: "one_qubit", 2: "two_qubit"}.get(n, "multi_qubit")] += 1
        layer = 1 + max(level.get(q, 0) for q in op.qubits)
        for q in op.qubits:
            level[q] = layer
        counts["depth"] = max(counts["depth"], layer)
    return counts


def native_names(compiled: cirq.Circuit) -> dict:
    return dict(
        Counter(
            NATIVE_NAMES[type(op.gate)]
            for op in compiled.all_operations()
            if not cirq.is_measurement(op)
        )
    )
