"""``QubitLayer``: a qubit circuit as a Keras layer, features in, readouts out.

The layer's input row is the feature vector x of a ``QubitModel`` circuit, its output row
the readouts (<Z_q> per qubit, parity, ...), its one trainable weight ``params`` the
circuit's angles (``[n_params]``, shared by all rows).

Where it runs (``backend``) and how it is differentiated (``gradient``):

* ``backend="simulator"``: all in TF, in the caller's ``tf.function`` (no Python per call).
  ``autodiff`` backpropagates through the simulated state (exact, fastest);
  ``parameter_shift`` / ``spsa`` run their in-graph versions through ``tf.custom_gradient``
  (what hardware would compute, on the simulator). With ``shots`` the readouts (and the
  shifted ones) are sampled in-graph with a stateless RNG seeded by (``seed``, call count).
* an :class:`~qgan.qubit.backends.ExpectationBackend` instance, or ``"ionq"``
  (``IonQBackend(target=target, seed=seed)``): circuits run in Python through
  ``tf.numpy_function``, the gradient by the method's Python-side version (all shifted
  circuits of a batch in one backend call). ``cache=True`` (or a ``ResultCache``) puts a
  :class:`~qgan.qubit.cache.CachedBackend` in front. A ``SimulatorBackend`` instance with
  ``autodiff`` runs in-graph, as ``"simulator"``.

Re-uploading options (``reupload`` encoding only; Bowles, Ahmed and Schuld 2024 found
trainable input scaling decisive for re-uploading models):

* ``feature_groups=g`` (1 to ``depth``): different features in different layers: the input
  row has ``g * n_qubits`` features in g groups of n_qubits, and layer l re-uploads group
  ``l mod g`` (feature ``(l mod g) * n_qubits + q`` enters ``RY`` on qubit q at the start of
  layer l). g = 1 is plain re-uploading; g = depth gives every layer its own features (an
  8-qubit, depth-4 circuit then reads 32 features);
* ``input_scaling="feature"``: every input feature times its own trainable weight
  (``input_scale``, initial value 1) before it is encoded; ``"feature_layer"``: one weight
  per feature and layer (the same feature enters layer l as ``w_lq x_q``).

Where the layers get different angles (``feature_groups`` > 1 or ``feature_layer``), the
circuit that runs is the ``angle``-encoded twin with per-row angles: layer 0's encoding
angles are its features and layer l's are added to ``theta_lq`` (``RY(a) RY(theta) =
RY(a + theta)``), so every gradient method (autodiff, parameter shift, SPSA) applies
unchanged and the same circuits run; the scaling is classical pre-processing in TF,
differentiated by the chain rule through the circuit's gradients (no extra circuit).

Computation dtype: the layer's (``float32`` by default: ``complex64`` simulation;
``dtype="float64"``: ``complex128``). Amplitude encoding passes no gradient to its inputs
with ``parameter_shift`` / ``spsa`` (there is no shift rule for amplitudes).

SPSA's step k counts the layer's gradient evaluations; with the count of forward calls
(the shot seeds) it is the non-trainable int64 weight ``counters``, saved with the model,
so a resumed run continues the gain sequence and draws. ``learning_rate_schedule()``
gives Spall's a_k for the optimizer from the same ``spsa`` gains.

Measurement bases (``bases``, see :class:`~qgan.qubit.model.QubitModel`): X, Y or Z per
qubit, and multi-basis readouts (several settings, readouts concatenated). The simulator
computes every setting from one state, but the account counts what hardware runs: one
circuit per setting, so a forward evaluation costs ``n_settings`` circuits per sample and
parameter shift ``2 * n_params * n_settings``. Python-side backends (and sampled shots)
run each setting's circuits separately; the gradient is the sum of the settings'.

``account`` counts the circuits every call asked for (evaluation calls included; a cache
in front answers some of them: ``cache.misses`` is what actually ran); ``autodiff``
computes its gradient without circuits.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import tensorflow as tf

from qgan._validate import check_choice, check_int
from qgan.qubit.backends import (
    ExpectationBackend,
    SimulatorBackend,
    check_shots,
    simulated_readouts,
)
from qgan.qubit.cache import CachedBackend, ResultCache
from qgan.qubit.defaults import (
    BASES,
    DEPTH,
    ENCODING,
    ENTANGLER,
    MEASUREMENT,
    N_QUBITS,
    STRUCTURE_DEFAULTS,
    TOPOLOGY,
)
from qgan.qubit.gradients import (
    METHODS,
    CircuitAccount,
    SPSALearningRate,
    check_spsa_gains,
    expectations,
    parameter_shift,
    parameter_shift_tf,
    rademacher,
    spsa,
    spsa_tf,
)
from qgan.qubit.model import QubitModel, normalize_bases, structure_of
from qgan.qubit.simulator import expectation_values

INPUT_SCALINGS = ("none", "feature", "feature_layer")
QASM_PRECISION = 17  # significant digits: a float64 angle survives the text round trip
_FIELDS = ("evaluations", "samples", "circuits", "shots")


@tf.keras.utils.register_keras_serializable(package="qgan")
class QubitLayer(tf.keras.layers.Layer):
    """A ``QubitModel`` circuit as a Keras layer: [B, n_features] -> [B, n_outputs].

    Args:
        model: the circuit structure; or give ``n_qubits``, ``depth`` and the structure
            keywords (defaults from :mod:`qgan.qubit.defaults`, as ``QubitModel``'s:
            8 qubits, depth 4, re-uploading encoding, CNOT ring, <Z_q> readout).
        bases: basis settings measured (``QubitModel.bases``): e.g. ``"ZXY.."`` (one
            letter per qubit), ``("Z", "X")`` (two settings, readouts concatenated); default
            Z on every qubit.
        gradient: ``autodiff`` (simulator only, exact shots only), ``parameter_shift`` or
            ``spsa``.
        shots: None (exact expectations) or measurements per circuit.
        backend: ``"simulator"`` (in-graph), ``"ionq"`` or an ExpectationBackend instance.
        target: IonQ target (``backend="ionq"`` only), e.g. ``"simulator"``, ``"qpu.aria-1"``.
        spsa: SPSA gains overriding ``qgan.qubit.gradients.SPSA_DEFAULTS`` (a, A, alpha,
            c, gamma); c and gamma set the perturbation, a, A and alpha the schedule of
            :meth:`learning_rate_schedule`.
        cache: False, True (a new ``ResultCache``) or a ``ResultCache`` to share; needs a
            Python-side backend.
        seed: initial angles (uniform in [-pi, pi)) and all random draws.
        feature_groups: g in [1, depth] (``reupload`` encoding for g > 1): input rows of
            g * n_qubits features, layer l reads group l mod g (1: the same features in
            every layer).
        input_scaling: ``none``, ``feature`` (a trainable weight per input feature) or
            ``feature_layer`` (``reupload`` encoding: a weight per feature and layer).
        **kwargs: ``tf.keras.layers.Layer`` arguments (``name``, ``dtype``, ...).
    """

    def __init__(
        self,
        model: QubitModel | None = None,
        *,
        n_qubits=N_QUBITS,
        depth=DEPTH,
        encoding=ENCODING,
        entangler=ENTANGLER,
        topology=TOPOLOGY,
        measurement=MEASUREMENT,
        bases=BASES,
        gradient="autodiff",
        shots=None,
        backend="simulator",
        target=None,
        spsa=None,
        cache=False,
        seed=0,
        feature_groups=1,
        input_scaling="none",
        **kwargs,
    ):
        structure = {
            "n_qubits": n_qubits,
            "depth": depth,
            "encoding": encoding,
            "entangler": entangler,
            "topology": topology,
            "measurement": measurement,
            "bases": bases,
        }
        self.circuit_model = _resolve_model(model, structure)
        check_int(feature_groups, "feature_groups", 1, self.circuit_model.depth)
        check_choice(input_scaling, "input_scaling", INPUT_SCALINGS)
        self.feature_groups, self.input_scaling = int(feature_groups), input_scaling
        self._per_layer = _per_layer_angles(self.circuit_model, feature_groups, input_scaling)
        # the circuit that runs: the model, or its angle-encoded twin with per-row angles
        self._run_model = (
            replace(self.circuit_model, encoding="angle") if self._per_layer else self.circuit_model
        )
        check_choice(gradient, "gradient", METHODS)
        check_int(seed, "seed", 0)
        if backend == "ionq" and gradient == "autodiff":
            raise ValueError(
                "gradient: 'autodiff' needs the TF simulator; backend 'ionq' runs hardware "
                "circuits: use 'parameter_shift' or 'spsa'"
            )
        if backend == "ionq" and shots is None:
            raise ValueError("shots: backend 'ionq' measures; give shots (an integer >= 1)")
        super().__init__(**kwargs)
        self.gradient = gradient
        self.shots = check_shots(shots)
        self.seed = int(seed)
        self.target = target
        self.spsa_gains = check_spsa_gains(spsa)
        self.backend, self.in_graph = _resolve_backend(backend, target, self.seed, gradient)
        self._backend_name = backend if isinstance(backend, str) else backend.name
        if gradient == "autodiff":
            if self.shots is not None:
                raise ValueError(
                    f"shots: gradient 'autodiff' needs exact expectations (shots=None), got "
                    f"shots={self.shots}; use 'parameter_shift' or 'spsa' with shots"
                )
            if not self.in_graph:
                raise ValueError(
                    f"gradient: 'autodiff' needs the TF simulator, backend "
                    f"{self._backend_name!r} has supports_autodiff=False; use "
                    "'parameter_shift' or 'spsa'"
                )
        self.cache = _resolve_cache(cache, self.in_graph)
        if self.cache is not None:
            self.backend = CachedBackend(self.backend, self.cache)
        # XLA compiles neither tf.numpy_function nor a bincount of a dynamic size (shots)
        self.supports_jit = self.in_graph and self.shots is None
        self._account = CircuitAccount()  # Python-side paths record here
        m = self.circuit_model
        init = np.random.default_rng(self.seed).uniform(-np.pi, np.pi, m.n_params)
        self.input_scale = None
        if input_scaling != "none":
            width = m.n_qubits * m.depth if input_scaling == "feature_layer" else self.n_inputs
            self.input_scale = self.add_weight(
                name="input_scale", shape=(width,), initializer="ones", trainable=True
            )
        self.params = self.add_weight(
            name="params",
            shape=(m.n_params,),
            initializer=tf.keras.initializers.Constant(init),
            trainable=True,
        )
        # [forward evaluations, SPSA gradient evaluations]: seeds of the in-graph draws
        self.counters = self.add_weight(
            name="counters", shape=(2,), dtype="int64", initializer="zeros", trainable=False
        )
        # in-graph account: rows forward / gradient of [evaluations, samples, circuits, shots]
        self._tally = tf.Variable(tf.zeros([2, 4], tf.int64), trainable=False, name="tally")

    # ------------------------------------------------------------------ Keras
    def build(self, input_shape):
        shape = tf.TensorShape(input_shape)
        m = self.circuit_model
        if shape.rank != 2 or shape[-1] != self.n_inputs:
            raise ValueError(
                f"inputs must have shape [B, {self.n_inputs}] ({self.n_inputs} features for "
                f"{m.encoding} encoding on {m.n_qubits} qubits{self._uploads_text}), got "
                f"{shape.as_list()}"
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (tf.TensorShape(input_shape)[0], self.circuit_model.n_outputs)

    def __call__(self, inputs, *args, **kwargs):
        # eager calls with concrete inputs: a one-line error before Keras wraps the call
        concrete = isinstance(inputs, (np.ndarray, list)) or hasattr(inputs, "numpy")
        if concrete and tf.executing_eagerly() and not tf.inside_function():
            self._check_inputs(inputs, "inputs")
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        rdt = tf.float64 if self.compute_dtype == "float64" else tf.float32
        dtype = tf.complex128 if rdt == tf.float64 else tf.complex64
        x, p = self._circuit_inputs(
            tf.cast(inputs, rdt), tf.cast(tf.convert_to_tensor(self.params), rdt)
        )
        rows = tf.cast(tf.shape(x)[0], tf.int64)
        if self.in_graph and self.gradient == "autodiff":  # the fast path: no counters
            y = expectation_values(self._run_model, x, p, dtype=dtype)
        else:
            calls = tf.convert_to_tensor(self.counters)[0]  # seeds this call's draws
            self.counters.assign_add(tf.constant([1, 0], tf.int64))
            if self.in_graph:
                y = self._graph_path(x, p, calls, dtype)
            else:
                y = self._python_path(x, p, rdt)
        if self.in_graph:  # hardware runs one circuit per basis setting
            self._count(0, rows, rows * self.circuit_model.n_settings)
        return tf.cast(y, self.compute_dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            **structure_of(self.circuit_model),
            gradient=self.gradient,
            shots=self.shots,
            backend=self._backend_name,  # an instance is stored by its name
            target=self.target,
            spsa=dict(self.spsa_gains),
            cache=self.cache is not None,
            seed=self.seed,
            feature_groups=self.feature_groups,
            input_scaling=self.input_scaling,
        )
        return config

    # ------------------------------------------------------------------ public
    @property
    def n_inputs(self) -> int:
        """Width of an input row: the model's ``n_features`` times ``feature_groups``."""
        return self.circuit_model.n_features * self.feature_groups

    @property
    def model(self) -> QubitModel:
        """The circuit structure (``QubitModel``)."""
        return self.circuit_model

    def to_cirq(self, features, measure: bool = False, setting: int = 0):
        """The circuit of ``features`` with the layer's current angles bound, in Cirq.

        Args:
            features: [n_features] (one input row) or [B, n_features] float (array or
                tensor), the layer's inputs.
            measure: append ``cirq.measure(*qubits, key="z")`` (what hardware runs).
            setting: the basis setting (index into the model's ``bases``) whose basis change
                ends the circuit; a multi-basis readout runs one circuit per setting.

        Returns:
            a ``cirq.Circuit`` on ``cirq.LineQubit.range(n_qubits)`` (qubit 0 the most
            significant bit, as in Cirq) for [n_features], a list of B circuits for
            [B, n_features]. Its final state from |0...0> is the state this layer's
            readouts are taken from (see :meth:`QubitModel.to_cirq`).
        """
        m = self.circuit_model
        x = features.numpy() if hasattr(features, "numpy") else np.asarray(features)
        params = self.params.numpy().astype(np.float64)
        if x.ndim == 1 and self.input_scaling == "none" and not self._per_layer:
            return m.to_cirq(x, params, measure=measure, setting=setting)
        rows = self._check_inputs(x[None, :] if x.ndim == 1 else x, "features")
        xc, pc = self._circuit_inputs(tf.constant(rows), tf.constant(params))
        xc, pc = xc.numpy(), np.broadcast_to(pc.numpy(), (len(rows), m.n_params))
        run = self._run_model
        circuits = [
            run.to_cirq(xc[i], pc[i], measure=measure, setting=setting) for i in range(len(rows))
        ]
        return circuits[0] if x.ndim == 1 else circuits

    def to_qasm(self, features, measure: bool = True, setting: int = 0):
        """:meth:`to_cirq` as OpenQASM 2.0 text (``cirq.Circuit.to_qasm``; angles written
        with 17 significant digits, so the text parses back to the same float64 unitary up to
        a global phase, which QASM does not carry). One string for [n_features], a list for
        [B, n_features]; ``measure`` (default True) appends the measurement of every qubit.
        """
        circuits = self.to_cirq(features, measure=measure, setting=setting)
        if isinstance(circuits, list):
            return [c.to_qasm(precision=QASM_PRECISION) for c in circuits]
        return circuits.to_qasm(precision=QASM_PRECISION)

    @property
    def account(self) -> CircuitAccount:
        """Circuits and shots this layer ran so far (a snapshot), by phase and method."""
        snapshot = CircuitAccount()
        for key, row in self._account.as_dict().items():
            phase, method = key.split("/")
            snapshot.add(phase, method, [row[f] for f in _FIELDS])
        tally = self._tally.numpy()
        method = self.gradient
        for i, phase in enumerate(("forward", "gradient")):
            if tally[i, 0]:
                snapshot.add(phase, method, tally[i])
        return snapshot

    def reset_account(self) -> None:
        """Zero the circuit account (not the counters or the cache)."""
        self._account.reset()
        self._tally.assign(tf.zeros([2, 4], tf.int64))

    @property
    def spsa_step(self) -> int:
        """k: SPSA gradient evaluations so far (the next one uses c_k with this k)."""
        return int(self.counters.numpy()[1])

    def learning_rate_schedule(self) -> SPSALearningRate:
        """Spall's a_k = a / (k + 1 + A)**alpha from this layer's ``spsa`` gains."""
        g = self.spsa_gains
        return SPSALearningRate(g["a"], g["A"], g["alpha"])

    # ------------------------------------------------------------------ paths
    @property
    def _uploads_text(self) -> str:
        g = self.feature_groups
        return f", {g} groups of features re-uploaded in turn" * (g > 1)

    def _check_inputs(self, x, name: str) -> np.ndarray:
        """Inputs as float64 [B, n_inputs]; a one-line ValueError naming ``name``."""
        if self.feature_groups == 1:
            return self.circuit_model.check_features(x, name)
        x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(
                f"{name} must have shape [N, {self.n_inputs}] ({self.n_inputs} features for "
                f"reupload encoding on {self.circuit_model.n_qubits} qubits"
                f"{self._uploads_text}), got {list(x.shape)}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or infinite values")
        return x

    def _circuit_inputs(self, x, p):
        """(features, params) of the circuit that runs, from inputs [B, n_inputs] and the
        angles [n_params]: scaled inputs, and for per-layer angles the angle-encoded twin's
        layer-0 features and per-row angles [B, n_params] (layer l's encoding angles added
        to its theta_lq)."""
        m = self.circuit_model
        if not self._per_layer:
            if self.input_scale is not None:
                x = x * tf.cast(tf.convert_to_tensor(self.input_scale), x.dtype)
            return x, p
        g = self.feature_groups
        scale = None
        if self.input_scale is not None:
            scale = tf.cast(tf.convert_to_tensor(self.input_scale), x.dtype)
        if self.input_scaling == "feature":
            x = x * scale
        groups = tf.reshape(x, [-1, g, m.n_qubits])
        angles = tf.gather(groups, [layer % g for layer in range(m.depth)], axis=1)  # [B, L, n]
        if self.input_scaling == "feature_layer":
            angles = angles * tf.reshape(scale, [m.depth, m.n_qubits])
        later = tf.concat([tf.zeros_like(angles[:, :1]), angles[:, 1:]], axis=1)
        offsets = tf.stack([later, tf.zeros_like(later)], axis=-1)  # (theta, phi) slots
        return angles[:, 0], p[None, :] + tf.reshape(offsets, [-1, m.n_params])

    def _count(self, phase: int, samples, circuits) -> None:
        shots = 0 if self.shots is None else self.shots
        row = tf.stack([tf.ones_like(samples), samples, circuits, circuits * shots])
        self._tally.assign_add(tf.one_hot(phase, 2, dtype=tf.int64)[:, None] * row[None])

    def _spsa_step(self):
        k = tf.convert_to_tensor(self.counters)[1]
        self.counters.assign_add(tf.constant([0, 1], tf.int64))
        return k

    def _graph_path(self, x, p, calls, dtype):
        model, shots, method = self._run_model, self.shots, self.gradient
        key = tf.stack([tf.constant(self.seed, tf.int64), calls])
        fold = tf.random.experimental.stateless_fold_in
        gains = self.spsa_gains
        # sampled shots: one outcome distribution per setting, drawn separately (exact
        # expectations of every setting come from one simulation)
        parts = _setting_parts(model) if shots is not None else [(model, 0, model.n_outputs)]
        n_settings = model.n_settings

        def seed(stream: int, k: int):
            return fold(key, stream) if len(parts) == 1 else fold(fold(key, stream), k)

        @tf.custom_gradient
        def run(x, p):
            ys = [
                simulated_readouts(m, x, p, shots, seed(0, k), dtype)
                for k, (m, _, _) in enumerate(parts)
            ]
            y = ys[0] if len(ys) == 1 else tf.concat(ys, axis=1)

            def grad(dy):
                rows = tf.cast(tf.shape(x)[0], tf.int64)
                step = self._spsa_step() if method == "spsa" else None  # one Delta for all
                gx, gp = 0.0, 0.0
                for k, (m, lo, hi) in enumerate(parts):
                    if method == "parameter_shift":
                        g = parameter_shift_tf(
                            m, x, p, dy[:, lo:hi], shots=shots, seed=seed(1, k), dtype=dtype
                        )
                    else:
                        g = spsa_tf(
                            m, x, p, dy[:, lo:hi], step=step, c=gains["c"],
                            gamma=gains["gamma"], seed=self.seed, shots=shots,
                            sample_seed=seed(1, k), dtype=dtype,
                        )  # fmt: skip
                    gx, gp = _add(gx, g.features), _add(gp, g.params)
                per_setting = 2 * model.n_params if method == "parameter_shift" else 2
                self._count(1, rows, rows * per_setting * n_settings)
                return (None if isinstance(gx, float) else gx), gp

            return y, grad

        return run(x, p)

    def _python_path(self, x, p, rdt):
        model, n_out = self._run_model, self._run_model.n_outputs
        parts = _setting_parts(model)  # backends run one basis setting's circuits at a time

        def forward(x_np, p_np):
            ys = [
                expectations(
                    self.backend,
                    m,
                    x_np,
                    p_np,
                    self.shots,
                    method=self.gradient,
                    account=self._account,
                )  # fmt: skip
                for m, _, _ in parts
            ]
            return ys[0] if len(ys) == 1 else np.concatenate(ys, axis=1)

        def gradient(x_np, p_np, dy_np, delta_np, k_np):
            gx = np.zeros_like(x_np, np.float64)
            gp = np.zeros(np.shape(p_np), np.float64)
            for m, lo, hi in parts:
                if self.gradient == "parameter_shift":
                    g = parameter_shift(
                        self.backend, m, x_np, p_np, dy_np[:, lo:hi], self.shots,
                        account=self._account,
                    )  # fmt: skip
                else:
                    g = spsa(
                        self.backend, m, x_np, p_np, dy_np[:, lo:hi], self.shots,
                        step=int(k_np), c=self.spsa_gains["c"], gamma=self.spsa_gains["gamma"],
                        delta=delta_np, account=self._account,
                    )  # fmt: skip
                if g.features is not None:
                    gx = gx + g.features
                gp = gp + np.asarray(g.params, np.float64)
            return gx.astype(np.float64), gp

        @tf.custom_gradient
        def run(x, p):
            y = tf.numpy_function(forward, [x, p], tf.float64, stateful=True)
            y = tf.reshape(y, [tf.shape(x)[0], n_out])

            def grad(dy):
                if self.gradient == "spsa":
                    k = self._spsa_step()
                    delta = rademacher(self.seed, k, model.n_params, tf.float64)
                else:
                    k, delta = tf.constant(0, tf.int64), tf.zeros([model.n_params], tf.float64)
                gx, gp = tf.numpy_function(
                    gradient,
                    [x, p, tf.cast(dy, tf.float64), delta, k],
                    [tf.float64, tf.float64],
                    stateful=True,
                )
                gx = tf.reshape(tf.cast(gx, rdt), tf.shape(x))
                gx = None if model.encoding == "amplitude" else gx  # no shift rule for them
                return gx, tf.reshape(tf.cast(gp, rdt), tf.shape(p))

            return tf.cast(y, rdt), grad

        return run(x, p)


# ------------------------------------------------------------------------------ helpers


def _per_layer_angles(model: QubitModel, feature_groups: int, input_scaling: str) -> bool:
    """Whether layers get different encoding angles (several feature groups, or a weight per
    feature and layer); both need ``reupload`` encoding."""
    if feature_groups > 1 or input_scaling == "feature_layer":
        if model.encoding != "reupload":
            key = "feature_groups" if feature_groups > 1 else "input_scaling"
            value = feature_groups if feature_groups > 1 else input_scaling
            raise ValueError(
                f"{key}: {value!r} needs encoding 'reupload' (the features enter every "
                f"layer), got encoding {model.encoding!r}"
            )
        return True
    if input_scaling == "feature" and model.encoding == "amplitude":
        raise ValueError(
            "input_scaling: amplitude encoding normalises its features, so a weight per "
            "feature is not an input scaling; use 'none'"
        )
    return False


def _setting_parts(model: QubitModel) -> list[tuple[QubitModel, int, int]]:
    """(single-setting model, first readout column, end column) per basis setting."""
    if model.n_settings == 1:
        return [(model, 0, model.n_outputs)]
    m = model.outputs_per_setting
    return [(one, k * m, (k + 1) * m) for k, one in enumerate(model.settings())]


def _add(total, term):
    """``total + term`` where ``term`` may be None (no feature gradient)."""
    return total if term is None else total + term


def _resolve_model(model, structure: dict) -> QubitModel:
    """``model``, or the ``QubitModel`` of the structure keywords; a keyword that differs
    from its default and from ``model``'s value is refused (give one of them)."""
    if model is None:
        return QubitModel(**structure)
    if not isinstance(model, QubitModel):
        raise ValueError(f"model must be a QubitModel or None, got {type(model).__name__}")
    defaults = {**STRUCTURE_DEFAULTS, "bases": BASES}
    for name, value in structure.items():
        if name == "bases":  # compared as normalised settings
            value = normalize_bases(value, model.n_qubits)
            default = normalize_bases(BASES, model.n_qubits)
        else:
            default = defaults[name]
        if value != default and value != getattr(model, name):
            raise ValueError(f"{name}: given both model and {name}={value!r}; give one")
    return model


def _resolve_backend(backend, target, seed: int, gradient: str):
    """(Python-side backend or None, in_graph): in-graph for "simulator", and for a
    ``SimulatorBackend`` instance with ``autodiff``."""
    if target is not None and backend != "ionq":
        raise ValueError(f"target is only used with backend='ionq', got backend={backend!r}")
    if isinstance(backend, str):
        if backend == "simulator":
            return None, True
        if backend == "ionq":
            from qgan.qubit.ionq import IonQBackend

            options = {"seed": seed} if target is None else {"seed": seed, "target": target}
            return IonQBackend(**options), False
        raise ValueError(
            f"backend must be 'simulator', 'ionq' or an ExpectationBackend, got {backend!r}"
        )
    if not isinstance(backend, ExpectationBackend):
        raise ValueError(
            "backend must be 'simulator', 'ionq' or an ExpectationBackend (name, "
            "supports_autodiff, cache_name, expectations), got " + type(backend).__name__
        )
    if gradient == "autodiff" and isinstance(backend, SimulatorBackend):
        return None, True
    return backend, False


def _resolve_cache(cache, in_graph: bool):
    if cache is False or cache is None:
        return None
    if in_graph:
        raise ValueError(
            "cache: the in-graph simulator does not cache; give a Python-side backend "
            "(e.g. backend=SimulatorBackend()) with gradient 'parameter_shift' or 'spsa'"
        )
    if cache is True:
        return ResultCache()
    if isinstance(cache, ResultCache):
        return cache
    raise ValueError(f"cache must be a bool or a ResultCache, got {type(cache).__name__}")
