"""Keras citizenship of ``SpatialDecoder`` (and the GAN discriminator), and mixed precision.

Round trips: a decoder written to a ``.keras`` file (alone, in a ``tf.keras.Sequential``,
in a functional generator -> decoder model) and read back by ``tf.keras.models.load_model``
without ``custom_objects`` has the same config and decodes the same features to the SAME
points (atol 0): every kind, ``mode_assignment`` after calibration (its anchor origin and
unit are state set by ``calibrate``, not by training). The oracle is the model that wrote
the file.

Mixed precision: under ``mixed_float16`` the decoder computes in float16 with float32
weights, like ``Dense``. Its output is compared with the float32 decoder carrying the same
weights, on features of order 1: float16 rounds to 2^-11 relative (4.9e-4), each output is
a sum of at most 6 products of rounded float16 values, so 1e-2 absolute + 1e-2 relative
bounds the difference with room (observed: at most 4.1e-3 on outputs up to 5.6 in
magnitude, over the three kinds).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from qgan.decoder import KINDS, SpatialDecoder
from qgan.gan.discriminator import Discriminator
from qgan.generator import CVGenerator

N_FEATURES = 5
N_OUTCOMES = 3
MIXED_TOL = dict(rtol=1e-2, atol=1e-2)  # see the module docstring


def clusters(n: int = 300, seed: int = 0) -> np.ndarray:
    """Three Gaussian clusters in 2-D (std 0.1 around known centres)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    return centres[rng.integers(0, 3, n)] + 0.1 * rng.normal(size=(n, 2))


def features(n: int = 7, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, N_FEATURES)).astype("float32")
    f[:, :N_OUTCOMES] = np.abs(f[:, :N_OUTCOMES])  # assignment weights are non-negative
    return f


def calibrated(kind: str, **kwargs) -> SpatialDecoder:
    """A decoder of ``kind`` calibrated on :func:`clusters` with :func:`features`: every
    variable, non-trainable ones included, away from its initial value."""
    dec = SpatialDecoder(
        kind,
        output_dim=2,
        n_features=N_FEATURES,
        n_outcomes=N_OUTCOMES if kind == "mode_assignment" else 0,
        n_clusters=3 if kind == "mode_assignment" else None,
        hidden=(6, 4),
        seed=3,
        **kwargs,
    )
    dec.calibrate(clusters(), features(200, seed=2))
    return dec


def save_and_load(model, tmp_path, name: str = "model.keras"):
    path = tmp_path / name
    model.save(path)
    return tf.keras.models.load_model(path)  # no custom_objects: registered classes


@pytest.fixture
def mixed_float16():
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", KINDS)
def test_config_holds_every_constructor_argument(kind):
    dec = calibrated(kind, name="dec", trainable=False)
    config = dec.get_config()
    assert config["kind"] == kind and config["n_features"] == N_FEATURES
    assert config["hidden"] == [6, 4] and config["seed"] == 3
    assert config["n_clusters"] == (3 if kind == "mode_assignment" else None)
    assert config["name"] == "dec" and config["trainable"] is False
    again = SpatialDecoder.from_config(config)
    assert again.get_config() == config
    assert [w.name for w in again.weights] == [w.name for w in dec.weights]


@pytest.mark.parametrize("kind", KINDS)
def test_calibrated_decoder_round_trip_is_exact(kind, tmp_path):
    dec = calibrated(kind)
    model = tf.keras.Sequential([tf.keras.Input((N_FEATURES,)), dec])
    loaded = save_and_load(model, tmp_path)
    restored = loaded.layers[0]
    assert type(restored) is SpatialDecoder
    assert restored.get_config() == dec.get_config()
    for a, b in zip(restored.weights, dec.weights, strict=True):
        assert a.trainable == b.trainable
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if kind == "mode_assignment":  # the calibration itself survived
        np.testing.assert_array_equal(restored.anchors.numpy(), dec.anchors.numpy())
    f = features()
    np.testing.assert_array_equal(loaded(f).numpy(), model(f).numpy())


def test_decoder_built_on_first_call_round_trips(tmp_path):
    dec = SpatialDecoder("affine", output_dim=2, seed=1)
    model = tf.keras.Sequential([tf.keras.Input((N_FEATURES,)), dec])
    f = features()
    loaded = save_and_load(model, tmp_path)
    assert loaded.layers[0].get_config()["n_features"] == N_FEATURES
    np.testing.assert_array_equal(loaded(f).numpy(), model(f).numpy())


@pytest.mark.slow
@pytest.mark.parametrize(
    "readout, kind",
    [(("photon_samples", "quadratures"), "mode_assignment"), (("homodyne",), "affine")],
)
def test_functional_generator_decoder_round_trip(readout, kind, tmp_path):
    """z and the readout noise are model inputs: the same ``(z, noise)`` decodes to the
    same points after reloading."""
    gen = CVGenerator(n_modes=2, n_layers=1, cutoff=3, readout=readout, seed=1)
    dec = SpatialDecoder(
        kind,
        output_dim=2,
        n_features=gen.n_features,
        n_outcomes=gen.n_outcomes if kind == "mode_assignment" else 0,
        n_clusters=3 if kind == "mode_assignment" else None,
    )
    dec.calibrate_to(gen, clusters())
    z_in = tf.keras.Input((gen.latent_dim,), name="z")
    noise_in = tf.keras.Input((gen.n_noise,), name="noise")
    model = tf.keras.Model([z_in, noise_in], dec(gen((z_in, noise_in))))
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, gen.latent_dim)).astype("float32")
    noise = rng.uniform(size=(6, gen.n_noise)).astype("float32")
    loaded = save_and_load(model, tmp_path)
    restored = {type(layer): layer for layer in loaded.layers}
    assert restored[CVGenerator].get_config() == gen.get_config()
    assert restored[SpatialDecoder].get_config() == dec.get_config()
    np.testing.assert_array_equal(loaded([z, noise]).numpy(), model([z, noise]).numpy())


@pytest.mark.slow
def test_generator_and_decoder_in_sequential(tmp_path):
    gen = CVGenerator(n_modes=2, n_layers=1, cutoff=3, readout=("mean_photon",), seed=2)
    dec = SpatialDecoder("mlp", output_dim=2, n_features=gen.n_features, hidden=(4,))
    model = tf.keras.Sequential([tf.keras.Input((gen.latent_dim,)), gen, dec])
    z = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    loaded = save_and_load(model, tmp_path)
    assert [type(layer) for layer in loaded.layers] == [CVGenerator, SpatialDecoder]
    np.testing.assert_array_equal(loaded(z).numpy(), model(z).numpy())


def test_discriminator_round_trip(tmp_path):
    disc = Discriminator(input_dim=2, hidden=(5, 3), pack=2, seed=4, name="critic")
    config = disc.get_config()
    assert {k: config[k] for k in ("input_dim", "hidden", "pack", "seed", "name")} == {
        "input_dim": 2,
        "hidden": [5, 3],
        "pack": 2,
        "seed": 4,
        "name": "critic",
    }
    points = clusters(8)
    loaded = save_and_load(disc, tmp_path)
    assert type(loaded) is Discriminator and loaded.get_config() == config
    np.testing.assert_array_equal(loaded(points).numpy(), disc(points).numpy())


def test_tf_checkpoint_holds_every_variable(tmp_path):
    """``tf.train.Checkpoint`` (the GAN's checkpoints) over each class restores every
    variable, the ones of layers held in lists included (Keras' tracked lists are invisible
    to TF checkpoints): a differently seeded copy reads back to the writer's values."""
    from qgan.generator import ClassicalGenerator

    def build(seed: int) -> dict:
        return {
            "classical": ClassicalGenerator(2, hidden=(4, 3), n_outcomes=2, seed=seed),
            "mlp": SpatialDecoder("mlp", output_dim=2, n_features=3, hidden=(4,), seed=seed),
            "critic": Discriminator(2, hidden=(5, 3), seed=seed),
        }

    written, read = build(1), build(2)
    path = tf.train.Checkpoint(**written).write(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(**read).read(path).assert_consumed()
    for key, model in written.items():
        assert len(read[key].variables) == len(model.variables)
        for a, b in zip(read[key].variables, model.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{key}: {a.path}")


@pytest.mark.slow
def test_load_in_a_fresh_process(tmp_path):
    """A new interpreter that only imports the qgan classes (which registers them) loads
    a generator -> decoder model and reproduces its points exactly."""
    gen = CVGenerator(n_modes=2, n_layers=1, cutoff=3, readout=("quadratures",), seed=1)
    dec = SpatialDecoder("affine", output_dim=2, n_features=gen.n_features)
    model = tf.keras.Sequential([tf.keras.Input((2,)), gen, dec])
    z = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "points.npy", model(z).numpy())
    model.save(tmp_path / "model.keras")
    script = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf
        from qgan import CVGenerator, SpatialDecoder  # registers the Keras classes
        model = tf.keras.models.load_model({str(tmp_path / "model.keras")!r})
        points = model(np.load({str(tmp_path / "z.npy")!r})).numpy()
        np.testing.assert_array_equal(points, np.load({str(tmp_path / "points.npy")!r}))
        print("identical")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "identical" in run.stdout


# --------------------------------------------------------------------------- mixed precision


@pytest.mark.parametrize("kind", KINDS)
def test_decoder_follows_mixed_float16(kind, mixed_float16):
    dec = calibrated(kind)
    assert dec.compute_dtype == "float16" and dec.variable_dtype == "float32"
    assert all(w.dtype == "float32" for w in dec.weights)
    f = features()
    out = dec(f)
    assert out.dtype == tf.float16
    tf.keras.mixed_precision.set_global_policy("float32")
    reference = SpatialDecoder.from_config({**dec.get_config(), "dtype": "float32"})
    reference.set_weights(dec.get_weights())
    expected = reference(f).numpy()
    assert expected.dtype == np.float32
    np.testing.assert_allclose(out.numpy().astype(np.float32), expected, **MIXED_TOL)


def test_decoder_pinned_to_float32_under_mixed_policy(mixed_float16):
    dec = SpatialDecoder("affine", output_dim=2, n_features=N_FEATURES, dtype="float32")
    assert dec(features()).dtype == tf.float32


@pytest.mark.slow
def test_generator_decoder_model_trains_under_mixed_float16(mixed_float16):
    """The generator keeps complex64/float32; the decoder computes in float16; one step
    of a LossScaleOptimizer gives finite gradients and finite, changed weights, and the
    decoded points are close to the float32 model's."""
    gen = CVGenerator(n_modes=2, n_layers=1, cutoff=3, readout=("quadratures",), seed=1)
    dec = SpatialDecoder("affine", output_dim=2, n_features=gen.n_features)
    model = tf.keras.Sequential([tf.keras.Input((2,)), gen, dec])
    z = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    points = model(z)
    assert gen(z).dtype == tf.float32 and points.dtype == tf.float16

    tf.keras.mixed_precision.set_global_policy("float32")
    ref_gen = CVGenerator.from_config(gen.get_config())
    ref_dec = SpatialDecoder.from_config({**dec.get_config(), "dtype": "float32"})
    ref_dec.set_weights(dec.get_weights())
    expected = ref_dec(ref_gen(z)).numpy()
    np.testing.assert_allclose(points.numpy().astype(np.float32), expected, **MIXED_TOL)
    tf.keras.mixed_precision.set_global_policy("mixed_float16")

    opt = tf.keras.mixed_precision.LossScaleOptimizer(tf.keras.optimizers.Adam(1e-2))
    before = [v.numpy().copy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.cast(model(z), tf.float32) - 1.0))
        scaled = opt.scale_loss(loss)
    grads = tape.gradient(scaled, model.trainable_variables)
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
    opt.apply(grads, model.trainable_variables)
    after = [v.numpy() for v in model.trainable_variables]
    assert np.isfinite(loss.numpy())
    assert all(np.all(np.isfinite(a)) for a in after)
    assert all(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))
