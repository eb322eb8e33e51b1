"""Every numerical tolerance of the suite, in one place (tests never hard-code one).

Tests reach them through the ``tol`` fixture or ``from tolerances import TOL``
(``tests/`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tensorflow as tf


@dataclass(frozen=True)
class Tolerances:
    """All numerical tolerances of the suite, in one place.

    ``amplitude``: max |psi - psi_ref| per amplitude vs SF's fock backend (DESIGN.md).
    ``observable``: derived real quantities (probabilities, norm, mean photon number and
        quadrature moments with their variances) vs SF's state API, as a multiple of
        max(1, |reference|). In complex64 they are sums of up to D**n products of
        amplitudes that are each good to ~1e-7 relative, so 1e-4 is a loose but
        meaningful bound; in complex128 the same argument as for the amplitudes.
    ``gate``: gate matrix elements vs the exact elements (The Walrus / closed forms).
    ``unitarity``: deviation of U^dagger U from the identity on a block that the
        truncated gate leaves closed (exactly unitary there), and of the analytic
        truncation tails.
    ``definition``: gate vs exp(generator) computed with scipy in a large working
        truncation (complex128; the expm itself is only good to ~1e-12 there).
    ``nontrivial``: a deviation that a test expects to be *visible* (e.g. the truncation
        error at a small cutoff) must exceed this, so the test can actually fail.
    ``graph``: eager vs tf.function of the same computation (same kernels, same dtype).
    ``graph_gradient``: the same for a gradient through several readouts, relative to
        max(1, |reference|): eager, the tape adds the gradients of separately compiled
        readout calls; compiled, one graph adds them, in its own order. In complex64 the
        rounding of those sums (~D**n terms each) then reaches a few 1e-6 (measured 3.8e-6
        on a 3-mode, cutoff-5 circuit); in complex128 it stays at the ``graph`` level.
    ``fd_rtol`` / ``fd_step``: tape gradient vs central finite differences (complex128);
        the absolute floor is ``fd_rtol * max(1, max|grad|)``.
    ``sf_tf_grad``: tape gradient vs SF's tf backend gradient, relative to
        max(1, max|grad|).
    ``leakage``: leakage() vs the analytic Poisson tail (complex128).
    """

    amplitude: dict = field(default_factory=lambda: {tf.complex64: 2e-5, tf.complex128: 1e-10})
    observable: dict = field(default_factory=lambda: {tf.complex64: 1e-4, tf.complex128: 1e-9})
    gate: dict = field(default_factory=lambda: {tf.complex64: 2e-5, tf.complex128: 1e-12})
    unitarity: dict = field(default_factory=lambda: {tf.complex64: 1e-5, tf.complex128: 1e-12})
    graph: dict = field(default_factory=lambda: {tf.complex64: 1e-6, tf.complex128: 1e-12})
    graph_gradient: dict = field(default_factory=lambda: {tf.complex64: 1e-5, tf.complex128: 1e-12})
    definition: float = 1e-9
    nontrivial: float = 1e-7
    fd_rtol: float = 1e-6
    fd_step: float = 1e-5
    sf_tf_grad: float = 1e-4
    leakage: float = 1e-6


TOL = Tolerances()
