"""Truncated Fock-space matrices of Strawberry Fields' gates, built in-graph with TF ops.

Every function takes real arguments (Python floats, NumPy arrays or tf tensors) that
broadcast against each other, a ``cutoff`` D and a complex ``dtype``, and returns the
exact matrix elements of the gate restricted to photon numbers < D:

* single-mode gates: ``[..., D, D]`` with ``U[..., m, n] = <m|U|n>``;
* two-mode gates: ``[..., D, D, D, D]`` with ``U[..., m, n, p, q] = <m, n|U|p, q>``
  (output indices first, mode order as in the SF command).

Conventions are Strawberry Fields' (hbar = 2): ``Dgate(r, phi)`` displaces by
``alpha = r e^{i phi}``, ``Sgate(r, phi)`` squeezes by ``z = r e^{i phi}``,
``BSgate(theta, phi)`` has transmissivity ``cos(theta)`` and reflection phase ``phi``,
``MZgate(phi_in, phi_ex)``, ``S2gate(r, phi)``, ``Kgate(kappa) = exp(i kappa n^2)``,
``CKgate(kappa) = exp(i kappa n1 n2)``, ``Rgate(theta) = exp(i theta n)``.

The elements come from the same stable three-term recurrences as The Walrus
(``thewalrus.fock_gradients``), vectorised: each step of a recurrence computes a whole
column (or slice) of the matrix at once, so a gate costs O(D) TF ops whatever the
batch shape, and everything is differentiable by TF autodiff.
"""

from __future__ import annotations

import functools
from math import comb

import numpy as np
import tensorflow as tf

from qgan._tensors import real_dtype, to_tensor

__all__ = [
    "displacement",
    "squeezing",
    "rotation",
    "kerr",
    "beamsplitter",
    "mzgate",
    "two_mode_squeezing",
    "cross_kerr",
    "cubic_phase",
    "coherent_state",
    "squeezed_state",
    "fock_state",
    "cat_state",
    "displaced_squeezed_state",
    "thermal_probabilities",
    "thermal_preparation",
    "loss_channel",
    "amplifier_channel",
    "thermal_loss_channel",
]


def _real_args(dtype, *args):
    """Cast arguments to the real dtype matching ``dtype`` and broadcast them together."""
    rdt = real_dtype(dtype)
    out = [to_tensor(f"gate argument {i}", a, rdt) for i, a in enumerate(args)]
    shape = out[0].shape
    for a in out[1:]:
        shape = tf.broadcast_static_shape(shape, a.shape)
    if not shape.is_fully_defined():
        shape = tf.shape(out[0])
        for a in out[1:]:
            shape = tf.broadcast_dynamic_shape(shape, tf.shape(a))
        return [tf.broadcast_to(a, shape) for a in out]
    return [a if a.shape == shape else tf.broadcast_to(a, shape) for a in out]


def _complex(x):
    """A real tensor as complex (``tf.complex``, whose gradient needs no lossy cast)."""
    return tf.complex(x, tf.zeros_like(x))


def _polar(r, phi, dtype):
    """r e^{i phi} as a complex tensor."""
    return tf.complex(r * tf.cos(phi), r * tf.sin(phi))


def _const(values, dtype):
    return tf.constant(np.asarray(values), dtype=dtype)


def _shift(x, axis):
    """x shifted by one along ``axis`` (negative axis): y[k] = x[k-1], y[0] = 0."""
    rank = len(x.shape)
    axis = axis % rank
    pad = [[0, 0]] * rank
    pad[axis] = [1, 0]
    begin = [0] * rank
    size = [-1] * rank
    size[axis] = x.shape[axis]
    return tf.slice(tf.pad(x, pad), begin, size)


def _sqrt_index(cutoff, rank, axis, dtype):
    """sqrt(k) along ``axis`` of a rank-``rank`` tensor, broadcastable."""
    shape = [1] * rank
    shape[axis % rank] = cutoff
    return _const(np.sqrt(np.arange(cutoff)).reshape(shape), dtype)


# ---------------------------------------------------------------- single-mode gates


def displacement(r, phi, cutoff: int, dtype=tf.complex64):
    r"""Displacement ``D(alpha)``, ``alpha = r e^{i phi}`` (SF's ``Dgate(r, phi)``):
    ``[..., D, D]``.

    .. math::

        D(\alpha) = \exp(\alpha a^\dagger - \alpha^* a), \qquad \alpha = r e^{i\phi}

    (hbar = 2: it shifts the mean of :math:`\hat{x}` by :math:`2\,\mathrm{Re}\,\alpha`.)
    Recurrence (columns n): ``D[m, 0] = alpha / sqrt(m) D[m-1, 0]`` from
    ``D[0, 0] = exp(-r^2 / 2)``; ``D[m, n] = (-alpha^* D[m, n-1] + sqrt(m) D[m-1, n-1]) / sqrt(n)``.

    >>> U = displacement(0.3, 0.0, cutoff=4, dtype=tf.complex128)
    >>> round(float(U[0, 0].numpy().real), 6), round(float(np.exp(-0.3**2 / 2)), 6)
    (0.955997, 0.955997)
    >>> displacement([0.1, 0.2], 0.0, cutoff=4).shape  # a batch of two gates
    TensorShape([2, 4, 4])
    """
    r, phi = _real_args(dtype, r, phi)
    alpha = _polar(r, phi, dtype)[..., None]
    mu = -tf.math.conj(alpha)
    sqrt_m = _sqrt_index(cutoff, 1, -1, dtype)
    first = [_complex(tf.exp(-0.5 * r * r))[..., None]]
    for m in range(1, cutoff):
        first.append(first[-1] * alpha / np.sqrt(m))
    cols = [tf.concat(first, axis=-1)]
    for n in range(1, cutoff):
        prev = cols[-1]
        cols.append((mu * prev + sqrt_m * _shift(prev, -1)) / np.sqrt(n))
    return tf.stack(cols, axis=-1)


def squeezing(r, phi, cutoff: int, dtype=tf.complex64):
    r"""Single-mode squeezing ``S(z)``, ``z = r e^{i phi}`` (SF's ``Sgate(r, phi)``):
    ``[..., D, D]``.

    .. math::

        S(z) = \exp\left(\tfrac{1}{2}(z^* a^2 - z {a^\dagger}^2)\right), \qquad z = r e^{i\phi}

    With ``t = e^{i phi} tanh r`` and ``s = sech r``: ``S[0, 0] = sqrt(s)``,
    ``S[m, 0] = -sqrt((m-1)/m) t S[m-2, 0]``,
    ``S[m, n] = (sqrt(n-1) t^* S[m, n-2] + sqrt(m) s S[m-1, n-1]) / sqrt(n)``.

    >>> U = squeezing(0.2, 0.0, cutoff=4, dtype=tf.complex128)
    >>> round(float(U[0, 0].numpy().real), 6), round(float(np.sqrt(1 / np.cosh(0.2))), 6)
    (0.990115, 0.990115)
    >>> round(float(U[1, 0].numpy().real), 6)  # squeezing only couples even photon numbers
    0.0
    """
    r, phi = _real_args(dtype, r, phi)
    t = _polar(tf.tanh(r), phi, dtype)[..., None]
    sech = _complex(1.0 / tf.cosh(r))[..., None]
    sqrt_m = _sqrt_index(cutoff, 1, -1, dtype)
    first = [tf.sqrt(sech)]
    zero = tf.zeros_like(first[0])
    for m in range(1, cutoff):
        first.append(zero if m % 2 else -np.sqrt((m - 1) / m) * t * first[m - 2])
    cols = [tf.concat(first, axis=-1)]
    for n in range(1, cutoff):
        term = sqrt_m * sech * _shift(cols[n - 1], -1)
        if n >= 2:
            term = term + np.sqrt(n - 1) * tf.math.conj(t) * cols[n - 2]
        cols.append(term / np.sqrt(n))
    return tf.stack(cols, axis=-1)


def _diagonal_phase(angle, exponents, dtype):
    """diag(exp(i * angle * exponents)) for a real angle tensor ``[...]``."""
    rdt = real_dtype(dtype)
    phase = angle[..., None] * tf.constant(exponents, dtype=rdt)
    return tf.linalg.diag(tf.exp(tf.complex(tf.zeros_like(phase), phase)))


def rotation(theta, cutoff: int, dtype=tf.complex64):
    r"""Phase rotation ``R(theta)`` (SF's ``Rgate(theta)``): ``[..., D, D]`` (diagonal).

    .. math::

        R(\theta) = e^{i \theta a^\dagger a}

    >>> U = rotation(0.5, cutoff=3, dtype=tf.complex128)
    >>> complex(np.round(U[2, 2].numpy(), 4))  # exp(i 0.5 * 2)
    (0.5403+0.8415j)
    """
    (theta,) = _real_args(dtype, theta)
    return _diagonal_phase(theta, np.arange(cutoff, dtype=float), dtype)


def kerr(kappa, cutoff: int, dtype=tf.complex64):
    r"""Kerr gate ``K(kappa)`` (SF's ``Kgate(kappa)``): ``[..., D, D]`` (diagonal).

    .. math::

        K(\kappa) = e^{i \kappa \hat{n}^2}

    >>> U = kerr(0.1, cutoff=3, dtype=tf.complex128)
    >>> complex(np.round(U[2, 2].numpy(), 4))  # exp(i 0.1 * 2**2)
    (0.9211+0.3894j)
    """
    (kappa,) = _real_args(dtype, kappa)
    return _diagonal_phase(kappa, np.arange(cutoff, dtype=float) ** 2, dtype)


# ---------------------------------------------------------------- two-mode gates


def _two_mode_from_diagonal(diag, cutoff):
    """``[..., D*D]`` diagonal (index m*D + n) -> ``[..., D, D, D, D]`` two-mode tensor."""
    mat = tf.linalg.diag(diag)
    shape = tf.concat([tf.shape(diag)[:-1], [cutoff] * 4], axis=0)
    return tf.reshape(mat, shape)


def cross_kerr(kappa, cutoff: int, dtype=tf.complex64):
    r"""Cross-Kerr ``CK(kappa)`` (SF's ``CKgate(kappa)``): ``[..., D, D, D, D]`` (diagonal).

    .. math::

        CK(\kappa) = e^{i \kappa \hat{n}_1 \hat{n}_2}

    >>> U = cross_kerr(0.3, cutoff=3, dtype=tf.complex128)
    >>> complex(np.round(U[2, 1, 2, 1].numpy(), 4))  # exp(i 0.3 * 2 * 1)
    (0.8253+0.5646j)
    """
    (kappa,) = _real_args(dtype, kappa)
    n = np.arange(cutoff, dtype=float)
    return _two_mode_from_diagonal(_diag_vector(kappa, np.outer(n, n).ravel(), dtype), cutoff)


def _diag_vector(angle, exponents, dtype):
    rdt = real_dtype(dtype)
    phase = angle[..., None] * tf.constant(exponents, dtype=rdt)
    return tf.exp(tf.complex(tf.zeros_like(phase), phase))


def _passive_two_mode(w02, w12, w03, w13, cutoff):
    """Fock tensor of a passive (photon-number conserving) two-mode gate.

    The four complex coefficients are The Walrus' ``R[0, 2], R[1, 2], R[0, 3], R[1, 3]``
    (the mode transformation). Slices over ``p`` (with q = 0) seed slices over ``q``:
    ``Z[m, n, p, 0] = (w02 sqrt(m) Z[m-1, n, p-1, 0] + w12 sqrt(n) Z[m, n-1, p-1, 0]) / sqrt(p)``,
    ``Z[m, n, p, q] = (w03 sqrt(m) Z[m-1, n, p, q-1] + w13 sqrt(n) Z[m, n-1, p, q-1]) / sqrt(q)``.
    Entries off the conservation law ``m + n = p + q`` stay exactly zero.
    """
    dtype = w02.dtype
    w02, w12, w03, w13 = (w[..., None, None] for w in (w02, w12, w03, w13))
    sqrt_m = _sqrt_index(cutoff, 2, -2, dtype)
    sqrt_n = _sqrt_index(cutoff, 2, -1, dtype)
    onehot = np.zeros((cutoff, cutoff))
    onehot[0, 0] = 1.0
    slab = tf.zeros_like(w02) + _const(onehot, dtype)  # [..., m, n] at p = 0
    p_slices = [slab]
    for p in range(1, cutoff):
        prev = p_slices[-1]
        p_slices.append(
            (w02 * sqrt_m * _shift(prev, -2) + w12 * sqrt_n * _shift(prev, -1)) / np.sqrt(p)
        )
    # [..., m, n, p] at q = 0
    q_slices = [tf.stack(p_slices, axis=-1)]
    w03, w13 = w03[..., None], w13[..., None]
    sqrt_m3 = _sqrt_index(cutoff, 3, -3, dtype)
    sqrt_n3 = _sqrt_index(cutoff, 3, -2, dtype)
    for q in range(1, cutoff):
        prev = q_slices[-1]
        q_slices.append(
            (w03 * sqrt_m3 * _shift(prev, -3) + w13 * sqrt_n3 * _shift(prev, -2)) / np.sqrt(q)
        )
    return tf.stack(q_slices, axis=-1)


def beamsplitter(theta, phi, cutoff: int, dtype=tf.complex64):
    r"""Beamsplitter ``BS(theta, phi)`` (SF's ``BSgate(theta, phi)``): ``[..., D, D, D, D]``.

    .. math::

        B(\theta, \phi) = \exp\left(\theta (e^{i\phi} a_1 a_2^\dagger
            - e^{-i\phi} a_1^\dagger a_2)\right)

    Mode transformation coefficients ``t = cos(theta)``, ``r = e^{i phi} sin(theta)``.

    >>> U = beamsplitter(np.pi / 6, 0.0, cutoff=3, dtype=tf.complex128)
    >>> float(np.round(abs(U[1, 0, 0, 1].numpy()) ** 2, 6))  # |0,1> -> |1,0>: sin^2(pi/6)
    0.25
    """
    theta, phi = _real_args(dtype, theta, phi)
    t = _complex(tf.cos(theta))
    r = _polar(tf.sin(theta), phi, dtype)
    return _passive_two_mode(t, r, -tf.math.conj(r), t, cutoff)


def mzgate(phi_in, phi_ex, cutoff: int, dtype=tf.complex64):
    r"""Mach-Zehnder interferometer ``MZ(phi_in, phi_ex)`` (SF's ``MZgate``):
    ``[..., D, D, D, D]``.

    .. math::

        \mathrm{MZ}(\phi_{in}, \phi_{ex}) = B\left(\tfrac{\pi}{4}, \tfrac{\pi}{2}\right)
            (R(\phi_{in}) \otimes I)\, B\left(\tfrac{\pi}{4}, \tfrac{\pi}{2}\right)
            (R(\phi_{ex}) \otimes I)

    As one exact gate.

    >>> U = mzgate(0.0, 0.0, cutoff=3, dtype=tf.complex128)  # phi_in = 0: the modes swap
    >>> float(np.round(abs(U[0, 1, 1, 0].numpy()) ** 2, 6))
    1.0
    """
    phi_in, phi_ex = _real_args(dtype, phi_in, phi_ex)
    one = tf.ones_like(phi_in)
    v = _polar(one, phi_in, dtype)
    u = _polar(one, phi_ex, dtype)
    i = tf.constant(1j, dtype=dtype)
    return _passive_two_mode(
        0.5 * u * (v - 1), 0.5 * i * u * (1 + v), 0.5 * i * (1 + v), 0.5 * (1 - v), cutoff
    )


def two_mode_squeezing(r, phi, cutoff: int, dtype=tf.complex64):
    r"""Two-mode squeezing ``S2(z)``, ``z = r e^{i phi}`` (SF's ``S2gate(r, phi)``):
    ``[..., D, D, D, D]``.

    .. math::

        S_2(z) = \exp\left(z a_1^\dagger a_2^\dagger - z^* a_1 a_2\right),
            \qquad z = r e^{i\phi}

    With ``t = e^{-i phi} tanh r`` and ``s = sech r``: ``Z[n, n, 0, 0] = s (t^*)^n``,
    ``Z[m, n, p, 0] = s sqrt(m/p) Z[m-1, n, p-1, 0]`` and
    ``Z[m, n, p, q] = (s sqrt(n) Z[m, n-1, p, q-1] - t sqrt(p) Z[m, n, p-1, q-1]) / sqrt(q)``;
    entries off ``m - n = p - q`` stay zero.

    >>> U = two_mode_squeezing(0.4, 0.0, cutoff=4, dtype=tf.complex128)
    >>> round(float(U[0, 0, 0, 0].numpy().real), 6), round(float(1 / np.cosh(0.4)), 6)
    (0.925007, 0.925007)
    >>> round(float(U[1, 1, 0, 0].numpy().real), 6)  # tanh(r) sech(r)
    0.351456
    """
    r, phi = _real_args(dtype, r, phi)
    t = _polar(tf.tanh(r), -phi, dtype)
    s = _complex(1.0 / tf.cosh(r))
    tc = tf.math.conj(t)
    # p = 0 slice over [m, n]: diagonal s * (t^*)^n
    powers = [s]
    for _ in range(1, cutoff):
        powers.append(powers[-1] * tc)
    p_slices = [tf.linalg.diag(tf.stack(powers, axis=-1))]
    s2, t2 = s[..., None, None], t[..., None, None]
    sqrt_m = _sqrt_index(cutoff, 2, -2, dtype)
    for p in range(1, cutoff):
        p_slices.append(s2 * sqrt_m * _shift(p_slices[-1], -2) / np.sqrt(p))
    q_slices = [tf.stack(p_slices, axis=-1)]  # [..., m, n, p] at q = 0
    s3, t3 = s2[..., None], t2[..., None]
    sqrt_n3 = _sqrt_index(cutoff, 3, -2, dtype)
    sqrt_p3 = _sqrt_index(cutoff, 3, -1, dtype)
    for q in range(1, cutoff):
        prev = q_slices[-1]
        q_slices.append(
            (s3 * sqrt_n3 * _shift(prev, -2) - t3 * sqrt_p3 * _shift(prev, -1)) / np.sqrt(q)
        )
    return tf.stack(q_slices, axis=-1)


# ---------------------------------------------------------------- state preparations


def coherent_state(r, phi, cutoff: int, dtype=tf.complex64):
    r"""Coherent state ``|alpha>``, ``alpha = r e^{i phi}`` (SF's ``Coherent(r, phi)``):
    ``[..., D]`` (exact amplitudes).

    .. math::

        |\alpha\rangle = e^{-|\alpha|^2/2} \sum_n \frac{\alpha^n}{\sqrt{n!}} |n\rangle

    >>> psi = coherent_state(0.5, 0.0, cutoff=4, dtype=tf.complex128)
    >>> np.round(np.abs(psi.numpy()) ** 2, 4)  # Poisson with mean 0.25
    array([0.7788, 0.1947, 0.0243, 0.002 ])
    """
    r, phi = _real_args(dtype, r, phi)
    alpha = _polar(r, phi, dtype)
    amps = [_complex(tf.exp(-0.5 * r * r))]
    for n in range(1, cutoff):
        amps.append(amps[-1] * alpha / np.sqrt(n))
    return tf.stack(amps, axis=-1)


def squeezed_state(r, phi, cutoff: int, dtype=tf.complex64):
    r"""Squeezed vacuum ``S(r e^{i phi})|0>`` (SF's ``Squeezed(r, phi)``): ``[..., D]``
    (exact amplitudes).

    .. math::

        S(z)|0\rangle = \frac{1}{\sqrt{\cosh r}} \sum_n \frac{\sqrt{(2n)!}}{2^n n!}
            (-e^{i\phi} \tanh r)^n |2n\rangle

    >>> psi = squeezed_state(0.2, 0.0, cutoff=4, dtype=tf.complex128)
    >>> np.round(psi.numpy().real, 6)
    array([ 0.990115,  0.      , -0.138186,  0.      ])
    """
    r, phi = _real_args(dtype, r, phi)
    t = _polar(tf.tanh(r), phi, dtype)
    amps = [_complex(tf.sqrt(1.0 / tf.cosh(r)))]
    zero = tf.zeros_like(amps[0])
    for n in range(1, cutoff):
        amps.append(zero if n % 2 else -np.sqrt((n - 1) / n) * t * amps[n - 2])
    return tf.stack(amps, axis=-1)


def fock_state(n: int, cutoff: int, dtype=tf.complex64):
    r"""Fock state ``|n>`` (SF's ``Fock(n)``): ``[D]``; ``n`` must be a Python int below the
    cutoff.

    .. math::

        |n\rangle = \frac{(a^\dagger)^n}{\sqrt{n!}} |0\rangle

    >>> fock_state(2, cutoff=4).numpy().real
    array([0., 0., 1., 0.], dtype=float32)
    """
    vec = np.zeros(cutoff)
    vec[n] = 1.0
    return _const(vec, dtype)


def cat_state(a, phi, p, cutoff: int, dtype=tf.complex64):
    r"""Cat state (SF's ``Catstate(a, phi, p)``): ``[..., D]``, SF's amplitudes exactly.

    .. math::

        |\mathrm{cat}\rangle = N\left(|\alpha\rangle + e^{i\pi p}|-\alpha\rangle\right),
        \qquad \alpha = a e^{i\phi},\quad
        N = \frac{1}{\sqrt{2(1 + \cos(\pi p) e^{-2|\alpha|^2})}}

    (normalised on the infinite space, like SF; the truncation is left to ``leakage``).

    >>> psi = cat_state(1.0, 0.0, 0.0, cutoff=4, dtype=tf.complex128)  # even cat
    >>> float(np.round(np.abs(psi.numpy()) ** 2, 4)[1])  # no odd photon numbers
    0.0
    """
    a, phi, p = _real_args(dtype, a, phi, p)
    alpha = _polar(a, phi, dtype)
    theta = np.pi * p
    norm = tf.exp(-0.5 * a * a) / tf.sqrt(2.0 * (1.0 + tf.cos(theta) * tf.exp(-2.0 * a * a)))
    relative = tf.complex(tf.cos(theta), tf.sin(theta))
    amps, term = [], _complex(norm)
    for n in range(cutoff):
        if n:
            term = term * alpha / np.sqrt(n)
        amps.append(term * (1.0 + relative * (-1.0) ** n))
    return tf.stack(amps, axis=-1)


def displaced_squeezed_state(r_d, phi_d, r_s, phi_s, cutoff: int, dtype=tf.complex64):
    r"""Displaced squeezed state ``D(alpha) S(z)|0>``, ``alpha = r_d e^{i phi_d}``,
    ``z = r_s e^{i phi_s}`` (SF's ``DisplacedSqueezed``): ``[..., D]`` (exact amplitudes).

    The state is annihilated by ``cosh(r) (a - alpha) + e^{i phi_s} sinh(r) (a^dagger -
    alpha^*)``, which gives the recurrence

    .. math::

        c_0 = \frac{e^{-|\alpha|^2/2 - \alpha^{*2} e^{i\phi_s}\tanh r / 2}}{\sqrt{\cosh r}},
        \quad c_{n+1} = \frac{\gamma c_n - e^{i\phi_s}\sinh r\,\sqrt{n}\,c_{n-1}}
            {\cosh r\,\sqrt{n+1}},\quad
        \gamma = \alpha\cosh r + \alpha^* e^{i\phi_s}\sinh r

    (SF's Hermite-polynomial formula without its ``1e-10`` regulariser).

    >>> psi = displaced_squeezed_state(0.3, 0.0, 0.0, 0.0, cutoff=3, dtype=tf.complex128)
    >>> np.allclose(psi.numpy(), coherent_state(0.3, 0.0, 3, tf.complex128).numpy())
    True
    """
    r_d, phi_d, r_s, phi_s = _real_args(dtype, r_d, phi_d, r_s, phi_s)
    alpha = _polar(r_d, phi_d, dtype)
    ph = _polar(tf.ones_like(r_s), phi_s, dtype)
    ch, sh = _complex(tf.cosh(r_s)), _complex(tf.sinh(r_s))
    gamma = alpha * ch + tf.math.conj(alpha) * ph * sh
    first = tf.exp(
        -0.5 * _complex(r_d * r_d) - 0.5 * tf.math.conj(alpha) ** 2 * ph * _complex(tf.tanh(r_s))
    ) / tf.sqrt(ch)
    amps = [first]
    for n in range(1, cutoff):
        nxt = gamma * amps[-1]
        if n >= 2:
            nxt = nxt - ph * sh * np.sqrt(n - 1) * amps[-2]
        amps.append(nxt / (ch * np.sqrt(n)))
    return tf.stack(amps, axis=-1)


@functools.lru_cache(maxsize=32)
def _cubic_phase_basis(cutoff: int):
    """Eigen-decomposition of SF's truncated ``x^3`` (hbar = 2): ``(eigenvalues, vectors)``."""
    a = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    x = (a + a.T) * np.sqrt(2.0 / 2)
    return np.linalg.eigh(x @ x @ x)


def cubic_phase(gamma, cutoff: int, dtype=tf.complex64):
    r"""Cubic phase gate ``V(gamma)`` (SF's ``Vgate``): ``[..., D, D]``, built exactly as
    SF's Fock backends build it.

    .. math::

        V(\gamma) = \exp\left(\frac{i\gamma}{3\hbar}\, \hat{x}_D^3\right)

    where :math:`\hat{x}_D = \sqrt{\hbar/2}(a_D + a_D^\dagger)` is built from the
    *truncated* annihilation operator, so this is the exponential of a truncated matrix,
    not the truncation of the infinite operator. ``x_D^3`` is real symmetric, so
    ``V = Q diag(exp(i gamma lambda / (3 hbar))) Q^T`` with its constant eigen-
    decomposition (computed once in float64).

    >>> U = cubic_phase(0.1, cutoff=4, dtype=tf.complex128)
    >>> bool(np.allclose(U.numpy() @ U.numpy().conj().T, np.eye(4)))  # unitary
    True
    """
    (gamma,) = _real_args(dtype, gamma)
    values, vectors = _cubic_phase_basis(cutoff)
    rdt = real_dtype(dtype)
    phase = gamma[..., None] * tf.constant(values / (3 * 2.0), rdt)
    diag = tf.exp(tf.complex(tf.zeros_like(phase), phase))
    q = _const(vectors, dtype)
    return tf.linalg.matmul(q * diag[..., None, :], q, transpose_b=True)


def _powers(base, count: int):
    """``[base^0, ..., base^(count-1)]`` along a new last axis, by products (no pow, so the
    gradient at base 0 is finite)."""
    out = [tf.ones_like(base)]
    for _ in range(1, count):
        out.append(out[-1] * base)
    return tf.stack(out, axis=-1)


def _superop_from_powers(coef, first, first_index, second, second_index, cutoff, dtype):
    """``S[..., m, n, p, q] = coef * first[..., i1] * second[..., i2]`` with constant index
    tables ``[D, D, D, D]``; entries where ``coef`` is 0 vanish."""
    shape = [cutoff] * 4
    f = tf.gather(first, first_index.ravel(), axis=-1)
    s = tf.gather(second, second_index.ravel(), axis=-1)
    rdt = real_dtype(dtype)
    values = tf.constant(coef.ravel(), rdt) * f * s
    lead = tf.shape(values)[:-1]
    return _complex(tf.reshape(values, tf.concat([lead, shape], axis=0)))


@functools.lru_cache(maxsize=32)
def _loss_tables(cutoff: int):
    """Index tables of the loss superoperator: ``l = p - m = q - n >= 0``."""
    m, n, p, q = np.meshgrid(*[np.arange(cutoff)] * 4, indexing="ij")
    lost = p - m
    valid = (lost >= 0) & (q - n == lost)
    coef = np.zeros([cutoff] * 4)
    for idx in zip(*np.nonzero(valid), strict=True):
        k = lost[idx]
        coef[idx] = np.sqrt(comb(int(p[idx]), int(k)) * comb(int(q[idx]), int(k)))
    return coef, np.where(valid, m + n, 0), np.where(valid, lost, 0)


@functools.lru_cache(maxsize=32)
def _amplifier_tables(cutoff: int):
    """Index tables of the amplifier superoperator: ``k = m - p = n - q >= 0``."""
    m, n, p, q = np.meshgrid(*[np.arange(cutoff)] * 4, indexing="ij")
    gained = m - p
    valid = (gained >= 0) & (n - q == gained)
    coef = np.zeros([cutoff] * 4)
    for idx in zip(*np.nonzero(valid), strict=True):
        k = gained[idx]
        coef[idx] = np.sqrt(comb(int(m[idx]), int(k)) * comb(int(n[idx]), int(k)))
    return coef, np.where(valid, gained, 0), np.where(valid, p + q + 2, 0)


def loss_channel(T, cutoff: int, dtype=tf.complex64):
    r"""Pure-loss channel (SF's ``LossChannel(T)``) as a superoperator ``[..., D, D, D, D]``:
    ``S[..., m, n, p, q]`` maps ``rho[p, q]`` to ``rho'[m, n]`` (``rho' = S . rho``).

    Kraus operators (SF's ``lossChannel``, exact on the truncated space since loss never
    raises the photon number):

    .. math::

        K_l = \sum_n \sqrt{\binom{n}{l}}\, T^{(n-l)/2} (1-T)^{l/2}\, |n-l\rangle\langle n|,
        \qquad S_{mnpq} = \sum_l (K_l)_{mp} (K_l)^*_{nq}

    >>> S = loss_channel(0.0, cutoff=3, dtype=tf.complex128)  # T = 0: everything to vacuum
    >>> float(S[0, 0, 2, 2].numpy().real)
    1.0
    """
    (T,) = _real_args(dtype, T)
    coef, t_index, l_index = _loss_tables(cutoff)
    sqrt_t = _powers(tf.sqrt(T), 2 * cutoff - 1)
    lost = _powers(1.0 - T, cutoff)
    return _superop_from_powers(coef, sqrt_t, t_index, lost, l_index, cutoff, dtype)


def amplifier_channel(G, cutoff: int, dtype=tf.complex64):
    r"""Phase-insensitive amplifier of gain ``G >= 1`` as a superoperator
    ``[..., D, D, D, D]`` (convention of :func:`loss_channel`), exact on the truncated
    space (its output is cut at the cutoff; input photon numbers are never lowered):

    .. math::

        A_k = \sum_n \sqrt{\binom{n+k}{k}}\,(1 - 1/G)^{k/2}\, G^{-(n+1)/2}
            |n+k\rangle\langle n|

    >>> S = amplifier_channel(1.0, cutoff=3, dtype=tf.complex128)  # G = 1: identity
    >>> float(S[1, 1, 1, 1].numpy().real)
    1.0
    """
    (G,) = _real_args(dtype, G)
    coef, k_index, g_index = _amplifier_tables(cutoff)
    gain = _powers(1.0 - 1.0 / G, cutoff)
    inv = _powers(1.0 / tf.sqrt(G), 2 * cutoff + 1)
    return _superop_from_powers(coef, gain, k_index, inv, g_index, cutoff, dtype)


def compose_superops(second, first, cutoff: int):
    """``second o first`` for superoperators ``[..., D, D, D, D]`` (first acts first)."""
    d2 = cutoff * cutoff

    def flat(s):
        return tf.reshape(s, tf.concat([tf.shape(s)[:-4], [d2, d2]], axis=0))

    out = tf.linalg.matmul(flat(second), flat(first))
    return tf.reshape(out, tf.concat([tf.shape(out)[:-2], [cutoff] * 4], axis=0))


def thermal_loss_channel(T, nbar, cutoff: int, dtype=tf.complex64):
    r"""Thermal-loss channel (SF's ``ThermalLossChannel(T, nbar)``): a beamsplitter of
    transmissivity ``T`` with a thermal mode of mean photon number ``nbar``, traced out.
    Superoperator ``[..., D, D, D, D]`` (convention of :func:`loss_channel`).

    On quadratures (hbar = 2): ``mu -> sqrt(T) mu``,
    ``V -> T V + (1 - T)(2 nbar + 1) I``. Built as an amplifier of gain
    ``G = 1 + (1 - T) nbar`` after a loss of transmissivity ``T / G`` (the same Gaussian
    map; both are exact on the truncated space, so the composition is too):

    .. math::

        \mathcal{E}_{T, \bar n} = \mathcal{A}_G \circ \mathcal{L}_{T/G},
        \qquad G = 1 + (1 - T)\bar n

    >>> S = thermal_loss_channel(0.5, 0.0, cutoff=3, dtype=tf.complex128)  # nbar=0: loss
    >>> bool(np.allclose(S.numpy(), loss_channel(0.5, 3, tf.complex128).numpy()))
    True
    """
    T, nbar = _real_args(dtype, T, nbar)
    gain = 1.0 + (1.0 - T) * nbar
    loss = loss_channel(T / gain, cutoff, dtype)
    return compose_superops(amplifier_channel(gain, cutoff, dtype), loss, cutoff)


def thermal_probabilities(nbar, cutoff: int, dtype=tf.float64):
    r"""Photon-number distribution of a thermal state: real ``[..., D]`` (``dtype`` real).

    .. math::

        p_n = \frac{\bar n^n}{(1 + \bar n)^{n+1}}

    >>> np.round(thermal_probabilities(1.0, 3).numpy(), 4)
    array([0.5  , 0.25 , 0.125])
    """
    nbar = to_tensor("nbar", nbar, dtype)
    return _powers(nbar / (1.0 + nbar), cutoff) / (1.0 + nbar)[..., None]


def thermal_preparation(nbar, cutoff: int, dtype=tf.complex64):
    r"""SF's ``Thermal(nbar)`` as a map on a (ket mode, bra mode) pair that sends the
    vacuum ``|0><0|`` to the thermal state ``sum_n p_n |n><n|``: ``[..., D, D, D, D]``
    with ``S[..., n, n, 0, 0] = p_n`` and all other elements 0 (it is only ever applied to
    the vacuum).

    .. math::

        \rho_{\mathrm{th}} = \sum_n \frac{\bar n^n}{(1 + \bar n)^{n+1}} |n\rangle\langle n|,
        \qquad S_{nn00} = p_n

    >>> S = thermal_preparation(1.0, cutoff=3, dtype=tf.complex128)
    >>> float(S[1, 1, 0, 0].numpy().real)
    0.25
    """
    (nbar,) = _real_args(dtype, nbar)
    probs = thermal_probabilities(nbar, cutoff, real_dtype(dtype))
    select = np.zeros((cutoff, cutoff * cutoff * cutoff * cutoff))
    for n in range(cutoff):
        select[n, ((n * cutoff + n) * cutoff) * cutoff] = 1.0
    flat = tf.linalg.matmul(probs[..., None, :], tf.constant(select, probs.dtype))[..., 0, :]
    lead = tf.shape(flat)[:-1]
    return _complex(tf.reshape(flat, tf.concat([lead, [cutoff] * 4], axis=0)))
