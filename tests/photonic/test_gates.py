"""Specification of ``qgan.photonic.gates``: truncated gate matrices built in TensorFlow.

Every gate is the matrix of *exact* elements, U[m, n] = <m|U|n> for single-mode gates and
U[m, n, p, q] = <m, n|U|p, q> (outputs first) for two-mode gates, with all indices below
the cutoff. The reference elements come from The Walrus (``thewalrus.fock_gradients``,
which SF's fock backend uses) and from closed forms for the diagonal gates; their index
layout is pinned independently by exponentiating the gate generators (SF conventions) in
a much larger truncation.

Gate functions broadcast over leading dimensions of their real arguments and run both
eagerly and inside ``tf.function``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from thewalrus import fock_gradients as tw

from qgan.photonic import gates

CUTOFFS = (2, 3, 5, 8)
DTYPES = (tf.complex64, tf.complex128)


def real_dtype(dtype):
    return tf.float32 if dtype == tf.complex64 else tf.float64


# --------------------------------------------------------------------------- references


def ref_rotation(theta, cutoff):
    return np.diag(np.exp(1j * theta * np.arange(cutoff)))


def ref_kerr(kappa, cutoff):
    return np.diag(np.exp(1j * kappa * np.arange(cutoff) ** 2))


def ref_cross_kerr(kappa, cutoff):
    n = np.arange(cutoff)
    u = np.zeros([cutoff] * 4, dtype=np.complex128)
    for m in n:
        for k in n:
            u[m, k, m, k] = np.exp(1j * kappa * m * k)
    return u


class Gate(NamedTuple):
    fn: Callable  # the qgan.photonic.gates function
    n_args: int  # number of real arguments
    ref: Callable  # ref(args, cutoff) -> exact elements (complex128)
    two_mode: bool
    sample: Callable  # sample(rng) -> list of arguments


def _uniform(*bounds):
    return lambda rng: [rng.uniform(lo, hi) for lo, hi in bounds]


PI = np.pi
GATES = {
    "displacement": Gate(
        gates.displacement,
        2,
        lambda a, d: tw.displacement(a[0], a[1], d),
        False,
        _uniform((0, 1.5), (-PI, PI)),
    ),
    "squeezing": Gate(
        gates.squeezing,
        2,
        lambda a, d: tw.squeezing(a[0], a[1], d),
        False,
        _uniform((0, 1.0), (-PI, PI)),
    ),
    "rotation": Gate(
        gates.rotation,
        1,
        lambda a, d: ref_rotation(a[0], d),
        False,
        _uniform((-2 * PI, 2 * PI)),
    ),
    "kerr": Gate(
        gates.kerr,
        1,
        lambda a, d: ref_kerr(a[0], d),
        False,
        _uniform((-1.5, 1.5)),
    ),
    "beamsplitter": Gate(
        gates.beamsplitter,
        2,
        lambda a, d: tw.beamsplitter(a[0], a[1], d),
        True,
        _uniform((-PI, PI), (-PI, PI)),
    ),
    "mzgate": Gate(
        gates.mzgate,
        2,
        lambda a, d: tw.mzgate(a[0], a[1], d),
        True,
        _uniform((-PI, PI), (-PI, PI)),
    ),
    "two_mode_squeezing": Gate(
        gates.two_mode_squeezing,
        2,
        lambda a, d: tw.two_mode_squeezing(a[0], a[1], d),
        True,
        _uniform((0, 1.0), (-PI, PI)),
    ),
    "cross_kerr": Gate(
        gates.cross_kerr,
        1,
        lambda a, d: ref_cross_kerr(a[0], d),
        True,
        _uniform((-1.5, 1.5)),
    ),
}


def call_gate(name, args, cutoff, dtype):
    fn = GATES[name][0]
    return fn(*args, cutoff, dtype=dtype)


def as_tensors(args, dtype):
    return [tf.constant(a, dtype=real_dtype(dtype)) for a in args]


# --------------------------------------------------------------------------- exact elements


@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
@pytest.mark.parametrize("cutoff", CUTOFFS)
@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_equals_exact_elements(name, cutoff, dtype, tol, check):
    """Unbatched gate == exact elements, for several argument draws, float or tensor args."""
    _, _, ref, two_mode, sample = GATES[name]
    rng = np.random.default_rng(cutoff * 101 + len(name))
    for trial in range(3):
        args = sample(rng)
        given_args = args if trial == 0 else as_tensors(args, dtype)
        u = call_gate(name, given_args, cutoff, dtype)
        assert u.dtype == dtype
        expected_shape = (cutoff,) * (4 if two_mode else 2)
        assert tuple(u.shape) == expected_shape
        check.amplitudes(u, ref(args, cutoff), tol.gate[dtype], f"{name}{tuple(args)}")


@pytest.mark.parametrize("name", sorted(set(GATES) - {"mzgate"}))
def test_gate_at_zero_argument_is_identity(name, tol, check):
    """Gates reduce to the identity at zero argument (no stray phases/transposes).

    (Not MZgate: MZ(0, 0) = BS(pi/4, pi/2)^2 is a swap.)
    """
    n_args, two_mode = GATES[name][1], GATES[name][3]
    cutoff = 4
    u = to_np(call_gate(name, [0.0] * n_args, cutoff, tf.complex128))
    eye = np.eye(cutoff**2 if two_mode else cutoff).reshape(u.shape)
    check.amplitudes(u, eye, tol.gate[tf.complex128], name)


def to_np(x):
    return np.asarray(x.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_broadcasts_over_leading_batch_dim(name, dtype, tol, check):
    """Args of shape [B] (all of them, or mixed with scalars) give [B, ...] gate stacks."""
    _, n_args, ref, two_mode, sample = GATES[name]
    cutoff = 5
    batch = 4
    rng = np.random.default_rng(7)
    draws = [sample(rng) for _ in range(batch)]
    cols = [np.array([d[k] for d in draws]) for k in range(n_args)]
    u = call_gate(name, as_tensors(cols, dtype), cutoff, dtype)
    gate_shape = (cutoff,) * (4 if two_mode else 2)
    assert tuple(u.shape) == (batch, *gate_shape)
    for b in range(batch):
        check.amplitudes(u[b], ref(draws[b], cutoff), tol.gate[dtype], f"{name}[{b}]")

    if n_args == 2:
        # first argument per sample, second a shared scalar (and vice versa)
        shared = draws[0][1]
        u = call_gate(name, [tf.constant(cols[0], real_dtype(dtype)), shared], cutoff, dtype)
        assert tuple(u.shape) == (batch, *gate_shape)
        for b in range(batch):
            expected = ref([draws[b][0], shared], cutoff)
            check.amplitudes(u[b], expected, tol.gate[dtype], f"{name}[{b}] mixed")
        shared = draws[0][0]
        u = call_gate(name, [shared, tf.constant(cols[1], real_dtype(dtype))], cutoff, dtype)
        assert tuple(u.shape) == (batch, *gate_shape)
        for b in range(batch):
            expected = ref([shared, draws[b][1]], cutoff)
            check.amplitudes(u[b], expected, tol.gate[dtype], f"{name}[{b}] mixed")


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_broadcasts_over_two_leading_dims(name, tol, check):
    _, n_args, ref, two_mode, sample = GATES[name]
    cutoff = 3
    rng = np.random.default_rng(11)
    draws = [[sample(rng) for _ in range(3)] for _ in range(2)]
    cols = [np.array([[d[k] for d in row] for row in draws]) for k in range(n_args)]
    dtype = tf.complex128
    u = call_gate(name, as_tensors(cols, dtype), cutoff, dtype)
    assert tuple(u.shape) == (2, 3, *((cutoff,) * (4 if two_mode else 2)))
    for i in range(2):
        for j in range(3):
            check.amplitudes(u[i, j], ref(draws[i][j], cutoff), tol.gate[dtype], name)


@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_inside_tf_function(name, dtype, tol, check):
    """Same matrices when built inside a tf.function (in-graph), batched and unbatched."""
    _, n_args, ref, _, sample = GATES[name]
    cutoff = 6
    rng = np.random.default_rng(3)
    args = sample(rng)

    @tf.function
    def build(*xs):
        return call_gate(name, list(xs), cutoff, dtype)

    graph = build(*as_tensors(args, dtype))
    eager = call_gate(name, as_tensors(args, dtype), cutoff, dtype)
    check.amplitudes(graph, eager.numpy(), tol.graph[dtype], f"{name} graph vs eager")
    check.amplitudes(graph, ref(args, cutoff), tol.gate[dtype], f"{name} graph")

    draws = [sample(rng) for _ in range(3)]
    cols = [np.array([d[k] for d in draws]) for k in range(n_args)]
    graph = build(*as_tensors(cols, dtype))
    for b in range(3):
        check.amplitudes(graph[b], ref(draws[b], cutoff), tol.gate[dtype], name)


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_inside_tf_function_with_symbolic_shape(name, tol, check):
    """Gates accept arguments whose batch dimension is unknown at trace time."""
    _, n_args, ref, _, sample = GATES[name]
    cutoff = 4
    dtype = tf.complex128
    spec = [tf.TensorSpec([None], tf.float64)] * n_args

    @tf.function(input_signature=spec)
    def build(*xs):
        return call_gate(name, list(xs), cutoff, dtype)

    rng = np.random.default_rng(5)
    for batch in (1, 3):
        draws = [sample(rng) for _ in range(batch)]
        cols = [np.array([d[k] for d in draws]) for k in range(n_args)]
        u = build(*as_tensors(cols, dtype))
        for b in range(batch):
            check.amplitudes(u[b], ref(draws[b], cutoff), tol.gate[dtype], name)


# --------------------------------------------------------------------------- definitions
# Independent of The Walrus: exponentiate the SF generator in a large truncation L and
# read off the low block. Pins the index layout (outputs first) and sign conventions.

_L1 = 60  # single-mode working truncation
_L2 = 30  # per-mode working truncation for two-mode gates


def _ladder(n):
    return np.diag(np.sqrt(np.arange(1, n)), 1)


def _definition(name, args, cutoff):
    if name in ("displacement", "squeezing", "rotation", "kerr"):
        a = _ladder(_L1)
        ad = a.T
        num = ad @ a
        if name == "displacement":
            alpha = args[0] * np.exp(1j * args[1])
            gen = alpha * ad - np.conj(alpha) * a
        elif name == "squeezing":
            z = args[0] * np.exp(1j * args[1])
            gen = 0.5 * (np.conj(z) * a @ a - z * ad @ ad)
        elif name == "rotation":
            gen = 1j * args[0] * num
        else:
            gen = 1j * args[0] * num @ num
        return scipy.linalg.expm(gen)[:cutoff, :cutoff]
    a1 = np.kron(_ladder(_L2), np.eye(_L2))
    a2 = np.kron(np.eye(_L2), _ladder(_L2))
    if name == "beamsplitter":
        th, ph = args
        u = scipy.linalg.expm(th * (np.exp(1j * ph) * a1 @ a2.T - np.exp(-1j * ph) * a1.T @ a2))
    elif name == "mzgate":
        # SF: MZ(phi_in, phi_ex) = BS(pi/4, pi/2) (R(phi_in) x 1) BS(pi/4, pi/2) (R(phi_ex) x 1)
        bs = scipy.linalg.expm((np.pi / 4) * (1j * a1 @ a2.T + 1j * a1.T @ a2))
        n1 = a1.T @ a1
        r_in = scipy.linalg.expm(1j * args[0] * n1)
        r_ex = scipy.linalg.expm(1j * args[1] * n1)
        u = bs @ r_in @ bs @ r_ex
    elif name == "two_mode_squeezing":
        z = args[0] * np.exp(1j * args[1])
        u = scipy.linalg.expm(z * a1.T @ a2.T - np.conj(z) * a1 @ a2)
    else:
        n1, n2 = a1.T @ a1, a2.T @ a2
        u = scipy.linalg.expm(1j * args[0] * n1 @ n2)
    return u.reshape([_L2] * 4)[:cutoff, :cutoff, :cutoff, :cutoff]


DEFINITION_ARGS = {
    "displacement": [0.8, 0.7],
    "squeezing": [0.5, -1.1],
    "rotation": [0.9],
    "kerr": [0.35],
    "beamsplitter": [0.7, 0.4],
    "mzgate": [0.5, 1.3],
    "two_mode_squeezing": [0.3, 0.8],
    "cross_kerr": [0.45],
}


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_matches_generator_definition(name, tol, check):
    """U = exp(generator) with SF's conventions; index layout U[out..., in...]."""
    cutoff = 5
    args = DEFINITION_ARGS[name]
    u = call_gate(name, args, cutoff, tf.complex128)
    expected = _definition(name, args, cutoff)
    check.amplitudes(u, expected, tol.definition, name)


def test_two_mode_layout_is_outputs_first(tol, check):
    """U[m, n, p, q] = <m, n|U|p, q>, spelled out on a few known elements.

    SF's internal layout [m, p, n, q] would put <1, 0|BS|1, 0> = cos(theta) at
    [1, 1, 0, 0], where the outputs-first layout must hold <1, 1|BS|0, 0> = 0.
    """
    eps = tol.gate[tf.complex128]
    th, ph = 0.3, 0.7
    u = call_gate("beamsplitter", [th, ph], 3, tf.complex128).numpy()
    # BS = exp(theta (e^{i phi} a1 a2^dagger - e^{-i phi} a1^dagger a2))
    assert abs(u[1, 0, 1, 0] - np.cos(th)) < eps
    assert abs(u[1, 1, 0, 0]) < eps
    assert abs(u[1, 0, 0, 1] - (-np.exp(-1j * ph) * np.sin(th))) < eps
    assert abs(u[0, 1, 1, 0] - np.exp(1j * ph) * np.sin(th)) < eps
    s2 = call_gate("two_mode_squeezing", [0.5, np.pi / 6], 3, tf.complex128).numpy()
    # S2 = exp(z a1^dagger a2^dagger - z^* a1 a2): <1,1|S2|0,0> = e^{i phi} tanh r / cosh r
    expected = np.exp(1j * np.pi / 6) * np.tanh(0.5) / np.cosh(0.5)
    assert abs(s2[1, 1, 0, 0] - expected) < eps
    assert abs(s2[0, 0, 1, 1] + np.conj(expected)) < eps
    assert abs(s2[1, 0, 1, 0] - 1 / np.cosh(0.5) ** 2) < eps


# --------------------------------------------------------------------------- properties

angles = st.floats(-2 * np.pi, 2 * np.pi, allow_nan=False)
small = st.floats(-1.5, 1.5, allow_nan=False)
cutoffs = st.integers(2, 9)


def _conserving_block(u, cutoff):
    """Restrict a two-mode gate to {|m, n>: m + n < cutoff} (closed for passive gates)."""
    idx = [(m, n) for m in range(cutoff) for n in range(cutoff) if m + n < cutoff]
    return np.array([[u[m, n, p, q] for (p, q) in idx] for (m, n) in idx]), idx


@given(theta=angles, phi=angles, cutoff=cutoffs, kind=st.sampled_from(["beamsplitter", "mzgate"]))
def test_passive_two_mode_gates_unitary_on_number_block(theta, phi, cutoff, kind, tol, check):
    u = call_gate(kind, [theta, phi], cutoff, tf.complex128).numpy()
    # photon number is conserved: no element connects different total photon numbers
    m, n, p, q = np.indices(u.shape)
    assert np.max(np.abs(u[(m + n) != (p + q)]), initial=0.0) < tol.unitarity[tf.complex128]
    block, idx = _conserving_block(u, cutoff)
    err = np.abs(block.conj().T @ block - np.eye(len(idx))).max()
    assert err < tol.unitarity[tf.complex128], f"U^dagger U - 1 = {err}"
    # hence every input column with p + q < cutoff is exactly normalised
    flat = u.reshape(cutoff**2, cutoff**2)
    for p_, q_ in idx:
        col = flat[:, p_ * cutoff + q_]
        assert abs(np.vdot(col, col).real - 1.0) < tol.unitarity[tf.complex128]


@given(
    x=small,
    cutoff=cutoffs,
    kind=st.sampled_from(["rotation", "kerr"]),
    dtype=st.sampled_from(DTYPES),
)
def test_diagonal_single_mode_gates_unitary(x, cutoff, kind, dtype, tol, check):
    u = call_gate(kind, [x], cutoff, dtype).numpy().astype(np.complex128)
    assert np.abs(u - np.diag(np.diag(u))).max() < tol.gate[dtype]
    err = np.abs(u.conj().T @ u - np.eye(cutoff)).max()
    assert err < tol.unitarity[dtype]


@given(kappa=small, cutoff=cutoffs, dtype=st.sampled_from(DTYPES))
def test_cross_kerr_unitary(kappa, cutoff, dtype, tol, check):
    u = call_gate("cross_kerr", [kappa], cutoff, dtype).numpy().astype(np.complex128)
    flat = u.reshape(cutoff**2, cutoff**2)
    assert np.abs(flat - np.diag(np.diag(flat))).max() < tol.gate[dtype]
    err = np.abs(flat.conj().T @ flat - np.eye(cutoff**2)).max()
    assert err < tol.unitarity[dtype]


def _vacuum_column_norm(kind, r, cutoff):
    """Analytic sum over truncated outputs of |<out|U|vac>|^2 (the truncation tail)."""
    if kind == "displacement":  # Poisson(|alpha|^2)
        return sum(math.exp(-(r**2)) * r ** (2 * n) / math.factorial(n) for n in range(cutoff))
    if kind == "squeezing":  # |<2k|S|0>|^2 = (2k)! / (4^k k!^2) tanh^2k(r) / cosh(r)
        return sum(
            math.factorial(2 * k)
            / (4**k * math.factorial(k) ** 2)
            * math.tanh(r) ** (2 * k)
            / math.cosh(r)
            for k in range((cutoff + 1) // 2)
        )
    # two-mode squeezing: |<k,k|S2|0,0>|^2 = tanh^2k(r) / cosh^2(r)
    return sum(math.tanh(r) ** (2 * k) / math.cosh(r) ** 2 for k in range(cutoff))


@given(
    r=st.floats(0.0, 1.5, allow_nan=False),
    phi=angles,
    cutoff=st.integers(2, 10),
    kind=st.sampled_from(["displacement", "squeezing", "two_mode_squeezing"]),
)
def test_active_gates_truncation_tail(r, phi, cutoff, kind, tol, check):
    """Non-number-conserving gates: the vacuum column norm is the analytic truncation tail.

    This shrinks to 1 as the cutoff grows (norm leakage is physics, not error); the low
    block is the same at every cutoff (exact elements do not depend on the cutoff), and
    columns of low Fock inputs are never over-normalised.
    """
    if kind == "two_mode_squeezing" and cutoff > 8:
        cutoff = 8
    u = call_gate(kind, [r, phi], cutoff, tf.complex128).numpy()
    big = call_gate(kind, [r, phi], cutoff + 3, tf.complex128).numpy()
    two_mode = u.ndim == 4
    if two_mode:
        flat = u.reshape(cutoff**2, cutoff**2)
        low = big[:cutoff, :cutoff, :cutoff, :cutoff]
    else:
        flat = u
        low = big[:cutoff, :cutoff]
    check.amplitudes(u, low, tol.gate[tf.complex128], f"{kind} cutoff-independence")
    vac = flat[:, 0]
    expected = _vacuum_column_norm(kind, r, cutoff)
    assert abs(np.vdot(vac, vac).real - expected) < tol.unitarity[tf.complex128]
    norms = np.sum(np.abs(flat) ** 2, axis=0)
    assert np.all(norms <= 1.0 + tol.unitarity[tf.complex128])
    big_flat = big.reshape((cutoff + 3) ** 2, -1) if two_mode else big
    big_norms = np.sum(np.abs(big_flat) ** 2, axis=0)
    # a larger cutoff can only recover weight (for the same inputs)
    if two_mode:
        same_inputs = [p * (cutoff + 3) + q for p in range(cutoff) for q in range(cutoff)]
        assert np.all(big_norms[same_inputs] >= norms - tol.unitarity[tf.complex128])
    else:
        assert np.all(big_norms[:cutoff] >= norms - tol.unitarity[tf.complex128])


def test_active_gate_columns_converge_to_unitary(tol, check):
    """U^dagger U -> 1 on a low-number block as the cutoff grows, and not before.

    At a small cutoff the deviation is large (would catch a test that could not fail);
    at a cutoff well beyond the support of the low columns it is below tolerance.
    """
    for kind, args in [
        ("displacement", [1.0, 0.3]),
        ("squeezing", [0.4, 0.3]),
        ("two_mode_squeezing", [0.2, 0.3]),
    ]:
        devs = []
        for cutoff in (4, 12, 40 if kind != "two_mode_squeezing" else 30):
            u = call_gate(kind, args, cutoff, tf.complex128).numpy()
            if u.ndim == 4:
                flat = u.reshape(cutoff**2, cutoff**2)
                cols = [p * cutoff + q for p in range(2) for q in range(2)]
            else:
                flat = u
                cols = [0, 1]
            sub = flat[:, cols]
            devs.append(np.abs(sub.conj().T @ sub - np.eye(len(cols))).max())
        assert devs[0] > tol.nontrivial, (kind, devs)
        assert devs[1] < devs[0], (kind, devs)
        assert devs[2] < tol.unitarity[tf.complex128], (kind, devs)
