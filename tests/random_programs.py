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


# issue 20: drawn only with random_program(new_operations=True) (default draws unchanged)
_NEW_ONE_MODE = {
    "Vgate": lambda rng: [rng.uniform(-0.5, 0.5)],
    "Pgate": lambda rng: [rng.uniform(-0.5, 0.5)],
    "Xgate": lambda rng: [rng.uniform(-0.8, 0.8)],
    "Zgate": lambda rng: [rng.uniform(-0.8, 0.8)],
}
_NEW_TWO_MODE = {
    "CXgate": lambda rng: [rng.uniform(-0.5, 0.5)],
    "CZgate": lambda rng: [rng.uniform(-0.5, 0.5)],
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
    channels: float = 0.0,
    new_operations: bool = False,
) -> RandomProgram:
    """A random supported program with preparations, gates and free parameters.

    ``batch``: if given, some free parameters get per-sample values of shape [batch];
    with ``explicit_batch`` the batch size is passed explicitly (and may be the only
    source of batching if no per-sample argument was drawn).
    Values of shared [B] arguments are kept within the same ranges as the literals.
    Two-mode gates act on random ordered pairs, including reversed order (q[j], q[i]).
    ``channels``: the probability that a step is a ``LossChannel(T)`` on a random mode
    instead of a gate (gates may follow it). ``new_operations``: preparations may also be
    ``Catstate``, ``DisplacedSqueezed`` or ``Thermal`` (mixed: only with ``channels`` > 0),
    and gates ``Vgate``, ``Pgate``, ``Xgate``, ``Zgate``, ``CXgate``, ``CZgate``.
    """
    one_mode = dict(_ONE_MODE, **_NEW_ONE_MODE) if new_operations else _ONE_MODE
    two_mode = dict(_TWO_MODE, **_NEW_TWO_MODE) if new_operations else _TWO_MODE
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
            kind = rng.integers(0, (8 if channels else 7) if new_operations else 5)
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
            elif kind == 5:
                a = maybe_free(lambda: rng.uniform(0.0, 1.0))
                phi = maybe_free(lambda: rng.uniform(-np.pi, np.pi))
                ops.Catstate(a, phi, float(rng.integers(0, 2))) | q[m]
                desc.append(("Catstate", m))
            elif kind == 6:
                params = [
                    maybe_free(lambda: rng.uniform(0.0, 0.6)),
                    maybe_free(lambda: rng.uniform(-np.pi, np.pi)),
                    maybe_free(lambda: rng.uniform(0.0, 0.4)),
                    maybe_free(lambda: rng.uniform(-np.pi, np.pi)),
                ]
                ops.DisplacedSqueezed(*params) | q[m]
                desc.append(("DisplacedSqueezed", m))
            elif kind == 7:
                ops.Thermal(maybe_free(lambda: rng.uniform(0.0, 0.4))) | q[m]
                desc.append(("Thermal", m))
            # kind 4: no preparation (vacuum)
        for _ in range(n_gates):
            if channels and rng.random() < channels:
                m = int(rng.integers(0, n_modes))
                ops.LossChannel(maybe_free(lambda: rng.uniform(0.0, 1.0))) | q[m]
                desc.append(("LossChannel", m))
                continue
            if n_modes >= 2 and rng.random() < 0.5:
                if interferometer and n_modes >= 2 and rng.random() < 0.08:
                    k = int(rng.integers(2, n_modes + 1))
                    modes = [int(x) for x in rng.permutation(n_modes)[:k]]
                    U = unitary_group.rvs(k, random_state=rng)
                    ops.Interferometer(U) | tuple(q[i] for i in modes)
                    desc.append(("Interferometer", tuple(modes)))
                    continue
                name = list(two_mode)[int(rng.integers(0, len(two_mode)))]
                i, j = (int(x) for x in rng.permutation(n_modes)[:2])
                params = [
                    maybe_free(_component(two_mode[name], k))
                    for k in range(len(two_mode[name](rng)))
                ]
                getattr(ops, name)(*params) | (q[i], q[j])
                desc.append((name, (i, j)))
            else:
                name = list(one_mode)[int(rng.integers(0, len(one_mode)))]
                m = int(rng.integers(0, n_modes))
                params = [
                    maybe_free(_component(one_mode[name], k))
                    for k in range(len(one_mode[name](rng)))
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
