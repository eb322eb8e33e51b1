"""``FockResult``: a Fock-space state (pure or mixed) with SF's state API where it overlaps.

A result holds one of three representations (see :func:`qgan.photonic.plan.lower`): a ket
(pure), a ket with "terminal" channels per mode (channels after the last gate on their
mode: readouts apply them to the reduced quantities they need, and the full density
matrix is only formed by :meth:`FockResult.dm`), or a density matrix in SF's layout
``[B, D, D, ..., D, D]`` (ket and bra index of mode 0, of mode 1, ...).

Eager use is as fast as compiled use: each readout's arithmetic is one function of
tensors (``_probabilities``, ``_reduced_dms``, ``_photon_moments``, ``_quadrature_moments``)
which, when TensorFlow executes eagerly, runs as one compiled call (a cached
``tf.function``) instead of one dispatch per operation, and which a caller's own
``tf.function`` inlines as plain operations. Under an eager ``tf.GradientTape`` such a call
is one recorded operation with a compiled gradient, so the backward pass of the README's
eager pattern costs what the compiled one does.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from qgan._validate import check_int

HBAR = 2.0  # Strawberry Fields' default convention: x = sqrt(hbar/2) (a + a^dagger)


class _PerRankFunctions:
    """One ``tf.function`` of ``fn`` per combination of its tensor arguments' ranks.

    ``reduce_retracing`` generalises the shapes of a second call: given a rank-4 and then
    a rank-5 argument (a shared and a per-sample channel), it would trace once more with
    an argument of unknown rank, which shape-dependent code (einsum, the rank checks)
    cannot handle. Keying by rank keeps every trace's ranks known while batches still
    generalise."""

    def __init__(self, fn):
        self._fn = fn
        self._by_rank: dict[tuple, object] = {}

    def __call__(self, *args):
        key = tuple(getattr(getattr(a, "shape", None), "rank", None) for a in args)
        compiled = self._by_rank.get(key)
        if compiled is None:
            compiled = tf.function(self._fn, autograph=False, reduce_retracing=True)
            self._by_rank[key] = compiled
        return compiled(*args)

    def experimental_get_tracing_count(self) -> int:
        return sum(f.experimental_get_tracing_count() for f in self._by_rank.values())


def _compiled_when_eager(fn):
    """``fn`` run as one compiled call when executing eagerly, inline inside a graph.

    The compiled function keeps one trace per Python-argument combination (modes,
    cutoff) and per combination of tensor ranks, and generalises the batch axis after a
    second batch size (``reduce_retracing``), so eager calls with varying batches do not
    retrace each time.
    """
    compiled = _PerRankFunctions(fn)

    @functools.wraps(fn)
    def call(*args):
        if tf.executing_eagerly():
            return compiled(*args)
        return fn(*args)

    call.compiled = compiled  # for tests: its tracing count
    return call


@_compiled_when_eager
def _probabilities(ket):
    return tf.math.real(ket * tf.math.conj(ket))


@_compiled_when_eager
def _norm(ket, n_modes: int, batched: bool):
    # axes from the static structure, not ket.shape: reduce_retracing may relax the rank
    offset = 1 if batched else 0
    probs = tf.math.real(ket * tf.math.conj(ket))
    return tf.reduce_sum(probs, axis=list(range(offset, offset + n_modes)))


@_compiled_when_eager
def _reduced_dms(ket, cutoff: int, n_modes: int, modes: tuple[int, ...]):
    """Reduced density matrices ``[B, D, D]`` of ``modes`` of a batched ket ``[B, D..D]``."""
    d = cutoff
    out = []
    for mode in modes:
        left, right = d**mode, d ** (n_modes - mode - 1)
        if right == 1:  # mode is the last axis: rho = X^T X^*, X = [B, L, D]
            view = tf.reshape(ket, [-1, left, d])
            rho = tf.linalg.matmul(view, tf.math.conj(view), transpose_a=True)
        else:  # rho = Y Y^dagger, Y = [B, D, L * R]
            view = tf.reshape(ket, [-1, left, d, right])
            if left > 1:
                view = tf.transpose(view, [0, 2, 1, 3])
            flat = tf.reshape(view, [-1, d, left * right])
            rho = tf.linalg.matmul(flat, flat, adjoint_b=True)
        out.append(rho)
    return tuple(out)


@_compiled_when_eager
def _photon_moments(rho, cutoff: int):
    """``(<n>, Var n)`` from a reduced density matrix ``[..., D, D]``."""
    probs = tf.math.real(tf.linalg.diag_part(rho))
    n = tf.constant(np.arange(cutoff), probs.dtype)
    mean = tf.reduce_sum(n * probs, axis=-1)
    return mean, tf.reduce_sum(n * n * probs, axis=-1) - mean * mean


@_compiled_when_eager
def _quadrature_moments(rho, phi, cutoff: int):
    """``(<x_phi>, Var x_phi)`` from a reduced density matrix ``[..., D, D]`` (hbar = 2)."""
    real = tf.math.real(rho).dtype
    d = cutoff
    # <a> = sum_m sqrt(m) rho[m, m-1];  <a^2> = sum_m sqrt(m (m-1)) rho[m, m-2]
    a1 = tf.reduce_sum(
        tf.linalg.diag_part(rho, k=-1) * tf.constant(np.sqrt(np.arange(1, d)), rho.dtype),
        axis=-1,
    )
    if d > 2:
        weights = np.sqrt(np.arange(2, d) * np.arange(1, d - 1))
        sub2 = tf.linalg.diag_part(rho, k=-2)
        a2 = tf.reduce_sum(sub2 * tf.constant(weights, rho.dtype), axis=-1)
    else:
        a2 = tf.zeros_like(a1)
    rot1 = tf.exp(tf.complex(tf.zeros_like(phi), -phi))
    scale = np.sqrt(HBAR / 2)
    mean = 2 * scale * tf.math.real(rot1 * a1)
    probs = tf.math.real(tf.linalg.diag_part(rho))
    diag = tf.constant(2 * np.arange(d) + 1, real)
    second = (HBAR / 2) * (
        2 * tf.math.real(rot1 * rot1 * a2) + tf.reduce_sum(diag * probs, axis=-1)
    )
    return mean, second - mean * mean


@_compiled_when_eager
def _single_mode_moments(rhos: tuple, cutoff: int, batched: bool):
    """Per reduced density matrix of ``rhos`` (each ``[B, D, D]``): ``(<n>, Var n, <x>,
    Var x)`` (x at phi = 0), each ``[B]``, or scalars when not ``batched``: what
    :meth:`FockResult.mean_photon` and :meth:`FockResult.quad_expectation` return, for every
    mode in one call."""
    out = []
    for rho in rhos:
        zero = tf.zeros([], tf.math.real(rho).dtype)
        moments = _photon_moments(rho, cutoff) + _quadrature_moments(rho, zero, cutoff)
        out.append(moments if batched else tuple(m[0] for m in moments))
    return tuple(out)


@_compiled_when_eager
def _reduced_dms_and_moments(ket, cutoff: int, n_modes: int, modes: tuple, batched: bool):
    """:func:`_reduced_dms` and :func:`_single_mode_moments` of them, in one call."""
    rhos = _reduced_dms(ket, cutoff, n_modes, modes)
    return rhos, _single_mode_moments(rhos, cutoff, batched)


@_compiled_when_eager
def _superop_on_rho(superop, rho):
    """``rho'[m, n] = sum S[m, n, p, q] rho[p, q]``: superop ``[(B,) D, D, D, D]``, rho
    ``[B, D, D]``."""
    if superop.shape.rank == 4:
        return tf.einsum("mnpq,bpq->bmn", superop, rho)
    return tf.einsum("bmnpq,bpq->bmn", superop, rho)


@_compiled_when_eager
def _superop_on_dm(dm, superop, mode: int, cutoff: int, n_modes: int):
    """A single-mode superoperator applied to ``mode`` of a batched density matrix
    ``[B, D, D, ..., D, D]`` (SF's layout)."""
    d = cutoff
    left, right = d ** (2 * mode), d ** (2 * (n_modes - mode - 1))
    view = tf.reshape(dm, [-1, left, d, d, right])
    if superop.shape.rank == 4:
        out = tf.einsum("mnpq,blpqr->blmnr", superop, view)
    else:
        out = tf.einsum("bmnpq,blpqr->blmnr", superop, view)
    return tf.reshape(out, [-1] + [d] * (2 * n_modes))


@_compiled_when_eager
def _dm_from_ket(ket, cutoff: int, n_modes: int):
    """``|psi><psi|`` of a batched ket ``[B, D..D]`` in SF's layout ``[B, D, D, ..., D, D]``."""
    flat = tf.reshape(ket, [-1, cutoff**n_modes])
    outer = flat[:, :, None] * tf.math.conj(flat)[:, None, :]
    outer = tf.reshape(outer, [-1] + [cutoff] * (2 * n_modes))
    perm = [0] + [1 + k for m in range(n_modes) for k in (m, n_modes + m)]
    return tf.transpose(outer, perm)


def _pair_diagonal(cutoff: int):
    """Flat positions of the diagonal of a ``D x D`` pair: ``[0, D + 1, 2 (D + 1), ...]``."""
    return np.arange(cutoff) * (cutoff + 1)


@_compiled_when_eager
def _dm_probabilities(dm, cutoff: int, n_modes: int):
    """Diagonal of a batched density matrix ``[B, D, D, ...]``: real ``[B, D, ..., D]``."""
    x = tf.reshape(dm, [-1] + [cutoff * cutoff] * n_modes)
    diagonal = _pair_diagonal(cutoff)
    for axis in range(1, n_modes + 1):
        x = tf.gather(x, diagonal, axis=axis)
    return tf.math.real(x)


@_compiled_when_eager
def _dm_reduced(dm, cutoff: int, n_modes: int, modes: tuple[int, ...]):
    """Reduced density matrix of ``modes`` (sorted) of a batched density matrix, SF's
    layout ``[B, D, D, ...]`` over the kept modes."""
    d = cutoff
    x = tf.reshape(dm, [-1] + [d * d] * n_modes)
    trace = tf.constant(np.eye(d).ravel(), dm.dtype)
    for mode in reversed(range(n_modes)):
        if mode not in modes:
            x = tf.tensordot(x, trace, axes=[[mode + 1], [0]])
    return tf.reshape(x, [-1] + [d] * (2 * len(modes)))


def _transition(superop, cutoff: int):
    """``P[..., m, n] = S[..., m, m, n, n]``: real ``[(B,) D, D]``, the photon-number
    transition matrix of a phase-insensitive channel."""
    flat = tf.reshape(superop, tf.concat([tf.shape(superop)[:-4], [cutoff**2, cutoff**2]], 0))
    diagonal = _pair_diagonal(cutoff)
    picked = tf.gather(tf.gather(flat, diagonal, axis=-2), diagonal, axis=-1)
    return tf.math.real(picked)


@_compiled_when_eager
def _channel_on_probabilities(probs, superop, axis: int, cutoff: int):
    """Photon-number probabilities ``[B, D, ..D]`` through a phase-insensitive channel
    (loss, thermal loss) on the mode at ``axis`` (>= 1):
    ``p'[m] = sum_n S[m, m, n, n] p[n]``, since such a channel's output diagonal depends
    on its input diagonal only."""
    transition = _transition(superop, cutoff)
    moved = tf.experimental.numpy.moveaxis(probs, axis, -1)  # [B, ..., n]
    shape = tf.shape(moved)
    flat = tf.reshape(moved, [shape[0], -1, cutoff])
    if superop.shape.rank == 4:
        out = tf.einsum("mn,bkn->bkm", transition, flat)
    else:
        out = tf.einsum("bmn,bkn->bkm", transition, flat)
    return tf.experimental.numpy.moveaxis(tf.reshape(out, shape), -1, axis)


#: the readout functions compiled for eager use (their retracing warnings are TensorFlow's
#: view of a new cutoff, dtype or rank, not a user's mistake: qgan.photonic.simulation
#: drops them)
COMPILED_READOUTS = (
    "_probabilities",
    "_norm",
    "_reduced_dms",
    "_photon_moments",
    "_quadrature_moments",
    "_single_mode_moments",
    "_reduced_dms_and_moments",
    "_superop_on_rho",
    "_superop_on_dm",
    "_dm_from_ket",
    "_dm_probabilities",
    "_dm_reduced",
    "_channel_on_probabilities",
)


def hermite_functions(x, cutoff: int) -> np.ndarray:
    """Position wavefunctions ``<x|n>`` for hbar = 2: float64 ``[len(x), cutoff]``.

    ``psi_0(x) = (2 pi)^(-1/4) exp(-x^2/4)`` (vacuum variance hbar/2 = 1) and the stable
    recurrence ``psi_{n+1} = (x psi_n - sqrt(n) psi_{n-1}) / sqrt(n+1)``.

    >>> np.round(hermite_functions([0.0], 3), 4)
    array([[ 0.6316,  0.    , -0.4466]])
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    psi = np.zeros((x.size, cutoff))
    psi[:, 0] = (2 * np.pi) ** -0.25 * np.exp(-(x**2) / 4)
    if cutoff > 1:
        psi[:, 1] = x * psi[:, 0]
    for n in range(1, cutoff - 1):
        psi[:, n + 1] = (x * psi[:, n] - np.sqrt(n) * psi[:, n - 1]) / np.sqrt(n + 1)
    return psi


def _wigner_basis(xvec, pvec, cutoff: int) -> np.ndarray:
    """``C[m, n, p, x]`` with ``W = Re sum_{m,n} rho[m, n] C[m, n]``: SF's iterative
    Wigner recursion (from QuTiP, ``BaseFockState.wigner``) with the factor 2 of the
    off-diagonal terms and the final ``1 / hbar`` folded in (complex128)."""
    q, p = np.meshgrid(np.asarray(xvec, np.float64), np.asarray(pvec, np.float64))
    a = (q + 1j * p) / (2 * np.sqrt(HBAR / 2))
    basis = np.zeros((cutoff, cutoff) + a.shape, dtype=complex)
    wlist = [np.zeros(a.shape, dtype=complex) for _ in range(cutoff)]
    wlist[0] = np.exp(-2.0 * np.abs(a) ** 2) / np.pi
    basis[0, 0] = wlist[0]
    for n in range(1, cutoff):
        wlist[n] = (2.0 * a * wlist[n - 1]) / np.sqrt(n)
        basis[0, n] = 2 * wlist[n]
    for m in range(1, cutoff):
        temp = wlist[m].copy()
        wlist[m] = (2 * np.conj(a) * temp - np.sqrt(m) * wlist[m - 1]) / np.sqrt(m)
        basis[m, m] = wlist[m]
        for n in range(m + 1, cutoff):
            temp2 = (2 * a * wlist[n - 1] - np.sqrt(m) * temp) / np.sqrt(n)
            temp = wlist[n].copy()
            wlist[n] = temp2
            basis[m, n] = 2 * wlist[n]
    return basis / HBAR


def _grid(values, field: str) -> np.ndarray:
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 1 or not np.all(np.isfinite(grid)):
        raise ValueError(f"{field} must be a non-empty 1-D array of finite numbers")
    return grid


class FockResult:
    """The state of a simulated program and the quantities derived from it.

    Shapes: ``[B, D, ..., D]`` in batch mode (one axis per mode, SF's layout) or
    ``[D, ..., D]``; density matrices ``[B, D, D, ..., D, D]`` (ket and bra index of each
    mode in turn, SF's layout); per-sample quantities are ``[B]`` or scalars. Everything is
    a TF tensor and differentiable. The state is not renormalised: probability that the
    cutoff cut off is reported by :meth:`leakage`, and expectations are those of the
    truncated (unnormalised) state, exactly as SF's Fock backends compute them.

    A program with channels (``LossChannel``, ``ThermalLossChannel``) or a ``Thermal``
    preparation gives a mixed result (:attr:`is_pure` False): :meth:`ket` refuses (as SF),
    everything else works. When every channel comes after the last gate on its mode the
    result keeps the ket and applies the channels to what each readout needs.

    Eagerly, each readout is one compiled call (see the module docstring), and the first
    single-mode readout computes the reduced density matrices of all modes in that one
    call, and their photon-number and x-quadrature moments in one more, which
    :meth:`mean_photon` and :meth:`quad_expectation` (at ``phi = 0``) then return without a
    call of their own; inside a ``tf.function`` each is computed where first asked for.
    """

    def __init__(
        self,
        state: tf.Tensor,
        cutoff: int,
        n_modes: int,
        batched: bool,
        *,
        kind: str = "pure",
        channels: dict | None = None,
        leaky: tuple[int, ...] = (),
    ):
        """``state``: the ket (``kind`` ``"pure"`` or ``"terminal"``) or the density matrix
        (``"dm"``); ``channels``: mode -> superoperator ``[(B,) D, D, D, D]`` applied after
        the ket (``"terminal"``); ``leaky``: the modes whose channel may lose trace at the
        cutoff (thermal loss; loss keeps it exactly), which reduced density matrices of
        the other modes must account for."""
        if kind not in ("pure", "terminal", "dm"):
            raise ValueError(f"kind must be 'pure', 'terminal' or 'dm', got {kind!r}")
        self._state = state
        self._kind = kind
        self._channels = dict(channels or {})
        self._leaky = tuple(leaky)
        self.cutoff = cutoff
        self.n_modes = n_modes
        self.batched = batched
        self._reduced: dict[int, tf.Tensor] = {}
        # mode -> (<n>, Var n, <x>, Var x), filled eagerly with the reduced dms (one call)
        self._moments: dict[int, tuple] = {}

    @property
    def dtype(self) -> tf.DType:
        return self._state.dtype

    @property
    def is_pure(self) -> bool:
        """Whether the state is a ket (no channel, no mixed preparation), as SF's
        ``state.is_pure``."""
        return self._kind == "pure"

    def ket(self) -> tf.Tensor:
        """Amplitudes ``<n_0, ..., n_{M-1}|psi>``: complex ``[B, D, ..., D]`` or ``[D, ..., D]``.

        Raises:
            ValueError: the state is mixed (use :meth:`dm` / :meth:`reduced_dm`).
        """
        if not self.is_pure:
            raise ValueError(
                "ket: the state is mixed (channels or a Thermal preparation); use dm() or "
                "reduced_dm()"
            )
        return self._state

    def dm(self) -> tf.Tensor:
        """Density matrix ``rho[i0, j0, i1, j1, ...] = <i0 i1 ..|rho|j0 j1 ..>``: complex
        ``[B, D, D, ..., D, D]`` or without ``B`` (SF's layout); ``|psi><psi|`` for a pure
        state. ``D^(2n)`` elements per sample."""
        dm = self._batched_dm()
        return dm if self.batched else dm[0]

    def all_fock_probs(self) -> tf.Tensor:
        """Joint photon-number probabilities ``<n|rho|n>``: real ``[B, D, ..., D]`` or
        ``[D, ..., D]`` (``|amplitude|^2`` for a pure state)."""
        if self._kind == "pure":
            return _probabilities(self._state)
        if self._kind == "dm":
            probs = _dm_probabilities(self._batch(self._state), self.cutoff, self.n_modes)
        else:
            probs = _probabilities(self._batch(self._state))
            for mode, superop in self._channels.items():
                probs = _channel_on_probabilities(probs, superop, mode + 1, self.cutoff)
        return probs if self.batched else probs[0]

    def norm(self) -> tf.Tensor:
        """Trace of the truncated state (``<psi|psi>`` when pure): ``[B]`` or scalar."""
        if self._kind == "pure":
            return _norm(self._state, self.n_modes, self.batched)
        probs = self.all_fock_probs()
        offset = 1 if self.batched else 0
        return tf.reduce_sum(probs, axis=list(range(offset, offset + self.n_modes)))

    def leakage(self) -> tf.Tensor:
        """Probability lost to photon numbers >= cutoff, ``1 - trace``: ``[B]`` or scalar."""
        return 1.0 - self.norm()

    def reduced_dm(self, mode) -> tf.Tensor:
        """Reduced density matrix of one mode ``[B, D, D]`` / ``[D, D]``, or of a sorted
        sequence of modes ``[B, D, D, ..., D, D]`` (SF's layout, ket and bra index per mode).

        For one mode of a ket: ``rho[i, j] = sum psi_i psi_j^*``, one contraction over the
        other modes; cached, since every single-mode quantity below is read off it.
        """
        if not isinstance(mode, (int, np.integer)):
            return self._reduced_many(mode)
        self._axis(mode)  # validates mode
        if mode not in self._reduced:
            eager = tf.executing_eagerly()
            modes = tuple(range(self.n_modes)) if eager else (mode,)
            if self._kind == "dm":
                dm = self._batch(self._state)
                rhos = [_dm_reduced(dm, self.cutoff, self.n_modes, (m,)) for m in modes]
            elif eager and not self._leaky and not self._channels:
                ket = self._batch(self._state)
                rhos, moments = _reduced_dms_and_moments(
                    ket, self.cutoff, self.n_modes, modes, self.batched
                )
                self._moments.update(zip(modes, moments, strict=True))
            elif not self._leaky:
                ket = self._batch(self._state)
                rhos = list(_reduced_dms(ket, self.cutoff, self.n_modes, modes))
                for k, m in enumerate(modes):
                    if m in self._channels:
                        rhos[k] = _superop_on_rho(self._channels[m], rhos[k])
            else:  # the other modes' channels lose trace at the cutoff: weight the ket
                rhos = [self._terminal_reduced(m) for m in modes]
            for m, rho in zip(modes, rhos, strict=True):
                self._reduced[m] = rho if self.batched else rho[0]
            if eager and not self._moments:  # every mode's moments in one call, not one each
                moments = _single_mode_moments(tuple(rhos), self.cutoff, self.batched)
                self._moments.update(zip(modes, moments, strict=True))
        return self._reduced[mode]

    def fock_probs(self, mode: int) -> tf.Tensor:
        """Photon-number marginal of one mode: real ``[B, D]`` or ``[D]``."""
        return tf.math.real(tf.linalg.diag_part(self.reduced_dm(mode)))

    def mean_photon(self, mode: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean photon number of ``mode`` and its variance (SF's ``mean_photon``)."""
        rho = self.reduced_dm(mode)
        if mode in self._moments:  # computed eagerly with the reduced dms
            return self._moments[mode][:2]
        return _photon_moments(rho, self.cutoff)

    def quad_expectation(self, mode: int, phi=0.0) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean and variance of ``x_phi = cos(phi) x + sin(phi) p`` on ``mode`` (hbar = 2).

        As in SF's Fock states, ``x_phi^2`` is taken from a space one photon larger, so its
        diagonal is ``(hbar/2)(2n + 1)`` up to the cutoff.
        """
        rho = self.reduced_dm(mode)
        if mode in self._moments and isinstance(phi, (int, float)) and phi == 0:
            return self._moments[mode][2:]  # x, computed eagerly with the reduced dms
        # a tensor, so that a new angle does not retrace the compiled call
        phi = self._angle(phi, rho)
        return _quadrature_moments(rho, phi, self.cutoff)

    def parity(self, mode: int) -> tf.Tensor:
        """``<(-1)^n>`` of ``mode``: real ``[B]`` or scalar (SF's ``parity_expectation``
        for one mode)."""
        probs = self.fock_probs(mode)
        signs = tf.constant((-1.0) ** np.arange(self.cutoff), probs.dtype)
        return tf.reduce_sum(probs * signs, axis=-1)

    def quad_density(self, mode: int, phi, xgrid) -> tf.Tensor:
        r"""Marginal density of the homodyne outcome ``x_phi = x cos(phi) + p sin(phi)`` of
        ``mode`` on ``xgrid`` (hbar = 2), not renormalised: real ``[B, G]`` or ``[G]``.

        .. math::

            p_\phi(x) = \sum_{m,n} \psi_m(x)\, e^{-i\phi m} \rho_{mn} e^{i\phi n}\,
                \psi_n(x)

        with the position wavefunctions :func:`hermite_functions`; ``phi`` is a scalar or
        per-sample ``[B]`` (a float or tensor; differentiable).

        >>> import strawberryfields as sf
        >>> from qgan.photonic import simulate
        >>> prog = sf.Program(1)
        >>> res = simulate(prog, cutoff=3)
        >>> grid = np.linspace(-6, 6, 121)
        >>> float(np.round(np.sum(res.quad_density(0, 0.3, grid).numpy()) * 0.1, 4))
        1.0
        """
        grid = _grid(xgrid, "xgrid")
        rho = self.reduced_dm(mode)
        real = tf.math.real(rho).dtype
        phi = self._angle(phi, rho)
        n = tf.constant(np.arange(self.cutoff), real)
        phase = tf.exp(tf.complex(tf.zeros_like(n), n) * tf.cast(phi, rho.dtype)[..., None])
        rotated = tf.math.conj(phase)[..., :, None] * rho * phase[..., None, :]
        psi = tf.constant(hermite_functions(grid, self.cutoff), real)
        # psi real, rotated Hermitian: only its real part contributes
        weighted = tf.linalg.matmul(tf.math.real(rotated), psi, transpose_b=True)  # [.., D, G]
        return tf.reduce_sum(tf.transpose(psi) * weighted, axis=-2)

    def wigner(self, mode: int, xvec, pvec) -> tf.Tensor:
        """Wigner function of ``mode`` on the grid (SF's ``state.wigner``: hbar = 2, same
        normalisation and layout): real ``[B, len(pvec), len(xvec)]`` or
        ``[len(pvec), len(xvec)]``; ``W[i, j]`` is at ``x = xvec[j]``, ``p = pvec[i]``.

        >>> import strawberryfields as sf
        >>> from qgan.photonic import simulate
        >>> w = simulate(sf.Program(1), cutoff=3).wigner(0, [0.0], [0.0])
        >>> float(np.round(w.numpy()[0, 0], 6))  # vacuum: 1 / (pi hbar)
        0.159155
        """
        rho = self.reduced_dm(mode)
        basis = _wigner_basis(_grid(xvec, "xvec"), _grid(pvec, "pvec"), self.cutoff)
        basis = tf.constant(basis, rho.dtype)
        return tf.math.real(tf.einsum("...mn,mnpx->...px", rho, basis))

    def fidelity(self, other, mode=None) -> tf.Tensor:
        """``<phi|rho|phi>``: the fidelity of the reduced state of ``mode`` (an int), of a
        sorted sequence of modes, or of the whole state (``None``) with the pure state
        ``other`` (SF's ``state.fidelity(other_state, mode)``): ``other`` is a ket
        ``[D]*k`` or one per sample ``[B] + [D]*k`` for the k modes. Real ``[B]`` or scalar.
        """
        modes = tuple(range(self.n_modes)) if mode is None else mode
        if isinstance(modes, (int, np.integer)):
            modes = (int(modes),)
        modes = tuple(int(m) for m in modes)
        k = len(modes)
        other = tf.convert_to_tensor(other, dtype_hint=self.dtype)
        if other.dtype != self.dtype:
            other = tf.cast(other, self.dtype)
        rank = other.shape.rank
        if rank not in (k, k + 1) or any(n != self.cutoff for n in other.shape[rank - k :]):
            raise ValueError(
                f"other must be a ket of shape [{self.cutoff}]*{k} (or with a batch axis) "
                f"for modes {modes}, got shape {other.shape}"
            )
        flat = tf.reshape(other, [-1 if rank == k + 1 else 1, self.cutoff**k])
        if self._kind == "pure" and modes == tuple(range(self.n_modes)):
            ket = tf.reshape(self._batch(self._state), [-1, self.cutoff**k])
            overlap = tf.reduce_sum(tf.math.conj(flat) * ket, axis=-1)
            value = tf.math.real(overlap * tf.math.conj(overlap))
        else:
            rho = self._batch(self.reduced_dm(modes[0]) if k == 1 else self._reduced_many(modes))
            rho = self._pairs_to_matrix(rho, k)
            weighted = tf.math.conj(flat)[:, :, None] * rho * flat[:, None, :]
            value = tf.math.real(tf.reduce_sum(weighted, axis=[1, 2]))
        return value if self.batched or rank == k + 1 else value[0]

    # ------------------------------------------------------------------ helpers

    def _axis(self, mode) -> int:
        mode = check_int(mode, "mode", minimum=0, maximum=self.n_modes - 1)
        return mode + (1 if self.batched else 0)

    def _batch(self, tensor: tf.Tensor) -> tf.Tensor:
        return tensor if self.batched else tensor[None]

    @staticmethod
    def _angle(phi, rho) -> tf.Tensor:
        real = tf.math.real(rho).dtype
        return tf.cast(tf.convert_to_tensor(phi, dtype_hint=real), real)

    def _batched_dm(self) -> tf.Tensor:
        if self._kind == "dm":
            return self._batch(self._state)
        dm = _dm_from_ket(self._batch(self._state), self.cutoff, self.n_modes)
        for mode, superop in self._channels.items():
            dm = _superop_on_dm(dm, superop, mode, self.cutoff, self.n_modes)
        return dm

    def _terminal_reduced(self, mode: int) -> tf.Tensor:
        """Reduced density matrix of ``mode`` with terminal channels: the trace over another
        mode k of its channel's output is ``sum_n w_k[n] rho[n, n]`` with
        ``w_k[n] = sum_m S_k[m, m, n, n]`` (diagonal for phase-insensitive channels), so the
        ket is weighted by ``sqrt(w_k)`` on each leaky mode before the contraction."""
        ket = self._batch(self._state)
        for k in self._leaky:
            if k == mode:
                continue
            kept = tf.reduce_sum(_transition(self._channels[k], self.cutoff), axis=-2)
            weight = tf.cast(tf.sqrt(tf.maximum(kept, 0.0)), ket.dtype)  # [(B,) D]
            shape = [-1 if weight.shape.rank == 2 else 1] + [1] * self.n_modes
            shape[k + 1] = self.cutoff
            ket = ket * tf.reshape(weight, shape)
        (rho,) = _reduced_dms(ket, self.cutoff, self.n_modes, (mode,))
        if mode in self._channels:
            rho = _superop_on_rho(self._channels[mode], rho)
        return rho

    def _reduced_many(self, modes) -> tf.Tensor:
        modes = tuple(check_int(m, "mode", minimum=0, maximum=self.n_modes - 1) for m in modes)
        if not modes or list(modes) != sorted(set(modes)):
            raise ValueError(f"modes must be sorted, distinct and non-empty, got {modes}")
        if self._kind == "dm":
            rho = _dm_reduced(self._batch(self._state), self.cutoff, self.n_modes, modes)
        else:
            rho = _dm_reduced(self._batched_dm(), self.cutoff, self.n_modes, modes)
        return rho if self.batched else rho[0]

    def _pairs_to_matrix(self, rho, k: int) -> tf.Tensor:
        """``[B, D, D, ...]`` (SF's layout, k modes) -> ``[B, D^k, D^k]``."""
        if k == 1:
            return rho
        d = self.cutoff
        perm = [0] + [1 + 2 * i for i in range(k)] + [2 + 2 * i for i in range(k)]
        return tf.reshape(tf.transpose(rho, perm), [-1, d**k, d**k])
