"""Specification of ``qgan.generator.CVGenerator``: latent vectors -> circuit -> features.

* Gradients reach every gate argument through every readout, eagerly and inside
  ``tf.function`` (which traces once per input shape). By physics, Kerr gates are diagonal
  in the Fock basis, so the *last* layer's Kerr arguments cannot change any photon-number
  statistic (``mean_photon``, ``photon_marginals``, ``fock_probs``, ``photon_samples``):
  their gradient is exactly zero there and non-zero as soon as a quadrature readout or a
  later layer is present. A generator that reads photon numbers only therefore leaves them
  out (``final_kerr``), and every one of its gate arguments receives a gradient.
* Gradients agree with central finite differences (complex128), for the stochastic
  homodyne readout too when its noise is fixed.
* ``backend="sf"`` (Strawberry Fields' tf backend) and ``backend="compiled"`` give the same
  features for the same weights, latents and noise.
* A batch gives the features of each of its rows run alone.
* Encoding-only circuits (0 layers) give the closed-form features of coherent and squeezed
  states (hbar = 2: |alpha> has <x> = 2 Re alpha, <p> = 2 Im alpha, <n> = |alpha|^2;
  S(r)|0> has <n> = sinh^2 r).
* Bad constructor arguments and bad inputs raise ValueError naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

from qgan.generator import CVGenerator
from qgan.generator.readout import READOUTS
from qgan.metrics import gradient_flow

PHOTON_NUMBER = ("mean_photon", "photon_marginals", "fock_probs", "photon_samples")
COMBINATIONS = [
    ("photon_samples", "quadratures"),
    ("mean_photon", "homodyne"),
    ("fock_probs", "photon_marginals"),
    READOUTS,
]


def widths(n_modes: int, cutoff: int, n_sample_modes: int) -> dict:
    """Documented feature widths of each readout."""
    return {
        "quadratures": 2 * n_modes,
        "mean_photon": n_modes,
        "photon_marginals": n_modes * cutoff,
        "fock_probs": cutoff**n_modes,
        "photon_samples": cutoff**n_sample_modes,
        "homodyne": n_modes,
    }


def blocks(gen: CVGenerator, features):
    """Split features into the readout blocks, in readout order."""
    w = widths(gen.n_modes, gen.cutoff, len(gen.spec.sample_modes))
    out, start = {}, 0
    for name in gen.spec.names:
        out[name] = features[:, start : start + w[name]]
        start += w[name]
    assert start == features.shape[1]
    return out


def projections(gen: CVGenerator, seed: int = 0) -> dict:
    """A fixed random projection per block: scalar losses that weigh every feature."""
    rng = np.random.default_rng(seed)
    w = widths(gen.n_modes, gen.cutoff, len(gen.spec.sample_modes))
    dtype = tf.as_dtype(gen.weights_vector.dtype).as_numpy_dtype
    return {n: tf.constant(rng.normal(size=w[n]).astype(dtype)) for n in gen.spec.names}


def block_losses(gen, inputs, proj):
    features, _ = gen.features_and_leakage(inputs)
    parts = blocks(gen, features)
    return {n: tf.reduce_sum(tf.reduce_mean(parts[n], axis=0) * proj[n]) for n in parts}


def inputs_for(gen: CVGenerator, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    dtype = tf.as_dtype(gen.weights_vector.dtype).as_numpy_dtype
    z = tf.constant(rng.normal(size=(batch, gen.latent_dim)).astype(dtype))
    noise = tf.constant(rng.uniform(size=(batch, gen.n_noise)).astype(dtype))
    return z, noise


def last_kerr(gen: CVGenerator) -> np.ndarray:
    """Mask of the weights that are the last layer's Kerr arguments."""
    last = f"l{gen.n_layers - 1}_k"
    return np.array([n.startswith(last) for n in gen.circuit.weight_names])


def assert_flow(grad, zero_mask, floor, what):
    """Finite everywhere; above ``floor * max|g|`` where physics allows a gradient, at
    rounding level where it forbids one (``zero_mask``)."""
    g = np.asarray(grad, dtype=np.float64)
    assert np.all(np.isfinite(g)), f"{what}: non-finite gradient {g}"
    scale = np.abs(g).max()
    assert scale > 0, f"{what}: gradient is identically zero"
    small = np.abs(g) <= floor * scale
    assert not np.any(small & ~zero_mask), f"{what}: no gradient for entries {np.where(small)}"
    assert np.all(small[zero_mask]), f"{what}: structurally zero entries got {g[zero_mask]}"


def expected_zero(gen, names) -> np.ndarray:
    if all(n in PHOTON_NUMBER for n in names):
        return last_kerr(gen)
    return np.zeros(len(gen.circuit.weight_names), bool)


@pytest.fixture(scope="module")
def gen_all():
    """Every readout at once: 2 modes, cutoff 4, 1 layer, complex64 (training default)."""
    return CVGenerator(2, 1, 4, readout=READOUTS, init_std=0.3, seed=5)


# --------------------------------------------------------------------------- gradient flow


class TestGradientFlow:
    def _check(self, gen, grads, gen_tol):
        floor = gen_tol.structural_zero[gen.complex_dtype]
        for name in READOUTS:
            assert_flow(grads[name], expected_zero(gen, (name,)), floor, name)
        for combo in COMBINATIONS:
            total = sum(np.asarray(grads[n], np.float64) for n in combo)
            assert_flow(total, expected_zero(gen, combo), floor, "+".join(combo))
            if any(n not in PHOTON_NUMBER for n in combo):
                # qgan.metrics.gradient_flow per gate argument: every one receives gradient
                entries = list(total)
                assert gradient_flow(entries, gen.circuit.weight_names) == 1.0

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_eager(self, gen_all, gen_tol):
        proj = projections(gen_all)
        with tf.GradientTape(persistent=True) as tape:
            losses = block_losses(gen_all, inputs_for(gen_all, 3, seed=1), proj)
        grads = {n: tape.gradient(losses[n], gen_all.weights_vector).numpy() for n in losses}
        self._check(gen_all, grads, gen_tol)

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_tf_function_traces_once(self, gen_all, gen_tol, check):
        """One traced step; which readouts enter the loss is an argument of the same shape
        (a weight per block), so every readout and combination reuses the one trace."""
        proj = projections(gen_all)
        names = gen_all.spec.names
        traces = [0]

        @tf.function
        def step(z, noise, selector):
            traces[0] += 1
            with tf.GradientTape() as tape:
                losses = block_losses(gen_all, (z, noise), proj)
                loss = tf.add_n([selector[i] * losses[n] for i, n in enumerate(names)])
            return tape.gradient(loss, gen_all.weights_vector)

        z, noise = inputs_for(gen_all, 3, seed=1)
        graph = {}
        for i, name in enumerate(names):
            selector = tf.constant(np.eye(len(names))[i], tf.float32)
            graph[name] = step(z, noise, selector).numpy()
        assert traces[0] == 1
        self._check(gen_all, graph, gen_tol)
        # the graph computes what eager execution computes
        with tf.GradientTape(persistent=True) as tape:
            losses = block_losses(gen_all, (z, noise), proj)
        for n in ("quadratures", "photon_samples", "homodyne"):
            eager = tape.gradient(losses[n], gen_all.weights_vector).numpy()
            check.gradients(graph[n], eager, gen_tol.graph, what=n)
        # new latent and noise values of the same shapes reuse the trace, with new values
        other = step(*inputs_for(gen_all, 3, seed=2), tf.ones([len(names)]))
        assert traces[0] == 1
        assert np.abs(other.numpy() - sum(graph.values())).max() > 0

    @pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
    def test_last_kerr_is_the_only_blind_spot_of_photon_readouts(self, gen_tol):
        # two layers, complex128: the first layer's Kerr gates feed the second layer's
        # interferometers and flow; only the last layer's are zero, to rounding
        gen = CVGenerator(
            2,
            2,
            4,
            readout=PHOTON_NUMBER,
            dtype=tf.complex128,
            init_std=0.3,
            seed=2,
            final_kerr=True,
        )
        proj = projections(gen)
        with tf.GradientTape(persistent=True) as tape:
            losses = block_losses(gen, inputs_for(gen, 2, seed=3), proj)
        floor = gen_tol.structural_zero[tf.complex128]
        mask = last_kerr(gen)
        assert mask.sum() == 2 and np.any([n.startswith("l0_k") for n in gen.circuit.weight_names])
        for n in losses:
            assert_flow(tape.gradient(losses[n], gen.weights_vector), mask, floor, n)

    @pytest.mark.parametrize("names", [("mean_photon",), ("photon_samples",), PHOTON_NUMBER])
    def test_photon_readouts_drop_the_dead_last_kerr_and_get_full_flow(self, names, gen_tol):
        """By default a generator that reads photon numbers only has no last-layer Kerr
        gates (they could never receive a gradient), so every gate argument flows."""
        gen = CVGenerator(2, 2, 4, readout=names, init_std=0.3, seed=4)
        assert not gen.final_kerr and not last_kerr(gen).any()
        assert any(n.startswith("l0_k") for n in gen.circuit.weight_names)
        with_quadratures = CVGenerator(2, 2, 4, readout=(*names, "quadratures"), seed=4)
        assert with_quadratures.final_kerr and last_kerr(with_quadratures).sum() == 2
        proj = projections(gen)
        with tf.GradientTape() as tape:
            losses = block_losses(gen, inputs_for(gen, 3, seed=5), proj)
            loss = tf.add_n(list(losses.values()))
        grad = tape.gradient(loss, gen.weights_vector).numpy()
        floor = gen_tol.structural_zero[gen.complex_dtype]
        assert_flow(grad, np.zeros(grad.shape, bool), floor, "+".join(names))
        assert gradient_flow(list(grad), gen.circuit.weight_names) == 1.0


# --------------------------------------------------------------------------- finite differences


@pytest.fixture(scope="module")
def gen_fd():
    return CVGenerator(
        2,
        1,
        4,
        readout=("quadratures", "mean_photon", "fock_probs", "homodyne"),
        dtype=tf.complex128,
        init_std=0.3,
        seed=9,
    )


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
@pytest.mark.slow  # over 2 s on 2 cores (pytest --durations)
def test_gradients_match_central_differences(gen_fd, graph, tol, check):
    proj = projections(gen_fd, seed=4)
    inputs = inputs_for(gen_fd, 3, seed=5)  # homodyne noise fixed

    def losses_and_grads():
        with tf.GradientTape(persistent=True) as tape:
            losses = block_losses(gen_fd, inputs, proj)
        return {n: tape.gradient(losses[n], gen_fd.weights_vector) for n in losses}

    grads = (tf.function(losses_and_grads) if graph else losses_and_grads)()
    w0 = gen_fd.weights_vector.numpy()
    h = tol.fd_step
    fd = {n: np.zeros_like(w0) for n in grads}
    try:
        for j in range(len(w0)):
            values = []
            for sign in (1, -1):
                w = w0.copy()
                w[j] += sign * h
                gen_fd.weights_vector.assign(w)
                values.append(block_losses(gen_fd, inputs, proj))
            for n in fd:
                fd[n][j] = (values[0][n].numpy() - values[1][n].numpy()) / (2 * h)
    finally:
        gen_fd.weights_vector.assign(w0)
    for n in grads:
        check.gradients(grads[n].numpy(), fd[n], tol.fd_rtol, what=n)


# --------------------------------------------------------------------------- backends


def test_sf_backend_gives_the_same_features(tol, check):
    kwargs = dict(readout=READOUTS, init_std=0.3, seed=4, sample_modes=(1, 0))
    compiled = CVGenerator(2, 1, 4, backend="compiled", **kwargs)
    sf = CVGenerator(2, 1, 4, backend="sf", **kwargs)
    np.testing.assert_array_equal(compiled.weights_vector.numpy(), sf.weights_vector.numpy())
    inputs = inputs_for(compiled, 3, seed=6)
    f_compiled, leak_compiled = compiled.features_and_leakage(inputs)
    f_sf, leak_sf = sf.features_and_leakage(inputs)
    for name, block in blocks(compiled, f_compiled.numpy()).items():
        check.scaled(block, blocks(sf, f_sf.numpy())[name], tol.observable[tf.complex64], name)
    check.scaled(leak_compiled, leak_sf.numpy(), tol.observable[tf.complex64], "leakage")
    samples = blocks(compiled, f_compiled.numpy())["photon_samples"]
    np.testing.assert_array_equal(samples, blocks(sf, f_sf.numpy())["photon_samples"])


# --------------------------------------------------------------------------- batching


@given(batch=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_batch_is_a_loop_of_singles(gen_all, batch, seed, gen_tol):
    z, noise = inputs_for(gen_all, batch, seed)
    features, leakage = gen_all.features_and_leakage((z, noise))
    for b in range(batch):
        f1, l1 = gen_all.features_and_leakage((z[b : b + 1], noise[b : b + 1]))
        np.testing.assert_allclose(features[b : b + 1], f1, rtol=0, atol=gen_tol.batch)
        np.testing.assert_allclose(leakage[b : b + 1], l1, rtol=0, atol=gen_tol.batch)


# --------------------------------------------------------------------------- encodings


class TestEncodingOracles:
    """Zero layers: the state is the encoding alone, with closed-form features."""

    Z = np.array([[-1.8, 0.4, 1.1], [0.0, -0.7, 0.3], [2.0, 1.5, -2.0], [0.9, 0.0, 0.6]])

    def test_displacement_is_a_coherent_state_along_x(self, gen_tol):
        # latent_dim 3 > 2 modes: z2 drives mode 0 again; D(a) D(b) = D(a + b) (a, b real)
        gen = CVGenerator(
            2,
            0,
            20,
            latent_dim=3,
            readout=("quadratures", "mean_photon"),
            encoding_scale=0.5,
            dtype=tf.complex128,
        )
        assert gen.weights_vector.shape == (0,)
        f = gen(self.Z).numpy()
        alpha = 0.5 * np.stack([self.Z[:, 0] + self.Z[:, 2], self.Z[:, 1]], axis=1)
        x = f[:, [0, 2]]
        p = f[:, [1, 3]]
        np.testing.assert_allclose(x, 2 * alpha, rtol=0, atol=gen_tol.analytic)
        np.testing.assert_allclose(p, 0.0, rtol=0, atol=gen_tol.analytic)
        np.testing.assert_allclose(f[:, 4:], alpha**2, rtol=0, atol=gen_tol.analytic)

    def test_squeezing_is_squeezed_vacuum(self, gen_tol):
        # one mode, cutoff 60: tail (tanh 0.5)^60 < 1e-19
        gen = CVGenerator(
            1,
            0,
            60,
            readout=("quadratures", "mean_photon"),
            encoding="squeezing",
            encoding_scale=0.5,
            dtype=tf.complex128,
        )
        z = np.clip(self.Z[:, :1], -1, 1)
        f = gen(z).numpy()
        np.testing.assert_allclose(f[:, :2], 0.0, rtol=0, atol=gen_tol.analytic)
        np.testing.assert_allclose(
            f[:, 2], np.sinh(0.5 * z[:, 0]) ** 2, rtol=0, atol=gen_tol.analytic
        )

    def test_phase_rotates_a_unit_coherent_state(self, gen_tol):
        # |alpha| = 1 at cutoff 25: amplitude tail 1/sqrt(25!) < 1e-12
        gen = CVGenerator(
            1,
            0,
            25,
            readout=("quadratures", "mean_photon"),
            encoding="phase",
            encoding_scale=0.5,
            dtype=tf.complex128,
        )
        theta = 0.5 * self.Z[:, 0]
        f = gen(self.Z[:, :1]).numpy()
        np.testing.assert_allclose(f[:, 0], 2 * np.cos(theta), rtol=0, atol=gen_tol.analytic)
        np.testing.assert_allclose(f[:, 1], 2 * np.sin(theta), rtol=0, atol=gen_tol.analytic)
        np.testing.assert_allclose(f[:, 2], 1.0, rtol=0, atol=gen_tol.analytic)

    @pytest.mark.parametrize("cutoff", [4, 6])
    def test_phase_encoded_outcomes_are_poisson_whatever_the_latent(self, cutoff, gen_tol):
        """Phase encoding on 3 modes, no layers: each mode is a coherent state of amplitude
        1, so the joint photon-number outcome is a product of Poisson(1) truncated at the
        cutoff and renormalised, the vacuum outcome holds e^-3 / (1 - leakage), the most of
        any outcome, and the
        norm leakage is 1 - P(N < cutoff)^3, for every latent (docs/gan.md, "Outcomes,
        clusters and the vacuum")."""
        from math import exp, factorial

        gen = CVGenerator(
            3,
            0,
            cutoff,
            readout=("photon_samples",),
            encoding="phase",
            encoding_scale=np.pi,
            dtype=tf.complex128,
        )
        z = np.clip(self.Z[:, :3], -1, 1)
        probs, _, leakage = gen.outcome_distribution(z)
        poisson = np.array([exp(-1) / factorial(n) for n in range(cutoff)])
        kept = poisson.sum() ** 3
        joint = np.einsum("i,j,k->ijk", poisson, poisson, poisson).ravel() / kept
        np.testing.assert_allclose(
            probs.numpy(), np.broadcast_to(joint, probs.shape), rtol=0, atol=gen_tol.analytic
        )
        np.testing.assert_allclose(leakage.numpy(), 1 - kept, rtol=0, atol=gen_tol.analytic)
        # the vacuum holds the most any outcome does (one photon on one mode ties with it)
        np.testing.assert_allclose(joint.max(), joint[0], rtol=1e-12)
        np.testing.assert_allclose(joint[0], exp(-3) / kept, rtol=1e-12)


# --------------------------------------------------------------------------- interface


class TestInterface:
    def test_sizes(self, gen_all):
        w = widths(2, 4, 2)
        assert gen_all.n_features == sum(w.values())
        assert gen_all.n_noise == 4**2 + 2  # one uniform per outcome, one per homodyne mode
        assert gen_all.stochastic
        assert gen_all.n_outcomes == 0  # quadratures first
        z, noise = inputs_for(gen_all, 3, seed=0)
        features, leakage = gen_all.features_and_leakage((z, noise))
        assert features.shape == (3, gen_all.n_features) and leakage.shape == (3,)
        assert features.dtype == tf.float32
        np.testing.assert_array_equal(gen_all((z, noise)), features)

    def test_n_outcomes_is_the_leading_assignment_block(self):
        samples = CVGenerator(3, 1, 3, readout=("photon_samples", "quadratures"), sample_modes=(2,))
        assert samples.n_outcomes == 3
        photons = CVGenerator(3, 1, 3, readout=("mean_photon", "photon_samples"))
        assert photons.n_outcomes == 3 and photons.n_features == 3 + 27
        assert not CVGenerator(2, 1, 3, readout="fock_probs").stochastic

    def test_noise_is_drawn_from_the_seeded_generator(self, gen_all):
        twin = CVGenerator(2, 1, 4, readout=READOUTS, init_std=0.3, seed=5)
        fresh = CVGenerator(2, 1, 4, readout=READOUTS, init_std=0.3, seed=5)
        z, _ = inputs_for(twin, 2, seed=0)
        first = twin(z).numpy()
        np.testing.assert_array_equal(first, fresh(z).numpy())  # same seed, same draws
        second = twin(z).numpy()
        homodyne = blocks(twin, second)["homodyne"]
        assert np.abs(homodyne - blocks(twin, first)["homodyne"]).max() > 0  # new draws

    def test_outcome_distribution(self, gen_tol):
        gen = CVGenerator(
            2, 1, 3, readout=("photon_samples", "quadratures", "homodyne"), init_std=0.3, seed=1
        )
        z, noise = inputs_for(gen, 3, seed=2)
        probs, others, leakage = gen.outcome_distribution((z, noise))
        assert probs.shape == (3, 9) and others.shape == (3, 4 + 2)
        np.testing.assert_allclose(probs.numpy().sum(axis=1), 1.0, atol=gen_tol.float32)
        features, leak = gen.features_and_leakage((z, noise))
        # the other blocks are the features the sample path gives (same noise slices)
        np.testing.assert_allclose(others, features[:, 9:], rtol=0, atol=gen_tol.float32)
        np.testing.assert_array_equal(leakage, leak)
        # the sample is one of the outcomes with positive probability
        drawn = np.argmax(features[:, :9], axis=1)
        assert np.all(probs.numpy()[np.arange(3), drawn] > 0)
        with pytest.raises(ValueError, match="photon_samples"):
            CVGenerator(2, 1, 3, readout=("quadratures", "photon_samples")).outcome_distribution(z)

    @pytest.mark.parametrize("latent", ["normal", "uniform"])
    def test_sample_latent(self, latent, gen_tol):
        gen = CVGenerator(2, 0, 3, latent_dim=5, latent=latent, dtype=tf.complex128)
        z = gen.sample_latent(4000, tf.random.Generator.from_seed(0)).numpy()
        assert z.shape == (4000, 5) and z.dtype == np.float64
        if latent == "uniform":
            assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.99 and z.max() > 0.99
        else:
            assert np.all(np.abs(z.std(axis=0) - 1) < gen_tol.sample_std)
            assert np.abs(z).max() > 2.5  # a U(-1, 1) latent could not get here

    def test_get_config(self):
        gen = CVGenerator(3, 2, 5, readout=["homodyne", "quadratures"], encoding="phase")
        assert gen.get_config() == {
            "n_modes": 3,
            "n_layers": 2,
            "cutoff": 5,
            "latent_dim": 3,
            "encoding": "phase",
            "readout": ["homodyne", "quadratures"],
            "backend": "compiled",
            # every other constructor argument too (tests/generator/test_keras_serialisation)
            "encoding_scale": 0.5,
            "sample_modes": [0, 1, 2],
            "temperature": 0.5,
            "straight_through": True,
            "dtype": "complex64",
            "init_std": 0.1,
            "final_kerr": True,  # resolved: a phase-sensitive readout is read
            "latent": "normal",
            "loss": [0.0, 0.0, 0.0],  # per mode
            "loss_at": "measurement",
            "quadrature_angles": [0.0, 0.0, 0.0],  # per mode
            "seed": 0,
            "name": "cv_generator",
            "trainable": True,
        }


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(n_modes=0), "n_modes"),
        (dict(n_modes=2.0), "n_modes"),
        (dict(n_modes=True), "n_modes"),
        (dict(n_layers=-1), "n_layers"),
        (dict(cutoff=1), "cutoff"),
        (dict(cutoff=3.5), "cutoff"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(readout="wigner"), "readout"),
        (dict(readout=()), "readout"),
        (dict(readout=("quadratures", "quadratures")), "readout"),
        (dict(sample_modes=(2,)), "sample_modes"),
        (dict(sample_modes=(-1,)), "sample_modes"),
        (dict(sample_modes=()), "sample_modes"),
        (dict(sample_modes=(0, 0)), "sample_modes"),
        (dict(sample_modes=(0.5,)), "sample_modes"),
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=float("nan")), "temperature"),
        (dict(backend="fock"), "backend"),
        (dict(encoding="amplitude"), "encoding"),
        (dict(latent="cauchy"), "latent"),
        (dict(dtype=tf.float32), "dtype"),
        (dict(dtype="complex256"), "dtype"),
    ],
)
def test_constructor_errors_name_the_argument(kwargs, argument):
    base = dict(n_modes=2, n_layers=1, cutoff=3)
    with pytest.raises(ValueError, match=argument) as info:
        CVGenerator(**{**base, **kwargs})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(3,), (3, 3), (3, 1), (2, 2, 1)])
def test_wrong_z_shape_names_z(gen_all, shape):
    with pytest.raises(ValueError, match=r"z must have shape \[batch, 2\]"):
        gen_all.features_and_leakage(tf.zeros(shape))


@pytest.mark.parametrize("width", [0, 17, 19])
def test_wrong_noise_width_names_noise(gen_all, width):
    # gen_all consumes 4**2 Gumbel uniforms and 2 homodyne uniforms per sample
    with pytest.raises(ValueError, match=r"noise must have shape \[batch, 18\]"):
        gen_all.features_and_leakage((tf.zeros((3, 2)), tf.zeros((3, width))))


@pytest.mark.parametrize("dtype, real", [(tf.complex64, tf.float32), (tf.complex128, tf.float64)])
def test_circuit_arguments_bind_every_free_parameter(dtype, real):
    """Every free parameter of the program is bound once: encoding ``i`` to
    ``encoding_scale * z[:, i]`` per sample, weight ``k`` to entry ``k`` of the weight vector
    (exact: a scaling and a slice, no rounding beyond the cast to the real dtype)."""
    gen = CVGenerator(2, 1, 3, latent_dim=2, encoding_scale=0.7, dtype=dtype, seed=4)
    z = np.random.default_rng(5).normal(size=(3, 2))
    args = gen.circuit_arguments(tf.constant(z))
    assert set(args) == set(gen.program.free_params)
    for i, name in enumerate(gen.circuit.latent_names):
        assert args[name].dtype == real and args[name].shape == (3,)
        expected = 0.7 * z[:, i].astype(real.as_numpy_dtype)
        np.testing.assert_allclose(
            args[name].numpy(), expected, rtol=2e-7 if real == tf.float32 else 0
        )
    weights = gen.weights_vector.numpy()
    for k, name in enumerate(gen.circuit.weight_names):
        assert args[name].dtype == real and args[name].shape == ()
        assert args[name].numpy() == weights[k]
