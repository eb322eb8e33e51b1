"""Specification of ``qgan.generator.readout``: the features of a simulated state.

Oracles:

* Strawberry Fields' own ``fock`` backend (``sf_fock`` fixture, tests/conftest.py) run on
  the generator's Program with the same bound arguments: ``quad_expectation``,
  ``mean_photon``, ``all_fock_probs``, reduced density matrices and ``x_quad_values``
  (the Wigner function integrated over p) of SF's state objects.
* Closed forms (hbar = 2, x = a + a^dagger): the position wavefunctions
  ``<x|n> = (2 pi)^(-1/4) 2^(-n/2) (n!)^(-1/2) H_n(x / sqrt 2) exp(-x^2 / 4)``, the
  coherent-state density N(2 Re alpha, 1), Fock-state and squeezed-vacuum densities,
  Gumbel-max sampling and the tempered softmax.
* Goodness-of-fit tests (Kolmogorov-Smirnov, chi-square) at significance ``gen_tol.alpha``
  with fixed seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats
from scipy.integrate import trapezoid

from qgan.generator import CVGenerator
from qgan.generator.readout import (
    DETERMINISTIC,
    READOUTS,
    STOCHASTIC,
    ReadoutSpec,
    gumbel_softmax,
    hermite_functions,
    homodyne_grid,
    inverse_cdf_sample,
    outcome_probabilities,
    read,
    x_density,
)
from qgan.photonic.result import FockResult

N_MODES, CUTOFF, SCALE = 2, 5, 0.5
DTYPES = [tf.complex64, tf.complex128]
DTYPE_IDS = ["c64", "c128"]


# --------------------------------------------------------------------------- analytic kets


def coherent_ket(alpha: complex, cutoff: int) -> np.ndarray:
    n = np.arange(cutoff)
    log_fact = np.array([math.lgamma(k + 1) for k in n])
    return np.exp(-(abs(alpha) ** 2) / 2 - 0.5 * log_fact) * alpha**n


def fock_ket(k: int, cutoff: int) -> np.ndarray:
    ket = np.zeros(cutoff, complex)
    ket[k] = 1.0
    return ket


def squeezed_vacuum_ket(r: float, cutoff: int) -> np.ndarray:
    """S(r, 0)|0>: c_{2m} = (-tanh r)^m sqrt((2m)!) / (2^m m! sqrt(cosh r))."""
    ket = np.zeros(cutoff, complex)
    for m in range((cutoff + 1) // 2):
        ket[2 * m] = (
            (-np.tanh(r)) ** m
            * math.sqrt(math.factorial(2 * m))
            / (2**m * math.factorial(m) * math.sqrt(np.cosh(r)))
        )
    return ket


def one_mode_result(kets, dtype=tf.complex128) -> FockResult:
    kets = np.atleast_2d(np.asarray(kets))
    return FockResult(tf.constant(kets, dtype), kets.shape[1], 1, batched=True)


def fock1_cdf(x):
    """CDF of |<x|1>|^2 = x^2 phi(x): Phi(x) - x phi(x)."""
    return stats.norm.cdf(x) - x * stats.norm.pdf(x)


# --------------------------------------------------------------------------- SF oracle


@pytest.fixture(scope="module", params=DTYPES, ids=DTYPE_IDS)
def case(request, sf_fock):
    """A 2-mode, cutoff-5, 1-layer generator with random weights, its state for three
    latent vectors, and SF's fock backend run on the same program and bound arguments."""
    dtype = request.param
    gen = CVGenerator(
        N_MODES,
        1,
        CUTOFF,
        readout=DETERMINISTIC,
        encoding_scale=SCALE,
        dtype=dtype,
        init_std=0.3,
        seed=7,
    )
    z = np.random.default_rng(11).normal(size=(3, N_MODES))
    features = gen(tf.constant(z)).numpy()
    result = gen.state(tf.constant(z))
    weights = gen.weights_vector.numpy().astype(np.float64)
    args = {f"z{i}": SCALE * z[:, i] for i in range(N_MODES)}
    args.update(zip(gen.circuit.weight_names, weights, strict=True))
    ref = sf_fock(gen.program, CUTOFF, args)
    return dict(gen=gen, z=z, features=features, result=result, ref=ref, dtype=dtype)


def block(case, name):
    """The feature block of ``name``; widths from the documented layout of DETERMINISTIC
    (quadratures 2M, mean_photon M, photon_marginals M*D, fock_probs D**M)."""
    widths = {
        "quadratures": 2 * N_MODES,
        "mean_photon": N_MODES,
        "photon_marginals": N_MODES * CUTOFF,
        "fock_probs": CUTOFF**N_MODES,
    }
    start = sum(widths[n] for n in DETERMINISTIC[: DETERMINISTIC.index(name)])
    assert case["features"].shape[1] == sum(widths.values())
    return case["features"][:, start : start + widths[name]]


class TestAgainstStrawberryFields:
    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_oracle_state_is_not_trivial(self, case, tol):
        # the comparison is meaningful: photons beyond the vacuum, and some leakage
        probs = case["ref"].all_fock_probs()
        assert probs[:, 0, 0].min() < 0.7
        assert (1 - case["ref"].norm()).max() > tol.nontrivial

    def test_quadratures_are_x_then_p_per_mode(self, case, tol, check):
        ref = case["ref"]
        expected = np.stack(
            [ref.quad_expectation(m, phi)[0] for m in range(N_MODES) for phi in (0, np.pi / 2)],
            axis=-1,
        )
        check.scaled(block(case, "quadratures"), expected, tol.observable[case["dtype"]])

    def test_mean_photon(self, case, tol, check):
        expected = np.stack([case["ref"].mean_photon(m)[0] for m in range(N_MODES)], axis=-1)
        check.scaled(block(case, "mean_photon"), expected, tol.observable[case["dtype"]])

    def test_photon_marginals_are_sf_reduced_states(self, case, tol, check):
        expected = [
            np.concatenate([np.real(np.diag(s.reduced_dm(m))) for m in range(N_MODES)], axis=-1)
            for s in case["ref"].states
        ]
        check.scaled(
            block(case, "photon_marginals"), np.stack(expected), tol.observable[case["dtype"]]
        )

    def test_fock_probs_are_sf_all_fock_probs_row_major(self, case, tol, check):
        expected = case["ref"].all_fock_probs().reshape(3, -1)
        check.scaled(block(case, "fock_probs"), expected, tol.observable[case["dtype"]])

    def test_leakage_is_one_minus_sf_trace(self, case, tol, check):
        _, leakage = case["gen"].features_and_leakage(tf.constant(case["z"]))
        check.scaled(leakage, 1 - case["ref"].norm(), tol.observable[case["dtype"]])

    @pytest.mark.parametrize("modes", [(0, 1), (1, 0), (1,), (0,)])
    def test_outcome_probabilities_are_sf_marginals_in_listed_order(self, case, modes, tol, check):
        probs = case["ref"].all_fock_probs()  # [B, D, D], axes in mode order
        others = tuple(1 + m for m in range(N_MODES) if m not in modes)
        marginal = probs.sum(axis=others) if others else probs
        kept = sorted(modes)
        marginal = np.transpose(marginal, [0, *(1 + kept.index(m) for m in modes)])
        flat = marginal.reshape(3, -1)
        expected = flat / flat.sum(axis=1, keepdims=True)
        got = outcome_probabilities(case["result"], modes)
        check.scaled(got, expected, tol.observable[case["dtype"]])

    def test_photon_samples_are_gumbel_max_draws_of_sf_marginal(self, case):
        modes = (1, 0)
        spec = ReadoutSpec(("photon_samples",), N_MODES, CUTOFF, modes)
        u = np.random.default_rng(3).uniform(size=(3, CUTOFF**2))
        sample = read(case["result"], spec, tf.constant(u)).numpy()
        probs = case["ref"].all_fock_probs().transpose(0, 2, 1).reshape(3, -1)
        probs = probs / probs.sum(axis=1, keepdims=True)
        expected = np.argmax(np.log(probs) - np.log(-np.log(u)), axis=1)
        np.testing.assert_array_equal(sample, np.eye(CUTOFF**2)[expected])

    def test_x_density_is_sf_wigner_marginal(self, case, gen_tol, tol):
        grid = homodyne_grid(CUTOFF, 257)
        pvec = np.linspace(-12, 12, 401)
        atol = gen_tol.wigner if case["dtype"] == tf.complex128 else tol.observable[tf.complex64]
        for m in range(N_MODES):
            got = x_density(case["result"], m, grid).numpy()
            expected = np.stack([s.x_quad_values(m, grid, pvec) for s in case["ref"].states])
            np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
            # integrates to the norm of the truncated state
            np.testing.assert_allclose(
                trapezoid(got, grid, axis=1), case["ref"].norm(), rtol=0, atol=atol
            )


# --------------------------------------------------------------------------- homodyne


class TestHermiteFunctions:
    @pytest.mark.parametrize("cutoff", [2, 5, 10, 30])
    def test_orthonormal_on_the_homodyne_grid(self, cutoff, gen_tol):
        grid = homodyne_grid(cutoff, 257)
        psi = hermite_functions(grid, cutoff)
        gram = trapezoid(psi[:, :, None] * psi[:, None, :], grid, axis=0)
        np.testing.assert_allclose(gram, np.eye(cutoff), rtol=0, atol=gen_tol.orthonormality)

    def test_closed_form_with_hbar_2(self, gen_tol):
        x = np.linspace(-8, 8, 101)
        psi = hermite_functions(x, 12)
        for n in range(12):
            closed = (
                (2 * np.pi) ** -0.25
                / math.sqrt(2.0**n * math.factorial(n))
                * special.eval_hermite(n, x / math.sqrt(2))
                * np.exp(-(x**2) / 4)
            )
            np.testing.assert_allclose(psi[:, n], closed, rtol=0, atol=gen_tol.density)

    def test_grid_covers_the_turning_point_of_every_photon_number(self):
        for cutoff in (2, 4, 10):
            grid = homodyne_grid(cutoff, 33)
            turning = math.sqrt(2 * (2 * (cutoff - 1) + 1))
            assert grid[0] == -grid[-1] and grid[-1] >= turning + 6
            np.testing.assert_allclose(np.diff(grid), grid[1] - grid[0])


class TestXDensity:
    @given(r=st.floats(0, 1.2), phi=st.floats(-math.pi, math.pi))
    def test_coherent_state_is_gaussian_with_unit_variance(self, r, phi, gen_tol):
        # cutoff 32: the amplitude tail |alpha|^n / sqrt(n!) of |alpha| <= 1.2 is < 1e-15
        alpha = r * np.exp(1j * phi)
        result = one_mode_result(coherent_ket(alpha, 32))
        grid = homodyne_grid(32, 257)
        expected = stats.norm(2 * alpha.real, 1.0).pdf(grid)
        got = x_density(result, 0, grid).numpy()[0]
        np.testing.assert_allclose(got, expected, rtol=0, atol=gen_tol.density)

    @pytest.mark.parametrize(
        "n, closed",
        [
            (0, lambda x: stats.norm.pdf(x)),
            (1, lambda x: x**2 * stats.norm.pdf(x)),
            (2, lambda x: (x**2 - 1) ** 2 / 2 * stats.norm.pdf(x)),
        ],
    )
    def test_fock_states(self, n, closed, gen_tol):
        grid = homodyne_grid(6, 257)
        got = x_density(one_mode_result(fock_ket(n, 6)), 0, grid).numpy()[0]
        np.testing.assert_allclose(got, closed(grid), rtol=0, atol=gen_tol.density)

    def test_squeezed_vacuum_has_variance_exp_minus_2r(self, gen_tol):
        r, cutoff = 0.3, 60  # (tanh 0.3)^30 ~ 1e-17
        grid = homodyne_grid(cutoff, 513)
        got = x_density(one_mode_result(squeezed_vacuum_ket(r, cutoff)), 0, grid).numpy()[0]
        expected = stats.norm(0, math.exp(-r)).pdf(grid)
        np.testing.assert_allclose(got, expected, rtol=0, atol=gen_tol.density)

    def test_each_mode_of_a_product_state(self, gen_tol):
        # |alpha> (x) |1>: mode 0 is Gaussian, mode 1 the Fock density, per batch row
        ket = np.einsum("i,j->ij", coherent_ket(0.4 - 0.2j, 20), fock_ket(1, 20))
        result = FockResult(tf.constant(ket[None]), 20, 2, batched=True)
        grid = homodyne_grid(20, 257)
        np.testing.assert_allclose(
            x_density(result, 0, grid).numpy()[0],
            stats.norm(0.8, 1).pdf(grid),
            rtol=0,
            atol=gen_tol.density,
        )
        np.testing.assert_allclose(
            x_density(result, 1, grid).numpy()[0],
            grid**2 * stats.norm.pdf(grid),
            rtol=0,
            atol=gen_tol.density,
        )


class TestInverseCdfSample:
    N = 20_000

    def _samples(self, ket, u):
        cutoff = len(ket)
        grid = homodyne_grid(cutoff, 257)
        density = x_density(one_mode_result(ket), 0, grid)
        density = tf.repeat(density, len(u), axis=0)
        return inverse_cdf_sample(density, grid, tf.constant(u)).numpy()

    def test_coherent_samples_pass_ks(self, gen_tol):
        u = np.random.default_rng(0).uniform(size=self.N)
        x = self._samples(coherent_ket(0.6 + 0.4j, 20), u)
        assert stats.kstest(x, stats.norm(1.2, 1.0).cdf).pvalue > gen_tol.alpha
        # and the check has power: hbar = 1 quadratures (std 1/sqrt 2) would fail it
        assert stats.kstest(x, stats.norm(1.2, math.sqrt(0.5)).cdf).pvalue < gen_tol.alpha

    def test_fock_1_samples_pass_ks(self, gen_tol):
        u = np.random.default_rng(1).uniform(size=self.N)
        x = self._samples(fock_ket(1, 10), u)
        assert stats.kstest(x, fock1_cdf).pvalue > gen_tol.alpha
        assert stats.kstest(x, stats.norm(0, math.sqrt(3)).cdf).pvalue < gen_tol.alpha

    def test_quantiles_in_the_bulk(self, gen_tol):
        u = np.linspace(0.05, 0.95, 19)
        x = self._samples(coherent_ket(-0.7 + 0.1j, 20), u)
        expected = stats.norm(-1.4, 1.0).ppf(u)
        np.testing.assert_allclose(x, expected, rtol=0, atol=gen_tol.quantile)
        assert np.all(np.diff(x) > 0), "samples must increase with u"

    def test_renormalises_and_ignores_negative_round_off(self, gen_tol):
        grid = homodyne_grid(20, 257)
        density = x_density(one_mode_result(coherent_ket(0.3, 20)), 0, grid)
        u = tf.constant([0.2, 0.5, 0.8], tf.float64)
        ref = inverse_cdf_sample(tf.repeat(density, 3, 0), grid, u).numpy()
        scaled = tf.repeat(0.25 * density, 3, 0)  # an unnormalised (leaky) density
        noisy = scaled - 1e-18  # tails slightly negative
        np.testing.assert_allclose(
            inverse_cdf_sample(noisy, grid, u).numpy(), ref, rtol=0, atol=gen_tol.density
        )

    @pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
    @pytest.mark.parametrize("points", [257, 1025])
    def test_differentiable_in_the_density(self, graph, points, gen_tol, tol):
        """x(u) of |alpha> (alpha real) is 2 alpha + Phi^-1(u), so d x / d alpha = 2.

        The sample is linear in the CDF inside a grid cell, so its slope uses the cell's
        mean density instead of f(x): by the mean-value theorem the relative error is at
        most ~ dx |f'/f| = dx |x - 2 alpha| (plus O(dx^2)), and it shrinks with the grid.
        The tape gradient is exactly the derivative of that interpolated sample (central
        differences).
        """
        cutoff = 20
        grid = np.linspace(*homodyne_grid(cutoff, 2)[[0, -1]], points)
        dx = grid[1] - grid[0]
        n = np.arange(cutoff, dtype=np.float64)
        log_fact = tf.constant([math.lgamma(k + 1) for k in n], tf.float64)
        u_values = np.array([0.1, 0.35, 0.5, 0.8])
        u = tf.constant(u_values, tf.float64)

        def sample(alpha):
            amps = tf.exp(-(alpha**2) / 2 - 0.5 * log_fact + n * tf.math.log(alpha))
            ket = tf.cast(tf.repeat(amps[None], 4, axis=0), tf.complex128)
            density = x_density(FockResult(ket, cutoff, 1, True), 0, grid)
            return inverse_cdf_sample(density, grid, u)

        fn = tf.function(sample) if graph else sample
        alpha = tf.Variable(0.45, dtype=tf.float64)
        with tf.GradientTape() as tape:
            x = fn(alpha)
        grads = tape.jacobian(x, alpha).numpy()
        offset = np.abs(stats.norm.ppf(u_values))
        bound = 2 * gen_tol.derivative * dx * (offset + dx)
        assert np.all(np.abs(grads - 2.0) <= bound), (grads, bound)
        h = tol.fd_step
        fd = (fn(tf.constant(0.45 + h, tf.float64)) - fn(tf.constant(0.45 - h, tf.float64))) / (
            2 * h
        )
        check_fd = np.abs(grads - fd.numpy()) <= tol.fd_rtol * max(1.0, np.abs(fd).max())
        assert np.all(check_fd), (grads, fd.numpy())


# --------------------------------------------------------------------------- photon samples


def gumbel_max(probs, u):
    return np.argmax(np.log(probs) - np.log(-np.log(u)), axis=-1)


class TestGumbelSoftmax:
    @given(st.integers(0, 2**31 - 1), st.integers(2, 9), st.sampled_from([0.1, 0.5, 2.0]))
    def test_hard_samples_are_exactly_one_hot_gumbel_max_draws(self, seed, k, temperature):
        rng = np.random.default_rng(seed)
        probs = rng.dirichlet(np.ones(k), size=16)
        u = rng.uniform(size=(16, k))
        for dtype in (tf.float32, tf.float64):
            out = gumbel_softmax(
                tf.constant(probs, dtype), tf.constant(u, dtype), temperature, True
            ).numpy()
            np.testing.assert_array_equal(out, np.eye(k)[gumbel_max(probs, u)])

    def test_hard_samples_follow_probs_chi_square(self, gen_tol):
        probs = np.array([0.05, 0.15, 0.3, 0.5])
        n = 20_000
        u = np.random.default_rng(5).uniform(size=(n, 4)).astype(np.float32)
        p = tf.constant(np.tile(probs, (n, 1)), tf.float32)
        out = gumbel_softmax(p, tf.constant(u), 0.5, True).numpy()
        counts = out.sum(axis=0)
        assert counts.sum() == n
        assert stats.chisquare(counts, n * probs).pvalue > gen_tol.alpha
        # power: a distribution a few percent off is rejected at this sample size
        shifted = np.array([0.06, 0.16, 0.3, 0.48])
        assert stats.chisquare(counts, n * shifted).pvalue < gen_tol.alpha

    @pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
    def test_straight_through_gradient_is_the_tempered_softmax_gradient(self, graph, gen_tol, tol):
        rng = np.random.default_rng(2)
        probs = tf.Variable(rng.dirichlet(np.ones(5), size=6) * 0.95 + 0.01)
        u = rng.uniform(size=(6, 5))
        weights = tf.constant(rng.normal(size=(6, 5)))
        temperature = 0.7

        def loss(fn):
            with tf.GradientTape() as tape:
                value = tf.reduce_sum(weights * fn())
            return tape.gradient(value, probs)

        def straight():
            return gumbel_softmax(probs, tf.constant(u), temperature, True)

        def relaxed_oracle():
            scores = tf.math.log(probs) - tf.math.log(-tf.math.log(tf.constant(u)))
            return tf.nn.softmax(scores / temperature, axis=-1)

        wrap = tf.function if graph else (lambda f: f)
        got = wrap(lambda: loss(straight))()
        expected = wrap(lambda: loss(relaxed_oracle))()
        assert np.abs(expected.numpy()).max() > tol.nontrivial  # a gradient to compare
        np.testing.assert_allclose(got, expected, rtol=0, atol=gen_tol.softmax_grad)

    def test_relaxed_sample_is_the_tempered_softmax(self, gen_tol):
        rng = np.random.default_rng(4)
        probs = rng.dirichlet(np.ones(6), size=5) * 0.9 + 0.1 / 6
        u = rng.uniform(size=(5, 6))
        out = gumbel_softmax(tf.constant(probs), tf.constant(u), 0.3, False).numpy()
        expected = special.softmax((np.log(probs) - np.log(-np.log(u))) / 0.3, axis=-1)
        np.testing.assert_allclose(out, expected, rtol=0, atol=gen_tol.softmax_grad)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=gen_tol.density)


class TestOutcomeProbabilities:
    @given(
        seed=st.integers(0, 2**31 - 1),
        modes=st.permutations([0, 1, 2]).flatmap(
            lambda p: st.integers(1, 3).map(lambda k: tuple(p[:k]))
        ),
    )
    def test_normalised_marginal_in_the_listed_mode_order(self, seed, modes, gen_tol):
        rng = np.random.default_rng(seed)
        d = 3
        ket = rng.normal(size=(2, d, d, d)) + 1j * rng.normal(size=(2, d, d, d))
        ket *= 0.9 / np.linalg.norm(ket.reshape(2, -1), axis=1)[:, None, None, None]  # leaky
        result = FockResult(tf.constant(ket), d, 3, batched=True)
        got = outcome_probabilities(result, modes).numpy()
        # oracle: loop over outcomes (n_m for m in modes), flat index row-major in that order
        probs = np.abs(ket) ** 2
        expected = np.zeros((2, d ** len(modes)))
        for flat, outcome in enumerate(np.ndindex(*([d] * len(modes)))):
            index = [slice(None)] * 4
            for m, n in zip(modes, outcome):
                index[1 + m] = n
            expected[:, flat] = probs[tuple(index)].reshape(2, -1).sum(axis=1)
        expected /= expected.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(got, expected, rtol=0, atol=gen_tol.density)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=0, atol=gen_tol.density)


# --------------------------------------------------------------------------- spec


class TestReadoutSpec:
    def test_widths_and_noise(self):
        m, d = 3, 4
        spec = ReadoutSpec(READOUTS, m, d, (2, 0))
        expected_width = {
            "quadratures": 2 * m,
            "mean_photon": m,
            "photon_marginals": m * d,
            "fock_probs": d**m,
            "photon_samples": d**2,
            "homodyne": m,
        }
        for name, width in expected_width.items():
            assert spec.width(name) == width
        assert spec.n_features == sum(expected_width.values())
        # one uniform per outcome for the Gumbel noise, one per mode for homodyne
        assert {n: spec.noise_width(n) for n in STOCHASTIC} == {
            "photon_samples": d**2,
            "homodyne": m,
        }
        assert all(spec.noise_width(n) == 0 for n in DETERMINISTIC)
        assert spec.n_noise == d**2 + m
