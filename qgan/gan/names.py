"""Names of the GAN losses and data kinds, importable without TensorFlow (config
validation uses them; :mod:`qgan.gan.losses` and :mod:`qgan.gan.data` define them)."""

LOSSES = ("non_saturating", "wgan_gp", "hinge")
DATA_KINDS = ("gaussian_mixture", "bimodal", "ring8", "grid25", "moons", "file")
