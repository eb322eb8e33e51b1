"""``qgan.qubit.QubitLayer``: the Keras layer on every backend path and gradient method.

Oracles: the simulator's exact readouts and TF autodiff (complex128) for outputs and
gradients; the Python-side gradient functions for the in-graph ones; the formulas
2 P (parameter shift) and 2 (SPSA) circuits per sample for the account; a trained loss
below its initial value for training.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import tensorflow as tf

from qgan.qubit import (
    CircuitAccount,
    QubitLayer,
    QubitModel,
    ResultCache,
    SimulatorBackend,
    SPSALearningRate,
    expectation_values,
    trace_count,
)
from qgan.qubit.gradients import rademacher, spsa_perturbation

C128 = tf.complex128
MODEL = QubitModel(3, 2, "reupload", "cnot", "ring", "z_parity")
PATHS = {  # name: layer keywords (besides the model)
    "autodiff": {"gradient": "autodiff"},
    "shift_graph": {"gradient": "parameter_shift"},
    "spsa_graph": {"gradient": "spsa"},
    "shift_python": {"gradient": "parameter_shift", "backend": SimulatorBackend()},
    "spsa_python": {"gradient": "spsa", "backend": SimulatorBackend()},
}


def features(model, rows, seed):
    rng = np.random.default_rng(seed)
    if model.encoding == "amplitude":
        return rng.normal(size=(rows, model.n_features))
    return rng.uniform(-np.pi, np.pi, size=(rows, model.n_features))


def layer_vjp(layer, x, u):
    """Output and d(sum u * out)/d(inputs, params) of an eager layer call."""
    x = tf.constant(x, layer.compute_dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        f = tf.reduce_sum(tf.cast(u, out.dtype) * out)
    gx, gp = tape.gradient(f, [x, layer.params])
    return out.numpy(), (None if gx is None else gx.numpy()), gp.numpy()


def reference_vjp(model, x, p, u):
    """Exact readouts and their gradient by autodiff, complex128."""
    xv, pv = tf.Variable(x, dtype=tf.float64), tf.Variable(p, dtype=tf.float64)
    with tf.GradientTape() as tape:
        out = expectation_values(model, xv, pv, dtype=C128)
        f = tf.reduce_sum(u * out)
    gx, gp = tape.gradient(f, [xv, pv])
    return out.numpy(), gx.numpy(), gp.numpy()


def assert_close(actual, expected, rtol, what):
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(np.asarray(actual, np.float64) - expected)))
    assert err <= rtol * scale, f"{what}: max err {err:.2e} > {rtol * scale:.1e}"


# --------------------------------------------------------------------------- values


class TestValues:
    @pytest.mark.parametrize("path", ["autodiff", "shift_graph", "shift_python"])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_outputs_and_exact_gradients(self, path, dtype, qtol, gtol):
        """Exact readouts and the exact gradient (autodiff / shift rule) vs complex128 autodiff."""
        layer = QubitLayer(MODEL, dtype=dtype, **PATHS[path])
        x = features(MODEL, 4, 0)
        u = np.random.default_rng(1).normal(size=(4, MODEL.n_outputs))
        out, gx, gp = layer_vjp(layer, x, u)
        assert out.dtype == np.dtype(dtype) and out.shape == (4, MODEL.n_outputs)
        p = layer.params.numpy().astype(np.float64)
        x_cast = x.astype(dtype).astype(np.float64)  # the layer sees float32 features
        ref_out, ref_gx, ref_gp = reference_vjp(MODEL, x_cast, p, u)
        tol = gtol.float32 if dtype == "float32" else qtol.param_shift
        assert_close(out, ref_out, tol, f"{path} outputs")
        assert_close(gp, ref_gp, tol, f"{path} params gradient")
        assert_close(gx, ref_gx, tol, f"{path} inputs gradient")

    @pytest.mark.parametrize("gradient", ["parameter_shift", "spsa"])
    def test_in_graph_equals_python_side(self, gradient, gtol):
        """backend="simulator" (in-graph) == a SimulatorBackend instance (NumPy side): same
        readouts, same gradients (SPSA: same Delta and c_k), float64."""
        x = features(MODEL, 3, 2)
        u = np.random.default_rng(3).normal(size=(3, MODEL.n_outputs))
        graph = QubitLayer(MODEL, gradient=gradient, dtype="float64", seed=4)
        python = QubitLayer(
            MODEL, gradient=gradient, backend=SimulatorBackend(), dtype="float64", seed=4
        )
        for _ in range(2):  # the second call uses SPSA step k = 1
            a, b = layer_vjp(graph, x, u), layer_vjp(python, x, u)
            for got, want, what in zip(a, b, ("outputs", "inputs", "params")):
                assert_close(got, want, gtol.python_vs_graph, f"{gradient} {what}")
        assert graph.spsa_step == python.spsa_step == (2 if gradient == "spsa" else 0)

    def test_spsa_layer_gradient_formula(self, gtol):
        """The layer's SPSA gradient at step k is Spall's estimate with Delta(seed, k)."""
        layer = QubitLayer(MODEL, gradient="spsa", spsa={"c": 0.3}, dtype="float64", seed=5)
        x = features(MODEL, 2, 6)
        u = np.ones((2, MODEL.n_outputs))
        p = layer.params.numpy()
        _, _, gp = layer_vjp(layer, x, u)
        delta = rademacher(5, 0, MODEL.n_params).numpy()
        c0 = spsa_perturbation(0, 0.3, 0.101)
        f = [reference_vjp(MODEL, x, p + s * c0 * delta, u)[0] for s in (1, -1)]
        expected = np.sum(u * (f[0] - f[1])) / (2 * c0) * delta
        assert_close(gp, expected, gtol.python_vs_graph, "SPSA layer gradient")

    def test_amplitude_encoding(self, gtol):
        """Amplitude features: autodiff differentiates them; shift methods pass None."""
        model = QubitModel(2, 1, "amplitude", "ms", "linear", "z")
        x = features(model, 3, 7)
        u = np.ones((3, model.n_outputs))
        for path in ("autodiff", "shift_graph", "shift_python", "spsa_graph"):
            _, gx, gp = layer_vjp(QubitLayer(model, dtype="float64", **PATHS[path]), x, u)
            assert (gx is None) == (path != "autodiff"), path
            assert np.max(np.abs(gp)) > 0.0

    def test_sampled_outputs(self, qtol):
        """With shots the outputs are S-shot estimates around the exact readouts."""
        shots = 400
        layer = QubitLayer(MODEL, gradient="parameter_shift", shots=shots, dtype="float64")
        x = features(MODEL, 6, 8)
        out = layer(x).numpy()
        exact = reference_vjp(MODEL, x, layer.params.numpy(), np.zeros((6, 4)))[0]
        sigma = np.maximum(np.sqrt((1 - exact**2) / shots), 1 / shots)
        assert np.all(np.abs(out - exact) <= qtol.sampling_sigmas * sigma)
        assert np.max(np.abs(out - exact)) > qtol.nontrivial
        assert not np.array_equal(out, layer(x).numpy()), "every call draws fresh shots"


# --------------------------------------------------------------------------- graph mode


class TestGraph:
    @pytest.mark.parametrize("path", list(PATHS))
    def test_eager_equals_tf_function(self, path, gtol):
        """Two identical layers (same seed, same counters): one eager, one in tf.function."""
        x = tf.constant(features(MODEL, 3, 9), tf.float64)
        u = tf.constant(np.random.default_rng(10).normal(size=(3, MODEL.n_outputs)))
        eager = QubitLayer(MODEL, dtype="float64", **PATHS[path], shots=None)
        graph = QubitLayer(MODEL, dtype="float64", **PATHS[path], shots=None)

        @tf.function
        def vjp(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                f = tf.reduce_sum(u * graph(x))
            return graph(x), tape.gradient(f, [x, graph.params])

        def vjp_eager(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                f = tf.reduce_sum(u * eager(x))
            return eager(x), tape.gradient(f, [x, eager.params])

        a, b = vjp(x), vjp_eager(x)
        assert_close(a[0].numpy(), b[0].numpy(), gtol.python_vs_graph, f"{path} outputs")
        for got, want in zip(a[1], b[1]):
            assert_close(got.numpy(), want.numpy(), gtol.python_vs_graph, f"{path} gradient")

    def test_sampled_eager_equals_tf_function(self):
        """Shot sampling is stateless: the n-th call draws the same shots eagerly or in a graph."""
        x = tf.constant(features(MODEL, 3, 11), tf.float32)
        a = QubitLayer(MODEL, gradient="spsa", shots=50, seed=3)
        b = QubitLayer(MODEL, gradient="spsa", shots=50, seed=3)
        fn = tf.function(lambda x: b(x))
        for _ in range(2):  # compare the counts behind the readouts (float32 math may differ)
            counts_a = np.round((a(x).numpy() + 1.0) * 50 / 2)
            np.testing.assert_array_equal(counts_a, np.round((fn(x).numpy() + 1.0) * 50 / 2))

    @pytest.mark.parametrize("path", ["autodiff", "shift_graph", "spsa_graph"])
    def test_no_retracing(self, path):
        layer = QubitLayer(MODEL, **PATHS[path])
        outer = []

        @tf.function(reduce_retracing=True)
        def step(x):
            outer.append(1)
            with tf.GradientTape() as tape:
                f = tf.reduce_sum(layer(x))
            return tape.gradient(f, layer.params)

        step(tf.constant(features(MODEL, 4, 0), tf.float32))
        step(tf.constant(features(MODEL, 5, 1), tf.float32))
        before, traced = trace_count(), len(outer)
        for rows in (3, 7, 4, 9):
            step(tf.constant(features(MODEL, rows, rows), tf.float32))
        assert trace_count() == before, "simulator kernels retraced"
        assert len(outer) == traced, "the step retraced"


# --------------------------------------------------------------------------- Keras


def tiny_task(rows=16):
    """Labels sign(x0 * x1): separable by <Z0 Z1> of an angle-encoded 2-qubit circuit."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.2, 1.2, (rows, 2)).astype("float32")
    return x, np.sign(x[:, :1] * x[:, 1:]).astype("float32")


TRAIN = {
    "autodiff": {"gradient": "autodiff"},
    "shift_graph_shots": {"gradient": "parameter_shift", "shots": 200},
    "spsa_graph_shots": {"gradient": "spsa", "shots": 200, "spsa": {"c": 0.2}},
    "shift_python": {"gradient": "parameter_shift", "backend": SimulatorBackend()},
    "spsa_python_cached": {
        "gradient": "spsa",
        "backend": SimulatorBackend(),
        "spsa": {"c": 0.2},
        "cache": True,
    },
}


class TestKeras:
    @pytest.mark.parametrize("path", list(TRAIN))
    def test_sequential_fit_lowers_loss_and_accounts(self, path, gtol):
        x, y = tiny_task()
        layer = QubitLayer(
            n_qubits=2, depth=2, encoding="angle", measurement="parity", seed=1, **TRAIN[path]
        )
        model = tf.keras.Sequential([tf.keras.Input((2,)), layer])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.1), loss="mse")
        loss0 = float(np.mean((layer(x).numpy() - y) ** 2))
        layer.reset_account()
        epochs, batch = 6, 8
        model.fit(x, y, epochs=epochs, batch_size=batch, shuffle=False, verbose=0)
        loss1 = float(np.mean((layer(x).numpy() - y) ** 2))
        assert loss1 < gtol.train_loss_ratio * loss0, f"{path}: loss {loss0:.3f} -> {loss1:.3f}"

        # the account: fit ran epochs * N samples forward, each with one gradient, plus the
        # final eager call above (N samples forward)
        account, n, n_params = layer.account, len(x), layer.model.n_params
        method, shots = layer.gradient, layer.shots or 0
        per_sample = {"autodiff": 0, "parameter_shift": 2 * n_params, "spsa": 2}[method]
        assert isinstance(account, CircuitAccount)
        assert account.circuits("forward", method) == epochs * n + n
        assert account.evaluations("forward") == epochs * (n // batch) + 1
        assert account.circuits("gradient", method) == per_sample * epochs * n
        if per_sample:
            assert account.circuits_per_sample("gradient", method) == per_sample
        assert account.shots() == shots * account.circuits()
        if method == "spsa":
            assert layer.spsa_step == epochs * (n // batch)
        if layer.cache is not None:  # loss0 / loss1 calls and fit all looked up rows
            assert layer.cache.lookups == account.circuits() + n and layer.cache.misses > 0

    def test_supports_jit(self):
        """Exact in-graph paths may be XLA-compiled (Keras' jit_compile="auto" on a GPU);
        sampled (a bincount of dynamic size) and Python-side (tf.numpy_function) may not."""
        assert QubitLayer(MODEL).supports_jit
        assert QubitLayer(MODEL, gradient="parameter_shift").supports_jit
        assert not QubitLayer(MODEL, gradient="spsa", shots=10).supports_jit
        assert not QubitLayer(MODEL, gradient="spsa", backend=SimulatorBackend()).supports_jit

    def test_cache_answers_repeated_forward_calls(self):
        cache = ResultCache()
        layer = QubitLayer(
            MODEL, gradient="parameter_shift", backend=SimulatorBackend(), cache=cache, shots=20
        )
        x = features(MODEL, 5, 12)
        first = layer(x).numpy()
        np.testing.assert_array_equal(first, layer(x).numpy())
        assert (cache.hits, cache.misses) == (5, 5)
        assert layer.cache is cache

    def test_learning_rate_schedule(self):
        layer = QubitLayer(MODEL, gradient="spsa", spsa={"a": 0.2, "A": 3.0, "alpha": 0.7})
        schedule = layer.learning_rate_schedule()
        assert isinstance(schedule, SPSALearningRate)
        assert float(schedule(2)) == pytest.approx(0.2 / (2 + 1 + 3.0) ** 0.7)

    def test_config_round_trip_and_save(self, tmp_path):
        layer = QubitLayer(
            n_qubits=2,
            depth=3,
            encoding="angle",
            entangler="ms",
            topology="linear",
            measurement="z_parity",
            gradient="spsa",
            shots=64,
            spsa={"c": 0.3},
            seed=7,
            name="q",
        )
        again = QubitLayer.from_config(layer.get_config())
        assert again.model == layer.model
        assert (again.gradient, again.shots, again.seed) == ("spsa", 64, 7)
        assert again.spsa_gains == layer.spsa_gains
        np.testing.assert_array_equal(again.params.numpy(), layer.params.numpy())
        model = tf.keras.Sequential([tf.keras.Input((2,)), layer])
        x = features(layer.model, 3, 13).astype("float32")
        model(x)  # advance the counters: they are saved with the weights
        path = tmp_path / "qubit.keras"
        model.save(path)
        loaded = tf.keras.models.load_model(path)
        restored = loaded.layers[0]
        assert isinstance(restored, QubitLayer) and restored.model == layer.model
        np.testing.assert_array_equal(restored.params.numpy(), layer.params.numpy())
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())

    def test_model_or_keywords(self):
        a = QubitLayer(MODEL)
        b = QubitLayer(
            n_qubits=3, depth=2, encoding="reupload", topology="ring", measurement="z_parity"
        )
        assert a.model == b.model == MODEL
        assert len(a.trainable_weights) == 1 and a.params.shape == (MODEL.n_params,)
        np.testing.assert_array_equal(a.params.numpy(), b.params.numpy())  # seed 0 both
        assert not np.array_equal(a.params.numpy(), QubitLayer(MODEL, seed=1).params.numpy())


# --------------------------------------------------------------------------- errors


class NoAutodiffBackend:
    name = "hardware"
    supports_autodiff = False
    cache_name = "hardware:test"

    def expectations(self, model, features, params, shots):
        raise AssertionError("not called")


BAD = [
    ({"gradient": "adam"}, "gradient"),
    ({"gradient": "autodiff", "shots": 100}, "shots"),
    ({"gradient": "autodiff", "backend": NoAutodiffBackend()}, "gradient"),
    ({"gradient": "spsa", "shots": 0}, "shots"),
    ({"gradient": "spsa", "shots": 2.5}, "shots"),
    ({"gradient": "spsa", "shots": True}, "shots"),
    ({"backend": "qpu"}, "backend"),
    ({"backend": object()}, "backend"),
    ({"target": "qpu.aria-1"}, "target"),
    ({"cache": True}, "cache"),
    ({"gradient": "spsa", "backend": SimulatorBackend(), "cache": "yes"}, "cache"),
    ({"spsa": {"b": 1.0}}, "spsa"),
    ({"spsa": {"c": -1.0}}, "spsa.c"),
    ({"seed": -1}, "seed"),
    ({"backend": "ionq", "shots": 100}, "gradient"),  # autodiff on hardware
    ({"backend": "ionq", "gradient": "spsa"}, "shots"),  # hardware measures
    ({"n_qubits": 4}, "n_qubits"),
    ({"encoding": "angle"}, "encoding"),
]


class TestErrors:
    @pytest.mark.parametrize("kwargs,name", BAD, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD)])
    def test_constructor(self, kwargs, name, one_line_naming):
        with pytest.raises(ValueError) as err:
            QubitLayer(MODEL, **kwargs)
        one_line_naming(err, name)

    def test_model_errors(self, one_line_naming):
        with pytest.raises(ValueError) as err:
            QubitLayer(n_qubits=0, depth=1)
        one_line_naming(err, "n_qubits")
        with pytest.raises(ValueError) as err:
            QubitLayer(n_qubits=2, depth=0)
        one_line_naming(err, "depth")
        with pytest.raises(ValueError) as err:
            QubitLayer(QubitModel(2, 1), depth=3)
        one_line_naming(err, "depth")
        with pytest.raises(ValueError) as err:
            QubitLayer(n_qubits=2, depth=1, topology="star")
        one_line_naming(err, "topology")
        with pytest.raises(ValueError) as err:
            QubitLayer("model")
        one_line_naming(err, "model")

    def test_wrong_feature_count_at_build(self, one_line_naming):
        layer = QubitLayer(MODEL)
        with pytest.raises(ValueError) as err:
            tf.keras.Sequential([tf.keras.Input((4,)), layer])
        one_line_naming(err, "inputs")

    def test_bad_eager_inputs(self, one_line_naming):
        layer = QubitLayer(MODEL, gradient="parameter_shift", backend=SimulatorBackend())
        layer(features(MODEL, 2, 0))
        with pytest.raises(ValueError) as err:
            layer(np.array([[np.nan, 0.0, 0.0]]))
        one_line_naming(err, "inputs")


# --------------------------------------------------------------------------- re-uploading options

OPTION_CASES = [  # (feature_groups, input_scaling, entangler, measurement)
    (1, "feature", "cnot", "z"),
    (1, "feature_layer", "ms", "z_zz"),
    (3, "none", "zz", "z_parity"),
    (3, "feature", "cnot", "z_zz"),
    (2, "feature_layer", "none", "z"),
    (2, "feature", "none", "z_zz"),
]


def _option_layer(groups, scaling, entangler, measurement, **kwargs):
    model = QubitModel(3, 3, "reupload", entangler, "ring", measurement)
    layer = QubitLayer(
        model, feature_groups=groups, input_scaling=scaling, dtype="float64", seed=5, **kwargs
    )
    layer.build((None, layer.n_inputs))
    if layer.input_scale is not None:  # weights away from 1, so that a wrong scale shows
        scale = np.random.default_rng(9).uniform(0.5, 1.5, layer.input_scale.shape)
        layer.input_scale.assign(scale)
    return layer


def _oracle_readouts(layer, rows, oracle) -> np.ndarray:
    """Readouts of each input row from the docstring's definition, simulated by Cirq:
    layer l applies RY(w x) of feature group l mod g before its RY, RZ and entangler."""
    m, g = layer.model, layer.feature_groups
    scale = None if layer.input_scale is None else layer.input_scale.numpy()
    params = layer.params.numpy().reshape(m.depth, m.n_qubits, 2)
    qs = cirq.LineQubit.range(m.n_qubits)
    out = []
    for x in rows:
        if layer.input_scaling == "feature":
            x = x * scale
        angles = x.reshape(g, m.n_qubits)[[layer_ % g for layer_ in range(m.depth)]]
        if layer.input_scaling == "feature_layer":
            angles = angles * scale.reshape(m.depth, m.n_qubits)
        ops = []
        for layer_ in range(m.depth):
            for q in range(m.n_qubits):
                ops.append(cirq.MatrixGate(oracle.ry(angles[layer_, q])).on(qs[q]))
                ops.append(cirq.MatrixGate(oracle.ry(params[layer_, q, 0])).on(qs[q]))
                ops.append(cirq.MatrixGate(oracle.rz(params[layer_, q, 1])).on(qs[q]))
            if m.entangler != "none":
                gate = cirq.MatrixGate(oracle.entangler_matrices[m.entangler])
                ops += [gate.on(qs[a], qs[b]) for a, b in oracle.pairs(m.n_qubits, m.topology)]
        state = (
            cirq.Simulator(dtype=np.complex128)
            .simulate(cirq.Circuit(ops), qubit_order=qs)
            .final_state_vector
        )
        out.append(oracle.readouts(m, state))
    return np.asarray(out)


class TestReuploadOptions:
    """feature_groups, input scaling, no entanglement and z_zz readouts: values against an
    independent Cirq circuit, parameter shift and SPSA-free gradients against autodiff."""

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    @pytest.mark.parametrize("case", OPTION_CASES, ids=lambda c: "-".join(map(str, c)))
    def test_readouts_and_export_match_cirq(self, case, oracle, qtol):
        layer = _option_layer(*case)
        rows = np.random.default_rng(3).uniform(-np.pi, np.pi, (2, layer.n_inputs))
        expected = _oracle_readouts(layer, rows, oracle)
        np.testing.assert_allclose(layer(rows).numpy(), expected, atol=qtol.expectation)
        qs = cirq.LineQubit.range(3)
        for row, want in zip(rows, expected):  # the exported circuit: same readouts
            state = (
                cirq.Simulator(dtype=np.complex128)
                .simulate(layer.to_cirq(row), qubit_order=qs)
                .final_state_vector
            )
            np.testing.assert_allclose(oracle.readouts(layer.model, state), want,
                                       atol=qtol.expectation)  # fmt: skip
        if case[2] == "none":  # the ablation's exported circuit has no two-qubit gate
            assert all(len(op.qubits) == 1 for op in layer.to_cirq(rows[0]).all_operations())

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    @pytest.mark.parametrize("path", ["shift_graph", "shift_python"])
    @pytest.mark.parametrize("case", OPTION_CASES, ids=lambda c: "-".join(map(str, c)))
    def test_parameter_shift_equals_autodiff(self, case, path, qtol):
        """Gradients w.r.t. inputs, circuit angles and input scales (float64, 1e-10)."""
        exact = _option_layer(*case)
        shifted = _option_layer(*case, **PATHS[path])
        if exact.input_scale is not None:
            shifted.input_scale.assign(exact.input_scale)
        rng = np.random.default_rng(4)
        x = tf.constant(rng.uniform(-np.pi, np.pi, (3, exact.n_inputs)))
        u = tf.constant(rng.normal(size=(3, exact.model.n_outputs)))
        grads = []
        for layer in (exact, shifted):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(layer(x) * u)
            grads.append(tape.gradient(loss, [x, *layer.trainable_variables]))
        assert len(grads[0]) == 2 + (exact.input_scale is not None)
        for a, b in zip(*grads):
            scale = max(1.0, float(np.max(np.abs(a.numpy()))))
            assert np.max(np.abs(a.numpy() - b.numpy())) <= qtol.param_shift * scale
            assert np.max(np.abs(a.numpy())) > qtol.nontrivial

    def test_parameter_shift_account_is_unchanged_by_the_options(self):
        """Per-layer angles ride on the circuit angles: still 2 n_params circuits a row."""
        layer = _option_layer(3, "feature", "cnot", "z_zz", gradient="parameter_shift")
        x = tf.constant(np.zeros((4, layer.n_inputs)))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        tape.gradient(loss, layer.trainable_variables)
        account = layer.account
        assert account.circuits("forward") == 4
        assert account.circuits("gradient") == 4 * 2 * layer.model.n_params

    def test_bad_options_are_one_line_errors(self):
        with pytest.raises(ValueError, match="feature_groups"):
            QubitLayer(n_qubits=2, depth=2, feature_groups=3)
        with pytest.raises(ValueError, match="feature_groups: 2 needs encoding 'reupload'"):
            QubitLayer(n_qubits=2, depth=2, encoding="angle", feature_groups=2)
        with pytest.raises(ValueError, match="input_scaling: 'feature_layer' needs"):
            QubitLayer(n_qubits=2, depth=2, encoding="angle", input_scaling="feature_layer")
        with pytest.raises(ValueError, match="input_scaling"):
            QubitLayer(n_qubits=2, depth=2, input_scaling="per_qubit")
        layer = QubitLayer(n_qubits=2, depth=2, feature_groups=2)
        with pytest.raises(ValueError, match=r"inputs must have shape \[N, 4\]"):
            layer(np.zeros((1, 2)))

    def test_config_round_trip(self):
        layer = _option_layer(3, "feature_layer", "none", "z_zz")
        again = QubitLayer.from_config(layer.get_config())
        assert (again.feature_groups, again.input_scaling) == (3, "feature_layer")
        assert again.model == layer.model
