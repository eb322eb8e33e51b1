"""Helpers of ``scripts/bench/qubit.py``: the qubit state-vector simulator (``qgan.qubit``)
against Cirq and PennyLane.

The circuit is the hardware-efficient classifier ansatz of issue 5: ``n_qubits`` qubits,
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
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import tensorflow as tf

from qgan._validate import check_int
from qgan.profiling.timing import StepTiming, measure, to_host
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


# ------------------------------------------------------------------------------ stages


STAGE_ROUND = 5  # calls per stage per round of the interleaved stage timings


def stage_timings(model, features, params, repeats, warmup, dtype=tf.complex64) -> list[dict]:
    """Where the step's time goes, by what it computes: forward alone, with the parameter
    gradient, with both gradients, and the whole step at batch 1 (the per-call floor).

    The stages are timed in interleaved rounds of :data:`STAGE_ROUND` calls each (about
    ``repeats`` calls per stage in all), so that a change of machine load during the
    measurement shifts every stage alike instead of biasing their ratios.
    """
    rdt = real_dtype(dtype)
    x, p = tf.constant(features, rdt), tf.constant(params, rdt)
    stages = [
        ("forward (expectation values)", ("expectations",), x),
        ("forward + gradient w.r.t. params", ("grad_params",), x),
        ("forward + gradient w.r.t. params and features", QUANTITIES, x),
        ("forward + both gradients, batch 1 (per-call floor)", QUANTITIES, x[:1]),
    ]
    calls = []
    for _, wrt, inputs in stages:
        step = qgan_step(model, dtype, wrt=wrt)
        calls.append(lambda s=step, i=inputs: s(i, p))
        measure(calls[-1], repeats=1, warmup=warmup)  # compile and warm up
    times: list[list[float]] = [[] for _ in stages]
    for _ in range(-(-repeats // STAGE_ROUND)):
        for call, record in zip(calls, times):
            # the first call of a round is timed too: every call is warm by now
            timing = measure(call, repeats=STAGE_ROUND - 1, warmup=0)
            record += [timing.first_call_s, *timing.times_s]
    rows = []
    for (name, _, inputs), record in zip(stages, times):
        median = float(np.median(record))
        batch = int(inputs.shape[0])
        rows.append(
            {
                "stage": name,
                "batch_size": batch,
                "ms_per_call": median * 1e3,
                "us_per_sample": median / batch * 1e6,
                "repeats": len(record),
            }
        )
    return rows


def op_profile(call, steps: int = 20, top: int = 12) -> dict:
    """TensorFlow op time of ``call()`` by op type, forward vs gradient, from the profiler.

    Returns ``{"wall_us_per_step", "op_us_per_step", "ops": [{"phase", "op_type",
    "us_per_step", "share", "count_per_step"}]}`` (``share``: of the summed op time, which
    counts both CPU threads and so may exceed the wall time). Raises RuntimeError if the
    profiler is unavailable.
    """
    import collections
    import glob
    import tempfile

    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as err:
        raise RuntimeError(f"TensorFlow profiler protobufs not importable: {err}") from None
    to_host(call())
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        try:
            for _ in range(steps):
                to_host(call())
        finally:
            wall = time.perf_counter() - start
            tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        if not paths:
            raise RuntimeError("the profiler wrote no trace")
        space = xplane_pb2.XSpace()
        with open(paths[0], "rb") as handle:
            space.ParseFromString(handle.read())
    total, count = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                # op events are "scope/name:OpType"; executor and runtime events are not
                if ":" not in name or "::" in name or " " in name:
                    continue
                op_name, op_type = name.rsplit(":", 1)
                key = ("gradient" if "gradients/" in op_name else "forward", op_type)
                total[key] += event.duration_ps
                count[key] += 1
    op_total = sum(total.values())
    ops = [
        {
            "phase": phase,
            "op_type": op_type,
            "us_per_step": ps / 1e6 / steps,
            "share": ps / op_total if op_total else 0.0,
            "count_per_step": count[(phase, op_type)] / steps,
        }
        for (phase, op_type), ps in total.most_common(top)
    ]
    return {
        "wall_us_per_step": wall / steps * 1e6,
        "op_us_per_step": op_total / 1e6 / steps,
        "ops": ops,
    }


# ------------------------------------------------------------------------------ driver


def versions() -> dict:
    """Versions of the simulators (None where not installed)."""
    from importlib import metadata

    out = {}
    for dist in ("tensorflow", "cirq-core", "pennylane", "pennylane-lightning", "jax", "jaxlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def bench_qubit(
    n_qubits: int = 8,
    depth: int = 4,
    batch_size: int = 256,
    repeats: int = 30,
    warmup: int = 3,
    baseline_batch_size: int | None = None,
    baseline_repeats: int = 5,
    baselines=BASELINES,
    entanglers=ENTANGLERS,
    xla: bool = True,
    complex128: bool = True,
    stages: bool = True,
    profile: bool = True,
    seed: int = 0,
    target: dict | None = None,
) -> dict:
    """Time forward + gradient on ``qgan.qubit`` and the installed baselines; JSON-ready.

    ``baseline_batch_size`` (default ``batch_size``) and ``baseline_repeats`` apply to the
    Python-loop baselines (cirq, lightning.qubit); ``default.qubit`` runs at ``batch_size``
    with ``repeats``. Extra rows: the other ``entanglers`` (complex64) and, with ``xla``,
    the step compiled with XLA (``jit_compile=True``). ``stages`` adds
    :func:`stage_timings`, ``profile`` adds :func:`op_profile` of the complex64 step.
    ``target`` (e.g. ``{"us_per_sample": 20.0, "compile_s": 5.0}``) adds ``target``, the
    verdict of :func:`check_target`; without it the result has no target.
    """
    for name, value, minimum in (
        ("n_qubits", n_qubits, 1),
        ("depth", depth, 1),
        ("batch_size", batch_size, 1),
        ("repeats", repeats, 1),
        ("warmup", warmup, 0),
        ("baseline_repeats", baseline_repeats, 1),
    ):
        check_int(value, name, minimum)
    baseline_batch = batch_size if baseline_batch_size is None else baseline_batch_size
    check_int(baseline_batch, "baseline_batch_size", 1, maximum=batch_size)
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(f"baselines must be among {list(BASELINES)}, got {unknown}")
    bad = [e for e in entanglers if e not in ENTANGLERS]
    if bad:
        raise ValueError(f"entanglers must be among {list(ENTANGLERS)}, got {bad}")

    load_before = os.getloadavg()
    model = benchmark_model(n_qubits, depth)
    features, params = benchmark_inputs(model, batch_size, seed)
    # TF's one-off runtime start-up is not any circuit's compilation time
    tf.function(lambda t: t + 1.0)(tf.constant(0.0)).numpy()

    rows, checks, notes = [], [], []
    step_label = "forward + gradient"
    timing, _ = _run_qgan(model, features, params, repeats, warmup, tf.complex64)
    c64 = timing.outputs
    rows.append(_row("qgan", step_label, "complex64", "cnot", batch_size, timing))
    if complex128:
        timing, reference_step = _run_qgan(model, features, params, repeats, warmup, tf.complex128)
        c128 = timing.outputs
        rows.append(_row("qgan", step_label, "complex128", "cnot", batch_size, timing))
    else:
        reference_step = qgan_step(model, tf.complex128)
    references: dict[int, dict] = {}

    def reference(batch: int) -> dict:
        """Our complex128 outputs on the first ``batch`` samples (the agreement reference)."""
        if batch not in references:
            x = tf.constant(features[:batch], tf.float64)
            references[batch] = to_host(reference_step(x, tf.constant(params, tf.float64)))
        return references[batch]

    if complex128:
        references[batch_size] = c128
        checks.append({"simulator": "qgan complex64", **agreement(c64, c128, "complex64")})
    if xla:
        try:
            timing, _ = _run_qgan(
                model, features, params, repeats, warmup, tf.complex64, jit_compile=True
            )
            out = timing.outputs
            rows.append(_row("qgan (XLA)", step_label, "complex64", "cnot", batch_size, timing))
            checks.append(
                {
                    "simulator": "qgan (XLA) complex64",
                    **agreement(out, reference(batch_size), "complex64"),
                }
            )
        except Exception as err:  # noqa: BLE001 - an XLA failure is reported, not fatal
            notes.append(f"qgan (XLA) skipped: {type(err).__name__}: {str(err)[:200]}")
    for entangler in entanglers:
        if entangler == "cnot":
            continue
        other = benchmark_model(n_qubits, depth, entangler)
        timing, _ = _run_qgan(other, features, params, repeats, warmup, tf.complex64)
        rows.append(_row("qgan", step_label, "complex64", entangler, batch_size, timing))

    result = {
        "circuit": {
            "n_qubits": n_qubits,
            "depth": depth,
            "n_params": model.n_params,
            "structure": model.structure_key,
            "description": "re-uploading encoding RY(x_q) before every layer; per layer RY, RZ "
            "on every qubit, then the entangler on the ring; <Z_q> readout",
        },
        "step": "forward + gradient of sum(expectation values) w.r.t. params and features",
        "settings": {
            "batch_size": batch_size,
            "baseline_batch_size": baseline_batch,
            "repeats": repeats,
            "baseline_repeats": baseline_repeats,
            "warmup": warmup,
            "seed": seed,
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
        "versions": versions(),
    }
    if stages:
        log.info("stage timings")
        result["stages"] = stage_timings(model, features, params, repeats, warmup)
    if profile:
        log.info("op profile")
        step = qgan_step(model, tf.complex64)
        x, p = tf.constant(features, tf.float32), tf.constant(params, tf.float32)
        try:
            result["op_profile"] = op_profile(lambda: step(x, p), steps=min(repeats, 20))
        except Exception as err:  # noqa: BLE001 - profiling is a diagnosis, not the benchmark
            notes.append(f"op profile skipped: {type(err).__name__}: {str(err)[:200]}")

    for name in baselines:
        label, runner = RUNNERS[name]
        # default.qubit is vectorised and jitted; the others loop over samples in Python
        batch, reps, warm = (
            (batch_size, repeats, warmup)
            if name == "default.qubit"
            else (baseline_batch, baseline_repeats, min(warmup, 1))
        )
        log.info("%s, batch %d", label, batch)
        try:
            timing, out, dtype, step = runner(model, features[:batch], params, reps, warm)
        except ImportError as err:
            notes.append(f"{label} skipped: not installed ({err}); pip install -e '.[bench]'")
            continue
        except Exception as err:  # noqa: BLE001 - a third-party baseline failing is reported
            notes.append(f"{label} skipped: {type(err).__name__}: {str(err)[:200]}")
            continue
        rows.append(_row(label, step, dtype, "cnot", batch, timing))
        checks.append({"simulator": label, **agreement(out, reference(batch), dtype)})

    ours = rows[0]
    result.update(
        rows=[asdict(r) for r in rows],
        agreement=checks,
        notes=notes,
        load_average={"before": list(load_before), "after": list(os.getloadavg())},
    )
    if target is not None:
        result["target"] = check_target(target, ours)
    return result


def check_target(target: dict, ours: Row) -> dict:
    """``target`` (``us_per_sample``, ``compile_s``: the ``[qubit]`` table of
    ``targets.toml``) against our complex64 row: the bounds, the measured values, ``met``."""
    bound_us, bound_s = float(target["us_per_sample"]), float(target["compile_s"])
    return {
        "us_per_sample": bound_us,
        "compile_s": bound_s,
        "qgan_complex64_us_per_sample": ours.us_per_sample,
        "qgan_complex64_first_call_s": ours.first_call_s,
        "met": ours.us_per_sample <= bound_us and ours.first_call_s <= bound_s,
    }


# ------------------------------------------------------------------------------ report


def format_report(result: dict, machine: dict | None = None) -> str:
    """Markdown of a :func:`bench_qubit` result (``machine``:
    :func:`qgan._machine.machine_info`)."""
    c, s = result["circuit"], result["settings"]
    lines = ["# Qubit simulator benchmark: forward + gradient", ""]
    if result.get("command"):
        lines += [f"`{result['command']}`", ""]
    if machine:
        lines += [
            f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores, "
            f"Python {machine['python']}."
        ]
    v = result["versions"]
    lines += [
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        f"Load average (1, 5, 15 min) before {_fmt_load(result['load_average']['before'])}, "
        f"after {_fmt_load(result['load_average']['after'])}; OMP_NUM_THREADS="
        f"{s['OMP_NUM_THREADS']}.",
        "",
        f"Circuit: {c['n_qubits']} qubits, depth {c['depth']}, {c['n_params']} parameters: "
        f"{c['description']}. Step: {result['step']}; compilation = the first call (tracing "
        f"and compiling); then {s['warmup']} warm-up calls and the timed repeats (median, "
        "IQR). cirq.Simulator: forward only.",
        "",
        "| simulator | step | dtype | entangler | batch | us / sample (median) | IQR us / sample "
        "| ms / call (median) | first call s (compile) | repeats |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['simulator']} | {r['step']} | {r['dtype']} | {r['entangler']} | "
            f"{r['batch_size']} | {r['us_per_sample']:,.1f} | {r['iqr_us_per_sample']:,.1f} | "
            f"{r['median_s'] * 1e3:,.2f} | {r['first_call_s']:.2f} | {r['repeats']} |"
        )
    t = result.get("target")
    if t is not None:
        verdict = "met" if t["met"] else "missed"
        lines += [
            "",
            f"Target (issue 5): at most {t['us_per_sample']:g} us per sample with at most "
            f"{t['compile_s']:g} s of compilation. qgan complex64: "
            f"{t['qgan_complex64_us_per_sample']:,.1f} us per sample, first call "
            f"{t['qgan_complex64_first_call_s']:.2f} s: **{verdict}**.",
        ]
    lines += [
        "",
        "## Agreement",
        "",
        "max |theirs - ours| / max(1, max |ours|), ours = qgan complex128 on the same inputs.",
        "",
        "| simulator | expectations | grad params | grad features | tolerance | agrees |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for a in result["agreement"]:
        cells = " | ".join(f"{a['errors'][q]:.1e}" if q in a["errors"] else "-" for q in QUANTITIES)
        lines.append(
            f"| {a['simulator']} | {cells} | {a['tolerance']:.0e} | "
            f"{'yes' if a['ok'] else '**NO**'} |"
        )
    if result.get("stages"):
        lines += [
            "",
            "## Stages (qgan complex64)",
            "",
            "| stage | batch | ms / call | us / sample |",
            "|---|---:|---:|---:|",
        ]
        for st in result["stages"]:
            lines.append(
                f"| {st['stage']} | {st['batch_size']} | {st['ms_per_call']:,.2f} | "
                f"{st['us_per_sample']:,.1f} |"
            )
    prof = result.get("op_profile")
    if prof:
        lines += [
            "",
            "## TensorFlow op profile (qgan complex64, forward + both gradients)",
            "",
            f"Wall {prof['wall_us_per_step']:,.0f} us per step under the profiler; op time "
            f"{prof['op_us_per_step']:,.0f} us per step summed over threads. Top op types:",
            "",
            "| phase | op type | us / step | share of op time | ops / step |",
            "|---|---|---:|---:|---:|",
        ]
        for op in prof["ops"]:
            lines.append(
                f"| {op['phase']} | {op['op_type']} | {op['us_per_step']:,.0f} | "
                f"{op['share']:.0%} | {op['count_per_step']:.0f} |"
            )
    for note in result["notes"]:
        lines += ["", f"note: {note}"]
    return "\n".join(lines) + "\n"


def _fmt_load(values) -> str:
    return "/".join(f"{v:.1f}" for v in values)
