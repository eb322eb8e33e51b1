"""Adapter from a Strawberry Fields ``Program`` to a flat, validated instruction list.

This is the only module that looks inside SF programs. The program is first compiled
with SF's own ``"fock"`` compiler, so ``Interferometer`` is decomposed exactly as SF's
Fock backends decompose it; then every command becomes an :class:`Instruction` whose
parameters are constants, free-parameter names, or symbolic expressions (evaluated
in-graph with TensorFlow through ``sympy.lambdify``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import strawberryfields as sf
import sympy
from strawberryfields.parameters import FreeParameter, MeasuredParameter

PREPARATIONS = ("Vacuum", "Fock", "Coherent", "Squeezed")
SINGLE_MODE_GATES = ("Dgate", "Sgate", "Rgate", "Kgate")
TWO_MODE_GATES = ("BSgate", "MZgate", "S2gate", "CKgate")
DECOMPOSED = ("Interferometer",)
SUPPORTED_OPERATIONS = PREPARATIONS + SINGLE_MODE_GATES + TWO_MODE_GATES + DECOMPOSED


@dataclass(frozen=True)
class Parameter:
    """One gate argument: a constant, a free parameter, or an expression of free ones.

    ``value`` is a float (constant), a str (free-parameter name) or a sympy expression;
    ``names`` lists the free parameters it depends on, in a fixed order.
    """

    value: Any
    names: tuple[str, ...] = ()

    @property
    def is_constant(self) -> bool:
        return not self.names


@dataclass(frozen=True)
class Instruction:
    """A supported operation applied to ``modes`` with its ``params`` in SF's order."""

    name: str
    modes: tuple[int, ...]
    params: tuple[Parameter, ...]


@dataclass(frozen=True)
class Circuit:
    """A validated program: mode count, instructions in program order, free parameter names."""

    n_modes: int
    instructions: tuple[Instruction, ...]
    free_params: tuple[str, ...]


def _supported_list() -> str:
    return ", ".join(SUPPORTED_OPERATIONS)


def _parameter(p: Any, op_name: str) -> Parameter:
    if isinstance(p, MeasuredParameter) or (
        isinstance(p, sympy.Basic) and p.atoms(MeasuredParameter)
    ):
        raise ValueError(
            f"{op_name}: measured parameters (measurement feed-forward) are not supported"
        )
    if isinstance(p, FreeParameter):
        return Parameter(p.name, (p.name,))
    if isinstance(p, sympy.Basic):
        atoms = sorted(p.atoms(FreeParameter), key=lambda a: a.name)
        if not atoms:
            return Parameter(float(p))
        return Parameter(p, tuple(a.name for a in atoms))
    if isinstance(p, numbers.Real) or (isinstance(p, np.ndarray) and p.ndim == 0):
        return Parameter(float(p))
    raise ValueError(
        f"{op_name}: parameter {p!r} must be a real number or a free parameter "
        "(prog.params); per-sample values are passed through simulate(args=...)"
    )


def parse_program(prog: Any) -> Circuit:
    """Validate ``prog`` and return its :class:`Circuit`.

    Raises:
        ValueError: ``prog`` is not an SF Program, uses an unsupported operation (the
            message names it and lists the supported ones), prepares a mode after a gate
            acted on it, or has a non-numeric constant parameter.
    """
    if not isinstance(prog, sf.Program):
        raise ValueError(f"prog must be a strawberryfields.Program, got {type(prog).__name__}")
    if prog.num_subsystems < 1:
        raise ValueError("prog must have at least one mode")
    for cmd in prog.circuit:
        name = type(cmd.op).__name__
        if name not in SUPPORTED_OPERATIONS:
            raise ValueError(
                f"operation {name} is not supported by qgan.photonic; supported: "
                f"{_supported_list()}"
            )
    compiled = prog.compile(compiler="fock") if _needs_decomposition(prog) else prog
    touched: set[int] = set()
    instructions = []
    for cmd in compiled.circuit:
        name = type(cmd.op).__name__
        if name not in SUPPORTED_OPERATIONS:  # produced by SF's decomposition
            raise ValueError(
                f"operation {name} (from SF's decomposition) is not supported by "
                f"qgan.photonic; supported: {_supported_list()}"
            )
        modes = tuple(r.ind for r in cmd.reg)
        if name in PREPARATIONS:
            if modes[0] in touched:
                raise ValueError(
                    f"{name} prepares mode {modes[0]} after a gate acted on it; the compiled "
                    "engine simulates pure states, so preparations must come before gates"
                )
        else:
            touched.update(modes)
        params = tuple(_parameter(p, name) for p in cmd.op.p)
        if name == "Fock":
            if not params[0].is_constant or float(params[0].value) != int(params[0].value):
                raise ValueError("Fock: the photon number must be a constant integer")
        instructions.append(Instruction(name, modes, params))
    return Circuit(prog.num_subsystems, tuple(instructions), tuple(sorted(prog.free_params)))


def _needs_decomposition(prog: Any) -> bool:
    return any(type(cmd.op).__name__ in DECOMPOSED for cmd in prog.circuit)
