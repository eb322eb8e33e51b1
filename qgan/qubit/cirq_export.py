"""Export of a bound model circuit to ``cirq.Circuit`` (gates from cirq itself)."""

from __future__ import annotations

import cirq
import numpy as np

MS_ANGLE = np.pi / 4  # cirq.ms(pi/4) = exp(-i pi/4 XX): maximally entangling
ZZ_EXPONENT = 0.5  # ZZPowGate(0.5, global_shift=-0.5) = exp(-i pi/4 ZZ)


def entangler_gate(entangler: str) -> cirq.Gate:
    """The two-qubit gate of an entangler name (``cnot``, ``ms``, ``zz``); ``none`` has
    none (a model with it has no pairs)."""
    if entangler == "cnot":
        return cirq.CNOT
    if entangler == "ms":
        return cirq.ms(MS_ANGLE)
    if entangler == "zz":
        return cirq.ZZPowGate(exponent=ZZ_EXPONENT, global_shift=-0.5)
    raise ValueError(f"entangler must be one of ['cnot', 'ms', 'zz'] (gates), got {entangler!r}")


def amplitude_preparation(qubits, amplitudes: np.ndarray) -> list[cirq.Operation]:
    """Operations taking |0...0> to the real state ``amplitudes / |amplitudes|``.

    Uniformly controlled RY rotations (Mottonen et al. 2004, real case): qubit k gets
    ``RY(2 atan2(|upper half|, |lower half|))`` controlled on each value of qubits 0..k-1;
    on the last qubit the signed pair (a0, a1) gives ``RY(2 atan2(a1, a0))``.
    Rotations by 0 are left out.
    """
    n = len(qubits)
    a = np.asarray(amplitudes, dtype=np.float64)
    a = a / np.max(np.abs(a))  # |a|**2 must not under/overflow (a / |a| is scale-free)
    a = a / np.linalg.norm(a)
    ops: list[cirq.Operation] = []
    for k in range(n):
        blocks = a.reshape(2**k, 2, 2 ** (n - k - 1))
        for prefix in range(2**k):
            lower, upper = blocks[prefix, 0], blocks[prefix, 1]
            if k == n - 1:
                angle = 2.0 * np.arctan2(upper[0], lower[0])
            else:
                angle = 2.0 * np.arctan2(np.linalg.norm(upper), np.linalg.norm(lower))
            if angle == 0.0:
                continue
            op = cirq.ry(angle).on(qubits[k])
            if k:
                values = [(prefix >> (k - 1 - j)) & 1 for j in range(k)]
                op = op.controlled_by(*qubits[:k], control_values=values)
            ops.append(op)
    return ops


def basis_change(qubits, setting: str) -> list[cirq.Operation]:
    """The basis change before a computational-basis measurement of ``setting`` (one letter
    per qubit): ``H`` for X (H maps |+>, |-> to |0>, |1>), ``S**-1`` then ``H`` for Y (maps
    |+i>, |-i> to |0>, |1>), nothing for Z."""
    ops: list[cirq.Operation] = []
    for qubit, basis in zip(qubits, setting):
        if basis == "Y":
            ops.append((cirq.S**-1).on(qubit))
        if basis in "XY":
            ops.append(cirq.H.on(qubit))
    return ops


def model_circuit(
    model, features: np.ndarray, params: np.ndarray, measure: bool, setting: str | None = None
) -> cirq.Circuit:
    """``model`` with bound ``features`` [n_features] and ``params`` [n_params] as a circuit,
    ending with the basis change of ``setting`` (default: the model's first setting)."""
    qubits = cirq.LineQubit.range(model.n_qubits)
    angles = params.reshape(model.depth, model.n_qubits, 2)
    gate = entangler_gate(model.entangler) if model.pairs else None
    circuit = cirq.Circuit()
    if model.encoding == "amplitude":
        circuit.append(amplitude_preparation(qubits, features))
    elif model.encoding == "angle":
        circuit.append(cirq.ry(features[q]).on(qubits[q]) for q in range(model.n_qubits))
    for layer in range(model.depth):
        if model.encoding == "reupload":
            circuit.append(cirq.ry(features[q]).on(qubits[q]) for q in range(model.n_qubits))
        for q in range(model.n_qubits):
            circuit.append([cirq.ry(angles[layer, q, 0]).on(qubits[q])])
            circuit.append([cirq.rz(angles[layer, q, 1]).on(qubits[q])])
        for a, b in model.pairs:
            circuit.append(gate.on(qubits[a], qubits[b]))
    circuit.append(basis_change(qubits, model.bases[0] if setting is None else setting))
    if measure:
        circuit.append(cirq.measure(*qubits, key="z"))
    return circuit
