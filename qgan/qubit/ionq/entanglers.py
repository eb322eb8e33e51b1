"""Two-qubit interactions as one partially entangling IonQ native gate.

``cirq.XXPowGate`` (= ``cirq.ms``), ``YYPowGate``, ``ZZPowGate``, ``CZPowGate`` and
``CNotPowGate`` become *one* native entangler (``MSGate(phi0, phi1, theta)`` =
exp(-i pi theta s_phi0 x s_phi1) on Aria, ``ZZGate(theta)`` = exp(-i pi theta Z x Z) on
Forte, |theta| <= 1/4 turn) with single-qubit basis changes around it, instead of cirq's
generic two-CNOT decomposition; ``cirq_ionq`` MS/ZZ gates are kept only if they are the
target's entangler with 0 < theta <= 1/4 and phases in [0, 1), otherwise rewritten as such
interactions first (cirq_ionq's gatesets admit any value).
"""

from __future__ import annotations

import math

import cirq
import cirq_ionq

# Single-qubit basis changes V with V^dagger P V = Z, in circuit order (first applied first):
# Z: none; X: H; Y: S^dagger then H (H S^dagger Y S H = Z).
_TO_Z = {"X": (cirq.H,), "Y": (cirq.S**-1, cirq.H), "Z": ()}
_FROM_Z = {"X": (cirq.H,), "Y": (cirq.H, cirq.S), "Z": ()}
# Basis changes V with V^dagger P V = X (the MS gate's own axis for phases 0).
_TO_X = {"X": (), "Y": (), "Z": (cirq.H,)}
_FROM_X = {"X": (), "Y": (), "Z": (cirq.H,)}
_PAULI_OF = {cirq.XXPowGate: "X", cirq.YYPowGate: "Y", cirq.ZZPowGate: "Z"}
_PAULI_GATE = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def _interaction(op: cirq.Operation):
    """(Pauli, theta in turns) if ``op`` is exp(-i pi theta P x P) up to phase, else None."""
    gate = op.gate
    for cls, pauli in _PAULI_OF.items():
        if isinstance(gate, cls):  # cirq.ms(...) is a cirq.MSGate, a subclass of XXPowGate
            # P^t = e^{i pi t / 2} exp(-i pi t/2 P x P) (times the gate's global shift).
            return pauli, float(gate.exponent) / 2.0
    return None


def _controlled_phase(op: cirq.Operation) -> list[cirq.Operation] | None:
    """CZ^t and CNOT^t as Z rotations around a ZZ interaction (None for other gates).

    CZ^t = Z^{t/2} x Z^{t/2} . ZZ^{-t/2} up to global phase; CNOT^t is CZ^t conjugated by
    H on the target.
    """
    gate = op.gate
    if type(gate) not in (cirq.CZPowGate, cirq.CNotPowGate):
        return None
    t = float(gate.exponent)
    a, b = op.qubits
    core = [
        (cirq.Z ** (t / 2)).on(a),
        (cirq.Z ** (t / 2)).on(b),
        cirq.ZZPowGate(exponent=-t / 2).on(a, b),
    ]
    if type(gate) is cirq.CNotPowGate:
        return [cirq.H(b), *core, cirq.H(b)]
    return core


def native_as_pauli(op: cirq.Operation, gateset: str) -> list[cirq.Operation] | None:
    """A ``cirq_ionq`` MS/ZZ gate as a cirq Pauli interaction, unless it is ``gateset``'s own
    entangler with parameters in range (0 < theta <= 1/4, MS phases in [0, 1)); else None.

    ZZ(theta) = ZZ^(2 theta) and MS(phi0, phi1, theta) = R XX^(2 theta) R^dagger with
    R = rz(2 pi phi0) x rz(2 pi phi1) (rz(2 pi phi) X rz(-2 pi phi) = s_phi), up to phase.
    """
    gate = op.gate
    if type(gate) is cirq_ionq.ZZGate:
        if gateset == "forte" and 0 < abs(gate.theta) <= 0.25:
            return None
        return [cirq.ZZPowGate(exponent=2 * gate.theta).on(*op.qubits)]
    if type(gate) is cirq_ionq.MSGate:
        phases_ok = 0 <= gate.phi0 < 1 and 0 <= gate.phi1 < 1
        if gateset == "aria" and phases_ok and 0 < gate.theta <= 0.25:
            return None
        a, b = op.qubits
        z0, z1 = math.tau * gate.phi0, math.tau * gate.phi1
        return [
            cirq.rz(-z0).on(a),
            cirq.rz(-z1).on(b),
            cirq.XXPowGate(exponent=2 * gate.theta).on(a, b),
            cirq.rz(z0).on(a),
            cirq.rz(z1).on(b),
        ]
    return None


def native_entanglers(circuit: cirq.Circuit, gateset: str) -> cirq.Circuit:
    """``circuit`` with every two-qubit Pauli interaction, controlled phase and out-of-range
    MS/ZZ gate replaced by one native entangler of ``gateset`` and one-qubit basis changes
    (other gates, and gates with unresolved parameters, are kept as they are)."""

    def convert(op: cirq.Operation, _index=None):
        if len(op.qubits) != 2 or cirq.is_parameterized(op):
            return op
        as_pauli = native_as_pauli(op, gateset)
        if as_pauli is not None:
            return [convert(o) for o in as_pauli]
        expanded = _controlled_phase(op)
        if expanded is not None:
            return [convert(o) for o in expanded]
        found = _interaction(op)
        if found is None:
            return op
        pauli, theta = found
        a, b = op.qubits
        theta = (theta + 0.5) % 1.0 - 0.5  # exp(-i pi (theta + 1) PP) = -exp(-i pi theta PP)
        extra = []
        if abs(theta) > 0.25:  # exp(-i pi theta PP) = exp(-i pi (theta -+ 1/2) PP) (-+i P x P)
            shift = 0.5 if theta > 0 else -0.5
            theta -= shift
            extra = [_PAULI_GATE[pauli](a), _PAULI_GATE[pauli](b)]
        if abs(theta) < 1e-12:
            return extra
        if gateset == "aria":
            phases = {"X": 0.0, "Y": 0.25, "Z": 0.0}[pauli]
            phi0 = phases
            if theta < 0:  # s_{phi + 1/2} = -s_phi flips the sign of the interaction
                phi0 = (phi0 + 0.5) % 1.0
            native = cirq_ionq.MSGate(phi0=phi0, phi1=phases, theta=abs(theta)).on(a, b)
            before, after = _TO_X[pauli], _FROM_X[pauli]
        else:
            native = cirq_ionq.ZZGate(theta=theta).on(a, b)
            before, after = _TO_Z[pauli], _FROM_Z[pauli]
        return [
            *extra,
            *[g(q) for g in before for q in (a, b)],
            native,
            *[g(q) for g in after for q in (a, b)],
        ]

    return cirq.map_operations_and_unroll(circuit, convert)
