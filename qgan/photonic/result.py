"""``FockResult``: a pure Fock-space state with SF's state API where it overlaps."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

HBAR = 2.0  # Strawberry Fields' default convention: x = sqrt(hbar/2) (a + a^dagger)


class FockResult:
    """The ket of a simulated program and the quantities derived from it.

    Shapes: ``[B, D, ..., D]`` in batch mode (one axis per mode, SF's layout) or
    ``[D, ..., D]``; per-sample quantities are ``[B]`` or scalars. Everything is a TF
    tensor and differentiable. The state is not renormalised: amplitudes that the cutoff
    cut off are reported by :meth:`leakage`, and expectations are those of the truncated
    (unnormalised) state, exactly as SF's Fock backends compute them.
    """

    def __init__(self, ket: tf.Tensor, cutoff: int, n_modes: int, batched: bool):
        self._ket = ket
        self.cutoff = cutoff
        self.n_modes = n_modes
        self.batched = batched

    @property
    def dtype(self) -> tf.DType:
        return self._ket.dtype

    def ket(self) -> tf.Tensor:
        """Amplitudes ``<n_0, ..., n_{M-1}|psi>``: complex ``[B, D, ..., D]`` or ``[D, ..., D]``."""
        return self._ket

    def all_fock_probs(self) -> tf.Tensor:
        """Joint photon-number probabilities ``|amplitude|^2``, same shape as :meth:`ket`."""
        return tf.math.real(self._ket * tf.math.conj(self._ket))

    def norm(self) -> tf.Tensor:
        """``<psi|psi>`` of the truncated state: ``[B]`` or scalar."""
        return tf.reduce_sum(self.all_fock_probs(), axis=self._mode_axes())

    def leakage(self) -> tf.Tensor:
        """Probability lost to photon numbers >= cutoff, ``1 - <psi|psi>``: ``[B]`` or scalar."""
        return 1.0 - self.norm()

    def fock_probs(self, mode: int) -> tf.Tensor:
        """Photon-number marginal of one mode: real ``[B, D]`` or ``[D]``."""
        axis = self._axis(mode)
        others = [a for a in self._mode_axes() if a != axis]
        return tf.reduce_sum(self.all_fock_probs(), axis=others)

    def mean_photon(self, mode: int) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean photon number of ``mode`` and its variance (SF's ``mean_photon``)."""
        probs = self.fock_probs(mode)
        n = tf.constant(np.arange(self.cutoff), probs.dtype)
        mean = tf.reduce_sum(n * probs, axis=-1)
        return mean, tf.reduce_sum(n * n * probs, axis=-1) - mean * mean

    def quad_expectation(self, mode: int, phi=0.0) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean and variance of ``x_phi = cos(phi) x + sin(phi) p`` on ``mode`` (hbar = 2).

        As in SF's Fock states, ``x_phi^2`` is taken from a space one photon larger, so its
        diagonal is ``(hbar/2)(2n + 1)`` up to the cutoff.
        """
        axis = self._axis(mode)
        real = tf.math.real(self._ket).dtype
        phi = tf.cast(tf.convert_to_tensor(phi, dtype_hint=real), real)
        a1 = self._lowering_expectation(axis, 1)
        a2 = self._lowering_expectation(axis, 2)
        rot1 = tf.exp(tf.complex(tf.zeros_like(phi), -phi))
        rot2 = rot1 * rot1
        scale = np.sqrt(HBAR / 2)
        mean = 2 * scale * tf.math.real(rot1 * a1)
        probs = self.fock_probs(mode)
        diag = tf.constant(2 * np.arange(self.cutoff) + 1, probs.dtype)
        second = (HBAR / 2) * (2 * tf.math.real(rot2 * a2) + tf.reduce_sum(diag * probs, axis=-1))
        return mean, second - mean * mean

    # ------------------------------------------------------------------ helpers

    def _mode_axes(self) -> list[int]:
        offset = 1 if self.batched else 0
        return list(range(offset, offset + self.n_modes))

    def _axis(self, mode) -> int:
        if isinstance(mode, bool) or not isinstance(mode, (int, np.integer)):
            raise ValueError(f"mode must be an int in [0, {self.n_modes}), got {mode!r}")
        if not 0 <= mode < self.n_modes:
            raise ValueError(f"mode must be in [0, {self.n_modes}), got {mode}")
        return int(mode) + (1 if self.batched else 0)

    def _lowering_expectation(self, axis: int, power: int) -> tf.Tensor:
        """``<psi| a^power |psi>`` on the mode at ``axis``."""
        d = self.cutoff
        if power >= d:
            return tf.zeros(tf.shape(self.norm()), self._ket.dtype)
        rank = self._ket.shape.rank
        begin_hi, begin_lo = [0] * rank, [0] * rank
        size = [-1] * rank
        begin_hi[axis] = power
        size[axis] = d - power
        hi = tf.slice(self._ket, begin_hi, size)
        lo = tf.slice(self._ket, begin_lo, size)
        n = np.arange(power, d, dtype=float)
        coef = np.sqrt(np.prod([n - k for k in range(power)], axis=0))
        shape = [1] * rank
        shape[axis] = d - power
        weights = tf.constant(coef.reshape(shape), self._ket.dtype)
        return tf.reduce_sum(tf.math.conj(lo) * weights * hi, axis=self._mode_axes())
