"""Fixtures for the generator-layer tests: tolerances of ``tests/generator``.

Comparisons of simulated quantities with Strawberry Fields' own ``fock`` backend reuse the
suite-wide :class:`Tolerances` (fixture ``tol``: ``observable``, ``fd_rtol``, ``fd_step``,
``graph``); the tolerances below are the ones specific to readouts and generators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import tensorflow as tf


@dataclass(frozen=True)
class GeneratorTolerances:
    """Tolerances of ``tests/generator``, in one place.

    ``alpha``: significance level of the goodness-of-fit tests (Kolmogorov-Smirnov for
        homodyne samples, chi-square for categorical samples). The draws are seeded, so a
        test is deterministic; a correct sampler fails one such check with probability
        ``alpha`` per fresh seed, a wrong one (e.g. hbar = 1 quadratures, std 0.71 instead
        of 1, or probabilities off by a few percent) fails at the sample sizes used.
    ``orthonormality``: trapezoid integral of psi_m psi_n on the homodyne grid vs
        delta_mn. The grid extends six vacuum standard deviations past the outermost
        turning point, so the tails outside hold < 1e-8 of any |psi_n|^2, and the
        trapezoid rule is spectrally accurate for these smooth, Gaussian-decaying
        integrands; 1e-8 is the tail bound (observed ~1e-15).
    ``density``: x densities of analytic kets (complex128, Fock cutoff chosen so the
        truncated amplitude tail is < 1e-13) vs closed-form densities: rounding plus
        that tail.
    ``wigner``: ``x_density`` vs SF's ``x_quad_values`` (Simpson integral over p of
        SF's Wigner function on a 401-point p grid of half-width 12, where the Wigner
        function of a cutoff-5 state is < 1e-20): Simpson's error on that grid is far
        below 1e-9 (complex128 state).
    ``quantile``: inverse-CDF sample at fixed u vs the analytic quantile, u in the central
        90 %. The grid step is dx ~ 0.1: linear interpolation of the CDF inside a cell
        errs by ~ dx^2/8 |f'/f| <= 2e-3 there and the trapezoid CDF by ~ dx^2/12 |f'|;
        1e-2 bounds both while a wrong mean or scale misses by > 0.1.
    ``derivative``: d(sample)/d(alpha) of a coherent state vs the analytic value 2
        (x = 2 alpha + Phi^-1(u)), as a multiple of the first-order discretisation bound
        2 dx (|x - 2 alpha| + dx): inside a grid cell the sample is linear in the CDF,
        so its slope is the cell's mean density, which by the mean-value theorem differs
        from f(x) by at most dx |f'| = dx |x - 2 alpha| f (unit-variance Gaussian). 1 is
        that bound itself (observed up to 0.6 of it).
    ``softmax_grad``: straight-through gradient vs the gradient of an independent
        tempered softmax (float64). The code adds 1e-12 inside log(p), which shifts the
        scores by 1e-12 / p <= 1e-10 for p >= 0.01.
    ``batch``: features of a batch vs each row run alone (complex64): the same kernels
        on differently shaped tensors, so float32 reassociation only, a few ulp of
        values of order 1 (observed ~1e-7).
    ``graph``: gradients of a complex64 generator under ``tf.function`` vs eagerly,
        relative to max(1, max|g|): the graph may fuse and reorder the float32 sums of
        the backward pass (Grappler), so a few ulp of each partial sum (observed ~1e-7).
    ``analytic``: generator features vs closed forms for encoding-only circuits in
        complex128, at a cutoff where the truncated tail is < 1e-12.
    ``structural_zero``: a gradient entry that physics makes exactly zero comes out at
        rounding level relative to max|g| (observed 3e-7 in complex64, 1e-15 in
        complex128); an entry counts as *flowing* only above this floor, so the test
        cannot pass on rounding noise.
    ``sample_std``: sample standard deviation of 4000 N(0, 1) latent draws vs 1; its own
        standard deviation is 1/sqrt(2 * 4000) = 0.011, so 0.05 is 4.5 sigma, while a
        U(-1, 1) latent (std 0.58) misses by 0.4.
    ``float32``: sums of float32 softmax probabilities vs 1.
    """

    alpha: float = 1e-4
    orthonormality: float = 1e-8
    density: float = 1e-12
    wigner: float = 1e-9
    quantile: float = 1e-2
    derivative: float = 1.0
    softmax_grad: float = 1e-9
    batch: float = 1e-5
    graph: float = 1e-5
    analytic: float = 1e-9
    structural_zero: dict = field(
        default_factory=lambda: {tf.complex64: 1e-5, tf.complex128: 1e-12}
    )
    sample_std: float = 0.05
    float32: float = 1e-6


@pytest.fixture(scope="session")
def gen_tol() -> GeneratorTolerances:
    return GeneratorTolerances()
