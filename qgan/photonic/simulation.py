"""``simulate``: the public entry point of the photonic layer."""

from __future__ import annotations

import tensorflow as tf

from qgan._tensors import real_dtype, to_tensor
from qgan._validate import check_choice, check_int
from qgan.photonic import engine, sf_backend
from qgan.photonic.program import parse_program
from qgan.photonic.result import FockResult

BACKENDS = ("compiled", "sf")


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
        ValueError: a bad argument (the message names it) or an unsupported operation.
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
    else:
        circuit = parse_program(prog)
    values, batch = _bind_args(circuit.free_params, args, batch_size, rdt)
    if backend == "compiled":
        ket = compiled(tuple(values[name] for name in circuit.free_params), batch_size)
        batched = batch is not None or batch_size is not None
    else:
        batched = batch is not None
        ket = sf_backend.run(prog, cutoff, values, batch, dtype)
    return FockResult(ket, cutoff, circuit.n_modes, batched)


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
        value = to_tensor(f"args[{name!r}]", args[name], rdt)
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
