"""The engine benchmark circuit (of ``qgan demo`` and scripts/bench/engine.py), as an SF Program:
not the generator circuit of :class:`qgan.CVGenerator`."""

from __future__ import annotations

import qgan._compat  # noqa: F401  (SciPy shim before strawberryfields)

import strawberryfields as sf
from strawberryfields import ops


def reference_program(n_modes: int = 4, n_layers: int = 2):
    """``n_modes`` modes: a per-sample ``Dgate(z_i)`` on every mode, then per layer
    ``BSgate(theta, 0)`` on neighbouring modes and ``Sgate``, ``Dgate``, ``Kgate`` on every
    mode (trainable, batch-independent).

    Returns ``(prog, encoding_names, trainable_names)``: free parameters ``z{i}`` take the
    per-sample encoding; ``bs{l}_{i}``, ``s{l}_{i}``, ``d{l}_{i}``, ``k{l}_{i}`` are
    trainable (in program order).
    """
    prog = sf.Program(n_modes)
    encoding = [f"z{i}" for i in range(n_modes)]
    trainable: list[str] = []
    with prog.context as q:
        for i, name in enumerate(encoding):
            ops.Dgate(prog.params(name)) | q[i]
        for layer in range(n_layers):
            for i in range(n_modes - 1):
                theta = prog.params(f"bs{layer}_{i}")
                trainable.append(theta.name)
                ops.BSgate(theta, 0) | (q[i], q[i + 1])
            for i in range(n_modes):
                s, d, k = prog.params(f"s{layer}_{i}", f"d{layer}_{i}", f"k{layer}_{i}")
                trainable += [s.name, d.name, k.name]
                ops.Sgate(s) | q[i]
                ops.Dgate(d) | q[i]
                ops.Kgate(k) | q[i]
    return prog, encoding, trainable


__all__ = ["reference_program"]
