"""``SpatialDecoder``: generator features -> points in data space, vectorised over the batch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from qgan._validate import check_choice
from qgan.decoder.calibration import balanced_assignment, kmeans_anchors
from qgan.decoder.names import KINDS
from qgan.generator.inputs import latent_and_noise

PROBE_SAMPLES = 2048  # latents whose generator features calibrate the decoder


@tf.keras.utils.register_keras_serializable(package="qgan")
class SpatialDecoder(tf.keras.layers.Layer):
    r"""Maps features ``[B, F]`` to points ``[B, output_dim]``, one matmul per block.

    .. math::

        x = f W + b \quad (\text{affine}), \qquad
        x = \frac{w}{\sum_j w_j} A + f_{\text{rest}} W \quad (\text{mode\_assignment})

    with ``w`` the first ``n_outcomes`` feature columns, ``A`` the anchors
    ``[n_outcomes, output_dim]`` and ``f_rest`` the other columns.

    >>> import numpy as np
    >>> dec = SpatialDecoder("affine", output_dim=2, n_features=3)
    >>> info = dec.calibrate(np.array([[0.0, 1.0], [2.0, 3.0]]))  # bias: the data mean
    >>> dec(np.zeros((1, 3), np.float32)).numpy()
    array([[1., 2.]], dtype=float32)

    Kinds:
      * ``affine``: ``x = f W + b``.
      * ``mode_assignment``: the first ``n_outcomes`` feature columns are assignment weights
        over anchors (a one-hot photon-number outcome, or non-negative weights per mode,
        normalised to sum 1); each anchor is a trainable point calibrated from the real data
        (it starts at one of ``n_clusters`` k-means centres, see :meth:`calibrate`); the
        remaining columns give a within-anchor offset ``f_rest W`` (no bias).
        ``x = w A + f_rest W``. The trainable parameters are ``A``'s shift from its
        calibrated origin and ``W``, both in units of the data's within-cluster spread.
      * ``mlp``: a classical MLP (``hidden`` widths, tanh) -- for ablations only.

    Call :meth:`calibrate` with real data (and a sample of generator features) before
    training: it sets anchors/bias and scales the offset so the initial spread matches the
    data's. Everything it sets is a variable (``mode_assignment``'s anchor origin and unit
    are non-trainable ones), so checkpoints and ``.keras`` files carry the calibration.

    ``n_features``: build now for that feature width (else on first call). ``seed`` draws
    the initial weights. Other keyword arguments (``name``, ``trainable``, ``dtype``) go to
    ``tf.keras.layers.Layer``.

    **Serialisation.** A registered Keras class (``"qgan>SpatialDecoder"``); ``get_config``
    holds every constructor argument (``n_features`` once built), so a calibrated decoder
    saved alone, in a ``tf.keras.Sequential`` or in a functional model reloads with
    ``tf.keras.models.load_model`` (after importing this module) and decodes identically.

    **Mixed precision.** The decoder follows its dtype policy like ``Dense``: weights in
    the variable dtype (float32 under ``mixed_float16``), features cast to the compute dtype
    (float16 under ``mixed_float16``) and the output in that dtype. The default policy
    ``float32`` gives float32 points; pass ``dtype="float32"`` to pin it under a global
    mixed policy. :meth:`calibrate` and :meth:`outcome_points` compute in the variable dtype.

    >>> from qgan.decoder import SpatialDecoder
    >>> import tensorflow as tf
    >>> dec = SpatialDecoder("affine", output_dim=2, n_features=3, dtype="mixed_float16")
    >>> dec(tf.ones((1, 3))).dtype, dec.kernel.dtype
    (tf.float16, 'float32')
    """

    def __init__(
        self,
        kind: str = "affine",
        output_dim: int = 2,
        n_features: int | None = None,
        n_outcomes: int = 0,
        n_clusters: int | None = None,
        hidden=(32, 32),
        seed: int = 0,
        name: str = "spatial_decoder",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        check_choice(kind, "kind", KINDS)
        if kind == "mode_assignment" and n_outcomes < 1:
            raise ValueError("kind 'mode_assignment' needs n_outcomes >= 1 assignment columns")
        self.kind, self.output_dim, self.n_outcomes = kind, int(output_dim), int(n_outcomes)
        self.n_clusters = n_clusters
        self._seed = seed
        self._hidden = tuple(hidden)
        self.n_features = None  # set by build
        if n_features is not None:
            self.build((None, n_features))

    def build(self, input_shape):
        n_features = int(input_shape[-1])
        self.n_features = n_features
        rng = np.random.default_rng(self._seed)
        d = self.output_dim
        if self.kind == "affine":
            self._kernel = self._weight(
                "kernel", rng.normal(0, 1 / np.sqrt(n_features), (n_features, d))
            )
            self.bias = self._weight("bias", np.zeros(d))
        elif self.kind == "mode_assignment":
            n_rest = n_features - self.n_outcomes
            if n_rest < 0:
                raise ValueError(
                    f"n_outcomes {self.n_outcomes} exceeds the feature width {n_features}"
                )
            # Trainable parameters are in units of the data's within-cluster spread
            # (``unit``, set by calibrate): Adam's step is a fixed size in parameter space,
            # so this makes one learning rate fit a ring of std 0.01 and a mixture of std 0.3.
            self.unit = self._weight("unit", 1.0, trainable=False)
            self.anchor_origin = self._weight(
                "anchor_origin", rng.normal(0, 1, (self.n_outcomes, d)), trainable=False
            )
            self.anchor_shift = self._weight("anchor_shift", np.zeros((self.n_outcomes, d)))
            self.offset_kernel = self._weight(
                "offset_kernel", rng.normal(0, 0.1 / np.sqrt(max(n_rest, 1)), (n_rest, d))
            )
        else:
            self.layers_ = []
            width = n_features
            for i, w in enumerate((*self._hidden, d)):
                kernel = self._weight(f"kernel{i}", rng.normal(0, np.sqrt(1 / width), (width, w)))
                bias = self._weight(f"bias{i}", np.zeros(w))
                self.layers_.append((kernel, bias))
                # attributes too: tf.train.Checkpoint does not see into Keras' tracked lists
                setattr(self, f"kernel{i}", kernel)
                setattr(self, f"bias{i}", bias)
                width = w
        super().build(input_shape)

    def _weight(self, name, value, trainable: bool = True):
        value = np.asarray(value, dtype=np.float32)
        return self.add_weight(
            shape=value.shape,
            initializer=tf.keras.initializers.Constant(value),
            dtype=self.variable_dtype,
            name=name,
            trainable=trainable,
        )

    @property
    def anchors(self) -> tf.Tensor:
        """``mode_assignment``: anchor points ``[n_outcomes, output_dim]`` (origin + shift)."""
        return self.anchor_origin + self.unit * self.anchor_shift

    @property
    def kernel(self) -> tf.Tensor:
        """``affine``: ``[F, output_dim]``; ``mode_assignment``: the offset kernel
        ``[F - n_outcomes, output_dim]`` in data units."""
        if self.kind == "mode_assignment":
            return self.unit * self.offset_kernel
        return self._kernel

    def get_config(self) -> dict:
        """Every constructor argument (``n_features`` as built, None before) plus Keras'
        ``name``, ``trainable`` and ``dtype`` (policy)."""
        config = super().get_config()
        config.update(
            kind=self.kind,
            output_dim=self.output_dim,
            n_features=self.n_features,
            n_outcomes=self.n_outcomes,
            n_clusters=self.n_clusters,
            hidden=list(self._hidden),
            seed=self._seed,
        )
        return config

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.output_dim)

    def call(self, features):
        # variables read inside the call are cast to the compute dtype by Keras' autocast
        return self._decode(tf.cast(features, self.compute_dtype))

    def _decode(self, f: tf.Tensor) -> tf.Tensor:
        """The kind's formula on features ``f`` ``[B, F]``, in ``f``'s dtype (the compute
        dtype inside :meth:`call`; the variable dtype when called directly)."""
        if self.kind == "affine":
            return f @ self.kernel + self.bias
        if self.kind == "mode_assignment":
            w = f[:, : self.n_outcomes]
            floor = max(1e-12, float(np.finfo(f.dtype.as_numpy_dtype).tiny))  # float16: 6e-5
            total = tf.reduce_sum(tf.stop_gradient(w), axis=-1, keepdims=True)
            w = w / tf.maximum(total, tf.cast(floor, w.dtype))
            return w @ self.anchors + f[:, self.n_outcomes :] @ self.kernel
        h = f
        for i, (kernel, bias) in enumerate(self.layers_):
            h = h @ kernel + bias
            if i < len(self.layers_) - 1:
                h = tf.tanh(h)
        return h

    def outcome_points(self, rest: tf.Tensor) -> tf.Tensor:
        """``mode_assignment`` only: the point each outcome would decode to, given the other
        features ``rest`` ``[B, F - n_outcomes]``: ``[B, n_outcomes, output_dim]``."""
        if self.kind != "mode_assignment":
            raise ValueError(f"outcome_points needs kind 'mode_assignment', not {self.kind!r}")
        offset = tf.cast(rest, self.variable_dtype) @ self.kernel
        return self.anchors[None, :, :] + offset[:, None, :]

    def calibrate_to(self, generator, real: np.ndarray, seed: int = 0) -> dict:
        """:meth:`calibrate` on real data ``real`` ``[n, output_dim]`` and the features of
        ``generator`` on :data:`PROBE_SAMPLES` probe latents (and readout noise) drawn from a
        ``tf.random.Generator`` seeded ``seed + 1``, apart from every training stream.

        A ``mode_assignment`` decoder of a generator that samples outcomes gets the exact
        outcome probabilities (``generator.outcome_distribution``) in place of one sampled
        outcome per latent: it deals outcomes to clusters by their mass, so it is given
        the mass itself. Returns :meth:`calibrate`'s dict.
        """
        rng = tf.random.Generator.from_seed(seed + 1)
        z, noise = latent_and_noise(generator, PROBE_SAMPLES, rng)
        if self.kind == "mode_assignment" and generator.samples_outcomes:
            probs, rest, _ = generator.outcome_distribution((z, noise))
            features = tf.concat([tf.cast(probs, rest.dtype), rest], axis=-1)
        else:
            features, _ = generator.features_and_leakage((z, noise))
        return self.calibrate(real, features.numpy(), seed=seed)

    def calibrate(self, real: np.ndarray, features: np.ndarray | None = None, seed: int = 0):
        """Fit the decoder's starting point to real data ``[n, output_dim]``.

        ``mode_assignment``: k-means (``n_clusters`` centres, k-means++ with restarts) gives
        the anchors. Without ``features``, outcome ``j`` starts at centre ``j mod n_clusters``;
        with ``features`` (a sample of generator outputs ``[m, F]``), outcomes are dealt to
        centres so that each centre starts with the share of the generator's assignment mass
        that its cluster has of the data (:func:`balanced_assignment`), and the offset kernel
        is rescaled so each output axis starts with the data's within-cluster spread.
        ``affine``/``mlp``: the output bias is set to the data mean and, with ``features``,
        the last kernel is rescaled to the data's spread. Returns a dict of what was set.
        """
        real = np.asarray(real, dtype=np.float64)
        if real.ndim != 2 or real.shape[1] != self.output_dim:
            raise ValueError(f"real must be [n, {self.output_dim}], got shape {real.shape}")
        if features is not None and not self.built:
            self.build((None, np.shape(features)[1]))
        if not self.built:
            raise ValueError("calibrate needs features (or a built decoder) to know its width")
        info: dict = {}
        if self.kind == "mode_assignment":
            k = self.n_clusters or self.n_outcomes
            centres, labels, within = kmeans_anchors(real, k, seed=seed)
            cluster_mass = np.bincount(labels, minlength=k) / len(labels)
            if features is None:
                owner = np.arange(self.n_outcomes) % k
            else:
                weights = np.asarray(features, np.float64)[:, : self.n_outcomes]
                weights = weights / np.maximum(weights.sum(-1, keepdims=True), 1e-12)
                owner = balanced_assignment(weights.mean(0), cluster_mass)
            kernel = self.kernel.numpy()  # in data units, kept across the change of unit
            unit = within if within > 0 else 1.0  # identical points: no spread to scale by
            self.unit.assign(np.float32(unit))
            self.anchor_origin.assign(centres[owner].astype(np.float32))
            self.anchor_shift.assign(np.zeros(self.anchor_shift.shape, np.float32))
            self.offset_kernel.assign((kernel / unit).astype(np.float32))
            info.update(
                n_clusters=k,
                within_std=within,
                centres=centres.tolist(),
                cluster_mass=cluster_mass.tolist(),
                outcome_owner=owner.tolist(),
            )
            if features is not None and self.kernel.shape[0]:
                rest = np.asarray(features, np.float64)[:, self.n_outcomes :]
                spread = (rest - rest.mean(0)) @ self.kernel.numpy()
                scale = within / np.maximum(spread.std(0), 1e-9)
                self.offset_kernel.assign((self.offset_kernel.numpy() * scale).astype(np.float32))
            return info
        kernel, bias = (self._kernel, self.bias) if self.kind == "affine" else self.layers_[-1]
        mean, std = real.mean(0), real.std(0)
        bias.assign(mean.astype(np.float32))
        if features is not None:
            # in the variable dtype (float32) whatever the policy's compute dtype
            out = self._decode(tf.constant(features, self.variable_dtype)).numpy() - bias.numpy()
            scale = std / np.maximum(out.std(0), 1e-9)
            kernel.assign((kernel.numpy() * scale).astype(np.float32))
            bias.assign((mean - out.mean(0) * scale).astype(np.float32))
        info.update(mean=mean.tolist(), std=std.tolist())
        return info
