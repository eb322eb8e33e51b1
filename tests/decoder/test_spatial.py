"""Specification of ``qgan.decoder.SpatialDecoder``.

Each kind is checked against a float64 NumPy re-implementation of its documented formula,
evaluated with the decoder's own (randomised) weights:

* ``affine``: ``x = f W + b``;
* ``mode_assignment``: ``x = (w / sum w) A + f_rest W`` with ``w`` the first
  ``n_outcomes`` columns (so a one-hot ``w`` picks anchor ``A_j``);
* ``mlp``: tanh hidden layers, linear output layer.

"Vectorised over the batch" is checked as: a batch decodes to the rows decoded one at a
time, and one trace with an unknown batch dimension serves every batch size.
``calibrate`` is checked against clusters with known generating centres and against the
data's own moments.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from qgan.decoder import KINDS, SpatialDecoder

N_FEATURES = 5
N_OUTCOMES = 3  # mode_assignment: leading assignment block
HIDDEN = (6, 4)


def make_decoder(kind: str, seed: int = 0, randomise: bool = True) -> SpatialDecoder:
    """A built decoder of ``kind``; with ``randomise`` every weight (biases included) is
    drawn at random, so that no term of the formula hides behind a zero initial value."""
    dec = SpatialDecoder(
        kind=kind,
        output_dim=2,
        n_features=N_FEATURES,
        n_outcomes=N_OUTCOMES if kind == "mode_assignment" else 0,
        hidden=HIDDEN,
        seed=seed,
    )
    if randomise:
        rng = np.random.default_rng(seed + 100)
        for var in dec.trainable_variables:
            var.assign(rng.normal(0.0, 1.0, var.shape).astype(np.float32))
    return dec


def make_features(kind: str, batch: int, seed: int) -> np.ndarray:
    """Features ``[batch, N_FEATURES]``; for ``mode_assignment`` the assignment block is
    non-negative (weights over anchors), the rest real."""
    rng = np.random.default_rng(seed)
    f = rng.normal(0.0, 1.0, (batch, N_FEATURES))
    if kind == "mode_assignment":
        f[:, :N_OUTCOMES] = rng.uniform(0.05, 1.0, (batch, N_OUTCOMES))
    return f.astype(np.float32)


def numpy_decode(dec: SpatialDecoder, features: np.ndarray) -> np.ndarray:
    """The documented formula of each kind, in float64, from the decoder's weights."""
    f = np.asarray(features, np.float64)
    if dec.kind == "affine":
        return f @ dec.kernel.numpy() + dec.bias.numpy()
    if dec.kind == "mode_assignment":
        w = f[:, : dec.n_outcomes]
        w = w / w.sum(axis=1, keepdims=True)
        return w @ dec.anchors.numpy() + f[:, dec.n_outcomes :] @ dec.kernel.numpy()
    h = f
    for i, (kernel, bias) in enumerate(dec.layers_):
        h = h @ kernel.numpy() + bias.numpy()
        if i < len(dec.layers_) - 1:
            h = np.tanh(h)
    return h


def test_kinds_are_the_documented_ones():
    assert set(KINDS) >= {"affine", "mode_assignment", "mlp"}


# --------------------------------------------------------------------------- the formula


@pytest.mark.parametrize("kind", KINDS)
def test_output_is_the_documented_formula(kind, dec_tol):
    dec = make_decoder(kind)
    f = make_features(kind, 17, seed=1)
    out = dec(f)
    assert out.dtype == tf.float32
    assert out.shape == (17, 2)
    np.testing.assert_allclose(
        out.numpy(), numpy_decode(dec, f), rtol=dec_tol.rtol, atol=dec_tol.atol
    )


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=4)
@given(batch=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_batch_equals_rows_decoded_one_at_a_time(kind, batch, seed, dec_tol):
    dec = make_decoder(kind, seed=seed % 7)
    f = make_features(kind, batch, seed)
    rows = np.concatenate([dec(f[i : i + 1]).numpy() for i in range(batch)])
    np.testing.assert_allclose(dec(f).numpy(), rows, rtol=dec_tol.rtol, atol=dec_tol.atol)


@pytest.mark.parametrize("kind", KINDS)
def test_one_trace_serves_every_batch_size(kind, dec_tol):
    dec = make_decoder(kind)
    fn = tf.function(dec.call, input_signature=[tf.TensorSpec([None, N_FEATURES], tf.float32)])
    for batch in (1, 4, 33):
        f = make_features(kind, batch, seed=batch)
        np.testing.assert_allclose(
            fn(f).numpy(), numpy_decode(dec, f), rtol=dec_tol.rtol, atol=dec_tol.atol
        )
    assert fn.experimental_get_tracing_count() == 1


def test_mode_assignment_one_hot_gives_anchor_plus_offset(dec_tol):
    dec = make_decoder("mode_assignment")
    rng = np.random.default_rng(3)
    rest = rng.normal(0.0, 1.0, (4, N_FEATURES - N_OUTCOMES)).astype(np.float32)
    offset = rest.astype(np.float64) @ dec.kernel.numpy()
    points = dec.outcome_points(rest).numpy()
    assert points.shape == (4, N_OUTCOMES, 2)
    for j in range(N_OUTCOMES):
        one_hot = np.zeros((4, N_OUTCOMES), np.float32)
        one_hot[:, j] = 1.0
        out = dec(np.concatenate([one_hot, rest], axis=1)).numpy()
        expected = dec.anchors.numpy()[j] + offset
        np.testing.assert_allclose(out, expected, rtol=dec_tol.rtol, atol=dec_tol.atol)
        # outcome_points (used by the marginal generator loss) decodes outcome j the same way
        np.testing.assert_allclose(points[:, j], expected, rtol=dec_tol.rtol, atol=dec_tol.atol)


def test_mode_assignment_weights_are_normalised(dec_tol):
    """Scaling the assignment block of a row does not move its point."""
    dec = make_decoder("mode_assignment")
    f = make_features("mode_assignment", 6, seed=4)
    scaled = f.copy()
    scaled[:, :N_OUTCOMES] *= np.arange(1, 7, dtype=np.float32)[:, None] * 2.5
    np.testing.assert_allclose(
        dec(scaled).numpy(), dec(f).numpy(), rtol=dec_tol.rtol, atol=dec_tol.atol
    )


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_reaches_every_variable_and_feature(kind, dec_tol):
    dec = make_decoder(kind)
    f = tf.constant(make_features(kind, 8, seed=5))
    c = tf.constant(np.random.default_rng(6).normal(0.0, 1.0, (8, 2)).astype(np.float32))

    def grads(features):
        with tf.GradientTape() as tape:
            tape.watch(features)
            loss = tf.reduce_sum(dec(features) * c)
        return tape.gradient(loss, [*dec.trainable_variables, features])

    eager = grads(f)
    graph = tf.function(grads)(f)
    names = [v.name for v in dec.trainable_variables] + ["features"]
    expected_vars = {"affine": 2, "mode_assignment": 2, "mlp": 2 * (len(HIDDEN) + 1)}[kind]
    assert len(dec.trainable_variables) == expected_vars
    for name, ge, gg in zip(names, eager, graph, strict=True):
        assert ge is not None and gg is not None, f"no gradient reaches {name}"
        ge, gg = ge.numpy(), gg.numpy()
        assert np.all(np.isfinite(ge)), name
        assert np.max(np.abs(ge)) > 0, f"gradient of {name} is identically zero"
        if name == "features":  # every feature column influences the output
            assert np.all(np.max(np.abs(ge), axis=0) > 0)
        np.testing.assert_allclose(gg, ge, rtol=dec_tol.rtol, atol=dec_tol.atol)


# --------------------------------------------------------------------------- calibrate


def _match(found: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``found`` for each row of ``true`` (must be one-to-one)."""
    d = np.linalg.norm(true[:, None, :] - found[None, :, :], axis=-1)
    nearest = d.argmin(axis=1)
    assert sorted(nearest) == list(range(len(found))), "centres are not matched one-to-one"
    return nearest


def _assert_on_centres(found, blobs, dec_tol):
    nearest = _match(found, blobs.centres)
    bound = dec_tol.centre_sigmas * blobs.std / np.sqrt(blobs.n_per_cluster)
    assert np.all(np.abs(found[nearest] - blobs.centres) < bound)


def test_calibrate_puts_anchors_on_the_cluster_centres(blobs, dec_tol):
    k = len(blobs.centres)
    dec = SpatialDecoder("mode_assignment", n_features=k + 2, n_outcomes=k, n_clusters=k)
    info = dec.calibrate(blobs.points, seed=0)
    anchors = dec.anchors.numpy().astype(np.float64)
    _assert_on_centres(anchors, blobs, dec_tol)
    np.testing.assert_allclose(np.asarray(info["centres"]), anchors, rtol=dec_tol.rtol)
    assert info["n_clusters"] == k
    assert abs(info["within_std"] - blobs.std) < dec_tol.spread_rel * blobs.std


def test_calibrate_without_n_clusters_uses_one_cluster_per_outcome(blobs, dec_tol):
    k = len(blobs.centres)
    dec = SpatialDecoder("mode_assignment", n_features=k, n_outcomes=k)
    dec.calibrate(blobs.points, seed=0)
    _assert_on_centres(dec.anchors.numpy(), blobs, dec_tol)


def test_more_outcomes_than_clusters_cycle_over_the_centres(blobs, dec_tol):
    two = np.isin(blobs.labels, [0, 1])
    sub = type(blobs)(
        blobs.points[two], blobs.labels[two], blobs.centres[:2], blobs.std, blobs.n_per_cluster
    )
    dec = SpatialDecoder("mode_assignment", n_features=6, n_outcomes=5, n_clusters=2)
    dec.calibrate(sub.points, seed=0)
    anchors = dec.anchors.numpy()
    _assert_on_centres(anchors[:2], sub, dec_tol)
    for j in range(2, 5):  # outcome j starts at centre j mod n_clusters
        np.testing.assert_array_equal(anchors[j], anchors[j % 2])


def test_calibrate_scales_the_offset_to_the_within_cluster_spread(blobs, dec_tol):
    k = len(blobs.centres)
    dec = SpatialDecoder("mode_assignment", n_features=k + 3, n_outcomes=k, n_clusters=k)
    rng = np.random.default_rng(7)
    feats = rng.normal(0.0, 1.0, (400, k + 3)) * [1, 1, 1, 0.1, 3.0, 0.5] + 2.0
    feats[:, :k] = np.eye(k)[rng.integers(0, k, 400)]
    info = dec.calibrate(blobs.points, feats, seed=0)
    # decode every feature row as outcome 0: the spread around anchor 0 is the offset's
    forced = feats.copy()
    forced[:, :k] = np.eye(k)[0]
    out = dec(forced.astype(np.float32)).numpy().astype(np.float64)
    np.testing.assert_allclose(out.std(axis=0), info["within_std"], rtol=dec_tol.moments)


@pytest.mark.parametrize("kind", ["affine", "mlp"])
def test_calibrate_matches_the_data_mean_and_std(kind, blobs, dec_tol):
    real = blobs.points * [0.5, 3.0] + [10.0, -4.0]  # anisotropic, off-centre
    dec = SpatialDecoder(kind, hidden=HIDDEN, seed=2)
    rng = np.random.default_rng(8)
    feats = (rng.normal(0.0, 1.0, (500, 4)) * [0.1, 2.0, 1.0, 5.0] + [3.0, 0, 0, -1]).astype(
        np.float32
    )
    info = dec.calibrate(real, feats, seed=0)
    out = dec(feats).numpy().astype(np.float64)
    mean_error = np.abs(out.mean(axis=0) - real.mean(axis=0))
    assert np.all(mean_error <= dec_tol.moments * real.std(axis=0)), mean_error
    np.testing.assert_allclose(out.std(axis=0), real.std(axis=0), rtol=dec_tol.moments)
    np.testing.assert_allclose(info["mean"], real.mean(axis=0), rtol=dec_tol.rtol)
    np.testing.assert_allclose(info["std"], real.std(axis=0), rtol=dec_tol.rtol)


@pytest.mark.parametrize("kind", ["affine", "mlp"])
def test_calibrate_without_features_sets_the_output_bias_to_the_data_mean(kind, blobs, dec_tol):
    dec = make_decoder(kind)
    weights_before = [v.numpy().copy() for v in dec.trainable_variables]
    real = blobs.points + [1.0, -2.0]
    dec.calibrate(real)
    out_bias = dec.bias if kind == "affine" else dec.layers_[-1][1]
    np.testing.assert_allclose(out_bias.numpy(), real.mean(axis=0), rtol=dec_tol.rtol)
    for var, before in zip(dec.trainable_variables, weights_before, strict=True):
        if var is not out_bias:
            np.testing.assert_array_equal(var.numpy(), before)


# --------------------------------------------------------------------------- errors


def test_unknown_kind_names_kind():
    with pytest.raises(ValueError, match="kind"):
        SpatialDecoder(kind="conv")


def test_mode_assignment_needs_outcomes():
    with pytest.raises(ValueError, match="n_outcomes"):
        SpatialDecoder(kind="mode_assignment", n_features=4, n_outcomes=0)


def test_more_outcomes_than_features_names_n_outcomes():
    with pytest.raises(ValueError, match="n_outcomes"):
        SpatialDecoder(kind="mode_assignment", n_features=2, n_outcomes=3)


@pytest.mark.parametrize("shape", [(10, 3), (10,), (2, 5, 2)])
def test_calibrate_rejects_real_of_the_wrong_shape(shape):
    dec = make_decoder("affine", randomise=False)
    with pytest.raises(ValueError, match="real"):
        dec.calibrate(np.zeros(shape))


def test_calibrate_of_an_unbuilt_decoder_needs_features(blobs):
    with pytest.raises(ValueError, match="features"):
        SpatialDecoder("affine").calibrate(blobs.points)


def test_outcome_points_needs_mode_assignment():
    with pytest.raises(ValueError, match="mode_assignment"):
        make_decoder("affine").outcome_points(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("kind", ["mode_assignment", "affine"])
def test_calibrate_to_a_generator_calibrates_on_its_documented_probe(kind, blobs):
    """``calibrate_to(generator, real, seed)`` is ``calibrate(real, features, seed)`` on the
    generator's features for PROBE_SAMPLES latents and noise drawn (in that order) from a
    stream seeded ``seed + 1``; a mode_assignment decoder of a generator that samples
    outcomes gets the exact outcome probabilities in the outcome block (with this seed the
    sampled outcomes would deal the outcomes to other clusters)."""
    from qgan.decoder.spatial import PROBE_SAMPLES
    from qgan.generator import ClassicalGenerator

    gen = ClassicalGenerator(latent_dim=2, hidden=(4,), n_outcomes=3, n_continuous=1, seed=2)
    outcomes = 3 if kind == "mode_assignment" else 0
    made = [
        SpatialDecoder(kind, 2, n_features=4, n_outcomes=outcomes, n_clusters=3, seed=5)
        for _ in range(2)
    ]
    info = made[0].calibrate_to(gen, blobs.points, seed=7)

    rng = tf.random.Generator.from_seed(8)
    z = gen.sample_latent(PROBE_SAMPLES, rng)
    noise = rng.uniform([PROBE_SAMPLES, 3])
    if kind == "mode_assignment":
        probs, rest, _ = gen.outcome_distribution((z, noise))
        features = np.concatenate([probs.numpy(), rest.numpy()], axis=1)
        assert not np.all(np.isin(features[:, :3], (0.0, 1.0)))  # probabilities, not samples
    else:
        features = gen.features_and_leakage((z, noise))[0].numpy()
    expected = made[1].calibrate(blobs.points, features, seed=7)
    assert info == expected
    for a, b in zip(made[0].weights, made[1].weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
