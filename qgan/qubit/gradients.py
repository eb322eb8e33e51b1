"""Hardware-faithful gradients of model readouts: parameter shift and SPSA, plus accounting.

Every trainable angle of a ``QubitModel`` sits in one ``RY(a)`` or ``RZ(a)`` = exp(-i a P / 2)
(P a Pauli), so the two-term **parameter-shift rule**

    d<O>/da = (<O>(a + pi/2) - <O>(a - pi/2)) / 2

is exact; one gradient costs ``2 * n_params`` circuits per sample. **SPSA** (Spall 1992,
1998) perturbs all angles at once along a Rademacher vector Delta (+-1 entries) and costs
2 circuits per sample, whatever ``n_params``; its estimate of the vector-Jacobian product

    g = (u . (f(theta + c_k Delta) - f(theta - c_k Delta)) / (2 c_k)) * Delta

(u the upstream gradient, f the readouts) is unbiased up to O(c_k**2) (a central
difference along Delta; E[Delta_i Delta_j] = delta_ij). Its gains are Spall's:
perturbation ``c_k = c / (k + 1)**gamma`` and learning rate ``a_k = a / (k + 1 + A)**alpha``
(:func:`spsa_learning_rate`), k the gradient evaluation counted from 0.

**Feature gradients** come from the same circuits, no extra ones: angle encoding puts
``RY(x_q)`` right before ``RY(theta_0q)`` on qubit q, so d/dx_q = d/dtheta_0q; re-uploading
puts it before every ``RY(theta_lq)``, so d/dx_q = sum_l d/dtheta_lq. Amplitude encoding has
no shift rule for its features: the feature gradient is ``None`` there (the layer passes no
gradient to its inputs; the simulator's ``autodiff`` does differentiate amplitudes).

Each method exists twice: Python-side over any :class:`~qgan.qubit.backends.ExpectationBackend`
(NumPy in and out; all shifted circuits of one gradient go out in ONE ``expectations``
call, so a hardware backend batches them into one job), and in-graph (``*_tf``) on the TF
simulator, for use inside ``tf.function``. Given the same inputs (and Delta) they agree.

References: J. C. Spall, "Implementation of the simultaneous perturbation algorithm for
stochastic optimization", IEEE Trans. Aerosp. Electron. Syst. 34(3), 817-823 (1998);
Mitarai et al., Phys. Rev. A 98, 032309 (2018) and Schuld et al., Phys. Rev. A 99, 032331
(2019) for the shift rule.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from qgan._validate import check_choice, check_int, check_number
from qgan.qubit.backends import check_rows, check_shots, simulated_readouts
from qgan.qubit.model import QubitModel
from qgan.qubit.simulator import real_dtype
from qgan.qubit.spsa_gains import SPSA_DEFAULTS

METHODS = ("autodiff", "parameter_shift", "spsa")
PHASES = ("forward", "gradient")
SHIFT = np.pi / 2


class Gradients(NamedTuple):
    """A vector-Jacobian product: gradients w.r.t. features and params.

    ``features``: [N, n_features] (None for amplitude encoding); ``params``: the shape of the
    params given ([n_params] shared by all rows, summed over them, or [N, n_params]).
    """

    features: object
    params: object


class Jacobians(NamedTuple):
    """``features``: [N, n_outputs, n_features] (None for amplitude encoding);
    ``params``: [N, n_outputs, n_params] (row i w.r.t. its own parameter set)."""

    features: object
    params: object


def gradient_circuits_per_sample(method: str, n_params: int) -> int:
    """Circuits one gradient evaluation runs per sample: 2 n_params, 2, or 0 (autodiff)."""
    check_choice(method, "gradient", METHODS)
    return {"autodiff": 0, "parameter_shift": 2 * n_params, "spsa": 2}[method]


# ------------------------------------------------------------------------------ account


class CircuitAccount:
    """Circuits and shots executed, split by phase (``forward`` / ``gradient``) and method.

    ``record`` adds one evaluation of ``samples`` data rows that ran ``circuits`` circuits
    of ``shots`` shots each (0 for exact). The totals take optional ``phase`` / ``method``
    filters. ``autodiff`` runs no gradient circuits (it backpropagates through the
    simulated state). Thread-safe (a backend may be called from a ``tf.numpy_function``).
    """

    _FIELDS = ("evaluations", "samples", "circuits", "shots")

    def __init__(self):
        self._tally: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def record(self, phase: str, method: str, samples: int, circuits: int, shots) -> None:
        check_choice(phase, "phase", PHASES)
        check_choice(method, "gradient", METHODS)
        row = np.array([1, samples, circuits, circuits * (shots or 0)], dtype=np.int64)
        with self._lock:
            self._tally[(phase, method)] = self._tally.get((phase, method), 0) + row

    def add(self, phase: str, method: str, totals) -> None:
        """Add totals [evaluations, samples, circuits, shots] (e.g. from in-graph counters)."""
        row = np.asarray(totals, dtype=np.int64).reshape(4)
        with self._lock:
            self._tally[(phase, method)] = self._tally.get((phase, method), 0) + row

    def _total(self, field: str, phase, method) -> int:
        col = self._FIELDS.index(field)
        with self._lock:
            return int(
                sum(
                    v[col]
                    for (ph, me), v in self._tally.items()
                    if phase in (None, ph) and method in (None, me)
                )
            )

    def evaluations(self, phase: str | None = None, method: str | None = None) -> int:
        return self._total("evaluations", phase, method)

    def samples(self, phase: str | None = None, method: str | None = None) -> int:
        return self._total("samples", phase, method)

    def circuits(self, phase: str | None = None, method: str | None = None) -> int:
        return self._total("circuits", phase, method)

    def shots(self, phase: str | None = None, method: str | None = None) -> int:
        return self._total("shots", phase, method)

    def circuits_per_sample(self, phase: str, method: str | None = None) -> float:
        """Circuits per data row per evaluation (e.g. 2 n_params for a parameter shift)."""
        samples = self.samples(phase, method)
        return self.circuits(phase, method) / samples if samples else 0.0

    def as_dict(self) -> dict:
        """{"<phase>/<method>": {"evaluations", "samples", "circuits", "shots"}}."""
        with self._lock:
            items = sorted(self._tally.items())
        return {f"{ph}/{me}": dict(zip(self._FIELDS, map(int, v))) for (ph, me), v in items}

    def reset(self) -> None:
        with self._lock:
            self._tally.clear()

    def __repr__(self) -> str:
        return f"CircuitAccount({self.as_dict()})"


# ------------------------------------------------------------------------------ Python side


def expectations(backend, model, features, params, shots=None, *, method="autodiff", account=None):
    """A forward evaluation on ``backend``: readouts [N, n_outputs] float64, recorded in
    ``account`` (phase ``forward``, ``method`` the training method it serves)."""
    shots = check_shots(shots)
    x, p = check_rows(model, features, params)
    out = np.asarray(backend.expectations(model, x, np.ascontiguousarray(p), shots), np.float64)
    if account is not None:
        account.record("forward", method, x.shape[0], x.shape[0], shots)
    return out


def parameter_shift_jacobian(backend, model, features, params, shots=None, *, account=None):
    """Jacobians of the readouts by the parameter-shift rule, on ``backend``.

    Args:
        backend: an ExpectationBackend.
        model: the circuit structure.
        features: [N, n_features]; params: [n_params] or [N, n_params].
        shots: per circuit (None: exact, simulators only).
        account: a CircuitAccount to record the 2 * n_params * N circuits in.

    Returns:
        :class:`Jacobians` (float64); one ``backend.expectations`` call of 2 n_params N rows.
    """
    shots = check_shots(shots)
    x, p = check_rows(model, features, params)
    n, n_params = x.shape[0], model.n_params
    shifts = SHIFT * np.concatenate([np.eye(n_params), -np.eye(n_params)])  # [2P, P]
    rows_p = (p[None, :, :] + shifts[:, None, :]).reshape(-1, n_params)  # [2P * N, P]
    rows_x = np.tile(x, (2 * n_params, 1))
    out = np.asarray(backend.expectations(model, rows_x, rows_p, shots), dtype=np.float64)
    if account is not None:
        account.record("gradient", "parameter_shift", n, rows_x.shape[0], shots)
    out = out.reshape(2, n_params, n, model.n_outputs)
    jac = 0.5 * (out[0] - out[1]).transpose(1, 2, 0)  # [N, O, P]
    return Jacobians(_feature_gradient_np(model, jac), jac)


def parameter_shift(backend, model, features, params, upstream, shots=None, *, account=None):
    """Vector-Jacobian product ``upstream [N, n_outputs]`` . d readouts by parameter shift.

    Returns :class:`Gradients` (float64): params gradient in the shape of ``params``.
    """
    jac = parameter_shift_jacobian(backend, model, features, params, shots, account=account)
    u = _check_upstream(upstream, jac.params.shape[0], model)
    g_rows = np.einsum("nop,no->np", jac.params, u)
    g_x = None if jac.features is None else np.einsum("nof,no->nf", jac.features, u)
    return Gradients(g_x, _params_shaped(g_rows, params))


def spsa(
    backend,
    model,
    features,
    params,
    upstream,
    shots=None,
    *,
    step: int = 0,
    c: float = SPSA_DEFAULTS["c"],
    gamma: float = SPSA_DEFAULTS["gamma"],
    seed: int = 0,
    delta=None,
    account=None,
):
    """SPSA estimate of the vector-Jacobian product (see module docstring), on ``backend``.

    One Delta per evaluation, shared by all rows (Spall's SPSA of the parameter vector).

    Args:
        step: k, the gradient evaluation (from 0): c_k = c / (k + 1)**gamma.
        seed: with ``step``, seeds Delta (same Delta as :func:`spsa_tf` for equal seeds).
        delta: [n_params] of +-1 to use instead of drawing one.
        account: records 2 N circuits.

    Returns:
        :class:`Gradients` (float64), params gradient in the shape of ``params``; one
        ``backend.expectations`` call of 2 N rows.
    """
    shots = check_shots(shots)
    x, p = check_rows(model, features, params)
    n = x.shape[0]
    u = _check_upstream(upstream, n, model)
    _check_gains(c=c, gamma=gamma)
    check_int(step, "step", 0)
    if delta is None:
        delta = rademacher(seed, step, model.n_params).numpy()
    delta = _check_delta(delta, model.n_params)
    c_k = spsa_perturbation(step, c, gamma)
    rows_p = np.concatenate([p + c_k * delta, p - c_k * delta])
    out = np.asarray(backend.expectations(model, np.tile(x, (2, 1)), rows_p, shots), np.float64)
    if account is not None:
        account.record("gradient", "spsa", n, 2 * n, shots)
    slope = np.sum((out[:n] - out[n:]) * u, axis=1) / (2.0 * c_k)  # [N]
    g_rows = slope[:, None] * delta[None, :]
    return Gradients(_feature_gradient_np(model, g_rows), _params_shaped(g_rows, params))


# ------------------------------------------------------------------------------ in graph


def parameter_shift_tf(
    model, features, params, upstream, *, shots=None, seed=(0, 0), dtype=tf.complex128
):
    """In-graph :func:`parameter_shift` on the TF simulator (one batched simulation).

    Args:
        features: [B, n_features]; params: [n_params] or [B, n_params]; upstream:
            [B, n_outputs] (tensors, cast to the real dtype of ``dtype``).
        shots: None (exact) or draws per circuit (stateless, from ``seed`` [2]).

    Returns:
        :class:`Gradients` of tensors (features None for amplitude encoding).
    """
    x, p, u, rdt = _tf_inputs(model, features, params, upstream, dtype)
    rows, n_params = tf.shape(x)[0], model.n_params
    p_rows = p if p.shape.rank == 2 else tf.broadcast_to(p, [rows, n_params])
    eye = tf.eye(n_params, dtype=rdt) * SHIFT
    shifted = p_rows[None] + tf.concat([eye, -eye], 0)[:, None, :]  # [2P, B, P]
    out = simulated_readouts(
        model,
        tf.tile(x, [2 * n_params, 1]),
        tf.reshape(shifted, [-1, n_params]),
        shots,
        seed,
        dtype,
    )
    out = tf.reshape(out, [2, n_params, rows, model.n_outputs])
    g_rows = 0.5 * tf.einsum("pbo,bo->bp", out[0] - out[1], u)
    return Gradients(_feature_gradient_tf(model, g_rows), _params_shaped_tf(g_rows, p))


def spsa_tf(
    model,
    features,
    params,
    upstream,
    *,
    step=0,
    c: float = SPSA_DEFAULTS["c"],
    gamma: float = SPSA_DEFAULTS["gamma"],
    seed=0,
    delta=None,
    shots=None,
    sample_seed=(0, 0),
    dtype=tf.complex128,
):
    """In-graph :func:`spsa` on the TF simulator.

    Args:
        step: k (int or int tensor); seed: int, with ``step`` seeds Delta (as :func:`spsa`).
        delta: [n_params] +-1 tensor to use instead of drawing one.
        shots, sample_seed: sampled readouts (stateless, seed [2]); None: exact.

    Returns:
        :class:`Gradients` of tensors.
    """
    _check_gains(c=c, gamma=gamma)
    x, p, u, rdt = _tf_inputs(model, features, params, upstream, dtype)
    rows = tf.shape(x)[0]
    if delta is None:
        delta = rademacher(seed, step, model.n_params, rdt)
    delta = tf.cast(delta, rdt)
    c_k = spsa_perturbation(tf.cast(step, rdt), c, gamma)
    if p.shape.rank == 1:  # [2B, P]: B rows of theta + c_k Delta, then B of theta - c_k Delta
        rows_p = tf.repeat(tf.stack([p + c_k * delta, p - c_k * delta]), rows, axis=0)
    else:
        rows_p = tf.concat([p + c_k * delta, p - c_k * delta], 0)
    out = simulated_readouts(model, tf.tile(x, [2, 1]), rows_p, shots, sample_seed, dtype)
    slope = tf.reduce_sum((out[:rows] - out[rows:]) * u, axis=1) / (2.0 * c_k)
    g_rows = slope[:, None] * delta[None, :]
    return Gradients(_feature_gradient_tf(model, g_rows), _params_shaped_tf(g_rows, p))


def rademacher(seed, step, n: int, dtype=tf.float64) -> tf.Tensor:
    """SPSA's Delta: [n] of +-1, a stateless function of (seed, step) (in-graph or eager)."""
    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    bits = tf.random.stateless_uniform([n], seed=key, minval=0, maxval=2, dtype=tf.int32)
    return tf.cast(2 * bits - 1, dtype)


# ------------------------------------------------------------------------------ gains


def spsa_perturbation(step, c: float = SPSA_DEFAULTS["c"], gamma: float = SPSA_DEFAULTS["gamma"]):
    """Spall's perturbation gain c_k = c / (k + 1)**gamma (float, array or tensor ``step``)."""
    return c / (step + 1) ** gamma


@tf.keras.utils.register_keras_serializable(package="qgan")
class SPSALearningRate(tf.keras.optimizers.schedules.LearningRateSchedule):
    """Spall's learning-rate gain a_k = a / (k + 1 + A)**alpha, k the optimizer step."""

    def __init__(
        self,
        a: float = SPSA_DEFAULTS["a"],
        A: float = SPSA_DEFAULTS["A"],  # noqa: N803 - Spall's name
        alpha: float = SPSA_DEFAULTS["alpha"],
    ):
        _check_gains(a=a, A=A, alpha=alpha)
        self.a, self.A, self.alpha = float(a), float(A), float(alpha)

    def __call__(self, step):
        k = tf.cast(step, tf.float32)
        return self.a / tf.pow(k + 1.0 + self.A, self.alpha)

    def get_config(self) -> dict:
        return {"a": self.a, "A": self.A, "alpha": self.alpha}


def spsa_learning_rate(
    a: float = SPSA_DEFAULTS["a"],
    A: float = SPSA_DEFAULTS["A"],  # noqa: N803 - Spall's name
    alpha: float = SPSA_DEFAULTS["alpha"],
) -> SPSALearningRate:
    """The SPSA learning-rate schedule a_k = a / (k + 1 + A)**alpha (Spall 1998 defaults)."""
    return SPSALearningRate(a, A, alpha)


def check_spsa_gains(spsa, name: str = "spsa") -> dict:
    """``spsa`` (None or a dict of some of a, A, alpha, c, gamma) merged over the defaults."""
    if spsa is None:
        return dict(SPSA_DEFAULTS)
    if not isinstance(spsa, dict):
        raise ValueError(f"{name} must be a dict of SPSA gains, got {type(spsa).__name__}")
    unknown = sorted(set(spsa) - set(SPSA_DEFAULTS))
    if unknown:
        raise ValueError(f"{name}: unknown gains {unknown}; expected some of {list(SPSA_DEFAULTS)}")
    gains = {**SPSA_DEFAULTS, **spsa}
    _check_gains(prefix=f"{name}.", **gains)
    return {k: float(v) for k, v in gains.items()}


# ------------------------------------------------------------------------------ helpers


def _check_gains(prefix: str = "", **gains) -> None:
    for key, value in gains.items():
        check_number(value, f"{prefix}{key}", strict=key != "A")  # the offset A may be 0


def _check_upstream(upstream, rows: int, model: QubitModel) -> np.ndarray:
    u = np.asarray(upstream, dtype=np.float64)
    if u.shape != (rows, model.n_outputs):
        raise ValueError(
            f"upstream must have shape [{rows}, {model.n_outputs}], got {list(u.shape)}"
        )
    return u


def _check_delta(delta, n_params: int) -> np.ndarray:
    d = np.asarray(delta, dtype=np.float64)
    if d.shape != (n_params,) or not np.all(np.abs(d) == 1.0):
        raise ValueError(f"delta must be [{n_params}] entries of +-1, got shape {list(d.shape)}")
    return d


def _params_shaped(g_rows: np.ndarray, params) -> np.ndarray:
    return g_rows.sum(axis=0) if np.ndim(params) == 1 else g_rows


def _params_shaped_tf(g_rows, p):
    return tf.reduce_sum(g_rows, axis=0) if p.shape.rank == 1 else g_rows


def _feature_gradient_np(model: QubitModel, g):
    """d/dx from d/dparams [..., n_params] (last axis): RY angles of layer 0 or all layers."""
    if model.encoding == "amplitude":
        return None
    theta = g.reshape(*g.shape[:-1], model.depth, model.n_qubits, 2)[..., 0]
    return theta[..., 0, :] if model.encoding == "angle" else theta.sum(axis=-2)


def _feature_gradient_tf(model: QubitModel, g_rows):
    if model.encoding == "amplitude":
        return None
    theta = tf.reshape(g_rows, [-1, model.depth, model.n_qubits, 2])[..., 0]
    return theta[:, 0, :] if model.encoding == "angle" else tf.reduce_sum(theta, axis=1)


def _tf_inputs(model, features, params, upstream, dtype):
    if not isinstance(model, QubitModel):
        raise ValueError(f"model must be a QubitModel, got {type(model).__name__}")
    rdt = real_dtype(dtype)
    x = tf.cast(features, rdt)
    p = tf.cast(params, rdt)
    u = tf.cast(upstream, rdt)
    if p.shape.rank not in (1, 2) or p.shape[-1] != model.n_params:
        raise ValueError(
            f"params must have shape [{model.n_params}] or [N, {model.n_params}], "
            f"got {p.shape.as_list()}"
        )
    if u.shape.rank != 2 or u.shape[-1] != model.n_outputs:
        raise ValueError(
            f"upstream must have shape [N, {model.n_outputs}], got {u.shape.as_list()}"
        )
    return x, p, u, rdt
