"""Specification of ``qgan.metrics`` on distributions with known answers.

Oracles: the chi-square law of a 2-D isotropic Gaussian (P(|z| <= 3) = 1 - exp(-9/2)), the
multinomial law of mode counts, closed forms for constructed samples (one mode, points on a
segment, exact mode counts), the closed-form RBF mean embedding of Gaussians (MMD), the
noncentral chi mean (energy distance), SciPy's ``energy_distance``,
``wasserstein_distance`` and ``linregress``, and the Poisson tail of a coherent state
simulated by ``qgan.photonic`` (leakage).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import qgan._compat  # noqa: F401  (SciPy shim; must precede strawberryfields)

import numpy as np
import pytest
import strawberryfields as sf
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import gammaln
from strawberryfields import ops

from qgan import metrics
from qgan.gan.data import PRESETS, gaussian_mixture

P_HIGH_QUALITY_2D = 1.0 - math.exp(-4.5)  # P(chi2_2 <= 9) = 0.98889
R2_BIMODAL = 2.25**2 / 2.34**2  # 0.92456: cov 1.5^2 off-diagonal, 1.5^2 + 0.3^2 on it


@dataclass(frozen=True)
class MetricTolerances:
    """Every tolerance of this file, in one place.

    ``z``: number of standard errors a Monte Carlo estimate may deviate from its exact
        expectation (5: a correct estimator fails with probability ~6e-7 per fresh seed;
        the draws are seeded, so each test is deterministic).
    ``rounding``: float64 rounding of sums over up to 10^7 terms (permutations, symmetry,
        closed forms evaluated exactly).
    ``oracle``: agreement with SciPy's implementations of the same estimator.
    ``fock``: leakage of a complex128 simulation vs the Poisson tail (the engine's
        complex128 observable tolerance).
    """

    z: float = 5.0
    rounding: float = 1e-10
    oracle: float = 1e-9
    fock: float = 1e-9

    def binomial(self, p: float, n: int) -> float:
        """Allowed deviation of an empirical fraction from ``p`` over ``n`` draws."""
        return self.z * math.sqrt(p * (1.0 - p) / n)

    def mode_kl(self, k: int, n: int) -> float:
        """Allowed reverse KL of exact samples: 2n KL -> chi2_{K-1}, mean (K-1)/2n, sd
        sqrt(2(K-1))/2n."""
        return (k - 1 + self.z * math.sqrt(2 * (k - 1))) / (2 * n)

    def r2(self, rho: float, n: int) -> float:
        """Allowed deviation of a sample R^2 = r^2: the bivariate-normal delta-method sd of r^2,
        2 rho (1 - rho^2) / sqrt(n), times ``z``. For the bimodal mixture this sd is an upper
        bound (measured over 300 seeds at n = 20000: 7.5e-4 against 1.03e-3)."""
        return self.z * 2.0 * rho * (1.0 - rho**2) / math.sqrt(n)


@pytest.fixture(scope="module")
def mtol() -> MetricTolerances:
    return MetricTolerances()


def on_centres(mixture, counts) -> np.ndarray:
    """Points exactly on the centres, ``counts[k]`` copies of centre k."""
    return np.repeat(mixture.centers, counts, axis=0)


# --------------------------------------------------------------------------- mode statistics


class TestModeStatistics:
    @pytest.mark.parametrize("name", sorted(PRESETS))
    def test_exact_samples_of_each_preset(self, name, mtol):
        m = PRESETS[name]
        n = 2500
        x = m.sample(n, np.random.default_rng(11))
        s = metrics.mode_statistics(x, m)
        assert s["modes_captured"] == m.n_components
        assert abs(s["high_quality_fraction"] - P_HIGH_QUALITY_2D) <= mtol.binomial(
            P_HIGH_QUALITY_2D, n
        )
        assert 0.0 <= s["mode_kl"] <= mtol.mode_kl(m.n_components, n)
        q = np.array(s["mode_weights"])
        assert q.shape == (m.n_components,) and abs(q.sum() - 1.0) < mtol.rounding
        for qk, wk in zip(q, m.weights):
            assert abs(qk - wk) <= mtol.binomial(wk, n)

    @pytest.mark.parametrize("name", sorted(PRESETS))
    def test_high_quality_fraction_is_the_chi2_probability(self, name, mtol):
        """200,000 exact samples pin the radius: 2.9 or 3.1 std would be > 2 tolerances off."""
        m = PRESETS[name]
        n = 200_000
        s = metrics.mode_statistics(m.sample(n, np.random.default_rng(12)), m)
        tol = mtol.binomial(P_HIGH_QUALITY_2D, n)
        assert abs(s["high_quality_fraction"] - P_HIGH_QUALITY_2D) <= tol
        for radius in (2.9, 3.1):
            assert abs(stats.chi2.cdf(radius**2, 2) - P_HIGH_QUALITY_2D) > 2 * tol

    @pytest.mark.parametrize("name", sorted(PRESETS))
    def test_exact_mode_counts_give_zero_kl(self, name, mtol):
        m = PRESETS[name]
        x = on_centres(m, np.full(m.n_components, 100))
        s = metrics.mode_statistics(x, m)
        assert s["mode_kl"] <= mtol.rounding
        np.testing.assert_allclose(s["mode_weights"], m.weights, atol=mtol.rounding)
        assert s["high_quality_fraction"] == 1.0
        assert s["modes_captured"] == m.n_components

    @pytest.mark.parametrize("name", sorted(PRESETS))
    def test_all_samples_on_one_centre(self, name, mtol):
        m = PRESETS[name]
        k = m.n_components
        j = k // 2
        rng = np.random.default_rng(0)
        x = m.centers[j] + 0.5 * m.std * rng.standard_normal((1000, 2))  # all within 3 std
        s = metrics.mode_statistics(x, m)
        assert s["modes_captured"] == 1
        assert s["high_quality_fraction"] == 1.0
        assert abs(s["mode_kl"] - math.log(k)) <= mtol.rounding
        assert s["mode_weights"] == [1.0 if i == j else 0.0 for i in range(k)]

    @pytest.mark.parametrize("name", sorted(PRESETS))
    def test_uniform_noise_far_away_is_never_high_quality(self, name):
        m = PRESETS[name]
        x = np.random.default_rng(1).uniform(10.0, 20.0, size=(2000, 2))
        s = metrics.mode_statistics(x, m)
        assert s["high_quality_fraction"] == 0.0
        assert s["modes_captured"] == 0

    def test_linear_interpolation_between_the_bimodal_centres(self, mtol):
        """The original project's failure: points on the segment between the two modes.

        The share within 3 std (0.9) of an end of the segment (length 3 sqrt 2) is
        2 * 0.9 / (3 sqrt 2) = 0.4243, up to the grid spacing; the points form a line.
        """
        m = PRESETS["bimodal"]
        n = 10_001
        t = np.linspace(0.0, 1.0, n)[:, None]
        x = m.centers[0] + t * (m.centers[1] - m.centers[0])
        s = metrics.mode_statistics(x, m)
        length = float(np.linalg.norm(m.centers[1] - m.centers[0]))
        assert abs(s["high_quality_fraction"] - 2 * 0.9 / length) <= 2.0 / n
        assert s["modes_captured"] == 2  # both ends hold > 1/4 of their expected share
        assert abs(metrics.linear_r2(x) - 1.0) <= mtol.rounding

    def test_a_mode_needs_a_quarter_of_its_expected_samples(self):
        """DESIGN.md's capture rule at its boundary: weights (0.2, 0.8), n = 1000 -> 50."""
        m = gaussian_mixture([[0.0, 0.0], [10.0, 0.0]], 0.1, [1.0, 4.0])
        assert metrics.mode_statistics(on_centres(m, [50, 950]), m)["modes_captured"] == 2
        assert metrics.mode_statistics(on_centres(m, [49, 951]), m)["modes_captured"] == 1

    def test_reverse_kl_against_unequal_weights(self, mtol):
        m = gaussian_mixture([[0.0, 0.0], [10.0, 0.0]], 0.1, [1.0, 3.0])
        s = metrics.mode_statistics(on_centres(m, [500, 500]), m)
        expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
        assert abs(s["mode_kl"] - expected) <= mtol.rounding

    def test_nearest_centre_assignment_counts_low_quality_points(self):
        """mode_weights use every sample (nearest centre); high quality only those in 3 std."""
        m = PRESETS["bimodal"]
        x = np.array([[-1.5, -1.5], [-0.5, -0.5], [1.5, 1.5], [1.0, 1.0]])  # 2nd is 4.7 std out
        s = metrics.mode_statistics(x, m)
        assert s["mode_weights"] == [0.5, 0.5]
        assert s["high_quality_fraction"] == 0.75

    def test_any_object_with_centers_std_weights_is_a_mixture(self):
        """The metrics read a mixture by protocol: plain lists in a bare record give the
        same statistics as the validated data-layer class (exact: same arithmetic)."""

        @dataclass(frozen=True)
        class Record:
            centers: list
            std: float
            weights: list

        m = PRESETS["ring8"]
        plain = Record(m.centers.tolist(), float(m.std), m.weights.tolist())
        x = m.sample(500, np.random.default_rng(5))
        assert metrics.mode_statistics(x, plain) == metrics.mode_statistics(x, m)
        real = m.sample(400, np.random.default_rng(6))
        assert metrics.evaluate(x, real, plain) == metrics.evaluate(x, real, m)

    def test_bad_input(self):
        m = PRESETS["ring8"]
        with pytest.raises(ValueError, match="^samples: expected points of dimension 2, got 3"):
            metrics.mode_statistics(np.zeros((4, 3)), m)
        with pytest.raises(ValueError, match="^samples: 1 entries are NaN or inf"):
            metrics.mode_statistics(np.array([[0.0, np.nan]]), m)
        with pytest.raises(ValueError, match=r"^samples: expected a non-empty array"):
            metrics.mode_statistics(np.zeros(5), m)


# --------------------------------------------------------------------------- MMD


def rbf_mean(dmu2: float, var: float, bandwidth: float, d: int) -> float:
    """E exp(-|X - Y|^2 / 2 s^2) for X - Y ~ N(mu, var I_d), |mu|^2 = dmu2 (closed form)."""
    v = bandwidth**2 + var
    return (bandwidth**2 / v) ** (d / 2) * math.exp(-dmu2 / (2 * v))


def mmd2_gaussians(shift: float, scale: float, bandwidths, d: int) -> float:
    """MMD^2 between N(0, I_d) and N(shift e_1, scale^2 I_d), kernel averaged over bandwidths."""
    return float(
        np.mean(
            [
                rbf_mean(0.0, 2.0, s, d)
                + rbf_mean(0.0, 2.0 * scale**2, s, d)
                - 2.0 * rbf_mean(shift**2, 1.0 + scale**2, s, d)
                for s in bandwidths
            ]
        )
    )


def draw_pair(rng, n, d, shift, scale):
    x = rng.standard_normal((n, d))
    y = scale * rng.standard_normal((n, d))
    y[:, 0] += shift
    return x, y


class TestMMD:
    @pytest.mark.parametrize(("shift", "scale"), [(0.0, 1.0), (1.0, 1.0), (0.0, 0.5), (2.0, 1.5)])
    def test_unbiased_against_the_closed_form(self, shift, scale, mtol):
        """The mean of 200 estimates (n = 50 each) is the population MMD^2 within 5 standard
        errors; a V-statistic (biased by ~(2 - 2 E k) / n) misses it by 5 to 36 of them."""
        bandwidths, d, n, reps = (0.5, 1.0, 2.0), 2, 50, 200
        rng = np.random.default_rng(2024)
        est = np.array(
            [metrics.mmd(*draw_pair(rng, n, d, shift, scale), bandwidths) for _ in range(reps)]
        )
        exact = mmd2_gaussians(shift, scale, bandwidths, d)
        se = est.std(ddof=1) / math.sqrt(reps)
        assert abs(est.mean() - exact) <= mtol.z * se, (est.mean(), exact, se)
        if shift or scale != 1.0:
            # clearly > 0: the acceptance intervals around 0 and around the value are disjoint
            assert exact > 2 * mtol.z * se

    def test_same_distribution_is_near_zero_and_a_shift_is_not(self):
        """With the default (median-heuristic) bandwidths, on the ring: generated = real law
        gives |MMD^2| far below a 0.3 shift of all points or a collapse onto one mode."""
        m = PRESETS["ring8"]
        rng = np.random.default_rng(3)
        real, same = m.sample(1000, rng), m.sample(1000, rng)
        null = abs(metrics.mmd(real, same))
        assert metrics.mmd(real, same + np.float32(0.3)) > 50 * null
        collapsed = np.repeat(m.centers[:1], 1000, axis=0)
        assert metrics.mmd(real, collapsed) > 50 * null

    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), m=st.integers(2, 40))
    def test_symmetric_and_permutation_invariant(self, seed, n, m, mtol):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 0.5
        value = metrics.mmd(x, y)
        assert abs(metrics.mmd(y, x) - value) <= mtol.rounding
        assert abs(metrics.mmd(rng.permutation(x), rng.permutation(y)) - value) <= (mtol.rounding)
        assert -2.0 <= value <= 2.0

    def test_bad_bandwidths(self):
        x = np.zeros((3, 2))
        for bw in ([], [0.0], [-1.0], [float("nan")]):
            with pytest.raises(ValueError, match="^bandwidths: expected positive numbers"):
                metrics.mmd(x, x + 1, bw)
        with pytest.raises(ValueError, match="^x, y: the unbiased MMD needs at least 2 points"):
            metrics.mmd(x[:1], x)


# --------------------------------------------------------------------------- energy distance


def mean_norm(shift: float, var: float, d: int) -> float:
    """E|Z| for Z ~ N(shift e_1, var I_d): sqrt(var) times the (noncentral) chi mean."""
    if shift == 0.0:
        return math.sqrt(2.0 * var) * math.exp(gammaln((d + 1) / 2) - gammaln(d / 2))
    lam = shift**2 / var
    return math.sqrt(var) * stats.ncx2.expect(np.sqrt, args=(d, lam))


class TestEnergyDistance:
    def test_point_masses(self, mtol):
        """All mass at a vs all at b: 2|a - b| exactly (the within-sample terms vanish)."""
        x = np.tile([1.0, 2.0, 3.0], (7, 1))
        y = np.tile([4.0, 6.0, 3.0], (5, 1))
        assert abs(metrics.energy_distance(x, y) - 2 * 5.0) <= mtol.rounding
        assert metrics.energy_distance(x, x) == 0.0

    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), m=st.integers(1, 60))
    def test_one_dimensional_data_matches_scipy(self, seed, n, m, mtol):
        """In 1-D the V-statistic is 2 int (F - G)^2 = scipy.stats.energy_distance ** 2."""
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(n, 1)), rng.exponential(size=(m, 1))
        ours = metrics.energy_distance(x, y)
        ref = stats.energy_distance(x[:, 0], y[:, 0]) ** 2
        assert abs(ours - ref) <= mtol.oracle * max(1.0, ref)

    @pytest.mark.parametrize("shift", [0.0, 1.0, 3.0])
    def test_shifted_gaussians_against_the_closed_form(self, shift, mtol):
        """E[V-statistic] = D + E|X - X'|/n + E|Y - Y'|/m with D = 2E|X-Y| - E|X-X'| - E|Y-Y'|;
        the mean of 200 estimates (n = 50) agrees within 5 standard errors."""
        d, n, reps = 2, 50, 200
        rng = np.random.default_rng(99)
        est = np.array(
            [metrics.energy_distance(*draw_pair(rng, n, d, shift, 1.0)) for _ in range(reps)]
        )
        within = mean_norm(0.0, 2.0, d)
        exact = 2.0 * mean_norm(shift, 2.0, d) - 2.0 * within
        se = est.std(ddof=1) / math.sqrt(reps)
        assert abs(est.mean() - (exact + 2.0 * within / n)) <= mtol.z * se

    @given(seed=st.integers(0, 2**32 - 1))
    def test_symmetric_and_permutation_invariant(self, seed, mtol):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) * 2
        value = metrics.energy_distance(x, y)
        assert value >= 0.0
        assert abs(metrics.energy_distance(y, x) - value) <= mtol.rounding
        permuted = metrics.energy_distance(rng.permutation(x), rng.permutation(y))
        assert abs(permuted - value) <= mtol.rounding


# --------------------------------------------------------------------------- Wasserstein-1


class TestWasserstein:
    @given(
        seed=st.integers(0, 2**32 - 1),
        n=st.integers(1, 50),
        m=st.integers(1, 50),
        d=st.integers(1, 3),
    )
    def test_matches_scipy_per_axis(self, seed, n, m, d, mtol):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(n, d))
        y = np.round(rng.normal(size=(m, d)), 1)  # ties as well
        ours = metrics.wasserstein_1d(x, y)
        assert len(ours) == d
        for axis in range(d):
            ref = stats.wasserstein_distance(x[:, axis], y[:, axis])
            assert abs(ours[axis] - ref) <= mtol.oracle * max(1.0, ref)

    def test_a_shift_moves_each_axis_by_its_amount(self, mtol):
        x = np.random.default_rng(5).normal(size=(300, 3))
        shift = np.array([0.5, -2.0, 0.0])
        np.testing.assert_allclose(
            metrics.wasserstein_1d(x, x + shift), np.abs(shift), atol=mtol.rounding
        )

    def test_point_masses(self, mtol):
        x, y = np.full((4, 2), [0.0, 1.0]), np.full((9, 2), [3.0, -1.0])
        np.testing.assert_allclose(metrics.wasserstein_1d(x, y), [3.0, 2.0], atol=mtol.rounding)


# --------------------------------------------------------------------------- linear R^2


class TestLinearR2:
    def test_a_perfect_line(self, mtol):
        t = np.linspace(-3.0, 5.0, 101)
        assert abs(metrics.linear_r2(np.stack([t, 0.3 - 2.0 * t], axis=1)) - 1.0) <= mtol.rounding

    def test_the_bimodal_preset(self, mtol):
        n = 20_000
        x = PRESETS["bimodal"].sample(n, np.random.default_rng(8))
        r2 = metrics.linear_r2(x)
        assert abs(r2 - R2_BIMODAL) <= mtol.r2(math.sqrt(R2_BIMODAL), n), r2

    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 200))
    def test_is_the_ols_r2_of_y_on_x(self, seed, n, mtol):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=n)
        p = np.stack([x, rng.uniform(-1, 1) * x + rng.normal(size=n)], axis=1)
        ref = stats.linregress(p[:, 0], p[:, 1]).rvalue ** 2
        r2 = metrics.linear_r2(p)
        assert abs(r2 - ref) <= mtol.oracle
        assert abs(metrics.linear_r2(rng.permutation(p)) - r2) <= mtol.rounding
        scaled = p * np.array([rng.uniform(0.1, 10), -rng.uniform(0.1, 10)]) + 3.0
        assert abs(metrics.linear_r2(scaled) - r2) <= mtol.oracle

    def test_undefined_cases_are_nan(self):
        assert math.isnan(metrics.linear_r2(np.zeros((10, 3))))  # d != 2
        assert math.isnan(metrics.linear_r2(np.ones((10, 1))))
        assert math.isnan(metrics.linear_r2(np.array([[1.0, 2.0]])))  # one point
        assert math.isnan(metrics.linear_r2(np.tile([1.0, 2.0], (5, 1))))  # collapsed
        vertical = np.stack([np.zeros(5), np.arange(5.0)], axis=1)
        assert math.isnan(metrics.linear_r2(vertical))


# --------------------------------------------------------------------------- gradient flow


class TestGradientFlow:
    def test_constructed_gradients(self):
        variables = list(range(8))
        grads = [
            None,
            np.array([1.0, np.nan]),
            np.zeros(3),
            np.array([0.0, 2.0]),
            tf.constant([np.inf, 1.0]),
            tf.constant([[0.5]]),
            tf.IndexedSlices(tf.constant([[0.0, 1.0]]), tf.constant([1]), tf.constant([3, 2])),
            tf.IndexedSlices(tf.zeros([1, 2]), tf.constant([0]), tf.constant([3, 2])),
        ]
        assert metrics.gradient_flow(grads, variables) == 3 / 8

    def test_real_tape_gradients(self):
        used, unused = tf.Variable([1.0, 2.0]), tf.Variable(3.0)
        dead = tf.Variable(4.0)
        emb = tf.Variable(tf.ones([5, 2]))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(used**2) + 0.0 * dead + tf.reduce_sum(tf.gather(emb, [1, 3]))
        variables = [used, unused, dead, emb]
        grads = tape.gradient(loss, variables)
        assert grads[1] is None and isinstance(grads[3], tf.IndexedSlices)
        assert metrics.gradient_flow(grads, variables) == 0.5

    def test_bad_input(self):
        with pytest.raises(ValueError, match="^variables: expected at least one"):
            metrics.gradient_flow([], [])
        with pytest.raises(ValueError, match=r"^grads: expected one gradient per variable \(2\)"):
            metrics.gradient_flow([None], [1, 2])


# --------------------------------------------------------------------------- leakage


def test_leakage_of_coherent_states_is_the_poisson_tail(mtol):
    cutoff = 6
    alphas = np.array([0.2, 0.7, 1.3])
    prog = sf.Program(1)
    a = prog.params("a")
    with prog.context as q:
        ops.Dgate(a, 0.0) | q[0]
    res = qgan_simulate(prog, cutoff, {"a": tf.constant(alphas)}, len(alphas))
    mean_n = alphas**2
    kept = [stats.poisson.cdf(cutoff - 1, mu) for mu in mean_n]
    expected = float(np.mean([1.0 - k for k in kept]))
    assert abs(metrics.leakage(res) - expected) <= mtol.fock
    assert abs(metrics.leakage(res.leakage()) - expected) <= mtol.fock  # tf tensor
    assert abs(metrics.leakage(res.leakage().numpy()) - expected) <= mtol.fock
    assert metrics.leakage(0.25) == 0.25
    with pytest.raises(ValueError, match="^values: expected at least one"):
        metrics.leakage(np.array([]))


def qgan_simulate(prog, cutoff, args, batch_size):
    from qgan.photonic import simulate

    return simulate(prog, cutoff, args=args, batch_size=batch_size, dtype=tf.complex128)


# --------------------------------------------------------------------------- evaluate


class TestEvaluate:
    def test_mixture_keys_and_json(self):
        m = PRESETS["grid25"]
        rng = np.random.default_rng(0)
        out = metrics.evaluate(m.sample(600, rng), m.sample(500, rng), m)
        assert set(out) == {
            "modes_captured",
            "high_quality_fraction",
            "mode_kl",
            "mode_weights",
            "mmd",
            "energy_distance",
            "wasserstein_1d",
            "linear_r2_generated",
            "linear_r2_real",
        }
        assert isinstance(out["modes_captured"], int) and len(out["mode_weights"]) == 25
        json.dumps(out, allow_nan=False)

    def test_without_mixture_and_in_other_dimensions(self):
        rng = np.random.default_rng(1)
        out = metrics.evaluate(rng.normal(size=(50, 3)), rng.normal(size=(40, 3)))
        assert set(out) == {"mmd", "energy_distance", "wasserstein_1d"}
        assert len(out["wasserstein_1d"]) == 3
        collapsed = metrics.evaluate(np.ones((20, 2)), rng.normal(size=(30, 2)))
        assert collapsed["linear_r2_generated"] is None  # undefined -> JSON null, not NaN
        json.dumps(collapsed, allow_nan=False)

    def test_agrees_with_the_single_metrics(self, mtol):
        m = PRESETS["ring8"]
        rng = np.random.default_rng(2)
        g, r = m.sample(300, rng), m.sample(200, rng)
        out = metrics.evaluate(g, r, m, max_points=1000)  # no subsampling
        assert abs(out["mmd"] - metrics.mmd(g, r)) <= mtol.rounding
        assert abs(out["energy_distance"] - metrics.energy_distance(g, r)) <= mtol.rounding
        assert out["wasserstein_1d"] == metrics.wasserstein_1d(g, r)
        assert out["linear_r2_real"] == metrics.linear_r2(r)
        stats_ = metrics.mode_statistics(g, m)
        assert all(out[k] == v for k, v in stats_.items())

    def test_subsampling_is_seeded(self):
        rng = np.random.default_rng(3)
        g, r = rng.normal(size=(400, 2)), rng.normal(size=(300, 2))
        a = metrics.evaluate(g, r, max_points=100, seed=7)
        assert a == metrics.evaluate(g, r, max_points=100, seed=7)
        assert a["mmd"] != metrics.evaluate(g, r, max_points=100, seed=8)["mmd"]
        assert a["wasserstein_1d"] == metrics.wasserstein_1d(g, r)  # W1 uses every point

    def test_bad_input(self):
        m = PRESETS["bimodal"]
        good = np.zeros((5, 2))
        with pytest.raises(ValueError, match="^generated: 1 entries are NaN or inf"):
            metrics.evaluate(np.array([[np.nan, 0.0], [0.0, 0.0]]), good)
        with pytest.raises(ValueError, match="^real: expected points of dimension 2, got 3"):
            metrics.evaluate(good, np.zeros((5, 3)))
        with pytest.raises(ValueError, match="^mixture: centres have dimension 2"):
            metrics.evaluate(np.zeros((5, 3)), np.zeros((5, 3)), m)
        with pytest.raises(ValueError, match="^max_points must be an int >= 2, got"):
            metrics.evaluate(good, good, max_points=1)
