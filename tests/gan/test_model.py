"""Specification of ``qgan.gan.model``: ``GANModel`` from its parts, ``TrainStepSettings``
and ``build_model``.

* A model is built from parts and settings alone (no config): its training step draws,
  from its seeded RNG and in this order, the real batch and the latents (and noise) of each
  discriminator update, then the generator's latents; the discriminator loss it returns is
  that of the discriminator before its update, and the generator loss is judged by the
  updated discriminator on points of the generator before its update. The oracle replays
  the draws with a twin RNG and evaluates the losses of :mod:`qgan.gan.losses` directly.
* ``build_model`` passes a config's settings on as ``TrainStepSettings`` and keeps no config.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from qgan.decoder.spatial import SpatialDecoder
from qgan.gan.config import load_config
from qgan.gan.discriminator import Discriminator
from qgan.gan.losses import discriminator_loss, generator_loss
from qgan.gan.model import GANModel, TrainStepSettings, build_model
from qgan.generator import ClassicalGenerator, CVGenerator

ROOT = Path(__file__).resolve().parents[2]
N_REAL, BATCH, SEED = 50, 8, 3


@pytest.fixture
def parts():
    """A small classical generator (no readout noise), affine decoder, discriminator and
    real data in two dimensions."""
    gen = ClassicalGenerator(latent_dim=2, hidden=(4,), n_outcomes=0, n_continuous=2, seed=1)
    dec = SpatialDecoder("affine", output_dim=2, n_features=2, seed=1)
    disc = Discriminator(2, hidden=(8,), seed=1)
    real = np.random.default_rng(0).normal(size=(N_REAL, 2)).astype(np.float32)
    return gen, dec, disc, real


def test_step_order_and_losses_from_parts(parts, gan_tol):
    gen, dec, disc, real = parts
    # a large critic rate, so that the critic before and after its update judge apart
    settings = TrainStepSettings(
        loss="non_saturating",
        batch_size=BATCH,
        d_steps=1,
        grad_clip=None,
        lr_discriminator=0.1,
        seed=SEED,
    )
    model = GANModel(gen, dec, disc, real, settings)
    assert not hasattr(model, "cfg")
    twin = tf.random.Generator.from_seed(SEED)
    index = twin.uniform([BATCH], 0, N_REAL, dtype=tf.int64).numpy()
    d_z = gen.sample_latent(BATCH, twin)
    g_z = gen.sample_latent(BATCH, twin)
    fake = dec(gen(d_z))
    d_before = discriminator_loss("non_saturating", disc(real[index]), disc(fake)).numpy()
    g_points = dec(gen(g_z))  # the generator's points before the update
    g_with_old_critic = generator_loss("non_saturating", disc(g_points)).numpy()

    out = model.train_step()

    np.testing.assert_allclose(out["d_loss"], d_before, rtol=gan_tol.rtol, atol=gan_tol.atol)
    g_expected = generator_loss("non_saturating", disc(g_points)).numpy()
    np.testing.assert_allclose(out["g_loss"], g_expected, rtol=gan_tol.rtol, atol=gan_tol.atol)
    # the check can tell the two critics apart
    assert abs(g_expected - g_with_old_critic) > 100 * gan_tol.atol
    np.testing.assert_array_equal(model.rng.state.numpy(), twin.state.numpy())
    assert int(model.step.numpy()) == 1 and int(out["nonfinite"]) == 0


def test_build_model_passes_the_settings_on():
    overrides = {
        "generator.n_modes": 2,
        "generator.cutoff": 3,
        "generator.n_layers": 1,
        "generator.latent_dim": 2,
        "generator.sample_modes": [0],
        "train.batch_size": 16,
        "train.d_steps": 2,
        "train.loss": "wgan_gp",
        "train.outcome_gradient": "straight_through",
        "train.lr_schedule": "cosine",
        "discriminator.gradient_penalty": 2.5,
        "seed": 4,
    }
    cfg = load_config(ROOT / "configs" / "bimodal.yaml", overrides=overrides)
    real = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    model = build_model(cfg, real)
    t = cfg.train
    assert model.settings == TrainStepSettings(
        loss="wgan_gp",
        batch_size=16,
        d_steps=2,
        gradient_penalty=2.5,
        grad_clip=t.grad_clip,
        leakage_penalty=t.leakage_penalty,
        outcome_gradient="straight_through",
        lr_generator=t.lr_generator,
        lr_decoder=t.lr_decoder,
        lr_discriminator=t.lr_discriminator,
        beta1=t.beta1,
        beta2=t.beta2,
        lr_schedule="cosine",
        decay_steps=t.steps,
        seed=4,
    )
    assert not hasattr(model, "cfg")
    assert isinstance(model.generator, CVGenerator) and model.generator.n_modes == 2
    assert model.decoder.kind == cfg.decoder.kind and model.decoder.output_dim == 2
    assert model.dim == 2


def test_a_nonfinite_gradient_in_any_discriminator_update_is_counted(parts, monkeypatch):
    """With ``d_steps`` > 1, a non-finite gradient in an earlier discriminator update (its
    update skipped by the guard) makes the step report ``nonfinite``, as one in the last
    update or the generator's does. The fault is injected into the guard's verdict for the
    first update only (the step is traced once, so the Python counter runs at trace time)."""
    import qgan.gan.model as gan_model

    real_guard = gan_model.guard_gradients
    calls = []

    def guard_failing_first(grads, variables, clip):
        grads, ok = real_guard(grads, variables, clip)
        calls.append(len(calls))
        return grads, (tf.constant(False) if len(calls) == 1 else ok)

    monkeypatch.setattr(gan_model, "guard_gradients", guard_failing_first)
    gen, dec, disc, real = parts
    settings = TrainStepSettings(
        loss="non_saturating", batch_size=BATCH, d_steps=2, grad_clip=None, seed=SEED
    )
    out = GANModel(gen, dec, disc, real, settings).train_step()
    assert len(calls) == 3  # two discriminator updates, then the generator's
    assert int(out["nonfinite"]) == 1


@pytest.mark.slow
def test_the_step_logs_each_term_of_the_objective(gan_tol):
    """The step returns, besides the optimised totals, each term as it is added: the
    generator's adversarial loss and leakage penalty, the discriminator's adversarial loss and
    gradient penalty. The terms add up to the totals exactly (the same float additions), and
    the leakage term is ``leakage_penalty`` times the mean leakage of the generator's batch,
    computed independently by replaying the step's draws through the generator's own
    ``features_and_leakage`` (a CV circuit with a small cutoff, so the leakage is not 0)."""
    gen = CVGenerator(
        n_modes=2,
        n_layers=1,
        cutoff=3,
        latent_dim=2,
        readout=("quadratures",),
        encoding_scale=1.0,
        seed=2,
    )
    dec = SpatialDecoder("affine", output_dim=2, n_features=gen.n_features, seed=1)
    disc = Discriminator(2, hidden=(8,), seed=1)
    real = np.random.default_rng(0).normal(size=(N_REAL, 2)).astype(np.float32)
    settings = TrainStepSettings(
        loss="wgan_gp",
        batch_size=BATCH,
        gradient_penalty=2.5,
        leakage_penalty=10.0,
        grad_clip=None,
        seed=SEED,
    )
    model = GANModel(gen, dec, disc, real, settings)
    twin = tf.random.Generator.from_seed(SEED)
    twin.uniform([BATCH], 0, N_REAL, dtype=tf.int64)  # the discriminator's real batch
    gen.sample_latent(BATCH, twin)  # its latents
    twin.uniform([BATCH, 1])  # the gradient penalty's mixing weights
    g_z = gen.sample_latent(BATCH, twin)
    features, leakage = gen.features_and_leakage((g_z, None))
    g_points = dec(features)

    out = {k: v.numpy() for k, v in model.train_step().items()}

    assert out["g_loss"] == out["g_adversarial"] + out["g_leakage_penalty"]  # exact
    assert out["d_loss"] == out["d_adversarial"] + out["d_gradient_penalty"]  # exact
    mean_leakage = float(np.mean(leakage.numpy()))
    assert mean_leakage > 1e-4  # the check can see the penalty
    np.testing.assert_allclose(out["g_leakage_penalty"], 10.0 * mean_leakage, rtol=gan_tol.rtol)
    g_adversarial = generator_loss("wgan_gp", disc(g_points)).numpy()  # the updated critic
    np.testing.assert_allclose(
        out["g_adversarial"], g_adversarial, rtol=gan_tol.rtol, atol=gan_tol.atol
    )
    assert out["d_gradient_penalty"] > 0


def test_terms_without_penalties_and_over_several_discriminator_updates(parts):
    """Without penalties only the adversarial terms are returned, equal to the totals (with
    ``d_steps`` 2 the discriminator's term is averaged over its updates, as ``d_loss`` is)."""
    gen, dec, disc, real = parts
    settings = TrainStepSettings(batch_size=BATCH, d_steps=2, grad_clip=None, seed=SEED)
    out = {k: float(v) for k, v in GANModel(gen, dec, disc, real, settings).train_step().items()}
    assert set(out) == {
        "d_loss",
        "g_loss",
        "d_adversarial",
        "g_adversarial",
        "leakage",
        "nonfinite",
    }
    assert out["g_loss"] == out["g_adversarial"] and out["d_loss"] == out["d_adversarial"]
