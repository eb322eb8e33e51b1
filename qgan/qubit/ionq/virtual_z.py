"""Virtual Z: the one-qubit gates of a circuit of native entanglers, re-emitted as GPI/GPI2.

One-qubit gates are re-emitted with *virtual Z* rotations. IonQ runs no Z gate: a
Z rotation is a change of the qubit's phase reference, which every later pulse absorbs.
With ``Z(t) = diag(1, e^{2 pi i t})`` (``rz(2 pi t)`` up to phase, t in turns) and
``s_phi = cos(2 pi phi) X + sin(2 pi phi) Y``, ``Z(t)^dagger s_phi Z(t) = s_{phi - t}``, so

    GPI(phi) Z(t) = Z(t) GPI(phi - t),   GPI2(phi) Z(t) = Z(t) GPI2(phi - t),
    MS(phi0, phi1) (Z(t0) x Z(t1)) = (Z(t0) x Z(t1)) MS(phi0 - t0, phi1 - t1),
    ZZ(theta) commutes with Z(t0) x Z(t1)

(:func:`absorb_z`). Each qubit carries a frame t: the source's gates so far equal Z(t)
after the native gates emitted so far. Every run of one-qubit gates U between two
entanglers becomes ``U Z(t_in) = Z(t_out) N`` with N the shortest native sequence: none
if U is diagonal, one GPI or GPI2 where |U_00| is 0 or 1/sqrt(2), else two GPI2s (any
single-qubit unitary is Z(t) GPI2 GPI2). Before an MS gate a rotation about the MS axis
of that qubit (which commutes with the gate) is moved past it into the next run, chosen
so that the run left behind needs at most one native gate. The last run on each qubit
absorbs what is left and must end with frame 0 (a Z rotation is not a native gate): it
is re-emitted exactly with the shortest sequence (at most three gates; two for
``cirq.H``), and the move past the qubit's last entangler is chosen with that run's cost
in view. So a qubit with m entanglers gets at most m + 3 one-qubit gates on Aria and
2 m + 3 on Forte. The choices are greedy, run by run: special angles (0, pi/2, ...)
usually save gates but can also cost one or two more than generic ones.

Final Z rotations. By default the result equals the source as a unitary (up to global
phase). With ``drop_final_z=True`` the Z rotation left on a qubit right before its
terminal Z-basis measurement is dropped instead of emitted: it changes no measurement
statistics, saves up to two gates per measured qubit (a bare Z rotation costs two GPIs),
and the compiled circuit then equals the source followed by ``Z(-t_q)`` on each such
qubit (``CompileReport.dropped_z``); the check and the report's ``unitary_error`` compare
against exactly that circuit. Unmeasured qubits keep their exact Z rotation.
"""

from __future__ import annotations

import math

import cirq
import cirq_ionq
import numpy as np

from qgan.qubit.ionq.single_qubit import (
    EYE,
    equatorial_pauli,
    framed_natives,
    reduced_turns,
    signed_turns,
    single_qubit_natives,
    z_rotation,
)


def absorb_z(gate: cirq.Gate, turns) -> cirq.Gate:
    """The native gate G' with ``G (Z(t_0) x Z(t_1) ...) = (Z(t_0) x Z(t_1) ...) G'``.

    ``turns`` holds one t per qubit of ``gate`` (Z(t) = diag(1, e^{2 pi i t})): GPI and
    GPI2 phases and MS phases become phi - t (reduced to [0, 1)), ZZ is returned as it is
    (it commutes with Z rotations).
    """
    turns = [float(t) for t in turns]
    if len(turns) != cirq.num_qubits(gate):
        raise ValueError(f"turns: expected {cirq.num_qubits(gate)} values, got {len(turns)}")
    if type(gate) is cirq_ionq.GPIGate:
        return cirq_ionq.GPIGate(phi=reduced_turns(gate.phi - turns[0]))
    if type(gate) is cirq_ionq.GPI2Gate:
        return cirq_ionq.GPI2Gate(phi=reduced_turns(gate.phi - turns[0]))
    if type(gate) is cirq_ionq.MSGate:
        return cirq_ionq.MSGate(
            phi0=reduced_turns(gate.phi0 - turns[0]),
            phi1=reduced_turns(gate.phi1 - turns[1]),
            theta=gate.theta,
        )
    if type(gate) is cirq_ionq.ZZGate:
        return gate
    raise ValueError(f"gate: expected an IonQ native gate, got {gate!r}")


def _is_one_qubit_gate(op: cirq.Operation) -> bool:
    return len(op.qubits) == 1 and not cirq.is_measurement(op) and cirq.has_unitary(op)


def virtual_z_pass(
    circuit: cirq.Circuit, drop_final_z: bool
) -> tuple[cirq.Circuit, dict[cirq.Qid, float]]:
    """Re-emit the one-qubit gates of ``circuit`` (native entanglers, any one-qubit gates)
    with virtual Z rotations; see the module docstring.

    Returns the circuit and the Z rotation (turns) dropped before each measured qubit's
    measurement (only with ``drop_final_z``).
    """
    ops = [op for op in circuit.all_operations() if op.qubits]  # no global phases
    measured = {q for op in ops if cirq.is_measurement(op) for q in op.qubits}
    last_entangler: dict[cirq.Qid, int] = {}
    for i, op in enumerate(ops):
        if len(op.qubits) > 1 and not cirq.is_measurement(op):
            last_entangler.update((q, i) for q in op.qubits)
    # what follows each qubit's last entangler: the one-qubit gates of its final run
    tails = {q: EYE for q in last_entangler}
    for i, op in enumerate(ops):
        q = op.qubits[0]
        if _is_one_qubit_gate(op) and i > last_entangler.get(q, len(ops)):
            tails[q] = cirq.unitary(op) @ tails[q]

    pending: dict[cirq.Qid, np.ndarray] = {}  # source gates not emitted yet (after the frame)
    frame: dict[cirq.Qid, float] = {}  # the source so far = pending . Z(frame) . emitted
    dropped: dict[cirq.Qid, float] = {}
    out: list[cirq.Operation] = []

    def flush(q: cirq.Qid, drop: bool) -> None:
        run = pending.pop(q, EYE) @ z_rotation(frame.pop(q, 0.0))
        if drop:
            gates, t = framed_natives(run)[0]
            if abs(signed_turns(t)) > 1e-15:
                dropped[q] = signed_turns(t)
        else:
            gates = single_qubit_natives(run)
        out.extend(g.on(q) for g in gates)

    for i, op in enumerate(ops):
        if _is_one_qubit_gate(op):
            q = op.qubits[0]
            pending[q] = cirq.unitary(op) @ pending.get(q, EYE)
            continue
        if type(op.gate) in (cirq_ionq.MSGate, cirq_ionq.ZZGate):
            axes = (
                (op.gate.phi0, op.gate.phi1) if type(op.gate) is cirq_ionq.MSGate else (None,) * 2
            )
            chosen = []
            for q, axis in zip(op.qubits, axes):
                tail = None
                if last_entangler[q] == i:
                    tail = (tails[q], drop_final_z and q in measured)
                chosen.append(
                    _run_before_entangler(pending.get(q, EYE), frame.get(q, 0.0), axis, tail)
                )
            for q, (gates, _, _) in zip(op.qubits, chosen):
                out.extend(g.on(q) for g in gates)
            out.append(absorb_z(op.gate, [t for _, t, _ in chosen]).on(*op.qubits))
            for q, (_, t, moved) in zip(op.qubits, chosen):
                frame[q] = t
                pending[q] = moved
            continue
        for q in op.qubits:  # a measurement (terminal) or a gate left for the check to name
            flush(q, drop=drop_final_z and cirq.is_measurement(op))
        out.append(op)
    for q in sorted(set(pending) | set(frame)):
        flush(q, drop=False)
    return cirq.Circuit(out), dropped


def _run_before_entangler(run, t_in, axis, tail):
    """How to emit the run of one-qubit gates ``run`` (after frame ``t_in``) on a qubit
    right before an entangler whose axis on it is ``s_axis`` (MS; ``None`` for ZZ).

    A rotation C = exp(i a s_axis) commutes with the entangler, so ``run = C M`` and C can
    move past it into the next run. Returns (gates, t_out, C) with ``M Z(t_in) = Z(t_out)
    gates``, choosing a and the gates to minimise the gate count: of this run alone, or,
    when ``tail = (T, droppable)`` is given (this is the qubit's last entangler, T the
    one-qubit gates after it), of this run plus the final run ``T C Z(t_out)``, which must
    be exact unless its final Z may be dropped.
    """
    best = None
    for a in [0.0] + ([] if axis is None else _move_angles(run, axis)):
        moved = EYE if a == 0.0 else math.cos(a) * EYE + 1j * math.sin(a) * equatorial_pauli(axis)
        here = moved.conj().T @ run @ z_rotation(t_in)
        if tail is None:
            options = framed_natives(here)[:1]
        else:
            after, droppable = tail[0] @ moved, tail[1]
            # V Z(t) = N  <=>  V^T = Z(-t) N^T: the t_out that suits the final run best,
            # used where this run leaves t_out free (one GPI)
            free = -framed_natives(after.T)[0][1]
            options = framed_natives(here, free_frame=free)
        for gates, t_out in options:
            cost = len(gates)
            if tail is not None:
                final = after @ z_rotation(t_out)
                exact = framed_natives(final)[0][0] if droppable else single_qubit_natives(final)
                cost += len(exact)
            if best is None or cost < best[0]:  # ties: the earlier candidate (no move first)
                best = (cost, gates, t_out, moved)
    return best[1:]


def _move_angles(run: np.ndarray, axis: float) -> list[float]:
    """Angles a for which ``exp(-i a s_axis) run`` maps |0> to the equator (one native gate
    left) or to a pole (none, if the Bloch vector of run|0> is orthogonal to the axis)."""
    u, w = run[0, 0], run[1, 0]
    bloch = np.array(
        [2 * (np.conj(u) * w).real, 2 * (np.conj(u) * w).imag, abs(u) ** 2 - abs(w) ** 2]
    )
    n = np.array([math.cos(math.tau * axis), math.sin(math.tau * axis), 0.0])
    e1 = np.array([-n[1], n[0], 0.0])  # z x n: exp(-i a s_axis) turns e1 towards z by 2a
    b0 = math.atan2(float(bloch @ e1), float(bloch[2]))
    # z component after the turn: rho cos(2a - b0)
    return [b0 / 2 + math.pi / 4, b0 / 2 - math.pi / 4, b0 / 2, b0 / 2 + math.pi / 2]
