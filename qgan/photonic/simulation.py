"""``simulate``: the public entry point of the photonic layer.

Programs built in a loop: each new ``sf.Program`` is a new circuit, compiled and traced
anew. :func:`simulate` counts the distinct programs of one structure (the gate sequence with
its constants left out) and, from :data:`LOOP_WARNING_AFTER` of them, logs one warning that
names the fix: one program with free parameters (``prog.params``) and the values as
arguments (see the engine docs, "Programs built in a loop"). TensorFlow's own retracing
warning about the engine's internal method is dropped: it points at qgan's code, not the
user's loop.
"""

from __future__ import annotations

import logging
import weakref

import tensorflow as tf

from qgan import _resources
from qgan._tensors import real_dtype, to_tensor
from qgan._validate import check_choice, check_int
from qgan.photonic import engine, sf_backend
from qgan.photonic.plan import lower
from qgan.photonic.program import PREPARATIONS, parse_program
from qgan.photonic.result import COMPILED_READOUTS, FockResult

BACKENDS = ("compiled", "sf")
LOOP_WARNING_AFTER = 3  # distinct programs of one structure before the warning
DOCS_ANCHOR = "docs/engine.md#programs-built-in-a-loop"
log = logging.getLogger(__name__)


class _EngineRetracingFilter(logging.Filter):
    """Drops TensorFlow's "N out of the last N calls to <CompiledCircuit._simulate>
    triggered tf.function retracing" warning: it names the engine's internal method, while
    the cause is a loop building programs, which :func:`simulate` reports itself. The same
    warning about ``FockResult``'s compiled eager readouts is dropped too: they trace once
    per cutoff, dtype and rank by design (see :mod:`qgan.photonic.result`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "triggered tf.function retracing" not in message:
            return True
        internal = ["CompiledCircuit"] + [f"<function {n} " for n in COMPILED_READOUTS]
        return not any(name in message for name in internal)


tf.get_logger().addFilter(_EngineRetracingFilter())
_structure_counts: dict[tuple, int] = {}  # program structure -> distinct programs compiled
_counted: set[int] = set()  # id() of the live programs already counted


def structure(circuit, cutoff: int, dtype: tf.DType) -> tuple:
    """The structure of a parsed circuit: modes, and per instruction its name, modes and
    which arguments are free (by name) or constant; constant values are left out, so two
    programs differing only in a numeric argument have the same structure."""
    ops = tuple(
        (ins.name, ins.modes, tuple(p.names if p.names else "const" for p in ins.params))
        for ins in circuit.instructions
    )
    return (circuit.n_modes, ops, circuit.free_params, cutoff, dtype.name)


def _count_program(prog, circuit, cutoff: int, dtype: tf.DType) -> None:
    """Count ``prog`` once under its structure; warn once per structure when a loop of
    programs is apparent (:data:`LOOP_WARNING_AFTER` distinct programs of it)."""
    if id(prog) in _counted:
        return
    _counted.add(id(prog))
    weakref.finalize(prog, _counted.discard, id(prog))
    key = structure(circuit, cutoff, dtype)
    _structure_counts[key] = _structure_counts.get(key, 0) + 1
    if _structure_counts[key] == LOOP_WARNING_AFTER:
        gates = ", ".join(name for name, _, _ in key[1]) or "no gates"
        log.warning(
            "simulate: %d programs of the same structure (%s) were each compiled and traced "
            "anew; build one sf.Program with free parameters (prog.params(...)) and pass the "
            "values as args (shape [B] for a batch): 'Programs built in a loop' in the engine "
            "docs, %s",
            LOOP_WARNING_AFTER,
            gates,
            DOCS_ANCHOR,
        )


def simulate(
    prog,
    cutoff: int,
    args: dict | None = None,
    batch_size: int | None = None,
    backend: str = "compiled",
    dtype: tf.DType = tf.complex64,
) -> FockResult:
    """Simulate a Strawberry Fields program in a truncated Fock space.

    Args:
        prog: ``strawberryfields.Program`` whose free parameters (``prog.params``) are
            bound by ``args``.
        cutoff: Fock cutoff D per mode (photon numbers 0 .. D-1), an int >= 2.
        args: free-parameter name -> value: a Python float, NumPy array or tf tensor /
            Variable; shape [] (shared) or [B] (one value per sample).
        batch_size: B; inferred from [B]-shaped args when None. With a batch, the ket is
            ``[B, D, ..., D]``; without, ``[D, ..., D]``.
        backend: ``"compiled"`` (this package's TF engine) or ``"sf"`` (SF's ``tf``
            backend, the slow reference).
        dtype: ``tf.complex64`` or ``tf.complex128``.

    Returns:
        FockResult, differentiable w.r.t. the args with ``tf.GradientTape``.

    Raises:
        ValueError: a bad argument (the message names it), an unsupported operation, or
            states that cannot fit in memory (:func:`check_state_fits`: refused before
            anything is allocated, with the largest batch that fits).

    Each new program is compiled (and traced by TensorFlow) on its first call: build one
    program with free parameters and pass the values as ``args`` rather than a new program
    per value; a loop of programs of one structure is reported by one logged warning.
    """
    check_choice(backend, "backend", BACKENDS)
    check_int(cutoff, "cutoff", minimum=2)
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1)
    try:
        dtype = tf.as_dtype(dtype)
        rdt = real_dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"dtype must be tf.complex64 or tf.complex128, got {dtype!r}") from None
    if backend == "compiled":
        compiled = engine.compiled_circuit(prog, parse_program, cutoff, dtype)
        circuit = compiled.circuit
        _count_program(prog, circuit, cutoff, dtype)
    else:
        circuit = parse_program(prog)
    values, batch = _bind_args(circuit.free_params, args, batch_size, rdt)
    if isinstance(batch, int) or batch is None:  # known now: refuse before any allocation
        check_state_fits(circuit, cutoff, 1 if batch is None else batch, dtype)
    if backend == "compiled":
        out = compiled(tuple(values[name] for name in circuit.free_params), batch_size)
        batched = batch is not None or batch_size is not None
        if compiled.kind == "terminal":
            ket, superops = out
            channels = dict(zip(compiled.terminal_modes, superops, strict=True))
            return FockResult(
                ket,
                cutoff,
                circuit.n_modes,
                batched,
                kind="terminal",
                channels=channels,
                leaky=compiled.leaky_modes,
            )
        return FockResult(out, cutoff, circuit.n_modes, batched, kind=compiled.kind)
    batched = batch is not None
    state, kind = sf_backend.run(prog, cutoff, values, batch, dtype)
    return FockResult(state, cutoff, circuit.n_modes, batched, kind=kind)


def check_state_fits(circuit, cutoff: int, batch: int, dtype: tf.DType) -> None:
    """Refuse a simulation whose states cannot fit in memory, before anything is allocated.

    The need is :func:`qgan._resources.state_bytes`: ``cutoff ** n_modes`` amplitudes per
    sample (``cutoff ** (2 n_modes)`` for a density matrix: a program with a channel before
    a later gate on its mode, or a ``Thermal`` preparation), times ``batch``, times the
    complex dtype's size, times the gradient's working
    set (one kept state per gate, plus the state), against
    :func:`qgan._resources.available_memory` (``QGAN_MEMORY_BYTES`` where set). Raises a
    one-line ``ValueError`` naming ``batch_size`` (or ``cutoff``), the size needed, the
    memory available and the largest batch (and cutoff) that fits.
    """
    gates = sum(1 for ins in circuit.instructions if ins.name not in PREPARATIONS)
    itemsize = dtype.size
    n_modes = circuit.n_modes * (2 if lower(circuit).kind == "dm" else 1)

    def need(s: dict) -> int:
        return _resources.state_bytes(s["cutoff"] ** n_modes, s["batch_size"], itemsize, gates)

    _resources.check_fits(
        f"a {'density matrix' if n_modes > circuit.n_modes else 'state'} of "
        f"{cutoff}^{n_modes} x {batch:,} {dtype.name} amplitudes "
        f"(with the gradient through {gates} gates)",
        need,
        {"batch_size": batch, "cutoff": cutoff},
        {"batch_size": 1, "cutoff": 2},
        {"batch_size": (1, batch), "cutoff": (2, cutoff)},
    )


def _bind_args(names, args, batch_size, rdt):
    """Convert and check ``args``; returns (name -> real tensor, batch size or None)."""
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise ValueError(f"args must be a dict of free-parameter values, got {type(args).__name__}")
    missing = [n for n in names if n not in args]
    if missing:
        raise ValueError(
            f"args is missing free parameter(s) {missing}; program needs {list(names)}"
        )
    unknown = [n for n in args if n not in names]
    if unknown:
        raise ValueError(
            f"args has unknown name(s) {unknown}; program's free parameters: {list(names)}"
        )
    values = {}
    batch = batch_size
    for name in names:
        value = args[name]
        if not (isinstance(value, tf.Variable) and value.dtype == rdt):
            # a Variable of the right dtype is passed on as it is: the compiled circuit
            # reads it in-graph, which saves an eager read per argument per call
            value = to_tensor(f"args[{name!r}]", value, rdt)
        rank = value.shape.rank
        if rank is None or rank > 1:
            raise ValueError(
                f"args[{name!r}] must be a scalar or have shape [batch_size], "
                f"got shape {value.shape}"
            )
        if rank == 1:
            length = value.shape[0]
            if length is not None:
                if batch is not None and length != batch:
                    raise ValueError(
                        f"args[{name!r}] has length {length}, expected batch_size {batch}"
                    )
                batch = length
            elif batch is None:
                batch = tf.shape(value)[0]
        values[name] = value
    return values, batch
