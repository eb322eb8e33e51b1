"""Random supported Strawberry Fields programs with free parameters, for property tests.

``from random_programs import random_program`` (``tests/`` is on pytest's ``pythonpath``)
or the ``make_random_program`` fixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import qgan._compat  # noqa: F401  (SciPy shim SF 0.23 needs; must precede SF)

import numpy as np
import strawberryfields as sf
import tensorflow as tf
from oracles import real_dtype, to_numpy
from scipy.stats import unitary_group
from strawberryfields import ops

_ONE_MODE = {
    "Dgate": lambda rng: [rng.uniform(0.0, 1.0), rng.uniform(-np.pi, np.pi)],
    "Sgate": lambda rng: [rng.uniform(0.0, 0.6), rng.uniform(-np.pi, np.pi)],
    "Rgate": lambda rng: [rng.uniform(-np.pi, np.pi)],
    "Kgate": lambda rng: [rng.uniform(-1.0, 1.0)],
}
_TWO_MODE = {
    "BSgate": lambda rng: [rng.uniform(-np.pi, np.pi), rng.uniform(-np.pi, np.pi)],
    "MZgate": lambda rng: [rng.uniform(-np.pi, np.pi), rng.uniform(-np.pi, np.pi)],
    "S2gate": lambda rng: [rng.uniform(0.0, 0.5), rng.uniform(-np.pi, np.pi)],
    "CKgate": lambda rng: [rng.uniform(-1.0, 1.0)],
}


@dataclass
class RandomProgram:
    prog: sf.Program
    args: dict
    batch_size: int | None  # batch size to pass to simulate (None: infer / unbatched)
    expected_batch: int | None  # B of the result, None if unbatched
    n_modes: int
    cutoff: int
    description: list


def _arg_value(rng, value, real_dtype_):
    """A free-parameter value in a random but contract-conforming container type."""
    kind = rng.integers(0, 4 if np.ndim(value) == 0 else 3)
    if np.ndim(value) == 0:
        if kind == 0:
            return float(value)
        if kind == 1:
            return np.float64(value)
        if kind == 2:
            return tf.constant(value, dtype=real_dtype_)
        return tf.Variable(value, dtype=real_dtype_)
    if kind == 0:
        return np.asarray(value, dtype=np.float64)
    if kind == 1:
        return tf.constant(value, dtype=real_dtype_)
    return tf.Variable(value, dtype=real_dtype_)


def random_program(
    seed: int,
    n_modes: int,
    cutoff: int,
    n_gates: int,
    batch: int | None = None,
    explicit_batch: bool = False,
    dtype=tf.complex128,
    interferometer: bool = True,
    free_fraction: float = 0.5,
) -> RandomProgram:
    """A random supported program with preparations, gates and free parameters.

    ``batch``: if given, some free parameters get per-sample values of shape [batch];
    with ``explicit_batch`` the batch size is passed explicitly (and may be the only
    source of batching if no per-sample argument was drawn).
    Values of shared [B] arguments are kept within the same ranges as the literals.
    Two-mode gates act on random ordered pairs, including reversed order (q[j], q[i]).
    """
    rng = np.random.default_rng(seed)
    rdt = real_dtype(dtype)
    prog = sf.Program(n_modes)
    args: dict = {}
    desc: list = []
    counter = [0]

    def maybe_free(value_sampler):
        value = value_sampler()
        if rng.random() >= free_fraction:
            return value
        name = f"p{counter[0]}"
        counter[0] += 1
        if batch is not None and rng.random() < 0.6:
            vals = np.array([value_sampler() for _ in range(batch)])
        else:
            vals = value
        args[name] = _arg_value(rng, vals, rdt)
        return prog.params(name)

    def _component(sampler, k):
        return lambda: sampler(rng)[k]

    with prog.context as q:
        for m in range(n_modes):
            kind = rng.integers(0, 5)
            if kind == 0:
                ops.Vacuum() | q[m]
                desc.append(("Vacuum", m))
            elif kind == 1:
                k = int(rng.integers(0, cutoff))
                ops.Fock(k) | q[m]
                desc.append(("Fock", k, m))
            elif kind == 2:
                r = maybe_free(lambda: rng.uniform(0.0, 1.0))
                phi = maybe_free(lambda: rng.uniform(-np.pi, np.pi))
                ops.Coherent(r, phi) | q[m]
                desc.append(("Coherent", m))
            elif kind == 3:
                r = maybe_free(lambda: rng.uniform(0.0, 0.5))
                phi = maybe_free(lambda: rng.uniform(-np.pi, np.pi))
                ops.Squeezed(r, phi) | q[m]
                desc.append(("Squeezed", m))
            # kind 4: no preparation (vacuum)
        for _ in range(n_gates):
            if n_modes >= 2 and rng.random() < 0.5:
                if interferometer and n_modes >= 2 and rng.random() < 0.08:
                    k = int(rng.integers(2, n_modes + 1))
                    modes = [int(x) for x in rng.permutation(n_modes)[:k]]
                    U = unitary_group.rvs(k, random_state=rng)
                    ops.Interferometer(U) | tuple(q[i] for i in modes)
                    desc.append(("Interferometer", tuple(modes)))
                    continue
                name = list(_TWO_MODE)[int(rng.integers(0, len(_TWO_MODE)))]
                i, j = (int(x) for x in rng.permutation(n_modes)[:2])
                params = [
                    maybe_free(_component(_TWO_MODE[name], k))
                    for k in range(len(_TWO_MODE[name](rng)))
                ]
                getattr(ops, name)(*params) | (q[i], q[j])
                desc.append((name, (i, j)))
            else:
                name = list(_ONE_MODE)[int(rng.integers(0, len(_ONE_MODE)))]
                m = int(rng.integers(0, n_modes))
                params = [
                    maybe_free(_component(_ONE_MODE[name], k))
                    for k in range(len(_ONE_MODE[name](rng)))
                ]
                getattr(ops, name)(*params) | q[m]
                desc.append((name, m))

    has_per_sample = any(np.ndim(to_numpy(v)) == 1 for v in args.values())
    if batch is not None and (explicit_batch or not has_per_sample):
        batch_size = batch
    else:
        batch_size = None
    expected = batch if batch is not None else None
    return RandomProgram(prog, args, batch_size, expected, n_modes, cutoff, desc)
