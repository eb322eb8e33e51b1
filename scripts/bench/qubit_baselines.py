"""Helpers of ``scripts/bench/qubit.py``: the qubit state-vector simulator (``qgan.qubit``)
against Cirq and PennyLane.

The circuit is the hardware-efficient classifier ansatz of `qgan.qubit`: ``n_qubits`` qubits,
``depth`` layers, re-uploading encoding (``RY(x_q)`` before every layer), ``RY`` + ``RZ``
per qubit per layer, a CNOT ring (other entanglers as extra rows), ``<Z_q>`` readout (see
``qgan/qubit/model.py``). One timed **step** is the forward pass plus the gradient of a
scalar loss, the sum over samples and readouts of the expectation values, w.r.t. the
circuit parameters and the features, for a batch of feature vectors:

* ``qgan``: ``expectation_values`` under ``tf.GradientTape``, forward and gradient inside
  one ``tf.function`` (complex64, and complex128 as a second row; optionally XLA);
* ``cirq.Simulator``: forward only (Cirq has no gradients), one circuit per sample, the
  circuits built by ``QubitModel.to_cirq`` before timing;
* PennyLane ``default.qubit``: JAX interface, ``jax.jit`` of ``jax.value_and_grad``,
  parameter broadcasting over the batch (backpropagation), complex64 (JAX's default);
* PennyLane ``lightning.qubit``: adjoint differentiation, autograd interface, the
  broadcast batch expanded into one tape per sample (complex128).

A baseline that is not installed is skipped with a note. Every configuration is timed by
:func:`qgan.profiling.timing.measure`: compilation time is the first call (tracing, XLA
compilation); then ``warmup`` untimed calls, then ``repeats`` timed calls, reported as
median and interquartile range. The baselines must compute the same
circuit: their outputs are checked against ours in complex128 on the same inputs (see
:data:`AGREEMENT_RTOL`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from qgan.profiling.timing import StepTiming, measure
from qgan.qubit import QubitModel, expectation_values
from qgan.qubit.simulator import real_dtype

log = logging.getLogger(__name__)

BASELINES = ("cirq", "default.qubit", "lightning.qubit")
ENTANGLERS = ("cnot", "ms", "zz")
# Agreement with our complex128 result: max |ours - theirs| / max(1, max |ours|) per quantity
# (expectations, gradient w.r.t. params, gradient w.r.t. features), at the precision of the
# less precise side. float32 rounding is ~6e-8 per operation; the gradients sum ~100 gate
# contributions per sample and the parameter gradient sums over the batch, so 1e-4 bounds
# an honest single-precision result with margin while a wrong circuit (a missing or
# misplaced gate) gives O(1e-1) differences. Double precision: rounding ~1e-16 per
# operation, 1e-9 leaves orders of magnitude of margin.
AGREEMENT_RTOL = {"complex64": 1e-4, "complex128": 1e-9}
QUANTITIES = ("expectations", "grad_params", "grad_features")


@dataclass
class Row:
    """Timing of one simulator configuration (seconds unless named)."""

    simulator: str
    step: str
    dtype: str
    entangler: str
    batch_size: int
    first_call_s: float
    median_s: float
    q25_s: float
    q75_s: float
    repeats: int
    us_per_sample: float = field(init=False)
    iqr_us_per_sample: float = field(init=False)

    def __post_init__(self):
        self.us_per_sample = self.median_s / self.batch_size * 1e6
        self.iqr_us_per_sample = (self.q75_s - self.q25_s) / self.batch_size * 1e6


def benchmark_model(n_qubits: int = 8, depth: int = 4, entangler: str = "cnot") -> QubitModel:
    """The issue's circuit: re-uploading encoding, RY+RZ layers, ``entangler`` ring, <Z_q>."""
    return QubitModel(n_qubits, depth, "reupload", entangler, "ring", "z")


def benchmark_inputs(model: QubitModel, batch_size: int, seed: int = 0):
    """``(features [B, n_features], params [n_params])`` float64, angles in [-pi, pi]."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(-np.pi, np.pi, (batch_size, model.n_features))
    return features, rng.uniform(-np.pi, np.pi, model.n_params)


# ------------------------------------------------------------------------------ timing


def _row(simulator, step, dtype, entangler, batch, timing: StepTiming) -> Row:
    return Row(
        simulator,
        step,
        dtype,
        entangler,
        batch,
        timing.first_call_s,
        timing.median_s,
        timing.q25_s,
        timing.q75_s,
        timing.repeats,
    )


# ------------------------------------------------------------------------------ ours


def qgan_step(model: QubitModel, dtype=tf.complex64, jit_compile: bool = False, wrt=QUANTITIES):
    """``tf.function (features, params) -> outputs``: expectations and the gradients of
    their sum w.r.t. params and features (``wrt`` picks which), one graph."""
    rdt = real_dtype(dtype)
    signature = [
        tf.TensorSpec([None, model.n_features], rdt),
        tf.TensorSpec([model.n_params], rdt),
    ]

    @tf.function(input_signature=signature, jit_compile=jit_compile, autograph=False)
    def step(features, params):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch([features, params])
            values = expectation_values(model, features, params, dtype)
            loss = tf.reduce_sum(values)
        out = {"expectations": values}
        sources = {"grad_params": params, "grad_features": features}
        wanted = [k for k in sources if k in wrt]
        if wanted:
            grads = tape.gradient(loss, [sources[k] for k in wanted])
            out.update(zip(wanted, grads))
        return out

    return step


def _run_qgan(model, features, params, repeats, warmup, dtype, jit_compile=False):
    rdt = real_dtype(dtype)
    step = qgan_step(model, dtype, jit_compile)
    x, p = tf.constant(features, rdt), tf.constant(params, rdt)
    return measure(lambda: step(x, p), repeats, warmup), step


# ------------------------------------------------------------------------------ baselines


def _cirq_runner(model, features, params, repeats, warmup):
    """``cirq.Simulator`` (its default complex64), forward only, one circuit per sample."""
    import cirq

    circuits = [model.to_cirq(x, params) for x in features]
    qubits = cirq.LineQubit.range(model.n_qubits)
    simulator = cirq.Simulator()
    signs = model.readout_signs

    def forward():
        states = [simulator.simulate(c, qubit_order=qubits).final_state_vector for c in circuits]
        return {"expectations": (np.abs(np.stack(states)) ** 2) @ signs}

    timing = measure(forward, repeats, warmup)
    return timing, timing.outputs, "complex64", "forward"


def pennylane_circuit(qml, model: QubitModel, reshape):
    """Apply the model's gates with PennyLane operations; ``circuit(x [B, n], p [P])``
    returns the readouts (broadcast over the rows of ``x``)."""
    if model.encoding not in ("angle", "reupload"):
        raise ValueError(f"encoding must be angle or reupload for PennyLane, got {model.encoding}")
    n, depth = model.n_qubits, model.depth
    entangle = {
        "cnot": lambda a, b: qml.CNOT(wires=[a, b]),
        "ms": lambda a, b: qml.IsingXX(np.pi / 2, wires=[a, b]),  # exp(-i pi/4 XX)
        "zz": lambda a, b: qml.IsingZZ(np.pi / 2, wires=[a, b]),  # exp(-i pi/4 ZZ)
    }[model.entangler]

    def circuit(x, p):
        angles = reshape(p, (depth, n, 2))
        for layer in range(depth):
            if model.encoding == "reupload" or layer == 0:
                for q in range(n):
                    qml.RY(x[:, q], wires=q)
            for q in range(n):
                qml.RY(angles[layer, q, 0], wires=q)
                qml.RZ(angles[layer, q, 1], wires=q)
            for a, b in model.pairs:
                entangle(a, b)
        # a measurement is recorded when it is created: create only the returned ones
        out = []
        if model.measurement in ("z", "z_parity"):
            out += [qml.expval(qml.Z(q)) for q in range(n)]
        if model.measurement in ("parity", "z_parity"):
            out.append(qml.expval(qml.prod(*[qml.Z(q) for q in range(n)])))
        return out

    return circuit


@contextlib.contextmanager
def _jax_precision(x64: bool):
    import jax

    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", x64)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def _default_qubit_runner(model, features, params, repeats, warmup, x64: bool = False):
    """PennyLane ``default.qubit``, JAX, jit, broadcasting; complex64 unless ``x64``."""
    import jax
    import jax.numpy as jnp
    import pennylane as qml

    with _jax_precision(x64):
        device = qml.device("default.qubit", wires=model.n_qubits)
        circuit = qml.QNode(pennylane_circuit(qml, model, jnp.reshape), device, interface="jax")

        def loss(p, x):
            values = jnp.stack(circuit(x, p), axis=-1)
            return jnp.sum(values), values

        step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))
        dtype = jnp.float64 if x64 else jnp.float32
        x, p = jnp.asarray(features, dtype), jnp.asarray(params, dtype)
        timing = measure(lambda: step(p, x), repeats, warmup)
    (_, values), (gp, gx) = timing.outputs
    out = {"expectations": values, "grad_params": gp, "grad_features": gx}
    return timing, out, "complex128" if x64 else "complex64", "forward + gradient"


def _lightning_runner(model, features, params, repeats, warmup):
    """PennyLane ``lightning.qubit``, adjoint differentiation, autograd interface."""
    import pennylane as qml
    from pennylane import numpy as pnp

    device = qml.device("lightning.qubit", wires=model.n_qubits)
    circuit = qml.QNode(
        pennylane_circuit(qml, model, pnp.reshape),
        device,
        interface="autograd",
        diff_method="adjoint",
    )

    def loss(p, x):
        return pnp.sum(pnp.stack(circuit(x, p)))

    grad = qml.grad(loss, argnums=[0, 1])
    x = pnp.array(features, requires_grad=True)
    p = pnp.array(params, requires_grad=True)
    timing = measure(lambda: grad(p, x), repeats, warmup)
    gp, gx = timing.outputs
    values = np.stack([np.asarray(v) for v in circuit(x, p)], axis=-1)
    out = {"expectations": values, "grad_params": gp, "grad_features": gx}
    return timing, out, "complex128", "forward + gradient"


RUNNERS = {
    "cirq": ("cirq.Simulator", _cirq_runner),
    "default.qubit": ("PennyLane default.qubit (JAX, jit, broadcast)", _default_qubit_runner),
    "lightning.qubit": ("PennyLane lightning.qubit (adjoint)", _lightning_runner),
}


# ------------------------------------------------------------------------------ agreement


def agreement(outputs: dict, reference: dict, dtype: str) -> dict:
    """Max difference of ``outputs`` from ``reference`` per quantity they share, relative
    to ``max(1, max|reference|)``, against :data:`AGREEMENT_RTOL` [``dtype``]."""
    tol = AGREEMENT_RTOL[dtype]
    errors = {}
    for key in QUANTITIES:
        if key in outputs and key in reference:
            ours = np.asarray(reference[key], np.float64)
            theirs = np.asarray(outputs[key], np.float64)
            if theirs.shape != ours.shape:
                raise ValueError(f"{key}: shape {theirs.shape} differs from {ours.shape}")
            scale = max(1.0, float(np.max(np.abs(ours))))
            errors[key] = float(np.max(np.abs(theirs - ours))) / scale
    return {"errors": errors, "tolerance": tol, "ok": all(e <= tol for e in errors.values())}
