"""``qgan.qubit.simulator`` against an independent ``cirq.Simulator`` oracle (conftest).

Covers: states (with their global phase), probabilities and readouts for 1-10 qubits and
every encoding x entangler x topology; batching (= a loop of single rows, hypothesis);
complex64; gradients (finite differences, parameter shift by hand); ``tf.function``
without retracing; bad input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from qgan.qubit.model import ENCODINGS, ENTANGLERS, MEASUREMENTS, TOPOLOGIES, QubitModel
from qgan.qubit.simulator import (
    expectation_values,
    probabilities,
    simulate_state,
    trace_count,
)

C128 = tf.complex128


def _max_err(actual, expected) -> float:
    actual = np.asarray(actual.numpy() if hasattr(actual, "numpy") else actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    return float(np.max(np.abs(actual - expected))) if actual.size else 0.0


def _random_model(n: int, rng: np.random.Generator) -> tuple[QubitModel, bool]:
    """A random structure on n qubits (depth kept small for n >= 8) and per-row flag."""
    depth = int(rng.integers(1, 3 if n >= 8 else 4))
    model = QubitModel(
        n,
        depth,
        encoding=ENCODINGS[n % 3],  # each encoding at small and large n
        entangler=str(rng.choice(ENTANGLERS)),
        topology=str(rng.choice(TOPOLOGIES)),
        measurement="z_parity",  # every readout at once
    )
    return model, bool(rng.integers(0, 2))


# --------------------------------------------------------------------------- vs cirq


class TestAgainstCirq:
    @pytest.mark.parametrize("n", range(1, 11))
    def test_random_structure(self, n, oracle, qtol):
        """State (exact phase) and <Z_q>, parity match cirq.Simulator for 1-10 qubits."""
        rng = np.random.default_rng(1000 + n)
        model, per_row = _random_model(n, rng)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=per_row)
        ref = oracle.states(model, x, p)
        state = simulate_state(model, x, p, dtype=C128)
        assert state.dtype == C128
        err = _max_err(state, ref)
        assert err <= qtol.state, f"{model.structure_key} per_row={per_row}: state err {err:.2e}"
        ref_out = np.stack([oracle.readouts(model, s) for s in ref])
        out = expectation_values(model, x, p, dtype=C128)
        assert out.dtype == tf.float64
        err = _max_err(out, ref_out)
        assert err <= qtol.expectation, f"{model.structure_key}: readout err {err:.2e}"

    @pytest.mark.parametrize(
        "encoding,entangler,topology", list(itertools.product(ENCODINGS, ENTANGLERS, TOPOLOGIES))
    )
    def test_every_structure(self, encoding, entangler, topology, oracle, qtol):
        """All encoding x entangler x topology on 4 qubits (ring != linear != all_to_all),
        depth 2, shared parameters for half of them and per-row parameters for the rest."""
        seed = 7 * ENCODINGS.index(encoding) + 3 * ENTANGLERS.index(entangler)
        rng = np.random.default_rng(seed + TOPOLOGIES.index(topology))
        per_row = bool((ENCODINGS.index(encoding) + TOPOLOGIES.index(topology)) % 2)
        model = QubitModel(4, 2, encoding, entangler, topology)
        x, p = oracle.random_inputs(model, rng, rows=3, per_row=per_row)
        err = _max_err(simulate_state(model, x, p, dtype=C128), oracle.states(model, x, p))
        assert err <= qtol.state, f"{model.structure_key} per_row={per_row}: err {err:.2e}"

    @pytest.mark.parametrize("measurement", MEASUREMENTS)
    def test_probabilities_and_readouts(self, measurement, oracle, qtol):
        model = QubitModel(3, 2, "reupload", "cnot", "ring", measurement)
        rng = np.random.default_rng(5)
        x, p = oracle.random_inputs(model, rng, rows=3, per_row=True)
        ref = oracle.states(model, x, p)
        probs = probabilities(model, x, p, dtype=C128)
        assert probs.dtype == tf.float64
        assert _max_err(probs, np.abs(ref) ** 2) <= qtol.expectation
        ref_out = np.stack([oracle.readouts(model, s) for s in ref])
        assert ref_out.shape == (3, model.n_outputs)
        assert _max_err(expectation_values(model, x, p, dtype=C128), ref_out) <= qtol.expectation

    def test_ten_qubits_all_to_all(self, oracle, qtol):
        """The largest case: 10 qubits, 45 MS pairs per layer, per-row parameters."""
        model = QubitModel(10, 2, "reupload", "ms", "all_to_all", "z_parity")
        rng = np.random.default_rng(10)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=True)
        ref = oracle.states(model, x, p)
        assert _max_err(simulate_state(model, x, p, dtype=C128), ref) <= qtol.state
        ref_out = np.stack([oracle.readouts(model, s) for s in ref])
        assert _max_err(expectation_values(model, x, p, dtype=C128), ref_out) <= qtol.expectation

    def test_complex64(self, oracle, qtol):
        """The default dtype: complex64 state / float32 readouts within float32 rounding."""
        model = QubitModel(5, 3, "angle", "zz", "ring")
        rng = np.random.default_rng(64)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=False)
        ref = oracle.states(model, x, p)
        state = simulate_state(model, x, p)
        assert state.dtype == tf.complex64
        assert _max_err(state, ref) <= qtol.state_c64
        out = expectation_values(model, x, p)
        assert out.dtype == tf.float32
        ref_out = np.stack([oracle.readouts(model, s) for s in ref])
        assert _max_err(out, ref_out) <= qtol.expectation_c64

    def test_state_is_normalised_and_nontrivial(self, oracle, qtol):
        """Guards the oracle comparison: the states are entangled, not a basis state."""
        model = QubitModel(3, 2, "angle", "cnot", "linear")
        x, p = oracle.random_inputs(model, np.random.default_rng(3), rows=1, per_row=False)
        state = simulate_state(model, x, p, dtype=C128).numpy()[0]
        assert abs(np.vdot(state, state) - 1.0) <= qtol.state
        assert np.sort(np.abs(state))[-2] > qtol.nontrivial


class TestAmplitudeEncoding:
    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_prepares_normalised_features(self, n, qtol):
        """The smallest amplitude model whose circuit is the identity on the encoded state:
        depth 1, one qubit, zero angles -> the state is exactly x / |x| (no entangler)."""
        rng = np.random.default_rng(n)
        x = rng.normal(size=(4, 2**n))
        x[1, ::2] = 0.0  # zeros and sign changes
        if n == 1:
            model = QubitModel(1, 1, "amplitude", "cnot", "linear")
            state = simulate_state(model, x, np.zeros(model.n_params), dtype=C128)
            expected = x / np.linalg.norm(x, axis=1, keepdims=True)
            assert _max_err(state, expected.astype(np.complex128)) <= qtol.state
        else:
            # zz entangler with zero angles is a known diagonal phase: divide it out.
            model = QubitModel(n, 1, "amplitude", "zz", "linear")
            state = simulate_state(model, x, np.zeros(model.n_params), dtype=C128).numpy()
            bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))) & 1
            z = 1 - 2 * bits
            zz = sum(z[:, q] * z[:, q + 1] for q in range(n - 1))
            expected = x / np.linalg.norm(x, axis=1, keepdims=True) * np.exp(-0.25j * np.pi * zz)
            assert _max_err(state, expected) <= qtol.state

    @pytest.mark.parametrize("scale", [1e-25, 1e25])
    @pytest.mark.parametrize("dtype", [tf.complex64, C128])
    def test_scale_invariant(self, scale, dtype, qtol):
        """x and c * x encode the same state, also where |x|**2 leaves the float32 range."""
        model = QubitModel(2, 1, "amplitude", "ms", "linear")
        rng = np.random.default_rng(9)
        x = rng.normal(size=(2, 4))
        p = rng.normal(size=model.n_params)
        ref = simulate_state(model, x, p, dtype=dtype).numpy()
        got = simulate_state(model, x * scale, p, dtype=dtype).numpy()
        tol = qtol.state if dtype == C128 else qtol.state_c64
        assert np.all(np.isfinite(got)), f"scale {scale}: {got}"
        assert _max_err(got, ref) <= tol


# --------------------------------------------------------------------------- batching


@settings(max_examples=8)
@given(
    n=st.integers(1, 4),
    depth=st.integers(1, 3),
    encoding=st.sampled_from(ENCODINGS),
    entangler=st.sampled_from(ENTANGLERS),
    topology=st.sampled_from(TOPOLOGIES),
    per_row=st.booleans(),
    rows=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_batch_is_loop_of_singles(
    n, depth, encoding, entangler, topology, per_row, rows, seed, oracle, qtol
):
    model = QubitModel(n, depth, encoding, entangler, topology, "z_parity")
    x, p = oracle.random_inputs(model, np.random.default_rng(seed), rows=rows, per_row=per_row)
    batched = simulate_state(model, x, p, dtype=C128).numpy()
    out = expectation_values(model, x, p, dtype=C128).numpy()
    assert batched.shape == (rows, 2**n) and out.shape == (rows, model.n_outputs)
    for i in range(rows):
        p_i = p[i : i + 1] if per_row else p
        single = simulate_state(model, x[i : i + 1], p_i, dtype=C128).numpy()
        assert _max_err(batched[i : i + 1], single) <= qtol.batch
        single_out = expectation_values(model, x[i : i + 1], p_i, dtype=C128).numpy()
        assert _max_err(out[i : i + 1], single_out) <= qtol.batch


def test_shared_params_equal_repeated_rows(oracle, qtol):
    """[n_params] shared by all rows == the same vector repeated as [N, n_params]."""
    model = QubitModel(3, 2, "reupload", "zz", "all_to_all")
    x, p = oracle.random_inputs(model, np.random.default_rng(2), rows=3, per_row=False)
    shared = simulate_state(model, x, p, dtype=C128)
    repeated = simulate_state(model, x, np.tile(p, (3, 1)), dtype=C128)
    assert _max_err(shared, repeated.numpy()) <= qtol.batch


def test_empty_batch():
    model = QubitModel(2, 1)
    assert simulate_state(model, np.zeros((0, 2)), np.zeros(4)).shape == (0, 4)


# --------------------------------------------------------------------------- gradients

GRAD_MODELS = [
    QubitModel(3, 2, "angle", "cnot", "ring", "z_parity"),
    QubitModel(3, 2, "reupload", "ms", "linear", "z_parity"),
    QubitModel(2, 2, "amplitude", "zz", "linear", "z_parity"),
    QubitModel(3, 1, "reupload", "ms", "all_to_all", "parity"),
]


def _objective(model, x, p, weights):
    """sum_{rows, outputs} w * <O> (complex128); p [P] or [N, P]."""
    return tf.reduce_sum(weights * expectation_values(model, x, p, dtype=C128))


def _shifted_objectives(model, x, p, weights, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """f(p + shift e_k), f(p - shift e_k) for every component k, in one batched call.

    Row r of the batch is (feature row i, parameter set k +- shift); uses per-row params.
    """
    p = np.asarray(p, dtype=np.float64)
    rows = x.shape[0]
    plus, minus = [], []
    for sign, store in ((1.0, plus), (-1.0, minus)):
        for idx in np.ndindex(p.shape):
            q = p.copy()
            q[idx] += sign * shift
            store.append(q if q.ndim == 2 else np.tile(q, (rows, 1)))
    k = len(plus)
    all_p = np.concatenate(plus + minus)  # [2 k rows, P]
    all_x = np.tile(x, (2 * k, 1))
    out = expectation_values(model, all_x, all_p, dtype=C128).numpy()
    f = np.sum((weights[None] * out.reshape(2 * k, rows, -1)), axis=(1, 2))
    return f[:k].reshape(p.shape), f[k:].reshape(p.shape)


def _assert_grad_close(actual, expected, rtol, what):
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(np.asarray(actual) - expected)))
    assert err <= rtol * scale, f"{what}: max err {err:.2e} > {rtol * scale:.1e}"


class TestGradients:
    @pytest.mark.parametrize("model", GRAD_MODELS, ids=lambda m: m.structure_key)
    @pytest.mark.parametrize("per_row", [False, True])
    def test_params_vs_finite_differences_and_parameter_shift(self, model, per_row, oracle, qtol):
        rng = np.random.default_rng(11)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=per_row)
        weights = rng.normal(size=(2, model.n_outputs))
        pv = tf.Variable(p)
        with tf.GradientTape() as tape:
            f = _objective(model, x, pv, weights)
        grad = tape.gradient(f, pv).numpy()
        assert grad.shape == p.shape
        assert np.max(np.abs(grad)) > qtol.nontrivial

        h = qtol.fd_step
        fp, fm = _shifted_objectives(model, x, p, weights, h)
        _assert_grad_close(grad, (fp - fm) / (2 * h), qtol.fd_rtol, "finite differences")

        # Parameter shift (each angle enters one exp(-i a P / 2), P a Pauli): exact.
        sp, sm = _shifted_objectives(model, x, p, weights, np.pi / 2)
        _assert_grad_close(grad, (sp - sm) / 2, qtol.param_shift, "parameter shift")

    @pytest.mark.parametrize(
        "model",
        [QubitModel(3, 3, "amplitude", "ms", "ring", "z"), QubitModel(1, 2, "angle")],
        ids=lambda m: m.structure_key,
    )
    def test_rotation_layer_gradient_edge_structures(self, model, oracle, qtol):
        """The explicit RY-layer gradient where every layer (layer 0 too) has folded
        Hadamards but layer 0 (amplitude + MS), and with an empty second factor (1 qubit)."""
        rng = np.random.default_rng(13)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=False)
        weights = rng.normal(size=(2, model.n_outputs))
        pv = tf.Variable(p)
        with tf.GradientTape() as tape:
            f = _objective(model, x, pv, weights)
        grad = tape.gradient(f, pv).numpy()
        assert np.max(np.abs(grad)) > qtol.nontrivial
        sp, sm = _shifted_objectives(model, x, p, weights, np.pi / 2)
        _assert_grad_close(grad, (sp - sm) / 2, qtol.param_shift, "parameter shift")

    @pytest.mark.parametrize("model", GRAD_MODELS[:3], ids=lambda m: m.structure_key)
    def test_features_vs_finite_differences(self, model, oracle, qtol):
        rng = np.random.default_rng(12)
        x, p = oracle.random_inputs(model, rng, rows=2, per_row=False)
        weights = rng.normal(size=(2, model.n_outputs))
        xv = tf.Variable(x)
        with tf.GradientTape() as tape:
            f = _objective(model, xv, p, weights)
        grad = tape.gradient(f, xv).numpy()
        h = qtol.fd_step
        fd = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[idx] = h
            fd[idx] = (
                float(_objective(model, x + e, p, weights))
                - float(_objective(model, x - e, p, weights))
            ) / (2 * h)
        _assert_grad_close(grad, fd, qtol.fd_rtol, "feature gradient")

    def test_every_parameter_matters(self, oracle, qtol):
        """n_params = 2 n depth angles, and none of them is ignored by the simulator."""
        model = QubitModel(3, 2, "angle", "ms", "ring")
        assert model.n_params == 2 * 3 * 2
        x, p = oracle.random_inputs(model, np.random.default_rng(4), rows=1, per_row=False)
        base = simulate_state(model, x, p, dtype=C128).numpy()
        for k in range(model.n_params):
            q = p.copy()
            q[k] += 0.5
            moved = simulate_state(model, x, q, dtype=C128).numpy()
            assert _max_err(moved, base) > qtol.nontrivial, f"parameter {k} has no effect"

    def test_inside_tf_function_without_retracing(self, oracle, qtol):
        model = QubitModel(3, 2, "reupload", "cnot", "all_to_all", "z_parity")
        rng = np.random.default_rng(21)
        weights = tf.constant(rng.normal(size=(4, model.n_outputs)))
        outer_traces = []

        @tf.function
        def grad_fn(x, p):
            outer_traces.append(1)
            with tf.GradientTape() as tape:
                tape.watch(p)
                f = _objective(model, x, p, weights)
            return f, tape.gradient(f, p)

        first = None
        for step in range(3):
            x, p = oracle.random_inputs(model, rng, rows=4, per_row=False)
            f, g = grad_fn(tf.constant(x), tf.constant(p))
            if first is None:
                first = trace_count(model)
            pv = tf.Variable(p)
            with tf.GradientTape() as tape:
                f_eager = _objective(model, x, pv, weights)
            g_eager = tape.gradient(f_eager, pv)
            assert abs(float(f) - float(f_eager)) <= qtol.graph
            assert _max_err(g, g_eager.numpy()) <= qtol.graph, f"step {step}"
        assert len(outer_traces) == 1, "outer tf.function retraced for same-shape inputs"
        assert trace_count(model) == first, "simulator kernel retraced"

    def test_no_retrace_for_new_batch_sizes(self, oracle):
        model = QubitModel(2, 1, "angle", "zz", "linear")
        rng = np.random.default_rng(0)
        x, p = oracle.random_inputs(model, rng, rows=1, per_row=False)
        expectation_values(model, x, p)
        before = trace_count(model)
        for rows in (2, 5, 3):
            x, p = oracle.random_inputs(model, rng, rows=rows, per_row=False)
            expectation_values(model, tf.constant(x), tf.Variable(p))
        assert trace_count(model) == before


# --------------------------------------------------------------------------- bad input


class TestBadInput:
    model = QubitModel(2, 1)

    @pytest.mark.parametrize(
        "features",
        [
            np.zeros((2, 3)),  # wrong feature count
            np.zeros(2),  # not [N, n_features]
            np.array([[np.nan, 0.0]]),
            np.array([[0.0, np.inf]]),
            np.array([[1j, 0.0]]),
            [["a", "b"]],
            tf.constant([[np.nan, 0.0]]),
        ],
        ids=["count", "rank", "nan", "inf", "complex", "str", "tf_nan"],
    )
    def test_features(self, features, one_line_naming):
        with pytest.raises(ValueError) as err:
            simulate_state(self.model, features, np.zeros(self.model.n_params))
        one_line_naming(err, "features")

    @pytest.mark.parametrize(
        "params",
        [np.zeros(5), np.zeros((3, 4)), np.full(4, np.nan), np.zeros((1, 1, 4))],
        ids=["count", "rows", "nan", "rank"],
    )
    def test_params(self, params, one_line_naming):
        with pytest.raises(ValueError) as err:
            simulate_state(self.model, np.zeros((2, 2)), params)
        one_line_naming(err, "params")

    def test_amplitude_zero_vector(self, one_line_naming):
        model = QubitModel(2, 1, "amplitude")
        with pytest.raises(ValueError) as err:
            simulate_state(model, np.zeros((1, 4)), np.zeros(model.n_params))
        one_line_naming(err, "features")

    def test_dtype_and_model(self, one_line_naming):
        with pytest.raises(ValueError) as err:
            simulate_state(self.model, np.zeros((1, 2)), np.zeros(4), dtype=tf.float32)
        one_line_naming(err, "dtype")
        with pytest.raises(ValueError) as err:
            expectation_values("model", np.zeros((1, 2)), np.zeros(4))
        one_line_naming(err, "model")
