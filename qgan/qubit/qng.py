"""Quantum natural gradient (Stokes, Izaac, Killoran, Carleo, Quantum 4, 269 (2020)):
the block-diagonal Fubini-Study metric of a ``QubitModel`` circuit, from measured circuits.

The angles of layer l form two blocks: the ``RY(theta_lq)`` (generators K = Y_q / 2) and
the ``RZ(phi_lq)`` (K = Z_q / 2), each a set of commuting gates on distinct qubits. For a
block whose gates act on the state |psi> prepared by everything before it, the metric is

    g_ij = <K_i K_j> - <K_i><K_j>       (i, j in the block; zero between blocks)

(Stokes et al., eq. (9)). All of a block's <P_i>, <P_i P_j> come from ONE circuit: the
prefix up to the block, each qubit rotated to the block's Pauli basis (Y: S^dagger then H;
Z: nothing), all qubits measured; so the metric costs ``2 * depth`` circuits per feature
row, recorded in a :class:`~qgan.qubit.gradients.CircuitAccount` as phase ``gradient``,
method ``qng``. Exact (``shots=None``) or estimated from ``shots`` bitstrings per circuit.
The prefix circuits run on this module's NumPy state-vector simulation of the model's
gates (the same gates and qubit order as :mod:`qgan.qubit.simulator`; tested against its
state and TF's derivatives of it to 1e-8).

The natural-gradient step is ``theta <- theta - eta (g + lam I)^-1 grad L`` (``lam`` the
regulariser Stokes et al. add for singular metrics). Example::

    g = metric(model, x, theta)                  # [n_params, n_params] float64
    theta = qng_step(theta, grad, g, 0.05)
"""

from __future__ import annotations

import numpy as np

from qgan.qubit.backends import check_rows, check_shots
from qgan.qubit.model import QubitModel

_S_DAG_H = (np.array([[1, 1], [1, -1]]) / np.sqrt(2)) @ np.diag([1, -1j])  # H S^dagger: Y -> Z


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a / 2), np.sin(a / 2)
    return np.array([[c, -s], [s, c]], dtype=np.complex128)


def _rz(b: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * b), np.exp(0.5j * b)])


def _one(state: np.ndarray, u: np.ndarray, q: int, n: int) -> np.ndarray:
    t = np.moveaxis(state.reshape([2] * n), q, 0)
    t = np.tensordot(u, t, axes=1)
    return np.moveaxis(t, 0, q).reshape(-1)


def _two(state: np.ndarray, u: np.ndarray, a: int, b: int, n: int) -> np.ndarray:
    t = np.moveaxis(state.reshape([2] * n), [a, b], [0, 1])
    t = np.tensordot(u.reshape(2, 2, 2, 2), t, axes=2)
    return np.moveaxis(t, [0, 1], [a, b]).reshape(-1)


def _entangler(model: QubitModel) -> np.ndarray:
    from qgan.qubit.noise import entangler_unitary

    return entangler_unitary(model.entangler)


def block_states(model: QubitModel, x: np.ndarray, p: np.ndarray) -> list[np.ndarray]:
    """The states [2**n] complex128 right before each parameter block, in parameter-block
    order (layer 0 RY, layer 0 RZ, layer 1 RY, ...): 2 * depth states."""
    if model.encoding == "amplitude":
        raise ValueError("qng: amplitude encoding is not supported (no gate-level prefix)")
    n = model.n_qubits
    state = np.zeros(2**n, np.complex128)
    state[0] = 1.0
    ang = p.reshape(model.depth, n, 2)
    gate = _entangler(model) if model.pairs else None
    out = []
    for layer in range(model.depth):
        if model.encoding == "reupload" or layer == 0:
            for q in range(n):
                state = _one(state, _ry(x[q]), q, n)
        out.append(state)
        for q in range(n):
            state = _one(state, _ry(ang[layer, q, 0]), q, n)
        out.append(state)
        for q in range(n):
            state = _one(state, _rz(ang[layer, q, 1]), q, n)
        for a, b in model.pairs:
            state = _two(state, gate, a, b, n)
    return out


def _block_metric(state, n, basis, shots, rng) -> np.ndarray:
    if basis == "y":
        for q in range(n):
            state = _one(state, _S_DAG_H, q, n)
    probs = np.abs(state) ** 2
    probs /= probs.sum()
    if shots is not None:
        probs = rng.multinomial(shots, probs) / shots
    index = np.arange(2**n)
    z = 1.0 - 2.0 * ((index[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1)  # [2**n, n]
    mean = probs @ z  # <P_i>
    second = (z * probs[:, None]).T @ z  # <P_i P_j>
    return 0.25 * (second - np.outer(mean, mean))


def metric(
    model: QubitModel, features, params, shots=None, *, seed: int = 0, account=None
) -> np.ndarray:
    """Block-diagonal Fubini-Study metric [n_params, n_params] float64, averaged over rows.

    Args:
        features: [N, n_features]; params: [n_params] (one angle set).
        shots: None (exact) or bitstrings per metric circuit.
        account: a CircuitAccount; records 2 * depth * N circuits (phase gradient, qng).
    """
    shots = check_shots(shots)
    x, p = check_rows(model, features, params)
    n, n_params = model.n_qubits, model.n_params
    rng = np.random.default_rng(seed)
    g = np.zeros((n_params, n_params))
    for row in range(x.shape[0]):
        for k, state in enumerate(block_states(model, x[row], p[row])):
            layer, kind = divmod(k, 2)  # kind 0: RY block (Y), 1: RZ block (Z)
            idx = np.array([(layer * n + q) * 2 + kind for q in range(n)])
            block = _block_metric(state, n, "y" if kind == 0 else "z", shots, rng)
            g[np.ix_(idx, idx)] += block
    g /= max(1, x.shape[0])
    if account is not None:
        circuits = 2 * model.depth * x.shape[0]
        account.add("gradient", "qng", [1, x.shape[0], circuits, circuits * (shots or 0)])
    return g


def qng_step(params, grad, g, learning_rate: float, reg: float = 1e-3) -> np.ndarray:
    """``params - learning_rate * (g + reg I)^-1 grad`` (float64, the shape of params)."""
    if not learning_rate > 0 or not reg >= 0:
        raise ValueError(f"learning_rate must be > 0 and reg >= 0, got {learning_rate}, {reg}")
    p = np.asarray(params, np.float64)
    step = np.linalg.solve(np.asarray(g) + reg * np.eye(p.shape[-1]), np.asarray(grad))
    return p - learning_rate * step
