"""Expectation backends: where the readouts of bound model circuits come from.

An :class:`ExpectationBackend` runs the circuits of one ``QubitModel`` for N rows of
(features, params) and returns the readouts, exactly (``shots=None``, simulators only) or
estimated from ``shots`` measurements per circuit. It is the Python-side (NumPy in,
NumPy out) interface the gradient methods of :mod:`qgan.qubit.gradients` and the Keras
layer use for hardware; ``qgan.qubit.ionq.IonQBackend`` follows it.

:class:`SimulatorBackend` is the reference implementation on the TF state-vector
simulator; :func:`simulated_readouts` is the same thing in-graph (TF in, TF out), for
the layer's ``backend="simulator"``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from qgan._tensors import real_dtype
from qgan._validate import check_int
from qgan.qubit.model import QubitModel
from qgan.qubit.simulator import expectation_values, probabilities, simulate_state


@runtime_checkable
class ExpectationBackend(Protocol):
    """What the gradient methods and ``QubitLayer`` need from a backend.

    Attributes:
        name: short name (``"simulator"``, ``"ionq"``).
        supports_autodiff: whether TF can differentiate its expectations (only the TF
            simulator can; hardware cannot).
        cache_name: identifies the target whose results these are (a cache key part:
            equal ``cache_name`` means interchangeable results).

    Optional: ``prefix_expectations(model, features, params, layers, unitaries, shots)``,
    the prefix circuits of the quantum natural gradient's metric (see
    :meth:`SimulatorBackend.prefix_expectations`); :class:`SimulatorBackend` and
    ``qgan.qubit.noise.NoisyBackend`` have it.
    """

    name: str
    supports_autodiff: bool
    cache_name: str

    def expectations(self, model: QubitModel, features, params, shots: int | None) -> np.ndarray:
        """Readouts [N, model.n_outputs] float64 of the circuits of N rows.

        Args:
            model: the circuit structure.
            features: [N, n_features] float.
            params: [N, n_params] float (one parameter set per row).
            shots: measurements per circuit, or None for exact expectations.
        """
        ...


def check_shots(shots, name: str = "shots") -> int | None:
    """``shots`` as an int >= 1 or None; one-line ValueError naming ``name`` otherwise."""
    if shots is None:
        return None
    return check_int(shots, name, 1)


def check_rows(model: QubitModel, features, params) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 features [N, F] and params [N, P] ([P] is repeated for every row)."""
    if not isinstance(model, QubitModel):
        raise ValueError(f"model must be a QubitModel, got {type(model).__name__}")
    x = model.check_features(features)
    p = model.check_params(params, rows=x.shape[0])
    if p.ndim == 1:
        p = np.broadcast_to(p, (x.shape[0], model.n_params))
    return x, p


class SimulatorBackend:
    """The TF state-vector simulator as an :class:`ExpectationBackend` (NumPy in and out).

    ``shots=None``: exact readouts. ``shots=S``: each circuit's readouts are estimated from
    S bitstrings drawn from its exact outcome probabilities (``S * readout_signs`` averaged,
    the same estimate as ``QubitModel.outputs_from_samples``). The draw of a circuit is
    seeded from ``seed`` and the circuit itself (structure, feature and parameter bytes,
    shots), so a result depends on what was run, not on call order or batch composition
    (as ``IonQBackend`` does): repeated circuits give repeated estimates.

    Args:
        seed: base seed of the shot sampling.
        dtype: simulation dtype, ``tf.complex128`` (default) or ``tf.complex64``.
    """

    name = "simulator"
    supports_autodiff = True

    def __init__(self, seed: int = 0, dtype=tf.complex128):
        check_int(seed, "seed", 0)
        real_dtype(dtype)  # validates
        self.seed = int(seed)
        self.dtype = tf.as_dtype(dtype)

    def __repr__(self) -> str:
        return f"SimulatorBackend(seed={self.seed}, dtype=tf.{self.dtype.name})"

    @property
    def cache_name(self) -> str:
        """``simulator:<dtype>:seed=<seed>`` (the seed decides the shot noise)."""
        return f"simulator:{self.dtype.name}:seed={self.seed}"

    def expectations(self, model: QubitModel, features, params, shots=None) -> np.ndarray:
        """Readouts [N, n_outputs] float64; see the class docstring."""
        shots = check_shots(shots)
        x, p = check_rows(model, features, params)
        if x.shape[0] == 0:
            return np.zeros((0, model.n_outputs))
        if shots is None:
            return expectation_values(model, x, p, dtype=self.dtype).numpy().astype(np.float64)
        probs = probabilities(model, x, p, dtype=self.dtype).numpy().astype(np.float64)
        probs = np.clip(probs, 0.0, None)
        probs /= probs.sum(axis=1, keepdims=True)
        counts = np.empty_like(probs)
        for i in range(x.shape[0]):
            rng = np.random.default_rng(self._row_seed(model, x[i], p[i], shots))
            counts[i] = rng.multinomial(shots, probs[i])
        return counts @ model.readout_signs / shots

    def prefix_expectations(
        self, model: QubitModel, features, params, layers: int, unitaries, shots=None
    ) -> np.ndarray:
        """Readouts [N, n + n (n - 1) / 2] float64 of N **prefix circuits** (the circuits of
        the quantum natural gradient's metric, :mod:`qgan.qubit.qng`): the first ``layers``
        complete layers of ``model`` (encoding, rotations, entanglers), then one
        single-qubit gate ``unitaries[i, q]`` on each qubit q, then all qubits measured in
        Z; read out as ``z_zz`` (<Z_q> per qubit, then <Z_a Z_b> for a < b).

        Args:
            layers: 0 .. depth (0: the gates act on |0...0>), an int or one per row [N]
                (so the metric's circuits of all blocks go out in one call).
            unitaries: [N, n_qubits, 2, 2] complex (one gate per row and qubit).
            shots: None (exact) or bitstrings per circuit (seeded by the circuit, as
                :meth:`expectations`).

        The TF simulator runs the ``layers`` complete layers (a ``depth=layers`` model,
        this backend's dtype); the gates and the readout follow in NumPy.
        """
        shots = check_shots(shots)
        x, p, layers, u = check_prefix(model, features, params, layers, unitaries)
        n = model.n_qubits
        state = np.zeros((x.shape[0], 2**n), np.complex128)
        state[:, 0] = 1.0
        for depth in np.unique(layers[layers > 0]):  # one simulation per prefix depth
            rows = layers == depth
            sub = prefix_model(model, int(depth))
            state[rows] = simulate_state(
                sub, x[rows], p[rows, : sub.n_params], dtype=self.dtype
            ).numpy()
        state = state.reshape(x.shape[0], *([2] * n))
        for q in range(n):  # psi'[b, .., i_q, ..] = sum_j u[b, q, i_q, j] psi[b, .., j, ..]
            moved = np.moveaxis(state, 1 + q, 1)
            moved = np.einsum("bij,bj...->bi...", u[:, q], moved)
            state = np.moveaxis(moved, 1, 1 + q)
        probs = np.abs(state.reshape(x.shape[0], -1)) ** 2
        return sample_readouts(probs, zz_signs(n), shots, self._prefix_seeds(model, x, p,
                               layers, u, shots))  # fmt: skip

    def _prefix_seeds(self, model, x, p, layers, u, shots) -> list[int] | None:
        if shots is None:
            return None
        return [
            self._row_seed(model, x[i], p[i], shots, extra=(layers[i], u[i]))
            for i in range(x.shape[0])
        ]

    def _row_seed(
        self, model: QubitModel, x: np.ndarray, p: np.ndarray, shots: int, extra=None
    ) -> int:
        digest = hashlib.sha256()
        if extra is not None:  # a prefix circuit: its layers and final gates
            digest.update(f"prefix:{extra[0]}".encode())
            digest.update(np.ascontiguousarray(extra[1], dtype=np.complex128).tobytes())
        for part in (str(self.seed), model.structure_key, str(shots)):
            digest.update(part.encode())
        digest.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(p, dtype=np.float64).tobytes())
        return int.from_bytes(digest.digest()[:8], "little")


def check_prefix(model: QubitModel, features, params, layers, unitaries):
    """Validated (features [N, F], params [N, P] float64, layers [N] int64, unitaries
    [N, n, 2, 2] complex128) of :meth:`SimulatorBackend.prefix_expectations` (an int
    ``layers`` is repeated for every row); one-line ValueErrors naming the field."""
    x, p = check_rows(model, features, params)
    if model.encoding == "amplitude":
        raise ValueError("model: prefix circuits need a gate encoding (angle or reupload)")
    raw = np.asarray(layers)
    if raw.ndim == 0:
        raw = np.full(x.shape[0], check_int(layers, "layers", 0, model.depth))
    if raw.shape != (x.shape[0],) or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"layers must be an int or [{x.shape[0]}] ints, got {list(raw.shape)}")
    if raw.size and (raw.min() < 0 or raw.max() > model.depth):
        raise ValueError(f"layers must be in [0, {model.depth}], got {raw.min()}..{raw.max()}")
    u = np.asarray(unitaries, dtype=np.complex128)
    if u.shape != (x.shape[0], model.n_qubits, 2, 2):
        raise ValueError(
            f"unitaries must have shape [{x.shape[0]}, {model.n_qubits}, 2, 2], got {list(u.shape)}"
        )
    return x, np.ascontiguousarray(p), raw.astype(np.int64), u


def prefix_model(model: QubitModel, layers: int) -> QubitModel:
    """The first ``layers`` (>= 1) layers of ``model`` as a model measured in Z (a prefix
    circuit's own gates choose its measured basis, not the model's basis settings)."""
    plain = {"bases": ("Z",)} if hasattr(model, "bases") else {}
    return replace(model, depth=layers, **plain)


def zz_signs(n_qubits: int) -> np.ndarray:
    """[2**n, n + n (n - 1) / 2] float64 of +-1: the ``z_zz`` readouts of outcome index i
    (<Z_q> per qubit, then <Z_a Z_b> for a < b; qubit 0 the most significant bit)."""
    return QubitModel(n_qubits=n_qubits, depth=1, measurement="z_zz").readout_signs


def sample_readouts(probs, signs, shots: int | None, seeds) -> np.ndarray:
    """Readouts [N, K] = probs [N, 2**n] @ signs [2**n, K] (exact, shots None) or from
    ``shots`` draws of each row, row i seeded by ``seeds[i]``."""
    probs = np.clip(np.asarray(probs, np.float64), 0.0, None)
    probs /= probs.sum(axis=1, keepdims=True)
    if shots is None:
        return probs @ signs
    counts = np.empty_like(probs)
    for i in range(probs.shape[0]):
        counts[i] = np.random.default_rng(seeds[i]).multinomial(shots, probs[i])
    return counts @ signs / shots


# ------------------------------------------------------------------------------ in-graph


def sampled_readouts(model: QubitModel, probs: tf.Tensor, shots: int, seed) -> tf.Tensor:
    """Readouts [B, n_outputs] estimated from ``shots`` draws of each row of ``probs``.

    In-graph and stateless: the draw is a function of ``seed`` (int32/int64 [2]) alone.

    Args:
        model: the structure (its ``readout_signs``).
        probs: [B, 2**n_qubits] outcome probabilities (float32 or float64).
        shots: draws per row (a Python int >= 1).
        seed: stateless seed, shape [2].
    """
    k = 2**model.n_qubits
    logits = tf.math.log(tf.maximum(probs, 0.0))
    draws = tf.random.stateless_categorical(logits, shots, seed=seed, dtype=tf.int32)
    rows = tf.shape(probs)[0]
    # one bincount over the whole batch: outcome j of row r is bin r * 2**n + j
    flat = tf.reshape(draws + k * tf.range(rows)[:, None], [-1])
    counts = tf.math.bincount(flat, minlength=rows * k, maxlength=rows * k, dtype=probs.dtype)
    counts = tf.reshape(counts, [rows, k])
    signs = tf.constant(model.readout_signs, dtype=probs.dtype)
    return tf.matmul(counts, signs) / tf.cast(shots, probs.dtype)


def simulated_readouts(
    model: QubitModel, features, params, shots: int | None, seed, dtype=tf.complex64
) -> tf.Tensor:
    """In-graph readouts [B, n_outputs]: exact (``shots=None``, differentiable) or sampled.

    Args:
        features: [B, n_features], params: [n_params] or [B, n_params] (real dtype of
            ``dtype``).
        shots: None or draws per circuit.
        seed: stateless seed [2] of the draw (unused when exact).
    """
    if shots is None:
        return expectation_values(model, features, params, dtype=dtype)
    probs = tf.stop_gradient(probabilities(model, features, params, dtype=dtype))
    return sampled_readouts(model, probs, shots, seed)
