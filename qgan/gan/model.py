"""``GANModel``: generator, decoder and discriminator with the compiled training step and
batched generation; :func:`build_model` assembles one from a config."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from qgan.decoder.spatial import SpatialDecoder
from qgan.gan.config import QUBIT_KEYS, RunConfig
from qgan.gan.discriminator import Discriminator, QubitDiscriminator
from qgan.gan.losses import (
    discriminator_loss,
    generator_loss,
    generator_loss_terms,
    gradient_penalty,
)
from qgan.generator import ClassicalGenerator, CVGenerator
from qgan.generator.inputs import latent_and_noise


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
            loss=g.loss,
            loss_at=g.loss_at,
            quadrature_angles=g.quadrature_angles,
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


@dataclass(frozen=True)
class TrainStepSettings:
    """What the training step needs to know besides its parts.

    ``loss``: a name of :mod:`qgan.gan.losses`; ``batch_size`` (real and generated points
    per update); ``d_steps`` (discriminator updates per step); ``gradient_penalty`` (its
    weight, 0 for none); ``grad_clip`` (global-norm clip, None for none);
    ``leakage_penalty`` (weight of the mean norm leakage in the generator loss);
    ``outcome_gradient`` ("marginal": exact average over the sampled outcome;
    "straight_through"); Adam's learning rates ``lr_generator``, ``lr_decoder``,
    ``lr_discriminator``, ``beta1``, ``beta2``, and ``lr_schedule`` ("constant", or
    "cosine" decay to 0.1 of the rate over ``decay_steps``); ``seed`` of the training RNG.
    """

    loss: str = "non_saturating"
    batch_size: int = 256
    d_steps: int = 1
    gradient_penalty: float = 0.0
    grad_clip: float | None = 10.0
    leakage_penalty: float = 0.0
    outcome_gradient: str = "straight_through"
    lr_generator: float = 0.01
    lr_decoder: float = 0.005
    lr_discriminator: float = 0.002
    beta1: float = 0.5
    beta2: float = 0.999
    lr_schedule: str = "constant"
    decay_steps: int = 1
    seed: int = 0

    @classmethod
    def from_config(cls, cfg: RunConfig) -> TrainStepSettings:
        """The settings of ``cfg`` (sections ``train`` and ``discriminator``, ``seed``)."""
        t = cfg.train
        return cls(
            loss=t.loss,
            batch_size=t.batch_size,
            d_steps=t.d_steps,
            gradient_penalty=cfg.discriminator.gradient_penalty,
            grad_clip=t.grad_clip,
            leakage_penalty=t.leakage_penalty,
            outcome_gradient=t.outcome_gradient,
            lr_generator=t.lr_generator,
            lr_decoder=t.lr_decoder,
            lr_discriminator=t.lr_discriminator,
            beta1=t.beta1,
            beta2=t.beta2,
            lr_schedule=t.lr_schedule,
            decay_steps=t.steps,
            seed=cfg.seed,
        )


def build_model(cfg: RunConfig, real: np.ndarray) -> GANModel:
    """The :class:`GANModel` of ``cfg`` on real data ``real`` ``[n, d]`` (uncalibrated
    decoder: see :meth:`SpatialDecoder.calibrate_to`)."""
    dim = int(np.shape(real)[1])
    generator = build_generator(cfg)
    decoder = SpatialDecoder(
        kind=cfg.decoder.kind,
        output_dim=dim,
        n_features=generator.n_features,
        n_outcomes=generator.n_outcomes if cfg.decoder.kind == "mode_assignment" else 0,
        n_clusters=cfg.decoder.n_clusters,
        hidden=tuple(cfg.decoder.hidden),
        seed=cfg.seed,
    )
    d = cfg.discriminator
    if d.kind == "qubit":
        circuit = {k: getattr(d, k) for k in QUBIT_KEYS}
        discriminator = QubitDiscriminator(dim, pack=d.pack, seed=cfg.seed, **circuit)
    else:
        discriminator = Discriminator(dim, hidden=tuple(d.hidden), pack=d.pack, seed=cfg.seed)
    return GANModel(generator, decoder, discriminator, real, TrainStepSettings.from_config(cfg))


def count_params(variables) -> int:
    return int(sum(np.prod(v.shape) for v in variables))


def no_stages(name: str) -> contextlib.AbstractContextManager:
    """The stage hook of an uninstrumented step: a context that does nothing (and so adds
    no op to a traced graph)."""
    return contextlib.nullcontext()


@dataclass(frozen=True)
class GeneratorPieces:
    """A generator's forward pass in the pieces the training step stages.

    ``encode(z)`` -> circuit arguments; ``simulate(arguments)`` -> result;
    ``features(result, noise)`` -> ``(features, leakage)``; ``outcomes(result, noise)`` ->
    ``(probs, other features, leakage)``.
    """

    encode: Callable
    simulate: Callable
    features: Callable
    outcomes: Callable

    @classmethod
    def of(cls, generator) -> GeneratorPieces:
        """The pieces of a :class:`CVGenerator` (circuit arguments, simulation, readout) or
        of a :class:`ClassicalGenerator`, which is one network: its whole forward pass is
        its readout and the first two pieces pass the latents through."""
        if isinstance(generator, CVGenerator):
            return cls(
                generator.circuit_arguments,
                generator.simulate,
                generator.read_features,
                generator.outcome_distribution_from,
            )
        return cls(
            lambda z: z,
            lambda z: z,
            lambda z, noise: generator.features_and_leakage((z, noise)),
            lambda z, noise: generator.outcome_distribution((z, noise)),
        )


class GANModel:
    """Everything that trains, plus the one compiled step.

    Parts: ``generator`` (:class:`CVGenerator` or :class:`ClassicalGenerator`), ``decoder``
    (:class:`SpatialDecoder`), ``discriminator``, ``real`` data (float32 ``[n, d]``) and
    the step's :class:`TrainStepSettings`.

    ``train_step()`` runs ``d_steps`` discriminator updates and one generator+decoder
    update on batches drawn from ``real`` with the model's own ``tf.random.Generator``
    (checkpointed, so a resumed run draws what the uninterrupted run would have drawn). It
    returns a dict of scalar tensors: the optimised totals ``d_loss`` (the discriminator's
    loss before its update, averaged over its updates) and ``g_loss`` (the generator's, judged
    by the updated discriminator), and their terms, each as added: ``d_adversarial`` and,
    when ``gradient_penalty > 0``, ``d_gradient_penalty``; ``g_adversarial`` and, when
    ``leakage_penalty > 0``, ``g_leakage_penalty`` (so the adversarial losses of runs with
    different penalties compare); ``leakage`` (mean norm leakage of the generator's batch)
    and ``nonfinite`` (1 if any update's gradient was skipped). :meth:`make_train_step`
    builds the same step with a stage hook (a profiler's), around each piece.
    """

    def __init__(self, generator, decoder, discriminator, real, settings: TrainStepSettings):
        s = self.settings = settings
        self.real = tf.constant(np.asarray(real, np.float32))
        self.dim = int(self.real.shape[1])
        self.generator, self.decoder, self.discriminator = generator, decoder, discriminator
        # the generator's weights as built (seeded): :meth:`untrained_generator` puts them back
        self._untrained = [v.numpy() for v in generator.trainable_variables]
        self.rng = tf.random.Generator.from_seed(s.seed)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")

        def adam(lr):
            if s.lr_schedule == "cosine":
                lr = tf.keras.optimizers.schedules.CosineDecay(
                    lr, decay_steps=s.decay_steps, alpha=0.1
                )
            return tf.keras.optimizers.Adam(lr, beta_1=s.beta1, beta_2=s.beta2)

        self.g_opt, self.dec_opt, self.d_opt = (
            adam(s.lr_generator),
            adam(s.lr_decoder),
            adam(s.lr_discriminator),
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
        self.pieces = GeneratorPieces.of(generator)
        self.train_step = self.make_train_step()
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
        return latent_and_noise(self.generator, batch, rng)

    def fake(self, z, noise):
        """Generated points ``[B, d]`` and the per-sample leakage ``[B]``."""
        features, leakage = self.generator.features_and_leakage((z, noise))
        return self.decoder(features), leakage

    def real_batch(self, batch: int):
        index = self.rng.uniform([batch], 0, tf.shape(self.real, tf.int64)[0], dtype=tf.int64)
        return tf.gather(self.real, index)

    @property
    def marginal(self) -> bool:
        """Whether the generator loss averages exactly over the sampled outcome."""
        return self.settings.outcome_gradient == "marginal"

    def _read(self, result, noise) -> tuple:
        """Readout for the generator loss: ``(probs, other features, leakage)`` for the
        marginal loss, else ``(features, leakage)``."""
        if self.marginal:
            return self.pieces.outcomes(result, noise)
        return self.pieces.features(result, noise)

    def _decode(self, read: tuple) -> tf.Tensor:
        """Points of a :meth:`_read`: ``[B, n_outcomes, d]`` (marginal) or ``[B, d]``."""
        if self.marginal:
            return self.decoder.outcome_points(read[1])
        return self.decoder(read[0])

    def _generator_loss_terms(self, points, read: tuple) -> dict[str, tf.Tensor]:
        """The generator loss of decoded ``points`` and their :meth:`_read`, term by term:
        ``{"g_adversarial": ...}`` plus, when ``leakage_penalty > 0``,
        ``"g_leakage_penalty"`` (the weight times the mean leakage, as added). Scalars; their
        sum (:func:`total`) is the loss that is optimised."""
        s = self.settings
        if self.marginal:
            # E_{n ~ p(n|z)} loss(D(x(n, z))): exact average over the measured outcome
            k = tf.shape(points)[1]
            logits = tf.reshape(
                self.discriminator(tf.reshape(points, [-1, self.dim]), training=True), [-1, k]
            )
            terms = generator_loss_terms(s.loss, logits)
            loss = tf.reduce_mean(tf.reduce_sum(tf.cast(read[0], terms.dtype) * terms, axis=-1))
        else:
            loss = generator_loss(s.loss, self.discriminator(points, training=True))
        out = {"g_adversarial": loss}
        if s.leakage_penalty > 0:
            out["g_leakage_penalty"] = s.leakage_penalty * tf.reduce_mean(
                tf.cast(read[-1], loss.dtype)
            )
        return out

    def generator_losses(self, batch: int, rng: tf.random.Generator | None = None):
        """Generator loss (the optimised total) on ``batch`` fresh latents (drawn from
        ``rng``, default the training stream) and the per-sample leakage."""
        z, noise = self.latent_and_noise(batch, self.rng if rng is None else rng)
        p = self.pieces
        read = self._read(p.simulate(p.encode(z)), noise)
        return total(self._generator_loss_terms(self._decode(read), read)), read[-1]

    # ------------------------------------------------------------------ step
    def make_train_step(self, stage: Callable = no_stages):
        """The compiled training step (a ``tf.function`` of no argument), with each piece
        inside ``stage(name)`` for the names of :data:`qgan.profiling.step.STAGES`.

        ``stage``: a context-manager factory such as :meth:`Profiler.stage
        <qgan.profiling.profiler.Profiler.stage>`; the default :func:`no_stages` does
        nothing, so the step's graph holds only the training ops.
        """
        return tf.function(lambda: self._train_step(stage), autograph=False)

    def _train_step(self, stage: Callable):
        s, p = self.settings, self.pieces
        batch = s.batch_size
        # Every random draw of the step, in a fixed order: per discriminator update the real
        # batch, latents, noise (and the penalty's mixing weights); then the generator's.
        with stage("latent sampling"):
            d_draws = []
            for _ in range(s.d_steps):
                real = self.real_batch(batch)
                z, noise = self.latent_and_noise(batch, self.rng)
                eps = self.rng.uniform([batch, 1]) if s.gradient_penalty > 0 else None
                d_draws.append((real, z, noise, eps))
            g_z, g_noise = self.latent_and_noise(batch, self.rng)
        # The generator's forward passes for the discriminator updates (fake batches) and for
        # its own update need only the generator's and decoder's weights, which no
        # discriminator update changes: they may run side by side, and each stage holds all
        # of them. Only the generator's own pass is taped for its gradient.
        g_tape = tf.GradientTape()
        with g_tape:
            with stage("encoding"):
                with g_tape.stop_recording():
                    d_args = [p.encode(z) for _, z, _, _ in d_draws]
                g_args = p.encode(g_z)
            with stage("circuit simulation"):
                with g_tape.stop_recording():
                    d_results = [p.simulate(a) for a in d_args]
                g_result = p.simulate(g_args)
            with stage("readout"):
                with g_tape.stop_recording():
                    d_features = [
                        p.features(r, noise)[0]
                        for r, (_, _, noise, _) in zip(d_results, d_draws, strict=True)
                    ]
                g_read = self._read(g_result, g_noise)
            with stage("decoder"):
                with g_tape.stop_recording():
                    fakes = [tf.stop_gradient(self.decoder(f)) for f in d_features]
                g_points = self._decode(g_read)
            with g_tape.stop_recording():
                d_terms, d_ok = [], []
                for draws, fake in zip(d_draws, fakes, strict=True):
                    terms, ok = self._discriminator_update(*draws, fake, stage)
                    d_terms.append(terms)
                    d_ok.append(ok)
            with stage("discriminator forward"):  # the updated discriminator
                g_terms = self._generator_loss_terms(g_points, g_read)
                g_loss = total(g_terms)
        variables = self.g_vars + self.dec_vars
        with stage("backward pass"):
            grads = g_tape.gradient(g_loss, variables)
        with stage("optimizer update"):
            grads, g_ok = guard_gradients(grads, variables, s.grad_clip)
            n_g = len(self.g_vars)
            self.g_opt.apply_gradients(zip(grads[:n_g], self.g_vars, strict=True))
            self.dec_opt.apply_gradients(zip(grads[n_g:], self.dec_vars, strict=True))
            self.step.assign_add(1)
        n_d = len(d_terms)
        return {
            "d_loss": tf.add_n([total(t) for t in d_terms]) / n_d,
            "g_loss": g_loss,
            # the terms of the totals, each as added (the discriminator's averaged over its
            # updates, as d_loss is)
            **{key: tf.add_n([t[key] for t in d_terms]) / n_d for key in d_terms[0]},
            **g_terms,
            "leakage": tf.reduce_mean(tf.cast(g_read[-1], tf.float32)),
            # any update of the step whose gradient the guard found non-finite (and skipped)
            "nonfinite": tf.cast(tf.logical_not(tf.reduce_all(tf.stack([*d_ok, g_ok]))), tf.int32),
        }

    def _discriminator_update(self, real, z, noise, eps, fake, stage: Callable):
        """One discriminator update on ``real`` and ``fake`` points ``[B, d]`` (``eps``
        ``[B, 1]``: the gradient penalty's mixing weights). Returns ``(terms, finite)``:
        ``terms`` ``{"d_adversarial": ...}`` plus, when ``gradient_penalty > 0``,
        ``"d_gradient_penalty"`` (weighted, as added); the loss is their :func:`total`."""
        s = self.settings
        with tf.GradientTape() as tape:
            with stage("discriminator forward"):
                terms = {
                    "d_adversarial": discriminator_loss(
                        s.loss,
                        self.discriminator(real, training=True),
                        self.discriminator(fake, training=True),
                    )
                }
                if s.gradient_penalty > 0:
                    terms["d_gradient_penalty"] = s.gradient_penalty * gradient_penalty(
                        self.discriminator, real, fake, eps
                    )
                loss = total(terms)
        with stage("backward pass"):
            grads = tape.gradient(loss, self.d_vars)
        with stage("optimizer update"):
            grads, ok = guard_gradients(grads, self.d_vars, s.grad_clip)
            self.d_opt.apply_gradients(zip(grads, self.d_vars, strict=True))
        return terms, ok

    # ------------------------------------------------------------------ evaluation
    def _generate_batch(self, z, noise):
        return self.fake(z, noise)

    @contextlib.contextmanager
    def untrained_generator(self):
        """Within the block, the generator's trainable weights are the ones it was built
        with (before any training; the same for a resumed or reloaded run of the same
        config); the decoder and discriminator keep theirs. The trained weights are put
        back on leaving, whatever happens inside. For ablations: what training the
        generator adds to a result."""
        variables = list(self.generator.trainable_variables)
        trained = [v.numpy() for v in variables]
        try:
            for v, value in zip(variables, self._untrained, strict=True):
                v.assign(value)
            yield self
        finally:
            for v, value in zip(variables, trained, strict=True):
                v.assign(value)

    def generate(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` generated points ``[n, d]`` and their leakage ``[n]`` (NumPy), seeded.

        Drawn in chunks of the training batch size, so no new trace is needed.
        """
        rng = tf.random.Generator.from_seed(seed)
        batch = self.settings.batch_size
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
        each gate argument of a CV generator counts as one variable (for ``gradient_flow``):
        ``(gradients, names)``, aligned, one entry per variable or gate argument."""
        with tf.GradientTape() as tape:
            # its own latent stream: evaluating must not change what training draws next
            rng = tf.random.Generator.from_seed(seed)
            g_loss, _ = self.generator_losses(self.settings.batch_size, rng)
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


def total(terms: dict) -> tf.Tensor:
    """The loss made of its ``terms`` (a dict of scalars, in order): their sum, added left
    to right, so that the logged terms add up to the logged total exactly."""
    values = list(terms.values())
    loss = values[0]
    for value in values[1:]:
        loss = loss + value
    return loss


def guard_gradients(grads, variables, clip):
    """Replace missing gradients by zeros, zero everything if any entry is not finite
    (the update is then skipped in effect), and clip by global norm."""
    grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)]
    ok = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
    grads = [tf.where(ok, g, tf.zeros_like(g)) for g in grads]
    if clip is not None:
        grads, _ = tf.clip_by_global_norm(grads, clip)
    return grads, ok
