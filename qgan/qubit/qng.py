"""Quantum natural gradient (Stokes, Izaac, Killoran, Carleo, Quantum 4, 269 (2020)):
the block-diagonal Fubini-Study metric of a ``QubitModel`` circuit, from measured circuits.

The angles of layer l form two blocks: the ``RY(theta_lq)`` (generators K = Y_q / 2) and
the ``RZ(phi_lq)`` (K = Z_q / 2), each a set of commuting gates on distinct qubits. For a
block whose gates act on the state |psi> prepared by everything before it, the metric is

    g_ij = <K_i K_j> - <K_i><K_j>       (i, j in the block; zero between blocks)

(Stokes et al., eq. (9)). All of a block's <P_i>, <P_i P_j> come from ONE circuit, a
**prefix circuit** run by the training backend (``backend.prefix_expectations``: the
``SimulatorBackend``, exact or sampled, the noisy ``NoisyBackend``, and ``IonQBackend``
as one multi-circuit job): the first l
complete layers, then one single-qubit gate per qubit that finishes the prefix and turns
the block's Pauli into Z (RY block: ``H S^dagger RY(x_q)``, the layer's encoding then the
Y-to-Z basis change; RZ block: ``RY(x_q + theta_lq)``), then all qubits measured (``z_zz``
readouts). So the metric costs ``2 * depth`` circuits per feature row, all of them in one
backend call (one job on hardware), recorded in a
:class:`~qgan.qubit.gradients.CircuitAccount` as phase ``metric``, method ``qng``, apart
from the forward and gradient circuits. :func:`reference_metric` computes the same blocks
from this module's NumPy state vectors (the tests' reference; equal to 1e-8 in float64).

The natural-gradient step is ``theta <- theta - eta (g + lam I)^-1 grad L`` (``lam`` the
regulariser Stokes et al. add for singular metrics). Example::

    g = metric(model, x, theta, backend=SimulatorBackend())  # [n_params, n_params] float64
    theta = qng_step(theta, grad, g, 0.05)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from qgan.qubit.backends import SimulatorBackend, check_rows, check_shots
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


def _block_metric(state, n, basis) -> np.ndarray:
    if basis == "y":
        for q in range(n):
            state = _one(state, _S_DAG_H, q, n)
    probs = np.abs(state) ** 2
    probs /= probs.sum()
    index = np.arange(2**n)
    z = 1.0 - 2.0 * ((index[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1)  # [2**n, n]
    mean = probs @ z  # <P_i>
    second = (z * probs[:, None]).T @ z  # <P_i P_j>
    return 0.25 * (second - np.outer(mean, mean))


def block_gates(model: QubitModel, features, params) -> tuple[np.ndarray, np.ndarray]:
    """The prefix circuits of the metric: ``(layers [N * 2 depth] int64, unitaries
    [N * 2 depth, n, 2, 2] complex128)``, block-major (block k of row i at ``k * N + i``;
    block 2l: layer l's RY angles, 2l + 1: its RZ angles). Block k's circuit is the first
    ``k // 2`` layers, then ``unitaries`` on every qubit, then a Z measurement of all."""
    x, p = check_rows(model, features, params)
    if model.encoding == "amplitude":
        raise ValueError("qng: amplitude encoding is not supported (no gate-level prefix)")
    n, rows = model.n_qubits, x.shape[0]
    ang = p.reshape(rows, model.depth, n, 2)
    layers, gates = [], []
    for layer in range(model.depth):
        uploads = model.encoding == "reupload" or layer == 0
        enc = x if uploads else np.zeros_like(x)  # [N, n]
        for kind in (0, 1):
            a = enc if kind == 0 else enc + ang[:, layer, :, 0]
            u = np.array([[_ry(a[i, q]) for q in range(n)] for i in range(rows)])
            if kind == 0:
                u = np.einsum("ij,bqjk->bqik", _S_DAG_H, u)
            gates.append(u.reshape(rows, n, 2, 2))
            layers.append(np.full(rows, layer, np.int64))
    return np.concatenate(layers), np.concatenate(gates)


def metric(
    model: QubitModel,
    features,
    params,
    shots=None,
    *,
    backend=None,
    account=None,
) -> np.ndarray:
    """Block-diagonal Fubini-Study metric [n_params, n_params] float64, averaged over rows,
    from the prefix circuits of :func:`block_gates` run on ``backend``.

    Args:
        features: [N, n_features]; params: [n_params] (one angle set) or [N, n_params].
        shots: None (exact) or bitstrings per metric circuit.
        backend: anything with ``prefix_expectations`` (default ``SimulatorBackend()``).
        account: a CircuitAccount; records 2 * depth * N circuits (phase metric, qng).
    """
    shots = check_shots(shots)
    backend = SimulatorBackend() if backend is None else backend
    if not callable(getattr(backend, "prefix_expectations", None)):
        raise ValueError(
            f"backend: {type(backend).__name__} runs no prefix circuits "
            "(prefix_expectations), which the QNG metric needs"
        )
    x, p = check_rows(model, features, params)
    n, rows = model.n_qubits, x.shape[0]
    g = np.zeros((model.n_params, model.n_params))
    if rows == 0:
        return g
    layers, gates = block_gates(model, x, p)
    blocks = 2 * model.depth
    out = backend.prefix_expectations(
        model, np.tile(x, (blocks, 1)), np.tile(p, (blocks, 1)), layers, gates, shots
    )
    out = np.asarray(out, np.float64).reshape(blocks, rows, -1)
    a, b = np.triu_indices(n, 1)
    for k in range(blocks):
        layer, kind = divmod(k, 2)
        mean = out[k, :, :n]  # [N, n] <P_q>
        second = np.ones((rows, n, n))
        second[:, a, b] = second[:, b, a] = out[k, :, n:]  # <P_a P_b>
        cov = second - mean[:, :, None] * mean[:, None, :]
        idx = np.array([(layer * n + q) * 2 + kind for q in range(n)])
        g[np.ix_(idx, idx)] = 0.25 * cov.mean(axis=0)
    if account is not None:
        circuits = blocks * rows
        account.add("metric", "qng", [1, rows, circuits, circuits * (shots or 0)])
    return g


def layer_metric(layer, inputs, shots="layer", *, backend=None, account=None) -> np.ndarray:
    """:func:`metric` of a ``QubitLayer``'s angles (its ``params``) at its current weights,
    for input rows ``inputs`` [N, n_inputs] (scaled and grouped as the layer does; with
    per-layer angles its angle-encoded twin's circuits, whose per-row angles differ from
    ``params`` by constants, so the metric is the same). ``shots``: the layer's (default),
    None or an int. ``backend``: default the layer's Python-side backend, or for the
    in-graph simulator a float64 ``SimulatorBackend(seed=layer.seed)``."""
    shots = layer.shots if shots == "layer" else shots
    if backend is None:
        backend = SimulatorBackend(seed=layer.seed) if layer.in_graph else layer.backend
    x = layer._check_inputs(np.asarray(inputs, np.float64), "inputs")
    params = tf.constant(np.asarray(layer.params.numpy(), np.float64))
    xc, pc = layer._circuit_inputs(tf.constant(x), params)
    return metric(layer._run_model, xc.numpy(), pc.numpy(), shots, backend=backend,
                  account=account)  # fmt: skip


def reference_metric(model: QubitModel, features, params) -> np.ndarray:
    """The exact metric of :func:`metric` from this module's NumPy state vectors (no
    backend, no circuits counted): the reference the backend's circuits are tested on."""
    x, p = check_rows(model, features, params)
    n, n_params = model.n_qubits, model.n_params
    g = np.zeros((n_params, n_params))
    for row in range(x.shape[0]):
        for k, state in enumerate(block_states(model, x[row], p[row])):
            layer, kind = divmod(k, 2)  # kind 0: RY block (Y), 1: RZ block (Z)
            idx = np.array([(layer * n + q) * 2 + kind for q in range(n)])
            g[np.ix_(idx, idx)] += _block_metric(state, n, "y" if kind == 0 else "z")
    return g / max(1, x.shape[0])


def qng_step(params, grad, g, learning_rate: float, reg: float = 1e-3) -> np.ndarray:
    """``params - learning_rate * (g + reg I)^-1 grad`` (float64, the shape of params)."""
    if not learning_rate > 0 or not reg >= 0:
        raise ValueError(f"learning_rate must be > 0 and reg >= 0, got {learning_rate}, {reg}")
    p = np.asarray(params, np.float64)
    step = np.linalg.solve(np.asarray(g) + reg * np.eye(p.shape[-1]), np.asarray(grad))
    return p - learning_rate * step
