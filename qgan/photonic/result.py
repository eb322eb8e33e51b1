"""``FockResult``: a pure Fock-space state with SF's state API where it overlaps.

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


def _compiled_when_eager(fn):
    """``fn`` run as one compiled call when executing eagerly, inline inside a graph.

    The compiled function keeps one trace per Python-argument combination (modes,
    cutoff) and generalises the batch axis after a second batch size
    (``reduce_retracing``), so eager calls with varying batches do not retrace each time.
    """
    compiled = tf.function(fn, autograph=False, reduce_retracing=True)

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


#: the readout functions compiled for eager use (their retracing warnings are TensorFlow's
#: view of a new cutoff, dtype or rank, not a user's mistake: qgan.photonic.simulation
#: drops them)
COMPILED_READOUTS = (
    "_probabilities",
    "_norm",
    "_reduced_dms",
    "_photon_moments",
    "_quadrature_moments",
)


class FockResult:
    """The ket of a simulated program and the quantities derived from it.

    Shapes: ``[B, D, ..., D]`` in batch mode (one axis per mode, SF's layout) or
    ``[D, ..., D]``; per-sample quantities are ``[B]`` or scalars. Everything is a TF
    tensor and differentiable. The state is not renormalised: amplitudes that the cutoff
    cut off are reported by :meth:`leakage`, and expectations are those of the truncated
    (unnormalised) state, exactly as SF's Fock backends compute them.

    Eagerly, each readout is one compiled call (see the module docstring), and the first
    single-mode readout computes the reduced density matrices of all modes in that one
    call; inside a ``tf.function`` each is computed where first asked for.
    """

    def __init__(self, ket: tf.Tensor, cutoff: int, n_modes: int, batched: bool):
        self._ket = ket
        self.cutoff = cutoff
        self.n_modes = n_modes
        self.batched = batched
        self._reduced: dict[int, tf.Tensor] = {}

    @property
    def dtype(self) -> tf.DType:
        return self._ket.dtype

    def ket(self) -> tf.Tensor:
        """Amplitudes ``<n_0, ..., n_{M-1}|psi>``: complex ``[B, D, ..., D]`` or ``[D, ..., D]``."""
        return self._ket

    def all_fock_probs(self) -> tf.Tensor:
        """Joint photon-number probabilities ``|amplitude|^2``, same shape as :meth:`ket`."""
        return _probabilities(self._ket)

    def norm(self) -> tf.Tensor:
        """``<psi|psi>`` of the truncated state: ``[B]`` or scalar."""
        return _norm(self._ket, self.n_modes, self.batched)

    def leakage(self) -> tf.Tensor:
        """Probability lost to photon numbers >= cutoff, ``1 - <psi|psi>``: ``[B]`` or scalar."""
        return 1.0 - self.norm()

    def reduced_dm(self, mode: int) -> tf.Tensor:
        """Reduced density matrix of one mode, ``rho[i, j] = sum psi_i psi_j^*``: ``[B, D, D]``.

        One contraction over the other modes; cached, since every single-mode quantity
        below is read off it.
        """
        self._axis(mode)  # validates mode
        if mode not in self._reduced:
            ket = self._ket if self.batched else self._ket[None]
            modes = tuple(range(self.n_modes)) if tf.executing_eagerly() else (mode,)
            rhos = _reduced_dms(ket, self.cutoff, self.n_modes, modes)
            for m, rho in zip(modes, rhos, strict=True):
                self._reduced[m] = rho if self.batched else rho[0]
        return self._reduced[mode]

    def fock_probs(self, mode: int) -> tf.Tensor:
        """Photon-number marginal of one mode: real ``[B, D]`` or ``[D]``."""
        return tf.math.real(tf.linalg.diag_part(self.reduced_dm(mode)))

    def mean_photon(self, mode: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean photon number of ``mode`` and its variance (SF's ``mean_photon``)."""
        return _photon_moments(self.reduced_dm(mode), self.cutoff)

    def quad_expectation(self, mode: int, phi=0.0) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean and variance of ``x_phi = cos(phi) x + sin(phi) p`` on ``mode`` (hbar = 2).

        As in SF's Fock states, ``x_phi^2`` is taken from a space one photon larger, so its
        diagonal is ``(hbar/2)(2n + 1)`` up to the cutoff.
        """
        rho = self.reduced_dm(mode)
        real = tf.math.real(rho).dtype
        # a tensor, so that a new angle does not retrace the compiled call
        phi = tf.cast(tf.convert_to_tensor(phi, dtype_hint=real), real)
        return _quadrature_moments(rho, phi, self.cutoff)

    # ------------------------------------------------------------------ helpers

    def _axis(self, mode) -> int:
        mode = check_int(mode, "mode", minimum=0, maximum=self.n_modes - 1)
        return mode + (1 if self.batched else 0)
