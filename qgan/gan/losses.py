"""GAN losses on discriminator logits (float32 tensors ``[N]``); each returns a scalar.

These are the adversarial terms of the objective; the training step
(:mod:`qgan.gan.model`) adds the penalties (the discriminator's :func:`gradient_penalty`,
the generator's leakage penalty) and logs each term apart from the totals.

* ``non_saturating``: Goodfellow et al. 2014, the generator maximises log D(G(z)).
* ``wgan_gp``: Gulrajani et al. 2017, critic scores, use with a gradient penalty.
* ``hinge``: Lim & Ye 2017 / Miyato et al. 2018.
"""

from __future__ import annotations

import tensorflow as tf

from qgan.gan.names import LOSSES


def discriminator_loss(kind: str, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """The discriminator's adversarial loss of ``kind`` on logits of real and generated
    points (``[N]`` each): a scalar the discriminator minimises."""
    if kind == "non_saturating":
        return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(
            tf.nn.softplus(fake_logits)
        )
    if kind == "wgan_gp":
        return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)
    if kind == "hinge":
        return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(
            tf.nn.relu(1.0 + fake_logits)
        )
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def generator_loss_terms(kind: str, fake_logits: tf.Tensor) -> tf.Tensor:
    """Per-sample generator loss, same shape as ``fake_logits``."""
    if kind == "non_saturating":
        return tf.nn.softplus(-fake_logits)
    if kind in ("wgan_gp", "hinge"):
        return -fake_logits
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def generator_loss(kind: str, fake_logits: tf.Tensor) -> tf.Tensor:
    """The generator's adversarial loss of ``kind``: the mean of
    :func:`generator_loss_terms`, a scalar the generator minimises."""
    return tf.reduce_mean(generator_loss_terms(kind, fake_logits))


def gradient_penalty(discriminator, real: tf.Tensor, fake: tf.Tensor, eps: tf.Tensor):
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` on ``x_hat = eps real + (1-eps) fake``.

    ``eps`` ``[N, 1]`` uniform(0, 1); with packing the norm is taken per packed group.
    """
    mixed = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = discriminator(mixed, training=True)
    grads = tape.gradient(scores, mixed)
    grads = tf.reshape(grads, [tf.shape(scores)[0], -1])
    norms = tf.sqrt(tf.reduce_sum(grads * grads, axis=-1) + 1e-12)
    return tf.reduce_mean((norms - 1.0) ** 2)
