"""``CVGenerator``: a CV quantum circuit as a Keras model from latent vectors to features."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from qgan._validate import check_choice, check_int
from qgan.generator.circuit import ENCODINGS, LOSS_AT, cv_layer_program, mode_losses
from qgan.generator.inputs import NoiseStreamSaving
from qgan.generator.readout import (
    READOUTS,
    STOCHASTIC,
    ReadoutSpec,
    outcome_probabilities,
    read,
)
from qgan.photonic import simulate

BACKENDS = ("compiled", "sf")
PHASE_SENSITIVE = ("quadratures", "homodyne")  # readouts that depend on Fock-basis phases
LATENTS = ("normal", "uniform")


@tf.keras.utils.register_keras_serializable(package="qgan")
class CVGenerator(NoiseStreamSaving, tf.keras.Model):
    r"""Latent ``z`` ``[B, latent_dim]`` -> circuit -> readout features ``[B, n_features]``.

    .. math::

        f(z) = R\big(U_L(\theta) \cdots U_1(\theta)\, E_{d-1}(s z_{d-1}) \cdots
        E_0(s z_0)\, |0\rangle^{\otimes m},\; u\big)

    with ``E_i`` the encoding gate of latent ``i`` (``s = encoding_scale``), ``U_l`` the
    CV neural-network layers with gate arguments ``theta``, ``R`` the readout and ``u``
    its noise (hbar = 2).

    >>> import tensorflow as tf
    >>> gen = CVGenerator(n_modes=1, n_layers=0, cutoff=20, readout=("mean_photon",),
    ...                   encoding_scale=1.0, dtype=tf.complex128)
    >>> z = tf.constant([[0.5], [-1.0]], tf.float64)  # coherent states D(z)|0>: <n> = z^2
    >>> gen(z).numpy().round(8)
    array([[0.25],
           [1.  ]])

    The circuit (``.program``, an SF Program; ``.circuit`` with the parameter roles) is
    ``latent_dim`` encoding gates followed by ``n_layers`` CV neural-network layers
    (Killoran et al. 2019) on ``n_modes`` modes; it is simulated by
    :func:`qgan.photonic.simulate` at Fock cutoff ``cutoff`` on ``backend`` ("compiled",
    or "sf" for SF's own tf backend, eager only). Trainable weights are the gate arguments
    (one vector variable, ``.weights_vector``). Encoding gate ``i`` receives
    ``encoding_scale * z[:, i]``.

    ``readout`` lists feature blocks in order (see :mod:`qgan.generator.readout`):
    ``quadratures`` (<x>, <p> per mode), ``mean_photon``, ``photon_marginals``,
    ``fock_probs``, ``photon_samples`` (relaxed one-hot joint photon-number outcome of
    ``sample_modes``) and ``homodyne`` (x samples per mode). Stochastic readouts use
    ``noise`` ``[B, n_noise]`` uniform variates: pass ``(z, noise)`` to control it, or
    ``z`` alone and the model's seeded ``tf.random.Generator`` draws it.

    ``loss``: photon loss, a fraction in [0, 1) for every mode or a list of one per mode:
    ``LossChannel(1 - loss)`` on each lossy mode, after the last layer (``loss_at
    "measurement"``, the default), after every layer (``"layers"``) or both (see
    :func:`~qgan.generator.circuit.cv_layer_program`). A lossy circuit is a mixed state; loss
    0 (the default) adds no operation, so the lossless program and its numbers are unchanged.

    ``quadrature_angles``: one angle ``phi`` per mode (radians, default 0): ``quadratures``
    reads ``<x_phi>`` and ``<x_{phi + pi/2}>`` and ``homodyne`` samples ``x_phi = x cos(phi)
    + p sin(phi)`` of each mode (so 0 gives x and p, pi/2 gives p and -x).

    ``final_kerr``: whether the last layer keeps its Kerr gates. Default: only if a
    phase-sensitive readout (``quadratures``, ``homodyne``) is read, since Kerr gates are
    diagonal in the Fock basis and no photon-number statistic depends on the last ones
    (they would be parameters with an identically zero gradient).

    ``init_std``: gate arguments start N(0, init_std^2), drawn from ``seed`` (which also seeds
    the readout noise stream, as ``seed + 1``). ``dtype``: ``tf.complex64`` or
    ``tf.complex128`` (or their names), the circuit's dtype; its real counterpart (float32
    or float64) is the layer's dtype policy, the dtype of ``z``, the weights and the
    features. Other keyword arguments (``name``, ``trainable``) go to ``tf.keras.Model``.

    **Serialisation.** A registered Keras class (``"qgan>CVGenerator"``): ``get_config``
    holds every constructor argument, so ``model.save("g.keras")`` and
    ``tf.keras.models.load_model("g.keras")`` (after importing this module, e.g. ``from
    qgan.generator import CVGenerator``) rebuild the same circuit with the same weights and
    the readout-noise stream's state: the reloaded model gives identical features, alone, in
    a ``tf.keras.Sequential`` or in a functional model. ``tf.train.Checkpoint`` over the
    model tracks ``weights_vector`` and ``noise_rng`` as before.

    **Mixed precision.** The circuit keeps its complex dtype under any global policy
    (``mixed_float16`` included): the generator pins its own policy to its real dtype, so
    its weights, its computation and its features stay float32 (complex64) or float64
    (complex128); a following layer that computes in float16 casts them itself.

    **Gate arguments.** ``weights_vector`` (one variable ``gate_arguments``, kept whole for
    checkpoints) holds the gate arguments in program order; :attr:`gate_argument_names`
    names each entry and :meth:`summary` ends with a table of them by gate kind.
    """

    def __init__(
        self,
        n_modes: int = 4,
        n_layers: int = 2,
        cutoff: int = 4,
        latent_dim: int | None = None,
        encoding: str = "displacement",
        readout=("quadratures",),
        *,
        encoding_scale: float = 0.5,
        sample_modes=None,
        temperature: float = 0.5,
        straight_through: bool = True,
        backend: str = "compiled",
        dtype=tf.complex64,
        init_std: float = 0.1,
        final_kerr: bool | None = None,
        latent: str = "normal",
        loss=0.0,
        loss_at: str = "measurement",
        quadrature_angles=None,
        seed: int = 0,
        name: str = "cv_generator",
        **kwargs,
    ):
        try:
            complex_dtype = tf.as_dtype(dtype)
        except TypeError:
            complex_dtype = None
        if complex_dtype not in (tf.complex64, tf.complex128):
            raise ValueError(f"dtype must be tf.complex64 or tf.complex128, got {dtype!r}")
        real = tf.float64 if complex_dtype == tf.complex128 else tf.float32
        # Keras casts floating inputs of __call__ to the layer's compute dtype: make it the
        # circuit's real dtype, so a complex128 generator does not round z to float32.
        kwargs.pop("dtype", None)  # the base config's policy: ``dtype`` above sets it
        super().__init__(name=name, dtype=real.name, **kwargs)
        latent_dim = n_modes if latent_dim is None else latent_dim
        readout = (readout,) if isinstance(readout, str) else tuple(readout)
        check_int(n_modes, "n_modes", 1)
        check_int(n_layers, "n_layers", 0)
        check_int(cutoff, "cutoff", 2)
        check_int(latent_dim, "latent_dim", 1)
        check_choice(encoding, "encoding", ENCODINGS)
        check_choice(backend, "backend", BACKENDS)
        check_choice(latent, "latent", LATENTS)
        check_choice(loss_at, "loss_at", LOSS_AT)
        losses = mode_losses(loss, n_modes)
        angles = (0.0,) * n_modes if quadrature_angles is None else quadrature_angles
        if (
            isinstance(angles, (int, float))
            or len(angles) != n_modes
            or any(
                isinstance(a, bool) or not isinstance(a, (int, float)) or not np.isfinite(a)
                for a in angles
            )
        ):
            raise ValueError(
                f"quadrature_angles must be {n_modes} finite angles in radians (one per "
                f"mode), got {quadrature_angles!r}"
            )
        if (
            not readout
            or any(r not in READOUTS for r in readout)
            or len(set(readout)) < len(readout)
        ):
            raise ValueError(f"readout must be distinct names from {READOUTS}, got {list(readout)}")
        sample_modes = tuple(range(n_modes)) if sample_modes is None else tuple(sample_modes)
        if not sample_modes or any(
            isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 0 <= m < n_modes
            for m in sample_modes
        ):
            raise ValueError(f"sample_modes must be modes in [0, {n_modes}), got {sample_modes}")
        if len(set(sample_modes)) < len(sample_modes):
            raise ValueError(f"sample_modes must be distinct, got {sample_modes}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.n_modes, self.n_layers, self.cutoff = n_modes, n_layers, cutoff
        self.latent_dim, self.encoding, self.backend = latent_dim, encoding, backend
        self.encoding_scale, self.latent = float(encoding_scale), latent
        self.init_std, self.seed = float(init_std), int(seed)
        self.complex_dtype = complex_dtype
        if final_kerr is None:  # only phase-sensitive readouts can see the last Kerr gates
            final_kerr = any(r in PHASE_SENSITIVE for r in readout)
        self.final_kerr = bool(final_kerr)
        self.loss, self.loss_at = losses, loss_at
        self.circuit = cv_layer_program(
            n_modes, n_layers, latent_dim, encoding, self.final_kerr, losses, loss_at
        )
        self.program = self.circuit.program
        self.spec = ReadoutSpec(
            names=readout,
            n_modes=n_modes,
            cutoff=cutoff,
            sample_modes=sample_modes,
            temperature=float(temperature),
            straight_through=bool(straight_through),
            quadrature_angles=tuple(float(a) for a in angles),
        )
        init = np.random.default_rng(seed).normal(0.0, init_std, len(self.circuit.weight_names))
        self.weights_vector = self.add_weight(
            shape=(len(init),),
            initializer=tf.keras.initializers.Constant(init),
            dtype=real,
            name="gate_arguments",
        )
        self.noise_rng = tf.random.Generator.from_seed(seed + 1)
        self.built = True  # every weight exists: no build step (and none on reloading)

    @property
    def n_features(self) -> int:
        return self.spec.n_features

    @property
    def n_noise(self) -> int:
        return self.spec.n_noise

    @property
    def n_outcomes(self) -> int:
        """Width of the leading assignment block a ``mode_assignment`` decoder reads.

        ``photon_samples`` first: one column per joint photon-number outcome; ``mean_photon``
        first: one column per mode (anchors per mode, weighted by photon number); otherwise 0.
        """
        first = self.spec.names[0]
        return self.spec.width(first) if first in ("photon_samples", "mean_photon") else 0

    @property
    def samples_outcomes(self) -> bool:
        """Whether the features start with a sampled outcome (readout ``photon_samples``
        first), whose exact distribution :meth:`outcome_distribution` gives."""
        return self.spec.names[0] == "photon_samples"

    @property
    def stochastic(self) -> bool:
        return any(n in STOCHASTIC for n in self.spec.names)

    def sample_latent(self, batch_size: int, rng: tf.random.Generator) -> tf.Tensor:
        """Latent vectors ``[batch_size, latent_dim]``: N(0, 1) or U(-1, 1) per component."""
        shape = [batch_size, self.latent_dim]
        if self.latent == "normal":
            return rng.normal(shape, dtype=self.weights_vector.dtype)
        return rng.uniform(shape, -1.0, 1.0, dtype=self.weights_vector.dtype)

    def circuit_arguments(self, z: tf.Tensor) -> dict[str, tf.Tensor]:
        """The values of ``self.program``'s free parameters for latent batch ``z``.

        The one definition of the binding: encoding parameter ``i`` (name
        ``self.circuit.latent_names[i]``) gets ``encoding_scale * z[:, i]``, a ``[B]`` tensor;
        each weight name gets its scalar entry of ``weights_vector`` (``[]``). ``z``
        ``[B, latent_dim]`` is cast to the circuit's real dtype (float32 for complex64,
        float64 for complex128), which all returned tensors have.
        """
        z = tf.cast(z, self.weights_vector.dtype)
        args = {n: self.encoding_scale * z[:, i] for i, n in enumerate(self.circuit.latent_names)}
        weights = tf.unstack(self.weights_vector)
        args.update(zip(self.circuit.weight_names, weights, strict=True))
        return args

    def simulate(self, args: dict[str, tf.Tensor]):
        """The circuit run on bound free parameters ``args`` (from :meth:`circuit_arguments`):
        a batched ``FockResult`` (kets ``[B] + [cutoff] * n_modes``, ``complex_dtype``)."""
        batch = args[self.circuit.latent_names[0]].shape[0]
        return simulate(
            self.program,
            self.cutoff,
            args=args,
            batch_size=batch if isinstance(batch, int) else None,
            backend=self.backend,
            dtype=self.complex_dtype,
        )

    def state(self, z: tf.Tensor):
        """The simulated circuit for latent batch ``z``: a batched ``FockResult``."""
        return self.simulate(self.circuit_arguments(z))

    def read_features(self, result, noise) -> tuple[tf.Tensor, tf.Tensor]:
        """``(features [B, n_features], leakage [B])`` of a simulated batch ``result`` with
        readout noise ``noise`` ``[B, n_noise]`` (None when ``n_noise`` is 0)."""
        return read(result, self.spec, noise), result.leakage()

    def outcome_distribution_from(self, result, noise) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """:meth:`outcome_distribution` of a simulated batch ``result``: ``(probs
        [B, n_outcomes], other features [B, n_features - n_outcomes], leakage [B])``.
        ``noise`` ``[B, n_noise]`` as for :meth:`read_features`; the columns the sampled
        outcome would have consumed are skipped."""
        if not self.samples_outcomes:
            raise ValueError("outcome_distribution needs readout to start with photon_samples")
        rest = dataclasses.replace(self.spec, names=self.spec.names[1:])
        probs = outcome_probabilities(result, self.spec.sample_modes)
        skip = self.spec.noise_width("photon_samples")
        others = (
            read(result, rest, None if noise is None else noise[:, skip:])
            if rest.names
            else tf.zeros([tf.shape(probs)[0], 0], probs.dtype)
        )
        return probs, others, result.leakage()

    def _inputs(self, inputs) -> tuple[tf.Tensor, tf.Tensor | None]:
        """``(z, noise)`` from ``z`` or ``(z, noise)``, checked; missing noise is drawn from
        the model's own stream."""
        z, noise = inputs if isinstance(inputs, (tuple, list)) else (inputs, None)
        z = tf.convert_to_tensor(z)
        if z.shape.rank != 2 or (z.shape[1] is not None and z.shape[1] != self.latent_dim):
            raise ValueError(f"z must have shape [batch, {self.latent_dim}], got {z.shape}")
        if noise is None and self.n_noise:
            noise = self.noise_rng.uniform(
                [tf.shape(z)[0], self.n_noise], dtype=self.weights_vector.dtype
            )
        elif noise is not None:
            noise = tf.convert_to_tensor(noise)
            if noise.shape.rank != 2 or noise.shape[1] not in (None, self.n_noise):
                raise ValueError(
                    f"noise must have shape [batch, {self.n_noise}], got {noise.shape}"
                )
        return z, noise

    def features_and_leakage(self, inputs) -> tuple[tf.Tensor, tf.Tensor]:
        """``(features [B, n_features], leakage [B])`` for ``z`` or ``(z, noise)``."""
        z, noise = self._inputs(inputs)
        return self.read_features(self.state(z), noise)

    def outcome_distribution(self, inputs) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Exact Born probabilities of the leading ``photon_samples`` outcomes instead of a
        sample: ``(probs [B, n_outcomes], other features [B, n_features - n_outcomes],
        leakage [B])``. Lets a loss average over outcomes exactly rather than through a
        relaxed sample."""
        if not self.samples_outcomes:
            raise ValueError("outcome_distribution needs readout to start with photon_samples")
        z, noise = self._inputs(inputs)
        return self.outcome_distribution_from(self.state(z), noise)

    def call(self, inputs, training=None):
        return self.features_and_leakage(inputs)[0]

    def get_config(self) -> dict:
        """Every constructor argument (JSON types; ``dtype`` as its name, ``complex64`` or
        ``complex128``), plus Keras' ``name`` and ``trainable``."""
        config = super().get_config()
        config.update(
            n_modes=self.n_modes,
            n_layers=self.n_layers,
            cutoff=self.cutoff,
            latent_dim=self.latent_dim,
            encoding=self.encoding,
            readout=list(self.spec.names),
            encoding_scale=self.encoding_scale,
            sample_modes=[int(m) for m in self.spec.sample_modes],
            temperature=self.spec.temperature,
            straight_through=self.spec.straight_through,
            backend=self.backend,
            dtype=self.complex_dtype.name,
            init_std=self.init_std,
            final_kerr=self.final_kerr,
            latent=self.latent,
            loss=list(self.loss),
            loss_at=self.loss_at,
            quadrature_angles=list(self.spec.quadrature_angles),
            seed=self.seed,
        )
        return config

    @property
    def gate_argument_names(self) -> tuple[str, ...]:
        """One readable name per entry of ``weights_vector``, in order, e.g.
        ``layer0.interferometer1.BS0.theta`` (see
        :class:`~qgan.generator.circuit.GeneratorCircuit`'s ``weight_labels``)."""
        return self.circuit.weight_labels

    def gate_argument_table(self) -> list[tuple[str, int, int]]:
        """``(gate kind, gates, arguments)`` per SF gate class with trainable arguments, in
        order of first appearance; the encoding gates (latent-driven) are not counted."""
        rows: dict[str, list[int]] = {}
        seen: set[str] = set()
        for label, gate in zip(self.circuit.weight_labels, self.circuit.weight_gates, strict=True):
            row = rows.setdefault(gate, [0, 0])
            row[1] += 1
            owner = label.rsplit(".", 1)[0]
            if owner not in seen:
                seen.add(owner)
                row[0] += 1
        return [(gate, n_gates, n_args) for gate, (n_gates, n_args) in rows.items()]

    def summary(self, *args, print_fn=None, **kwargs) -> None:
        """Keras' summary, then the gate arguments inside ``gate_arguments``: gates and
        arguments per gate kind, then every argument's name with its index (``print_fn``
        as in Keras; default ``print``)."""
        super().summary(*args, print_fn=print_fn, **kwargs)
        emit = print_fn or print
        lines = [f"gate_arguments ({len(self.gate_argument_names)} entries) by gate kind:"]
        lines.append(f"  {'gate':<8}{'gates':>6}{'arguments':>11}")
        for gate, n_gates, n_args in self.gate_argument_table():
            lines.append(f"  {gate:<8}{n_gates:>6}{n_args:>11}")
        lines.append("gate_arguments entries:")
        lines += [f"  [{i}] {name}" for i, name in enumerate(self.gate_argument_names)]
        for line in lines:
            emit(line)
