"""``qgan.qubit.gradients``: parameter shift, SPSA, their gains and the circuit account.

Oracles: TF automatic differentiation through the state-vector simulator (checked against
finite differences in test_simulator.py) for the true gradients; the formulas of Spall
(1998) for the gains; exact enumeration of all 2**P perturbations for the SPSA mean; a
counting backend for what goes to hardware.

SPSA bias bound used below: g_i = Delta_i (F(t + c Delta) - F(t - c Delta)) / (2c) with
F = u . f. Along a line, h(s) = F(theta + s Delta) is a trigonometric polynomial of degree
<= P (every angle enters through exp(-i a P/2), so each contributes frequencies +-1 to an
expectation) with |h| <= ||u||_1 (readouts lie in [-1, 1]). Taylor with remainder gives
(h(c) - h(-c)) / (2c) = h'(0) + c**2 h'''(xi) / 6, Bernstein's inequality
|h'''| <= P**3 max|h|, and E[Delta_i h'(0)] = dF/dtheta_i; so
|E[g_i] - dF/dtheta_i| <= c**2 P**3 ||u||_1 / 6.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from qgan.qubit.backends import SimulatorBackend
from qgan.qubit.gradients import (
    SPSA_DEFAULTS,
    CircuitAccount,
    SPSALearningRate,
    check_spsa_gains,
    gradient_circuits_per_sample,
    parameter_shift,
    parameter_shift_jacobian,
    parameter_shift_tf,
    rademacher,
    spsa,
    spsa_learning_rate,
    spsa_perturbation,
    spsa_tf,
)
from qgan.qubit.model import ENCODINGS, ENTANGLERS, MEASUREMENTS, TOPOLOGIES, QubitModel
from qgan.qubit.simulator import expectation_values

C128 = tf.complex128
EXACT = SimulatorBackend(dtype=C128)


def autodiff_vjp(model, x, p, u):
    """The oracle: d(sum u * f)/d(x, p) by tf.GradientTape (features None for amplitude)."""
    xv, pv = tf.Variable(x), tf.Variable(p)
    with tf.GradientTape() as tape:
        f = tf.reduce_sum(u * expectation_values(model, xv, pv, dtype=C128))
    gx, gp = tape.gradient(f, [xv, pv])
    return gx.numpy(), gp.numpy()


def assert_close(actual, expected, rtol, what):
    actual = np.asarray(actual.numpy() if hasattr(actual, "numpy") else actual)
    assert actual.shape == np.shape(expected), f"{what}: shape {actual.shape}"
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    assert err <= rtol * scale, f"{what}: max err {err:.2e} > {rtol * scale:.1e}"


def random_case(model, seed, rows=2, per_row=False):
    rng = np.random.default_rng(seed)
    if model.encoding == "amplitude":
        x = rng.normal(size=(rows, model.n_features))
    else:
        x = rng.uniform(-np.pi, np.pi, size=(rows, model.n_features))
    p = rng.uniform(-np.pi, np.pi, size=(rows, model.n_params) if per_row else model.n_params)
    return x, p, rng.normal(size=(rows, model.n_outputs))


models = st.builds(
    QubitModel,
    n_qubits=st.integers(1, 3),
    depth=st.integers(1, 2),
    encoding=st.sampled_from(ENCODINGS),
    entangler=st.sampled_from(ENTANGLERS),
    topology=st.sampled_from(TOPOLOGIES),
    measurement=st.sampled_from(MEASUREMENTS),
)


# --------------------------------------------------------------------------- parameter shift


class TestParameterShift:
    @given(model=models, seed=st.integers(0, 2**16))
    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_equals_autodiff(self, model, seed, qtol, gtol):
        """Python-side and in-graph shift rule == autodiff, params and features (float64).

        Per-row params (one simulator kernel per structure; shared params: below)."""
        x, p, u = random_case(model, seed, per_row=True)
        gx, gp = autodiff_vjp(model, x, p, u)
        py = parameter_shift(EXACT, model, x, p, u)
        assert_close(py.params, gp, qtol.param_shift, f"{model.structure_key} params")
        tfg = parameter_shift_tf(model, x, p, u, dtype=C128)
        assert_close(tfg.params, py.params, gtol.python_vs_graph, "in-graph vs Python params")
        if model.encoding == "amplitude":  # no shift rule for amplitudes (documented)
            assert py.features is None and tfg.features is None
        else:
            assert_close(py.features, gx, qtol.param_shift, f"{model.structure_key} features")
            assert_close(tfg.features, py.features, gtol.python_vs_graph, "in-graph features")

    def test_jacobian_vs_tape_jacobian(self, qtol):
        model = QubitModel(2, 2, "reupload", "ms", "linear", "z_parity")
        x, p, _ = random_case(model, 3, rows=3, per_row=True)
        # row i depends on (x[i], p[i]) only: the VJP with a one-hot output per column
        # gives the rows' Jacobians, column by column
        cols = [
            autodiff_vjp(model, x, p, np.eye(model.n_outputs)[[o] * 3])
            for o in range(model.n_outputs)
        ]
        jx = np.stack([c[0] for c in cols], axis=1)  # [N, O, F]
        jp = np.stack([c[1] for c in cols], axis=1)  # [N, O, P]
        jac = parameter_shift_jacobian(EXACT, model, x, p)
        assert_close(jac.params, jp, qtol.param_shift, "params jacobian")
        assert_close(jac.features, jx, qtol.param_shift, "features jacobian")
        assert np.max(np.abs(jx)) > qtol.nontrivial

    def test_shared_params_in_graph_under_tf_function(self, qtol, gtol):
        """Shared params [P]: the gradient is summed over rows; eager == tf.function."""
        model = QubitModel(3, 2, "angle", "cnot", "ring", "z")
        x, p, u = random_case(model, 4, rows=3)
        gx, gp = autodiff_vjp(model, x, p, u)
        py = parameter_shift(EXACT, model, x, p, u)
        assert py.params.shape == p.shape
        assert_close(py.params, gp, qtol.param_shift, "shared params")
        assert_close(py.features, gx, qtol.param_shift, "features")
        eager = parameter_shift_tf(model, x, p, u, dtype=C128)
        assert_close(eager.params, py.params, gtol.python_vs_graph, "in-graph shared params")
        graph = tf.function(lambda x, p, u: parameter_shift_tf(model, x, p, u, dtype=C128))(
            tf.constant(x), tf.constant(p), tf.constant(u)
        )
        assert_close(graph.params, eager.params.numpy(), gtol.python_vs_graph, "params")
        assert_close(graph.features, eager.features.numpy(), gtol.python_vs_graph, "features")

    def test_one_backend_call(self, counting_backend):
        """All 2 P N shifted circuits of one gradient go out in one expectations call."""
        model = QubitModel(2, 2, "angle", "zz", "linear", "parity")
        x, p, u = random_case(model, 5, rows=3)
        backend = counting_backend(EXACT)
        parameter_shift(backend, model, x, p, u, shots=None)
        assert backend.calls == [(2 * model.n_params * 3, None)]

    def test_with_shots_within_shot_noise(self, qtol):
        """S shots per shifted circuit: each Jacobian entry (f+ - f-) / 2 has standard
        deviation <= sqrt(2 / S) / 2 (each readout's variance <= 1 / S)."""
        model = QubitModel(2, 1, "reupload", "cnot", "linear", "z")
        x, p, _ = random_case(model, 6, rows=2)
        shots = 400
        jac = parameter_shift_jacobian(SimulatorBackend(seed=1), model, x, p, shots)
        exact = parameter_shift_jacobian(EXACT, model, x, p)
        bound = qtol.sampling_sigmas * np.sqrt(2.0 / shots) / 2.0
        assert np.max(np.abs(jac.params - exact.params)) <= bound
        assert np.max(np.abs(jac.params - exact.params)) > 0.0

    def test_bad_input(self, one_line_naming):
        model = QubitModel(2, 1)
        x, p, u = random_case(model, 0)
        with pytest.raises(ValueError) as err:
            parameter_shift(EXACT, model, x, p, u[:, :1])
        one_line_naming(err, "upstream")
        with pytest.raises(ValueError) as err:
            parameter_shift(EXACT, model, x, p, u, shots=0)
        one_line_naming(err, "shots")
        with pytest.raises(ValueError) as err:
            parameter_shift(EXACT, model, x[:, :1], p, u)
        one_line_naming(err, "features")
        with pytest.raises(ValueError) as err:
            parameter_shift_tf(model, x, p, u[:, :1])
        one_line_naming(err, "upstream")


# --------------------------------------------------------------------------- SPSA

SPSA_MODEL = QubitModel(3, 1, "reupload", "cnot", "ring", "z_parity")  # P = 6
MC_MODEL = QubitModel(3, 1, "angle", "ms", "ring", "parity")  # P = 6, one readout


def bias_bound(c_k, n_params, u):
    """|E[g] - grad| <= c_k**2 P**3 ||u||_1 / 6 (module docstring)."""
    return c_k**2 * n_params**3 * np.sum(np.abs(u)) / 6.0


class TestSPSA:
    def test_mean_over_all_perturbations(self, qtol):
        """The exact mean over all 2**P Deltas equals the gradient up to the O(c**2) bias."""
        model = SPSA_MODEL
        x, p, u = random_case(model, 7, rows=2)
        gx, gp = autodiff_vjp(model, x, p, u)
        c = 0.01
        deltas = list(itertools.product([-1.0, 1.0], repeat=model.n_params))
        draws = [spsa(EXACT, model, x, p, u, c=c, gamma=1.0, delta=d) for d in deltas]
        mean_p = np.mean([g.params for g in draws], axis=0)
        mean_x = np.mean([g.features for g in draws], axis=0)
        bound = bias_bound(c, model.n_params, u)
        assert bound < 0.1 * np.max(np.abs(gp)), "the bound must be tight enough to fail"
        assert np.max(np.abs(mean_p - gp)) <= bound
        # features: d/dx_q is the sum over layers of d/dtheta_lq, so its bias <= depth*bound
        assert np.max(np.abs(mean_x - gx)) <= model.depth * bound
        # a single estimate is not the gradient (it is a random projection)
        assert np.max(np.abs(draws[0].params - gp)) > qtol.nontrivial

    @pytest.mark.parametrize("shots", [None, 1000])
    def test_unbiased_monte_carlo(self, shots, gtol):
        """Mean of M in-graph estimates, each with its own seeded Delta (and shot noise),
        within gtol.spsa_sigmas standard errors of its expectation: the true gradient plus
        the bias bound (exact readouts, small c) or, with shots (larger c), the exact mean
        over all 2**P Deltas at that c (shot noise must add no bias)."""
        model = MC_MODEL
        x, p, u = random_case(model, 8, rows=1)
        c, m = (0.01, 600) if shots is None else (0.2, 600)

        @tf.function
        def estimate(seed):
            g = spsa_tf(
                model, x, p, u, step=0, c=c, seed=seed, shots=shots,
                sample_seed=tf.stack([seed, 9]), dtype=C128,
            )  # fmt: skip
            return g.params

        draws = np.stack([estimate(tf.constant(k, tf.int64)).numpy() for k in range(m)])
        mean, sem = draws.mean(axis=0), draws.std(axis=0, ddof=1) / np.sqrt(m)
        if shots is None:
            expected = autodiff_vjp(model, x, p, u)[1]
            allowed = gtol.spsa_sigmas * sem + bias_bound(c, model.n_params, u)
        else:
            deltas = itertools.product([-1.0, 1.0], repeat=model.n_params)
            expected = np.mean(
                [spsa(EXACT, model, x, p, u, c=c, delta=d).params for d in deltas], 0
            )
            allowed = gtol.spsa_sigmas * sem
        assert np.all(np.abs(mean - expected) <= allowed), (mean - expected) / allowed
        assert np.max(np.abs(expected)) > 2 * np.max(allowed), "too weak to see a wrong mean"

    def test_python_and_in_graph_agree(self, gtol):
        model = SPSA_MODEL
        x, p, u = random_case(model, 9, rows=3, per_row=True)
        for step in (0, 5):
            py = spsa(EXACT, model, x, p, u, step=step, c=0.2, gamma=0.3, seed=11)
            tfg = spsa_tf(model, x, p, u, step=step, c=0.2, gamma=0.3, seed=11, dtype=C128)
            assert_close(tfg.params, py.params, gtol.python_vs_graph, f"params step {step}")
            assert_close(tfg.features, py.features, gtol.python_vs_graph, "features")
        graph = tf.function(lambda k: spsa_tf(model, x, p, u, step=k, seed=11, dtype=C128))
        for step in (0, 1):
            py = spsa(EXACT, model, x, p, u, step=step, seed=11)
            assert_close(graph(tf.constant(step)).params, py.params, gtol.python_vs_graph, "fn")

    def test_estimate_formula(self, gtol):
        """g = (u . (f(p + c_k D) - f(p - c_k D)) / (2 c_k)) D, c_k = c / (k + 1)**gamma."""
        model = SPSA_MODEL
        x, p, u = random_case(model, 10, rows=2)
        delta = rademacher(4, 3, model.n_params).numpy()
        c_k = 0.3 / 4**0.2
        f = [EXACT.expectations(model, x, np.tile(p + s * c_k * delta, (2, 1))) for s in (1, -1)]
        expected = np.sum((f[0] - f[1]) * u) / (2 * c_k) * delta
        g = spsa(EXACT, model, x, p, u, step=3, c=0.3, gamma=0.2, seed=4)
        assert_close(g.params, expected, gtol.python_vs_graph, "SPSA estimate")

    def test_rademacher(self):
        d = rademacher(0, 0, 4000).numpy()
        assert set(np.unique(d)) == {-1.0, 1.0}
        assert abs(d.mean()) < 5 / np.sqrt(4000)  # fair coin, 5 sigma
        np.testing.assert_array_equal(d, rademacher(0, 0, 4000).numpy())
        assert not np.array_equal(d, rademacher(0, 1, 4000).numpy())
        assert not np.array_equal(d, rademacher(1, 0, 4000).numpy())

    def test_one_backend_call(self, counting_backend):
        model = SPSA_MODEL
        x, p, u = random_case(model, 11, rows=5)
        backend = counting_backend(EXACT)
        spsa(backend, model, x, p, u, shots=30)
        assert backend.calls == [(2 * 5, 30)]

    def test_bad_input(self, one_line_naming):
        model = SPSA_MODEL
        x, p, u = random_case(model, 0)
        cases = [
            ({"c": 0.0}, "c"),
            ({"gamma": -1.0}, "gamma"),
            ({"step": -1}, "step"),
            ({"delta": np.zeros(model.n_params)}, "delta"),
            ({"delta": np.ones(3)}, "delta"),
        ]
        for kwargs, name in cases:
            with pytest.raises(ValueError) as err:
                spsa(EXACT, model, x, p, u, **kwargs)
            one_line_naming(err, name)


class TestGains:
    def test_perturbation_formula(self):
        for k in range(0, 50, 7):
            assert spsa_perturbation(k, 0.2, 0.101) == pytest.approx(0.2 / (k + 1) ** 0.101)
        assert spsa_perturbation(0) == SPSA_DEFAULTS["c"]

    def test_learning_rate_formula(self):
        schedule = spsa_learning_rate(a=0.3, A=5.0, alpha=0.602)
        assert isinstance(schedule, tf.keras.optimizers.schedules.LearningRateSchedule)
        for k in (0, 1, 10, 99):
            expected = 0.3 / (k + 1 + 5.0) ** 0.602
            assert float(schedule(k)) == pytest.approx(expected, rel=1e-6)
        assert float(schedule(tf.constant(3, tf.int64))) == pytest.approx(0.3 / 9.0**0.602)

    def test_defaults_are_spalls(self):
        assert SPSA_DEFAULTS["alpha"] == 0.602 and SPSA_DEFAULTS["gamma"] == 0.101
        default = spsa_learning_rate()
        assert (default.a, default.A, default.alpha) == (
            SPSA_DEFAULTS["a"],
            SPSA_DEFAULTS["A"],
            SPSA_DEFAULTS["alpha"],
        )

    def test_schedule_serialization_and_optimizer(self):
        schedule = spsa_learning_rate(0.5, 2.0, 0.7)
        config = tf.keras.optimizers.schedules.serialize(schedule)
        again = tf.keras.optimizers.schedules.deserialize(config)
        assert isinstance(again, SPSALearningRate) and again.get_config() == schedule.get_config()
        opt = tf.keras.optimizers.SGD(learning_rate=schedule)
        v = tf.Variable(1.0)
        opt.apply_gradients([(tf.constant(1.0), v)])  # step k = 0: v -= a_0
        assert float(v.numpy()) == pytest.approx(1.0 - 0.5 / 3.0**0.7, rel=1e-6)

    def test_check_gains(self, one_line_naming):
        assert check_spsa_gains(None) == SPSA_DEFAULTS
        assert check_spsa_gains({"c": 0.3})["c"] == 0.3
        for bad, name in (({"b": 1.0}, "spsa"), ({"a": 0}, "spsa.a"), ({"A": -1}, "spsa.A")):
            with pytest.raises(ValueError) as err:
                check_spsa_gains(bad)
            one_line_naming(err, name)
        with pytest.raises(ValueError) as err:
            spsa_learning_rate(alpha=float("nan"))
        one_line_naming(err, "alpha")


# --------------------------------------------------------------------------- account


class TestCircuitAccount:
    def test_parameter_shift_and_spsa_counts(self):
        """Gradient circuits per sample: 2 P (parameter shift), 2 (SPSA); shots = circuits S."""
        model = QubitModel(2, 2, "angle", "cnot", "linear", "z")
        n_params, rows, shots = model.n_params, 3, 7
        x, p, u = random_case(model, 12, rows=rows)
        account = CircuitAccount()
        backend = SimulatorBackend(seed=2)
        for _ in range(2):
            parameter_shift(backend, model, x, p, u, shots, account=account)
        spsa(backend, model, x, p, u, shots, account=account)
        assert account.circuits("gradient", "parameter_shift") == 2 * (2 * n_params * rows)
        assert account.circuits("gradient", "spsa") == 2 * rows
        assert account.evaluations("gradient", "parameter_shift") == 2
        assert account.samples("gradient") == 3 * rows
        assert account.circuits_per_sample("gradient", "parameter_shift") == 2 * n_params
        assert account.circuits_per_sample("gradient", "spsa") == 2
        assert account.shots() == shots * account.circuits()
        assert account.circuits("forward") == 0
        assert gradient_circuits_per_sample("parameter_shift", n_params) == 2 * n_params
        assert gradient_circuits_per_sample("spsa", n_params) == 2
        assert gradient_circuits_per_sample("autodiff", n_params) == 0
        key = "gradient/parameter_shift"
        assert account.as_dict()[key] == {
            "evaluations": 2,
            "samples": 2 * rows,
            "circuits": 4 * n_params * rows,
            "shots": 4 * n_params * rows * shots,
        }
        account.reset()
        assert account.circuits() == 0 and account.as_dict() == {}

    def test_exact_has_no_shots_and_bad_names(self, one_line_naming):
        account = CircuitAccount()
        account.record("forward", "autodiff", 4, 4, None)
        assert account.circuits() == 4 and account.shots() == 0
        with pytest.raises(ValueError) as err:
            account.record("backward", "spsa", 1, 1, None)
        one_line_naming(err, "phase")
        with pytest.raises(ValueError) as err:
            account.record("forward", "adam", 1, 1, None)
        one_line_naming(err, "gradient")
