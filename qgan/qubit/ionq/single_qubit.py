"""One-qubit unitaries as the shortest sequences of IonQ's native GPI and GPI2 gates.

Conventions (angles in turns): ``Z(t) = diag(1, e^{2 pi i t})`` (``rz(2 pi t)`` up to
phase), ``s_phi = cos(2 pi phi) X + sin(2 pi phi) Y``, ``GPI(phi) = s_phi`` and
``GPI2(phi) = exp(-i pi/4 s_phi)``. IonQ runs no Z gate, so :func:`framed_natives` writes a
2x2 unitary as ``Z(t) N`` with N the shortest native sequence and leaves ``Z(t)`` to a
frame that later gates absorb (:mod:`qgan.qubit.ionq.virtual_z`), while
:func:`single_qubit_natives` writes it exactly, with nothing left over.
"""

from __future__ import annotations

import math

import cirq
import cirq_ionq
import numpy as np

#: Largest element error accepted for one re-emitted run of one-qubit gates (rounding of a
#: few 2x2 products is ~1e-15; a special case that is only nearly met falls back to the
#: general sequence rather than carrying an error this size).
_RUN_ATOL = 1e-11
#: ... and the most it may carry when no sequence meets _RUN_ATOL (never seen; a safety net).
_RUN_FALLBACK_ATOL = 1e-9


class CompilationError(RuntimeError):
    """The compiled circuit failed its own check (a bug, never a user error)."""


#: The 2x2 identity (complex).
EYE = np.eye(2, dtype=complex)


def z_rotation(turns: float) -> np.ndarray:
    """Z(t) = diag(1, e^{2 pi i t}) = rz(2 pi t) up to global phase."""
    return np.diag([1.0, np.exp(1j * math.tau * turns)])


def equatorial_pauli(phi: float) -> np.ndarray:
    """s_phi = cos(2 pi phi) X + sin(2 pi phi) Y."""
    e = np.exp(1j * math.tau * phi)
    return np.array([[0.0, np.conj(e)], [e, 0.0]])


def native_matrix(gate: cirq.Gate) -> np.ndarray:
    """GPI(phi) = s_phi, GPI2(phi) = exp(-i pi/4 s_phi) (cirq_ionq's matrices, built fast)."""
    if type(gate) is cirq_ionq.GPIGate:
        return equatorial_pauli(gate.phi)
    return (EYE - 1j * equatorial_pauli(gate.phi)) / math.sqrt(2.0)


def sequence_unitary(gates) -> np.ndarray:
    """The 2x2 unitary of GPI/GPI2 ``gates`` applied in circuit order (first gate first)."""
    mat = EYE
    for g in gates:
        mat = native_matrix(g) @ mat
    return mat


def reduced_turns(x: float) -> float:
    """x reduced to [0, 1) turns."""
    t = float(x) % 1.0
    return 0.0 if abs(t - 1.0) < 1e-12 else t


def signed_turns(x: float) -> float:
    """x reduced to [-1/2, 1/2) turns."""
    return reduced_turns(float(x) + 0.5) - 0.5


def _phase_error(u: np.ndarray, v: np.ndarray) -> float:
    """max |u - e^{i phi} v| for the best global phase (inf if u and v are orthogonal)."""
    overlap = np.vdot(v, u)
    if abs(overlap) < 1e-12:
        return math.inf
    return float(np.max(np.abs(u - overlap / abs(overlap) * v)))


def _equal_up_to_phase(u: np.ndarray, v: np.ndarray, atol: float = 1e-9) -> bool:
    return _phase_error(u, v) < atol


def framed_natives(mat: np.ndarray, free_frame: float = 0.0) -> list[tuple[list, float]]:
    """The shortest native sequences N with ``mat = Z(t) N`` up to phase, as (N, t) pairs
    (N in circuit order, t in turns), all of the shortest length.

    Length 0 when mat is diagonal, 1 when |mat_00| is 0 (one GPI; any t works: ``free_frame``
    is used) or 1/sqrt(2) (one GPI2), else 2 (two GPI2s; two solutions).
    """
    mat = np.asarray(mat, dtype=complex)
    su = mat / np.sqrt(np.linalg.det(mat))
    a, b = su[0, 0], su[1, 0]
    size = min(abs(a), 1.0)
    short: list[tuple[list, float]] = []  # the special cases, tried first
    if 1.0 - size < 1e-6:  # diagonal: Z(t) alone
        short.append(([], np.angle(mat[1, 1] / mat[0, 0]) / math.tau))
    if size < 1e-6:  # Z(t) GPI(phi - t/2) = GPI(phi) for every t
        phi = np.angle(mat[1, 0] / mat[0, 1]) / (2 * math.tau)
        short.append(([cirq_ionq.GPIGate(phi=phi - free_frame / 2)], free_frame))
    if abs(size - math.sqrt(0.5)) < 1e-6:  # Z(t) GPI2(phi) in SU(2): [[e^{-i pi t}, .],
        t = -np.angle(a) / math.pi  # [-i e^{i pi t} e^{2 pi i phi}, .]] / sqrt(2)
        phi = np.angle(1j * np.exp(-1j * math.pi * t) * b) / math.tau
        short.append(([cirq_ionq.GPI2Gate(phi=phi)], t))
    # mat = Z(t) GPI2(phi2) GPI2(phi1). In SU(2) Z(t) = diag(e^{-i pi t}, e^{i pi t}) and,
    # with d = 2 pi (phi2 - phi1), GPI2 GPI2 has [0, 0] = i e^{-i d/2} sin(d/2) and
    # [1, 0] = -i e^{i (2 pi phi1 + d/2)} cos(d/2): |a| = |sin(d/2)| fixes d (two signs),
    # then arg(a) fixes t and arg(b) phi1.
    general: list[tuple[list, float]] = []
    half = math.atan2(abs(a), abs(b))  # |d|/2, well conditioned also near 0 and pi/2
    for sign in (1.0, -1.0):
        d = sign * 2.0 * half
        sin, cos = math.sin(d / 2), math.cos(d / 2)
        if abs(sin) < 1e-15 or abs(cos) < 1e-15:
            continue
        t = np.angle(1j * np.exp(-0.5j * d) * sin / a) / math.pi
        phi1 = (np.angle(np.exp(-1j * math.pi * t) * b / (-1j * cos)) - d / 2) / math.tau
        general.append(
            ([cirq_ionq.GPI2Gate(phi=phi1), cirq_ionq.GPI2Gate(phi=phi1 + d / math.tau)], t)
        )

    def error(option) -> float:
        gates, t = option
        return _phase_error(z_rotation(t) @ sequence_unitary(gates), mat)

    def reduced(option):
        gates, t = option
        return [type(g)(phi=reduced_turns(g.phi)) for g in gates], reduced_turns(t)

    for atol in (_RUN_ATOL, _RUN_FALLBACK_ATOL):
        for group in (
            [o for o in short if not o[0]],
            [o for o in short if len(o[0]) == 1],
            general,
        ):
            found = [reduced(o) for o in group if error(o) < atol]
            if found:
                return found
    raise CompilationError("single-qubit native decomposition failed")


def single_qubit_natives(mat: np.ndarray) -> list[cirq.Gate]:
    """Shortest native (GPI/GPI2) sequence, in circuit order, equal to ``mat`` up to phase.

    Nothing for the identity; one GPI (a pi rotation about an equatorial axis) or GPI2 (a
    pi/2 rotation); two for a Z rotation (two GPIs), for |mat_00| = 1/sqrt(2) (GPI2 then
    GPI, e.g. ``cirq.H``) and for products of two GPI2s; three otherwise. Phases in [0, 1).
    """
    mat = np.asarray(mat, dtype=complex)
    options = framed_natives(mat)
    for gates, _ in options:
        if _equal_up_to_phase(sequence_unitary(gates), mat, _RUN_ATOL):
            return gates
    # Z(t) is not native: Z(t) = GPI(t/2) GPI(0), and Z(t) GPI2(phi) = GPI(c) GPI2(phi - 1/2)
    # with c = t/2 + phi - 1/2 (one gate more; two for a bare Z rotation)
    gates, t = options[0]
    if gates:
        *first, last = gates
        fixed = [
            *first,
            cirq_ionq.GPI2Gate(phi=reduced_turns(last.phi - 0.5)),
            cirq_ionq.GPIGate(phi=reduced_turns(t / 2 + last.phi - 0.5)),
        ]
    else:
        fixed = [cirq_ionq.GPIGate(phi=0.0), cirq_ionq.GPIGate(phi=reduced_turns(t / 2))]
    if not _equal_up_to_phase(sequence_unitary(fixed), mat, _RUN_FALLBACK_ATOL):
        raise CompilationError("single-qubit native decomposition failed")
    return fixed
