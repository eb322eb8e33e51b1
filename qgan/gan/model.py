"""``GANModel``: generator, decoder and discriminator built from a config, with the
compiled training step and batched generation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from qgan.decoder.spatial import SpatialDecoder
from qgan.gan.config import RunConfig
from qgan.gan.discriminator import Discriminator
from qgan.gan.losses import (
    discriminator_loss,
    generator_loss,
    generator_loss_terms,
    gradient_penalty,
)
from qgan.generator import ClassicalGenerator, CVGenerator


def build_generator(cfg: RunConfig):
    """The generator a config asks for: :class:`CVGenerator` or :class:`ClassicalGenerator`."""
    g = cfg.generator
    if g.kind == "cv":
        return CVGenerator(
            n_modes=g.n_modes,
            n_layers=g.n_layers,
            cutoff=g.cutoff,
            latent_dim=g.latent_dim,
            encoding=g.encoding,
            readout=tuple(g.readout),
            encoding_scale=g.encoding_scale,
            sample_modes=None if g.sample_modes is None else tuple(g.sample_modes),
            temperature=g.temperature,
            straight_through=g.straight_through,
            backend=g.backend,
            dtype=tf.complex64 if g.dtype == "complex64" else tf.complex128,
            init_std=g.init_std,
            latent=g.latent,
            seed=cfg.seed,
        )
    return ClassicalGenerator(
        latent_dim=g.latent_dim,
        hidden=tuple(g.hidden),
        n_outcomes=g.n_outcomes,
        n_continuous=g.n_continuous,
        temperature=g.temperature,
        straight_through=g.straight_through,
        latent=g.latent,
        seed=cfg.seed,
    )


def count_params(variables) -> int:
    return int(sum(np.prod(v.shape) for v in variables))


class GANModel:
    """Everything that trains, plus the one compiled step.

    ``train_step()`` runs ``d_steps`` discriminator updates and one generator+decoder
    update on batches drawn from ``real`` (float32 ``[n, d]``) with the model's own
    ``tf.random.Generator`` (checkpointed, so a resumed run draws what the uninterrupted
    run would have drawn). It returns a dict of scalar tensors.
    """

    def __init__(self, cfg: RunConfig, real: np.ndarray):
        self.cfg = cfg
        t = cfg.train
        self.real = tf.constant(np.asarray(real, np.float32))
        self.dim = int(self.real.shape[1])
        self.generator = build_generator(cfg)
        n_outcomes = getattr(self.generator, "n_outcomes", 0)
        self.decoder = SpatialDecoder(
            kind=cfg.decoder.kind,
            output_dim=self.dim,
            n_features=self.generator.n_features,
            n_outcomes=n_outcomes if cfg.decoder.kind == "mode_assignment" else 0,
            n_clusters=cfg.decoder.n_clusters,
            hidden=tuple(cfg.decoder.hidden),
            seed=cfg.seed,
        )
        self.discriminator = Discriminator(
            self.dim,
            hidden=tuple(cfg.discriminator.hidden),
            pack=cfg.discriminator.pack,
            seed=cfg.seed,
        )
        self.rng = tf.random.Generator.from_seed(cfg.seed)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")

        def adam(lr):
            if t.lr_schedule == "cosine":
                lr = tf.keras.optimizers.schedules.CosineDecay(lr, decay_steps=t.steps, alpha=0.1)
            return tf.keras.optimizers.Adam(lr, beta_1=t.beta1, beta_2=t.beta2)

        self.g_opt, self.dec_opt, self.d_opt = (
            adam(t.lr_generator),
            adam(t.lr_decoder),
            adam(t.lr_discriminator),
        )
        self.g_vars = list(self.generator.trainable_variables)
        self.dec_vars = list(self.decoder.trainable_variables)
        self.d_vars = list(self.discriminator.trainable_variables)
        self.g_opt.build(self.g_vars)
        self.dec_opt.build(self.dec_vars)
        self.d_opt.build(self.d_vars)
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator,
            decoder=self.decoder,
            discriminator=self.discriminator,
            g_opt=self.g_opt,
            dec_opt=self.dec_opt,
            d_opt=self.d_opt,
            rng=self.rng,
            step=self.step,
        )
        self.weights_checkpoint = tf.train.Checkpoint(
            generator=self.generator, decoder=self.decoder, discriminator=self.discriminator
        )
        self.train_step = tf.function(self._train_step)
        self._generate = tf.function(self._generate_batch)

    @property
    def n_params(self) -> dict:
        return {
            "generator": count_params(self.g_vars),
            "decoder": count_params(self.dec_vars),
            "discriminator": count_params(self.d_vars),
        }

    # ------------------------------------------------------------------ pieces
    def latent_and_noise(self, batch: int, rng: tf.random.Generator):
        """Latent ``[batch, latent_dim]`` and readout noise ``[batch, n_noise]`` (or None)."""
        z = self.generator.sample_latent(batch, rng)
        noise = rng.uniform([batch, self.generator.n_noise]) if self.generator.n_noise else None
        return z, noise

    def fake(self, z, noise):
        """Generated points ``[B, d]`` and the per-sample leakage ``[B]``."""
        features, leakage = self.generator.features_and_leakage((z, noise))
        return self.decoder(features), leakage

    def real_batch(self, batch: int):
        index = self.rng.uniform([batch], 0, tf.shape(self.real, tf.int64)[0], dtype=tf.int64)
        return tf.gather(self.real, index)

    def generator_losses(self, batch: int, rng: tf.random.Generator | None = None):
        """Generator loss on ``batch`` fresh latents (drawn from ``rng``, default the
        training stream) and the per-sample leakage."""
        z, noise = self.latent_and_noise(batch, self.rng if rng is None else rng)
        kind = self.cfg.train.loss
        if self.cfg.train.outcome_gradient == "marginal":
            # E_{n ~ p(n|z)} loss(D(x(n, z))): exact average over the measured outcome
            probs, rest, leakage = self.generator.outcome_distribution((z, noise))
            points = self.decoder.outcome_points(rest)
            k = tf.shape(points)[1]
            logits = tf.reshape(
                self.discriminator(tf.reshape(points, [-1, self.dim]), training=True), [-1, k]
            )
            terms = generator_loss_terms(kind, logits)
            loss = tf.reduce_mean(tf.reduce_sum(tf.cast(probs, terms.dtype) * terms, axis=-1))
        else:
            fake, leakage = self.fake(z, noise)
            loss = generator_loss(kind, self.discriminator(fake, training=True))
        penalty = self.cfg.train.leakage_penalty
        if penalty > 0:
            loss += penalty * tf.reduce_mean(tf.cast(leakage, loss.dtype))
        return loss, leakage

    # ------------------------------------------------------------------ step
    def _train_step(self):
        t = self.cfg.train
        batch = t.batch_size
        gp_weight = self.cfg.discriminator.gradient_penalty
        d_losses = []
        for _ in range(t.d_steps):
            real = self.real_batch(batch)
            z, noise = self.latent_and_noise(batch, self.rng)
            fake, _ = self.fake(z, noise)
            fake = tf.stop_gradient(fake)
            with tf.GradientTape() as tape:
                d_loss = discriminator_loss(
                    t.loss,
                    self.discriminator(real, training=True),
                    self.discriminator(fake, training=True),
                )
                if gp_weight > 0:
                    eps = self.rng.uniform([batch, 1])
                    d_loss += gp_weight * gradient_penalty(self.discriminator, real, fake, eps)
            grads = tape.gradient(d_loss, self.d_vars)
            grads, d_ok = guard_gradients(grads, self.d_vars, t.grad_clip)
            self.d_opt.apply_gradients(zip(grads, self.d_vars, strict=True))
            d_losses.append(d_loss)
        with tf.GradientTape() as tape:
            g_loss, leakage = self.generator_losses(batch)
        grads = tape.gradient(g_loss, self.g_vars + self.dec_vars)
        grads, g_ok = guard_gradients(grads, self.g_vars + self.dec_vars, t.grad_clip)
        n_g = len(self.g_vars)
        self.g_opt.apply_gradients(zip(grads[:n_g], self.g_vars, strict=True))
        self.dec_opt.apply_gradients(zip(grads[n_g:], self.dec_vars, strict=True))
        self.step.assign_add(1)
        return {
            "d_loss": tf.add_n(d_losses) / len(d_losses),
            "g_loss": g_loss,
            "leakage": tf.reduce_mean(tf.cast(leakage, tf.float32)),
            "nonfinite": tf.cast(tf.logical_not(tf.logical_and(d_ok, g_ok)), tf.int32),
        }

    # ------------------------------------------------------------------ evaluation
    def _generate_batch(self, z, noise):
        return self.fake(z, noise)

    def generate(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` generated points ``[n, d]`` and their leakage ``[n]`` (NumPy), seeded.

        Drawn in chunks of the training batch size, so no new trace is needed.
        """
        rng = tf.random.Generator.from_seed(seed)
        batch = self.cfg.train.batch_size
        points, leaks = [], []
        for _ in range(-(-n // batch)):
            z, noise = self.latent_and_noise(batch, rng)
            if noise is None:
                noise = tf.zeros([batch, 0])
            p, leak = self._generate(z, noise)
            points.append(p.numpy())
            leaks.append(np.asarray(leak))
        return np.concatenate(points)[:n], np.concatenate(leaks)[:n]

    def gradient_entries(self, seed: int = 0) -> tuple[list, list]:
        """Generator + decoder gradients of the generator loss on one batch, split so that
        each gate argument of a CV generator counts as one variable (for ``gradient_flow``)."""
        with tf.GradientTape() as tape:
            # its own latent stream: evaluating must not change what training draws next
            rng = tf.random.Generator.from_seed(seed)
            g_loss, _ = self.generator_losses(self.cfg.train.batch_size, rng)
        variables = self.g_vars + self.dec_vars
        grads = tape.gradient(g_loss, variables)
        entries, names = [], []
        for var, grad in zip(variables, grads, strict=True):
            if isinstance(self.generator, CVGenerator) and var is self.generator.weights_vector:
                values = [None] * var.shape[0] if grad is None else list(grad.numpy())
                entries += values
                names += list(self.generator.circuit.weight_names)
            else:
                entries.append(None if grad is None else grad.numpy())
                names.append(var.name)
        return entries, names


def guard_gradients(grads, variables, clip):
    """Replace missing gradients by zeros, zero everything if any entry is not finite
    (the update is then skipped in effect), and clip by global norm."""
    grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)]
    ok = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
    grads = [tf.where(ok, g, tf.zeros_like(g)) for g in grads]
    if clip is not None:
        grads, _ = tf.clip_by_global_norm(grads, clip)
    return grads, ok
