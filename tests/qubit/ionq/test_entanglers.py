"""Tests of ``qgan.qubit.ionq.entanglers``: two-qubit Pauli interactions, controlled phases
and out-of-range MS/ZZ gates become one native entangler (MS on Aria, ZZ on Forte).

Checked through :func:`qgan.qubit.ionq.compilation.compile` (the pass's only caller), against
the independent oracle of ``native_oracle.py`` (IonQ's gate definitions in numpy).
"""

from __future__ import annotations

import cirq
import cirq_ionq
import pytest
from native_oracle import NATIVE_TYPES, assert_equivalent, assert_native, own_counts

from qgan.qubit.ionq import compilation

GATESETS = ("aria", "forte")


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("pauli", ["XX", "YY", "ZZ"])
@pytest.mark.parametrize(
    "exponent", [0.1, -0.1, 0.5, -0.5, 0.5000001, 0.9, 1.0, -1.0, 1.3, 2.0, -2.7, 3.5]
)
def test_pauli_interactions_become_one_native_entangler(gateset, pauli, exponent, ctol):
    """P^t = exp(-i pi t/2 P x P) up to phase: one native entangler, none when t is an
    integer (then P^t is I or P x P, a product of one-qubit gates)."""
    a, b = cirq.LineQubit.range(2)
    gate = {"XX": cirq.XX, "YY": cirq.YY, "ZZ": cirq.ZZ}[pauli] ** exponent
    source = cirq.Circuit(gate.on(b, a))
    compiled = compilation.compile(source, gateset)
    assert_equivalent(source, compiled, [a, b], ctol)
    assert_native(compiled, gateset, ctol)
    expected = 0 if float(exponent).is_integer() else 1
    assert own_counts(compiled)["two_qubit"] == expected


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("kind", ["CNOT", "CZ", "CNOT^0.3", "CZ^-1.7"])
def test_controlled_phases_become_one_native_entangler(gateset, kind, ctol):
    a, b = cirq.LineQubit.range(2)
    gate = {
        "CNOT": cirq.CNOT,
        "CZ": cirq.CZ,
        "CNOT^0.3": cirq.CNOT**0.3,
        "CZ^-1.7": cirq.CZ**-1.7,
    }[kind]
    for source in (cirq.Circuit(gate.on(a, b)), cirq.Circuit(gate.on(b, a))):
        compiled = compilation.compile(source, gateset)
        assert_equivalent(source, compiled, [a, b], ctol)
        assert_native(compiled, gateset, ctol)
        assert own_counts(compiled)["two_qubit"] == 1


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("partial_entanglers", [True, False])
@pytest.mark.parametrize(
    "gate",
    [
        cirq_ionq.MSGate(phi0=0.2, phi1=0.7, theta=0.1),
        cirq_ionq.MSGate(phi0=0.0, phi1=0.0),
        cirq_ionq.MSGate(phi0=-0.3, phi1=1.4, theta=0.2),
        cirq_ionq.MSGate(phi0=0.1, phi1=0.6, theta=-0.15),
        cirq_ionq.MSGate(phi0=0.4, phi1=0.9, theta=0.4),
        cirq_ionq.ZZGate(theta=0.2),
        cirq_ionq.ZZGate(theta=-0.1),
        cirq_ionq.ZZGate(theta=0.45),
        cirq_ionq.ZZGate(theta=-0.7),
    ],
    ids=repr,
)
def test_native_entanglers_as_input(gateset, partial_entanglers, gate, ctol):
    """The target's own entangler with parameters in range is kept as it is; any other MS/ZZ
    (wrong target, theta outside (0, 1/4], phases outside [0, 1)) is rewritten, with one
    native entangler when partial entanglers are on (MS and ZZ are Pauli interactions)."""
    a, b = cirq.LineQubit.range(2)
    source = cirq.Circuit(gate.on(a, b))
    compiled = compilation.compile(source, gateset, partial_entanglers=partial_entanglers)
    assert_equivalent(source, compiled, [a, b], ctol)
    assert_native(compiled, gateset, ctol)
    if type(gate) is cirq_ionq.MSGate:
        in_range = 0 <= gate.phi0 < 1 and 0 <= gate.phi1 < 1 and 0 < gate.theta <= 0.25
    else:
        in_range = 0 < abs(gate.theta) <= 0.25
    if type(gate) in NATIVE_TYPES[gateset] and in_range:
        assert list(compiled.all_operations()) == [gate.on(a, b)]
        # (cirq_ionq's MSGate equality ignores theta)
        assert next(compiled.all_operations()).gate.theta == gate.theta
    elif partial_entanglers:
        assert own_counts(compiled)["two_qubit"] == 1
