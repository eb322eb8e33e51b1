"""Readouts: features of a simulated Fock state that the generator hands to the decoder.

Every readout maps a batched :class:`qgan.photonic.FockResult` to a real ``[B, k]`` tensor
and is differentiable. Deterministic readouts are expectations of the truncated state (as
SF reports them); stochastic readouts draw measurement outcomes from the state's Born
distribution, renormalised over the truncated space, using uniform noise passed in (so a
caller controls the randomness and two backends can be compared sample by sample).

Conventions: hbar = 2, x = a + a^dagger, p = -i(a - a^dagger).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from qgan.generator.names import DETERMINISTIC, READOUTS, STOCHASTIC  # noqa: F401 - re-exported
from qgan.photonic import hermite_functions  # noqa: F401 - re-exported (the homodyne grid's)

_TINY = 1e-12


@dataclass(frozen=True)
class ReadoutSpec:
    """Which readouts, in which order, and the options of the stochastic ones.

    ``sample_modes``: the modes whose joint photon-number pattern ``photon_samples`` draws
    (``cutoff ** len(sample_modes)`` outcomes, flat index in SF's row-major mode order).
    ``temperature``: Gumbel-softmax temperature; ``straight_through``: one-hot forward pass
    with the relaxed gradient (Jang et al. 2017; Bengio et al. 2013).
    ``homodyne_grid``: points of the x grid on which the marginal density is inverted.
    ``quadrature_angles``: per mode, the angle ``phi`` (radians) of the quadrature
    ``x_phi = x cos(phi) + p sin(phi)`` that ``homodyne`` samples and ``quadratures`` reads
    (with ``x_{phi + pi/2}``); empty (the default) means 0 on every mode: x and p.
    """

    names: tuple[str, ...]
    n_modes: int
    cutoff: int
    sample_modes: tuple[int, ...]
    temperature: float = 0.5
    straight_through: bool = True
    homodyne_grid: int = 257
    quadrature_angles: tuple[float, ...] = ()

    def angle(self, mode: int) -> float:
        """The quadrature angle of ``mode`` (radians; 0 when none were given)."""
        return self.quadrature_angles[mode] if self.quadrature_angles else 0.0

    def width(self, name: str) -> int:
        m, d = self.n_modes, self.cutoff
        return {
            "quadratures": 2 * m,
            "mean_photon": m,
            "photon_marginals": m * d,
            "fock_probs": d**m,
            "photon_samples": d ** len(self.sample_modes),
            "homodyne": m,
        }[name]

    def noise_width(self, name: str) -> int:
        """Uniform variates per sample a readout consumes."""
        if name == "photon_samples":
            return self.width(name)
        if name == "homodyne":
            return self.n_modes
        return 0

    @property
    def n_features(self) -> int:
        return sum(self.width(n) for n in self.names)

    @property
    def n_noise(self) -> int:
        return sum(self.noise_width(n) for n in self.names)


def read(result, spec: ReadoutSpec, noise: tf.Tensor | None) -> tf.Tensor:
    """Concatenate the readouts of ``spec.names`` for a batched result: real ``[B, F]``.

    ``noise``: uniform(0, 1) variates ``[B, spec.n_noise]`` (None if no readout is stochastic).
    """
    features, offset = [], 0
    for name in spec.names:
        k = spec.noise_width(name)
        u = None if k == 0 else noise[:, offset : offset + k]
        offset += k
        features.append(_READERS[name](result, spec, u))
    return tf.concat(features, axis=-1)


def _quadratures(result, spec, _):
    cols = []
    for mode in range(spec.n_modes):
        phi = spec.angle(mode)
        cols.append(result.quad_expectation(mode, phi)[0])
        cols.append(result.quad_expectation(mode, phi + math.pi / 2)[0])
    return tf.stack(cols, axis=-1)


def _mean_photon(result, spec, _):
    return tf.stack([result.mean_photon(m)[0] for m in range(spec.n_modes)], axis=-1)


def _photon_marginals(result, spec, _):
    return tf.concat([result.fock_probs(m) for m in range(spec.n_modes)], axis=-1)


def _fock_probs(result, spec, _):
    probs = result.all_fock_probs()
    return tf.reshape(probs, [tf.shape(probs)[0], -1])


def outcome_probabilities(result, modes: tuple[int, ...]) -> tf.Tensor:
    """Joint photon-number distribution of ``modes``, renormalised: ``[B, D**len(modes)]``."""
    probs = result.all_fock_probs()
    others = [1 + m for m in range(result.n_modes) if m not in modes]
    if others:
        probs = tf.reduce_sum(probs, axis=others)
    kept = sorted(modes)
    if list(modes) != kept:  # order the outcome axes as the caller listed the modes
        probs = tf.transpose(probs, [0, *(1 + kept.index(m) for m in modes)])
    flat = tf.reshape(probs, [tf.shape(probs)[0], -1])
    return flat / tf.reduce_sum(flat, axis=-1, keepdims=True)


def gumbel_softmax(probs: tf.Tensor, u: tf.Tensor, temperature: float, straight_through: bool):
    """Relaxed categorical sample from ``probs`` ``[B, K]`` with uniforms ``u`` ``[B, K]``.

    The hard sample ``argmax(log p + g)`` (g = -log(-log u), Gumbel noise) is an exact draw
    from ``probs``; the returned tensor is the one-hot draw with the gradient of the
    tempered softmax if ``straight_through``, else the tempered softmax itself.
    """
    eps = tf.constant(_TINY, probs.dtype)
    u = tf.clip_by_value(tf.cast(u, probs.dtype), eps, 1.0 - 1e-7)
    gumbel = -tf.math.log(-tf.math.log(u))
    scores = tf.math.log(probs + eps) + gumbel
    soft = tf.nn.softmax(scores / temperature, axis=-1)
    if not straight_through:
        return soft
    hard = tf.one_hot(tf.argmax(scores, axis=-1), tf.shape(probs)[-1], dtype=probs.dtype)
    # soft - stop_gradient(soft) is exactly 0 in the forward pass, so the value is exactly
    # the one-hot draw ((hard + soft) - soft can round 1 to 1 - ulp).
    return hard + (soft - tf.stop_gradient(soft))


def _photon_samples(result, spec, u):
    probs = outcome_probabilities(result, spec.sample_modes)
    return gumbel_softmax(probs, u, spec.temperature, spec.straight_through)


def homodyne_grid(cutoff: int, points: int) -> np.ndarray:
    """The x grid homodyne sampling integrates on: wide enough for photon numbers < cutoff.

    The classical turning point of ``|n>`` is ``x = sqrt(2 (2n + 1))`` (hbar = 2); six
    vacuum standard deviations beyond the largest one leaves < 1e-8 of any density outside.
    """
    half = math.sqrt(2 * (2 * (cutoff - 1) + 1)) + 6.0
    return np.linspace(-half, half, points)


def x_density(result, mode: int, grid: np.ndarray, phi: float = 0.0) -> tf.Tensor:
    """Marginal density of ``x_phi = x cos(phi) + p sin(phi)`` of ``mode`` on ``grid`` (not
    renormalised): real ``[B, G]``; pure or mixed ``result`` alike.

    The one definition is the engine's :meth:`qgan.photonic.FockResult.quad_density`
    (``x_phi = V x V^dagger`` with ``V = exp(i phi n)``: the x density of ``V^dagger rho
    V``, elements ``rho_nm exp(-i (n - m) phi)``).
    """
    return result.quad_density(mode, phi, grid)


def inverse_cdf_sample(density: tf.Tensor, grid: np.ndarray, u: tf.Tensor) -> tf.Tensor:
    """Draw x from ``density`` ``[B, G]`` on ``grid`` by inverting its CDF at ``u`` ``[B]``.

    The CDF is the trapezoid rule, normalised to 1 at the end of the grid; between grid
    points x is linear in the CDF, so the sample is differentiable in the density.
    """
    real = density.dtype
    dx = float(grid[1] - grid[0])
    density = tf.nn.relu(density)  # round-off can make the far tails slightly negative
    steps = 0.5 * (density[:, 1:] + density[:, :-1]) * dx
    cdf = tf.concat([tf.zeros_like(steps[:, :1]), tf.cumsum(steps, axis=-1)], axis=-1)
    cdf = cdf / cdf[:, -1:]
    u = tf.cast(u, real)[:, None]
    index = tf.searchsorted(cdf, u, side="right") - 1
    index = tf.clip_by_value(index, 0, len(grid) - 2)
    lower = tf.gather(cdf, index, batch_dims=1)
    upper = tf.gather(cdf, index + 1, batch_dims=1)
    x0 = tf.gather(tf.constant(grid, real), index[:, 0])[:, None]
    frac = (u - lower) / tf.maximum(upper - lower, _TINY)
    return (x0 + frac * dx)[:, 0]


def _homodyne(result, spec, u):
    grid = homodyne_grid(spec.cutoff, spec.homodyne_grid)
    cols = [
        inverse_cdf_sample(x_density(result, mode, grid, spec.angle(mode)), grid, u[:, mode])
        for mode in range(spec.n_modes)
    ]
    return tf.stack(cols, axis=-1)


_READERS = {
    "quadratures": _quadratures,
    "mean_photon": _mean_photon,
    "photon_marginals": _photon_marginals,
    "fock_probs": _fock_probs,
    "photon_samples": _photon_samples,
    "homodyne": _homodyne,
}
