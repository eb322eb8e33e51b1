"""Tests of ``qgan.qubit.ionq.single_qubit``: one-qubit unitaries as the shortest GPI/GPI2
sequences, with the lengths the module documents.

Oracle: ``native_oracle.py`` (IonQ's gate definitions in numpy, comparison up to a global
phase); sources are ``cirq.unitary`` of cirq's gates and random unitaries.
"""

from __future__ import annotations

import cirq
import cirq_ionq
import numpy as np
import pytest
from native_oracle import (
    assert_equivalent,
    assert_native,
    native_names,
    native_unitary,
    phase_distance,
)

from qgan.qubit.ionq import compilation, single_qubit

GATESETS = ("aria", "forte")


@pytest.mark.parametrize("gateset", GATESETS)
def test_one_qubit_runs_documented_lengths(gateset, ctol):
    """Identity -> nothing; a pi rotation about an equatorial axis -> one GPI; a pi/2
    rotation about one -> one GPI2; a Z rotation -> two GPIs; |U_00| = 1/sqrt(2) (H, a pi/2
    rotation and a Z rotation) -> a GPI2 and a GPI; a product of two GPI2s -> two GPI2s;
    generic -> three gates."""
    q = cirq.LineQubit(0)
    cases = [
        ([cirq.X, cirq.X], {}),
        ([cirq.rz(0.4), cirq.rz(-0.4)], {}),
        ([cirq.X], {"GPI": 1}),
        ([cirq.Y], {"GPI": 1}),
        ([cirq.rz(0.3), cirq.X, cirq.rz(-0.3)], {"GPI": 1}),
        ([cirq.rx(np.pi / 2)], {"GPI2": 1}),
        ([cirq.ry(-np.pi / 2)], {"GPI2": 1}),
        ([cirq.rz(0.3)], {"GPI": 2}),
        ([cirq.Z], {"GPI": 2}),
        ([cirq.T, cirq.S], {"GPI": 2}),
        ([cirq.ry(0.3)], {"GPI": 1, "GPI2": 2}),
        ([cirq.H], {"GPI": 1, "GPI2": 1}),
        ([cirq.rx(np.pi / 2), cirq.rz(0.7)], {"GPI": 1, "GPI2": 1}),
        ([cirq.rz(0.7), cirq.ry(np.pi / 2)], {"GPI": 1, "GPI2": 1}),
        ([cirq_ionq.GPI2Gate(phi=0.1), cirq_ionq.GPI2Gate(phi=0.45)], {"GPI2": 2}),
    ]
    for gates, expected in cases:
        source = cirq.Circuit(g.on(q) for g in gates)
        compiled = compilation.compile(source, gateset)
        assert_equivalent(source, compiled, [q], ctol)
        assert_native(compiled, gateset, ctol)
        assert native_names(compiled) == expected, gates


def test_single_qubit_natives_on_random_unitaries(ctol):
    rng = np.random.default_rng(11)
    for _ in range(30):
        mat = cirq.testing.random_unitary(2, random_state=int(rng.integers(2**31)))
        gates = single_qubit.single_qubit_natives(mat)
        assert 1 <= len(gates) <= 3
        circuit = cirq.Circuit(g.on(cirq.LineQubit(0)) for g in gates)
        gap, elem = phase_distance(native_unitary(circuit, [cirq.LineQubit(0)]), mat)
        assert gap <= ctol.trace_gap and elem <= ctol.unitary
        assert all(0.0 <= g.phi < 1.0 for g in gates)


def test_compilation_exports_the_same_function():
    assert compilation.single_qubit_natives is single_qubit.single_qubit_natives
