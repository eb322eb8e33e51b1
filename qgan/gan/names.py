"""Names of the GAN losses, importable without TensorFlow (config validation uses them;
:mod:`qgan.gan.losses` defines them)."""

LOSSES = ("non_saturating", "wgan_gp", "hinge")
