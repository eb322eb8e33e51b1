"""``FockResult``: a pure Fock-space state with SF's state API where it overlaps."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from qgan._validate import check_int

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
        self._reduced: dict[int, tf.Tensor] = {}

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

    def reduced_dm(self, mode: int) -> tf.Tensor:
        """Reduced density matrix of one mode, ``rho[i, j] = sum psi_i psi_j^*``: ``[B, D, D]``.

        One contraction over the other modes; cached, since every single-mode quantity
        below is read off it.
        """
        self._axis(mode)  # validates mode
        if mode not in self._reduced:
            ket = self._ket if self.batched else self._ket[None]
            d = self.cutoff
            left, right = d**mode, d ** (self.n_modes - mode - 1)
            if right == 1:  # mode is the last axis: rho = X^T X^*, X = [B, L, D]
                view = tf.reshape(ket, [-1, left, d])
                rho = tf.linalg.matmul(view, tf.math.conj(view), transpose_a=True)
            else:  # rho = Y Y^dagger, Y = [B, D, L * R]
                view = tf.reshape(ket, [-1, left, d, right])
                if left > 1:
                    view = tf.transpose(view, [0, 2, 1, 3])
                flat = tf.reshape(view, [-1, d, left * right])
                rho = tf.linalg.matmul(flat, flat, adjoint_b=True)
            self._reduced[mode] = rho if self.batched else rho[0]
        return self._reduced[mode]

    def fock_probs(self, mode: int) -> tf.Tensor:
        """Photon-number marginal of one mode: real ``[B, D]`` or ``[D]``."""
        return tf.math.real(tf.linalg.diag_part(self.reduced_dm(mode)))

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
        rho = self.reduced_dm(mode)
        real = tf.math.real(rho).dtype
        phi = tf.cast(tf.convert_to_tensor(phi, dtype_hint=real), real)
        d = self.cutoff
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

    # ------------------------------------------------------------------ helpers

    def _mode_axes(self) -> list[int]:
        offset = 1 if self.batched else 0
        return list(range(offset, offset + self.n_modes))

    def _axis(self, mode) -> int:
        mode = check_int(mode, "mode", minimum=0, maximum=self.n_modes - 1)
        return mode + (1 if self.batched else 0)
